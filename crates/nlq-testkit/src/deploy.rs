//! The deployment files (`Dockerfile`, `deploy/compose.yaml`, `deploy/k8s/*.yaml`) as the
//! binaries' tests check them: which containers run which binary with which flags and
//! variables, so a renamed flag or variable cannot leave a manifest that no longer works.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One container (a compose service or a pod's container) and what it is started with.
#[derive(Debug, Clone)]
pub struct Container {
    /// Where it is declared, for messages.
    pub place: String,
    /// `nlq-server` or `nlq-metasync`.
    pub binary: String,
    pub args: Vec<String>,
    /// Variables set on it by name (not those from a ConfigMap or Secret).
    pub env: Vec<String>,
}

/// What the deployment files say.
#[derive(Debug, Default)]
pub struct Deployment {
    pub containers: Vec<Container>,
    /// Keys of ConfigMaps and Secrets (shared by the containers that load them).
    pub shared_env: Vec<(String, String)>,
    /// `ENV` names of the Dockerfile's final image (nlq-server's).
    pub image_env: Vec<String>,
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("\n---")
        .filter(|doc| {
            doc.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .map(|doc| {
            serde_norway::from_str::<Value>(doc)
                .unwrap_or_else(|e| panic!("{} does not parse as YAML: {e}", path.display()))
        })
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn binary_of(command: &[String]) -> String {
    if command.iter().any(|c| c.ends_with("nlq-metasync")) {
        "nlq-metasync".into()
    } else {
        // The image's entrypoint.
        "nlq-server".into()
    }
}

/// Reads every deployment file of the repository.
pub fn read() -> Deployment {
    let root = workspace();
    let mut out = Deployment::default();
    for doc in yaml_documents(&root.join("deploy/compose.yaml")) {
        let Some(services) = doc["services"].as_object() else {
            continue;
        };
        for (name, service) in services {
            out.containers.push(Container {
                place: format!("deploy/compose.yaml service {name}"),
                binary: binary_of(&strings(&service["entrypoint"])),
                args: strings(&service["command"]),
                env: service["environment"]
                    .as_object()
                    .map(|env| env.keys().cloned().collect())
                    .unwrap_or_default(),
            });
        }
    }
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root.join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    manifests.sort();
    for path in manifests {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for doc in yaml_documents(&path) {
            let kind = doc["kind"].as_str().unwrap_or("").to_owned();
            let pod = match kind.as_str() {
                "Deployment" => &doc["spec"]["template"]["spec"],
                "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                "ConfigMap" | "Secret" => {
                    for key in ["data", "stringData"] {
                        if let Some(data) = doc[key].as_object() {
                            out.shared_env.extend(
                                data.keys()
                                    .map(|k| (format!("deploy/k8s/{file}"), k.clone())),
                            );
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            for container in pod["containers"].as_array().into_iter().flatten() {
                out.containers.push(Container {
                    place: format!("deploy/k8s/{file} {kind} container {}", container["name"]),
                    binary: binary_of(&strings(&container["command"])),
                    args: strings(&container["args"]),
                    env: container["env"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e["name"].as_str().map(str::to_owned))
                        .collect(),
                });
            }
        }
    }
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let last_stage = dockerfile.rsplit("\nFROM ").next().unwrap_or("");
    let mut in_env = false;
    for line in last_stage.lines() {
        let line = line.trim();
        // An ENV line, or the continuation of one.
        let body = match line.strip_prefix("ENV ") {
            Some(body) => body,
            None if in_env => line,
            None => continue,
        };
        for word in body.trim_end_matches('\\').split_whitespace() {
            if let Some((name, _)) = word.split_once('=') {
                out.image_env.push(name.to_owned());
            }
        }
        in_env = line.ends_with('\\');
    }
    out
}

/// The flags (`--name`) and variables (`NLQ_*`) a `--help` text names.
pub fn accepted(help: &str) -> (Vec<String>, Vec<String>) {
    let mut flags = Vec::new();
    let mut vars = Vec::new();
    for word in help.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '=')) {
        if word.starts_with("--") && word.len() > 2 {
            flags.push(
                word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                    .to_owned(),
            );
        } else if word.starts_with("NLQ_") {
            vars.push(
                word.trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .to_owned(),
            );
        }
    }
    (flags, vars)
}

/// Whether `var` (or the variable a `_FILE` secret stands for) is one of `vars`.
pub fn var_accepted(var: &str, vars: &[String]) -> bool {
    vars.iter().any(|v| v == var)
        || var
            .strip_suffix("_FILE")
            .is_some_and(|base| vars.iter().any(|v| v == base))
}
