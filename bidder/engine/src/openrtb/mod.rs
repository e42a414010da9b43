//! OpenRTB 2.6: the request as parsed from the wire, and the response as written to it.

pub mod request;
pub mod response;

pub use request::{BidRequest, RequestError};
pub use response::{BillingUrl, NOTICE_PATH, ResponseParts, write_bid_response};
