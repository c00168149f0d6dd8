//! `kairos.v1.ScoringService`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use jiff::Timestamp;
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::convert::{View, assessment_out, event_from, event_in, timestamp_in, view_in};
use super::envelope::{Caller, Deadline, InFlight};
use super::observe;
use super::pb;
use super::pb::scoring_service_server::ScoringService;
use super::status::{item_error, oversized_limit};
use crate::candidates::CandidateIndex;
use crate::core::candidates::event_probe;
use crate::core::model::{Blackout, EngagementCounts, Event};
use crate::core::validate::{validate_brand_id, validate_event_time};
use crate::core::{CompiledProfile, analyse, analyse_owned};
use crate::error::Error;
use crate::metrics::Rejection;
use crate::scoring::{Scored, Scorer};
use crate::store::Store;

/// Most (event, brand) pairs in one ScoreBatch call. A response this size
/// can pass 4 MiB: callers raise their client's decode limit for big batches.
pub const MAX_BATCH_PAIRS: usize = 10_000;
pub const MAX_BATCH_EVENTS: usize = 1_000;
pub const MAX_BATCH_BRANDS: usize = 1_000;
pub const MAX_RANK_BRANDS: usize = 10_000;
pub const DEFAULT_K: usize = 10;
pub const MAX_K: usize = 1_000;
/// Batches with more pairs than this are scored on the blocking pool, so a
/// big batch never stalls the reactor that serves other RPCs.
pub const INLINE_PAIRS: usize = 64;
/// In-flight responses per ScoreStream: a slow reader stops the server from
/// reading further requests instead of growing a queue.
const STREAM_BUFFER: usize = 64;
/// Items of one ScoreStream being scored at the same time.
const STREAM_WINDOW: usize = 32;

enum StreamJob {
    Scoring(tokio::task::JoinHandle<pb::ScoreStreamResponse>),
    Failed(Status),
}
const RANK_PAGE: usize = 500;
/// Pairs assessed between two looks at the deadline: about a millisecond
/// of work, so an expired batch stops within a millisecond or so.
const DEADLINE_CHECK_PAIRS: usize = 256;
/// Events whose encoding is larger than this are analysed on the blocking
/// pool: analysis is linear in the event's bytes, and a reactor thread
/// must not be held for long by one request.
const OFFLOAD_EVENT_BYTES: usize = 16 * 1024;
/// Longest `request_id`: it is stored with every logged decision and
/// echoed in every answer.
pub const MAX_REQUEST_ID_LEN: usize = 128;

pub struct ScoringApi {
    scorer: Arc<Scorer>,
    store: Arc<dyn Store>,
    in_flight: InFlight,
    index: Arc<CandidateIndex>,
}

impl ScoringApi {
    pub fn new(
        scorer: Arc<Scorer>,
        store: Arc<dyn Store>,
        in_flight: InFlight,
        index: Arc<CandidateIndex>,
    ) -> Self {
        Self {
            scorer,
            store,
            in_flight,
            index,
        }
    }
}

fn check_request_id(request_id: &str) -> Result<(), Error> {
    if request_id.len() > MAX_REQUEST_ID_LEN {
        return Err(Error::invalid(
            "request_id",
            format!(
                "must be at most {MAX_REQUEST_ID_LEN} bytes, got {}",
                request_id.len()
            ),
        ));
    }
    Ok(())
}

/// Stops a loop whose call has run out of time.
fn check_deadline(deadline: Option<Deadline>) -> Result<(), Error> {
    deadline.map_or(Ok(()), Deadline::check)
}

fn digest(event: &pb::Event) -> String {
    digest_of(&event.encode_to_vec())
}

