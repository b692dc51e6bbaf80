//! Retrieval of golden queries: what lexical matching finds (particles, spacing, width, case,
//! plurals, and synonyms the glossary lists), what it cannot find (synonyms nobody listed), and
//! its contract (ties in the given order, never more than there is).

use nlq_llm::{ExampleIndex, GlossaryEntry, LexicalIndex};
use nlq_semantic::SemanticModel;
use nlq_semantic::model::Golden;

fn golden(questions: &[&str]) -> Vec<Golden> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| Golden {
            question: (*q).to_string(),
            sql: format!("SELECT {i}"),
        })
        .collect()
}

fn model() -> SemanticModel {
    SemanticModel::builtin().unwrap()
}

/// The questions retrieved, best first.
fn top(index: &LexicalIndex, question: &str, k: usize) -> Vec<String> {
    index
        .top_k(question, k)
        .into_iter()
        .map(|s| s.question.to_string())
        .collect()
}

#[track_caller]
fn check_first(index: &LexicalIndex, question: &str, expect: &str) {
    let got = top(index, question, 3);
    assert_eq!(
        got.first().map(String::as_str),
        Some(expect),
        "{question}: {got:?}"
    );
}

/// The model's golden queries and a few more that share words with them.
fn realistic() -> Vec<Golden> {
    let model = model();
    let mut all = model.golden.clone();
    all.extend(golden(&[
        "지난 7일 국가별 매출",
        "디바이스별 구매 전환율",
        "지난달 일별 사용자 수",
        "sessions by device category last week",
        "daily active users in January",
    ]));
    all
}

#[test]
fn korean_particles_spacing_and_width_do_not_matter() {
    let model = model();
    let index = LexicalIndex::new(&realistic(), &GlossaryEntry::from_model(&model));
    check_first(
        &index,
        "지난7일 디바이스별로 방문자는 몇 명이야?",
        "지난 7일 디바이스별 방문자 수",
    );
    check_first(
        &index,
        "지난 달 일별로 세션수 알려줘",
        "지난달 일별 세션 수",
    );
    check_first(&index, "지난달　일별　사용자는？", "지난달 일별 사용자 수");
    // Without any glossary the bigrams alone carry particles: "사용자는" still meets "사용자".
    let bare = LexicalIndex::new(&golden(&["국가별 세션 수", "국가별 사용자 수"]), &[]);
    assert_eq!(top(&bare, "국가별로 사용자는?", 2)[0], "국가별 사용자 수");
}

#[test]
fn english_case_and_plurals_do_not_matter() {
    let model = model();
    let index = LexicalIndex::new(&realistic(), &GlossaryEntry::from_model(&model));
    check_first(
        &index,
        "TOP 10 Product by ITEM REVENUES in december",
        "top 10 products by item revenue in December",
    );
    check_first(
        &index,
        "revenue and purchase from south korea per month",
        "Revenue and purchases from South Korea by month",
    );
    check_first(
        &index,
        "Session count per device categories, last week",
        "sessions by device category last week",
    );
    let bare = LexicalIndex::new(&golden(&["events by country", "users by country"]), &[]);
    assert_eq!(
        top(&bare, "USER count per COUNTRIES", 2)[0],
        "users by country"
    );
}

