//! # tern-engine
//!
//! The part of Tern that decides bids, with no runtime, sockets or cloud SDK in it,
//! so the bidder, the control plane, the baselines and the benchmarks all share it
//! and its tests run anywhere.
//!
//! The path of one request through this crate:
//! 1. [`openrtb::BidRequest::parse`] borrows a request out of the body bytes.
//! 2. A [`decision::Auction`] matches it against a [`snapshot::Snapshot`]
//!    (campaigns compiled from the [`campaign`] model and indexed), asks for the
//!    frequency caps that can change the outcome, and picks one bid per impression.
//! 3. [`response::write_bid_response`] writes the answer, with signed billing
//!    notices from [`notice`].
//!
//! Start with the tests in `decision/tests.rs`: each one is a small auction.

pub mod audience;
pub mod budget;
pub mod campaign;
pub mod clock;
pub mod decision;
pub mod json_depth;
pub mod json_in;
mod json_out;
pub mod money;
pub mod native;
pub mod notice;
pub mod openrtb;
pub mod response;
pub mod screen;
pub mod snapshot;
pub mod user;
