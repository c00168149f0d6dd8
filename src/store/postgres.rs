//! The shared store: PostgreSQL, for several `kairos serve` replicas.
//!
//! The tables mirror the SQLite ones (JSON bodies, times in microseconds),
//! with two differences that matter at scale:
//! - the decision log is partitioned by UTC day of `decided_at_us`, so
//!   retention drops whole partitions, and a batch is one multi-row insert;
//! - triggers announce every profile, blackout and engagement write with
//!   `pg_notify` on [`CHANNEL`] when it commits, which [`PgFeed`] turns into
//!   [`Change`]s for the other replicas.
//!
//! Every call is bounded by `--store-timeout`: waiting for a connection and
//! then for the answer. An unreachable server fails calls with
//! [`StoreError::Unavailable`] or [`StoreError::TimedOut`]; nothing hangs.

use std::collections::HashSet;
use std::future::Future;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use super::{
    BlackoutStore, Change, ChangeFeed, DecisionQuery, DecisionStore, EngagementStore, Feed,
    Lifecycle, ProfileStore, StoreError, Upserted,
};
use crate::core::model::{Blackout, BrandProfile, DecisionRecord, Engagement, StoredProfile};

/// Bumped when the schema changes; a newer database is refused rather than
/// misread by an older binary.
const SCHEMA_VERSION: i64 = 1;

/// The advisory lock key under which migrations and partition DDL run, so
/// replicas starting together migrate once ("kairos" in ASCII).
const LOCK_KEY: i64 = 0x6b61_6972_6f73;

/// The notification channel of the change triggers.
pub const CHANNEL: &str = "kairos_changes";

/// After a failed attempt to reach the server, the feed waits this long.
const FEED_RETRY: Duration = Duration::from_millis(500);

const DAY_MICROS: i64 = 86_400 * 1_000_000;

