//! The PostgreSQL schema and its migration: the same tables as SQLite's,
//! the decision log partitioned by day, and the triggers that announce
//! writes to the other replicas.

use sqlx::postgres::PgPool;

use crate::store::StoreError;

/// Bumped when the schema changes; a newer database is refused rather than
/// misread by an older binary.
pub(super) const SCHEMA_VERSION: i64 = 1;

/// The advisory lock key under which migrations and partition DDL run, so
/// replicas starting together migrate once ("kairos" in ASCII).
pub(super) const LOCK_KEY: i64 = 0x6b61_6972_6f73;

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

/// One transaction under the advisory lock: replicas that start at once
/// wait for each other, and the first one migrates.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    // Migrations may legitimately take longer than one call's bound.
    let mut tx = pool.begin().await?;
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
