//! Which credential each RPC needs. The envelope (`grpc::envelope`) asks
//! here once per call, by the request's path, before any handler runs.

use crate::access::Scope;

/// What a path needs before it may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Health and reflection: probes and tooling must work without a key.
    Open,
    /// A key holding this scope (or `admin`).
    Needs(Scope),
}

/// How the RPC exchanges messages: a deadline by default only makes sense
/// for calls that end by themselves, and a bidirectional stream is admitted
/// item by item rather than as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Unary,
    ClientStreaming,
    Bidirectional,
}

/// One RPC as the envelope sees it.
#[derive(Debug, Clone, Copy)]
pub struct Rpc {
    /// `Service/Method`, for logs and metrics (never caller-controlled text
    /// beyond the known table: an unknown path is reported as "unknown").
    pub method: &'static str,
    pub access: Access,
    pub shape: Shape,
}

const TABLE: &[(&str, Scope, Shape)] = &[
    (
        "/kairos.v1.ScoringService/Score",
        Scope::Score,
        Shape::Unary,
    ),
    (
        "/kairos.v1.ScoringService/ScoreBatch",
        Scope::Score,
        Shape::Unary,
    ),
    (
        "/kairos.v1.ScoringService/ScoreStream",
        Scope::Score,
        Shape::Bidirectional,
    ),
    (
        "/kairos.v1.ScoringService/RankBrands",
        Scope::Score,
        Shape::Unary,
    ),
    (
        "/kairos.v1.GuardrailService/RecordEngagement",
        Scope::Score,
        Shape::Unary,
    ),
    (
        "/kairos.v1.BrandProfileService/GetBrandProfile",
        Scope::Read,
        Shape::Unary,
    ),
    (
        "/kairos.v1.BrandProfileService/ListBrandProfiles",
        Scope::Read,
        Shape::Unary,
    ),
    (
        "/kairos.v1.GuardrailService/ListBlackouts",
        Scope::Read,
        Shape::Unary,
    ),
    (
        "/kairos.v1.GuardrailService/ListDecisions",
        Scope::Read,
        Shape::Unary,
    ),
    (
        "/kairos.v1.BrandProfileService/UpsertBrandProfile",
        Scope::Admin,
        Shape::Unary,
    ),
    (
        "/kairos.v1.BrandProfileService/DeleteBrandProfile",
        Scope::Admin,
        Shape::Unary,
    ),
    (
        "/kairos.v1.BrandProfileService/ImportBrandProfiles",
        Scope::Admin,
        Shape::ClientStreaming,
    ),
    (
        "/kairos.v1.GuardrailService/CreateBlackout",
        Scope::Admin,
        Shape::Unary,
    ),
    (
        "/kairos.v1.GuardrailService/DeleteBlackout",
        Scope::Admin,
        Shape::Unary,
    ),
];

const OPEN_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// The RPC a path names. A path outside the table needs `admin`: a method
/// added to the proto is closed until someone decides who may call it.
pub fn classify(path: &str) -> Rpc {
    if let Some((p, scope, shape)) = TABLE.iter().find(|(p, _, _)| *p == path) {
        return Rpc {
            method: &p[1..],
            access: Access::Needs(*scope),
            shape: *shape,
        };
    }
    if OPEN_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return Rpc {
            method: "open",
            access: Access::Open,
            shape: Shape::Unary,
        };
    }
    Rpc {
        method: "unknown",
        access: Access::Needs(Scope::Admin),
        shape: Shape::Unary,
    }
}

/// The secret of an `authorization: Bearer <secret>` header value.
pub fn bearer(value: &[u8]) -> Option<&[u8]> {
    const PREFIX: &[u8] = b"bearer ";
    if value.len() <= PREFIX.len() || !value[..PREFIX.len()].eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let secret = value[PREFIX.len()..].trim_ascii();
    (!secret.is_empty()).then_some(secret)
}
