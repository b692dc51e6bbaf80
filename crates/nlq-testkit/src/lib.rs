//! What the crates' tests share, so each does not grow its own: a replay server on 127.0.0.1
//! (`replay`), a scripted warehouse and a recording wrapper (`warehouse`), and the switches
//! that say whether an emulator runs (`emulator`), the deployment files as the binaries'
//! tests check them (`deploy`). A dev-dependency only: nothing here ships.

// Test support: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod deploy;
pub mod emulator;
pub mod provider;
pub mod replay;
pub mod warehouse;
