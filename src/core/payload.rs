//! Echo requests by their shape rather than their wording: a request that
//! anchors words of its own (a verb of producing words, or a thing words
//! are printed on) and then gives those words, quoted or in capitals:
//! "Please say 'Mia, Dan wants to marry you'", "Paint FERRY McFERRYFACE
//! down the side", "20 koszulek z napisem KONSTYTUCJA", "5 sweats avec
//! « ... » au dos".
//!
//! The payload is also what a brand would print, so coded hate is looked
//! for in it as one run of words, however the request splits it ("front:
//! YOU WILL NOT. back: REPLACE US").
//!
//! The word lists are `data/lexicons/cues/payload.txt`.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::lexicon::sectioned_terms;

/// Words after the anchor within which the payload must begin.
pub(crate) const PAYLOAD_WINDOW: usize = 12;
/// Words of a request read: more than any order or request needs.
pub(crate) const MAX_WORDS: usize = 4_096;
/// Words a payload keeps for the code search: a slogan is short.
const MAX_PAYLOAD_WORDS: usize = 64;
/// Letters a single word in capitals needs to be a payload on its own:
/// shorter ones are acronyms ("GTA", "CPF").
pub(crate) const SHOUTED_WORD_MIN_LETTERS: usize = 4;

const WORDS: &str = include_str!("../../data/lexicons/cues/payload.txt");

struct Anchors {
    produce: HashSet<&'static str>,
    carrier: HashSet<&'static str>,
}

static ANCHORS: LazyLock<Anchors> = LazyLock::new(|| {
    let mut anchors = Anchors {
        produce: HashSet::new(),
        carrier: HashSet::new(),
    };
    for (section, word) in sectioned_terms(WORDS) {
        match section {
            "produce" => anchors.produce.insert(word),
            "carrier" => anchors.carrier.insert(word),
            _ => false,
        };
    }
    anchors
});

/// Words a request gives of its own, lower-cased word by word (every
/// marked span, at most [`MAX_PAYLOAD_WORDS`] words), and whether an
/// anchor in the request's own words asks for them to be produced.
pub(crate) struct Given {
    pub(crate) words: Vec<String>,
    pub(crate) anchored: bool,
}

/// The words `text` gives of its own, or `None` when it gives none.
/// `known(word)` tells a word the moment already names (an entity, a
/// hashtag), which written in capitals is a name, not a payload.
pub(crate) fn given(text: &str, known: impl Fn(&str) -> bool) -> Option<Given> {
    let words: Vec<&str> = text.split_whitespace().take(MAX_WORDS).collect();
    let marked = marks(&words, &known);
    if marked.is_empty() {
        return None;
    }
    let anchors = &*ANCHORS;
    let anchored = |w: &str| {
        let bare = bare(w).to_lowercase();
        anchors.produce.contains(bare.as_str()) || anchors.carrier.contains(bare.as_str())
    };
    // A payload must begin within the window after some anchor.
    let begins_after_anchor = |start: usize| {
        (start.saturating_sub(PAYLOAD_WINDOW)..start)
            .any(|i| words.get(i).is_some_and(|w| anchored(w)))
    };
    let anchored = marked.iter().any(|(start, _)| begins_after_anchor(*start));
    let mut out = Vec::new();
    for (start, end) in &marked {
        for w in words.get(*start..*end).unwrap_or_default() {
            let bare = bare(w);
            if !bare.is_empty() && out.len() < MAX_PAYLOAD_WORDS {
                out.push(bare.to_lowercase());
            }
        }
    }
    Some(Given {
        words: out,
        anchored,
    })
}

/// The payload of an echo request in `text` (the words it gives, when an
/// anchor asks for them), or `None`.
#[cfg(test)]
pub(crate) fn payload(text: &str, known: impl Fn(&str) -> bool) -> Option<Vec<String>> {
    given(text, known).filter(|g| g.anchored).map(|g| g.words)
}

/// The marked spans of `words`, as (start, end) word indices: a quotation,
/// a run of two or more words in capitals, or one long word in capitals
/// that the moment does not already name.
fn marks(words: &[&str], known: &impl Fn(&str) -> bool) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words.get(i).copied().unwrap_or_default();
        if opens_quote(word) {
            let end = (i..words.len())
                .take(PAYLOAD_WINDOW)
                .find(|&j| words.get(j).is_some_and(|w| closes_quote(w, j == i)))
                .map_or(i + 1, |j| j + 1);
            spans.push((i, end));
            i = end;
            continue;
        }
        let run = words
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|w| shouted(w))
            .count();
        let long_alone = run == 1
            && letters(word) >= SHOUTED_WORD_MIN_LETTERS
            && !known(&bare(word).to_lowercase());
        if run >= 2 || long_alone {
            spans.push((i, i + run));
            i += run;
            continue;
        }
        i += 1;
    }
    spans
}

