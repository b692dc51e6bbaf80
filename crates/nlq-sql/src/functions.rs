//! The one table of BigQuery functions nlq knows: what kind each is, whether a query may call it,
//! and how the embedded engine runs it. The guard reads `allowed`, the lint reads `kind`, the
//! embedded translation reads `translation`; a new function is one row here (plus its arm in
//! `rewrite/functions.rs` when it is [`Translation::Rewritten`]).
//!
//! A name that is not in the table is refused everywhere: DuckDB-only functions (`read_csv`,
//! `getenv`, `glob`), `ML.*`, `AI.*` and anything new can never run by accident.

use sqlparser::ast::{ObjectName, ObjectNamePart};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    /// Folds rows into one value (a window function too when it has OVER).
    Aggregate,
    /// Only runs over a window (`ROW_NUMBER() OVER (...)`).
    Analytic,
    /// Only inside an array subscript: `arr[OFFSET(0)]`.
    Subscript,
    /// A date part written as a call: `DATE_TRUNC(d, WEEK(MONDAY))`.
    DatePart,
    /// Called in FROM and returns rows (`EXTERNAL_QUERY(...)`, `ML.PREDICT(...)`): every one is
    /// refused, since only the allowed datasets' tables may be read.
    Table,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Translation {
    /// DuckDB's namesake behaves as BigQuery's does for the types GA4 queries use.
    Same,
    /// A DuckDB function of another name behaves the same.
    Rename(&'static str),
    /// Written out by an arm of `rewrite/functions.rs` that names the behaviour it keeps.
    Rewritten,
    /// Translated where it appears (subscripts, date parts), never as a call of its own.
    InPlace,
    /// The embedded engine refuses it, for this reason (which says what to write instead).
    Refused(&'static str),
    /// Runs on BigQuery; the embedded engine has no faithful translation yet.
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BqFunction {
    /// Upper case, dotted for namespaces (`NET.HOST`), without a `SAFE.` prefix.
    pub name: &'static str,
    pub kind: Kind,
    /// Whether the guard lets a query call it on any warehouse.
    pub allowed: bool,
    pub translation: Translation,
    /// Why the guard refuses it, when it does.
    pub refusal: Option<&'static str>,
}

/// A function called by name, as a query wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub function: &'static BqFunction,
    /// Written `SAFE.name(...)`: NULL instead of an error.
    pub safe: bool,
}

/// Looks up a called name: `SAFE.` in front and a dotted name in one quoted part are read as
/// BigQuery reads them. `None` for a name the table does not hold (refused everywhere).
pub fn lookup(name: &ObjectName) -> Option<Call> {
    let mut parts: Vec<String> = Vec::new();
    for part in &name.0 {
        match part {
            ObjectNamePart::Identifier(ident) => {
                parts.extend(ident.value.split('.').map(str::to_ascii_uppercase));
            }
            _ => return None,
        }
    }
    let safe = parts.len() > 1 && parts[0] == "SAFE";
    if safe {
        parts.remove(0);
    }
    let name = parts.join(".");
    let index = FUNCTIONS.binary_search_by(|f| f.name.cmp(&name)).ok()?;
    Some(Call {
        function: &FUNCTIONS[index],
        safe,
    })
}

/// Whether `name` calls an aggregate (with OVER it is a window function too; callers check).
pub fn is_aggregate(name: &ObjectName) -> bool {
    lookup(name).is_some_and(|c| c.function.kind == Kind::Aggregate)
}

/// Every function in the table, sorted by name.
pub fn all() -> &'static [BqFunction] {
    FUNCTIONS
}

const fn f(name: &'static str, kind: Kind, translation: Translation) -> BqFunction {
    BqFunction {
        name,
        kind,
        allowed: true,
        translation,
        refusal: None,
    }
}

const fn forbidden(name: &'static str, why: &'static str) -> BqFunction {
    BqFunction {
        name,
        kind: Kind::Scalar,
        allowed: false,
        translation: Translation::Missing,
        refusal: Some(why),
    }
}

const fn table_function(name: &'static str, why: &'static str) -> BqFunction {
    BqFunction {
        kind: Kind::Table,
        ..forbidden(name, why)
    }
}

use Kind::{Aggregate, Analytic, DatePart, Scalar, Subscript};
use Translation::{InPlace, Missing, Refused, Rename, Rewritten, Same};

const NO_SUFFIX_LIST: Translation = Refused(
    "it needs the public suffix list, which the embedded engine does not have; NET.HOST gives the host",
);
const HLL_SKETCH: Translation = Refused(
    "HLL sketches are BigQuery's own bytes; count with COUNT(DISTINCT ...) or APPROX_COUNT_DISTINCT",
);

/// Sorted by name (a test checks), so a lookup is a binary search.
const FUNCTIONS: &[BqFunction] = &[
    f("ABS", Scalar, Same),
    f("ACOS", Scalar, Same),
    f("ACOSH", Scalar, Same),
    table_function(
        "AI.FORECAST",
        "it runs a model, outside the allowed datasets and the byte cap",
    ),
    f("ANY_VALUE", Aggregate, Same),
    table_function(
        "APPENDS",
        "it reads a table's change history, not the export as it is",
    ),
    // The exact count is within any approximation's error, and the same on every run.
    f("APPROX_COUNT_DISTINCT", Aggregate, Rewritten),
    f("APPROX_QUANTILES", Aggregate, Rewritten),
    f("APPROX_TOP_COUNT", Aggregate, Rewritten),
    f("APPROX_TOP_SUM", Aggregate, Missing),
    f("ARRAY", Scalar, Same),
    f("ARRAY_AGG", Aggregate, Rewritten),
    f("ARRAY_CONCAT", Scalar, Rename("list_concat")),
    f("ARRAY_CONCAT_AGG", Aggregate, Missing),
    f("ARRAY_FIRST", Scalar, Missing),
    f("ARRAY_LAST", Scalar, Missing),
    f("ARRAY_LENGTH", Scalar, Rename("len")),
    f("ARRAY_REVERSE", Scalar, Rename("list_reverse")),
    f("ARRAY_SLICE", Scalar, Missing),
    f("ARRAY_TO_STRING", Scalar, Same),
    f("ASCII", Scalar, Same),
    f("ASIN", Scalar, Same),
    f("ASINH", Scalar, Same),
    f("ATAN", Scalar, Same),
    f("ATAN2", Scalar, Same),
    f("ATANH", Scalar, Same),
    f("AVG", Aggregate, Same),
    f("BIT_AND", Aggregate, Same),
    f("BIT_OR", Aggregate, Same),
    f("BIT_XOR", Aggregate, Same),
    f("BOOL", Scalar, Missing),
    // Bytes of the UTF-8 text, as BigQuery counts a STRING's bytes.
    f("BYTE_LENGTH", Scalar, Rename("strlen")),
    f("CBRT", Scalar, Same),
    f("CEIL", Scalar, Same),
    f("CEILING", Scalar, Same),
    table_function(
        "CHANGES",
        "it reads a table's change history, not the export as it is",
    ),
    f("CHARACTER_LENGTH", Scalar, Rename("length")),
    f("CHAR_LENGTH", Scalar, Same),
    f("CHR", Scalar, Same),
    f("COALESCE", Scalar, Same),
    f("CODE_POINTS_TO_BYTES", Scalar, Missing),
    f("CODE_POINTS_TO_STRING", Scalar, Missing),
    f("COLLATE", Scalar, Missing),
    f("CONCAT", Scalar, Rewritten),
    f("CONTAINS_SUBSTR", Scalar, Rewritten),
    f("CORR", Aggregate, Same),
    f("COS", Scalar, Same),
    f("COSH", Scalar, Same),
    f("COT", Scalar, Same),
    f("COTH", Scalar, Missing),
    f("COUNT", Aggregate, Same),
    f("COUNTIF", Aggregate, Rename("count_if")),
    f("COVAR_POP", Aggregate, Same),
    f("COVAR_SAMP", Aggregate, Same),
    f("CSC", Scalar, Missing),
    f("CSCH", Scalar, Missing),
    f("CUME_DIST", Analytic, Same),
    f("CURRENT_DATE", Scalar, Rewritten),
    f("CURRENT_DATETIME", Scalar, Rewritten),
    f("CURRENT_TIME", Scalar, Missing),
    f("CURRENT_TIMESTAMP", Scalar, Rewritten),
    f("DATE", Scalar, Rewritten),
    f("DATETIME", Scalar, Rewritten),
    f("DATETIME_ADD", Scalar, Rewritten),
    f("DATETIME_DIFF", Scalar, Rewritten),
    f("DATETIME_SUB", Scalar, Rewritten),
    f("DATETIME_TRUNC", Scalar, Rewritten),
    f("DATE_ADD", Scalar, Rewritten),
    f("DATE_BUCKET", Scalar, Missing),
    f("DATE_DIFF", Scalar, Rewritten),
    f("DATE_FROM_UNIX_DATE", Scalar, Rewritten),
    f("DATE_SUB", Scalar, Rewritten),
    f("DATE_TRUNC", Scalar, Rewritten),
    f("DENSE_RANK", Analytic, Same),
    f("DIV", Scalar, Rewritten),
    f("EDIT_DISTANCE", Scalar, Missing),
    f("ENDS_WITH", Scalar, Same),
    f("ERROR", Scalar, Same),
    f("EXP", Scalar, Same),
    table_function(
        "EXTERNAL_QUERY",
        "it reads a database outside the allowed datasets",
    ),
    // Parsed as EXTRACT(part FROM x), never a call; listed so a call form is not unknown.
    f("EXTRACT", Scalar, InPlace),
    f(
        "FARM_FINGERPRINT",
        Scalar,
        Refused(
            "BigQuery's fingerprint hash has no equal here; use it on BigQuery, or group by the value itself",
        ),
    ),
    f("FIRST_VALUE", Analytic, Same),
    f("FLOAT64", Scalar, Missing),
    f("FLOOR", Scalar, Same),
    f("FORMAT", Scalar, Rename("printf")),
    f("FORMAT_DATE", Scalar, Rewritten),
    f("FORMAT_DATETIME", Scalar, Rewritten),
    f("FORMAT_TIME", Scalar, Missing),
    f("FORMAT_TIMESTAMP", Scalar, Rewritten),
    f("FROM_BASE32", Scalar, Missing),
    f("FROM_BASE64", Scalar, Same),
    f("FROM_HEX", Scalar, Rename("unhex")),
    table_function(
        "GAP_FILL",
        "it makes up rows for missing times; group by the date and say which days have none",
    ),
    f("GENERATE_ARRAY", Scalar, Rename("generate_series")),
    f("GENERATE_DATE_ARRAY", Scalar, Rewritten),
    f("GENERATE_TIMESTAMP_ARRAY", Scalar, Missing),
    f("GENERATE_UUID", Scalar, Missing),
    f("GREATEST", Scalar, Rewritten),
    f("GROUPING", Aggregate, Same),
    f("HLL_COUNT.EXTRACT", Scalar, HLL_SKETCH),
    f("HLL_COUNT.INIT", Aggregate, HLL_SKETCH),
    f("HLL_COUNT.MERGE", Aggregate, HLL_SKETCH),
    f("HLL_COUNT.MERGE_PARTIAL", Aggregate, HLL_SKETCH),
    f("IEEE_DIVIDE", Scalar, Missing),
    f("IF", Scalar, Rewritten),
    f("IFNULL", Scalar, Same),
    f("INITCAP", Scalar, Missing),
    f("INSTR", Scalar, Rewritten),
    f("INT64", Scalar, Missing),
    f("IS_INF", Scalar, Rename("isinf")),
    f("IS_NAN", Scalar, Rename("isnan")),
    f("JSON_EXTRACT", Scalar, Rewritten),
    f("JSON_EXTRACT_ARRAY", Scalar, Missing),
    f("JSON_EXTRACT_SCALAR", Scalar, Rewritten),
    f("JSON_EXTRACT_STRING_ARRAY", Scalar, Missing),
    f("JSON_QUERY", Scalar, Rewritten),
    f("JSON_QUERY_ARRAY", Scalar, Missing),
    f("JSON_TYPE", Scalar, Missing),
    f("JSON_VALUE", Scalar, Rewritten),
    f("JSON_VALUE_ARRAY", Scalar, Missing),
    f("JUSTIFY_DAYS", Scalar, Missing),
    f("JUSTIFY_HOURS", Scalar, Missing),
    f("JUSTIFY_INTERVAL", Scalar, Missing),
    f("LAG", Analytic, Same),
    f("LAST_DAY", Scalar, Rewritten),
    f("LAST_VALUE", Analytic, Same),
    f("LEAD", Analytic, Same),
    f("LEAST", Scalar, Rewritten),
    f("LEFT", Scalar, Same),
    f("LENGTH", Scalar, Same),
    f("LN", Scalar, Same),
    // DuckDB's one-argument log() is base 10; BigQuery's is natural.
    f("LOG", Scalar, Rewritten),
    f("LOG10", Scalar, Rename("log10")),
    f("LOGICAL_AND", Aggregate, Rename("bool_and")),
    f("LOGICAL_OR", Aggregate, Rename("bool_or")),
    f("LOWER", Scalar, Same),
    f("LPAD", Scalar, Same),
    f("LTRIM", Scalar, Same),
    f("MAKE_INTERVAL", Scalar, Missing),
    f("MAX", Aggregate, Same),
    f("MAX_BY", Aggregate, Same),
    // BigQuery's digests are BYTES, DuckDB's hex text: TO_HEX(MD5(x)) would differ.
    f("MD5", Scalar, Missing),
    f("MIN", Aggregate, Same),
    f("MIN_BY", Aggregate, Same),
    table_function(
        "ML.GENERATE_TEXT",
        "it calls a model, outside the allowed datasets and the byte cap",
    ),
    table_function(
        "ML.PREDICT",
        "it runs a model, outside the allowed datasets and the byte cap",
    ),
    f("MOD", Scalar, Same),
    f("NET.HOST", Scalar, Rewritten),
    f("NET.IPV4_FROM_INT64", Scalar, Missing),
    f("NET.IPV4_TO_INT64", Scalar, Missing),
    f("NET.IP_FROM_STRING", Scalar, Missing),
    f("NET.IP_NET_MASK", Scalar, Missing),
    f("NET.IP_TO_STRING", Scalar, Missing),
    f("NET.IP_TRUNC", Scalar, Missing),
    f("NET.PUBLIC_SUFFIX", Scalar, NO_SUFFIX_LIST),
    f("NET.REG_DOMAIN", Scalar, NO_SUFFIX_LIST),
    f("NET.SAFE_IP_FROM_STRING", Scalar, Missing),
    f("NORMALIZE", Scalar, Missing),
    f("NORMALIZE_AND_CASEFOLD", Scalar, Missing),
    f("NTH_VALUE", Analytic, Same),
    f("NTILE", Analytic, Same),
    f("NULLIF", Scalar, Same),
    f("OCTET_LENGTH", Scalar, Rename("strlen")),
    f("OFFSET", Subscript, InPlace),
    f("ORDINAL", Subscript, InPlace),
    f("PARSE_DATE", Scalar, Rewritten),
    f("PARSE_DATETIME", Scalar, Rewritten),
    f("PARSE_JSON", Scalar, Missing),
    f("PARSE_TIME", Scalar, Missing),
    f("PARSE_TIMESTAMP", Scalar, Rewritten),
    // Analytic in BigQuery; DuckDB's are aggregates that also run over a window.
    f("PERCENTILE_CONT", Analytic, Rename("quantile_cont")),
    f("PERCENTILE_DISC", Analytic, Rename("quantile_disc")),
    f("PERCENT_RANK", Analytic, Same),
    f("POW", Scalar, Same),
    f("POWER", Scalar, Same),
    f("RAND", Scalar, Rename("random")),
    f("RANGE_BUCKET", Scalar, Missing),
    table_function(
        "RANGE_SESSIONIZE",
        "it joins ranges of another table; GA4 sessions are ga_session_id per user_pseudo_id",
    ),
    f("RANK", Analytic, Same),
    f("REGEXP_CONTAINS", Scalar, Rename("regexp_matches")),
    f("REGEXP_EXTRACT", Scalar, Rewritten),
    f("REGEXP_EXTRACT_ALL", Scalar, Rewritten),
    f("REGEXP_INSTR", Scalar, Missing),
    f("REGEXP_REPLACE", Scalar, Rewritten),
    f("REGEXP_SUBSTR", Scalar, Rewritten),
    f("REPEAT", Scalar, Same),
    f("REPLACE", Scalar, Same),
    f("REVERSE", Scalar, Same),
    f("RIGHT", Scalar, Same),
    f("ROUND", Scalar, Same),
    f("ROW_NUMBER", Analytic, Same),
    f("RPAD", Scalar, Same),
    f("RTRIM", Scalar, Same),
    f("SAFE_ADD", Scalar, Rewritten),
    f("SAFE_CONVERT_BYTES_TO_STRING", Scalar, Missing),
    f("SAFE_DIVIDE", Scalar, Rewritten),
    f("SAFE_MULTIPLY", Scalar, Rewritten),
    f("SAFE_NEGATE", Scalar, Rewritten),
    f("SAFE_OFFSET", Subscript, InPlace),
    f("SAFE_ORDINAL", Subscript, InPlace),
    f("SAFE_SUBTRACT", Scalar, Rewritten),
    f("SEC", Scalar, Missing),
    f("SECH", Scalar, Missing),
    forbidden("SESSION_USER", "it would disclose who runs the query"),
    f("SHA1", Scalar, Missing),
    f("SHA256", Scalar, Missing),
    f("SHA512", Scalar, Missing),
    f("SIGN", Scalar, Same),
    f("SIN", Scalar, Same),
    f("SINH", Scalar, Same),
    f("SOUNDEX", Scalar, Missing),
    f("SPLIT", Scalar, Rewritten),
    f("SQRT", Scalar, Same),
    f("STARTS_WITH", Scalar, Same),
    f("STDDEV", Aggregate, Same),
    f("STDDEV_POP", Aggregate, Same),
    f("STDDEV_SAMP", Aggregate, Same),
    f("STRING", Scalar, Missing),
    f("STRING_AGG", Aggregate, Same),
    f("STRPOS", Scalar, Same),
    f("SUBSTR", Scalar, Same),
    f("SUBSTRING", Scalar, Same),
    f("SUM", Aggregate, Same),
    f("TAN", Scalar, Same),
    f("TANH", Scalar, Same),
    f("TIME", Scalar, Missing),
    f("TIMESTAMP", Scalar, Rewritten),
    f("TIMESTAMP_ADD", Scalar, Rewritten),
    f("TIMESTAMP_DIFF", Scalar, Rewritten),
    f("TIMESTAMP_MICROS", Scalar, Rename("make_timestamp")),
    f("TIMESTAMP_MILLIS", Scalar, Rewritten),
    f("TIMESTAMP_SECONDS", Scalar, Rewritten),
    f("TIMESTAMP_SUB", Scalar, Rewritten),
    f("TIMESTAMP_TRUNC", Scalar, Rewritten),
    f("TIME_ADD", Scalar, Missing),
    f("TIME_DIFF", Scalar, Missing),
    f("TIME_SUB", Scalar, Missing),
    f("TIME_TRUNC", Scalar, Missing),
    f("TO_BASE32", Scalar, Missing),
    f("TO_BASE64", Scalar, Same),
    f("TO_CODE_POINTS", Scalar, Missing),
    f("TO_HEX", Scalar, Missing),
    f("TO_JSON", Scalar, Missing),
    f("TO_JSON_STRING", Scalar, Rewritten),
    f("TRANSLATE", Scalar, Same),
    f("TRIM", Scalar, Same),
    f("TRUNC", Scalar, Same),
    f("UNICODE", Scalar, Missing),
    f("UNIX_DATE", Scalar, Rewritten),
    f("UNIX_MICROS", Scalar, Rename("epoch_us")),
    f("UNIX_MILLIS", Scalar, Rename("epoch_ms")),
    f("UNIX_SECONDS", Scalar, Rewritten),
    f("UPPER", Scalar, Same),
    f("VARIANCE", Aggregate, Same),
    f("VAR_POP", Aggregate, Same),
    f("VAR_SAMP", Aggregate, Same),
    table_function(
        "VECTOR_SEARCH",
        "it searches an index outside the allowed datasets",
    ),
    f("WEEK", DatePart, InPlace),
    f("ZEROIFNULL", Scalar, Rewritten),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> ObjectName {
        ObjectName::from(
            text.split('.')
                .map(sqlparser::ast::Ident::new)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn the_table_is_sorted_and_every_name_is_once() {
        for pair in FUNCTIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} must come before {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn names_are_canonical_upper_case() {
        for function in FUNCTIONS {
            assert_eq!(function.name, function.name.to_ascii_uppercase());
            assert!(!function.name.starts_with("SAFE."), "{}", function.name);
            assert_eq!(function.allowed, function.refusal.is_none());
        }
    }

    #[test]
    fn table_functions_are_all_refused_with_a_reason() {
        let tables: Vec<&BqFunction> = FUNCTIONS.iter().filter(|f| f.kind == Kind::Table).collect();
        assert!(tables.len() >= 8, "{tables:?}");
        for function in tables {
            assert!(
                !function.allowed && function.refusal.is_some(),
                "{function:?}"
            );
        }
    }

    #[test]
    fn lookups_read_names_as_bigquery_does() {
        let call = lookup(&name("net.host")).unwrap();
        assert_eq!(call.function.name, "NET.HOST");
        assert!(!call.safe);
        let call = lookup(&name("SAFE.parse_date")).unwrap();
        assert_eq!(call.function.name, "PARSE_DATE");
        assert!(call.safe);
        // One quoted part holding the dotted name.
        let quoted = ObjectName::from(vec![sqlparser::ast::Ident::with_quote('`', "NET.HOST")]);
        assert_eq!(lookup(&quoted).unwrap().function.name, "NET.HOST");
        assert!(lookup(&name("read_csv")).is_none());
        // A table function is known, and refused as one.
        let predict = lookup(&name("ML.PREDICT")).unwrap().function;
        assert_eq!((predict.kind, predict.allowed), (Kind::Table, false));
        // `SAFE` alone is not a prefix.
        assert!(lookup(&name("SAFE")).is_none());
        assert!(!lookup(&name("EXTERNAL_QUERY")).unwrap().function.allowed);
    }
}
