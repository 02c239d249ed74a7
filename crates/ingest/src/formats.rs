use serde::Serialize;
use std::fmt;
use std::path::Path;

/// A structural unit of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading { level: u8, text: String },
    Paragraph(String),
}

/// The file formats Fanline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Markdown,
    Text,
    Html,
    Pdf,
}

impl Format {
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
            "txt" | "text" => Format::Text,
            "html" | "htm" | "xhtml" => Format::Html,
            "pdf" => Format::Pdf,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }
}

/// Why a file was not imported. Shown to the creator in the import summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Skip {
    Unsupported { extension: String },
    Unreadable { detail: String },
    TooLarge { bytes: u64, limit: u64 },
    Empty,
    Binary,
    NotUtf8 { valid_up_to: usize },
    PdfFailed { detail: String },
    NoText,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Unsupported { extension } => {
                write!(f, "unsupported file type {extension:?} (Fanline reads .md, .txt, .html and .pdf)")
            }
            Skip::Unreadable { detail } => write!(f, "cannot be read: {detail}"),
            Skip::TooLarge { bytes, limit } => write!(
                f,
                "too large ({:.1} MB; the limit is {:.1} MB, see import.max_file_bytes)",
                *bytes as f64 / 1e6,
                *limit as f64 / 1e6
            ),
            Skip::Empty => write!(f, "the file is empty"),
            Skip::Binary => write!(f, "binary content in a text file"),
            Skip::NotUtf8 { valid_up_to } => {
                write!(f, "not valid UTF-8 (first bad byte at offset {valid_up_to}); save it as UTF-8")
            }
            Skip::PdfFailed { detail } => write!(f, "the PDF could not be parsed: {detail}"),
            Skip::NoText => write!(f, "no text found in it"),
        }
    }
}

/// Limits for reading files.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub max_file_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { max_file_bytes: 20_000_000 }
    }
}

/// A document read from a file.
#[derive(Debug, Clone)]
pub struct ParsedDocument {
    pub title: String,
    pub format: Format,
    pub blocks: Vec<Block>,
    pub content_hash: String,
    pub bytes: u64,
}

/// Read and parse one file, or say why it is skipped.
pub fn read_document(path: &Path, opts: ReadOptions) -> Result<ParsedDocument, Skip> {
    let format = Format::from_path(path).ok_or_else(|| Skip::Unsupported {
        extension: path.extension().map(|e| e.to_string_lossy().to_string()).unwrap_or_default(),
    })?;
    let meta = std::fs::metadata(path).map_err(|e| Skip::Unreadable { detail: e.to_string() })?;
    if meta.len() > opts.max_file_bytes {
        return Err(Skip::TooLarge { bytes: meta.len(), limit: opts.max_file_bytes });
    }
    let bytes = std::fs::read(path).map_err(|e| Skip::Unreadable { detail: e.to_string() })?;
    parse_bytes(path, format, &bytes)
}

/// Parse a file's bytes as `format` (`path` names it: the title falls back to its stem).
pub fn parse_bytes(path: &Path, format: Format, bytes: &[u8]) -> Result<ParsedDocument, Skip> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Skip::Empty);
    }
    let blocks = match format {
        Format::Pdf => pdf_blocks(bytes)?,
        _ => {
            let text = text_of(bytes)?;
            match format {
                Format::Markdown => markdown_blocks(text),
                Format::Html => html_blocks(text),
                _ => plain_blocks(text),
            }
        }
    };
    if !blocks.iter().any(|b| matches!(b, Block::Paragraph(p) if !p.trim().is_empty())) {
        return Err(Skip::NoText);
    }
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Heading { level: 1, text } => Some(text.clone()),
            _ => None,
        })
        .or_else(|| (format == Format::Html).then(|| html_title(bytes)).flatten())
        .unwrap_or_else(|| path.file_stem().map(|s| title_from_stem(&s.to_string_lossy())).unwrap_or_default());
    Ok(ParsedDocument { title, format, blocks, content_hash: crate::hash_bytes(bytes), bytes: bytes.len() as u64 })
}

/// A title from a file's name when the document has none: "newsletter-issue-42" reads
/// "Newsletter issue 42" (fans see titles in sources and clarifying questions).
fn title_from_stem(stem: &str) -> String {
    let words = stem.replace(['-', '_'], " ");
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => stem.to_string(),
    }
}

