//! Every BigQuery idiom the embedded engine supports, on the hand-built tiny dataset
//! (tests/fixtures/tiny.sql), against answers computed by hand from that file's table.

use serde_json::json;

use crate::support::check;

fn all(select: &str) -> String {
    format!(
        "SELECT {select} FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX BETWEEN '20201230' AND '20210101'"
    )
}

#[test]
fn wildcard_tables_and_suffix_filters() {
    check(&all("COUNT(*) AS n"), json!([[8]]));
    check(
        "SELECT _TABLE_SUFFIX AS s, COUNT(*) AS n FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` GROUP BY s ORDER BY s",
        json!([["20201230", 1], ["20201231", 4], ["20210101", 3]]),
    );
    check(
        "SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX IN ('20201230', '20210101')",
        json!([[4]]),
    );
    check(
        "SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_2021*` WHERE _TABLE_SUFFIX = '0101'",
        json!([[3]]),
    );
    // One shard by name, qualified by dataset only, and with an alias.
    check(
        "SELECT COUNT(*) FROM ga4_obfuscated_sample_ecommerce.events_20201231 AS e",
        json!([[4]]),
    );
    // Two wildcard references with different ranges in one query.
    check(
        "SELECT (SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE _TABLE_SUFFIX = '20201231') AS a, \
                (SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` AS t WHERE t._TABLE_SUFFIX >= '20210101') AS b",
        json!([[4, 3]]),
    );
}

#[test]
fn struct_fields_at_any_depth() {
    check(
        &(all("user_pseudo_id, device.category, device.web_info.browser, geo.country")
            + " AND event_name = 'purchase'"),
        json!([["u1", "desktop", "Chrome", "United States"]]),
    );
}

#[test]
fn unnest_in_from() {
    check(
        &(all("SUM(item.quantity) AS q") + " AND event_name = 'purchase'")
            .replace("` WHERE", "` CROSS JOIN UNNEST(items) AS item WHERE"),
        json!([[3]]),
    );
    // Comma join: the purchase's 2 items and the add_to_cart's 1.
    check(
        "SELECT COUNT(*) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` AS e, UNNEST(e.items) AS it",
        json!([[3]]),
    );
    // LEFT JOIN keeps the 6 events without items.
    check(
        "SELECT COUNT(*), COUNT(it.item_name) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` LEFT JOIN UNNEST(items) AS it ON TRUE",
        json!([[9, 3]]),
    );
    check(
        "SELECT it.item_name, pos FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201231`, UNNEST(items) AS it WITH OFFSET AS pos ORDER BY pos",
        json!([["Google Decal", 0], ["Google Navy Speckled Tee", 1]]),
    );
    // Unaliased: the element's fields are columns.
    check(
        "SELECT item_name FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210101`, UNNEST(items)",
        json!([["Google Decal"]]),
    );
    // A scalar array.
    check("SELECT SUM(x) FROM UNNEST([1, 2, 3]) AS x", json!([[6]]));
}

#[test]
fn parameter_subqueries() {
    let session_key = "CONCAT(user_pseudo_id, CAST((SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') AS STRING))";
    check(
        &all(&format!("COUNT(DISTINCT {session_key})")),
        json!([[4]]),
    );
    check(
        &all(
            "SUM((SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'engagement_time_msec'))",
        ),
        json!([[4000]]),
    );
    // Engaged sessions reading both value fields (the real export has both forms).
    check(
        &all(&format!(
            "COUNT(DISTINCT IF(COALESCE((SELECT ep.value.string_value FROM UNNEST(event_params) ep WHERE ep.key = 'session_engaged'), \
             CAST((SELECT ep.value.int_value FROM UNNEST(event_params) ep WHERE ep.key = 'session_engaged') AS STRING)) = '1', {session_key}, NULL))"
        )),
        json!([[3]]),
    );
    // A missing parameter is NULL, not an error.
    check(
        &all(
            "COUNT((SELECT ep.value.string_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'nope'))",
        ),
        json!([[0]]),
    );
    // Aggregates inside the subquery keep the correlated form.
    check(
        "SELECT (SELECT SUM(i.quantity) FROM UNNEST(items) AS i) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201231` WHERE event_name = 'purchase'",
        json!([[3]]),
    );
}

