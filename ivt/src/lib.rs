//! # tern-ivt
//!
//! Invalid-traffic (IVT) and supply-chain screening, run on every bid request
//! before the auction (`docs/ivt.md`):
//!
//! 1. [`Lists`] compiles the operator's files (bot patterns, IP ranges, ads.txt /
//!    app-ads.txt, sellers.json, the scoring model) into lookup structures, whole
//!    or not at all, off the hot path; the bidder swaps whole sets.
//! 2. A worker's [`Screener`] screens a request against the current set: the
//!    user agent against the bot lists (with a per-core cache of verdicts), the
//!    device's addresses against the ranges, the supply chain against sellers.json
//!    and the publisher's ads.txt, then scores the request with the model. It
//!    hands the engine a `Verdict` (`tern_engine::screen`), whose findings each
//!    campaign's policy judges, and allocates nothing.

pub mod ads_txt;
pub mod bots;
pub mod ip_ranges;
mod lists;
pub mod model;
mod screen;
pub mod sellers_json;
mod supply_chain;

pub use lists::{ListCounts, ListError, ListFile, Lists};
pub use model::{FEATURES, Features, Model};
pub use screen::{Screened, Screener};
