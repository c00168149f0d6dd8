//! Command-line flags with environment fallbacks. Parsed and validated
//! before anything binds; tests build `ServeConfig` in code.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// Import brand profiles from a YAML or JSON file into a running server.
    Import(crate::cli::ImportArgs),
    /// Score one event (YAML or JSON file) for one brand and explain the result.
    Score(crate::cli::ScoreArgs),
    /// Drive a running server with load and print throughput and latency.
    Bench(crate::cli::bench::BenchArgs),
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
    /// Admin credential: when set, RPCs that change profiles or blackouts need
    /// `authorization: Bearer <token>`. Unset: writes are open (a warning is logged).
    #[arg(long, env = "KAIROS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Address of the Prometheus metrics endpoint (plain HTTP); unset: off.
    #[arg(long, env = "KAIROS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
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
            engagement_retention_days: 30,
            decision_retention_days: 90,
            metrics_listen: None,
            admin_token: None,
        }
    }
}
