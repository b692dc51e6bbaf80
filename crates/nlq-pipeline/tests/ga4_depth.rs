//! Issue 21: session-scoped dimensions (session source/medium/campaign, default channel group,
//! landing page), page types and funnels, asked in Korean and English and answered on the
//! embedded engine over the test sample, checked against the same figures computed in Rust
//! from the raw events; and the channel rules' SQL against their Rust evaluation, row by row.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use nlq_core::{QueryRequest, Value, Warehouse};
use nlq_exec::embedded::{EmbeddedConfig, EmbeddedWarehouse};
use nlq_pipeline::{Pipeline, Status};
use nlq_semantic::SemanticModel;
use nlq_semantic::classify::Touch;
use nlq_validate::{DatasetFacts, Policy, StandardParams, Validator};

const EVENTS: &str = "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";

fn pipeline() -> Option<(Pipeline, Arc<EmbeddedWarehouse>)> {
    // scripts/test.sh generates the sample; without it there is nothing to read.
    let dir = std::env::var("NLQ_TEST_DATA_DIR").ok()?;
    let warehouse = Arc::new(EmbeddedWarehouse::open(&EmbeddedConfig::new(&dir)).unwrap());
    let facts = DatasetFacts {
        tables: warehouse.catalog().tables.clone(),
        today: warehouse.catalog().current_date.clone(),
    };
    let policy = Policy::for_dataset(nlq_core::ga4::PUBLIC_PROJECT, nlq_core::ga4::PUBLIC_DATASET);
    let validator = Validator::new(
        warehouse.clone(),
        policy,
        facts.clone(),
        Arc::new(StandardParams),
    )
    .unwrap();
    let model = Arc::new(SemanticModel::builtin().unwrap());
    Some((Pipeline::new(model, validator, &facts).unwrap(), warehouse))
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => panic!("not a string: {other:?}"),
    }
}

fn int(value: &Value) -> i64 {
    match value {
        Value::Int64(n) => *n,
        other => panic!("not an integer: {other:?}"),
    }
}

