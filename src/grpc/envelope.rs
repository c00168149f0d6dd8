//! The production envelope: one tower layer around every RPC that decides,
//! before any handler runs, whether the call may run at all.
//!
//! In order, for a `kairos.v1` RPC (health and reflection pass straight
//! through, so probes work under overload and without keys):
//! 1. **Credential**: `authorization: Bearer <key>` must name a known key
//!    (UNAUTHENTICATED) holding the RPC's scope (PERMISSION_DENIED, with an
//!    `ErrorInfo` naming the scope), within its rate (RESOURCE_EXHAUSTED
//!    with `RetryInfo`). Failed authentication is logged, rate-limited.
//! 2. **Deadline**: the caller's `grpc-timeout`, or `--default-timeout` for
//!    unary calls that carry none. A deadline already gone is refused
//!    without starting the work; one that passes mid-call ends the call
//!    with DEADLINE_EXCEEDED, and the handlers stop their own loops at the
//!    same instant through the [`Deadline`] extension.
//! 3. **Admission**: one of `--max-in-flight` permits, taken without
//!    waiting (RESOURCE_EXHAUSTED with `RetryInfo` when none is free) and
//!    held while the handler executes. ScoreStream is admitted item by
//!    item by its handler instead, from the same permits.
//!
//! On the way out, it corrects two codes tonic's codec gives: an oversized
//! message becomes RESOURCE_EXHAUSTED (tonic says OUT_OF_RANGE; the gRPC
//! spec says RESOURCE_EXHAUSTED), and an undecodable message is logged at
//! WARN with method and peer. The error text of health and reflection,
//! which quote the request, is bounded as this crate bounds its own.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use http_body::Frame;
use tokio::time::Instant;
use tonic::body::Body;
use tonic::transport::server::TlsConnectInfo;
use tonic::{Code, Status};
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use super::auth::{Access, Rpc, Shape, bearer, classify};
use super::status::{bound_grpc_message, oversized_limit};
use crate::access::Keys;
use crate::error::Error;
use crate::metrics::{Metrics, Rejection};
use crate::net::{ActivityGuard, PeerInfo};

/// How long a caller refused for overload is told to wait. Short: the
/// permits turn over in milliseconds for Score.
pub const OVERLOAD_RETRY_AFTER: Duration = Duration::from_millis(50);
/// The envelope ends a call this much before the caller's deadline, so the
/// caller receives DEADLINE_EXCEEDED from us rather than tonic's own timer
/// (which would answer CANCELLED at the same instant).
const DEADLINE_MARGIN: Duration = Duration::from_millis(1);
/// Failed authentications logged per second; the rest are counted only.
const AUTH_FAILURE_LOGS_PER_SECOND: u32 = 5;

/// When the call's time is up, for handlers that loop over chunks of work.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

impl Deadline {
    /// `Err(DeadlineExceeded)` once the deadline has passed.
    pub fn check(self) -> Result<(), Error> {
        if Instant::now() >= self.0 {
            Err(Error::DeadlineExceeded)
        } else {
            Ok(())
        }
    }

    /// The deadline a handler finds on its request, if any.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<Deadline> {
        request.extensions().get::<Deadline>().copied()
    }
}

/// The name of the key a call was made with ("" when keys are off), for
/// spans and decision records.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<str>);

impl Caller {
    pub fn of<T>(request: &tonic::Request<T>) -> Arc<str> {
        request
            .extensions()
            .get::<Caller>()
            .map(|c| c.0.clone())
            .unwrap_or_else(|| Arc::from(""))
    }
}

/// The permits every admitted RPC (and every ScoreStream item) holds.
#[derive(Debug, Clone)]
pub struct InFlight {
    taken: Arc<AtomicUsize>,
    max: usize,
}

