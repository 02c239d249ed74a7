//! A deterministic stand-in for the model, for tests that exercise the plumbing
//! (storage, commands, the HTTP API, sync) rather than meaning: texts become feature
//! hashes of their words and word pairs, so equal texts get equal vectors and texts that
//! share words come out close. It needs no model file and no ONNX Runtime, and embeds
//! in microseconds. It knows nothing of meaning: "car" and "automobile" are unrelated to
//! it. Built only with the `test-embedder` feature.

use fanline_engine::ports::Embedder;

/// The model id stored with vectors it makes (never mistaken for the real model's), for
/// the default 384 dimensions; other lengths add theirs (`…-v1-256`).
pub const HASHING_MODEL_ID: &str = "fanline-test-hashing-v1";

/// Words that say nothing of what a text is about.
const STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "could", "did", "do", "does", "for", "from", "have", "how",
    "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the", "their", "them",
    "there", "they", "this", "to", "was", "we", "what", "when", "where", "which", "who", "why", "will", "with",
    "would", "you", "your",
];

/// Feature-hashing embedder (see the module docs).
#[derive(Debug, Clone)]
pub struct HashingEmbedder {
    dim: usize,
    id: String,
}

impl HashingEmbedder {
    /// An embedder giving `dim`-dimensional vectors.
    pub fn new(dim: usize) -> HashingEmbedder {
        let dim = dim.max(8);
        let id = if dim == 384 { HASHING_MODEL_ID.to_string() } else { format!("{HASHING_MODEL_ID}-{dim}") };
        HashingEmbedder { dim, id }
    }

    fn vector(&self, text: &str) -> Vec<f32> {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && !STOP.contains(&w.to_lowercase().as_str()))
            .map(|w| {
                let w = w.to_lowercase();
                // A crude stem so "answer" and "answers" meet.
                match w.strip_suffix('s') {
                    Some(s) if s.len() > 3 => s.to_string(),
                    _ => w,
                }
            })
            .collect();
        let mut v = vec![0f32; self.dim];
        let mut add = |feature: &str, weight: f32| {
            let h = blake3::hash(feature.as_bytes());
            let b = h.as_bytes();
            let slot = u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize % self.dim;
            let sign = if b[8] & 1 == 0 { 1.0 } else { -1.0 };
            v[slot] += sign * weight;
        };
        for w in &words {
            add(w, 1.0);
        }
        for pair in words.windows(2) {
            add(&format!("{} {}", pair[0], pair[1]), 0.5);
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        } else {
            // An empty text still gets a unit vector, as the model gives one.
            v[0] = 1.0;
        }
        v
    }
}

impl Embedder for HashingEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn equal_texts_are_equal_and_shared_words_are_close() {
        let e = HashingEmbedder::new(384);
        let v = e.embed(&["How much is the workshop?", "how much is the WORKSHOP", "Do you like cats?"]).unwrap();
        assert!((cos(&v[0], &v[1]) - 1.0).abs() < 1e-5);
        assert!(cos(&v[0], &v[2]) < 0.5);
        assert!(v.iter().all(|x| (x.iter().map(|f| f * f).sum::<f32>() - 1.0).abs() < 1e-5));
        assert_eq!(e.embed_one("").unwrap().len(), 384);
    }
}
