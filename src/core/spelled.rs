//! Words spelled out a character at a time: "R, A, H, O, W, A",
//! "R-A-H-O-W-A", "1 4 8 8". Coded hate is written this way to pass a
//! filter, or to be printed one letter per item, and a lexicon that reads
//! words never sees it.

/// Fewest characters a spelled-out word has: two could be initials.
pub(crate) const SPELLED_MIN_CHARS: usize = 3;

/// Calls `f` with each run of at least [`SPELLED_MIN_CHARS`] single
/// letters or digits written apart (by spaces, commas, dots, hyphens or
/// slashes), joined and lower-cased.
pub(crate) fn for_each_spelled_word(text: &str, mut f: impl FnMut(&str)) {
    let mut run = String::new();
    let mut chars = 0usize;
    let mut flush = |run: &mut String, chars: &mut usize| {
        if *chars >= SPELLED_MIN_CHARS {
            f(run);
        }
        run.clear();
        *chars = 0;
    };
    for piece in pieces(text) {
        let piece = piece.trim_matches(|c: char| !c.is_alphanumeric());
        if piece.is_empty() {
            continue;
        }
        let mut it = piece.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => {
                run.extend(c.to_lowercase());
                chars += 1;
            }
            _ => flush(&mut run, &mut chars),
        }
    }
    flush(&mut run, &mut chars);
}

/// `text` cut at whitespace, commas, hyphens, slashes, semicolons, colons
/// and dots, except a dot between two digits: "1.4, 8.8" is two numbers,
/// not 1, 4, 8 and 8.
fn pieces(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut start = 0;
    let mut cuts = text.char_indices().filter_map(move |(i, c)| {
        let cut = c.is_whitespace()
            || matches!(c, ',' | '-' | '/' | ';' | ':')
            || (c == '.' && !(i > 0 && digit_at(i - 1) && digit_at(i + 1)));
        cut.then_some((i, c.len_utf8()))
    });
    std::iter::from_fn(move || {
        if start > text.len() {
            return None;
        }
        let (end, width) = cuts.next().unwrap_or((text.len(), 1));
        let piece = text.get(start..end).unwrap_or_default();
        start = end + width;
        Some(piece)
    })
}
