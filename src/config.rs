//! Command-line flags with environment fallbacks. Parsed and validated
//! before anything binds; tests build `ServeConfig` in code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kairos",
    version,
    about = "Tells a brand whether a moment is worth engaging"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the gRPC server.
    Serve(ServeConfig),
    /// Import brand profiles from a YAML or JSON file into a running server
    /// (also `kairos profiles import`).
    Import(crate::cli::ImportArgs),
    /// Score one event (YAML or JSON file) for one brand and explain the result.
    Score(crate::cli::ScoreArgs),
    /// Backtest: score a file of past moments through a running server and
    /// compare with the answers wanted (utility, harmful answers, misses).
    Eval(crate::cli::eval::EvalArgs),
    /// Drive a running server with load and print throughput and latency
    /// (built with `--features loadgen`).
    #[cfg(feature = "loadgen")]
    Bench(crate::cli::bench::BenchArgs),
    /// Brand profiles: import, get, list, delete.
    Profiles {
        #[command(subcommand)]
        command: crate::cli::manage::ProfilesCommand,
    },
    /// The crisis switch: create, list and lift blackouts.
    Blackout {
        #[command(subcommand)]
        command: crate::cli::manage::BlackoutCommand,
    },
    /// Query the decision log.
    Decisions {
        #[command(subcommand)]
        command: DecisionsCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum DecisionsCommand {
    /// Write logged decisions as JSON Lines, newest first.
    Export(crate::cli::ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port (the bound address is logged).
    #[arg(long, env = "KAIROS_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Directory of the embedded store (created if missing).
    #[arg(long, env = "KAIROS_DATA_DIR", default_value = "./kairos-data")]
    pub data_dir: PathBuf,
    /// How many compiled brand profiles the cache holds.
    #[arg(long, env = "KAIROS_CACHE_CAPACITY", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub cache_capacity: u64,
    /// Memory budget, in MiB, for analyses of recently scored events,
    /// reused when Score or ScoreStream sees the same event again (one
    /// event scored for many brands). 0 turns the cache off.
    #[arg(long, env = "KAIROS_EVENT_CACHE_MB", default_value_t = 64)]
    pub event_cache_mb: u64,
    /// Log format.
    #[arg(long, env = "KAIROS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds in-flight RPCs get to finish after SIGINT/SIGTERM.
    #[arg(long, env = "KAIROS_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Log every assessment, not only those with `log_decision` set.
    #[arg(long, env = "KAIROS_LOG_ALL_DECISIONS")]
    pub log_all_decisions: bool,
    /// Assessments the decision-log queue holds before it drops (and counts) new ones.
    #[arg(long, env = "KAIROS_DECISION_LOG_QUEUE", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub decision_log_queue: u64,
    /// Days engagements are kept (frequency caps need at most two).
    #[arg(long, env = "KAIROS_ENGAGEMENT_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(2..=3650))]
    pub engagement_retention_days: u64,
    /// Days decision-log entries are kept.
    #[arg(long, env = "KAIROS_DECISION_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub decision_retention_days: u64,
    /// YAML file of API keys (name, hex SHA-256 of the secret, scopes score /
    /// read / admin, optional rate_per_second and burst). With keys, every
    /// kairos.v1 RPC needs `authorization: Bearer <secret>`; SIGHUP reloads
    /// the file.
    #[arg(long, env = "KAIROS_API_KEYS")]
    pub api_keys: Option<PathBuf>,
    /// One more key, with the admin scope (kept for older deployments;
    /// prefer a keys file: a flag shows in `ps`).
    #[arg(long, env = "KAIROS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Serve a non-loopback address without any key. Without keys, Kairos
    /// otherwise refuses to listen anywhere but loopback.
    #[arg(long, env = "KAIROS_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// PEM certificate chain for TLS (with --tls-key).
    #[arg(long, env = "KAIROS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS (with --tls-cert).
    #[arg(long, env = "KAIROS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificate(s): clients must present a certificate signed by
    /// one of them (mutual TLS). Needs --tls-cert.
    #[arg(long, env = "KAIROS_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// RPCs (and ScoreStream items) executing at once; beyond it, calls are
    /// refused at once with RESOURCE_EXHAUSTED. Default: 128 per CPU.
    #[arg(long, env = "KAIROS_MAX_IN_FLIGHT",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_in_flight: Option<u64>,
    /// Deadline for unary calls that carry no `grpc-timeout` (e.g. "10s", "500ms").
    #[arg(long, env = "KAIROS_DEFAULT_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub default_timeout: Duration,
    /// Largest request message, in bytes; larger ones get RESOURCE_EXHAUSTED.
    #[arg(long, env = "KAIROS_MAX_REQUEST_BYTES", default_value_t = 4 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1024..=64 * 1024 * 1024))]
    pub max_request_bytes: u64,
    /// Client connections open at once; more are closed at accept. Default:
    /// the open-file limit less 64.
    #[arg(long, env = "KAIROS_MAX_CONNECTIONS",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,
    /// Concurrent RPCs one connection may open (HTTP/2 SETTINGS).
    #[arg(long, env = "KAIROS_MAX_STREAMS_PER_CONNECTION", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_streams_per_connection: u32,
    /// A connection with no open RPC for this long is closed (e.g. "5m").
    #[arg(long, env = "KAIROS_IDLE_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Time a client has to complete the TLS handshake.
    #[arg(long, env = "KAIROS_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
    /// Interval of HTTP/2 keepalive pings; a peer that does not answer
    /// within 20 s is disconnected.
    #[arg(long, env = "KAIROS_KEEPALIVE", default_value = "60s", value_parser = parse_duration)]
    pub keepalive: Duration,
    /// Largest header list a client may send, in bytes.
    #[arg(long, env = "KAIROS_MAX_HEADER_LIST_BYTES", default_value_t = 16 * 1024,
          value_parser = clap::value_parser!(u32).range(1024..=1024 * 1024))]
    pub max_header_list_bytes: u32,
    /// Address of the Prometheus metrics endpoint (plain HTTP); unset: off.
    #[arg(long, env = "KAIROS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// OTLP/gRPC endpoint (e.g. `http://127.0.0.1:4317`) to export the
    /// per-RPC spans to; unset: no traces, at no cost. A caller's W3C
    /// `traceparent` is continued.
    #[arg(long, env = "KAIROS_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// A shared PostgreSQL store, `postgres://user[:password]@host:port/db`,
    /// for several replicas. Unset: the embedded SQLite store in --data-dir.
    #[arg(long, env = "KAIROS_STORE", hide_env_values = true, value_parser = StoreUrl::parse)]
    pub store: Option<StoreUrl>,
    /// Connections to PostgreSQL each replica may hold (one more of them
    /// listens for the other replicas' changes).
    #[arg(long, env = "KAIROS_STORE_MAX_CONNECTIONS", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub store_max_connections: u32,
    /// How long a PostgreSQL call may wait for a connection (the whole call,
    /// answer included, gets twice this); past it the call fails with
    /// UNAVAILABLE.
    #[arg(long, env = "KAIROS_STORE_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub store_timeout: Duration,
    /// With PostgreSQL: how often each replica re-checks what it holds (cached
    /// profile versions, blackouts, engagement counts) against the store. It
    /// bounds staleness when a change notification was missed.
    #[arg(long, env = "KAIROS_STORE_RESYNC_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub store_resync_interval: Duration,
}

