//! Query embeddings of concurrent requests batched together (the hub). Workers run
//! the model, each with a session of its own: a request that finds one idle is embedded
//! at once; requests that arrive while they work (or within `window` of the first) are
//! embedded together next, up to `max` at a time. A batch of 16 short texts costs far
//! less than 16 single ones, so under load each request waits less; alone, a request
//! waits at most `window`. One single-threaded session per core does more with the same
//! cores than one session whose inference is split over them (the threads of a split
//! inference wait for each other at every operator): measured in `fanline bench serve`.

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use fanline_engine::ports::Embedder;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Reply = fanline_engine::Result<Vec<Vec<f32>>>;

struct Job {
    texts: Vec<String>,
    reply: Sender<Reply>,
}

/// An embedder whose calls are batched across callers and spread over its workers.
pub struct Batching {
    first: Arc<dyn Embedder>,
    jobs: Sender<Job>,
    workers: usize,
    max: usize,
}

impl Batching {
    /// Batch calls over `models` (one worker thread each; at least one): at most `max`
    /// texts together, waiting at most `window` for more after the first.
    pub fn new(models: Vec<Arc<dyn Embedder>>, max: usize, window: Duration) -> Batching {
        assert!(!models.is_empty(), "a batching embedder needs a model");
        let (tx, rx) = unbounded::<Job>();
        let (first, workers, max) = (models[0].clone(), models.len(), max.max(1));
        for (i, model) in models.into_iter().enumerate() {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("fanline-embed-{i}"))
                .spawn(move || run(model, rx, max, window))
                .expect("a thread starts");
        }
        Batching { first, jobs: tx, workers, max }
    }

    /// Send `texts` to the workers as one job; the receiver of its vectors.
    fn send(&self, texts: Vec<String>) -> fanline_engine::Result<Receiver<Reply>> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.jobs.send(Job { texts, reply }).map_err(|_| stopped())?;
        Ok(answer)
    }
}

fn stopped() -> fanline_engine::Error {
    fanline_engine::Error::Embedding("the embedding workers stopped".into())
}

fn run(model: Arc<dyn Embedder>, rx: Receiver<Job>, max: usize, window: Duration) {
    // A job that did not fit in the last batch starts the next one.
    let mut carried: Option<Job> = None;
    loop {
        let Some(first) = carried.take().or_else(|| rx.recv().ok()) else { return };
        let mut size = first.texts.len();
        let mut batch = vec![first];
        let until = Instant::now() + window;
        while size < max {
            // What is queued already, then what comes within the window.
            let next = match rx.try_recv() {
                Ok(j) => j,
                Err(_) => match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                    Ok(j) => j,
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                },
            };
            if size + next.texts.len() > max {
                carried = Some(next);
                break;
            }
            size += next.texts.len();
            batch.push(next);
        }
        let texts: Vec<&str> = batch.iter().flat_map(|j| j.texts.iter().map(String::as_str)).collect();
        match model.embed(&texts) {
            Ok(vs) => {
                let mut vs = vs.into_iter();
                for j in batch {
                    let _ = j.reply.send(Ok(vs.by_ref().take(j.texts.len()).collect()));
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
        self.first.model_id()
    }
    fn dim(&self) -> usize {
        self.first.dim()
    }
    /// Several texts at once (an import): shared among the workers, in order.
    fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
        let per = texts.len().div_ceil(self.workers).clamp(1, self.max);
        let pending: Vec<_> = texts
            .chunks(per)
            .map(|c| self.send(c.iter().map(|t| t.to_string()).collect()))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(texts.len());
        for p in pending {
            out.extend(p.recv().map_err(|_| stopped())??);
        }
        Ok(out)
    }
    fn embed_one(&self, text: &str) -> fanline_engine::Result<Vec<f32>> {
        self.send(vec![text.to_string()])?.recv().map_err(|_| stopped())??.pop().ok_or_else(stopped)
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
        let b = Arc::new(Batching::new(vec![inner.clone()], 8, Duration::from_millis(2)));
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
        // Several texts at once: each its own vector, in order.
        assert_eq!(b.embed(&["a", "bb"]).unwrap(), vec![vec![1.0, 1.0], vec![2.0, 1.0]]);
    }

    #[test]
    fn many_texts_are_shared_among_the_workers_and_come_back_in_order() {
        let (a, b) = (
            Arc::new(Counting(AtomicUsize::new(0), AtomicUsize::new(0))),
            Arc::new(Counting(AtomicUsize::new(0), AtomicUsize::new(0))),
        );
        let models: Vec<Arc<dyn Embedder>> = vec![a.clone(), b.clone()];
        let batching = Batching::new(models, 8, Duration::ZERO);
        let texts: Vec<String> = (1..=40).map(|i| "x".repeat(i)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let vs = batching.embed(&refs).unwrap();
        let lens: Vec<f32> = vs.iter().map(|v| v[0]).collect();
        assert_eq!(lens, (1..=40).map(|i| i as f32).collect::<Vec<_>>());
        assert!(a.0.load(Ordering::SeqCst) > 0 && b.0.load(Ordering::SeqCst) > 0, "both workers took a share");
        assert!(a.1.load(Ordering::SeqCst) <= 8 && b.1.load(Ordering::SeqCst) <= 8, "never more than max");
    }
}
