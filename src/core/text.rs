//! Text normalisation shared by event analysis, profile compilation and the
//! lexicons: one tokenizer and one stream format, so that a term and the
//! text it should match are always cut the same way.
//!
//! A *stream* is the tokens of one or more segments, each token followed by
//! a space, segments separated by `| `, with a leading space:
//! `" dunk in the dark | power outag | "`. A pattern is its tokens each
//! followed by a space (`"dunk in the dark "`), so a match that starts right
//! after a space is a match on whole words, and no phrase can span two
//! segments because no token contains `|`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

#[cfg(test)]
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rust_stemmers::{Algorithm, Stemmer};

/// Longest input we tokenize per field; validation bounds inputs already,
/// this only keeps a direct caller of the core from costing unbounded time.
pub(crate) const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Cuts `s` to at most `max` bytes on a char boundary.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

pub(crate) fn is_url(word: &str) -> bool {
    // Every form below has a '.', ':' or '/': a byte scan rules out nearly
    // every word before the Unicode-aware trim (about 2,000 instructions a
    // character in some scripts).
    if !word.bytes().any(|b| matches!(b, b'.' | b':' | b'/')) {
        return false;
    }
    let w = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    // The first eight bytes, case-folded, as a prefix test: no copy.
    let head = w.get(..8).unwrap_or("").as_bytes();
    let head_is = |p: &[u8]| {
        head.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    w.contains("://")
        || head_is(b"www.")
        || head_is(b"http") && (w.contains('/') || w.contains('.'))
}

/// Case-folded word tokens of `text`: URLs dropped, apostrophes inside words
/// removed (`women's` → `womens`, `don't` → `dont`), everything that is
/// not a letter or digit a separator.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |w| out.push(w.to_string()));
    out
}

/// Calls `f` with each word [`words`] returns, in order, without
/// allocating one string per word.
pub(crate) fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    let text = clip(text, MAX_FIELD_BYTES);
    let mut cur = String::new();
    if text.is_ascii() {
        for chunk in ascii_chunks(text) {
            if !is_url(chunk) {
                ascii_chunk_words(chunk, &mut cur, &mut f);
            }
        }
        return;
    }
    for chunk in text.split_whitespace() {
        if is_url(chunk) {
            continue;
        }
        if chunk.is_ascii() {
            ascii_chunk_words(chunk, &mut cur, &mut f);
            continue;
        }
        let mut chars = chunk.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_alphanumeric() {
                cur.extend(c.to_lowercase());
            } else if (c == '\'' || c == '’')
                && !cur.is_empty()
                && chars.peek().is_some_and(|n| n.is_alphanumeric())
            {
                // keep the word whole
            } else if !cur.is_empty() {
                f(&cur);
                cur.clear();
            }
        }
        if !cur.is_empty() {
            f(&cur);
            cur.clear();
        }
    }
}

/// The chunks `split_whitespace` cuts an ASCII text into, found by bytes:
/// within ASCII, Unicode whitespace is tab, line feed, vertical tab, form
/// feed, carriage return and space.
pub(crate) fn ascii_chunks(text: &str) -> impl Iterator<Item = &str> {
    ascii_chunk_spans(text).filter_map(|(a, b)| text.get(a..b))
}

/// The byte ranges of [`ascii_chunks`].
pub(crate) fn ascii_chunk_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let b = text.as_bytes();
    let space = |c: u8| matches!(c, b'\t'..=b'\r' | b' ');
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() && space(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && !space(b[i]) {
            i += 1;
        }
        (start < i).then_some((start, i))
    })
}

/// The words of one ASCII chunk, by the same rules with the ASCII tests:
/// runs of letters and digits, joined across an apostrophe that has one
/// on each side. A run already in lower case is passed as a slice of the
/// chunk (nearly every word); only the others are written into `cur`.
pub(crate) fn ascii_chunk_words(chunk: &str, cur: &mut String, f: &mut impl FnMut(&str)) {
    let b = chunk.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut plain = true;
        loop {
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                plain &= !b[i].is_ascii_uppercase();
                i += 1;
            }
            if b.get(i) == Some(&b'\'') && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric) {
                plain = false;
                i += 1;
            } else {
                break;
            }
        }
        let word = &chunk[start..i];
        if plain {
            f(word);
        } else {
            cur.clear();
            for &c in word.as_bytes().iter().filter(|&&c| c != b'\'') {
                cur.push(char::from(c.to_ascii_lowercase()));
            }
            f(cur);
            cur.clear();
        }
    }
}

/// Letters and digits only, lower-cased: how a hashtag spells a phrase
/// ("Spread the cheer!" and "#SpreadTheCheer" both read "spreadthecheer").
pub(crate) fn compact_chars(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
}

/// [`compact_chars`] as a string; an ASCII text by bytes, where the
/// Unicode tests and case mapping are the ASCII ones.
pub(crate) fn compact(text: &str) -> String {
    if !text.is_ascii() {
        return compact_chars(text).collect();
    }
    let mut out = String::with_capacity(text.len());
    for b in text.bytes().filter(u8::is_ascii_alphanumeric) {
        out.push(char::from(b.to_ascii_lowercase()));
    }
    out
}

/// Snowball algorithm for a BCP-47 tag; unknown or empty tags are English.
pub(crate) fn algorithm_for(language: &str) -> Algorithm {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "ar" => Algorithm::Arabic,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hu" => Algorithm::Hungarian,
        "it" => Algorithm::Italian,
        "no" | "nb" | "nn" => Algorithm::Norwegian,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        _ => Algorithm::English,
    }
}

/// How the tokens of a stream are written: English Snowball stems (the
/// language of profiles and lexicons), or the event's language stemmed with
/// its own Snowball algorithm, which only raw-form patterns can meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    English,
    Raw,
}

/// `token` stemmed by `stemmer`, which is always the English one.
fn stem_uncached<'a>(stemmer: &Stemmer, token: &'a str) -> Cow<'a, str> {
    // Snowball stemmers are built for words; numbers and very long tokens
    // pass through unchanged. So does a token without an ASCII letter:
    // every rule of the English algorithm reads or removes ASCII letters,
    // so it would return the token as it is, at the cost of a full run
    // (a test checks this on tokens of many scripts).
    if token.len() > 40
        || token.chars().all(|c| c.is_ascii_digit())
        || !token.bytes().any(|b| b.is_ascii_alphabetic())
    {
        return Cow::Borrowed(token);
    }
    stemmer.stem(token)
}

/// English stem of `token` and the hash of that stem. Snowball costs far
/// more than a table lookup, and nearly every token of real text is a
/// dictionary word, whose stem was computed once.
fn english_stem<'a>(stemmer: &Stemmer, token: &'a str) -> (Cow<'a, str>, u64) {
    match WORDS.stems.get(token) {
        Some(w) => (Cow::Borrowed(&*w.stem), w.stem_hash),
        None => {
            let st = stem_uncached(stemmer, token);
            let h = hash_str(&st);
            (st, h)
        }
    }
}

