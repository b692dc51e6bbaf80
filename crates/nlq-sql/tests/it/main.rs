//! nlq-sql: what BigQuery SQL becomes. Inline snapshots of the DuckDB SQL for each rewrite,
//! plus the invariant that every translation parses again (DuckDB dialect).

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nlq_core::SqlPosition;
use nlq_sql::{Catalog, SqlError, translate};
use sqlparser::dialect::DuckDbDialect;
use sqlparser::parser::Parser;

fn catalog() -> Catalog {
    Catalog {
        project: "bigquery-public-data".into(),
        dataset: "ga4_obfuscated_sample_ecommerce".into(),
        tables: vec![
            "events_20201130".into(),
            "events_20201201".into(),
            "events_20201202".into(),
        ],
        schema: nlq_core::ga4::events_schema().unwrap(),
        current_date: "2020-12-03".into(),
    }
}

/// Translates and checks the output parses as DuckDB SQL.
fn duck(sql: &str) -> String {
    let translation = translate(sql, &catalog()).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    Parser::parse_sql(&DuckDbDialect {}, &translation.sql)
        .unwrap_or_else(|e| panic!("translation does not parse: {e}\n{}", translation.sql));
    translation.sql
}

const EVENTS: &str = "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";

#[test]
fn wildcard_becomes_a_union_of_the_kept_shards() {
    let t = translate(
        &format!(
            "SELECT COUNT(*) FROM {EVENTS} WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'"
        ),
        &catalog(),
    )
    .unwrap();
    assert_eq!(t.tables_read, vec!["events_20201201", "events_20201202"]);
    insta::assert_snapshot!(t.sql, @r#"SELECT COUNT(*) AS f0_ FROM (SELECT *, '20201201' AS _TABLE_SUFFIX FROM "events_20201201" UNION ALL SELECT *, '20201202' AS _TABLE_SUFFIX FROM "events_20201202") AS "events_*" WHERE _TABLE_SUFFIX BETWEEN '20201201' AND '20201231'"#);
}

/// A year of shards is a balanced union, not a chain 336 deep: translating (and every later
/// walk of the tree) fits in a 1 MiB stack, where a chain of three months overflowed 2 MiB.
#[test]
fn a_year_of_shards_translates_on_a_small_stack() {
    let mut catalog = catalog();
    catalog.tables = (1..=12)
        .flat_map(|m| (1..=28).map(move |d| format!("events_2020{m:02}{d:02}")))
        .collect();
    let sql = format!(
        "SELECT DISTINCT ecommerce.transaction_id, item.item_name FROM {EVENTS} \
         CROSS JOIN UNNEST(items) AS item WHERE _TABLE_SUFFIX BETWEEN '20200101' AND '20201231' \
         AND event_name = 'purchase'"
    );
    let translated = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || translate(&sql, &catalog).map(|t| (t.tables_read.len(), t.sql)))
        .unwrap()
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(translated.0, 336);
    assert_eq!(translated.1.matches("UNION ALL").count(), 335);
}

