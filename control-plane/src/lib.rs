//! Tern's control plane: the REST service through which advertisers and
//! operators create, change, pause and fund campaigns. It is the only writer of
//! the campaigns table; the bidders follow that table through its stream and
//! never call this service. See `docs/control-plane.md`.
//!
//! - [`api`]: the routes under `/v1`, the OpenAPI document, problem answers;
//! - [`auth`]: API keys, hashed, scoped to an operator or one advertiser;
//! - [`store`]: the campaigns table and the control plane's own table (keys,
//!   audit log, idempotency records, versions of deleted campaigns);
//! - [`service`]: configuration to running listeners, and graceful shutdown.

pub mod api;
pub mod auth;
pub mod config;
pub mod metrics;
pub mod problem;
pub mod service;
pub mod store;