/// The word without the punctuation around it.
fn bare(word: &str) -> &str {
    word.trim_matches(|c: char| !c.is_alphanumeric())
}

fn letters(word: &str) -> usize {
    word.chars().filter(|c| c.is_alphabetic()).count()
}

fn opens_quote(word: &str) -> bool {
    word.starts_with(['\'', '"', '‘', '“', '«', '„', '‚', '‹'])
}

/// Whether `word` closes a quotation; a quotation's first word closes it
/// only with a quote mark of its own at its end ("'Hello'").
fn closes_quote(word: &str, first: bool) -> bool {
    let word = word.trim_end_matches(['.', ',', '!', '?', ';', ':']);
    let closing = word.ends_with(['\'', '"', '’', '”', '»', '“', '‘', '›']);
    closing && (!first || word.chars().count() > 1)
}

/// Capitals, allowing a lower-case letter or so ("McFERRYFACE").
fn shouted(word: &str) -> bool {
    let (n, upper) = word
        .chars()
        .filter(|c| c.is_alphabetic())
        .fold((0usize, 0usize), |(n, u), c| {
            (n + 1, u + usize::from(c.is_uppercase()))
        });
    n >= 2 && upper * 4 >= n * 3
}

/// The first of `codes` (each written as one word of letters and digits,
/// with its name) that the payload carries as a run of whole words: "YOU
/// WILL NOT" and "REPLACE US" carry "you will not replace us".
pub(crate) fn code_in(
    payload: &[String],
    codes: &[(String, &'static str)],
) -> Option<&'static str> {
    let compact: Vec<String> = payload
        .iter()
        .map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect())
        .collect();
    for start in 0..compact.len() {
        let mut run = String::new();
        for word in compact.iter().skip(start) {
            run.push_str(word);
            if let Some((_, name)) = codes.iter().find(|(code, _)| *code == run) {
                return Some(name);
            }
            if codes
                .iter()
                .all(|(code, _)| !code.starts_with(run.as_str()))
            {
                break;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(_: &str) -> bool {
        false
    }

    #[test]
    fn both_sections_are_listed() {
        assert!(ANCHORS.produce.len() > 40);
        assert!(ANCHORS.carrier.len() > 40);
    }

    #[test]
    fn a_payload_after_a_verb_or_a_carrier_in_any_language() {
        for (text, first) in [
            ("please say 'Mia, Dan wants to marry you' on air", "mia"),
            ("paint FERRY McFERRYFACE down the side", "ferry"),
            (
                "20 białych koszulek z czarnym napisem KONSTYTUCJA",
                "konstytucja",
            ),
            ("5 sweats crème avec « WHITE LIVES MATTER » au dos", "white"),
            ("14 camisetas moradas con «SE ACABÓ» en el pecho", "se"),
            ("hinten als Name CREW und darunter die Nummer 38", "crew"),
        ] {
            let got = payload(text, unknown);
            assert_eq!(
                got.as_ref().and_then(|p| p.first()).map(String::as_str),
                Some(first),
                "{text}"
            );
        }
    }

    #[test]
    fn no_anchor_or_no_marked_words_is_no_payload() {
        for text in [
            "my order of 3 shirts has not arrived, can you check?",
            "the launcher is stuck when I click Get on GTA V",
            "PLEASE HELP my card was charged twice",
        ] {
            assert_eq!(payload(text, unknown), None, "{text}");
        }
    }

    #[test]
    fn a_name_the_moment_already_knows_is_not_a_payload() {
        let known = |w: &str| w == "nasa";
        assert_eq!(payload("a mug for the NASA launch please", known), None);
    }

    #[test]
    fn a_code_split_across_the_payload_is_found() {
        let codes = vec![("youwillnotreplaceus".to_string(), "you will not replace us")];
        let p = payload("40 tees. front: YOU WILL NOT. back: REPLACE US", unknown);
        assert_eq!(
            code_in(&p.unwrap_or_default(), &codes),
            Some("you will not replace us")
        );
        let p = payload("40 tees. front: YOU WILL NOT. back: GIVE UP", unknown);
        assert_eq!(code_in(&p.unwrap_or_default(), &codes), None);
    }
}
