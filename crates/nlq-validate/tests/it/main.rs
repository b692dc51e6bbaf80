//! The guard against a malicious corpus (every refused kind, each with the right reason) and a
//! benign one (every dev gold query and the engine's GA4 corpus must pass).

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pipeline;

use nlq_validate::{
    AllowedDataset, Finding, GuardConfig, LintContext, Severity, StandardParams, guard, lint,
};

fn config() -> GuardConfig {
    GuardConfig {
        allowed: vec![AllowedDataset {
            project: "bigquery-public-data".into(),
            dataset: "ga4_obfuscated_sample_ecommerce".into(),
        }],
    }
}

const T: &str = "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`";

fn refusals(sql: &str) -> Vec<Finding> {
    guard(sql, &config())
}

/// (SQL, the rule that must refuse it).
fn malicious() -> Vec<(String, &'static str)> {
    let mut cases: Vec<(String, &'static str)> = vec![
        // data changes
        ("INSERT INTO ga4_obfuscated_sample_ecommerce.events_20201101 (event_name) VALUES ('x')".into(), "guard.not_a_query"),
        ("UPDATE ga4_obfuscated_sample_ecommerce.events_20201101 SET event_name = 'x' WHERE true".into(), "guard.not_a_query"),
        ("DELETE FROM ga4_obfuscated_sample_ecommerce.events_20201101 WHERE true".into(), "guard.not_a_query"),
        ("DELETE ga4_obfuscated_sample_ecommerce.events_20201101 WHERE true".into(), "guard.not_a_query"),
        ("MERGE ga4_obfuscated_sample_ecommerce.t USING s ON t.a = s.a WHEN MATCHED THEN DELETE".into(), "guard.not_a_query"),
        ("TRUNCATE TABLE ga4_obfuscated_sample_ecommerce.events_20201101".into(), "guard.not_a_query"),
        // SELECT ... INTO writes a table though it reads like a query.
        ("SELECT event_name INTO ga4_obfuscated_sample_ecommerce.copy FROM ga4_obfuscated_sample_ecommerce.events_20201101".into(), "guard.not_a_query"),
        ("SELECT 1 AS a UNION ALL SELECT event_name INTO t FROM ga4_obfuscated_sample_ecommerce.events_20201101".into(), "guard.not_a_query"),
        ("WITH x AS (SELECT 1 AS a) SELECT a INTO TEMPORARY t FROM x".into(), "guard.not_a_query"),
        // schema changes
        ("CREATE TABLE ga4_obfuscated_sample_ecommerce.x AS SELECT 1 AS a".into(), "guard.not_a_query"),
        ("CREATE OR REPLACE TABLE ga4_obfuscated_sample_ecommerce.x (a INT64)".into(), "guard.not_a_query"),
        ("CREATE VIEW ga4_obfuscated_sample_ecommerce.v AS SELECT 1 AS a".into(), "guard.not_a_query"),
        ("CREATE SCHEMA evil".into(), "guard.not_a_query"),
        ("DROP TABLE ga4_obfuscated_sample_ecommerce.events_20201101".into(), "guard.not_a_query"),
        ("DROP SCHEMA ga4_obfuscated_sample_ecommerce CASCADE".into(), "guard.not_a_query"),
        ("ALTER TABLE ga4_obfuscated_sample_ecommerce.events_20201101 ADD COLUMN x INT64".into(), "guard.not_a_query"),
        ("ALTER TABLE ga4_obfuscated_sample_ecommerce.events_20201101 RENAME TO y".into(), "guard.not_a_query"),
        ("CREATE TEMP FUNCTION f(x INT64) AS (x + 1)".into(), "guard.not_a_query"),
        ("CREATE TEMP FUNCTION f(x INT64) AS (x + 1); SELECT f(1)".into(), "guard.multiple_statements"),
        ("GRANT SELECT ON TABLE t TO 'user:a@b.c'".into(), "guard.not_a_query"),
        // scripting
        ("DECLARE x INT64".into(), "guard.not_a_query"),
        ("DECLARE x INT64 DEFAULT 1; SELECT x".into(), "guard.multiple_statements"),
        ("SET x = 1".into(), "guard.not_a_query"),
        ("BEGIN SELECT 1; END".into(), "guard.not_a_query"),
        ("BEGIN TRANSACTION".into(), "guard.not_a_query"),
        ("IF true THEN SELECT 1; END IF".into(), "guard.not_a_query"),
        ("LOOP SELECT 1; END LOOP".into(), "guard.unparseable"),
        ("WHILE true DO SELECT 1; END WHILE".into(), "guard.unparseable"),
        ("CALL ga4_obfuscated_sample_ecommerce.proc()".into(), "guard.not_a_query"),
        ("EXECUTE IMMEDIATE 'DROP TABLE t'".into(), "guard.not_a_query"),
        ("EXPORT DATA OPTIONS (uri = 'gs://b/*.csv', format = 'CSV') AS SELECT 1".into(), "guard.not_a_query"),
        ("LOAD DATA INTO ga4_obfuscated_sample_ecommerce.t FROM FILES (format = 'CSV', uris = ['gs://b/x.csv'])".into(), "guard.unparseable"),
        // several statements, however hidden
        ("SELECT 1; SELECT 2".into(), "guard.multiple_statements"),
        ("SELECT 1; DROP TABLE t".into(), "guard.multiple_statements"),
        ("SELECT 1 /* ; */ ; DELETE FROM t WHERE true".into(), "guard.multiple_statements"),
        ("SELECT '--'; DROP TABLE t".into(), "guard.multiple_statements"),
        ("SELECT 1 -- comment\n; DROP TABLE t".into(), "guard.multiple_statements"),
        ("SELECT 'a;b'; DELETE FROM t WHERE true".into(), "guard.multiple_statements"),
        ("SELECT 1;\n\n\nUPDATE t SET a = 1 WHERE true".into(), "guard.multiple_statements"),
        ("select 1; drop table t".into(), "guard.multiple_statements"),
        ("SeLeCt 1; DrOp TaBlE t".into(), "guard.multiple_statements"),
        ("WITH a AS (SELECT 1) SELECT * FROM a; DELETE FROM t WHERE true".into(), "guard.multiple_statements"),
        // tables outside the allowed datasets
        ("SELECT * FROM `other-project.analytics_1.events_*`".into(), "guard.table_not_allowed"),
        ("SELECT * FROM analytics_1.events_20201101".into(), "guard.table_not_allowed"),
        ("SELECT * FROM `bigquery-public-data.other_dataset.t`".into(), "guard.table_not_allowed"),
        ("SELECT * FROM `evil-project.ga4_obfuscated_sample_ecommerce.events_*`".into(), "guard.table_not_allowed"),
        ("SELECT * FROM events_20201101".into(), "guard.table_not_allowed"),
        ("SELECT * FROM secrets".into(), "guard.table_not_allowed"),
        (format!("SELECT a.x FROM {T} AS e JOIN `other.ds.t` AS a ON TRUE"), "guard.table_not_allowed"),
        (format!("SELECT (SELECT COUNT(*) FROM other_ds.t) FROM {T}"), "guard.table_not_allowed"),
        (format!("SELECT * FROM {T} WHERE user_id IN (SELECT id FROM hr.salaries)"), "guard.table_not_allowed"),
        ("WITH x AS (SELECT * FROM hr.salaries) SELECT * FROM x".into(), "guard.table_not_allowed"),
        ("SELECT 1 UNION ALL SELECT salary FROM hr.salaries".into(), "guard.table_not_allowed"),
        ("SELECT * FROM `region-us.INFORMATION_SCHEMA.JOBS`".into(), "guard.table_not_allowed"),
        ("SELECT * FROM `region-us`.INFORMATION_SCHEMA.TABLES".into(), "guard.table_not_allowed"),
        ("SELECT * FROM other_ds.INFORMATION_SCHEMA.TABLES".into(), "guard.table_not_allowed"),
        ("SELECT * FROM `evil.other_ds.INFORMATION_SCHEMA.COLUMNS`".into(), "guard.table_not_allowed"),
        ("SELECT * FROM INFORMATION_SCHEMA.SCHEMATA".into(), "guard.table_not_allowed"),
        // files and engine-only table functions
        ("SELECT * FROM `/etc/passwd`".into(), "guard.file_table"),
        ("SELECT * FROM `../../secret.csv`".into(), "guard.file_table"),
        ("SELECT * FROM `C:\\\\data\\\\x.parquet`".into(), "guard.file_table"),
        ("SELECT * FROM read_csv('/etc/passwd')".into(), "guard.table_function"),
        ("SELECT * FROM read_parquet('/tmp/x.parquet')".into(), "guard.table_function"),
        ("SELECT * FROM read_text('/etc/hosts')".into(), "guard.table_function"),
        ("SELECT * FROM glob('/home/*')".into(), "guard.table_function"),
        ("SELECT * FROM EXTERNAL_QUERY('conn', 'SELECT 1')".into(), "guard.table_function"),
        ("SELECT * FROM ML.PREDICT(MODEL m, (SELECT 1))".into(), "guard.unparseable"),
        ("SELECT * FROM duckdb_settings()".into(), "guard.table_function"),
        // engine-only and dangerous scalar functions
        ("SELECT getenv('HOME')".into(), "guard.function_not_allowed"),
        ("SELECT GETENV('AWS_SECRET_ACCESS_KEY')".into(), "guard.function_not_allowed"),
        ("SELECT `getenv`('HOME')".into(), "guard.function_not_allowed"),
        ("SELECT read_blob('/etc/shadow')".into(), "guard.function_not_allowed"),
        ("SELECT current_setting('enable_external_access')".into(), "guard.function_not_allowed"),
        ("SELECT SESSION_USER()".into(), "guard.function_not_allowed"),
        ("SELECT list_filter([1], x -> true)".into(), "guard.function_not_allowed"),
        ("SELECT SAFE.getenv('HOME')".into(), "guard.function_not_allowed"),
        (format!("SELECT event_name FROM {T} WHERE getenv('X') IS NULL"), "guard.function_not_allowed"),
        (format!("SELECT event_name FROM {T} ORDER BY read_text('/etc/passwd')"), "guard.function_not_allowed"),
        ("SELECT (SELECT getenv('HOME'))".into(), "guard.function_not_allowed"),
        ("SELECT ML.GENERATE_TEXT('x')".into(), "guard.function_not_allowed"),
        ("SELECT AI.GENERATE('x')".into(), "guard.function_not_allowed"),
        ("SELECT pragma_version()".into(), "guard.function_not_allowed"),
        // nothing to run, or not SQL
        ("".into(), "guard.empty"),
        ("   \n\t ".into(), "guard.empty"),
        ("-- only a comment".into(), "guard.empty"),
        ("SELEC 1".into(), "guard.unparseable"),
        ("SELECT FROM WHERE".into(), "guard.unparseable"),
        ("SELECT 'unterminated".into(), "guard.unparseable"),
        ("SELECT 1 \u{037E} DROP TABLE t".into(), "guard.unparseable"),
        ("SELECT\u{00A0}1;\u{00A0}DROP TABLE t".into(), "guard.multiple_statements"),
        (format!("SELECT {}1{}", "(".repeat(500), ")".repeat(500)), "guard.unparseable"),
        (format!("SELECT 1 FROM {T} WHERE {}", "x = 1 OR ".repeat(200_000)), "guard.too_long"),
    ];
    // Case tricks on every statement kind.
    for kind in [
        "drop table t",
        "DeLeTe FrOm t WhErE true",
        "insert into t values (1)",
        "uPdAtE t SeT a = 1 wHeRe true",
    ] {
        cases.push((kind.to_owned(), "guard.not_a_query"));
    }
    cases
}

