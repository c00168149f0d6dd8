//! Deadpan verdicts: a post that says something, then closes flat on a
//! word or two of praise standing as a sentence of its own ("...body
//! confidence, now available in a pear-shaped bottle. Brave.", "...not one
//! car. Iconic honestly", "Copy Nothing. Sell Nothing. Bold strategy").
//!
//! The praise is detached from what the post describes, and it is flat:
//! no exclamation mark, no emoji. That is how irony is written when it
//! uses none of the stock frames ("love how…", "great job"), and a
//! sentiment score reads it as a fan. Sincere delight is rarely that flat
//! or that detached ("Obsessed!!", "the best ad this year, I cried"), but
//! some is ("Watched it twice. Perfect."): the reading is only ever
//! evidence in the brand's own moment, where mistaking a fan for a critic
//! sends the moment to a person, and mistaking a critic for a fan puts the
//! brand's cheerful reply under its own mockery.
//!
//! English only: the praise is read with VADER.

use super::sentiment;

/// Longest closing sentence, in words (tags and handles left out), read as
/// a verdict.
pub(crate) const VERDICT_MAX_WORDS: usize = 3;
/// Words the post must say before its verdict: a verdict on nothing is a
/// reaction, not irony.
pub(crate) const CONTENT_MIN_WORDS: usize = 4;
/// Compound sentiment above which a verdict is praise.
pub(crate) const VERDICT_PRAISE: f64 = 0.05;

/// Whether `post` closes on a deadpan verdict of praise.
pub(crate) fn closes_on_deadpan_praise(post: &str) -> bool {
    // Walks back from the end: trailing tags, handles and links, then the
    // closing sentence, then the words before it. At most `MAX_WALK`
    // tokens: only a post's close is read.
    let mut tokens = post.split_whitespace().rev().take(MAX_WALK);
    let mut verdict: Vec<&str> = Vec::with_capacity(VERDICT_MAX_WORDS);
    let mut closed = false;
    for word in tokens.by_ref() {
        if !flat(word) {
            return false;
        }
        if !a_word(word) {
            continue;
        }
        if !verdict.is_empty() && ends_sentence(word) {
            closed = true;
            break;
        }
        if verdict.len() == VERDICT_MAX_WORDS {
            return false;
        }
        verdict.push(word);
    }
    // The word that closed the sentence before is content too.
    let content = 1 + tokens
        .filter(|w| a_word(w))
        .take(CONTENT_MIN_WORDS - 1)
        .count();
    if !closed || content < CONTENT_MIN_WORDS {
        return false;
    }
    // The words were collected backwards.
    verdict.reverse();
    let question = verdict
        .last()
        .is_some_and(|w| trim_closing(w).ends_with('?'));
    !question && sentiment::compound(&verdict.join(" ")) > VERDICT_PRAISE
}

/// Tokens read from a post's end: tags, the verdict and the content
/// before it fit many times over.
const MAX_WALK: usize = 64;

/// A word of the post's own: lettered, not a tag, handle or link.
fn a_word(token: &str) -> bool {
    !tag_or_link(token) && token.chars().any(char::is_alphabetic)
}

/// A word without an exclamation mark or an emoji: delivered flat.
fn flat(word: &str) -> bool {
    !word
        .chars()
        .any(|c| c == '!' || (!c.is_ascii() && !c.is_alphanumeric() && !general_punctuation(c)))
}

/// Dashes, typographic quotes and the ellipsis: punctuation, not emoji.
fn general_punctuation(c: char) -> bool {
    ('\u{2000}'..='\u{206f}').contains(&c)
}

fn ends_sentence(word: &str) -> bool {
    trim_closing(word).ends_with(['.', '?', '\u{2026}'])
}

/// The word without closing quotes and brackets.
fn trim_closing(word: &str) -> &str {
    word.trim_end_matches(['"', '\'', ')', '\u{2019}', '\u{201d}'])
}

fn tag_or_link(word: &str) -> bool {
    word.starts_with(['#', '@']) || word.contains("://")
}
