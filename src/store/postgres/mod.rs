//! The shared store: PostgreSQL, for several `kairos serve` replicas.
//!
//! The tables mirror the SQLite ones (JSON bodies, times in microseconds),
//! with two differences that matter at scale:
//! - the decision log is partitioned by UTC day of `decided_at_us`, so
//!   retention drops whole partitions, and a batch is one multi-row insert;
//! - triggers announce every profile, blackout and engagement write with
//!   `pg_notify` on [`feed::CHANNEL`] when it commits, which [`PgFeed`] turns into
//!   [`Change`]s for the other replicas.
//!
//! `schema.rs` holds the tables and their migration, `partitions.rs` the
//! decision log's days, `feed.rs` the notifications' listener.
//!
//! Every call is bounded by `--store-timeout`: waiting for a connection and
//! then for the answer. An unreachable server fails calls with
//! [`StoreError::Unavailable`] or [`StoreError::TimedOut`]; nothing hangs.

mod feed;
mod partitions;
mod schema;

use std::collections::HashSet;
use std::future::Future;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use super::encoding::{from_micros, parse_json, to_json, to_micros, upserted, write_conflict};
use super::{
    BlackoutStore, ChangeFeed, DecisionQuery, DecisionStore, EngagementStore, Lifecycle,
    ProfileStore, StoreError, Upserted,
};
use crate::core::model::{Blackout, BrandProfile, DecisionRecord, Engagement, StoredProfile};
use feed::PgFeed;
use partitions::day_of;

/// Unconditional create-or-replace of one profile; the version counts
/// writes per brand.
const UPSERT: &str = "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
     VALUES ($1, 1, $2, $3)
     ON CONFLICT (brand_id) DO UPDATE
       SET version = brand_profiles.version + 1,
           updated_at_us = excluded.updated_at_us,
           body = excluded.body
     RETURNING version";

/// Unconditional create-or-replace of a batch; the version counts writes
/// per brand. A batch must not name a brand twice (one statement cannot
/// update a row twice). Rows are written in brand-id order, so two replicas
/// importing overlapping batches lock rows in the same order (no deadlock).
const UPSERT_MANY: &str = "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
     SELECT id, 1, $2, body FROM UNNEST($1::text[], $3::text[]) AS t(id, body)
     ORDER BY id
     ON CONFLICT (brand_id) DO UPDATE
       SET version = brand_profiles.version + 1,
           updated_at_us = excluded.updated_at_us,
           body = excluded.body
     RETURNING brand_id, version";

/// How to reach PostgreSQL (`--store`, `--store-max-connections`,
/// `--store-timeout`).
#[derive(Debug, Clone)]
pub struct PgOptions {
    pub url: String,
    pub max_connections: u32,
    pub timeout: Duration,
}

#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    timeout: Duration,
    /// Days whose decision partition is known to exist.
    partitions: Mutex<HashSet<i64>>,
}

impl PgStore {
    /// Connects and migrates. The pool connects lazily, so a replica starts
    /// only when the database answers now, and recovers by itself later.
    pub async fn open(options: PgOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(&options.url)?.application_name("kairos");
        // One direct connection first: it names the cause (refused, bad
        // password, no such database) where the pool would only time out.
        let first = tokio::time::timeout(options.timeout, PgConnection::connect_with(&connect))
            .await
            .map_err(|_| StoreError::TimedOut(options.timeout))??;
        let _ = first.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.timeout)
            .connect_lazy_with(connect);
        let store = Self {
            pool,
            timeout: options.timeout,
            partitions: Mutex::new(HashSet::new()),
        };
        schema::migrate(&store.pool).await?;
        store.ensure_current_partitions().await?;
        Ok(store)
    }

    /// Runs `work`, failing with `TimedOut` past twice `--store-timeout`:
    /// the pool bounds the wait for a connection by one, this bounds the
    /// whole call, answer included.
    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout.saturating_mul(2), work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::TimedOut(self.timeout)),
        }
    }
}

fn from_json<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    key_column: &str,
) -> Result<T, StoreError> {
    let body: String = row.try_get("body")?;
    parse_json(&body, || {
        row.try_get::<String, _>(key_column).unwrap_or_default()
    })
}

