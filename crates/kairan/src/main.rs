//! The `kairan` binary: `serve` runs the server; `admin …`, `audit verify` and `bench …` are
//! the operator's console. Console commands act as the `Operator` actor and are audited like
//! any other change.

mod bench;
mod bench_chat;
mod bench_clock;
mod bench_files;
mod bench_login;
mod dlp;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use kairan_domain::policy::Actor;
use kairan_server::config::Config;
use kairan_server::services::admin::{self, NewUserInput};
use kairan_server::state::AppState;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kairan",
    version,
    about = "Kairan: secure staff chat and information governance for local governments"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// Configuration file (default: ./kairan.toml when present).
    #[arg(long, global = true, env = "KAIRAN_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and local state).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Listen address, e.g. 127.0.0.1:8080.
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Create (or reuse) the demo municipality and print its logins.
        #[arg(long)]
        demo: bool,
    },
    /// Administration from the console.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reports for administrators.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Personal-data detection (G2).
    #[command(subcommand)]
    Dlp(DlpCommand),
    /// Benchmarks (figures for the notes; see docs/benchmarks.md).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a body (団体).
    CreateOrg {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        name_en: String,
    },
    /// List bodies: a header line, then one per line, code first.
    ListOrgs,
    /// Create a department in a body.
    CreateDepartment {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// Name of the parent department.
        #[arg(long)]
        parent: Option<String>,
    },
    /// Issue a staff ID; prints the temporary password once.
    CreateUser {
        #[arg(long)]
        org: String,
        #[arg(long)]
        login_id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        kana: String,
        #[arg(long, default_value = "")]
        title: String,
        /// Department name.
        #[arg(long)]
        department: Option<String>,
        /// Role codes (repeatable): staff, section_head, admin, security_officer, csirt, auditor.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// An ID for development or testing: listed by `kairan report dormant` until disabled.
        #[arg(long)]
        test: bool,
    },
    /// Issue a new temporary password for a staff ID; prints it once.
    ResetPassword {
        /// The login ID.
        login_id: String,
    },
    /// Set a body's own password rules (merged over the server default) and print the result.
    SetPasswordPolicy {
        #[arg(long)]
        org: String,
        #[arg(long)]
        min_length: Option<u32>,
        #[arg(long)]
        min_length_privileged: Option<u32>,
        #[arg(long)]
        history: Option<u32>,
        #[arg(long)]
        lockout_threshold: Option<u32>,
        #[arg(long)]
        lockout_threshold_privileged: Option<u32>,
        #[arg(long)]
        lockout_minutes: Option<u32>,
    },
    /// List who holds privileged roles, with when and by whom each was granted.
    ListPrivileged {
        #[arg(long)]
        org: String,
    },
    /// Import staff from a CSV file (UTF-8, UTF-8 with BOM or Shift_JIS; see
    /// docs/staff-csv.md). Prints the report as JSON; exit code 2 when the file has problems
    /// (nothing is written then).
    ImportStaff {
        #[arg(long)]
        org: String,
        file: std::path::PathBuf,
        /// Check and report only; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Prepare it as a personnel transfer taking effect at 00:00 JST on this day
        /// (YYYY-MM-DD, later than today): checked now, applied by the server on the day.
        #[arg(long, conflicts_with = "dry_run")]
        effective: Option<String>,
    },
    /// Write the body's staff as CSV to standard output.
    ExportStaff {
        #[arg(long)]
        org: String,
        /// utf-8, utf-8-bom (what Excel opens directly) or cp932 (Shift_JIS).
        #[arg(long, default_value = "utf-8")]
        encoding: String,
    },
}

