//! TLS to Redis (ElastiCache in-transit encryption), with `rustls`.
//!
//! The client configuration is built once at start from `frequency_cap.redis.tls*`,
//! so an unreadable CA file or a bad server name stops the start naming its key,
//! and every worker's connections share it.

use std::net::IpAddr;
use std::sync::Arc;

use monoio::net::TcpStream;
use monoio_rustls::{ClientTlsStream, TlsConnector};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

use crate::error::ConfigError;
use crate::freq_cap::config::RedisConfig;

/// How connections to Redis are encrypted and whom they trust.
pub(crate) struct RedisTls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

impl RedisTls {
    /// The TLS settings of `config`; `None` when `tls` is off.
    pub(crate) fn from_config(config: &RedisConfig) -> Result<Option<RedisTls>, ConfigError> {
        if !config.tls {
            return Ok(None);
        }
        let bad = |key: &str, reason: String| ConfigError {
            key: format!("frequency_cap.redis.{key}"),
            reason,
        };
        let mut roots = RootCertStore::empty();
        if config.tls_ca_file.is_empty() {
            // ElastiCache certificates chain to public roots the system trusts.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(bad(
                    "tls_ca_file",
                    "the system trust store is empty; name a CA file".to_owned(),
                ));
            }
        } else {
            let path = &config.tls_ca_file;
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad("tls_ca_file", format!("cannot read {path}: {e}")))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(bad(
                    "tls_ca_file",
                    format!("{path} holds no usable certificate"),
                ));
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad("tls", e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let (key, name) = if config.tls_server_name.is_empty() {
            ("addr", host_of(&config.addr))
        } else {
            ("tls_server_name", config.tls_server_name.as_str())
        };
        let server_name = ServerName::try_from(name.to_owned())
            .map_err(|e| bad(key, format!("{name:?} is not a TLS server name: {e}")))?;
        Ok(Some(RedisTls {
            connector: TlsConnector::from(Arc::new(client)),
            server_name,
        }))
    }

    /// Runs the handshake over a connected socket.
    pub(crate) async fn connect(
        &self,
        tcp: TcpStream,
    ) -> std::io::Result<ClientTlsStream<TcpStream>> {
        self.connector
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(std::io::Error::from)
    }
}

/// The host part of `host:port` (IPv6 literals may be bracketed).
fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let unbracketed = host.trim_start_matches('[').trim_end_matches(']');
    if unbracketed.parse::<IpAddr>().is_ok() {
        unbracketed
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_the_host_of_the_address() {
        assert_eq!(host_of("cache.example.com:6379"), "cache.example.com");
        assert_eq!(host_of("127.0.0.1:6380"), "127.0.0.1");
        assert_eq!(host_of("[::1]:6379"), "::1");
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mut config = RedisConfig {
            tls: true,
            tls_ca_file: "/nonexistent/ca.pem".to_owned(),
            ..RedisConfig::default()
        };
        let err = RedisTls::from_config(&config).err().unwrap();
        assert_eq!(err.key, "frequency_cap.redis.tls_ca_file");
        config.tls = false;
        assert!(RedisTls::from_config(&config).unwrap().is_none());
    }
}
