//! Staff lists as CSV (I1; issue 8): what personnel sections exchange with Excel every
//! April. Reading: UTF-8 with or without a BOM, or Shift_JIS as Excel writes it (CP932, so
//! 髙, 﨑, ①, ㈱ survive), detected from the bytes; quoted fields with commas, quotes and line
//! breaks; CRLF or LF. Every row is checked and every problem named by line and column in
//! Japanese and English, before anything is written. Writing: UTF-8, UTF-8 with a BOM (what
//! Excel opens without asking) or CP932, where a character CP932 cannot hold is reported, never
//! replaced; a cell that Excel would run as a formula (`=`, `+`, `-`, `@`, tab, CR) is written
//! with a leading `'`.

use crate::DomainError;
use crate::input::{Kana, LoginId, PersonName, parse_title};
use crate::role::Role;
use encoding_rs::{SHIFT_JIS, UTF_8};
use serde::Serialize;

/// The columns, by their Japanese and English header names. `login_id`, `display_name` and
/// `kana` are required; the rest may be left out or empty.
pub const COLUMNS: [(&str, &str, &str); 8] = [
    ("employee_no", "職員番号", "Employee number"),
    ("login_id", "ログインID", "Login ID"),
    ("display_name", "氏名", "Name"),
    ("kana", "フリガナ", "Reading"),
    ("department", "所属", "Department"),
    ("title", "職名", "Title"),
    ("roles", "権限", "Roles"),
    ("last_day", "退職日", "Last day"),
];

/// The largest file read at once, and the most rows (a large city's staff several times over).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
pub const MAX_ROWS: usize = 200_000;

/// Which encoding a file was read in, or is to be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CsvEncoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    #[serde(rename = "cp932")]
    Cp932,
}

impl CsvEncoding {
    pub fn parse(code: &str) -> Option<CsvEncoding> {
        match code.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(CsvEncoding::Utf8),
            "utf-8-bom" | "utf8-bom" => Some(CsvEncoding::Utf8Bom),
            "cp932" | "shift_jis" | "sjis" | "windows-31j" => Some(CsvEncoding::Cp932),
            _ => None,
        }
    }
}

/// One problem in a file, where a person can find it in Excel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The line the record starts on (the header is line 1).
    pub line: usize,
    /// The column's code (`login_id`…), or empty for the whole row.
    pub column: String,
    pub message_ja: String,
    pub message_en: String,
}

impl RowError {
    fn new(line: usize, column: &str, ja: impl Into<String>, en: impl Into<String>) -> RowError {
        RowError {
            line,
            column: column.to_owned(),
            message_ja: ja.into(),
            message_en: en.into(),
        }
    }

    fn from_domain(line: usize, column: &str, e: &DomainError) -> RowError {
        use crate::error::Localized;
        RowError::new(line, column, e.message_ja(), e.message_en())
    }
}

/// A checked row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffRow {
    pub line: usize,
    pub employee_no: Option<String>,
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    /// The department's name as written (matched to the body's departments by the server).
    pub department: Option<String>,
    pub title: Option<String>,
    /// Empty: keep what the person has (a new person: staff).
    pub roles: Vec<Role>,
    /// A leaver's last day: the ID is disabled after it (00:00 JST the next day).
    pub last_day: Option<crate::fiscal::Date>,
}

fn whole_file(message_ja: &str, message_en: &str) -> Vec<RowError> {
    vec![RowError::new(0, "", message_ja, message_en)]
}

