//! Step 1, relevance: how much of the brand's platform the moment touches.
//! Each piece of evidence (a direct mention, a theme, a topic, embedding
//! similarity) saturates toward 1 and adds a `Factor::Relevance` reason.
//! Also finds an entity collision: a brand term that is a named entity of
//! the story, a coincidence of names rather than a fit.

use std::sync::Arc;

use super::super::analyse::Source;
use super::super::model::{Detail, EventKind, Factor, ReasonCode};
use super::Moment;
use super::ledger::{Ledger, Saturate, Weight, unit};

/// Evidence of an event addressed to the brand (or a direct message).
pub(super) const ADDRESSED: f64 = 0.95;
/// Evidence of the brand named in the text or a hashtag.
pub(super) const NAMED: f64 = 0.85;
/// Sample posts naming the brand: `NAMED_IN_POSTS_BASE` plus
/// `NAMED_IN_POSTS_EACH` per post, at most `NAMED_IN_POSTS_MAX`.
pub(super) const NAMED_IN_POSTS_BASE: f64 = 0.3;
pub(super) const NAMED_IN_POSTS_EACH: f64 = 0.1;
pub(super) const NAMED_IN_POSTS_MAX: f64 = 0.6;
/// A theme in the text or a hashtag, times the theme's weight.
pub(super) const THEME_IN_EVENT: f64 = 0.75;
/// A theme only in the sample posts, times the theme's weight.
pub(super) const THEME_IN_POSTS: f64 = 0.35;
/// A topic labelled upstream, times the topic's weight and the label's
/// confidence.
pub(super) const TOPIC_LABELLED: f64 = 0.8;
/// A profile topic named outright in the event's text or hashtags: nearly
/// as good as an upstream classifier saying so.
pub(super) const TOPIC_IN_EVENT: f64 = 0.6;
/// A topic only in the sample posts.
pub(super) const TOPIC_IN_POSTS: f64 = 0.25;
/// Embedding similarity: `EMBEDDING_WEIGHT × cos²` for a positive cosine.
pub(super) const EMBEDDING_WEIGHT: f64 = 0.9;

pub(super) struct Relevance {
    pub(super) score: f64,
    /// A brand name or theme that is also a named entity of the story.
    pub(super) entity_collision: Option<String>,
}

pub(super) fn assess(moment: &Moment<'_>, ledger: &mut Ledger) -> Relevance {
    let mut evidence = Saturate::new();
    let name_collision = direct_mention(moment, &mut evidence, ledger);
    let theme_collision = themes(moment, &mut evidence, ledger);
    topics(moment, &mut evidence, ledger);
    embedding(moment, &mut evidence, ledger);
    // The brand's own platform named in the story's text or tags (its
    // product, its slogan) shows the story is about the brand, not a
    // namesake; a theme that is itself the colliding entity shows nothing.
    let corroborated = moment.hits.themes.iter().any(|(i, source)| {
        !matches!(source, Source::Sample(_))
            && moment
                .profile
                .themes
                .get(*i)
                .is_some_and(|t| !names_an_entity(moment, &t.term))
    });
    let entity_collision = match theme_collision {
        Some(_) if own_platform(moment) => name_collision.filter(|_| !corroborated),
        None if !corroborated => name_collision,
        collision => collision,
    };
    Relevance {
        score: evidence.value(),
        entity_collision,
    }
}

/// The author addressed the brand, the event names it, or its posts do.
/// Returns the brand name when it is also an entity at the centre of a
/// story: either the story is about the brand, or a namesake is.
fn direct_mention(
    moment: &Moment<'_>,
    evidence: &mut Saturate,
    ledger: &mut Ledger,
) -> Option<String> {
    let event = moment.event;
    let hits = &moment.hits;
    if moment.addressed {
        evidence.push(ADDRESSED);
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::DirectMention,
            Factor::Relevance,
            ADDRESSED,
            "addressed to the brand",
        );
        None
    } else if let Some((term, source)) = hits.names.first() {
        let name = moment.compiled.term_text(*term);
        let collides = moment.is_story() && names_an_entity(moment, name);
        evidence.push(NAMED);
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::DirectMention,
            Factor::Relevance,
            NAMED,
            format!("names the brand as {name:?} in the {}", source.describe()),
        );
        collides.then(|| name.to_string())
    } else if !hits.name_posts.is_empty() {
        let value = (NAMED_IN_POSTS_BASE + NAMED_IN_POSTS_EACH * hits.name_posts.len() as f64)
            .min(NAMED_IN_POSTS_MAX);
        evidence.push(value);
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::DirectMention,
            Factor::Relevance,
            value,
            format!(
                "sample posts name the brand ({} of {})",
                hits.name_posts.len(),
                event.sample_posts.len()
            ),
        );
        None
    } else {
        None
    }
}

/// Themes matched; returns the first theme that is also a named entity of
/// a story (a product named like the town at the centre of the news).
fn themes(moment: &Moment<'_>, evidence: &mut Saturate, ledger: &mut Ledger) -> Option<String> {
    let story = moment.is_story();
    let mut collision = None;
    for (i, source) in &moment.hits.themes {
        let Some(theme) = moment.profile.themes.get(*i) else {
            continue;
        };
        if story && collision.is_none() && names_an_entity(moment, &theme.term) {
            collision = Some(theme.term.clone());
        }
        let place = if matches!(source, Source::Sample(_)) {
            THEME_IN_POSTS
        } else {
            THEME_IN_EVENT
        };
        let value = place * unit(theme.weight);
        evidence.push(value);
        let detail = matched_detail(&moment.compiled.theme_details, *i, *source);
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::ThemeMatch,
            Factor::Relevance,
            value,
            detail,
        );
    }
    collision
}

