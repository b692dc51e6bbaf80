//! Metamorphic tests at scale: every (metric, breakdown, filter, period, top N / percent /
//! exclusion) combination of a grid is written canonically and then through many paraphrases
//! in both languages (particles and endings, word order, spacing removed, polite and verbose
//! wrappings, glued numbers, written numbers, one typo, Korean and English mixed). The
//! invariant: a paraphrase yields the canonical wording's plan, or defers (needs_llm,
//! clarify); it never yields a different plan. The counts are printed for the closing note.

use nlq_semantic::{Plan, SemanticModel, Understanding};

use crate::sample_reader;

struct Metric {
    ko: &'static str,
    en: &'static str,
    /// A counted or summed metric (a share of it is meaningful).
    additive: bool,
}

const METRICS: &[Metric] = &[
    Metric {
        ko: "사용자 수",
        en: "users",
        additive: true,
    },
    Metric {
        ko: "세션 수",
        en: "sessions",
        additive: true,
    },
    Metric {
        ko: "페이지뷰",
        en: "page views",
        additive: true,
    },
    Metric {
        ko: "매출",
        en: "revenue",
        additive: true,
    },
    Metric {
        ko: "구매 건수",
        en: "purchases",
        additive: true,
    },
    Metric {
        ko: "신규 사용자 수",
        en: "new users",
        additive: true,
    },
    Metric {
        ko: "참여율",
        en: "engagement rate",
        additive: false,
    },
    Metric {
        ko: "이벤트 수",
        en: "events",
        additive: true,
    },
];

/// (Korean, English) breakdowns; the empty pair is no breakdown.
const DIMENSIONS: &[(&str, &str)] = &[
    ("", ""),
    ("디바이스별", "by device category"),
    ("국가별", "by country"),
    ("브라우저별", "by browser"),
    ("월별", "by month"),
    ("운영체제별", "by operating system"),
];

/// (Korean, English) values of a filter; the empty pair is no filter.
const FILTERS: &[(&str, &str)] = &[
    ("", ""),
    ("모바일", "mobile"),
    ("미국", "the united states"),
    ("크롬", "chrome"),
];

const PERIODS: &[(&str, &str)] = &[
    ("지난 7일", "last 7 days"),
    ("지난달", "last month"),
    ("12월", "in december"),
    ("2020년 11월", "in november 2020"),
    ("", ""),
];

#[derive(Clone, Copy)]
enum Modifier {
    None,
    Top(u64),
    Bottom(u64),
    Share,
    Exclude,
}

const MODIFIERS: &[Modifier] = &[
    Modifier::None,
    Modifier::Top(5),
    Modifier::Top(3),
    Modifier::Bottom(3),
    Modifier::Share,
    Modifier::Exclude,
];

const KO_NUMBERS: &[&str] = &["", "한", "두", "세", "네", "다섯"];
const EN_NUMBERS: &[&str] = &["", "one", "two", "three", "four", "five"];

struct Case {
    metric: &'static Metric,
    dimension: (&'static str, &'static str),
    filter: (&'static str, &'static str),
    period: (&'static str, &'static str),
    modifier: Modifier,
}

impl Case {
    fn valid(&self) -> bool {
        match self.modifier {
            Modifier::Top(_) | Modifier::Bottom(_) => !self.dimension.0.is_empty(),
            // With a filter, a share may be the filtered part's share of each row: deferred.
            Modifier::Share => {
                self.metric.additive && !self.dimension.0.is_empty() && self.filter.0.is_empty()
            }
            Modifier::Exclude => !self.filter.0.is_empty(),
            Modifier::None => true,
        }
    }

    fn ko_filter(&self) -> String {
        match (self.filter.0, self.modifier) {
            ("", _) => String::new(),
            (v, Modifier::Exclude) => format!("{v} 제외"),
            (v, _) => v.to_owned(),
        }
    }

    fn en_filter(&self) -> String {
        match (self.filter.1, self.modifier) {
            ("", _) => String::new(),
            (v, Modifier::Exclude) => format!("excluding {v}"),
            (v, _) => format!("from {v}"),
        }
    }