fn text_of(bytes: &[u8]) -> Result<&str, Skip> {
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err(Skip::Binary);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| Skip::NotUtf8 { valid_up_to: e.valid_up_to() })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Collapse runs of whitespace into single spaces.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plain_blocks(text: &str) -> Vec<Block> {
    text.replace("\r\n", "\n").split("\n\n").map(squash).filter(|p| !p.is_empty()).map(Block::Paragraph).collect()
}

fn markdown_blocks(text: &str) -> Vec<Block> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut heading: Option<u8> = None;
    let mut depth = 0usize; // nesting of paragraph-like containers
    let flush = |buf: &mut String, out: &mut Vec<Block>| {
        let t = squash(buf);
        if !t.is_empty() {
            out.push(Block::Paragraph(t));
        }
        buf.clear();
    };
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut buf, &mut out);
                heading = Some(level as u8);
            }
            Event::End(TagEnd::Heading(_)) => {
                let t = squash(&buf);
                buf.clear();
                if !t.is_empty() {
                    out.push(Block::Heading { level: heading.unwrap_or(1), text: t });
                }
                heading = None;
            }
            Event::Start(Tag::Paragraph | Tag::Item | Tag::CodeBlock(_) | Tag::BlockQuote(_) | Tag::TableRow) => {
                if depth == 0 {
                    flush(&mut buf, &mut out);
                }
                depth += 1;
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::CodeBlock | TagEnd::BlockQuote(_) | TagEnd::TableRow,
            ) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    flush(&mut buf, &mut out);
                } else {
                    buf.push(' ');
                }
            }
            Event::Text(t) | Event::Code(t) => buf.push_str(&t),
            Event::SoftBreak | Event::HardBreak => buf.push(' '),
            Event::End(TagEnd::TableCell) => buf.push_str(" | "),
            _ => {}
        }
    }
    flush(&mut buf, &mut out);
    out
}

const HTML_BLOCKS: [&str; 15] =
    ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption"];

fn html_blocks(text: &str) -> Vec<Block> {
    use scraper::{Html, Node};
    let doc = Html::parse_document(text);
    let mut out = Vec::new();
    let mut stack = vec![doc.tree.root()];
    // Depth-first, document order; a block element takes all text beneath it.
    while let Some(node) = stack.pop() {
        if let Node::Element(el) = node.value() {
            let name = el.name();
            if matches!(name, "script" | "style" | "noscript" | "template" | "head" | "nav") {
                continue;
            }
            if HTML_BLOCKS.contains(&name) {
                let t = squash(&text_under(node));
                if !t.is_empty() {
                    out.push(match name.as_bytes() {
                        [b'h', d @ b'1'..=b'6'] => Block::Heading { level: d - b'0', text: t },
                        _ => Block::Paragraph(t),
                    });
                }
                continue;
            }
        }
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev());
    }
    if out.is_empty() {
        // Text directly in <body> or <div>s with no block tags.
        let t = squash(&text_under(doc.tree.root()));
        if !t.is_empty() {
            out.push(Block::Paragraph(t));
        }
    }
    out
}

fn text_under(node: ego_tree::NodeRef<'_, scraper::Node>) -> String {
    use scraper::Node;
    let mut s = String::new();
    for d in node.descendants() {
        let hidden = || {
            d.ancestors().any(|a| {
                matches!(a.value(), Node::Element(e) if matches!(e.name(), "script" | "style" | "noscript" | "template"))
            })
        };
        match d.value() {
            Node::Text(t) if !hidden() => s.push_str(t),
            Node::Element(e) if e.name() == "br" => s.push(' '),
            _ => {}
        }
    }
    s
}

fn html_title(bytes: &[u8]) -> Option<String> {
    let doc = scraper::Html::parse_document(std::str::from_utf8(bytes).ok()?);
    let sel = scraper::Selector::parse("title").ok()?;
    let t = squash(&doc.select(&sel).next()?.text().collect::<String>());
    (!t.is_empty()).then_some(t)
}

