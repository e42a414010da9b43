//! # bidder
//!
//! Tern's OpenRTB 2.6 bidder: one io_uring executor per core (monoio), each pinned
//! and with its own `SO_REUSEPORT` listener; requests parsed, decided and answered
//! by [`tern_engine`] against an in-memory campaign snapshot; metrics and health on
//! a separate admin port.
//!
//! Read in this order: [`app`] (how the parts are wired), [`server`] (threads,
//! listeners, the connection loop), [`http`] (framing), [`bid_api`] (the
//! endpoints), [`state`] (snapshot swaps and the campaign file). The black-box
//! tests in `tests/` start the real binary; `tests/support/mod.rs` is the harness.

pub mod admin;
pub mod app;
pub mod aws;
pub mod backoff;
pub mod bid_api;
pub mod budget;
pub mod config;
pub mod error;
pub mod events;
pub mod freq_cap;
pub mod fuzzing;
pub mod http;
pub mod latency;
pub mod lifecycle;
pub mod local_state;
pub mod metrics;
pub mod report;
pub mod screening;
pub mod segments;
pub mod server;
pub mod state;

pub use app::{Bidder, ShutdownReport};
pub use config::Config;
pub use error::StartError;
