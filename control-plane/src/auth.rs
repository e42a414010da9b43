//! API keys and who holds them.
//!
//! A key reads `tern_<key id>_<secret>`: the id (16 hex digits) finds the stored
//! record, the secret (32 random bytes, base64url) proves possession. Only the
//! secret's HMAC-SHA-256 under `auth.pepper` is stored, so neither the table nor
//! its backups hold a usable key; the secret is shown once, when the key is made.
//! Secrets are random, not passwords, so a fast hash is enough (no guess is more
//! likely than another) and every request can afford it.
//!
//! Each key has a role: an **operator** sees and changes everything and manages
//! keys; an **advertiser** key sees and changes only the campaigns of its
//! advertiser. The bootstrap operator key (`auth.bootstrap_operator_key`) is
//! compared the same way but never stored.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::api::AppState;
use crate::problem::{Kind, Problem};

/// Bytes of randomness in a key's secret.
const SECRET_BYTES: usize = 32;
/// Bytes of randomness in a key's id.
const ID_BYTES: usize = 8;
/// The id the bootstrap key acts under in the audit log.
pub const BOOTSTRAP_KEY_ID: &str = "bootstrap";

/// What a key may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "role", content = "advertiser_id")]
pub enum Role {
    /// Everything, including managing keys.
    Operator,
    /// The campaigns of one advertiser (`advertiser_id`) only.
    Advertiser(String),
}

/// The holder of the key a request came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's id (the audit log's actor).
    pub key_id: String,
    /// What it may do.
    pub role: Role,
}

impl Principal {
    /// Whether this key may see and change a campaign of `advertiser_id`.
    pub fn may_access(&self, advertiser_id: Option<&str>) -> bool {
        match &self.role {
            Role::Operator => true,
            Role::Advertiser(own) => advertiser_id == Some(own.as_str()),
        }
    }

    /// The advertiser this key is limited to, if any.
    pub fn advertiser(&self) -> Option<&str> {
        match &self.role {
            Role::Operator => None,
            Role::Advertiser(own) => Some(own),
        }
    }

    /// The advertiser a listing is limited to: an advertiser key's own (`403`
    /// when it `asked` for another's), or what an operator `asked` for.
    pub fn scope(&self, asked: Option<String>) -> Result<Option<String>, Problem> {
        match (self.advertiser(), asked) {
            (Some(own), Some(asked)) if asked != own => Err(Problem::new(
                Kind::Forbidden,
                "this key may only see its own advertiser's records",
            )),
            (Some(own), _) => Ok(Some(own.to_owned())),
            (None, asked) => Ok(asked),
        }
    }

    /// Refuses anything but an operator key.
    pub fn require_operator(&self) -> Result<(), Problem> {
        match self.role {
            Role::Operator => Ok(()),
            Role::Advertiser(_) => Err(Problem::new(
                Kind::Forbidden,
                "only an operator key may do this",
            )),
        }
    }
}

/// A newly made key: its id, the full key text to hand over once, and the hash
/// to store.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// The key's id.
    pub key_id: String,
    /// `tern_<id>_<secret>`.
    pub text: String,
    /// What is stored.
    pub hash: String,
}

/// The hashing of secrets under the configured pepper.
#[derive(Clone)]
pub struct KeyHasher {
    pepper: Vec<u8>,
    /// The bootstrap key's hash, when one is configured.
    bootstrap: Option<[u8; 32]>,
}

impl std::fmt::Debug for KeyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyHasher").finish_non_exhaustive()
    }
}

