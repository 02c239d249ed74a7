//! The fuzz targets, each for a bounded time: `FANLINE_FUZZ_SECONDS` per target
//! (default 4; 150 makes the ten-minute run), `FANLINE_FUZZ_SEED` to repeat a run.

use fanline_lab::fuzz::{run, Target};
use std::time::Duration;

#[test]
fn no_input_makes_a_parser_or_the_intake_panic_or_hang() {
    let secs: u64 = std::env::var("FANLINE_FUZZ_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let seed: u64 = std::env::var("FANLINE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    eprintln!("FANLINE_FUZZ_SEED={seed} FANLINE_FUZZ_SECONDS={secs}");
    // A parser that panics inside a guard (pdf-extract is run under catch_unwind by
    // the importer) must not flood the output; the harness reports real failures.
    std::panic::set_hook(Box::new(|_| {}));
    let out = std::env::temp_dir().join("fanline-fuzz");
    let mut failures = Vec::new();
    for t in Target::ALL {
        let r = run(t, Duration::from_secs(secs), seed, Duration::from_secs(20), &out);
        eprintln!("{:<8} {:>9} inputs  slowest {:>8.1} ms", t.name(), r.runs, r.slowest_ms);
        assert!(r.runs > 0, "{} ran nothing", t.name());
        if let Some((path, why)) = r.failure {
            failures.push(format!("{}: {why} (input in {})", t.name(), path.display()));
        }
    }
    let _ = std::panic::take_hook();
    assert!(failures.is_empty(), "{failures:#?}");
}
