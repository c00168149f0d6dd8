//! Retention: engagements and decisions older than their windows are
//! deleted hourly.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::EngagementIndex;
use crate::metrics::Metrics;
use crate::store::Store;

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
                metrics.retention_deleted.inc_by(n);
                engagements.clear();
                tracing::info!(deleted = n, "engagement retention");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "engagement retention failed"),
        }
        match store.purge_decisions(cut(decision_retention)).await {
            Ok(n) if n > 0 => {
                metrics.retention_deleted.inc_by(n);
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
    use crate::core::model::{DecisionRecord, Engagement};
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
        assert_eq!(metrics.retention_deleted.get(), 2);
    }
}