#[test]
fn an_empty_range_reads_no_shard_but_keeps_the_columns() {
    let t = translate(
        &format!("SELECT event_name FROM {EVENTS} WHERE _TABLE_SUFFIX = '20210101'"),
        &catalog(),
    )
    .unwrap();
    assert!(t.tables_read.is_empty());
    insta::assert_snapshot!(t.sql, @r#"SELECT event_name FROM (SELECT *, CAST(NULL AS VARCHAR) AS _TABLE_SUFFIX FROM "events_20201130" WHERE false) AS "events_*" WHERE _TABLE_SUFFIX = '20210101'"#);
}

#[test]
fn parameter_lookups_become_list_functions() {
    insta::assert_snapshot!(
        duck("SELECT (SELECT ep.value.int_value FROM UNNEST(event_params) AS ep WHERE ep.key = 'ga_session_id') FROM events_20201130 AS t"),
        @r#"SELECT "list_filter"(event_params, lambda ep : ep.key = 'ga_session_id')[1].value.int_value AS f0_ FROM events_20201130 AS t"#
    );
    insta::assert_snapshot!(
        duck("SELECT (SELECT value.string_value FROM UNNEST(event_params) WHERE key = 'page_title') FROM events_20201130 AS t"),
        @r#"SELECT "list_filter"(event_params, lambda __e : __e.key = 'page_title')[1].value.string_value AS f0_ FROM events_20201130 AS t"#
    );
    insta::assert_snapshot!(
        duck("SELECT (SELECT UPPER(ep.key) FROM UNNEST(event_params) ep LIMIT 1) FROM events_20201130 AS t"),
        @r#"SELECT "list_transform"(event_params, lambda ep : UPPER(ep.key))[1] AS f0_ FROM events_20201130 AS t"#
    );
}

#[test]
fn unnest_in_from_names_the_element_like_bigquery() {
    insta::assert_snapshot!(
        duck("SELECT item.item_name FROM events_20201130 AS t CROSS JOIN UNNEST(items) AS item"),
        @"SELECT item.item_name FROM events_20201130 AS t CROSS JOIN UNNEST(items) AS item (item)"
    );
    insta::assert_snapshot!(
        duck("SELECT i, o FROM events_20201130 AS t, UNNEST(items) AS i WITH OFFSET AS o"),
        @r#"SELECT i, o FROM events_20201130 AS t, LATERAL (SELECT __u."i" AS "i", __u.__ord - 1 AS "o" FROM UNNEST(items) WITH ORDINALITY AS __u ("i", __ord)) AS i"#
    );
}

/// `UNNEST(items) AS items`: BigQuery resolves `items` to the element; DuckDB would call it
/// ambiguous with the column, so the alias and what refers to it get a fresh name.
#[test]
fn an_unnest_alias_equal_to_a_column_shadows_it_like_bigquery() {
    insta::assert_snapshot!(
        duck("SELECT items.item_name, SUM(items.price) FROM events_20201130, UNNEST(items) AS items WHERE items.price > 1 GROUP BY items.item_name ORDER BY items.item_name"),
        @"SELECT __items_1.item_name, SUM(__items_1.price) AS f0_ FROM events_20201130, UNNEST(items) AS __items_1 (__items_1) WHERE __items_1.price > 1 GROUP BY __items_1.item_name ORDER BY __items_1.item_name"
    );
    // In a correlated subquery, and beside a second UNNEST that reads the first.
    insta::assert_snapshot!(
        duck("SELECT (SELECT event_params.value.string_value FROM UNNEST(event_params) AS event_params WHERE event_params.key = 'page_title') AS title FROM events_20201130"),
        @r#"SELECT "list_filter"(event_params, lambda __event_params_1 : __event_params_1.key = 'page_title')[1].value.string_value AS title FROM events_20201130"#
    );
    insta::assert_snapshot!(
        duck("SELECT event_params.key, items FROM events_20201130 CROSS JOIN UNNEST(event_params) AS event_params LEFT JOIN UNNEST(items) AS items ON items.item_id = event_params.value.string_value"),
        @"SELECT __event_params_1.key, __items_2 AS items FROM events_20201130 CROSS JOIN UNNEST(event_params) AS __event_params_1 (__event_params_1) LEFT JOIN UNNEST(items) AS __items_2 (__items_2) ON __items_2.item_id = __event_params_1.value.string_value"
    );
    // A subquery with a table of its own sees that table's column, not the outer alias.
    insta::assert_snapshot!(
        duck("SELECT items.item_id FROM events_20201130, UNNEST(items) AS items WHERE EXISTS (SELECT 1 FROM events_20201201 AS e WHERE ARRAY_LENGTH(items) > 0)"),
        @r#"SELECT __items_1.item_id FROM (SELECT * FROM events_20201130 WHERE EXISTS (SELECT 1 FROM events_20201201 AS e WHERE "len"(items) > 0)) AS events_20201130, UNNEST(items) AS __items_1 (__items_1)"#
    );
}

/// Conjuncts on the event row filter events before their arrays are unnested; a conjunct on
/// the element (or one that mixes both) stays where it is.
#[test]
fn event_filters_run_before_the_unnest() {
    insta::assert_snapshot!(
        duck("SELECT item.item_name, SUM(item.item_revenue) AS r FROM events_20201130 AS e, UNNEST(items) AS item WHERE e.event_name = 'purchase' AND item.price > 0 AND (event_name = 'x' OR item.price < 1) GROUP BY 1"),
        @"SELECT item.item_name, SUM(item.item_revenue) AS r FROM (SELECT * FROM events_20201130 AS e WHERE e.event_name = 'purchase') AS e, UNNEST(items) AS item (item) WHERE item.price > 0 AND (event_name = 'x' OR item.price < 1) GROUP BY 1"
    );
    insta::assert_snapshot!(
        duck("SELECT p.key, o FROM events_20201130 CROSS JOIN UNNEST(event_params) AS p WITH OFFSET AS o WHERE event_name = 'page_view' AND o = 0"),
        @r#"SELECT p.key, o FROM (SELECT * FROM events_20201130 WHERE event_name = 'page_view') AS events_20201130 CROSS JOIN LATERAL (SELECT __u."p" AS "p", __u.__ord - 1 AS "o" FROM UNNEST(event_params) WITH ORDINALITY AS __u ("p", __ord)) AS p WHERE o = 0"#
    );
    // Unaliased UNNEST of structs: its fields are bare names, nothing moves.
    insta::assert_snapshot!(
        duck("SELECT COUNT(*) AS n FROM events_20201130, UNNEST(event_params) WHERE key = 'page_title' AND event_name = 'page_view'"),
        @"SELECT COUNT(*) AS n FROM events_20201130, LATERAL (SELECT UNNEST(__e) FROM (SELECT UNNEST(event_params) AS __e)) AS __unnest1 WHERE key = 'page_title' AND event_name = 'page_view'"
    );
}

/// `>>` closes two type brackets in a typed literal (the tokenizer reads a shift).
#[test]
fn typed_array_of_struct_literals_parse() {
    insta::assert_snapshot!(
        duck("SELECT s.a, s.b FROM UNNEST(ARRAY<STRUCT<a INT64, b ARRAY<STRING>>>[(1, ['x']), (2, [])]) AS s"),
        @"SELECT s.a, s.b FROM UNNEST(ARRAY[{'a': CAST(1 AS BIGINT), 'b': ['x']}, {'a': CAST(2 AS BIGINT), 'b': []}]) AS s (s)"
    );
    insta::assert_snapshot!(duck("SELECT ARRAY<FLOAT64>[1, 2.5] AS xs"), @"SELECT ARRAY[CAST(1 AS DOUBLE), CAST(2.5 AS DOUBLE)] AS xs");
}

#[test]
fn functions_keep_bigquery_semantics() {
    insta::assert_snapshot!(
        duck("SELECT SAFE_DIVIDE(a - b, b), CONCAT(x, y), COUNTIF(z), IF(c, 1, 2) FROM events_20201130 AS t"),
        @r#"SELECT ((a - b) / "nullif"(b, 0)) AS f0_, (x || y) AS f1_, "count_if"(z) AS f2_, CASE WHEN c THEN 1 ELSE 2 END AS f3_ FROM events_20201130 AS t"#
    );
    insta::assert_snapshot!(
        duck("SELECT DATE_TRUNC(d, WEEK(MONDAY)), FORMAT_DATE('%Y-%m', PARSE_DATE('%Y%m%d', event_date)), CURRENT_DATE() FROM events_20201130 AS t"),
        @r#"SELECT (CAST(d AS DATE) - CAST(((("dayofweek"(d) - 1) + 7) % 7) AS INTEGER)) AS f0_, "strftime"(CAST(CAST("strptime"(event_date, '%Y%m%d') AS DATE) AS DATE), '%Y-%m') AS f1_, CAST('2020-12-03' AS DATE) AS f2_ FROM events_20201130 AS t"#
    );
    insta::assert_snapshot!(
        duck("SELECT ARRAY_AGG(x ORDER BY y LIMIT 3), items[OFFSET(0)].item_name, SAFE_CAST(s AS INT64) FROM events_20201130 AS t"),
        @r#"SELECT ("list"(x ORDER BY y))[1:3] AS f0_, items[(0 + 1)].item_name AS item_name, TRY_CAST(s AS BIGINT) AS f1_ FROM events_20201130 AS t"#
    );
}

#[test]
fn every_error_names_the_construct() {
    let err = |sql: &str| translate(sql, &catalog()).unwrap_err();
    assert!(matches!(
        err("UPDATE t SET a = 1"),
        SqlError::NotAQuery { .. }
    ));
    assert_eq!(
        err("SELECT 1 /* ; */ ;\n  -- two\n  SELECT 2"),
        SqlError::MultipleStatements {
            count: 2,
            position: Some(SqlPosition { line: 3, column: 3 })
        }
    );
    assert!(matches!(
        err("SELECT glob('*')"),
        SqlError::Unsupported { .. }
    ));
    assert!(matches!(
        err("SELECT * FROM events_2099"),
        SqlError::UnknownTable { .. }
    ));
    let e = err("SELECT\n  x[5]\nFROM nowhere");
    // A bare subscript is an OFFSET in BigQuery: allowed. A named accessor that is not one is not.
    assert!(matches!(e, SqlError::UnknownTable { .. }), "{e}");
    let e = err("SELECT a\nFROM events_20201130, UNNEST(items, event_params)");
    assert!(e.to_string().contains("UNNEST of several arrays"), "{e}");
    assert_eq!(e.position().map(|p| p.line), Some(2), "{e}");
    let e = err("SELECT x[KEY(5)] FROM events_20201130");
    assert!(e.to_string().contains("array subscript"), "{e}");
}

#[test]
fn statements_that_are_not_queries_are_refused_by_name() {
    for (sql, name) in [
        ("INSERT INTO t (a) VALUES (1)", "INSERT"),
        ("UPDATE t SET a = 1 WHERE true", "UPDATE"),
        ("DELETE FROM t WHERE true", "DELETE"),
        (
            "MERGE t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
            "MERGE",
        ),
        ("TRUNCATE TABLE t", "TRUNCATE"),
        ("CREATE TABLE t (a INT64)", "CREATE TABLE"),
        ("DROP TABLE t", "DROP"),
        ("DECLARE x INT64", "DECLARE"),
        ("SET x = 1", "SET"),
        ("CALL proc()", "CALL"),
    ] {
        match translate(sql, &catalog()) {
            Err(SqlError::NotAQuery {
                construct,
                position,
            }) => {
                assert_eq!(construct, name, "{sql}");
                assert_eq!(position.map(|p| (p.line, p.column)), Some((1, 1)), "{sql}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    // SELECT ... INTO writes: refused where its target is named.
    match translate(
        "SELECT event_name\nINTO copy FROM events_20201130",
        &catalog(),
    ) {
        Err(SqlError::NotAQuery {
            construct,
            position,
        }) => {
            assert_eq!(construct, "SELECT ... INTO");
            assert_eq!(position.map(|p| (p.line, p.column)), Some((2, 6)));
        }
        other => panic!("SELECT INTO: {other:?}"),
    }
    // Keywords inside strings, comments and names are not statements.
    duck("SELECT 'DROP TABLE t' AS a /* DELETE FROM t */ FROM events_20201130 AS `delete`");
}

#[test]
fn ctes_are_tables_too() {
    insta::assert_snapshot!(
        duck(&format!("WITH d AS (SELECT event_name FROM {EVENTS} WHERE _TABLE_SUFFIX = '20201130') SELECT COUNT(*) FROM d")),
        @r#"WITH d AS (SELECT event_name FROM (SELECT *, '20201130' AS _TABLE_SUFFIX FROM "events_20201130") AS "events_*" WHERE _TABLE_SUFFIX = '20201130') SELECT COUNT(*) AS f0_ FROM d"#
    );
}

#[test]
fn retarget_moves_every_table_of_the_sample_to_another_dataset() {
    let sql = "WITH buyers AS (SELECT user_pseudo_id FROM \
        `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*` \
        WHERE event_name = 'purchase') \
        SELECT COUNT(*) FROM bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_20210101 AS e \
        JOIN buyers USING (user_pseudo_id) \
        CROSS JOIN UNNEST(e.items) AS item \
        WHERE e.user_pseudo_id IN (SELECT user_pseudo_id FROM `other-project.other.events_*`)";
    let moved = nlq_sql::retarget(
        sql,
        ("bigquery-public-data", "ga4_obfuscated_sample_ecommerce"),
        ("my-co", "analytics_123"),
    )
    .unwrap();
    insta::assert_snapshot!(moved, @"WITH buyers AS (SELECT user_pseudo_id FROM `my-co.analytics_123.events_*` WHERE event_name = 'purchase') SELECT COUNT(*) FROM `my-co.analytics_123.events_20210101` AS e JOIN buyers USING(user_pseudo_id) CROSS JOIN UNNEST(e.items) AS item WHERE e.user_pseudo_id IN (SELECT user_pseudo_id FROM `other-project`.`other`.`events_*`)");
    let err = nlq_sql::retarget("DROP TABLE x", ("a", "b"), ("c", "d")).unwrap_err();
    assert!(
        matches!(err, SqlError::NotAQuery { .. } | SqlError::Parse { .. }),
        "{err:?}"
    );
}
