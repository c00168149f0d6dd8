//! Who may call what: API keys with scopes and optional rate limits, loaded
//! from a YAML file of hashed secrets (`--api-keys`), and swapped whole on
//! reload so keys rotate without a restart.
//!
//! The file holds only the hex SHA-256 of each secret. A presented secret is
//! hashed and compared with every key's digest in constant time, so neither
//! the file nor the timing of a failed comparison reveals a secret.

use std::collections::HashSet;
use std::fmt;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// What a key may do. `Admin` includes every other scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// ScoringService and RecordEngagement.
    Score,
    /// Reading profiles, blackouts and the decision log.
    Read,
    /// Everything, including profile and blackout writes.
    Admin,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Score => "score",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Longest key name: it appears in logs, metrics labels and decision records.
pub const MAX_KEY_NAME_LEN: usize = 64;
/// Most keys in one file; lookups compare against every key.
pub const MAX_KEYS: usize = 1_000;
/// The name `--admin-token` is known by in logs and decision records.
pub const ADMIN_TOKEN_NAME: &str = "admin-token";

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The file as written by operators.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    keys: Vec<KeyEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    name: String,
    sha256: String,
    scopes: Vec<Scope>,
    #[serde(default)]
    rate_per_second: Option<u32>,
    #[serde(default)]
    burst: Option<u32>,
}

/// One loaded key.
pub struct ApiKey {
    pub name: Arc<str>,
    digest: [u8; 32],
    scopes: Vec<Scope>,
    limiter: Option<DefaultDirectRateLimiter>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the digest: it identifies the secret.
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("rate_limited", &self.limiter.is_some())
            .finish()
    }
}

impl ApiKey {
    fn new(
        name: &str,
        digest: [u8; 32],
        scopes: Vec<Scope>,
        rate: Option<(NonZeroU32, NonZeroU32)>,
    ) -> Self {
        Self {
            name: Arc::from(name),
            digest,
            scopes,
            limiter: rate.map(|(per_second, burst)| {
                RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst))
            }),
        }
    }

    pub fn allows(&self, needed: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&needed)
    }

    /// Takes one token from the key's bucket; `Err` carries how long until
    /// the next one.
    pub fn take_token(&self) -> Result<(), Duration> {
        match &self.limiter {
            None => Ok(()),
            Some(l) => l.check().map_err(|not_until| {
                not_until.wait_time_from(governor::clock::Clock::now(l.clock()))
            }),
        }
    }
}

/// The keys in force. Empty means authentication is off.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<ApiKey>>,
}

