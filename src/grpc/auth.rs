//! The admin credential for writes. With a token configured, RPCs that
//! change profiles or blackouts need `authorization: Bearer <token>`.

use tonic::Request;

use crate::error::Error;

#[derive(Clone, Default)]
pub struct AdminAuth {
    token: Option<String>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("AdminAuth")
            .field("enabled", &self.token.is_some())
            .finish()
    }
}

/// Compares without an early exit, so timing does not leak the prefix.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl AdminAuth {
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.filter(|t| !t.is_empty()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    pub fn check<T>(&self, request: &Request<T>) -> Result<(), Error> {
        let Some(token) = &self.token else {
            return Ok(());
        };
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or(Error::Unauthenticated)?;
        let presented = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(Error::Unauthenticated)?;
        if same(presented.trim().as_bytes(), token.as_bytes()) {
            Ok(())
        } else {
            Err(Error::PermissionDenied)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(auth: Option<&str>) -> Request<()> {
        let mut r = Request::new(());
        if let Some(a) = auth {
            r.metadata_mut().insert("authorization", a.parse().unwrap());
        }
        r
    }

    #[test]
    fn open_without_a_token_and_checked_with_one() {
        assert!(AdminAuth::new(None).check(&req(None)).is_ok());
        let auth = AdminAuth::new(Some("s3cret".into()));
        assert!(matches!(
            auth.check(&req(None)),
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            auth.check(&req(Some("Bearer nope"))),
            Err(Error::PermissionDenied)
        ));
        assert!(auth.check(&req(Some("Bearer s3cret"))).is_ok());
        assert!(!format!("{auth:?}").contains("s3cret"));
    }
}
