//! The one small runtime the client lives on, and every call runs on.

use std::future::Future;

use nlq_core::{ErrorClass, WarehouseError};

use super::errors::failure;
use crate::error::ExecError;

/// Google's auth library spawns its token refresher on the runtime that builds the
/// credentials and panics on the next token request once that runtime is gone; hyper ties
/// pooled connections to a runtime the same way. The client therefore lives, and every call
/// runs, on one small runtime that lives exactly as long as the warehouse.
pub(super) struct Home {
    pub(super) handle: tokio::runtime::Handle,
    /// Taken on drop: shut down without blocking, which dropping it inside async code would.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Home {
    pub(super) fn new() -> Result<Self, ExecError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("nlq-bigquery")
            .enable_all()
            .build()
            .map_err(ExecError::Runtime)?;
        Ok(Home {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// Runs `call` here; a caller that stops waiting (a timeout) stops it.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        call: impl Future<Output = Result<T, WarehouseError>> + Send + 'static,
    ) -> Result<T, WarehouseError> {
        let mut call = AbortOnDrop(self.handle.spawn(call));
        (&mut call.0).await.map_err(|err| {
            failure(
                ErrorClass::Bug,
                format!("a BigQuery call stopped unexpectedly: {err}"),
            )
        })?
    }
}

/// A call whose caller stopped waiting stops too (a query then cancels its job).
pub(super) struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
