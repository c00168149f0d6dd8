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
    /// Log format.
    #[arg(long, env = "KAIROS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Seconds in-flight RPCs get to finish after SIGINT/SIGTERM.
    #[arg(long, env = "KAIROS_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

impl ServeConfig {
    /// A config for tests and embedding: loopback, port 0, the given data dir.
    pub fn for_tests(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            cache_capacity: 1000,
            log_format: LogFormat::Text,
            shutdown_grace_secs: 5,
        }
    }
}
