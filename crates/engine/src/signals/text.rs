//! How complex and how vague a message is, from its text alone.
//!
//! Both are documented heuristics with scores in 0–1, and both come with the counts
//! they were computed from ([`TextStats`]) so a decision trace can say why. The weights
//! are starting points: routing calibrates its thresholds on labelled data.
//!
//! **Complexity** = 0.35·length + 0.25·questions + 0.25·clauses + 0.15·long words, where
//! length = min(words / 60, 1); questions = min((questions − 1) / 3, 1), so one question
//! adds nothing (questions are the larger of the number of "?" and of clauses that open
//! with an interrogative word: "…; should I…, how long…, and would you…?" asks three); clauses = min(clause markers / 6, 1), counting , ; : and subordinating
//! or coordinating words (because, although, whether, if, but, and, …); long words =
//! min(share of words of 9+ letters / 0.3, 1).
//!
//! **Vagueness** = 0.7·shortness + 0.2·pronoun reference + 0.1·low information, where
//! shortness is 1, 0.9, 0.6, 0.3, 0 for 0, 1, 2, 3, 4+ content words (words of 3+
//! letters that are not function words); pronoun reference is 1 when the message leans
//! on "it", "this", "that", "they"… with at most 3 content words to say what they are;
//! low information is the share of words that are function words. An open request for a
//! bare topic ("tell me about X", "information on X", or just "X") is at least 0.8 vague
//! when the topic is one content word and 0.65 when it is two: "kiwi" may be the fruit,
//! the bird or the people (measured on ClariQ, see ARCHITECTURE.md). A topic about the
//! creator ("your camera") is not open, and a question put to the creator that names
//! what it asks ("would you mentor me?") counts at most 0.3 for shortness.

use serde::{Deserialize, Serialize};

/// Counts a message's complexity and vagueness are computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TextStats {
    /// Words in the message.
    pub words: usize,
    /// Words of three or more letters that are not function words.
    pub content_words: usize,
    /// Questions asked.
    pub questions: usize,
    /// Clause markers (punctuation, subordinating and coordinating words).
    pub clause_markers: usize,
    /// Share of words of nine or more letters.
    pub long_word_share: f64,
    /// The message leans on a pronoun with little to say what it refers to.
    pub pronoun_reference: bool,
    /// An open request for a bare topic ("tell me about X", "information on X", "I'm
    /// interested in X", or just "X"): how many content words name the topic.
    pub open_topic_words: Option<usize>,
    /// A question put to the creator about something they would do ("would you mentor
    /// me?", "do you sign books?") with a word that says what: the request is the
    /// creator's to answer, not unclear, however short.
    #[serde(default)]
    pub asks_the_creator: bool,
}

/// Verbs too general to say what a request to the creator is about ("can you help?").
const GENERAL_VERBS: &[&str] = &[
    "help", "tell", "say", "explain", "know", "think", "talk", "answer", "show", "give", "send", "mean", "like",
    "want", "need", "see", "look", "check", "try", "make", "take", "come", "go",
];

/// "Would you…", "do you…", "can you…": a question to the creator whose content words
/// name more than a general verb.
fn asks_the_creator(ws: &[String]) -> bool {
    let opens = matches!(
        (ws.first().map(String::as_str), ws.get(1).map(String::as_str)),
        (Some("would" | "could" | "can" | "will" | "do" | "did" | "have" | "are"), Some("you"))
    );
    opens
        && ws[2..].iter().any(|w| {
            w.chars().count() >= 3 && !FUNCTION_WORDS.contains(&w.as_str()) && !GENERAL_VERBS.contains(&w.as_str())
        })
}

const FUNCTION_WORDS: &[&str] = &[
    "a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by", "can",
    "could", "did", "do", "does", "for", "from", "get", "got", "had", "has", "have", "how", "i", "if", "in", "into",
    "is", "it", "its", "just", "me", "more", "my", "no", "not", "of", "on", "one", "or", "our", "please", "so", "some",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "too", "up", "us", "was",
    "we", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "yes", "ok", "okay",
    "hey", "hi", "hello", "thanks", "thank", "again", "same", "thing", "stuff", "other", "should",
];

const PRONOUNS: &[&str] = &["it", "this", "that", "these", "those", "they", "them", "he", "she", "him", "her", "there"];

const INTERROGATIVES: &[&str] = &[
    "how", "what", "why", "when", "where", "who", "which", "should", "would", "could", "can", "do", "does", "is",
    "are", "will", "shall",
];

/// Clauses that open with an interrogative word: at the start, after punctuation, or
/// after "and"/"or".
fn interrogative_clauses(text: &str) -> usize {
    let mut n = 0;
    for clause in text.split(['.', ',', ';', ':', '!', '?', '\n']) {
        let ws = words(clause);
        let first = ws.iter().map(String::as_str).find(|w| !matches!(*w, "and" | "or" | "so" | "but"));
        if first.is_some_and(|w| INTERROGATIVES.contains(&w)) {
            n += 1;
        }
    }
    n
}