/// A page location's path, by hand: no scheme and host, no query string or fragment.
fn path_of(location: &str) -> String {
    let rest = location.split_once("://").map_or(location, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("").to_owned()
}

/// One session as computed by hand: its events in time order, the first non-null value of
/// each parameter, the first page_view's path.
#[derive(Default)]
struct Session {
    source: Option<String>,
    medium: Option<String>,
    campaign: Option<String>,
    landing: Option<String>,
    device: Option<String>,
}

/// Every session of December 2020 in the sample, from the raw events.
async fn sessions_by_hand(warehouse: &EmbeddedWarehouse) -> HashMap<String, Session> {
    let param = |key: &str| {
        format!(
            "(SELECT ep.value.string_value FROM UNNEST(event_params) AS ep WHERE ep.key = '{key}')"
        )
    };
    let sql = format!(
        "SELECT CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep \
         WHERE ep.key = 'ga_session_id') AS STRING)) AS session, event_timestamp, event_name, \
         {}, {}, {}, {}, device.category \
         FROM {EVENTS} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231' \
         ORDER BY session, event_timestamp",
        param("source"),
        param("medium"),
        param("campaign"),
        param("page_location"),
    );
    let rows = all_rows(warehouse, sql).await;
    let mut sessions: HashMap<String, Session> = HashMap::new();
    for row in &rows.rows {
        let Some(key) = text(&row[0]) else { continue };
        let session = sessions.entry(key).or_default();
        let first = |slot: &mut Option<String>, value: Option<String>| {
            if slot.is_none() {
                *slot = value;
            }
        };
        first(&mut session.source, text(&row[3]));
        first(&mut session.medium, text(&row[4]));
        first(&mut session.campaign, text(&row[5]));
        if text(&row[2]).as_deref() == Some("page_view") {
            first(&mut session.landing, text(&row[6]).map(|l| path_of(&l)));
        }
        first(&mut session.device, text(&row[7]));
    }
    sessions
}

/// The answer's rows as (first column, last integer column).
fn counts(answer: &nlq_pipeline::Answer) -> BTreeMap<String, i64> {
    answer
        .rows
        .iter()
        .map(|row| {
            (
                text(&row[0]).unwrap_or_else(|| "NULL".into()),
                int(row.last().unwrap()),
            )
        })
        .collect()
}

/// Every row of a query by hand (none cut off by a row limit).
async fn all_rows(warehouse: &EmbeddedWarehouse, sql: String) -> nlq_core::QueryResult {
    let mut request = QueryRequest::new(sql);
    request.max_rows = 1_000_000;
    let rows = warehouse.query(&request).await.unwrap();
    assert!(!rows.truncated);
    rows
}

async fn ask(pipeline: &Pipeline, question: &str) -> nlq_pipeline::Answer {
    let answer = pipeline.ask(question, &|_| {}).await;
    assert_eq!(
        answer.status,
        Status::Answered,
        "{question}: {:?} {:?}",
        answer.message,
        answer.sql
    );
    answer
}

#[tokio::test]
async fn session_dimensions_answer_as_computed_by_hand() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let model = SemanticModel::builtin().unwrap();
    let rules = model.channels.as_ref().unwrap();
    let sessions = sessions_by_hand(&warehouse).await;
    assert!(sessions.len() > 1_000, "{} sessions", sessions.len());

    let tally = |key: &dyn Fn(&Session) -> Option<String>| {
        let mut out: BTreeMap<String, i64> = BTreeMap::new();
        for session in sessions.values() {
            if let Some(k) = key(session) {
                *out.entry(k).or_default() += 1;
            }
        }
        out
    };
    let channel = |s: &Session| {
        rules
            .evaluate(Touch {
                source: Some(s.source.as_deref().unwrap_or("(direct)")),
                medium: Some(s.medium.as_deref().unwrap_or("(none)")),
                campaign: Some(s.campaign.as_deref().unwrap_or("(direct)")),
            })
            .to_owned()
    };

    let by_channel = tally(&|s| Some(channel(s)));
    for question in [
        "2020년 12월 채널별 세션 수",
        "sessions by default channel group in December 2020",
        "2020년 12월 기본 채널 그룹별 세션",
    ] {
        assert_eq!(
            counts(&ask(&pipeline, question).await),
            by_channel,
            "{question}"
        );
    }
    // The sample's traffic lands in the groups GA4 would give it.
    for group in [
        "Direct",
        "Organic Search",
        "Paid Search",
        "Paid Shopping",
        "Referral",
        "Organic Video",
        "Email",
    ] {
        assert!(by_channel.contains_key(group), "{group}: {by_channel:?}");
    }

    let by_source = tally(&|s| Some(s.source.clone().unwrap_or_else(|| "(direct)".into())));
    for question in [
        "2020년 12월 세션 소스별 세션 수",
        "sessions by session source in December 2020",
    ] {
        assert_eq!(
            counts(&ask(&pipeline, question).await),
            by_source,
            "{question}"
        );
    }
    let by_medium = tally(&|s| Some(s.medium.clone().unwrap_or_else(|| "(none)".into())));
    assert_eq!(
        counts(&ask(&pipeline, "2020년 12월 세션 매체별 세션 수").await),
        by_medium
    );

    let by_landing = tally(&|s| Some(s.landing.clone().unwrap_or_else(|| "(not set)".into())));
    let mut top: Vec<(String, i64)> = by_landing.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    for question in [
        "2020년 12월 랜딩 페이지별 세션 수 상위 5개",
        "top 5 landing pages by sessions in December 2020",
    ] {
        let answer = ask(&pipeline, question).await;
        let got: Vec<(String, i64)> = answer
            .rows
            .iter()
            .map(|r| (text(&r[0]).unwrap(), int(r.last().unwrap())))
            .collect();
        assert_eq!(got, top, "{question}");
    }

    // A session-scoped value as a filter, with an event-scoped breakdown: the mobile and
    // desktop sessions that came through Organic Search.
    let organic_by_device =
        tally(&|s| (channel(s) == "Organic Search").then(|| s.device.clone().unwrap_or_default()));
    for question in [
        "2020년 12월 자연 검색 세션 수 디바이스별",
        "sessions from Organic Search by device in December 2020",
    ] {
        assert_eq!(
            counts(&ask(&pipeline, question).await),
            organic_by_device,
            "{question}"
        );
    }
}

