//! Reading campaigns from documents: a campaigns file (TOML or JSON) or one record
//! from a store, through the same deserialization and validation.

use std::collections::HashSet;

use serde_json::Value;

use super::{Campaign, CampaignError};
use crate::json_depth;

/// The syntax of a campaigns document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `[[campaigns]]` tables.
    Toml,
    /// `{"campaigns": [...]}` or a bare array.
    Json,
}

impl FileFormat {
    /// Picks the format from a file name: `.json` is JSON, anything else TOML.
    pub fn from_path(path: &std::path::Path) -> FileFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => FileFormat::Json,
            _ => FileFormat::Toml,
        }
    }
}

/// Parses and validates a whole campaigns document. Any bad campaign rejects the
/// document, so a half-applied file never serves.
pub fn parse_campaigns(text: &str, format: FileFormat) -> Result<Vec<Campaign>, CampaignError> {
    let syntax = |message: String| CampaignError {
        campaign: "(document)".to_owned(),
        field: "(syntax)".to_owned(),
        reason: message,
    };
    let document: Value = match format {
        // The toml crate bounds nesting itself (about 80 levels).
        FileFormat::Toml => {
            let document: toml::Value = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
            // JSON has no NaN or infinity: converted, they would read as absent
            // (`budget.daily = nan` as no daily budget at all).
            if let Some(field) = non_finite(&document) {
                return Err(CampaignError {
                    campaign: "(document)".to_owned(),
                    field,
                    reason: "must be a finite number".to_owned(),
                });
            }
            serde_json::to_value(document).map_err(|e| syntax(e.to_string()))?
        }
        FileFormat::Json => {
            json_depth::check(text.as_bytes(), json_depth::MAX_DEPTH)
                .map_err(|e| syntax(e.to_string()))?;
            serde_json::from_str(text).map_err(|e| syntax(e.to_string()))?
        }
    };
    let items = match document {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("campaigns") {
            Some(Value::Array(items)) if map.is_empty() => items,
            Some(Value::Array(_)) => {
                let key = map.keys().next().cloned().unwrap_or_default();
                return Err(syntax(format!("unknown top-level key `{key}`")));
            }
            _ => return Err(syntax("expected a `campaigns` list".to_owned())),
        },
        _ => return Err(syntax("expected a `campaigns` list".to_owned())),
    };
    let mut seen = HashSet::new();
    let mut campaigns = Vec::with_capacity(items.len());
    for (position, item) in items.into_iter().enumerate() {
        let campaign = parse_campaign(item, position)?;
        if !seen.insert(campaign.id.clone()) {
            return Err(CampaignError {
                campaign: campaign.id,
                field: "id".to_owned(),
                reason: "duplicate campaign id".to_owned(),
            });
        }
        campaigns.push(campaign);
    }
    Ok(campaigns)
}

/// The path of the first float in `value` that is NaN or infinite, if any, as
/// `campaigns[0].budget.daily`.
fn non_finite(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => Some(String::new()),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| non_finite(item).map(|rest| format!("[{i}]{}", dotted(&rest)))),
        toml::Value::Table(table) => table
            .iter()
            .find_map(|(key, item)| non_finite(item).map(|rest| format!("{key}{}", dotted(&rest)))),
        _ => None,
    }
}

/// `rest` of a path joined after a name: `.x`, `[0]`, or nothing.
fn dotted(rest: &str) -> String {
    if rest.is_empty() || rest.starts_with('[') {
        rest.to_owned()
    } else {
        format!(".{rest}")
    }
}

