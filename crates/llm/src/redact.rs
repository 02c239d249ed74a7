//! Keeping secrets out of what a provider's failure says: some servers echo the
//! `Authorization` header or the key in their error body ("Incorrect API key provided:
//! Bearer sk-…"), and an error is stored with the decision, logged and printed.

use regex::{Regex, RegexBuilder};
use std::sync::LazyLock;

/// What is left where a secret was.
pub const REDACTED: &str = "[redacted]";

/// Shapes of credentials, whatever key was configured: a bearer token, an `sk-…` key
/// (OpenAI, Anthropic), an `x-api-key`/`api_key` value, a `key=` query parameter.
static SHAPES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let re = |p: &str| RegexBuilder::new(p).case_insensitive(true).build().expect("a valid pattern");
    vec![
        (re(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"), "$1 [redacted]"),
        (re(r"\bsk-[A-Za-z0-9_*.-]{6,}"), "sk-[redacted]"),
        (
            re(r#"\b(x-api-key|api[_-]?key|access[_-]?token)(["']?\s*[:=]\s*["']?)[A-Za-z0-9._*-]{6,}"#),
            "$1$2[redacted]",
        ),
        (re(r"([?&](?:key|api_key|token)=)[^&\s]+"), "$1[redacted]"),
    ]
});

/// `text` with every one of `secrets` (those of at least 4 characters) and anything
/// shaped like a credential replaced by `[redacted]`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().map(|s| s.trim()).filter(|s| s.len() >= 4) {
        out = out.replace(s, REDACTED);
    }
    for (re, with) in SHAPES.iter() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_keys_and_credential_shapes_are_removed() {
        let key = "local-key-1234567890";
        let t = redact(&format!("Incorrect API key provided: {key}. You passed Bearer {key}"), &[key]);
        assert!(!t.contains("1234567890"), "{t}");
        assert!(t.contains("Incorrect API key provided: [redacted]"), "{t}");
        for leak in [
            "Authorization: Bearer abcdef123456789",
            "bad key sk-proj-AbC123xyz_987",
            "{\"x-api-key\": \"sk-ant-api03-zzzzzz\"}",
            "api_key=ABCDEFGH12345678",
            "GET https://x.test/v1/models?key=AIzaSyD-12345&alt=json",
        ] {
            let t = redact(leak, &[]);
            assert!(t.contains(REDACTED), "{leak} → {t}");
            for secret in ["abcdef123456789", "AbC123xyz_987", "zzzzzz", "ABCDEFGH12345678", "AIzaSyD-12345"] {
                assert!(!t.contains(secret), "{leak} → {t}");
            }
        }
        // Ordinary words stay.
        assert_eq!(
            redact("HTTP 401: unauthorized, check your key", &["", "ab"]),
            "HTTP 401: unauthorized, check your key"
        );
    }
}
