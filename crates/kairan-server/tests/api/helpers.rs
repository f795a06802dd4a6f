//! `TestApp`: a real server on an ephemeral port with a fresh database, plus helpers named
//! after what a user does.

use kairan_domain::policy::Actor;
use kairan_server::config::Config;
use kairan_server::services::admin::{self, NewUserInput};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

pub const PASSWORD: &str = "quiet river behind the old town hall 2026";

pub struct TestApp {
    pub running: Option<kairan_server::Running>,
    pub base: String,
    pub pg_db: Option<(String, String)>,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!("kairan-test-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&p).expect("temp dir");
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        ..Config::default()
    };
    // Cheap hashes keep the suite fast; the algorithm (Argon2id) is the same.
    c.argon2.memory_kib = 1024;
    c.argon2.iterations = 1;
    c.log.level = "warn".into();
    c
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempdir::Dir::new();
        let mut config = test_config(&dir.0);
        let mut pg_db = None;
        if let Ok(admin_url) = std::env::var("KAIRAN_TEST_POSTGRES_URL") {
            let name = format!("kairan_test_{}", uuid::Uuid::now_v7().simple());
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            // A UTF-8 ctype: pg_trgm finds no trigrams in Japanese under the C locale.
            sqlx::query(&format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
            ))
            .execute(&mut conn)
            .await
            .expect("create test database");
            let _ = conn.close().await;
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .unwrap_or(admin_url.clone());
            config.database_url = Some(format!("{base}/{name}"));
            pg_db = Some((admin_url, name));
        }
        tweak(&mut config);
        let state = kairan_server::open(config).await.expect("open");
        let running = kairan_server::spawn(state, "127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("spawn");
        TestApp {
            base: format!("http://{}", running.addr),
            running: Some(running),
            pg_db,
            _dir: dir,
        }
    }

    pub fn state(&self) -> &kairan_server::state::AppState {
        &self.running.as_ref().expect("running").state
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server and drops the PostgreSQL database.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        if let Some((admin_url, name)) = self.pg_db.take()
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }

    pub async fn create_org(&self, code: &str, name: &str) -> String {
        admin::create_org(self.state(), &Actor::Operator, code, name, "")
            .await
            .expect("create org")
            .id
    }

    /// Issues a staff ID through the console path and gives it a known password, no change
    /// pending.
    pub async fn create_user(&self, org_id: &str, login: &str, roles: &[&str]) -> String {
        let issued = self.create_user_temp(org_id, login, roles).await;
        let state = self.state();
        let hash = state.hasher.hash(PASSWORD).await.expect("hash");
        let mut tx = state.store.write().await.expect("tx");
        kairan_store::users::set_password(&mut tx, &issued.0, &hash, false)
            .await
            .expect("set");
        tx.commit().await.expect("commit");
        issued.0
    }

    /// Issues a staff ID and returns (id, temporary password).
    pub async fn create_user_temp(
        &self,
        org_id: &str,
        login: &str,
        roles: &[&str],
    ) -> (String, String) {
        let input = NewUserInput {
            login_id: login.into(),
            display_name: "試験 太郎".into(),
            kana: "シケン タロウ".into(),
            title: String::new(),
            department_id: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            test_id: false,
        };
        let issued = admin::create_user(self.state(), &Actor::Operator, org_id, &input)
            .await
            .expect("create user");
        (issued.user_id, issued.temporary_password)
    }

    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: self.base.clone(),
            csrf: String::new(),
            session: String::new(),
        }
    }

    /// A client whose requests a trusted proxy forwards from `ip` (the app must trust
    /// 127.0.0.1 as a proxy): how a test puts a client on the LGWAN or the internet side.
    pub fn client_at(&self, ip: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().expect("ip header"));
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .expect("client"),
            base: self.base.clone(),
            csrf: String::new(),
            session: String::new(),
        }
    }

    /// A client signed in as `login` with the standard test password.
    pub async fn signed_in(&self, login: &str) -> Client {
        let mut c = self.client();
        let r = c.sign_in(login, PASSWORD).await;
        assert_eq!(r.0, StatusCode::OK, "sign-in of {login}: {}", r.1);
        c
    }
}

/// An HTTP client with a cookie jar and the CSRF token, like a browser tab.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub csrf: String,
    pub session: String,
}

impl Client {
    /// The Cookie header a browser would send (for WebSocket handshakes).
    pub fn cookie_header(&self) -> String {
        format!("kairan_session={}; kairan_csrf={}", self.session, self.csrf)
    }

