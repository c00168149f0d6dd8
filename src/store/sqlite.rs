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

use super::encoding::{from_micros, parse_json, to_json, to_micros, upserted, write_conflict};
use super::{
    BlackoutStore, ChangeFeed, DecisionQuery, DecisionStore, EngagementStore, Lifecycle,
    ProfileStore, StoreError, Upserted,
};
use crate::core::model::{Blackout, BrandProfile, DecisionRecord, Engagement, StoredProfile};

/// Bumped when the schema changes; a newer file is refused rather than
/// misread by an older binary. Version 2 keeps profiles in a rowid table:
/// a WITHOUT ROWID table holds at most about 1 KB of a row in its page and
/// spills the rest of most profiles to an overflow page of their own.
const SCHEMA_VERSION: i64 = 2;

/// The profile table of version 2 (`{table}` is its name).
const PROFILES_TABLE: &str = "CREATE TABLE IF NOT EXISTS {table} (
        id            INTEGER PRIMARY KEY,
        brand_id      TEXT NOT NULL UNIQUE,
        version       INTEGER NOT NULL,
        updated_at_us INTEGER NOT NULL,
        body          TEXT NOT NULL
    )";

/// Profiles copied per statement when version 1 is migrated.
const MIGRATE_BATCH: i64 = 1000;

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS blackouts (
        id            TEXT PRIMARY KEY NOT NULL,
        created_at_us INTEGER NOT NULL,
        body          TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS engagements (
        id            TEXT PRIMARY KEY NOT NULL,
        brand_id      TEXT NOT NULL,
        at_us         INTEGER NOT NULL,
        body          TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS engagements_brand_at ON engagements (brand_id, at_us)",
    "CREATE INDEX IF NOT EXISTS engagements_at ON engagements (at_us)",
    "CREATE TABLE IF NOT EXISTS decisions (
        decision_id    TEXT PRIMARY KEY NOT NULL,
        brand_id       TEXT NOT NULL,
        decision       TEXT NOT NULL,
        assessed_at_us INTEGER NOT NULL,
        decided_at_us  INTEGER NOT NULL,
        body           TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS decisions_assessed ON decisions (assessed_at_us, decision_id)",
    "CREATE INDEX IF NOT EXISTS decisions_brand_assessed
        ON decisions (brand_id, assessed_at_us, decision_id)",
    "CREATE INDEX IF NOT EXISTS decisions_decided ON decisions (decided_at_us)",
];

/// Unconditional create-or-replace; the version counts writes per brand.
const UPSERT: &str = "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
     VALUES (?1, 1, ?2, ?3)
     ON CONFLICT (brand_id) DO UPDATE
       SET version = brand_profiles.version + 1,
           updated_at_us = excluded.updated_at_us,
           body = excluded.body
     RETURNING version";

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
        if found == 1 {
            self.migrate_profiles_from_v1().await?;
        }
        sqlx::query(&PROFILES_TABLE.replace("{table}", "brand_profiles"))
            .execute(&self.pool)
            .await?;
        for stmt in SCHEMA {
            sqlx::query(stmt).execute(&self.pool).await?;
        }
        // PRAGMA takes no bind parameters; the value is a constant.
        sqlx::query(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl SqliteStore {
    /// Version 1 to 2: profiles move to a rowid table, each body rewritten
    /// without its default fields, in one transaction; then the file is
    /// vacuumed so the space of the old table is given back.
    async fn migrate_profiles_from_v1(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(&PROFILES_TABLE.replace("{table}", "brand_profiles_v2"))
            .execute(&mut *tx)
            .await?;
        let mut after = String::new();
        let mut moved = 0u64;
        loop {
            let rows = sqlx::query(
                "SELECT brand_id, version, updated_at_us, body FROM brand_profiles
                  WHERE brand_id > ?1 ORDER BY brand_id LIMIT ?2",
            )
            .bind(&after)
            .bind(MIGRATE_BATCH)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("brand_id")?;
            for row in &rows {
                // A body this build cannot read is moved as it is: the
                // migration must not cost the other profiles (reading that
                // one fails as it did before).
                let body = match decode_row(row) {
                    Ok(stored) => encode(&stored.profile)?,
                    Err(e) => {
                        tracing::warn!(error = %crate::error::chain(&e), "profile moved without compaction");
                        row.try_get("body")?
                    }
                };
                sqlx::query(
                    "INSERT INTO brand_profiles_v2 (brand_id, version, updated_at_us, body)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .bind(row.try_get::<String, _>("brand_id")?)
                .bind(row.try_get::<i64, _>("version")?)
                .bind(row.try_get::<i64, _>("updated_at_us")?)
                .bind(body)
                .execute(&mut *tx)
                .await?;
                moved += 1;
            }
        }
        sqlx::query("DROP TABLE brand_profiles")
            .execute(&mut *tx)
            .await?;
        sqlx::query("ALTER TABLE brand_profiles_v2 RENAME TO brand_profiles")
            .execute(&mut *tx)
            .await?;
        sqlx::query("PRAGMA user_version = 2")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        sqlx::query("VACUUM").execute(&self.pool).await?;
        tracing::info!(
            profiles = moved,
            secs = started.elapsed().as_secs_f64(),
            "store migrated to schema 2 (compact profiles)"
        );
        Ok(())
    }
}

#[async_trait]
impl Lifecycle for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The data directory's lock makes this process the file's only writer.
    fn changes(&self) -> Option<Box<dyn ChangeFeed>> {
        None
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

fn encode(profile: &BrandProfile) -> Result<String, StoreError> {
    to_json(&profile.brand_id, profile)
}

fn from_json<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    key_column: &str,
) -> Result<T, StoreError> {
    let body: String = row.try_get("body")?;
    parse_json(&body, || {
        row.try_get::<String, _>(key_column).unwrap_or_default()
    })
}

fn decode_row(row: &SqliteRow) -> Result<StoredProfile, StoreError> {
    Ok(StoredProfile {
        profile: from_json(row, "brand_id")?,
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
                sqlx::query_scalar(UPSERT)
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
            return Err(write_conflict(id, expected_version, actual));
        };
        Ok(upserted(profile, version, at))
    }

    async fn upsert_profiles(
        &self,
        profiles: &[BrandProfile],
        now: Timestamp,
    ) -> Result<Vec<Upserted>, StoreError> {
        let at = to_micros(now);
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(profiles.len());
        for profile in profiles {
            let version: i64 = sqlx::query_scalar(UPSERT)
                .bind(&profile.brand_id)
                .bind(at)
                .bind(encode(profile)?)
                .fetch_one(&mut *tx)
                .await?;
            out.push(upserted(profile, version, at));
        }
        tx.commit().await?;
        Ok(out)
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

    async fn profile_versions(
        &self,
        brand_ids: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        // One process owns the file, so nothing else changes it: this only
        // serves callers of the trait, one indexed lookup per id.
        let mut out = Vec::with_capacity(brand_ids.len());
        for id in brand_ids {
            let version: Option<i64> =
                sqlx::query_scalar("SELECT version FROM brand_profiles WHERE brand_id = ?1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some(v) = version {
                out.push((id.clone(), v));
            }
        }
        Ok(out)
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

    async fn list_brand_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT brand_id FROM brand_profiles WHERE brand_id > ?1 ORDER BY brand_id LIMIT ?2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn delete_profile(&self, brand_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM brand_profiles WHERE brand_id = ?1")
            .bind(brand_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl BlackoutStore for SqliteStore {
    async fn insert_blackout(&self, b: &Blackout) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO blackouts (id, created_at_us, body) VALUES (?1, ?2, ?3)")
            .bind(&b.id)
            .bind(to_micros(b.created_at))
            .bind(to_json(&b.id, b)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn all_blackouts(&self) -> Result<Vec<Blackout>, StoreError> {
        let rows =
            sqlx::query("SELECT id, body FROM blackouts ORDER BY created_at_us DESC, id DESC")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| from_json(r, "id")).collect()
    }

    async fn delete_blackout(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM blackouts WHERE id = ?1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl EngagementStore for SqliteStore {
    async fn insert_engagement(&self, e: &Engagement) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO engagements (id, brand_id, at_us, body) VALUES (?1, ?2, ?3, ?4)")
            .bind(&e.id)
            .bind(&e.brand_id)
            .bind(to_micros(e.at))
            .bind(to_json(&e.id, e)?)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn brand_engagements(
        &self,
        brand_id: &str,
        since: Timestamp,
    ) -> Result<Vec<Engagement>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, body FROM engagements WHERE brand_id = ?1 AND at_us >= ?2 ORDER BY at_us",
        )
        .bind(brand_id)
        .bind(to_micros(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| from_json(r, "id")).collect()
    }

    async fn purge_engagements(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM engagements WHERE at_us < ?1")
            .bind(to_micros(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl DecisionStore for SqliteStore {
    async fn append_decisions(&self, records: &[DecisionRecord]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for r in records {
            sqlx::query(
                "INSERT OR IGNORE INTO decisions
                   (decision_id, brand_id, decision, assessed_at_us, decided_at_us, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(&r.decision_id)
            .bind(&r.assessment.brand_id)
            .bind(super::decision_name(r.assessment.decision))
            .bind(to_micros(r.assessment.assessed_at))
            .bind(to_micros(r.decided_at))
            .bind(to_json(&r.decision_id, r)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn query_decisions(&self, q: &DecisionQuery) -> Result<Vec<DecisionRecord>, StoreError> {
        // Unset bounds become the widest values so one statement (and its
        // index) serves every combination of filters.
        let (before_at, before_id) = match &q.before {
            Some((t, id)) => (to_micros(*t), id.clone()),
            None => (i64::MAX, String::new()),
        };
        let rows = sqlx::query(
            "SELECT decision_id, body FROM decisions
              WHERE (?1 = '' OR brand_id = ?1)
                AND assessed_at_us >= ?2 AND assessed_at_us < ?3
                AND (?4 = '' OR decision = ?4)
                AND (assessed_at_us < ?5 OR (assessed_at_us = ?5 AND (?6 = '' OR decision_id < ?6)))
              ORDER BY assessed_at_us DESC, decision_id DESC
              LIMIT ?7",
        )
        .bind(q.brand_id.as_deref().unwrap_or(""))
        .bind(q.since.map_or(i64::MIN, to_micros))
        .bind(q.until.map_or(i64::MAX, to_micros))
        .bind(q.decision.map_or("", super::decision_name))
        .bind(before_at)
        .bind(before_id)
        .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| from_json(r, "decision_id")).collect()
    }

    async fn purge_decisions(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM decisions WHERE decided_at_us < ?1")
            .bind(to_micros(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
