//! Fanline's measurements, kept out of the app (the desktop binary does not link them):
//! routing quality on labelled data (`fanline eval`, `fanline calibrate`), on a
//! hand-written conversation set (`fanline eval conversations`), and the
//! benchmarks (`fanline bench search`, `fanline bench route`, `fanline bench serve`).

pub mod bench;
pub mod bench_pg;
pub mod bench_pg_ops;
pub mod bench_route;
pub mod bench_serve;
pub mod bench_store;
pub mod bench_sync;
pub mod conversations;
pub mod eval;
pub mod fuzz;