#[test]
fn array_subscripts() {
    check(
        "SELECT items[OFFSET(0)].item_name, items[ORDINAL(2)].item_name, items[SAFE_OFFSET(5)].item_name, ARRAY_LENGTH(items) \
         FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20201231` WHERE event_name = 'purchase'",
        json!([["Google Decal", "Google Navy Speckled Tee", null, 2]]),
    );
    check(
        "SELECT SPLIT('a,b,c')[OFFSET(1)], SPLIT('a-b', '-')[SAFE_ORDINAL(2)]",
        json!([["b", "b"]]),
    );
}

#[test]
fn date_functions() {
    check(
        &all("MIN(PARSE_DATE('%Y%m%d', event_date)), MAX(PARSE_DATE('%Y%m%d', event_date))"),
        json!([["2020-12-30", "2021-01-01"]]),
    );
    check(
        "SELECT FORMAT_DATE('%A', DATE '2021-01-01'), FORMAT_DATE('%Y-%m', DATE '2021-01-01'), FORMAT_DATE('%u', DATE '2021-01-03'), FORMAT_DATE('%Y%m%d', DATE(2021, 1, 2))",
        json!([["Friday", "2021-01", "7", "20210102"]]),
    );
    check(
        "SELECT DATE_TRUNC(DATE '2021-01-01', WEEK(MONDAY)), DATE_TRUNC(DATE '2021-01-01', WEEK), DATE_TRUNC(DATE '2021-01-01', ISOWEEK), DATE_TRUNC(DATE '2021-01-17', MONTH), DATE_TRUNC(DATE '2021-01-04', WEEK(MONDAY))",
        json!([[
            "2020-12-28",
            "2020-12-27",
            "2020-12-28",
            "2021-01-01",
            "2021-01-04"
        ]]),
    );
    check(
        "SELECT DATE_ADD(DATE '2021-01-31', INTERVAL 1 MONTH), DATE_SUB(DATE '2021-01-01', INTERVAL 7 DAY), DATE_ADD(DATE '2020-12-30', INTERVAL 2 WEEK), DATE_DIFF(DATE '2021-01-01', DATE '2020-12-30', DAY), DATE_DIFF(DATE '2021-01-03', DATE '2021-01-02', WEEK)",
        json!([["2021-02-28", "2020-12-25", "2021-01-13", 2, 1]]),
    );
    check(
        "SELECT EXTRACT(DAYOFWEEK FROM DATE '2021-01-01'), EXTRACT(MONTH FROM DATE '2021-01-01'), EXTRACT(YEAR FROM DATE '2021-01-01'), EXTRACT(ISOWEEK FROM DATE '2021-01-01')",
        json!([[6, 1, 2021, 53]]),
    );
    check(
        &(all(
            "EXTRACT(HOUR FROM TIMESTAMP_MICROS(event_timestamp)), UNIX_MICROS(TIMESTAMP_MICROS(event_timestamp)), DATE(TIMESTAMP_MICROS(event_timestamp)), TIMESTAMP_TRUNC(TIMESTAMP_MICROS(event_timestamp), DAY)",
        ) + " AND user_pseudo_id = 'u2' ORDER BY event_timestamp"),
        json!([
            [
                23,
                1609457400000000_i64,
                "2020-12-31",
                "2020-12-31 00:00:00 UTC"
            ],
            [
                0,
                1609460100000000_i64,
                "2021-01-01",
                "2021-01-01 00:00:00 UTC"
            ]
        ]),
    );
    // CURRENT_DATE() is the day after the newest shard.
    check(
        "SELECT CURRENT_DATE(), DATE_SUB(CURRENT_DATE(), INTERVAL 1 DAY)",
        json!([["2021-01-02", "2021-01-01"]]),
    );
    check(
        "SELECT ARRAY_LENGTH(GENERATE_DATE_ARRAY(DATE '2021-01-30', DATE '2021-02-01')), GENERATE_DATE_ARRAY(DATE '2021-01-30', DATE '2021-02-01')[OFFSET(2)]",
        json!([[3, "2021-02-01"]]),
    );
}

