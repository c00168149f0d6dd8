//! Durable storage behind a trait. The store is the source of truth; the
//! cache only ever holds copies of what it returned.

mod sqlite;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::core::model::{
    Blackout, BrandProfile, Decision, DecisionRecord, Engagement, StoredProfile,
};

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `expected_version` did not match; `actual` is None when the brand
    /// does not exist.
    #[error("version conflict for brand {brand_id:?}: expected {expected}, stored {actual:?}")]
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
    Database(#[from] sqlx::Error),
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
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

/// Everything the server persists.
pub trait Store: ProfileStore + BlackoutStore + EngagementStore + DecisionStore {}
impl<T: ProfileStore + BlackoutStore + EngagementStore + DecisionStore> Store for T {}
