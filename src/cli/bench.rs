//! `kairos bench`: a load generator for a running server. Drives Score,
//! ScoreBatch, ScoreStream and the same server's grpc.health.v1 Check (the
//! transport baseline) at a set concurrency and connection count, for a set
//! time and at most a set number of requests, then prints throughput and
//! latency percentiles. Only loopback or the caller's own hosts belong in
//! `--server`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Conn as Channel;
use clap::{Args, ValueEnum};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use super::Connection;
use crate::grpc::convert::{event_kind_out, profile_out, timestamp_out};
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use crate::grpc::pb::scoring_service_client::ScoringServiceClient;
use crate::synthetic;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Rpc {
    Health,
    Score,
    Batch,
    Stream,
    /// Health, then Score, ScoreBatch and ScoreStream, with the ratio of
    /// Score to Health throughput.
    All,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to drive.
    #[arg(long, value_enum, default_value_t = Rpc::All)]
    pub rpc: Rpc,
    /// Requests in flight (for ScoreStream: messages in flight).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// HTTP/2 connections the requests are spread over.
    #[arg(long, default_value_t = 1)]
    pub connections: usize,
    /// Seconds each RPC is driven.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Upper bound on requests per RPC, whatever the time.
    #[arg(long, default_value_t = 20_000_000)]
    pub max_requests: u64,
    /// Synthetic brands to score against (round-robin).
    #[arg(long, default_value_t = 100)]
    pub brands: usize,
    /// Themes per synthetic brand.
    #[arg(long, default_value_t = 50)]
    pub themes: usize,
    /// Load the synthetic brands first (through ImportBrandProfiles).
    #[arg(long)]
    pub setup: bool,
    /// Events per ScoreBatch call.
    #[arg(long, default_value_t = 10)]
    pub batch_events: usize,
    /// Brands per ScoreBatch call.
    #[arg(long, default_value_t = 100)]
    pub batch_brands: usize,
    /// Give every Score and ScoreStream request an event of its own (a
    /// fresh id), so the server's analysis cache never hits. By default
    /// requests cycle through 16 events, as when each event is scored for
    /// many brands one call at a time.
    #[arg(long)]
    pub unique_events: bool,
    /// Ask for the COMPACT assessment view (no reason details, versions or
    /// assessed_at) instead of FULL.
    #[arg(long)]
    pub compact: bool,
    /// Write a gRPC-framed ScoreRequest (5-byte prefix + message) for
    /// third-party load generators such as h2load to PATH, and exit.
    #[arg(long, value_name = "PATH")]
    pub write_score_body: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub conn: Connection,
}

fn view_of(args: &BenchArgs) -> i32 {
    if args.compact {
        pb::AssessmentView::Compact as i32
    } else {
        pb::AssessmentView::Full as i32
    }
}

