//! `kairan bench clock`: how long the clock's pass takes to end many expired guests and
//! inter-body groups (issue 10). It seeds, in a fresh body, N guests (each in one of the body's
//! talks of 20) and M groups (each a talk of 10), all active with their last day yesterday in
//! Japan; then, with `--run`, times the pass in this process and prints one JSON line. Without
//! `--run` it only seeds, so a running server's own 30-second runner ends them while
//! `kairan bench chat` measures the chat meanwhile (docs/benchmarks.md).

use anyhow::{Context, Result};
use clap::Args;
use kairan_domain::fiscal::Date;
use kairan_server::config::Config;
use kairan_store::applications::{self as rows, NewApplication};
use kairan_store::{chat, guests, orgs, users};
use std::time::Instant;

#[derive(Args)]
pub struct ClockArgs {
    /// Expired guests to seed.
    #[arg(long, default_value_t = 10_000)]
    guests: usize,
    /// Expired inter-body groups to seed.
    #[arg(long, default_value_t = 1_000)]
    groups: usize,
    /// Run the pass here and time it (otherwise only seed, for a running server to end).
    #[arg(long)]
    run: bool,
}

const GUESTS_PER_TALK: usize = 19;
const GROUP_MEMBERS: usize = 10;

/// An active ID with an unusable password (no Argon2: seeding thousands must be quick).
async fn user(
    tx: &mut kairan_store::WriteTx,
    org: &str,
    login: &str,
    role: &str,
) -> Result<String> {
    let id = users::insert(
        tx,
        &users::NewUser {
            org_id: org,
            department_id: None,
            login_id: login,
            display_name: &format!("ベンチ {login}"),
            kana: "ベンチ",
            title: None,
            password_hash: "!",
            must_change_password: false,
            created_by: None,
        },
    )
    .await?;
    users::grant_role(tx, &id, role, None).await?;
    Ok(id)
}

fn class() -> chat::TalkClass {
    chat::TalkClass {
        ceiling: 1,
        default_class: 0,
        integrity: None,
        availability: None,
    }
}

pub async fn run(config: Config, args: ClockArgs) -> Result<()> {
    let state = kairan_server::open(config)
        .await
        .context("opening the store")?;
    let now = kairan_store::now_us();
    let today = Date::from_utc_us(now);
    let yesterday = today.add_days(-1).context("date")?.to_string();
    let start = today.add_days(-30).context("date")?.to_string();
    let tag = now / 1_000_000;
    let seeded = Instant::now();
    let mut tx = state.store.write().await?;
    let org = orgs::insert(
        &mut tx,
        &format!("clock-{tag}"),
        "時計試験市",
        "Clock test city",
    )
    .await?;
    let sponsor = user(&mut tx, &org.id, &format!("sponsor-{tag}"), "section_head").await?;
    let mut talk = String::new();
    for i in 0..args.guests {
        if i % GUESTS_PER_TALK == 0 {
            talk = chat::insert_talk(
                &mut tx,
                &org.id,
                "group",
                "ゲストと打合せ",
                None,
                &sponsor,
                class(),
            )
            .await?;
            chat::add_member(&mut tx, &talk, &sponsor).await?;
        }
        let fields = serde_json::json!({
            "purpose": "試験", "need": "試験", "guest_name": "試験 花子", "guest_affiliation": "株式会社試験",
            "guest_email": "guest@example.jp", "start_date": start, "end_date": yesterday,
            "environment_confirmed": true,
        })
        .to_string();
        let app = rows::insert(
            &mut tx,
            &NewApplication {
                org_id: &org.id,
                kind: "guest",
                applicant_id: &sponsor,
                state: "active",
                fields: &fields,
                start_date: &start,
                end_date: &yesterday,
            },
        )
        .await?;
        let guest = user(&mut tx, &org.id, &format!("guest-{tag}-{i}"), "guest").await?;
        // An invitation no one holds (each hash unique, as the index wants).
        guests::insert(
            &mut tx,
            &guests::NewGuest {
                user_id: &guest,
                org_id: &org.id,
                application_id: &app,
                sponsor_id: &sponsor,
                affiliation: "株式会社試験",
                email: "guest@example.jp",
                start_date: &start,
                end_date: &yesterday,
                invitation_hash: &format!("bench-{tag}-{i}"),
                invitation_sealed: "-",
                invitation_expires_at: now,
            },
        )
        .await?;
        chat::add_member(&mut tx, &talk, &guest).await?;
        if i % 1000 == 999 {
            tx.commit().await?;
            tx = state.store.write().await?;
        }
    }
    let staff: Vec<String> = {
        let mut v = Vec::with_capacity(GROUP_MEMBERS);
        for k in 0..GROUP_MEMBERS {
            v.push(user(&mut tx, &org.id, &format!("member-{tag}-{k}"), "staff").await?);
        }
        v
    };
    for i in 0..args.groups {
        let fields = serde_json::json!({
            "purpose": "試験", "need": "試験", "talk_name": "広域の試験", "own_members": [],
            "bodies": [], "start_date": start, "end_date": yesterday,
        })
        .to_string();
        let app = rows::insert(
            &mut tx,
            &NewApplication {
                org_id: &org.id,
                kind: "inter_org_group",
                applicant_id: &sponsor,
                state: "active",
                fields: &fields,
                start_date: &start,
                end_date: &yesterday,
            },
        )
        .await?;
        let t = chat::insert_talk(
            &mut tx,
            &org.id,
            "group",
            "広域の試験",
            None,
            &sponsor,
            class(),
        )
        .await?;
        chat::set_application(&mut tx, &t, &app).await?;
        for m in &staff {
            chat::add_member(&mut tx, &t, m).await?;
        }
        if i % 1000 == 999 {
            tx.commit().await?;
            tx = state.store.write().await?;
        }
    }
    tx.commit().await?;
    let seed_s = seeded.elapsed().as_secs_f64();
    if !args.run {
        println!(
            "{}",
            serde_json::json!({ "seeded_guests": args.guests, "seeded_groups": args.groups, "seed_seconds": seed_s, "org": org.code })
        );
        return Ok(());
    }
    let t0 = Instant::now();
    let pass = kairan_server::services::guests::run_once(&state).await?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "engine": format!("{:?}", state.store.engine()),
            "guests": args.guests, "groups": args.groups,
            "ended": pass.ended, "seconds": secs,
            "per_second": pass.ended as f64 / secs.max(1e-9),
            "seed_seconds": seed_s,
        })
    );
    Ok(())
}
