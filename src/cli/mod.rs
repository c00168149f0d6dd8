//! Client commands: they talk to a running server over gRPC, exactly as any
//! other caller would.

pub mod bench;
pub mod files;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tonic::transport::Channel;

use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use crate::grpc::pb::guardrail_service_client::GuardrailServiceClient;
use crate::grpc::pb::scoring_service_client::ScoringServiceClient;

#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server to talk to.
    #[arg(long, env = "KAIROS_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// Admin credential sent as `authorization: Bearer <token>`.
    #[arg(long, env = "KAIROS_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

impl Connection {
    /// A request carrying the admin token, when one is configured.
    pub fn authorized<T>(&self, message: T) -> Result<tonic::Request<T>, String> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.admin_token {
            let value = format!("Bearer {token}").parse().map_err(|_| {
                "the admin token has characters not allowed in a header".to_string()
            })?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }

    async fn channel(&self) -> Result<Channel, String> {
        let endpoint = Channel::from_shared(self.server.clone())
            .map_err(|e| format!("bad --server {:?}: {e}", self.server))?;
        endpoint
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", self.server))
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// YAML or JSON file: one profile, a list, or `profiles: [...]`.
    pub file: PathBuf,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The brand to score for.
    #[arg(long)]
    pub brand: String,
    /// YAML or JSON file holding one event.
    #[arg(long)]
    pub event: PathBuf,
    /// Assess as of this instant (RFC 3339); default: the server's clock.
    #[arg(long)]
    pub now: Option<String>,
    /// Append the assessment to the decision log.
    #[arg(long)]
    pub log: bool,
    /// Print the assessment as JSON instead of an explanation.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only decisions assessed at or after this instant (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Only decisions assessed before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Only this brand.
    #[arg(long)]
    pub brand: Option<String>,
    /// Only this decision (engage, review, listen, decline).
    #[arg(long)]
    pub decision: Option<String>,
    /// Output file (JSON Lines); default: standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub conn: Connection,
}

fn status_text(s: &tonic::Status) -> String {
    format!("{:?}: {}", s.code(), s.message())
}

pub async fn import(args: ImportArgs) -> ExitCode {
    match import_inner(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn import_inner(args: ImportArgs) -> Result<ExitCode, String> {
    let items = files::read_profiles(&args.file).map_err(|e| crate::error::chain(&e))?;
    let mut client = BrandProfileServiceClient::new(args.conn.channel().await?);
    // Items that do not even parse are reported here, in file order; the
    // rest go to the server, which validates them.
    let mut local_errors = Vec::new();
    let mut to_send = Vec::new();
    let mut positions = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Ok(p) => {
                positions.push(i);
                to_send.push(pb::ImportBrandProfilesRequest { profile: Some(p) });
            }
            Err(e) => local_errors.push((i, e)),
        }
    }
    let request = args.conn.authorized(tokio_stream::iter(to_send))?;
    let resp = client
        .import_brand_profiles(request)
        .await
        .map_err(|s| status_text(&s))?
        .into_inner();
    println!(
        "created {}, updated {}, rejected {}",
        resp.created,
        resp.updated,
        resp.rejected as usize + local_errors.len()
    );
    for (i, e) in &local_errors {
        println!("  item {i}: {e}");
    }
    for e in &resp.errors {
        let i = positions
            .get(e.index as usize)
            .copied()
            .unwrap_or(e.index as usize);
        println!("  item {i} ({}): {}", e.brand_id, e.message);
    }
    Ok(if resp.rejected == 0 && local_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

pub async fn score(args: ScoreArgs) -> ExitCode {
    match score_inner(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn score_inner(args: ScoreArgs) -> Result<(), String> {
    let event = files::read_event(&args.event).map_err(|e| crate::error::chain(&e))?;
    let now = args.now.as_deref().map(files::timestamp).transpose()?;
    let mut client = ScoringServiceClient::new(args.conn.channel().await?);
    let a = client
        .score(pb::ScoreRequest {
            request_id: String::new(),
            event: Some(event),
            brand_id: args.brand,
            now,
            log_decision: args.log,
        })
        .await
        .map_err(|s| status_text(&s))?
        .into_inner()
        .assessment
        .ok_or("the server returned no assessment")?;
    if args.json {
        println!("{}", assessment_json(&a));
    } else {
        print!("{}", explain(&a));
    }
    Ok(())
}

fn ts_text(t: Option<&prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    jiff::Timestamp::new(t.seconds, t.nanos)
        .ok()
        .map(|t| t.to_string())
}

fn duration_text(d: &prost_types::Duration) -> String {
    let s = d.seconds.max(0);
    match (s / 86_400, s % 86_400 / 3600, s % 3600 / 60, s % 60) {
        (0, 0, 0, sec) => format!("{sec}s"),
        (0, 0, m, sec) => format!("{m}m{sec:02}s"),
        (0, h, m, _) => format!("{h}h{m:02}m"),
        (d, h, _, _) => format!("{d}d{h:02}h"),
    }
}

fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_string()
}

/// A human-readable explanation of an assessment.
pub fn explain(a: &pb::Assessment) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} x {}: {} (mode {})\n",
        a.event_id,
        a.brand_id,
        short(a.decision().as_str_name(), "DECISION_"),
        short(a.recommended_mode().as_str_name(), "ENGAGEMENT_MODE_"),
    ));
    out.push_str(&format!(
        "  relevance {:.2}  timing {:.2}  risk {:.2}  opportunity {:.2}  confidence {:.2}\n",
        a.relevance, a.timing, a.intrusiveness_risk, a.opportunity, a.confidence
    ));
    match (
        ts_text(a.respond_by.as_ref()),
        a.max_review_latency.as_ref(),
    ) {
        (Some(by), Some(l)) => out.push_str(&format!(
            "  respond by {by}; review may take up to {}\n",
            duration_text(l)
        )),
        (Some(by), None) => out.push_str(&format!("  respond by {by}\n")),
        (None, Some(l)) => out.push_str(&format!(
            "  nothing to publish; review would have had to take at most {}\n",
            duration_text(l)
        )),
        (None, None) => out.push_str("  nothing to publish\n"),
    }
    out.push_str("  reasons:\n");
    for r in &a.reasons {
        out.push_str(&format!(
            "    {:<26} {:<10} {:+.3}  {}\n",
            short(r.code().as_str_name(), "REASON_CODE_"),
            short(r.factor().as_str_name(), "FACTOR_").to_lowercase(),
            r.contribution,
            r.detail
        ));
    }
    out.push_str(&format!(
        "  profile v{}, model {}, assessed at {}, decision id {}\n",
        a.profile_version,
        a.model_version,
        ts_text(a.assessed_at.as_ref()).unwrap_or_default(),
        a.decision_id
    ));
    out
}

