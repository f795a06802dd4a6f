//! `kairan bench …`: measurements for the notes, never assertions. Results are medians or
//! rates printed as text; see docs/benchmarks.md for how to run them and what they mean.

use anyhow::Result;
use clap::Subcommand;
use kairan_domain::audit::AuditAction;
use kairan_server::config::Config;
use kairan_store::audit::{self, NewEntry};
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Audit log: append rate (one record per transaction, several concurrent writers), then
    /// fill to N records and time `verify`. Use a scratch --data or --database-url.
    Audit {
        /// Total records in the log before timing verify.
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        /// Appends to time, one transaction each.
        #[arg(long, default_value_t = 2_000)]
        appends: u64,
        /// Concurrent writers for the append test.
        #[arg(long, default_value_t = 8)]
        writers: u64,
    },
    /// Chat load: N WebSocket clients, talks of K members, a steady send rate; prints one JSON
    /// line (sent, acknowledged, delivered, lost, duplicated, latencies, server memory). Use the
    /// same --data/--database-url as the running server.
    Chat(crate::bench_chat::ChatArgs),
    /// The clock's pass: seeds N expired guests and M expired inter-body groups in a fresh
    /// body and, with --run, times the pass that ends them (one JSON line). Without --run it
    /// only seeds, for a running server's runner to end while `bench chat` measures.
    Clock(crate::bench_clock::ClockArgs),
    /// Uploads: median time to a clean stored file, MB/s and server memory for each size, with
    /// clamd and the text check in the path. Use the same --data/--database-url as the running
    /// server.
    Files(crate::bench_files::FilesArgs),
    /// Sign-in latency over HTTP (password; password + app code; password + passkey) and a
    /// burst of concurrent sign-ins; prints one JSON line. Use the same --data/--database-url
    /// as the running server, and --url http://localhost:PORT.
    Login(crate::bench_login::LoginArgs),
    /// Sign-in timing: median time of a sign-in with an unknown ID and with a wrong password
    /// for an existing ID, with the configured Argon2 cost. They should match.
    SignIn {
        #[arg(long, default_value_t = 40)]
        rounds: u32,
    },
}

fn entry(i: u64) -> NewEntry {
    let mut e = NewEntry::new(AuditAction::SignInSucceeded);
    e.org_id = Some("0190b3f5-0000-7000-8000-000000000001".into());
    e.actor_id = Some(format!("0190b3f5-0000-7000-8000-{i:012}"));
    e.target_id = e.actor_id.clone();
    e.ip = Some("192.0.2.10".into());
    e.details = serde_json::json!({ "session": format!("0190b3f5-0000-7000-9000-{i:012}") });
    e
}

pub async fn run(config: Config, cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Audit {
            records,
            appends,
            writers,
        } => audit_bench(config, records, appends, writers).await,
        BenchCommand::SignIn { rounds } => sign_in_bench(config, rounds).await,
        BenchCommand::Chat(args) => crate::bench_chat::run(config, args).await,
        BenchCommand::Clock(args) => crate::bench_clock::run(config, args).await,
        BenchCommand::Files(args) => crate::bench_files::run(config, args).await,
        BenchCommand::Login(args) => crate::bench_login::run(config, args).await,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn sign_in_bench(config: Config, rounds: u32) -> Result<()> {
    use kairan_domain::policy::Actor;
    use kairan_server::auth::Client;
    use kairan_server::services::{admin, identity};
    let state = kairan_server::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = format!("bench-{}", std::process::id());
    let org = admin::create_org(&state, &Actor::Operator, &code, "計測町", "")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let login = format!("{code}.user");
    let input = admin::NewUserInput {
        login_id: login.clone(),
        display_name: "計測 太郎".into(),
        kana: "ケイソク タロウ".into(),
        ..Default::default()
    };
    admin::create_user(&state, &Actor::Operator, &org.id, &input)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let client = Client {
        ip: Some("192.0.2.1".into()),
        user_agent: None,
        device: kairan_domain::DeviceClass::LgwanPc,
        device_token: None,
        device_proof: None,
    };
    let (mut unknown, mut wrong) = (Vec::new(), Vec::new());
    // Interleaved, so drift on a shared machine hits both alike. The existing ID locks after a
    // few rounds; a locked ID still costs the same verification, which is the point.
    for i in 0..rounds {
        let t = Instant::now();
        let _ = identity::sign_in(
            &state,
            &format!("nobody{i}.here"),
            "not the password",
            &client,
        )
        .await;
        unknown.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = identity::sign_in(&state, &login, "not the password", &client).await;
        wrong.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (u, w) = (median(unknown), median(wrong));
    println!(
        "sign-in, {rounds} rounds each: unknown ID median {u:.1} ms, wrong password median {w:.1} ms, ratio {:.2}",
        w / u
    );
    state.store.close().await;
    Ok(())
}

async fn audit_bench(config: Config, records: u64, appends: u64, writers: u64) -> Result<()> {
    let state = kairan_server::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = state.store.clone();
    println!("engine: {}", store.engine().name());

    let started = Instant::now();
    let per = appends / writers.max(1);
    let mut tasks = Vec::new();
    for w in 0..writers.max(1) {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                let mut tx = store.write().await?;
                audit::append(&mut tx, entry(w * per + i)).await?;
                tx.commit().await?;
            }
            Ok::<_, kairan_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let done = per * writers.max(1);
    println!(
        "append: {done} records, {writers} writers, one transaction each: {:.0} records/s",
        done as f64 / secs
    );

    // Fill the rest in large transactions; only verify is timed below.
    let mut have = {
        let mut c = store.read().await?;
        audit::head(&mut c).await?.0 as u64
    };
    let fill_started = Instant::now();
    while have < records {
        let batch = (records - have).min(20_000);
        let mut tx = store.write().await?;
        for i in 0..batch {
            audit::append(&mut tx, entry(have + i)).await?;
        }
        tx.commit().await?;
        have += batch;
    }
    if fill_started.elapsed().as_secs() > 0 {
        println!(
            "filled to {have} records in {:.1} s",
            fill_started.elapsed().as_secs_f64()
        );
    }

    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let verdict = audit::verify(&store).await?;
        times.push(started.elapsed().as_secs_f64());
        if let audit::Verdict::Broken(f) = verdict {
            anyhow::bail!("chain broken during benchmark: {f}");
        }
    }
    let m = median(times);
    println!(
        "verify: {have} records, median of 3: {m:.3} s ({:.0} records/s)",
        have as f64 / m
    );
    store.close().await;
    Ok(())
}
