use super::*;
use fanline_engine::Layer;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// A store with a log of changes, as `fanline-store` keeps it.
#[derive(Default)]
struct Logged {
    items: RefCell<BTreeMap<i64, IndexedItem>>,
    log: RefCell<Vec<(u64, i64, bool)>>,
    generation: RefCell<u64>,
    log_from: RefCell<u64>,
}

impl Logged {
    fn add(&self, id: i64, text: &str) {
        let g = {
            let mut g = self.generation.borrow_mut();
            *g += 1;
            *g
        };
        let key = ItemKey { kind: ItemKind::Chunk, id, owner: 1, agent: 1, layer: Layer::Public };
        let v = if id % 2 == 0 { vec![1.0, 0.0] } else { vec![0.0, 1.0] };
        self.items.borrow_mut().insert(id, (key, text.to_string(), v));
        self.log.borrow_mut().push((g, id, true));
    }
    fn remove(&self, id: i64) {
        let g = {
            let mut g = self.generation.borrow_mut();
            *g += 1;
            *g
        };
        self.items.borrow_mut().remove(&id);
        self.log.borrow_mut().push((g, id, false));
    }
}

impl IndexSource for Logged {
    fn generation(&self) -> std::result::Result<u64, String> {
        Ok(*self.generation.borrow())
    }
    fn count(&self) -> std::result::Result<u64, String> {
        Ok(self.items.borrow().len() as u64)
    }
    fn for_each(&self, f: &mut dyn FnMut(ItemKey, &str, Vec<f32>)) -> std::result::Result<(), String> {
        for (k, t, v) in self.items.borrow().values() {
            f(*k, t, v.clone());
        }
        Ok(())
    }
    fn changes_since(&self, g: u64) -> std::result::Result<Option<Changes>, String> {
        if g < *self.log_from.borrow() {
            return Ok(None);
        }
        let mut c = Changes { generation: *self.generation.borrow(), ..Default::default() };
        let items = self.items.borrow();
        for (_, id, _) in self.log.borrow().iter().filter(|e| e.0 > g) {
            match items.get(id) {
                Some(item) if !c.added.iter().any(|a| a.0.id == *id) => c.added.push(item.clone()),
                Some(_) => {}
                None => c.removed.push((ItemKind::Chunk, *id)),
            }
        }
        Ok(Some(c))
    }
    fn forget_before(&self, g: u64) -> std::result::Result<(), String> {
        self.log.borrow_mut().retain(|e| e.0 >= g);
        *self.log_from.borrow_mut() = g;
        Ok(())
    }
}

fn all(k: usize) -> SearchFilter {
    let _ = k;
    SearchFilter { kind: ItemKind::Chunk, agent: 1, max_layer: Layer::Public }
}

#[test]
fn a_reader_follows_the_store_while_another_process_holds_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let store = Logged::default();
    store.add(1, "tripods and cameras");
    let (mut reader, _) = HybridIndex::open(dir.path(), 2, &store).unwrap();
    let (writer, _) = HybridIndex::open(dir.path(), 2, &store).unwrap();
    // "Another process" takes the writer's lock and keeps it.
    writer.text.add(&store.items.borrow()[&1].0, "pending").unwrap();
    store.add(2, "microphones for podcasts");
    store.remove(1);
    reader.sync(&store, true).unwrap();
    // The vectors follow the store at once; the text waits for the writer.
    assert!(reader.in_step(3));
    assert_eq!(reader.text_generation(), Some(1));
    assert!(reader.settled(3), "behind only because the writer is busy");
    let hits = reader.search(&[1.0, 0.0], "microphones", &all(5), 5).unwrap();
    assert_eq!(hits.iter().map(|h| h.key.id).collect::<Vec<_>>(), [2]);
    assert!(hits[0].text_rank.is_none(), "BM25 does not know it yet");
    // The removed item is gone from the results even though the text still has it.
    assert!(reader.search(&[0.0, 1.0], "tripods", &all(5), 5).unwrap().iter().all(|h| h.key.id != 1));
    // The writer goes away: the next catch-up brings the text up too.
    writer.text.abandon();
    reader.sync(&store, true).unwrap();
    assert_eq!(reader.text_generation(), Some(3));
    let hits = reader.search(&[1.0, 0.0], "microphones", &all(5), 5).unwrap();
    assert_eq!(hits[0].text_rank, Some(1));
}

#[test]
fn an_index_older_than_the_log_reloads_and_a_damaged_cache_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let store = Logged::default();
    for i in 0..5 {
        store.add(i, &format!("item {i}"));
    }
    {
        let (idx, _) = HybridIndex::open(dir.path(), 2, &store).unwrap();
        assert_eq!(idx.len(), 5);
    }
    // More changes, and the log forgets the early ones.
    store.add(9, "late item");
    store.remove(0);
    store.forget_before(*store.generation.borrow()).unwrap();
    let (idx, report) = HybridIndex::open(dir.path(), 2, &store).unwrap();
    assert!(report.rebuilt_vectors.is_some(), "{report:?}");
    assert_eq!(idx.len(), 5);
    assert_eq!(idx.text.num_docs(), 5);
    drop(idx);
    let cache = dir.path().join(VECTOR_FILE);
    let mut bytes = std::fs::read(&cache).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&cache, bytes).unwrap();
    let (idx, report) = HybridIndex::open(dir.path(), 2, &store).unwrap();
    assert!(report.rebuilt_vectors.unwrap().contains("checksum"));
    assert_eq!(idx.len(), 5);
}

#[test]
fn temporary_files_a_killed_writer_left_are_removed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = Logged::default();
    store.add(1, "tripods");
    drop(HybridIndex::open(dir.path(), 2, &store).unwrap());
    let text = dir.path().join(TEXT_DIR);
    let (old, fresh) = (text.join(".tmpA1b2C3"), text.join(".tmpLive99"));
    std::fs::write(&old, b"half a segment").unwrap();
    std::fs::write(&fresh, b"a live writer's").unwrap();
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(hour_ago).unwrap();
    let (idx, _) = HybridIndex::open(dir.path(), 2, &store).unwrap();
    assert!(!old.exists(), "a leftover from a killed writer is removed");
    assert!(fresh.exists(), "a live writer's file is left alone");
    assert_eq!(idx.search(&[0.0, 1.0], "tripods", &all(5), 5).unwrap().len(), 1);
}
