//! Model entries proposed from the parameter catalog, so that a property's own events,
//! parameters and user properties are words the semantic engine reads without an LLM:
//!
//! - each event: a count (`sign_up 수`, `sign_up events`) and its users (`sign_up 한 사용자 수`,
//!   `users who did sign_up`);
//! - each string parameter with few values, and each int parameter with very few: a dimension
//!   (`plan_type별`), its most frequent values matched as written;
//! - each numeric parameter: a total and an average (`total read_time_sec`, `평균 score`);
//! - each user property: a dimension.
//!
//! Words come from the key itself (as written and with `_` as spaces) and a small bilingual
//! dictionary of common words. Keys GA4 collects on its own (ga_session_id, page_location ...)
//! are left to the model file, which defines them properly. Only names GA4 allows (a letter,
//! then letters, digits and `_`, at most 40) are proposed, so a key never needs quoting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::document::{KeyStats, ParamCatalog};

/// A string parameter with more distinct values than this is not offered as a dimension.
pub const MAX_STRING_VALUES: u64 = 500;
/// An int parameter with at most this many distinct values is offered as a dimension too.
pub const MAX_INT_VALUES: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Metric,
    Dimension,
}

/// One proposed entry of the semantic model, in the model's own terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub kind: EntryKind,
    /// snake_case; becomes the column name.
    pub name: String,
    /// A BigQuery expression over one `events_*` row: an aggregate for a metric.
    pub sql: String,
    /// The model's format name of a metric (`count`, `decimal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    pub ko: Vec<String>,
    pub en: Vec<String>,
    /// A dimension's most frequent values, matched as written in a question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// The only events a metric reads (a breakdown of it leaves the others out), or that carry
    /// a dimension's parameter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// What it was made from: `event sign_up`, `event parameter plan_type (string)`.
    pub from: String,
}

/// Parameters GA4 sets by itself: the model file names the ones worth asking about.
const AUTOMATIC_PARAMS: &[&str] = &[
    "batch_ordering_id",
    "batch_page_id",
    "campaign",
    "clean_event",
    "debug_mode",
    "engaged_session_event",
    "engagement_time_msec",
    "entrances",
    "firebase_conversion",
    "firebase_event_origin",
    "firebase_screen",
    "firebase_screen_class",
    "firebase_screen_id",
    "firebase_previous_class",
    "firebase_previous_id",
    "firebase_previous_screen",
    "ga_session_id",
    "ga_session_number",
    "gclid",
    "ignore_referrer",
    "link_classes",
    "link_domain",
    "link_id",
    "link_url",
    "medium",
    "outbound",
    "page_location",
    "page_referrer",
    "page_title",
    "percent_scrolled",
    "session_engaged",
    "source",
    "term",
    "content",
    "engaged_session_count",
    "synthetic_bundle",
    "update_with_analytics",
];

/// Properties GA4 sets by itself.
const AUTOMATIC_USER_PROPERTIES: &[&str] = &[
    "first_open_time",
    "ga_session_id",
    "ga_session_number",
    "firebase_exp",
];

