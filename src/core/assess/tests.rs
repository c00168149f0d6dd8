//! The local clock the timing step reads.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::super::compiled::Offsets;
use super::timing::minute_of_day;

/// The minute jiff's civil time gives.
fn civil_minute(ts: Timestamp, tz: &TimeZone) -> u32 {
    let z = tz.to_datetime(ts);
    (z.hour() as u32) * 60 + z.minute() as u32
}

/// The table agrees with the zone's rules at and around every
/// transition it holds, across its years and outside them, and for
/// moments before 1970 with fractions of a second.
#[test]
fn local_minutes_from_the_offset_table_are_the_zones_own() {
    let around = Timestamp::from_second(1_770_150_000).unwrap();
    let zones = [
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/Sao_Paulo",
        "Pacific/Chatham",
        "Africa/Casablanca",
        "UTC",
    ];
    for name in zones {
        let tz = TimeZone::get(name).unwrap();
        let table = Offsets::new(&tz, around);
        let mut probes: Vec<i64> = Vec::new();
        let mut t = around.as_second() - 2 * 366 * 86_400;
        while t < around.as_second() + 5 * 366 * 86_400 {
            probes.push(t);
            t += 6 * 86_400 + 3_607;
        }
        for tr in tz
            .following(Timestamp::from_second(probes[0]).unwrap())
            .take(20)
        {
            let s = tr.timestamp().as_second();
            probes.extend([s - 61, s - 1, s, s + 1, s + 59]);
        }
        for s in probes {
            for nanos in [0, 1, 999_999_999] {
                let ts = Timestamp::new(s, nanos).unwrap();
                let want = civil_minute(ts, &tz);
                assert_eq!(minute_of_day(ts, &tz, Some(&table)), want, "{name} {ts}");
                assert_eq!(minute_of_day(ts, &tz, None), want, "{name} {ts}");
            }
        }
        assert!(table.get(around.as_second()).is_some(), "{name}");
    }
    let tz = TimeZone::get("America/New_York").unwrap();
    let early = Offsets::new(&tz, Timestamp::UNIX_EPOCH);
    for s in [-86_400 * 200 - 1, -1, 0, 86_400 * 100 + 7] {
        let ts = Timestamp::from_second(s)
            .unwrap()
            .checked_add(SignedDuration::from_millis(-250))
            .unwrap();
        assert_eq!(
            minute_of_day(ts, &tz, Some(&early)),
            civil_minute(ts, &tz),
            "{ts}"
        );
    }
}
