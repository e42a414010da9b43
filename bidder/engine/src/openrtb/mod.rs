//! OpenRTB 2.6 bid requests as parsed from the wire (the response module writes
//! the answer): the request and its impressions, where and to whom the ad shows,
//! the Native Ads request, and the tolerant readers every field goes through.

mod borrowed;
mod context;
mod imp;
mod lenient;
mod native;
mod raw_json;
pub mod request;
mod schain;
mod user_data;

pub use request::{BidRequest, RawJson, RequestError};
