//! The candidate index: from an event to the stored brands it can concern,
//! so that RankBrands over every stored brand costs what the matching
//! brands cost, not what the stored brands cost.
//!
//! It holds, for every stored brand, the keys of `core::candidates`
//! (first tokens of names, themes and topics in both matcher forms, glued
//! prefixes) in an inverted index, and the profiles' embeddings in dense
//! rows per dimension, scanned exactly (a dot product per brand with an
//! embedding: cheap next to an assessment). It is independent of the
//! profile cache: candidates are compiled on demand through it.
//!
//! It is built from the store at start (in the background; until it is
//! ready, RankBrands walks every brand as before) and kept current on
//! every write: a local upsert `put`s the profile it wrote, a delete or
//! another replica's change `refresh`es the brand from the store. Updates
//! are serialised and a `put` never replaces a newer version, so the index
//! ends at what the store holds. An entry for a brand that is gone only
//! costs a failed load; a missing entry would lose a brand, which the
//! serialisation rules out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::Mutex;

use crate::core::candidates::{BrandKeys, EventProbe, brand_keys};
use crate::core::model::BrandProfile;
use crate::store::{ProfileStore, StoreError};

/// Profiles read per store page while building.
const BUILD_PAGE: usize = 1000;

#[derive(Default)]
struct Inner {
    /// Brand id per slot; `None` for a free slot.
    slots: Vec<Option<Arc<str>>>,
    free: Vec<u32>,
    /// Slot, indexed version and keys of each brand (keys to unindex it).
    brands: HashMap<Arc<str>, Indexed>,
    /// Slots per key, ascending.
    postings: HashMap<u64, Vec<u32>>,
    /// Embedding rows per dimension.
    embeddings: HashMap<usize, Vec<EmbeddingRow>>,
}

/// A brand's embedding: its slot, the vector and its norm.
type EmbeddingRow = (u32, Box<[f32]>, f32);

struct Indexed {
    slot: u32,
    version: i64,
    keys: Box<[u64]>,
    embedding_len: usize,
}

/// Sizes, for the metrics and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub brands: usize,
    pub keys: usize,
    pub postings: usize,
    /// A lower bound of the heap the index holds, in bytes.
    pub approx_bytes: usize,
}

pub struct CandidateIndex {
    inner: RwLock<Inner>,
    /// Serialises updates with the store reads they are based on.
    updates: Mutex<()>,
    ready: AtomicBool,
}

impl Default for CandidateIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl CandidateIndex {
    pub fn new() -> Self {
        Self {
            inner: RwLock::new(Inner::default()),
            updates: Mutex::new(()),
            ready: AtomicBool::new(false),
        }
    }

    /// Whether the index covers every stored brand (built once).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Indexes every stored brand, page by page. Writes during the build
    /// go through `put` and `refresh` as usual; versions keep a page read
    /// before a write from undoing it.
    pub async fn build(&self, store: &dyn ProfileStore) -> Result<usize, StoreError> {
        let mut after: Option<String> = None;
        let mut indexed = 0;
        loop {
            let page = store.list_profiles(after.as_deref(), BUILD_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.profile.brand_id.clone());
            let keyed: Vec<(String, i64, BrandKeys)> = page
                .iter()
                .map(|s| {
                    (
                        s.profile.brand_id.clone(),
                        s.version,
                        brand_keys(&s.profile),
                    )
                })
                .collect();
            let _u = self.updates.lock().await;
            let mut inner = self.write();
            for (id, version, keys) in keyed {
                inner.put(&id, version, keys);
                indexed += 1;
            }
        }
        self.ready.store(true, Ordering::Release);
        Ok(indexed)
    }

    /// Indexes a profile just written at `version`.
    pub async fn put(&self, profile: &BrandProfile, version: i64) {
        let keys = brand_keys(profile);
        let _u = self.updates.lock().await;
        self.write().put(&profile.brand_id, version, keys);
    }

    /// Re-reads a brand from the store (after a delete, or another
    /// replica's change) and indexes what is there.
    pub async fn refresh(
        &self,
        store: &dyn ProfileStore,
        brand_id: &str,
    ) -> Result<(), StoreError> {
        let _u = self.updates.lock().await;
        match store.get_profile(brand_id).await? {
            Some(stored) => {
                let keys = brand_keys(&stored.profile);
                self.write().replace(brand_id, stored.version, keys);
            }
            None => self.write().remove(brand_id),
        }
        Ok(())
    }