    /// Korean renderings: the canonical one first.
    fn korean(&self) -> Vec<String> {
        let (period, dim, metric) = (self.period.0, self.dimension.0, self.metric.ko);
        let filter = self.ko_filter();
        let (top, top_glued, top_written, top_counter) = match self.modifier {
            Modifier::Top(n) => (
                format!("상위 {n}개"),
                format!("상위{n}개"),
                format!("상위 {}개", n),
                format!("{} 개", KO_NUMBERS.get(n as usize).copied().unwrap_or("")),
            ),
            Modifier::Bottom(n) => (
                format!("하위 {n}개"),
                format!("하위{n}개"),
                format!("하위 {n}"),
                format!("하위 {n}곳"),
            ),
            Modifier::Share => (
                "비율".to_owned(),
                "비중".to_owned(),
                "점유율".to_owned(),
                "차지하는 비율".to_owned(),
            ),
            _ => Default::default(),
        };
        let canonical = join(&[period, &filter, dim, metric, &top]);
        let mut out = vec![canonical.clone()];
        // Particles and endings.
        let with_particles = join(&[
            &if period.is_empty() {
                String::new()
            } else {
                format!("{period}에")
            },
            &if filter.is_empty() {
                String::new()
            } else {
                format!("{filter}에서")
            },
            &if dim.is_empty() {
                String::new()
            } else {
                format!("{dim}로")
            },
            &format!("{metric}를"),
            &top,
        ]);
        out.push(format!("{with_particles} 보여줘"));
        out.push(format!("{canonical} 좀 알려줄래?"));
        out.push(format!("{canonical} 얼마임"));
        out.push(format!("혹시 {canonical} 확인해 주세요"));
        out.push(format!("{canonical} 현황 분석 부탁해"));
        // Word order.
        out.push(join(&[dim, metric, &top, period, &filter]));
        out.push(join(&[&filter, metric, period, dim, &top]));
        // Spacing removed inside each part.
        out.push(join(&[
            &period.replace(' ', ""),
            &filter,
            &dim.replace(' ', ""),
            &metric.replace(' ', ""),
            &top,
        ]));
        // Numbers glued or written.
        if !top.is_empty() {
            out.push(join(&[period, &filter, dim, metric, &top_glued]));
            out.push(join(&[period, &filter, dim, metric, &top_written]));
            if matches!(self.modifier, Modifier::Top(n) if n <= 5) {
                out.push(join(&[period, &filter, dim, metric, &top_counter]));
            }
        }
        // Korean with the English metric.
        out.push(join(&[period, &filter, dim, self.metric.en, &top]));
        // One typo in the metric.
        if let Some(typo) = ko_typo(metric) {
            out.push(join(&[period, &filter, dim, &typo, &top]));
        }
        out
    }

    fn english(&self) -> Vec<String> {
        let (period, dim, metric) = (self.period.1, self.dimension.1, self.metric.en);
        let filter = self.en_filter();
        let (head, head_glued, head_written) = match self.modifier {
            Modifier::Top(n) => (
                format!("top {n}"),
                format!("top{n}"),
                format!("top {}", EN_NUMBERS.get(n as usize).copied().unwrap_or("")),
            ),
            Modifier::Bottom(n) => (
                format!("bottom {n}"),
                format!("bottom{n}"),
                format!(
                    "bottom {}",
                    EN_NUMBERS.get(n as usize).copied().unwrap_or("")
                ),
            ),
            Modifier::Share => (
                "share of".to_owned(),
                "percentage of".to_owned(),
                "the share of".to_owned(),
            ),
            _ => Default::default(),
        };
        let canonical = join(&[&head, metric, dim, &filter, period]);
        let mut out = vec![canonical.clone()];
        out.push(format!("show me {canonical}"));
        out.push(format!("Could you please tell me the {canonical}?"));
        out.push(format!("I'd like to know {canonical}, thanks"));
        out.push(format!("give me a quick overview: {canonical}"));
        out.push(join(&[period, &head, metric, dim, &filter]));
        out.push(join(&[&head, metric, &filter, dim, period]));
        if !head.is_empty() {
            out.push(join(&[&head_glued, metric, dim, &filter, period]));
            if !head_written.ends_with(' ') {
                out.push(join(&[&head_written, metric, dim, &filter, period]));
            }
        }
        out.push(join(&[&head, self.metric.ko, dim, &filter, period]));
        if let Some(typo) = en_typo(metric) {
            out.push(join(&[&head, &typo, dim, &filter, period]));
        }
        out
    }
}

