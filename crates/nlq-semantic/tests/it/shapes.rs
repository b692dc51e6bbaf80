//! Issue 21: analysis shapes read from questions nobody wrote for the engine's own tests —
//! `fixtures/questions/shapes/*.jsonl`, each question with the plan it must give or how it
//! must decline.

use std::collections::BTreeMap;

use nlq_semantic::funnel::Unit;
use nlq_semantic::{Plan, SemanticModel, Shape, Understanding};

use super::sample_reader;

#[derive(serde::Deserialize)]
struct Case {
    question: String,
    #[serde(default)]
    steps: Vec<String>,
    unit: Option<Unit>,
    open: Option<bool>,
    range: Option<(String, String)>,
    #[serde(default)]
    filters: BTreeMap<String, Vec<String>>,
    /// "needs_llm" or "clarify": what the engine must do instead of answering.
    declines: Option<String>,
}

/// The plan reads the days and the filters the case expects.
fn assert_range_and_filters(
    plan: &Plan,
    question: &str,
    range: &Option<(String, String)>,
    filters: &BTreeMap<String, Vec<String>>,
) {
    let (start, end) = range.clone().unwrap();
    assert_eq!(
        (plan.range.start.to_string(), plan.range.end.to_string()),
        (start, end),
        "{question}"
    );
    let read: BTreeMap<String, Vec<String>> = plan
        .filters
        .iter()
        .map(|f| (f.dimension.clone(), f.values.clone()))
        .collect();
    assert_eq!(&read, filters, "{question}");
}

