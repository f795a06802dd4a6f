//! The console as an operator uses it: the real `kairan` binary against a fresh database
//! (SQLite, or PostgreSQL when `KAIRAN_TEST_POSTGRES_URL` is set).

// Test code may panic on a broken precondition: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestDb;
use std::process::{Command, Output};

/// Runs the binary against the test database.
fn kairan(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kairan"))
        .args(args)
        .arg("--database-url")
        .arg(&db.url)
        .arg("--data")
        .arg(&db.dir)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn an_operator_sets_up_a_body_from_the_console_and_verifies_the_audit_log() {
    let db = TestDb::new("cli").await;
    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-org",
            "--code",
            "minami-town",
            "--name",
            "南町",
            "--name-en",
            "Minami Town",
        ],
    ));
    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-org",
            "--code",
            "nishi-city",
            "--name",
            "西市",
        ],
    ));
    let list = stdout(&kairan(&db, &["admin", "list-orgs"]));
    let lines: Vec<&str> = list.lines().collect();
    assert!(lines[0].starts_with("CODE"), "{list}");
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("minami-town\t南町"), "{list}");
    assert!(lines[2].starts_with("nishi-city\t西市"), "{list}");

    let dup = kairan(
        &db,
        &[
            "admin",
            "create-org",
            "--code",
            "minami-town",
            "--name",
            "南町",
        ],
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("org_code_taken"));

    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-department",
            "--org",
            "minami-town",
            "--name",
            "総務課",
        ],
    ));
    let made = stdout(&kairan(
        &db,
        &[
            "admin",
            "create-user",
            "--org",
            "minami-town",
            "--login-id",
            "yamada.taro",
            "--name",
            "山田 太郎",
            "--kana",
            "ヤマダ タロウ",
            "--department",
            "総務課",
            "--role",
            "admin",
        ],
    ));
    let temp1 = made
        .lines()
        .find(|l| l.starts_with("temporary password"))
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(temp1.len(), 23);
    let reset = stdout(&kairan(&db, &["admin", "reset-password", "yamada.taro"]));
    let temp2 = reset.trim().rsplit(' ').next().unwrap();
    assert_ne!(temp1, temp2);
    let bad = kairan(&db, &["admin", "reset-password", "nobody.here"]);
    assert!(!bad.status.success());

    let privileged = stdout(&kairan(
        &db,
        &["admin", "list-privileged", "--org", "minami-town"],
    ));
    assert!(
        privileged
            .lines()
            .next()
            .unwrap()
            .starts_with("ROLE\tLOGIN_ID")
    );
    assert!(
        privileged.contains("admin\tyamada.taro\t山田 太郎\tactive"),
        "{privileged}"
    );
    assert!(privileged.contains("operator"));

    // 2 bodies, 1 department, 1 user, 1 reset.
    let ok = stdout(&kairan(&db, &["audit", "verify"]));
    assert!(ok.contains("intact: 5 records checked"), "{ok}");

    db.exec("UPDATE audit_log SET ip = '203.0.113.9' WHERE seq = 4")
        .await;
    let broken = kairan(&db, &["audit", "verify"]);
    assert_eq!(broken.status.code(), Some(1));
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(text.contains("record 4"), "{text}");
    db.drop_all().await;
}

#[tokio::test]
async fn bad_input_on_the_console_gets_a_japanese_and_english_error() {
    let db = TestDb::new("cli").await;
    let o = kairan(
        &db,
        &["admin", "create-org", "--code", "Bad Code!", "--name", "町"],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("団体コード") && err.contains("invalid_field"),
        "{err}"
    );
    let o = kairan(
        &db,
        &[
            "admin",
            "create-user",
            "--org",
            "missing",
            "--login-id",
            "a.b",
            "--name",
            "x",
            "--kana",
            "エ",
        ],
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("no body with code missing"));
    db.drop_all().await;
}