/// Common words of event and parameter names, in Korean. A key whose every word is here gets
/// the Korean words too (`video_title` -> `동영상 제목`).
const KOREAN_WORDS: &[(&str, &str)] = &[
    ("app", "앱"),
    ("article", "기사"),
    ("category", "카테고리"),
    ("character", "캐릭터"),
    ("click", "클릭"),
    ("complete", "완료"),
    ("content", "콘텐츠"),
    ("course", "코스"),
    ("download", "다운로드"),
    ("duration", "시간"),
    ("file", "파일"),
    ("form", "폼"),
    ("genre", "장르"),
    ("id", "ID"),
    ("language", "언어"),
    ("lead", "리드"),
    ("lesson", "레슨"),
    ("level", "레벨"),
    ("login", "로그인"),
    ("member", "회원"),
    ("membership", "멤버십"),
    ("method", "방법"),
    ("name", "이름"),
    ("percent", "퍼센트"),
    ("plan", "플랜"),
    ("play", "재생"),
    ("preferred", "선호"),
    ("price", "가격"),
    ("progress", "진행"),
    ("quiz", "퀴즈"),
    ("rating", "평점"),
    ("read", "읽기"),
    ("score", "점수"),
    ("search", "검색"),
    ("sec", "초"),
    ("share", "공유"),
    ("start", "시작"),
    ("status", "상태"),
    ("subscribe", "구독"),
    ("subscription", "구독"),
    ("tier", "등급"),
    ("time", "시간"),
    ("title", "제목"),
    ("tutorial", "튜토리얼"),
    ("type", "유형"),
    ("user", "사용자"),
    ("video", "동영상"),
    ("view", "조회"),
];

/// Whole names with a Korean name of their own.
const KOREAN_PHRASES: &[(&str, &[&str])] = &[
    ("generate_lead", &["리드 생성"]),
    ("level_up", &["레벨업", "레벨 업"]),
    ("logged_in", &["로그인 여부"]),
    ("login", &["로그인"]),
    ("sign_up", &["회원가입", "가입"]),
    ("subscribe", &["구독"]),
    ("tutorial_begin", &["튜토리얼 시작"]),
    ("tutorial_complete", &["튜토리얼 완료"]),
];

/// The people who do an event, where Korean names them with one word.
const KOREAN_PEOPLE: &[(&str, &[&str])] = &[
    ("purchase", &["구매자"]),
    ("sign_up", &["가입자", "신규 가입자"]),
    ("subscribe", &["구독자"]),
];

/// What the catalog's keys say, merged over the events that carry them.
struct Key {
    stats: KeyStats,
    events: Vec<String>,
}

