use clap::{Args, Parser, Subcommand};
use fanline_engine::{Layer, Tier};
use std::path::PathBuf;

pub use crate::bench_args::BenchCmd;

/// Fanline: answer your fans from your own knowledge, on your own machine.
#[derive(Debug, Parser)]
#[command(name = "fanline", version, propagate_version = true)]
pub struct Cli {
    /// Data directory (database and index). Default: the OS data folder; also FANLINE_DATA_DIR.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Config file. Default: config.toml in the OS config folder; also FANLINE_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Agent to act on (default: the configured agent, "default").
    #[arg(long, global = true, value_name = "NAME")]
    pub agent: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the data directory, the database and an agent ("default" unless --agent).
    Init,
    /// Import files and folders (Markdown, text, HTML, PDF) into the knowledge base.
    Import(ImportArgs),
    /// Search the knowledge base as a fan at a given layer would see it.
    Search(SearchArgs),
    /// List or delete imported documents.
    #[command(subcommand)]
    Documents(DocumentsCmd),
    /// Manage canonical answers.
    #[command(subcommand)]
    Canonical(CanonicalCmd),
    /// Manage fans.
    #[command(subcommand)]
    Fan(FanCmd),
    /// Check the data directory, database, model, runtime and index.
    Doctor,
    /// Embed every document chunk, canonical phrasing and learned example again with
    /// the configured model (after changing embedder.model_dir), and rebuild the index.
    /// Stop the desktop app and the hub first.
    Reembed,
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Route a fan's message and print the decision and why.
    Route {
        /// The fan's handle (see `fanline fan add`).
        #[arg(long, required_unless_present = "batch")]
        fan: Option<String>,
        #[arg(required_unless_present = "batch")]
        message: Option<String>,
        /// Route every row of a CSV or JSON file instead (a message column, and a fan
        /// column if there is one), each stored with its decision: a preview of a real
        /// inbox before going live.
        #[arg(long, conflicts_with_all = ["fan", "message"])]
        batch: Option<PathBuf>,
        /// The file's message column (default: found by name: message, question, body…).
        #[arg(long, requires = "batch")]
        message_column: Option<String>,
        /// The file's fan column (default: fan, handle, from, sender…; none: batch-preview).
        #[arg(long, requires = "batch")]
        fan_column: Option<String>,
        /// Also write each routed row (row, fan, message, path, reason, reply) to this CSV.
        #[arg(long, requires = "batch")]
        out: Option<PathBuf>,
    },
    /// Bring in an existing inbox.
    #[command(subcommand)]
    Inbox(InboxCmd),
    /// Route a fan's message and stream the answer as it is written (try path A).
    Ask {
        #[arg(long)]
        fan: String,
        message: String,
    },
    /// Language-model providers: any OpenAI-compatible server (Ollama, llama.cpp, LM
    /// Studio, vLLM, OpenAI) or Anthropic; tried in priority order.
    #[command(subcommand)]
    Provider(ProviderCmd),
    /// The fan accepts an escalation offer (it is queued for the creator, within the caps).
    Accept { id: i64 },
    /// The creator's queue of escalations.
    #[command(subcommand)]
    Queue(QueueCmd),
    /// The decision log, and why each decision was taken.
    #[command(subcommand)]
    Decisions(DecisionsCmd),
    /// Route the fan messages that were stored but never got a decision (a route that
    /// was stopped or failed), each once.
    Recover {
        /// Only messages that have waited at least this long (younger ones may be
        /// being routed right now).
        #[arg(long, default_value_t = fanline_core::RECOVER_AFTER_SECONDS)]
        after_seconds: i64,
    },
    /// Routing metrics for a period.
    Metrics {
        /// Days to cover, today included.
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// The agent's rules: caps, threshold, blocked topics, tiers, hours, time zone…
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The agent's policy file (overrides by tier, topic and risk).
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Measure routing quality on a labelled dataset (clinc150, banking77, quora, mqp,
    /// covid_faq, clariq).
    Eval(EvalArgs),
    /// Propose reuse thresholds from a labelled dataset, or from the agent's own history.
    Calibrate(CalibrateArgs),
    /// Back up the data directory into a new folder in DIR while Fanline runs: the
    /// database as of one moment, the search index, the hub key.
    Backup {
        /// Where backups go; each is a folder fanline-backup-<time> in it.
        dir: PathBuf,
        /// Keep only the newest N backups there.
        #[arg(long)]
        keep: Option<usize>,
    },
    /// What-if: route the stored fan messages again under other rules (no side effect)
    /// and show what would change beside the rules in force: paths A–F, the caps, examples.
    Replay(ReplayArgs),
    /// Content gaps: the questions fans escalated most that no answer covers yet,
    /// grouped by meaning, most fans first.
    Gaps {
        /// Look back this many days.
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// At most this many groups.
        #[arg(long, short = 'n', default_value_t = 10)]
        limit: usize,
    },
    /// Write everything (agents, rules, policy, fans, conversations, decisions with
    /// their traces, escalations, canonical answers, documents…) as versioned JSON lines.
    Export {
        /// The file to write.
        file: PathBuf,
    },
    /// Restore an export into an empty data directory.
    ImportData {
        /// The export file.
        file: PathBuf,
    },
    /// Bring a backup back into the data directory (stop the app and `fanline serve`
    /// there first). The backup is checked before anything is touched.
    Restore {
        /// The backup's folder (fanline-backup-…).
        backup: PathBuf,
        /// The data directory holds a database already: move it into before-restore-… first.
        #[arg(long)]
        force: bool,
    },
    /// Serve fans over HTTP: the fan API, the chat widget (/chat), the admin API for
    /// your devices, status and metrics (see docs/api.md). Stops on Ctrl-C.
    Serve {
        /// Address to listen on (default: hub.listen, 127.0.0.1:8787).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// The hub's site, secret, device tokens and pairing codes.
    #[command(subcommand)]
    Hub(HubCmd),
    /// Sync with the hub this device is paired with (push, then pull; see docs/sync.md).
    Sync {
        /// Keep syncing: whenever the hub's log moves, and every sync.every_seconds.
        #[arg(long)]
        watch: bool,
        #[command(subcommand)]
        cmd: Option<SyncCmd>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Where this device stands: the hub, changes to push, the cursor, conflicts.
    Status,
    /// Compare digests of every synced table with the hub's and name what differs.
    Verify,
    /// Answers and edits of two devices that met, kept for you to settle.
    Conflicts,
    /// Settle a conflict: keep, correction (send the kept answer to the fan), variant
    /// (keep it as another answer), restore (put an edit back).
    Resolve { uid: String, choice: String },
}

#[derive(Debug, Subcommand)]
pub enum HubCmd {
    /// The agent's site key for the chat widget, and the origins allowed to embed it.
    Site {
        /// Set the origins the widget may be served from (scheme://host[:port]), replacing the list.
        #[arg(long = "origin")]
        origins: Vec<String>,
    },
    /// The agent's secret: sign fans' user_hash or identity JWT with it on your own site.
    Secret,
    /// Device tokens for the admin API.
    #[command(subcommand)]
    Token(TokenCmd),
    /// On the hub: a code a device pairs with (POST /pair) within ten minutes. On a
    /// device, with the hub's URL and that code: pair this device with the hub.
    Pair {
        /// The hub's address (pair this device).
        url: Option<String>,
        /// The code `fanline hub pair` showed on the hub.
        code: Option<String>,
        /// This device's name on the hub.
        #[arg(long)]
        name: Option<String>,
        /// admin or read (repeat for several).
        #[arg(long = "scope", default_value = "admin")]
        scopes: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Make a device token (shown once).
    Create {
        #[arg(long)]
        name: String,
        /// admin or read (repeat for several).
        #[arg(long = "scope", default_value = "admin")]
        scopes: Vec<String>,
    },
    /// The devices.
    List,
    /// Revoke a device: its token is refused from now on.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum InboxCmd {
    /// Import past fan questions with your replies (CSV or JSON, columns found by name)
    /// as canonical answers: the same question with the same reply becomes one answer's
    /// phrasings; with another reply it is kept and suggested for a merge.
    Import {
        file: PathBuf,
        /// The question column (default: found by name: question, message, body…).
        #[arg(long)]
        question_column: Option<String>,
        /// The reply column (default: answer, reply, response…).
        #[arg(long)]
        answer_column: Option<String>,
        /// Who may be served these answers: public, friends or intimate.
        #[arg(long, default_value = "public")]
        layer: Layer,
    },
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// How far back: 30d (or 30).
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// A rule changed: KEY=VALUE, as `fanline config set` takes it (repeat for more).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Another policy file.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// A second rule set to compare side by side (A/B): its KEY=VALUE changes.
    #[arg(long = "b-set", value_name = "KEY=VALUE")]
    pub b_set: Vec<String>,
    /// The second rule set's policy file.
    #[arg(long)]
    pub b_policy: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum QueueCmd {
    /// Escalations waiting for the creator, by priority and age.
    List {
        #[arg(long, short = 'n', default_value_t = 50)]
        limit: usize,
    },
    /// Answer an escalation; the answer becomes a canonical answer.
    Answer {
        id: i64,
        #[arg(long, short = 't')]
        text: String,
        /// Who may be served this answer later: public, friends or intimate.
        #[arg(long, default_value = "public")]
        layer: Layer,
    },
    /// Answer with an existing canonical answer; the question becomes one of its phrasings.
    Attach {
        id: i64,
        #[arg(long = "to")]
        canonical_id: i64,
    },
    /// The queue in groups of escalations that ask the same thing (answer a group once).
    Groups {
        #[arg(long, short = 'n', default_value_t = 50)]
        limit: usize,
    },
    /// Answer a group of escalations with one answer: one canonical answer with every
    /// question as a phrasing, and every fan receives it.
    AnswerGroup {
        /// The escalations (see `fanline queue groups`).
        #[arg(required = true)]
        ids: Vec<i64>,
        #[arg(long, short = 't')]
        text: String,
        #[arg(long, default_value = "public")]
        layer: Layer,
    },
    /// Take an escalation out of its group (it stays by itself); --undo lets it join again.
    TakeOut {
        id: i64,
        #[arg(long)]
        undo: bool,
    },
    /// Split a group: each of its escalations stays by itself.
    Split {
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Decline an escalation.
    Decline { id: i64 },
    /// Put an escalation aside.
    Defer {
        id: i64,
        #[arg(long, default_value_t = 24)]
        hours: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProviderCmd {
    /// Add a provider. Its key, if it needs one, goes to the OS keychain.
    Add {
        name: String,
        /// openai (any OpenAI-compatible server) or anthropic
        #[arg(long, default_value = "openai")]
        kind: String,
        /// e.g. http://localhost:11434/v1 (Ollama), http://localhost:8080/v1 (llama.cpp),
        /// https://api.openai.com/v1, https://api.anthropic.com
        #[arg(long)]
        base_url: String,
        #[arg(long)]
        model: String,
        /// Lower is tried first.
        #[arg(long, default_value_t = 0)]
        priority: i64,
        #[arg(long)]
        context_window: Option<u32>,
        /// USD per million input tokens, for the cost estimate.
        #[arg(long, default_value_t = 0.0)]
        input_price: f64,
        /// USD per million output tokens.
        #[arg(long, default_value_t = 0.0)]
        output_price: f64,
        /// Read the API key from standard input (so it stays out of shell history).
        #[arg(long)]
        key_stdin: bool,
    },
    /// The providers in priority order, where their keys come from, their metrics.
    List,
    /// A real round trip through a provider, with its latency.
    Test { name: String },
    /// Remove a provider and its key.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum DecisionsCmd {
    /// Recent decisions, newest first.
    List {
        /// Only this path (A–F).
        #[arg(long)]
        path: Option<fanline_engine::RoutePath>,
        /// Only this fan.
        #[arg(long)]
        fan: Option<String>,
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
    },
    /// One decision with its signals and trace: why it took its path.
    Show { id: i64 },
    /// Judge a served canonical answer (path C) right or wrong; `calibrate --history` learns from it.
    Judge {
        id: i64,
        #[arg(value_parser = ["right", "wrong"])]
        verdict: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Show all rules.
    Show,
    /// Show one rule.
    Get { key: String },
    /// Set one rule (lists: comma-separated or JSON; windows: JSON).
    Set { key: String, value: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Check a policy file; errors name the line and the field.
    Check { file: PathBuf },
    /// Where the agent's policy file is read from.
    Path,
    /// Check a file and install it as the agent's policy.
    Set { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// clinc150, banking77, quora, mqp or covid_faq (omit with --history)
    #[arg(required_unless_present = "history", requires = "path")]
    pub dataset: Option<String>,
    /// The dataset's folder (or its file).
    pub path: Option<PathBuf>,
    /// Calibrate on this agent's own history: served answers judged right or wrong,
    /// escalations answered anew or attached to an existing answer.
    #[arg(long, conflicts_with = "dataset")]
    pub history: bool,
    /// Phrasings stored per canonical answer (clinc150, banking77).
    #[arg(long, default_value_t = fanline_lab::eval::DEFAULT_PER_INTENT)]
    pub per_intent: usize,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// clinc150, banking77, quora, mqp, covid_faq, clariq, or conversations (a
    /// conversation set such as examples/conversations.toml)
    pub dataset: String,
    /// The dataset's folder (or its file).
    pub path: PathBuf,
    /// Phrasings stored per canonical answer (clinc150, banking77).
    #[arg(long, default_value_t = fanline_lab::eval::DEFAULT_PER_INTENT)]
    pub per_intent: usize,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders to import.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Who may see this content: public, friends or intimate.
    #[arg(long, default_value = "public")]
    pub layer: Layer,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    pub query: String,
    /// The viewer's layer: content above it is never returned.
    #[arg(long, default_value = "public")]
    pub layer: Layer,
    /// How many results.
    #[arg(long, short = 'n')]
    pub limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum DocumentsCmd {
    /// List imported documents.
    List,
    /// Delete a document (by id or by the path it was imported from).
    Delete { id_or_path: String },
}

#[derive(Debug, Subcommand)]
pub enum CanonicalCmd {
    /// Add a canonical answer.
    Add {
        #[arg(long, short = 'q')]
        question: String,
        #[arg(long, short = 'a')]
        answer: String,
        /// Another phrasing of the question (repeatable).
        #[arg(long = "variant")]
        variants: Vec<String>,
        #[arg(long, default_value = "public")]
        layer: Layer,
    },
    /// List canonical answers, most reused first.
    List,
    /// Show one canonical answer with all its phrasings.
    Show { id: i64 },
    /// Delete a canonical answer.
    Delete { id: i64 },
    /// Add a phrasing to an existing canonical answer.
    AddVariant { id: i64, text: String },
    /// Merge a duplicate into another answer: its phrasings and reuse count move there,
    /// it is deleted.
    Merge {
        /// The duplicate.
        id: i64,
        /// The answer kept.
        #[arg(long)]
        into: i64,
    },
    /// Find the canonical answers closest to a question.
    Search {
        question: String,
        #[arg(long, default_value = "public")]
        layer: Layer,
        #[arg(long, short = 'n', default_value_t = 3)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum FanCmd {
    /// Add a fan (a handle that exists is refused: see `fan set`).
    Add {
        handle: String,
        /// free, follower or paid
        #[arg(long)]
        tier: Tier,
        /// What the fan may see: public, friends or intimate.
        #[arg(long, default_value = "public")]
        layer: Layer,
    },
    /// Change an existing fan's tier and/or layer.
    Set {
        handle: String,
        /// free, follower or paid
        #[arg(long)]
        tier: Option<Tier>,
        /// What the fan may see: public, friends or intimate.
        #[arg(long)]
        layer: Option<Layer>,
    },
    /// List fans.
    List,
    /// An invite link for a fan at a tier and layer (signed, expiring).
    Invite {
        handle: String,
        /// free, follower or paid
        #[arg(long, default_value = "free")]
        tier: Tier,
        /// What the fan may see: public, friends or intimate.
        #[arg(long, default_value = "public")]
        layer: Layer,
        /// How long it works, such as 30d (days; the config's hub.invite_days if not given).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Revoke a fan's invite links and sessions.
    Revoke { handle: String },
}
