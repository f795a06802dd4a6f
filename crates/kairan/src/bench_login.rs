//! `kairan bench login`: sign-in latency over HTTP for a password alone, a password and an
//! authenticator-app code, and a password and a passkey (issue 7's figures), then a burst of
//! concurrent sign-ins to find how many one node completes per second at the configured Argon2
//! cost. Run `kairan bench chat` beside the burst to see what it does to chat latency.
//!
//! The bench prepares its users directly in the server's database (use the same --data or
//! --database-url, so it also shares the key that seals secrets), and talks to the server as
//! `http://localhost:PORT` so that passkeys work without a configured relying party.

use crate::bench_chat::pct;
use anyhow::{Context, Result, bail};
use clap::Args;
use kairan_domain::mfa::{code_at, step_at};
use kairan_domain::policy::Actor;
use kairan_domain::webauthn::{self, SoftAuthenticator};
use kairan_server::config::Config;
use kairan_server::services::admin;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct LoginArgs {
    /// The running server as http://localhost:PORT (passkeys need a localhost origin).
    #[arg(long)]
    url: String,
    /// Sign-ins timed for each kind.
    #[arg(long, default_value_t = 60)]
    rounds: usize,
    /// Concurrent clients in the burst (0: no burst).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds the burst lasts.
    #[arg(long, default_value_t = 15)]
    duration: u64,
}

const PASSWORD: &str = "kairan bench password for sign-in timing";

struct Prepared {
    password_user: String,
    totp_users: Vec<(String, Vec<u8>)>,
    passkey_user: String,
    key: SoftAuthenticator,
}

async fn prepare(config: Config, rounds: usize, origin: &str) -> Result<Prepared> {
    let state = kairan_server::open(config)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let code = format!("bench-login-{}", std::process::id());
    let org = admin::create_org(&state, &Actor::Operator, &code, "計測町", "")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = state
        .hasher
        .hash(PASSWORD)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = state.store.write().await?;
    let make = async |tx: &mut kairan_store::WriteTx, login: String| -> Result<String> {
        let id = kairan_store::users::insert(
            tx,
            &kairan_store::users::NewUser {
                org_id: &org.id,
                department_id: None,
                login_id: &login,
                display_name: "計測 太郎",
                kana: "ケイソク",
                title: None,
                password_hash: &hash,
                must_change_password: false,
                created_by: None,
            },
        )
        .await?;
        kairan_store::users::grant_role(tx, &id, "staff", None).await?;
        Ok(login)
    };
    let password_user = make(&mut tx, format!("{code}.pw")).await?;
    let mut totp_users = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let login = make(&mut tx, format!("{code}.totp{i}")).await?;
        let secret: Vec<u8> = (0..20u8)
            .map(|b| b.wrapping_mul(7).wrapping_add(i as u8))
            .collect();
        let user = kairan_store::users::by_login(tx.conn(), &login)
            .await?
            .context("bench user")?;
        let sealed = state.key.seal(&secret, &user.id);
        let cred = kairan_store::mfa::start_totp(&mut tx, &user.id, &sealed).await?;
        kairan_store::mfa::confirm_totp(&mut tx, &user.id, &cred, 0).await?;
        totp_users.push((login, secret));
    }
    let passkey_user = make(&mut tx, format!("{code}.pk")).await?;
    let user = kairan_store::users::by_login(tx.conn(), &passkey_user)
        .await?
        .context("bench user")?;
    let mut key = SoftAuthenticator::new(42).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Credential IDs are unique in the database: one per run.
    key.id = format!("bench-{}", kairan_server::token::random_hex(8)).into_bytes();
    let (cd, att) = key.register(b"bench", origin, "localhost");
    let cred = webauthn::verify_registration(
        &cd,
        &att,
        &webauthn::Expected {
            challenge: b"bench",
            origins: &[origin.to_owned()],
            rp_id: "localhost",
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    kairan_store::mfa::insert_passkey(
        &mut tx,
        &kairan_store::mfa::NewPasskey {
            user_id: &user.id,
            credential_id: &webauthn::b64url_encode(&cred.credential_id),
            public_key: &hex::encode(&cred.public_key),
            sign_count: 0,
            name: "bench",
            aaguid: "",
        },
    )
    .await?;
    tx.commit().await?;
    state.store.close().await;
    Ok(Prepared {
        password_user,
        totp_users,
        passkey_user,
        key,
    })
}

struct Session {
    http: reqwest::Client,
    csrf: String,
    base: String,
}

impl Session {
    async fn new(base: &str) -> Result<Session> {
        let http = reqwest::Client::builder().cookie_store(true).build()?;
        let v: Value = http
            .get(format!("{base}/api/v1/csrf"))
            .send()
            .await?
            .json()
            .await?;
        Ok(Session {
            http,
            csrf: v["csrf_token"].as_str().unwrap_or_default().to_owned(),
            base: base.to_owned(),
        })
    }

    async fn post(&mut self, path: &str, body: Value) -> Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        if let Some(t) = v["csrf_token"].as_str() {
            self.csrf = t.to_owned();
        }
        Ok(v)
    }

    async fn password(&mut self, login: &str) -> Result<Value> {
        self.post(
            "/api/v1/session",
            json!({ "login_id": login, "password": PASSWORD }),
        )
        .await
    }
}