/// Decodes a file: a UTF-8 BOM or valid UTF-8 is UTF-8; otherwise it must be valid CP932.
pub fn decode(bytes: &[u8]) -> Result<(String, CsvEncoding), Vec<RowError>> {
    if bytes.len() > MAX_BYTES {
        return Err(whole_file(
            "ファイルが大きすぎます（32MBまで）。分けて取り込んでください。",
            "the file is too large (32 MB at most); import it in parts.",
        ));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match UTF_8.decode_without_bom_handling_and_without_replacement(rest) {
            Some(t) => Ok((t.into_owned(), CsvEncoding::Utf8Bom)),
            None => Err(whole_file(
                "UTF-8として読めない文字があります。",
                "the file has bytes that are not UTF-8.",
            )),
        };
    }
    if let Ok(t) = std::str::from_utf8(bytes) {
        return Ok((t.to_owned(), CsvEncoding::Utf8));
    }
    match SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(t) => Ok((t.into_owned(), CsvEncoding::Cp932)),
        None => Err(whole_file(
            "文字コードを判別できません。UTF-8 または Shift_JIS（Excelの「CSV（コンマ区切り）」）で保存してください。",
            "the encoding is not recognised; save the file as UTF-8 or Shift_JIS (Excel's \"CSV (Comma delimited)\").",
        )),
    }
}

/// Splits CSV text into records (RFC 4180, with LF or CRLF), each with the line it starts on.
/// Blank lines are skipped.
pub fn records(text: &str) -> Result<Vec<(usize, Vec<String>)>, Vec<RowError>> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut fields: Vec<String> = Vec::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                any = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                if any || fields.iter().any(|f| !f.is_empty()) {
                    out.push((start, std::mem::take(&mut fields)));
                } else {
                    fields.clear();
                }
                any = false;
                line += 1;
                start = line;
                if out.len() > MAX_ROWS {
                    return Err(whole_file(
                        "行が多すぎます（20万行まで）。",
                        "too many rows (200,000 at most).",
                    ));
                }
            }
            c => {
                field.push(c);
                any = true;
            }
        }
    }
    if in_quotes {
        return Err(vec![RowError::new(
            start,
            "",
            "引用符（\"）が閉じられていません。",
            "a quoted field is not closed.",
        )]);
    }
    fields.push(field);
    if any || fields.iter().any(|f| !f.is_empty()) {
        out.push((start, fields));
    }
    Ok(out)
}

