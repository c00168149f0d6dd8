//! The decision log's bounded queue and its batching writer. Scoring never
//! waits on it; while the store is unreachable the writer holds its batch
//! and new records wait in the queue (dropped and counted once it is full).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::core::model::DecisionRecord;
use crate::metrics::Metrics;
use crate::store::Store;

/// A bounded queue in front of the store. Scoring never waits on it: when
/// the queue is full the record is dropped and counted.
pub struct DecisionLog {
    tx: mpsc::Sender<DecisionRecord>,
    metrics: Arc<Metrics>,
    capacity: usize,
}

/// The background half of the decision log; `run` ends once the queue is
/// closed and drained.
pub struct DecisionWriter {
    rx: mpsc::Receiver<DecisionRecord>,
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    batch: usize,
}

pub fn decision_log(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    capacity: usize,
) -> (DecisionLog, DecisionWriter) {
    let capacity = capacity.max(1);
    let (tx, rx) = mpsc::channel(capacity);
    (
        DecisionLog {
            tx,
            metrics: metrics.clone(),
            capacity,
        },
        DecisionWriter {
            rx,
            store,
            metrics,
            batch: 256,
        },
    )
}

impl DecisionLog {
    /// Queues a record; false when it was dropped (queue full or closed).
    pub fn submit(&self, record: DecisionRecord) -> bool {
        match self.tx.try_send(record) {
            Ok(()) => {
                Metrics::inc(&self.metrics.decisions_logged);
                true
            }
            Err(_) => {
                Metrics::inc(&self.metrics.decisions_dropped);
                false
            }
        }
    }

    pub fn queue_depth(&self) -> usize {
        self.capacity.saturating_sub(self.tx.capacity())
    }
}

impl DecisionWriter {
    /// Writes batches until `stop` fires, then closes the queue and writes
    /// what was already accepted.
    pub async fn run(mut self, stop: tokio::sync::watch::Receiver<bool>) {
        let mut stop = stop;
        let mut buf = Vec::with_capacity(self.batch);
        // `flush` may have seen the stop while it waited for the store, so
        // the flag is read, not only the change.
        while !*stop.borrow() {
            tokio::select! {
                n = self.rx.recv_many(&mut buf, self.batch) => {
                    if n == 0 {
                        break;
                    }
                    self.flush(&mut buf, &mut stop).await;
                }
                _ = stop.changed() => break,
            }
        }
        // Stopping: one attempt per batch; once the store fails, the rest
        // is counted as lost rather than holding the shutdown.
        self.rx.close();
        let mut store_failed = false;
        while self.rx.recv_many(&mut buf, self.batch).await > 0 {
            if store_failed || !self.write(&buf).await {
                store_failed = true;
                self.lost(buf.len());
            }
            buf.clear();
        }
    }

    /// Writes one batch. While the store is unreachable the batch is held
    /// and retried, so new records wait in the bounded queue (and are
    /// dropped and counted once it is full) until the store is back.
    async fn flush(
        &self,
        buf: &mut Vec<DecisionRecord>,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) {
        let mut delay = WRITE_RETRY_FIRST;
        loop {
            match self.store.append_decisions(buf).await {
                Ok(()) => {
                    Metrics::inc(&self.metrics.decision_log_batches);
                    break;
                }
                Err(e) if e.is_unavailable() && !*stop.borrow() => {
                    tracing::warn!(error = %crate::error::chain(&e), held = buf.len(), "decision log waits for the store");
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => {}
                    }
                    delay = (delay * 2).min(WRITE_RETRY_MAX);
                }
                Err(e) => {
                    tracing::error!(error = %crate::error::chain(&e), lost = buf.len(), "decision log write failed");
                    self.lost(buf.len());
                    break;
                }
            }
        }
        buf.clear();
    }

    async fn write(&self, buf: &[DecisionRecord]) -> bool {
        match self.store.append_decisions(buf).await {
            Ok(()) => {
                Metrics::inc(&self.metrics.decision_log_batches);
                true
            }
            Err(e) => {
                tracing::error!(error = %crate::error::chain(&e), lost = buf.len(), "decision log write failed");
                false
            }
        }
    }

    fn lost(&self, n: usize) {
        self.metrics.decisions_write_failed.inc_by(n as u64);
    }
}

/// First and longest wait between attempts to write a held batch.
const WRITE_RETRY_FIRST: Duration = Duration::from_millis(100);
const WRITE_RETRY_MAX: Duration = Duration::from_secs(2);
