//! What-if replay (`fanline replay`, the Rules screen's preview): the agent's stored fan
//! messages routed again under other rules or another policy file, with no side effect
//! (no message, decision, offer or counter is written). Each message is read as it was:
//! its time (for the caps' windows and the creator's hours), the fan, the conversation
//! before it. The baseline is the same messages under the rules in force now, on the
//! same knowledge and answers, so what changes is the rules' doing; how many decisions
//! would differ from the ones recorded (answers added since, documents changed) is said
//! apart. The message's critics run (the quick ones, never a language model); replies
//! are not written, so path A's draft critics do not run.

use crate::policy::{load_policy, PolicyState};
use crate::rules::with_rule;
use crate::{Error, Fanline, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use fanline_critics::Runner;
use fanline_engine::route::Policy;
use fanline_engine::{AgentConfig, RoutePath};
use fanline_store::Agents;
use fanline_store::HubAccess;
use fanline_store::RoutedMessage;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Messages replayed at most (the newest).
pub const MAX_REPLAYED: usize = 5000;
/// Messages the Rules screen's preview replays at most (the newest): it follows each
/// edit of the form, so it stays within seconds.
pub const PREVIEW_MESSAGES: usize = 500;
/// Examples kept per change of path.
const EXAMPLES: usize = 3;

/// A rule set to replay: rules changed from the ones in force, and another policy file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RuleChange {
    /// What to call it in the report.
    pub label: String,
    /// `key=value` changes of the rules, as `fanline config set` takes them.
    pub set: Vec<(String, String)>,
    /// Another policy file.
    pub policy: Option<PathBuf>,
    /// Another policy, as the text of a policy file (the hub's admin API).
    #[serde(default)]
    pub policy_text: Option<String>,
}

/// A message whose path would change.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReplayExample {
    /// The stored message.
    pub message_id: i64,
    /// What the fan wrote.
    pub message: String,
    /// Its path under the rules in force.
    pub from: RoutePath,
    /// Its path under the change.
    pub to: RoutePath,
    /// Why it would go there.
    pub reason: String,
}

/// The caps under a rule set: offers a day and a week, counting every offer a fan
/// accepted before and every new one as accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CapReplay {
    /// The daily cap of the rule set.
    pub max_per_day: u32,
    /// Its weekly cap.
    pub max_per_week: u32,
    /// The most offers on one day.
    pub busiest_day: u32,
    /// Days over the daily cap.
    pub days_over: u32,
    /// Weeks over the weekly cap.
    pub weeks_over: u32,
}

/// One rule set replayed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReplayOutcome {
    /// The rule set's name.
    pub label: String,
    /// Messages on each path, A to F.
    pub paths: Vec<u32>,
    /// `matrix[from][to]`: messages the baseline sends on `from` and this set on `to`
    /// (A to F).
    pub matrix: Vec<Vec<u32>>,
    /// Messages whose path changes from the baseline.
    pub changed: u32,
    /// Its caps over the history.
    pub caps: CapReplay,
    /// Up to three messages for each change of path.
    pub examples: Vec<ReplayExample>,
}

/// What a replay found.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ReplayReport {
    /// Messages from then on were replayed.
    pub since: DateTime<Utc>,
    /// Messages replayed.
    pub messages: u32,
    /// Messages the baseline routes elsewhere than their recorded decision (the answers
    /// and documents changed since).
    pub drifted: u32,
    /// The rules in force now.
    pub baseline: ReplayOutcome,
    /// Each rule set asked for.
    pub variants: Vec<ReplayOutcome>,
    /// How long it took.
    pub seconds: f64,
}

struct Variant {
    label: String,
    rules: AgentConfig,
    policy: PolicyState,
}

fn index(p: RoutePath) -> usize {
    RoutePath::ALL.iter().position(|x| *x == p).unwrap_or(0)
}

fn week(d: NaiveDate) -> (i32, u32) {
    let w = d.iso_week();
    (w.year(), w.week())
}

