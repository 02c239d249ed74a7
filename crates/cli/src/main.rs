//! `fanline`: the command line. Every subcommand parses its arguments, calls one
//! function of `fanline-core`, and prints the result (a table, or JSON with `--json`).

mod bench_args;
mod cli;
mod print;
mod run;
mod serve;
mod sync;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FANLINE_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let json = args.json;
    match run::run(args) {
        Ok(code) => code,
        Err(e) => {
            print::error(&e, json);
            std::process::ExitCode::FAILURE
        }
    }
}
