//! Query embeddings of concurrent requests batched together (the hub). Workers run
//! the model, each with a session of its own: a request that finds one idle is embedded
//! at once, on the caller's own thread when nothing is queued; requests that arrive
//! while they work (or within `window` of the first) are embedded together next, up to
//! `max` at a time. A batch of 16 short texts costs far less than 16 single ones, so
//! under load each request waits less. Several sessions with few threads each do more
//! with the same cores than one session whose inference is split over them (the
//! threads of a split inference wait for each other at every operator): measured in
//! `fanline bench serve`.

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use fanline_engine::ports::Embedder;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Reply = fanline_engine::Result<Vec<Vec<f32>>>;

struct Job {
    texts: Vec<String>,
    reply: Sender<Reply>,
}

/// A model session, and the lock its user holds: a worker for a batch, or a caller
/// that found it idle with nothing queued.
struct Session {
    model: Arc<dyn Embedder>,
    busy: Mutex<()>,
}

/// An embedder whose calls are batched across callers and spread over its workers.
pub struct Batching {
    sessions: Vec<Arc<Session>>,
    jobs: Sender<Job>,
    max: usize,
}

impl Batching {
    /// Batch calls over `models` (one worker thread each; at least one): at most `max`
    /// texts together, waiting at most `window` for more after the first.
    pub fn new(models: Vec<Arc<dyn Embedder>>, max: usize, window: Duration) -> Batching {
        assert!(!models.is_empty(), "a batching embedder needs a model");
        let (tx, rx) = unbounded::<Job>();
        let max = max.max(1);
        let sessions: Vec<Arc<Session>> =
            models.into_iter().map(|model| Arc::new(Session { model, busy: Mutex::new(()) })).collect();
        for (i, session) in sessions.iter().enumerate() {
            let (rx, session) = (rx.clone(), session.clone());
            std::thread::Builder::new()
                .name(format!("fanline-embed-{i}"))
                .spawn(move || run(&session, rx, max, window))
                .expect("a thread starts");
        }
        Batching { sessions, jobs: tx, max }
    }

    /// With nothing queued, a session nobody uses: the caller embeds on its own
    /// thread (handing a lone text to a worker thread and back cost ≈ 1.3 ms of
    /// wake-ups on this 2-core machine; `fanline bench serve` at 1 fan).
    fn idle(&self) -> Option<(&Arc<dyn Embedder>, MutexGuard<'_, ()>)> {
        if !self.jobs.is_empty() {
            return None;
        }
        self.sessions.iter().find_map(|s| s.busy.try_lock().ok().map(|g| (&s.model, g)))
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

fn run(session: &Session, rx: Receiver<Job>, max: usize, window: Duration) {
    // A job that did not fit in the last batch starts the next one.
    let mut carried: Option<Job> = None;
    loop {
        let Some(first) = carried.take().or_else(|| rx.recv().ok()) else { return };
        let _busy = session.busy.lock().unwrap_or_else(|p| p.into_inner());
        let model = &session.model;
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
        self.sessions[0].model.model_id()
    }
    fn dim(&self) -> usize {
        self.sessions[0].model.dim()
    }
    /// Several texts at once (an import): shared among the workers, in order.
    fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
        let per = texts.len().div_ceil(self.sessions.len()).clamp(1, self.max);
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
        if let Some((model, _busy)) = self.idle() {
            return model.embed_one(text);
        }
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

    /// Records the threads it ran on.
    struct Where(Mutex<Vec<String>>);
    impl Embedder for Where {
        fn model_id(&self) -> &str {
            "where"
        }
        fn dim(&self) -> usize {
            1
        }
        fn embed(&self, texts: &[&str]) -> fanline_engine::Result<Vec<Vec<f32>>> {
            let name = std::thread::current().name().unwrap_or("?").to_string();
            self.0.lock().unwrap().push(name);
            std::thread::sleep(Duration::from_millis(20));
            Ok(texts.iter().map(|_| vec![1.0]).collect())
        }
    }

    #[test]
    fn a_lone_text_is_embedded_on_the_callers_thread_and_a_crowd_by_the_workers() {
        let model = Arc::new(Where(Mutex::new(Vec::new())));
        let b = Arc::new(Batching::new(vec![model.clone()], 8, Duration::ZERO));
        std::thread::Builder::new()
            .name("lone-fan".into())
            .spawn({
                let b = b.clone();
                move || b.embed_one("hello").unwrap()
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(*model.0.lock().unwrap(), vec!["lone-fan".to_string()]);
        // Eight at once: the session is busy with the first, the others queue and the
        // worker embeds them together.
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let b = b.clone();
                std::thread::Builder::new().name(format!("fan-{i}")).spawn(move || b.embed_one("hi").unwrap()).unwrap()
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), vec![1.0]);
        }
        let ran = model.0.lock().unwrap().clone();
        assert!(ran.iter().any(|t| t == "fanline-embed-0"), "{ran:?}");
        assert!(ran.len() < 9, "queued texts were batched: {ran:?}");
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
