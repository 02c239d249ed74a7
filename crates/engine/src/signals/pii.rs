//! Personal data in a text: emails, phone numbers, payment cards (Luhn-checked), IBANs
//! (mod-97-checked), national ID numbers (US SSN, UK NINO) and street addresses.
//!
//! Checksums keep the false positives down: a 16-digit order number that fails the
//! Luhn check is not a card, a string shaped like an IBAN whose check digits are wrong
//! is not an IBAN.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// A kind of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
    /// A payment card number (Luhn-checked).
    PaymentCard,
    /// An IBAN (mod-97-checked).
    Iban,
    /// A national ID number (US SSN, UK NINO).
    NationalId,
    /// A street address.
    StreetAddress,
}

/// One piece of personal data: what it is and where (byte offsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PiiMatch {
    /// What it is.
    pub kind: PiiKind,
    /// Its first byte.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

struct Patterns {
    email: Regex,
    card: Regex,
    iban: Regex,
    phone: Regex,
    ssn: Regex,
    nino: Regex,
    address: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        email: Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b").unwrap(),
        // 13–19 digits, optionally grouped by spaces or dashes.
        card: Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").unwrap(),
        iban: Regex::new(r"(?i)\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]){11,30}\b").unwrap(),
        // International (+CC …) or national forms with at least 9 digits in all.
        phone: Regex::new(r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,5}").unwrap(),
        ssn: Regex::new(r"\b\d{3}-\d{2}-\d{4}\b").unwrap(),
        nino: Regex::new(r"(?i)\b[a-ceghj-pr-tw-z][a-ceghj-npr-tw-z] ?\d{2} ?\d{2} ?\d{2} ?[a-d]\b").unwrap(),
        address: Regex::new(
            r"(?i)\b\d{1,5}[a-z]?,? (?:[a-z'-]+ ){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|square|sq|terrace|rue|strasse|straße|weg|allee|calle|via)\b\.?",
        )
        .unwrap(),
    })
}

/// The Luhn checksum of a string of digits.
pub fn luhn_valid(digits: &str) -> bool {
    let ds: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if ds.len() < 12 {
        return false;
    }
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The ISO 13616 mod-97 check of an IBAN (spaces ignored).
pub fn iban_valid(s: &str) -> bool {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
    if s.len() < 15 || s.len() > 34 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let rearranged = format!("{}{}", &s[4..], &s[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36).expect("alphanumeric");
        for d in v.to_string().chars() {
            rem = (rem * 10 + d.to_digit(10).expect("digit")) % 97;
        }
    }
    rem == 1
}

/// Every piece of personal data found, in text order; overlapping finds keep the
/// earliest-starting, most specific one (a card number is not also reported as a phone).
pub fn find_pii(text: &str) -> Vec<PiiMatch> {
    let p = patterns();
    let mut found: Vec<PiiMatch> = Vec::new();
    let mut add = |kind, m: regex::Match<'_>| found.push(PiiMatch { kind, start: m.start(), end: m.end() });
    // Most specific first: later finds that overlap an earlier one are dropped below.
    for m in p.email.find_iter(text) {
        add(PiiKind::Email, m);
    }
    for m in p.iban.find_iter(text).filter(|m| iban_valid(m.as_str())) {
        add(PiiKind::Iban, m);
    }
    for m in p.card.find_iter(text).filter(|m| luhn_valid(m.as_str())) {
        add(PiiKind::PaymentCard, m);
    }
    for m in p.ssn.find_iter(text).chain(p.nino.find_iter(text)) {
        add(PiiKind::NationalId, m);
    }
    for m in p.address.find_iter(text) {
        add(PiiKind::StreetAddress, m);
    }
    for m in p.phone.find_iter(text) {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        if (9..=15).contains(&digits) {
            add(PiiKind::Phone, m);
        }
    }
    let mut kept: Vec<PiiMatch> = Vec::new();
    for m in found {
        if !kept.iter().any(|k| m.start < k.end && k.start < m.end) {
            kept.push(m);
        }
    }
    kept.sort_by_key(|m| m.start);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &str) -> Vec<PiiKind> {
        find_pii(t).into_iter().map(|m| m.kind).collect()
    }

    #[test]
    fn finds_each_kind() {
        assert_eq!(kinds("mail me at jane.doe+fans@example.co.uk please"), vec![PiiKind::Email]);
        assert_eq!(kinds("call +44 20 7946 0958 tonight"), vec![PiiKind::Phone]);
        assert_eq!(kinds("my number is (415) 555-2671"), vec![PiiKind::Phone]);
        assert_eq!(kinds("card 4111 1111 1111 1111 exp 12/27"), vec![PiiKind::PaymentCard]);
        assert_eq!(kinds("IBAN GB82 WEST 1234 5698 7654 32"), vec![PiiKind::Iban]);
        assert_eq!(kinds("SSN 078-05-1120"), vec![PiiKind::NationalId]);
        assert_eq!(kinds("NI number AB 12 34 56 C"), vec![PiiKind::NationalId]);
        assert_eq!(kinds("I live at 221B Baker Street, London"), vec![PiiKind::StreetAddress]);
    }

    #[test]
    fn checksums_reject_look_alikes() {
        // 16 digits that fail the Luhn check: an order number, not a card.
        assert!(!kinds("order 4111 1111 1111 1112 shipped").contains(&PiiKind::PaymentCard));
        // IBAN shape with wrong check digits.
        assert!(!kinds("ref GB00 WEST 1234 5698 7654 32").contains(&PiiKind::Iban));
        assert!(!luhn_valid("79927398713"), "11 digits is too short for a card");
        assert!(luhn_valid("4012888888881881"));
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(!iban_valid("DE89 3704 0044 0532 0130 01"));
    }

    #[test]
    fn ordinary_messages_have_none() {
        for t in [
            "How much does the workshop cost?",
            "I wrote 1,000 words on 12 March 2024 and 300 more today",
            "Is chapter 3 better than chapter 12?",
            "My book has 94000 words",
        ] {
            assert!(find_pii(t).is_empty(), "{t:?}: {:?}", find_pii(t));
        }
    }

    #[test]
    fn offsets_point_at_the_data() {
        let t = "write to sam@example.org or +33 6 12 34 56 78";
        let found = find_pii(t);
        assert_eq!(found.len(), 2);
        assert_eq!(&t[found[0].start..found[0].end], "sam@example.org");
        assert_eq!(&t[found[1].start..found[1].end], "+33 6 12 34 56 78");
    }
}
