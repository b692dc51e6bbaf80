//! Retrieval of the 5 most similar golden queries among 1,000, with the semantic model's words
//! as the glossary: what every LLM-path question pays before its prompt is built. Goal: p50
//! under 2 ms.
//!
//! The 1,000 examples are generated deterministically: 10 metrics × 10 dimensions × 5 time
//! words, once in Korean and once in English, two word orders each. The questions timed are
//! paraphrases (particles, spacing, synonyms, plurals) and questions only the LLM path
//! answers.
//!
//! Run: `cargo bench -p nlq-llm --bench retrieval`. Prints the build time and p50 / p95 / p99 /
//! max of `top_k(question, 5)` over all questions, after a warm-up. Under
//! `cargo test --all-targets` (no `--bench` argument) each question runs a few times only, to
//! prove the benchmark still works.

// A benchmark: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use nlq_llm::{ExampleIndex, GlossaryEntry, LexicalIndex};
use nlq_semantic::SemanticModel;
use nlq_semantic::model::Golden;

const T: &str = "bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*";

/// (column, Korean, English, SQL)
const METRICS: &[(&str, &str, &str, &str)] = &[
    (
        "users",
        "사용자 수",
        "users",
        "COUNT(DISTINCT user_pseudo_id)",
    ),
    (
        "sessions",
        "세션 수",
        "sessions",
        "COUNT(DISTINCT session_key)",
    ),
    (
        "page_views",
        "페이지뷰",
        "page views",
        "COUNTIF(event_name = 'page_view')",
    ),
    (
        "revenue",
        "매출",
        "revenue",
        "SUM(ecommerce.purchase_revenue)",
    ),
    (
        "purchases",
        "구매 건수",
        "purchases",
        "COUNT(DISTINCT ecommerce.transaction_id)",
    ),
    (
        "new_users",
        "신규 사용자",
        "new users",
        "COUNT(DISTINCT IF(event_name = 'first_visit', user_pseudo_id, NULL))",
    ),
    (
        "engagement_rate",
        "참여율",
        "engagement rate",
        "SAFE_DIVIDE(engaged, sessions)",
    ),
    (
        "add_to_carts",
        "장바구니 담기",
        "add to carts",
        "COUNTIF(event_name = 'add_to_cart')",
    ),
    (
        "purchasers",
        "구매자 수",
        "purchasers",
        "COUNT(DISTINCT IF(event_name = 'purchase', user_pseudo_id, NULL))",
    ),
    (
        "avg_order_value",
        "객단가",
        "average order value",
        "SAFE_DIVIDE(revenue, purchases)",
    ),
];

/// (column, Korean, English, SQL)
const DIMENSIONS: &[(&str, &str, &str, &str)] = &[
    (
        "device_category",
        "디바이스별",
        "by device category",
        "device.category",
    ),
    ("country", "국가별", "by country", "geo.country"),
    ("date", "일별", "by day", "PARSE_DATE('%Y%m%d', event_date)"),
    (
        "source",
        "유입 소스별",
        "by traffic source",
        "traffic_source.source",
    ),
    (
        "browser",
        "브라우저별",
        "by browser",
        "device.web_info.browser",
    ),
    (
        "operating_system",
        "운영체제별",
        "by operating system",
        "device.operating_system",
    ),
    ("city", "도시별", "by city", "geo.city"),
    (
        "month",
        "월별",
        "by month",
        "FORMAT_DATE('%Y-%m', PARSE_DATE('%Y%m%d', event_date))",
    ),
    ("event_name", "이벤트별", "by event name", "event_name"),
    ("page_title", "페이지별", "by page title", "page_title"),
];

/// (Korean, English, first suffix, last suffix)
const TIMES: &[(&str, &str, &str, &str)] = &[
    ("지난 7일", "in the last 7 days", "20210125", "20210131"),
    ("지난달", "last month", "20210101", "20210131"),
    ("지난주", "last week", "20210125", "20210131"),
    ("12월", "in December", "20201201", "20201231"),
    ("어제", "yesterday", "20210131", "20210131"),
];

