//! Issue 19, measured on variants rather than examples: a catalog of GA4 custom events and
//! parameters (Google's recommended names for games, content and lead generation, none of
//! them in the public sample), its proposed entries added to the built-in model, then every
//! word of every added entry asked in question templates of both languages. Invariants: each
//! question is read as exactly the entry it names (and the other entry of its template), and
//! its plan compiles to SQL that parses.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use nlq_metasync::document::{EventCatalog, KeyStats, ParamCatalog};
use nlq_semantic::{DateRange, Reader, SemanticModel, Understanding};

fn key(name: &str, strings: u64, ints: u64, doubles: u64, top: &[&str]) -> KeyStats {
    KeyStats::sample(name, strings, ints, doubles, top.len().max(3) as u64, top)
}

/// Recommended events of Google's lists, with parameters of each value type.
fn catalog() -> ParamCatalog {
    let event = |params: Vec<KeyStats>| EventCatalog {
        count: 100,
        event_params: params,
        user_properties: vec![key("player_tier", 100, 0, 0, &["bronze", "silver", "gold"])],
        items: None,
    };
    let events = BTreeMap::from([
        (
            "level_start".to_owned(),
            event(vec![key("level_name", 100, 0, 0, &["forest", "castle"])]),
        ),
        (
            "post_score".to_owned(),
            event(vec![
                key("score", 0, 100, 0, &[]),
                key("character", 100, 0, 0, &["knight", "mage"]),
            ]),
        ),
        (
            "earn_virtual_currency".to_owned(),
            event(vec![
                key("virtual_currency_name", 100, 0, 0, &["gems", "coins"]),
                key("value", 0, 0, 100, &[]),
            ]),
        ),
        (
            "unlock_achievement".to_owned(),
            event(vec![key(
                "achievement_id",
                100,
                0,
                0,
                &["first_win", "ten_wins"],
            )]),
        ),
        (
            "join_group".to_owned(),
            event(vec![key("group_id", 100, 0, 0, &["g1", "g2"])]),
        ),
        (
            "tutorial_complete".to_owned(),
            event(vec![
                key("tutorial_id", 100, 0, 0, &["intro"]),
                key("duration_sec", 0, 100, 0, &[]),
            ]),
        ),
        (
            "generate_lead".to_owned(),
            event(vec![
                key("lead_source", 100, 0, 0, &["webinar", "partner"]),
                key("lead_value", 0, 0, 100, &[]),
            ]),
        ),
        (
            "form_submit".to_owned(),
            event(vec![key("form_name", 100, 0, 0, &["contact", "demo"])]),
        ),
    ]);
    ParamCatalog {
        sampled_tables: vec![],
        bytes_processed: 0,
        events,
        columns: BTreeMap::new(),
    }
}

#[test]
fn every_word_of_every_catalog_entry_reads_as_that_entry_in_both_languages() {
    let catalog = catalog();
    let proposals = nlq_metasync::vocabulary::propose(&catalog);
    let document = {
        let mut doc = serde_json::json!({
            "format_version": nlq_metasync::document::FORMAT_VERSION,
            "generated_at": "2026-12-01T00:00:00Z",
            "source": {"warehouse": "embedded", "project": "bigquery-public-data", "dataset": "ga4_obfuscated_sample_ecommerce"},
            "registry": {"shards": ["events_20210101", "events_20210131"], "intraday": [], "other": [],
                         "first_day": "2021-01-01", "last_day": "2021-01-31", "as_of": "2021-02-01",
                         "missing_days": [], "drift": []},
            "schema": [], "catalog": catalog, "examples": [], "insights": [], "vocabulary": proposals
        });
        doc["catalog"] = serde_json::to_value(&catalog).unwrap();
        nlq_metasync::MetadataDocument::from_json(doc.to_string().as_bytes()).unwrap()
    };
    let model =
        nlq_pipeline::metadata::model_with_values(SemanticModel::builtin().unwrap(), &document)
            .unwrap();
    let day = |m: u32, d: u32| NaiveDate::from_ymd_opt(2021, m, d).unwrap();
    let reader = Reader::new(
        &model,
        day(2, 1),
        DateRange {
            start: day(1, 1),
            end: day(1, 31),
        },
    );
    let mut asked = 0;
    let mut wrong = Vec::new();
    let mut check = |question: String, metric: &str, dimension: Option<&str>| {
        asked += 1;
        match reader.understand(&question) {
            Understanding::Data { plan } => {
                let dims: Vec<&str> = plan.dimensions.iter().map(String::as_str).collect();
                if plan.metrics != [metric] || dims != dimension.into_iter().collect::<Vec<_>>() {
                    wrong.push(format!(
                        "{question}: read as {:?} by {dims:?}",
                        plan.metrics
                    ));
                } else if let Err(err) = nlq_semantic::compile(&model, &plan).and_then(|sql| {
                    nlq_sql::parse_query(&sql)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }) {
                    wrong.push(format!("{question}: {err}"));
                }
            }
            other => wrong.push(format!("{question}: {other:?}")),
        }
    };
    let added_metrics: Vec<_> = model
        .metrics
        .iter()
        .filter(|m| m.origin == nlq_semantic::model::Origin::Catalog)
        .collect();
    let added_dimensions: Vec<_> = model
        .dimensions
        .iter()
        .filter(|d| d.origin == nlq_semantic::model::Origin::Catalog)
        .collect();
    assert!(
        added_metrics.len() >= 20 && added_dimensions.len() >= 8,
        "{} metrics, {} dimensions",
        added_metrics.len(),
        added_dimensions.len()
    );
    for metric in &added_metrics {
        for word in &metric.en {
            for template in [
                "{} in January",
                "show {} for the last 7 days",
                "{} yesterday",
            ] {
                check(template.replace("{}", word), &metric.name, None);
            }
        }
        for word in &metric.ko {
            for template in ["1월 {}", "지난 7일 {} 알려줘", "어제 {}"] {
                check(template.replace("{}", word), &metric.name, None);
            }
        }
    }
    for dimension in &added_dimensions {
        // A count of an event that carries it (any event for a user property).
        let event = dimension
            .events
            .first()
            .cloned()
            .unwrap_or_else(|| "level_start".to_owned());
        let metric = format!("{event}_count");
        let Some(count) = model.metric(&metric) else {
            continue;
        };
        let (en, ko) = (&count.en[0], &count.ko[0]);
        for word in &dimension.en {
            check(
                format!("{en} by {word} in January"),
                &metric,
                Some(&dimension.name),
            );
        }
        for word in dimension.ko.iter().filter(|w| w.ends_with('별')) {
            check(format!("1월 {word} {ko}"), &metric, Some(&dimension.name));
        }
    }
    eprintln!(
        "{asked} questions over {} metrics and {} dimensions, {} not read as meant",
        added_metrics.len(),
        added_dimensions.len(),
        wrong.len()
    );
    assert!(asked >= 300, "{asked}");
    assert!(
        wrong.is_empty(),
        "{} of {asked}:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