impl KeyHasher {
    /// Hashes under `pepper`; accepts `bootstrap` (when not empty) as an operator key.
    pub fn new(pepper: &str, bootstrap: &str) -> KeyHasher {
        let mut hasher = KeyHasher {
            pepper: pepper.as_bytes().to_vec(),
            bootstrap: None,
        };
        if !bootstrap.is_empty() {
            hasher.bootstrap = Some(hasher.digest(bootstrap));
        }
        hasher
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.pepper).expect("HMAC takes keys of any length")
    }

    fn digest(&self, secret: &str) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The stored form of `secret`: its HMAC, base64url.
    pub fn hash(&self, secret: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.digest(secret))
    }

    /// Whether `secret` hashes to `stored`, compared in constant time.
    pub fn verify(&self, secret: &str, stored: &str) -> bool {
        let Ok(expected) = URL_SAFE_NO_PAD.decode(stored) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(secret.as_bytes());
        mac.verify_slice(&expected).is_ok()
    }

    /// Whether `text` is the bootstrap key.
    pub fn is_bootstrap(&self, text: &str) -> bool {
        self.bootstrap.is_some_and(|expected| {
            let mut mac = self.mac();
            mac.update(text.as_bytes());
            mac.verify_slice(&expected).is_ok()
        })
    }

    /// Makes a key from the operating system's CSPRNG.
    pub fn generate(&self) -> std::io::Result<NewKey> {
        let mut id = [0u8; ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut id).map_err(std::io::Error::other)?;
        getrandom::fill(&mut secret).map_err(std::io::Error::other)?;
        let key_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let secret = URL_SAFE_NO_PAD.encode(secret);
        Ok(NewKey {
            text: format!("tern_{key_id}_{secret}"),
            hash: self.hash(&secret),
            key_id,
        })
    }
}

/// Splits `tern_<id>_<secret>` into id and secret.
pub fn parse_key(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("tern_")?;
    let (id, secret) = rest.split_once('_')?;
    let well_formed =
        id.len() == 2 * ID_BYTES && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty();
    well_formed.then_some((id, secret))
}

/// The key of a request: `Authorization: Bearer <key>`.
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let unauthorized = |why: &str| Problem::new(Kind::Unauthorized, why.to_owned());
        let Some(text) = bearer(parts) else {
            return Err(unauthorized(
                "send the API key as `Authorization: Bearer <key>`",
            ));
        };
        if state.hasher.is_bootstrap(text) {
            return Ok(Principal {
                key_id: BOOTSTRAP_KEY_ID.to_owned(),
                role: Role::Operator,
            });
        }
        let Some((key_id, secret)) = parse_key(text) else {
            return Err(unauthorized("not a Tern API key"));
        };
        let stored = state
            .store
            .key(key_id)
            .await
            .map_err(Problem::unavailable)?;
        match stored {
            Some(record)
                if record.revoked_at.is_none() && state.hasher.verify(secret, &record.hash) =>
            {
                Ok(Principal {
                    key_id: key_id.to_owned(),
                    role: record.role,
                })
            }
            _ => Err(unauthorized("unknown or revoked API key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_verifies_and_nothing_else_does() {
        let hasher = KeyHasher::new("pepper", "");
        let key = hasher.generate().unwrap();
        let (id, secret) = parse_key(&key.text).unwrap();
        assert_eq!(id, key.key_id);
        assert!(hasher.verify(secret, &key.hash));
        assert!(!hasher.verify("other", &key.hash));
        assert!(
            !KeyHasher::new("other pepper", "").verify(secret, &key.hash),
            "the pepper is part of the hash"
        );
        assert_ne!(key.hash, secret, "the secret is not stored");
        let again = hasher.generate().unwrap();
        assert_ne!(again.text, key.text);
    }

    #[test]
    fn malformed_keys_are_not_parsed() {
        for text in [
            "",
            "tern_",
            "tern_abc_secret",
            "tern_0123456789abcdef_",
            "key_0123456789abcdef_s",
            "tern_0123456789abcdeg_s",
        ] {
            assert_eq!(parse_key(text), None, "{text}");
        }
    }

    #[test]
    fn the_bootstrap_key_is_an_operator_only_when_configured() {
        let key = "a-bootstrap-key-of-at-least-32-characters";
        assert!(KeyHasher::new("p", key).is_bootstrap(key));
        assert!(!KeyHasher::new("p", key).is_bootstrap("a-bootstrap-key"));
        assert!(!KeyHasher::new("p", "").is_bootstrap(""));
    }

    #[test]
    fn advertiser_keys_reach_their_own_campaigns_only() {
        let advertiser = Principal {
            key_id: "k".to_owned(),
            role: Role::Advertiser("acme".to_owned()),
        };
        assert!(advertiser.may_access(Some("acme")));
        assert!(!advertiser.may_access(Some("other")));
        assert!(!advertiser.may_access(None));
        assert!(advertiser.require_operator().is_err());
        let operator = Principal {
            key_id: "o".to_owned(),
            role: Role::Operator,
        };
        assert!(operator.may_access(None));
    }
}
