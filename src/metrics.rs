//! Prometheus counters and a minimal text endpoint. Hand-rolled (a few
//! atomics and one HTTP/1.1 response) rather than a metrics stack: the
//! service exposes a handful of counters and must not pay for more.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
pub struct Metrics {
    pub assessments: AtomicU64,
    pub event_analyses: AtomicU64,
    pub event_analyses_reused: AtomicU64,
    pub decisions_logged: AtomicU64,
    pub decisions_dropped: AtomicU64,
    pub decisions_write_failed: AtomicU64,
    pub decision_log_batches: AtomicU64,
    pub engagements_recorded: AtomicU64,
    pub retention_deleted: AtomicU64,
    pub connections_refused: AtomicU64,
    /// RPCs refused before a handler ran, by (reason, key name).
    rejections: Mutex<BTreeMap<(Rejection, Arc<str>), u64>>,
}

/// Why the envelope refused an RPC (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    Unauthenticated,
    PermissionDenied,
    RateLimit,
    Overload,
    Deadline,
    TooLarge,
}

impl Rejection {
    fn label(self) -> &'static str {
        match self {
            Rejection::Unauthenticated => "unauthenticated",
            Rejection::PermissionDenied => "permission_denied",
            Rejection::RateLimit => "rate_limit",
            Rejection::Overload => "overload",
            Rejection::Deadline => "deadline",
            Rejection::TooLarge => "too_large",
        }
    }
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one refused RPC. `key` is the key's configured name (never
    /// the secret), or "" when the caller presented no known key; the label
    /// set is bounded by the keys file.
    pub fn reject(&self, reason: Rejection, key: &Arc<str>) {
        let mut map = match self.rejections.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *map.entry((reason, key.clone())).or_insert(0) += 1;
    }

    /// How many RPCs were refused for `reason`, over every key.
    pub fn rejected(&self, reason: Rejection) -> u64 {
        let map = match self.rejections.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.iter()
            .filter(|((r, _), _)| *r == reason)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn render(&self, cache_entries: u64, queue_depth: usize) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 10] = [
            (
                "kairos_assessments_total",
                "assessments computed",
                &self.assessments,
            ),
            (
                "kairos_event_analyses_total",
                "events analysed by Score and ScoreStream (analysis cache misses)",
                &self.event_analyses,
            ),
            (
                "kairos_event_analyses_reused_total",
                "Score and ScoreStream items served a cached analysis of the same event",
                &self.event_analyses_reused,
            ),
            (
                "kairos_decision_log_accepted_total",
                "assessments accepted into the decision-log queue",
                &self.decisions_logged,
            ),
            (
                "kairos_decision_log_dropped_total",
                "assessments not logged because the queue was full",
                &self.decisions_dropped,
            ),
            (
                "kairos_decision_log_write_failed_total",
                "accepted assessments lost to a store write error",
                &self.decisions_write_failed,
            ),
            (
                "kairos_decision_log_batches_total",
                "batches written to the decision log",
                &self.decision_log_batches,
            ),
            (
                "kairos_engagements_recorded_total",
                "engagements recorded",
                &self.engagements_recorded,
            ),
            (
                "kairos_retention_deleted_total",
                "engagements and decisions deleted by retention",
                &self.retention_deleted,
            ),
            (
                "kairos_connections_refused_total",
                "connections closed at accept because --max-connections were open",
                &self.connections_refused,
            ),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", c.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP kairos_rpc_rejected_total RPCs refused before their handler ran, by reason and key name\n# TYPE kairos_rpc_rejected_total counter"
        );
        {
            let map = match self.rejections.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            for ((reason, key), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "kairos_rpc_rejected_total{{reason=\"{}\",key=\"{key}\"}} {n}",
                    reason.label()
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP kairos_profile_cache_entries compiled profiles cached\n# TYPE kairos_profile_cache_entries gauge\nkairos_profile_cache_entries {cache_entries}"
        );
        let _ = writeln!(
            out,
            "# HELP kairos_decision_log_queue_depth assessments waiting to be written\n# TYPE kairos_decision_log_queue_depth gauge\nkairos_decision_log_queue_depth {queue_depth}"
        );
        out
    }
}

/// Serves `render()` on every HTTP request to `listener` until `stop`.
pub async fn serve(
    listener: TcpListener,
    render: Arc<dyn Fn() -> String + Send + Sync>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let mut stop = stop.clone();
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.changed() => return,
        };
        let Ok((mut sock, _)) = conn else { continue };
        let render = render.clone();
        tokio::spawn(async move {
            // Read (and ignore) the request head; every path answers metrics.
            let mut buf = [0u8; 2048];
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(2), sock.read(&mut buf)).await;
            let body = render();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(body.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}

pub fn local_addr(l: &TcpListener) -> Option<SocketAddr> {
    l.local_addr().ok()
}
