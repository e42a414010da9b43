//! Event schema v1: one JSON object per line, fields in this order, absent fields
//! left out. `docs/events.md` documents it and the Glue table in
//! `terraform/modules/analytics/event_columns.json` declares it; tests keep the three
//! equal, field for field.

use std::io::Write as _;

use tern_engine::money::{Currency, Micros};
use tern_engine::notice::NoticeKind;
use tern_ivt::Features;

/// The schema version written in `v`.
pub const VERSION: u8 = 1;

/// Every field, in order, with its Hive (Glue/Athena) type.
pub const FIELDS: [(&str, &str); 25] = [
    ("v", "int"),
    ("type", "string"),
    ("ts_ms", "bigint"),
    ("request_id", "string"),
    ("imp_id", "string"),
    ("campaign_id", "string"),
    ("creative_id", "string"),
    ("bid_price_micros", "bigint"),
    ("win_price_micros", "bigint"),
    ("win_price_source", "string"),
    ("currency", "string"),
    ("exchange", "string"),
    ("publisher_id", "string"),
    ("country", "string"),
    ("device_type", "int"),
    ("nobid_reason", "string"),
    ("instance", "string"),
    ("core", "int"),
    ("latency_us", "bigint"),
    ("auction_type", "int"),
    ("loss_reason", "int"),
    ("min_to_win_micros", "bigint"),
    ("ivt_score", "int"),
    ("ivt_features", "array<double>"),
    ("segments", "array<string>"),
];

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A bid was sent for one impression.
    Bid,
    /// A request got no bid (sampled).
    NoBid,
    /// The exchange reported our bid won (`nurl`).
    Win,
    /// The impression was billed (`burl`).
    Impression,
    /// The ad was clicked.
    Click,
    /// The exchange reported our bid lost (`lurl`).
    Loss,
}

impl EventKind {
    /// The value of `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Bid => "bid",
            EventKind::NoBid => "nobid",
            EventKind::Win => "win",
            EventKind::Impression => "imp",
            EventKind::Click => "click",
            EventKind::Loss => "loss",
        }
    }
}

impl From<NoticeKind> for EventKind {
    fn from(kind: NoticeKind) -> EventKind {
        match kind {
            NoticeKind::Win => EventKind::Win,
            NoticeKind::Impression => EventKind::Impression,
            NoticeKind::Click => EventKind::Click,
            NoticeKind::Loss => EventKind::Loss,
        }
    }
}

/// One event, borrowing its text from the request or notice it describes.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    /// What happened (required).
    pub kind: Option<EventKind>,
    /// When, milliseconds since the Unix epoch.
    pub ts_ms: u64,
    /// Auction id.
    pub request_id: Option<&'a str>,
    /// Impression id.
    pub imp_id: Option<&'a str>,
    /// Campaign.
    pub campaign_id: Option<&'a str>,
    /// Creative.
    pub creative_id: Option<&'a str>,
    /// Our bid, CPM in micros of `currency`.
    pub bid_price_micros: Option<Micros>,
    /// The price a win or billing notice settled at, CPM in micros of `currency`.
    pub win_price_micros: Option<Micros>,
    /// Where `win_price_micros` came from: `exchange` (the clearing price the
    /// exchange sent), `capped` (it was above our bid: the bid) or `bid` (no
    /// readable price: the bid, the most the exchange may charge).
    pub win_price_source: Option<&'static str>,
    /// Currency of the prices.
    pub currency: Option<Currency>,
    /// Supply partner (the path segment after `/openrtb2/bid/`).
    pub exchange: Option<&'a str>,
    /// Site or app publisher.
    pub publisher_id: Option<&'a str>,
    /// Device country, ISO-3166-1 alpha-3.
    pub country: Option<&'a str>,
    /// OpenRTB device type.
    pub device_type: Option<u8>,
    /// Why no bid was made.
    pub nobid_reason: Option<&'a str>,
    /// Bidder instance.
    pub instance: &'a str,
    /// Worker (core) that handled it.
    pub core: u16,
    /// Time spent on the request, microseconds.
    pub latency_us: Option<u64>,
    /// The auction type of the request (OpenRTB `at`: 1 first price, 2 second
    /// price plus, 3 and up exchange-specific; 2 when the request leaves it out).
    pub auction_type: Option<u8>,
    /// Why the bid lost, as the exchange's loss notice says (OpenRTB 2.6 list
    /// 5.25, `${AUCTION_LOSS}`); absent when it sent none that reads as a code.
    pub loss_reason: Option<u32>,
    /// The lowest bid that would have won, as the loss notice says
    /// (`${AUCTION_MIN_TO_WIN}`), CPM in micros of `currency`, rounded up.
    pub min_to_win_micros: Option<Micros>,
    /// The scoring model's invalid-traffic score of the request, thousandths
    /// (`docs/ivt.md`); on bids and no-bids.
    pub ivt_score: Option<u16>,
    /// The model's inputs for the request, in `tern_ivt::FEATURES` order: what
    /// the training recipe (`ivt/train`) learns from.
    pub ivt_features: Option<&'a Features>,
    /// The segments of the campaign's include rules the user is in (first-party
    /// ids as they are, an exchange's as `provider/id`); on bids of campaigns
    /// with segment rules. Segment ids only, never the user's.
    pub segments: Option<&'a [&'a str]>,
}

