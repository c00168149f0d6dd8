//! Durable storage behind a trait. The store is the source of truth; the
//! cache only ever holds copies of what it returned.

mod sqlite;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::core::model::{BrandProfile, StoredProfile};

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

    async fn get_profile(&self, brand_id: &str) -> Result<Option<StoredProfile>, StoreError>;

    /// Profiles ordered by `brand_id`, strictly after `after`, at most `limit`.
    async fn list_profiles(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredProfile>, StoreError>;

    /// Returns whether a profile was deleted.
    async fn delete_profile(&self, brand_id: &str) -> Result<bool, StoreError>;
}
