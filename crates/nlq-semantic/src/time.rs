//! Time words: the days a question is about, as inclusive date ranges.
//!
//! The contract is `METRICS.md`, "Time words". Relative words resolve against the dataset's
//! as-of date (the day after the newest daily table): "지난 7일" is the 7 days ending yesterday,
//! "지난주" the previous Monday..Sunday, "이번 달" the 1st of the as-of month up to yesterday
//! (empty on the 1st: kept, the caller says there is no data yet), "12월" the latest December
//! whose first day is before the as-of date, "11월부터 12월까지" both months and what lies between.
//!
//! [`find`] is a hand-written scanner over the normalized question (lower case, NFKC, single
//! spaces, trimmed). Wherever a word can start it tries every family of expressions below and
//! keeps the longest match, then the forms that join two of them ("A부터 B까지", "between A and
//! B", "A 이후"). Parsing only recognizes shapes; checks (month 13, February 30, 0 days) and date
//! arithmetic happen when a match is resolved, so every error names the words at fault. Slicing
//! goes through `str::get` and date arithmetic is checked: no input makes it panic.
//!
//! The words are data, the `time:` section of the model file's lexicon ([`TimeWords`]), so a
//! deployment adds a spelling without touching Rust; the scanner keeps the grammar around them:
//! digits, the Korean units after a number and the particles that bound or join periods.

use std::fmt::Display;
use std::ops::Range;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

mod words;
pub use words::{Counts, MonthNames, MonthParts, Phrase, TimeWords, Units};

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    /// The number of days, 0 when `start > end`.
    pub fn days(&self) -> i64 {
        if self.is_empty() {
            0
        } else {
            (self.end - self.start).num_days() + 1
        }
    }

    /// True when `start > end`: a range with no days yet ("this month" on the 1st).
    pub fn is_empty(&self) -> bool {
        self.start > self.end
    }

    /// The same-length period just before this one; for a whole calendar month / week, the
    /// previous calendar month / week. With `Month` or `Year`, a range of whole calendar months
    /// (a month, a quarter, "11월~12월", a year) moves back by its number of months; anything
    /// else moves back by its number of days (whole weeks are the previous weeks that way).
    pub fn previous(&self, unit: PeriodUnit) -> DateRange {
        let end = self.start.pred_opt().unwrap_or(NaiveDate::MIN);
        let months = match unit {
            PeriodUnit::Month | PeriodUnit::Year => whole_months(self),
            PeriodUnit::Day | PeriodUnit::Week | PeriodUnit::Days => None,
        };
        let start = match months {
            Some(n) => self.start.checked_sub_months(Months::new(n)),
            None => self
                .start
                .checked_sub_days(Days::new(self.days().unsigned_abs())),
        };
        DateRange {
            start: start.unwrap_or(NaiveDate::MIN),
            end,
        }
    }

    /// `YYYYMMDD` suffixes for `_TABLE_SUFFIX BETWEEN`.
    pub fn suffixes(&self) -> (String, String) {
        (
            self.start.format("%Y%m%d").to_string(),
            self.end.format("%Y%m%d").to_string(),
        )
    }
}

/// The number of calendar months a range covers when it is whole months, first day to last.
fn whole_months(range: &DateRange) -> Option<u32> {
    let whole = range.start.day() == 1
        && range.start <= range.end
        && range.end.succ_opt().is_some_and(|d| d.day() == 1);
    if !whole {
        return None;
    }
    let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
    u32::try_from(index(range.end) - index(range.start) + 1).ok()
}

/// What kind of period a time expression names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodUnit {
    Day,
    Week,
    Month,
    Year,
    /// A rolling N-day window, or any other run of days.
    Days,
}

/// A time expression found in the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeMatch {
    pub range: DateRange,
    pub unit: PeriodUnit,
    /// The words matched, as written (for the plan: "지난 7일").
    pub words: String,
    /// Byte ranges of the input the expression used: the caller must not read numbers
    /// inside them as "top N" etc.
    pub spans: Vec<Range<usize>>,
    /// "12월까지", "until december": the range begins on the first day of data, which only the
    /// caller knows; `range.start` is the earliest representable day until it says.
    pub open_start: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// e.g. "2020년 13월", "February 30", "지난 0일": say what was wrong.
    #[error("{0}")]
    Invalid(String),
}

/// Finds the time expression of a normalized question, reading the lexicon's time `words`.
/// When the question names two periods to compare ("지난주와 그 전주", "this month vs last
/// month", "11월 대비 12월"), returns both, in the order written. No time words: an empty list
/// (the caller uses the whole dataset).
pub fn find(text: &str, as_of: NaiveDate, words: &TimeWords) -> Result<Vec<TimeMatch>, TimeError> {
    let scan = Scan {
        t: text,
        as_of,
        w: words,
    };
    let mut found: Vec<TimeMatch> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        if scan.word_start(at)
            && let Some((expr, end)) = scan.expression(at)
            && let Some(words) = text.get(at..end)
            && let Some((range, unit)) = (Resolver { as_of, words }).expr(expr, found.last())?
        {
            found.push(TimeMatch {
                range,
                unit,
                words: words.to_owned(),
                spans: std::iter::once(at..end).collect(),
                open_start: matches!(expr, Expr::Until(_)),
            });
            at = end;
            continue;
        }
        at += scan.next_char(at).map_or(1, char::len_utf8);
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// What the scanner recognizes, before any date arithmetic.

/// Calendar periods that relative words count in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cal {
    Week,
    Month,
    Quarter,
    Year,
}

impl Cal {
    fn unit(self) -> PeriodUnit {
        match self {
            Cal::Week => PeriodUnit::Week,
            Cal::Month | Cal::Quarter => PeriodUnit::Month,
            Cal::Year => PeriodUnit::Year,
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Cal::Week => "weeks",
            Cal::Month => "months",
            Cal::Quarter => "quarters",
            Cal::Year => "years",
        }
    }
}

/// A calendar period named in the text; a missing year is inferred when it is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Year(i32),
    /// `ended`: "지난 12월", "last december": the latest such month that is over.
    Month {
        year: Option<i32>,
        month: u32,
        ended: bool,
    },
    Quarter {
        year: Option<i32>,
        quarter: u32,
        ended: bool,
    },
    Date {
        year: Option<i32>,
        month: u32,
        day: u32,
    },
}

impl Named {
    fn year(self) -> Option<i32> {
        match self {
            Named::Year(y) => Some(y),
            Named::Month { year, .. } | Named::Quarter { year, .. } | Named::Date { year, .. } => {
                year
            }
        }
    }

    fn with_year(self, y: i32) -> Named {
        match self {
            Named::Year(_) => Named::Year(y),
            Named::Month { month, ended, .. } => Named::Month {
                year: Some(y),
                month,
                ended,
            },
            Named::Quarter { quarter, ended, .. } => Named::Quarter {
                year: Some(y),
                quarter,
                ended,
            },
            Named::Date { month, day, .. } => Named::Date {
                year: Some(y),
                month,
                day,
            },
        }
    }

    fn unit(self) -> PeriodUnit {
        match self {
            Named::Year(_) => PeriodUnit::Year,
            Named::Month { .. } | Named::Quarter { .. } => PeriodUnit::Month,
            Named::Date { .. } => PeriodUnit::Day,
        }
    }
}

/// One period, before resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom {
    /// The day `n` days before the as-of date: 오늘 (0), 어제 (1), 그저께 (2), "5일 전".
    DayAgo(u64),
    /// The `n` days ending yesterday.
    Rolling(u64),
    /// The calendar period `back` periods before the current one; `back == 0` is the current
    /// period up to yesterday.
    Calendar {
        cal: Cal,
        back: u64,
    },
    /// The `n` whole calendar periods before the current one: "지난 3개월".
    LastCalendar {
        cal: Cal,
        n: u64,
    },
    /// Saturday and Sunday of last week.
    LastWeekend,
    Named(Named),
    /// The end of "12월부터 지금까지", "since december to date": yesterday.
    Now,
}

/// A period defined by the one named just before it ("지난주와 그 전주").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Back {
    /// "그 전주", "전월", "the month before": the whole calendar period before the earlier
    /// one's; with no earlier period of that kind, the one before the current (= last week...).
    Period(Cal),
    /// "그 전날", "the day before": the day before the earlier period; alone, yesterday.
    Day,
    /// "그 전 7일", "the previous 7 days": the days just before the earlier period; alone, the
    /// last N days.
    Days(u64),
    /// "그 전", "이전 기간", "the previous period": the period before the earlier one, same kind.
    Same,
    /// "전년 동기", "same period last year": the earlier period a year before.
    YearAgo,
}

/// A time expression, before resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expr {
    One(Atom),
    /// From the start of the first to the end of the second.
    Span(Atom, Atom),
    /// From the start of the period to yesterday.
    Since(Atom),
    /// From the first day of data to the end of the period: "12월까지", "until december".
    Until(Atom),
    Back(Back),
}

/// English month names for messages ("February has no day 30"); the names read in questions
/// are in the lexicon.
const MONTH_NAMES: [&str; 12] = [
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

// ---------------------------------------------------------------------------------------------
// The scanner: positions are byte offsets of the normalized text; every parser returns what it
// read and the offset just after it, or None.

struct Scan<'t> {
    t: &'t str,
    as_of: NaiveDate,
    w: &'t TimeWords,
}

type Parsed = Option<(Expr, usize)>;

impl<'t> Scan<'t> {
    // --- Primitives. ---

