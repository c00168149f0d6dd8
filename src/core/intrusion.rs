//! Reaching into a private life: a post that reports (or calls for) the
//! crowd going from a person's moment on stage to the rest of their life:
//! "people are digging through her PhD and emailing her university",
//! "ya encontraron su Facebook", "seine Adresse wurde veröffentlicht".
//!
//! The act has a shape more than a vocabulary: a verb of reaching near a
//! third person's possessive and a trace of their private life. Listing
//! the shape's three small word classes reads phrasings no list of whole
//! phrases ("her instagram", "found her") foresees, in several languages
//! at once. Either order counts, for languages that put the verb last.
//!
//! The word lists are `data/lexicons/cues/intrusion.txt`.

use std::sync::LazyLock;

use super::lexicon::sectioned_terms;
use super::text::{FastMap, Form, Stream, hash_str, pattern_tokens};

/// Words from the verb of reaching to the possessive ("digging *through*
/// her PhD", "found out *where* his school..."), or from the trace back
/// to a verb that follows it.
pub(crate) const REACH_GAP: usize = 4;
/// Words from "outside" to the possessive of the home ("outside *of*
/// her flat").
pub(crate) const AT_GAP: usize = 2;
/// Words from the possessive to the trace ("her *old* school").
pub(crate) const TRACE_GAP: usize = 2;

/// Words that join two items of a list, in the languages of the lists.
const LIST_JOINS: [&str; 7] = ["and", "und", "y", "e", "et", "en", "i"];

const WORDS: &str = include_str!("../../data/lexicons/cues/intrusion.txt");

/// The word classes of the shape, as bits: a word may be in several
/// ("sua" is Portuguese and Italian; "name" both a name and, in German, a
/// noun of its own).
const REACH: u8 = 1;
const POSSESSIVE: u8 = 2;
const TRACE: u8 = 4;
const NAME: u8 = 8;
const JOIN: u8 = 16;
const AT: u8 = 32;
const DWELLING: u8 = 64;

/// Every listed word and its classes, looked up once per word of a post
/// with the core's fast hasher: this reading runs over every sample post.
struct Classes {
    /// By the hash of each listed word as a token stream holds it (the
    /// word itself, and its English stem): the text and the sample posts
    /// are read from the streams the lexicons matched, not tokenised
    /// again.
    by_hash: FastMap<u64, u8>,
    /// One bit per listed hash (its low bits): nearly every token of a
    /// post is in no class, and this answers that without a lookup.
    filter: [u64; FILTER_WORDS],
}

/// Words of the filter: 4,096 bits for a few hundred listed hashes.
const FILTER_WORDS: usize = 64;

impl Classes {
    fn of_hash(&self, hash: u64) -> u8 {
        let (word, bit) = filter_bit(hash);
        if self.filter.get(word).is_none_or(|w| w & bit == 0) {
            return 0;
        }
        self.by_hash.get(&hash).copied().unwrap_or(0)
    }
}

/// The lists are compiled in; a unit test checks every section parses
/// and none is empty, so an unknown section can only be a typo caught
/// there.
static CLASSES: LazyLock<Classes> = LazyLock::new(|| {
    let mut of: FastMap<&'static str, u8> = FastMap::default();
    for (section, word) in sectioned_terms(WORDS) {
        let class = match section {
            "reach" => REACH,
            "possessive" => POSSESSIVE,
            "trace" => TRACE,
            "name" => NAME,
            "at" => AT,
            "dwelling" => DWELLING,
            _ => 0,
        };
        *of.entry(word).or_default() |= class;
    }
    for join in LIST_JOINS {
        *of.entry(join).or_default() |= JOIN;
    }
    let mut by_hash: FastMap<u64, u8> = FastMap::default();
    for (word, class) in &of {
        *by_hash.entry(hash_str(word)).or_default() |= class;
        if let [stem] = pattern_tokens(word, Form::English).as_slice() {
            *by_hash.entry(hash_str(stem)).or_default() |= class;
        }
    }
    let mut filter = [0u64; FILTER_WORDS];
    for hash in by_hash.keys() {
        let (word, bit) = filter_bit(*hash);
        if let Some(w) = filter.get_mut(word) {
            *w |= bit;
        }
    }
    Classes { by_hash, filter }
});

