//! Durable storage behind a trait. The store is the source of truth; the
//! cache only ever holds copies of what it returned.
//!
//! Two backends: the embedded SQLite file (one process) and PostgreSQL
//! (several replicas, which learn of each other's writes through a
//! [`ChangeFeed`]).

mod encoding;
mod postgres;
mod sqlite;
mod timed;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::core::model::{
    Blackout, BrandProfile, Decision, DecisionRecord, Engagement, StoredProfile,
};

pub use postgres::{PgOptions, PgStore};
pub use sqlite::SqliteStore;
pub use timed::Timed;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `expected_version` did not match; `actual` is None when the brand
    /// does not exist.
    #[error(
        "version conflict for brand {brand_id:?}: expected_version {expected}, {}",
        match actual {
            Some(v) => format!("stored version {v}"),
            None => "no stored profile".to_string(),
        }
    )]
    VersionConflict {
        brand_id: String,
        expected: i64,
        actual: Option<i64>,
    },
    #[error("brand {brand_id:?} already exists (version {actual})")]
    AlreadyExists { brand_id: String, actual: i64 },
    #[error("stored record {key:?} is unreadable")]
    Corrupt {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// The store cannot be reached (refused, dropped, shutting down, a
    /// transient conflict): the call may succeed later. When no connection
    /// could be had, nothing was written; a connection lost mid-call leaves
    /// the outcome unknown.
    #[error("the store is unreachable")]
    Unavailable(#[source] sqlx::Error),
    /// A read was not tried: the store failed moments ago (see the caller).
    #[error("the store failed moments ago; not retried yet")]
    Backoff,
    /// No answer in time; the outcome of a write is unknown.
    #[error("the store did not answer within {}s (twice --store-timeout)", .0.as_secs_f64())]
    TimedOut(std::time::Duration),
    #[error(
        "database schema version {found} is newer than this build supports ({supported}); \
         run a newer kairos against it"
    )]
    SchemaTooNew { found: i64, supported: i64 },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unreachable(&e) {
            StoreError::Unavailable(e)
        } else {
            StoreError::Database(e)
        }
    }
}

impl StoreError {
    /// Whether the call may succeed if retried once the store is back.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::TimedOut(_) | StoreError::Backoff
        )
    }
}

/// Failures a retry may get past, as opposed to a statement the database
/// refused. SQLSTATE class 08 is "connection exception"; 57P01..57P03 an
/// administrator or crash shutdown and "cannot connect now" (starting);
/// 57014 a cancelled statement; 25006 a read-only server (a standby, just
/// after a failover); 40001 and 40P01 a serialization failure and a
/// deadlock, which roll the statement back.
fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08")
                || matches!(
                    &*c,
                    "57P01" | "57P02" | "57P03" | "57014" | "25006" | "40001" | "40P01"
                )
        }),
        _ => false,
    }
}

/// The result of an upsert: the stored profile and whether it was new.
#[derive(Debug, Clone)]
pub struct Upserted {
    pub stored: StoredProfile,
    pub created: bool,
}

/// Brand-profile persistence. Every acknowledged write is durable.
#[async_trait]
pub trait ProfileStore: Send + Sync + 'static {
    /// Creates or replaces a profile. `expected_version`: None writes
    /// unconditionally, `Some(0)` creates only, `Some(n)` requires version n.
    /// The new version is the previous one plus one (1 on creation).
    async fn upsert_profile(
        &self,
        profile: &BrandProfile,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> Result<Upserted, StoreError>;

    /// Unconditional upserts of many profiles in one transaction (one
    /// durable commit for the lot), in order.
    async fn upsert_profiles(
        &self,
        profiles: &[BrandProfile],
        now: Timestamp,
    ) -> Result<Vec<Upserted>, StoreError> {
        let mut out = Vec::with_capacity(profiles.len());
        for p in profiles {
            out.push(self.upsert_profile(p, None, now).await?);
        }
        Ok(out)
    }

    async fn get_profile(&self, brand_id: &str) -> Result<Option<StoredProfile>, StoreError>;

    /// The stored versions of those of `brand_ids` that exist, in one query
    /// (a replica re-checks its cached profiles with it).
    async fn profile_versions(
        &self,
        brand_ids: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError>;

    /// Profiles ordered by `brand_id`, strictly after `after`, at most `limit`.
    async fn list_profiles(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredProfile>, StoreError>;

    /// Brand ids ordered, strictly after `after`, at most `limit`.
    async fn list_brand_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;

    /// Returns whether a profile was deleted.
    async fn delete_profile(&self, brand_id: &str) -> Result<bool, StoreError>;
}

/// Crisis blackouts. Few, read at start-up and after every change.
#[async_trait]
pub trait BlackoutStore: Send + Sync + 'static {
    async fn insert_blackout(&self, blackout: &Blackout) -> Result<(), StoreError>;
    /// Every stored blackout, newest first.
    async fn all_blackouts(&self) -> Result<Vec<Blackout>, StoreError>;
    async fn delete_blackout(&self, id: &str) -> Result<bool, StoreError>;
}

/// Engagements the brands actually made.
#[async_trait]
pub trait EngagementStore: Send + Sync + 'static {
    async fn insert_engagement(&self, engagement: &Engagement) -> Result<(), StoreError>;
    /// A brand's engagements at or after `since`, oldest first.
    async fn brand_engagements(
        &self,
        brand_id: &str,
        since: Timestamp,
    ) -> Result<Vec<Engagement>, StoreError>;
    /// Deletes engagements before `before`; returns how many.
    async fn purge_engagements(&self, before: Timestamp) -> Result<u64, StoreError>;
}

