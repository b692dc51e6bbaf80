//! The routes, one module per area; each handler only moves data between HTTP and `Service`.

pub mod admin;
pub mod health;
pub mod knowledge;
pub mod network;
pub mod page;
pub mod query;
pub mod stream;
