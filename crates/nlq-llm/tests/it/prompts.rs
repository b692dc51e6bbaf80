//! Every shipped prompt loads, declares what its callers fill, renders with all its variables,
//! and shows a reply shape that is valid JSON.

use std::collections::BTreeMap;

use nlq_llm::{LlmError, PromptSet, prompt};

fn builtin() -> PromptSet {
    PromptSet::builtin().unwrap()
}

/// A value for every variable, naming the variable so the rendered text shows where it went.
fn all_values<'s>(set: &'s PromptSet, name: &str) -> BTreeMap<&'s str, String> {
    let template = set.get(name).unwrap();
    template
        .variables()
        .iter()
        .map(|v| (v.name.as_str(), format!("<<value of {}>>", v.name)))
        .collect()
}

/// The shipped versions: the SQL prompts took `data_facts` (the MetaSync catalog) in version 2.
fn version(name: &str) -> u32 {
    match name {
        prompt::GENERATE_SQL | prompt::REPAIR_SQL | prompt::REVIEW_SQL => 2,
        _ => 1,
    }
}

fn variables(set: &PromptSet, name: &str) -> Vec<String> {
    set.get(name)
        .unwrap()
        .variables()
        .iter()
        .map(|v| v.name.clone())
        .collect()
}

#[test]
fn every_builtin_prompt_loads_with_a_version_and_documented_variables() {
    let set = builtin();
    let names: Vec<&str> = set.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            prompt::CLASSIFY,
            prompt::GA4_RULES,
            prompt::GENERATE_SQL,
            prompt::REPAIR_SQL,
            prompt::REVIEW_SQL,
            prompt::SUMMARIZE,
        ]
    );
    for template in set.iter() {
        assert_eq!(
            template.version(),
            version(template.name()),
            "{}",
            template.name()
        );
        assert!(!template.description().is_empty(), "{}", template.name());
        for v in template.variables() {
            assert!(
                !v.description.is_empty(),
                "{}: variable {} has no description",
                template.name(),
                v.name
            );
        }
    }
}

#[test]
fn every_builtin_prompt_renders_every_variable_once_filled() {
    let set = builtin();
    for template in set.iter() {
        let values = all_values(&set, template.name());
        let rendered = template.render(&values).unwrap();
        assert_eq!(
            rendered.id(),
            format!("{}@{}", template.name(), version(template.name()))
        );
        for (name, value) in &values {
            assert!(
                rendered.text.contains(value.as_str()),
                "{}: {name} not rendered",
                template.name()
            );
        }
        assert!(
            !rendered.text.contains("{{"),
            "{}: a placeholder is left",
            template.name()
        );
        assert!(rendered.text.ends_with('\n') && !rendered.text.starts_with('\n'));
    }
}

#[test]
fn the_sql_prompts_carry_the_grounding_the_issue_asks_for() {
    let set = builtin();
    let grounding = [
        "as_of",
        "schema",
        "definitions",
        "ga4_rules",
        "context",
        "question",
    ];
    for name in [prompt::GENERATE_SQL, prompt::REVIEW_SQL, prompt::REPAIR_SQL] {
        let vars = variables(&set, name);
        for g in grounding {
            assert!(vars.iter().any(|v| v == g), "{name} lacks {g}");
        }
    }
    assert!(variables(&set, prompt::GENERATE_SQL).contains(&"examples".to_string()));
    assert!(variables(&set, prompt::REVIEW_SQL).contains(&"sql".to_string()));
    let repair = variables(&set, prompt::REPAIR_SQL);
    assert!(repair.contains(&"sql".to_string()) && repair.contains(&"findings".to_string()));
    assert_eq!(
        variables(&set, prompt::CLASSIFY),
        ["scope", "context", "question"]
    );
    assert_eq!(
        variables(&set, prompt::SUMMARIZE),
        ["language", "question", "period", "row_count", "rows"]
    );
}

#[test]
fn the_ga4_rules_cover_the_export_traps() {
    let set = builtin();
    let values = BTreeMap::from([
        (
            "table",
            "`bigquery-public-data.ga4_obfuscated_sample_ecommerce.events_*`".to_string(),
        ),
        ("first_suffix", "20201101".to_string()),
        ("last_suffix", "20210131".to_string()),
    ]);
    let rules = set.render(prompt::GA4_RULES, &values).unwrap().text;
    for needle in [
        "events_*",
        "_TABLE_SUFFIX BETWEEN",
        "20201101",
        "20210131",
        "UNNEST(event_params)",
        "UNNEST(items)",
        "ecommerce.purchase_revenue",
        "TIMESTAMP_MICROS(event_timestamp)",
        "SAFE_DIVIDE",
        "single SELECT",
        "user_pseudo_id",
    ] {
        assert!(rules.contains(needle), "the rules do not mention {needle}");
    }
}

/// The lines of a prompt that show a reply: they start with `{"`.
fn reply_shapes(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| l.starts_with("{\""))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn the_reply_shapes_shown_are_valid_json_with_the_expected_keys() {
    let set = builtin();
    for name in [prompt::GENERATE_SQL, prompt::REVIEW_SQL, prompt::REPAIR_SQL] {
        let text = set.render(name, &all_values(&set, name)).unwrap().text;
        let shapes = reply_shapes(&text);
        assert_eq!(shapes.len(), 1, "{name}");
        let keys: Vec<&String> = shapes[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["assumptions", "explanation", "sql"], "{name}");
        assert!(shapes[0]["assumptions"].is_array());
        assert!(text.contains("\"sql\": null"), "{name}: no way to decline");
    }
    let text = set
        .render(prompt::CLASSIFY, &all_values(&set, prompt::CLASSIFY))
        .unwrap()
        .text;
    let shapes = reply_shapes(&text);
    assert_eq!(shapes.len(), 1);
    let keys: Vec<&String> = shapes[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["intent", "reason"]);
    for intent in ["data", "help", "out_of_scope", "change_data"] {
        assert!(text.contains(&format!("`{intent}`")), "classify: {intent}");
    }
}

#[test]
fn a_missing_or_unknown_variable_names_the_prompt_and_the_variable() {
    let set = builtin();
    let mut values = all_values(&set, prompt::GENERATE_SQL);
    values.remove("examples");
    assert_eq!(
        set.render(prompt::GENERATE_SQL, &values).unwrap_err(),
        LlmError::MissingVariable {
            prompt: "generate_sql".into(),
            variable: "examples".into()
        }
    );
    let mut values = all_values(&set, prompt::SUMMARIZE);
    values.insert("user_pseudo_id", "123".into());
    assert_eq!(
        set.render(prompt::SUMMARIZE, &values).unwrap_err(),
        LlmError::UnknownVariable {
            prompt: "summarize".into(),
            variable: "user_pseudo_id".into()
        }
    );
}