/// The assessment as a JSON object (enum names, RFC 3339 times).
pub fn assessment_json(a: &pb::Assessment) -> serde_json::Value {
    serde_json::json!({
        "decision_id": a.decision_id,
        "request_id": a.request_id,
        "event_id": a.event_id,
        "brand_id": a.brand_id,
        "relevance": a.relevance,
        "timing": a.timing,
        "intrusiveness_risk": a.intrusiveness_risk,
        "opportunity": a.opportunity,
        "decision": a.decision().as_str_name(),
        "recommended_mode": a.recommended_mode().as_str_name(),
        "respond_by": ts_text(a.respond_by.as_ref()),
        "max_review_latency_seconds": a.max_review_latency.map(|d| d.seconds as f64 + d.nanos as f64 / 1e9),
        "confidence": a.confidence,
        "reasons": a.reasons.iter().map(|r| serde_json::json!({
            "code": r.code().as_str_name(),
            "factor": r.factor().as_str_name(),
            "contribution": r.contribution,
            "detail": r.detail,
        })).collect::<Vec<_>>(),
        "profile_version": a.profile_version,
        "model_version": a.model_version,
        "assessed_at": ts_text(a.assessed_at.as_ref()),
        "decision_logged": a.decision_logged,
    })
}

pub async fn export_decisions(args: ExportArgs) -> ExitCode {
    match export_inner(args).await {
        Ok(n) => {
            eprintln!("exported {n} decisions");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn export_inner(args: ExportArgs) -> Result<u64, String> {
    let since = args.since.as_deref().map(files::timestamp).transpose()?;
    let until = args.until.as_deref().map(files::timestamp).transpose()?;
    let decision = args
        .decision
        .as_deref()
        .map(files::decision)
        .transpose()?
        .unwrap_or(0);
    let mut client = GuardrailServiceClient::new(args.conn.channel().await?);
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut token = String::new();
    let mut n = 0u64;
    loop {
        let page = client
            .list_decisions(pb::ListDecisionsRequest {
                brand_id: args.brand.clone().unwrap_or_default(),
                since,
                until,
                decision,
                page_size: 1000,
                page_token: token,
            })
            .await
            .map_err(|s| status_text(&s))?
            .into_inner();
        for d in &page.decisions {
            let line = serde_json::json!({
                "assessment": d.assessment.as_ref().map(assessment_json),
                "decided_at": ts_text(d.decided_at.as_ref()),
                "event_digest": d.event_digest,
            });
            writeln!(out, "{line}").map_err(|e| format!("cannot write: {e}"))?;
            n += 1;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    out.flush().map_err(|e| format!("cannot write: {e}"))?;
    Ok(n)
}

pub async fn bench(args: bench::BenchArgs) -> ExitCode {
    match bench::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
