//! The routing thresholds that are not a creator's rule but a property of the model and
//! the data: calibrated with `fanline calibrate`, set in the `[routing]` section of the
//! config file.

use crate::reuse::learned::ModelOptions;
use crate::reuse::ReuseParams;
use serde::{Deserialize, Serialize};

/// `[routing]`: thresholds that belong to the model and the data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct RoutingSettings {
    /// Path C: the reuse verdict's knobs.
    pub reuse: ReuseParams,
    /// Path C: the learned model of the creator's phrasings the verdict reads.
    pub model: ModelOptions,
    /// Per-answer thresholds: the lowest nearest-sibling similarity of the answer's
    /// phrasings, less this slack…
    pub answer_threshold_slack: f32,
    /// …and never below this floor.
    pub answer_threshold_floor: f32,
    /// Path B: vagueness from which a message is answered with a clarifying question.
    pub vagueness_threshold: f64,
    /// Path D: novelty (1 − best similarity) from which a message is novel.
    pub novelty_threshold: f64,
    /// Path D: complexity from which a message is complex.
    pub complexity_threshold: f64,
    /// A message this close (cosine) to a blocked topic's description is on that topic.
    pub blocked_topic_similarity: f32,
    /// Chunks at least this similar count as support for path A's confidence.
    pub support_similarity: f32,
    /// Path F: a message whose best similarity to everything the creator covers (their
    /// documents and canonical answers) is below this is off-topic and declined.
    pub off_topic_similarity: f32,
    /// Path F too: a message at least this much closer to a generic off-topic example
    /// (the set shipped with the app) than to anything the creator covers is
    /// off-topic ("What's the weather in Paris tomorrow?").
    pub off_topic_margin: f32,
    /// Hours an offer waits for the fan to accept it.
    pub offer_expiry_hours: u32,
    /// Hours an accepted escalation waits in the queue for the creator.
    pub queue_expiry_hours: u32,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            reuse: ReuseParams::default(),
            model: ModelOptions::default(),
            answer_threshold_slack: 0.06,
            answer_threshold_floor: 0.45,
            vagueness_threshold: 0.6,
            novelty_threshold: 0.7,
            complexity_threshold: 0.6,
            blocked_topic_similarity: 0.5,
            support_similarity: 0.45,
            off_topic_similarity: 0.2,
            off_topic_margin: 0.3,
            offer_expiry_hours: 48,
            queue_expiry_hours: 24 * 14,
        }
    }
}
