//! Client commands: they talk to a running server over gRPC, exactly as any
//! other caller would.

#[cfg(feature = "loadgen")]
pub mod bench;
pub mod eval;
pub mod files;
pub mod import;
pub mod json;
pub mod manage;
pub mod profile_source;
pub mod progress;

pub use import::import;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tonic::codegen::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

use crate::grpc::pb;
use crate::grpc::pb::guardrail_service_client::GuardrailServiceClient;
use crate::grpc::pb::scoring_service_client::ScoringServiceClient;

#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// The server to talk to: host:port, http://host:port, or https://… for
    /// TLS.
    #[arg(long, env = "KAIROS_SERVER", default_value = "http://127.0.0.1:50051")]
    pub server: String,
    /// API key sent as `authorization: Bearer <key>`. Prefer the
    /// environment variable: a flag's value shows in `ps`.
    #[arg(long, env = "KAIROS_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Older name of --api-key.
    #[arg(
        long,
        env = "KAIROS_ADMIN_TOKEN",
        hide_env_values = true,
        conflicts_with = "api_key"
    )]
    pub admin_token: Option<String>,
    /// PEM CA certificate that signed the server's certificate; turns TLS on.
    #[arg(long, env = "KAIROS_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
    /// PEM client certificate, for a server that requires mutual TLS.
    #[arg(long, env = "KAIROS_CLIENT_CERT", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of --client-cert.
    #[arg(long, env = "KAIROS_CLIENT_KEY", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

/// A channel that adds the API key to every call.
pub type Conn = InterceptedService<Channel, BearerKey>;

/// Adds `authorization: Bearer <key>` when a key is configured.
#[derive(Clone)]
pub struct BearerKey(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl tonic::service::Interceptor for BearerKey {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            request.metadata_mut().insert("authorization", v.clone());
        }
        Ok(request)
    }
}

impl Connection {
    fn key(&self) -> Option<&str> {
        self.api_key.as_deref().or(self.admin_token.as_deref())
    }

    /// A request; the channel adds the key.
    pub fn authorized<T>(&self, message: T) -> Result<tonic::Request<T>, String> {
        Ok(tonic::Request::new(message))
    }

    fn bearer(&self) -> Result<BearerKey, String> {
        match self.key().filter(|k| !k.is_empty()) {
            None => Ok(BearerKey(None)),
            Some(k) => format!("Bearer {k}")
                .parse()
                .map(|v| BearerKey(Some(v)))
                .map_err(|_| "the API key has characters not allowed in a header".to_string()),
        }
    }

    fn tls(&self) -> Result<Option<ClientTlsConfig>, String> {
        let read = |flag: &str, p: &PathBuf| {
            std::fs::read(p).map_err(|e| format!("cannot read {flag} {}: {e}", p.display()))
        };
        let Some(ca) = &self.ca_cert else {
            if self.client_cert.is_some() {
                return Err(
                    "--client-cert needs --ca-cert (the CA of the server's certificate)".into(),
                );
            }
            if self.server.starts_with("https://") {
                return Err(
                    "an https:// server needs --ca-cert (the CA of its certificate)".into(),
                );
            }
            return Ok(None);
        };
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("--ca-cert", ca)?));
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            tls = tls.identity(Identity::from_pem(
                read("--client-cert", cert)?,
                read("--client-key", key)?,
            ));
        }
        Ok(Some(tls))
    }

    pub async fn channel(&self) -> Result<Conn, String> {
        let tls = self.tls()?;
        // `host:port` alone is taken as plain HTTP/2 (or TLS with --ca-cert).
        let given = if self.server.contains("://") {
            self.server.clone()
        } else {
            format!("http://{}", self.server)
        };
        let server = match (&tls, given.strip_prefix("http://")) {
            (Some(_), Some(rest)) => format!("https://{rest}"),
            _ => given.clone(),
        };
        let mut endpoint = Channel::from_shared(server.clone())
            .map_err(|e| format!("bad --server {:?}: {e}", self.server))?;
        if let Some(tls) = tls {
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| format!("TLS settings: {}", crate::error::chain(&e)))?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| format!("cannot connect to {server}: {}", crate::error::chain(&e)))?;
        Ok(InterceptedService::new(channel, self.bearer()?))
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// YAML, JSON or JSON Lines (.jsonl) file: one profile, a list,
    /// `profiles: [...]`, YAML documents separated by `---`, or one
    /// profile per line.
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
    /// Print the response as the proto's canonical JSON (what grpcurl
    /// prints) instead of an explanation.
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
    /// Output file; default: standard output. JSON Lines: one
    /// DecisionRecord per line, in the proto's canonical JSON.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub conn: Connection,
}

