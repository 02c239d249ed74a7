//! `fanline bench …`: the benchmarks' arguments.

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Import throughput and search latency (p50/p99) at several index sizes.
    Search {
        /// Index sizes to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 100_000])]
        sizes: Vec<usize>,
        /// Distinct queries per size.
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Generated documents to import (≈ 12 chunks each).
        #[arg(long, default_value_t = 60)]
        docs: usize,
        /// A PostgreSQL server with pgvector (`postgres://…` or `host=… user=…`): the
        /// same vectors through pgvector's HNSW index too, in a database the run makes
        /// and drops.
        #[arg(long, env = "FANLINE_BENCH_DATABASE", hide_env_values = true)]
        database: Option<String>,
    },
    /// The cost per message of the critics that need no model.
    Critics {
        #[arg(long, default_value_t = 2000)]
        messages: usize,
    },
    /// Decision latency (p50/p99) and decisions per second at several library sizes.
    Route {
        /// Canonical answers to route against, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 100_000])]
        sizes: Vec<usize>,
        /// Decisions timed per size.
        #[arg(long, default_value_t = 300)]
        decisions: usize,
        /// Knowledge base to import first (default: the sample one, when present).
        #[arg(long)]
        knowledge: Option<PathBuf>,
        /// Read-only database connections to measure with, comma-separated (default:
        /// `store.readers`); 0 shares the write connection.
        #[arg(long, value_delimiter = ',')]
        readers: Vec<u32>,
    },
    /// The hub over HTTP on loopback: messages a second and p50/p99 at several numbers
    /// of concurrent fans, beside the single-process `bench route` figure.
    Serve {
        /// Concurrent fans, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 32, 128])]
        concurrency: Vec<usize>,
        /// Messages per concurrency level.
        #[arg(long, default_value_t = 600)]
        messages: usize,
        /// Canonical answers in the library.
        #[arg(long, default_value_t = 1000)]
        canonical: usize,
        /// Offered loads (messages a second, comma-separated) to measure at, with the
        /// batched hub and the largest concurrency up to 32: messages are sent on a
        /// fixed schedule and latency counts from the scheduled time. `--rate` with no
        /// value: none.
        #[arg(long, value_delimiter = ',', num_args = 0.., default_values_t = [200.0f64, 250.0, 300.0])]
        rate: Vec<f64>,
    },
    /// What the hub's writes that must hold across processes cost on PostgreSQL:
    /// idempotency keys, the change log, cap acceptances, rate limits (ops a second,
    /// p50/p99 at each number of connections), in a database the run makes and drops.
    Pg {
        /// The server (`postgres://…` or `host=… user=…`).
        #[arg(long, env = "FANLINE_BENCH_DATABASE", hide_env_values = true)]
        database: String,
        /// Concurrent connections, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 32])]
        concurrency: Vec<usize>,
        /// Operations per row.
        #[arg(long, default_value_t = 3000)]
        ops: usize,
    },
    /// A fan's message as the hub's store writes it (posted under its key, routed to an
    /// offer, accepted), through the store interface: on SQLite, and with `--database`
    /// on PostgreSQL too, in the same run.
    Store {
        /// A PostgreSQL server (`postgres://…` or `host=… user=…`); none: SQLite only.
        #[arg(long, env = "FANLINE_BENCH_DATABASE", hide_env_values = true)]
        database: Option<String>,
        /// Concurrent threads, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1usize, 8, 32])]
        concurrency: Vec<usize>,
        /// Messages per row.
        #[arg(long, default_value_t = 2000)]
        messages: usize,
    },
    /// Sync over HTTP on loopback: a new device's first sync, a push of many offline
    /// edits, another device pulling what they changed (changes or records a second).
    Sync {
        /// Canonical answers on the hub.
        #[arg(long, default_value_t = 1000)]
        canonical: usize,
        /// Edits made on a device and pushed.
        #[arg(long, default_value_t = 100_000)]
        changes: usize,
    },
}
