//! Cues written in other languages: every listed spelling of a foreign
//! word is matched (English words keep one raw spelling per stem; the
//! golden file pins that nothing else moved).

use kairos::core::analyse;
use kairos::core::model::*;

use super::scenarios::{compile, event, profile, score};

fn in_language(kind: EventKind, language: &str, text: &str) -> Event {
    let mut e = event(kind, text, "2026-03-02T12:00:00Z");
    language.clone_into(&mut e.language);
    e
}

#[test]
fn each_spelling_of_a_foreign_boycott_is_found() {
    for (language, text) in [
        ("pt", "pedidos de boicote contra a marca"),
        ("es", "piden un boicot a la marca"),
        ("de", "Aufruf zum Boykott der Marke"),
        ("it", "parte il boicottaggio del marchio"),
    ] {
        let a = analyse(&in_language(EventKind::TrendingTopic, language, text));
        assert!(!a.incident.is_empty(), "{language}: {text}");
    }
}

fn print_request(language: &str, text: &str) -> Assessment {
    let brand = compile(profile("shop", "Shop", &[("shirt", 0.9)]));
    let mut e = in_language(EventKind::Question, language, text);
    e.addressed_to_brand = true;
    score(
        &e,
        &brand,
        EngagementCounts::default(),
        "2026-03-02T12:20:00Z",
    )
}

/// Each (language, request) is an echo request that goes to a person.
fn goes_to_people(requests: &[(&str, &str)]) {
    for (language, text) in requests {
        let a = print_request(language, text);
        assert!(
            a.reasons.iter().any(|r| r.code == ReasonCode::EchoTrap),
            "{language}: {a:?}"
        );
        assert_eq!(a.decision, Decision::Review, "{language}: {a:?}");
    }
}

#[test]
fn personalisation_requests_in_other_languages_go_to_people() {
    goes_to_people(&[
        (
            "pt",
            "dá pra personalizar a shirt com o meu nome e o número 10?",
        ),
        ("es", "¿puedo personalizar la shirt con mi nombre?"),
        ("fr", "je voudrais personnaliser le shirt avec mon prénom"),
        ("it", "posso personalizzare la shirt con il mio nome?"),
    ]);
}

#[test]
fn a_banned_slogan_in_a_print_request_declines() {
    let a = print_request(
        "de",
        "Könnt ihr mir „Alles für Deutschland“ auf ein shirt drucken?",
    );
    assert_eq!(a.decision, Decision::Decline, "{a:?}");
}

fn beer() -> kairos::core::CompiledProfile {
    compile(profile(
        "cerveza",
        "Cerveza Sol",
        &[("fútbol", 0.8), ("méxico", 0.6), ("afición", 0.6)],
    ))
}

#[test]
fn a_disaster_reported_in_spanish_declines_but_its_words_as_idiom_do_not() {
    let now = "2026-03-02T13:00:00Z";
    let news = in_language(
        EventKind::News,
        "es",
        "Sismo sacude México: edificios derrumbados y decenas de muertos; suspenden el fútbol",
    );
    let a = score(&news, &beer(), EngagementCounts::default(), now);
    assert_eq!(a.decision, Decision::Decline, "{a:?}");
    let idiom = in_language(
        EventKind::TrendingTopic,
        "es",
        "México gana y la afición del fútbol provoca un sismo artificial en la capital",
    );
    let a = score(&idiom, &beer(), EngagementCounts::default(), now);
    assert_ne!(a.decision, Decision::Decline, "{a:?}");
}

#[test]
fn the_day_of_the_dead_is_a_festival() {
    let a = analyse(&in_language(
        EventKind::CulturalMoment,
        "es",
        "altares y pan para el Día de Muertos en todo México",
    ));
    assert!(a.sensitive.is_empty(), "{:?}", a.sensitive);
}

#[test]
fn false_friends_are_read_in_their_own_language() {
    // French "retard" is a delay, German "die" an article; in English
    // they stay what the lexicons say.
    for (language, text, clean) in [
        ("fr", "encore 40 minutes de retard sur le TGV de 8h12", true),
        (
            "de",
            "die neue Kampagne ist da und die Leute lieben sie",
            true,
        ),
        ("en", "they all die in the end", false),
        (
            "es",
            "quieren gravar las bebidas azucaradas con un impuesto",
            true,
        ),
    ] {
        let a = analyse(&in_language(EventKind::Complaint, language, text));
        assert_eq!(
            a.sensitive.is_empty(),
            clean,
            "{language}: {:?}",
            a.sensitive
        );
    }
}

