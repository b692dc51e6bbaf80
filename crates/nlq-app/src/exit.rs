//! How every binary ends: an error's class, from the first error in its chain that knows, and
//! the exit code schedulers and scripts read from it.

use nlq_core::{Classify, ErrorClass};

/// An error a binary raises itself, with whose fault it is (a refused query or flag: the
/// user's; a failed validation: its step's class).
#[derive(Debug)]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
}

impl Failure {
    /// The user's to fix: bad flags or files, a refused request.
    pub fn user(message: impl Into<String>) -> Failure {
        Failure {
            class: ErrorClass::User,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Whose fault, from the first error in the chain that knows; a bug when none does.
pub fn class_of(err: &anyhow::Error) -> ErrorClass {
    fn known(cause: &(dyn std::error::Error + 'static)) -> Option<ErrorClass> {
        let class = |e: &dyn Classify| e.class();
        if let Some(e) = cause.downcast_ref::<Failure>() {
            return Some(e.class);
        }
        if let Some(e) = cause.downcast_ref::<nlq_core::WarehouseError>() {
            return Some(e.class);
        }
        if let Some(e) = cause.downcast_ref::<nlq_core::ProviderError>() {
            return Some(e.class);
        }
        cause
            .downcast_ref::<nlq_exec::ExecError>()
            .map(|e| class(e))
            .or_else(|| {
                cause
                    .downcast_ref::<nlq_metasync::MetaSyncError>()
                    .map(|e| class(e))
            })
            .or_else(|| {
                cause
                    .downcast_ref::<nlq_semantic::SemanticError>()
                    .map(|e| class(e))
            })
            .or_else(|| {
                cause
                    .downcast_ref::<nlq_validate::ValidateError>()
                    .map(|e| class(e))
            })
            .or_else(|| {
                cause
                    .downcast_ref::<nlq_pipeline::PipelineError>()
                    .map(|e| class(e))
            })
            .or_else(|| {
                cause
                    .downcast_ref::<nlq_pipeline::knowledge::TeachError>()
                    .map(|e| class(e))
            })
            .or_else(|| {
                cause
                    .downcast_ref::<nlq_eval::EvalError>()
                    .map(|e| class(e))
            })
            .or_else(|| cause.downcast_ref::<nlq_llm::LlmError>().map(|e| class(e)))
    }
    err.chain().find_map(known).unwrap_or(ErrorClass::Bug)
}

/// 2: yours to fix (input, flags, access); 3: try again later; 1: a bug to report.
pub fn exit_code(class: ErrorClass) -> u8 {
    match class {
        ErrorClass::User => 2,
        ErrorClass::Transient => 3,
        ErrorClass::Bug => 1,
    }
}

pub fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::User => "user",
        ErrorClass::Transient => "transient",
        ErrorClass::Bug => "bug",
    }
}

/// How a binary's run ends: success, or the error printed on stderr and its exit code. A
/// reader that went away (`nlq ... | head`) is not a failure.
pub fn report(result: anyhow::Result<()>) -> std::process::ExitCode {
    end(result, |err, _| eprintln!("error: {err:#}"))
}

/// As [`report`], for the service and the job, whose stderr is a log: the error is a log line
/// with its class (`user`, `transient`, `bug`), in the format the process logs in.
pub fn logged(result: anyhow::Result<()>) -> std::process::ExitCode {
    end(result, |err, class| {
        tracing::error!(class = class_name(class), "{err:#}");
    })
}

fn end(
    result: anyhow::Result<()>,
    say: impl FnOnce(&anyhow::Error, ErrorClass),
) -> std::process::ExitCode {
    let code = match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let class = class_of(&err);
            say(&err, class);
            std::process::ExitCode::from(exit_code(class))
        }
    };
    // The last spans (the error's too) reach the collector before the process ends.
    crate::telemetry::flush();
    code
}

/// Whether the error is only that the reader of our output went away (`nlq ... | head`):
/// nothing left to say, and not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_that_knows_decides() {
        let user = anyhow::Error::new(Failure::user("bad flag")).context("starting");
        assert_eq!(exit_code(class_of(&user)), 2);
        let transient = anyhow::Error::new(nlq_core::WarehouseError {
            class: ErrorClass::Transient,
            message: "quota".into(),
            position: None,
        });
        assert_eq!(exit_code(class_of(&transient)), 3);
        assert_eq!(exit_code(class_of(&anyhow::anyhow!("surprise"))), 1);
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&pipe));
    }
}