fn status_text(s: &tonic::Status) -> String {
    format!(
        "{}: {}",
        crate::grpc::status::code_name(s.code()),
        s.message()
    )
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
    let response = client
        .score(pb::ScoreRequest {
            view: pb::AssessmentView::Full as i32,
            request_id: String::new(),
            event: Some(event),
            brand_id: args.brand,
            now,
            log_decision: args.log,
        })
        .await
        .map_err(|s| status_text(&s))?
        .into_inner();
    if args.json {
        println!("{}", json::line(&response)?);
        return Ok(());
    }
    let a = response
        .assessment
        .ok_or("the server returned no assessment")?;
    print!("{}", explain(&a));
    Ok(())
}

/// A timestamp for people: RFC 3339, to the second.
fn ts_text(t: Option<&prost_types::Timestamp>) -> Option<String> {
    let t = t?;
    jiff::Timestamp::new(t.seconds, 0)
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
        a.relevance(),
        a.timing(),
        a.intrusiveness_risk(),
        a.opportunity(),
        a.confidence()
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
    let query = pb::ListDecisionsRequest {
        brand_id: args.brand.clone().unwrap_or_default(),
        since,
        until,
        decision,
        page_size: 1000,
        page_token: String::new(),
    };
    let mut client = GuardrailServiceClient::new(args.conn.channel().await?);
    let Some(path) = &args.out else {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let n = write_decisions(&mut client, query, &mut out, true).await?;
        out.flush().map_err(|e| format!("cannot write: {e}"))?;
        return Ok(n);
    };
    // The export goes to a temporary file beside `--out` and replaces it
    // only once complete and on disk: a failed or interrupted export leaves
    // the previous file as it was, never a truncated one. Beside it, so the
    // rename stays within one file system and is atomic.
    let name = path
        .file_name()
        .ok_or_else(|| format!("--out {} does not name a file", path.display()))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = export_to_file(&mut client, query, &tmp, path).await;
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes the export to `tmp`, syncs it, and renames it over `path`.
async fn export_to_file(
    client: &mut GuardrailServiceClient<Conn>,
    query: pb::ListDecisionsRequest,
    tmp: &std::path::Path,
    path: &std::path::Path,
) -> Result<u64, String> {
    let file =
        std::fs::File::create(tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let n = write_decisions(client, query, &mut out, false).await?;
    let file = out
        .into_inner()
        .map_err(|e| format!("cannot write {}: {}", tmp.display(), e.error()))?;
    // Durable before it becomes visible under the real name, so a crash
    // after the rename cannot leave an empty or partial file there.
    file.sync_all()
        .map_err(|e| format!("cannot sync {}: {e}", tmp.display()))?;
    drop(file);
    std::fs::rename(tmp, path)
        .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), path.display()))?;
    // The rename itself is durable once the directory is synced. Best
    // effort: the export is complete either way, and some file systems do
    // not sync directories.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(n)
}

/// Pages through the decision log, one JSON line per decision.
async fn write_decisions(
    client: &mut GuardrailServiceClient<Conn>,
    mut query: pb::ListDecisionsRequest,
    out: &mut impl Write,
    to_stdout: bool,
) -> Result<u64, String> {
    let mut n = 0u64;
    let mut progress = progress::Progress::new("export", None, to_stdout);
    loop {
        progress.update(0, || format!("{n} decisions written"));
        let page = client
            .list_decisions(query.clone())
            .await
            .map_err(|s| status_text(&s))?
            .into_inner();
        for d in &page.decisions {
            writeln!(out, "{}", json::line(d)?).map_err(|e| format!("cannot write: {e}"))?;
            n += 1;
        }
        if page.next_page_token.is_empty() {
            progress.finish();
            return Ok(n);
        }
        query.page_token = page.next_page_token;
    }
}

#[cfg(feature = "loadgen")]
pub async fn bench(args: bench::BenchArgs) -> ExitCode {
    match bench::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