#[tokio::test]
async fn page_types_and_follow_ups_on_session_dimensions() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let model = SemanticModel::builtin().unwrap();
    let pages = model.page_types.as_ref().unwrap();
    // Page views by page type, by hand.
    let rows = all_rows(
        &warehouse,
        format!(
            "SELECT (SELECT ep.value.string_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'page_location') \
             FROM {EVENTS} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231' AND event_name = 'page_view'"
        ),
    )
    .await;
    let mut by_type: BTreeMap<String, i64> = BTreeMap::new();
    for row in &rows.rows {
        let path = text(&row[0]).map(|l| path_of(&l));
        *by_type
            .entry(pages.evaluate(path.as_deref()).to_owned())
            .or_default() += 1;
    }
    for question in [
        "2020년 12월 페이지 유형별 페이지뷰",
        "page views by page type in December 2020",
    ] {
        assert_eq!(
            counts(&ask(&pipeline, question).await),
            by_type,
            "{question}"
        );
    }
    for page_type in ["PDP", "PLP", "home", "cart", "checkout"] {
        assert!(by_type.contains_key(page_type), "{page_type}: {by_type:?}");
    }

    // A follow-up narrows a session-scoped breakdown, and a filter on a page type.
    let first = ask(&pipeline, "2020년 12월 채널별 사용자 수").await;
    let context = nlq_pipeline::Context::default().with_turns([nlq_pipeline::Turn {
        question: "2020년 12월 채널별 사용자 수".into(),
        plan: first.plan.clone(),
        sql: first.sql.clone(),
        digest: first.summary.clone(),
    }]);
    let narrowed = pipeline.ask_with("그럼 모바일만?", &context, &|_| {}).await;
    assert_eq!(narrowed.status, Status::Answered, "{:?}", narrowed.message);
    let sql = narrowed.sql.clone().unwrap();
    assert!(
        sql.contains("AS channel_group") && sql.contains("'mobile'"),
        "{sql}"
    );

    let answer = ask(
        &pipeline,
        "2020년 12월 상품 상세 페이지 페이지뷰 디바이스별",
    )
    .await;
    let total: i64 = answer.rows.iter().map(|r| int(r.last().unwrap())).sum();
    assert_eq!(total, by_type["PDP"]);
}

/// The channel CASE the compiler writes gives, on the embedded engine, the group the Rust
/// rules give: every case of the rules' table, in one query.
#[tokio::test]
async fn the_channel_sql_agrees_with_the_rules_row_by_row() {
    let Some((_, warehouse)) = pipeline() else {
        return;
    };
    let model = SemanticModel::builtin().unwrap();
    let rules = model.channels.as_ref().unwrap();
    let touches: Vec<(Option<&str>, Option<&str>, Option<&str>)> = vec![
        (Some("(direct)"), Some("(none)"), Some("(direct)")),
        (
            Some("google"),
            Some("cpc"),
            Some("Smart Shopping - Apparel"),
        ),
        (Some("google"), Some("CPC"), Some("Brand Search")),
        (Some("x"), Some("y"), Some("summer_cross-network")),
        (Some("facebook.com"), Some("paid_social"), None),
        (Some("youtube"), Some("cpv"), None),
        (Some("example.com"), Some("cpm"), None),
        (Some("example.com"), Some("paid"), None),
        (Some("ebay"), Some("referral"), None),
        (Some("t.co"), Some("referral"), None),
        (Some("youtube.com"), Some("referral"), None),
        (Some("Google"), Some("organic"), None),
        (Some("example.com"), Some("link"), None),
        (Some("newsletter"), Some("email"), None),
        (Some("x"), Some("affiliate"), None),
        (Some("x"), Some("audio"), None),
        (Some("sms"), Some("x"), None),
        (Some("x"), Some("web-push"), None),
        (Some("x"), Some("y"), None),
        (None, None, None),
    ];
    let literal =
        |v: Option<&str>| v.map_or("CAST(NULL AS STRING)".to_owned(), |v| format!("'{v}'"));
    let rows: Vec<String> = touches
        .iter()
        .enumerate()
        .map(|(i, (s, m, c))| {
            format!(
                "SELECT {i} AS n, {} AS s, {} AS m, {} AS c",
                literal(*s),
                literal(*m),
                literal(*c)
            )
        })
        .collect();
    let sql = format!(
        "SELECT n, {} AS channel_group FROM ({}) ORDER BY n",
        rules.sql("s", "m", "c"),
        rows.join(" UNION ALL ")
    );
    let result = warehouse.query(&QueryRequest::new(sql)).await.unwrap();
    assert_eq!(result.rows.len(), touches.len());
    for (row, (source, medium, campaign)) in result.rows.iter().zip(&touches) {
        let expected = rules.evaluate(Touch {
            source: *source,
            medium: *medium,
            campaign: *campaign,
        });
        assert_eq!(
            text(&row[1]).as_deref(),
            Some(expected),
            "{source:?} {medium:?} {campaign:?}"
        );
    }
}