#[test]
fn a_shitstorm_at_the_brand_is_an_incident() {
    let a = analyse(&in_language(
        EventKind::TrendingTopic,
        "de",
        "Erst Stimmen löschen, dann Regeln ändern, dann über den Shitstorm wundern",
    ));
    assert!(!a.incident.is_empty());
}

#[test]
fn a_false_friend_of_an_echo_verb_is_no_echo_request() {
    let tax = analyse(&in_language(
        EventKind::News,
        "es",
        "el gobierno quiere gravar las bebidas azucaradas",
    ));
    assert!(tax.echo.is_empty(), "{:?}", tax.echo);
    let engrave = analyse(&in_language(
        EventKind::Question,
        "pt",
        "vocês podem gravar o meu nome na caneta?",
    ));
    assert!(!engrave.echo.is_empty());
}

#[test]
fn print_orders_that_give_their_words_in_any_language_go_to_people() {
    goes_to_people(&[
        (
            "es",
            "queremos 14 camisetas moradas con «SE ACABÓ» en el pecho",
        ),
        ("pl", "chciałabym zamówić 20 koszulek z napisem KONSTYTUCJA"),
        ("fr", "je voudrais 5 sweats avec « ON EST LÀ » au dos"),
        ("nl", "10 truien met opdruk HUP HOLLAND graag"),
    ]);
}

#[test]
fn a_slogan_split_over_front_and_back_declines() {
    let a = print_request(
        "en",
        "40 navy tees please. front: YOU WILL NOT. back: REPLACE US",
    );
    assert_eq!(a.decision, Decision::Decline, "{a:?}");
}

#[test]
fn an_attack_reported_in_german_or_dutch_declines() {
    let club = compile(profile(
        "club",
        "Club Sponsor",
        &[("borussia dortmund", 0.8), ("ajax", 0.8)],
    ));
    for (language, text) in [
        (
            "de",
            "Explosionen am Mannschaftsbus von Borussia Dortmund, ein Spieler verletzt, die Polizei spricht von einem Anschlag",
        ),
        (
            "nl",
            "Explosie bij de spelersbus van Ajax, gewonden, politie spreekt van een aanslag",
        ),
    ] {
        let news = in_language(EventKind::News, language, text);
        let a = score(
            &news,
            &club,
            EngagementCounts::default(),
            "2026-03-02T13:00:00Z",
        );
        assert_eq!(a.decision, Decision::Decline, "{language}: {a:?}");
    }
}

#[test]
fn a_brand_deleting_its_own_post_is_its_incident() {
    for (language, text) in [
        ("es", "la marca publica un chiste y lo borra poco después"),
        ("de", "die Marke löscht den Post nach der Empörung"),
        ("nl", "ophef over de grap van het merk"),
    ] {
        let a = analyse(&in_language(EventKind::TrendingTopic, language, text));
        assert!(!a.incident.is_empty(), "{language}: {text}");
    }
}

#[test]
fn print_orders_in_nordic_and_central_european_languages_go_to_people() {
    goes_to_people(&[
        (
            "sv",
            "vill ha tryck på 11 tröjor: HEJA GÖTEBORG över bröstet",
        ),
        ("cs", "25 hrnků s potiskem: nápis DÍKY VŠEM"),
        ("hu", "a torta tetejére a felirat: BOLDOG SZÜLINAPOT"),
        ("ro", "un tort, scris mare «LA MULȚI ANI»"),
    ]);
}

#[test]
fn translated_hate_slogans_in_a_print_request_decline() {
    for (language, text) in [
        ("sv", "tryck på tröjor: BLOD & ÄRA över bröstet"),
        ("hu", "a torta tetejére a felirat: BECSÜLETEM NEVE HŰSÉG"),
        (
            "nl",
            "een taart met als tekst BLOED EN BODEM in zwarte letters",
        ),
        ("pl", "koszulki z nadrukiem: DRUŻYNA CZTERNASTU SŁÓW"),
    ] {
        let a = print_request(language, text);
        assert_eq!(a.decision, Decision::Decline, "{language}: {a:?}");
    }
}

#[test]
fn an_ad_leaning_on_a_stereotype_is_a_complaint() {
    let a = analyse(&in_language(EventKind::TrendingTopic, "en", "the ad"));
    assert!(a.complaint.is_empty());
    let mut e = in_language(EventKind::TrendingTopic, "en", "the new ad");
    e.sample_posts = vec!["the whole punchline is a tired stereotype".into()];
    assert!(!analyse(&e).complaint.is_empty());
}
