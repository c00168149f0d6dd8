//! Step 2, timing: how fresh the moment will be when the brand's answer
//! can go out (after its approval latency), and whether that lands in the
//! audience's quiet hours or active windows. Freshness halves every
//! half-life of the event's kind, stretched while the trend rises and
//! shortened while it fades. Customer care ignores the brand's windows: a
//! customer waiting is not a campaign slot.

use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::super::analyse::{TrendPhase, push_fixed};
use super::super::compiled::{CompiledProfile, Offsets};
use super::super::model::{EventKind, Factor, LocalWindow, ReasonCode};
use super::Moment;
use super::describe::{duration, minute, mode_name, push_duration, push_minute};
use super::ledger::{Ledger, Weight, unit};

/// The half-life of a rising trend, as a multiple of the longer of the
/// kind's and a trending topic's: a moment that becomes a trend lives as
/// long as it rises, whatever kind of event started it.
pub(super) const RISING_HALF_LIFE: f64 = 1.5;
/// The shortest half-life of an obligation: a question, complaint,
/// suggestion or letter addressed to the brand is owed an answer over a
/// customer-care horizon of hours, not a newsjacking half-life (6 hours:
/// a question left unanswered all morning is still owed its answer that
/// afternoon, one from yesterday is stale). A profile's own half-life for
/// the kind wins.
pub(super) const OBLIGATION_HALF_LIFE_SECS: f64 = 6.0 * 3_600.0;
/// The half-life of a fading trend, as a multiple of the kind's.
pub(super) const FADING_HALF_LIFE: f64 = 0.5;
/// Window factor inside one of the brand's active windows.
pub(super) const IN_ACTIVE_WINDOW: f64 = 1.0;
/// Window factor outside every active window the brand states.
pub(super) const OUTSIDE_ACTIVE_WINDOWS: f64 = 0.6;
/// Window factor for a brand that states no active windows.
pub(super) const NO_ACTIVE_WINDOWS: f64 = 0.85;
/// Window factor for customer care: a customer waiting is not a
/// campaign slot.
pub(super) const CARE_WINDOW_FACTOR: f64 = 1.0;
/// Window factor in the audience's quiet hours.
pub(super) const IN_QUIET_HOURS: f64 = 0.2;
/// Freshness at publication from which the reason is a `Fresh` note
/// rather than a `Stale` factor.
pub(super) const FRESH_NOTE_MIN: f64 = 0.5;
/// Contributions of the timing notes and of quiet hours.
pub(super) const TREND_RISING_NOTE: f64 = 0.1;
pub(super) const TREND_FADING_FACTOR: f64 = -0.2;
pub(super) const QUIET_HOURS_FACTOR: f64 = -0.8;
pub(super) const ACTIVE_WINDOW_NOTE: f64 = 0.15;

pub(super) struct Timing {
    pub(super) score: f64,
    /// Too old to answer (at publication), and not explained by quiet
    /// hours alone.
    pub(super) stale: bool,
    /// Publication would fall in (or wait through) quiet hours, and the
    /// moment is not stale anyway.
    pub(super) quiet: bool,
    /// The window factor the score used.
    pub(super) window_factor: f64,
    /// Seconds; freshness halves every half-life.
    pub(super) half_life: f64,
}

/// Where publication falls on the audience's clock.
struct Window {
    factor: f64,
    /// The minute of the day the factor was found at.
    at_minute: u32,
    window: Option<LocalWindow>,
    in_quiet: bool,
}

