//! Domain types shared by every part of Fanline.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::Error;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "specta", derive(specta::Type))]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The value's name, as stored and typed.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(Error::InvalidValue {
                        what: $what,
                        value: s.to_string(),
                        expected: concat!($($s, " "),+),
                    }),
                }
            }
        }
    };
}

string_enum!(
    /// How close a piece of content is to the creator. A fan at layer L may see content
    /// of layer L and below, never above.
    Layer, "layer", {
        /// Anyone may see it.
        Public => "public",
        /// Fans close to the creator.
        Friends => "friends",
        /// The inner circle.
        Intimate => "intimate",
    }
);

impl Layer {
    /// 0 for public, 1 for friends, 2 for intimate.
    pub fn rank(self) -> u8 {
        match self {
            Layer::Public => 0,
            Layer::Friends => 1,
            Layer::Intimate => 2,
        }
    }
    /// The layer of a rank (0 public, 1 friends, 2 intimate).
    pub fn from_rank(rank: u8) -> Option<Layer> {
        match rank {
            0 => Some(Layer::Public),
            1 => Some(Layer::Friends),
            2 => Some(Layer::Intimate),
            _ => None,
        }
    }
    /// May a viewer at `self` see content of `content` layer?
    pub fn can_see(self, content: Layer) -> bool {
        content.rank() <= self.rank()
    }
}

string_enum!(
    /// A fan's relationship with the creator.
    Tier, "tier", {
        /// A fan who pays nothing.
        Free => "free",
        /// A follower (subscribed, not paying).
        Follower => "follower",
        /// A paying member.
        Paid => "paid",
    }
);

string_enum!(
    /// Why a message is offered to the creator.
    EscalationReason, "escalation reason", {
        /// Nothing the creator wrote answers it.
        Novel => "novel",
        /// A topic the creator handles personally (by policy or a critic's verdict).
        Strategic => "strategic",
        /// It deserves a personal answer.
        Complex => "complex",
    }
);

string_enum!(
    /// Where an escalation is in its life.
    EscalationStatus, "escalation status", {
        /// Offered; the fan has not accepted yet.
        Pending => "pending",
        /// In the creator's queue.
        Accepted => "accepted",
        /// The creator answered.
        Answered => "answered",
        /// Declined by the creator (or the fan).
        Declined => "declined",
        /// Nobody acted in time.
        Expired => "expired",
    }
);

string_enum!(
    /// What happens to an escalation outside the creator's availability windows.
    OutsideHours, "outside-hours handling", {
        /// Offer it anyway, saying when the creator is back.
        Queue => "queue",
        /// Refuse it with "back at …".
        Refuse => "refuse",
    }
);

/// The six ways a fan message can go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum RoutePath {
    /// Answer with AI from the creator's documents.
    A,
    /// Ask a clarifying question.
    B,
    /// Serve a canonical answer.
    C,
    /// Offer escalation to the creator.
    D,
    /// Queued for the creator.
    E,
    /// Refuse politely.
    F,
}

impl RoutePath {
    /// Every path, A to F.
    pub const ALL: &'static [RoutePath] =
        &[RoutePath::A, RoutePath::B, RoutePath::C, RoutePath::D, RoutePath::E, RoutePath::F];
    /// The path's letter.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutePath::A => "A",
            RoutePath::B => "B",
            RoutePath::C => "C",
            RoutePath::D => "D",
            RoutePath::E => "E",
            RoutePath::F => "F",
        }
    }
}

impl fmt::Display for RoutePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RoutePath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        RoutePath::ALL
            .iter()
            .copied()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::InvalidValue { what: "path", value: s.to_string(), expected: "A B C D E F" })
    }
}

/// A weekly availability window in the creator's time zone, e.g. Mon–Fri 09:00–17:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AvailabilityWindow {
    /// Days as three-letter English names ("mon".."sun").
    pub days: Vec<String>,
    /// "HH:MM", inclusive.
    pub start: String,
    /// "HH:MM", exclusive.
    pub end: String,
}