/// The entries the catalog suggests, in a stable order (events, then parameters, then user
/// properties, each by name).
pub fn propose(catalog: &ParamCatalog) -> Vec<Proposal> {
    let mut out = Vec::new();
    let mut taken: Vec<String> = Vec::new();
    let mut name = |wanted: String, fallback: String| -> String {
        let chosen = if taken.contains(&wanted) {
            fallback
        } else {
            wanted
        };
        taken.push(chosen.clone());
        chosen
    };
    for event in catalog.events.keys().filter(|e| is_ga4_name(e)) {
        let lower = event.to_ascii_lowercase();
        let spaced = lower.replace('_', " ");
        let korean = korean(&lower);
        let mut ko = vec![
            format!("{event} 수"),
            format!("{event} 횟수"),
            format!("{event} 이벤트 수"),
            format!("{event} 건수"),
        ];
        ko.extend(
            korean
                .iter()
                .flat_map(|k| [format!("{k} 수"), format!("{k} 횟수")]),
        );
        let mut en = variants(
            &lower,
            &spaced,
            &["{} events", "number of {}", "{} count", "count of {}"],
        );
        // "sign ups", "how many level ups": the name as a plural noun.
        if spaced.contains(' ') || !spaced.ends_with('s') {
            let plural = format!("{spaced}s");
            en.extend([plural.clone(), format!("number of {plural}")]);
        }
        out.push(Proposal {
            kind: EntryKind::Metric,
            name: name(format!("{lower}_count"), format!("event_{lower}_count")),
            sql: format!("COUNTIF(event_name = '{event}')"),
            format: Some("count".into()),
            ko: dedup(ko),
            en,
            values: vec![],
            events: vec![event.clone()],
            from: format!("event {event}"),
        });
        let mut ko = vec![
            format!("{event} 한 사용자 수"),
            format!("{event} 한 사용자"),
            format!("{event} 사용자 수"),
            format!("{event} 사용자"),
            format!("{event} 유저 수"),
        ];
        ko.extend(
            korean
                .iter()
                .flat_map(|k| [format!("{k} 한 사용자 수"), format!("{k} 사용자 수")]),
        );
        // The people who do it, where Korean has a word for them ("가입자 수").
        if let Some((_, people)) = KOREAN_PEOPLE.iter().find(|(k, _)| *k == lower) {
            ko.extend(
                people
                    .iter()
                    .flat_map(|p| [format!("{p} 수"), (*p).to_owned()]),
            );
        }
        let en = variants(
            &lower,
            &spaced,
            &[
                "users who did {}",
                "{} users",
                "users with {}",
                "users who {}",
            ],
        );
        out.push(Proposal {
            kind: EntryKind::Metric,
            name: name(format!("{lower}_users"), format!("event_{lower}_users")),
            sql: format!("COUNT(DISTINCT IF(event_name = '{event}', user_pseudo_id, NULL))"),
            format: Some("count".into()),
            ko: dedup(ko),
            en,
            values: vec![],
            events: vec![event.clone()],
            from: format!("users of event {event}"),
        });
    }

    let params = merged(catalog, |e| &e.event_params, AUTOMATIC_PARAMS);
    for (key, param) in &params {
        let lower = key.to_ascii_lowercase();
        let field = param.stats.main_type();
        let read = |field: &str| {
            format!(
                "(SELECT ep.value.{field} FROM UNNEST(event_params) AS ep WHERE ep.key = '{key}')"
            )
        };
        let carried = param.events.join(", ");
        match field {
            Some("string_value") if param.stats.distinct <= MAX_STRING_VALUES => {
                out.push(dimension(
                    name(lower.clone(), format!("param_{lower}")),
                    read("string_value"),
                    &lower,
                    &param.stats,
                    param.events.clone(),
                    format!("event parameter {key} (string) of {carried}"),
                ));
            }
            Some(field @ ("int_value" | "double_value" | "float_value")) => {
                if field == "int_value" && param.stats.distinct <= MAX_INT_VALUES {
                    let mut level = dimension(
                        name(lower.clone(), format!("param_{lower}")),
                        // INT64 as stored: an answer's column is the number the export holds.
                        read(field),
                        &lower,
                        &param.stats,
                        param.events.clone(),
                        format!("event parameter {key} (int, few values) of {carried}"),
                    );
                    // Numbers as words would take "top 3" and "3 days" from the question (and
                    // the compiler writes filter values as strings).
                    level.values.clear();
                    out.push(level);
                }
                let spaced = lower.replace('_', " ");
                let korean = korean(&lower);
                let from = format!("event parameter {key} ({field}) of {carried}");
                let mut ko = vec![
                    format!("{key} 합계"),
                    format!("총 {key}"),
                    format!("{key} 총합"),
                    format!("{key} 합"),
                ];
                ko.extend(
                    korean
                        .iter()
                        .flat_map(|k| [format!("{k} 합계"), format!("총 {k}")]),
                );
                out.push(Proposal {
                    kind: EntryKind::Metric,
                    name: name(format!("total_{lower}"), format!("param_total_{lower}")),
                    sql: format!("SUM({})", read(field)),
                    format: Some("decimal".into()),
                    ko: dedup(ko),
                    en: variants(&lower, &spaced, &["total {}", "sum of {}", "{} total"]),
                    values: vec![],
                    events: param.events.clone(),
                    from: from.clone(),
                });
                let mut ko = vec![format!("평균 {key}"), format!("{key} 평균")];
                ko.extend(
                    korean
                        .iter()
                        .flat_map(|k| [format!("평균 {k}"), format!("{k} 평균")]),
                );
                out.push(Proposal {
                    kind: EntryKind::Metric,
                    name: name(format!("avg_{lower}"), format!("param_avg_{lower}")),
                    sql: format!("AVG({})", read(field)),
                    format: Some("decimal".into()),
                    ko: dedup(ko),
                    en: variants(
                        &lower,
                        &spaced,
                        &["average {}", "avg {}", "mean {}", "{} average"],
                    ),
                    values: vec![],
                    events: param.events.clone(),
                    from,
                });
            }
            _ => {}
        }
    }

    let properties = merged(catalog, |e| &e.user_properties, AUTOMATIC_USER_PROPERTIES);
    for (key, property) in &properties {
        let lower = key.to_ascii_lowercase();
        let sql = match property.stats.main_type() {
            Some("string_value") if property.stats.distinct <= MAX_STRING_VALUES => format!(
                "(SELECT up.value.string_value FROM UNNEST(user_properties) AS up WHERE up.key = '{key}')"
            ),
            Some("int_value") if property.stats.distinct <= MAX_INT_VALUES => format!(
                "(SELECT up.value.int_value FROM UNNEST(user_properties) AS up WHERE up.key = '{key}')"
            ),
            _ => continue,
        };
        out.push(dimension(
            name(lower.clone(), format!("user_{lower}")),
            sql,
            &lower,
            &property.stats,
            // A user property rides on every event of its user.
            vec![],
            format!("user property {key}"),
        ));
    }
    out
}

