//! Changing the embedding model: a data folder remembers which model made its vectors,
//! refuses to mix another model's in (a clear error naming `fanline reembed`), and
//! `reembed` moves everything to the new model: search and reuse work on the new
//! vectors, and the reuse model is fitted again rather than taken from the old ones.

mod common;
use common::{config, kb, open_with};
use fanline_core::{Config, Error, Fanline, NewCanonicalInput};
use fanline_embed::HashingEmbedder;
use fanline_engine::ports::Embedder;
use fanline_engine::{Layer, RoutePath, Tier};
use std::path::Path;
use std::sync::Arc;

fn with_dim(dir: &Path, dim: usize) -> Config {
    let mut c = config(dir);
    c.embedder.dim = dim;
    c
}

/// Another model of the same length: the stand-in's vectors turned around.
struct Reversed(HashingEmbedder);

impl Embedder for Reversed {
    fn model_id(&self) -> &str {
        "reversed-hashing"
    }
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
        Ok(self
            .0
            .embed(texts)?
            .into_iter()
            .map(|mut v| {
                v.reverse();
                v
            })
            .collect())
    }
}

fn seeded(dir: &Path) {
    let app = open_with(config(dir), Arc::new(HashingEmbedder::new(384)));
    app.import(None, &[kb("public")], Layer::Public, &mut |_| {}).unwrap();
    app.fan_add("ana", Tier::Free, Layer::Public).unwrap();
    let question = "Would you ever co-write a novel with one of your readers?";
    let answer = NewCanonicalInput {
        question: question.into(),
        answer: "No: my novels are a solitary craft.".into(),
        variants: vec!["Could a reader co-write a novel with you?".into(), "Co-writing a novel with a reader?".into()],
        layer: Layer::Public,
    };
    app.canonical_add(None, &answer).unwrap();
    assert_eq!(app.route(None, "ana", question).unwrap().path, RoutePath::C);
}

fn works(app: &Fanline) {
    let hits = app.search(None, "How much does the workshop cost?", Layer::Public, Some(3)).unwrap();
    assert!(hits[0].text.contains("29 euros"), "{:?}", hits[0].text);
    let r = app.route(None, "ana", "Would you ever co-write a novel with one of your readers?").unwrap();
    assert_eq!(r.path, RoutePath::C, "{}", r.reason);
}

#[test]
fn another_models_vectors_are_refused_until_everything_is_embedded_again() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path());

    // A model of another length: every use of the model says what to do.
    let other = Fanline::open_with(with_dim(dir.path(), 256), Some(Arc::new(HashingEmbedder::new(256)))).unwrap();
    let e = other.search(None, "workshop", Layer::Public, None).unwrap_err();
    assert!(matches!(e, Error::Config(_)) && e.to_string().contains("fanline reembed"), "{e}");
    assert!(e.to_string().contains("fanline-test-hashing-v1"), "{e}");

    let report = other.reembed(&mut |_, _| {}).unwrap();
    assert_eq!((report.model.as_str(), report.dim), ("fanline-test-hashing-v1-256", 256));
    assert_eq!(report.previous.as_deref(), Some("fanline-test-hashing-v1"));
    assert!(report.chunks >= 5 && report.phrasings == 3, "{report:?}");
    works(&other);
    drop(other);

    // Opened again by another process with the new model: nothing to do.
    works(&Fanline::open_with(with_dim(dir.path(), 256), Some(Arc::new(HashingEmbedder::new(256)))).unwrap());
    // With the old one: refused, the other way round.
    let old = Fanline::open_with(config(dir.path()), Some(Arc::new(HashingEmbedder::new(384)))).unwrap();
    let e = old.route(None, "ana", "How much does the workshop cost?").unwrap_err();
    assert!(e.to_string().contains("fanline-test-hashing-v1-256"), "{e}");
}

#[test]
fn a_model_of_the_same_length_is_told_apart_and_its_reuse_model_fitted_anew() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path());
    let reversed =
        || Fanline::open_with(config(dir.path()), Some(Arc::new(Reversed(HashingEmbedder::new(384))))).unwrap();
    let app = reversed();
    assert!(app.search(None, "workshop", Layer::Public, None).unwrap_err().to_string().contains("reembed"));
    let report = app.reembed(&mut |_, _| {}).unwrap();
    assert_eq!(report.model, "reversed-hashing");
    works(&app);
    drop(app);
    works(&reversed());
}

#[test]
fn a_data_folder_from_before_models_were_recorded_is_taken_as_the_models_own() {
    let dir = tempfile::tempdir().unwrap();
    seeded(dir.path());
    let db = rusqlite::Connection::open(config(dir.path()).database_path()).unwrap();
    db.execute("DELETE FROM meta WHERE key = 'embedding.model'", []).unwrap();
    drop(db);
    // Same length: recorded as this model's.
    works(&open_with(config(dir.path()), Arc::new(HashingEmbedder::new(384))));
    let db = rusqlite::Connection::open(config(dir.path()).database_path()).unwrap();
    let model: String = db.query_row("SELECT value FROM meta WHERE key = 'embedding.model'", [], |r| r.get(0)).unwrap();
    assert_eq!(model, "fanline-test-hashing-v1");
    db.execute("DELETE FROM meta WHERE key = 'embedding.model'", []).unwrap();
    drop(db);
    // Another length: refused.
    let other = Fanline::open_with(with_dim(dir.path(), 256), Some(Arc::new(HashingEmbedder::new(256)))).unwrap();
    let e = other.search(None, "workshop", Layer::Public, None).unwrap_err();
    assert!(e.to_string().contains("384-dimensional vectors"), "{e}");
}
