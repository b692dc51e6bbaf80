//! A conversation: the first question read with `understand`, each next one with `follow_up`
//! against the plan before it, and `understand` again when it is not a follow-up.

use nlq_semantic::{Plan, SemanticModel, Understanding, compile};

use crate::sample_reader;

/// Reads `questions` in order the way a conversation does; the plan of each.
fn converse(model: &SemanticModel, questions: &[&str]) -> Vec<Understanding> {
    let reader = sample_reader(model);
    let mut previous: Option<Plan> = None;
    let mut out = Vec::new();
    for question in questions {
        let understanding = previous
            .as_ref()
            .and_then(|plan| reader.follow_up(plan, question))
            .unwrap_or_else(|| reader.understand(question));
        if let Understanding::Data { plan } = &understanding {
            previous = Some(plan.clone());
        }
        out.push(understanding);
    }
    out
}

fn sql(understanding: &Understanding, model: &SemanticModel) -> String {
    match understanding {
        Understanding::Data { plan } => compile(model, plan).unwrap(),
        other => panic!("not a plan: {other:?}"),
    }
}

fn plan(understanding: &Understanding) -> &Plan {
    match understanding {
        Understanding::Data { plan } => plan,
        other => panic!("not a plan: {other:?}"),
    }
}

#[test]
fn korean_conversation() {
    let model = SemanticModel::builtin().unwrap();
    let turns = converse(
        &model,
        &[
            "지난 7일 디바이스별 방문자 수",
            "그럼 모바일만?",
            "국가별로는?",
            "지난달은?",
            "매출은?",
            "상위 5개만",
        ],
    );
    insta::assert_snapshot!(sql(&turns[5], &model), @r"
    SELECT
      geo.country AS country,
      SUM(IF(event_name = 'purchase', ecommerce.purchase_revenue, 0)) AS revenue
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131'
      AND device.category = 'mobile'
    GROUP BY country
    ORDER BY revenue DESC, country ASC
    LIMIT 5
    ");
}

#[test]
fn english_conversation() {
    let model = SemanticModel::builtin().unwrap();
    let turns = converse(
        &model,
        &[
            "Users by device category over the last 7 days",
            "what about last month?",
            "and revenue too",
            "by country instead",
            "top 5 only",
        ],
    );
    insta::assert_snapshot!(sql(&turns[4], &model), @r"
    SELECT
      geo.country AS country,
      COUNT(DISTINCT user_pseudo_id) AS users,
      SUM(IF(event_name = 'purchase', ecommerce.purchase_revenue, 0)) AS revenue
    FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`
    WHERE _TABLE_SUFFIX BETWEEN '20210101' AND '20210131'
    GROUP BY country
    ORDER BY users DESC, country ASC
    LIMIT 5
    ");
}

#[test]
fn a_question_of_its_own_starts_over() {
    let model = SemanticModel::builtin().unwrap();
    let turns = converse(
        &model,
        &[
            "지난 7일 디바이스별 방문자 수",
            "그럼 모바일만?",
            "12월 브라우저별 세션 수",
        ],
    );
    let last = plan(&turns[2]);
    assert_eq!(last.metrics, ["sessions"]);
    assert_eq!(last.dimensions, ["browser"]);
    assert!(last.filters.is_empty(), "{last:?}");
}

#[test]
fn an_unreadable_follow_up_is_passed_on() {
    let model = SemanticModel::builtin().unwrap();
    let turns = converse(&model, &["지난 7일 디바이스별 방문자 수", "그럼 전체는?"]);
    assert!(
        matches!(&turns[1], Understanding::NeedsLlm { reason } if reason.contains("전체")),
        "{:?}",
        turns[1]
    );
}