fn decode_row(row: &PgRow) -> Result<StoredProfile, StoreError> {
    Ok(StoredProfile {
        profile: from_json(row, "brand_id")?,
        version: row.try_get("version")?,
        updated_at: from_micros(row.try_get("updated_at_us")?),
    })
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl PgStore {
    async fn upsert_one(
        &self,
        profile: &BrandProfile,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> Result<Upserted, StoreError> {
        let body = to_json(&profile.brand_id, profile)?;
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
                     VALUES ($1, 1, $2, $3)
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
                        SET version = version + 1, updated_at_us = $2, body = $3
                      WHERE brand_id = $1 AND version = $4
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
            let actual: Option<i64> =
                sqlx::query_scalar("SELECT version FROM brand_profiles WHERE brand_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            return Err(write_conflict(id, expected_version, actual));
        };
        Ok(upserted(profile, version, at))
    }

    /// One statement for the batch when no brand repeats; otherwise the
    /// writes go one by one, in order, in one transaction.
    async fn upsert_many(
        &self,
        profiles: &[BrandProfile],
        now: Timestamp,
    ) -> Result<Vec<Upserted>, StoreError> {
        let at = to_micros(now);
        let ids: Vec<&str> = profiles.iter().map(|p| p.brand_id.as_str()).collect();
        let distinct: HashSet<&str> = ids.iter().copied().collect();
        let bodies = profiles
            .iter()
            .map(|p| to_json(&p.brand_id, p))
            .collect::<Result<Vec<_>, _>>()?;
        if distinct.len() == ids.len() {
            let rows = sqlx::query(UPSERT_MANY)
                .bind(&ids)
                .bind(at)
                .bind(&bodies)
                .fetch_all(&self.pool)
                .await?;
            let mut versions = std::collections::HashMap::with_capacity(rows.len());
            for row in &rows {
                let id: String = row.try_get("brand_id")?;
                let version: i64 = row.try_get("version")?;
                versions.insert(id, version);
            }
            return Ok(profiles
                .iter()
                .map(|p| upserted(p, versions.get(&p.brand_id).copied().unwrap_or(1), at))
                .collect());
        }
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(profiles.len());
        for (p, body) in profiles.iter().zip(&bodies) {
            let version: i64 = sqlx::query_scalar(UPSERT)
                .bind(&p.brand_id)
                .bind(at)
                .bind(body)
                .fetch_one(&mut *tx)
                .await?;
            out.push(upserted(p, version, at));
        }
        tx.commit().await?;
        Ok(out)
    }
}

#[async_trait]
impl ProfileStore for PgStore {
    async fn upsert_profile(
        &self,
        profile: &BrandProfile,
        expected_version: Option<i64>,
        now: Timestamp,
    ) -> Result<Upserted, StoreError> {
        self.bounded(self.upsert_one(profile, expected_version, now))
            .await
    }

    async fn upsert_profiles(
        &self,
        profiles: &[BrandProfile],
        now: Timestamp,
    ) -> Result<Vec<Upserted>, StoreError> {
        self.bounded(self.upsert_many(profiles, now)).await
    }

    async fn get_profile(&self, brand_id: &str) -> Result<Option<StoredProfile>, StoreError> {
        self.bounded(async {
            let row = sqlx::query(
                "SELECT brand_id, version, updated_at_us, body FROM brand_profiles WHERE brand_id = $1",
            )
            .bind(brand_id)
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(decode_row).transpose()
        })
        .await
    }

    async fn profile_versions(
        &self,
        brand_ids: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.bounded(async {
            let rows = sqlx::query(
                "SELECT brand_id, version FROM brand_profiles WHERE brand_id = ANY($1)",
            )
            .bind(brand_ids)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("brand_id")?, r.try_get("version")?)))
                .collect()
        })
        .await
    }

    async fn list_profiles(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredProfile>, StoreError> {
        self.bounded(async {
            let rows = sqlx::query(
                "SELECT brand_id, version, updated_at_us, body FROM brand_profiles
                  WHERE brand_id > $1 ORDER BY brand_id LIMIT $2",
            )
            .bind(after.unwrap_or(""))
            .bind(limit_of(limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(decode_row).collect()
        })
        .await
    }

    async fn list_brand_ids(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.bounded(async {
            Ok(sqlx::query_scalar(
                "SELECT brand_id FROM brand_profiles WHERE brand_id > $1 ORDER BY brand_id LIMIT $2",
            )
            .bind(after.unwrap_or(""))
            .bind(limit_of(limit))
            .fetch_all(&self.pool)
            .await?)
        })
        .await
    }

    async fn delete_profile(&self, brand_id: &str) -> Result<bool, StoreError> {
        self.bounded(async {
            let done = sqlx::query("DELETE FROM brand_profiles WHERE brand_id = $1")
                .bind(brand_id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }
}

#[async_trait]
impl BlackoutStore for PgStore {
    async fn insert_blackout(&self, b: &Blackout) -> Result<(), StoreError> {
        self.bounded(async {
            sqlx::query("INSERT INTO blackouts (id, created_at_us, body) VALUES ($1, $2, $3)")
                .bind(&b.id)
                .bind(to_micros(b.created_at))
                .bind(to_json(&b.id, b)?)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn all_blackouts(&self) -> Result<Vec<Blackout>, StoreError> {
        self.bounded(async {
            let rows =
                sqlx::query("SELECT id, body FROM blackouts ORDER BY created_at_us DESC, id DESC")
                    .fetch_all(&self.pool)
                    .await?;
            rows.iter().map(|r| from_json(r, "id")).collect()
        })
        .await
    }

    async fn delete_blackout(&self, id: &str) -> Result<bool, StoreError> {
        self.bounded(async {
            let done = sqlx::query("DELETE FROM blackouts WHERE id = $1")
                .bind(id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }
}

#[async_trait]
impl EngagementStore for PgStore {
    async fn insert_engagement(&self, e: &Engagement) -> Result<(), StoreError> {
        self.bounded(async {
            sqlx::query(
                "INSERT INTO engagements (id, brand_id, at_us, body) VALUES ($1, $2, $3, $4)",
            )
            .bind(&e.id)
            .bind(&e.brand_id)
            .bind(to_micros(e.at))
            .bind(to_json(&e.id, e)?)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
        .await
    }

    async fn brand_engagements(
        &self,
        brand_id: &str,
        since: Timestamp,
    ) -> Result<Vec<Engagement>, StoreError> {
        self.bounded(async {
            let rows = sqlx::query(
                "SELECT id, body FROM engagements WHERE brand_id = $1 AND at_us >= $2 ORDER BY at_us",
            )
            .bind(brand_id)
            .bind(to_micros(since))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| from_json(r, "id")).collect()
        })
        .await
    }

    async fn purge_engagements(&self, before: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM engagements WHERE at_us < $1")
            .bind(to_micros(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl DecisionStore for PgStore {
    /// One multi-row insert per batch (arrays unnested server-side).
    async fn append_decisions(&self, records: &[DecisionRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.bounded(async {
            let days: Vec<i64> = records
                .iter()
                .map(|r| day_of(to_micros(r.decided_at)))
                .collect();
            self.ensure_partitions(&days).await?;
            let mut ids = Vec::with_capacity(records.len());
            let mut brands = Vec::with_capacity(records.len());
            let mut decisions = Vec::with_capacity(records.len());
            let mut assessed = Vec::with_capacity(records.len());
            let mut decided = Vec::with_capacity(records.len());
            let mut bodies = Vec::with_capacity(records.len());
            for r in records {
                ids.push(r.decision_id.as_str());
                brands.push(r.assessment.brand_id.as_str());
                decisions.push(super::decision_name(r.assessment.decision));
                assessed.push(to_micros(r.assessment.assessed_at));
                decided.push(to_micros(r.decided_at));
                bodies.push(to_json(&r.decision_id, r)?);
            }
            sqlx::query(
                "INSERT INTO decisions
                   (decision_id, brand_id, decision, assessed_at_us, decided_at_us, body)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[])
                 ON CONFLICT DO NOTHING",
            )
            .bind(&ids)
            .bind(&brands)
            .bind(&decisions)
            .bind(&assessed)
            .bind(&decided)
            .bind(&bodies)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
        .await
    }

    async fn query_decisions(&self, q: &DecisionQuery) -> Result<Vec<DecisionRecord>, StoreError> {
        let (before_at, before_id) = match &q.before {
            Some((t, id)) => (to_micros(*t), id.clone()),
            None => (i64::MAX, String::new()),
        };
        self.bounded(async {
            let rows = sqlx::query(
                "SELECT decision_id, body FROM decisions
                  WHERE ($1 = '' OR brand_id = $1)
                    AND assessed_at_us >= $2 AND assessed_at_us < $3
                    AND ($4 = '' OR decision = $4)
                    AND (assessed_at_us < $5 OR (assessed_at_us = $5 AND ($6 = '' OR decision_id < $6)))
                  ORDER BY assessed_at_us DESC, decision_id DESC
                  LIMIT $7",
            )
            .bind(q.brand_id.as_deref().unwrap_or(""))
            .bind(q.since.map_or(i64::MIN, to_micros))
            .bind(q.until.map_or(i64::MAX, to_micros))
            .bind(q.decision.map_or("", super::decision_name))
            .bind(before_at)
            .bind(before_id)
            .bind(limit_of(q.limit))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| from_json(r, "decision_id")).collect()
        })
        .await
    }

    /// Drops the day partitions wholly before `before`, and deletes the
    /// older rows of the one it falls in.
    async fn purge_decisions(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.purge_decisions_now(before).await
    }
}

#[async_trait]
impl Lifecycle for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.bounded(async {
            sqlx::query("SELECT 1").execute(&self.pool).await?;
            Ok(())
        })
        .await
    }

    fn changes(&self) -> Option<Box<dyn ChangeFeed>> {
        Some(Box::new(PgFeed {
            pool: self.pool.clone(),
            listener: None,
        }))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