fn dimension(
    name: String,
    sql: String,
    key: &str,
    stats: &KeyStats,
    events: Vec<String>,
    from: String,
) -> Proposal {
    let spaced = key.replace('_', " ");
    // "별" marks a breakdown in Korean ("plan_type별"); the model's dimensions spell it out.
    let mut ko = vec![format!("{key}별"), key.to_owned(), format!("{spaced}별")];
    ko.extend(korean(key).into_iter().flat_map(|k| [format!("{k}별"), k]));
    Proposal {
        kind: EntryKind::Dimension,
        name,
        sql,
        format: None,
        ko: dedup(ko),
        en: variants(key, &spaced, &["{}"]),
        values: stats.top_values.iter().map(|(v, _)| v.clone()).collect(),
        events,
        from,
    }
}

/// Each pattern filled with the key as written and, when it differs, with spaces.
fn variants(key: &str, spaced: &str, patterns: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for form in [key, spaced] {
        for pattern in patterns {
            out.push(pattern.replace("{}", form));
        }
    }
    dedup(out)
}

fn dedup(mut words: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
    words
}

/// The Korean names of a key: its own phrase, or its words translated when all of them are.
fn korean(key: &str) -> Vec<String> {
    if let Some((_, phrases)) = KOREAN_PHRASES.iter().find(|(k, _)| *k == key) {
        return phrases.iter().map(|p| (*p).to_owned()).collect();
    }
    let words: Option<Vec<&str>> = key
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| KOREAN_WORDS.iter().find(|(e, _)| *e == w).map(|(_, k)| *k))
        .collect();
    match words {
        Some(words) if !words.is_empty() => vec![words.join(" ")],
        _ => vec![],
    }
}

