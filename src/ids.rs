//! Server-generated identifiers: time-ordered, unique across processes
//! without coordination (a random per-process prefix and a counter).

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::Timestamp;

pub struct IdGen {
    prefix: &'static str,
    node: u32,
    counter: AtomicU64,
}

impl IdGen {
    pub fn new(prefix: &'static str) -> Self {
        // RandomState is seeded from the OS per process.
        let node = RandomState::new().hash_one(std::process::id()) as u32;
        Self {
            prefix,
            node,
            counter: AtomicU64::new(0),
        }
    }

    /// `<prefix>_<micros:14 hex><node:8 hex><counter:8 hex>`; sorts by time.
    pub fn next(&self, now: Timestamp) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}_{:014x}{:08x}{:08x}",
            self.prefix,
            now.as_microsecond().max(0),
            self.node,
            n as u32
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_prefixed() {
        let g = IdGen::new("d");
        let now = Timestamp::UNIX_EPOCH;
        let a = g.next(now);
        let b = g.next(now);
        assert_ne!(a, b);
        assert!(a.starts_with("d_") && a.len() == 2 + 30);
    }
}