/// "지난 7일 디바이스별 방문자 수" and "최근 7일 기기별 사용자 수" ask the same thing with
/// three words out of four different. Lexical matching alone cannot know that: the two share
/// only "7일" and "수", so the example that repeats the question's own words with another
/// metric ("세션") ranks first, and the right one comes fourth. The glossary built from the
/// semantic model knows that 방문자 수 / 사용자 수 name `users` and 디바이스별 / 기기별 name
/// `device_category`; with it the right example comes first, and the one repeating the words
/// drops to second because it names `sessions`. "지난" / "최근" still match nothing: the
/// model's glossary has no time words, so the margin is the metric and the dimension alone.
#[test]
fn synonyms_are_found_through_the_glossary_and_only_through_it() {
    let right = "최근 7일 기기별 사용자 수";
    let same_words = "지난 7일 디바이스별 세션 수";
    let examples = golden(&[
        right,
        same_words,
        "지난 7일 국가별 매출",
        "디바이스별 구매 전환율",
        "지난달 일별 세션 수",
        "top 10 products by item revenue in December",
    ]);
    let question = "지난 7일 디바이스별 방문자 수";

    let bare = LexicalIndex::new(&examples, &[]);
    let got = top(&bare, question, 6);
    assert_eq!(got[0], same_words, "lexical matching alone: {got:?}");
    assert_eq!(got.iter().position(|q| q == right), Some(3), "{got:?}");

    let model = model();
    let grounded = LexicalIndex::new(&examples, &GlossaryEntry::from_model(&model));
    let got = top(&grounded, question, 6);
    assert_eq!(
        got[..2],
        [right, same_words],
        "with the model's glossary: {got:?}"
    );

    let names: Vec<&str> = grounded
        .glossary_matches(question)
        .iter()
        .map(|e| e.names.as_str())
        .collect();
    assert_eq!(names, ["dimension `device_category`", "metric `users`"]);
}

#[test]
fn ties_keep_the_order_the_examples_were_given_in() {
    let examples = vec![
        Golden {
            question: "sessions by device".into(),
            sql: "SELECT 'first'".into(),
        },
        Golden {
            question: "users by country".into(),
            sql: "SELECT 'other'".into(),
        },
        Golden {
            question: "Sessions by devices".into(),
            sql: "SELECT 'second'".into(),
        },
    ];
    let index = LexicalIndex::new(&examples, &[]);
    let got = index.top_k("sessions per device", 3);
    let sql: Vec<&str> = got.iter().map(|s| s.sql).collect();
    assert_eq!(sql, ["SELECT 'first'", "SELECT 'second'"]);
    assert_eq!(got[0].score.to_bits(), got[1].score.to_bits());
    // The same every time, and k = 1 keeps the first of the tie.
    for _ in 0..20 {
        assert_eq!(index.top_k("sessions per device", 3), got);
    }
    assert_eq!(
        index.top_k("sessions per device", 1)[0].sql,
        "SELECT 'first'"
    );
    // Given in the other order, the tie is broken the other way.
    let reversed: Vec<Golden> = examples.iter().rev().cloned().collect();
    let index = LexicalIndex::new(&reversed, &[]);
    let sql: Vec<&str> = index
        .top_k("sessions per device", 3)
        .iter()
        .map(|s| s.sql)
        .collect();
    assert_eq!(sql, ["SELECT 'second'", "SELECT 'first'"]);
}

#[test]
fn k_larger_than_the_index_returns_what_matches_and_nothing_else() {
    let index = LexicalIndex::new(
        &golden(&["users by country", "sessions by country", "국가별 매출"]),
        &[
            GlossaryEntry::new("국가별", "country"),
            GlossaryEntry::new("by country", "country"),
        ],
    );
    let got = index.top_k("users by country", 10);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].question, "users by country");
    assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(index.top_k("weather in Seoul", 10).is_empty());
    assert!(index.top_k("", 10).is_empty());
    assert!(index.top_k("users", 0).is_empty());
    let empty = LexicalIndex::new(&[], &[]);
    assert!(empty.is_empty());
    assert!(empty.top_k("users by country", 5).is_empty());
}

#[test]
fn every_golden_query_of_the_model_finds_itself_first() {
    let model = model();
    let index = LexicalIndex::from_model(&model);
    assert_eq!(index.len(), model.golden.len());
    for g in &model.golden {
        let got = index.top_k(&g.question, 1);
        assert_eq!(got[0].question, g.question);
        assert_eq!(got[0].sql, g.sql);
    }
}