#[test]
fn every_malicious_statement_is_refused_for_the_right_reason() {
    let cases = malicious();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for (sql, rule) in &cases {
        let found = refusals(sql);
        let refused = found
            .iter()
            .any(|f| f.severity == Severity::Error && f.rule == *rule);
        if !refused {
            wrong.push(format!(
                "{:?}: expected {rule}, got {found:?}",
                sql.chars().take(120).collect::<String>()
            ));
        }
        for f in &found {
            assert!(!f.message.is_empty());
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn refusals_name_the_construct_and_its_position() {
    let found = refusals(
        "SELECT event_name\nFROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`\nWHERE getenv('X') IS NULL",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("getenv"), "{found:?}");
    assert_eq!(found[0].position.map(|p| (p.line, p.column)), Some((3, 7)));
    let found = refusals("SELECT 1\nFROM hr.salaries");
    assert!(
        found[0].message.contains("hr.salaries")
            && found[0].message.contains("ga4_obfuscated_sample_ecommerce"),
        "{found:?}"
    );
    assert_eq!(found[0].position.map(|p| p.line), Some(2));
    let found = refusals("  DROP TABLE t");
    assert!(found[0].message.contains("DROP"), "{found:?}");
    // A statement hidden after a string that holds a semicolon: named where it starts.
    let found = refusals("SELECT 'a;b';\nDELETE FROM t WHERE true");
    assert_eq!(found[0].rule, "guard.multiple_statements");
    assert_eq!(found[0].position.map(|p| (p.line, p.column)), Some((2, 1)));
    assert!(
        found[0]
            .message
            .contains("the second starts at line 2, column 1"),
        "{found:?}"
    );
}

#[test]
fn keywords_inside_strings_comments_and_names_are_safe() {
    for sql in [
        format!("SELECT 'DROP TABLE t; DELETE FROM t' AS s FROM {T}"),
        format!("SELECT event_name /* DROP TABLE t; */ FROM {T} -- ; DELETE FROM t"),
        format!("SELECT event_name AS `delete`, event_name AS `drop` FROM {T}"),
        format!("WITH `update` AS (SELECT event_name FROM {T}) SELECT * FROM `update`"),
        format!("SELECT COUNT(*) FROM {T} WHERE event_name = 'insert; update; merge'"),
        format!("SELECT \"EXECUTE IMMEDIATE\" AS x FROM {T}"),
        "SELECT * FROM `bigquery-public-data.ga4_obfuscated_sample_ecommerce.INFORMATION_SCHEMA.TABLES`".to_owned(),
        "SELECT * FROM ga4_obfuscated_sample_ecommerce.INFORMATION_SCHEMA.COLUMNS".to_owned(),
    ] {
        let found = refusals(&sql);
        assert!(found.is_empty(), "{sql}: {found:?}");
    }
}

/// (name, SQL) of every dev gold query and every engine corpus query.
fn benign() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in include_str!("../../../../fixtures/questions/dev.jsonl").lines() {
        let question: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(sql) = question["gold_sql"].as_str() {
            out.push((question["id"].to_string(), sql.to_owned()));
        }
    }
    let corpus: toml::Table =
        toml::from_str(include_str!("../../../../fixtures/corpus/ga4_corpus.toml")).unwrap();
    for entry in corpus["query"].as_array().unwrap() {
        let sql = entry["bigquery"].as_str().unwrap();
        out.push((format!("{:?}", entry["id"]), sql.to_owned()));
    }
    out
}

#[test]
fn every_dev_gold_query_and_engine_corpus_query_passes() {
    let queries = benign();
    for (name, sql) in &queries {
        let found = refusals(sql);
        assert!(found.is_empty(), "{name}: {found:?}");
    }
    assert!(queries.len() >= 150, "{} benign queries", queries.len());
}

#[test]
fn no_lint_error_in_any_gold_or_corpus_query() {
    // The sample's shards: 2020-11-01 .. 2021-01-31, as the embedded engine has them.
    let tables: Vec<String> = (0..92)
        .map(|d| {
            let (m, day) = match d {
                0..=29 => ("202011", d + 1),
                30..=60 => ("202012", d - 29),
                _ => ("202101", d - 60),
            };
            format!("events_{m}{day:02}")
        })
        .collect();
    let context = LintContext {
        tables: &tables,
        today: "2021-02-01",
        params: &StandardParams,
    };
    let mut warnings = std::collections::BTreeMap::<&str, usize>::new();
    for (name, sql) in benign() {
        let statement = nlq_sql::parse_query(&sql).unwrap();
        for finding in lint(&statement, &context) {
            assert_eq!(finding.severity, Severity::Warning, "{name}: {finding:?}");
            *warnings.entry(finding.rule).or_default() += 1;
        }
    }
    eprintln!("lint warnings over the benign corpora: {warnings:?}");
}
