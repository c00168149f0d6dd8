//! Prometheus metrics with `prometheus-client`, served over HTTP/1.1 with
//! hyper on `--metrics-listen`. Counters are plain atomics bumped where
//! things happen; the registry is built once and encoded on each scrape
//! (OpenMetrics text, which Prometheus reads).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::core::model::{Decision, EngagementMode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

/// RPC latency buckets: 50 µs doubling to about 1.6 s, then +Inf.
const RPC_BUCKET_START: f64 = 0.000_05;
const RPC_BUCKETS: u16 = 16;
/// Store call buckets: 20 µs doubling to about 5 s, then +Inf.
const STORE_BUCKET_START: f64 = 0.000_02;
const STORE_BUCKETS: u16 = 18;

/// `method` (e.g. `Score`) and `code` (the gRPC code name, e.g. `OK`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    pub method: &'static str,
    pub code: &'static str,
}

/// `decision` and `mode` of an assessment, in the contract's enum names.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub decision: &'static str,
    pub mode: &'static str,
}

/// `op`: the store call (`get_profile`, `append_decisions`, …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StoreLabels {
    pub op: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    reason: &'static str,
    key: String,
}

pub struct Metrics {
    pub assessments: Counter,
    pub event_analyses: Counter,
    pub event_analyses_reused: Counter,
    pub decisions_logged: Counter,
    pub decisions_dropped: Counter,
    pub decisions_write_failed: Counter,
    pub decision_log_batches: Counter,
    pub engagements_recorded: Counter,
    pub retention_deleted: Counter,
    pub connections_refused: Counter,
    pub profile_cache_hits: Counter,
    pub profile_cache_misses: Counter,
    pub profile_cache_evictions: Counter,
    cache_entries: Gauge,
    queue_depth: Gauge,
    rpc_duration: Family<RpcLabels, Histogram>,
    store_duration: Family<StoreLabels, Histogram>,
    decisions: Family<DecisionLabels, Counter>,
    /// The `decisions` counter of each (decision, mode), taken from the
    /// family on first use: a family lookup hashes the labels under a lock
    /// that every worker takes on every assessment.
    decision_counters: [OnceLock<Counter>; DECISIONS * MODES],
    /// `rpc_duration` of Score, ScoreBatch, ScoreStream and RankBrands
    /// with code OK, taken from the family on first use.
    scoring_ok: [OnceLock<Histogram>; 4],
    /// RPCs refused before a handler ran, by reason and key name.
    rejections: Family<RejectLabels, Counter>,
    /// The same, by reason only (`rejected`).
    rejected_by_reason: [Counter; 6],
    registry: Registry,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
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