/// The gRPC wire frame of one ScoreRequest: flag 0, big-endian length,
/// message.
pub fn score_frame(brand: usize) -> Vec<u8> {
    use prost::Message;
    let req = pb::ScoreRequest {
        request_id: String::new(),
        event: Some(pb_event(0)),
        brand_id: brand_id(brand),
        now: Some(timestamp_out(synthetic::now())),
        log_decision: false,
        view: pb::AssessmentView::Full as i32,
    };
    let body = req.encode_to_vec();
    let mut frame = Vec::with_capacity(body.len() + 5);
    frame.push(0);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

struct Outcome {
    rpc: &'static str,
    requests: u64,
    errors: u64,
    items_per_request: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Outcome {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us[i.min(self.latencies_us.len() - 1)] as f64 / 1000.0
    }

    fn print(&self) {
        let items = if self.items_per_request > 1 {
            format!(
                "  ({:.0} pairs/s)",
                self.rps() * self.items_per_request as f64
            )
        } else {
            String::new()
        };
        println!(
            "{:<8} {:>10} req in {:>5.1}s = {:>9.0} req/s{}  p50 {:.3} ms  p99 {:.3} ms  p999 {:.3} ms  errors {}",
            self.rpc,
            self.requests,
            self.elapsed.as_secs_f64(),
            self.rps(),
            items,
            self.percentile(0.50),
            self.percentile(0.99),
            self.percentile(0.999),
            self.errors
        );
    }
}

/// The event of request `i`: one of the pool's, or with `unique`, a copy
/// under an id of its own.
fn event_for(pool: &[pb::Event], i: usize, unique: bool) -> pb::Event {
    let mut e = pool[i % pool.len()].clone();
    if unique {
        e.id = format!("bench-{i}");
    }
    e
}

fn pb_event(i: usize) -> pb::Event {
    let e = synthetic::event(i);
    pb::Event {
        id: e.id,
        kind: event_kind_out(e.kind) as i32,
        text: e.text,
        language: e.language,
        hashtags: e.hashtags,
        occurred_at: Some(timestamp_out(e.occurred_at)),
        channel: e.channel,
        author: e.author.map(|a| pb::Author {
            id: a.id,
            follower_count: a.follower_count,
            ..Default::default()
        }),
        audience_time_zone: e.audience_time_zone,
        audience_region: e.audience_region,
        velocity: e.velocity.map(|v| pb::Velocity {
            mentions_per_minute: v.mentions_per_minute,
            history_per_minute: v.history_per_minute,
            window: None,
        }),
        sample_posts: e.sample_posts,
        ..Default::default()
    }
}

fn brand_id(i: usize) -> String {
    format!("brand-{i:06}")
}

pub async fn run(args: BenchArgs) -> Result<(), String> {
    if let Some(path) = &args.write_score_body {
        std::fs::write(path, score_frame(0))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "wrote a ScoreRequest frame for {} to {}",
            brand_id(0),
            path.display()
        );
        return Ok(());
    }
    if args.concurrency == 0 || args.connections == 0 || args.brands == 0 {
        return Err("--concurrency, --connections and --brands must be at least 1".into());
    }
    let mut channels = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        channels.push(args.conn.channel().await?);
    }
    if args.setup {
        setup(&args, channels[0].clone()).await?;
    }
    let runs: &[Rpc] = match args.rpc {
        Rpc::All => &[Rpc::Health, Rpc::Score, Rpc::Batch, Rpc::Stream],
        one => std::slice::from_ref(match one {
            Rpc::Health => &Rpc::Health,
            Rpc::Score => &Rpc::Score,
            Rpc::Batch => &Rpc::Batch,
            _ => &Rpc::Stream,
        }),
    };
    println!(
        "concurrency {}, connections {}, {} s per RPC, {} brands x {} themes, {}",
        args.concurrency,
        args.connections,
        args.seconds,
        args.brands,
        args.themes,
        if args.unique_events {
            "a new event per Score/ScoreStream request"
        } else {
            "Score/ScoreStream cycle through 16 events"
        }
    );
    let mut health_rps = None;
    for rpc in runs {
        let outcome = match rpc {
            Rpc::Stream => stream(&args, &channels).await,
            other => unary(&args, &channels, *other).await,
        };
        outcome.print();
        match rpc {
            Rpc::Health => health_rps = Some(outcome.rps()),
            Rpc::Score => {
                if let Some(h) = health_rps {
                    println!("score/health throughput ratio: {:.2}", outcome.rps() / h);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Every task's latencies, sorted.
async fn merge(tasks: Vec<tokio::task::JoinHandle<Vec<u32>>>) -> Vec<u32> {
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            all.extend(l);
        }
    }
    all.sort_unstable();
    all
}

async fn setup(args: &BenchArgs, channel: Channel) -> Result<(), String> {
    let mut client = BrandProfileServiceClient::new(channel);
    let items: Vec<pb::ImportBrandProfilesRequest> = (0..args.brands)
        .map(|i| {
            let stored = crate::core::model::StoredProfile {
                profile: synthetic::brand(i, args.themes),
                version: 0,
                updated_at: synthetic::now(),
            };
            pb::ImportBrandProfilesRequest {
                profile: Some(profile_out(&stored)),
            }
        })
        .collect();
    let request = args.conn.authorized(tokio_stream::iter(items))?;
    let resp = client
        .import_brand_profiles(request)
        .await
        .map_err(|s| format!("setup import failed: {s}"))?
        .into_inner();
    println!(
        "setup: {} created, {} updated, {} rejected",
        resp.created, resp.updated, resp.rejected
    );
    Ok(())
}

async fn unary(args: &BenchArgs, channels: &[Channel], rpc: Rpc) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let now = Some(timestamp_out(synthetic::now()));
    let view = view_of(args);
    let events: Arc<Vec<pb::Event>> = Arc::new((0..16).map(pb_event).collect());
    let batch = pb::ScoreBatchRequest {
        events: (0..args.batch_events).map(pb_event).collect(),
        brand_ids: (0..args.batch_brands)
            .map(|i| brand_id(i % args.brands))
            .collect(),
        now,
        log_decision: false,
        view: view_of(args),
    };
    let items = if rpc == Rpc::Batch {
        (args.batch_events * args.batch_brands) as u64
    } else {
        1
    };
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(args.concurrency);
    for t in 0..args.concurrency {
        let channel = channels[t % channels.len()].clone();
        let (issued, errors, events, batch) = (
            issued.clone(),
            errors.clone(),
            events.clone(),
            batch.clone(),
        );
        let (max, brands, unique) = (args.max_requests, args.brands, args.unique_events);
        tasks.push(tokio::spawn(async move {
            let mut health = HealthClient::new(channel.clone());
            let mut scoring =
                ScoringServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
            let mut lat = Vec::with_capacity(1 << 16);
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= max || Instant::now() >= deadline {
                    break;
                }
                let i = n as usize;
                let sent = Instant::now();
                let ok = match rpc {
                    Rpc::Health => health
                        .check(HealthCheckRequest {
                            service: String::new(),
                        })
                        .await
                        .is_ok(),
                    Rpc::Batch => scoring.score_batch(batch.clone()).await.is_ok(),
                    _ => scoring
                        .score(pb::ScoreRequest {
                            request_id: String::new(),
                            event: Some(event_for(&events, i, unique)),
                            brand_id: brand_id((i * 7 + t) % brands),
                            now,
                            log_decision: false,
                            view,
                        })
                        .await
                        .is_ok(),
                };
                if ok {
                    lat.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    let latencies_us = merge(tasks).await;
    let elapsed = start.elapsed();
    Outcome {
        rpc: match rpc {
            Rpc::Health => "health",
            Rpc::Batch => "batch",
            _ => "score",
        },
        requests: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        items_per_request: items,
        elapsed,
        latencies_us,
    }
}

/// One bidi stream per connection; `concurrency` messages in flight in all.
async fn stream(args: &BenchArgs, channels: &[Channel]) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let per_conn = (args.concurrency / channels.len()).max(1);
    let max_per_conn = args.max_requests / channels.len() as u64;
    let now = Some(timestamp_out(synthetic::now()));
    let view = view_of(args);
    let events: Arc<Vec<pb::Event>> = Arc::new((0..16).map(pb_event).collect());
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, channel) in channels.iter().enumerate() {
        let (events, errors, brands) = (events.clone(), errors.clone(), args.brands);
        let unique = args.unique_events;
        let channel = channel.clone();
        tasks.push(tokio::spawn(async move {
            let window = Arc::new(Semaphore::new(per_conn));
            // Send times by sequence number; responses come back in order,
            // and at most `per_conn` are outstanding.
            let ring: Arc<Vec<AtomicU64>> =
                Arc::new((0..per_conn * 4).map(|_| AtomicU64::new(0)).collect());
            let (tx, rx) = mpsc::channel::<pb::ScoreStreamRequest>(per_conn);
            let mut client = ScoringServiceClient::new(channel);
            let producer = {
                let (window, ring) = (window.clone(), ring.clone());
                tokio::spawn(async move {
                    let mut seq = 0u64;
                    while seq < max_per_conn && Instant::now() < deadline {
                        let Ok(permit) = window.acquire().await else {
                            break;
                        };
                        permit.forget();
                        let i = seq as usize;
                        ring[i % ring.len()]
                            .store(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
                        let req = pb::ScoreStreamRequest {
                            request_id: seq.to_string(),
                            event: Some(event_for(&events, i, unique)),
                            brand_id: brand_id((i * 7 + c) % brands),
                            now,
                            log_decision: false,
                            view,
                        };
                        if tx.send(req).await.is_err() {
                            break;
                        }
                        seq += 1;
                    }
                })
            };
            let mut lat = Vec::with_capacity(1 << 16);
            match client.score_stream(ReceiverStream::new(rx)).await {
                Ok(resp) => {
                    let mut inbound = resp.into_inner();
                    while let Some(msg) = inbound.next().await {
                        window.add_permits(1);
                        let Ok(msg) = msg else {
                            errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        };
                        if matches!(
                            msg.result,
                            Some(pb::score_stream_response::Result::Error(_))
                        ) {
                            errors.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        let seq: usize = msg.request_id.parse().unwrap_or(0);
                        let sent = ring[seq % ring.len()].load(Ordering::Relaxed);
                        let now_ns = start.elapsed().as_nanos() as u64;
                        lat.push((now_ns.saturating_sub(sent) / 1000).min(u32::MAX as u64) as u32);
                    }
                }
                Err(_) => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            let _ = producer.await;
            lat
        }));
    }
    let latencies_us = merge(tasks).await;
    let elapsed = start.elapsed();
    Outcome {
        rpc: "stream",
        requests: latencies_us.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        items_per_request: 1,
        elapsed,
        latencies_us,
    }
}