/// Which column of the file holds which field, from its header row (Japanese or English names,
/// or the codes).
fn header_map(header: &[String]) -> Result<Vec<Option<&'static str>>, Vec<RowError>> {
    let mut map = Vec::with_capacity(header.len());
    let mut errors = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        let found = COLUMNS
            .iter()
            .find(|(code, ja, en)| {
                h.eq_ignore_ascii_case(code) || h == *ja || h.eq_ignore_ascii_case(en)
            })
            .map(|(code, _, _)| *code);
        if found.is_none() && !h.is_empty() {
            errors.push(RowError::new(
                1,
                h,
                format!("{}列目の見出し「{h}」は使えません。", i + 1),
                format!("column {} has an unknown heading \"{h}\".", i + 1),
            ));
        }
        if let Some(code) = found
            && map.contains(&Some(code))
        {
            errors.push(RowError::new(
                1,
                code,
                format!("見出し「{h}」が2回あります。"),
                format!("the heading \"{h}\" appears twice."),
            ));
        }
        map.push(found);
    }
    for required in ["login_id", "display_name", "kana"] {
        if !map.contains(&Some(required)) {
            let (_, ja, en) = COLUMNS
                .iter()
                .find(|(c, _, _)| *c == required)
                .copied()
                .unwrap_or((required, required, required));
            errors.push(RowError::new(
                1,
                required,
                format!("見出し「{ja}」の列が必要です。"),
                format!("a \"{en}\" column is required."),
            ));
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

fn parse_roles(raw: &str) -> Result<Vec<Role>, (String, String)> {
    let mut roles = Vec::new();
    for part in raw
        .split(|c: char| c == ';' || c == '、' || c == '・' || c.is_whitespace() || c == '/')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let role = Role::ALL
            .into_iter()
            .find(|r| r.code() == part || r.label_ja() == part || r.label_en() == part)
            .filter(|r| r.is_grantable());
        match role {
            Some(r) if !roles.contains(&r) => roles.push(r),
            Some(_) => {}
            None => {
                return Err((
                    format!("「{part}」という権限はありません（ゲストは申請でのみ登録されます）。"),
                    format!("unknown role \"{part}\" (guests come only from applications)."),
                ));
            }
        }
    }
    Ok(roles)
}

fn employee_no(raw: &str) -> Result<Option<String>, (String, String)> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() > 20 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err((
            "半角英数字と「-」の20文字以内で入力してください。".into(),
            "use up to 20 letters, digits or '-'.".into(),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// Reads a staff file: every row checked, every problem listed (all of them, not the first).
pub fn read(bytes: &[u8]) -> Result<(Vec<StaffRow>, CsvEncoding), Vec<RowError>> {
    let (text, encoding) = decode(bytes)?;
    let mut recs = records(&text)?.into_iter();
    let Some((_, header)) = recs.next() else {
        return Err(whole_file("ファイルが空です。", "the file is empty."));
    };
    let map = header_map(&header)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen_login: std::collections::HashMap<String, usize> = Default::default();
    let mut seen_no: std::collections::HashMap<String, usize> = Default::default();
    for (line, fields) in recs {
        let get = |code: &str| -> &str {
            map.iter()
                .position(|m| *m == Some(code))
                .and_then(|i| fields.get(i))
                .map(|f| restored(f))
                .unwrap_or("")
        };
        if fields.len() > map.len() {
            errors.push(RowError::new(
                line,
                "",
                format!(
                    "列が多すぎます（見出しは{}列、この行は{}列）。",
                    map.len(),
                    fields.len()
                ),
                format!(
                    "too many columns ({} headings, {} in this row).",
                    map.len(),
                    fields.len()
                ),
            ));
            continue;
        }
        let before = errors.len();
        let login = LoginId::parse(get("login_id"))
            .map_err(|e| errors.push(RowError::from_domain(line, "login_id", &e)))
            .ok();
        let name = PersonName::parse(get("display_name"))
            .map_err(|e| errors.push(RowError::from_domain(line, "display_name", &e)))
            .ok();
        let kana = Kana::parse(get("kana"))
            .map_err(|e| errors.push(RowError::from_domain(line, "kana", &e)))
            .ok();
        let title = parse_title(get("title"))
            .map_err(|e| errors.push(RowError::from_domain(line, "title", &e)))
            .ok()
            .flatten();
        let roles = parse_roles(get("roles"))
            .map_err(|(ja, en)| errors.push(RowError::new(line, "roles", ja, en)))
            .ok();
        let no = employee_no(get("employee_no"))
            .map_err(|(ja, en)| errors.push(RowError::new(line, "employee_no", ja, en)))
            .ok()
            .flatten();
        let department = Some(get("department").trim().to_owned()).filter(|d| !d.is_empty());
        let last_day = match get("last_day").trim() {
            "" => Some(None),
            raw => excel_date(raw).map(Some).or_else(|| {
                errors.push(RowError::new(
                    line,
                    "last_day",
                    "日付は 2027/3/31 または 2027-03-31 の形で入力してください。",
                    "write the date as 2027/3/31 or 2027-03-31.",
                ));
                None
            }),
        };
        if let Some(l) = &login
            && let Some(first) = seen_login.insert(l.as_str().to_owned(), line)
        {
            errors.push(RowError::new(
                line,
                "login_id",
                format!(
                    "ログインID「{}」は{first}行目と重複しています。",
                    l.as_str()
                ),
                format!("the login ID \"{}\" repeats line {first}.", l.as_str()),
            ));
        }
        if let Some(n) = &no
            && let Some(first) = seen_no.insert(n.clone(), line)
        {
            errors.push(RowError::new(
                line,
                "employee_no",
                format!("職員番号「{n}」は{first}行目と重複しています。"),
                format!("the employee number \"{n}\" repeats line {first}."),
            ));
        }
        if errors.len() > before {
            continue;
        }
        if let (Some(login), Some(name), Some(kana), Some(roles), Some(last_day)) =
            (login, name, kana, roles, last_day)
        {
            rows.push(StaffRow {
                line,
                employee_no: no,
                login_id: login.as_str().to_owned(),
                display_name: name.as_str().to_owned(),
                kana: kana.as_str().to_owned(),
                department,
                title,
                roles,
                last_day,
            });
        }
    }
    if errors.is_empty() {
        Ok((rows, encoding))
    } else {
        Err(errors)
    }
}

/// A date as Excel writes it in a Japanese CSV: `2027/3/31` or `2027-03-31`.
fn excel_date(raw: &str) -> Option<crate::fiscal::Date> {
    let mut parts = raw.split(['/', '-']);
    let y = parts.next()?.trim().parse().ok()?;
    let m = parts.next()?.trim().parse().ok()?;
    let d = parts.next()?.trim().parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    crate::fiscal::Date::new(y, m, d)
}

fn formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// A cell as written by [`write`]: the `'` put before a formula character is taken off again,
/// so an exported file imports back unchanged.
fn restored(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.chars().next().is_some_and(formula_start) => rest,
        _ => field,
    }
}

/// A cell as Excel should show it: quoted when needed, and never run as a formula.
pub fn cell(value: &str) -> String {
    let neutral = match value.chars().next() {
        Some(c) if formula_start(c) => format!("'{value}"),
        _ => value.to_owned(),
    };
    if neutral.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// A character CP932 cannot hold, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmappable {
    /// The data line (the header is line 1).
    pub line: usize,
    pub column: String,
    pub character: String,
}

/// Writes staff rows with the Japanese header, in the chosen encoding. For CP932, every
/// character it cannot hold is listed and nothing is written.
pub fn write(rows: &[StaffRow], encoding: CsvEncoding) -> Result<Vec<u8>, Vec<Unmappable>> {
    let mut text = String::new();
    let header: Vec<&str> = COLUMNS.iter().map(|(_, ja, _)| *ja).collect();
    text.push_str(&header.join(","));
    text.push_str("\r\n");
    let mut bad = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let roles: Vec<&str> = r.roles.iter().map(|x| x.code()).collect();
        let values = [
            ("employee_no", r.employee_no.clone().unwrap_or_default()),
            ("login_id", r.login_id.clone()),
            ("display_name", r.display_name.clone()),
            ("kana", r.kana.clone()),
            ("department", r.department.clone().unwrap_or_default()),
            ("title", r.title.clone().unwrap_or_default()),
            ("roles", roles.join(";")),
            (
                "last_day",
                r.last_day.map(|d| d.to_string()).unwrap_or_default(),
            ),
        ];
        let mut cells = Vec::with_capacity(values.len());
        for (column, v) in &values {
            if encoding == CsvEncoding::Cp932 {
                for ch in v.chars() {
                    let mut buf = [0u8; 4];
                    let (_, _, unmappable) = SHIFT_JIS.encode(ch.encode_utf8(&mut buf));
                    if unmappable {
                        bad.push(Unmappable {
                            line: i + 2,
                            column: (*column).to_owned(),
                            character: ch.to_string(),
                        });
                    }
                }
            }
            cells.push(cell(v));
        }
        text.push_str(&cells.join(","));
        text.push_str("\r\n");
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    Ok(match encoding {
        CsvEncoding::Utf8 => text.into_bytes(),
        CsvEncoding::Utf8Bom => {
            let mut b = b"\xEF\xBB\xBF".to_vec();
            b.extend(text.into_bytes());
            b
        }
        CsvEncoding::Cp932 => SHIFT_JIS.encode(&text).0.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sjis(text: &str) -> Vec<u8> {
        let (b, _, bad) = SHIFT_JIS.encode(text);
        assert!(!bad);
        b.into_owned()
    }

    const SAMPLE: &str = "職員番号,ログインID,氏名,フリガナ,所属,職名,権限\r\n\
        A-001,takahashi.k,髙橋 健一,タカハシ ケンイチ,総務課,課長,section_head\r\n\
        A-002,yamasaki.h,山﨑 花子,やまさき はなこ,\"企画課,広報係\",\"主事\",職員\r\n";

    #[test]
    fn utf8_with_and_without_bom_and_cp932_read_the_same_rows() {
        let (plain, e1) = read(SAMPLE.as_bytes()).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(SAMPLE.as_bytes());
        let (with_bom, e2) = read(&bom).unwrap();
        let (from_sjis, e3) = read(&sjis(SAMPLE)).unwrap();
        assert_eq!(
            (e1, e2, e3),
            (CsvEncoding::Utf8, CsvEncoding::Utf8Bom, CsvEncoding::Cp932)
        );
        assert_eq!(plain, with_bom);
        assert_eq!(plain, from_sjis);
        assert_eq!(plain[0].display_name, "髙橋 健一");
        assert_eq!(plain[1].display_name, "山﨑 花子");
        assert_eq!(plain[1].kana, "ヤマサキ　ハナコ");
        assert_eq!(plain[1].department.as_deref(), Some("企画課,広報係"));
        assert_eq!(plain[0].roles, [Role::SectionHead]);
        assert_eq!(plain[1].roles, [Role::Staff]);
        assert_eq!(plain[1].line, 3);
    }

    #[test]
    fn quoted_line_breaks_keep_line_numbers_right() {
        let text = "login_id,display_name,kana,title\n\
            a.one,一 太郎,イチ タロウ,\"主任\n（兼務）\"\n\
            \n\
            b,二 花子,ニ ハナコ,\n";
        let errors = read(text.as_bytes()).unwrap_err();
        // A title holds no line break (line 2); "b" is too short for an ID, on line 5: the
        // quoted break and the blank line are counted as Excel shows them.
        let found: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(found, [(2, "title"), (5, "login_id")]);
        let ok =
            "login_id,display_name,kana,title\na.one,一 太郎,イチ タロウ,\"主任 \"\"兼務\"\"\"\n";
        let (rows, _) = read(ok.as_bytes()).unwrap();
        assert_eq!(rows[0].title.as_deref(), Some("主任 \"兼務\""));
    }

    #[test]
    fn every_problem_is_named_by_line_and_column() {
        let text = "ログインID,氏名,フリガナ,職員番号,権限\n\
            sato.h,佐藤 花子,サトウ ハナコ,001,\n\
            sato.h,佐藤 花子,サトウ ハナコ,002,\n\
            suzuki,鈴木 一郎,Suzuki,001,\n\
            tanaka,,タナカ,003,guest\n\
            kato,加藤 浩二,カトウ コウジ,004,staff,extra\n";
        let errors = read(text.as_bytes()).unwrap_err();
        let found: Vec<(usize, &str)> =
            errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            found,
            [
                (3, "login_id"),
                (4, "kana"),
                (4, "employee_no"),
                (5, "display_name"),
                (5, "roles"),
                (6, ""),
            ]
        );
        assert!(errors[0].message_ja.contains("2行目と重複"));
        assert!(errors.iter().all(|e| !e.message_en.is_empty()));
    }

    #[test]
    fn headers_are_checked_and_broken_files_are_refused_whole() {
        let e = read("氏名,フリガナ\n佐藤 花子,サトウ ハナコ\n".as_bytes()).unwrap_err();
        assert_eq!(e[0].column, "login_id");
        let e = read("ログインID,氏名,フリガナ,趣味\n".as_bytes()).unwrap_err();
        assert!(e[0].message_ja.contains("趣味"));
        let e = read(b"login_id,display_name,kana\n\xff\xfe\xfd,a,b\n").unwrap_err();
        assert!(e[0].message_ja.contains("文字コード"));
        let e = read("login_id,display_name,kana\n\"open,a,b\n".as_bytes()).unwrap_err();
        assert!(e[0].message_en.contains("quoted"));
        assert!(read(b"").is_err());
    }

    #[test]
    fn writing_neutralises_formulas_and_reports_what_cp932_cannot_hold() {
        let (rows, _) = read(SAMPLE.as_bytes()).unwrap();
        let mut evil = rows[0].clone();
        evil.title = Some("=HYPERLINK(\"http://x\")".into());
        evil.department = Some("@SUM(1)".into());
        let out = String::from_utf8(write(&[evil], CsvEncoding::Utf8).unwrap()).unwrap();
        assert!(out.contains(",'@SUM(1),"), "{out}");
        assert!(out.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{out}");
        // Read back, the cell is what was stored.
        let (back, _) = read(out.as_bytes()).unwrap();
        assert_eq!(back[0].title.as_deref(), Some("=HYPERLINK(\"http://x\")"));
        assert_eq!(back[0].department.as_deref(), Some("@SUM(1)"));
        // Round trip through every encoding, 髙 and 﨑 included.
        for enc in [CsvEncoding::Utf8, CsvEncoding::Utf8Bom, CsvEncoding::Cp932] {
            let bytes = write(&rows, enc).unwrap();
            let (back, seen) = read(&bytes).unwrap();
            assert_eq!(seen, enc);
            assert_eq!(
                back.iter().map(|r| &r.display_name).collect::<Vec<_>>(),
                rows.iter().map(|r| &r.display_name).collect::<Vec<_>>()
            );
        }
        // A character outside CP932 is reported with its place, not replaced.
        let mut odd = rows[1].clone();
        odd.display_name = "𠮷田 一".into();
        let bad = write(&[rows[0].clone(), odd], CsvEncoding::Cp932).unwrap_err();
        assert_eq!(bad.len(), 1);
        assert_eq!(
            (
                bad[0].line,
                bad[0].column.as_str(),
                bad[0].character.as_str()
            ),
            (3, "display_name", "𠮷")
        );
    }

    #[test]
    fn a_last_day_is_read_as_excel_writes_it() {
        let text = "login_id,display_name,kana,退職日\n\
            a.one,一 太郎,イチ タロウ,2027/3/31\n\
            b.two,二 花子,ニ ハナコ,2027-03-31\n\
            c.three,三 次郎,サン ジロウ,\n\
            d.four,四 四郎,ヨン シロウ,2027/2/30\n";
        let errors = read(text.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column.as_str()), (5, "last_day"));
        let ok = text.replace("d.four,四 四郎,ヨン シロウ,2027/2/30\n", "");
        let (rows, _) = read(ok.as_bytes()).unwrap();
        let end = crate::fiscal::Date::new(2027, 3, 31);
        assert_eq!(rows[0].last_day, end);
        assert_eq!(rows[1].last_day, end);
        assert_eq!(rows[2].last_day, None);
        // Written back as ISO dates, read back the same.
        let bytes = write(&rows, CsvEncoding::Utf8).unwrap();
        assert_eq!(read(&bytes).unwrap().0, rows);
    }

    #[test]
    fn the_documented_sample_file_reads_cleanly() {
        let (rows, enc) = read(include_bytes!("../../../docs/samples/staff.csv")).unwrap();
        assert_eq!(enc, CsvEncoding::Utf8Bom);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].kana, "イトウ　ジロウ");
        assert_eq!(rows[1].title.as_deref(), Some("係長,広報担当"));
    }

    #[test]
    fn circled_numbers_and_company_marks_survive_cp932() {
        let text = "login_id,display_name,kana,title\nabc,①番 ㈱太郎,イチバン タロウ,係長\n";
        let (rows, enc) = read(&sjis(text)).unwrap();
        assert_eq!(enc, CsvEncoding::Cp932);
        assert_eq!(rows[0].display_name, "①番 ㈱太郎");
    }
}