    fn index(self) -> usize {
        self as usize
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let m = Self {
            assessments: Counter::default(),
            event_analyses: Counter::default(),
            event_analyses_reused: Counter::default(),
            decisions_logged: Counter::default(),
            decisions_dropped: Counter::default(),
            decisions_write_failed: Counter::default(),
            decision_log_batches: Counter::default(),
            engagements_recorded: Counter::default(),
            retention_deleted: Counter::default(),
            connections_refused: Counter::default(),
            profile_cache_hits: Counter::default(),
            profile_cache_misses: Counter::default(),
            profile_cache_evictions: Counter::default(),
            cache_entries: Gauge::default(),
            queue_depth: Gauge::default(),
            rpc_duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(RPC_BUCKET_START, 2.0, RPC_BUCKETS))
            }),
            store_duration: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(STORE_BUCKET_START, 2.0, STORE_BUCKETS))
            }),
            decisions: Family::default(),
            decision_counters: Default::default(),
            scoring_ok: Default::default(),
            rejections: Family::default(),
            rejected_by_reason: Default::default(),
            registry: Registry::default(),
        };
        m.register()
    }

    /// Every series, under the names the README lists (counters get their
    /// `_total` suffix from the encoder).
    fn register(mut self) -> Self {
        let r = &mut self.registry;
        let counters: [(&str, &str, &Counter); 13] = [
            (
                "kairos_assessments",
                "assessments computed",
                &self.assessments,
            ),
            (
                "kairos_event_analyses",
                "events analysed by Score and ScoreStream (analysis cache misses)",
                &self.event_analyses,
            ),
            (
                "kairos_event_analyses_reused",
                "Score and ScoreStream items served a cached analysis of the same event",
                &self.event_analyses_reused,
            ),
            (
                "kairos_decision_log_accepted",
                "assessments accepted into the decision-log queue",
                &self.decisions_logged,
            ),
            (
                "kairos_decision_log_dropped",
                "assessments not logged because the queue was full",
                &self.decisions_dropped,
            ),
            (
                "kairos_decision_log_write_failed",
                "accepted assessments lost to a store write error",
                &self.decisions_write_failed,
            ),
            (
                "kairos_decision_log_batches",
                "batches written to the decision log",
                &self.decision_log_batches,
            ),
            (
                "kairos_engagements_recorded",
                "engagements recorded",
                &self.engagements_recorded,
            ),
            (
                "kairos_retention_deleted",
                "engagements and decisions deleted by retention",
                &self.retention_deleted,
            ),
            (
                "kairos_connections_refused",
                "connections closed at accept because --max-connections were open",
                &self.connections_refused,
            ),
            (
                "kairos_profile_cache_hits",
                "compiled profiles served from the cache",
                &self.profile_cache_hits,
            ),
            (
                "kairos_profile_cache_misses",
                "compiled profiles loaded from the store and compiled",
                &self.profile_cache_misses,
            ),
            (
                "kairos_profile_cache_evictions",
                "compiled profiles evicted by the cache's capacity",
                &self.profile_cache_evictions,
            ),
        ];
        for (name, help, c) in counters {
            r.register(name, help, c.clone());
        }
        r.register(
            "kairos_profile_cache_entries",
            "compiled profiles cached",
            self.cache_entries.clone(),
        );
        r.register(
            "kairos_decision_log_queue_depth",
            "assessments waiting to be written",
            self.queue_depth.clone(),
        );
        r.register(
            "kairos_rpc_duration_seconds",
            "time from a kairos.v1 RPC's start to its answer, by method and gRPC code",
            self.rpc_duration.clone(),
        );
        r.register(
            "kairos_store_operation_duration_seconds",
            "time of each call to the store, by operation",
            self.store_duration.clone(),
        );
        r.register(
            "kairos_decisions",
            "assessments answered, by decision and recommended mode",
            self.decisions.clone(),
        );
        r.register(
            "kairos_rpc_rejected",
            "RPCs refused before their handler ran, by reason and key name",
            self.rejections.clone(),
        );
        self
    }

    pub fn inc(counter: &Counter) {
        counter.inc();
    }

    /// One answered RPC.
    pub fn rpc(&self, method: &'static str, code: tonic::Code, took: Duration) {
        let labels = || RpcLabels {
            method,
            code: crate::grpc::status::code_name(code),
        };
        // The scoring calls that succeed, the hot path, use a handle taken
        // once (see `decision_counters`).
        let slot = match (method, code) {
            ("Score", tonic::Code::Ok) => self.scoring_ok.first(),
            ("ScoreBatch", tonic::Code::Ok) => self.scoring_ok.get(1),
            ("ScoreStream", tonic::Code::Ok) => self.scoring_ok.get(2),
            ("RankBrands", tonic::Code::Ok) => self.scoring_ok.get(3),
            _ => None,
        };
        let seconds = took.as_secs_f64();
        match slot {
            Some(slot) => slot
                .get_or_init(|| self.rpc_duration.get_or_create(&labels()).clone())
                .observe(seconds),
            None => self.rpc_duration.get_or_create(&labels()).observe(seconds),
        }
    }

    /// One store call.
    pub fn store_op(&self, op: &'static str, took: Duration) {
        self.store_duration
            .get_or_create(&StoreLabels { op })
            .observe(took.as_secs_f64());
    }

    /// One assessment answered.
    pub fn decided(&self, decision: Decision, mode: EngagementMode) {
        let labels = || DecisionLabels {
            decision: decision_label(decision),
            mode: mode_label(mode),
        };
        let (d, m) = (decision as usize, mode as usize);
        // A variant added beyond the table is counted through the family.
        let slot = (d < DECISIONS && m < MODES)
            .then(|| self.decision_counters.get(d * MODES + m))
            .flatten();
        match slot {
            Some(slot) => slot
                .get_or_init(|| self.decisions.get_or_create(&labels()).clone())
                .inc(),
            None => self.decisions.get_or_create(&labels()).inc(),
        };
    }

    /// Counts one refused RPC. `key` is the key's configured name (never
    /// the secret), or "" when the caller presented no known key; the label
    /// set is bounded by the keys file.
    pub fn reject(&self, reason: Rejection, key: &Arc<str>) {
        self.rejections
            .get_or_create(&RejectLabels {
                reason: reason.label(),
                key: key.to_string(),
            })
            .inc();
        if let Some(c) = self.rejected_by_reason.get(reason.index()) {
            c.inc();
        }
    }

    /// How many RPCs were refused for `reason`, over every key.
    pub fn rejected(&self, reason: Rejection) -> u64 {
        self.rejected_by_reason
            .get(reason.index())
            .map_or(0, Counter::get)
    }

    /// The exposition, with the gauges read now.
    pub fn render(&self, cache_entries: u64, queue_depth: usize) -> String {
        self.cache_entries
            .set(i64::try_from(cache_entries).unwrap_or(i64::MAX));
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics not encoded");
        }
        out
    }
}

/// Serves `render()` on every HTTP request to `listener` (HTTP/1.1, any
/// path) until `stop`.
pub async fn serve(
    listener: TcpListener,
    render: Arc<dyn Fn() -> String + Send + Sync>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    loop {
        let mut stop = stop.clone();
        let conn = tokio::select! {
            c = listener.accept() => c,
            _ = stop.changed() => return,
        };
        let Ok((sock, _)) = conn else { continue };
        let render = render.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let body = render();
                async move {
                    http::Response::builder()
                        .header(
                            http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )
                        .body(Full::new(bytes::Bytes::from(body)))
                }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                // One scrape a connection, closed after the answer.
                .keep_alive(false)
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(sock), service);
            // A scraper that stalls is dropped rather than held.
            let _ = tokio::time::timeout(Duration::from_secs(30), served).await;
        });
    }
}

pub fn local_addr(l: &TcpListener) -> Option<SocketAddr> {
    l.local_addr().ok()
}

/// Variants of `Decision` and of `EngagementMode`.
const DECISIONS: usize = 4;
const MODES: usize = 5;

/// The `decision` label: the contract's name without its prefix.
fn decision_label(d: Decision) -> &'static str {
    match d {
        Decision::Engage => "ENGAGE",
        Decision::Review => "REVIEW",
        Decision::Listen => "LISTEN",
        Decision::Decline => "DECLINE",
    }
}

/// The `mode` label: the contract's name without its prefix.
fn mode_label(m: EngagementMode) -> &'static str {
    match m {
        EngagementMode::None => "NONE",
        EngagementMode::CustomerCare => "CUSTOMER_CARE",
        EngagementMode::Reply => "REPLY",
        EngagementMode::JoinConversation => "JOIN_CONVERSATION",
        EngagementMode::Newsjack => "NEWSJACK",
    }
}