#[test]
fn aggregate_and_conditional_functions() {
    check(
        &all(
            "COUNTIF(event_name = 'page_view'), APPROX_COUNT_DISTINCT(user_pseudo_id), LOGICAL_AND(event_timestamp > 0), LOGICAL_OR(event_name = 'purchase')",
        ),
        json!([[3, 3, true, true]]),
    );
    // GA4's reports count users (precision 14) and sessions (12) with HyperLogLog++: written
    // whole, the estimate is a distinct count here.
    check(
        &all(
            "HLL_COUNT.EXTRACT(HLL_COUNT.INIT(user_pseudo_id, 14)), hll_count.extract(hll_count.init(event_name)), COUNT(DISTINCT event_name)",
        ),
        json!([[3, 5, 5]]),
    );
    check(
        "SELECT SAFE_DIVIDE(1, 0), SAFE_DIVIDE(3, 2), IF(1 > 2, 'a', 'b'), IFNULL(NULL, 'x'), COALESCE(NULL, NULL, 3), DIV(7, 2), DIV(-7, 2)",
        json!([[null, 1.5, "b", "x", 3, 3, -3]]),
    );
    check(
        "SELECT ARRAY_AGG(event_name ORDER BY event_timestamp DESC LIMIT 2) FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE user_pseudo_id = 'u1'",
        json!([[["purchase", "page_view"]]]),
    );
    // IGNORE NULLS after a call is ARRAY_AGG's (the first non-null value of a session, as
    // GA4's session source is written), not the call's.
    check(
        "SELECT ARRAY_AGG(IF(event_name = 'purchase', event_name, NULL) IGNORE NULLS ORDER BY event_timestamp LIMIT 1)[SAFE_OFFSET(0)], \
         ARRAY_LENGTH(ARRAY_AGG(IF(event_name = 'purchase', event_name, NULL) IGNORE NULLS)) \
         FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` WHERE user_pseudo_id = 'u1'",
        json!([["purchase", 1]]),
    );
    check(
        &all("STRING_AGG(DISTINCT geo.country, ',' ORDER BY geo.country)"),
        json!([["South Korea,United States"]]),
    );
    // GREATEST and LEAST are NULL when any argument is, as in BigQuery.
    check(
        "SELECT GREATEST(1, 3, 2), LEAST(2, NULL), GREATEST(NULL, 1)",
        json!([[3, null, null]]),
    );
    // CONCAT is NULL when any part is.
    check(
        "SELECT CONCAT('a', NULL), CONCAT('a', 'b', 'c')",
        json!([[null, "abc"]]),
    );
}

#[test]
fn string_and_cast_functions() {
    check(
        r"SELECT REGEXP_CONTAINS('https://x/?id=12', r'id=\d+'), REGEXP_EXTRACT('https://x/?id=12', r'id=(\d+)'), REGEXP_EXTRACT('abc', r'z'), REGEXP_EXTRACT('abc', 'b.'), REGEXP_REPLACE('a-b-c', '-', '_'), STARTS_WITH('Google Decal', 'Google')",
        json!([[true, "12", null, "bc", "a_b_c", true]]),
    );
    check(
        "SELECT CAST('12' AS INT64), SAFE_CAST('x' AS INT64), CAST(1 AS FLOAT64), CAST('1.50' AS NUMERIC), CAST(12 AS STRING), SAFE_CAST('2.5' AS FLOAT64)",
        json!([[12, null, 1.0, "1.5", "12", 2.5]]),
    );
}

