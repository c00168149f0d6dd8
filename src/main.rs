use std::process::ExitCode;

// Scoring allocates many small, short-lived strings and vectors per request;
// mimalloc serves them faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use kairos::app::Application;
use kairos::config::{Cli, Command, DecisionsCommand};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            let telemetry = match kairos::telemetry::init_with(
                config.log_format,
                config.otlp_endpoint.as_deref(),
            ) {
                Ok(t) => t,
                Err(e) => return fail(&e),
            };
            let shutdown = shutdown_signal();
            let app = match Application::build(config).await {
                Ok(app) => app,
                Err(e) => return fail(&e),
            };
            let code = match app.run_until_stopped(shutdown).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            };
            telemetry.shutdown();
            code
        }
        Command::Import(args) => {
            quiet_on_closed_stdout();
            kairos::cli::import(args).await
        }
        Command::Score(args) => {
            quiet_on_closed_stdout();
            kairos::cli::score(args).await
        }
        Command::Eval(args) => {
            quiet_on_closed_stdout();
            kairos::cli::eval::eval(args).await
        }
        #[cfg(feature = "loadgen")]
        Command::Bench(args) => {
            quiet_on_closed_stdout();
            kairos::cli::bench(args).await
        }
        Command::Profiles { command } => {
            quiet_on_closed_stdout();
            kairos::cli::manage::profiles(command).await
        }
        Command::Blackout { command } => {
            quiet_on_closed_stdout();
            kairos::cli::manage::blackout(command).await
        }
        Command::Decisions {
            command: DecisionsCommand::Export(args),
        } => {
            quiet_on_closed_stdout();
            kairos::cli::export_decisions(args).await
        }
    }
}

/// Client commands print to stdout. When its reader goes away early
/// (`kairos decisions export | head`), end the way other command-line tools
/// do, by SIGPIPE, instead of panicking inside `println!`. The server keeps
/// Rust's default of ignoring SIGPIPE; gRPC sockets never raise it either
/// way, as their writes pass MSG_NOSIGNAL.
#[allow(unsafe_code)] // the one unsafe call of the crate, explained below
fn quiet_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: `signal` only changes the process's disposition for SIGPIPE
    // back to the default action; no handler code is installed, so no
    // async-signal-safety requirement arises, and no Rust state depends on
    // SIGPIPE being ignored in the client commands.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn fail(e: &dyn std::error::Error) -> ExitCode {
    let msg = kairos::error::chain(e);
    tracing::error!(error = %msg, "kairos failed");
    eprintln!("error: {msg}");
    ExitCode::FAILURE
}

/// Installs the SIGINT/SIGTERM handlers now, before the server binds, so a
/// signal that arrives right after the "listening" line is never lost to the
/// default action; the returned future resolves on the first signal.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match term.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match int.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {}
                () = int => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