/// A funnel by hand: per unit, the first time of each step at or after the step before
/// (closed), or of each step on its own (open); the units that reached each step.
fn funnel_by_hand(events: &[(String, String, i64)], steps: &[&str], open: bool) -> Vec<i64> {
    let mut by_unit: BTreeMap<&str, Vec<(&str, i64)>> = BTreeMap::new();
    for (unit, event, at) in events {
        by_unit.entry(unit).or_default().push((event, *at));
    }
    let mut reached = vec![0i64; steps.len()];
    for evs in by_unit.values() {
        let mut after = i64::MIN;
        for (k, step) in steps.iter().enumerate() {
            let floor = if open { i64::MIN } else { after };
            let first = evs
                .iter()
                .filter(|(e, at)| e == step && *at >= floor)
                .map(|(_, at)| *at)
                .min();
            match first {
                Some(at) => {
                    reached[k] += 1;
                    after = at;
                }
                None if open => {}
                None => break,
            }
        }
    }
    reached
}

#[tokio::test]
async fn funnels_answer_as_computed_by_hand() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let rows = all_rows(
        &warehouse,
        format!(
            "SELECT user_pseudo_id, CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep \
             WHERE ep.key = 'ga_session_id') AS STRING)), event_name, event_timestamp, device.category \
             FROM {EVENTS} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231' \
             AND event_name IN ('page_view', 'view_item', 'add_to_cart', 'begin_checkout', 'purchase')"
        ),
    )
    .await;
    let pick = |unit: usize, device: Option<&str>| -> Vec<(String, String, i64)> {
        rows.rows
            .iter()
            .filter(|r| device.is_none() || text(&r[4]).as_deref() == device)
            .filter_map(|r| Some((text(&r[unit])?, text(&r[2])?, int(&r[3]))))
            .collect()
    };
    let full = ["view_item", "add_to_cart", "begin_checkout", "purchase"];
    for (question, unit, device, steps, open) in [
        ("2020년 12월 구매 퍼널", 0, None, &full[..], false),
        (
            "purchase funnel of sessions in December 2020",
            1,
            None,
            &full[..],
            false,
        ),
        (
            "2020년 12월 모바일 세션 기준 구매 퍼널",
            1,
            Some("mobile"),
            &full[..],
            false,
        ),
        (
            "open funnel page_view, add_to_cart, purchase in December 2020",
            0,
            None,
            &["page_view", "add_to_cart", "purchase"][..],
            true,
        ),
    ] {
        let expected = funnel_by_hand(&pick(unit, device), steps, open);
        let answer = ask(&pipeline, question).await;
        let names: Vec<&str> = answer.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[..2], ["step", "event_name"], "{question}");
        let got: Vec<i64> = answer.rows.iter().map(|r| int(&r[2])).collect();
        assert_eq!(got, expected, "{question}");
        let events: Vec<String> = answer.rows.iter().map(|r| text(&r[1]).unwrap()).collect();
        assert_eq!(events, steps, "{question}");
        // Conversion from the step before and from the first.
        for (k, row) in answer.rows.iter().enumerate().skip(1) {
            let rate = |v: &Value| match v {
                Value::Float64(x) => *x,
                other => panic!("{other:?}"),
            };
            let step = expected[k] as f64 / expected[k - 1] as f64;
            let overall = expected[k] as f64 / expected[0] as f64;
            assert!((rate(&row[3]) - step).abs() < 1e-9, "{question}: {row:?}");
            assert!(
                (rate(&row[4]) - overall).abs() < 1e-9,
                "{question}: {row:?}"
            );
        }
        assert!(
            expected[0] > expected[steps.len() - 1] && expected[steps.len() - 1] > 0,
            "{expected:?}"
        );
        let summary = answer.summary.clone().unwrap();
        assert!(summary.contains(" → "), "{summary}");
    }
}