/// A fast, deterministic hasher for short strings and for keys that are
/// already hashes. Inputs are words of events and profiles, not attacker
/// controlled table sizes: a collision only costs a comparison, because
/// every lookup still compares the strings themselves.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ (bytes.len() as u64).wrapping_mul(K);
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            h = (h.rotate_left(23) ^ u64::from_le_bytes(b)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // The zero-padded little-endian word, assembled byte by byte: a
            // copy of a variable length is a call to memcpy, which cost more
            // than the hashing of a short word.
            let word = rest
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, b)| w | u64::from(*b) << (8 * i));
            h = (h.rotate_left(23) ^ word).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(23) ^ u64::from(i)).wrapping_mul(K);
    }

    /// A `u64` key is taken as an already mixed hash.
    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }

    fn finish(&self) -> u64 {
        // Final avalanche (murmur3 fmix64): hashbrown uses both the top
        // and the bottom bits.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// Hash of a token, as stored in streams and phrase sets.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h = FastHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// A token of the dictionary with its English stem and what VADER knows of
/// it, precomputed: a word of an ASCII text is looked up once for both
/// (`core::reading`).
pub(crate) struct WordInfo {
    stem: Box<str>,
    stem_hash: u64,
    pub(crate) vader: super::sentiment::WordInfo,
}

/// The word list used to split hashtags written without capitals: each
/// word with its English stem, and the same words as a trie for the split
/// search.
struct Dictionary {
    stems: FastMap<&'static str, WordInfo>,
    trie: Trie,
}

/// The dictionary words of `a`-`z` of at most `MAX_WORD` letters, as a
/// trie: the split search walks from each position of a tag only as far
/// as some word goes on, instead of probing the word table once per
/// possible length (about five times faster on a one-case tag). Nodes are
/// in breadth-first order, so the children of a node are consecutive, in
/// letter order; node 0 is the root. About 89,000 nodes, 0.9 MB.
struct Trie {
    /// Letter of the edge into each node.
    letter: Vec<u8>,
    /// Index of each node's first child, and how many it has.
    children: Vec<(u32, u8)>,
    /// Whether the path to the node spells a word.
    word: Vec<bool>,
}

impl Trie {
    /// Built level by level from the sorted words: the prefixes of length
    /// `d` of sorted words are sorted, so one pass per level lists that
    /// level's nodes in order, each under its parent of the level before.
    /// A word starts a node at level `d` when it is that long and shares
    /// fewer than `d` letters with the word before it. (Once, when the
    /// lexicons are parsed at start-up: about 22 million instructions.)
    fn new<'a>(words: impl Iterator<Item = &'a str>) -> Self {
        let mut ws: Vec<&[u8]> = words
            .map(str::as_bytes)
            .filter(|b| b.len() <= MAX_WORD && b.iter().all(u8::is_ascii_lowercase))
            .collect();
        // Stable sort: linear on the sorted word list, a merge for the
        // lexicon's words after it.
        ws.sort();
        ws.dedup();
        let shared: Vec<usize> = ws
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let prev = i.checked_sub(1).and_then(|j| ws.get(j)).copied();
                prev.map_or(0, |p| p.iter().zip(*w).take_while(|(a, b)| a == b).count())
            })
            .collect();
        let mut letter = vec![0u8];
        let mut children = vec![(0u32, 0u8)];
        let mut word = vec![false];
        // The node each word has reached so far: the root, to begin with.
        let mut at = vec![0u32; ws.len()];
        for d in 1..=MAX_WORD {
            let mut last = 0u32;
            for ((w, &common), node) in ws.iter().zip(&shared).zip(at.iter_mut()) {
                let Some(&c) = w.get(d - 1) else {
                    continue;
                };
                if common < d {
                    last = letter.len() as u32;
                    if let Some(ch) = children.get_mut(*node as usize) {
                        if ch.1 == 0 {
                            ch.0 = last;
                        }
                        ch.1 += 1;
                    }
                    letter.push(c);
                    children.push((0, 0));
                    // A word sorts before the longer words it begins.
                    word.push(w.len() == d);
                }
                *node = last;
            }
        }
        Self {
            letter,
            children,
            word,
        }
    }

    /// The child of `node` along `c`.
    #[inline]
    fn child(&self, node: u32, c: u8) -> Option<u32> {
        let &(first, n) = self.children.get(node as usize)?;
        let kids = self
            .letter
            .get(first as usize..first as usize + usize::from(n))?;
        kids.iter().position(|&l| l == c).map(|k| first + k as u32)
    }
}

/// The English word list, one word per line.
pub(crate) const ENGLISH_WORDS: &str = include_str!("../../data/lexicons/words_en.txt");

static WORDS: LazyLock<Dictionary> = LazyLock::new(|| {
    let stemmer = Stemmer::create(Algorithm::English);
    let list = ENGLISH_WORDS
        .lines()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .chain(super::lexicon::single_words())
        .chain(["a", "i"])
        .collect::<Vec<&'static str>>();
    let mut map = FastMap::default();
    for &w in &list {
        map.entry(w).or_insert_with(|| {
            let stem: Box<str> = stem_uncached(&stemmer, w).into();
            let stem_hash = hash_str(&stem);
            let vader = super::sentiment::info(w);
            WordInfo {
                stem,
                stem_hash,
                vader,
            }
        });
    }
    // In the list's order, which is nearly sorted.
    let trie = Trie::new(list.iter().copied());
    Dictionary { stems: map, trie }
});

/// A term (word or phrase) as a pattern in the given form; empty when the
/// term has no word characters.
pub(crate) fn pattern(term: &str, form: Form) -> String {
    let mut p = String::new();
    for t in pattern_tokens(term, form) {
        p.push_str(&t);
        p.push(' ');
    }
    p
}

/// The tokens of [`pattern`]: what a phrase set matches token by token.
pub(crate) fn pattern_tokens(term: &str, form: Form) -> Vec<String> {
    let ws = words(term);
    match form {
        Form::English => {
            let stemmer = Stemmer::create(Algorithm::English);
            ws.iter()
                .map(|w| english_stem(&stemmer, w).0.into_owned())
                .collect()
        }
        Form::Raw => ws,
    }
}

/// Builds a stream segment by segment.
pub(crate) struct StreamBuilder {
    pub text: String,
    /// Byte offset where each segment starts.
    pub starts: Vec<usize>,
    toks: Vec<Tok>,
    form: Form,
    stemmer: Stemmer,
    /// Stems of tokens the dictionary does not know, with their hashes,
    /// once the stream is long (see [`MEMO_AFTER`]).
    stems: FastMap<Box<str>, (Box<str>, u64)>,
}

/// Tokens a stream holds before it remembers the Snowball stems of words
/// outside the dictionary. A large event repeats its names and tags from
/// post to post, and one run of the stemmer costs as much as the rest of
/// a token's analysis (1 MB of "İa" in sample posts cost 69 µs/KB without
/// the memo, 3 times an ordinary event's cost per KB, and 43 with it); an
/// ordinary event never gets this far, so it pays nothing for the table.
const MEMO_AFTER: usize = 512;

/// Most stems remembered per stream: about 100 bytes each.
const MEMO_MAX: usize = 4096;

impl StreamBuilder {
    pub fn new(form: Form, algorithm: Algorithm) -> Self {
        Self::with_capacity(form, algorithm, 0)
    }