    pub async fn fetch_csrf(&mut self) {
        let v: Value = self
            .http
            .get(format!("{}/api/v1/csrf", self.base))
            .send()
            .await
            .expect("csrf")
            .json()
            .await
            .expect("json");
        self.csrf = v["csrf_token"].as_str().unwrap_or_default().to_owned();
    }

    /// Signs in as a person does: the password, then the second factor when the answer asks
    /// for one. A user the policy makes enrol sets up an authenticator app here (the test's
    /// copy of the app is kept for their next sign-in); one who has an app gives its code.
    pub async fn sign_in(&mut self, login: &str, password: &str) -> (StatusCode, Value) {
        let r = self.sign_in_password(login, password).await;
        if r.0 == StatusCode::OK {
            match r.1["mfa"].as_str() {
                Some("enrol") => {
                    self.enrol_totp(login).await;
                }
                Some("verify") => {
                    let code = self.authenticator_code(login).await;
                    let v = self
                        .post("/api/v1/session/mfa", json!({ "code": code }))
                        .await;
                    assert_eq!(v.0, StatusCode::OK, "second factor of {login}: {}", v.1);
                }
                Some("none") => {}
                other => panic!("sign-in of {login} answered mfa {other:?}: {}", r.1),
            }
        }
        r
    }

    /// The password step alone: the session may still owe its second factor.
    pub async fn sign_in_password(&mut self, login: &str, password: &str) -> (StatusCode, Value) {
        if self.csrf.is_empty() {
            self.fetch_csrf().await;
        }
        let r = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .header("x-csrf-token", &self.csrf)
            .json(&json!({ "login_id": login, "password": password }))
            .send()
            .await
            .expect("sign in");
        let s = r.status();
        for c in r.headers().get_all("set-cookie") {
            if let Some(v) = c
                .to_str()
                .ok()
                .and_then(|c| c.strip_prefix("kairan_session="))
            {
                self.session = v.split(';').next().unwrap_or_default().to_owned();
            }
        }
        let v: Value = r.json().await.unwrap_or(Value::Null);
        if s == StatusCode::OK {
            self.csrf = v["csrf_token"].as_str().unwrap_or_default().to_owned();
        }
        (s, v)
    }

    /// Sets up an authenticator app for the signed-in user, as the enrolment screen does, and
    /// keeps the test's copy of it. Returns the recovery codes issued.
    pub async fn enrol_totp(&self, login: &str) -> Vec<String> {
        let (s, setup) = self.post("/api/v1/me/mfa/totp", json!({})).await;
        assert_eq!(s, StatusCode::OK, "start enrolment of {login}: {setup}");
        let secret = kairan_domain::mfa::base32_decode(setup["secret"].as_str().unwrap_or(""))
            .expect("base32 secret");
        let step = now_step();
        let code = format!("{:06}", kairan_domain::mfa::code_at(&secret, step));
        let (s, done) = self
            .post("/api/v1/me/mfa/totp/confirm", json!({ "code": code }))
            .await;
        assert_eq!(s, StatusCode::OK, "confirm enrolment of {login}: {done}");
        // An answer without its codes is a failure, not an empty list.
        let codes: Vec<String> = done["recovery_codes"]
            .as_array()
            .unwrap_or_else(|| panic!("recovery codes in {done}"))
            .iter()
            .map(|c| c.as_str().expect("a code").to_owned())
            .collect();
        authenticators().insert(
            (self.base.clone(), login.to_owned()),
            Authenticator {
                secret,
                last_step: step,
                recovery_codes: codes.clone(),
            },
        );
        codes
    }

