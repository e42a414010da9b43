//! # tern-benches
//!
//! How fast Tern is, measured so anyone can reproduce it: criterion
//! micro-benchmarks of the engine (`benches/`), an allocation count of the engine
//! path, the `loadgen` load generator, the servers Tern is compared with, and the
//! report that `benches/run.sh` writes to `benches/RESULTS.md`.
//!
//! The pieces, in the order a run uses them:
//! - [`corpus`] generates the requests and campaigns every benchmark shares;
//! - [`engine`] runs the bid path bytes-in, bytes-out without a server, and is what
//!   the tokio/hyper baseline server wraps;
//! - [`alloc_count`] counts heap allocations on that path;
//! - [`loadgen`] drives any HTTP bidder and reads the server's CPU time through
//!   [`procstat`]; [`http1`] is the framing the no-op ceiling servers share.
//!
//! Read `benches/run.sh` first, then `src/bin/loadgen.rs`.

pub mod alloc_count;
pub mod corpus;
pub mod engine;
pub mod http1;
pub mod ivt_lists;
pub mod loadgen;
pub mod procstat;
