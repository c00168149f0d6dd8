//! Managing what a server holds, as marketing operations do it: profiles
//! (`kairos profiles get|list|delete|import`) and the crisis switch
//! (`kairos blackout create|list|delete`). Readable output by default;
//! `--json` prints the RPC's response in the proto's canonical JSON, as
//! grpcurl does, and the list commands one listed message per line.
//!
//! Exit codes: 0 done; 1 the server refused (the reason is printed: not
//! found, invalid, permission); 2 the command could not run (no server,
//! bad flags or files).

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use super::{Connection, ImportArgs, json, status_text};
use crate::grpc::pb;
use crate::grpc::pb::brand_profile_service_client::BrandProfileServiceClient;
use crate::grpc::pb::guardrail_service_client::GuardrailServiceClient;

/// Largest page the list commands ask for.
const PAGE: u32 = 500;

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Import profiles from a YAML or JSON file (the same as `kairos import`).
    Import(ImportArgs),
    /// Show one profile.
    Get(GetArgs),
    /// List every stored profile: id, version, name, themes.
    List(ListArgs),
    /// Delete one profile.
    Delete(GetArgs),
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The brand id.
    pub id: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON Lines (one object per item) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Subcommand)]
pub enum BlackoutCommand {
    /// Pause engagement now: every assessment it covers is DECLINE with
    /// BLACKOUT_ACTIVE from the next request on.
    Create(CreateBlackoutArgs),
    /// List the blackouts in force (with --all, expired ones too).
    List(ListBlackoutsArgs),
    /// Lift a blackout.
    Delete(GetArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    Global,
    Brand,
    Topic,
    Region,
}

#[derive(Debug, Args)]
pub struct CreateBlackoutArgs {
    /// What it covers.
    #[arg(long, value_enum)]
    pub scope: Scope,
    /// The brand (scope brand; narrows topic and region).
    #[arg(long)]
    pub brand: Option<String>,
    /// Words and phrases (scope topic), comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub terms: Vec<String>,
    /// The audience region (scope region).
    #[arg(long)]
    pub region: Option<String>,
    /// Why: shown in every BLACKOUT_ACTIVE reason.
    #[arg(long)]
    pub reason: String,
    /// When it ends (RFC 3339); default: until deleted.
    #[arg(long)]
    pub until: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

#[derive(Debug, Args)]
pub struct ListBlackoutsArgs {
    /// Include expired blackouts.
    #[arg(long)]
    pub all: bool,
    /// Print JSON Lines instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub conn: Connection,
}

/// Why a command stopped: the server refused it, or it could not run.
enum Failure {
    Refused(String),
    Broken(String),
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Failure::Broken(e)
    }
}

fn refused(s: tonic::Status) -> Failure {
    Failure::Refused(status_text(&s))
}

fn finish(result: Result<(), Failure>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Broken(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

pub async fn profiles(command: ProfilesCommand) -> ExitCode {
    match command {
        ProfilesCommand::Import(args) => super::import(args).await,
        ProfilesCommand::Get(args) => finish(get_profile(args).await),
        ProfilesCommand::List(args) => finish(list_profiles(args).await),
        ProfilesCommand::Delete(args) => finish(delete_profile(args).await),
    }
}

pub async fn blackout(command: BlackoutCommand) -> ExitCode {
    match command {
        BlackoutCommand::Create(args) => finish(create_blackout(args).await),
        BlackoutCommand::List(args) => finish(list_blackouts(args).await),
        BlackoutCommand::Delete(args) => finish(delete_blackout(args).await),
    }
}

async fn get_profile(args: GetArgs) -> Result<(), Failure> {
    let mut client = BrandProfileServiceClient::new(args.conn.channel().await?);
    let response = client
        .get_brand_profile(pb::GetBrandProfileRequest {
            brand_id: args.id.clone(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if args.json {
        println!("{}", json::line(&response)?);
        return Ok(());
    }
    let profile = response
        .profile
        .ok_or_else(|| Failure::Broken("the server sent no profile".into()))?;
    print!("{}", profile_text(&profile));
    Ok(())
}

async fn list_profiles(args: ListArgs) -> Result<(), Failure> {
    let mut client = BrandProfileServiceClient::new(args.conn.channel().await?);
    let mut token = String::new();
    let mut first = true;
    loop {
        let page = client
            .list_brand_profiles(pb::ListBrandProfilesRequest {
                page_size: PAGE,
                page_token: token.clone(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        for p in &page.profiles {
            if args.json {
                println!("{}", json::line(p)?);
            } else {
                if first {
                    println!(
                        "{:<32} {:>7}  {:<20}  {:>6}  name",
                        "brand_id", "version", "updated", "themes"
                    );
                }
                println!(
                    "{:<32} {:>7}  {:<20}  {:>6}  {}",
                    p.brand_id,
                    p.version,
                    p.updated_at.as_ref().map(ts).unwrap_or_default(),
                    p.themes.len(),
                    p.display_name
                );
            }
            first = false;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    if first && !args.json {
        println!("no profiles stored");
    }
    Ok(())
}

async fn delete_profile(args: GetArgs) -> Result<(), Failure> {
    let mut client = BrandProfileServiceClient::new(args.conn.channel().await?);
    let response = client
        .delete_brand_profile(pb::DeleteBrandProfileRequest {
            brand_id: args.id.clone(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if args.json {
        println!("{}", json::line(&response)?);
    } else {
        println!("deleted {}", args.id);
    }
    Ok(())
}

async fn create_blackout(args: CreateBlackoutArgs) -> Result<(), Failure> {
    let ends_at = match &args.until {
        Some(t) => Some(super::files::timestamp(t).map_err(|e| format!("--until: {e}"))?),
        None => None,
    };
    let scope = match args.scope {
        Scope::Global => pb::BlackoutScope::Global,
        Scope::Brand => pb::BlackoutScope::Brand,
        Scope::Topic => pb::BlackoutScope::Topic,
        Scope::Region => pb::BlackoutScope::Region,
    };
    let mut client = GuardrailServiceClient::new(args.conn.channel().await?);
    let response = client
        .create_blackout(pb::CreateBlackoutRequest {
            blackout: Some(pb::Blackout {
                scope: scope as i32,
                brand_id: args.brand.clone().unwrap_or_default(),
                terms: args.terms.clone(),
                region: args.region.clone().unwrap_or_default(),
                ends_at,
                reason: args.reason.clone(),
                ..Default::default()
            }),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if args.json {
        println!("{}", json::line(&response)?);
        return Ok(());
    }
    let created = response
        .blackout
        .ok_or_else(|| Failure::Broken("the server sent no blackout".into()))?;
    println!(
        "blackout {} in force: {}",
        created.id,
        blackout_text(&created)
    );
    Ok(())
}

async fn list_blackouts(args: ListBlackoutsArgs) -> Result<(), Failure> {
    let mut client = GuardrailServiceClient::new(args.conn.channel().await?);
    let mut token = String::new();
    let mut any = false;
    loop {
        let page = client
            .list_blackouts(pb::ListBlackoutsRequest {
                include_expired: args.all,
                page_size: PAGE,
                page_token: token.clone(),
            })
            .await
            .map_err(refused)?
            .into_inner();
        for b in &page.blackouts {
            any = true;
            if args.json {
                println!("{}", json::line(b)?);
            } else {
                println!("{}  {}", b.id, blackout_text(b));
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    if !any && !args.json {
        println!("no blackouts in force");
    }
    Ok(())
}

async fn delete_blackout(args: GetArgs) -> Result<(), Failure> {
    let mut client = GuardrailServiceClient::new(args.conn.channel().await?);
    let response = client
        .delete_blackout(pb::DeleteBlackoutRequest {
            id: args.id.clone(),
        })
        .await
        .map_err(refused)?
        .into_inner();
    if args.json {
        println!("{}", json::line(&response)?);
    } else {
        println!("lifted blackout {}", args.id);
    }
    Ok(())
}

fn ts(t: &prost_types::Timestamp) -> String {
    super::ts_text(Some(t)).unwrap_or_else(|| t.seconds.to_string())
}

fn scope_name(scope: i32) -> &'static str {
    match pb::BlackoutScope::try_from(scope) {
        Ok(pb::BlackoutScope::Global) => "global",
        Ok(pb::BlackoutScope::Brand) => "brand",
        Ok(pb::BlackoutScope::Topic) => "topic",
        Ok(pb::BlackoutScope::Region) => "region",
        _ => "unspecified",
    }
}

/// One line: scope, what it narrows to, window, reason.
fn blackout_text(b: &pb::Blackout) -> String {
    let mut parts = vec![scope_name(b.scope).to_string()];
    if !b.brand_id.is_empty() {
        parts.push(format!("brand {}", b.brand_id));
    }
    if !b.terms.is_empty() {
        parts.push(format!("terms {}", b.terms.join(", ")));
    }
    if !b.region.is_empty() {
        parts.push(format!("region {}", b.region));
    }
    if let Some(s) = &b.starts_at {
        parts.push(format!("from {}", ts(s)));
    }
    parts.push(match &b.ends_at {
        Some(e) => format!("until {}", ts(e)),
        None => "until lifted".to_string(),
    });
    format!("{}: {:?}", parts.join(", "), b.reason)
}

fn terms_text(terms: &[pb::WeightedTerm]) -> String {
    terms
        .iter()
        .map(|t| format!("{} ({:.2})", t.term, t.weight))
        .collect::<Vec<_>>()
        .join(", ")
}

fn profile_text(p: &pb::BrandProfile) -> String {
    let mut out = format!("{}  version {}", p.brand_id, p.version);
    if let Some(u) = &p.updated_at {
        out.push_str(&format!(", updated {}", ts(u)));
    }
    out.push('\n');
    let mut line = |label: &str, value: String| {
        if !value.is_empty() {
            out.push_str(&format!("  {label:<16} {value}\n"));
        }
    };
    line("name", p.display_name.clone());
    line("aliases", p.aliases.join(", "));
    line("category", p.category.clone());
    line("themes", terms_text(&p.themes));
    line("topics", terms_text(&p.topics));
    line("competitors", p.competitors.join(", "));
    line("blocked terms", p.blocked_terms.join(", "));
    line("blocked topics", p.blocked_topics.join(", "));
    line("time zone", p.audience_time_zone.clone());
    line(
        "risk appetite",
        pb::RiskAppetite::try_from(p.risk_appetite)
            .ok()
            .filter(|a| *a != pb::RiskAppetite::Unspecified)
            .map(|a| {
                a.as_str_name()
                    .trim_start_matches("RISK_APPETITE_")
                    .to_lowercase()
            })
            .unwrap_or_default(),
    );
    if let Some(c) = &p.frequency_caps
        && (
            c.per_author_per_day,
            c.per_conversation_per_day,
            c.per_brand_per_hour,
        ) != (0, 0, 0)
    {
        line(
            "frequency caps",
            format!(
                "{} per author a day, {} per conversation a day, {} per hour (0: none)",
                c.per_author_per_day, c.per_conversation_per_day, c.per_brand_per_hour
            ),
        );
    }
    if !p.embedding.is_empty() {
        line("embedding", format!("{} dimensions", p.embedding.len()));
    }
    out
}