/// "월별 세션 수와 전월 대비 증감률": each bucket's change from the one before, per device
/// when broken down by device too, checked against the answer's own counts.
#[tokio::test]
async fn changes_from_the_previous_bucket_follow_the_counts() {
    let Some((pipeline, _)) = pipeline() else {
        return;
    };
    let float = |v: &Value| match v {
        Value::Float64(x) => Some(*x),
        Value::Null => None,
        other => panic!("{other:?}"),
    };
    for (question, keys) in [
        ("월별 세션 수와 전월 대비 증감률을 보여줘", 0),
        ("sessions week over week in December 2020", 0),
        ("디바이스별 월별 구매 건수 월간 증감률", 1),
    ] {
        let answer = ask(&pipeline, question).await;
        let names: Vec<&str> = answer.columns.iter().map(|c| c.name.as_str()).collect();
        assert!(
            names.last().unwrap().ends_with("_change"),
            "{question}: {names:?}"
        );
        let mut previous: HashMap<String, i64> = HashMap::new();
        let mut checked = 0;
        for row in &answer.rows {
            let group = if keys == 1 {
                text(&row[0]).unwrap_or_default()
            } else {
                String::new()
            };
            let count = int(&row[keys + 1]);
            let change = float(&row[keys + 2]);
            match previous.insert(group, count) {
                None => assert_eq!(change, None, "{question}: the first bucket has no change"),
                Some(before) if before != 0 => {
                    let expected = (count - before) as f64 / before as f64;
                    assert!(
                        (change.unwrap() - expected).abs() < 1e-9,
                        "{question}: {row:?}"
                    );
                    checked += 1;
                }
                Some(_) => assert_eq!(change, None, "{question}: {row:?}"),
            }
        }
        assert!(checked >= 2, "{question}: {checked} changes checked");
    }
}

/// December 2020's events by hand: (country, event, user, device, session).
async fn events_by_hand(
    warehouse: &EmbeddedWarehouse,
) -> Vec<(Option<String>, String, String, Option<String>, String)> {
    let sql = format!(
        "SELECT geo.country, event_name, user_pseudo_id, device.category, \
         CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep \
         WHERE ep.key = 'ga_session_id') AS STRING)) \
         FROM {EVENTS} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'"
    );
    let rows = all_rows(warehouse, sql).await;
    rows.rows
        .iter()
        .map(|r| {
            (
                text(&r[0]),
                text(&r[1]).unwrap(),
                text(&r[2]).unwrap(),
                text(&r[3]),
                text(&r[4]).unwrap_or_default(),
            )
        })
        .collect()
}

fn float(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value:?}"))
}

/// The top N keys by count (ties by key), as the answer orders them.
fn top_keys(counts: &HashMap<String, usize>, n: usize) -> Vec<String> {
    let mut ranked: Vec<(&String, &usize)> = counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    ranked.into_iter().take(n).map(|(k, _)| k.clone()).collect()
}