/// One admitted RPC (or ScoreStream item); its slot is free again when
/// this is dropped.
#[derive(Debug)]
pub struct Permit(Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl InFlight {
    pub fn new(max: usize) -> Self {
        Self {
            taken: Arc::new(AtomicUsize::new(0)),
            max: max.max(1),
        }
    }

    /// A permit now, or the overload error: never a queue. A counter, not
    /// a semaphore: nothing ever waits for a permit, and tokio's semaphore
    /// locks its queue of waiters on every release, which two workers then
    /// contend for on every call.
    pub fn admit(&self) -> Result<Permit, Error> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .map(|_| Permit(self.taken.clone()))
            .map_err(|_| Error::Overloaded {
                in_flight: self.max,
                retry_after: OVERLOAD_RETRY_AFTER,
            })
    }

    pub fn max(&self) -> usize {
        self.max
    }
}

/// Settings and shared state of the envelope.
pub struct EnvelopeConfig {
    pub keys: Arc<Keys>,
    pub in_flight: InFlight,
    pub default_timeout: Duration,
    pub max_request_bytes: usize,
    pub metrics: Arc<Metrics>,
}

struct Shared {
    config: EnvelopeConfig,
    auth_log: DefaultDirectRateLimiter,
    auth_log_suppressed: AtomicU64,
    anonymous: Arc<str>,
}

#[derive(Clone)]
pub struct EnvelopeLayer {
    shared: Arc<Shared>,
}

impl EnvelopeLayer {
    pub fn new(config: EnvelopeConfig) -> Self {
        let per_second = std::num::NonZeroU32::new(AUTH_FAILURE_LOGS_PER_SECOND)
            .unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            shared: Arc::new(Shared {
                config,
                auth_log: RateLimiter::direct(Quota::per_second(per_second)),
                auth_log_suppressed: AtomicU64::new(0),
                anonymous: Arc::from(""),
            }),
        }
    }
}

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Envelope {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Envelope<S> {
    inner: S,
    shared: Arc<Shared>,
}

type Req = http::Request<Body>;
type Resp = http::Response<Body>;

impl<S> Service<Req> for Envelope<S>
where
    S: Service<Req, Response = Resp> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Resp;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Resp, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Req) -> Self::Future {
        // Computed before tonic's timer starts (see DEADLINE_MARGIN).
        let received = Instant::now();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let rpc = classify(req.uri().path());
        let peer = peer_of(req.extensions());
        let activity = peer.as_ref().map(|p| p.activity.begin());
        let remote = peer.and_then(|p| p.remote);
        let shared = self.shared.clone();
        if rpc.access == Access::Open {
            return Box::pin(async move {
                let resp = inner.call(req).await?;
                let resp = shared.correct(resp, &rpc, remote, &shared.anonymous);
                // Health and reflection write their own errors, and quote
                // the request in them: their text is bounded here.
                Ok(hold_until_sent(resp, activity, None, true))
            });
        }
        let admitted = shared.admit(&rpc, &req, remote, received);
        Box::pin(async move {
            let (caller, deadline, permit) = match admitted {
                Ok(a) => a,
                Err((reason, key, e)) => {
                    shared.config.metrics.reject(reason, &key);
                    return Ok(Status::from(e).into_http());
                }
            };
            req.extensions_mut().insert(Caller(caller.clone()));
            if let Some(d) = deadline {
                req.extensions_mut().insert(Deadline(d));
            }
            // The RPC's span, named for tracing backends as the gRPC
            // method (`kairos.v1.ScoringService/Score`); with trace export
            // on, a child of the caller's `traceparent`.
            let span = tracing::debug_span!(
                "call",
                "otel.name" = %req.uri().path().trim_start_matches('/'),
                "otel.kind" = "server",
                method = rpc.method,
                key = %caller,
                peer = ?remote
            );
            if crate::telemetry::exporting() {
                use tracing_opentelemetry::OpenTelemetrySpanExt;
                let _ = span.set_parent(crate::telemetry::parent_from(req.headers()));
            }
            let work = inner.call(req).instrument(span);
            let resp = match deadline {
                None => work.await?,
                Some(d) => match tokio::time::timeout_at(d, work).await {
                    Ok(r) => r?,
                    Err(_) => {
                        shared.config.metrics.reject(Rejection::Deadline, &caller);
                        return Ok(Status::from(Error::DeadlineExceeded).into_http());
                    }
                },
            };
            let resp = shared.correct(resp, &rpc, remote, &caller);
            // The call has executed: its permit goes back now. (Holding it
            // while a big answer is written made a caller that had given
            // up keep a slot for tens of milliseconds.)
            drop(permit);
            Ok(hold_until_sent(resp, activity, deadline, false))
        })
    }
}

