//! Why generating or loading the sample failed, classified so a caller (the CLI, the server's
//! first-run setup) can tell a bad argument from a full disk from a bug in the generator.

use std::io;
use std::path::PathBuf;

use nlq_core::{Classify, ErrorClass, SchemaError};

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    /// The configuration cannot produce a sample (scale out of range, ...).
    #[error("invalid sample configuration: {0}")]
    Config(String),
    /// The output location cannot hold a sample (it is a file, ...).
    #[error("cannot write the sample to {}: {reason}", path.display())]
    OutputPath { path: PathBuf, reason: String },
    /// The directory holds no finished sample: generation never ran there or was interrupted.
    #[error("no complete sample in {}: {reason}", path.display())]
    Incomplete { path: PathBuf, reason: String },
    /// An export file given to `import` cannot be imported (unreadable, not GA4, wrong day).
    #[error("cannot import {}: {reason}", path.display())]
    Import { path: PathBuf, reason: String },
    /// Reading or writing a file failed; the same run may succeed later.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The events schema DDL shipped with nlq-core does not parse.
    #[error("the GA4 events schema is invalid: {0}")]
    Schema(#[from] SchemaError),
    /// The generator built data that does not fit its own schema.
    #[error("generated data does not match the events schema: {0}")]
    Shape(String),
    #[error("Arrow error while building a shard: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("Parquet error while writing a shard: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("a generator thread panicked")]
    WorkerPanicked,
}

impl SampleError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> SampleError {
        SampleError::Io {
            path: path.into(),
            source,
        }
    }
}

impl Classify for SampleError {
    fn class(&self) -> ErrorClass {
        match self {
            SampleError::Config(_)
            | SampleError::OutputPath { .. }
            | SampleError::Incomplete { .. }
            | SampleError::Import { .. } => ErrorClass::User,
            SampleError::Io { .. } => ErrorClass::Transient,
            // The Parquet writer reports a failing file write as an external io::Error.
            SampleError::Parquet(parquet::errors::ParquetError::External(inner))
                if inner.downcast_ref::<io::Error>().is_some() =>
            {
                ErrorClass::Transient
            }
            SampleError::Schema(_)
            | SampleError::Shape(_)
            | SampleError::Arrow(_)
            | SampleError::Parquet(_)
            | SampleError::WorkerPanicked => ErrorClass::Bug,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_whose_fault_it_is() {
        assert_eq!(
            SampleError::Config("scale".into()).class(),
            ErrorClass::User
        );
        let io = SampleError::io("/x", io::Error::other("disk full"));
        assert_eq!(io.class(), ErrorClass::Transient);
        let parquet_io = SampleError::Parquet(io::Error::other("disk full").into());
        assert_eq!(parquet_io.class(), ErrorClass::Transient);
        let parquet_bug = SampleError::Parquet(parquet::errors::ParquetError::General("x".into()));
        assert_eq!(parquet_bug.class(), ErrorClass::Bug);
        assert_eq!(SampleError::Shape("x".into()).class(), ErrorClass::Bug);
    }
}
