//! nlq-exec integration tests: one binary, a module per area.

mod corpus;
mod errors;
mod idioms;
mod pruning;
mod support;