#[tokio::test]
async fn the_top_n_and_the_rest_add_up_to_the_whole() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let events = events_by_hand(&warehouse).await;

    // Page views add up: the top 5 countries, then every other page view in one row.
    let mut views: HashMap<String, usize> = HashMap::new();
    for (country, event, ..) in &events {
        if event == "page_view"
            && let Some(c) = country
        {
            *views.entry(c.clone()).or_default() += 1;
        }
    }
    let total = events.iter().filter(|e| e.1 == "page_view").count();
    let top = top_keys(&views, 5);
    let answer = ask(
        &pipeline,
        "2020년 12월 국가별 페이지뷰 비중 상위 5개, 나머지는 기타로",
    )
    .await;
    let mut expected: Vec<(String, i64)> =
        top.iter().map(|c| (c.clone(), views[c] as i64)).collect();
    let rest = total - top.iter().map(|c| views[c]).sum::<usize>();
    expected.push(("(other)".to_owned(), rest as i64));
    let got: Vec<(String, i64)> = answer
        .rows
        .iter()
        .map(|r| (text(&r[0]).unwrap(), int(&r[1])))
        .collect();
    assert_eq!(got, expected);
    let shares: f64 = answer.rows.iter().map(|r| float(&r[2])).sum();
    assert!((shares - 100.0).abs() < 1e-9, "{shares}");
    let summary = answer.summary.clone().unwrap_or_default();
    assert!(summary.contains("상위 5개가 page_views의"), "{summary}");

    // Users do not add up across events: each row's share is of all users, and the rest
    // counts each of its users once.
    let mut users: HashMap<String, std::collections::HashSet<&str>> = HashMap::new();
    for (_, event, user, ..) in &events {
        users.entry(event.clone()).or_default().insert(user);
    }
    let all: std::collections::HashSet<&str> = events.iter().map(|e| e.2.as_str()).collect();
    let sizes: HashMap<String, usize> = users.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    let top = top_keys(&sizes, 3);
    let rest: std::collections::HashSet<&str> = users
        .iter()
        .filter(|(k, _)| !top.contains(k))
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    let answer = ask(
        &pipeline,
        "2020년 12월 이벤트별 사용자 수 비중 상위 3개와 기타",
    )
    .await;
    assert_eq!(answer.rows.len(), 4);
    for (row, key) in answer
        .rows
        .iter()
        .zip(top.iter().chain(["(other)".to_owned()].iter()))
    {
        let count = if key == "(other)" {
            rest.len()
        } else {
            sizes[key]
        };
        assert_eq!(text(&row[0]).as_deref(), Some(key.as_str()));
        assert_eq!(int(&row[1]), count as i64, "{key}");
        let share = 100.0 * count as f64 / all.len() as f64;
        assert!(
            (float(&row[2]) - share).abs() < 1e-9,
            "{key}: {row:?} vs {share}"
        );
    }
}

#[tokio::test]
async fn two_segments_side_by_side_carry_their_difference() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let events = events_by_hand(&warehouse).await;
    let sessions = |device: &str| {
        events
            .iter()
            .filter(|e| e.3.as_deref() == Some(device))
            .map(|e| e.4.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len() as i64
    };
    let (mobile, desktop) = (sessions("mobile"), sessions("desktop"));
    for question in [
        "December 2020 sessions: mobile vs desktop",
        "2020년 12월 모바일 대비 데스크톱 세션 수",
    ] {
        let answer = ask(&pipeline, question).await;
        let got: Vec<(String, i64, i64)> = answer
            .rows
            .iter()
            .map(|r| (text(&r[0]).unwrap(), int(&r[1]), int(&r[2])))
            .collect();
        assert_eq!(
            got,
            vec![
                ("mobile".to_owned(), mobile, 0),
                ("desktop".to_owned(), desktop, desktop - mobile)
            ],
            "{question}"
        );
        let diff = format!("{:+}", desktop - mobile);
        let summary = answer.summary.clone().unwrap_or_default();
        assert!(summary.contains(&diff), "{summary}");
    }
}

/// Approx mode writes GA4's HyperLogLog++ counts; the embedded engine counts them exactly, so
/// the answer equals the exact one and says which it used.
#[tokio::test]
async fn approx_counts_say_so_and_run_on_the_embedded_engine() {
    let Some((pipeline, _)) = pipeline() else {
        return;
    };
    let exact = ask(&pipeline, "2020년 12월 디바이스별 사용자 수와 세션 수").await;
    let approx = ask(
        &pipeline,
        "GA4 화면 기준 2020년 12월 디바이스별 사용자 수와 세션 수",
    )
    .await;
    let sql = approx.sql.clone().unwrap_or_default();
    assert!(sql.contains("HLL_COUNT.INIT(user_pseudo_id, 14)"), "{sql}");
    assert_eq!(approx.rows, exact.rows);
    let notes = &approx.plan.as_ref().unwrap().notes;
    assert!(
        notes.iter().any(|n| n.contains("HyperLogLog++")),
        "{notes:?}"
    );
    // A deployment may count so for every question.
    let Some((pipeline, _)) = self::pipeline() else {
        return;
    };
    let every = ask(
        &pipeline.with_approx(true),
        "2020년 12월 디바이스별 사용자 수와 세션 수",
    )
    .await;
    assert!(every.sql.unwrap_or_default().contains("HLL_COUNT"));
    assert_eq!(every.rows, exact.rows);
}

