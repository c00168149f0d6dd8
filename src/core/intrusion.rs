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

use std::collections::HashSet;
use std::sync::LazyLock;

use super::text;

/// Words from the verb of reaching to the possessive ("digging *through*
/// her PhD", "found out *where* his school..."), or from the trace back
/// to a verb that follows it.
pub(crate) const REACH_GAP: usize = 4;
/// Words from the possessive to the trace ("her *old* school").
pub(crate) const TRACE_GAP: usize = 2;
/// Bytes of a post read: a crowd's post says it early, and no post buys
/// more work than this.
pub(crate) const READ_BYTES: usize = 1024;

/// Words that join two items of a list, in the languages of the lists.
const LIST_JOINS: [&str; 7] = ["and", "und", "y", "e", "et", "en", "i"];

const WORDS: &str = include_str!("../../data/lexicons/cues/intrusion.txt");

/// The three word classes of the shape.
struct Classes {
    reach: HashSet<&'static str>,
    possessive: HashSet<&'static str>,
    trace: HashSet<&'static str>,
    name: HashSet<&'static str>,
}

/// The lists are compiled in; a unit test checks every section parses
/// and none is empty, so an unknown section can only be a typo caught
/// there.
static CLASSES: LazyLock<Classes> = LazyLock::new(|| {
    let mut classes = Classes {
        reach: HashSet::new(),
        possessive: HashSet::new(),
        trace: HashSet::new(),
        name: HashSet::new(),
    };
    let mut section = "";
    for line in WORDS.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
            continue;
        }
        let set = match section {
            "reach" => &mut classes.reach,
            "possessive" => &mut classes.possessive,
            "trace" => &mut classes.trace,
            "name" => &mut classes.name,
            _ => continue,
        };
        set.insert(line);
    }
    classes
});

/// Whether `post` reaches into someone's private life: a verb of reaching
/// within [`REACH_GAP`] words of a possessive that is followed, within
/// [`TRACE_GAP`] words, by a trace of a private life. In the crowd's own
/// posts (`crowd`), a person's name listed with a trace ("name and
/// employer") is the dox itself.
pub(crate) fn reaches_into_a_private_life(post: &str, crowd: bool) -> bool {
    let classes = &*CLASSES;
    let mut at = 0usize;
    let mut reach: Option<usize> = None;
    let mut possessive: Option<usize> = None;
    // The possessive of the last possessive-and-trace pair with no verb
    // before it yet: a verb may follow ("ihre Adresse veröffentlicht").
    let mut pair: Option<usize> = None;
    let mut name: Option<usize> = None;
    let mut joined_at: Option<usize> = None;
    let mut found = false;
    let within = |from: Option<usize>, to: usize, gap: usize| from.is_some_and(|f| to - f <= gap);
    text::for_each_word(text::clip(post, READ_BYTES), |word| {
        if found {
            return;
        }
        // "name and employer", "Name, Adresse": the two listed together.
        let listed =
            name.is_some_and(|n| at == n + 1 || (at == n + 2 && joined_at == Some(at - 1)));
        if crowd && listed && classes.trace.contains(word) {
            found = true;
            return;
        }
        if classes.name.contains(word) {
            name = Some(at);
        }
        if LIST_JOINS.contains(&word) {
            joined_at = Some(at);
        }
        let owner = possessive.filter(|&p| at - p <= TRACE_GAP);
        if let Some(owner) = owner.filter(|_| classes.trace.contains(word)) {
            if within(reach, owner, REACH_GAP) {
                found = true;
                return;
            }
            pair = Some(owner);
        }
        if classes.possessive.contains(word) {
            possessive = Some(at);
        }
        if classes.reach.contains(word) {
            if within(pair, at, REACH_GAP + TRACE_GAP) {
                found = true;
                return;
            }
            reach = Some(at);
        }
        at += 1;
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_is_listed() {
        assert!(CLASSES.reach.len() > 20);
        assert!(CLASSES.possessive.len() > 10);
        assert!(CLASSES.trace.len() > 20);
        let sections: Vec<_> = WORDS
            .lines()
            .filter(|l| l.starts_with('['))
            .map(str::trim)
            .collect();
        assert_eq!(sections, ["[reach]", "[possessive]", "[trace]", "[name]"]);
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
}
