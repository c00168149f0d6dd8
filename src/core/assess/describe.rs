//! How reasons spell durations, clock times and modes: short, in the
//! contract's words, and without the formatter machinery (these run for
//! every assessment).

use super::super::analyse::push_fixed;
use super::super::model::{BlackoutScope, EngagementMode, EventKind};

/// Seconds in a day and an hour.
const DAY_SECS: f64 = 86_400.0;
const HOUR_SECS: f64 = 3_600.0;

pub(super) fn duration(secs: f64) -> String {
    let mut out = String::with_capacity(8);
    push_duration(&mut out, secs);
    out
}

/// Days from two days up, hours from one hour, minutes below.
pub(super) fn push_duration(out: &mut String, secs: f64) {
    let secs = secs.max(0.0);
    if secs >= 2.0 * DAY_SECS {
        push_fixed(out, secs / DAY_SECS, 1);
        out.push('d');
    } else if secs >= HOUR_SECS {
        push_fixed(out, secs / HOUR_SECS, 1);
        out.push('h');
    } else {
        push_fixed(out, secs / 60.0, 0);
        out.push('m');
    }
}

pub(super) fn minute(minute_of_day: u32) -> String {
    let mut out = String::with_capacity(5);
    push_minute(&mut out, minute_of_day);
    out
}

/// `HH:MM` of a minute of the day.
pub(super) fn push_minute(out: &mut String, minute_of_day: u32) {
    let (hour, minute) = ((minute_of_day / 60) % 24, minute_of_day % 60);
    for digit in [hour / 10, hour % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
    out.push(':');
    for digit in [minute / 10 % 10, minute % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
}

/// A mode as the contract names it (`ENGAGEMENT_MODE_CUSTOMER_CARE`
/// without its prefix), so reason details read like the API.
pub(super) fn mode_name(mode: EngagementMode) -> &'static str {
    match mode {
        EngagementMode::None => "NONE",
        EngagementMode::CustomerCare => "CUSTOMER_CARE",
        EngagementMode::Reply => "REPLY",
        EngagementMode::JoinConversation => "JOIN_CONVERSATION",
        EngagementMode::Newsjack => "NEWSJACK",
    }
}

/// A blackout scope as the CLI and the contract name it (`global`).
pub(super) fn scope_name(scope: BlackoutScope) -> &'static str {
    match scope {
        BlackoutScope::Global => "global",
        BlackoutScope::Brand => "brand",
        BlackoutScope::Topic => "topic",
        BlackoutScope::Region => "region",
    }
}

/// An event kind as the contract names it (`EVENT_KIND_TRENDING_TOPIC`
/// without its prefix).
pub(super) fn kind_name(kind: EventKind) -> &'static str {
    match kind {
        EventKind::BrandMention => "BRAND_MENTION",
        EventKind::DirectMessage => "DIRECT_MESSAGE",
        EventKind::Question => "QUESTION",
        EventKind::Complaint => "COMPLAINT",
        EventKind::Praise => "PRAISE",
        EventKind::Conversation => "CONVERSATION",
        EventKind::TrendingTopic => "TRENDING_TOPIC",
        EventKind::News => "NEWS",
        EventKind::LiveEvent => "LIVE_EVENT",
        EventKind::CulturalMoment => "CULTURAL_MOMENT",
    }
}