impl KeySet {
    /// Reads and checks a keys file, adding `--admin-token` when given.
    pub fn load(path: Option<&Path>, admin_token: Option<&str>) -> Result<Self, KeysError> {
        let mut keys = match path {
            Some(p) => parse(p)?,
            None => Vec::new(),
        };
        if let Some(token) = admin_token.filter(|t| !t.is_empty()) {
            keys.push(Arc::new(ApiKey::new(
                ADMIN_TOKEN_NAME,
                sha256(token.as_bytes()),
                vec![Scope::Admin],
                None,
            )));
        }
        Ok(Self { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key whose secret this is. Every key is compared, whatever
    /// matches, so the time taken does not depend on which key (if any)
    /// matched or on how much of a digest agreed.
    pub fn find(&self, secret: &[u8]) -> Option<Arc<ApiKey>> {
        let presented = sha256(secret);
        let mut found = None;
        for key in &self.keys {
            if same(&presented, &key.digest) {
                found = Some(key.clone());
            }
        }
        found
    }
}

/// Keys that can be swapped while requests read them.
#[derive(Debug)]
pub struct Keys {
    current: RwLock<Arc<KeySet>>,
    /// The set holds no key: every call is anonymous. Read without the
    /// lock, which every call would otherwise take on every worker.
    open: AtomicBool,
}

impl Default for Keys {
    fn default() -> Self {
        Self::new(KeySet::default())
    }
}

impl Keys {
    pub fn new(set: KeySet) -> Self {
        Self {
            open: AtomicBool::new(set.is_empty()),
            current: RwLock::new(Arc::new(set)),
        }
    }

    /// Whether no key is configured (so every call is let through as
    /// anonymous). While a first key set is being installed this says
    /// false before the keys are in place, never true after.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    pub fn get(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, set: KeySet) {
        let open = set.is_empty();
        if !open {
            self.open.store(false, Ordering::Release);
        }
        let set = Arc::new(set);
        match self.current.write() {
            Ok(mut g) => *g = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
        if open {
            self.open.store(true, Ordering::Release);
        }
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compares without an early exit, so timing does not leak a prefix.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse(path: &Path) -> Result<Vec<Arc<ApiKey>>, KeysError> {
    let shown = path.display().to_string();
    let invalid = |message: String| KeysError::Invalid {
        path: shown.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| KeysError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: KeysFile = serde_yaml_ng::from_str(&text)
        // The parser's message names the line; it cannot echo a secret
        // because the file holds none.
        .map_err(|e| invalid(e.to_string()))?;
    if file.keys.len() > MAX_KEYS {
        return Err(invalid(format!(
            "at most {MAX_KEYS} keys, got {}",
            file.keys.len()
        )));
    }
    let mut names = HashSet::new();
    let mut digests = HashSet::new();
    let mut keys = Vec::with_capacity(file.keys.len());
    for (i, k) in file.keys.into_iter().enumerate() {
        let at = format!("keys[{i}]");
        if k.name.is_empty()
            || k.name.len() > MAX_KEY_NAME_LEN
            || !k
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(invalid(format!(
                "{at}.name: 1-{MAX_KEY_NAME_LEN} characters of [A-Za-z0-9._-]"
            )));
        }
        if k.name == ADMIN_TOKEN_NAME {
            return Err(invalid(format!(
                "{at}.name: {ADMIN_TOKEN_NAME:?} is reserved for --admin-token"
            )));
        }
        if !names.insert(k.name.clone()) {
            return Err(invalid(format!("{at}.name: {:?} appears twice", k.name)));
        }
        let digest = hex32(&k.sha256).ok_or_else(|| {
            invalid(format!(
                "{at}.sha256: must be 64 hex digits (the SHA-256 of the secret, e.g. `printf %s SECRET | sha256sum`)"
            ))
        })?;
        if !digests.insert(digest) {
            return Err(invalid(format!(
                "{at}.sha256: the same secret is already used by another key"
            )));
        }
        if k.scopes.is_empty() {
            return Err(invalid(format!(
                "{at}.scopes: at least one of score, read, admin"
            )));
        }
        let rate = match (k.rate_per_second, k.burst) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(invalid(format!("{at}.burst: needs rate_per_second")));
            }
            (Some(r), burst) => {
                let per_second = NonZeroU32::new(r)
                    .ok_or_else(|| invalid(format!("{at}.rate_per_second: must be at least 1")))?;
                // Without a burst, a key may spend one second's worth at once.
                let burst = NonZeroU32::new(burst.unwrap_or(r))
                    .ok_or_else(|| invalid(format!("{at}.burst: must be at least 1")))?;
                Some((per_second, burst))
            }
        };
        keys.push(Arc::new(ApiKey::new(&k.name, digest, k.scopes, rate)));
    }
    Ok(keys)
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hi = (chunk[0] as char).to_digit(16)?;
        let lo = (chunk[1] as char).to_digit(16)?;
        out[i] = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_open_exactly_while_the_set_is_empty() {
        let keyed = || KeySet::load(None, Some("a-token")).unwrap();
        let keys = Keys::default();
        assert!(keys.is_open() && keys.get().is_empty());
        keys.replace(keyed());
        assert!(!keys.is_open() && keys.get().len() == 1);
        keys.replace(KeySet::default());
        assert!(keys.is_open() && keys.get().is_empty());
        assert!(!Keys::new(keyed()).is_open());
    }
}
