//! Client-certificate verification for mutual TLS.
//!
//! Every certificate that webpki can read is verified by webpki, as rustls
//! does by default. webpki reads only X.509 v3 certificates, but
//! `openssl x509 -req` without an extensions file, the most common way to
//! sign a client certificate with a private CA, makes v1 ones, and a
//! server that refuses them fails at the handshake with no useful message.
//! A v1 client certificate is therefore accepted on the checks that apply to
//! it (it has no extensions to check), and only these:
//! - it is signed directly by one of the `--tls-client-ca` certificates: the
//!   issuer name equals the CA's subject byte for byte, and the signature
//!   verifies with the CA's key under an algorithm rustls supports;
//! - the handshake time is within its validity period;
//! - no intermediate certificates (a v1 certificate cannot be a CA).

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, SubjectPublicKeyInfoDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

use super::der::{self, Reader};

/// One configured client CA, as the v1 path needs it.
#[derive(Debug)]
struct Authority {
    /// The contents of its subject Name.
    subject: Vec<u8>,
    /// The contents of its SubjectPublicKeyInfo.
    spki: Vec<u8>,
}

#[derive(Debug)]
pub struct ClientAuth {
    webpki: Arc<dyn ClientCertVerifier>,
    authorities: Vec<Authority>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientAuth {
    pub fn new(
        cas: &[CertificateDer<'static>],
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        let mut authorities = Vec::new();
        for ca in cas {
            roots
                .add(ca.clone())
                .map_err(|e| format!("not a usable CA certificate: {e}"))?;
            let anchor = webpki::anchor_from_trusted_cert(ca)
                .map_err(|e| format!("not a usable CA certificate: {e}"))?;
            authorities.push(Authority {
                subject: anchor.subject.as_ref().to_vec(),
                spki: anchor.subject_public_key_info.as_ref().to_vec(),
            });
        }
        let algorithms = provider.signature_verification_algorithms;
        let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("client CA: {e}"))?;
        Ok(Self {
            webpki,
            authorities,
            algorithms,
        })
    }

    /// Checks a v1 certificate (see the module doc).
    fn verify_v1(&self, cert: &V1Cert<'_>, now: UnixTime) -> Result<(), Error> {
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if now < cert.not_before || now > cert.not_after {
            return Err(CertificateError::Expired.into());
        }
        let authority = self
            .authorities
            .iter()
            .find(|a| a.subject == cert.issuer)
            .ok_or(Error::InvalidCertificate(CertificateError::UnknownIssuer))?;
        let (ca_key_alg, ca_key) = spki_parts(&authority.spki).ok_or(bad())?;
        let verified = self.algorithms.all.iter().any(|alg| {
            alg.signature_alg_id().as_ref() == cert.signature_alg
                && alg.public_key_alg_id().as_ref() == ca_key_alg
                && alg
                    .verify_signature(ca_key, cert.tbs, cert.signature)
                    .is_ok()
        });
        if verified {
            Ok(())
        } else {
            Err(CertificateError::BadSignature.into())
        }
    }

    /// A handshake signature made with a v1 certificate's key.
    fn verify_with_v1_key(
        &self,
        message: &[u8],
        cert: &V1Cert<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let (key_alg, key) = spki_parts(cert.spki_contents).ok_or(bad())?;
        let candidates = self
            .algorithms
            .mapping
            .iter()
            .filter(|(scheme, _)| *scheme == dss.scheme)
            .flat_map(|(_, algs)| algs.iter());
        for alg in candidates {
            if alg.public_key_alg_id().as_ref() == key_alg
                && alg.verify_signature(key, message, dss.signature()).is_ok()
            {
                return Ok(HandshakeSignatureValid::assertion());
            }
        }
        Err(CertificateError::BadSignature.into())
    }
}

fn bad() -> Error {
    Error::InvalidCertificate(CertificateError::BadEncoding)
}

impl ClientCertVerifier for ClientAuth {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.webpki.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        match V1Cert::parse(end_entity) {
            Some(v1) if intermediates.is_empty() => {
                self.verify_v1(&v1, now)?;
                Ok(ClientCertVerified::assertion())
            }
            Some(_) => Err(CertificateError::UnknownIssuer.into()),
            None => self
                .webpki
                .verify_client_cert(end_entity, intermediates, now),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        match V1Cert::parse(cert) {
            Some(v1) => self.verify_with_v1_key(message, &v1, dss),
            None => self.webpki.verify_tls12_signature(message, cert, dss),
        }
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        match V1Cert::parse(cert) {
            Some(v1) => {
                let spki = SubjectPublicKeyInfoDer::from(v1.spki_der);
                rustls::crypto::verify_tls13_signature_with_raw_key(
                    message,
                    &spki,
                    dss,
                    &self.algorithms,
                )
            }
            None => self.webpki.verify_tls13_signature(message, cert, dss),
        }
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The fields of an X.509 v1 certificate that its checks read.
struct V1Cert<'a> {
    /// The whole TBSCertificate, as signed.
    tbs: &'a [u8],
    /// Contents of the outer signatureAlgorithm.
    signature_alg: &'a [u8],
    /// The signature's bits.
    signature: &'a [u8],
    /// Contents of the issuer Name.
    issuer: &'a [u8],
    not_before: i64,
    not_after: i64,
    /// The SubjectPublicKeyInfo, whole and as contents.
    spki_der: &'a [u8],
    spki_contents: &'a [u8],
}

impl<'a> V1Cert<'a> {
    /// The certificate's fields when it is a well-formed v1 certificate;
    /// `None` for every other certificate (v3 goes to webpki).
    fn parse(cert: &'a [u8]) -> Option<Self> {
        let mut outer = Reader::new(cert);
        let certificate = outer.take(der::SEQUENCE)?;
        if !outer.is_empty() {
            return None;
        }
        let mut parts = Reader::new(certificate.value);
        let tbs = parts.take(der::SEQUENCE)?;
        let signature_alg = parts.take(der::SEQUENCE)?;
        let signature = parts.take(der::BIT_STRING)?;
        if !parts.is_empty() {
            return None;
        }
        // A v1 certificate either omits the version or says 0.
        let mut fields = Reader::new(tbs.value);
        if fields.peek_tag() == Some(der::VERSION) {
            let version = fields.take(der::VERSION)?;
            let mut v = Reader::new(version.value);
            if v.take(der::INTEGER)?.value != [0] {
                return None;
            }
        }
        fields.take(der::INTEGER)?; // serial number
        let inner_alg = fields.take(der::SEQUENCE)?;
        let issuer = fields.take(der::SEQUENCE)?;
        let validity = fields.take(der::SEQUENCE)?;
        fields.take(der::SEQUENCE)?; // subject
        let spki = fields.take(der::SEQUENCE)?;
        // v1 has no unique identifiers or extensions.
        if !fields.is_empty() || inner_alg.value != signature_alg.value {
            return None;
        }
        let mut times = Reader::new(validity.value);
        let not_before = der::time(&times.any()?)?;
        let not_after = der::time(&times.any()?)?;
        Some(Self {
            tbs: tbs.der,
            signature_alg: signature_alg.value,
            signature: bit_string_bytes(signature.value)?,
            issuer: issuer.value,
            not_before,
            not_after,
            spki_der: spki.der,
            spki_contents: spki.value,
        })
    }
}

/// A BIT STRING of whole bytes (as keys and signatures are).
fn bit_string_bytes(value: &[u8]) -> Option<&[u8]> {
    match value.split_first() {
        Some((0, bytes)) => Some(bytes),
        _ => None,
    }
}

/// (algorithm identifier contents, public key bits) of SPKI contents.
fn spki_parts(contents: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut r = Reader::new(contents);
    let alg = r.take(der::SEQUENCE)?;
    let key = r.take(der::BIT_STRING)?;
    Some((alg.value, bit_string_bytes(key.value)?))
}
