//! `show` and `versions`: what the store holds, for an operator deciding whether the job runs
//! and what the server will read.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use nlq_metasync::document::{EventCatalog, KeyStats, Registry};
use nlq_metasync::{MetadataDocument, Stored, VersionInfo};

/// A summary of the latest version, its document, and the versions kept.
pub fn summary(
    location: &str,
    versions: &[VersionInfo],
    latest: &Stored,
    document: &MetadataDocument,
) -> String {
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: String| {
        let _ = writeln!(out, "{label:<16}{value}");
    };
    line(&mut out, "location", location.to_owned());
    line(&mut out, "versions kept", versions.len().to_string());
    line(
        &mut out,
        "latest",
        format!(
            "{} ({}, written {})",
            latest.info.id,
            bytes(latest.info.size),
            latest.info.written_at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
    );
    line(
        &mut out,
        "generated at",
        document
            .generated_at
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    );
    let source = &document.source;
    line(
        &mut out,
        "source",
        format!("{} {}.{}", source.warehouse, source.project, source.dataset),
    );
    registry(&mut out, &document.registry);
    let catalog = &document.catalog;
    let keys = |pick: fn(&EventCatalog) -> &Vec<KeyStats>| {
        catalog
            .events
            .values()
            .flat_map(|event| pick(event).iter().map(|k| k.key.as_str()))
            .collect::<BTreeSet<_>>()
            .len()
    };
    line(
        &mut out,
        "catalog",
        format!(
            "{} event names, {} event_params keys, {} user_properties keys \
             (sampled {} shards, {} read)",
            catalog.events.len(),
            keys(|event| &event.event_params),
            keys(|event| &event.user_properties),
            catalog.sampled_tables.len(),
            bytes(catalog.bytes_processed)
        ),
    );
    line(&mut out, "examples", document.examples.len().to_string());
    line(&mut out, "insights", document.insights.len().to_string());
    for insight in &document.insights {
        let _ = writeln!(out, "  - {} ({})", insight.text, insight.origin);
    }
    out
}

fn registry(out: &mut String, registry: &Registry) {
    let day = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    let _ = writeln!(
        out,
        "{:<16}{} shards, {} .. {}, as of {}",
        "registry",
        registry.shards.len(),
        day(registry.first_day),
        day(registry.last_day),
        day(registry.as_of)
    );
    let days = &registry.missing_days;
    let missing = match days.first() {
        None => "none".to_owned(),
        Some(_) if days.len() <= 5 => days
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        Some(first) => format!("{} days, first {first}", days.len()),
    };
    let _ = writeln!(out, "{:<16}{missing}", "  missing days");
    let _ = writeln!(
        out,
        "{:<16}{}",
        "  intraday",
        if registry.intraday.is_empty() {
            "none".to_owned()
        } else {
            registry.intraday.join(", ")
        }
    );
    let drift = if registry.drift.is_empty() {
        "none".to_owned()
    } else {
        registry
            .drift
            .iter()
            .map(|d| d.table.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "{:<16}{drift}", "  drift");
}

/// One line per version, newest first, the latest marked.
pub fn versions(versions: &[VersionInfo]) -> String {
    let mut out = String::new();
    for (i, version) in versions.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}  {}  {:>10}{}",
            version.id,
            version.written_at.format("%Y-%m-%d %H:%M:%S UTC"),
            bytes(version.size),
            if i == 0 { "  latest" } else { "" }
        );
    }
    out
}

use nlq_core::result::human_bytes as bytes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(1 << 30), "1.0 GiB");
    }
}
