//! The embedded default store: one SQLite file in WAL mode with
//! `synchronous = FULL`, so an acknowledged write survives a crash of the
//! process and of the machine.
//!
//! Writes are single statements (`INSERT .. ON CONFLICT .. RETURNING`,
//! conditional `UPDATE .. RETURNING`), which keeps each one atomic without
//! explicit transactions and keeps the SQL close to what PostgreSQL accepts.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use super::{ProfileStore, StoreError, Upserted};
use crate::core::model::{BrandProfile, StoredProfile};

/// Bumped when the schema changes; a newer file is refused rather than
/// misread by an older binary.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS brand_profiles (
        brand_id      TEXT PRIMARY KEY NOT NULL,
        version       INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL,
        body          TEXT NOT NULL
    ) WITHOUT ROWID"];

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `kairos.db` in `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join("kairos.db");
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let found: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.pool)
            .await?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&self.pool).await?;
        }
        // PRAGMA takes no bind parameters; the value is a constant.
        sqlx::query(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn from_micros(us: i64) -> Timestamp {
    // Only values this module wrote are read back; clamp rather than fail
    // on a hand-edited file.
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn encode(profile: &BrandProfile) -> Result<String, StoreError> {
    serde_json::to_string(profile).map_err(|source| StoreError::Corrupt {
        key: profile.brand_id.clone(),
        source,
    })
}

fn decode_row(row: &SqliteRow) -> Result<StoredProfile, StoreError> {
    let brand_id: String = row.try_get("brand_id")?;
    let body: String = row.try_get("body")?;
    let profile: BrandProfile =
        serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
            key: brand_id.clone(),
            source,
        })?;
    Ok(StoredProfile {
        profile,
        version: row.try_get("version")?,
        updated_at: from_micros(row.try_get("updated_at_us")?),
    })
}

#[async_trait]
impl ProfileStore for SqliteStore {
    async fn upsert_profile(
        &self,
        profile: &BrandProfile,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> Result<Upserted, StoreError> {
        let body = encode(profile)?;
        let id = profile.brand_id.as_str();
        let at = to_micros(now);
        let version: Option<i64> = match expected_version {
            None => Some(
                sqlx::query_scalar(
                    "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
                     VALUES (?1, 1, ?2, ?3)
                     ON CONFLICT (brand_id) DO UPDATE
                       SET version = brand_profiles.version + 1,
                           updated_at_us = excluded.updated_at_us,
                           body = excluded.body
                     RETURNING version",
                )
                .bind(id)
                .bind(at)
                .bind(&body)
                .fetch_one(&self.pool)
                .await?,
            ),
            Some(0) => {
                sqlx::query_scalar(
                    "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
                     VALUES (?1, 1, ?2, ?3)
                     ON CONFLICT (brand_id) DO NOTHING
                     RETURNING version",
                )
                .bind(id)
                .bind(at)
                .bind(&body)
                .fetch_optional(&self.pool)
                .await?
            }
            Some(expected) => {
                sqlx::query_scalar(
                    "UPDATE brand_profiles
                        SET version = version + 1, updated_at_us = ?2, body = ?3
                      WHERE brand_id = ?1 AND version = ?4
                     RETURNING version",
                )
                .bind(id)
                .bind(at)
                .bind(&body)
                .bind(expected)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        let Some(version) = version else {
            // The conditional write matched nothing: report what is stored.
            let actual: Option<i64> =
                sqlx::query_scalar("SELECT version FROM brand_profiles WHERE brand_id = ?1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            return Err(match (expected_version, actual) {
                (Some(0), Some(actual)) => StoreError::AlreadyExists {
                    brand_id: id.to_string(),
                    actual,
                },
                (expected, actual) => StoreError::VersionConflict {
                    brand_id: id.to_string(),
                    expected: expected.unwrap_or_default(),
                    actual,
                },
            });
        };
        Ok(Upserted {
            stored: StoredProfile {
                profile: profile.clone(),
                version,
                updated_at: from_micros(at),
            },
            created: version == 1,
        })
    }

    async fn get_profile(&self, brand_id: &str) -> Result<Option<StoredProfile>, StoreError> {
        let row = sqlx::query(
            "SELECT brand_id, version, updated_at_us, body FROM brand_profiles WHERE brand_id = ?1",
        )
        .bind(brand_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_row).transpose()
    }

    async fn list_profiles(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredProfile>, StoreError> {
        let rows = sqlx::query(
            "SELECT brand_id, version, updated_at_us, body FROM brand_profiles
              WHERE brand_id > ?1 ORDER BY brand_id LIMIT ?2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_row).collect()
    }

    async fn delete_profile(&self, brand_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM brand_profiles WHERE brand_id = ?1")
            .bind(brand_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