#[test]
fn query_shapes() {
    check(
        &(all("user_pseudo_id, event_name")
            + " QUALIFY ROW_NUMBER() OVER (PARTITION BY user_pseudo_id ORDER BY event_timestamp) = 1 ORDER BY user_pseudo_id"),
        json!([
            ["u1", "session_start"],
            ["u2", "page_view"],
            ["u3", "first_visit"]
        ]),
    );
    check(
        "WITH u AS (SELECT user_pseudo_id AS u, COUNT(*) AS n, 'x' AS tag FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` GROUP BY 1) \
         SELECT * EXCEPT (tag) REPLACE (n * 10 AS n) FROM u ORDER BY u",
        json!([["u1", 40], ["u2", 20], ["u3", 20]]),
    );
    check(
        &(all(
            "event_timestamp, SUM(1) OVER (ORDER BY event_timestamp) AS running, LAG(event_name) OVER (ORDER BY event_timestamp) AS prev",
        ) + " AND user_pseudo_id = 'u3' ORDER BY event_timestamp"),
        json!([
            [1609502400000000_i64, 1, null],
            [1609502460000000_i64, 2, "first_visit"]
        ]),
    );
    check(
        "SELECT COUNT(*) FROM (SELECT 1 AS x UNION ALL SELECT 1 UNION ALL SELECT 2)",
        json!([[3]]),
    );
    check(
        "SELECT COUNT(*) FROM (SELECT 1 AS x UNION DISTINCT SELECT 1)",
        json!([[1]]),
    );
    check(
        "SELECT 2 IN UNNEST([1, 2]), 5 NOT IN UNNEST([1, 2])",
        json!([[true, true]]),
    );
}

#[test]
fn nulls_sort_as_in_bigquery() {
    check(
        "SELECT x FROM UNNEST([2, NULL, 1]) AS x ORDER BY x",
        json!([[null], [1], [2]]),
    );
    check(
        "SELECT x FROM UNNEST([2, NULL, 1]) AS x ORDER BY x DESC",
        json!([[2], [1], [null]]),
    );
}

/// Wall clocks in other zones, by hand: 2020-12-01 15:30 UTC is 2020-12-02 00:30 in Seoul
/// (UTC+9) and 2020-12-01 07:30 in Los Angeles (UTC-8 in December).
#[test]
fn time_zones_convert_through_the_zone_database() {
    let ts = "TIMESTAMP '2020-12-01 15:30:00'";
    check(
        &format!(
            "SELECT FORMAT_TIMESTAMP('%Y-%m-%d %H:%M', {ts}, 'Asia/Seoul') AS seoul, \
                    DATE({ts}, 'America/Los_Angeles') AS la_day, \
                    EXTRACT(HOUR FROM {ts} AT TIME ZONE 'Asia/Seoul') AS seoul_hour, \
                    CAST(DATETIME({ts}, 'Asia/Seoul') AS STRING) AS seoul_wall, \
                    UNIX_SECONDS(TIMESTAMP('2020-12-02 00:30:00', 'Asia/Seoul')) = UNIX_SECONDS({ts}) AS same_instant, \
                    UNIX_SECONDS(TIMESTAMP_TRUNC({ts}, DAY, 'Asia/Seoul')) = UNIX_SECONDS(TIMESTAMP '2020-12-01 15:00:00') AS seoul_midnight, \
                    DATE({ts}, 'UTC') AS utc_day"
        ),
        json!([[
            "2020-12-02 00:30",
            "2020-12-01",
            0,
            "2020-12-02 00:30:00",
            true,
            true,
            "2020-12-01"
        ]]),
    );
}

#[test]
fn string_and_url_functions_analysts_use() {
    check(
        "SELECT CONTAINS_SUBSTR('Google Merchandise Store', 'merch') AS a, \
                CONTAINS_SUBSTR('Google', 'apple') AS b, \
                INSTR('page_view', 'view') AS c, INSTR('page_view', 'x') AS d, \
                NET.HOST('https://user@shop.googlemerchandisestore.com:443/basket?x=1#top') AS e, \
                NET.HOST('www.google.com/search') AS f, NET.HOST('') AS g, \
                ARRAY_REVERSE(SPLIT('/a/b/c', '/'))[SAFE_OFFSET(0)] AS h",
        json!([[
            true,
            false,
            6,
            0,
            "shop.googlemerchandisestore.com",
            "www.google.com",
            null,
            "c"
        ]]),
    );
}

