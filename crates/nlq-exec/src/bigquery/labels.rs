//! The labels every job carries (`app=nlq`, the configured ones, then the request's), written
//! as BigQuery accepts label keys and values.

use std::collections::BTreeMap;

use super::BigQueryConfig;

pub(super) fn labels_for(
    config: &BigQueryConfig,
    request: &[(String, String)],
) -> BTreeMap<String, String> {
    std::iter::once(("app".to_owned(), "nlq".to_owned()))
        .chain(config.labels.iter().cloned())
        .chain(request.iter().cloned())
        .filter_map(|(key, value)| Some((label_key(&key)?, label_value(&value))))
        .collect()
}

/// A label key as BigQuery takes it: lowercase letters, digits, `_` and `-`, starting with a
/// letter, at most 63 characters; None when nothing usable is left.
pub(super) fn label_key(key: &str) -> Option<String> {
    let key = label_value(key);
    key.starts_with(|c: char| c.is_ascii_lowercase())
        .then_some(key)
}

/// A label value as BigQuery takes it: lowercase letters, digits, `_` and `-`, at most 63
/// characters; anything else becomes `_`.
pub(super) fn label_value(value: &str) -> String {
    value
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_written_as_bigquery_takes_them() {
        let mut config = BigQueryConfig::new("p", "p.d").unwrap();
        config.labels = vec![("Team".into(), "Growth Analytics".into())];
        let request = [
            ("conversation".to_owned(), "3F2A:9c/x".repeat(10)),
            (
                "9lives".to_owned(),
                "dropped: keys start with a letter".to_owned(),
            ),
            ("app".to_owned(), "overridden".to_owned()),
        ];
        let labels = labels_for(&config, &request);
        assert_eq!(labels["team"], "growth_analytics");
        assert_eq!(labels["app"], "overridden");
        assert_eq!(labels["conversation"].len(), 63);
        assert!(labels["conversation"].starts_with("3f2a_9c_x3f2a"));
        assert!(!labels.keys().any(|k| k.starts_with('9')));
    }
}
