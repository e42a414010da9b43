//! OpenRTB 2.6 bid requests as parsed from the wire (the response module writes
//! the answer).

mod borrowed;
mod raw_json;
pub mod request;

pub use request::{BidRequest, RawJson, RequestError};
