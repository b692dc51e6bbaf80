//! Names resolve as BigQuery resolves them, whatever the aliases: GA4 queries built from the
//! idioms people write, with the UNNEST and table aliases drawn from names that shadow columns
//! (`items`, `event_params`, `device`, `geo`), differ only in case, or are plain, must give the
//! same rows as the same query with fresh aliases. Run on the generated sample so every query
//! has rows to compare.

use nlq_core::QueryRequest;

use crate::support::sample;

/// Query shapes; `{a}` and `{b}` are UNNEST aliases, `{t}` the table alias clause and `{q}`
/// the qualifier it gives columns (`e.` or nothing).
const SHAPES: &[&str] = &[
    // Comma join, an event filter and an element filter, ORDER BY through the alias.
    "SELECT {a}.item_name AS name, SUM({a}.quantity) AS q FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`{t}, UNNEST({q}items) AS {a} \
     WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231' AND {q}event_name = 'purchase' AND {a}.quantity > 0 \
     GROUP BY name ORDER BY q DESC, name LIMIT 5",
    // CROSS JOIN, the parameter idiom in FROM.
    "SELECT {a}.value.string_value AS title, COUNT(*) AS n FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`{t} CROSS JOIN UNNEST({q}event_params) AS {a} \
     WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201207' AND {a}.key = 'page_title' GROUP BY title ORDER BY n DESC, title LIMIT 5",
    // LEFT JOIN ... ON TRUE keeps events without items.
    "SELECT {q}event_name AS event_name, COUNT(*) AS rows_, COUNT({a}.item_id) AS with_item FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`{t} \
     LEFT JOIN UNNEST({q}items) AS {a} ON TRUE WHERE _TABLE_SUFFIX = '20201215' GROUP BY event_name ORDER BY event_name",
    // The correlated parameter subquery, aliased.
    "SELECT COUNT(DISTINCT (SELECT {a}.value.int_value FROM UNNEST({q}event_params) AS {a} WHERE {a}.key = 'ga_session_id')) AS sessions \
     FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`{t} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201203'",
    // Two unnests, the second filtered by an EXISTS over a third.
    "SELECT {a}.item_category AS category, COUNT(DISTINCT {b}.value.int_value) AS sessions FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`{t}, \
     UNNEST({q}items) AS {a}, UNNEST({q}event_params) AS {b} WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131' AND {b}.key = 'ga_session_id' \
     AND EXISTS (SELECT 1 FROM UNNEST({q}items) AS x WHERE x.price > 20) GROUP BY category ORDER BY sessions DESC, category LIMIT 5",
    // A CTE whose column has the alias's name.
    "WITH bought AS (SELECT user_pseudo_id, items FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` \
     WHERE _TABLE_SUFFIX BETWEEN '20201101' AND '20210131' AND event_name = 'purchase') \
     SELECT COUNT(DISTINCT user_pseudo_id) AS buyers, SUM({a}.price) AS spent FROM bought{t}, UNNEST({q}items) AS {a} WHERE {a}.item_brand IS NOT NULL",
];

const UNNEST_ALIASES: &[&str] = &[
    "item",
    "i",
    "items",
    "ITEMS",
    "Items",
    "event_params",
    "device",
    "geo",
    "user_id",
    "ep",
];
const TABLE_ALIASES: &[&str] = &["", "e", "EVENTS", "t"];

fn render(shape: &str, a: &str, b: &str, table: &str) -> String {
    let (t, q) = if table.is_empty() {
        (String::new(), String::new())
    } else {
        (format!(" AS {table}"), format!("{table}."))
    };
    shape
        .replace("{a}", a)
        .replace("{b}", b)
        .replace("{t}", &t)
        .replace("{q}", &q)
}

/// Whether an alias named like an array column is then unnested by its bare name: BigQuery
/// resolves that name to the alias (an element, not an array) and refuses the query, so it is
/// no alias choice an analyst can make.
fn reused_as_array(shape: &str, aliases: &[&str], table: &str) -> bool {
    table.is_empty()
        && ["{a}", "{b}"].iter().zip(aliases).any(|(slot, alias)| {
            shape.find(&format!("AS {slot}")).is_some_and(|at| {
                ["items", "event_params"].iter().any(|column| {
                    alias.eq_ignore_ascii_case(column)
                        && shape[at..].contains(&format!("UNNEST({{q}}{column})"))
                })
            })
        })
}

fn rows(sql: &str) -> Result<Vec<Vec<nlq_core::Value>>, String> {
    let mut request = QueryRequest::new(sql);
    request.max_rows = 10_000;
    sample()
        .query_sync(&request)
        .map(|r| r.rows)
        .map_err(|e| e.to_string())
}

#[test]
fn any_alias_choice_gives_the_rows_of_fresh_aliases() {
    let mut compared = 0;
    let mut failures = Vec::new();
    for (s, shape) in SHAPES.iter().enumerate() {
        let expected = rows(&render(shape, "fresh_a", "fresh_b", ""))
            .unwrap_or_else(|e| panic!("shape {s} with fresh aliases: {e}"));
        assert!(!expected.is_empty(), "shape {s} has no rows to compare");
        for (i, a) in UNNEST_ALIASES.iter().enumerate() {
            // Each first alias with two second ones and two table aliases, chosen by position
            // so every alias meets every role over the shapes.
            for k in 0..2 {
                let b = UNNEST_ALIASES[(i + 1 + k + s) % UNNEST_ALIASES.len()];
                let table = TABLE_ALIASES[(i + k + s) % TABLE_ALIASES.len()];
                if b.eq_ignore_ascii_case(a) || reused_as_array(shape, &[a, b], table) {
                    continue;
                }
                if !table.is_empty()
                    && (table.eq_ignore_ascii_case(a) || table.eq_ignore_ascii_case(b))
                {
                    continue;
                }
                let sql = render(shape, a, b, table);
                compared += 1;
                match rows(&sql) {
                    Ok(got) if got == expected => {}
                    Ok(got) => {
                        failures.push(format!("{sql}\n  rows {got:?}\n  expected {expected:?}"))
                    }
                    Err(err) => failures.push(format!("{sql}\n  {err}")),
                }
            }
        }
    }
    assert!(compared >= 100, "only {compared} queries compared");
    assert!(
        failures.is_empty(),
        "{} of {compared} alias choices changed the answer:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