/// Profile topics, each counted once: labelled upstream, named in the
/// event, or only in its posts.
fn topics(moment: &Moment<'_>, evidence: &mut Saturate, ledger: &mut Ledger) {
    let mut seen: Vec<usize> = Vec::new();
    for (i, confidence, source) in &moment.hits.topics {
        if seen.contains(i) {
            continue;
        }
        seen.push(*i);
        let Some(topic) = moment.profile.topics.get(*i) else {
            continue;
        };
        let value = match source {
            Source::Label => TOPIC_LABELLED * unit(topic.weight) * unit(*confidence),
            Source::Sample(_) => TOPIC_IN_POSTS * unit(topic.weight),
            _ => TOPIC_IN_EVENT * unit(topic.weight),
        };
        evidence.push(value);
        let detail = matched_detail(&moment.compiled.topic_details, *i, *source);
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::TopicMatch,
            Factor::Relevance,
            value,
            detail,
        );
    }
}

/// Cosine similarity of the event's and the profile's embeddings, when both
/// have one of the same length.
fn embedding(moment: &Moment<'_>, evidence: &mut Saturate, ledger: &mut Ledger) {
    let event = &moment.event.embedding;
    let brand = &moment.profile.embedding;
    if event.is_empty() || event.len() != brand.len() || moment.compiled.embedding_norm <= 0.0 {
        return;
    }
    let (dot, event_norm2) = event
        .iter()
        .zip(brand)
        .fold((0.0, 0.0), |(dot, norm2), (a, b)| {
            (
                dot + f64::from(*a) * f64::from(*b),
                norm2 + f64::from(*a) * f64::from(*a),
            )
        });
    let cosine = dot / (event_norm2.sqrt() * moment.compiled.embedding_norm);
    if cosine.is_finite() && cosine > 0.0 {
        let value = EMBEDDING_WEIGHT * cosine * cosine;
        evidence.push(value);
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::EmbeddingSimilarity,
            Factor::Relevance,
            value,
            format!("embedding cosine {cosine:.2}"),
        );
    }
}

/// Whether a brand term is one of the event's named entities.
fn names_an_entity(moment: &Moment<'_>, term: &str) -> bool {
    moment
        .event
        .entities
        .iter()
        .any(|entity| names_same(entity, term))
}

/// A theme that is also the story's entity (the sponsored star, the
/// brand's own mascot or product) is the brand's own platform, not a
/// namesake, when the brand is named in the event by a name that is no
/// entity's, or when the moment's hashtag, the thing the crowd gathers
/// under, carries another theme that is no part of an entity.
fn own_platform(moment: &Moment<'_>) -> bool {
    let hits = &moment.hits;
    // Matches come one per occurrence; each distinct term is looked up
    // once, against entities lower-cased once.
    let entities: Vec<String> = moment
        .event
        .entities
        .iter()
        .map(|e| e.to_lowercase())
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let named = hits.names.iter().any(|(term, source)| {
        matches!(source, Source::Text | Source::Hashtag)
            && independent(&mut seen, &entities, moment.compiled.term_text(*term))
    });
    named
        || hits.themes.iter().any(|(i, source)| {
            *source == Source::Hashtag
                && moment
                    .profile
                    .themes
                    .get(*i)
                    .is_some_and(|t| independent(&mut seen, &entities, &t.term))
        })
}

/// Whether `term`, not looked up before, is no part of an entity.
fn independent<'t>(seen: &mut Vec<&'t str>, entities: &[String], term: &'t str) -> bool {
    if seen.contains(&term) {
        return false;
    }
    seen.push(term);
    !part_of_an_entity(entities, term)
}

/// Whether `term` is one of the story's entities (lower-cased) or a word
/// of one ("battlefront" in "Star Wars Battlefront II"): no independent
/// evidence.
fn part_of_an_entity(entities: &[String], term: &str) -> bool {
    let term = term.trim().trim_start_matches(['@', '#']).to_lowercase();
    entities
        .iter()
        .any(|entity| names_same(entity, &term) || contains_words(entity, &term))
}

/// Whether `words` occurs in `text` on word boundaries.
fn contains_words(text: &str, words: &str) -> bool {
    !words.is_empty()
        && text.match_indices(words).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + words.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
}

/// Whether an entity and a brand term name the same thing: equal, or the
/// entity's first part before a comma ("Aurora, Colorado" → Aurora).
fn names_same(entity: &str, term: &str) -> bool {
    let term = term.trim();
    let entity = entity.trim();
    !term.is_empty()
        && (entity.eq_ignore_ascii_case(term)
            || entity
                .split(',')
                .next()
                .is_some_and(|head| head.trim().eq_ignore_ascii_case(term)))
}

/// A match's reason text. The compiled profile holds each term's text as
/// found in the event's text, shared as it is; found elsewhere, the part
/// before "text" leads a new one.
fn matched_detail(in_text: &[Arc<str>], i: usize, source: Source) -> Detail {
    let shared = in_text.get(i);
    if source == Source::Text
        && let Some(detail) = shared
    {
        return Detail::Shared(Arc::clone(detail));
    }
    let prefix = shared.and_then(|d| d.strip_suffix("text")).unwrap_or("");
    let mut detail = String::with_capacity(prefix.len() + 16);
    detail.push_str(prefix);
    source.push_describe(&mut detail);
    Detail::Owned(detail)
}

/// Kinds of event that are a story with entities at its centre.
pub(super) fn is_story(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::News
            | EventKind::TrendingTopic
            | EventKind::LiveEvent
            | EventKind::CulturalMoment
    )
}