    /// The next code the test's authenticator app would show for `login`: the code of a step
    /// no earlier sign-in used, inside the server's window; when both steps of the window are
    /// used, one recovery code; when those are gone too, the code of the next step, after
    /// waiting for it.
    pub async fn authenticator_code(&self, login: &str) -> String {
        loop {
            let key = (self.base.clone(), login.to_owned());
            {
                let mut all = authenticators();
                let a = all
                    .get_mut(&key)
                    .unwrap_or_else(|| panic!("{login} has no authenticator in this test"));
                let now = now_step();
                let step = a.last_step.max(now - 1) + 1;
                if step <= now + 1 {
                    a.last_step = step;
                    return format!("{:06}", kairan_domain::mfa::code_at(&a.secret, step));
                }
                if let Some(code) = a.recovery_codes.pop() {
                    return code;
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("get");
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("get");
        let s = r.status();
        (s, r.text().await.unwrap_or_default())
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("send");
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// The test's copy of a user's authenticator app.
pub struct Authenticator {
    pub secret: Vec<u8>,
    /// The newest step whose code a sign-in used (the server refuses it and earlier ones).
    pub last_step: i64,
    pub recovery_codes: Vec<String>,
}

/// Every user's authenticator app in this test process, by server and login ID.
pub fn authenticators()
-> std::sync::MutexGuard<'static, std::collections::HashMap<(String, String), Authenticator>> {
    static ALL: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<(String, String), Authenticator>>,
    > = std::sync::OnceLock::new();
    ALL.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

pub fn now_step() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    kairan_domain::mfa::step_at(secs)
}

/// Asserts the error format: status, stable code and both messages.
pub fn assert_error(r: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(r.0, status, "body: {}", r.1);
    assert_eq!(r.1["error"]["code"], code, "body: {}", r.1);
    let ja = r.1["error"]["message_ja"].as_str().unwrap_or_default();
    let en = r.1["error"]["message_en"].as_str().unwrap_or_default();
    assert!(!ja.is_empty() && !ja.is_ascii(), "Japanese message: {ja}");
    assert!(!en.is_empty(), "English message");
}

// ---- a private clamd for the malware-scanning tests (G9) ----

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The EICAR test file: harmless, and recognised as "malware" by every scanner.
pub const EICAR: &str = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

pub struct Clamd {
    child: Child,
    dir: PathBuf,
    pub socket: PathBuf,
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Clamd {
    /// Starts clamd on a unix socket in a fresh directory, with streams limited to `max`.
    pub async fn start(max: &str) -> Clamd {
        let dir = std::env::temp_dir().join(format!("kairan-clamd-{}", uuid::Uuid::now_v7()));
        let db = dir.join("db");
        std::fs::create_dir_all(&db).unwrap();
        // A body signature (NAME:TARGET:OFFSET:HEX) finds the string anywhere in a stream.
        let hex: String = "EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(
            db.join("kairan-test.ndb"),
            format!("Kairan.Test.EICAR:0:*:{hex}\n"),
        )
        .unwrap();
        let socket = dir.join("clamd.sock");
        let conf = dir.join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "DatabaseDirectory {}\nLocalSocket {}\nForeground yes\nStreamMaxLength {max}\nSelfCheck 0\nLogFile {}\nAlertExceedsMax yes\nAlertEncrypted yes\n",
                db.display(),
                socket.display(),
                dir.join("clamd.log").display()
            ),
        )
        .unwrap();
        let child = Command::new(clamd_path())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd starts (scripts/test-all installs clamav-daemon)");
        let c = Clamd { child, dir, socket };
        let s = c.scanner(Duration::from_secs(2));
        for _ in 0..100 {
            if s.ping().await.is_ok() {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let log = std::fs::read_to_string(c.dir.join("clamd.log")).unwrap_or_default();
        panic!("clamd did not answer within 5 s:\n{log}");
    }

    pub fn scanner(&self, timeout: Duration) -> kairan_server::scanner::Scanner {
        kairan_server::scanner::Scanner::new(
            kairan_server::scanner::Endpoint::Unix(self.socket.clone()),
            timeout,
        )
    }

    /// Adds a body signature for `text` and has clamd reload its databases, as a signature
    /// update would.
    pub async fn add_signature(&self, name: &str, text: &str) {
        let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
        std::fs::write(
            self.dir.join("db").join(format!("{name}.ndb")),
            format!("{name}:0:*:{hex}\n"),
        )
        .unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::UnixStream::connect(&self.socket).await.unwrap();
        s.write_all(b"zRELOAD\0").await.unwrap();
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply).await;
        // The reload happens in the background: wait until the new signature answers.
        let scanner = self.scanner(Duration::from_secs(2));
        for _ in 0..100 {
            if matches!(
                scanner.scan(text.as_bytes()).await,
                Ok(kairan_server::scanner::Verdict::Infected(_))
            ) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clamd did not load the new signature");
    }

    /// The `files.clamd` setting that reaches this instance.
    pub fn endpoint(&self) -> String {
        format!("unix:{}", self.socket.display())
    }
}

fn clamd_path() -> &'static Path {
    Path::new("/usr/sbin/clamd")
}

/// Two fields of each element of a JSON array, as text (numbers written out): what a test
/// compares when it checks a list by, say, (line, column) or (login, reason).
pub fn pairs(list: &Value, a: &str, b: &str) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    list.as_array()
        .map(|items| items.iter().map(|e| (text(&e[a]), text(&e[b]))).collect())
        .unwrap_or_default()
}