    fn rest(&self, at: usize) -> &'t str {
        self.t.get(at..).unwrap_or("")
    }

    fn next_char(&self, at: usize) -> Option<char> {
        self.rest(at).chars().next()
    }

    fn prev_char(&self, at: usize) -> Option<char> {
        self.t.get(..at).and_then(|s| s.chars().next_back())
    }

    /// The previous space-separated word.
    fn prev_word(&self, at: usize) -> &'t str {
        let before = self.t.get(..at).unwrap_or("").trim_end();
        before.rsplit(' ').next().unwrap_or("")
    }

    fn lit(&self, at: usize, s: &str) -> Option<usize> {
        self.rest(at).starts_with(s).then_some(at + s.len())
    }

    /// The longest of `options` at `at`.
    fn lits(&self, at: usize, options: &[impl AsRef<str>]) -> Option<usize> {
        options
            .iter()
            .filter_map(|o| self.lit(at, o.as_ref()))
            .max()
    }

    fn latin_at(&self, at: usize) -> bool {
        self.next_char(at).is_some_and(is_latin)
    }

    /// A Latin word (or phrase) not followed by more letters or digits.
    fn word(&self, at: usize, w: &str) -> Option<usize> {
        self.lit(at, w).filter(|&e| !self.latin_at(e))
    }

    fn words(&self, at: usize, options: &[String]) -> Option<usize> {
        options.iter().filter_map(|o| self.word(at, o)).max()
    }

    /// The longest of `table`'s words at `at`, read with `read` (`lit` or `word`), and its
    /// value.
    fn longest<V: Copy>(
        &self,
        at: usize,
        table: impl IntoIterator<Item = (impl AsRef<str>, V)>,
        read: impl Fn(usize, &str) -> Option<usize>,
    ) -> Option<(V, usize)> {
        table
            .into_iter()
            .filter_map(|(w, v)| read(at, w.as_ref()).map(|e| (v, e)))
            .max_by_key(|(_, e)| *e)
    }

    /// Whether the text at `at` starts with one of `options`.
    fn starts_with_any(&self, at: usize, options: &[String]) -> bool {
        options
            .iter()
            .any(|o| self.rest(at).starts_with(o.as_str()))
    }

    /// Skips one optional space (the text has no runs of spaces).
    fn sp(&self, at: usize) -> usize {
        self.lit(at, " ").unwrap_or(at)
    }

    /// After an optional "the ".
    fn the(&self, at: usize) -> usize {
        self.word(at, "the").map_or(at, |e| self.sp(e))
    }

    /// A run of ASCII digits: its value (saturating), its length, and the offset after it.
    fn num(&self, at: usize) -> Option<(u64, usize, usize)> {
        let digits = self.rest(at).bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let value = self.rest(at).bytes().take(digits).fold(0u64, |v, b| {
            v.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        Some((value, digits, at + digits))
    }

    /// A number of at most `max` digits.
    fn small(&self, at: usize, max: usize) -> Option<(u32, usize)> {
        let (n, digits, end) = self.num(at)?;
        if digits > max {
            return None;
        }
        Some((u32::try_from(n).ok()?, end))
    }

    /// A four-digit year, 1900..=2199, not followed by letters or digits.
    fn year4(&self, at: usize) -> Option<(i32, usize)> {
        let (n, digits, end) = self.num(at)?;
        if digits != 4 || !(1900..=2199).contains(&n) || self.latin_at(end) {
            return None;
        }
        Some((i32::try_from(n).ok()?, end))
    }

    /// The year `back` years before the as-of date's.
    fn years_back(&self, back: u64) -> Option<i32> {
        self.as_of.year().checked_sub(i32::try_from(back).ok()?)
    }

    /// After a word that makes a bare year a year ("in 2020") and "may" a month ("in may").
    fn after_year_context(&self, at: usize) -> bool {
        let prev = self.prev_word(at);
        self.w.year_context.iter().any(|w| w == prev)
    }

    /// Where an expression may begin: a Latin letter or digit not inside a Latin word or number,
    /// or a Hangul syllable not inside a Korean word.
    fn word_start(&self, at: usize) -> bool {
        match (self.prev_char(at), self.next_char(at)) {
            (prev, Some(c)) if is_latin(c) => !prev.is_some_and(is_latin),
            (prev, Some(c)) if is_hangul(c) => !prev.is_some_and(is_hangul),
            _ => false,
        }
    }

    /// A Korean unit after a number ("12월", "7일", "2주"), unless it begins another word
    /// ("월별", "월요일", "2주차", "12월말", "2000년생").
    fn ko_unit(&self, at: usize, unit: &str) -> Option<usize> {
        self.lit(at, unit)
            .filter(|&e| !self.starts_with_any(e, &self.w.unit_breakers))
    }

    /// After a strict Korean word: the end, a non-Hangul character, or a particle.
    fn ko_end(&self, at: usize) -> bool {
        match self.next_char(at) {
            None => true,
            Some(c) if !is_hangul(c) => true,
            Some(_) => self.starts_with_any(at, &self.w.strict_after),
        }
    }

    /// The longest Korean phrase at `at` that is not the start of another word.
    fn ko_phrase(&self, at: usize) -> Parsed {
        self.w
            .ko_phrases
            .iter()
            .filter_map(|p| {
                let e = self.lit(at, &p.word)?;
                let ok = if p.strict {
                    self.ko_end(e)
                } else {
                    !self.starts_with_any(e, &self.w.phrase_breakers)
                };
                ok.then_some((p.expr, e))
            })
            .max_by_key(|(_, e)| *e)
    }

    // --- Expressions. ---

    /// One expression at `at`: a range joining two periods, "since A", or a single period.
    fn expression(&self, at: usize) -> Parsed {
        if let Some(r) = self.en_between(at).or_else(|| self.en_from(at)) {
            return Some(r);
        }
        if let Some(e) = self.words(at, &self.w.since) {
            let (a, e) = self.endpoint(self.sp(e))?;
            return Some((Expr::Since(a), e));
        }
        if let Some(e) = self.words(at, &self.w.until) {
            let (a, e) = self.endpoint(self.sp(e))?;
            return Some((Expr::Until(a), e));
        }
        let (first, end) = self.single(at)?;
        if let Expr::One(a) = first
            && let Some(r) = self.joined(a, at, end)
        {
            return Some(r);
        }
        Some((first, end))
    }

    /// The longest single expression of any family at `at`.
    fn single(&self, at: usize) -> Parsed {
        let candidates = [
            self.ko_phrase(at),
            self.ko_rolling(at),
            self.ko_ago(at),
            self.ko_back_days(at),
            self.ko_named(at),
            self.numeric(at),
            self.en_words(at),
            self.en_rolling(at),
            self.en_ago(at),
            self.en_named(at),
        ];
        let mut best: Parsed = None;
        for (expr, end) in candidates.into_iter().flatten() {
            if best.is_none_or(|(_, e)| end > e) {
                best = Some((expr, end));
            }
        }
        best
    }

    /// A single period that can start or end a range.
    fn endpoint(&self, at: usize) -> Option<(Atom, usize)> {
        match self.single(at)? {
            (Expr::One(a), e) => Some((a, e)),
            _ => None,
        }
    }

    /// The end of a range: a period, or a word for now ("지금", "now": yesterday).
    fn end_point(&self, at: usize) -> Option<(Atom, usize)> {
        self.endpoint(at).or_else(|| {
            let e = self
                .lits(at, &self.w.now.ko)
                .filter(|&e| self.ko_end(e))
                .or_else(|| self.words(at, &self.w.now.en))?;
            Some((Atom::Now, e))
        })
    }

    /// Ranges and open ranges after a first period `a` (read from `at` to `end`):
    /// "A부터 B까지", "A~B", "A - B", "A에서 B까지", "A to B", "A through B", "A와 B 사이";
    /// "A부터", "A 이후", "A 이래" (from A to yesterday).
    fn joined(&self, a: Atom, at: usize, end: usize) -> Parsed {
        let p = self.sp(end);
        let until = |e: usize| self.lit(self.sp(e), "까지").unwrap_or(e);
        if let Some(c) = self.lit(p, "부터").or_else(|| self.lits(p, &self.w.dashes)) {
            if let Some((b, e)) = self.end_point(self.sp(c)) {
                return Some((Expr::Span(a, b), until(e)));
            }
            if self.lit(p, "부터").is_some() {
                return Some((Expr::Since(a), c));
            }
        }
        if let Some(c) = self.lit(p, "에서")
            && let Some((b, e)) = self.end_point(self.sp(c))
            && let Some(e) = self.lit(self.sp(e), "까지")
        {
            return Some((Expr::Span(a, b), e));
        }
        // "compare december to november" is a comparison, not a range.
        let before = self.t.get(..at).unwrap_or("");
        if let Some(c) = self.words(p, &self.w.to)
            && !self
                .w
                .not_range_after
                .iter()
                .any(|w| before.contains(w.as_str()))
            && let Some((b, e)) = self.end_point(self.sp(c))
        {
            return Some((Expr::Span(a, b), e));
        }
        if let Some(c) = self.lits(end, &["와", "과"])
            && let Some((b, e)) = self.endpoint(self.sp(c))
            && let Some(e) = self.lit(self.sp(e), "사이")
        {
            let e = self.lits(e, &["에서", "에", "의"]).unwrap_or(e);
            return Some((Expr::Span(a, b), e));
        }
        if let Some(e) = self.lits(p, &self.w.since_after) {
            return Some((Expr::Since(a), e));
        }
        // "12월까지" alone: from the first day of data.
        let e = self.lit(p, "까지")?;
        Some((Expr::Until(a), e))
    }

    /// "between A and B", "between A - B".
    fn en_between(&self, at: usize) -> Parsed {
        let p = self.lit(self.word(at, "between")?, " ")?;
        let (a, e) = self.endpoint(p)?;
        let p = self.sp(e);
        let c = self
            .word(p, "and")
            .or_else(|| self.lits(p, &self.w.dashes))?;
        let (b, e) = self.end_point(self.sp(c))?;
        Some((Expr::Span(a, b), e))
    }

    /// "from A to B", "from A through B", "from A until B", "from A - B".
    fn en_from(&self, at: usize) -> Parsed {
        let p = self.lit(self.word(at, "from")?, " ")?;
        let (a, e) = self.endpoint(p)?;
        let p = self.sp(e);
        let c = self
            .words(p, &self.w.to)
            .or_else(|| self.lits(p, &self.w.dashes))?;
        let (b, e) = self.end_point(self.sp(c))?;
        Some((Expr::Span(a, b), e))
    }

    // --- Korean families. ---

    /// A count before a Korean unit: digits, or a native numeral ("한", "두", "열두").
    /// The flag says it was digits.
    fn ko_count(&self, at: usize) -> Option<(u64, bool, usize)> {
        if let Some((n, _, e)) = self.num(at) {
            return Some((n, true, e));
        }
        let (n, e) = self.longest(at, &self.w.counts.ko, |at, w| self.lit(at, w))?;
        Some((*n, false, e))
    }

    /// Rolling windows ending yesterday: "지난 7일", "최근14일간", "지난 30일 동안", "7일간",
    /// "최근 일주일", "지난 한 주", "최근 2주일간" (N×7 days), "지난 한 달", "최근 한달" (30
    /// days); whole calendar months and years before the current one: "지난 3개월", "최근 두
    /// 달", "지난 1년". Without 지난/최근/과거 the count needs 간 or 동안 ("7일간", "3개월 동안").
    fn ko_rolling(&self, at: usize) -> Parsed {
        let (prefixed, p) = match self.lits(at, &self.w.recent.ko) {
            Some(e) => (true, self.sp(e)),
            None => (false, at),
        };
        let (atom, e) = self.ko_length(p)?;
        let during = self.lit(e, "간").or_else(|| self.lit(self.sp(e), "동안"));
        if !prefixed && during.is_none() {
            return None;
        }
        Some((Expr::One(atom), during.unwrap_or(e)))
    }

    /// The length of a rolling window: "7일", "일주일", "2주", "한 달", "3개월", "1년".
    fn ko_length(&self, at: usize) -> Option<(Atom, usize)> {
        if let Some(e) = self.lits(at, &self.w.one_week) {
            return Some((Atom::Rolling(7), e));
        }
        if let Some(e) = self.lits(at, &self.w.one_month) {
            return Some((Atom::Rolling(30), e));
        }
        let (n, digits, e) = self.ko_count(at)?;
        let p = self.sp(e);
        if digits && let Some(e) = self.ko_unit(p, "일") {
            return Some((Atom::Rolling(n), e));
        }
        if let Some(e) = self.ko_unit(p, "주일").or_else(|| self.ko_unit(p, "주")) {
            return Some((Atom::Rolling(n.saturating_mul(7)), e));
        }
        let month = self
            .ko_unit(p, "달")
            .or_else(|| self.ko_unit(p, "개월").filter(|_| digits));
        if let Some(e) = month {
            return Some((Atom::LastCalendar { cal: Cal::Month, n }, e));
        }
        let e = self.ko_unit(p, "년").filter(|_| digits && n < 100)?;
        Some((Atom::LastCalendar { cal: Cal::Year, n }, e))
    }

    /// "N 전": "3일 전" (that day), "2주 전" (the calendar week two weeks back), "3개월 전",
    /// "한 달 전", "1년 전" (that calendar month, year).
    fn ko_ago(&self, at: usize) -> Parsed {
        let (n, digits, e) = self.ko_count(at)?;
        let p = self.sp(e);
        let (atom, e) = if let Some(e) = self.ko_unit(p, "일").filter(|_| digits) {
            (Atom::DayAgo(n), e)
        } else if let Some(e) = self.ko_unit(p, "주") {
            (
                Atom::Calendar {
                    cal: Cal::Week,
                    back: n,
                },
                e,
            )
        } else if let Some(e) = self
            .ko_unit(p, "달")
            .or_else(|| self.ko_unit(p, "개월").filter(|_| digits))
        {
            (
                Atom::Calendar {
                    cal: Cal::Month,
                    back: n,
                },
                e,
            )
        } else {
            let e = self.ko_unit(p, "년").filter(|_| digits && n < 100)?;
            (
                Atom::Calendar {
                    cal: Cal::Year,
                    back: n,
                },
                e,
            )
        };
        let e = self
            .lits(self.sp(e), &self.w.ago.ko)
            .filter(|&e| self.ko_end(e))?;
        Some((Expr::One(atom), e))
    }

    /// The days before an earlier period: "그 전 7일", "이전 7일", "직전 2주간".
    fn ko_back_days(&self, at: usize) -> Parsed {
        let p = self.lits(at, &self.w.preceding.ko)?;
        let (n, digits, e) = self.ko_count(self.sp(p))?;
        let p = self.sp(e);
        let (days, e) = if let Some(e) = self.ko_unit(p, "일").filter(|_| digits) {
            (n, e)
        } else {
            let e = self.ko_unit(p, "주일").or_else(|| self.ko_unit(p, "주"))?;
            (n.saturating_mul(7), e)
        };
        let e = self
            .lit(e, "간")
            .or_else(|| self.lit(self.sp(e), "동안"))
            .unwrap_or(e);
        Some((Expr::Back(Back::Days(days)), e))
    }

    /// A Korean year before a month, quarter or date: "2020년", "2020년도", "20년" (only with a
    /// month or quarter after it), a phrase for a calendar year ("올해", "작년", "재작년"). The
    /// flag says the year alone is a period here ("2020년"; "작년" alone is a phrase).
    fn ko_year(&self, at: usize) -> Option<(i32, bool, usize)> {
        if let Some((n, digits, e)) = self.num(at) {
            let e = self.ko_unit(self.sp(e), "년")?;
            let e = self.lit(e, "도").unwrap_or(e);
            let n = i32::try_from(n).ok()?;
            return match digits {
                4 if (1900..=2199).contains(&n) => Some((n, true, e)),
                2 => Some((2000 + n, false, e)),
                _ => None,
            };
        }
        let years = self.w.ko_years.iter().map(|(w, back)| (w, *back));
        let (back, e) = self.longest(at, years, |at, w| self.lit(at, w))?;
        Some((self.years_back(back)?, false, e))
    }

    /// Korean calendar names: "2020년", "2020년 12월", "12월", "12월 1일", "2020년 12월 1일",
    /// "4분기", "2020년 4분기", "20년 12월", "작년 12월", "올해 1분기", "지난 12월" (the latest
    /// December that is over); short ranges "11~12월", "2020년 11-12월", "1~2분기", "12월 1~7일",
    /// "12월 1일~7일", "12월 1일부터 7일까지". "12월 한 달 동안" is December.
    fn ko_named(&self, at: usize) -> Parsed {
        let (year, alone, p) = match self.ko_year(at) {
            Some((y, alone, e)) => (Some(y), alone, e),
            None => (None, false, at),
        };
        let (ended, p) = match self.lits(p, &self.w.ended.ko).filter(|_| year.is_none()) {
            Some(e) => (true, e),
            None => (false, p),
        };
        if let Some(r) = self.ko_month_body(self.sp(p), year, ended) {
            return Some(r);
        }
        // "2020년 상반기", "하반기": six months; without a year, the latest such run, as for
        // "1월부터 6월까지".
        if let Some((&first, e)) = self
            .longest(self.sp(p), &self.w.halves, |at, w| self.lit(at, w))
            .filter(|(_, e)| self.ko_end(*e))
        {
            let month = |month| Atom::Named(Named::Month { year, month, ended });
            let last = Atom::Named(Named::Month {
                year: None,
                month: first + 5,
                ended: false,
            });
            let last = if year.is_some() {
                month(first + 5)
            } else {
                last
            };
            return Some((Expr::Span(month(first), last), e));
        }
        let y = year.filter(|_| alone)?;
        Some((Expr::One(Atom::Named(Named::Year(y))), p))
    }

    /// What follows an optional year: "N월 [D일]", "N분기", "N~M월", "N~M분기".
    fn ko_month_body(&self, at: usize, year: Option<i32>, ended: bool) -> Parsed {
        let (n, e) = self.small(at, 2)?;
        let p = self.sp(e);
        let month = |month| Named::Month { year, month, ended };
        let quarter = |quarter| Named::Quarter {
            year,
            quarter,
            ended,
        };
        if let Some(r) = self.ko_part_of_month(p, year, n, ended) {
            return Some(r);
        }
        if let Some(e) = self.ko_unit(p, "월") {
            if let Some(r) = self.ko_day_of_month(self.sp(e), year, n) {
                return Some(r);
            }
            // "12월 한 달 (동안)": the month itself.
            let e = match self.lits(self.sp(e), &self.w.one_month) {
                Some(e) => self
                    .lit(e, "간")
                    .or_else(|| self.lit(self.sp(e), "동안"))
                    .unwrap_or(e),
                None => e,
            };
            return Some((Expr::One(Atom::Named(month(n))), e));
        }
        if let Some(e) = self.ko_unit(p, "분기") {
            return Some((Expr::One(Atom::Named(quarter(n))), e));
        }
        // "11~12월", "1-2분기": both ends share the unit written after the second.
        let p = self.ko_dash(e)?;
        let (m, e) = self.small(p, 2)?;
        let p = self.sp(e);
        let (a, b, e) = if let Some(e) = self.ko_unit(p, "월") {
            (month(n), month(m), e)
        } else {
            let e = self.ko_unit(p, "분기")?;
            (quarter(n), quarter(m), e)
        };
        let b = match b {
            Named::Month { month, .. } => Named::Month {
                year: None,
                month,
                ended: false,
            },
            Named::Quarter { quarter, .. } => Named::Quarter {
                year: None,
                quarter,
                ended: false,
            },
            other => other,
        };
        let e = self.lit(self.sp(e), "까지").unwrap_or(e);
        Some((Expr::Span(Atom::Named(a), Atom::Named(b)), e))
    }

    /// "12월 초", "12월초", "1월 중순", "11월 말": days 1-10, 11-20, 21 to the month's end.
    fn ko_part_of_month(&self, at: usize, year: Option<i32>, month: u32, ended: bool) -> Parsed {
        let p = self.sp(self.lit(at, "월")?);
        let parts = &self.w.month_parts;
        let date = |day| Atom::Named(Named::Date { year, month, day });
        let whole = Atom::Named(Named::Month { year, month, ended });
        let ((first, end), e) = self.longest(
            p,
            [
                (&parts.early, (1, date(10))),
                (&parts.middle, (11, date(20))),
                (&parts.late, (21, whole)),
            ]
            .into_iter()
            .flat_map(|(words, part)| words.iter().map(move |w| (w, part))),
            |at, w| self.lit(at, w),
        )?;
        // "12월 말고" is "not December", not its end.
        if !self.ko_end(e) {
            return None;
        }
        Some((Expr::Span(date(first), end), e))
    }

    /// "~", "-", "부터" between the two numbers of a short range, with optional spaces.
    fn ko_dash(&self, at: usize) -> Option<usize> {
        let p = self.sp(at);
        let e = self
            .lit(p, "부터")
            .or_else(|| self.lits(p, &self.w.dashes))?;
        Some(self.sp(e))
    }

    /// After "N월": "D일", and the short ranges "D일~E일", "D~E일", "D일부터 E일까지".
    fn ko_day_of_month(&self, at: usize, year: Option<i32>, month: u32) -> Parsed {
        let (d, e) = self.small(at, 2)?;
        let date = |day| Atom::Named(Named::Date { year, month, day });
        let p = self.sp(e);
        let short_end = |from: usize| -> Option<(u32, usize)> {
            let (d2, e) = self.small(self.ko_dash(from)?, 2)?;
            let e = self.ko_unit(self.sp(e), "일")?;
            Some((d2, self.lit(self.sp(e), "까지").unwrap_or(e)))
        };
        if let Some(e) = self.ko_unit(p, "일") {
            if let Some((d2, e)) = short_end(e) {
                return Some((Expr::Span(date(d), date(d2)), e));
            }
            return Some((Expr::One(date(d)), e));
        }
        let (d2, e) = short_end(e)?;
        Some((Expr::Span(date(d), date(d2)), e))
    }

    // --- Numeric dates (either language). ---

    /// "2020-12-01", "2020/12/01", "2020.12.01", "2020. 12. 1.", months "2020-12", "2020/12",
    /// "2020.12"; "20201201" only when it is a real date (otherwise it is some other number).
    fn numeric(&self, at: usize) -> Parsed {
        let (n, digits, e) = self.num(at)?;
        // "12/25": a day of the latest such month, written month first.
        if digits <= 2
            && !self
                .prev_char(at)
                .is_some_and(|c| c == '/' || c.is_ascii_digit())
            && let Some(p) = self.lit(e, "/")
            && let Some((day, e)) = self.small(p, 2)
            && !self.latin_at(e)
            && self.num(e).is_none()
            && self.lit(e, "/").is_none()
            && let Ok(month) = u32::try_from(n)
            && (1..=12).contains(&month)
            && (1..=max_day(month)).contains(&day)
        {
            let date = Named::Date {
                year: None,
                month,
                day,
            };
            return Some((Expr::One(Atom::Named(date)), e));
        }
        if digits == 8 {
            let (y, m, d) = (n / 10_000, n / 100 % 100, n % 100);
            let y = i32::try_from(y).ok()?;
            let (m, d) = (u32::try_from(m).ok()?, u32::try_from(d).ok()?);
            if !(1900..=2199).contains(&y) || self.latin_at(e) || ymd(y, m, d).is_none() {
                return None;
            }
            let date = Named::Date {
                year: Some(y),
                month: m,
                day: d,
            };
            return Some((Expr::One(Atom::Named(date)), e));
        }
        let (year, e) = self.year4(at).filter(|_| digits == 4)?;
        let sep = match self.next_char(e)? {
            c @ ('-' | '/' | '.') => c,
            _ => return None,
        };
        let after_sep = |p: usize| -> Option<usize> {
            let p = self.lit(p, sep.encode_utf8(&mut [0; 4]))?;
            Some(if sep == '.' { self.sp(p) } else { p })
        };
        let trailing_dot = |p: usize| {
            if sep == '.' {
                self.lit(p, ".").unwrap_or(p)
            } else {
                p
            }
        };
        let (month, e) = self.small(after_sep(e)?, 2)?;
        // "2000.50" is a decimal, not a month; "2020-13" is a wrong month.
        if sep == '.' && !(1..=12).contains(&month) {
            return None;
        }
        if let Some(p) = after_sep(e)
            && let Some((day, e)) = self.small(p, 2)
            && !self.latin_at(e)
        {
            let date = Named::Date {
                year: Some(year),
                month,
                day,
            };
            return Some((Expr::One(Atom::Named(date)), trailing_dot(e)));
        }
        if self.latin_at(e) {
            return None;
        }
        let named = Named::Month {
            year: Some(year),
            month,
            ended: false,
        };
        Some((Expr::One(Atom::Named(named)), trailing_dot(e)))
    }

    // --- English families. ---

    /// English phrases, after an optional "the".
    fn en_words(&self, at: usize) -> Parsed {
        let phrases = self.w.en_phrases.iter().map(|(w, x)| (w, *x));
        self.longest(self.the(at), phrases, |at, w| self.word(at, w))
    }

    /// A count in English: digits or a written count ("two", "thirty").
    fn en_count(&self, at: usize) -> Option<(u64, usize)> {
        if let Some((n, _, e)) = self.num(at) {
            return (!self.latin_at(e)).then_some((n, e));
        }
        let (n, e) = self.longest(at, &self.w.counts.en, |at, w| self.word(at, w))?;
        Some((*n, e))
    }

    /// "day(s)", "week(s)", "month(s)", "year(s)"; None stands for days.
    fn en_unit(&self, at: usize) -> Option<(Option<Cal>, usize)> {
        let units = self.w.unit_words.iter().map(|(w, u)| (w, *u));
        self.longest(at, units, |at, w| self.word(at, w))
    }

    /// "last 7 days", "the past 14 days", "past 2 weeks", "last two weeks" (N×7 days); "last 3
    /// months", "past 2 years" (whole calendar months, years); "the previous 7 days", "the prior
    /// 2 weeks": the days just before the period named before (alone, the last N days).
    fn en_rolling(&self, at: usize) -> Parsed {
        let from = self.the(at);
        let (before, p) = match self.words(from, &self.w.recent.en) {
            Some(e) => (false, e),
            None => (true, self.words(from, &self.w.preceding.en)?),
        };
        let (n, e) = self.en_count(self.lit(p, " ")?)?;
        let (unit, e) = self.en_unit(self.lit(e, " ")?)?;
        let days = match unit {
            None => n,
            Some(Cal::Week) => n.saturating_mul(7),
            Some(cal) => return Some((Expr::One(Atom::LastCalendar { cal, n }), e)),
        };
        let expr = if before {
            Expr::Back(Back::Days(days))
        } else {
            Expr::One(Atom::Rolling(days))
        };
        Some((expr, e))
    }

    /// "3 days ago" (that day), "2 weeks ago", "a month ago", "1 year ago" (that calendar week,
    /// month, year); "the 7 days before" (the days before the period named before).
    fn en_ago(&self, at: usize) -> Parsed {
        let from = self.the(at);
        let (n, e) = self
            .en_count(from)
            .or_else(|| self.words(from, &self.w.one).map(|e| (1, e)))?;
        let (unit, e) = self.en_unit(self.lit(e, " ")?)?;
        let p = self.lit(e, " ")?;
        if let Some(e) = self.words(p, &self.w.preceding_after) {
            let days = match unit {
                None => n,
                Some(Cal::Week) => n.saturating_mul(7),
                Some(_) => return None,
            };
            return Some((Expr::Back(Back::Days(days)), e));
        }
        let e = self.words(p, &self.w.ago.en)?;
        let atom = match unit {
            None => Atom::DayAgo(n),
            Some(cal) => Atom::Calendar { cal, back: n },
        };
        Some((Expr::One(atom), e))
    }

    /// English calendar names: months ("december", "dec", "dec.", "may" only as a date, with a
    /// year or after a word such as "in"), "december 2020", "december of 2020", "december last
    /// year", "january this year", "last december" (the latest December that is over); dates
    /// "dec 1", "december 1st", "dec 1 2020" (from "dec 1, 2020"), "1 december 2020", "the 1st
    /// of december"; short ranges "dec 1-7", "december 1st to 7th", "dec 1 - 7 2020"; quarters
    /// "q4", "q4 2020", "2020 q4"; years "in 2020", "during 2020" (a bare number is a year only
    /// after such a word).
    fn en_named(&self, at: usize) -> Parsed {
        [
            self.en_month_first(at),
            self.en_day_first(at),
            self.en_quarter(at),
            self.en_year(at),
        ]
        .into_iter()
        .flatten()
        .max_by_key(|(_, e)| *e)
    }

    /// A month name, its number, the offset after it (and an abbreviation's dot), and whether
    /// it is an everyday word too ("may").
    fn en_month(&self, at: usize) -> Option<(u32, usize, bool)> {
        let ((w, m, short), e) = self.longest(
            at,
            self.w
                .month_names
                .iter()
                .map(|(w, m, short)| (w, (w, *m, *short))),
            |at, w| self.word(at, w),
        )?;
        let e = if short {
            self.lit(e, ".").unwrap_or(e)
        } else {
            e
        };
        Some((m, e, self.w.ambiguous_months.contains(w)))
    }

    /// A day of the month: 1-2 digits and an optional "st", "nd", "rd", "th".
    fn en_day(&self, at: usize) -> Option<(u32, usize)> {
        let (d, e) = self.small(at, 2)?;
        let e = self.lits(e, &self.w.ordinals).unwrap_or(e);
        (!self.latin_at(e)).then_some((d, e))
    }

    /// A year after a month, date or quarter: " 2020", " of 2020", or a phrase for a calendar
    /// year: " last year", " this year".
    fn en_year_after(&self, at: usize) -> Option<(i32, usize)> {
        let p = self.lit(at, " ")?;
        let p = self
            .word(p, "of")
            .and_then(|e| self.lit(e, " "))
            .unwrap_or(p);
        if let Some(r) = self.year4(p) {
            return Some(r);
        }
        let years = self.w.en_years.iter().map(|(w, back)| (w, *back));
        let (back, e) = self.longest(p, years, |at, w| self.word(at, w))?;
        Some((self.years_back(back)?, e))
    }

    /// Month first: "[last] MONTH [D[st] [- E[th]]] [year]".
    fn en_month_first(&self, at: usize) -> Parsed {
        let (ended, p) = match self.words(at, &self.w.ended.en) {
            Some(e) => (true, self.lit(e, " ")?),
            None => (false, at),
        };
        let (month, e, weak) = self.en_month(p)?;
        if let Some(p) = self.lit(e, " ")
            && let Some((day, e)) = self.en_day(p)
        {
            let date = |year, day| Atom::Named(Named::Date { year, month, day });
            // "dec 1-7", "december 1st to 7th"
            let short = (|| {
                let p = self.sp(e);
                let c = self
                    .words(p, &self.w.to)
                    .or_else(|| self.lits(p, &self.w.dashes))?;
                self.en_day(self.sp(c))
            })();
            let (day2, e) = short.map_or((None, e), |(d2, e2)| (Some(d2), e2));
            let (year, e) = self
                .en_year_after(e)
                .map_or((None, e), |(y, e2)| (Some(y), e2));
            let expr = match day2 {
                Some(d2) => Expr::Span(date(year, day), date(year, d2)),
                None => Expr::One(date(year, day)),
            };
            return Some((expr, e));
        }
        if let Some((y, e)) = self.en_year_after(e) {
            let named = Named::Month {
                year: Some(y),
                month,
                ended: false,
            };
            return Some((Expr::One(Atom::Named(named)), e));
        }
        let context = ended
            || self.after_year_context(at)
            || self.t.get(..self.prev_end(at)).is_some_and(|before| {
                self.w
                    .ambiguous_after
                    .iter()
                    .any(|m| before.ends_with(m.as_str()))
            });
        if weak && !context {
            return None;
        }
        let named = Named::Month {
            year: None,
            month,
            ended,
        };
        Some((Expr::One(Atom::Named(named)), e))
    }

    /// The offset before any spaces that precede `at`.
    fn prev_end(&self, at: usize) -> usize {
        if self.prev_char(at) == Some(' ') {
            at - 1
        } else {
            at
        }
    }

    /// Day first: "1 december 2020", "1st december", "the 1st of december".
    fn en_day_first(&self, at: usize) -> Parsed {
        if self.w.rank.iter().any(|w| w == self.prev_word(at)) {
            return None;
        }
        let (day, e) = self.en_day(self.the(at))?;
        let p = self.lit(e, " ")?;
        let p = self
            .word(p, "of")
            .and_then(|e| self.lit(e, " "))
            .unwrap_or(p);
        let (month, e, _) = self.en_month(p)?;
        let (year, e) = self
            .en_year_after(e)
            .map_or((None, e), |(y, e2)| (Some(y), e2));
        let date = Named::Date { year, month, day };
        Some((Expr::One(Atom::Named(date)), e))
    }

    /// "q4", "q4 2020", "q4 of 2020", "q4 last year", "2020 q4".
    fn en_quarter(&self, at: usize) -> Parsed {
        let q = |p: usize| -> Option<(u32, usize)> {
            let (n, e) = self.small(self.lit(p, "q")?, 1)?;
            ((1..=4).contains(&n) && !self.latin_at(e)).then_some((n, e))
        };
        let quarter = |year, quarter| {
            Expr::One(Atom::Named(Named::Quarter {
                year,
                quarter,
                ended: false,
            }))
        };
        if let Some((n, e)) = q(at) {
            return Some(match self.en_year_after(e) {
                Some((y, e)) => (quarter(Some(y), n), e),
                None => (quarter(None, n), e),
            });
        }
        let (y, e) = self.year4(at)?;
        let (n, e) = q(self.lit(e, " ")?)?;
        Some((quarter(Some(y), n), e))
    }

    /// A bare year after "in", "during", "for", "since", "between" ...: "in 2020".
    fn en_year(&self, at: usize) -> Parsed {
        if !self.after_year_context(at) {
            return None;
        }
        let (y, e) = self.year4(at)?;
        Some((Expr::One(Atom::Named(Named::Year(y))), e))
    }
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

// ---------------------------------------------------------------------------------------------
// Resolution: from what was read to days, against the as-of date.

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The last day of a month.
fn month_end(y: i32, m: u32) -> Option<NaiveDate> {
    ymd(y, m, 1)?.checked_add_months(Months::new(1))?.pred_opt()
}

/// The longest a month can be (February: 29, for dates without a year).
fn max_day(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn month_name(month: u32) -> &'static str {
    usize::try_from(month)
        .ok()
        .and_then(|m| m.checked_sub(1))
        .and_then(|i| MONTH_NAMES.get(i))
        .copied()
        .unwrap_or("that month")
}

/// The first day of the week (Monday), month, quarter or year that holds `d`.
fn period_start(cal: Cal, d: NaiveDate) -> Option<NaiveDate> {
    match cal {
        Cal::Week => d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday()))),
        Cal::Month => d.with_day(1),
        Cal::Quarter => ymd(d.year(), d.month0() / 3 * 3 + 1, 1),
        Cal::Year => ymd(d.year(), 1, 1),
    }
}