    /// A builder sized for about `bytes` of input text: a stream is about
    /// as long as its text, with a token per five bytes. Growing from
    /// empty instead was a twentieth of a new event's analysis.
    pub fn with_capacity(form: Form, algorithm: Algorithm, bytes: usize) -> Self {
        let mut text = String::with_capacity(bytes + 16);
        text.push(' ');
        Self {
            stems: FastMap::default(),
            text,
            starts: Vec::new(),
            toks: Vec::with_capacity(bytes / 5 + 4),
            form,
            stemmer: Stemmer::create(algorithm),
        }
    }

    pub fn push_segment<S: AsRef<str>>(&mut self, tokens: &[S]) {
        self.begin_segment();
        for t in tokens {
            self.push_token(t.as_ref());
        }
        self.end_segment();
    }

    /// A segment of the words of `text` (as [`words`] cuts them); returns
    /// how many.
    pub fn push_words(&mut self, text: &str) -> usize {
        self.begin_segment();
        let mut n = 0;
        for_each_word(text, |w| {
            self.push_token(w);
            n += 1;
        });
        self.end_segment();
        n
    }

    /// Starts a segment: tokens pushed until [`Self::end_segment`] are
    /// consecutive words of it.
    /// Tokens pushed so far: the index the next token will have.
    pub fn token_len(&self) -> usize {
        self.toks.len()
    }

    pub fn begin_segment(&mut self) {
        self.starts.push(self.text.len());
    }

    pub fn end_segment(&mut self) {
        self.text.push_str("| ");
    }

    /// Pushes one word; returns its dictionary entry, when the stream is
    /// in English form and the dictionary has the word.
    pub fn push_token(&mut self, t: &str) -> Option<&'static WordInfo> {
        let seg = (self.starts.len() as u32).wrapping_sub(1);
        let start = self.text.len();
        let mut entry = None;
        let hash = match self.form {
            // As `english_stem`, with the memo between the dictionary and
            // the stemmer.
            Form::English => {
                if let Some(w) = WORDS.stems.get(t) {
                    self.text.push_str(&w.stem);
                    entry = Some(w);
                    w.stem_hash
                } else if let Some((st, h)) = self.stems.get(t) {
                    self.text.push_str(st);
                    *h
                } else {
                    let st = stem_uncached(&self.stemmer, t);
                    let h = hash_str(&st);
                    self.text.push_str(&st);
                    if self.toks.len() >= MEMO_AFTER && self.stems.len() < MEMO_MAX {
                        self.stems.insert(t.into(), (st.into(), h));
                    }
                    h
                }
            }
            Form::Raw => {
                self.text.push_str(t);
                hash_str(t)
            }
        };
        self.toks.push(Tok {
            hash,
            start: start as u32,
            end: self.text.len() as u32,
            seg,
        });
        self.text.push(' ');
        entry
    }

    pub fn finish(self) -> Stream {
        Stream {
            text: self.text,
            toks: self.toks,
        }
    }
}

/// One token of a stream: its hash, byte range in the stream text and
/// segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    pub hash: u64,
    pub start: u32,
    pub end: u32,
    pub seg: u32,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Stream {
    pub text: String,
    /// Every token in order; consecutive tokens of one segment are
    /// consecutive words.
    pub toks: Vec<Tok>,
}

impl Stream {
    /// The segment (text, tag, post or label number) token `k` belongs to;
    /// 0 past the end.
    pub(crate) fn segment_of(&self, k: usize) -> usize {
        self.toks.get(k).map_or(0, |t| t.seg as usize)
    }

    /// Whether the pattern (already in stream form) occurs on word
    /// boundaries.
    pub fn contains_pattern(&self, pattern: &str) -> bool {
        if pattern.is_empty() {
            return false;
        }
        let needle = format!(" {pattern}");
        self.text.contains(&needle)
    }
}

/// Patterns as token sequences, found in a [`Stream`] by looking up each
/// stream token among the patterns' first tokens. Same matches as
/// Aho-Corasick over the stream text with whole-word filtering (a pattern
/// is whole tokens, so matching bytes on word boundaries is matching equal
/// tokens), at a cost that grows with the tokens of the event rather than
/// the bytes scanned per pattern set.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhraseSet {
    /// `(hash, start, end)` of every pattern token, patterns concatenated:
    /// a token's hash and its text's byte range in `text` side by side, and
    /// the texts in one buffer, so verifying a match touches few cache
    /// lines of a profile that is rarely still in cache.
    words: Vec<(u64, u32, u32)>,
    text: String,
    /// One-token patterns (ascending ids, with their ranges in `words`)
    /// by the hash of their token.
    by_first: FirstIndex,
    /// Longer patterns the same way, by their first two tokens
    /// ([`pair_key`]): many patterns share a first word ("in memory of",
    /// "in the wake of"), and trying each at every "in" was most of a
    /// lexicon scan.
    by_pair: FirstIndex,
    /// A 1024-bit filter of first-token hashes: most event tokens start
    /// no pattern, and the filter (two cache lines) says so without a probe
    /// into the index.
    bloom: [u64; BLOOM_WORDS],
}

const BLOOM_WORDS: usize = 16;

/// The index key of a pattern's first two tokens, from their hashes.
#[inline]
fn pair_key(first: u64, second: u64) -> u64 {
    // Asymmetric, so "a b" and "b a" differ; a collision only costs the
    // comparison that follows every probe.
    (first.rotate_left(29) ^ second).wrapping_mul(K)
}

/// Word and bit of `h` in a [`PhraseSet`] filter, from the hash's top
/// bits (the index uses the low ones).
#[inline]
fn bloom_bit(h: u64) -> (usize, u64) {
    let b = (h >> 54) as usize;
    ((b >> 6) & (BLOOM_WORDS - 1), 1u64 << (b & 63))
}

/// A pattern as the index lists it: its id and its tokens' range in
/// [`PhraseSet::words`].
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: u32,
    start: u32,
    end: u32,
}

/// Open-addressing table from a token hash to a run of patterns: the
/// lookup runs once per event token per brand, so it is kept to a masked
/// index and a short linear probe over one flat array.
#[derive(Debug, Clone, Default)]
struct FirstIndex {
    /// `(hash, start, len)` into `ids`; `len == 0` marks an empty slot.
    slots: Vec<(u64, u32, u32)>,
    ids: Vec<Entry>,
}

impl FirstIndex {
    fn build(mut pairs: Vec<(u64, Entry)>) -> Self {
        if pairs.is_empty() {
            return Self::default();
        }
        // Stable: ids stay ascending within a hash.
        pairs.sort_by_key(|p| p.0);
        let distinct = pairs.windows(2).filter(|w| w[0].0 != w[1].0).count() + 1;
        let size = (distinct * 2).next_power_of_two().max(8);
        let mask = size - 1;
        let mut slots = vec![(0u64, 0u32, 0u32); size];
        let mut ids = Vec::with_capacity(pairs.len());
        let mut i = 0;
        while i < pairs.len() {
            let h = pairs[i].0;
            let start = ids.len();
            while i < pairs.len() && pairs[i].0 == h {
                ids.push(pairs[i].1);
                i += 1;
            }
            let mut at = (h as usize) & mask;
            while slots[at].2 != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = (h, start as u32, (ids.len() - start) as u32);
        }
        Self { slots, ids }
    }

    fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    #[inline]
    fn get(&self, h: u64) -> &[Entry] {
        let mask = self.slots.len().wrapping_sub(1);
        let mut at = (h as usize) & mask;
        while let Some(&(sh, start, len)) = self.slots.get(at) {
            if len == 0 {
                break;
            }
            if sh == h {
                return self
                    .ids
                    .get(start as usize..(start + len) as usize)
                    .unwrap_or(&[]);
            }
            at = (at + 1) & mask;
        }
        &[]
    }
}

impl PhraseSet {
    /// One pattern per entry of `patterns` (its tokens); a pattern without
    /// tokens never matches, so ids keep lining up with the caller's list.
    pub fn new<T: AsRef<str>>(patterns: &[Vec<T>]) -> Self {
        let mut set = Self::default();
        let mut firsts = Vec::with_capacity(patterns.len());
        let mut pairs = Vec::new();
        for (id, toks) in patterns.iter().enumerate() {
            let a = set.words.len() as u32;
            for t in toks {
                let t = t.as_ref();
                let start = set.text.len() as u32;
                set.text.push_str(t);
                set.words.push((hash_str(t), start, set.text.len() as u32));
            }
            if let Some(&(h, _, _)) = set.words.get(a as usize) {
                let entry = Entry {
                    id: id as u32,
                    start: a,
                    end: set.words.len() as u32,
                };
                match set.words.get(a as usize + 1) {
                    Some(&(second, _, _)) => pairs.push((pair_key(h, second), entry)),
                    None => firsts.push((h, entry)),
                }
                let (w, bit) = bloom_bit(h);
                if let Some(x) = set.bloom.get_mut(w) {
                    *x |= bit;
                }
            }
        }
        set.by_first = FirstIndex::build(firsts);
        set.by_pair = FirstIndex::build(pairs);
        set
    }

    /// The patterns that may occur at token `k` of `s`: the one-token
    /// patterns of its hash, then the longer ones of its first two tokens.
    #[inline]
    fn candidates(&self, s: &Stream, k: usize, h: u64) -> (&[Entry], &[Entry]) {
        let pairs = match s.toks.get(k + 1) {
            Some(next) if !self.by_pair.is_empty() => self.by_pair.get(pair_key(h, next.hash)),
            _ => &[],
        };
        (self.by_first.get(h), pairs)
    }

    fn is_empty(&self) -> bool {
        self.by_first.is_empty() && self.by_pair.is_empty()
    }

    /// Whether some pattern may start with a token of hash `h` (never a
    /// false "no").
    #[inline]
    fn may_start(&self, h: u64) -> bool {
        let (w, bit) = bloom_bit(h);
        self.bloom.get(w).is_some_and(|x| x & bit != 0)
    }

    /// Whether pattern `e` occurs at token `k` of `s`, within one segment.
    fn matches_at(&self, e: Entry, s: &Stream, k: usize) -> Option<usize> {
        let words = self.words.get(e.start as usize..e.end as usize)?;
        let n = words.len();
        let toks = s.toks.get(k..k + n)?;
        let seg = toks.first()?.seg;
        if !toks
            .iter()
            .zip(words)
            .all(|(t, w)| t.seg == seg && t.hash == w.0)
        {
            return None;
        }
        // Equal hashes are almost surely equal words; the words decide.
        // Stream tokens are whole characters, so bytes compare as the str.
        let (text, stream) = (self.text.as_bytes(), s.text.as_bytes());
        toks.iter()
            .zip(words)
            .all(|(t, &(_, ws, we))| {
                stream.get(t.start as usize..t.end as usize).unwrap_or(&[])
                    == text.get(ws as usize..we as usize).unwrap_or(&[])
            })
            .then_some(n)
    }

    /// Calls `f(pattern_index, token_index)` for each match chosen
    /// leftmost-longest (the lowest id among equal patterns), in order.
    pub fn for_each(&self, s: &Stream, mut f: impl FnMut(usize, usize)) {
        if self.is_empty() {
            return;
        }
        let mut k = 0;
        while let Some(t) = s.toks.get(k) {
            if !self.may_start(t.hash) {
                k += 1;
                continue;
            }
            let mut best: Option<(usize, u32)> = None;
            // One-token patterns first, then the longer ones, each in
            // ascending ids: the lowest id wins among the longest.
            let (singles, longer) = self.candidates(s, k, t.hash);
            for &e in singles.iter().chain(longer) {
                if let Some(n) = self.matches_at(e, s, k)
                    && best.is_none_or(|(bn, _)| n > bn)
                {
                    best = Some((n, e.id));
                }
            }
            match best {
                Some((n, id)) => {
                    f(id as usize, k);
                    k += n.max(1);
                }
                None => k += 1,
            }
        }
    }

    /// Every match `(pattern_index, first_token, token_count)`, also those
    /// nested inside a longer one, in the order Aho-Corasick reports
    /// overlapping matches: by end, then longest first, then by id. Adds
    /// to `work` one unit per token and one per pattern tried at it.
    pub fn overlapping(&self, s: &Stream, work: &mut u64) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        let mut tried = s.toks.len() as u64;
        for (k, t) in s.toks.iter().enumerate() {
            if !self.may_start(t.hash) {
                continue;
            }
            let (singles, longer) = self.candidates(s, k, t.hash);
            tried += (singles.len() + longer.len()) as u64;
            for &e in singles.iter().chain(longer) {
                if let Some(n) = self.matches_at(e, s, k) {
                    out.push((e.id as usize, k, n));
                }
            }
        }
        *work = work.saturating_add(tried);
        out.sort_unstable_by_key(|&(id, k, n)| (k + n, k, id));
        out
    }
}

/// Glued forms of profile terms (`dunkinthedark`), found in one-case
/// hashtags only where a plausible split puts word boundaries.
#[derive(Debug, Clone, Default)]
pub(crate) struct GluedSet {
    pats: Vec<Box<str>>,
    /// Pattern ids (ascending) by their first three bytes.
    by_prefix: FastMap<u64, Vec<u32>>,
}

pub(crate) fn prefix_key(b: &[u8]) -> Option<u64> {
    match b {
        [x, y, z, ..] => Some(u64::from(*x) | u64::from(*y) << 8 | u64::from(*z) << 16),
        _ => None,
    }
}