fn pdf_blocks(bytes: &[u8]) -> Result<Vec<Block>, Skip> {
    if !bytes.starts_with(b"%PDF") {
        return Err(Skip::PdfFailed { detail: "the file does not start with %PDF".into() });
    }
    // pdf-extract can panic on malformed files; a bad PDF must not stop the import.
    let result = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    let text = match result {
        Ok(Ok(t)) => t,
        Ok(Err(e)) => return Err(Skip::PdfFailed { detail: e.to_string() }),
        Err(_) => return Err(Skip::PdfFailed { detail: "the parser crashed on this file".into() }),
    };
    Ok(plain_blocks(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, s: &str) -> Result<ParsedDocument, Skip> {
        let p = Path::new(name);
        parse_bytes(p, Format::from_path(p).unwrap(), s.as_bytes())
    }

    #[test]
    fn a_document_without_a_title_is_named_after_its_file_in_words() {
        assert_eq!(
            parse("newsletter-issue-42.txt", "Issue 42 is about revision.").unwrap().title,
            "Newsletter issue 42"
        );
        assert_eq!(parse("about.txt", "Jules lives in Lyon.").unwrap().title, "About");
        assert_eq!(parse("my_gear  list.md", "A camera.").unwrap().title, "My gear list");
        assert_eq!(parse("guide.md", "# My Guide\n\nText.").unwrap().title, "My Guide", "a heading wins");
    }

    #[test]
    fn markdown_keeps_headings_and_paragraphs() {
        let d = parse(
            "guide.md",
            "# My Guide\n\nIntro *text*\nwrapped.\n\n## Gear\n\n- camera\n- lens with `code`\n\n```\nlet x = 1;\n```\n",
        )
        .unwrap();
        assert_eq!(d.title, "My Guide");
        assert_eq!(
            d.blocks,
            vec![
                Block::Heading { level: 1, text: "My Guide".into() },
                Block::Paragraph("Intro text wrapped.".into()),
                Block::Heading { level: 2, text: "Gear".into() },
                Block::Paragraph("camera".into()),
                Block::Paragraph("lens with code".into()),
                Block::Paragraph("let x = 1;".into()),
            ]
        );
    }

    #[test]
    fn html_blocks_skip_scripts_and_use_the_title() {
        let d = parse(
            "page.html",
            "<html><head><title>FAQ page</title><style>p{}</style></head><body>\
             <script>var x = 'secret';</script><h2>Shipping</h2><p>We ship <b>worldwide</b>.</p>\
             <ul><li><p>Fast</p></li><li>Cheap</li></ul></body></html>",
        )
        .unwrap();
        assert_eq!(d.title, "FAQ page");
        assert_eq!(
            d.blocks,
            vec![
                Block::Heading { level: 2, text: "Shipping".into() },
                Block::Paragraph("We ship worldwide.".into()),
                Block::Paragraph("Fast".into()),
                Block::Paragraph("Cheap".into()),
            ]
        );
    }

    #[test]
    fn bad_inputs_are_skipped_with_a_reason() {
        assert_eq!(parse("a.txt", "  \n\n ").unwrap_err(), Skip::Empty);
        let p = Path::new("b.txt");
        assert_eq!(parse_bytes(p, Format::Text, b"abc\0def").unwrap_err(), Skip::Binary);
        assert_eq!(parse_bytes(p, Format::Text, b"caf\xe9 au lait").unwrap_err(), Skip::NotUtf8 { valid_up_to: 3 });
        let pdf = Path::new("c.pdf");
        assert!(matches!(parse_bytes(pdf, Format::Pdf, b"not a pdf").unwrap_err(), Skip::PdfFailed { .. }));
        assert!(matches!(
            parse_bytes(pdf, Format::Pdf, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage").unwrap_err(),
            Skip::PdfFailed { .. }
        ));
        assert_eq!(parse("d.md", "# Only a heading\n").unwrap_err(), Skip::NoText);
        assert!(Skip::NotUtf8 { valid_up_to: 3 }.to_string().contains("UTF-8"));
    }

    #[test]
    fn text_splits_on_blank_lines_and_strips_bom() {
        let d = parse("n.txt", "\u{feff}First para\nline two.\r\n\r\nSecond.").unwrap();
        assert_eq!(d.blocks, vec![Block::Paragraph("First para line two.".into()), Block::Paragraph("Second.".into())]);
        assert_eq!(d.title, "N");
    }
}