type Refusal = (Rejection, Arc<str>, Error);
type Admitted = (Arc<str>, Option<Instant>, Option<Permit>);

impl Shared {
    /// Steps 1-3 of the module doc, without awaiting anything.
    fn admit(
        &self,
        rpc: &Rpc,
        req: &Req,
        remote: Option<SocketAddr>,
        received: Instant,
    ) -> Result<Admitted, Refusal> {
        let caller = self.authenticate(rpc, req, remote)?;
        let deadline = self.deadline(rpc, req, received);
        if let Some(d) = deadline
            && d <= received
        {
            return Err((Rejection::Deadline, caller, Error::DeadlineExceeded));
        }
        let permit = match rpc.shape {
            // Admitted item by item by the handler.
            Shape::Bidirectional => None,
            Shape::Unary | Shape::ClientStreaming => Some(
                self.config
                    .in_flight
                    .admit()
                    .map_err(|e| (Rejection::Overload, caller.clone(), e))?,
            ),
        };
        Ok((caller, deadline, permit))
    }

    fn authenticate(
        &self,
        rpc: &Rpc,
        req: &Req,
        remote: Option<SocketAddr>,
    ) -> Result<Arc<str>, Refusal> {
        let Access::Needs(scope) = rpc.access else {
            return Ok(self.anonymous.clone());
        };
        if self.config.keys.is_open() {
            return Ok(self.anonymous.clone());
        }
        let keys = self.config.keys.get();
        if keys.is_empty() {
            return Ok(self.anonymous.clone());
        }
        let secret = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| bearer(v.as_bytes()));
        let Some(key) = secret.and_then(|s| keys.find(s)) else {
            let why = if secret.is_some() {
                "unknown key"
            } else {
                "no bearer key"
            };
            self.log_auth_failure(rpc, remote, None, why);
            return Err((
                Rejection::Unauthenticated,
                self.anonymous.clone(),
                Error::Unauthenticated,
            ));
        };
        if !key.allows(scope) {
            self.log_auth_failure(rpc, remote, Some(&key.name), "missing scope");
            return Err((
                Rejection::PermissionDenied,
                key.name.clone(),
                Error::PermissionDenied {
                    key: key.name.clone(),
                    scope: scope.name(),
                },
            ));
        }
        key.take_token().map_err(|retry_after| {
            (
                Rejection::RateLimit,
                key.name.clone(),
                Error::RateLimited {
                    key: key.name.clone(),
                    retry_after,
                },
            )
        })?;
        Ok(key.name.clone())
    }

    fn log_auth_failure(
        &self,
        rpc: &Rpc,
        remote: Option<SocketAddr>,
        key: Option<&str>,
        why: &str,
    ) {
        if self.auth_log.check().is_err() {
            self.auth_log_suppressed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let suppressed = self.auth_log_suppressed.swap(0, Ordering::Relaxed);
        tracing::warn!(
            method = rpc.method,
            peer = ?remote,
            key = key.unwrap_or(""),
            why,
            suppressed,
            "authentication failed"
        );
    }

    /// The caller's deadline (less the margin), or the default for calls
    /// that end by themselves; streams without one run until they end.
    fn deadline(&self, rpc: &Rpc, req: &Req, received: Instant) -> Option<Instant> {
        let asked = req
            .headers()
            .get("grpc-timeout")
            .and_then(|v| parse_grpc_timeout(v.as_bytes()));
        let timeout = match (asked, rpc.shape) {
            (Some(t), _) => t,
            (None, Shape::Unary) => self.config.default_timeout,
            (None, _) => return None,
        };
        Some(received + timeout.saturating_sub(DEADLINE_MARGIN))
    }

    /// Fixes the codes of errors tonic's codec answers before a handler
    /// runs (they arrive as trailers-only responses).
    fn correct(
        &self,
        resp: Resp,
        rpc: &Rpc,
        remote: Option<SocketAddr>,
        caller: &Arc<str>,
    ) -> Resp {
        let Some(status) = Status::from_header_map(resp.headers()) else {
            return resp;
        };
        match status.code() {
            Code::OutOfRange if oversized_limit(&status).is_some() => {
                self.config.metrics.reject(Rejection::TooLarge, caller);
                Status::from(Error::MessageTooLarge {
                    limit: self.config.max_request_bytes,
                })
                .into_http()
            }
            Code::Internal if status.message().starts_with("failed to decode") => {
                tracing::warn!(
                    method = rpc.method,
                    peer = ?remote,
                    key = %caller,
                    error = status.message(),
                    "undecodable request"
                );
                resp
            }
            _ => resp,
        }
    }
}