impl GluedSet {
    /// Patterns shorter than three bytes are never found.
    pub fn new(pats: &[String]) -> Self {
        let mut set = Self::default();
        for (id, p) in pats.iter().enumerate() {
            set.pats.push(p.as_str().into());
            if let Some(k) = prefix_key(p.as_bytes()) {
                set.by_prefix.entry(k).or_default().push(id as u32);
            }
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    /// Calls `f(pattern_index)` for every occurrence in `g` that is a word
    /// of a plausible split (with `extra` unknown chunks allowed), in the
    /// order Aho-Corasick reports overlapping matches: by end, then
    /// longest first, then by id.
    pub fn for_each(&self, g: &Glued, extra: u8, mut f: impl FnMut(usize)) {
        let t = g.text.as_bytes();
        let mut found: Vec<(usize, usize, u32)> = Vec::new();
        for s in 0..t.len() {
            let Some(ids) = t
                .get(s..)
                .and_then(prefix_key)
                .and_then(|k| self.by_prefix.get(&k))
            else {
                continue;
            };
            for &id in ids {
                let Some(p) = self.pats.get(id as usize) else {
                    continue;
                };
                let e = s + p.len();
                if t.get(s..e) == Some(p.as_bytes()) && g.plausible(s, e, extra) {
                    found.push((e, s, id));
                }
            }
        }
        found.sort_unstable();
        for (_, _, id) in found {
            f(id as usize);
        }
    }
}

/// Aho-Corasick over patterns in stream form, reporting whole-word matches
/// chosen leftmost-longest (so "dunk in the dark" is one match, not also
/// "dark"). The reference that [`PhraseSet`] reproduces; kept for tests.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct TermMatcher {
    ac: Option<AhoCorasick>,
}

/// Never occurs in a stream: stands in for terms without word characters
/// so pattern ids keep lining up with the caller's list.
#[cfg(test)]
const IMPOSSIBLE: &str = "\u{0}\u{0}";

#[cfg(test)]
impl TermMatcher {
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Self {
        if patterns.is_empty() {
            return Self { ac: None };
        }
        let pats: Vec<&str> = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                if p.is_empty() { IMPOSSIBLE } else { p }
            })
            .collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .ok();
        Self { ac }
    }

    /// Calls `f(pattern_index, start)` for each selected match.
    pub fn for_each(&self, hay: &str, mut f: impl FnMut(usize, usize)) {
        let Some(ac) = &self.ac else { return };
        let bytes = hay.as_bytes();
        let mut found: Vec<(usize, usize, usize)> = Vec::new();
        for m in ac.find_overlapping_iter(hay) {
            if m.start() > 0 && bytes.get(m.start() - 1) == Some(&b' ') {
                found.push((m.start(), m.end(), m.pattern().as_usize()));
            }
        }
        if found.is_empty() {
            return;
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let mut last_end = 0;
        for (s, e, p) in found {
            if s >= last_end {
                f(p, s);
                last_end = e;
            }
        }
    }

    /// Calls `f(pattern_index, start)` for every whole-word match, also
    /// those nested inside a longer one (screening wants all of them).
    pub fn for_each_overlapping(&self, hay: &str, mut f: impl FnMut(usize, usize)) {
        let Some(ac) = &self.ac else { return };
        let bytes = hay.as_bytes();
        for m in ac.find_overlapping_iter(hay) {
            if m.start() > 0 && bytes.get(m.start() - 1) == Some(&b' ') {
                f(m.pattern().as_usize(), m.start());
            }
        }
    }
}

pub(crate) fn is_word(w: &str) -> bool {
    WORDS.stems.contains_key(w)
}

/// Longest dictionary word a one-case hashtag is cut into (at most 16: the
/// word ends at a position are one `u16` mask).
const MAX_WORD: usize = 15;
/// Longest chunk of a hashtag that may be an unknown word (a name, an
/// abbreviation) when no split into dictionary words exists.
const MAX_UNKNOWN: usize = 6;
/// Longest one-case hashtag split by the word list; a longer one is one
/// word. It bounds the work of one tag and the words it yields.
const MAX_GLUED: usize = 64;

/// Work units (see `analyse::analyse_metered`) that segmenting one byte of
/// a one-case hashtag is charged: for each of the `MAX_WORD` lengths a
/// word starting at that byte may have, one dictionary probe, one forward
/// and one backward step of the split search, and one check of the span as
/// a word of a plausible split. Charged before the work is done, so that a
/// budget decides whether a tag is segmented at all.
pub(crate) const SEGMENT_UNITS_PER_BYTE: u64 = 4 * MAX_WORD as u64;

/// A hashtag written in one case, e.g. `#dunkinthedark`, with what is
/// needed to ask later "is `[s, e)` a word of some plausible split?".
#[derive(Debug, Clone)]
pub(crate) struct Glued {
    pub text: String,
    /// `fwd[i]`: fewest unknown chunks needed to split `text[..i]`.
    fwd: Vec<u8>,
    /// `bwd[j]`: fewest unknown chunks needed to split `text[j..]`.
    bwd: Vec<u8>,
    /// Unknown chunks a plausible split may have: none when a split into
    /// dictionary words exists, one otherwise.
    budget: u8,
}

const INF: u8 = u8::MAX / 2;

/// Bit `len - 1` of `ends[i]` is set when `b[i..i + len]` is a dictionary
/// word. One walk down the trie per position finds them all; the two
/// directions of the split search and the span listing read the masks.
/// (They used to probe the word table each, three times per position and
/// length: the probes were most of the cost of a one-case tag.)
fn word_ends(b: &[u8]) -> Vec<u16> {
    let trie = &WORDS.trie;
    let mut ends = vec![0u16; b.len()];
    for (i, mask) in ends.iter_mut().enumerate() {
        let mut node = 0;
        for (len, &c) in b.iter().skip(i).take(MAX_WORD).enumerate() {
            let Some(next) = trie.child(node, c) else {
                break;
            };
            node = next;
            if trie.word.get(node as usize).copied().unwrap_or(false) {
                *mask |= 1 << len;
            }
        }
    }
    ends
}

/// Whether `[i, j)` is a dictionary word, from the masks of [`word_ends`].
#[inline]
fn is_word_at(ends: &[u16], i: usize, j: usize) -> bool {
    let len = j.wrapping_sub(i);
    (1..=MAX_WORD).contains(&len) && ends.get(i).is_some_and(|m| m >> (len - 1) & 1 == 1)
}

impl Glued {
    #[cfg(test)]
    fn new(text: String) -> Self {
        Self::with_ends(text).0
    }

    /// The split search over `text`, and the word masks it was built from.
    fn with_ends(text: String) -> (Self, Vec<u16>) {
        let ends = word_ends(text.as_bytes());
        let n = ends.len();
        let mut fwd = vec![INF; n + 1];
        fwd[0] = 0;
        for j in 1..=n {
            for i in j.saturating_sub(MAX_WORD.max(MAX_UNKNOWN))..j {
                if fwd[i] >= INF {
                    continue;
                }
                if is_word_at(&ends, i, j) {
                    fwd[j] = fwd[j].min(fwd[i]);
                } else if j - i <= MAX_UNKNOWN {
                    fwd[j] = fwd[j].min(fwd[i] + 1);
                }
            }
        }
        let mut bwd = vec![INF; n + 1];
        bwd[n] = 0;
        for i in (0..n).rev() {
            for j in (i + 1)..=(i + MAX_WORD.max(MAX_UNKNOWN)).min(n) {
                if bwd[j] >= INF {
                    continue;
                }
                if is_word_at(&ends, i, j) {
                    bwd[i] = bwd[i].min(bwd[j]);
                } else if j - i <= MAX_UNKNOWN {
                    bwd[i] = bwd[i].min(bwd[j] + 1);
                }
            }
        }
        let budget = if bwd[0] == 0 { 0 } else { 1 };
        let g = Self {
            text,
            fwd,
            bwd,
            budget,
        };
        (g, ends)
    }

    /// Whether `[s, e)` can be one word of a plausible split. `extra`
    /// unknown chunks are allowed besides the budget (a brand's own name is
    /// rarely a dictionary word).
    pub fn plausible(&self, s: usize, e: usize, extra: u8) -> bool {
        match (self.fwd.get(s), self.bwd.get(e)) {
            (Some(f), Some(b)) => f.saturating_add(*b) <= self.budget.saturating_add(extra),
            _ => false,
        }
    }

