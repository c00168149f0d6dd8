//! The engagement index behind frequency caps: each brand's engagements
//! within retention, loaded on first use, kept current by `record` and, with
//! replicas, re-read after another replica records one (`mark_stale`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::Mutex;

use crate::core::model::{Engagement, EngagementCounts};
use crate::store::{Store, StoreError};

/// One brand's engagements within the retention window, indexed for the
/// three cap queries. Timestamps are kept sorted.
#[derive(Default)]
struct BrandLog {
    all: Vec<Timestamp>,
    by_author: HashMap<String, Vec<Timestamp>>,
    by_conversation: HashMap<String, Vec<Timestamp>>,
}

fn insert_sorted(v: &mut Vec<Timestamp>, t: Timestamp) {
    let i = v.partition_point(|x| *x <= t);
    v.insert(i, t);
}

fn count_in(v: &[Timestamp], from: Timestamp, to: Timestamp) -> u32 {
    let lo = v.partition_point(|x| *x < from);
    let hi = v.partition_point(|x| *x < to);
    u32::try_from(hi.saturating_sub(lo)).unwrap_or(u32::MAX)
}

impl BrandLog {
    fn add(&mut self, e: &Engagement) {
        insert_sorted(&mut self.all, e.at);
        if !e.author_id.is_empty() {
            insert_sorted(self.by_author.entry(e.author_id.clone()).or_default(), e.at);
        }
        if !e.conversation_id.is_empty() {
            insert_sorted(
                self.by_conversation
                    .entry(e.conversation_id.clone())
                    .or_default(),
                e.at,
            );
        }
    }
}

/// The calendar day in `tz` containing `now`, as [start, end).
pub fn day_bounds(now: Timestamp, tz: &TimeZone) -> (Timestamp, Timestamp) {
    let zoned = now.to_zoned(tz.clone());
    let start = zoned.start_of_day().map(|z| z.timestamp()).unwrap_or(now);
    let end = zoned
        .tomorrow()
        .and_then(|t| t.start_of_day())
        .map(|z| z.timestamp())
        .unwrap_or(now);
    (start, end)
}

/// One brand's loaded log. `stale` marks that another replica recorded an
/// engagement since it was loaded: it is reloaded on next use, and served
/// as it is only while the store cannot be read.
struct Slot {
    log: RwLock<BrandLog>,
    stale: std::sync::atomic::AtomicBool,
}