const CLAUSE_WORDS: &[&str] = &[
    "because",
    "although",
    "though",
    "whether",
    "while",
    "whereas",
    "unless",
    "since",
    "if",
    "but",
    "and",
    "or",
    "which",
    "so",
    "however",
    "otherwise",
    "considering",
    "given",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The words of a text that carry its meaning (three letters or more, not function
/// words), lower-cased and stemmed (Snowball, English: "videos" → "video", "editing"
/// → "edit", "quitting" → "quit") so that forms of one word meet.
pub fn content_terms(text: &str) -> Vec<String> {
    static STEMMER: std::sync::OnceLock<rust_stemmers::Stemmer> = std::sync::OnceLock::new();
    let stemmer = STEMMER.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English));
    words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 3 && !FUNCTION_WORDS.contains(&w.as_str()))
        .map(|w| stemmer.stem(&w).into_owned())
        .collect()
}

/// The names in a text (lower-cased): words with a capital letter that do not open a
/// sentence ("PayPal", "Lyon", "Patreon"), except "I", its contractions and "OK". A passage
/// that never mentions a name the fan asks about cannot answer about it.
pub fn named_terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sentence in text.split(['.', '!', '?', '\n']) {
        let tokens = sentence.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty());
        for w in tokens.skip(1) {
            let w = w.trim_matches('\'');
            let w = w.strip_suffix("'s").unwrap_or(w);
            let not_a_name = w == "I" || w.starts_with("I'") || w.eq_ignore_ascii_case("ok");
            if w.chars().count() >= 2 && !not_a_name && w.chars().any(char::is_uppercase) {
                let lower = w.to_lowercase();
                if !out.contains(&lower) {
                    out.push(lower);
                }
            }
        }
    }
    out
}

/// Words (stemmed) that make a request rather than say what it is about.
const REQUEST_WORDS: &[&str] = &["tell", "know", "want", "like", "ask", "explain", "wonder", "curious", "question"];

/// The share of the message's content terms that `passage` contains (0 when the
/// message has none): how much of what was asked the passage speaks of.
pub fn coverage(message_terms: &[String], passage: &str) -> f64 {
    let asked: Vec<&String> = message_terms.iter().filter(|t| !REQUEST_WORDS.contains(&t.as_str())).collect();
    if asked.is_empty() {
        return 0.0;
    }
    let own = content_terms(passage);
    let found = asked.iter().filter(|t| own.contains(t)).count();
    found as f64 / asked.len() as f64
}

/// Openings of a request for information about a topic, longest first.
const OPEN_REQUESTS: &[&str] = &[
    "i'm looking for information about",
    "i'm looking for information on",
    "i am looking for information on",
    "find me information about",
    "find me information on",
    "give me information about",
    "give me information on",
    "find information about",
    "find information on",
    "i'd like to learn about",
    "i want to learn about",
    "i want to know about",
    "i'd like to know about",
    "tell me more about",
    "tell me more on",
    "information about",
    "information on",
    "i'm interested in",
    "i am interested in",
    "i'm looking for",
    "i am looking for",
    "tell me about",
    "looking for",
    "info on",
    "what about",
];

/// The content words of an open topic request, or None if the text is not one. A topic
/// that refers to the creator ("your camera") is not open: it is the creator's domain.
fn open_topic(text: &str, ws: &[String]) -> Option<usize> {
    let lower = ws.join(" ");
    let rest = match OPEN_REQUESTS.iter().find(|p| lower.starts_with(*p)) {
        Some(p) => lower[p.len()..].trim().to_string(),
        // A bare noun phrase: a few words, no question, no interrogative opening.
        None if ws.len() <= 3
            && !text.contains('?')
            && !ws.first().is_some_and(|w| INTERROGATIVES.contains(&w.as_str())) =>
        {
            lower
        }
        None => return None,
    };
    let topic: Vec<&str> = rest.split(' ').filter(|w| !w.is_empty()).collect();
    if topic.is_empty() || topic.iter().any(|w| matches!(*w, "you" | "your" | "yours" | "yourself")) {
        return None;
    }
    Some(topic.iter().filter(|w| w.chars().count() >= 3 && !FUNCTION_WORDS.contains(w)).count())
}