    /// Every dictionary word (two letters or more) that is a word of some
    /// plausible split, in order of position (`ends` as [`word_ends`]
    /// computed them for this text).
    fn split_spans(&self, ends: &[u16]) -> Vec<(usize, usize)> {
        let n = self.text.len();
        let mut out = Vec::new();
        for i in 0..n {
            for j in (i + 2)..=(i + MAX_WORD).min(n) {
                if is_word_at(ends, i, j) && self.plausible(i, j, 0) {
                    out.push((i, j));
                }
            }
        }
        out
    }
}

/// A hashtag cut into words: on case changes, digits and underscores when
/// the tag has them, otherwise by every plausible dictionary split.
#[derive(Debug, Clone)]
pub(crate) struct TagSplit {
    /// Words in reading order (a camel-case split, or the whole tag).
    pub words: Vec<String>,
    /// Words of the plausible splits of a one-case tag.
    pub glued: Option<Glued>,
    /// Per word: it lies inside a longer word of another plausible split
    /// ("flood" in "floodlight"). A reader sees the longer word, so only
    /// what a brand must never repeat (obscenity, hate) is screened there.
    pub shadowed: Vec<bool>,
}

impl TagSplit {
    /// The tag as one word, as if it had not been split.
    pub fn into_whole(mut self) -> TagSplit {
        let whole = self.words.pop().unwrap_or_default();
        TagSplit {
            words: vec![whole],
            glued: None,
            shadowed: vec![false],
        }
    }
}

/// [`split_hashtag_within`] with no budget: for profile names, which are
/// few and bounded by validation, not sent with every request.
pub(crate) fn split_hashtag(tag: &str) -> TagSplit {
    let mut unlimited = u64::MAX;
    split_hashtag_within(tag, &mut unlimited)
}

/// Splits a hashtag. Segmenting a one-case tag is charged to `budget`
/// ([`SEGMENT_UNITS_PER_BYTE`] a byte); a tag the budget cannot pay for
/// stays one word, as a tag longer than `MAX_GLUED` does.
/// The words of a tag whose writer marked the boundaries: at a change of
/// case, at the end of an acronym, between letters and digits, and at
/// whatever [`words`] cuts on.
fn split_marked(tag: &str) -> Vec<String> {
    let mut parts = String::new();
    let chars: Vec<char> = tag.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        if let Some(p) = prev {
            let lower_to_upper = p.is_lowercase() && c.is_uppercase();
            let acronym_end =
                p.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase);
            let digit_edge = p.is_ascii_digit() != c.is_ascii_digit()
                && p.is_alphanumeric()
                && c.is_alphanumeric();
            if lower_to_upper || acronym_end || digit_edge {
                parts.push(' ');
            }
        }
        parts.push(c);
    }
    words(&parts)
}

/// [`split_marked`] of a tag of ASCII letters and digits, by bytes and
/// without its copies, when it marks its own boundaries (mixed case or
/// digits). `None` for any other tag.
fn split_ascii_camel_case(tag: &str) -> Option<Vec<String>> {
    let b = tag.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    let digit = b.iter().any(u8::is_ascii_digit);
    let marked = digit || (upper && lower);
    if !marked {
        // One case, letters only: the segmentation's.
        return None;
    }
    let mut words = Vec::new();
    let mut start = 0;
    for i in 1..b.len() {
        let (p, c) = (b[i - 1], b[i]);
        let lower_to_upper = p.is_ascii_lowercase() && c.is_ascii_uppercase();
        let acronym_end = p.is_ascii_uppercase()
            && c.is_ascii_uppercase()
            && b.get(i + 1).is_some_and(u8::is_ascii_lowercase);
        let digit_edge = p.is_ascii_digit() != c.is_ascii_digit();
        if lower_to_upper || acronym_end || digit_edge {
            words.push(tag.get(start..i)?.to_ascii_lowercase());
            start = i;
        }
    }
    words.push(tag.get(start..)?.to_ascii_lowercase());
    Some(words)
}

pub(crate) fn split_hashtag_within(tag: &str, budget: &mut u64) -> TagSplit {
    let tag = clip(tag.trim().trim_start_matches(['#', '@']), 512);
    if let Some(words) = split_ascii_camel_case(tag) {
        return TagSplit {
            shadowed: vec![false; words.len()],
            words,
            glued: None,
        };
    }
    let has_upper = tag.chars().any(char::is_uppercase);
    let has_lower = tag.chars().any(char::is_lowercase);
    let alpha_ascii = tag.chars().all(|c| c.is_ascii_alphabetic());
    if !(alpha_ascii && !(has_upper && has_lower)) {
        // Camel case, digits, underscores or other scripts: the writer
        // marked the boundaries.
        let words = split_marked(tag);
        return TagSplit {
            shadowed: vec![false; words.len()],
            words,
            glued: None,
        };
    }
    let lower = tag.to_ascii_lowercase();
    let cost = (lower.len() as u64).saturating_mul(SEGMENT_UNITS_PER_BYTE);
    if lower.len() < 6 || lower.len() > MAX_GLUED || cost > *budget || is_word(&lower) {
        return TagSplit {
            words: vec![lower],
            glued: None,
            shadowed: vec![false],
        };
    }
    *budget -= cost;
    let (glued, ends) = Glued::with_ends(lower.clone());
    let spans = glued.split_spans(&ends);
    // A span is shadowed by a longer one containing it: one that starts
    // earlier and ends no sooner, or one from the same start that ends
    // later. Spans come sorted by start, then end, so one pass with the
    // farthest end reached so far decides it (a comparison of every pair
    // cost up to 800,000 steps for one 64-letter tag).
    let mut shadowed = Vec::with_capacity(spans.len() + 1);
    let mut reach = 0;
    for group in spans.chunk_by(|a, b| a.0 == b.0) {
        let group_end = group.last().map_or(0, |s| s.1);
        shadowed.extend(group.iter().map(|&(_, j)| reach >= j || group_end > j));
        reach = reach.max(group_end);
    }
    let mut ws: Vec<String> = spans
        .iter()
        .filter_map(|&(i, j)| lower.get(i..j).map(str::to_string))
        .collect();
    shadowed.truncate(ws.len());
    ws.push(lower);
    shadowed.push(false);
    TagSplit {
        words: ws,
        glued: Some(glued),
        shadowed,
    }
}