const SCHEMA: &[&str] = &[
    // Keys sort bytewise, as in SQLite, whatever the database's locale.
    "CREATE TABLE IF NOT EXISTS brand_profiles (
        brand_id      TEXT COLLATE \"C\" PRIMARY KEY,
        version       BIGINT NOT NULL,
        updated_at_us BIGINT NOT NULL,
        body          TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS blackouts (
        id            TEXT COLLATE \"C\" PRIMARY KEY,
        created_at_us BIGINT NOT NULL,
        body          TEXT NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS engagements (
        id            TEXT PRIMARY KEY,
        brand_id      TEXT NOT NULL,
        at_us         BIGINT NOT NULL,
        body          TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS engagements_brand_at ON engagements (brand_id, at_us)",
    "CREATE INDEX IF NOT EXISTS engagements_at ON engagements (at_us)",
    // The partition key must be part of the primary key.
    "CREATE TABLE IF NOT EXISTS decisions (
        decision_id    TEXT COLLATE \"C\" NOT NULL,
        brand_id       TEXT COLLATE \"C\" NOT NULL,
        decision       TEXT NOT NULL,
        assessed_at_us BIGINT NOT NULL,
        decided_at_us  BIGINT NOT NULL,
        body           TEXT NOT NULL,
        PRIMARY KEY (decided_at_us, decision_id)
    ) PARTITION BY RANGE (decided_at_us)",
    "CREATE INDEX IF NOT EXISTS decisions_assessed ON decisions (assessed_at_us, decision_id)",
    "CREATE INDEX IF NOT EXISTS decisions_brand_assessed
        ON decisions (brand_id, assessed_at_us, decision_id)",
    // Payloads name what changed; replicas reload it from the tables.
    "CREATE OR REPLACE FUNCTION kairos_notify_change() RETURNS trigger
     LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_TABLE_NAME = 'brand_profiles' THEN
         PERFORM pg_notify('kairos_changes', 'p:' || COALESCE(NEW.brand_id, OLD.brand_id));
       ELSIF TG_TABLE_NAME = 'blackouts' THEN
         PERFORM pg_notify('kairos_changes', 'b:');
       ELSE
         PERFORM pg_notify('kairos_changes', 'e:' || NEW.brand_id);
       END IF;
       RETURN NULL;
     END $$",
    "DROP TRIGGER IF EXISTS brand_profiles_changed ON brand_profiles",
    "CREATE TRIGGER brand_profiles_changed
       AFTER INSERT OR UPDATE OR DELETE ON brand_profiles
       FOR EACH ROW EXECUTE FUNCTION kairos_notify_change()",
    "DROP TRIGGER IF EXISTS blackouts_changed ON blackouts",
    "CREATE TRIGGER blackouts_changed
       AFTER INSERT OR DELETE ON blackouts
       FOR EACH ROW EXECUTE FUNCTION kairos_notify_change()",
    // Retention's deletes are not announced: they only remove engagements
    // older than any cap window.
    "DROP TRIGGER IF EXISTS engagements_changed ON engagements",
    "CREATE TRIGGER engagements_changed
       AFTER INSERT ON engagements
       FOR EACH ROW EXECUTE FUNCTION kairos_notify_change()",
];

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
        store.migrate().await?;
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

    /// One transaction under the advisory lock: replicas that start at once
    /// wait for each other, and the first one migrates.
    async fn migrate(&self) -> Result<(), StoreError> {
        // Migrations may legitimately take longer than one call's bound.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS kairos_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        let found: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM kairos_schema")
            .fetch_one(&mut *tx)
            .await?;
        match found {
            Some(found) if found > SCHEMA_VERSION => {
                return Err(StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Some(found) if found == SCHEMA_VERSION => {}
            _ => {
                for stmt in SCHEMA {
                    sqlx::query(stmt).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM kairos_schema")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO kairos_schema (version) VALUES ($1)")
                    .bind(SCHEMA_VERSION)
                    .execute(&mut *tx)
                    .await?;
                tracing::info!(version = SCHEMA_VERSION, "PostgreSQL schema migrated");
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Today's and tomorrow's decision partitions, made ahead (at start and
    /// with each retention run) so that creating one, which locks the whole
    /// decision log for a moment, does not happen on a busy write.
    async fn ensure_current_partitions(&self) -> Result<(), StoreError> {
        let today = day_of(to_micros(Timestamp::now()));
        self.ensure_partitions(&[today, today.saturating_add(1)])
            .await
    }

    /// Creates the day partitions `days` needs that are not known to exist.
    async fn ensure_partitions(&self, days: &[i64]) -> Result<(), StoreError> {
        let missing: Vec<i64> = {
            let known = self.partitions.lock().unwrap_or_else(|p| p.into_inner());
            let mut m: Vec<i64> = days
                .iter()
                .copied()
                .filter(|d| !known.contains(d))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        if missing.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        for day in &missing {
            // DDL takes no bind parameters; the name and bounds are numbers.
            let from = day.saturating_mul(DAY_MICROS);
            let to = from.saturating_add(DAY_MICROS);
            sqlx::query(&format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF decisions FOR VALUES FROM ({from}) TO ({to})",
                partition_name(*day)
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.partitions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(missing);
        Ok(())
    }

    /// The decision partitions that exist, by day.
    async fn decision_partitions(&self) -> Result<Vec<i64>, StoreError> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'decisions'::regclass",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(names.iter().filter_map(|n| partition_day(n)).collect())
    }

    async fn purge_decisions_now(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.ensure_current_partitions().await?;
        let cut = to_micros(before);
        let mut deleted = 0u64;
        for day in self.decision_partitions().await? {
            let name = partition_name(day);
            let end = day.saturating_add(1).saturating_mul(DAY_MICROS);
            if end <= cut {
                let mut tx = self.pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {name}"))
                    .fetch_one(&mut *tx)
                    .await?;
                sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                self.partitions
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&day);
                deleted += u64::try_from(rows).unwrap_or(0);
            } else if day.saturating_mul(DAY_MICROS) < cut {
                let done = sqlx::query(&format!("DELETE FROM {name} WHERE decided_at_us < $1"))
                    .bind(cut)
                    .execute(&self.pool)
                    .await?;
                deleted += done.rows_affected();
            }
        }
        Ok(deleted)
    }
}

fn partition_name(day: i64) -> String {
    if day < 0 {
        format!("decisions_m{}", day.unsigned_abs())
    } else {
        format!("decisions_d{day}")
    }
}

fn partition_day(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("decisions_")?;
    if let Some(n) = rest.strip_prefix('d') {
        n.parse().ok()
    } else {
        rest.strip_prefix('m')?.parse::<i64>().ok().map(|n| -n)
    }
}

fn day_of(us: i64) -> i64 {
    us.div_euclid(DAY_MICROS)
}

fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn to_json<T: serde::Serialize>(key: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Corrupt {
        key: key.to_string(),
        source,
    })
}

fn from_json<T: serde::de::DeserializeOwned>(
    row: &PgRow,
    key_column: &str,
) -> Result<T, StoreError> {
    let body: String = row.try_get("body")?;
    serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
        key: row.try_get::<String, _>(key_column).unwrap_or_default(),
        source,
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

fn upserted(profile: &BrandProfile, version: i64, at: i64) -> Upserted {
    Upserted {
        stored: StoredProfile {
            profile: profile.clone(),
            version,
            updated_at: from_micros(at),
        },
        created: version == 1,
    }
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
                sqlx::query_scalar(
                    "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
                     VALUES ($1, 1, $2, $3)
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
            let version: i64 = sqlx::query_scalar(
                "INSERT INTO brand_profiles (brand_id, version, updated_at_us, body)
                 VALUES ($1, 1, $2, $3)
                 ON CONFLICT (brand_id) DO UPDATE
                   SET version = brand_profiles.version + 1,
                       updated_at_us = excluded.updated_at_us,
                       body = excluded.body
                 RETURNING version",
            )
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

/// LISTEN on [`CHANNEL`] through one pooled connection, reconnecting as
/// needed. A reconnect is reported as `Resumed`: what was announced while
/// the connection was down is gone, so the replica re-checks its state.
pub struct PgFeed {
    pool: PgPool,
    listener: Option<PgListener>,
}

#[async_trait]
impl ChangeFeed for PgFeed {
    async fn next(&mut self) -> Feed {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                return self.connect().await;
            };
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(change) = parse_change(n.payload()) {
                        return Feed::Change(change);
                    }
                }
                // Reconnected inside try_recv: notifications in between are lost.
                Ok(None) => return Feed::Resumed,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the change feed from PostgreSQL");
                    self.listener = None;
                    tokio::time::sleep(FEED_RETRY).await;
                    return Feed::Lost;
                }
            }
        }
    }
}

impl PgFeed {
    async fn connect(&mut self) -> Feed {
        let attempt = async {
            let mut l = PgListener::connect_with(&self.pool).await?;
            l.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(l)
        };
        match attempt.await {
            Ok(l) => {
                self.listener = Some(l);
                Feed::Resumed
            }
            Err(e) => {
                tracing::debug!(error = %e, "change feed cannot reach PostgreSQL yet");
                tokio::time::sleep(FEED_RETRY).await;
                Feed::Lost
            }
        }
    }
}

fn parse_change(payload: &str) -> Option<Change> {
    let (kind, key) = payload.split_once(':')?;
    match kind {
        "p" => Some(Change::Profile(key.to_string())),
        "b" => Some(Change::Blackouts),
        "e" => Some(Change::Engagement(key.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip() {
        for day in [0, 1, 20_419, -3] {
            assert_eq!(partition_day(&partition_name(day)), Some(day));
        }
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_of(DAY_MICROS), 1);
    }

    #[test]
    fn payloads_name_the_change() {
        assert_eq!(parse_change("p:acme"), Some(Change::Profile("acme".into())));
        assert_eq!(parse_change("b:"), Some(Change::Blackouts));
        assert_eq!(
            parse_change("e:acme"),
            Some(Change::Engagement("acme".into()))
        );
        assert_eq!(parse_change("x"), None);
    }
}