/// Where a phrase occurs in a lower-cased text as whole words (case-insensitive): its
/// byte offset, or None. "politics" is not in "geopolitics".
pub fn mentions(text_lower: &str, phrase: &str) -> Option<usize> {
    let p = phrase.trim().to_lowercase();
    if p.is_empty() {
        return None;
    }
    text_lower.match_indices(&p).map(|(i, _)| i).find(|&i| {
        let before = text_lower[..i].chars().last();
        let after = text_lower[i + p.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The counts behind both scores.
pub fn stats(text: &str) -> TextStats {
    let ws = words(text);
    let content = ws.iter().filter(|w| w.chars().count() >= 3 && !FUNCTION_WORDS.contains(&w.as_str())).count();
    let questions = text.matches('?').count().max(interrogative_clauses(text));
    let punctuation = text.chars().filter(|c| matches!(c, ',' | ';' | ':')).count();
    let clause_words = ws.iter().filter(|w| CLAUSE_WORDS.contains(&w.as_str())).count();
    let long = ws.iter().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 9).count();
    TextStats {
        words: ws.len(),
        content_words: content,
        questions,
        clause_markers: punctuation + clause_words,
        long_word_share: if ws.is_empty() { 0.0 } else { long as f64 / ws.len() as f64 },
        pronoun_reference: content <= 3 && ws.iter().any(|w| PRONOUNS.contains(&w.as_str())),
        open_topic_words: open_topic(text, &ws),
        asks_the_creator: asks_the_creator(&ws),
    }
}

/// Complexity in 0–1 (see the module documentation for the formula).
pub fn complexity(s: &TextStats) -> f64 {
    let length = (s.words as f64 / 60.0).min(1.0);
    let questions = (s.questions.saturating_sub(1) as f64 / 3.0).min(1.0);
    let clauses = (s.clause_markers as f64 / 6.0).min(1.0);
    let long = (s.long_word_share / 0.3).min(1.0);
    0.35 * length + 0.25 * questions + 0.25 * clauses + 0.15 * long
}

/// Vagueness in 0–1 (see the module documentation for the formula).
pub fn vagueness(s: &TextStats) -> f64 {
    let short: f64 = match s.content_words {
        0 => 1.0,
        1 => 0.9,
        2 => 0.6,
        3 => 0.3,
        _ => 0.0,
    };
    // A request to the creator that names what it asks is short, not unclear.
    let short = if s.asks_the_creator && !s.pronoun_reference { short.min(0.3) } else { short };
    let pronoun = if s.pronoun_reference { 1.0 } else { 0.0 };
    let low_info = if s.words == 0 { 1.0 } else { 1.0 - s.content_words as f64 / s.words as f64 };
    let breadth = match s.open_topic_words {
        Some(0 | 1) => 0.8,
        Some(2) => 0.65,
        _ => 0.0,
    };
    (0.7 * short + 0.2 * pronoun + 0.1 * low_info).max(breadth)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(t: &str) -> f64 {
        complexity(&stats(t))
    }
    fn v(t: &str) -> f64 {
        vagueness(&stats(t))
    }

    #[test]
    fn names_are_capitalised_words_inside_a_sentence() {
        assert_eq!(named_terms("Can I pay for the workshop with PayPal?"), vec!["paypal"]);
        assert_eq!(named_terms("Do you ship to Canada? I'm in Lyon's old town."), vec!["canada", "lyon"]);
        assert!(named_terms("What microphone do you use? I'd like one.").is_empty());
        assert!(named_terms("Is it OK with you? A question.").is_empty());
    }

    #[test]
    fn vague_messages_score_high_and_specific_ones_low() {
        for t in ["it?", "what about this one", "help", "and that?", "same thing again", ""] {
            assert!(v(t) >= 0.6, "{t:?}: {}", v(t));
        }
        for t in [
            "How much does the Fiction Workshop cost per month?",
            "Which microphone do you record your videos with?",
            "Can I get a refund for the annual workshop membership?",
        ] {
            assert!(v(t) < 0.3, "{t:?}: {}", v(t));
        }
        // Open requests for a bare topic are vague; about the creator, they are not.
        for t in ["Tell me about kiwi", "figs", "I'm interested in dinosaurs", "Find information on Porterville."] {
            assert!(v(t) >= 0.6, "{t:?}: {}", v(t));
        }
        for t in [
            "Tell me about your camera",
            "Tell me about hotels in New York with a pool",
            "What camera do you use for filming?",
        ] {
            assert!(v(t) < 0.6, "{t:?}: {}", v(t));
        }
        // A question to the creator that names what it asks is not vague, however short;
        // one with only a general verb, or leaning on a pronoun, is.
        for t in ["Would you mentor me one on one?", "Do you sign books?", "Would you blurb my novel?"] {
            assert!(v(t) < 0.6, "{t:?}: {}", v(t));
        }
        for t in ["Can you help?", "Can you help me?", "Would you do it?", "Do you?"] {
            assert!(v(t) >= 0.6, "{t:?}: {}", v(t));
        }
        // A pronoun with enough context to resolve it is not vague.
        assert!(!stats("Is the workshop worth it for a beginner novelist writing thrillers?").pronoun_reference);
    }

    #[test]
    fn complex_messages_score_high_and_simple_ones_low() {
        assert!(c("How much is the workshop?") < 0.15, "{}", c("How much is the workshop?"));
        let strategic = "I'm choosing between self-publishing my thriller and querying agents, because my \
            manuscript is finished but I have no platform; should I build a newsletter first, how long would \
            that take, and would you recommend hiring a developmental editor beforehand, considering my budget?";
        assert!(c(strategic) > 0.6, "{}", c(strategic));
        let s = stats(strategic);
        assert!(s.questions >= 1 && s.clause_markers >= 6, "{s:?}");
    }

    #[test]
    fn scores_stay_in_range() {
        for t in ["", "?", "??????????", &"word ".repeat(500), &"extraordinarily ".repeat(50)] {
            for x in [c(t), v(t)] {
                assert!((0.0..=1.0).contains(&x), "{t:?}: {x}");
            }
        }
    }
}