pub(super) fn assess(moment: &Moment<'_>, ledger: &mut Ledger) -> Timing {
    let event = moment.event;
    let compiled = moment.compiled;
    let thresholds = moment.thresholds;
    let latency = compiled.latency(moment.mode);
    let publish = add(moment.now, latency);
    let half_life = half_life(moment);
    let age_at_publish = secs_between(event.occurred_at, publish).max(0.0);
    let age_now = secs_between(event.occurred_at, moment.now).max(0.0);
    // 0.5^x written as 2^-x: optimised builds turn powf(0.5, x) into
    // exp2(-x), which can differ from pow in the last bit, so debug test
    // runs and the release binary would not give identical assessments.
    let fresh = |age: f64| unit((-(age / half_life)).exp2());
    let fresh_at_publish = fresh(age_at_publish);
    let clock = AudienceClock::of(moment);
    let start = if event.occurred_at < publish {
        event.occurred_at
    } else {
        publish
    };
    let start_minute = clock.minute_of_day(start);
    let publish_minute = clock.minute_of_day(publish);
    let span_minutes = secs_between(start, publish) / 60.0;
    let window = if moment.care {
        Window {
            factor: CARE_WINDOW_FACTOR,
            at_minute: publish_minute,
            window: None,
            in_quiet: false,
        }
    } else {
        worst_window(compiled, start_minute, span_minutes)
    };
    let score = unit(fresh_at_publish * window.factor);
    trend_note(moment, half_life, ledger);

    let fresh_detail = {
        let mut detail = String::with_capacity(64);
        detail.push_str("age at publish ");
        push_duration(&mut detail, age_at_publish);
        detail.push_str(" (half-life ");
        push_duration(&mut detail, half_life);
        detail.push_str(", ");
        detail.push_str(mode_name(moment.mode));
        detail.push_str(" approval ");
        push_duration(&mut detail, latency.as_secs_f64());
        detail.push(')');
        detail
    };
    let stale = score < thresholds.timing_min
        && !(window.in_quiet && fresh_at_publish >= thresholds.timing_min);
    // A moment that is stale anyway is explained by its age, not the clock.
    let quiet = window.in_quiet && !stale;
    let fresh_without_review = unit(fresh(age_now) * window.factor) >= thresholds.timing_min;
    if stale && fresh_without_review && !quiet {
        ledger.reasons.add(
            Weight::Decisive,
            ReasonCode::StaleAfterReview,
            Factor::Timing,
            -(1.0 - score),
            format!("{fresh_detail}: the moment passes during review"),
        );
    } else if stale && !quiet {
        ledger.reasons.add(
            Weight::Decisive,
            ReasonCode::Stale,
            Factor::Timing,
            -(1.0 - score),
            fresh_detail,
        );
    } else if fresh_at_publish >= FRESH_NOTE_MIN {
        ledger.reasons.add(
            Weight::Note,
            ReasonCode::Fresh,
            Factor::Timing,
            fresh_at_publish,
            fresh_detail,
        );
    } else {
        ledger.reasons.add(
            Weight::Factor,
            ReasonCode::Stale,
            Factor::Timing,
            -(1.0 - fresh_at_publish),
            fresh_detail,
        );
    }
    window_note(&clock, &window, quiet, publish_minute, ledger);
    Timing {
        score,
        stale,
        quiet,
        window_factor: window.factor,
        half_life,
    }
}

/// The kind's half-life (the profile's override or the default), at least
/// the obligation horizon for what was addressed to the brand, set by the
/// trend's phase.
fn half_life(moment: &Moment<'_>) -> f64 {
    let kind = moment.event.kind;
    let of_kind = |kind| moment.compiled.half_life(kind).as_secs_f64().max(1.0);
    let overridden = moment
        .profile
        .half_life_overrides
        .iter()
        .any(|o| o.kind == kind);
    let base = if is_obligation(moment) && !overridden {
        of_kind(kind).max(OBLIGATION_HALF_LIFE_SECS)
    } else {
        of_kind(kind)
    };
    match moment.analysed.trend {
        TrendPhase::Rising(_) => base.max(of_kind(EventKind::TrendingTopic)) * RISING_HALF_LIFE,
        TrendPhase::Fading(_) => base * FADING_HALF_LIFE,
        _ => base,
    }
}

/// A person's own words addressed to the brand: an obligation, not an
/// opportunity. A crowd's moment (a trend, a story) is never one, even when
/// it tags the brand.
fn is_obligation(moment: &Moment<'_>) -> bool {
    moment.addressed
        && matches!(
            moment.event.kind,
            EventKind::Question
                | EventKind::Complaint
                | EventKind::DirectMessage
                | EventKind::BrandMention
                | EventKind::Praise
                | EventKind::Conversation
        )
}

fn trend_note(moment: &Moment<'_>, half_life: f64, ledger: &mut Ledger) {
    match moment.analysed.trend {
        TrendPhase::Rising(ratio) => ledger.reasons.add(
            Weight::Note,
            ReasonCode::TrendRising,
            Factor::Timing,
            TREND_RISING_NOTE,
            {
                let mut detail = String::with_capacity(40);
                detail.push_str("velocity rising ×");
                push_fixed(&mut detail, ratio, 1);
                detail.push_str("; half-life ");
                push_duration(&mut detail, half_life);
                detail
            },
        ),
        TrendPhase::Fading(ratio) => ledger.reasons.add(
            Weight::Factor,
            ReasonCode::TrendFading,
            Factor::Timing,
            TREND_FADING_FACTOR,
            format!(
                "velocity fading to {:.0}% of recent; half-life {}",
                ratio * 100.0,
                duration(half_life)
            ),
        ),
        _ => {}
    }
}