fn now_step() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    step_at(secs)
}

fn summary(name: &str, mut ms: Vec<f64>) -> Value {
    json!({
        "kind": name,
        "n": ms.len(),
        "p50_ms": (pct(&mut ms, 0.5) * 10.0).round() / 10.0,
        "p99_ms": (pct(&mut ms, 0.99) * 10.0).round() / 10.0,
    })
}

pub async fn run(config: Config, a: LoginArgs) -> Result<()> {
    let base = a.url.trim_end_matches('/').to_owned();
    if !base.starts_with("http://localhost:") {
        bail!("--url must be http://localhost:PORT (passkeys need a localhost origin)");
    }
    let mut p = prepare(config, a.rounds, &base).await?;

    let mut password = Vec::with_capacity(a.rounds);
    for _ in 0..a.rounds {
        let mut s = Session::new(&base).await?;
        let t = Instant::now();
        let v = s.password(&p.password_user).await?;
        password.push(t.elapsed().as_secs_f64() * 1000.0);
        if v["mfa"] != "none" {
            bail!(
                "the password user owes a second factor ({v}): run the server with its LGWAN zone covering 127.0.0.1"
            );
        }
    }

    let mut totp = Vec::with_capacity(a.rounds);
    for (login, secret) in &p.totp_users {
        let mut s = Session::new(&base).await?;
        let t = Instant::now();
        s.password(login).await?;
        let code = format!("{:06}", code_at(secret, now_step()));
        s.post("/api/v1/session/mfa", json!({ "code": code }))
            .await?;
        totp.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    let mut passkey = Vec::with_capacity(a.rounds);
    for _ in 0..a.rounds {
        let mut s = Session::new(&base).await?;
        let t = Instant::now();
        s.password(&p.passkey_user).await?;
        let options = s.post("/api/v1/session/passkey/options", json!({})).await?;
        let challenge = webauthn::b64url_decode(options["challenge"].as_str().unwrap_or(""))
            .context("challenge")?;
        let (cd, ad, sig) = p.key.sign(&challenge, &base, "localhost");
        s.post(
            "/api/v1/session/passkey",
            json!({
                "id": webauthn::b64url_encode(&p.key.id),
                "client_data_json": webauthn::b64url_encode(&cd),
                "authenticator_data": webauthn::b64url_encode(&ad),
                "signature": webauthn::b64url_encode(&sig),
            }),
        )
        .await?;
        passkey.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    let mut burst = Value::Null;
    if a.concurrency > 0 {
        let deadline = Instant::now() + Duration::from_secs(a.duration);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..a.concurrency {
            let base = base.clone();
            let login = p.password_user.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = Vec::new();
                let mut failed = 0u64;
                while Instant::now() < deadline {
                    let Ok(mut s) = Session::new(&base).await else {
                        failed += 1;
                        continue;
                    };
                    let t = Instant::now();
                    match s.password(&login).await {
                        Ok(_) => done.push(t.elapsed().as_secs_f64() * 1000.0),
                        Err(_) => failed += 1,
                    }
                }
                (done, failed)
            }));
        }
        let mut all = Vec::new();
        let mut failed = 0;
        for t in tasks {
            let (d, f) = t.await?;
            all.extend(d);
            failed += f;
        }
        let secs = started.elapsed().as_secs_f64();
        let n = all.len();
        burst = json!({
            "concurrency": a.concurrency,
            "seconds": (secs * 10.0).round() / 10.0,
            "sign_ins": n,
            "failed": failed,
            "per_second": ((n as f64 / secs) * 10.0).round() / 10.0,
            "latency": summary("password", all),
        });
    }
    println!(
        "{}",
        json!({
            "password": summary("password", password),
            "password_totp": summary("password+totp", totp),
            "password_passkey": summary("password+passkey", passkey),
            "burst": burst,
        })
    );
    Ok(())
}