/// A one-row total also reads the period before (cheap here), but never beside "no data yet".
#[tokio::test]
async fn totals_read_the_period_before_unless_there_is_no_data() {
    let Some((pipeline, _)) = pipeline() else {
        return;
    };
    let answer = ask(&pipeline, "users in December 2020").await;
    let summary = answer.summary.unwrap_or_default();
    assert!(
        summary.contains("vs the period before (2020-11-01 .. 2020-11-30): users +25.8% (927)"),
        "{summary}"
    );
    let answer = ask(&pipeline, "users in March 2021").await;
    let summary = answer.summary.unwrap_or_default();
    assert!(!summary.contains("period before"), "{summary}");
}

/// The Monday a day's week starts on, as the model's weeks do.
fn monday(day: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    day - chrono::Days::new(u64::from(day.weekday().num_days_from_monday()))
}

#[tokio::test]
async fn cohorts_answer_as_computed_by_hand() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let sql = format!(
        "SELECT user_pseudo_id, event_date, event_name, device.category FROM {EVENTS} \
         WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'"
    );
    let rows = all_rows(&warehouse, sql).await;
    for (question, device) in [
        ("2020년 12월 주별 코호트 리텐션", None),
        (
            "cohort analysis of desktop users in December 2020",
            Some("desktop"),
        ),
    ] {
        // Each user's cohort: the week of their first first_visit (on the device asked).
        let mut cohort: HashMap<String, chrono::NaiveDate> = HashMap::new();
        let mut active: HashMap<String, std::collections::BTreeSet<chrono::NaiveDate>> =
            HashMap::new();
        for row in &rows.rows {
            let user = text(&row[0]).unwrap();
            let day = chrono::NaiveDate::parse_from_str(&text(&row[1]).unwrap(), "%Y%m%d").unwrap();
            let week = monday(day);
            active.entry(user.clone()).or_default().insert(week);
            let entered = text(&row[2]).as_deref() == Some("first_visit")
                && device.is_none_or(|d| text(&row[3]).as_deref() == Some(d));
            if entered {
                let at = cohort.entry(user).or_insert(week);
                *at = (*at).min(week);
            }
        }
        // (cohort, period) → users, and each cohort's size.
        let mut expected: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
        let mut sizes: HashMap<chrono::NaiveDate, i64> = HashMap::new();
        for start in cohort.values() {
            *sizes.entry(*start).or_default() += 1;
        }
        for (user, start) in &cohort {
            for week in active[user].iter().filter(|w| *w >= start) {
                let k = (*week - *start).num_days() / 7;
                expected
                    .entry((start.to_string(), k))
                    .or_insert((sizes[start], 0))
                    .1 += 1;
            }
        }
        let answer = ask(&pipeline, question).await;
        let got: BTreeMap<(String, i64), (i64, i64)> = answer
            .rows
            .iter()
            .map(|r| {
                let rate = float(&r[4]);
                assert!((rate - int(&r[3]) as f64 / int(&r[2]) as f64).abs() < 1e-9);
                ((r[0].to_string(), int(&r[1])), (int(&r[2]), int(&r[3])))
            })
            .collect();
        assert_eq!(got, expected, "{question}");
        // Every cohort is all there in its own week.
        assert!(
            got.iter()
                .filter(|((_, k), _)| *k == 0)
                .all(|(_, (n, u))| n == u)
        );
        assert!(got.len() > 5, "{question}: {got:?}");
    }
}