/// Deserializes and validates one campaign record. `position` names the campaign in
/// errors when the record has no readable id.
pub fn parse_campaign(item: Value, position: usize) -> Result<Campaign, CampaignError> {
    let name = match item.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => format!("#{position}"),
    };
    let campaign: Campaign =
        serde_path_to_error::deserialize(item).map_err(|e: serde_path_to_error::Error<_>| {
            let path = e.path().to_string();
            CampaignError {
                campaign: name.clone(),
                field: if path == "." {
                    "(record)".to_owned()
                } else {
                    path
                },
                reason: e.into_inner().to_string(),
            }
        })?;
    campaign.validate()?;
    Ok(campaign)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = r#"
        [[campaigns]]
        id = "c1"
        advertiser_domain = "shoes.example"
        bidding = { max_cpm = 4.0, base_bid = 1.5 }
        [[campaigns.creatives]]
        id = "cr1"
        banner = { w = 300, h = 250 }
        adm = "<b>ad</b>"
    "#;

    #[test]
    fn non_finite_numbers_are_refused_not_read_as_absent() {
        for (value, field) in [
            ("budget = { daily = nan }", "campaigns[0].budget.daily"),
            ("budget = { total = inf }", "campaigns[0].budget.total"),
            ("budget = { daily = -inf }", "campaigns[0].budget.daily"),
        ] {
            let text = ONE.replace("bidding = {", &format!("{value}\nbidding = {{"));
            let err = parse_campaigns(&text, FileFormat::Toml).unwrap_err();
            assert_eq!(err.field, field, "{value}: {err}");
        }
    }

    #[test]
    fn reads_toml_and_json() {
        let toml = parse_campaigns(ONE, FileFormat::Toml).unwrap();
        assert_eq!(toml[0].id, "c1");
        assert_eq!(toml[0].bidding.currency, "USD");
        let json = serde_json::to_string(&serde_json::json!({ "campaigns": toml })).unwrap();
        assert_eq!(parse_campaigns(&json, FileFormat::Json).unwrap(), toml);
    }

    #[test]
    fn unknown_field_names_campaign_and_path() {
        let text = ONE.replace("banner = ", "bannr = ");
        let err = parse_campaigns(&text, FileFormat::Toml).unwrap_err();
        assert_eq!(err.campaign, "c1");
        assert_eq!(err.field, "creatives[0].bannr");
        assert!(err.reason.contains("unknown field"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_field() {
        let text = ONE.replace("max_cpm = 4.0", "max_cpm = \"four\"");
        let err = parse_campaigns(&text, FileFormat::Toml).unwrap_err();
        assert_eq!(
            (err.campaign.as_str(), err.field.as_str()),
            ("c1", "bidding.max_cpm")
        );
    }

    #[test]
    fn missing_id_is_named_by_position() {
        let err =
            parse_campaigns(r#"[{"advertiser_domain":"a.b"}]"#, FileFormat::Json).unwrap_err();
        assert_eq!(err.campaign, "#0");
    }

    #[test]
    fn deep_nesting_is_a_syntax_error_not_a_crash() {
        for levels in [1_000, 100_000, 1_000_000] {
            let arrays = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            let json = format!(r#"{{"campaigns":[{{"id":"c1","x":{arrays}}}]}}"#);
            let err = parse_campaigns(&json, FileFormat::Json).unwrap_err();
            assert_eq!(err.field, "(syntax)", "{levels}");
            assert!(err.reason.contains("nests deeper than 128 levels"), "{err}");
            let tomls = [
                format!("[[campaigns]]\nid = \"c1\"\nx = {arrays}\n"),
                format!(
                    "[[campaigns]]\nx = {}1{}\n",
                    "{a = ".repeat(levels),
                    "}".repeat(levels)
                ),
                format!("[[campaigns]]\n{} = 1\n", vec!["a"; levels].join(".")),
                format!("[{}]\n", vec!["a"; levels].join(".")),
            ];
            for toml in tomls {
                let err = parse_campaigns(&toml, FileFormat::Toml).unwrap_err();
                assert_eq!(err.field, "(syntax)", "{levels}: {err}");
            }
        }
    }

    #[test]
    fn duplicate_ids_and_syntax_errors_are_rejected() {
        let twice = format!("{ONE}\n{}", ONE.trim_start());
        let err = parse_campaigns(&twice, FileFormat::Toml).unwrap_err();
        assert_eq!(
            (err.campaign.as_str(), err.reason.as_str()),
            ("c1", "duplicate campaign id")
        );
        let err = parse_campaigns("[[campaigns]", FileFormat::Toml).unwrap_err();
        assert_eq!(err.field, "(syntax)");
        let err = parse_campaigns(r#"{"campaigns":[],"x":1}"#, FileFormat::Json).unwrap_err();
        assert!(err.reason.contains("`x`"), "{err}");
    }
}