#[test]
fn dates_quantiles_and_top_counts() {
    check(
        "SELECT LAST_DAY(DATE '2020-02-10') AS a, LAST_DAY(DATE '2020-11-10', QUARTER) AS b, \
                LAST_DAY(DATE '2020-11-10', YEAR) AS c",
        json!([["2020-02-29", "2020-12-31", "2020-12-31"]]),
    );
    // 1..9: quartiles by rank are 1, 3, 5, 7, 9; the top values of (a a a b b c).
    check(
        "SELECT APPROX_QUANTILES(x, 4) AS q FROM UNNEST([9, 1, 8, 2, 7, 3, 6, 4, 5]) AS x",
        json!([[[1, 3, 5, 7, 9]]]),
    );
    check(
        "SELECT APPROX_TOP_COUNT(v, 2) AS top FROM UNNEST(['a', 'b', 'a', 'c', 'b', 'a']) AS v",
        json!([[[{"value": "a", "count": 3}, {"value": "b", "count": 2}]]]),
    );
    check(
        "SELECT DISTINCT PERCENTILE_CONT(x, 0.5) OVER () AS median FROM UNNEST([1, 2, 3, 10]) AS x",
        json!([[2.5]]),
    );
}

#[test]
fn json_and_struct_literals() {
    check(
        r#"SELECT JSON_VALUE('{"a": {"b": "x"}}', '$.a.b') AS a, JSON_QUERY('{"a": {"b": 1}}', '$.a') AS b,
                  JSON_EXTRACT_SCALAR('{"n": 5}', '$.n') AS c, TO_JSON_STRING(STRUCT(1 AS id, 'k' AS name)) AS d"#,
        json!([["x", "{\"b\":1}", "5", "{\"id\":1,\"name\":\"k\"}"]]),
    );
    check(
        "SELECT s.id, s.name FROM (SELECT STRUCT<id INT64, name STRING>(7, 'q') AS s)",
        json!([[7, "q"]]),
    );
}

/// `UNNEST(items) AS items`: BigQuery resolves the name to the element (see nlq-sql).
#[test]
fn an_unnest_alias_may_repeat_the_column_name() {
    check(
        &(all("SUM(items.quantity) AS q") + " AND event_name = 'purchase'")
            .replace("` WHERE", "`, UNNEST(items) AS items WHERE"),
        json!([[3]]),
    );
    check(
        &all(
            "COUNTIF((SELECT event_params.value.int_value FROM UNNEST(event_params) AS event_params WHERE event_params.key = 'ga_session_id') IS NOT NULL) AS n",
        ),
        json!([[8]]),
    );
}

/// Functions the one function table (nlq_sql::functions) runs under the same or another DuckDB
/// name, or writes out; values computed by hand.
#[test]
fn math_and_safe_arithmetic_as_bigquery_answers() {
    check(
        "SELECT LOG(8, 2) AS a, ROUND(LOG(EXP(1)), 9) AS b, ZEROIFNULL(NULL) AS c, ZEROIFNULL(4) AS d, \
                SAFE_ADD(9223372036854775807, 1) AS e, SAFE_ADD(2, 3) AS f, \
                SAFE_SUBTRACT(-9223372036854775807, 2) AS g, SAFE_MULTIPLY(4, 5) AS h, \
                SAFE_NEGATE(7) AS i, SAFE.ABS(-3) AS j, IS_NAN(CAST('NaN' AS FLOAT64)) AS k, \
                IS_INF(CAST('inf' AS FLOAT64)) AS l, ACOS(1) AS m, CBRT(8) AS n",
        json!([[
            3.0, 1.0, 0, 4, null, 5, null, 20, -7, 3, true, true, 0.0, 2.0
        ]]),
    );
}

#[test]
fn string_and_date_functions_from_the_table() {
    check(
        "SELECT BYTE_LENGTH('한국') AS a, CHARACTER_LENGTH('한국') AS b, OCTET_LENGTH('ab') AS c, \
                REGEXP_SUBSTR('/product/42?x', r'/product/(\\d+)') AS d, \
                DATE_FROM_UNIX_DATE(18628) AS e, ASCII('A') AS f, CHR(66) AS g, \
                TRANSLATE('a-b_c', '-_', '  ') AS h",
        json!([[6, 2, 2, "42", "2021-01-01", 65, "B", "a b c"]]),
    );
    check(
        "SELECT MAX_BY(x, y) AS a, MIN_BY(x, y) AS b, BIT_OR(y) AS c \
         FROM UNNEST([STRUCT('p' AS x, 1 AS y), ('q', 4), ('r', 2)])",
        json!([["q", "p", 7]]),
    );
}