/// Quiet hours, decisive; or the active window publication lands in.
fn window_note(
    clock: &AudienceClock<'_>,
    window: &Window,
    quiet: bool,
    publish_minute: u32,
    ledger: &mut Ledger,
) {
    let zone = clock.zone_name;
    if quiet {
        let range = window
            .window
            .map(|w| {
                format!(
                    " (quiet {}–{})",
                    minute(w.start_minute),
                    minute(w.end_minute)
                )
            })
            .unwrap_or_default();
        ledger.reasons.add(
            Weight::Decisive,
            ReasonCode::QuietHours,
            Factor::Timing,
            QUIET_HOURS_FACTOR,
            format!(
                "audience local time {} {zone}{range}",
                minute(window.at_minute)
            ),
        );
    } else if let Some(active) = window.window.filter(|_| !window.in_quiet) {
        ledger.reasons.add(
            Weight::Note,
            ReasonCode::ActiveWindow,
            Factor::Timing,
            ACTIVE_WINDOW_NOTE,
            {
                let mut detail = String::with_capacity(48 + zone.len());
                detail.push_str("publishes ");
                push_minute(&mut detail, publish_minute);
                detail.push(' ');
                detail.push_str(zone);
                detail.push_str(", in active window ");
                push_minute(&mut detail, active.start_minute);
                detail.push('–');
                push_minute(&mut detail, active.end_minute);
                detail
            },
        );
    }
}

/// The audience's time zone: the event's when it names a known one, else
/// the brand's.
struct AudienceClock<'a> {
    zone: &'a TimeZone,
    /// The profile's offset table, when the zone is the profile's own.
    table: Option<&'a Offsets>,
    zone_name: &'a str,
}

impl<'a> AudienceClock<'a> {
    fn of(moment: &Moment<'a>) -> Self {
        let analysed = moment.analysed;
        let event = moment.event;
        let profile = moment.profile;
        // Resolved once in `analyse`: an empty or unknown zone is the
        // brand's.
        let zone = analysed.audience_tz.as_ref().unwrap_or(&moment.compiled.tz);
        // The profile's table is for its own zone: the event's zone is
        // that one when the event names none or the same (comparing the
        // names is cheaper than comparing the zones).
        let table = (analysed.audience_tz.is_none()
            || event.audience_time_zone == profile.audience_time_zone)
            .then_some(&moment.compiled.offsets);
        let zone_name = if !event.audience_time_zone.is_empty() {
            event.audience_time_zone.as_str()
        } else if !profile.audience_time_zone.is_empty() {
            profile.audience_time_zone.as_str()
        } else {
            "UTC"
        };
        Self {
            zone,
            table,
            zone_name,
        }
    }

    fn minute_of_day(&self, at: Timestamp) -> u32 {
        minute_of_day(at, self.zone, self.table)
    }
}

/// Minute of the local day at `at` in `zone`; `table` holds the offsets of
/// `zone` for some years, where it has them.
pub(super) fn minute_of_day(at: Timestamp, zone: &TimeZone, table: Option<&Offsets>) -> u32 {
    // Whole seconds rounded down, as civil time counts them.
    let second = at.as_second() - i64::from(at.subsec_nanosecond() < 0);
    let offset = table
        .and_then(|t| t.get(second))
        .unwrap_or_else(|| zone.to_offset(at).seconds());
    (second.saturating_add(i64::from(offset)).rem_euclid(86_400) / 60) as u32
}

/// The window factor at one minute of the day.
fn window_at(profile: &CompiledProfile, minute: u32) -> Window {
    let found = |factor, window, in_quiet| Window {
        factor,
        at_minute: minute,
        window,
        in_quiet,
    };
    if let Some(quiet) = profile.quiet.iter().find(|w| w.contains(minute)) {
        return found(IN_QUIET_HOURS, Some(*quiet), true);
    }
    let active = &profile.stored.profile.active_windows;
    if active.is_empty() {
        return found(NO_ACTIVE_WINDOWS, None, false);
    }
    match active.iter().find(|w| w.contains(minute)) {
        Some(w) => found(IN_ACTIVE_WINDOW, Some(*w), false),
        None => found(OUTSIDE_ACTIVE_WINDOWS, None, false),
    }
}

/// The lowest window factor between the moment and publication: a moment
/// that would have to wait through quiet hours has gone cold by morning.
/// Taking the minimum over a growing interval keeps timing non-increasing
/// in `now`.
fn worst_window(profile: &CompiledProfile, start_minute: u32, span_minutes: f64) -> Window {
    let mut worst = window_at(profile, start_minute);
    let span = if span_minutes.is_finite() {
        span_minutes.max(0.0)
    } else {
        f64::MAX
    };
    let bounds = profile
        .quiet
        .iter()
        .chain(profile.stored.profile.active_windows.iter())
        .flat_map(|w| [w.start_minute % 1440, w.end_minute % 1440]);
    for bound in bounds {
        let offset = (bound + 1440 - start_minute) % 1440;
        if f64::from(offset) <= span {
            let here = window_at(profile, bound);
            if here.factor < worst.factor {
                worst = here;
            }
        }
    }
    worst
}

pub(super) fn add(at: Timestamp, duration: Duration) -> Timestamp {
    SignedDuration::try_from(duration)
        .ok()
        .and_then(|d| at.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

pub(super) fn add_secs(at: Timestamp, secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() {
        return None;
    }
    let duration = SignedDuration::try_from_secs_f64(secs).ok()?;
    at.checked_add(duration).ok()
}

pub(super) fn secs_between(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64()
}
