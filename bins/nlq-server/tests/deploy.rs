//! Issue 20: the Dockerfile, deploy/compose.yaml and deploy/k8s/ start nlq-server only with
//! flags and variables it accepts (no Docker engine or cluster runs the files here).

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use nlq_testkit::deploy::{accepted, read, var_accepted};

#[test]
fn the_deployment_files_name_only_what_nlq_server_accepts() {
    let out = Command::new(env!("CARGO_BIN_EXE_nlq-server"))
        .arg("--help")
        .output()
        .unwrap();
    let (flags, vars) = accepted(&String::from_utf8(out.stdout).unwrap());
    assert!(vars.iter().any(|v| v == "NLQ_BIND"), "{vars:?}");
    let deployment = read();
    let servers: Vec<_> = deployment
        .containers
        .iter()
        .filter(|c| c.binary == "nlq-server")
        .collect();
    assert!(
        servers.len() >= 2,
        "compose and the Deployment run nlq-server: {servers:?}"
    );
    let mut problems = Vec::new();
    for container in &servers {
        for flag in container.args.iter().filter(|a| a.starts_with("--")) {
            if !flags.contains(flag) {
                problems.push(format!(
                    "{}: nlq-server has no flag {flag}",
                    container.place
                ));
            }
        }
        for var in container.env.iter().filter(|v| v.starts_with("NLQ_")) {
            if !var_accepted(var, &vars) {
                problems.push(format!("{}: nlq-server reads no {var}", container.place));
            }
        }
    }
    for (place, var) in deployment
        .shared_env
        .iter()
        .filter(|(_, v)| v.starts_with("NLQ_"))
    {
        if !var_accepted(var, &vars) {
            problems.push(format!("{place}: nlq-server reads no {var}"));
        }
    }
    for var in deployment
        .image_env
        .iter()
        .filter(|v| v.starts_with("NLQ_"))
    {
        if !var_accepted(var, &vars) {
            problems.push(format!("Dockerfile: nlq-server reads no {var}"));
        }
    }
    assert!(deployment.image_env.iter().any(|v| v == "NLQ_BIND"));
    assert!(problems.is_empty(), "{problems:#?}");
}
