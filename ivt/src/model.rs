//! The scoring model: a logistic regression over a fixed catalogue of request
//! features, standing in for the "ML fraud detection" of the design Tern
//! replaces. It is trained offline from the bidder's own event files plus labels
//! (`ivt/train/README.md`) and loaded from `model.json`:
//!
//! ```json
//! {"format": "tern-ivt-logistic/1", "features": ["ua_missing", "ip_datacenter"],
//!  "bias": -3.2, "weights": [2.1, 1.7], "threshold": 0.8}
//! ```
//!
//! score = 1 / (1 + e^−(bias + Σ weights[i] × feature[features[i]])), in 0..=1.
//! Scoring reads a fixed array and costs a few multiplications and one `exp`.

use serde::Deserialize;

/// Every feature the bidder computes, in the order of [`Features`] and of the
/// `ivt_features` array in events (`docs/events.md`). Names are what `model.json`
/// lists.
pub const FEATURES: [&str; 13] = [
    "ua_missing",
    "ua_bot",
    "ip_missing",
    "ip_datacenter",
    "ifa_missing",
    "user_id_missing",
    "app",
    "schain_missing",
    "schain_nodes",
    "seller_unauthorized",
    "limit_tracking",
    "imp_count",
    "tmax_s",
];

/// One request's feature values, in [`FEATURES`] order.
pub type Features = [f64; FEATURES.len()];

/// The `format` value this bidder reads.
pub const FORMAT: &str = "tern-ivt-logistic/1";

/// A loaded logistic-regression model.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Weight per catalogue feature (0 for those the file does not use).
    weights: Features,
    bias: f64,
    /// Score at and above which campaigns without their own limit refuse,
    /// thousandths (rounded down, so a score that may have reached it does).
    threshold_per_mille: u16,
}

/// `model.json` as written by the training recipe.
#[derive(Debug, Deserialize)]
struct ModelFile {
    format: String,
    features: Vec<String>,
    bias: f64,
    weights: Vec<f64>,
    threshold: f64,
}

impl Model {
    /// Reads `model.json`. Errors name the field at fault: an unknown `format`,
    /// a feature not in [`FEATURES`] or listed twice, as many weights as
    /// features, finite numbers, a threshold in (0, 1].
    pub fn parse(text: &str) -> Result<Model, String> {
        let file: ModelFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if file.format != FORMAT {
            return Err(format!(
                "`format` is {:?}, expected {FORMAT:?}",
                file.format
            ));
        }
        if file.features.len() != file.weights.len() {
            return Err(format!(
                "{} features but {} weights",
                file.features.len(),
                file.weights.len()
            ));
        }
        if !file.bias.is_finite() {
            return Err("`bias` must be a finite number".to_owned());
        }
        if !(file.threshold > 0.0 && file.threshold <= 1.0) {
            return Err("`threshold` must be in (0, 1]".to_owned());
        }
        let mut weights = [0.0; FEATURES.len()];
        let mut seen = [false; FEATURES.len()];
        for (name, weight) in file.features.iter().zip(&file.weights) {
            let Some(at) = FEATURES.iter().position(|known| known == name) else {
                return Err(format!(
                    "unknown feature `{name}` (known: {})",
                    FEATURES.join(", ")
                ));
            };
            if std::mem::replace(&mut seen[at], true) {
                return Err(format!("feature `{name}` is listed twice"));
            }
            if !weight.is_finite() {
                return Err(format!("the weight of `{name}` must be a finite number"));
            }
            weights[at] = *weight;
        }
        Ok(Model {
            weights,
            bias: file.bias,
            threshold_per_mille: (file.threshold * 1000.0).floor() as u16,
        })
    }

    /// The score of `features`, thousandths rounded down (0–1000).
    pub fn score_per_mille(&self, features: &Features) -> u16 {
        let z = self.bias
            + self
                .weights
                .iter()
                .zip(features)
                .map(|(w, x)| w * x)
                .sum::<f64>();
        let score = 1.0 / (1.0 + (-z).exp());
        if score.is_nan() {
            // Weights large enough to overflow (inf − inf): fail closed.
            return 1000;
        }
        (score * 1000.0).floor().clamp(0.0, 1000.0) as u16
    }

    /// The model's threshold, thousandths.
    pub fn threshold_per_mille(&self) -> u16 {
        self.threshold_per_mille
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(features: &str, weights: &str, threshold: f64) -> Result<Model, String> {
        Model::parse(&format!(
            r#"{{"format":"{FORMAT}","features":{features},"bias":-2.0,"weights":{weights},
                "threshold":{threshold},"trained_at":"2026-12-01T00:00:00Z"}}"#
        ))
    }

    #[test]
    fn scores_follow_the_logistic_formula_over_the_named_features() {
        let m = model(r#"["ip_datacenter","ua_missing"]"#, "[3.0, 1.0]", 0.8).unwrap();
        let mut x = [0.0; FEATURES.len()];
        // sigmoid(-2) = 0.1192
        assert_eq!(m.score_per_mille(&x), 119);
        x[3] = 1.0; // ip_datacenter: sigmoid(1) = 0.7311
        assert_eq!(m.score_per_mille(&x), 731);
        x[0] = 1.0; // + ua_missing: sigmoid(2) = 0.8808
        assert_eq!(m.score_per_mille(&x), 880);
        x[6] = 1.0; // `app` is not in the model: no effect
        assert_eq!(m.score_per_mille(&x), 880);
        assert_eq!(m.threshold_per_mille(), 800);
        // Extreme inputs stay in range.
        x[3] = 1e300;
        assert_eq!(m.score_per_mille(&x), 1000);
        x[3] = -1e300;
        assert_eq!(m.score_per_mille(&x), 0);
        // Overflowing weights (inf − inf is NaN) score the maximum, never 0.
        let wild = model(r#"["tmax_s","imp_count"]"#, "[1e308, -1e308]", 0.5).unwrap();
        let mut x = [0.0; FEATURES.len()];
        x[12] = 5.0;
        x[11] = 2.0;
        assert_eq!(wild.score_per_mille(&x), 1000);
    }

    #[test]
    fn bad_model_files_are_refused_naming_the_fault() {
        let cases = [
            (
                model(r#"["ua_missing"]"#, "[1.0, 2.0]", 0.5),
                "1 features but 2 weights",
            ),
            (
                model(r#"["ua_mising"]"#, "[1.0]", 0.5),
                "unknown feature `ua_mising`",
            ),
            (model(r#"["app","app"]"#, "[1.0, 1.0]", 0.5), "listed twice"),
            (model(r#"["app"]"#, "[1.0]", 0.0), "`threshold`"),
            (model(r#"["app"]"#, "[1.0]", 1.5), "`threshold`"),
            (Model::parse("{}"), "missing field"),
            (Model::parse("not json"), "expected"),
        ];
        for (result, expected) in cases {
            let err = result.unwrap_err();
            assert!(err.contains(expected), "{err:?} should say {expected:?}");
        }
        let wrong_format =
            r#"{"format":"xgboost","features":[],"bias":0,"weights":[],"threshold":0.5}"#;
        assert!(Model::parse(wrong_format).unwrap_err().contains("format"));
    }

    #[test]
    fn the_bundled_model_loads() {
        let text = include_str!("../lists/model.json");
        let m = Model::parse(text).expect("the bundled model is valid");
        assert!(m.threshold_per_mille() > 0);
    }
}
