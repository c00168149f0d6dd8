//! TLS for the server: rustls on ring, configured from PEM files, with the
//! handshake done per connection off the accept loop (see `app.rs`) under
//! `--handshake-timeout`.

mod client_auth;
mod der;

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {flag} {path}: {message}")]
    File {
        flag: &'static str,
        path: String,
        message: String,
    },
    #[error("{flag} {path} holds no PEM certificate")]
    NoCertificate { flag: &'static str, path: String },
    #[error("TLS settings: {0}")]
    Config(String),
}

fn certificates(flag: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file_error = |e: &dyn std::fmt::Display| TlsError::File {
        flag,
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(&e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            flag,
            path: path.display().to_string(),
        });
    }
    Ok(certs)
}

/// The server's rustls configuration: its certificate chain and key, HTTP/2
/// by ALPN, and, with `client_ca`, a client certificate required from every
/// connection (checked at the handshake).
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certificates("--tls-cert", cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::File {
        flag: "--tls-key",
        path: key.display().to_string(),
        message: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match client_ca {
        Some(path) => {
            let cas = certificates("--tls-client-ca", path)?;
            let verifier =
                client_auth::ClientAuth::new(&cas, provider).map_err(TlsError::Config)?;
            builder.with_client_cert_verifier(Arc::new(verifier))
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("--tls-cert/--tls-key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}