/// A `--store` URL. Its password never appears in logs or errors.
#[derive(Clone)]
pub struct StoreUrl(String);

impl StoreUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            Ok(Self(t.to_string()))
        } else {
            Err(
                "--store takes a PostgreSQL URL (postgres://user@host:port/db); leave it out \
                 for the embedded store in --data-dir"
                    .to_string(),
            )
        }
    }

    /// The URL with its password, for connecting only.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The URL with any password (in the user part or a `password=`
    /// parameter) replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return "***".to_string();
        };
        // The user part ends at the last '@' (a password may contain '@').
        let (user, host) = match rest.rsplit_once('@') {
            Some((user, host)) => {
                let name = user.split_once(':').map_or(user, |(name, _)| name);
                let masked = if user.contains(':') { ":***" } else { "" };
                (format!("{name}{masked}@"), host)
            }
            None => (String::new(), rest),
        };
        let host = match host.split_once('?') {
            Some((path, query)) => {
                let params: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                        _ => kv.to_string(),
                    })
                    .collect();
                format!("{path}?{}", params.join("&"))
            }
            None => host.to_string(),
        };
        format!("{scheme}://{user}{host}")
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl ServeConfig {
    /// A config for tests and embedding: loopback, port 0, the given data dir.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            cache_capacity: 1000,
            event_cache_mb: 16,
            log_format: LogFormat::Text,
            shutdown_grace_secs: 5,
            log_all_decisions: false,
            decision_log_queue: 10_000,
            // The longest allowed: tests record engagements at fixed dates
            // months before the real clock, and a retention pass that ran
            // late (it runs once at start, beside the test) would delete
            // them under the test's feet.
            engagement_retention_days: 3650,
            decision_retention_days: 3650,
            metrics_listen: None,
            api_keys: None,
            admin_token: None,
            insecure_no_auth: false,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            max_in_flight: None,
            default_timeout: Duration::from_secs(10),
            max_request_bytes: 4 * 1024 * 1024,
            max_connections: None,
            max_streams_per_connection: 256,
            idle_timeout: Duration::from_secs(300),
            handshake_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(60),
            max_header_list_bytes: 16 * 1024,
            otlp_endpoint: None,
            store: None,
            store_max_connections: 16,
            store_timeout: Duration::from_secs(2),
            store_resync_interval: Duration::from_secs(30),
        }
    }

    /// `--max-in-flight`, or its default: 128 per CPU, enough for the
    /// benchmark's 256 concurrent Scores on two cores, while 256 answers of
    /// the largest ScoreBatch being built (about 6 MB each) stay under 2 GB.
    pub fn max_in_flight(&self) -> usize {
        match self.max_in_flight {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => {
                let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
                DEFAULT_IN_FLIGHT_PER_CPU * cpus
            }
        }
    }

    /// `--max-connections`, or its default from the open-file limit.
    pub fn max_connections(&self) -> usize {
        match self.max_connections {
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => crate::net::default_max_connections(),
        }
    }
}

const DEFAULT_IN_FLIGHT_PER_CPU: usize = 128;

/// "10s", "500ms", "5m", "1h", or bare seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad duration {t:?} (use e.g. \"10s\", \"500ms\", \"5m\")"))?;
    Ok(match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("unknown duration unit {unit:?} in {t:?}")),
    })
}