/// Hex SHA-256 of an event's encoding: what the decision log keeps instead
/// of the event's text.
fn digest_of(encoded: &[u8]) -> String {
    Sha256::digest(encoded)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_or(t: Option<&prost_types::Timestamp>) -> Result<Timestamp, Error> {
    Ok(match t {
        Some(t) => timestamp_in(t, "now")?,
        None => Timestamp::now(),
    })
}

fn event_or(e: Option<&pb::Event>, field: &str) -> Result<Event, Error> {
    let e = e.ok_or_else(|| Error::invalid(field, "must be set"))?;
    Ok(event_in(e).map_err(|v| v.within(field))?)
}

fn scored_out(s: Scored, request_id: &str, view: View) -> pb::Assessment {
    let mut a = assessment_out(s.assessment, s.decision_id, request_id.to_string(), view);
    a.decision_logged = s.logged;
    a
}

/// One request-shaped input (Score and ScoreStream share it).
struct ScoreInput {
    request_id: String,
    event: Option<pb::Event>,
    brand_id: String,
    now: Option<prost_types::Timestamp>,
    log: bool,
    view: i32,
}

async fn score_request(
    scorer: &Arc<Scorer>,
    input: ScoreInput,
    caller: &str,
) -> Result<pb::Assessment, Error> {
    check_request_id(&input.request_id)?;
    validate_brand_id(&input.brand_id, "brand_id")?;
    let view = view_in(input.view, "view")?;
    let now = now_or(input.now.as_ref())?;
    let event = input
        .event
        .ok_or_else(|| Error::invalid("event", "must be set"))?;
    // The encoding keys the analysis cache and is what the log digests;
    // with neither, it is not made.
    let encoded = if scorer.analyses.caches() || scorer.should_log(input.log) {
        event.encode_to_vec()
    } else {
        Vec::new()
    };
    let analyse = |scorer: &Scorer, encoded: &[u8], event: pb::Event| {
        scorer.analysis(encoded, move || {
            event_from(event).map_err(|v| Error::from(v.within("event")))
        })
    };
    let (analysed, encoded) = if event.encoded_len() > OFFLOAD_EVENT_BYTES {
        let scorer = scorer.clone();
        tokio::task::spawn_blocking(move || {
            let analysed = analyse(&scorer, &encoded, event);
            (analysed, encoded)
        })
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?
    } else {
        (analyse(scorer, &encoded, event), encoded)
    };
    let analysed = analysed?;
    validate_event_time(&analysed.event, now).map_err(|v| Error::from(v.within("event")))?;
    let assessment = scorer
        .assess_one(&analysed.event, &analysed, &input.brand_id, now)
        .await?;
    let scored = scorer.finish(assessment, &input.request_id, caller, input.log, || {
        digest_of(&encoded)
    });
    Ok(scored_out(scored, &input.request_id, view))
}

/// Everything a batch needs after its I/O (profiles, counts), owned so it
/// can move to the blocking pool. Each pair is assessed, given its id and
/// turned into its wire result in one step, so the assessment's memory is
/// reused while still in cache and the conversion stays off the reactor.
struct BatchWork {
    /// Per event: the event, or the wire error its pairs carry.
    events: Vec<Result<Event, pb::ItemError>>,
    event_ids: Vec<String>,
    /// Per brand: its compiled profile, or the wire error its pairs carry.
    profiles: Vec<Result<Arc<CompiledProfile>, pb::ItemError>>,
    brand_ids: Vec<String>,
    counts: Vec<EngagementCounts>,
    blackouts: Vec<Blackout>,
    now: Timestamp,
    log: bool,
    view: View,
    /// One per event when the batch is logged, else empty.
    digests: Vec<String>,
    caller: Arc<str>,
    deadline: Option<Deadline>,
}

impl BatchWork {
    /// Results in event-major order: all brands of event 0, then event 1.
    /// Each event is analysed once, here rather than on the reactor.
    /// Stops with DEADLINE_EXCEEDED once the call's deadline has passed.
    fn run(&self, scorer: &Scorer) -> Result<Vec<pb::PairResult>, Error> {
        let nb = self.profiles.len();
        let mut out = Vec::with_capacity(self.events.len() * nb);
        for (ei, event) in self.events.iter().enumerate() {
            check_deadline(self.deadline)?;
            let event = event.as_ref().map(analyse);
            for (bi, profile) in self.profiles.iter().enumerate() {
                if bi % DEADLINE_CHECK_PAIRS == DEADLINE_CHECK_PAIRS - 1 {
                    check_deadline(self.deadline)?;
                }
                let result = match (&event, profile) {
                    (Err(err), _) => pb::pair_result::Result::Error((*err).clone()),
                    (_, Err(err)) => pb::pair_result::Result::Error(err.clone()),
                    (Ok(a), Ok(p)) => {
                        let assessment = scorer.assess(
                            a,
                            p,
                            &self.blackouts,
                            self.counts[ei * nb + bi],
                            self.now,
                        );
                        let scored = scorer.finish(assessment, "", &self.caller, self.log, || {
                            self.digests.get(ei).cloned().unwrap_or_default()
                        });
                        let mut a = scored_out(scored, "", self.view);
                        if self.view == View::Compact {
                            // The pair result names them once.
                            a.event_id.clear();
                            a.brand_id.clear();
                        }
                        pb::pair_result::Result::Assessment(a)
                    }
                };
                out.push(pb::PairResult {
                    event_id: self.event_ids[ei].clone(),
                    brand_id: self.brand_ids[bi].clone(),
                    result: Some(result),
                });
            }
        }
        Ok(out)
    }
}

#[tonic::async_trait]
impl ScoringService for ScoringApi {
    async fn score(
        &self,
        request: Request<pb::ScoreRequest>,
    ) -> Result<Response<pb::ScoreResponse>, Status> {
        let caller = Caller::of(&request);
        let req = request.into_inner();
        let brand = req.brand_id.clone();
        // Boxed once here: the work's future (about 2.8 KB) is otherwise
        // copied into each wrapper around it, and the wrappers into the
        // box tonic makes, on every call.
        let work = Box::pin(score_request(
            &self.scorer,
            ScoreInput {
                request_id: req.request_id,
                event: req.event,
                brand_id: req.brand_id,
                now: req.now,
                log: req.log_decision,
                view: req.view,
            },
            &caller,
        ));
        observe(&self.scorer.metrics, "Score", &brand, async {
            let assessment = work.await?;
            Ok(pb::ScoreResponse {
                assessment: Some(assessment),
            })
        })
        .await
    }

    async fn score_batch(
        &self,
        request: Request<pb::ScoreBatchRequest>,
    ) -> Result<Response<pb::ScoreBatchResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = Deadline::of(&request);
        let req = request.into_inner();
        observe(&self.scorer.metrics, "ScoreBatch", "", async {
            let (ne, nb) = (req.events.len(), req.brand_ids.len());
            if ne > MAX_BATCH_EVENTS {
                return Err(Error::invalid(
                    "events",
                    format!("at most {MAX_BATCH_EVENTS} events per call, got {ne}"),
                ));
            }
            if nb > MAX_BATCH_BRANDS {
                return Err(Error::invalid(
                    "brand_ids",
                    format!("at most {MAX_BATCH_BRANDS} brands per call, got {nb}"),
                ));
            }
            if ne * nb > MAX_BATCH_PAIRS {
                return Err(Error::invalid(
                    "events",
                    format!(
                        "at most {MAX_BATCH_PAIRS} pairs (events x brand_ids) per call, got {}",
                        ne * nb
                    ),
                ));
            }
            let view = view_in(req.view, "view")?;
            let now = now_or(req.now.as_ref())?;
            // Per-event and per-brand problems become per-pair errors.
            // Each is mapped to its wire error once and copied to its pairs.
            let mut events: Vec<Result<Event, pb::ItemError>> = Vec::with_capacity(ne);
            for (i, e) in req.events.iter().enumerate() {
                events.push(
                    event_in(e)
                        .and_then(|e| validate_event_time(&e, now).map(|()| e))
                        .map_err(|v| item_error(Error::from(v.within(&format!("events[{i}]"))))),
                );
            }
            let mut profiles: Vec<Result<Arc<CompiledProfile>, pb::ItemError>> =
                Vec::with_capacity(nb);
            for (i, id) in req.brand_ids.iter().enumerate() {
                let p = match validate_brand_id(id, &format!("brand_ids[{i}]")) {
                    Ok(()) => self.scorer.profile(id).await,
                    Err(v) => Err(v.into()),
                };
                profiles.push(p.map_err(item_error));
            }
            let mut counts = Vec::with_capacity(ne * nb);
            for e in &events {
                for p in &profiles {
                    counts.push(match (e, p) {
                        (Ok(e), Ok(p)) => self.scorer.counts(p, e, now).await?,
                        _ => EngagementCounts::default(),
                    });
                    // Counts of cached brands never wait, so this loop would
                    // hold the reactor thread for all 10,000 pairs: give it
                    // back now and then, and stop once the deadline passed.
                    if counts.len() % DEADLINE_CHECK_PAIRS == 0 {
                        check_deadline(deadline)?;
                        tokio::task::yield_now().await;
                    }
                }
            }
            // One digest per event, and only when something is logged.
            let digests: Vec<String> = if self.scorer.should_log(req.log_decision) {
                req.events.iter().map(digest).collect()
            } else {
                Vec::new()
            };
            let work = BatchWork {
                events,
                event_ids: req.events.iter().map(|e| e.id.clone()).collect(),
                profiles,
                brand_ids: req.brand_ids,
                counts,
                blackouts: self.scorer.active_blackouts(now),
                now,
                log: req.log_decision,
                view,
                digests,
                caller,
                deadline,
            };
            check_deadline(deadline)?;
            // Events are analysed inside `run`: big ones keep it off the
            // reactor as much as many pairs do.
            let event_bytes: usize = req.events.iter().map(Message::encoded_len).sum();
            let results = if ne * nb > INLINE_PAIRS || event_bytes > OFFLOAD_EVENT_BYTES {
                let scorer = self.scorer.clone();
                tokio::task::spawn_blocking(move || work.run(&scorer))
                    .await
                    .map_err(|e| Error::Internal(Box::new(e)))??
            } else {
                work.run(&self.scorer)?
            };
            Ok(pb::ScoreBatchResponse { results })
        })
        .await
    }

    type ScoreStreamStream = ReceiverStream<Result<pb::ScoreStreamResponse, Status>>;

    async fn score_stream(
        &self,
        request: Request<Streaming<pb::ScoreStreamRequest>>,
    ) -> Result<Response<Self::ScoreStreamStream>, Status> {
        let caller = Caller::of(&request);
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        // Items are scored concurrently (up to STREAM_WINDOW at once, on
        // any worker thread) but answered in arrival order: the reader
        // queues each item's task, the writer awaits them in turn. Both
        // queues are bounded, so a slow reader of responses stops the
        // server from reading requests instead of growing memory.
        let (jobs_tx, mut jobs_rx) = mpsc::channel::<StreamJob>(STREAM_WINDOW);
        let scorer = self.scorer.clone();
        let in_flight = self.in_flight.clone();
        let metrics = self.scorer.metrics.clone();
        tokio::spawn(async move {
            while let Some(item) = inbound.next().await {
                let job = match item {
                    Ok(item) => {
                        let arrived = std::time::Instant::now();
                        let scorer = scorer.clone();
                        let metrics = metrics.clone();
                        let caller = caller.clone();
                        // Each item is admitted like an RPC of its own:
                        // over the bound, it is answered RESOURCE_EXHAUSTED
                        // at once and the stream goes on.
                        let permit = in_flight.admit();
                        if permit.is_err() {
                            metrics.reject(Rejection::Overload, &caller);
                        }
                        StreamJob::Scoring(tokio::spawn(async move {
                            let request_id = item.request_id.clone();
                            let scored = match permit {
                                Ok(_permit) => {
                                    score_request(
                                        &scorer,
                                        ScoreInput {
                                            request_id: item.request_id,
                                            event: item.event,
                                            brand_id: item.brand_id,
                                            now: item.now,
                                            log: item.log_decision,
                                            view: item.view,
                                        },
                                        &caller,
                                    )
                                    .await
                                }
                                Err(overloaded) => Err(overloaded),
                            };
                            let result = match scored {
                                Ok(a) => pb::score_stream_response::Result::Assessment(a),
                                Err(e) => pb::score_stream_response::Result::Error(item_error(e)),
                            };
                            // Each item is observed as a call of its own:
                            // a stream's whole length says nothing.
                            let code = match &result {
                                pb::score_stream_response::Result::Error(e) => {
                                    tonic::Code::from_i32(e.code)
                                }
                                _ => tonic::Code::Ok,
                            };
                            metrics.rpc("ScoreStream", code, arrived.elapsed());
                            pb::ScoreStreamResponse {
                                request_id,
                                result: Some(result),
                            }
                        }))
                    }
                    // The client went away or sent garbage: end the stream.
                    Err(status) => StreamJob::Failed(oversized_as_exhausted(status)),
                };
                let failed = matches!(job, StreamJob::Failed(_));
                if jobs_tx.send(job).await.is_err() || failed {
                    break;
                }
            }
        });
        tokio::spawn(async move {
            while let Some(job) = jobs_rx.recv().await {
                let out = match job {
                    StreamJob::Scoring(handle) => match handle.await {
                        Ok(resp) => Ok(resp),
                        Err(e) => Err(Status::from(Error::Internal(Box::new(e)))),
                    },
                    StreamJob::Failed(status) => Err(status),
                };
                let end = out.is_err();
                // Waits while the client is not reading: backpressure.
                if tx.send(out).await.is_err() || end {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn rank_brands(
        &self,
        request: Request<pb::RankBrandsRequest>,
    ) -> Result<Response<pb::RankBrandsResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = Deadline::of(&request);
        let req = request.into_inner();
        observe(&self.scorer.metrics, "RankBrands", "", async {
            let k = match req.k as usize {
                0 => DEFAULT_K,
                k if k > MAX_K => {
                    return Err(Error::invalid(
                        "k",
                        format!("must be at most {MAX_K}, got {k}"),
                    ));
                }
                k => k,
            };
            if req.brand_ids.len() > MAX_RANK_BRANDS {
                return Err(Error::invalid(
                    "brand_ids",
                    format!(
                        "at most {MAX_RANK_BRANDS} brands, got {}",
                        req.brand_ids.len()
                    ),
                ));
            }
            for (i, id) in req.brand_ids.iter().enumerate() {
                validate_brand_id(id, &format!("brand_ids[{i}]"))?;
            }
            let view = view_in(req.view, "view")?;
            let now = now_or(req.now.as_ref())?;
            let event = event_or(req.event.as_ref(), "event")?;
            validate_event_time(&event, now).map_err(|v| Error::from(v.within("event")))?;
            let analysed =
                if req.event.as_ref().map_or(0, Message::encoded_len) > OFFLOAD_EVENT_BYTES {
                    Arc::new(
                        tokio::task::spawn_blocking(move || analyse_owned(event))
                            .await
                            .map_err(|e| Error::Internal(Box::new(e)))?,
                    )
                } else {
                    Arc::new(analyse_owned(event))
                };
            let blackouts = Arc::new(self.scorer.active_blackouts(now));
            let mut top = TopK::new(k);

            // One page of brands: profiles and counts (async), then the pure
            // assessments, on the blocking pool when the page is large.
            let mut rank_page = async |ids: &[String]| -> Result<(), Error> {
                check_deadline(deadline)?;
                let mut work = Vec::with_capacity(ids.len());
                for id in ids {
                    match self.scorer.profile(id).await {
                        Ok(p) => {
                            let counts = self.scorer.counts(&p, &analysed.event, now).await?;
                            work.push((p, counts));
                        }
                        // Unknown (or deleted meanwhile): it cannot rank.
                        Err(Error::NotFound { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                let scorer = self.scorer.clone();
                let (analysed, blackouts) = (analysed.clone(), blackouts.clone());
                let assess_all = move || -> Result<Vec<crate::core::model::Assessment>, Error> {
                    let mut out = Vec::with_capacity(work.len());
                    for chunk in work.chunks(DEADLINE_CHECK_PAIRS) {
                        check_deadline(deadline)?;
                        out.extend(
                            chunk
                                .iter()
                                .map(|(p, c)| scorer.assess(&analysed, p, &blackouts, *c, now)),
                        );
                    }
                    Ok(out)
                };
                let assessed = if ids.len() > INLINE_PAIRS {
                    tokio::task::spawn_blocking(assess_all)
                        .await
                        .map_err(|e| Error::Internal(Box::new(e)))??
                } else {
                    assess_all()?
                };
                for a in assessed {
                    top.offer(a);
                }
                Ok(())
            };
            let candidates = if req.brand_ids.is_empty() {
                // Off the reactor: with many brands sharing a word, or many
                // embeddings to scan, this is real work.
                let (index, analysed) = (self.index.clone(), analysed.clone());
                tokio::task::spawn_blocking(move || {
                    index.candidates(&event_probe(&analysed), &analysed.event.embedding)
                })
                .await
                .map_err(|e| Error::Internal(Box::new(e)))?
            } else {
                None
            };
            if let Some(candidates) = candidates {
                // Only the brands the event can concern: the rest have
                // relevance zero, so opportunity zero, and are not ranked.
                let ids: Vec<String> = candidates.iter().map(|id| id.to_string()).collect();
                for page in ids.chunks(RANK_PAGE) {
                    rank_page(page).await?;
                }
            } else if req.brand_ids.is_empty() {
                // Every stored brand, a page of ids at a time so memory
                // stays bounded whatever the number of brands.
                let mut after: Option<String> = None;
                loop {
                    let ids = self
                        .store
                        .list_brand_ids(after.as_deref(), RANK_PAGE)
                        .await?;
                    let Some(last) = ids.last() else { break };
                    after = Some(last.clone());
                    rank_page(&ids).await?;
                    if ids.len() < RANK_PAGE {
                        break;
                    }
                }
            } else {
                for ids in req.brand_ids.chunks(RANK_PAGE) {
                    rank_page(ids).await?;
                }
            }
            let event_digest = if self.scorer.should_log(req.log_decision) {
                req.event.as_ref().map(digest).unwrap_or_default()
            } else {
                String::new()
            };
            let ranked = top
                .into_sorted()
                .into_iter()
                .map(|a| {
                    let scored = self
                        .scorer
                        .finish(a, "", &caller, req.log_decision, || event_digest.clone());
                    scored_out(scored, "", view)
                })
                .collect();
            Ok(pb::RankBrandsResponse { ranked })
        })
        .await
    }
}

/// A ScoreStream item over `--max-request-bytes` is RESOURCE_EXHAUSTED, as
/// for every other RPC.
fn oversized_as_exhausted(status: Status) -> Status {
    match oversized_limit(&status) {
        Some(limit) => Status::from(Error::MessageTooLarge { limit }),
        None => status,
    }
}

/// Keeps the best `k` assessments: highest opportunity, ties by brand_id
/// ascending, so the ranking is deterministic.
struct TopK {
    k: usize,
    heap: BinaryHeap<Ranked>,
}

struct Ranked(crate::core::model::Assessment);

impl Ranked {
    /// "Greater" means better.
    fn better(&self, other: &Self) -> Ordering {
        self.0
            .opportunity
            .total_cmp(&other.0.opportunity)
            .then_with(|| other.0.brand_id.cmp(&self.0.brand_id))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.better(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    /// Reversed, so the heap's top is the worst kept entry.
    fn cmp(&self, other: &Self) -> Ordering {
        other.better(self)
    }
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// Keeps `a` if it is among the best `k`; a brand the event does not
    /// concern (opportunity zero) is never ranked.
    fn offer(&mut self, a: crate::core::model::Assessment) {
        if a.opportunity <= 0.0 {
            return;
        }
        self.heap.push(Ranked(a));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<crate::core::model::Assessment> {
        // Ord is reversed, so ascending order is best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}