/// The filter word and bit of a hash.
fn filter_bit(hash: u64) -> (usize, u64) {
    let low = (hash as usize) % (FILTER_WORDS * 64);
    (low / 64, 1 << (low % 64))
}

/// Whether `post`, read word by word, reaches into someone's private life
/// (the reading of [`first_post_reaching`] and [`text_reaching`], on a
/// text rather than a token stream): a verb of reaching
/// within [`REACH_GAP`] words of a possessive that is followed, within
/// [`TRACE_GAP`] words, by a trace of a private life. In the crowd's own
/// posts (`crowd`), a person's name listed with a trace ("name and
/// employer") is the dox itself.
#[cfg(test)]
pub(crate) fn reaches_into_a_private_life(post: &str, crowd: bool) -> bool {
    let classes = &*CLASSES;
    let mut walk = Walk::new(crowd);
    let mut found = false;
    super::text::for_each_word(post, |word| {
        found = found || walk.step(classes.of_hash(hash_str(word)));
    });
    found
}

/// The first sample post, by its segment in the posts' token `stream`,
/// that reaches into a private life (read as the crowd's), its first
/// [`READ_WORDS`] words read.
pub(crate) fn first_post_reaching(stream: &Stream) -> Option<usize> {
    let classes = &*CLASSES;
    let mut segment = None;
    let mut walk = Walk::new(true);
    for tok in &stream.toks {
        if segment != Some(tok.seg) {
            segment = Some(tok.seg);
            walk = Walk::new(true);
        }
        if walk.at < READ_WORDS && walk.step(classes.of_hash(tok.hash)) {
            return Some(tok.seg as usize);
        }
    }
    None
}

/// Whether the event's text, its tokens the segments of `stream` below
/// `text_segments` (the text comes first in the main stream), reaches
/// into a private life; its first [`TEXT_READ_WORDS`] words read, as no
/// crowd's.
pub(crate) fn text_reaching(stream: &Stream, text_segments: usize) -> bool {
    let classes = &*CLASSES;
    let mut walk = Walk::new(false);
    stream
        .toks
        .iter()
        .take_while(|tok| (tok.seg as usize) < text_segments)
        .take(TEXT_READ_WORDS)
        .any(|tok| walk.step(classes.of_hash(tok.hash)))
}

/// Words of a text or post read: a crowd's post says it early, and no
/// post buys more work than this.
pub(crate) const READ_WORDS: usize = 200;
/// Words of the event's text read: a story that reports a crowd at a
/// person's door says so in its opening, and the text is the longest
/// field.
pub(crate) const TEXT_READ_WORDS: usize = 64;

/// The shape, read one word's classes at a time.
struct Walk {
    crowd: bool,
    at: usize,
    reach: Option<usize>,
    possessive: Option<usize>,
    /// The possessive of the last possessive-and-trace pair with no verb
    /// before it yet: a verb may follow ("ihre Adresse veröffentlicht").
    pair: Option<usize>,
    name: Option<usize>,
    joined_at: Option<usize>,
    /// A word of standing at a place ("outside", "vor"), for a crowd at
    /// a private person's door.
    at_place: Option<usize>,
}

impl Walk {
    fn new(crowd: bool) -> Self {
        Walk {
            crowd,
            at: 0,
            reach: None,
            possessive: None,
            pair: None,
            name: None,
            joined_at: None,
            at_place: None,
        }
    }

