//! Which brands an event can concern, without compiling any of them.
//!
//! A brand's relevance is above zero only through evidence the matcher
//! finds: a name, theme or topic whose first token is a token of the
//! event (in the event's form, in its text, hashtags, sample posts or
//! topic labels), or whose glued spelling starts at some byte of a one-case
//! hashtag; an embedding with a positive cosine; or an event addressed to
//! the brand (which concerns every brand). [`brand_keys`] lists the first
//! two kinds of evidence a brand can be found by, [`event_probe`] what an
//! event offers, and the index (`crate::candidates`) joins them. Keys are
//! a superset test: a shared key makes a brand a candidate, which the full
//! assessment then judges; no key shared means relevance zero.
//!
//! Competitors and blocked terms are not keys: they can only lower an
//! assessment, never make relevance positive.

use super::analyse::AnalysedEvent;
use super::compiled::{Term, brand_names, glued_forms, term_list};
use super::model::{BrandProfile, EventKind};
use super::text::{Form, pattern_tokens, prefix_key, words};

/// Keys live in one space; each kind is mixed with its own constant so a
/// token hash and a glued prefix rarely meet (a meeting only adds a
/// candidate).
const ENGLISH: u64 = 0x9e37_79b9_7f4a_7c15;
const RAW: u64 = 0xc2b2_ae3d_27d4_eb4f;
const GLUED: u64 = 0x1656_67b1_9e37_79f9;

fn key(kind: u64, h: u64) -> u64 {
    h ^ kind
}

fn form_kind(form: Form) -> u64 {
    match form {
        Form::English => ENGLISH,
        Form::Raw => RAW,
    }
}

/// What a brand can be found by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrandKeys {
    /// Sorted and distinct.
    pub keys: Vec<u64>,
    /// The profile's embedding (empty when it has none).
    pub embedding: Vec<f32>,
}

/// The keys of a profile's names, themes and topics, in both forms the
/// matcher uses, and of their glued spellings.
pub fn brand_keys(profile: &BrandProfile) -> BrandKeys {
    let names = brand_names(profile);
    let list: Vec<(String, Term)> = term_list(profile, &names)
        .into_iter()
        .filter(|(_, term)| matches!(term, Term::Name(_) | Term::Theme(_) | Term::Topic(_)))
        .collect();
    let raw: Vec<Vec<String>> = list.iter().map(|(t, _)| words(t)).collect();
    let mut keys = Vec::with_capacity(list.len() * 3);
    for (text, _) in &list {
        if let Some(first) = pattern_tokens(text, Form::English).first() {
            keys.push(key(ENGLISH, super::text::hash_str(first)));
        }
    }
    for tokens in &raw {
        if let Some(first) = tokens.first() {
            keys.push(key(RAW, super::text::hash_str(first)));
        }
    }
    let (glued, _) = glued_forms(&list, &raw);
    for g in &glued {
        if let Some(prefix) = prefix_key(g.as_bytes()) {
            keys.push(key(GLUED, prefix));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    BrandKeys {
        keys,
        embedding: profile.embedding.clone(),
    }
}

/// What an event offers to find brands by.
#[derive(Debug, Clone, Default)]
pub struct EventProbe {
    /// Sorted and distinct.
    pub keys: Vec<u64>,
    /// Addressed to the brand (or a direct message): every brand is
    /// relevant, so no index can narrow the field.
    pub everyone: bool,
}

/// The keys of an analysed event: every token of its text, hashtags,
/// sample posts and topic labels, and every 3-byte start in its one-case
/// hashtags.
pub fn event_probe(analysed: &AnalysedEvent) -> EventProbe {
    let kind = form_kind(analysed.form);
    let streams = [&analysed.main, &analysed.samples, &analysed.topics];
    let mut keys: Vec<u64> = streams
        .iter()
        .flat_map(|s| s.toks.iter().map(|t| key(kind, t.hash)))
        .collect();
    for g in &analysed.glued {
        let bytes = g.text.as_bytes();
        keys.extend(
            (0..bytes.len())
                .filter_map(|s| bytes.get(s..).and_then(prefix_key))
                .map(|prefix| key(GLUED, prefix)),
        );
    }
    keys.sort_unstable();
    keys.dedup();
    let event = &analysed.event;
    EventProbe {
        keys,
        everyone: event.addressed_to_brand || event.kind == EventKind::DirectMessage,
    }
}
