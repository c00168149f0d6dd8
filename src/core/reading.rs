//! One reading of an ASCII text for both of its readers: the word stream
//! (letters-and-digits words, stemmed) and VADER (whitespace-separated
//! tokens, punctuation stripped). Most tokens of real text are one plain
//! word, which both readers look up under the same lower-cased spelling:
//! the dictionary entry the stream finds carries VADER's entry too, so
//! each such word is cut and looked up once instead of twice.
//!
//! The result is exactly that of the two separate passes
//! (`StreamBuilder::push_words` or `text::for_each_word`, then
//! `sentiment::compound` of the text or of `without_tags` of a post);
//! a test compares them on generated texts.

use super::sentiment::{self, Tok};
use super::text::{
    MAX_FIELD_BYTES, StreamBuilder, ascii_chunk_spans, ascii_chunk_words, clip, is_url,
};

/// Which chunks VADER reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Vader {
    /// None: the caller does not need the sentiment.
    Off,
    /// Every chunk (the event's text).
    All,
    /// Every chunk but hashtags and handles (a sample post: the tag's own
    /// words say nothing about how people feel under it).
    Untagged,
}

/// Pushes the words of the ASCII `text` into the builder's current
/// segment and scores its sentiment in the same pass. Returns how many
/// words were pushed, and the compound (`None` when `vader` is `Off`).
///
/// `text` must be ASCII and at most `MAX_FIELD_BYTES` long (the bound
/// both readers cut at, so neither cuts).
pub(crate) fn push_and_score(
    stream: &mut StreamBuilder,
    text: &str,
    vader: Vader,
) -> (usize, Option<f64>) {
    debug_assert!(text.is_ascii() && text.len() <= MAX_FIELD_BYTES);
    let text = clip(text, MAX_FIELD_BYTES);
    let lowered = if vader == Vader::Off {
        String::new()
    } else {
        text.to_ascii_lowercase()
    };
    let mut toks: Vec<Tok<'_>> = Vec::new();
    if vader != Vader::Off {
        toks.reserve(text.len() / 5 + 1);
    }
    let mut cur = String::new();
    let mut words = 0;
    let (mut exclaims, mut questions) = (0, 0);
    for (start, end) in ascii_chunk_spans(text) {
        let Some(chunk) = text.get(start..end) else {
            continue;
        };
        let seen = Seen::of(chunk.as_bytes());
        let kept = match vader {
            Vader::Off => false,
            Vader::All => true,
            Vader::Untagged => !chunk.starts_with(['#', '@']),
        };
        // The marks of every kept chunk count, as in the text VADER scores
        // (whitespace has none); its tokens stop at `MAX_TOKENS`.
        if kept {
            exclaims += seen.exclaims;
            questions += seen.questions;
        }
        let read = kept && toks.len() < sentiment::MAX_TOKENS;
        if seen.plain() {
            // One lower-case word, which is also VADER's token.
            let entry = stream.push_token(chunk);
            words += 1;
            if read {
                let info = entry.map_or_else(|| sentiment::info(chunk), |e| e.vader);
                toks.push(sentiment::tok_known(chunk, false, info));
            }
            continue;
        }
        let (a, b) = sentiment::token_span(chunk.as_bytes());
        let lower = if read {
            lowered.get(start + a..start + b).unwrap_or("")
        } else {
            ""
        };
        // The entry of the stream word spelled as VADER's token, when one is.
        let mut shared = None;
        if !(seen.url_mark && is_url(chunk)) {
            ascii_chunk_words(chunk, &mut cur, &mut |w| {
                let entry = stream.push_token(w);
                words += 1;
                if read && shared.is_none() && w == lower {
                    shared = Some(entry);
                }
            });
        }
        if read {
            let info = match shared {
                Some(Some(entry)) => entry.vader,
                // A word the dictionary lacks, or a token that is not one
                // plain word (":)", "don't", "u.s.").
                _ => sentiment::info(lower),
            };
            // The stripped characters are punctuation: the token has the
            // chunk's letters.
            let upper = seen.letters && !seen.lower;
            toks.push(sentiment::tok_known(lower, upper, info));
        }
    }
    let compound = (vader != Vader::Off).then(|| sentiment::score(&toks, || (exclaims, questions)));
    (words, compound)
}

/// What one scan of an ASCII chunk's bytes tells both readers.
#[derive(Debug, Default)]
struct Seen {
    /// Any letter; any lower-case letter.
    letters: bool,
    lower: bool,
    /// Anything but a lower-case letter or a digit.
    other: bool,
    /// A '.', ':' or '/': the chunk may be a URL (`text::is_url`).
    url_mark: bool,
    exclaims: usize,
    questions: usize,
}

