//! Coded hate spelled out a character at a time (`core::spelled`).

use kairos::core::analyse;
use kairos::core::model::*;

use super::scenarios::event;

/// The codes found in a print request addressed to the brand carrying
/// `text` (codes count only in echo requests, and are only looked for
/// there).
fn codes(text: &str) -> Vec<&'static str> {
    let request = format!("can you print this for me: {text}");
    let mut e = event(EventKind::BrandMention, &request, "2026-03-02T12:00:00Z");
    e.addressed_to_brand = true;
    let a = analyse(&e);
    assert!(!a.echo.is_empty(), "{request}");
    a.codes.iter().map(|f| f.term).collect()
}

#[test]
fn a_code_spelled_a_character_at_a_time_is_found() {
    for text in [
        "one letter per candy: R, A, H, O, W, A, then repeat",
        "engrave R-A-H-O-W-A on the lid",
        "print r.a.h.o.w.a on the back",
        "put 1 4 8 8 on the tag",
        "initials W P W W please",
    ] {
        assert!(!codes(text).is_empty(), "{text}");
    }
}

#[test]
fn initials_and_lists_are_not_codes() {
    for text in [
        "print U S A on the sleeve",
        "options a, b, c and d are sold out",
        "my initials are J. R. R. T.",
        "sizes S, M, L, XL",
        "rates went from 1.4 to 8.8 percent",
        "1.4, 8.8 and 3.2",
    ] {
        assert!(codes(text).is_empty(), "{text}: {:?}", codes(text));
    }
}

#[test]
fn a_code_split_over_a_name_and_a_number_is_found() {
    for text in [
        "name COMBAT and number 18 on the home shirt",
        "COMBAT on the back, eighteen on the sleeve",
        "name VIERZEHN, number 88",
    ] {
        assert!(!codes(text).is_empty(), "{text}");
    }
    // One half alone is a name or a shirt number.
    for text in ["name COMBAT, number 7", "name MÜLLER, number 18"] {
        assert!(codes(text).is_empty(), "{text}: {:?}", codes(text));
    }
}

#[test]
fn slogans_of_the_hate_symbol_references_are_codes() {
    for text in [
        "IT'S OKAY TO BE WHITE in plain black letters",
        "Deutschland erwache across the chest",
    ] {
        assert!(!codes(text).is_empty(), "{text}");
    }
}
