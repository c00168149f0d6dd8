//! The moka cache of compiled brand profiles, over the store.
//!
//! Loads are single-flight (moka coalesces concurrent misses for one key).
//! Staleness is ruled out with striped write epochs rather than trusting
//! the order of `invalidate` and an in-flight load: a loader reads its
//! stripe's epoch *before* reading the store, a writer bumps the epoch
//! *after* its commit, and a hit whose epoch is behind is reloaded. So a
//! load that raced a write can be inserted, but is never served.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use moka::future::Cache;

use crate::core::CompiledProfile;
use crate::metrics::Metrics;
use crate::store::{ProfileStore, StoreError};

const STRIPES: usize = 1024;
/// Brand ids per version query when the cache is re-checked.
const REVALIDATE_BATCH: usize = 1000;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CacheError {
    #[error("brand {0:?} not found")]
    NotFound(String),
    #[error("profile store failed")]
    Store(#[source] Arc<StoreError>),
}

struct Entry {
    epoch: u64,
    profile: Arc<CompiledProfile>,
}

pub struct ProfileCache {
    cache: Cache<String, Arc<Entry>>,
    store: Arc<dyn ProfileStore>,
    metrics: Arc<Metrics>,
    epochs: Box<[AtomicU64]>,
}

impl ProfileCache {
    pub fn new(store: Arc<dyn ProfileStore>, capacity: u64, metrics: Arc<Metrics>) -> Self {
        let evictions = metrics.clone();
        Self {
            cache: Cache::builder()
                .max_capacity(capacity)
                .eviction_listener(move |_, _, cause| {
                    if cause == moka::notification::RemovalCause::Size {
                        Metrics::inc(&evictions.profile_cache_evictions);
                    }
                })
                .build(),
            store,
            metrics,
            epochs: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn stripe(&self, brand_id: &str) -> &AtomicU64 {
        // An unkeyed hash is enough: ids that share a stripe only cost
        // each other a reload after a write.
        let h = crate::core::text::hash_str(brand_id) as usize;
        &self.epochs[h % STRIPES]
    }

    /// The compiled profile of `brand_id`, from the cache or the store.
    ///
    /// A current hit returns from a plain lookup. The load path is boxed:
    /// moka's coalescing loader makes a future of about 1.7 KB, which
    /// inlined would be part of every Score call's future and be copied
    /// each time that future moves (a fifth of a new-event Score's
    /// instructions were such copies).
    pub async fn get(&self, brand_id: &str) -> Result<Arc<CompiledProfile>, CacheError> {
        if let Some(entry) = self.cache.get(brand_id).await
            && entry.epoch == self.stripe(brand_id).load(Ordering::Acquire)
        {
            Metrics::inc(&self.metrics.profile_cache_hits);
            return Ok(entry.profile.clone());
        }
        Box::pin(self.get_or_load(brand_id)).await
    }

    async fn get_or_load(&self, brand_id: &str) -> Result<Arc<CompiledProfile>, CacheError> {
        let stripe = self.stripe(brand_id);
        // Two attempts cover a write racing the first load; a third
        // collision in a row is served straight from the store.
        for _ in 0..2 {
            let loaded = std::sync::atomic::AtomicBool::new(false);
            let entry = self
                .cache
                .try_get_with_by_ref(brand_id, async {
                    loaded.store(true, Ordering::Relaxed);
                    let epoch = stripe.load(Ordering::Acquire);
                    let stored = self.load(brand_id).await?;
                    let profile = Arc::new(CompiledProfile::compile(stored));
                    Ok::<_, CacheError>(Arc::new(Entry { epoch, profile }))
                })
                .await
                .map_err(|e| CacheError::clone(&e))?;
            Metrics::inc(if loaded.load(Ordering::Relaxed) {
                &self.metrics.profile_cache_misses
            } else {
                &self.metrics.profile_cache_hits
            });
            if entry.epoch == stripe.load(Ordering::Acquire) {
                return Ok(entry.profile.clone());
            }
            self.cache.invalidate(brand_id).await;
        }
        Ok(Arc::new(CompiledProfile::compile(
            self.load(brand_id).await?,
        )))
    }

    async fn load(&self, brand_id: &str) -> Result<crate::core::model::StoredProfile, CacheError> {
        self.store
            .get_profile(brand_id)
            .await
            .map_err(|e| CacheError::Store(Arc::new(e)))?
            .ok_or_else(|| CacheError::NotFound(brand_id.to_string()))
    }

    /// Called after a write or delete of `brand_id` has committed.
    pub async fn invalidate(&self, brand_id: &str) {
        self.stripe(brand_id).fetch_add(1, Ordering::AcqRel);
        self.cache.invalidate(brand_id).await;
    }

    /// Drops every entry (e.g. when another replica changed profiles).
    pub fn invalidate_all(&self) {
        for e in self.epochs.iter() {
            e.fetch_add(1, Ordering::AcqRel);
        }
        self.cache.invalidate_all();
    }

    /// Drops the entries whose stored version moved (or whose brand is
    /// gone), checked in batches against the store. Returns how many were
    /// dropped. A store error leaves the rest of the cache as it is.
    pub async fn revalidate(&self) -> Result<usize, StoreError> {
        let cached: Vec<(String, i64)> = self
            .cache
            .iter()
            .map(|(id, entry)| (id.as_str().to_string(), entry.profile.version()))
            .collect();
        let mut dropped = 0;
        for chunk in cached.chunks(REVALIDATE_BATCH) {
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let stored: std::collections::HashMap<String, i64> = self
                .store
                .profile_versions(&ids)
                .await?
                .into_iter()
                .collect();
            for (id, version) in chunk {
                if stored.get(id) != Some(version) {
                    self.invalidate(id).await;
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }

    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use jiff::Timestamp;

    use super::*;
    use crate::core::model::{BrandProfile, StoredProfile};
    use crate::store::{SqliteStore, Upserted};

    /// The real SQLite store, counting reads so tests can see how often the
    /// cache went to it.
    struct Counting {
        inner: SqliteStore,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl ProfileStore for Counting {
        async fn upsert_profile(
            &self,
            p: &BrandProfile,
            v: Option<i64>,
            now: Timestamp,
        ) -> Result<Upserted, StoreError> {
            self.inner.upsert_profile(p, v, now).await
        }
        async fn profile_versions(&self, ids: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
            self.inner.profile_versions(ids).await
        }
        async fn get_profile(&self, id: &str) -> Result<Option<StoredProfile>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            // Widen the window in which concurrent misses overlap.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            self.inner.get_profile(id).await
        }
        async fn list_profiles(
            &self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<StoredProfile>, StoreError> {
            self.inner.list_profiles(after, limit).await
        }
        async fn list_brand_ids(
            &self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<String>, StoreError> {
            self.inner.list_brand_ids(after, limit).await
        }
        async fn delete_profile(&self, id: &str) -> Result<bool, StoreError> {
            self.inner.delete_profile(id).await
        }
    }

    async fn setup(capacity: u64) -> (tempfile::TempDir, Arc<Counting>, ProfileCache) {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Counting {
            inner: SqliteStore::open(dir.path()).await.unwrap(),
            reads: AtomicUsize::new(0),
        });
        let cache = ProfileCache::new(store.clone(), capacity, Arc::new(Metrics::default()));
        (dir, store, cache)
    }

    fn profile(id: &str) -> BrandProfile {
        BrandProfile {
            brand_id: id.into(),
            ..Default::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_misses_hit_the_store_once() {
        let (_dir, store, cache) = setup(100).await;
        store
            .upsert_profile(&profile("a"), None, Timestamp::now())
            .await
            .unwrap();
        let cache = Arc::new(cache);
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get("a").await.unwrap().version() })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(store.reads.load(Ordering::SeqCst), 1);
        cache.get("a").await.unwrap();
        assert_eq!(store.reads.load(Ordering::SeqCst), 1, "served from cache");
    }

    #[tokio::test]
    async fn writes_invalidate_and_unknown_brands_are_not_found() {
        let (_dir, store, cache) = setup(100).await;
        store
            .upsert_profile(&profile("a"), None, Timestamp::now())
            .await
            .unwrap();
        assert_eq!(cache.get("a").await.unwrap().version(), 1);
        store
            .upsert_profile(&profile("a"), None, Timestamp::now())
            .await
            .unwrap();
        cache.invalidate("a").await;
        assert_eq!(cache.get("a").await.unwrap().version(), 2);
        store.delete_profile("a").await.unwrap();
        cache.invalidate("a").await;
        assert!(matches!(cache.get("a").await, Err(CacheError::NotFound(_))));
    }

    #[tokio::test]
    async fn an_entry_loaded_before_a_write_is_never_served_after_it() {
        let (_dir, store, cache) = setup(100).await;
        store
            .upsert_profile(&profile("a"), None, Timestamp::now())
            .await
            .unwrap();
        cache.get("a").await.unwrap();
        // Simulate the race: the write commits and bumps the epoch, but the
        // stale entry is still in moka (as if a load re-inserted it).
        store
            .upsert_profile(&profile("a"), None, Timestamp::now())
            .await
            .unwrap();
        cache.stripe("a").fetch_add(1, Ordering::AcqRel);
        assert_eq!(cache.get("a").await.unwrap().version(), 2);
    }

    #[tokio::test]
    async fn capacity_bounds_the_entries() {
        let (_dir, store, cache) = setup(10).await;
        for i in 0..50 {
            let id = format!("b{i}");
            store
                .upsert_profile(&profile(&id), None, Timestamp::now())
                .await
                .unwrap();
            cache.get(&id).await.unwrap();
        }
        cache.run_pending_tasks().await;
        assert!(cache.entry_count() <= 10, "{}", cache.entry_count());
    }
}