#[tokio::test]
async fn items_bought_together_answer_as_computed_by_hand() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let sql = format!(
        "SELECT DISTINCT ecommerce.transaction_id, item.item_name FROM {EVENTS} \
         CROSS JOIN UNNEST(items) AS item \
         WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131' AND event_name = 'purchase'"
    );
    let rows = all_rows(&warehouse, sql).await;
    let mut orders: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for row in &rows.rows {
        if let (Some(t), Some(i)) = (text(&row[0]), text(&row[1]))
            && t != "(not set)"
        {
            orders.entry(t).or_default().insert(i);
        }
    }
    let anchor = "YouTube Decal";
    let with: Vec<&std::collections::BTreeSet<String>> = orders
        .values()
        .filter(|items| items.contains(anchor))
        .collect();
    let mut companions: HashMap<String, usize> = HashMap::new();
    for items in &with {
        for item in items.iter().filter(|i| *i != anchor) {
            *companions.entry(item.clone()).or_default() += 1;
        }
    }
    let top = top_keys(&companions, 3);
    assert!(
        !top.is_empty(),
        "the sample has no purchase of {anchor} with another item"
    );
    let answer = ask(&pipeline, "YouTube Decal이랑 같이 구매된 상품 상위 3개").await;
    let got: Vec<(String, i64)> = answer
        .rows
        .iter()
        .map(|r| (text(&r[0]).unwrap(), int(&r[1])))
        .collect();
    let expected: Vec<(String, i64)> = top
        .iter()
        .map(|i| (i.clone(), companions[i] as i64))
        .collect();
    assert_eq!(got, expected);
    for row in &answer.rows {
        let share = int(&row[1]) as f64 / with.len() as f64;
        assert!((float(&row[2]) - share).abs() < 1e-9, "{row:?}");
    }

    // Pairs: every two items of one purchase, counted once per purchase.
    let mut pairs: HashMap<String, usize> = HashMap::new();
    for items in orders.values() {
        let items: Vec<&String> = items.iter().collect();
        for (i, a) in items.iter().enumerate() {
            for b in &items[i + 1..] {
                *pairs.entry(format!("{a} + {b}")).or_default() += 1;
            }
        }
    }
    let answer = ask(&pipeline, "함께 구매된 상품 조합 상위 5개").await;
    let got: Vec<(String, i64)> = answer
        .rows
        .iter()
        .map(|r| {
            (
                format!("{} + {}", text(&r[0]).unwrap(), text(&r[1]).unwrap()),
                int(&r[2]),
            )
        })
        .collect();
    let expected: Vec<(String, i64)> = top_keys(&pairs, 5)
        .into_iter()
        .map(|p| {
            let n = pairs[&p] as i64;
            (p, n)
        })
        .collect();
    assert_eq!(got, expected);
}

/// Purchasers are users with a purchase in the range, over all of their events: their sessions
/// beside everyone else's, as counted by hand.
#[tokio::test]
async fn purchasers_and_non_purchasers_answer_as_computed_by_hand() {
    let Some((pipeline, warehouse)) = pipeline() else {
        return;
    };
    let events = events_by_hand(&warehouse).await;
    let buyers: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.1 == "purchase")
        .map(|e| e.2.as_str())
        .collect();
    let sessions = |bought: bool| {
        events
            .iter()
            .filter(|e| buyers.contains(e.2.as_str()) == bought)
            .map(|e| e.4.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len() as i64
    };
    let (yes, no) = (sessions(true), sessions(false));
    assert!(yes > 0 && no > 0);
    let answer = ask(&pipeline, "2020년 12월 구매자 대비 비구매자 세션 수").await;
    let got: Vec<(String, i64, i64)> = answer
        .rows
        .iter()
        .map(|r| (text(&r[0]).unwrap(), int(&r[1]), int(&r[2])))
        .collect();
    assert_eq!(
        got,
        vec![
            ("purchaser".to_owned(), yes, 0),
            ("non-purchaser".to_owned(), no, no - yes),
        ]
    );
    // A filter on the segment is a filter on the users, whatever events the question counts.
    let answer = ask(&pipeline, "2020년 12월 비구매자 사용자 수").await;
    let all: std::collections::HashSet<&str> = events.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(int(&answer.rows[0][0]), (all.len() - buyers.len()) as i64);
}
