//! Text and JSON output: one module per area; every printer writes into an [`Out`],
//! which [`out`] prints in one go.

mod admin;
mod knowledge;
mod lab;
mod routing;
mod sync;

pub use admin::*;
pub use knowledge::*;
pub use lab::*;
pub use routing::*;
pub use sync::*;

use fanline_core::ImportEvent;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Text being written for the terminal; printed at once by [`out`].
#[derive(Default)]
pub struct Out(pub String);

/// A line of output (`say!(o)` for an empty one).
macro_rules! say {
    ($o:expr) => {
        $o.0.push('\n')
    };
    ($o:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o.0, $($arg)*);
    }};
}
/// Output without the end of line.
macro_rules! say_part {
    ($o:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($o.0, $($arg)*);
    }};
}
pub(crate) use {say, say_part};

/// Write to stdout. A reader that went away (`fanline … | head -1`) ends the output
/// quietly, as with any Unix tool; any other failure is an error.
pub fn write_stdout(text: &str) -> fanline_core::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(fanline_core::Error::Io { path: "standard output".into(), detail: e.to_string() })
        }
        _ => Ok(()),
    }
}

/// Print `value` as JSON, or through `human`.
pub fn out<T: Serialize + ?Sized>(json: bool, value: &T, human: fn(&mut Out, &T)) -> fanline_core::Result<()> {
    let mut o = Out::default();
    if json {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| fanline_core::Error::InvalidInput(format!("the result does not serialise: {e}")))?;
        say!(o, "{text}");
    } else {
        human(&mut o, value);
    }
    write_stdout(&o.0)
}

/// Errors: `{"error": {"code", "message"}}` on stdout with --json, a sentence on stderr otherwise.
pub fn error(e: &fanline_core::Error, json: bool) {
    use std::io::Write;
    if json {
        let _ = write_stdout(&format!("{}\n", serde_json::json!({ "error": e.body() })));
    } else {
        let _ = writeln!(std::io::stderr(), "error: {e}");
    }
}

fn one_line(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        s
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

/// A progress bar on stderr for imports (hidden with --json or when stderr is not a terminal).
pub struct ImportBar(ProgressBar);

impl ImportBar {
    pub fn new(json: bool) -> Self {
        let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(0) };
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files  {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        ImportBar(bar)
    }
    pub fn event(&self, ev: &ImportEvent<'_>) {
        match ev {
            ImportEvent::Started { files } => self.0.set_length(*files as u64),
            ImportEvent::FileDone { done, outcome, .. } => {
                self.0.set_position(*done as u64);
                self.0.set_message(one_line(&outcome.path, 50));
            }
        }
    }
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A counting progress bar on stderr (hidden with --json).
pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(json: bool, what: &str) -> Self {
        let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(0) };
        bar.set_style(
            ProgressStyle::with_template(&format!("{{spinner}} [{{bar:30}}] {{pos}}/{{len}} {what}"))
                .expect("valid template")
                .progress_chars("=> "),
        );
        Progress(bar)
    }
    pub fn tick(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Tokens to stdout as they are written (nothing with --json: the report follows).
pub fn stream(json: bool) -> impl FnMut(fanline_core::StreamEvent<'_>) + Send {
    move |e| {
        if json {
            return;
        }
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        match e {
            fanline_core::StreamEvent::Token(t) => {
                let _ = write!(out, "{t}");
            }
            fanline_core::StreamEvent::Restart => {
                let _ = writeln!(out, "\n[the answer was cut off; starting over]");
            }
        }
        let _ = out.flush();
    }
}

/// An API key from standard input (first line).
pub fn read_key() -> fanline_core::Result<String> {
    let mut key = String::new();
    std::io::stdin()
        .read_line(&mut key)
        .map_err(|e| fanline_core::Error::InvalidInput(format!("reading the key from standard input: {e}")))?;
    Ok(key.trim().to_string())
}
