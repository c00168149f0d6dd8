//! Runtime state behind the guardrails: the active-blackout snapshot, the
//! in-memory engagement index for frequency caps, and the asynchronous
//! decision-log writer. The store stays the source of truth; this module
//! keeps what scoring reads hot, so scoring never waits on the store once a
//! brand's data is loaded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::{Mutex, mpsc};

use crate::core::model::{Blackout, DecisionRecord, Engagement, EngagementCounts};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

// ----- blackouts --------------------------------------------------------------

/// Every stored blackout, as an immutable snapshot swapped after each change.
pub struct Blackouts {
    store: Arc<dyn Store>,
    snapshot: RwLock<Arc<Vec<Blackout>>>,
    /// Serialises changes so snapshots are swapped in commit order.
    writes: Mutex<()>,
}

impl Blackouts {
    pub async fn load(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let all = store.all_blackouts().await?;
        Ok(Self {
            store,
            snapshot: RwLock::new(Arc::new(all)),
            writes: Mutex::new(()),
        })
    }

    /// All blackouts, newest first (expired ones included).
    pub fn all(&self) -> Arc<Vec<Blackout>> {
        match self.snapshot.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Blackouts in force at `now`.
    pub fn active_at(&self, now: Timestamp) -> Vec<Blackout> {
        self.all()
            .iter()
            .filter(|b| b.is_active_at(now))
            .cloned()
            .collect()
    }

    async fn refresh(&self) -> Result<(), StoreError> {
        let all = Arc::new(self.store.all_blackouts().await?);
        match self.snapshot.write() {
            Ok(mut g) => *g = all,
            Err(poisoned) => *poisoned.into_inner() = all,
        }
        Ok(())
    }

    /// Reloads the snapshot after another replica changed blackouts. On
    /// failure the last known snapshot stays in force.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let _w = self.writes.lock().await;
        self.refresh().await
    }

    /// Stores a blackout; it applies to every request that starts after
    /// this returns.
    pub async fn create(&self, b: &Blackout) -> Result<(), StoreError> {
        let _w = self.writes.lock().await;
        self.store.insert_blackout(b).await?;
        self.refresh().await
    }

    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let _w = self.writes.lock().await;
        let deleted = self.store.delete_blackout(id).await?;
        self.refresh().await?;
        Ok(deleted)
    }
}