    /// The brands `probe` (and `embedding`) can concern, sorted by id.
    /// None when the index cannot narrow the field: not built yet, or an
    /// event addressed to the brand, which concerns every brand.
    pub fn candidates(&self, probe: &EventProbe, embedding: &[f32]) -> Option<Vec<Arc<str>>> {
        if probe.everyone || !self.is_ready() {
            return None;
        }
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let mut slots: Vec<u32> = probe
            .keys
            .iter()
            .filter_map(|k| inner.postings.get(k))
            .flatten()
            .copied()
            .collect();
        slots.extend(inner.embedding_matches(embedding));
        slots.sort_unstable();
        slots.dedup();
        let mut ids: Vec<Arc<str>> = slots
            .iter()
            .filter_map(|s| inner.slots.get(*s as usize).cloned().flatten())
            .collect();
        ids.sort_unstable();
        Some(ids)
    }

    pub fn stats(&self) -> IndexStats {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let postings: usize = inner.postings.values().map(Vec::len).sum();
        let keys_held: usize = inner.brands.values().map(|b| b.keys.len()).sum();
        let embedded: usize = inner
            .embeddings
            .values()
            .flat_map(|rows| rows.iter().map(|r| r.1.len() * 4 + 24))
            .sum();
        IndexStats {
            brands: inner.brands.len(),
            keys: inner.postings.len(),
            postings,
            approx_bytes: postings * 4
                + inner.postings.len() * 48
                + keys_held * 8
                + inner.brands.len() * 96
                + inner.slots.len() * 16
                + embedded,
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Indexes `keys` for a brand unless a newer version is indexed.
    fn put(&mut self, id: &str, version: i64, keys: BrandKeys) {
        if self.brands.get(id).is_some_and(|b| b.version > version) {
            return;
        }
        self.replace(id, version, keys);
    }

    fn replace(&mut self, id: &str, version: i64, keys: BrandKeys) {
        self.remove(id);
        let name: Arc<str> = Arc::from(id);
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.slots.get_mut(slot as usize) {
                    *s = Some(name.clone());
                }
                slot
            }
            None => {
                self.slots.push(Some(name.clone()));
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        for k in &keys.keys {
            let list = self.postings.entry(*k).or_default();
            // Slots come back from `free` out of order: keep lists sorted.
            let at = list.partition_point(|s| *s < slot);
            list.insert(at, slot);
        }
        let embedding_len = keys.embedding.len();
        if embedding_len > 0 {
            let norm = keys
                .embedding
                .iter()
                .map(|x| f64::from(*x) * f64::from(*x))
                .sum::<f64>()
                .sqrt() as f32;
            self.embeddings.entry(embedding_len).or_default().push((
                slot,
                keys.embedding.into_boxed_slice(),
                norm,
            ));
        }
        self.brands.insert(
            name,
            Indexed {
                slot,
                version,
                keys: keys.keys.into_boxed_slice(),
                embedding_len,
            },
        );
    }

    fn remove(&mut self, id: &str) {
        let Some(old) = self.brands.remove(id) else {
            return;
        };
        for k in old.keys.iter() {
            if let Some(list) = self.postings.get_mut(k) {
                if let Ok(at) = list.binary_search(&old.slot) {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.postings.remove(k);
                }
            }
        }
        if old.embedding_len > 0
            && let Some(rows) = self.embeddings.get_mut(&old.embedding_len)
        {
            rows.retain(|r| r.0 != old.slot);
        }
        if let Some(s) = self.slots.get_mut(old.slot as usize) {
            *s = None;
        }
        self.free.push(old.slot);
    }

    /// Slots whose embedding has a positive cosine with `embedding` (the
    /// only way embedding similarity adds relevance).
    fn embedding_matches(&self, embedding: &[f32]) -> Vec<u32> {
        if embedding.is_empty() {
            return Vec::new();
        }
        let Some(rows) = self.embeddings.get(&embedding.len()) else {
            return Vec::new();
        };
        rows.iter()
            .filter(|(_, v, norm)| {
                *norm > 0.0
                    && v.iter()
                        .zip(embedding)
                        .map(|(a, b)| f64::from(*a) * f64::from(*b))
                        .sum::<f64>()
                        > 0.0
            })
            .map(|r| r.0)
            .collect()
    }
}