/// The start of the period `n` periods before the one starting at `start`.
fn periods_before(cal: Cal, start: NaiveDate, n: u64) -> Option<NaiveDate> {
    let months = match cal {
        Cal::Week => return start.checked_sub_days(Days::new(n.checked_mul(7)?)),
        Cal::Month => n,
        Cal::Quarter => n.checked_mul(3)?,
        Cal::Year => n.checked_mul(12)?,
    };
    start.checked_sub_months(Months::new(u32::try_from(months).ok()?))
}

/// The last day of the period starting at `start`.
fn period_end(cal: Cal, start: NaiveDate) -> Option<NaiveDate> {
    let months = match cal {
        Cal::Week => return start.checked_add_days(Days::new(6)),
        Cal::Month => 1,
        Cal::Quarter => 3,
        Cal::Year => 12,
    };
    start.checked_add_months(Months::new(months))?.pred_opt()
}

/// Whether a range is whole periods of `cal`, first day to last.
fn is_whole(cal: Cal, range: &DateRange) -> bool {
    range.start <= range.end
        && period_start(cal, range.start) == Some(range.start)
        && period_start(cal, range.end)
            .and_then(|s| period_end(cal, s))
            .is_some_and(|e| e == range.end)
}

struct Resolver<'w> {
    as_of: NaiveDate,
    words: &'w str,
}

