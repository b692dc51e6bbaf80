//! The layering rules of docs/ARCHITECTURE.md, checked against `cargo metadata` so a new
//! dependency that breaks them fails here rather than in review.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Adapters: each talks to one outside thing, and none may build on another.
const ADAPTERS: &[&str] = &["nlq-llm", "nlq-metasync", "nlq-validate", "nlq-exec"];

/// Crates that do I/O (network, files through an engine, a runtime): never in nlq-core.
const IO_CRATES: &[&str] = &[
    "tokio",
    "reqwest",
    "duckdb",
    "rusqlite",
    "actix-web",
    "google-cloud-auth",
    "google-cloud-bigquery-v2",
];

struct Package {
    /// Normal (non-dev, non-build) dependencies by name.
    dependencies: Vec<String>,
    /// The package's folder relative to the workspace root (`crates/nlq-core`).
    folder: String,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_owned()
}

fn workspace() -> BTreeMap<String, Package> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let root = root();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
            let folder = manifest
                .parent()
                .unwrap()
                .strip_prefix(&root)
                .unwrap()
                .display()
                .to_string();
            let dependencies = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (
                p["name"].as_str().unwrap().to_owned(),
                Package {
                    dependencies,
                    folder,
                },
            )
        })
        .collect()
}

#[test]
fn the_layers_hold() {
    let packages = workspace();
    let mut broken = Vec::new();
    let core = &packages["nlq-core"];
    for dep in &core.dependencies {
        if dep.starts_with("nlq") || IO_CRATES.contains(&dep.as_str()) {
            broken.push(format!(
                "nlq-core depends on {dep}: it holds types and traits only"
            ));
        }
    }
    for (name, package) in &packages {
        let uses = |dep: &str| package.dependencies.iter().any(|d| d == dep);
        if uses("duckdb") && name != "nlq-exec" {
            broken.push(format!("{name} depends on duckdb: only nlq-exec may"));
        }
        if uses("actix-web") && !matches!(name.as_str(), "nlq-server" | "nlq-server-bin") {
            broken.push(format!("{name} depends on actix-web: only the server may"));
        }
        // nlq-app is the binaries' shared main (see its section).
        if uses("anyhow") && !package.folder.starts_with("bins/") && name != "nlq-app" {
            broken.push(format!(
                "{name} depends on anyhow: libraries return their own errors"
            ));
        }
        if uses("nlq-testkit") {
            broken.push(format!(
                "{name} depends on nlq-testkit: it is for tests only"
            ));
        }
        if ADAPTERS.contains(&name.as_str()) {
            for other in ADAPTERS.iter().filter(|a| **a != name) {
                if uses(other) {
                    broken.push(format!("adapter {name} depends on adapter {other}"));
                }
            }
        }
    }
    // The scheduled job must not link the web server.
    let mut job = vec!["nlq-metasync-cli".to_owned()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = job.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(package) = packages.get(&name) {
            if name == "nlq-server" || package.dependencies.iter().any(|d| d == "actix-web") {
                broken.push(format!(
                    "nlq-metasync reaches the web server through {name}"
                ));
            }
            job.extend(package.dependencies.iter().cloned());
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn every_crate_has_a_section_in_the_architecture_document() {
    let text = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let missing: Vec<String> = workspace()
        .values()
        .map(|p| p.folder.clone())
        .filter(|folder| !text.contains(&format!("### `{folder}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md has no section for {missing:?}"
    );
}