// ----- engagements ------------------------------------------------------------

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
        let (day_start, day_end) = day_bounds(now, tz);
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_secs(3600))
            .unwrap_or(Timestamp::MIN);
        let by = |m: &HashMap<String, Vec<Timestamp>>, key: &str| {
            if key.is_empty() {
                0
            } else {
                m.get(key).map_or(0, |v| count_in(v, day_start, day_end))
            }
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

// ----- decision log -------------------------------------------------------------

/// A bounded queue in front of the store. Scoring never waits on it: when
/// the queue is full the record is dropped and counted.
pub struct DecisionLog {
    tx: mpsc::Sender<DecisionRecord>,
    metrics: Arc<Metrics>,
    capacity: usize,
}

/// The background half of the decision log; `run` ends once the queue is
/// closed and drained.
pub struct DecisionWriter {
    rx: mpsc::Receiver<DecisionRecord>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    batch: usize,
}

pub fn decision_log(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    capacity: usize,
) -> (DecisionLog, DecisionWriter) {
    let capacity = capacity.max(1);
    let (tx, rx) = mpsc::channel(capacity);
    (
        DecisionLog {
            tx,
            metrics: metrics.clone(),
            capacity,
        },
        DecisionWriter {
            rx,
            store,
            metrics,
            batch: 256,
        },
    )
}

impl DecisionLog {
    /// Queues a record; false when it was dropped (queue full or closed).
    pub fn submit(&self, record: DecisionRecord) -> bool {
        match self.tx.try_send(record) {
            Ok(()) => {
                Metrics::inc(&self.metrics.decisions_logged);
                true
            }
            Err(_) => {
                Metrics::inc(&self.metrics.decisions_dropped);
                false
            }
        }
    }

    pub fn queue_depth(&self) -> usize {
        self.capacity.saturating_sub(self.tx.capacity())
    }
}

impl DecisionWriter {
    /// Writes batches until `stop` fires, then closes the queue and writes
    /// what was already accepted.
    pub async fn run(mut self, stop: tokio::sync::watch::Receiver<bool>) {
        let mut stop = stop;
        let mut buf = Vec::with_capacity(self.batch);
        // `flush` may have seen the stop while it waited for the store, so
        // the flag is read, not only the change.
        while !*stop.borrow() {
            tokio::select! {
                n = self.rx.recv_many(&mut buf, self.batch) => {
                    if n == 0 {
                        break;
                    }
                    self.flush(&mut buf, &mut stop).await;
                }
                _ = stop.changed() => break,
            }
        }
        // Stopping: one attempt per batch; once the store fails, the rest
        // is counted as lost rather than holding the shutdown.
        self.rx.close();
        let mut store_failed = false;
        while self.rx.recv_many(&mut buf, self.batch).await > 0 {
            if store_failed || !self.write(&buf).await {
                store_failed = true;
                self.lost(buf.len());
            }
            buf.clear();
        }
    }

    /// Writes one batch. While the store is unreachable the batch is held
    /// and retried, so new records wait in the bounded queue (and are
    /// dropped and counted once it is full) until the store is back.
    async fn flush(
        &self,
        buf: &mut Vec<DecisionRecord>,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) {
        let mut delay = WRITE_RETRY_FIRST;
        loop {
            match self.store.append_decisions(buf).await {
                Ok(()) => {
                    Metrics::inc(&self.metrics.decision_log_batches);
                    break;
                }
                Err(e) if e.is_unavailable() && !*stop.borrow() => {
                    tracing::warn!(error = %crate::error::chain(&e), held = buf.len(), "decision log waits for the store");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => {}
                    }
                    delay = (delay * 2).min(WRITE_RETRY_MAX);
                }
                Err(e) => {
                    tracing::error!(error = %crate::error::chain(&e), lost = buf.len(), "decision log write failed");
                    self.lost(buf.len());
                    break;
                }
            }
        }
        buf.clear();
    }

    async fn write(&self, buf: &[DecisionRecord]) -> bool {
        match self.store.append_decisions(buf).await {
            Ok(()) => {
                Metrics::inc(&self.metrics.decision_log_batches);
                true
            }
            Err(e) => {
                tracing::error!(error = %crate::error::chain(&e), lost = buf.len(), "decision log write failed");
                false
            }
        }
    }

    fn lost(&self, n: usize) {
        self.metrics
            .decisions_write_failed
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// First and longest wait between attempts to write a held batch.
const WRITE_RETRY_FIRST: Duration = Duration::from_millis(100);
const WRITE_RETRY_MAX: Duration = Duration::from_secs(2);

// ----- retention ----------------------------------------------------------------

/// Deletes engagements and decisions older than their retention, once now
/// and then every `every`, until `stop` fires.
pub async fn run_retention(
    store: Arc<dyn Store>,
    engagements: Arc<EngagementIndex>,
    metrics: Arc<Metrics>,
    engagement_retention: Duration,
    decision_retention: Duration,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let now = Timestamp::now();
        let cut = |d: Duration| {
            jiff::SignedDuration::try_from(d)
                .ok()
                .and_then(|d| now.checked_sub(d).ok())
                .unwrap_or(Timestamp::MIN)
        };
        match store.purge_engagements(cut(engagement_retention)).await {
            Ok(n) if n > 0 => {
                metrics
                    .retention_deleted
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                engagements.clear();
                tracing::info!(deleted = n, "engagement retention");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "engagement retention failed"),
        }
        match store.purge_decisions(cut(decision_retention)).await {
            Ok(n) if n > 0 => {
                metrics
                    .retention_deleted
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(deleted = n, "decision log retention");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "decision log retention failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Assessment, Decision, EngagementMode, EngagementOutcome};
    use crate::store::{DecisionQuery, SqliteStore};

    fn engagement(id: &str, at: Timestamp) -> Engagement {
        Engagement {
            id: id.into(),
            brand_id: "b".into(),
            author_id: "a".into(),
            conversation_id: String::new(),
            event_id: String::new(),
            mode: Some(EngagementMode::Reply),
            at,
            outcome: EngagementOutcome::Unknown,
        }
    }

    fn record(id: &str, at: Timestamp) -> DecisionRecord {
        DecisionRecord {
            decision_id: id.into(),
            request_id: String::new(),
            assessment: Assessment {
                event_id: "e".into(),
                brand_id: "b".into(),
                relevance: 0.0,
                timing: 0.0,
                intrusiveness_risk: 0.0,
                opportunity: 0.0,
                decision: Decision::Decline,
                recommended_mode: EngagementMode::None,
                respond_by: None,
                max_review_latency: None,
                confidence: 0.0,
                reasons: vec![],
                profile_version: 1,
                model_version: "m".into(),
                assessed_at: at,
            },
            decided_at: at,
            event_digest: String::new(),
            caller: String::new(),
        }
    }

    #[tokio::test]
    async fn retention_deletes_only_what_is_older_than_its_window() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
        let now = Timestamp::now();
        let days = |d: i64| {
            now.checked_sub(jiff::SignedDuration::from_hours(24 * d))
                .unwrap()
        };
        store
            .insert_engagement(&engagement("old", days(40)))
            .await
            .unwrap();
        store
            .insert_engagement(&engagement("new", days(1)))
            .await
            .unwrap();
        store
            .append_decisions(&[record("d-old", days(100)), record("d-new", days(2))])
            .await
            .unwrap();
        let metrics = Arc::new(Metrics::default());
        let index = Arc::new(EngagementIndex::new(
            store.clone(),
            Duration::from_secs(30 * 86_400),
        ));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        stop.send(true).unwrap();
        run_retention(
            store.clone(),
            index,
            metrics.clone(),
            Duration::from_secs(30 * 86_400),
            Duration::from_secs(90 * 86_400),
            Duration::from_secs(3600),
            stopped,
        )
        .await;
        let left = store.brand_engagements("b", Timestamp::MIN).await.unwrap();
        assert_eq!(
            left.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["new"]
        );
        let q = DecisionQuery {
            limit: 10,
            ..Default::default()
        };
        let decisions = store.query_decisions(&q).await.unwrap();
        assert_eq!(
            decisions
                .iter()
                .map(|d| d.decision_id.as_str())
                .collect::<Vec<_>>(),
            ["d-new"]
        );
        assert_eq!(
            metrics
                .retention_deleted
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
    }

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
