//! What the binary's test suites share: a fresh database per test (SQLite in a temporary
//! directory, or a new PostgreSQL database when `KAIRAN_TEST_POSTGRES_URL` is set), free ports,
//! the `kairan serve` command, and signing in over HTTP like a client.

#![allow(dead_code)]

use serde_json::{Value, json};
use sqlx::Connection;
use std::process::{Command, Stdio};
use std::time::Duration;

/// `kairan serve` on `127.0.0.1:port` against `db_url`, with the demo (its users signing in
/// with `demo_password`) when one is given. Quiet: errors only, output discarded; callers
/// change the environment or the output where their test needs it, then spawn.
pub fn serve(
    data: &std::path::Path,
    db_url: &str,
    port: u16,
    demo_password: Option<&str>,
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kairan"));
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--database-url",
        db_url,
        "--data",
    ])
    .arg(data)
    .env("KAIRAN_LOG_LEVEL", "error")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(password) = demo_password {
        cmd.arg("--demo").env("KAIRAN_DEMO_PASSWORD", password);
    }
    cmd
}

/// A fresh database and data directory, removed by [`TestDb::drop_all`].
pub struct TestDb {
    pub dir: std::path::PathBuf,
    pub url: String,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(prefix: &str) -> TestDb {
        let dir = std::env::temp_dir().join(format!("kairan-{prefix}-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        sqlx::any::install_default_drivers();
        match std::env::var("KAIRAN_TEST_POSTGRES_URL") {
            Ok(admin) => {
                let name = format!("kairan_test_{}", uuid::Uuid::now_v7().simple());
                let mut c = sqlx::AnyConnection::connect(&admin).await.unwrap();
                // A UTF-8 ctype: pg_trgm finds no trigrams in Japanese under the C locale.
                sqlx::query(&format!(
                    "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                ))
                .execute(&mut c)
                .await
                .unwrap();
                let base = admin.rsplit_once('/').unwrap().0.to_owned();
                TestDb {
                    url: format!("{base}/{name}"),
                    dir,
                    pg: Some((admin, name)),
                }
            }
            Err(_) => TestDb {
                url: format!("sqlite://{}", dir.join("kairan.db").display()),
                dir,
                pg: None,
            },
        }
    }

    pub async fn exec(&self, sql: &str) {
        let mut c = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }

    pub async fn drop_all(self) {
        if let Some((admin, name)) = &self.pg {
            let mut c = sqlx::AnyConnection::connect(admin).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `base/readyz` answers 200.
pub async fn wait_ready(base: &str) -> bool {
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A signed-in client: its cookie jar, CSRF token, raw session token and user ID.
pub struct User {
    pub http: reqwest::Client,
    pub csrf: String,
    pub session: String,
    pub id: String,
}

/// Signs in, retrying while a demo may still be filling in.
pub async fn sign_in(base: &str, login: &str, password: &str) -> User {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    for _ in 0..200 {
        let csrf: Value = http
            .get(format!("{base}/api/v1/csrf"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = http
            .post(format!("{base}/api/v1/session"))
            .header("x-csrf-token", csrf["csrf_token"].as_str().unwrap())
            .json(&json!({ "login_id": login, "password": password }))
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            let session = r
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|c| {
                    c.to_str()
                        .ok()?
                        .strip_prefix("kairan_session=")
                        .map(|v| v.split(';').next().unwrap_or("").to_owned())
                })
                .next()
                .unwrap();
            let v: Value = r.json().await.unwrap();
            let user = User {
                http,
                csrf: v["csrf_token"].as_str().unwrap().to_owned(),
                session,
                id: v["user_id"].as_str().unwrap().to_owned(),
            };
            second_factor(
                base,
                login,
                &user,
                v["mfa"].as_str().expect("mfa in the answer"),
            )
            .await;
            return user;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot sign in as {login}");
}

/// The test's authenticator apps: (server, login) → (secret, newest step used).
type Authenticators = std::collections::HashMap<(String, String), (Vec<u8>, i64)>;

fn authenticators() -> std::sync::MutexGuard<'static, Authenticators> {
    static ALL: std::sync::OnceLock<std::sync::Mutex<Authenticators>> = std::sync::OnceLock::new();
    ALL.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

fn now_step() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    kairan_domain::mfa::step_at(secs)
}

/// Finishes a sign-in that owes a second factor, as a person with an authenticator app
/// does: a privileged ID enrols on its first sign-in and gives a fresh code after that.
async fn second_factor(base: &str, login: &str, u: &User, owed: &str) {
    let post = |path: &'static str, body: Value| async move {
        let r = u
            .http
            .post(format!("{base}{path}"))
            .header("x-csrf-token", &u.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{path} for {login}: {status} {v}");
        v
    };
    let key = (base.to_owned(), login.to_owned());
    match owed {
        "enrol" => {
            let setup = post("/api/v1/me/mfa/totp", json!({})).await;
            let secret =
                kairan_domain::mfa::base32_decode(setup["secret"].as_str().unwrap()).unwrap();
            let step = now_step();
            let code = format!("{:06}", kairan_domain::mfa::code_at(&secret, step));
            post("/api/v1/me/mfa/totp/confirm", json!({ "code": code })).await;
            authenticators().insert(key, (secret, step));
        }
        "verify" => loop {
            let next = {
                let mut all = authenticators();
                let (secret, last) = all.get_mut(&key).expect("an authenticator from enrolment");
                let now = now_step();
                let step = (*last).max(now - 1) + 1;
                (step <= now + 1).then(|| {
                    *last = step;
                    format!("{:06}", kairan_domain::mfa::code_at(secret, step))
                })
            };
            match next {
                Some(code) => {
                    post("/api/v1/session/mfa", json!({ "code": code })).await;
                    break;
                }
                None => tokio::time::sleep(Duration::from_secs(1)).await,
            }
        },
        "none" => {}
        other => panic!("sign-in of {login} answered mfa {other:?}"),
    }
}
