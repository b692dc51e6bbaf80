//! Issue 20: deploy/compose.yaml and the k8s CronJob start nlq-metasync only with flags and
//! variables it accepts.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use nlq_testkit::deploy::{accepted, read, var_accepted};

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nlq-metasync"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_deployment_files_name_only_what_nlq_metasync_accepts() {
    let deployment = read();
    let jobs: Vec<_> = deployment
        .containers
        .iter()
        .filter(|c| c.binary == "nlq-metasync")
        .collect();
    assert!(
        jobs.len() >= 2,
        "compose and the CronJob run nlq-metasync: {jobs:?}"
    );
    let mut problems = Vec::new();
    for job in jobs {
        let Some(command) = job.args.first() else {
            problems.push(format!("{}: no subcommand", job.place));
            continue;
        };
        let (flags, vars) = accepted(&(help(&[]) + &help(&[command])));
        for flag in job.args.iter().filter(|a| a.starts_with("--")) {
            if !flags.contains(flag) {
                problems.push(format!(
                    "{}: nlq-metasync {command} has no flag {flag}",
                    job.place
                ));
            }
        }
        for var in job.env.iter().filter(|v| v.starts_with("NLQ_")) {
            if !var_accepted(var, &vars) {
                problems.push(format!("{}: nlq-metasync reads no {var}", job.place));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
