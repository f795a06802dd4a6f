//! Dates in Japan and the fiscal year (年度, 1 April – 31 March).
//!
//! Guests and inter-body groups are approved for a period that may not outlive the fiscal
//! year it starts in: budgets, contracts and the people in post change on 1 April, so every
//! such permission is reviewed again then. This module holds the calendar arithmetic behind
//! that rule, the check of a requested period, the reminder before a period ends, and the
//! display of dates and fiscal years in the Japanese calendar (和暦) and in English.
//!
//! Times are stored as microseconds since the Unix epoch in UTC (`now_us`); the date that
//! matters to staff is the date in Japan. Japan Standard Time is UTC+9 all year (no daylight
//! saving), so a fixed offset is exact. The crate does no I/O, so callers pass "today".

use crate::error::DomainError;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Microseconds in one day.
const US_PER_DAY: i64 = 86_400_000_000;
/// The offset of Japan Standard Time from UTC, in microseconds.
const JST_OFFSET_US: i64 = 9 * 3_600_000_000;

/// True in a leap year of the Gregorian calendar.
pub const fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days in `month` (1–12) of `year`; 0 for a month that does not exist.
pub const fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's `days_from_civil`).
/// Valid for every `i32` year; the arithmetic is in `i64` so it cannot overflow.
const fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    // Count years from 1 March, so that the leap day is the last day of the year.
    let y = year as i64 - if month <= 2 { 1 } else { 0 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = month as i64;
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0 … February = 11
    let doy = (153 * mp + 2) / 5 + day as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The civil date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`), as
/// (year, month, day). Callers keep `days` inside [`Date::MIN`]..=[`Date::MAX`], so the year
/// fits easily.
const fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    // Both casts are exact: the comments above give the ranges.
    (year, month as u8, day as u8)
}

/// A day of the Gregorian calendar, as seen in Japan.
///
/// The range is [`Date::MIN`] (0001-04-01) to [`Date::MAX`] (9999-03-31): the first day of
/// fiscal year 1 and the last day of fiscal year 9998, so the start and end of every date's
/// fiscal year are themselves dates and no fiscal-year function can fail. Field order makes
/// the derived ordering chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The earliest date: 1 April of year 1.
    pub const MIN: Date = Date {
        year: 1,
        month: 4,
        day: 1,
    };
    /// The latest date: 31 March 9999.
    pub const MAX: Date = Date {
        year: 9999,
        month: 3,
        day: 31,
    };

    /// The date, if it exists in the calendar and lies in [`Date::MIN`]..=[`Date::MAX`].
    pub const fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        let days = days_from_civil(year, month, day);
        if days < Self::MIN.to_epoch_days() || days > Self::MAX.to_epoch_days() {
            return None;
        }
        Some(Date { year, month, day })
    }

    pub const fn year(self) -> i32 {
        self.year
    }

    pub const fn month(self) -> u8 {
        self.month
    }

    pub const fn day(self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub const fn to_epoch_days(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// The date `days` after 1970-01-01, if it is inside the supported range.
    pub const fn from_epoch_days(days: i64) -> Option<Date> {
        if days < Self::MIN.to_epoch_days() || days > Self::MAX.to_epoch_days() {
            return None;
        }
        let (year, month, day) = civil_from_days(days);
        // The range check above keeps the year between 1 and 9999.
        Some(Date {
            year: year as i32,
            month,
            day,
        })
    }

    /// The date `days` later (earlier when negative), if it is inside the supported range.
    pub fn add_days(self, days: i64) -> Option<Date> {
        self.to_epoch_days()
            .checked_add(days)
            .and_then(Date::from_epoch_days)
    }

    /// The date in Japan at the instant `us` (microseconds since the Unix epoch, UTC).
    ///
    /// Instants before [`Date::MIN`] or after [`Date::MAX`] (some 290,000 years away from any
    /// clock this server reads) give the nearest end of the range instead of failing, so
    /// callers can pass `now_us()` without a fallible step.
    pub fn from_utc_us(us: i64) -> Date {
        // i128 so that adding the offset to an extreme i64 cannot overflow.
        let days = (i128::from(us) + i128::from(JST_OFFSET_US)).div_euclid(i128::from(US_PER_DAY));
        let min = Self::MIN.to_epoch_days();
        let max = Self::MAX.to_epoch_days();
        let days = i64::try_from(days).unwrap_or(if days < 0 { min } else { max });
        match Date::from_epoch_days(days.clamp(min, max)) {
            Some(date) => date,
            // Unreachable: the value was clamped into the range.
            None => Self::MIN,
        }
    }

    /// The first instant of this date in Japan (00:00 JST), in UTC microseconds.
    pub const fn start_of_day_utc_us(self) -> i64 {
        // At most about 2.9 million days from the epoch, far from overflowing i64 µs.
        self.to_epoch_days() * US_PER_DAY - JST_OFFSET_US
    }

    /// The first instant after this date in Japan (00:00 JST of the next day), in UTC
    /// microseconds: a period that ends on this date is over from this instant on.
    pub const fn end_of_day_utc_us(self) -> i64 {
        (self.to_epoch_days() + 1) * US_PER_DAY - JST_OFFSET_US
    }

    /// Parses `YYYY-MM-DD` exactly (the format of an HTML date input and of the database).
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            b[range].iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        let month = u8::try_from(digits(5..7)?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        Date::new(year, month, day)
    }

    /// Parses a date typed into a form field, with an error that names the field.
    pub fn parse_input(
        field: &'static str,
        label_ja: &'static str,
        raw: &str,
    ) -> Result<Date, DomainError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DomainError::invalid(
                field,
                label_ja,
                "入力してください。",
                "is required.",
            ));
        }
        Date::parse_iso(raw).ok_or_else(|| {
            DomainError::invalid(
                field,
                label_ja,
                "正しい日付を入力してください（例: 2026-04-01）。",
                "must be a valid date (for example 2026-04-01).",
            )
        })
    }

    /// The date in the Japanese calendar, e.g. "令和8年3月31日", "令和元年5月1日".
    /// Dates before 昭和 are written in the Western calendar, e.g. "1926年12月24日".
    pub fn label_ja(self) -> String {
        match era_of_date(self) {
            Some(era) => format!(
                "{}{}年{}月{}日",
                era.name,
                era_year(self.year - era.first_year + 1),
                self.month,
                self.day
            ),
            None => format!("{}年{}月{}日", self.year, self.month, self.day),
        }
    }

    /// The date in English, e.g. "31 March 2027".
    pub fn label_en(self) -> String {
        format!(
            "{} {} {}",
            self.day,
            MONTHS_EN[usize::from(self.month - 1) % 12],
            self.year
        )
    }
}

/// ISO 8601, `YYYY-MM-DD`.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IsoDate;
        impl serde::de::Visitor<'_> for IsoDate {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date as YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Date, E> {
                Date::parse_iso(v)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(IsoDate)
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// An era (元号) of the Japanese calendar.
struct Era {
    name: &'static str,
    /// The calendar year whose part from `from` on is the era's first year (元年).
    first_year: i32,
    /// The era's first day.
    from: Date,
}

/// Newest first. When a new era is proclaimed, add it at the top; nothing else changes.
const ERAS: [Era; 3] = [
    Era {
        name: "令和",
        first_year: 2019,
        from: Date {
            year: 2019,
            month: 5,
            day: 1,
        },
    },
    Era {
        name: "平成",
        first_year: 1989,
        from: Date {
            year: 1989,
            month: 1,
            day: 8,
        },
    },
    Era {
        name: "昭和",
        first_year: 1926,
        from: Date {
            year: 1926,
            month: 12,
            day: 25,
        },
    },
];

fn era_of_date(date: Date) -> Option<&'static Era> {
    ERAS.iter().find(|era| era.from <= date)
}

/// The era a fiscal year is named in: the one in force at the end of the fiscal year, as long
/// as the year it started in already counts in that era. So the year from 2019-04-01 is
/// 令和元年度 (the name used for it once 令和 began, as in its settlement of accounts), while
/// the year from 1988-04-01, which ended under 平成, stays 昭和63年度 (平成 has no year 0).
fn era_of_fiscal_year(fy: i32) -> Option<&'static Era> {
    let end = Date {
        year: fy.saturating_add(1),
        month: 3,
        day: 31,
    };
    ERAS.iter()
        .find(|era| era.from <= end && era.first_year <= fy)
}

/// "元" for the first year of an era, the number otherwise.
fn era_year(n: i32) -> String {
    if n == 1 {
        "元".to_owned()
    } else {
        n.to_string()
    }
}

/// The fiscal year (年度) of a date: the calendar year in which it began on 1 April.
/// 2026-03-31 is in fiscal year 2025; 2026-04-01 is in fiscal year 2026.
pub fn fiscal_year(date: Date) -> i32 {
    if date.month >= 4 {
        date.year
    } else {
        date.year - 1
    }
}

/// The first day of the date's fiscal year: 1 April.
pub fn fiscal_year_start(date: Date) -> Date {
    // In range: Date::MIN is itself a 1 April.
    Date {
        year: fiscal_year(date),
        month: 4,
        day: 1,
    }
}

/// The last day of the date's fiscal year (年度末): 31 March of the following calendar year.
pub fn fiscal_year_end(date: Date) -> Date {
    // In range: Date::MAX is itself a 31 March.
    Date {
        year: fiscal_year(date) + 1,
        month: 3,
        day: 31,
    }
}

/// A fiscal year in the Japanese calendar, e.g. "令和8年度" for 2026 and "令和元年度" for 2019.
/// Years before 昭和 are written in the Western calendar, e.g. "1925年度".
pub fn fiscal_year_label_ja(fy: i32) -> String {
    match era_of_fiscal_year(fy) {
        Some(era) => format!("{}{}年度", era.name, era_year(fy - era.first_year + 1)),
        None => format!("{fy}年度"),
    }
}

/// A fiscal year in English, e.g. "FY2026".
pub fn fiscal_year_label_en(fy: i32) -> String {
    format!("FY{fy}")
}

/// The error for an end date past the end of the fiscal year, naming the last allowed day.
fn crosses_fiscal_year(last: Date) -> DomainError {
    DomainError::PeriodCrossesFiscalYear {
        last_day_ja: last.label_ja(),
        last_day_en: last.label_en(),
    }
}

/// Checks a requested guest or group period, both ends inclusive: it starts today or later,
/// does not end before it starts, and ends by the end of the fiscal year it starts in.
pub fn check_period(start: Date, end: Date, today: Date) -> Result<(), DomainError> {
    if start < today {
        return Err(DomainError::invalid(
            "start_date",
            "開始日",
            "今日以降の日付を指定してください。",
            "must be today or later.",
        ));
    }
    if end < start {
        return Err(DomainError::invalid(
            "end_date",
            "終了日",
            "開始日以降の日付を指定してください。",
            "must be on or after the start date.",
        ));
    }
    let last = fiscal_year_end(start);
    if end > last {
        return Err(crosses_fiscal_year(last));
    }
    Ok(())
}

/// Checks an extension of a period: the new end is later than the current one and still in
/// the same fiscal year. Going into the next fiscal year needs a new application.
pub fn check_extension(current_end: Date, new_end: Date) -> Result<(), DomainError> {
    if new_end <= current_end {
        return Err(DomainError::invalid(
            "end_date",
            "終了日",
            format!(
                "現在の終了日（{}）より後の日付を指定してください。",
                current_end.label_ja()
            ),
            format!(
                "must be after the current end date ({}).",
                current_end.label_en()
            ),
        ));
    }
    let last = fiscal_year_end(current_end);
    if new_end > last {
        return Err(crosses_fiscal_year(last));
    }
    Ok(())
}

/// Days from `today` to the last day `end`: 0 on the last day itself, negative once past it.
pub fn days_left(today: Date, end: Date) -> i64 {
    end.to_epoch_days() - today.to_epoch_days()
}

/// Whether to remind that a period ends soon: from `days_before` days before `end` up to and
/// including `end` itself; never after the period is over.
pub fn reminder_due(today: Date, end: Date, days_before: u32) -> bool {
    let left = days_left(today, end);
    (0..=i64::from(days_before)).contains(&left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(year: i32, month: u8, day: u8) -> Date {
        Date::new(year, month, day).unwrap()
    }

    /// Every date from 1990-01-01 to 2100-12-31, generated by a plain day counter that knows
    /// nothing of Hinnant's algorithm, so the two check each other.
    fn every_day() -> Vec<Date> {
        let mut out = Vec::new();
        for year in 1990..=2100 {
            for month in 1..=12u8 {
                for day in 1..=days_in_month(year, month) {
                    out.push(Date { year, month, day });
                }
            }
        }
        out
    }

    #[test]
    fn days_conversion_round_trips_and_counts_every_day_once() {
        let days = every_day();
        assert_eq!(days.len(), 40_542); // 111 years, 27 of them leap years
        let first = days[0].to_epoch_days();
        assert_eq!(first, 7305); // 1990-01-01 is 7305 days after 1970-01-01
        for (i, date) in days.iter().enumerate() {
            let n = date.to_epoch_days();
            assert_eq!(n, first + i as i64, "{date}");
            assert_eq!(Date::from_epoch_days(n), Some(*date));
            assert_eq!(Date::new(date.year, date.month, date.day), Some(*date));
            if let Some(next) = days.get(i + 1) {
                assert!(date < next);
                assert_eq!(date.add_days(1), Some(*next));
                assert_eq!(next.add_days(-1), Some(*date));
            }
        }
    }

    #[test]
    fn fiscal_year_is_monotonic_and_changes_exactly_on_1_april() {
        let days = every_day();
        for pair in days.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let (fa, fb) = (fiscal_year(a), fiscal_year(b));
            if b.month == 4 && b.day == 1 {
                assert_eq!(fb, fa + 1, "{b}");
                assert_eq!(fb, b.year);
            } else {
                assert_eq!(fb, fa, "{b}");
            }
        }
    }

    #[test]
    fn fiscal_year_bounds_hold_for_every_day() {
        for date in every_day() {
            let start = fiscal_year_start(date);
            let end = fiscal_year_end(date);
            assert!(start <= date && date <= end, "{date}");
            assert_eq!((start.month, start.day), (4, 1));
            assert_eq!((end.month, end.day), (3, 31));
            assert_eq!(end.year, start.year + 1);
            assert_eq!(fiscal_year(start), fiscal_year(date));
            assert_eq!(fiscal_year(end), fiscal_year(date));
            // A fiscal year has 365 or 366 days, so the end is at most 365 days away.
            let left = days_left(date, end);
            assert!((0..=365).contains(&left), "{date}");
            assert_eq!(
                end.add_days(1),
                Some(fiscal_year_start(end.add_days(1).unwrap()))
            );
        }
    }

    #[test]
    fn check_period_accepts_the_fiscal_year_end_and_refuses_the_day_after_for_every_day() {
        for date in every_day() {
            let end = fiscal_year_end(date);
            assert_eq!(check_period(date, end, date), Ok(()), "{date}");
            assert_eq!(check_period(date, date, date), Ok(()), "{date}");
            let over = end.add_days(1).unwrap();
            let err = check_period(date, over, date).unwrap_err();
            assert_eq!(err, crosses_fiscal_year(end), "{date}");
        }
    }

    #[test]
    fn the_japan_date_turns_at_15_00_utc() {
        // 2027-03-31T15:00:00Z, from `date -u -d 2027-03-31T15:00:00Z +%s`.
        let us = 1_806_505_200 * 1_000_000;
        assert_eq!(Date::from_utc_us(us), d(2027, 4, 1));
        assert_eq!(Date::from_utc_us(us - 1), d(2027, 3, 31));
        assert_eq!(fiscal_year(Date::from_utc_us(us)), 2027);
        assert_eq!(fiscal_year(Date::from_utc_us(us - 1)), 2026);
        assert_eq!(d(2027, 4, 1).start_of_day_utc_us(), us);
        assert_eq!(d(2027, 3, 31).end_of_day_utc_us(), us);
        // The last day of 平成: 2019-04-30T15:00:00Z is the first instant of 令和.
        let reiwa = 1_556_636_400 * 1_000_000;
        assert_eq!(Date::from_utc_us(reiwa - 1).label_ja(), "平成31年4月30日");
        assert_eq!(Date::from_utc_us(reiwa).label_ja(), "令和元年5月1日");
        // Before the epoch the floor division still gives the right day.
        assert_eq!(Date::from_utc_us(-JST_OFFSET_US), d(1970, 1, 1));
        assert_eq!(Date::from_utc_us(-JST_OFFSET_US - 1), d(1969, 12, 31));
    }

    #[test]
    fn instants_and_dates_agree_on_every_day() {
        for date in every_day() {
            let start = date.start_of_day_utc_us();
            let end = date.end_of_day_utc_us();
            assert_eq!(end - start, US_PER_DAY);
            assert_eq!(Date::from_utc_us(start), date);
            assert_eq!(Date::from_utc_us(end - 1), date);
            assert_eq!(Some(Date::from_utc_us(start - 1)), date.add_days(-1));
        }
    }

    #[test]
    fn extreme_instants_clamp_to_the_supported_range() {
        assert_eq!(Date::from_utc_us(i64::MIN), Date::MIN);
        assert_eq!(Date::from_utc_us(i64::MAX), Date::MAX);
        assert_eq!(
            Date::from_utc_us(Date::MIN.start_of_day_utc_us() - 1),
            Date::MIN
        );
        assert_eq!(Date::from_utc_us(Date::MAX.end_of_day_utc_us()), Date::MAX);
        assert_eq!(Date::MAX.add_days(1), None);
        assert_eq!(Date::MIN.add_days(-1), None);
        assert_eq!(Date::MIN.add_days(i64::MAX), None);
        assert_eq!(Date::MAX.add_days(i64::MIN), None);
        assert_eq!(Date::new(1, 3, 31), None);
        assert_eq!(Date::new(9999, 4, 1), None);
        assert_eq!(fiscal_year_start(Date::MIN), Date::MIN);
        assert_eq!(fiscal_year_end(Date::MAX), Date::MAX);
        assert_eq!(fiscal_year_end(Date::MIN), d(2, 3, 31));
        assert_eq!(fiscal_year_start(Date::MAX), d(9998, 4, 1));
    }

    #[test]
    fn fiscal_years_at_the_turn_of_march_and_april() {
        assert_eq!(fiscal_year(d(2026, 3, 31)), 2025);
        assert_eq!(fiscal_year(d(2026, 4, 1)), 2026);
        assert_eq!(fiscal_year(d(2026, 12, 31)), 2026);
        assert_eq!(fiscal_year(d(2027, 1, 1)), 2026);
        assert_eq!(fiscal_year_end(d(2026, 4, 1)), d(2027, 3, 31));
        assert_eq!(fiscal_year_end(d(2026, 3, 31)), d(2026, 3, 31));
        assert_eq!(fiscal_year_start(d(2027, 3, 31)), d(2026, 4, 1));
    }

    #[test]
    fn leap_years() {
        assert!(Date::new(2028, 2, 29).is_some());
        assert!(Date::new(2027, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(2100, 2, 29).is_none());
        assert_eq!(d(2028, 2, 28).add_days(1), Some(d(2028, 2, 29)));
        assert_eq!(d(2028, 2, 29).add_days(1), Some(d(2028, 3, 1)));
        assert_eq!(fiscal_year(d(2028, 2, 29)), 2027);
        // Fiscal year 2027 holds 29 February 2028 and so has 366 days.
        assert_eq!(days_left(d(2027, 4, 1), d(2028, 3, 31)), 365);
        assert_eq!(days_left(d(2026, 4, 1), d(2027, 3, 31)), 364);
        assert_eq!(d(2028, 2, 29).label_ja(), "令和10年2月29日");
        assert_eq!(d(2028, 2, 29).label_en(), "29 February 2028");
    }

    #[test]
    fn japanese_calendar_dates_at_era_boundaries() {
        assert_eq!(d(2026, 3, 31).label_ja(), "令和8年3月31日");
        assert_eq!(d(2019, 5, 1).label_ja(), "令和元年5月1日");
        assert_eq!(d(2019, 12, 31).label_ja(), "令和元年12月31日");
        assert_eq!(d(2020, 1, 1).label_ja(), "令和2年1月1日");
        assert_eq!(d(2019, 4, 30).label_ja(), "平成31年4月30日");
        assert_eq!(d(2019, 1, 1).label_ja(), "平成31年1月1日");
        assert_eq!(d(1989, 1, 8).label_ja(), "平成元年1月8日");
        assert_eq!(d(1989, 1, 7).label_ja(), "昭和64年1月7日");
        assert_eq!(d(1926, 12, 25).label_ja(), "昭和元年12月25日");
        assert_eq!(d(1926, 12, 24).label_ja(), "1926年12月24日");
        assert_eq!(d(2100, 12, 31).label_ja(), "令和82年12月31日");
    }

    #[test]
    fn japanese_calendar_fiscal_years() {
        assert_eq!(fiscal_year_label_ja(2026), "令和8年度");
        assert_eq!(fiscal_year_label_ja(2020), "令和2年度");
        assert_eq!(fiscal_year_label_ja(2019), "令和元年度");
        assert_eq!(fiscal_year_label_ja(2018), "平成30年度");
        assert_eq!(fiscal_year_label_ja(1989), "平成元年度");
        assert_eq!(fiscal_year_label_ja(1988), "昭和63年度");
        assert_eq!(fiscal_year_label_ja(1926), "昭和元年度");
        assert_eq!(fiscal_year_label_ja(1925), "1925年度");
        assert_eq!(fiscal_year_label_en(2026), "FY2026");
    }

    #[test]
    fn every_fiscal_year_label_counts_up_by_one_within_an_era() {
        let mut previous: Option<(String, i32)> = None;
        for fy in 1990..=2100 {
            let label = fiscal_year_label_ja(fy);
            let body = label.strip_suffix("年度").unwrap();
            let (era, n) = body.split_at(6); // two kanji, three bytes each
            let n = if n == "元" {
                1
            } else {
                n.parse::<i32>().unwrap()
            };
            if let Some((prev_era, prev_n)) = &previous
                && prev_era == era
            {
                assert_eq!(n, prev_n + 1, "{label}");
            } else {
                assert!(previous.is_none() || n == 1, "{label}");
            }
            previous = Some((era.to_owned(), n));
        }
    }

    #[test]
    fn english_dates() {
        assert_eq!(d(2027, 3, 31).label_en(), "31 March 2027");
        assert_eq!(d(2026, 1, 1).label_en(), "1 January 2026");
        assert_eq!(d(2026, 12, 9).label_en(), "9 December 2026");
    }

    #[test]
    fn the_period_error_names_the_last_allowed_day_in_both_languages() {
        use crate::error::Localized;
        let today = d(2026, 4, 1);
        let err = check_period(d(2026, 10, 1), d(2027, 4, 1), today).unwrap_err();
        assert_eq!(err.code(), "period_crosses_fiscal_year");
        assert_eq!(
            err.message_ja(),
            "終了日: 期間は年度をまたげません。年度末（令和9年3月31日）までの日付を指定してください。"
        );
        assert_eq!(
            err.message_en(),
            "end_date: the period may not go past the end of the fiscal year (31 March 2027)."
        );
    }

    #[test]
    fn period_rules() {
        let today = d(2026, 6, 15);
        let field = |r: Result<(), DomainError>| match r {
            Ok(()) => "ok",
            Err(DomainError::InvalidField { field, .. }) => field,
            Err(DomainError::PeriodCrossesFiscalYear { .. }) => "end_date",
            Err(other) => panic!("{other:?}"),
        };
        assert_eq!(field(check_period(today, today, today)), "ok");
        assert_eq!(field(check_period(today, d(2027, 3, 31), today)), "ok");
        assert_eq!(
            field(check_period(d(2026, 6, 14), today, today)),
            "start_date"
        );
        assert_eq!(
            field(check_period(d(2026, 7, 1), d(2026, 6, 30), today)),
            "end_date"
        );
        assert_eq!(field(check_period(today, d(2027, 4, 1), today)), "end_date");
        // Applying in March for the coming fiscal year is fine; its own end is the limit.
        let march = d(2027, 3, 20);
        assert_eq!(
            field(check_period(d(2027, 4, 1), d(2028, 3, 31), march)),
            "ok"
        );
        assert_eq!(
            field(check_period(d(2027, 3, 25), d(2027, 4, 5), march)),
            "end_date"
        );
    }

    #[test]
    fn extension_rules() {
        let end = d(2026, 9, 30);
        assert_eq!(check_extension(end, d(2026, 10, 1)), Ok(()));
        assert_eq!(check_extension(end, d(2027, 3, 31)), Ok(()));
        assert_eq!(
            check_extension(end, d(2027, 4, 1)),
            Err(crosses_fiscal_year(d(2027, 3, 31)))
        );
        let same = check_extension(end, end).unwrap_err();
        assert_eq!(
            same,
            DomainError::invalid(
                "end_date",
                "終了日",
                "現在の終了日（令和8年9月30日）より後の日付を指定してください。",
                "must be after the current end date (30 September 2026).",
            )
        );
        assert!(check_extension(end, d(2026, 9, 1)).is_err());
        // An extension of a period ending on 31 March has nowhere to go.
        assert!(check_extension(d(2027, 3, 31), d(2027, 4, 1)).is_err());
    }

    #[test]
    fn days_left_and_reminders() {
        let end = d(2027, 3, 31);
        assert_eq!(days_left(end, end), 0);
        assert_eq!(days_left(d(2027, 3, 24), end), 7);
        assert_eq!(days_left(d(2027, 4, 1), end), -1);
        assert!(!reminder_due(d(2027, 3, 23), end, 7));
        assert!(reminder_due(d(2027, 3, 24), end, 7));
        assert!(reminder_due(d(2027, 3, 30), end, 7));
        assert!(reminder_due(end, end, 7));
        assert!(!reminder_due(d(2027, 4, 1), end, 7));
        assert!(reminder_due(end, end, 0));
        assert!(!reminder_due(d(2027, 3, 30), end, 0));
        // Across the turn of the year and a leap day.
        assert!(reminder_due(d(2028, 2, 25), d(2028, 3, 1), 5));
        assert!(!reminder_due(d(2028, 2, 24), d(2028, 3, 1), 5));
    }

    #[test]
    fn reminder_window_holds_for_every_day() {
        let days = every_day();
        let end = d(2050, 6, 30);
        for date in days {
            let left = days_left(date, end);
            assert_eq!(
                reminder_due(date, end, 14),
                (0..=14).contains(&left),
                "{date}"
            );
            assert_eq!(date.add_days(left), Some(end));
        }
    }

    #[test]
    fn iso_parsing_and_display() {
        assert_eq!(Date::parse_iso("2026-04-01"), Some(d(2026, 4, 1)));
        assert_eq!(Date::parse_iso("2028-02-29"), Some(d(2028, 2, 29)));
        for bad in [
            "",
            "2026-4-01",
            "2026-04-1",
            "2026/04/01",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2027-02-29",
            "0000-04-01",
            "0001-03-31",
            "+026-04-01",
            "2026-04-01 ",
            "２０２６-04-01",
            "2026-04-0a",
        ] {
            assert_eq!(Date::parse_iso(bad), None, "{bad:?}");
        }
        assert_eq!(d(2026, 4, 1).to_string(), "2026-04-01");
        assert_eq!(Date::MIN.to_string(), "0001-04-01");
        for date in every_day() {
            assert_eq!(Date::parse_iso(&date.to_string()), Some(date));
        }
        assert_eq!(
            Date::parse_input("start_date", "開始日", " 2026-04-01 "),
            Ok(d(2026, 4, 1))
        );
        assert!(Date::parse_input("start_date", "開始日", "").is_err());
        assert!(Date::parse_input("start_date", "開始日", "4月1日").is_err());
    }

    #[test]
    fn dates_serialize_as_iso_strings() {
        let json = serde_json::to_string(&d(2027, 3, 31)).unwrap();
        assert_eq!(json, "\"2027-03-31\"");
        assert_eq!(serde_json::from_str::<Date>(&json).unwrap(), d(2027, 3, 31));
        assert!(serde_json::from_str::<Date>("\"2027-02-29\"").is_err());
        assert!(serde_json::from_str::<Date>("20270331").is_err());
    }
}