/// The non-empty parts, separated by spaces.
fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Two letters of the longest word swapped ("revenue" → "reveune").
fn en_typo(words: &str) -> Option<String> {
    let longest = words.split(' ').max_by_key(|w| w.len())?;
    if longest.len() < 6 {
        return None;
    }
    let mut chars: Vec<char> = longest.chars().collect();
    let n = chars.len();
    chars.swap(n - 3, n - 2);
    Some(words.replacen(longest, &chars.into_iter().collect::<String>(), 1))
}

/// One vowel of a two-syllable Korean word changed ("매출" → "매츨", "세션" → "세숀").
fn ko_typo(words: &str) -> Option<String> {
    let word = words.split(' ').next()?;
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 2 || !chars.iter().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(c)) {
        return None;
    }
    let last = chars[chars.len() - 1] as u32 - 0xAC00;
    let (initial, vowel, last_final) = (last / 588, (last % 588) / 28, last % 28);
    let vowel = (vowel + 1) % 21;
    let changed = char::from_u32(0xAC00 + initial * 588 + vowel * 28 + last_final)?;
    let mut out: String = chars[..chars.len() - 1].iter().collect();
    out.push(changed);
    Some(words.replacen(word, &out, 1))
}

/// The parts of a plan a paraphrase must keep.
fn key(plan: &Plan) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?} {} {:?}",
        plan.metrics,
        plan.dimensions,
        plan.filters,
        plan.range,
        plan.top,
        plan.percent,
        plan.having
    )
}

#[test]
fn paraphrases_agree_with_the_canonical_plan_or_defer() {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let (mut generated, mut agree, mut defer) = (0usize, 0usize, 0usize);
    let mut canonical_deferred = Vec::new();
    let mut wrong = Vec::new();
    let mut seen = 0usize;
    for metric in METRICS {
        for &dimension in DIMENSIONS {
            for &filter in FILTERS {
                for &period in PERIODS {
                    for &modifier in MODIFIERS {
                        let case = Case {
                            metric,
                            dimension,
                            filter,
                            period,
                            modifier,
                        };
                        if !case.valid() {
                            continue;
                        }
                        // Every combination is generated; a fixed seventh of them is read, so
                        // the suite stays quick in a debug build and still covers each value.
                        seen += 1;
                        if !seen.is_multiple_of(7) {
                            continue;
                        }
                        for questions in [case.korean(), case.english()] {
                            let expected = match reader.understand(&questions[0]) {
                                Understanding::Data { plan } => key(&plan),
                                other => {
                                    canonical_deferred.push(format!("{}: {other:?}", questions[0]));
                                    continue;
                                }
                            };
                            for q in &questions[1..] {
                                generated += 1;
                                match reader.understand(q) {
                                    Understanding::Data { plan } if key(&plan) == expected => {
                                        agree += 1
                                    }
                                    Understanding::Data { plan } => wrong.push(format!(
                                        "{q}\n    canonical {}: {expected}\n    paraphrase: {}",
                                        questions[0],
                                        key(&plan)
                                    )),
                                    _ => defer += 1,
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "metamorphic: {generated} paraphrases generated, {agree} agree, {defer} defer, {} \
         disagree; {} canonical questions deferred",
        wrong.len(),
        canonical_deferred.len()
    );
    assert!(
        wrong.is_empty(),
        "{} paraphrases changed the plan:\n{}",
        wrong.len(),
        wrong
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        canonical_deferred.is_empty(),
        "canonical questions the engine did not answer:\n{}",
        canonical_deferred
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(generated >= 5000, "only {generated} paraphrases generated");
    // Deferring everything would keep the invariant and read nothing.
    assert!(
        agree * 100 >= generated * 90,
        "only {agree} of {generated} paraphrases read ({defer} deferred)"
    );
}
