//! Structure-aware chunking.
//!
//! Chunks never cross a heading: each section (the text under a heading path such as
//! "Guide > Gear") is packed on its own. Paragraphs are packed whole up to
//! `target_chars`; a paragraph longer than `max_chars` is split at sentence bounds, and
//! a sentence longer than that at word bounds. A chunk that continues a section
//! starts with the last sentences (up to `overlap_chars`) of the chunk before it, so an
//! answer that straddles the cut is still found. No chunk exceeds `max_chars`.

use unicode_segmentation::UnicodeSegmentation;

use crate::Block;

#[derive(Debug, Clone, Copy)]
pub struct ChunkOptions {
    pub target_chars: usize,
    pub max_chars: usize,
    pub overlap_chars: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        // ~700 characters is ~150 word pieces: well inside the model's 256-token window.
        ChunkOptions { target_chars: 700, max_chars: 1000, overlap_chars: 150 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The heading path, e.g. "Guide > Gear"; empty before the first heading.
    pub heading: String,
    pub text: String,
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// Split a text into pieces no longer than `max` characters: sentences, then words,
/// then (for a single giant word) characters.
fn pieces(text: &str, max: usize) -> Vec<String> {
    if len(text) <= max {
        return vec![text.to_string()];
    }
    let mut out = Vec::new();
    for sentence in text.split_sentence_bounds() {
        let sentence = sentence.trim();
        if sentence.is_empty() {
            continue;
        }
        if len(sentence) <= max {
            out.push(sentence.to_string());
            continue;
        }
        let mut cur = String::new();
        for word in sentence.split_whitespace() {
            if len(word) > max {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                let chars: Vec<char> = word.chars().collect();
                out.extend(chars.chunks(max).map(|c| c.iter().collect::<String>()));
                continue;
            }
            if !cur.is_empty() && len(&cur) + 1 + len(word) > max {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// The tail of a chunk to repeat at the start of the next: whole sentences from the
/// end, up to `max` characters.
fn overlap_tail(text: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    let sentences: Vec<&str> = text.split_sentence_bounds().map(str::trim).filter(|s| !s.is_empty()).collect();
    let mut tail: Vec<&str> = Vec::new();
    let mut n = 0;
    for s in sentences.iter().rev() {
        let l = len(s) + 1;
        if n + l > max {
            break;
        }
        n += l;
        tail.push(s);
    }
    // Never repeat the whole chunk.
    if tail.len() == sentences.len() {
        tail.pop();
    }
    tail.reverse();
    tail.join(" ")
}

struct Packer {
    opts: ChunkOptions,
    heading: String,
    cur: String,
    /// Whether `cur` holds anything beyond the overlap carried from the previous chunk.
    fresh: bool,
    out: Vec<Chunk>,
}

impl Packer {
    fn emit(&mut self, carry: bool) {
        if self.fresh && !self.cur.trim().is_empty() {
            let text = std::mem::take(&mut self.cur);
            self.cur = if carry { overlap_tail(&text, self.opts.overlap_chars) } else { String::new() };
            self.out.push(Chunk { heading: self.heading.clone(), text });
        } else {
            self.cur.clear();
        }
        self.fresh = false;
    }

    fn push(&mut self, piece: &str) {
        let sep = if self.cur.is_empty() { 0 } else { 1 };
        if self.fresh && len(&self.cur) + sep + len(piece) > self.opts.target_chars {
            self.emit(true);
        }
        // The overlap must not push a chunk past the hard limit.
        let sep = if self.cur.is_empty() { 0 } else { 1 };
        if len(&self.cur) + sep + len(piece) > self.opts.max_chars {
            self.cur.clear();
        }
        if !self.cur.is_empty() {
            self.cur.push(' ');
        }
        self.cur.push_str(piece);
        self.fresh = true;
    }
}

/// Pack a document's blocks into chunks.
pub fn chunk_blocks(blocks: &[Block], opts: ChunkOptions) -> Vec<Chunk> {
    let opts = ChunkOptions {
        max_chars: opts.max_chars.max(1),
        target_chars: opts.target_chars.clamp(1, opts.max_chars.max(1)),
        overlap_chars: opts.overlap_chars.min(opts.max_chars / 2),
    };
    let mut p = Packer { opts, heading: String::new(), cur: String::new(), fresh: false, out: Vec::new() };
    let mut stack: Vec<(u8, String)> = Vec::new();
    for b in blocks {
        match b {
            Block::Heading { level, text } => {
                p.emit(false);
                while stack.last().is_some_and(|(l, _)| l >= level) {
                    stack.pop();
                }
                stack.push((*level, text.clone()));
                p.heading = stack.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" > ");
            }
            Block::Paragraph(text) => {
                for piece in pieces(text, opts.max_chars) {
                    p.push(&piece);
                }
            }
        }
    }
    p.emit(false);
    p.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn para(s: &str) -> Block {
        Block::Paragraph(s.to_string())
    }
    fn h(level: u8, s: &str) -> Block {
        Block::Heading { level, text: s.to_string() }
    }

    #[test]
    fn chunks_follow_headings() {
        let blocks = vec![h(1, "Guide"), para("Intro."), h(2, "Gear"), para("Camera."), h(2, "Light"), para("Lamps.")];
        let c = chunk_blocks(&blocks, ChunkOptions::default());
        let got: Vec<(&str, &str)> = c.iter().map(|c| (c.heading.as_str(), c.text.as_str())).collect();
        assert_eq!(got, vec![("Guide", "Intro."), ("Guide > Gear", "Camera."), ("Guide > Light", "Lamps.")]);
    }

    #[test]
    fn long_sections_are_split_with_overlap() {
        let sentences: Vec<String> = (0..40).map(|i| format!("Sentence number {i} talks about topic {i}.")).collect();
        let blocks = vec![h(1, "T"), para(&sentences.join(" "))];
        let opts = ChunkOptions { target_chars: 200, max_chars: 300, overlap_chars: 60 };
        let c = chunk_blocks(&blocks, opts);
        assert!(c.len() > 3);
        for w in c.windows(2) {
            // The last sentence of a chunk opens the next one.
            let last = w[0].text.split_sentence_bounds().map(str::trim).filter(|s| !s.is_empty()).last().unwrap();
            assert!(w[1].text.starts_with(last), "{:?} / {:?}", w[0].text, w[1].text);
        }
        assert!(c.iter().all(|c| len(&c.text) <= 300));
    }

    #[test]
    fn giant_words_are_cut() {
        let c = chunk_blocks(&[para(&"x".repeat(2500))], ChunkOptions::default());
        assert_eq!(c.len(), 3);
        assert!(c.iter().all(|c| len(&c.text) <= 1000));
    }

    proptest! {
        #[test]
        fn no_chunk_exceeds_the_limit_and_no_word_is_lost(
            paras in proptest::collection::vec("[a-z]{1,30}( [a-z]{1,12}){0,60}[.!?]?", 1..12),
            max in 40usize..400,
        ) {
            let blocks: Vec<Block> = paras.iter().map(|p| para(p)).collect();
            let opts = ChunkOptions { target_chars: max * 2 / 3, max_chars: max, overlap_chars: max / 4 };
            let chunks = chunk_blocks(&blocks, opts);
            for c in &chunks {
                prop_assert!(len(&c.text) <= max, "{} > {}", len(&c.text), max);
                prop_assert!(!c.text.trim().is_empty());
            }
            // Every word of the input comes out as a whole word, in order (the overlap
            // repeats some), and nothing comes out that was not in the input.
            let word = |w: &str| w.trim_end_matches(['.', '!', '?']).to_string();
            let words_in: Vec<String> = paras.iter().flat_map(|p| p.split_whitespace().map(word)).collect();
            let words_out: Vec<String> = chunks.iter().flat_map(|c| c.text.split_whitespace().map(word)).collect();
            let mut at = 0;
            for w in &words_in {
                match words_out[at..].iter().position(|o| o == w) {
                    Some(i) => at += i + 1,
                    None => prop_assert!(false, "lost {:?} (or out of order)", w),
                }
            }
            for o in &words_out {
                prop_assert!(words_in.contains(o), "invented {:?}", o);
            }
        }
    }
}