impl Event<'_> {
    /// Appends the event as one JSON line (with its newline) to `out`.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        let _ = write!(out, "{{\"v\":{VERSION}");
        if let Some(kind) = self.kind {
            let _ = write!(out, ",\"type\":\"{}\"", kind.as_str());
        }
        let _ = write!(out, ",\"ts_ms\":{}", self.ts_ms);
        text(out, "request_id", self.request_id);
        text(out, "imp_id", self.imp_id);
        text(out, "campaign_id", self.campaign_id);
        text(out, "creative_id", self.creative_id);
        number(out, "bid_price_micros", self.bid_price_micros);
        number(out, "win_price_micros", self.win_price_micros);
        text(out, "win_price_source", self.win_price_source);
        text(
            out,
            "currency",
            self.currency.as_ref().map(Currency::as_str),
        );
        text(out, "exchange", self.exchange);
        text(out, "publisher_id", self.publisher_id);
        text(out, "country", self.country);
        number(out, "device_type", self.device_type.map(u64::from));
        text(out, "nobid_reason", self.nobid_reason);
        text(out, "instance", Some(self.instance));
        number(out, "core", Some(u64::from(self.core)));
        number(out, "latency_us", self.latency_us);
        number(out, "auction_type", self.auction_type.map(u64::from));
        number(out, "loss_reason", self.loss_reason.map(u64::from));
        number(out, "min_to_win_micros", self.min_to_win_micros);
        number(out, "ivt_score", self.ivt_score.map(u64::from));
        if let Some(features) = self.ivt_features {
            out.extend_from_slice(b",\"ivt_features\":");
            serde_json::to_writer(&mut *out, &features[..]).expect("writing into a Vec");
        }
        if let Some(segments) = self.segments {
            out.extend_from_slice(b",\"segments\":");
            serde_json::to_writer(&mut *out, segments).expect("writing into a Vec");
        }
        out.extend_from_slice(b"}\n");
    }
}

fn text(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        let _ = write!(out, ",\"{name}\":");
        serde_json::to_writer(&mut *out, value).expect("writing into a Vec");
    }
}

fn number(out: &mut Vec<u8>, name: &str, value: Option<u64>) {
    if let Some(value) = value {
        let _ = write!(out, ",\"{name}\":{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Event<'static> {
        Event {
            kind: Some(EventKind::Bid),
            ts_ms: 1_700_000_000_123,
            request_id: Some("r\"1"),
            imp_id: Some("1"),
            campaign_id: Some("c"),
            creative_id: Some("cr"),
            bid_price_micros: Some(2_500_000),
            win_price_micros: Some(2_000_000),
            win_price_source: Some("exchange"),
            currency: Currency::parse("USD"),
            exchange: Some("x"),
            publisher_id: Some("p"),
            country: Some("USA"),
            device_type: Some(4),
            nobid_reason: Some("no_match"),
            instance: "i-1",
            core: 3,
            latency_us: Some(42),
            auction_type: Some(1),
            loss_reason: Some(102),
            min_to_win_micros: Some(2_600_000),
            ivt_score: Some(120),
            ivt_features: Some(&FEATURES_EXAMPLE),
            segments: Some(&["auto-intenders", "dataco.example/243"]),
        }
    }

    const FEATURES_EXAMPLE: Features = [
        0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.12,
    ];

    #[test]
    fn a_full_event_has_every_schema_field_in_order_with_its_type() {
        let mut line = Vec::new();
        full().write_line(&mut line);
        assert_eq!(line.last(), Some(&b'\n'), "one line per event");
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        let object = value.as_object().unwrap();
        assert_eq!(object.len(), FIELDS.len(), "no field beyond the schema");
        let text = std::str::from_utf8(&line).unwrap();
        let positions: Vec<usize> = FIELDS
            .iter()
            .map(|(name, _)| text.find(&format!("\"{name}\":")).expect("field written"))
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "fields in schema order"
        );
        for (name, hive_type) in FIELDS {
            let field = &object[name];
            let ok = match hive_type {
                "string" => field.is_string(),
                "int" | "bigint" => field.is_u64(),
                "array<double>" => field
                    .as_array()
                    .is_some_and(|items| items.iter().all(serde_json::Value::is_f64)),
                "array<string>" => field
                    .as_array()
                    .is_some_and(|items| items.iter().all(serde_json::Value::is_string)),
                other => panic!("unknown type {other}"),
            };
            assert!(ok, "{name} is not a {hive_type}: {field}");
        }
        assert_eq!(object["request_id"], "r\"1", "strings are escaped");
    }

    #[test]
    fn absent_fields_are_left_out() {
        let event = Event {
            kind: Some(EventKind::NoBid),
            instance: "i",
            ..Event::default()
        };
        let mut line = Vec::new();
        event.write_line(&mut line);
        assert_eq!(
            std::str::from_utf8(&line).unwrap(),
            "{\"v\":1,\"type\":\"nobid\",\"ts_ms\":0,\"instance\":\"i\",\"core\":0}\n"
        );
    }
}
