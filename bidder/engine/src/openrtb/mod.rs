//! OpenRTB 2.6: the request as parsed from the wire, and the response as written to it.

mod raw_json;
pub mod request;
pub mod response;

pub use request::{BidRequest, RawJson, RequestError};
pub use response::{
    BillingUrl, CLICK_PATH, NOTICE_PATH, ResponseParts, WIN_PATH, write_bid_response,
};