#[test]
fn dlp_scan_reports_kinds_and_byte_offsets_without_values_and_masks_on_request() {
    use std::io::Write;
    let text = "申請者の個人番号は1234-5678-9018、連絡先は090-1234-5678です。会議は3月5日10時から305会議室で行います。";
    let run = |args: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kairan"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["dlp", "scan"])).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let kinds: Vec<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["my_number", "phone_number"]);
    let (s, e) = (
        findings[0]["start"].as_u64().unwrap() as usize,
        findings[0]["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&text[s..e], "1234-5678-9018");
    assert!(
        !json.to_string().contains("9018"),
        "the output names where, never what"
    );
    let masked = run(&["dlp", "scan", "--mask"]);
    assert!(
        masked.contains("****-****-9018") && masked.contains("090-****-5678"),
        "{masked}"
    );
    assert!(
        masked.contains("3月5日10時から305会議室"),
        "ordinary details stay"
    );
}

/// Real .docx/.pdf builders, shared with kairan-dlp's extraction tests.
#[path = "../../kairan-dlp/tests/support/mod.rs"]
mod docs;

#[test]
fn dlp_scan_reads_office_documents_and_names_each_file() {
    let dir = std::env::temp_dir().join(format!("kairan-dlp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let docx = dir.join("申請書.docx");
    std::fs::write(
        &docx,
        docs::docx(&["転入届", "申請者の個人番号は1234-5678-9018です。"]),
    )
    .unwrap();
    let slides = dir.join("計画.pptx");
    std::fs::write(&slides, docs::pptx(&[(1, "令和8年度 事業計画")], &[])).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kairan"))
        .args(["dlp", "scan"])
        .arg(&docx)
        .arg(&slides)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = json["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{json}");
    assert_eq!(files[0]["file"], docx.display().to_string());
    let kinds: Vec<&str> = files[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["my_number"]);
    assert_eq!(files[1]["file"], slides.display().to_string());
    assert_eq!(files[1]["findings"], serde_json::json!([]));
    assert!(
        !json.to_string().contains("9018"),
        "the output names where, never what"
    );
    // A document that is not what its name says is an error, not an empty report.
    let fake = dir.join("偽物.docx");
    std::fs::write(&fake, b"not a zip").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kairan"))
        .args(["dlp", "scan"])
        .arg(&fake)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("偽物.docx"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_body_can_tighten_its_own_password_rules_from_the_console() {
    let db = TestDb::new("cli").await;
    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-org",
            "--code",
            "minami-town",
            "--name",
            "南町",
        ],
    ));
    let out = stdout(&kairan(
        &db,
        &[
            "admin",
            "set-password-policy",
            "--org",
            "minami-town",
            "--min-length",
            "20",
            "--lockout-threshold",
            "4",
        ],
    ));
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["min_length"], 20);
    assert_eq!(p["lockout_threshold"], 4);
    assert_eq!(p["history"], 5, "other rules keep the server default");
    let weak = kairan(
        &db,
        &[
            "admin",
            "set-password-policy",
            "--org",
            "minami-town",
            "--min-length",
            "4",
        ],
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("8文字以上"));
    let ok = stdout(&kairan(&db, &["audit", "verify"]));
    assert!(ok.contains("intact: 2 records"), "{ok}");
    db.drop_all().await;
}

#[tokio::test]
async fn the_yearly_staff_list_goes_in_and_out_from_the_console() {
    let db = TestDb::new("cli").await;
    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-org",
            "--code",
            "minami-town",
            "--name",
            "南町",
        ],
    ));
    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-department",
            "--org",
            "minami-town",
            "--name",
            "総務課",
        ],
    ));
    let file = db.dir.join("staff.csv");
    // As Excel saves "CSV (Comma delimited)" on a Japanese Windows: Shift_JIS, CRLF.
    let text = "職員番号,ログインID,氏名,フリガナ,所属\r\n\
        2001,tanabe.k,田邉 健,タナベ ケン,総務課\r\n\
        2002,hashimoto.m,髙橋 萌,タカハシ モエ,総務課\r\n";
    std::fs::write(&file, encoding_rs::SHIFT_JIS.encode(text).0).unwrap();
    let path = file.to_str().unwrap();
    let dry = stdout(&kairan(
        &db,
        &[
            "admin",
            "import-staff",
            "--org",
            "minami-town",
            path,
            "--dry-run",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&dry).unwrap();
    assert_eq!(v["encoding"], "cp932");
    assert_eq!(v["created"], serde_json::json!(["tanabe.k", "hashimoto.m"]));
    assert_eq!(v["applied"], false);
    let done = stdout(&kairan(
        &db,
        &["admin", "import-staff", "--org", "minami-town", path],
    ));
    let v: serde_json::Value = serde_json::from_str(&done).unwrap();
    assert_eq!(v["issued"].as_array().unwrap().len(), 2);
    // Out again as Shift_JIS: the same people, 邉 and 髙 included.
    let out = kairan(
        &db,
        &[
            "admin",
            "export-staff",
            "--org",
            "minami-town",
            "--encoding",
            "cp932",
        ],
    );
    assert!(out.status.success());
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&out.stdout);
    assert!(!bad);
    assert!(
        text.contains("2001,tanabe.k,田邉 健,タナベ　ケン,総務課"),
        "{text}"
    );
    assert!(text.contains("髙橋 萌"));
    // The same people with new titles, prepared for next 1 April: checked now, scheduled.
    let april = {
        let today = kairan_domain::fiscal::Date::from_utc_us(kairan_store::now_us());
        kairan_domain::fiscal::fiscal_year_end(today)
            .add_days(1)
            .unwrap()
            .to_string()
    };
    let transfer = db.dir.join("transfer.csv");
    std::fs::write(
        &transfer,
        "職員番号,ログインID,氏名,フリガナ,所属,職名\n2001,tanabe.k,田邉 健,タナベ ケン,総務課,主任\n",
    )
    .unwrap();
    let tpath = transfer.to_str().unwrap();
    let scheduled = stdout(&kairan(
        &db,
        &[
            "admin",
            "import-staff",
            "--org",
            "minami-town",
            tpath,
            "--effective",
            &april,
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&scheduled).unwrap();
    assert_eq!(v["state"], "scheduled", "{v}");
    assert_eq!(v["effective_date"], april.as_str());
    assert_eq!(v["changes"], 1);
    // A day that is not ahead is refused.
    let refused = kairan(
        &db,
        &[
            "admin",
            "import-staff",
            "--org",
            "minami-town",
            tpath,
            "--effective",
            "2020-04-01",
        ],
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("明日以降の日付"), "{said}");

    // A file with a problem: exit code 2, the line named, nothing written.
    std::fs::write(
        &file,
        "ログインID,氏名,フリガナ,所属\nnew.one,新 一,シン イチ,人事課\n",
    )
    .unwrap();
    let refused = kairan(
        &db,
        &["admin", "import-staff", "--org", "minami-town", path],
    );
    assert_eq!(refused.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(v["errors"][0]["line"], 2);
    assert_eq!(v["errors"][0]["column"], "department");

    // A vendor's test ID is flagged when issued and listed by the dormant-ID report.
    stdout(&kairan(
        &db,
        &[
            "admin",
            "create-user",
            "--org",
            "minami-town",
            "--login-id",
            "vendor.test",
            "--name",
            "業者 試験",
            "--kana",
            "ギョウシャ シケン",
            "--test",
        ],
    ));
    let report = stdout(&kairan(
        &db,
        &[
            "report",
            "dormant",
            "--org",
            "minami-town",
            "--format",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&report).unwrap();
    let listed: Vec<(&str, &str)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["login_id"].as_str().unwrap(),
                e["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("vendor.test", "test_id")]);
    let csv = stdout(&kairan(
        &db,
        &[
            "report",
            "dormant",
            "--org",
            "minami-town",
            "--format",
            "csv",
        ],
    ));
    assert!(
        csv.contains("vendor.test,業者 試験,開発・試験用ID"),
        "{csv}"
    );
    db.drop_all().await;
}