/// GA4's rule for event, parameter and property names.
fn is_ga4_name(name: &str) -> bool {
    name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The keys of one kind (event parameters or user properties) over all events: counts summed,
/// the largest distinct count, the most frequent values merged.
fn merged(
    catalog: &ParamCatalog,
    keys: impl Fn(&crate::document::EventCatalog) -> &Vec<KeyStats>,
    automatic: &[&str],
) -> BTreeMap<String, Key> {
    let mut out: BTreeMap<String, Key> = BTreeMap::new();
    for (event, stats) in &catalog.events {
        for key in keys(stats) {
            if !is_ga4_name(&key.key) || automatic.contains(&key.key.as_str()) {
                continue;
            }
            match out.get_mut(&key.key) {
                None => {
                    out.insert(
                        key.key.clone(),
                        Key {
                            stats: key.clone(),
                            events: vec![event.clone()],
                        },
                    );
                }
                Some(seen) => {
                    let s = &mut seen.stats;
                    s.rows += key.rows;
                    s.string_value += key.string_value;
                    s.int_value += key.int_value;
                    s.float_value += key.float_value;
                    s.double_value += key.double_value;
                    s.distinct = s.distinct.max(key.distinct);
                    let mut counts: BTreeMap<String, u64> = s.top_values.drain(..).collect();
                    for (value, n) in &key.top_values {
                        *counts.entry(value.clone()).or_default() += n;
                    }
                    let mut top: Vec<(String, u64)> = counts.into_iter().collect();
                    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    top.truncate(10);
                    s.top_values = top;
                    seen.events.push(event.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::EventCatalog;

    fn catalog() -> ParamCatalog {
        let mut events = BTreeMap::new();
        events.insert(
            "subscribe".to_owned(),
            EventCatalog {
                count: 40,
                event_params: vec![
                    KeyStats::sample("plan_type", 40, 0, 0, 3, &["basic", "premium", "family"]),
                    KeyStats::sample("price", 0, 0, 40, 12, &[]),
                    KeyStats::sample("ga_session_id", 0, 40, 0, 40, &[]),
                ],
                user_properties: vec![KeyStats::sample(
                    "membership_tier",
                    40,
                    0,
                    0,
                    3,
                    &["free", "plus"],
                )],
                items: None,
            },
        );
        events.insert(
            "level_up".to_owned(),
            EventCatalog {
                count: 90,
                event_params: vec![KeyStats::sample("level", 0, 90, 0, 10, &["2", "3"])],
                user_properties: vec![KeyStats::sample("membership_tier", 90, 0, 0, 3, &["pro"])],
                items: None,
            },
        );
        events.insert(
            "bad name!".to_owned(),
            EventCatalog {
                count: 1,
                event_params: vec![],
                user_properties: vec![],
                items: None,
            },
        );
        ParamCatalog {
            sampled_tables: vec![],
            bytes_processed: 0,
            events,
            columns: BTreeMap::new(),
        }
    }

    #[test]
    fn events_parameters_and_properties_become_entries() {
        let proposals = propose(&catalog());
        let names: Vec<&str> = proposals.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "level_up_count",
                "level_up_users",
                "subscribe_count",
                "subscribe_users",
                "level",
                "total_level",
                "avg_level",
                "plan_type",
                "total_price",
                "avg_price",
                "membership_tier",
            ]
        );
        let by = |name: &str| proposals.iter().find(|p| p.name == name).unwrap();
        let count = by("level_up_count");
        assert_eq!(count.sql, "COUNTIF(event_name = 'level_up')");
        assert!(count.ko.contains(&"레벨업 수".to_owned()), "{count:?}");
        assert!(
            count.en.contains(&"level up events".to_owned()),
            "{count:?}"
        );
        let users = by("subscribe_users");
        assert!(
            users.ko.contains(&"구독 한 사용자 수".to_owned()),
            "{users:?}"
        );
        assert!(users.en.contains(&"users who did subscribe".to_owned()));
        let plan = by("plan_type");
        assert_eq!(plan.kind, EntryKind::Dimension);
        assert_eq!(plan.values, ["basic", "premium", "family"]);
        assert!(plan.ko.contains(&"플랜 유형".to_owned()), "{plan:?}");
        assert!(plan.sql.contains("ep.value.string_value") && plan.sql.contains("'plan_type'"));
        assert!(by("level").sql.starts_with("(SELECT ep.value.int_value"));
        assert!(by("level").values.is_empty());
        assert!(
            by("avg_price")
                .sql
                .starts_with("AVG((SELECT ep.value.double_value")
        );
        assert_eq!(by("avg_price").events, ["subscribe"]);
        assert_eq!(count.events, ["level_up"]);
        let tier = by("membership_tier");
        assert!(tier.sql.contains("UNNEST(user_properties)"));
        assert_eq!(tier.values[0], "free", "merged over both events: {tier:?}");
        assert!(tier.from.starts_with("user property"));
    }
}