fn synthetic_golden() -> Vec<Golden> {
    let mut out = Vec::with_capacity(1_000);
    let mut n = 0usize;
    for (mcol, mko, men, msql) in METRICS {
        for (dcol, dko, den, dsql) in DIMENSIONS {
            for (tko, ten, first, last) in TIMES {
                let sql = format!(
                    "SELECT {dsql} AS {dcol}, {msql} AS {mcol} FROM `{T}` \
                     WHERE _TABLE_SUFFIX BETWEEN '{first}' AND '{last}' \
                     GROUP BY {dcol} ORDER BY {dcol}"
                );
                let (ko, en) = if n.is_multiple_of(2) {
                    (format!("{tko} {dko} {mko}"), format!("{men} {den} {ten}"))
                } else {
                    (format!("{dko} {mko}, {tko}"), format!("{ten}, {men} {den}"))
                };
                out.push(Golden {
                    question: ko,
                    sql: sql.clone(),
                });
                out.push(Golden { question: en, sql });
                n += 1;
            }
        }
    }
    out
}

const QUESTIONS: &[&str] = &[
    "지난 7일 디바이스별 방문자 수",
    "지난7일 기기별로 사용자는 몇 명이야?",
    "최근 7일 동안 국가별 매출 알려줘",
    "지난달 일별 세션수",
    "12월에 브라우저별 페이지 조회수는?",
    "어제 유입 경로별 신규 방문자",
    "지난주 운영체제별 참여율 보여줘",
    "도시별 구매자수 12월",
    "월별 객단가 추이",
    "이벤트별 장바구니 담기 횟수 지난달",
    "Navy Speckled Tee와 함께 구매된 상품 상위 10개",
    "12월 첫 방문 사용자의 2주 후 재방문율 코호트",
    "USERS by Device Categories in the last 7 days",
    "sessions per day last month",
    "page views by page titles yesterday",
    "Revenue by traffic sources in december",
    "average order value by country last week",
    "new users per browser, last month",
    "funnel from view_item to add_to_cart to purchase last month",
    "which products are bought together with the Navy Speckled Tee",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (warmup, runs) = if bench { (50, 500) } else { (1, 3) };

    let model = SemanticModel::builtin().unwrap();
    let golden = synthetic_golden();
    assert_eq!(golden.len(), 1_000);
    let glossary = GlossaryEntry::from_model(&model);

    let started = Instant::now();
    let index = LexicalIndex::new(&golden, &glossary);
    let build = started.elapsed();

    // The benchmark also proves the index answers: a generated question finds itself, and a
    // paraphrase finds its example.
    assert_eq!(
        index.top_k(&golden[0].question, 1)[0].question,
        golden[0].question
    );
    let first = index.top_k("지난7일 기기별로 사용자는 몇 명이야?", 5);
    assert_eq!(
        first[0].question, "지난 7일 디바이스별 사용자 수",
        "{first:?}"
    );

    let mut times = Vec::with_capacity(QUESTIONS.len() * runs);
    for question in QUESTIONS {
        for _ in 0..warmup {
            black_box(index.top_k(black_box(question), 5));
        }
        for _ in 0..runs {
            let started = Instant::now();
            let found = index.top_k(black_box(question), 5);
            times.push(started.elapsed());
            black_box(found);
        }
    }
    times.sort();
    println!(
        "retrieval: {} golden queries, {} glossary entries, index built in {:.1?}",
        golden.len(),
        glossary.len(),
        build
    );
    println!(
        "top_k(q, 5) over {} calls ({} questions): p50 {:.1?}  p95 {:.1?}  p99 {:.1?}  max {:.1?}",
        times.len(),
        QUESTIONS.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times[times.len() - 1],
    );
    if bench {
        for question in QUESTIONS.iter().take(3) {
            let found = index.top_k(question, 3);
            let shown: Vec<String> = found
                .iter()
                .map(|s| format!("{:.2} {}", s.score, s.question))
                .collect();
            println!("  {question} -> {shown:?}");
        }
    }
}
