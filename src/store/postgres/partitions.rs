//! The decision log's day partitions: made ahead and on demand under the
//! advisory lock (replicas never race on DDL), dropped whole by retention.

use jiff::Timestamp;

use super::schema::LOCK_KEY;
use super::{PgStore, to_micros};
use crate::store::StoreError;

const DAY_MICROS: i64 = 86_400 * 1_000_000;

impl PgStore {
    /// Today's and tomorrow's decision partitions, made ahead (at start and
    /// with each retention run) so that creating one, which locks the whole
    /// decision log for a moment, does not happen on a busy write.
    pub(super) async fn ensure_current_partitions(&self) -> Result<(), StoreError> {
        let today = day_of(to_micros(Timestamp::now()));
        self.ensure_partitions(&[today, today.saturating_add(1)])
            .await
    }

    /// Creates the day partitions `days` needs that are not known to exist.
    pub(super) async fn ensure_partitions(&self, days: &[i64]) -> Result<(), StoreError> {
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

    pub(super) async fn purge_decisions_now(&self, before: Timestamp) -> Result<u64, StoreError> {
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

pub(super) fn partition_name(day: i64) -> String {
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

pub(super) fn day_of(us: i64) -> i64 {
    us.div_euclid(DAY_MICROS)
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
}