impl Fanline {
    /// Replay the last `days` of `agent`'s fan messages under each of `changes`
    /// beside the rules in force. `progress(done, total)` follows the messages.
    pub fn replay(
        &self,
        agent: Option<&str>,
        days: u32,
        changes: &[RuleChange],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ReplayReport> {
        let a = self.agent(agent)?;
        let current = self.store.agent_config(a.id)?;
        let mut variants = Vec::new();
        for (i, c) in changes.iter().enumerate() {
            let mut rules = current.clone();
            for (k, v) in &c.set {
                rules = with_rule(rules, k, v)?;
            }
            let policy = match (&c.policy, &c.policy_text) {
                (Some(p), _) => PolicyState { policy: Arc::new(load_policy(p)?), warning: None },
                (None, Some(text)) => {
                    let policy = Policy::parse(text)
                        .map_err(|error| Error::Policy { path: PathBuf::from("(the policy sent)"), error })?;
                    PolicyState { policy: Arc::new(policy), warning: None }
                }
                (None, None) => self.policy(&a.name),
            };
            let label = if c.label.is_empty() {
                ["A", "B", "C", "D"].get(i).unwrap_or(&"?").to_string()
            } else {
                c.label.clone()
            };
            variants.push(Variant { label, rules, policy });
        }
        self.replay_variants(agent, days, MAX_REPLAYED, variants, progress)
    }

    /// The Rules screen's preview: the last `days` (at most the newest
    /// [`PREVIEW_MESSAGES`]) under `rules` (the form as it stands) beside the rules in
    /// force.
    pub fn replay_rules(&self, agent: Option<&str>, days: u32, rules: &AgentConfig) -> Result<ReplayReport> {
        crate::validate_rules(rules)?;
        let a = self.agent(agent)?;
        let v = Variant { label: "with the change".into(), rules: rules.clone(), policy: self.policy(&a.name) };
        self.replay_variants(agent, days, PREVIEW_MESSAGES, vec![v], &mut |_, _| {})
    }

    fn replay_variants(
        &self,
        agent: Option<&str>,
        days: u32,
        limit: usize,
        variants: Vec<Variant>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<ReplayReport> {
        if days == 0 {
            return Err(Error::InvalidInput("replay at least one day".into()));
        }
        let started = Instant::now();
        let a = self.agent(agent)?;
        let since = self.now() - chrono::Duration::days(days as i64);
        let messages = self.store.routed_messages(a.id, since, limit)?;
        let baseline =
            Variant { label: "rules now".into(), rules: self.store.agent_config(a.id)?, policy: self.policy(&a.name) };
        // The quick critics only: a replay never calls a language model.
        let mut runner = Runner::new(self.config.critics);
        for c in fanline_critics::builtin::builtin() {
            runner.add(c);
        }
        let mut routed: Vec<Vec<(RoutePath, String)>> = vec![Vec::new(); variants.len() + 1];
        for (n, m) in messages.iter().enumerate() {
            for (slot, v) in std::iter::once(&baseline).chain(&variants).enumerate() {
                routed[slot].push(self.replay_one(&runner, &a, m, v)?);
            }
            progress(n + 1, messages.len());
        }
        let base: Vec<RoutePath> = routed[0].iter().map(|(p, _)| *p).collect();
        let outcome = |v: &Variant, paths: &[(RoutePath, String)]| summarise(v, &messages, &base, paths);
        Ok(ReplayReport {
            since,
            messages: messages.len() as u32,
            drifted: messages.iter().zip(&base).filter(|(m, p)| m.path != **p).count() as u32,
            baseline: outcome(&baseline, &routed[0]),
            variants: variants.iter().zip(&routed[1..]).map(|(v, r)| outcome(v, r)).collect(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    fn replay_one(
        &self,
        runner: &Runner,
        agent: &fanline_store::Agent,
        m: &RoutedMessage,
        v: &Variant,
    ) -> Result<(RoutePath, String)> {
        let fan = self.store.fan(m.fan_id)?;
        let mut intake = self.prepare_intake(agent.clone(), fan, &m.body, m.conversation_id, m.message_id)?;
        intake.rules = v.rules.clone();
        intake.policy = v.policy.clone();
        intake.now = m.at;
        intake.replay = true;
        let check = self.check_message(runner, &intake);
        let routed = self.plan(&intake, check.reroute)?;
        Ok((routed.path(), routed.reason))
    }
}

fn summarise(
    v: &Variant,
    messages: &[RoutedMessage],
    base: &[RoutePath],
    paths: &[(RoutePath, String)],
) -> ReplayOutcome {
    let n = RoutePath::ALL.len();
    let mut counts = vec![0u32; n];
    let mut matrix = vec![vec![0u32; n]; n];
    let mut examples: Vec<ReplayExample> = Vec::new();
    let mut per_change: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let (mut by_day, mut by_week): (BTreeMap<NaiveDate, u32>, BTreeMap<(i32, u32), u32>) = Default::default();
    for ((m, from), (to, reason)) in messages.iter().zip(base).zip(paths) {
        counts[index(*to)] += 1;
        matrix[index(*from)][index(*to)] += 1;
        if from != to {
            let seen = per_change.entry((index(*from), index(*to))).or_default();
            if *seen < EXAMPLES {
                *seen += 1;
                examples.push(ReplayExample {
                    message_id: m.message_id,
                    message: m.body.clone(),
                    from: *from,
                    to: *to,
                    reason: reason.clone(),
                });
            }
        }
        // An offer counts against the caps if the fan took the one they got before, or
        // if it is new (as if accepted).
        if *to == RoutePath::D && (m.accepted || m.path != RoutePath::D) {
            *by_day.entry(m.at.date_naive()).or_default() += 1;
            *by_week.entry(week(m.at.date_naive())).or_default() += 1;
        }
    }
    let (day_cap, week_cap) = (v.rules.max_escalations_per_day, v.rules.max_escalations_per_week);
    ReplayOutcome {
        label: v.label.clone(),
        paths: counts,
        changed: base.iter().zip(paths).filter(|(b, (p, _))| *b != p).count() as u32,
        matrix,
        caps: CapReplay {
            max_per_day: day_cap,
            max_per_week: week_cap,
            busiest_day: by_day.values().copied().max().unwrap_or(0),
            days_over: by_day.values().filter(|n| **n > day_cap).count() as u32,
            weeks_over: by_week.values().filter(|n| **n > week_cap).count() as u32,
        },
        examples,
    }
}
