//! Products bought together: the items most often in the same purchase (transaction) as a
//! given item, or, with none given, the pairs of items most often bought in one purchase.
//! Counted in distinct transactions, so an item bought twice in one order counts once.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use nlq_core::{QueryResult, Value};

use crate::Lang;
use crate::lexicon::Words;
use crate::model::SemanticModel;
use crate::understand::Plan;

/// The model file's `bought_together:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TogetherWords {
    /// "함께 구매된", "bought together".
    pub words: Words,
}

/// A bought-together plan: the item the others were bought with, if one is named.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Together {
    pub item: Option<String>,
}

/// Rows shown when the question names no number.
pub const DEFAULT_TOP: u64 = 10;

/// The SQL: one row per item bought with the given one (or per pair), with the number of
/// purchases that held both and, for a given item, the share of its purchases.
pub(crate) fn compile(
    model: &SemanticModel,
    plan: &Plan,
    together: &Together,
) -> Result<String, String> {
    let (low, high) = plan.range.suffixes();
    let table = &model.table;
    let filters = crate::compile::event_filters(model, plan, "a list of items bought together")?;
    let n = plan.top.map_or(DEFAULT_TOP, |t| t.n);
    let mut sql = format!(
        "WITH purchased AS (
  SELECT DISTINCT ecommerce.transaction_id AS transaction_id, item.item_name AS item_name
  FROM `{table}`
  CROSS JOIN UNNEST(items) AS item
  WHERE _TABLE_SUFFIX BETWEEN '{low}' AND '{high}'
    AND event_name = 'purchase'
    AND ecommerce.transaction_id IS NOT NULL
    AND ecommerce.transaction_id != '(not set)'
    AND item.item_name IS NOT NULL{filters}
)"
    );
    match &together.item {
        Some(item) => {
            let item = crate::compile::quote(item);
            let _ = write!(
                sql,
                ",
anchor AS (
  SELECT DISTINCT transaction_id
  FROM purchased
  WHERE item_name = {item}
)
SELECT
  p.item_name AS item_name,
  COUNT(DISTINCT p.transaction_id) AS purchases,
  SAFE_DIVIDE(COUNT(DISTINCT p.transaction_id), (SELECT COUNT(*) FROM anchor)) AS share_of_purchases
FROM purchased AS p
JOIN anchor AS a ON a.transaction_id = p.transaction_id
WHERE p.item_name != {item}
GROUP BY item_name
ORDER BY purchases DESC, item_name
LIMIT {n}"
            );
        }
        None => {
            let _ = write!(
                sql,
                "
SELECT
  a.item_name AS item_name,
  b.item_name AS other_item_name,
  COUNT(DISTINCT a.transaction_id) AS purchases
FROM purchased AS a
JOIN purchased AS b ON b.transaction_id = a.transaction_id AND a.item_name < b.item_name
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
LIMIT {n}"
            );
        }
    }
    Ok(sql)
}

/// "with Google Tee, most often: Google Mug (3 purchases, 25.0% of the Tee's)".
pub(crate) fn summarize(
    together: &Together,
    result: &QueryResult,
    lang: Lang,
    range: &str,
) -> String {
    let text = |v: Option<&Value>| v.map(ToString::to_string).unwrap_or_default();
    let count = |v: Option<&Value>| {
        crate::summary::number(
            v.and_then(Value::as_f64).unwrap_or(0.0),
            crate::model::Format::Count,
        )
    };
    let Some(first) = result.rows.first() else {
        return match (lang, &together.item) {
            (Lang::Ko, Some(item)) => format!("{range}: {item}과(와) 함께 구매된 상품이 없습니다"),
            (Lang::Ko, None) => format!("{range}: 두 상품 이상이 함께 구매된 주문이 없습니다"),
            (Lang::En, Some(item)) => format!("{range}: no purchase of {item} held another item"),
            (Lang::En, None) => format!("{range}: no purchase held two items or more"),
        };
    };
    let rows = result.rows.len();
    match (&together.item, lang) {
        (Some(item), Lang::Ko) => format!(
            "{range}: {item}과(와) 함께 구매된 상품 {rows}개; 가장 많이: {} (구매 {}건, {}의 구매 중 {})",
            text(first.first()),
            count(first.get(1)),
            item,
            share(first.get(2))
        ),
        (Some(item), Lang::En) => format!(
            "{range}: {rows} items bought with {item}; most often: {} ({} purchases, {} of {item}'s)",
            text(first.first()),
            count(first.get(1)),
            share(first.get(2))
        ),
        (None, Lang::Ko) => format!(
            "{range}: 함께 구매된 상품 쌍 {rows}개; 가장 많이: {} + {} (구매 {}건)",
            text(first.first()),
            text(first.get(1)),
            count(first.get(2))
        ),
        (None, Lang::En) => format!(
            "{range}: {rows} pairs of items bought together; most often: {} + {} ({} purchases)",
            text(first.first()),
            text(first.get(1)),
            count(first.get(2))
        ),
    }
}

fn share(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_f64)
        .map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}