    /// Takes the next word's classes; whether the shape is complete.
    fn step(&mut self, class: u8) -> bool {
        let at = self.at;
        self.at += 1;
        let within = |from: Option<usize>, gap: usize| from.is_some_and(|f| at - f <= gap);
        // "name and employer", "Name, Adresse": the two listed together.
        let listed = self
            .name
            .is_some_and(|n| at == n + 1 || (at == n + 2 && self.joined_at == Some(at - 1)));
        if self.crowd && listed && class & TRACE != 0 {
            return true;
        }
        if class & NAME != 0 {
            self.name = Some(at);
        }
        if class & JOIN != 0 {
            self.joined_at = Some(at);
        }
        if class & TRACE != 0
            && let Some(owner) = self.possessive.filter(|&p| at - p <= TRACE_GAP)
        {
            if self.reach.is_some_and(|r| owner.abs_diff(r) <= REACH_GAP) {
                return true;
            }
            self.pair = Some(owner);
        }
        // "outside her new place", "parked outside their flat".
        if class & DWELLING != 0
            && let Some(owner) = self.possessive.filter(|&p| at - p <= TRACE_GAP)
            && self
                .at_place
                .is_some_and(|a| a < owner && owner - a <= AT_GAP)
        {
            return true;
        }
        if class & AT != 0 {
            self.at_place = Some(at);
        }
        if class & POSSESSIVE != 0 {
            self.possessive = Some(at);
        }
        if class & REACH != 0 {
            if within(self.pair, REACH_GAP + TRACE_GAP) {
                return true;
            }
            self.reach = Some(at);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_listed() {
        let count = |bit: u8| CLASSES.by_hash.values().filter(|c| *c & bit != 0).count();
        assert!(count(REACH) > 20);
        assert!(count(POSSESSIVE) > 10);
        assert!(count(TRACE) > 20);
        assert!(count(NAME) > 5);
        assert!(count(AT) > 5);
        assert!(count(DWELLING) > 10);
        let sections: Vec<_> = WORDS
            .lines()
            .filter(|l| l.starts_with('['))
            .map(str::trim)
            .collect();
        assert_eq!(
            sections,
            [
                "[reach]",
                "[possessive]",
                "[trace]",
                "[name]",
                "[at]",
                "[dwelling]"
            ]
        );
    }

    #[test]
    fn reads_the_shape_in_either_order_and_in_other_languages() {
        for post in [
            "people are digging through her PhD and emailing her university",
            "ya encontraron su Facebook, sus fotos de vacaciones",
            "jemand hat seine Adresse veröffentlicht",
            "someone found out where his old school was and posted it",
            "they tracked down her employer",
            "people are driving out to their apartment complex to film it",
        ] {
            assert!(reaches_into_a_private_life(post, true), "{post}");
        }
        let listed = "Name und Arbeitgeber gehen schon überall rum";
        assert!(reaches_into_a_private_life(listed, true));
        // Naming something is not listing a person's name.
        assert!(!reaches_into_a_private_life("name our phone cookie", true));
        // A customer's own request is no crowd.
        assert!(!reaches_into_a_private_life(
            "please update the name and address on my account",
            false
        ));
    }

    #[test]
    fn leaves_alone_what_is_not_the_shape() {
        for post in [
            "she found her rhythm in the second half",
            "found his dad in the crowd after the final whistle",
            "posted his home run on every account",
            "my school posted the results",
            "digging the new album, her voice is unreal, her university choir days show",
        ] {
            assert!(!reaches_into_a_private_life(post, true), "{post}");
        }
    }

    #[test]
    fn every_order_of_the_classes_is_read_without_overflow() {
        // Debug builds check arithmetic: a verb after the possessive, a
        // trace before either, a name after a list word.
        let words = [
            "her", "digging", "school", "name", "and", "found", "address",
        ];
        for a in words {
            for b in words {
                for c in words {
                    for d in words {
                        let post = format!("{a} {b} {c} {d}");
                        let _ = reaches_into_a_private_life(&post, true);
                    }
                }
            }
        }
        assert!(reaches_into_a_private_life("her school digging", true));
    }
}