impl Seen {
    fn of(chunk: &[u8]) -> Self {
        let mut seen = Seen::default();
        for &c in chunk {
            match c {
                b'a'..=b'z' => seen.lower = true,
                b'0'..=b'9' => {}
                b'A'..=b'Z' => seen.other = true,
                b'.' | b':' | b'/' => {
                    seen.other = true;
                    seen.url_mark = true;
                }
                b'!' => {
                    seen.other = true;
                    seen.exclaims += 1;
                }
                b'?' => {
                    seen.other = true;
                    seen.questions += 1;
                }
                _ => seen.other = true,
            }
        }
        seen.letters = seen.lower || chunk.iter().any(u8::is_ascii_uppercase);
        seen
    }

    /// A chunk of lower-case letters and digits only: one word for the
    /// stream, and the same token for VADER (nothing to strip).
    fn plain(&self) -> bool {
        !self.other
    }
}

#[cfg(test)]
mod tests {
    use super::{Vader, push_and_score};
    use crate::core::sentiment::compound;
    use crate::core::text::{Form, StreamBuilder, for_each_word, xorshift};
    use rust_stemmers::Algorithm;

    const PIECES: &[&str] = &[
        "good",
        "GREAT",
        "not",
        "never",
        "so",
        "this",
        "without",
        "doubt",
        "kind",
        "of",
        "but",
        "least",
        "at",
        "very",
        "no",
        "don't",
        "isn't",
        ":)",
        ":(",
        "!!!",
        "?",
        "#Tag",
        "@brand",
        "http://x.co/a",
        "www.test",
        "u.s.",
        "sort-of",
        "kinda",
        "extremely",
        "bad,",
        "(love)",
        "'tis",
        "x'",
        "hello",
        "dunkinthedark",
        "Good",
        "BAD",
        "42",
        "k",
        "ok!",
        "no.",
        "kill",
        "Qantas",
        "luxury",
        "#love!",
        "wow?",
        "\t",
        "\n",
        " ",
        " ",
        " ",
        " ",
    ];

    fn texts() -> Vec<String> {
        let mut out = vec![
            String::new(),
            "  \t ".to_string(),
            "good! ".repeat(2_100),
            "#tag ok!? great ".repeat(900),
        ];
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3_000 {
            let mut t = String::new();
            for _ in 0..(r % 40) {
                xorshift(&mut r);
                t.push_str(PIECES[(r % PIECES.len() as u64) as usize]);
                if r.is_multiple_of(3) {
                    t.push(' ');
                }
            }
            xorshift(&mut r);
            out.push(t);
        }
        out
    }

    fn builder(form: Form) -> StreamBuilder {
        let algorithm = match form {
            Form::English => Algorithm::English,
            Form::Raw => Algorithm::French,
        };
        StreamBuilder::new(form, algorithm)
    }

    /// The one pass gives the stream and the compounds of the two passes
    /// it replaces, bit for bit.
    #[test]
    fn one_reading_equals_the_two_passes() {
        for form in [Form::English, Form::Raw] {
            for t in texts() {
                // The event's text.
                let mut one = builder(form);
                one.begin_segment();
                let (n, c) = push_and_score(&mut one, &t, Vader::All);
                one.end_segment();
                let mut two = builder(form);
                let n2 = two.push_words(&t);
                assert_eq!(n, n2, "{t:?}");
                assert_eq!(c.map(f64::to_bits), Some(compound(&t).to_bits()), "{t:?}");
                let (one, two) = (one.finish(), two.finish());
                assert_eq!((&one.text, &one.toks), (&two.text, &two.toks), "{t:?}");

                // A sample post: its hashtags and handles are not scored.
                let mut one = builder(form);
                one.begin_segment();
                let (_, c) = push_and_score(&mut one, &t, Vader::Untagged);
                let mut two = builder(form);
                two.begin_segment();
                for_each_word(&t, |w| {
                    two.push_token(w);
                });
                let untagged = t
                    .split_whitespace()
                    .filter(|w| !w.starts_with(['#', '@']))
                    .collect::<Vec<_>>()
                    .join(" ");
                assert_eq!(
                    c.map(f64::to_bits),
                    Some(compound(&untagged).to_bits()),
                    "{t:?}"
                );
                let (one, two) = (one.finish(), two.finish());
                assert_eq!((&one.text, &one.toks), (&two.text, &two.toks), "{t:?}");

                // No sentiment asked: the words alone.
                let mut one = builder(form);
                one.begin_segment();
                assert_eq!(push_and_score(&mut one, &t, Vader::Off).1, None);
                one.end_segment();
                let mut two = builder(form);
                two.push_words(&t);
                assert_eq!(one.finish().toks, two.finish().toks, "{t:?}");
            }
        }
    }
}
