//! Progress of a long client command on standard error: an `indicatif` bar
//! on a terminal, and otherwise (a log, a CI job) one plain line every
//! [`PLAIN_EVERY`], so a pipeline's output stays readable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a plain progress line is printed when not on a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

enum Shown {
    Bar(ProgressBar),
    Plain { last: Instant },
}

pub struct Progress {
    shown: Shown,
    what: &'static str,
    total_bytes: Option<u64>,
}

impl Progress {
    /// `what` names the command in plain lines (`import`); `total_bytes`,
    /// when known, makes the bar a bar rather than a spinner.
    /// `streams_to_stdout`: the command writes its output while it runs; a
    /// bar redrawn on the terminal that shows it would garble it, so then
    /// progress is plain lines, as for a log.
    pub fn new(what: &'static str, total_bytes: Option<u64>, streams_to_stdout: bool) -> Self {
        let garbles = streams_to_stdout && std::io::stdout().is_terminal();
        let shown = if std::io::stderr().is_terminal() && !garbles {
            let bar = match total_bytes {
                Some(len) => {
                    let bar =
                        ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
                    if let Ok(style) = ProgressStyle::with_template(
                        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
                    ) {
                        bar.set_style(style);
                    }
                    bar
                }
                None => {
                    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                    if let Ok(style) =
                        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                    {
                        bar.set_style(style);
                    }
                    bar
                }
            };
            bar.enable_steady_tick(Duration::from_millis(200));
            Shown::Bar(bar)
        } else {
            Shown::Plain {
                last: Instant::now(),
            }
        };
        Self {
            shown,
            what,
            total_bytes,
        }
    }

    /// Reports `bytes` of the input read and a short status (`1200 sent`).
    pub fn update(&mut self, bytes: u64, status: impl FnOnce() -> String) {
        match &mut self.shown {
            Shown::Bar(bar) => {
                bar.set_position(bytes);
                bar.set_message(status());
            }
            Shown::Plain { last } => {
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    let share = match self.total_bytes {
                        Some(total) if total > 0 => {
                            format!(", {:.0}% of the file", bytes as f64 * 100.0 / total as f64)
                        }
                        _ => String::new(),
                    };
                    eprintln!("{}: {}{share}", self.what, status());
                }
            }
        }
    }

    /// Clears the bar, so the summary that follows is the last word.
    pub fn finish(self) {}
}

impl Drop for Progress {
    /// Also on an early return with an error, which should not sit under
    /// a stale bar.
    fn drop(&mut self) {
        if let Shown::Bar(bar) = &self.shown {
            bar.finish_and_clear();
        }
    }
}
