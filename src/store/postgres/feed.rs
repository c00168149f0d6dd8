//! The change feed: `LISTEN` on the triggers' channel through one pooled
//! connection, turned into [`Change`]s for the follower.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgPool};

use crate::store::{Change, ChangeFeed, Feed};

/// The notification channel of the change triggers.
pub const CHANNEL: &str = "kairos_changes";

/// After a failed attempt to reach the server, the feed waits this long.
const FEED_RETRY: Duration = Duration::from_millis(500);

/// LISTEN on [`CHANNEL`] through one pooled connection, reconnecting as
/// needed. A reconnect is reported as `Resumed`: what was announced while
/// the connection was down is gone, so the replica re-checks its state.
pub struct PgFeed {
    pub(super) pool: PgPool,
    pub(super) listener: Option<PgListener>,
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