#[derive(Subcommand)]
enum DlpCommand {
    /// Scan text for personal data; prints {"findings":[{"kind","start","end","score",…}]}
    /// with byte offsets, or the masked text with --mask.
    Scan(dlp::ScanArgs),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// IDs unused for N days, guests past their period and development or test IDs (I10).
    Dormant {
        #[arg(long)]
        org: String,
        #[arg(long, default_value_t = kairan_server::services::dormant::DEFAULT_DAYS)]
        days: u32,
        /// json or csv (UTF-8 with a BOM, for Excel).
        #[arg(long, default_value = "json")]
        format: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain. Exit 0 and the record count when intact; exit 1 naming the
    /// first bad record otherwise.
    Verify,
}

fn load_config(g: &Global) -> Result<Config> {
    let mut c = Config::load(g.config.as_deref())?;
    if let Some(d) = &g.data {
        c.data_dir = d.clone();
    }
    if let Some(u) = &g.database_url {
        c.database_url = Some(u.clone());
    }
    Ok(c)
}

fn init_logging(c: &Config, console: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if console {
        "warn"
    } else {
        c.log.level.as_str()
    };
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    if c.log.format == "pretty" {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
}

async fn open(c: Config) -> Result<AppState> {
    kairan_server::open(c)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kairan: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kairan: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let mut config = load_config(&cli.global)?;
    match cli.command {
        Command::Serve { bind, demo } => {
            if let Some(b) = bind {
                config.bind = b;
            }
            init_logging(&config, false);
            serve(config, demo).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) => {
            init_logging(&config, true);
            let state = open(config).await?;
            admin_command(&state, cmd).await?;
            state.store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(ReportCommand::Dormant { org, days, format }) => {
            init_logging(&config, true);
            let state = open(config).await?;
            let org_id = org_id(&state, &org).await?;
            let list =
                kairan_server::services::dormant::report(&state, &Actor::Operator, &org_id, days)
                    .await
                    .map_err(|e| {
                        use kairan_domain::Localized;
                        anyhow::anyhow!("{} ({}): {}", e.message_ja(), e.code(), e.message_en())
                    })?;
            state.store.close().await;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&list)?),
                "csv" => print!("{}", kairan_server::services::dormant::to_csv(&list)),
                _ => bail!("--format must be json or csv"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCommand::Verify) => {
            init_logging(&config, true);
            let state = open(config).await?;
            let started = std::time::Instant::now();
            let verdict = kairan_store::audit::verify(&state.store).await?;
            state.store.close().await;
            match verdict {
                kairan_store::audit::Verdict::Intact { checked } => {
                    println!(
                        "audit log intact: {checked} records checked in {:.2} s",
                        started.elapsed().as_secs_f64()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                kairan_store::audit::Verdict::Broken(fault) => {
                    println!("audit log BROKEN: {fault}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Dlp(DlpCommand::Scan(args)) => {
            dlp::scan(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(cmd) => {
            init_logging(&config, true);
            bench::run(config, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config, demo: bool) -> Result<()> {
    let bind = config.bind;
    let state = open(config).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    let host = if addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    println!("Kairan is running at http://{host}:{}/", addr.port());
    println!(
        "  database: {} ({})",
        state.store.engine().name(),
        redact(&state.config.database_url())
    );
    if demo {
        let fixed = std::env::var("KAIRAN_DEMO_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty());
        let logins = kairan_server::demo::ensure(&state, fixed.as_deref())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        print_demo(&logins);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    kairan_server::serve(state, listener, shutdown).await?;
    Ok(())
}

/// Hides a password in a database URL before printing it.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn width(s: &str) -> usize {
    // East Asian wide characters take two columns in a terminal.
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn print_demo(logins: &[kairan_server::demo::DemoLogin]) {
    if logins.is_empty() {
        println!("Demo data exists but its login list (DATA/demo-logins.json) was not found.");
        return;
    }
    println!();
    println!("Demo logins (デモ用アカウント):");
    let header = ["団体", "ログインID", "氏名", "権限", "パスワード"];
    let rows: Vec<[&str; 5]> = logins
        .iter()
        .map(|l| {
            [
                l.org.as_str(),
                l.login_id.as_str(),
                l.name.as_str(),
                l.role.as_str(),
                l.password.as_str(),
            ]
        })
        .collect();
    let mut widths = header.map(width);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    let line = |cols: [&str; 5]| {
        cols.iter()
            .enumerate()
            .map(|(i, c)| pad(c, widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("  {}", line(header));
    for r in rows {
        println!("  {}", line(r));
    }
    println!();
    println!(
        "  特権ID（システム管理者、情報セキュリティ責任者、CSIRT、監査担当）は、初回のサインインで認証アプリ（2要素認証）を登録します。"
    );
    println!("  Privileged IDs set up an authenticator app (two-factor) at their first sign-in.");
    println!();
}

async fn org_id(state: &AppState, code: &str) -> Result<String> {
    match admin::org_by_code(state, code).await {
        Ok(o) => Ok(o.id),
        Err(_) => bail!("no body with code {code} (see `kairan admin list-orgs`)"),
    }
}

async fn admin_command(state: &AppState, cmd: AdminCommand) -> Result<()> {
    let op = Actor::Operator;
    let err = |e: kairan_server::error::AppError| {
        use kairan_domain::Localized;
        anyhow::anyhow!("{} ({}): {}", e.message_ja(), e.code(), e.message_en())
    };
    match cmd {
        AdminCommand::CreateOrg {
            code,
            name,
            name_en,
        } => {
            let org = admin::create_org(state, &op, &code, &name, &name_en)
                .await
                .map_err(err)?;
            println!("created body {} ({}) id={}", org.code, org.name, org.id);
        }
        AdminCommand::ListOrgs => {
            println!("CODE\tNAME\tNAME_EN\tID");
            for o in admin::list_orgs(state).await.map_err(err)? {
                println!("{}\t{}\t{}\t{}", o.code, o.name, o.name_en, o.id);
            }
        }
        AdminCommand::CreateDepartment { org, name, parent } => {
            let org_id = org_id(state, &org).await?;
            let parent_id = match parent {
                Some(p) => {
                    let list = admin::departments(state, &op, &org_id).await.map_err(err)?;
                    match list.into_iter().find(|d| d.name == p) {
                        Some(d) => Some(d.id),
                        None => bail!("no department named {p} in {org}"),
                    }
                }
                None => None,
            };
            let d = admin::create_department(state, &op, &org_id, &name, parent_id.as_deref())
                .await
                .map_err(err)?;
            println!("created department {} id={}", d.name, d.id);
        }
        AdminCommand::CreateUser {
            org,
            login_id,
            name,
            kana,
            title,
            department,
            roles,
            test,
        } => {
            let org_id = org_id(state, &org).await?;
            let department_id = match department {
                Some(dn) => {
                    let list = admin::departments(state, &op, &org_id).await.map_err(err)?;
                    match list.into_iter().find(|d| d.name == dn) {
                        Some(d) => Some(d.id),
                        None => bail!("no department named {dn} in {org}"),
                    }
                }
                None => None,
            };
            let input = NewUserInput {
                login_id,
                display_name: name,
                kana,
                title,
                department_id,
                roles,
                test_id: test,
            };
            let issued = admin::create_user(state, &op, &org_id, &input)
                .await
                .map_err(err)?;
            println!(
                "created staff ID {} id={}",
                input.login_id.trim().to_ascii_lowercase(),
                issued.user_id
            );
            println!(
                "temporary password (shown once; must be changed at first sign-in): {}",
                issued.temporary_password
            );
        }
        AdminCommand::ImportStaff {
            org,
            file,
            dry_run,
            effective,
        } => {
            let org_id = org_id(state, &org).await?;
            let bytes = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            if let Some(day) = effective {
                use kairan_server::services::transfers;
                match transfers::schedule(state, &op, &org_id, &bytes, &day)
                    .await
                    .map_err(err)?
                {
                    Ok(batch) => println!("{}", serde_json::to_string_pretty(&batch)?),
                    Err(report) => {
                        println!("{}", serde_json::to_string_pretty(&report)?);
                        eprintln!(
                            "{} problem(s); the transfer was not scheduled / {}件の問題があるため、異動を予約しませんでした",
                            report.errors.len(),
                            report.errors.len()
                        );
                        std::process::exit(2);
                    }
                }
                return Ok(());
            }
            let report =
                kairan_server::services::staff_import::import(state, &op, &org_id, &bytes, dry_run)
                    .await
                    .map_err(err)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.errors.is_empty() {
                eprintln!(
                    "{} problem(s); nothing was imported / {}件の問題があるため、取り込みませんでした",
                    report.errors.len(),
                    report.errors.len()
                );
                std::process::exit(2);
            }
        }
        AdminCommand::ExportStaff { org, encoding } => {
            let org_id = org_id(state, &org).await?;
            let Some(enc) = kairan_domain::staff_csv::CsvEncoding::parse(&encoding) else {
                bail!("--encoding must be utf-8, utf-8-bom or cp932");
            };
            match kairan_server::services::staff_import::export(state, &op, &org_id, enc)
                .await
                .map_err(err)?
            {
                Ok(bytes) => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
                Err(bad) => {
                    for b in &bad {
                        eprintln!(
                            "line {} {}: {} cannot be written in CP932 / CP932で表せない文字",
                            b.line, b.column, b.character
                        );
                    }
                    std::process::exit(2);
                }
            }
        }
        AdminCommand::ResetPassword { login_id } => {
            let user = state_user(state, &login_id).await?;
            let temporary = admin::reset_password(state, &op, &user)
                .await
                .map_err(err)?;
            println!(
                "new temporary password for {login_id} (shown once; must be changed at next sign-in): {temporary}"
            );
        }
        AdminCommand::SetPasswordPolicy {
            org,
            min_length,
            min_length_privileged,
            history,
            lockout_threshold,
            lockout_threshold_privileged,
            lockout_minutes,
        } => {
            let org_id = org_id(state, &org).await?;
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("min_length", min_length),
                ("min_length_privileged", min_length_privileged),
                ("history", history),
                ("lockout_threshold", lockout_threshold),
                ("lockout_threshold_privileged", lockout_threshold_privileged),
                ("lockout_minutes", lockout_minutes),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v.into());
                }
            }
            if m.is_empty() {
                bail!("give at least one rule, e.g. --min-length 20");
            }
            let p = admin::set_password_policy(state, &op, &org_id, m)
                .await
                .map_err(err)?;
            println!("{}", serde_json::to_string_pretty(&p)?);
        }
        AdminCommand::ListPrivileged { org } => {
            let org_id = org_id(state, &org).await?;
            println!("ROLE\tLOGIN_ID\tNAME\tSTATUS\tGRANTED_AT\tGRANTED_BY");
            for g in admin::privileged(state, &op, &org_id).await.map_err(err)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    g.role,
                    g.login_id,
                    g.display_name,
                    g.status,
                    kairan_server::i18n::format_time(g.granted_at, kairan_server::i18n::Lang::En),
                    g.granted_by_login.as_deref().unwrap_or("operator")
                );
            }
        }
    }
    Ok(())
}

async fn state_user(state: &AppState, login_id: &str) -> Result<String> {
    let mut conn = state.store.read().await?;
    match kairan_store::users::by_login(&mut conn, &login_id.trim().to_ascii_lowercase()).await? {
        Some(u) => Ok(u.id),
        None => bail!("no staff ID {login_id}"),
    }
}
