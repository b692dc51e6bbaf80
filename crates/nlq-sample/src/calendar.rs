//! The 92 days of the sample and the rhythm of traffic over them.
//!
//! Everything is UTC: the public sample's shards and `event_timestamp` are UTC days, so a shard
//! boundary is a fixed number of microseconds. Local time only shapes *when* people visit.

/// First daily shard of the public sample (`events_20201101`).
pub const FIRST_DAY: &str = "20201101";
/// Number of daily shards: 20201101 ..= 20210131.
pub const DAYS: u32 = 92;

pub(crate) const MICROS_PER_SECOND: i64 = 1_000_000;
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;
pub(crate) const MICROS_PER_DAY: i64 = SECONDS_PER_DAY * MICROS_PER_SECOND;

const FIRST_EPOCH_DAY: i64 = days_from_civil(2020, 11, 1);
pub(crate) const WINDOW_START_MICROS: i64 = FIRST_EPOCH_DAY * MICROS_PER_DAY;
pub(crate) const WINDOW_END_MICROS: i64 = WINDOW_START_MICROS + DAYS as i64 * MICROS_PER_DAY;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub(crate) fn day_start_micros(day: u32) -> i64 {
    WINDOW_START_MICROS + i64::from(day) * MICROS_PER_DAY
}

/// The shard a UTC timestamp falls in, if inside the window.
pub(crate) fn day_of(micros: i64) -> Option<u32> {
    if !(WINDOW_START_MICROS..WINDOW_END_MICROS).contains(&micros) {
        return None;
    }
    u32::try_from((micros - WINDOW_START_MICROS) / MICROS_PER_DAY).ok()
}

/// `YYYYMMDD` of a shard: both `event_date` and the table suffix.
pub(crate) fn date_suffix(day: u32) -> String {
    let (y, m, d) = civil_from_days(FIRST_EPOCH_DAY + i64::from(day));
    format!("{y:04}{m:02}{d:02}")
}

pub(crate) fn table_name(day: u32) -> String {
    format!("{}{}", nlq_core::ga4::EVENTS_PREFIX, date_suffix(day))
}

/// 0 = Monday.
fn weekday(day: u32) -> usize {
    // 1970-01-01 was a Thursday.
    (FIRST_EPOCH_DAY + i64::from(day) + 3).rem_euclid(7) as usize
}

/// Shoppers browse at work: weekends are well below weekdays.
const WEEKDAY_FACTOR: [f64; 7] = [1.06, 1.08, 1.06, 1.03, 0.94, 0.72, 0.76];

/// The holiday season of an online merch store: a November build-up with Black Friday and
/// Cyber Monday spikes, a ramp to the mid-December shipping cut-off, a Christmas trough and a
/// slow January.
fn season(day: u32) -> f64 {
    let d = f64::from(day);
    match day {
        0..=24 => 1.0 + 0.004 * d,
        25 => 0.9,      // Thanksgiving
        26 => 1.45,     // Black Friday
        27 | 28 => 1.2, // the weekend after
        29 => 1.4,      // Cyber Monday
        30..=43 => 1.15 + 0.45 * (d - 30.0) / 13.0,
        44..=47 => 1.6 - 0.03 * (d - 43.0),
        48..=53 => 1.45 - 0.12 * (d - 47.0),
        54 => 0.55,      // Christmas Day
        55..=60 => 0.72, // between the holidays
        61 => 0.6,       // New Year's Day
        _ => 0.8 + 0.15 * (d - 62.0) / 29.0,
    }
}

/// Relative traffic of a shard day.
pub(crate) fn day_weight(day: u32) -> f64 {
    season(day) * WEEKDAY_FACTOR[weekday(day)]
}

pub(crate) fn max_day_weight() -> f64 {
    (0..DAYS).map(day_weight).fold(0.0, f64::max)
}

/// Relative traffic by the visitor's local hour: a working-day curve with an evening shoulder.
pub(crate) const HOUR_WEIGHT: [f64; 24] = [
    0.30, 0.20, 0.14, 0.11, 0.10, 0.13, 0.22, 0.38, 0.60, 0.82, 0.95, 1.00, //
    1.00, 1.00, 0.98, 0.96, 0.93, 0.88, 0.84, 0.86, 0.88, 0.80, 0.64, 0.45,
];
pub(crate) const MAX_HOUR_WEIGHT: f64 = 1.0;

/// Local hour (0..24) of a UTC instant for a UTC offset in hours.
pub(crate) fn local_hour(micros: i64, utc_offset_hours: f64) -> usize {
    let seconds = micros.div_euclid(MICROS_PER_SECOND) + (utc_offset_hours * 3600.0) as i64;
    (seconds.rem_euclid(SECONDS_PER_DAY) / 3600) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_public_samples() {
        assert_eq!(date_suffix(0), FIRST_DAY);
        assert_eq!(date_suffix(29), "20201130");
        assert_eq!(date_suffix(30), "20201201");
        assert_eq!(date_suffix(DAYS - 1), "20210131");
        assert_eq!(table_name(61), "events_20210101");
        // 2020-11-01T00:00:00Z
        assert_eq!(WINDOW_START_MICROS, 1_604_188_800 * MICROS_PER_SECOND);
        assert_eq!(day_of(WINDOW_START_MICROS), Some(0));
        assert_eq!(day_of(WINDOW_END_MICROS - 1), Some(DAYS - 1));
        assert_eq!(day_of(WINDOW_END_MICROS), None);
        assert_eq!(day_of(WINDOW_START_MICROS - 1), None);
    }

    #[test]
    fn weekends_are_quieter_and_december_peaks() {
        // 2020-11-01 was a Sunday, 2020-11-02 a Monday.
        assert_eq!(weekday(0), 6);
        assert_eq!(weekday(1), 0);
        assert!(day_weight(7) < day_weight(8), "Sunday below Monday");
        let mid_december = day_weight(43); // Monday 2020-12-14
        let mid_november = day_weight(15); // Monday 2020-11-16
        let late_january = day_weight(85); // Monday 2021-01-25
        assert!(mid_december > 1.3 * mid_november);
        assert!(mid_december > 1.3 * late_january);
        assert!(day_weight(54) < day_weight(50), "Christmas drop");
    }

    #[test]
    fn local_hours_shift_by_the_offset() {
        let noon_utc = WINDOW_START_MICROS + 12 * 3600 * MICROS_PER_SECOND;
        assert_eq!(local_hour(noon_utc, 0.0), 12);
        assert_eq!(local_hour(noon_utc, -8.0), 4);
        assert_eq!(local_hour(noon_utc, 9.0), 21);
        assert_eq!(local_hour(noon_utc, 5.5), 17);
    }
}