/// The cases of a file under fixtures/questions/shapes/, one JSON object a line.
fn cases<T: serde::de::DeserializeOwned>(file: &str) -> Vec<T> {
    let path = format!(
        "{}/../../fixtures/questions/shapes/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn funnel_questions_give_their_steps_or_decline() {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let cases: Vec<Case> = cases("funnel.jsonl");
    let (mut answered, mut korean) = (0, 0);
    for case in &cases {
        let understanding = reader.understand(&case.question);
        match (&case.declines, understanding) {
            (Some(how), Understanding::NeedsLlm { .. }) if how == "needs_llm" => {}
            (Some(how), Understanding::Clarify { .. }) if how == "clarify" => {}
            (None, Understanding::Data { plan }) => {
                let Some(Shape::Funnel(funnel)) = &plan.shape else {
                    panic!("{}: not a funnel: {plan:?}", case.question);
                };
                assert_eq!(funnel.steps, case.steps, "{}", case.question);
                assert_eq!(Some(funnel.unit), case.unit, "{}", case.question);
                assert_eq!(Some(funnel.open), case.open, "{}", case.question);
                assert_range_and_filters(&plan, &case.question, &case.range, &case.filters);
                let sql = nlq_semantic::compile(&model, &plan).unwrap();
                assert!(sql.contains("FROM steps"), "{sql}");
                answered += 1;
                korean += usize::from(case.question.chars().any(|c| ('가'..='힣').contains(&c)));
            }
            (how, other) => panic!("{}: expected {how:?}, got {other:?}", case.question),
        }
    }
    // At least five in each language.
    assert!(
        korean >= 5 && answered - korean >= 4,
        "{korean} Korean of {answered}"
    );
}

/// A follow-up keeps the funnel's steps and changes its filters or unit; one that breaks it
/// down is handed on.
#[test]
fn follow_ups_change_a_funnel_and_keep_its_steps() {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let Understanding::Data { plan } = reader.understand("2020년 12월 구매 퍼널") else {
        panic!()
    };
    let Some(Understanding::Data { plan: mobile }) = reader.follow_up(&plan, "그럼 모바일만?")
    else {
        panic!()
    };
    assert_eq!(mobile.shape, plan.shape);
    assert_eq!(mobile.filters.len(), 1);
    let Some(Understanding::Data { plan: sessions }) =
        reader.follow_up(&mobile, "세션 기준으로는?")
    else {
        panic!()
    };
    let Some(Shape::Funnel(funnel)) = &sessions.shape else {
        panic!("{sessions:?}")
    };
    assert_eq!(funnel.unit, Unit::Sessions);
    assert!(matches!(
        reader.follow_up(&plan, "국가별로는?"),
        Some(Understanding::NeedsLlm { .. })
    ));
    // An event named after a funnel would filter every other step away.
    assert!(matches!(
        reader.follow_up(&plan, "그럼 add_to_cart만?"),
        Some(Understanding::NeedsLlm { .. })
    ));
}

#[derive(serde::Deserialize)]
struct SeriesCase {
    question: String,
    #[serde(default)]
    dimensions: Vec<String>,
    #[serde(default)]
    metrics: Vec<String>,
    range: Option<(String, String)>,
    #[serde(default)]
    filters: BTreeMap<String, Vec<String>>,
    /// A comparison of two periods, not a series of changes.
    #[serde(default)]
    not_a_series: bool,
    declines: Option<String>,
}

/// "월별 세션 수와 전월 대비 증감률", "revenue month over month": a series by the grain with
/// each bucket's change from the one before; "12월 매출 전월 대비" stays two periods.
#[test]
fn period_over_period_questions_give_a_series_of_changes() {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let (mut korean, mut english) = (0, 0);
    for case in cases::<SeriesCase>("period_over_period.jsonl") {
        let understanding = reader.understand(&case.question);
        if case.declines.is_some() {
            assert!(
                matches!(understanding, Understanding::NeedsLlm { .. }),
                "{}: {understanding:?}",
                case.question
            );
            continue;
        }
        let Understanding::Data { plan } = understanding else {
            panic!("{}: {understanding:?}", case.question)
        };
        if case.not_a_series {
            assert!(
                !plan.change && plan.compare.is_some(),
                "{}: {plan:?}",
                case.question
            );
            continue;
        }
        assert!(plan.change, "{}: {plan:?}", case.question);
        assert_eq!(plan.dimensions, case.dimensions, "{}", case.question);
        assert_eq!(plan.metrics, case.metrics, "{}", case.question);
        assert_range_and_filters(&plan, &case.question, &case.range, &case.filters);
        let sql = nlq_semantic::compile(&model, &plan).unwrap();
        assert!(
            sql.contains(&format!("AS {}_change", case.metrics[0])),
            "{sql}"
        );
        if case.question.chars().any(|c| ('가'..='힣').contains(&c)) {
            korean += 1;
        } else {
            english += 1;
        }
    }
    assert!(
        korean >= 5 && english >= 5,
        "{korean} Korean, {english} English"
    );
}

#[derive(serde::Deserialize)]
struct GridCase {
    question: String,
    dimension: Option<String>,
    #[serde(default)]
    metrics: Vec<String>,
    top: Option<u64>,
    #[serde(default)]
    other: bool,
    #[serde(default)]
    percent: bool,
    #[serde(default)]
    versus: Vec<String>,
    range: Option<(String, String)>,
    declines: Option<String>,
}

/// A case of a fixture file: its question, how it must decline, and what every plan it gives
/// must hold whatever the shape.
trait Asked: serde::de::DeserializeOwned {
    fn question(&self) -> &str;
    fn declines(&self) -> Option<&str>;
    fn holds(&self, plan: &Plan, model: &SemanticModel);
}

impl Asked for GridCase {
    fn question(&self) -> &str {
        &self.question
    }
    fn declines(&self) -> Option<&str> {
        self.declines.as_deref()
    }
    fn holds(&self, plan: &Plan, _: &SemanticModel) {
        assert_eq!(plan.metrics, self.metrics, "{}", self.question);
        let (start, end) = self.range.clone().unwrap();
        assert_eq!(
            (plan.range.start.to_string(), plan.range.end.to_string()),
            (start, end),
            "{}",
            self.question
        );
    }
}

/// Each case's plan (checked by `holds`, then `check`), or its decline; with the numbers of
/// Korean and English answers.
fn answer_cases<C: Asked>(file: &str, check: impl Fn(&C, &Plan, &SemanticModel)) -> (usize, usize) {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let (mut korean, mut english) = (0, 0);
    for case in cases::<C>(file) {
        let question = case.question();
        match (case.declines(), reader.understand(question)) {
            (Some("needs_llm"), Understanding::NeedsLlm { .. }) => {}
            (Some("clarify"), Understanding::Clarify { .. }) => {}
            (None, Understanding::Data { plan }) => {
                case.holds(&plan, &model);
                check(&case, &plan, &model);
                if question.chars().any(|c| ('가'..='힣').contains(&c)) {
                    korean += 1;
                } else {
                    english += 1;
                }
            }
            (how, other) => panic!("{question}: expected {how:?}, got {other:?}"),
        }
    }
    (korean, english)
}

/// "상위 5개 국가와 기타", "top 3 browsers and the rest": the top N of one breakdown and the
/// rest as one row, with or without shares; what it cannot be beside is handed on.
#[test]
fn share_questions_give_the_top_n_and_the_rest() {
    let (korean, english) = answer_cases("share_of_total.jsonl", |case: &GridCase, plan, model| {
        assert_eq!(plan.dimensions, vec![case.dimension.clone().unwrap()]);
        assert_eq!(plan.top.map(|t| t.n), case.top, "{}", case.question);
        assert_eq!(
            (plan.other, plan.percent),
            (case.other, case.percent),
            "{}",
            case.question
        );
        let sql = nlq_semantic::compile(model, plan).unwrap();
        assert!(sql.contains("LEFT JOIN top_rows"), "{sql}");
        // The top N is chosen in the CTE; the answer has no LIMIT, so the rest is a row.
        assert!(
            !sql.ends_with(&format!("LIMIT {}", case.top.unwrap())),
            "{sql}"
        );
    });
    assert!(
        korean >= 5 && english >= 5,
        "{korean} Korean, {english} English"
    );
}

/// "모바일 대비 데스크톱", "returning vs new visitors": two values of one dimension side by
/// side in the order named, each with its difference from the first.
#[test]
fn segment_comparisons_give_both_values_and_their_difference() {
    let (korean, english) = answer_cases(
        "segment_comparison.jsonl",
        |case: &GridCase, plan, model| {
            let dimension = case.dimension.clone().unwrap();
            assert_eq!(plan.versus, case.versus, "{}", case.question);
            assert!(plan.dimensions.contains(&dimension), "{}", case.question);
            let filter = plan.filters.iter().find(|f| f.dimension == dimension);
            let sql = nlq_semantic::compile(model, plan).unwrap();
            if case.versus.is_empty() {
                assert!(!sql.contains("_diff"), "{sql}");
                return;
            }
            assert_eq!(
                filter.map(|f| &f.values),
                Some(&case.versus),
                "{}",
                case.question
            );
            for m in &case.metrics {
                assert!(sql.contains(&format!("AS {m}_diff")), "{sql}");
            }
        },
    );
    assert!(
        korean >= 5 && english >= 5,
        "{korean} Korean, {english} English"
    );
}

#[derive(serde::Deserialize)]
struct ShapeCase {
    question: String,
    grain: Option<nlq_semantic::model::TimeGrain>,
    item: Option<String>,
    top: Option<u64>,
    range: Option<(String, String)>,
    #[serde(default)]
    filters: BTreeMap<String, Vec<String>>,
    declines: Option<String>,
}

impl Asked for ShapeCase {
    fn question(&self) -> &str {
        &self.question
    }
    fn declines(&self) -> Option<&str> {
        self.declines.as_deref()
    }
    fn holds(&self, plan: &Plan, model: &SemanticModel) {
        assert_range_and_filters(plan, &self.question, &self.range, &self.filters);
        nlq_semantic::compile(model, plan).unwrap_or_else(|e| panic!("{}: {e}", self.question));
    }
}

/// "주별 코호트 리텐션", "monthly retention cohorts": users by the week or month of their
/// first visit; filters choose who enters; a breakdown, a top N or another metric is handed on.
#[test]
fn cohort_questions_give_the_grain_and_who_enters() {
    let (korean, english) = answer_cases("cohort_retention.jsonl", |case: &ShapeCase, plan, _| {
        let Some(Shape::Cohort(cohort)) = &plan.shape else {
            panic!("{}: not a cohort table: {plan:?}", case.question)
        };
        assert_eq!(Some(cohort.grain), case.grain, "{}", case.question);
        assert_eq!(cohort.first_event, "first_visit");
    });
    assert!(
        korean >= 5 && english >= 5,
        "{korean} Korean, {english} English"
    );
}

/// "X와 함께 구매된 상품", "products frequently bought together": the item named (or pairs),
/// the top N, filters; another metric, a breakdown or two items is handed on.
#[test]
fn bought_together_questions_give_the_item_and_the_top_n() {
    let (korean, english) = answer_cases("bought_together.jsonl", |case: &ShapeCase, plan, _| {
        let Some(Shape::BoughtTogether(together)) = &plan.shape else {
            panic!("{}: not bought together: {plan:?}", case.question)
        };
        assert_eq!(together.item, case.item, "{}", case.question);
        assert_eq!(plan.top.map(|t| t.n), case.top, "{}", case.question);
    });
    assert!(
        korean >= 5 && english >= 5,
        "{korean} Korean, {english} English"
    );
}

/// A follow-up keeps a cohort table or a bought-together list and changes its period,
/// filters or item; one that asks for something else is handed on.
#[test]
fn follow_ups_keep_cohorts_and_baskets() {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let Understanding::Data { plan } = reader.understand("2020년 12월 주별 코호트 리텐션")
    else {
        panic!()
    };
    let Some(Understanding::Data { plan: mobile }) = reader.follow_up(&plan, "그럼 모바일만?")
    else {
        panic!()
    };
    assert_eq!(mobile.shape, plan.shape);
    assert_eq!(mobile.filters.len(), 1);
    assert!(matches!(
        reader.follow_up(&plan, "국가별로는?"),
        Some(Understanding::NeedsLlm { .. })
    ));
    let Understanding::Data { plan } =
        reader.understand("2020년 12월 Google Decal과 함께 구매된 상품")
    else {
        panic!()
    };
    let other = reader.follow_up(&plan, "그럼 YouTube Decal은?");
    let Some(Understanding::Data { plan: other }) = other else {
        panic!("{other:?}")
    };
    let Some(Shape::BoughtTogether(together)) = &other.shape else {
        panic!("{other:?}")
    };
    assert_eq!(together.item.as_deref(), Some("YouTube Decal"));
    assert!(other.filters.is_empty(), "{other:?}");
    assert!(matches!(
        reader.follow_up(&plan, "매출은?"),
        Some(Understanding::NeedsLlm { .. })
    ));
    // The list is the most bought first: the fewest is handed on, not answered as the most.
    assert!(matches!(
        reader.follow_up(&plan, "하위 3개는?"),
        Some(Understanding::NeedsLlm { .. })
    ));
    // A basket's or a cohort's events are its own: an event filter is handed on.
    assert!(matches!(
        reader.follow_up(&plan, "그럼 scroll만?"),
        Some(Understanding::NeedsLlm { .. })
    ));
}

/// "그럼 GA4 기준으로는?" and "나머지는 기타로" act in a follow-up as in a question.
#[test]
fn follow_ups_read_approx_and_the_rest() {
    let model = SemanticModel::builtin().unwrap();
    let reader = sample_reader(&model);
    let Understanding::Data { plan } = reader.understand("2020년 12월 국가별 사용자 수 상위 5개")
    else {
        panic!()
    };
    let approx = reader.follow_up(&plan, "그럼 GA4 기준으로는?");
    let Some(Understanding::Data { plan: approx }) = approx else {
        panic!("{approx:?}")
    };
    assert!(approx.approx, "{approx:?}");
    let rest = reader.follow_up(&plan, "그럼 나머지는 기타로 묶어서는?");
    let Some(Understanding::Data { plan: rest }) = rest else {
        panic!("{rest:?}")
    };
    assert!(rest.other && rest.top.is_some(), "{rest:?}");
}