/// The next value of a xorshift64 generator: the tests' deterministic
/// noise.
#[cfg(test)]
pub(crate) fn xorshift(r: &mut u64) -> u64 {
    *r ^= *r << 13;
    *r ^= *r >> 7;
    *r ^= *r << 17;
    *r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_strip_urls_and_keep_contractions() {
        assert_eq!(
            words("Don't MISS https://t.co/x it's @Brand's #1!"),
            vec!["dont", "miss", "its", "brands", "1"]
        );
        assert!(words("").is_empty());
        assert_eq!(words("🍪 cookie🥛"), vec!["cookie"]);
    }

    /// The tokenizer before its ASCII fast path: char by char.
    fn words_reference(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for chunk in clip(text, MAX_FIELD_BYTES).split_whitespace() {
            if is_url(chunk) {
                continue;
            }
            let mut cur = String::new();
            let mut chars = chunk.chars().peekable();
            while let Some(c) = chars.next() {
                if c.is_alphanumeric() {
                    cur.extend(c.to_lowercase());
                } else if (c == '\'' || c == '’')
                    && !cur.is_empty()
                    && chars.peek().is_some_and(|n| n.is_alphanumeric())
                {
                } else if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            if !cur.is_empty() {
                out.push(cur);
            }
        }
        out
    }

    #[test]
    fn compact_is_compact_chars_collected() {
        for t in [
            "#SpreadTheCheer!",
            "#Dunk_In-The Dark2026",
            "",
            "#",
            "Caf\u{e9}#\u{130}stanbul",
            "A1b2 C3",
        ] {
            assert_eq!(compact(t), compact_chars(t).collect::<String>(), "{t}");
        }
    }

    #[test]
    fn ascii_fast_path_tokenizes_like_the_char_path() {
        // Mixed texts (some chunks ASCII, some not), then ASCII-only texts
        // with every ASCII whitespace byte.
        const MIXED: &[&str] = &[
            "a", "B", "'", "’", "-", "9", " ", "Don't", "http", "://", "www.", ".", "/", "É", "x'",
            "#",
        ];
        const ASCII: &[&str] = &[
            "a", "B", "'", "-", "9", " ", "Don't", "http", "://", "www.", ".", "/", "x'", "#",
            "\t", "\n", "\x0b", "\x0c", "\r", "Zz", "'s", "\x1f", "\x7f",
        ];
        let mut r = 0x2545_f491_4f6c_dd1du64;
        for pieces in [MIXED, ASCII] {
            for _ in 0..20_000 {
                let mut t = String::new();
                for _ in 0..(r % 12) {
                    xorshift(&mut r);
                    t.push_str(pieces[(r % pieces.len() as u64) as usize]);
                }
                xorshift(&mut r);
                assert_eq!(words(&t), words_reference(&t), "{t:?}");
            }
        }
    }

    /// The English algorithm leaves tokens without ASCII letters as they
    /// are, which is why `stem_uncached` does not run it on them.
    #[test]
    fn english_stemming_keeps_tokens_without_ascii_letters() {
        let stemmer = Stemmer::create(Algorithm::English);
        let scripts = [
            "éèüßñçøåæœ",
            "ΣΑΣΑςσαβγδ",
            "русскийязык",
            "தமிழ்மொழி",
            "العربيةكتب",
            "中文字日本語",
            "한국어",
            "İıǅǆ𐐀𐐨",
            "0123456789٣४",
            "'’-_",
        ];
        let all: Vec<char> = scripts.iter().flat_map(|s| s.chars()).collect();
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            xorshift(&mut r);
            let len = 1 + (r % 12) as usize;
            let t: String = (0..len)
                .map(|k| all[((r >> (k * 5)) as usize + k * 7) % all.len()])
                .collect();
            for w in words(&t) {
                assert_eq!(stemmer.stem(&w), w.as_str(), "{w:?}");
            }
        }
        // ... and tokens with one do go through it.
        assert_eq!(stem_uncached(&stemmer, "cafés"), "café");
    }

    #[test]
    fn camel_case_hashtags_split_on_case() {
        assert_eq!(
            split_hashtag("#DunkInTheDark").words,
            vec!["dunk", "in", "the", "dark"]
        );
        assert_eq!(
            split_hashtag("NYCMarathon2024").words,
            vec!["nyc", "marathon", "2024"]
        );
        assert_eq!(
            split_hashtag("why_i_stayed").words,
            vec!["why", "i", "stayed"]
        );
    }

    #[test]
    fn ascii_camel_case_splits_like_the_general_path() {
        const PIECES: &[&str] = &[
            "a", "B", "9", "Zz", "yY", "ABc", "0", "dark", "NYC", "_", "é",
        ];
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        let mut fast = 0;
        for _ in 0..20_000 {
            let mut t = String::new();
            for _ in 0..(r % 9) {
                xorshift(&mut r);
                t.push_str(PIECES[(r % PIECES.len() as u64) as usize]);
            }
            xorshift(&mut r);
            match split_ascii_camel_case(&t) {
                Some(w) => {
                    fast += 1;
                    assert_eq!(w, split_marked(&t), "{t:?}");
                }
                // The others are one-case words, or have other characters.
                None => assert!(
                    !t.bytes().all(|b| b.is_ascii_alphanumeric())
                        || t.is_empty()
                        || t.bytes().all(|b| b.is_ascii_lowercase())
                        || t.bytes().all(|b| b.is_ascii_uppercase()),
                    "{t:?}"
                ),
            }
        }
        assert!(fast > 5_000, "{fast}");
    }

    #[test]
    fn one_case_hashtags_split_every_plausible_way() {
        let s = split_hashtag("#dunkinthedark");
        assert!(s.words.contains(&"dark".to_string()), "{:?}", s.words);
        let s = split_hashtag("#susanalbumparty");
        assert!(s.words.contains(&"anal".to_string()), "{:?}", s.words);
        let s = split_hashtag("#nowthatcherisdead");
        assert!(s.words.contains(&"dead".to_string()), "{:?}", s.words);
        // a dictionary split exists, so the reading "g rape juice" is not
        // plausible
        let s = split_hashtag("#grapejuice");
        assert!(!s.words.contains(&"rape".to_string()), "{:?}", s.words);
        // a dictionary word is not split at all
        assert_eq!(split_hashtag("#therapist").words, vec!["therapist"]);
    }

    /// A one-case tag's split search as it was before the trie, the word
    /// masks and the one-pass shadowing: the word table probed for every
    /// position and length, every pair of spans compared.
    fn split_reference(t: &str) -> (Vec<u8>, Vec<u8>, Vec<String>, Vec<bool>) {
        let b = t.as_bytes();
        let n = b.len();
        let word = |i: usize, j: usize| std::str::from_utf8(&b[i..j]).is_ok_and(is_word);
        let mut fwd = vec![INF; n + 1];
        fwd[0] = 0;
        for j in 1..=n {
            for i in j.saturating_sub(MAX_WORD)..j {
                if fwd[i] >= INF {
                    continue;
                }
                if j - i <= MAX_WORD && word(i, j) {
                    fwd[j] = fwd[j].min(fwd[i]);
                } else if j - i <= MAX_UNKNOWN {
                    fwd[j] = fwd[j].min(fwd[i] + 1);
                }
            }
        }
        let mut bwd = vec![INF; n + 1];
        bwd[n] = 0;
        for i in (0..n).rev() {
            for j in (i + 1)..=(i + MAX_WORD).min(n) {
                if bwd[j] >= INF {
                    continue;
                }
                if j - i <= MAX_WORD && word(i, j) {
                    bwd[i] = bwd[i].min(bwd[j]);
                } else if j - i <= MAX_UNKNOWN {
                    bwd[i] = bwd[i].min(bwd[j] + 1);
                }
            }
        }
        let budget = u8::from(bwd[0] != 0);
        let mut spans = Vec::new();
        for i in 0..n {
            for j in (i + 2)..=(i + MAX_WORD).min(n) {
                let plausible = fwd
                    .get(i)
                    .zip(bwd.get(j))
                    .is_some_and(|(f, b)| f.saturating_add(*b) <= budget);
                if word(i, j) && plausible {
                    spans.push((i, j));
                }
            }
        }
        let shadowed = spans
            .iter()
            .map(|&(i, j)| {
                spans
                    .iter()
                    .any(|&(a, b)| a <= i && j <= b && b - a > j - i)
            })
            .collect();
        let words = spans.iter().map(|&(i, j)| t[i..j].to_string()).collect();
        (fwd, bwd, words, shadowed)
    }

    #[test]
    fn glued_split_matches_the_reference_search() {
        // Alphabets rich in words (every substring a candidate), poor in
        // them, and whole words glued together.
        const PIECES: [&str; 12] = [
            "a", "i", "s", "o", "n", "t", "e", "r", "the", "rapist", "ion", "q",
        ];
        let mut r = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            xorshift(&mut r);
            (r % n as u64) as usize
        };
        for round in 0..3_000 {
            let mut t = String::new();
            while t.len() < 6 + round % (MAX_GLUED - 5) {
                t.push_str(PIECES[next(PIECES.len())]);
            }
            t.truncate(MAX_GLUED);
            let (fwd, bwd, words, shadowed) = split_reference(&t);
            let (g, _) = Glued::with_ends(t.clone());
            assert_eq!((&g.fwd, &g.bwd), (&fwd, &bwd), "{t}");
            let split = split_hashtag(&t);
            if is_word(&t) {
                continue;
            }
            assert_eq!(split.words[..split.words.len() - 1], words[..], "{t}");
            assert_eq!(
                split.shadowed[..split.shadowed.len() - 1],
                shadowed[..],
                "{t}"
            );
        }
    }

    #[test]
    fn the_trie_holds_exactly_the_short_lowercase_words() {
        let trie = &WORDS.trie;
        let mut n = 0;
        for w in WORDS.stems.keys() {
            let b = w.as_bytes();
            if b.len() > MAX_WORD || !b.iter().all(u8::is_ascii_lowercase) {
                continue;
            }
            n += 1;
            assert_eq!(word_ends(b)[0] >> (b.len() - 1) & 1, 1, "{w}");
        }
        assert_eq!(trie.word.iter().filter(|w| **w).count(), n);
        assert!(n > 30_000, "{n}");
    }

    #[test]
    fn a_spent_budget_leaves_one_case_tags_whole() {
        // Thirteen letters, one short of their cost.
        let mut budget = 13 * SEGMENT_UNITS_PER_BYTE - 1;
        let s = split_hashtag_within("#dunkinthedark", &mut budget);
        assert!(s.glued.is_none() && s.words == ["dunkinthedark"]);
        assert_eq!(budget, 13 * SEGMENT_UNITS_PER_BYTE - 1);
        let mut budget = 13 * SEGMENT_UNITS_PER_BYTE;
        let s = split_hashtag_within("#dunkinthedark", &mut budget);
        assert!(s.glued.is_some() && s.words.contains(&"dark".to_string()));
        assert_eq!(budget, 0);
    }

    #[test]
    fn matcher_matches_whole_words_leftmost_longest() {
        let pats = vec![
            pattern("dark", Form::English),
            pattern("dunk in the dark", Form::English),
        ];
        let m = TermMatcher::new(&pats);
        let mut b = StreamBuilder::new(Form::English, Algorithm::English);
        b.push_segment(&words("You can still dunk in the dark"));
        b.push_segment(&words("darkroom"));
        let s = b.finish();
        let mut hits = Vec::new();
        m.for_each(&s.text, |p, _| hits.push(p));
        assert_eq!(hits, vec![1]);
        let m = TermMatcher::new(&[pattern("rapist", Form::English)]);
        let mut b = StreamBuilder::new(Form::English, Algorithm::English);
        b.push_segment(&words("the therapist"));
        let mut n = 0;
        m.for_each(&b.finish().text, |_, _| n += 1);
        assert_eq!(n, 0);
    }

    #[test]
    fn phrases_do_not_span_segments() {
        let m = TermMatcher::new(&[pattern("in the dark", Form::English)]);
        let mut b = StreamBuilder::new(Form::English, Algorithm::English);
        b.push_segment(&["in", "the"]);
        b.push_segment(&["dark"]);
        let mut n = 0;
        m.for_each(&b.finish().text, |_, _| n += 1);
        assert_eq!(n, 0);
    }

    /// The token matchers reproduce the Aho-Corasick ones they replaced:
    /// same matches, same order, on streams full of repeats, shared
    /// prefixes, duplicate patterns and segment edges.
    #[test]
    fn phrase_sets_match_exactly_like_aho_corasick() {
        const VOCAB: [&str; 8] = ["a", "b", "ab", "ba", "c", "run", "running", "aa"];
        let mut r = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            xorshift(&mut r);
            (r % n as u64) as usize
        };
        for _ in 0..400 {
            let pats: Vec<Vec<String>> = (0..1 + next(8))
                .map(|_| {
                    (0..next(4))
                        .map(|_| VOCAB[next(VOCAB.len())].to_string())
                        .collect()
                })
                .collect();
            let joined: Vec<String> = pats
                .iter()
                .map(|p| pattern(&p.join(" "), Form::Raw))
                .collect();
            let ac = TermMatcher::new(&joined);
            let set = PhraseSet::new(&pats);
            let mut b = StreamBuilder::new(Form::Raw, Algorithm::English);
            for _ in 0..1 + next(3) {
                let seg: Vec<&str> = (0..next(9)).map(|_| VOCAB[next(VOCAB.len())]).collect();
                b.push_segment(&seg);
            }
            let st = b.finish();
            let tok_at = |pos: usize| st.toks.iter().position(|t| t.start as usize == pos);
            let mut want = Vec::new();
            ac.for_each(&st.text, |p, pos| want.push((p, tok_at(pos))));
            let mut got = Vec::new();
            set.for_each(&st, |p, k| got.push((p, Some(k))));
            assert_eq!(got, want, "{pats:?} {}", st.text);
            let mut want = Vec::new();
            ac.for_each_overlapping(&st.text, |p, pos| want.push((p, tok_at(pos))));
            let got: Vec<_> = set
                .overlapping(&st, &mut 0)
                .into_iter()
                .map(|(p, k, _)| (p, Some(k)))
                .collect();
            assert_eq!(got, want, "{pats:?} {}", st.text);

            let glued_pats: Vec<String> = pats
                .iter()
                .map(|p| p.concat())
                .filter(|g| g.len() >= 3)
                .collect();
            let text: String = (0..6 + next(12)).map(|_| VOCAB[next(5)]).collect();
            let g = Glued::new(text.clone());
            if let Ok(ac) = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&glued_pats)
            {
                let want: Vec<usize> = ac
                    .find_overlapping_iter(text.as_str())
                    .filter(|m| g.plausible(m.start(), m.end(), 1))
                    .map(|m| m.pattern().as_usize())
                    .collect();
                let mut got = Vec::new();
                GluedSet::new(&glued_pats).for_each(&g, 1, |id| got.push(id));
                assert_eq!(got, want, "{glued_pats:?} {text}");
            }
        }
    }
}