/// A creator's rules for one agent. Defaults are the documented product defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(default)]
pub struct AgentConfig {
    /// Escalations accepted per day at most.
    pub max_escalations_per_day: u32,
    /// Escalations accepted per week at most.
    pub max_escalations_per_week: u32,
    /// Whether messages may be offered to the creator.
    pub escalation_enabled: bool,
    /// Path A's confidence threshold (0–1).
    pub auto_answer_confidence_threshold: f64,
    /// Whether vague messages get a clarifying question.
    pub clarification_enabled: bool,
    /// Topics refused.
    pub blocked_topics: Vec<String>,
    /// Tiers served.
    pub allowed_user_tiers: Vec<Tier>,
    /// When the creator takes escalations (none: always).
    pub availability_windows: Vec<AvailabilityWindow>,
    /// Outside the windows: queue with the expected reply time, or refuse.
    pub outside_hours: OutsideHours,
    /// IANA time zone name the caps and windows are counted in.
    pub timezone: String,
    /// The voice of answers.
    pub persona: String,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            max_escalations_per_day: 10,
            max_escalations_per_week: 50,
            escalation_enabled: true,
            auto_answer_confidence_threshold: 0.75,
            clarification_enabled: true,
            blocked_topics: Vec::new(),
            allowed_user_tiers: vec![Tier::Free, Tier::Follower, Tier::Paid],
            availability_windows: Vec::new(),
            outside_hours: OutsideHours::Queue,
            timezone: "UTC".to_string(),
            persona: String::new(),
        }
    }
}

/// What an indexed item is: a chunk of a document, a question of a canonical answer, or
/// an example the reuse model learns from (never searched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A chunk of a document.
    Chunk,
    /// A phrasing of a canonical answer's question.
    Canonical,
    /// An example for the reuse model: a question judged a right reuse of an answer
    /// (`owner` = the answer), or an off-topic one (`owner` = 0): the generic set shipped
    /// with the app (`agent` = 0), a question the creator declined, a wrong reuse.
    Example,
}

impl ItemKind {
    /// The kind's code in the index.
    pub fn code(self) -> u8 {
        match self {
            ItemKind::Chunk => 0,
            ItemKind::Canonical => 1,
            ItemKind::Example => 2,
        }
    }
    /// The kind of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(ItemKind::Chunk),
            1 => Some(ItemKind::Canonical),
            2 => Some(ItemKind::Example),
            _ => None,
        }
    }
}

/// The identity of one searchable item and the attributes searches filter on.
///
/// For a chunk, `id` is the chunk id and `owner` the document id. For a canonical
/// answer, `id` is the id of one of its questions (the pattern or a variant) and
/// `owner` the canonical answer's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ItemKey {
    /// What the item is.
    pub kind: ItemKind,
    /// Its id (a chunk's, or a phrasing's).
    pub id: i64,
    /// Its owner (the document, or the canonical answer).
    pub owner: i64,
    /// The agent it belongs to.
    pub agent: i64,
    /// Its layer.
    pub layer: Layer,
}

/// The text a chunk is embedded and full-text indexed as: its heading path ("Guide >
/// Gear") gives the body its context.
pub fn chunk_search_text(heading: &str, text: &str) -> String {
    if heading.is_empty() {
        text.to_string()
    } else {
        format!("{heading}\n{text}")
    }
}

/// An item to index: its key, the text full-text search sees, and its vector.
pub type IndexedItem = (ItemKey, String, Vec<f32>);

/// Which items a search may return. Applied inside the search, before any top-k cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchFilter {
    /// Only items of this kind.
    pub kind: ItemKind,
    /// Only this agent's items.
    pub agent: i64,
    /// The viewer's layer: items above it are never returned.
    pub max_layer: Layer,
}

impl SearchFilter {
    /// Whether an item passes the filter.
    pub fn admits(&self, key: &ItemKey) -> bool {
        key.kind == self.kind && key.agent == self.agent && self.max_layer.can_see(key.layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_ordered_and_parse() {
        assert!(Layer::Intimate.can_see(Layer::Public));
        assert!(Layer::Friends.can_see(Layer::Friends));
        assert!(!Layer::Public.can_see(Layer::Friends));
        assert!(!Layer::Friends.can_see(Layer::Intimate));
        assert_eq!("Friends".parse::<Layer>().unwrap(), Layer::Friends);
        let err = "vip".parse::<Layer>().unwrap_err().to_string();
        assert!(err.contains("public friends intimate"), "{err}");
        for l in Layer::ALL {
            assert_eq!(Layer::from_rank(l.rank()), Some(*l));
        }
    }

    #[test]
    fn defaults_match_the_product_spec() {
        let c = AgentConfig::default();
        assert_eq!(c.max_escalations_per_day, 10);
        assert_eq!(c.max_escalations_per_week, 50);
        assert!(c.escalation_enabled && c.clarification_enabled);
        assert_eq!(c.auto_answer_confidence_threshold, 0.75);
        assert_eq!(c.allowed_user_tiers, vec![Tier::Free, Tier::Follower, Tier::Paid]);
    }

    #[test]
    fn paths_round_trip() {
        for p in RoutePath::ALL {
            assert_eq!(p.as_str().parse::<RoutePath>().unwrap(), *p);
        }
        assert!("G".parse::<RoutePath>().is_err());
    }
}