/// The connection's details, under TLS or not.
fn peer_of(ext: &http::Extensions) -> Option<PeerInfo> {
    ext.get::<PeerInfo>()
        .or_else(|| ext.get::<TlsConnectInfo<PeerInfo>>().map(|t| t.get_ref()))
        .cloned()
}

/// `grpc-timeout`: at most 8 digits and a unit (gRPC over HTTP/2).
fn parse_grpc_timeout(v: &[u8]) -> Option<Duration> {
    let (digits, unit) = v.split_at_checked(v.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(match unit {
        b"H" => Duration::from_secs(n.saturating_mul(3600)),
        b"M" => Duration::from_secs(n.saturating_mul(60)),
        b"S" => Duration::from_secs(n),
        b"m" => Duration::from_millis(n),
        b"u" => Duration::from_micros(n),
        b"n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Keeps the connection marked busy until the answer's body has been sent
/// (or dropped). The deadline bounds the sending too: past it the caller
/// has given up, so the rest of the answer is dropped. `bound_errors`: the
/// answer was written by a service other than ours (health, reflection),
/// whose error text is bounded here, in the headers of a trailers-only
/// answer and in the trailers.
fn hold_until_sent(
    resp: Resp,
    activity: Option<ActivityGuard>,
    deadline: Option<Instant>,
    bound_errors: bool,
) -> Resp {
    if activity.is_none() && deadline.is_none() && !bound_errors {
        return resp;
    }
    let (mut parts, inner) = resp.into_parts();
    if bound_errors {
        bound_grpc_message(&mut parts.headers);
    }
    let body = Body::new(Held {
        inner,
        _activity: activity,
        deadline,
        timer: None,
        bound_errors,
    });
    Resp::from_parts(parts, body)
}

struct Held {
    inner: Body,
    _activity: Option<ActivityGuard>,
    deadline: Option<Instant>,
    /// Wakes the body at the deadline while it waits on `inner`; made the
    /// first time it does. An answer that is ready when asked for (every
    /// unary answer) is checked against the clock instead: registering a
    /// timer and removing it again cost about 0.8 µs of a 17 µs Score
    /// (BENCHMARKS.md).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    bound_errors: bool,
}

impl Held {
    /// Whether the deadline has passed; the answer is then dropped.
    fn expired(&mut self) -> bool {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.deadline = None;
            self.timer = None;
            return true;
        }
        false
    }
}

impl http_body::Body for Held {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let expired = || Poll::Ready(Some(Err(Status::from(Error::DeadlineExceeded))));
        if self.expired() {
            return expired();
        }
        let bound_errors = self.bound_errors;
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(mut frame))) if bound_errors => {
                if let Some(trailers) = frame.trailers_mut() {
                    bound_grpc_message(trailers);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if let Some(d) = self.deadline {
                    let timer = self
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(d)));
                    if timer.as_mut().poll(cx).is_ready() {
                        self.deadline = None;
                        self.timer = None;
                        return expired();
                    }
                }
                Poll::Pending
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout(b"20m"), Some(Duration::from_millis(20)));
        assert_eq!(parse_grpc_timeout(b"1S"), Some(Duration::from_secs(1)));
        assert_eq!(parse_grpc_timeout(b"2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout(b"0n"), Some(Duration::ZERO));
        assert_eq!(parse_grpc_timeout(b"123456789S"), None);
        assert_eq!(parse_grpc_timeout(b"m"), None);
        assert_eq!(parse_grpc_timeout(b""), None);
        assert_eq!(parse_grpc_timeout(b"5x"), None);
    }
}
