//! Query embeddings of concurrent requests batched together (the hub). One thread runs
//! the model: a request that finds it idle is embedded at once; requests that arrive
//! while it works (or within `window` of the first) are embedded together next, up to
//! `max` at a time. A batch of 16 short texts costs far less than 16 single ones, so
//! under load each request waits less; alone, a request waits at most `window`.

use fanline_engine::ports::Embedder;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Job {
    text: String,
    reply: Sender<fanline_engine::Result<Vec<f32>>>,
}

/// An embedder whose single texts are batched across callers.
pub struct Batching {
    inner: Arc<dyn Embedder>,
    jobs: Mutex<Sender<Job>>,
}

impl Batching {
    /// Batch `inner`'s single texts: at most `max` together, waiting at most `window`
    /// for more after the first.
    pub fn new(inner: Arc<dyn Embedder>, max: usize, window: Duration) -> Batching {
        let (tx, rx) = channel::<Job>();
        let model = inner.clone();
        std::thread::Builder::new()
            .name("fanline-embed-batch".into())
            .spawn(move || run(model, rx, max.max(1), window))
            .expect("a thread starts");
        Batching { inner, jobs: Mutex::new(tx) }
    }
}

fn run(model: Arc<dyn Embedder>, rx: Receiver<Job>, max: usize, window: Duration) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let until = Instant::now() + window;
        while batch.len() < max {
            // What is queued already, then what comes within the window.
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(j) => batch.push(j),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            }
        }
        let texts: Vec<&str> = batch.iter().map(|j| j.text.as_str()).collect();
        match model.embed(&texts) {
            Ok(vs) => {
                for (j, v) in batch.into_iter().zip(vs) {
                    let _ = j.reply.send(Ok(v));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for j in batch {
                    let _ = j.reply.send(Err(fanline_engine::Error::Embedding(msg.clone())));
                }
            }
        }
    }
}

impl Embedder for Batching {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    /// Several texts at once (an import): straight to the model.
    fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
        match texts {
            [one] => self.embed_one(one).map(|v| vec![v]),
            _ => self.inner.embed(texts),
        }
    }
    fn embed_one(&self, text: &str) -> fanline_engine::Result<Vec<f32>> {
        let (reply, answer) = channel();
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(Job { text: text.to_string(), reply })
            .map_err(|_| fanline_engine::Error::Embedding("the batching thread stopped".into()))?;
        answer.recv().map_err(|_| fanline_engine::Error::Embedding("the batching thread stopped".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the batches it is given.
    struct Counting(AtomicUsize, AtomicUsize);
    impl Embedder for Counting {
        fn model_id(&self) -> &str {
            "counting"
        }
        fn dim(&self) -> usize {
            2
        }
        fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.fetch_max(texts.len(), Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
    }

    #[test]
    fn concurrent_single_texts_are_embedded_together_and_each_gets_its_own() {
        let inner = Arc::new(Counting(AtomicUsize::new(0), AtomicUsize::new(0)));
        let b = Arc::new(Batching::new(inner.clone(), 8, Duration::from_millis(2)));
        let handles: Vec<_> = (0..32)
            .map(|i| {
                let b = b.clone();
                std::thread::spawn(move || (i, b.embed_one(&"x".repeat(i + 1)).unwrap()))
            })
            .collect();
        for h in handles {
            let (i, v) = h.join().unwrap();
            assert_eq!(v, vec![(i + 1) as f32, 1.0], "its own vector");
        }
        let batches = inner.0.load(Ordering::SeqCst);
        assert!(batches < 32, "{batches} batches for 32 texts");
        assert!(inner.1.load(Ordering::SeqCst) <= 8, "never more than max");
        // Several texts at once go straight through.
        assert_eq!(b.embed(&["a", "bb"]).unwrap().len(), 2);
    }
}
