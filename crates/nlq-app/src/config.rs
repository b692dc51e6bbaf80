//! Settings from a file and secrets from files, as flags clap then parses: a flag on the command
//! line wins, then its `NLQ_*` variable, then the TOML file `NLQ_CONFIG` names.
//!
//! ```toml
//! # nlq-server.toml — keys are the long flag names
//! bind = "0.0.0.0:8080"
//! warehouse = "bigquery"
//! project = "my-billing-project"
//! daily-bytes = "200GiB"
//! ```
//!
//! A secret (API keys, tokens) can come from a file instead of the environment: for a flag
//! whose variable is `NLQ_ADMIN_TOKEN`, `NLQ_ADMIN_TOKEN_FILE=/run/secrets/admin` is read (and
//! trimmed) when `NLQ_ADMIN_TOKEN` itself is not set — the way container platforms mount
//! secrets. Neither ever reaches the process's visible command line: the arguments are built
//! in memory and handed to clap.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context, bail};
use clap::ArgAction;

use crate::exit::Failure;

/// The variable naming the settings file.
pub const CONFIG_VAR: &str = "NLQ_CONFIG";

/// The binary's flags from the command line, its variables, the settings file and secret
/// files; `Err` with the exit code after saying why the settings cannot be used. `--help` and
/// bad flags end the process as clap does.
pub fn parse<P: clap::Parser>() -> Result<P, std::process::ExitCode> {
    args(&P::command())
        .map(P::parse_from)
        .map_err(|err| crate::exit::report(Err(err)))
}

/// The process's arguments with the settings file's and the secret files' values added where
/// neither a flag nor its variable says otherwise. Only top-level and global flags can be
/// set this way (they are placed before any subcommand).
pub fn args(command: &clap::Command) -> anyhow::Result<Vec<OsString>> {
    let given: Vec<OsString> = std::env::args_os().collect();
    let file = std::env::var_os(CONFIG_VAR)
        .map(|path| {
            let path = Path::new(&path).to_owned();
            std::fs::read_to_string(&path)
                .with_context(|| format!("{CONFIG_VAR}={}: cannot read it", path.display()))
                .map(|text| (path, text))
        })
        .transpose()?;
    with_settings(
        command,
        given,
        file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        &|name| std::env::var_os(name),
    )
}