/// Stripes of the per-brand change counters (a change to one brand rarely
/// disturbs a load of another).
const CHANGE_STRIPES: usize = 256;
/// After the store failed to load a brand's engagements, loads are not
/// retried for this long: requests use the counts held, or fail at once,
/// instead of each waiting on an unreachable store.
const LOAD_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Engagement counts for frequency caps, loaded per brand on first use and
/// kept current by `record` (and, with replicas, by `mark_stale`).
pub struct EngagementIndex {
    store: Arc<dyn Store>,
    retention: Duration,
    brands: RwLock<HashMap<String, Arc<Slot>>>,
    /// Serialises loads with records, so a record landing while a brand is
    /// being loaded is neither lost nor counted twice.
    loading: Mutex<()>,
    /// Bumped by `mark_stale` for the brand's stripe, so a load that raced
    /// a change is marked stale rather than trusted.
    changes: Box<[std::sync::atomic::AtomicU64]>,
    hasher: std::hash::RandomState,
    /// When a load last failed on the store.
    failed_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl EngagementIndex {
    pub fn new(store: Arc<dyn Store>, retention: Duration) -> Self {
        Self {
            store,
            retention,
            brands: RwLock::new(HashMap::new()),
            loading: Mutex::new(()),
            changes: (0..CHANGE_STRIPES)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            hasher: std::hash::RandomState::new(),
            failed_at: std::sync::Mutex::new(None),
        }
    }

    fn stripe(&self, brand_id: &str) -> &std::sync::atomic::AtomicU64 {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(brand_id) as usize;
        &self.changes[h % CHANGE_STRIPES]
    }

    fn cached(&self, brand_id: &str) -> Option<Arc<Slot>> {
        let map = self.brands.read().unwrap_or_else(|p| p.into_inner());
        map.get(brand_id).cloned()
    }

    fn fresh(&self, brand_id: &str) -> Option<Arc<Slot>> {
        self.cached(brand_id)
            .filter(|s| !s.stale.load(std::sync::atomic::Ordering::Acquire))
    }

    fn store_failing(&self) -> bool {
        let failed_at = self.failed_at.lock().unwrap_or_else(|p| p.into_inner());
        failed_at.is_some_and(|t| t.elapsed() < LOAD_RETRY_AFTER)
    }

    /// The counts held for a brand while the store cannot be read: the last
    /// known ones beat failing the score, and caps catch up once it is back.
    fn held_while_failing(&self, brand_id: &str) -> Result<Arc<Slot>, StoreError> {
        self.cached(brand_id).ok_or(StoreError::Backoff)
    }

    async fn ensure_loaded(&self, brand_id: &str, now: Timestamp) -> Result<Arc<Slot>, StoreError> {
        if let Some(slot) = self.fresh(brand_id) {
            return Ok(slot);
        }
        if self.store_failing() {
            return self.held_while_failing(brand_id);
        }
        let _l = self.loading.lock().await;
        if let Some(slot) = self.fresh(brand_id) {
            return Ok(slot);
        }
        if self.store_failing() {
            return self.held_while_failing(brand_id);
        }
        let since = now
            .checked_sub(
                jiff::SignedDuration::try_from(self.retention).unwrap_or(jiff::SignedDuration::MAX),
            )
            .unwrap_or(Timestamp::MIN);
        let stripe = self.stripe(brand_id);
        let seen = stripe.load(std::sync::atomic::Ordering::Acquire);
        let loaded = match self.store.brand_engagements(brand_id, since).await {
            Ok(loaded) => loaded,
            Err(e) => {
                *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(std::time::Instant::now());
                tracing::warn!(error = %crate::error::chain(&e), brand_id, "engagement counts not reloaded; using those held");
                return self.cached(brand_id).ok_or(e);
            }
        };
        *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let mut log = BrandLog::default();
        for e in &loaded {
            log.add(e);
        }
        let slot = Arc::new(Slot {
            log: RwLock::new(log),
            stale: std::sync::atomic::AtomicBool::new(false),
        });
        self.brands
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(brand_id.to_string(), slot.clone());
        // Checked after the insert: a change announced before it bumped the
        // stripe, one announced after it marks this slot itself.
        if stripe.load(std::sync::atomic::Ordering::Acquire) != seen {
            slot.stale.store(true, std::sync::atomic::Ordering::Release);
        }
        Ok(slot)
    }

    /// Stores an engagement and counts it from the next request on.
    pub async fn record(&self, e: &Engagement) -> Result<(), StoreError> {
        let _l = self.loading.lock().await;
        self.store.insert_engagement(e).await?;
        if let Some(slot) = self.cached(&e.brand_id) {
            slot.log.write().unwrap_or_else(|p| p.into_inner()).add(e);
        }
        Ok(())
    }

    /// Another replica recorded an engagement for `brand_id`.
    pub fn mark_stale(&self, brand_id: &str) {
        self.stripe(brand_id)
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        if let Some(slot) = self.cached(brand_id) {
            slot.stale.store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// Changes may have been missed: every loaded brand is re-read on next use.
    pub fn mark_all_stale(&self) {
        for stripe in self.changes.iter() {
            stripe.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        let map = self.brands.read().unwrap_or_else(|p| p.into_inner());
        for slot in map.values() {
            slot.stale.store(true, std::sync::atomic::Ordering::Release);
        }
    }

    /// Counts per CONTRACT.md: author and conversation over the calendar day
    /// of `now` in `tz`, the brand over the 60 minutes before `now`.
    pub async fn counts(
        &self,
        brand_id: &str,
        author_id: &str,
        conversation_id: &str,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<EngagementCounts, StoreError> {
        let slot = self.ensure_loaded(brand_id, now).await?;
        let log = slot.log.read().unwrap_or_else(|p| p.into_inner());
        // The calendar day is four time-zone conversions: only worked out
        // when there is an author or a conversation to count.
        let day =
            (!author_id.is_empty() || !conversation_id.is_empty()).then(|| day_bounds(now, tz));
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_secs(3600))
            .unwrap_or(Timestamp::MIN);
        let by = |m: &HashMap<String, Vec<Timestamp>>, key: &str| match day {
            Some((day_start, day_end)) if !key.is_empty() => {
                m.get(key).map_or(0, |v| count_in(v, day_start, day_end))
            }
            _ => 0,
        };
        Ok(EngagementCounts {
            author_today: by(&log.by_author, author_id),
            conversation_today: by(&log.by_conversation, conversation_id),
            brand_last_hour: count_in(&log.all, hour_ago, now),
        })
    }

    /// Forgets in-memory state (after retention deleted rows).
    pub fn clear(&self) {
        self.brands
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_bounds_follow_the_time_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        // 2026-03-01 03:30Z is 22:30 on Feb 28 in New York (UTC-5).
        let now: Timestamp = "2026-03-01T03:30:00Z".parse().unwrap();
        let (s, e) = day_bounds(now, &tz);
        assert_eq!(s.to_string(), "2026-02-28T05:00:00Z");
        assert_eq!(e.to_string(), "2026-03-01T05:00:00Z");
    }

    #[test]
    fn counting_uses_half_open_ranges() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let v = vec![
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T12:00:00Z"),
            t("2026-01-02T00:00:00Z"),
        ];
        assert_eq!(
            count_in(&v, t("2026-01-01T00:00:00Z"), t("2026-01-02T00:00:00Z")),
            2
        );
    }
}