type Resolved = (DateRange, PeriodUnit);

impl Resolver<'_> {
    fn invalid(&self, what: impl Display) -> TimeError {
        TimeError::Invalid(format!("\"{}\": {what}", self.words))
    }

    fn ok<T>(&self, value: Option<T>) -> Result<T, TimeError> {
        value.ok_or_else(|| self.invalid("the dates are out of range"))
    }

    fn yesterday(&self) -> Result<NaiveDate, TimeError> {
        self.ok(self.as_of.pred_opt())
    }

    fn nonzero(&self, n: u64, what: &str) -> Result<(), TimeError> {
        if n == 0 {
            return Err(self.invalid(format_args!("a period of 0 {what} is empty")));
        }
        Ok(())
    }

    /// None when the expression needs an earlier period and there is none.
    fn expr(&self, expr: Expr, before: Option<&TimeMatch>) -> Result<Option<Resolved>, TimeError> {
        Ok(Some(match expr {
            Expr::One(a) => self.atom(a)?,
            Expr::Span(a, b) => self.span(a, b)?,
            Expr::Since(a) => {
                let (r, _) = self.atom(a)?;
                let range = DateRange {
                    start: r.start,
                    end: self.yesterday()?,
                };
                (range, PeriodUnit::Days)
            }
            Expr::Until(a) => {
                let (r, _) = self.atom(a)?;
                let range = DateRange {
                    start: NaiveDate::MIN,
                    end: r.end,
                };
                (range, PeriodUnit::Days)
            }
            Expr::Back(b) => return self.back(b, before),
        }))
    }

    fn atom(&self, atom: Atom) -> Result<Resolved, TimeError> {
        let range = |start, end| DateRange { start, end };
        Ok(match atom {
            Atom::DayAgo(n) => {
                let d = self.ok(self.as_of.checked_sub_days(Days::new(n)))?;
                (range(d, d), PeriodUnit::Day)
            }
            Atom::Rolling(n) => {
                self.nonzero(n, "days")?;
                let start = self.ok(self.as_of.checked_sub_days(Days::new(n)))?;
                (range(start, self.yesterday()?), PeriodUnit::Days)
            }
            Atom::Calendar { cal, back } => {
                let current = self.ok(period_start(cal, self.as_of))?;
                let start = self.ok(periods_before(cal, current, back))?;
                let end = if back == 0 {
                    self.yesterday()?
                } else {
                    self.ok(period_end(cal, start))?
                };
                (range(start, end), cal.unit())
            }
            Atom::LastCalendar { cal, n } => {
                self.nonzero(n, cal.plural())?;
                let current = self.ok(period_start(cal, self.as_of))?;
                let start = self.ok(periods_before(cal, current, n))?;
                (range(start, self.ok(current.pred_opt())?), cal.unit())
            }
            Atom::LastWeekend => {
                let monday = self.ok(period_start(Cal::Week, self.as_of))?;
                let saturday = self.ok(monday.checked_sub_days(Days::new(2)))?;
                (
                    range(saturday, self.ok(monday.pred_opt())?),
                    PeriodUnit::Days,
                )
            }
            Atom::Named(n) => (self.named(n)?, n.unit()),
            Atom::Now => {
                let d = self.yesterday()?;
                (range(d, d), PeriodUnit::Day)
            }
        })
    }

    /// A calendar name; without a year, the latest such period whose first day is before the
    /// as-of date (whose last day is, for "지난 12월"; for a date, the date itself).
    fn named(&self, named: Named) -> Result<DateRange, TimeError> {
        let this_year = self.as_of.year();
        match named {
            Named::Year(y) => Ok(DateRange {
                start: self.ok(ymd(y, 1, 1))?,
                end: self.ok(ymd(y, 12, 31))?,
            }),
            Named::Month { year, month, ended } => {
                if !(1..=12).contains(&month) {
                    return Err(self.invalid(format_args!("there is no month {month}")));
                }
                let in_year = |y: i32| -> Result<DateRange, TimeError> {
                    Ok(DateRange {
                        start: self.ok(ymd(y, month, 1))?,
                        end: self.ok(month_end(y, month))?,
                    })
                };
                self.latest(year, this_year, ended, in_year)
            }
            Named::Quarter {
                year,
                quarter,
                ended,
            } => {
                if !(1..=4).contains(&quarter) {
                    return Err(self.invalid(format_args!("there is no quarter {quarter}")));
                }
                let in_year = |y: i32| -> Result<DateRange, TimeError> {
                    Ok(DateRange {
                        start: self.ok(ymd(y, quarter * 3 - 2, 1))?,
                        end: self.ok(month_end(y, quarter * 3))?,
                    })
                };
                self.latest(year, this_year, ended, in_year)
            }
            Named::Date { year, month, day } => {
                if !(1..=12).contains(&month) {
                    return Err(self.invalid(format_args!("there is no month {month}")));
                }
                if day == 0 || day > max_day(month) {
                    return Err(
                        self.invalid(format_args!("{} has no day {day}", month_name(month)))
                    );
                }
                let day_range = |d| DateRange { start: d, end: d };
                if let Some(y) = year {
                    return match ymd(y, month, day) {
                        Some(d) => Ok(day_range(d)),
                        None => Err(self
                            .invalid(format_args!("{} {y} has no day {day}", month_name(month)))),
                    };
                }
                // February 29 may be up to eight years back.
                (0..=8)
                    .filter_map(|back| ymd(this_year - back, month, day))
                    .find(|d| *d < self.as_of)
                    .map(day_range)
                    .ok_or_else(|| self.invalid("the date is out of range"))
            }
        }
    }

    /// The period in `year`, or without one the latest that starts (or, `ended`, ends) before
    /// the as-of date.
    fn latest(
        &self,
        year: Option<i32>,
        this_year: i32,
        ended: bool,
        in_year: impl Fn(i32) -> Result<DateRange, TimeError>,
    ) -> Result<DateRange, TimeError> {
        if let Some(y) = year {
            return in_year(y);
        }
        let r = in_year(this_year)?;
        let edge = if ended { r.end } else { r.start };
        if edge >= self.as_of {
            in_year(this_year - 1)
        } else {
            Ok(r)
        }
    }

    /// From the start of `a` to the end of `b`. A month or date without a year takes the
    /// other end's year ("between november and december 2020", "2020년 11월~12월"); two without
    /// a year resolve on their own, and when the start falls after the end it moves a year
    /// back ("12월부터 1월까지").
    fn span(&self, a: Atom, b: Atom) -> Result<Resolved, TimeError> {
        let yearless = |atom: Atom| match atom {
            Atom::Named(n @ (Named::Month { .. } | Named::Quarter { .. } | Named::Date { .. })) => {
                n.year().is_none().then_some(n)
            }
            _ => None,
        };
        let given = |atom: Atom| match atom {
            Atom::Named(n) => n.year(),
            _ => None,
        };
        let (ra, ua) = self.atom(a)?;
        let (rb, ub) = self.atom(b)?;
        let (ra, rb) = match (yearless(a), yearless(b), given(a), given(b)) {
            (Some(na), None, _, Some(yb)) => {
                let mut ra = self.named(na.with_year(yb))?;
                if ra.start > rb.end {
                    ra = self.named(na.with_year(yb - 1))?;
                }
                (ra, rb)
            }
            (None, Some(nb), Some(ya), _) => {
                let mut rb = self.named(nb.with_year(ya))?;
                if rb.end < ra.start {
                    rb = self.named(nb.with_year(ya + 1))?;
                }
                (ra, rb)
            }
            (Some(na), Some(_), _, _) if ra.start > rb.end => {
                (self.named(na.with_year(ra.start.year() - 1))?, rb)
            }
            _ => (ra, rb),
        };
        if ra.start > rb.end {
            return Err(self.invalid("the range ends before it starts"));
        }
        let range = DateRange {
            start: ra.start,
            end: rb.end,
        };
        let unit = match (ua, ub) {
            (PeriodUnit::Day, PeriodUnit::Day) if range.days() > 1 => PeriodUnit::Days,
            (ua, ub) if ua == ub => ua,
            _ => PeriodUnit::Days,
        };
        Ok((range, unit))
    }

    /// A period defined by the one before it (`before`); see [`Back`] for each kind and what
    /// it means alone.
    fn back(&self, back: Back, before: Option<&TimeMatch>) -> Result<Option<Resolved>, TimeError> {
        let range = |start, end| DateRange { start, end };
        Ok(Some(match (back, before) {
            (Back::Period(cal), Some(b)) if b.unit == cal.unit() => {
                (self.period_before(cal, b.range.start)?, cal.unit())
            }
            (Back::Period(cal), _) => self.atom(Atom::Calendar { cal, back: 1 })?,
            (Back::Day, Some(b)) if matches!(b.unit, PeriodUnit::Day | PeriodUnit::Days) => {
                let d = self.ok(b.range.start.pred_opt())?;
                (range(d, d), PeriodUnit::Day)
            }
            (Back::Day, _) => self.atom(Atom::DayAgo(1))?,
            (Back::Days(n), Some(b)) => {
                self.nonzero(n, "days")?;
                let end = self.ok(b.range.start.pred_opt())?;
                let start = self.ok(b.range.start.checked_sub_days(Days::new(n)))?;
                (range(start, end), PeriodUnit::Days)
            }
            (Back::Days(n), None) => self.atom(Atom::Rolling(n))?,
            (Back::Same, Some(b)) => {
                let cal = match b.unit {
                    PeriodUnit::Week => Some(Cal::Week),
                    PeriodUnit::Month => Some(Cal::Month),
                    PeriodUnit::Year => Some(Cal::Year),
                    PeriodUnit::Day | PeriodUnit::Days => None,
                };
                match cal {
                    // "이번 달 vs 그 전": a period still running compares with the whole one
                    // before it.
                    Some(cal) if !is_whole(cal, &b.range) => {
                        (self.period_before(cal, b.range.start)?, b.unit)
                    }
                    _ => (b.range.previous(b.unit), b.unit),
                }
            }
            (Back::YearAgo, Some(b)) => {
                let a_year_back = |d: NaiveDate| d.checked_sub_months(Months::new(12));
                let start = self.ok(a_year_back(b.range.start))?;
                // A range ending on the last day of a month ends on the last day a year back
                // (February 28 -> February 29).
                let end = match b.range.end.succ_opt() {
                    Some(next) if next.day() == 1 => {
                        self.ok(a_year_back(next).and_then(|d| d.pred_opt()))?
                    }
                    _ => self.ok(a_year_back(b.range.end))?,
                };
                (range(start, end), b.unit)
            }
            (Back::Same | Back::YearAgo, None) => return Ok(None),
        }))
    }

    /// The whole calendar period before the one holding `day`.
    fn period_before(&self, cal: Cal, day: NaiveDate) -> Result<DateRange, TimeError> {
        let current = self.ok(period_start(cal, day))?;
        let start = self.ok(periods_before(cal, current, 1))?;
        Ok(DateRange {
            start,
            end: self.ok(period_end(cal, start))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;
    use crate::SemanticModel;

    /// `find` with the time words of the model nlq ships, loaded once.
    fn find(text: &str, as_of: NaiveDate) -> Result<Vec<TimeMatch>, TimeError> {
        static MODEL: OnceLock<SemanticModel> = OnceLock::new();
        let model = MODEL.get_or_init(|| SemanticModel::builtin().unwrap());
        super::find(text, as_of, &model.lexicon.time)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y%m%d").unwrap()
    }

    const FEB1: &str = "20210201";
    const MAR15: &str = "20210315";

    /// The ranges `find` gives, as `YYYYMMDD` pairs.
    fn ranges(text: &str, as_of: &str) -> Vec<(String, String)> {
        match find(text, day(as_of)) {
            Ok(found) => found.iter().map(|m| m.range.suffixes()).collect(),
            Err(e) => panic!("{text}: {e}"),
        }
    }

    fn check(as_of: &str, cases: &[(&str, &[(&str, &str)])]) {
        let mut failures = Vec::new();
        for (text, want) in cases {
            let got = ranges(text, as_of);
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect();
            if got != want {
                failures.push(format!(
                    "{text:?} (as of {as_of}): got {got:?}, want {want:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn the_contract_table() {
        check(
            FEB1,
            &[
                ("어제", &[("20210131", "20210131")]),
                ("yesterday", &[("20210131", "20210131")]),
                ("지난 7일", &[("20210125", "20210131")]),
                ("최근 7일", &[("20210125", "20210131")]),
                ("last 7 days", &[("20210125", "20210131")]),
                ("지난주", &[("20210125", "20210131")]),
                ("last week", &[("20210125", "20210131")]),
                ("이번 달", &[("20210201", "20210131")]),
                ("this month", &[("20210201", "20210131")]),
                ("지난달", &[("20210101", "20210131")]),
                ("last month", &[("20210101", "20210131")]),
                ("2020년 12월", &[("20201201", "20201231")]),
                ("december 2020", &[("20201201", "20201231")]),
                ("12월", &[("20201201", "20201231")]),
                ("december", &[("20201201", "20201231")]),
                ("1월부터 3월까지", &[("20200101", "20200331")]),
                ("세션 수", &[]),
                ("", &[]),
            ],
        );
    }

    #[test]
    fn questions_from_the_brief() {
        check(
            FEB1,
            &[
                (
                    "11월부터 12월까지 캠페인별 매출",
                    &[("20201101", "20201231")],
                ),
                (
                    "11월 유입 소스별 신규 사용자 수 상위 3개",
                    &[("20201101", "20201130")],
                ),
                ("지난 7일 디바이스별 방문자 수", &[("20210125", "20210131")]),
                (
                    "지난 30일 동안 브라우저별 참여율은",
                    &[("20210102", "20210131")],
                ),
                (
                    "모바일에서 발생한 12월 매출 얼마야",
                    &[("20201201", "20201231")],
                ),
                ("12월 매출", &[("20201201", "20201231")]),
                (
                    "top 5 products by item revenue in december",
                    &[("20201201", "20201231")],
                ),
                (
                    "sessions by country and device category last month",
                    &[("20210101", "20210131")],
                ),
                ("미국 지역별 사용자 수 상위 5개", &[]),
                ("top 10 products", &[]),
                ("google navy speckled tee 월별 판매 수량", &[]),
                ("events_20201101 지워줘", &[]),
                ("구매를 2번 이상 한 재구매 고객은 몇 명이야", &[]),
            ],
        );
    }

    #[test]
    fn days() {
        check(
            FEB1,
            &[
                ("오늘", &[("20210201", "20210201")]),
                ("today", &[("20210201", "20210201")]),
                ("어제 매출", &[("20210131", "20210131")]),
                ("그저께", &[("20210130", "20210130")]),
                ("엊그제", &[("20210130", "20210130")]),
                ("그제 사용자", &[("20210130", "20210130")]),
                ("the day before yesterday", &[("20210130", "20210130")]),
                ("day before yesterday", &[("20210130", "20210130")]),
                ("3일 전", &[("20210129", "20210129")]),
                ("3 days ago", &[("20210129", "20210129")]),
                ("2021-01-15", &[("20210115", "20210115")]),
                ("sessions 2 days ago", &[("20210130", "20210130")]),
                ("3일 전부터 어제까지", &[("20210129", "20210131")]),
                (
                    "어제 매출 전일 대비",
                    &[("20210131", "20210131"), ("20210130", "20210130")],
                ),
            ],
        );
    }

    #[test]
    fn rolling_windows() {
        check(
            FEB1,
            &[
                ("지난7일", &[("20210125", "20210131")]),
                ("최근 14일", &[("20210118", "20210131")]),
                ("최근14일간", &[("20210118", "20210131")]),
                ("지난 30일 동안", &[("20210102", "20210131")]),
                ("지난 30일동안", &[("20210102", "20210131")]),
                ("7일간 매출", &[("20210125", "20210131")]),
                ("7일 동안 매출", &[("20210125", "20210131")]),
                ("최근 일주일", &[("20210125", "20210131")]),
                ("지난 일주일 동안", &[("20210125", "20210131")]),
                ("최근 1주일간", &[("20210125", "20210131")]),
                ("지난 한 주", &[("20210125", "20210131")]),
                ("지난 2주", &[("20210118", "20210131")]),
                ("최근 2주간", &[("20210118", "20210131")]),
                ("지난 두 주", &[("20210118", "20210131")]),
                ("지난 한 달", &[("20210102", "20210131")]),
                ("최근 한달", &[("20210102", "20210131")]),
                ("최근 한 달간", &[("20210102", "20210131")]),
                ("지난 3개월", &[("20201101", "20210131")]),
                ("최근 3개월간", &[("20201101", "20210131")]),
                ("최근 두 달", &[("20201201", "20210131")]),
                ("지난 1년", &[("20200101", "20201231")]),
                ("last 14 days", &[("20210118", "20210131")]),
                ("the last 7 days", &[("20210125", "20210131")]),
                ("over the past 30 days", &[("20210102", "20210131")]),
                ("past 7 days", &[("20210125", "20210131")]),
                ("last seven days", &[("20210125", "20210131")]),
                ("past week", &[("20210125", "20210131")]),
                ("the past week", &[("20210125", "20210131")]),
                ("past month", &[("20210102", "20210131")]),
                ("last 30 days", &[("20210102", "20210131")]),
                ("last 2 weeks", &[("20210118", "20210131")]),
                ("past two weeks", &[("20210118", "20210131")]),
                ("last 3 months", &[("20201101", "20210131")]),
                ("past 2 years", &[("20190101", "20201231")]),
                ("past year", &[("20200202", "20210131")]),
                ("last 1 day", &[("20210131", "20210131")]),
            ],
        );
    }

    #[test]
    fn weeks() {
        check(
            FEB1,
            &[
                ("지난 주", &[("20210125", "20210131")]),
                ("저번주", &[("20210125", "20210131")]),
                ("전주", &[("20210125", "20210131")]),
                ("previous week", &[("20210125", "20210131")]),
                ("이번주", &[("20210201", "20210131")]),
                ("이번 주", &[("20210201", "20210131")]),
                ("금주", &[("20210201", "20210131")]),
                ("this week", &[("20210201", "20210131")]),
                ("지지난주", &[("20210118", "20210124")]),
                ("the week before last", &[("20210118", "20210124")]),
                ("지난 주말", &[("20210130", "20210131")]),
                ("last weekend", &[("20210130", "20210131")]),
                ("2주 전", &[("20210118", "20210124")]),
                ("2 weeks ago", &[("20210118", "20210124")]),
            ],
        );
        // Midweek: this week is Monday up to yesterday.
        check(
            "20210204",
            &[
                ("이번주", &[("20210201", "20210203")]),
                ("지난주", &[("20210125", "20210131")]),
                ("week to date", &[("20210201", "20210203")]),
            ],
        );
    }

    #[test]
    fn months_and_years() {
        check(
            FEB1,
            &[
                ("이번달", &[("20210201", "20210131")]),
                ("금월", &[("20210201", "20210131")]),
                ("month to date", &[("20210201", "20210131")]),
                ("저번 달", &[("20210101", "20210131")]),
                ("전월", &[("20210101", "20210131")]),
                ("previous month", &[("20210101", "20210131")]),
                ("지지난달", &[("20201201", "20201231")]),
                ("the month before last", &[("20201201", "20201231")]),
                ("3개월 전", &[("20201101", "20201130")]),
                ("a month ago", &[("20210101", "20210131")]),
                ("올해", &[("20210101", "20210131")]),
                ("this year", &[("20210101", "20210131")]),
                ("ytd", &[("20210101", "20210131")]),
                ("작년", &[("20200101", "20201231")]),
                ("지난해", &[("20200101", "20201231")]),
                ("last year", &[("20200101", "20201231")]),
                ("재작년", &[("20190101", "20191231")]),
                ("2020년", &[("20200101", "20201231")]),
                ("2020년도 매출", &[("20200101", "20201231")]),
                ("in 2020", &[("20200101", "20201231")]),
                ("during 2019", &[("20190101", "20191231")]),
            ],
        );
        check(
            MAR15,
            &[
                ("이번 달", &[("20210301", "20210314")]),
                ("지난달", &[("20210201", "20210228")]),
                ("올해", &[("20210101", "20210314")]),
                ("지난 2개월", &[("20210101", "20210228")]),
            ],
        );
        // Year boundary: January as-of.
        check(
            "20210110",
            &[
                ("지난달", &[("20201201", "20201231")]),
                ("이번 달", &[("20210101", "20210109")]),
                ("지난 3개월", &[("20201001", "20201231")]),
                ("작년", &[("20200101", "20201231")]),
            ],
        );
    }

    #[test]
    fn named_months() {
        check(
            FEB1,
            &[
                ("2020년12월", &[("20201201", "20201231")]),
                ("20년 12월", &[("20201201", "20201231")]),
                ("1월", &[("20210101", "20210131")]),
                ("2월", &[("20200201", "20200229")]),
                ("11월", &[("20201101", "20201130")]),
                ("12 월", &[("20201201", "20201231")]),
                ("작년 12월", &[("20201201", "20201231")]),
                ("올해 1월", &[("20210101", "20210131")]),
                ("지난 12월", &[("20201201", "20201231")]),
                ("12월 한 달 동안 매출", &[("20201201", "20201231")]),
                ("dec 2020", &[("20201201", "20201231")]),
                ("dec. 2020", &[("20201201", "20201231")]),
                ("december of 2020", &[("20201201", "20201231")]),
                ("in dec", &[("20201201", "20201231")]),
                ("nov", &[("20201101", "20201130")]),
                ("in may", &[("20200501", "20200531")]),
                ("december last year", &[("20201201", "20201231")]),
                ("january this year", &[("20210101", "20210131")]),
                ("last december", &[("20201201", "20201231")]),
                ("2020-12", &[("20201201", "20201231")]),
                ("2020/12", &[("20201201", "20201231")]),
                ("2020.12", &[("20201201", "20201231")]),
                ("2020. 12.", &[("20201201", "20201231")]),
            ],
        );
        // "the latest such month whose first day is before the as-of date".
        check(
            MAR15,
            &[
                ("3월", &[("20210301", "20210331")]),
                ("4월", &[("20200401", "20200430")]),
                ("2월", &[("20210201", "20210228")]),
                ("12월", &[("20201201", "20201231")]),
                ("march", &[("20210301", "20210331")]),
                ("april", &[("20200401", "20200430")]),
                // "지난 3월" is the latest March that is over.
                ("지난 3월", &[("20200301", "20200331")]),
                ("last march", &[("20200301", "20200331")]),
            ],
        );
        // As of the 1st, that month has not started before the as-of date.
        check(
            "20210301",
            &[
                ("3월", &[("20200301", "20200331")]),
                ("2월", &[("20210201", "20210228")]),
            ],
        );
    }

    #[test]
    fn month_ranges() {
        check(
            FEB1,
            &[
                ("11월~12월", &[("20201101", "20201231")]),
                ("11~12월", &[("20201101", "20201231")]),
                ("11-12월 매출", &[("20201101", "20201231")]),
                ("11월 ~ 12월", &[("20201101", "20201231")]),
                ("11월에서 12월까지", &[("20201101", "20201231")]),
                ("11월과 12월 사이", &[("20201101", "20201231")]),
                ("12월부터 1월까지", &[("20201201", "20210131")]),
                ("2020년 11월~12월", &[("20201101", "20201231")]),
                ("2020년 11~12월", &[("20201101", "20201231")]),
                ("2020년 12월~1월", &[("20201201", "20210131")]),
                ("from november to december", &[("20201101", "20201231")]),
                ("november through january", &[("20201101", "20210131")]),
                (
                    "between november and december 2020",
                    &[("20201101", "20201231")],
                ),
                ("nov-dec", &[("20201101", "20201231")]),
                ("nov - dec 2020", &[("20201101", "20201231")]),
                ("2020-11 ~ 2020-12", &[("20201101", "20201231")]),
                ("2019년부터 2020년까지", &[("20190101", "20201231")]),
                ("from 2019 to 2020", &[("20190101", "20201231")]),
                // Reversed without years: the start moves a year back.
                ("12월부터 11월까지", &[("20191201", "20201130")]),
            ],
        );
        check(
            MAR15,
            &[
                ("1월부터 3월까지", &[("20210101", "20210331")]),
                ("1월부터 4월까지", &[("20200101", "20200430")]),
                ("3월~4월", &[("20200301", "20200430")]),
            ],
        );
    }

    #[test]
    fn explicit_dates() {
        check(
            FEB1,
            &[
                ("2020-12-01", &[("20201201", "20201201")]),
                ("2020/12/01", &[("20201201", "20201201")]),
                ("2020.12.01", &[("20201201", "20201201")]),
                ("2020. 12. 1.", &[("20201201", "20201201")]),
                ("20201201", &[("20201201", "20201201")]),
                ("2020년 12월 1일", &[("20201201", "20201201")]),
                ("2020년12월1일", &[("20201201", "20201201")]),
                ("12월 1일", &[("20201201", "20201201")]),
                ("1월 31일", &[("20210131", "20210131")]),
                ("2월 1일", &[("20200201", "20200201")]),
                ("2월 29일", &[("20200229", "20200229")]),
                ("dec 1 2020", &[("20201201", "20201201")]),
                ("december 1st", &[("20201201", "20201201")]),
                ("1 december 2020", &[("20201201", "20201201")]),
                ("the 1st of december", &[("20201201", "20201201")]),
                ("dec 25th", &[("20201225", "20201225")]),
            ],
        );
        check(
            MAR15,
            &[
                ("3월 14일", &[("20210314", "20210314")]),
                ("3월 15일", &[("20200315", "20200315")]),
            ],
        );
    }

    #[test]
    fn date_ranges() {
        check(
            FEB1,
            &[
                ("2020-12-01부터 2020-12-07까지", &[("20201201", "20201207")]),
                ("2020-12-01~2020-12-07", &[("20201201", "20201207")]),
                ("20201201-20201207", &[("20201201", "20201207")]),
                ("12월 1일~7일", &[("20201201", "20201207")]),
                ("12월 1~7일", &[("20201201", "20201207")]),
                ("12월 1일부터 7일까지", &[("20201201", "20201207")]),
                ("12월 1일부터 12월 7일까지", &[("20201201", "20201207")]),
                ("12월 25일~1월 3일", &[("20201225", "20210103")]),
                ("from 2020-12-01 to 2020-12-07", &[("20201201", "20201207")]),
                ("between dec 1 and dec 7", &[("20201201", "20201207")]),
                ("dec 1-7", &[("20201201", "20201207")]),
                ("dec 1 - 7 2020", &[("20201201", "20201207")]),
                ("december 1st to 7th", &[("20201201", "20201207")]),
                ("dec 1 to dec 7", &[("20201201", "20201207")]),
                ("dec 1-jan 5", &[("20201201", "20210105")]),
                ("from nov 1 to nov 30 2020", &[("20201101", "20201130")]),
                ("11월 1일-30일", &[("20201101", "20201130")]),
                (
                    "2021년 1월 1일 ~ 2021년 1월 31일",
                    &[("20210101", "20210131")],
                ),
                // Open ranges run to yesterday.
                ("12월부터", &[("20201201", "20210131")]),
                ("12월 이후", &[("20201201", "20210131")]),
                ("since december", &[("20201201", "20210131")]),
                ("12월부터 지금까지", &[("20201201", "20210131")]),
                ("december to date", &[("20201201", "20210131")]),
                ("12월 1일부터 오늘까지", &[("20201201", "20210201")]),
            ],
        );
    }

    #[test]
    fn quarters() {
        check(
            FEB1,
            &[
                ("4분기", &[("20201001", "20201231")]),
                ("2020년 4분기", &[("20201001", "20201231")]),
                ("작년 4분기", &[("20201001", "20201231")]),
                ("1분기", &[("20210101", "20210331")]),
                ("q4 2020", &[("20201001", "20201231")]),
                ("2020 q3", &[("20200701", "20200930")]),
                ("q4", &[("20201001", "20201231")]),
                ("지난 분기", &[("20201001", "20201231")]),
                ("last quarter", &[("20201001", "20201231")]),
                ("이번 분기", &[("20210101", "20210131")]),
                ("3~4분기", &[("20200701", "20201231")]),
            ],
        );
    }

    #[test]
    fn comparisons() {
        check(
            FEB1,
            &[
                (
                    "지난주와 그 전주",
                    &[("20210125", "20210131"), ("20210118", "20210124")],
                ),
                (
                    "지난주 대비 그 전주",
                    &[("20210125", "20210131"), ("20210118", "20210124")],
                ),
                (
                    "지난주 전주 대비",
                    &[("20210125", "20210131"), ("20210118", "20210124")],
                ),
                (
                    "this week vs last week",
                    &[("20210201", "20210131"), ("20210125", "20210131")],
                ),
                (
                    "last month compared with the month before",
                    &[("20210101", "20210131"), ("20201201", "20201231")],
                ),
                (
                    "11월 대비 12월",
                    &[("20201101", "20201130"), ("20201201", "20201231")],
                ),
                (
                    "12월과 11월 비교",
                    &[("20201201", "20201231"), ("20201101", "20201130")],
                ),
                (
                    "이번 달 전월 대비",
                    &[("20210201", "20210131"), ("20210101", "20210131")],
                ),
                (
                    "12월 매출 전월 대비",
                    &[("20201201", "20201231"), ("20201101", "20201130")],
                ),
                (
                    "this month vs last month",
                    &[("20210201", "20210131"), ("20210101", "20210131")],
                ),
                (
                    "지난 7일과 그 전 7일",
                    &[("20210125", "20210131"), ("20210118", "20210124")],
                ),
                (
                    "last 7 days vs the previous 7 days",
                    &[("20210125", "20210131"), ("20210118", "20210124")],
                ),
                (
                    "어제와 그 전날",
                    &[("20210131", "20210131"), ("20210130", "20210130")],
                ),
                (
                    "12월 전년 동기 대비",
                    &[("20201201", "20201231"), ("20191201", "20191231")],
                ),
                (
                    "december vs the same period last year",
                    &[("20201201", "20201231"), ("20191201", "20191231")],
                ),
                (
                    "올해 전년 대비",
                    &[("20210101", "20210131"), ("20200101", "20201231")],
                ),
                (
                    "4분기 vs 전분기",
                    &[("20201001", "20201231"), ("20200701", "20200930")],
                ),
                (
                    "지난달과 그 전 비교",
                    &[("20210101", "20210131"), ("20201201", "20201231")],
                ),
                (
                    "11월~12월 vs 이전 기간",
                    &[("20201101", "20201231"), ("20200901", "20201031")],
                ),
                (
                    "compare december to november",
                    &[("20201201", "20201231"), ("20201101", "20201130")],
                ),
                // Without an earlier period: relative to the as-of date, or nothing.
                (
                    "전주 대비 이번주",
                    &[("20210125", "20210131"), ("20210201", "20210131")],
                ),
                ("그 전", &[]),
            ],
        );
    }

    #[test]
    fn units_words_and_spans() {
        let as_of = day(FEB1);
        let cases: &[(&str, PeriodUnit, &str)] = &[
            ("어제 매출", PeriodUnit::Day, "어제"),
            ("지난 7일 디바이스별", PeriodUnit::Days, "지난 7일"),
            ("지난주 사용자", PeriodUnit::Week, "지난주"),
            ("지난달 사용자", PeriodUnit::Month, "지난달"),
            ("12월 매출", PeriodUnit::Month, "12월"),
            (
                "11월부터 12월까지 매출",
                PeriodUnit::Month,
                "11월부터 12월까지",
            ),
            ("작년 매출", PeriodUnit::Year, "작년"),
            ("2020년 매출", PeriodUnit::Year, "2020년"),
            ("12월 1일~7일 매출", PeriodUnit::Days, "12월 1일~7일"),
            ("4분기 매출", PeriodUnit::Month, "4분기"),
            ("users in december", PeriodUnit::Month, "december"),
            ("revenue last 30 days", PeriodUnit::Days, "last 30 days"),
            ("지난 3개월 매출", PeriodUnit::Month, "지난 3개월"),
            ("12월부터 매출", PeriodUnit::Days, "12월부터"),
        ];
        for (text, unit, words) in cases {
            let found = find(text, as_of).unwrap();
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            let m = &found[0];
            assert_eq!((m.unit, m.words.as_str()), (*unit, *words), "{text}");
            assert_eq!(m.spans.len(), 1, "{text}");
            assert_eq!(&text[m.spans[0].clone()], *words, "{text}");
        }
        let found = find("지난주와 그 전주 세션 수", as_of).unwrap();
        let words: Vec<&str> = found.iter().map(|m| m.words.as_str()).collect();
        assert_eq!(words, ["지난주", "그 전주"]);
        assert_eq!(found[1].unit, PeriodUnit::Week);
        assert_eq!(found[1].spans.first(), Some(&(13..23)));
    }

    #[test]
    fn invalid_dates_say_what_is_wrong() {
        let as_of = day(FEB1);
        let cases: &[(&str, &str)] = &[
            ("2020년 13월", "no month 13"),
            ("13월 매출", "no month 13"),
            ("0월", "no month 0"),
            ("2월 30일", "February has no day 30"),
            ("4월 31일", "April has no day 31"),
            ("12월 0일", "December has no day 0"),
            ("february 30", "February has no day 30"),
            ("2021-02-29", "February 2021 has no day 29"),
            ("2021년 2월 29일", "February 2021 has no day 29"),
            ("2020-13-01", "no month 13"),
            ("지난 0일", "0 days"),
            ("최근 0주", "0 days"),
            ("last 0 days", "0 days"),
            ("지난 0개월", "0 months"),
            ("5분기", "no quarter 5"),
            ("2020-12-07부터 2020-12-01까지", "ends before it starts"),
            ("지난 99999999999999999999일", "out of range"),
        ];
        for (text, want) in cases {
            match find(text, as_of) {
                Err(TimeError::Invalid(msg)) => {
                    assert!(msg.contains(want), "{text}: {msg}");
                    assert!(msg.contains('"'), "{text}: {msg} should quote the words");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn parts_of_months_and_month_day_dates() {
        check(
            FEB1,
            &[
                ("12월말", &[("20201221", "20201231")]),
                ("12월 초", &[("20201201", "20201210")]),
                ("2020년 2월 하순", &[("20200221", "20200229")]),
                ("1월 중순에", &[("20210111", "20210120")]),
                ("12/25", &[("20201225", "20201225")]),
                ("크리스마스", &[("20201225", "20201225")]),
                ("2020년 상반기", &[("20200101", "20200630")]),
                ("하반기", &[("20200701", "20201231")]),
                ("상반기 매출", &[("20200101", "20200630")]),
                ("지난 24시간", &[("20210131", "20210131")]),
                ("the last 24 hours", &[("20210131", "20210131")]),
                ("christmas", &[("20201225", "20201225")]),
            ],
        );
    }

    #[test]
    fn numbers_that_are_not_time() {
        check(
            FEB1,
            &[
                ("상위 5개", &[]),
                ("top 10", &[]),
                ("top 5 december", &[("20201201", "20201231")]),
                ("하위 3개 페이지", &[]),
                ("2번 이상 구매", &[]),
                ("매출 1000 이상", &[]),
                ("20201399", &[]),
                ("월별 매출", &[]),
                ("일별 사용자", &[]),
                ("주별 세션", &[]),
                ("월요일 매출", &[]),
                ("2주년", &[]),
                ("1주차", &[]),
                ("전주시 사용자", &[]),
                ("may i see revenue", &[]),
                ("users who decrease", &[]),
                ("sessions over 2020", &[]),
                ("최근 세션", &[]),
                ("전체 기간 매출", &[]),
                ("오늘날", &[]),
                ("7일 평균", &[]),
                ("매출 2000.50 이상", &[]),
                ("네 주문 내역", &[]),
                ("top 3 may", &[]),
                ("1/2/3", &[]),
                ("13/25", &[]),
            ],
        );
    }

    #[test]
    fn dates_near_the_edges_of_chrono_do_not_panic() {
        for as_of in [NaiveDate::MIN, NaiveDate::MAX] {
            for text in [
                "어제",
                "지난 7일",
                "지난주",
                "이번 달",
                "12월",
                "2월 29일",
                "작년",
                "오늘",
                "그 전",
            ] {
                let _ = find(text, as_of);
            }
        }
        let r = DateRange {
            start: NaiveDate::MIN,
            end: NaiveDate::MIN,
        };
        let _ = r.previous(PeriodUnit::Month);
        let _ = r.previous(PeriodUnit::Days);
    }

    /// Every substring (on character boundaries) of mixed Korean and English questions: no
    /// slicing or arithmetic panics, whatever the cut.
    #[test]
    fn no_input_panics() {
        let texts = [
            "지난주와 그 전주 매출 비교 vs last month compared with the month before",
            "2020년 12월 1일~7일 top 5 products dec 1-7 2020 12월부터 1월까지",
            "최근14일간 11~12월 q4 2020 2020-12-01부터 2020.12.07까지 between nov and dec",
            "エ 日本 ñ 😀 1월 2 3년 4주 5개월 6일 전 지난 0 - ~ – 그 전 7일 the 1st of",
            "20201201-20201207 2020. 12. 1. 12 월 2주 전 the previous 7 days since may",
            "from 2019 to 2020 the 3 days before 네 주 전년 동기 a year earlier 99999999999999999999일",
        ];
        let as_of = day(FEB1);
        for text in texts {
            let cuts: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            for (n, &i) in cuts.iter().enumerate() {
                for &j in &cuts[n..] {
                    let _ = find(&text[i..j], as_of);
                }
            }
        }
    }

    #[test]
    fn date_range_helpers() {
        let r = |a: &str, b: &str| DateRange {
            start: day(a),
            end: day(b),
        };
        assert_eq!(r("20210125", "20210131").days(), 7);
        assert_eq!(r("20210201", "20210131").days(), 0);
        assert!(r("20210201", "20210131").is_empty());
        assert!(!r("20210131", "20210131").is_empty());
        assert_eq!(
            r("20201201", "20201231").suffixes(),
            ("20201201".to_owned(), "20201231".to_owned())
        );
        let cases = [
            // A whole month: the previous month, whatever its length.
            (
                r("20210201", "20210228"),
                PeriodUnit::Month,
                r("20210101", "20210131"),
            ),
            (
                r("20210301", "20210331"),
                PeriodUnit::Month,
                r("20210201", "20210228"),
            ),
            // Whole months: as many months back.
            (
                r("20201101", "20201231"),
                PeriodUnit::Month,
                r("20200901", "20201031"),
            ),
            (
                r("20200101", "20201231"),
                PeriodUnit::Year,
                r("20190101", "20191231"),
            ),
            // A whole week, a rolling window, a day: the same number of days before.
            (
                r("20210125", "20210131"),
                PeriodUnit::Week,
                r("20210118", "20210124"),
            ),
            (
                r("20210125", "20210131"),
                PeriodUnit::Days,
                r("20210118", "20210124"),
            ),
            (
                r("20210131", "20210131"),
                PeriodUnit::Day,
                r("20210130", "20210130"),
            ),
            // A partial month: the same length just before.
            (
                r("20210301", "20210314"),
                PeriodUnit::Month,
                r("20210215", "20210228"),
            ),
            // A whole month read as days: the same number of days.
            (
                r("20210201", "20210228"),
                PeriodUnit::Days,
                r("20210104", "20210131"),
            ),
            // Empty stays empty.
            (
                r("20210201", "20210131"),
                PeriodUnit::Month,
                r("20210201", "20210131"),
            ),
        ];
        for (range, unit, want) in cases {
            assert_eq!(range.previous(unit), want, "{range:?} {unit:?}");
        }
    }

    #[test]
    fn serializes_for_the_plan() {
        let r = DateRange {
            start: day("20201201"),
            end: day("20201231"),
        };
        let text = serde_norway::to_string(&r).unwrap();
        assert!(
            text.contains("start: 2020-12-01") && text.contains("end: 2020-12-31"),
            "{text}"
        );
        assert_eq!(
            serde_norway::to_string(&PeriodUnit::Days).unwrap().trim(),
            "days"
        );
    }
}
