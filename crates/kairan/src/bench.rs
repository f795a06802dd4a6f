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
    let BenchCommand::Audit {
        records,
        appends,
        writers,
    } = cmd;
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
    times.sort_by(f64::total_cmp);
    println!(
        "verify: {have} records, median of 3: {:.3} s ({:.0} records/s)",
        times[1],
        have as f64 / times[1]
    );
    store.close().await;
    Ok(())
}