/// Filter and page of a decision-log query. Bounds are on `assessed_at`.
#[derive(Debug, Clone, Default)]
pub struct DecisionQuery {
    pub brand_id: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub decision: Option<Decision>,
    /// Keyset cursor: the (assessed_at, decision_id) of the last row seen.
    pub before: Option<(Timestamp, String)>,
    pub limit: usize,
}

/// The decision log.
#[async_trait]
pub trait DecisionStore: Send + Sync + 'static {
    /// Appends records in one transaction.
    async fn append_decisions(&self, records: &[DecisionRecord]) -> Result<(), StoreError>;
    /// Newest first (by `assessed_at`, then `decision_id`).
    async fn query_decisions(&self, q: &DecisionQuery) -> Result<Vec<DecisionRecord>, StoreError>;
    /// Deletes records decided before `before`; returns how many.
    async fn purge_decisions(&self, before: Timestamp) -> Result<u64, StoreError>;
}

/// What a store is, beyond what it holds: reachable or not, shared or not.
#[async_trait]
pub trait Lifecycle: Send + Sync + 'static {
    /// One cheap round trip; an error when the store cannot take writes.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Other processes' writes, when several processes share the store;
    /// None when this process is its only writer.
    fn changes(&self) -> Option<Box<dyn ChangeFeed>>;
    async fn close(&self);
}

/// Everything the server persists.
pub trait Store:
    ProfileStore + BlackoutStore + EngagementStore + DecisionStore + Lifecycle
{
}
impl<T: ProfileStore + BlackoutStore + EngagementStore + DecisionStore + Lifecycle> Store for T {}

/// A write some process committed, named by what a replica keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A profile was written or deleted.
    Profile(String),
    /// Some blackout was created or deleted.
    Blackouts,
    /// An engagement was recorded for this brand.
    Engagement(String),
}

/// What a change feed saw next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    Change(Change),
    /// The feed (re)connected: changes made while it was away were not
    /// seen, so whatever was kept must be checked again.
    Resumed,
    /// The feed lost its connection and could not reconnect yet.
    Lost,
}

/// The stream of other processes' writes.
#[async_trait]
pub trait ChangeFeed: Send + 'static {
    /// Waits for the next item; after `Lost`, the next call retries.
    async fn next(&mut self) -> Feed;
}

/// A decision's name in the `decision` column.
fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Engage => "engage",
        Decision::Review => "review",
        Decision::Listen => "listen",
        Decision::Decline => "decline",
    }
}

/// Where `--store` (or its absence) says the data lives.
pub enum Location<'a> {
    /// The embedded SQLite file in this directory.
    Embedded(&'a std::path::Path),
    /// A PostgreSQL database shared by replicas.
    Postgres(PgOptions),
}

/// Opens (and migrates) the store.
pub async fn open(location: Location<'_>) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match location {
        Location::Embedded(dir) => std::sync::Arc::new(SqliteStore::open(dir).await?),
        Location::Postgres(options) => std::sync::Arc::new(PgStore::open(options).await?),
    })
}