/// [`args`] without the process: `env` looks a variable up.
pub fn with_settings(
    command: &clap::Command,
    given: Vec<OsString>,
    file: Option<(&Path, &str)>,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> anyhow::Result<Vec<OsString>> {
    let mut added: Vec<OsString> = Vec::new();
    let on_command_line = |long: &str| {
        given.iter().skip(1).any(|a| {
            let a = a.to_string_lossy();
            a == format!("--{long}") || a.starts_with(&format!("--{long}="))
        })
    };
    let settable = || {
        command
            .get_arguments()
            .filter(|a| a.get_long().is_some() && a.get_long() != Some("help"))
    };
    let is_set = |arg: &clap::Arg| {
        arg.get_env()
            .is_some_and(|var| env(&var.to_string_lossy()).is_some())
            || on_command_line(arg.get_long().unwrap_or_default())
    };

    // Secrets from files.
    for arg in settable() {
        let Some(var) = arg.get_env().map(|v| v.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(path) = env(&format!("{var}_FILE")) else {
            continue;
        };
        if is_set(arg) {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("{var}_FILE={}: cannot read it", Path::new(&path).display())
        })?;
        added.push(flag(arg, text.trim()));
    }

    // The settings file.
    if let Some((path, text)) = file {
        let table: toml::Table = toml::from_str(text)
            .map_err(|e| Failure::user(format!("{}: not a settings file: {e}", path.display())))?;
        for (key, value) in table {
            let Some(arg) = settable().find(|a| a.get_long() == Some(key.as_str())) else {
                let known: Vec<&str> = settable().filter_map(|a| a.get_long()).collect();
                bail!(Failure::user(format!(
                    "{}: `{key}` is not a setting of {} (settings are the long flag names: {})",
                    path.display(),
                    command.get_name(),
                    known.join(", ")
                )));
            };
            if is_set(arg) {
                continue;
            }
            let values: Vec<String> = match value {
                toml::Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>(),
                other => scalar(&other).map(|v| vec![v]),
            }
            .map_err(|what| Failure::user(format!("{}: `{key}` is {what}", path.display())))?;
            for value in values {
                match arg.get_action() {
                    ArgAction::SetTrue if value == "true" => {
                        added.push(format!("--{key}").into());
                    }
                    ArgAction::SetTrue if value == "false" => {}
                    ArgAction::SetTrue => bail!(Failure::user(format!(
                        "{}: `{key}` is true or false, not {value}",
                        path.display()
                    ))),
                    _ => added.push(flag(arg, &value)),
                }
            }
        }
    }

    let mut args = given;
    let rest = args.split_off(args.len().min(1));
    args.extend(added);
    args.extend(rest);
    Ok(args)
}

fn flag(arg: &clap::Arg, value: &str) -> OsString {
    format!("--{}={value}", arg.get_long().unwrap_or_default()).into()
}

fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "a {}, not a string, number or true/false",
            other.type_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        clap::Command::new("nlq-server")
            .arg(
                clap::Arg::new("bind")
                    .long("bind")
                    .env("NLQ_BIND")
                    .default_value("127.0.0.1:8080"),
            )
            .arg(
                clap::Arg::new("admin-token")
                    .long("admin-token")
                    .env("NLQ_ADMIN_TOKEN"),
            )
            .arg(
                clap::Arg::new("api-keys")
                    .long("api-keys")
                    .env("NLQ_API_KEYS")
                    .value_delimiter(',')
                    .action(ArgAction::Append),
            )
            .arg(
                clap::Arg::new("dry-run")
                    .long("dry-run")
                    .action(ArgAction::SetTrue),
            )
    }

    fn parse(args: Vec<OsString>) -> clap::ArgMatches {
        command().try_get_matches_from(args).unwrap()
    }

    #[test]
    fn the_file_fills_what_flags_and_variables_leave_unset() {
        let file = r#"
            bind = "0.0.0.0:9000"
            api-keys = ["k1", "k2"]
            dry-run = true
        "#;
        let args = with_settings(
            &command(),
            vec!["nlq-server".into()],
            Some((Path::new("s.toml"), file)),
            &|_| None,
        )
        .unwrap();
        let m = parse(args);
        assert_eq!(m.get_one::<String>("bind").unwrap(), "0.0.0.0:9000");
        let keys: Vec<&String> = m.get_many("api-keys").unwrap().collect();
        assert_eq!(keys, ["k1", "k2"]);
        assert!(m.get_flag("dry-run"));

        // A flag given wins; so does the variable (clap reads it; the file adds nothing).
        let args = with_settings(
            &command(),
            vec!["nlq-server".into(), "--bind=127.0.0.1:1".into()],
            Some((Path::new("s.toml"), file)),
            &|name| (name == "NLQ_API_KEYS").then(|| "from-env".into()),
        )
        .unwrap();
        assert!(args.iter().any(|a| a == "--bind=127.0.0.1:1"));
        assert!(
            !args
                .iter()
                .any(|a| a.to_string_lossy().starts_with("--bind=0.0.0.0"))
        );
        assert!(
            !args
                .iter()
                .any(|a| a.to_string_lossy().starts_with("--api-keys"))
        );
    }

    #[test]
    fn a_secret_comes_from_its_file_when_its_variable_is_unset() {
        let dir = std::env::temp_dir().join(format!("nlq-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("admin");
        std::fs::write(&secret, "s3cret\n").unwrap();
        let path = secret.clone().into_os_string();
        let args = with_settings(&command(), vec!["nlq-server".into()], None, &|name| {
            (name == "NLQ_ADMIN_TOKEN_FILE").then(|| path.clone())
        })
        .unwrap();
        assert_eq!(
            parse(args).get_one::<String>("admin-token").unwrap(),
            "s3cret"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_settings_file_says_what_and_where() {
        let err = |text: &str| {
            with_settings(
                &command(),
                vec!["nlq-server".into()],
                Some((Path::new("s.toml"), text)),
                &|_| None,
            )
            .unwrap_err()
        };
        let unknown = err("bnid = \"x\"");
        assert!(
            unknown.to_string().contains("`bnid` is not a setting"),
            "{unknown}"
        );
        assert_eq!(crate::exit::class_of(&unknown), nlq_core::ErrorClass::User);
        assert!(
            err("bind = {a = 1}")
                .to_string()
                .contains("`bind` is a table")
        );
        assert!(
            err("dry-run = \"yes\"")
                .to_string()
                .contains("true or false")
        );
        assert!(
            err("not toml at all")
                .to_string()
                .contains("not a settings file")
        );
    }
}
