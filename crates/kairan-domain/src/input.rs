//! Parse, don't validate: raw input becomes one of these types once, at the edge, and inner
//! code accepts only the parsed type. Lengths count characters as a person sees them, since
//! names are mostly Japanese.

use crate::error::DomainError;
use serde::Serialize;

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control())
}

fn text(
    field: &'static str,
    label_ja: &'static str,
    raw: &str,
    max: usize,
) -> Result<String, DomainError> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(
            field,
            label_ja,
            "入力してください。",
            "is required.",
        ));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            label_ja,
            format!("{max}文字以内で入力してください。"),
            format!("must be at most {max} characters."),
        ));
    }
    if has_control(v) {
        return Err(DomainError::invalid(
            field,
            label_ja,
            "使用できない文字が含まれています。",
            "contains characters that are not allowed.",
        ));
    }
    Ok(v.to_owned())
}

/// A staff login ID: lower-case ASCII letters, digits, `.`, `_` and `-`, 3 to 64 characters,
/// starting with a letter or digit. Unique on the whole server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LoginId(String);

impl LoginId {
    pub fn parse(raw: &str) -> Result<LoginId, DomainError> {
        let v = raw.trim().to_ascii_lowercase();
        let ok_chars = v
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        let ok_start = v
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !(3..=64).contains(&v.len()) || !ok_chars || !ok_start {
            return Err(DomainError::invalid(
                "login_id",
                "ログインID",
                "半角英小文字・数字・「.」「_」「-」の3〜64文字で、英数字から始めてください。",
                "use 3–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.",
            ));
        }
        Ok(LoginId(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name (氏名), e.g. 「佐藤 花子」.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, DomainError> {
        text("display_name", "氏名", raw, 50).map(PersonName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The reading of a name in katakana (フリガナ). Hiragana input is converted to katakana,
/// so a search by either finds the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Kana(String);

impl Kana {
    pub fn parse(raw: &str) -> Result<Kana, DomainError> {
        let v = text("kana", "フリガナ", raw, 60)?;
        let converted: String = v
            .chars()
            .map(|c| match c {
                'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
                ' ' => '　',
                other => other,
            })
            .collect();
        let ok = converted
            .chars()
            .all(|c| matches!(c, 'ァ'..='ヺ' | 'ー' | '・' | '　' | 'ヽ' | 'ヾ'));
        if !ok {
            return Err(DomainError::invalid(
                "kana",
                "フリガナ",
                "カタカナまたはひらがなで入力してください。",
                "use katakana or hiragana only.",
            ));
        }
        Ok(Kana(converted))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A body's short code, e.g. `sakuragawa-town`: used in the CLI and in URLs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OrgCode(String);

impl OrgCode {
    pub fn parse(raw: &str) -> Result<OrgCode, DomainError> {
        let v = raw.trim().to_ascii_lowercase();
        let ok = (2..=32).contains(&v.len())
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !v.starts_with('-');
        if !ok {
            return Err(DomainError::invalid(
                "code",
                "団体コード",
                "半角英小文字・数字・「-」の2〜32文字で入力してください。",
                "use 2–32 lower-case letters, digits or '-'.",
            ));
        }
        Ok(OrgCode(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a body or a department (団体名・所属名).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct UnitName(String);

impl UnitName {
    pub fn parse(
        field: &'static str,
        label_ja: &'static str,
        raw: &str,
    ) -> Result<UnitName, DomainError> {
        text(field, label_ja, raw, 60).map(UnitName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message body: line breaks kept (CRLF becomes LF), at most 4,000 characters, not blank,
/// no control characters other than line breaks and tabs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(raw: &str) -> Result<MessageBody, DomainError> {
        let v = raw.replace("\r\n", "\n").replace('\r', "\n");
        let v = v.trim_end().trim_start_matches('\n').to_owned();
        if v.trim().is_empty() {
            return Err(DomainError::invalid(
                "body",
                "本文",
                "メッセージを入力してください。",
                "is empty.",
            ));
        }
        let n = v.chars().count();
        if n > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "body",
                "本文",
                format!(
                    "{}文字以内で入力してください(現在{n}文字)。",
                    Self::MAX_CHARS
                ),
                format!("must be at most {} characters (now {n}).", Self::MAX_CHARS),
            ));
        }
        if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(DomainError::invalid(
                "body",
                "本文",
                "使用できない文字が含まれています。",
                "contains characters that are not allowed.",
            ));
        }
        Ok(MessageBody(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The fixed set of stamps (reactions): code, emoji, Japanese label.
pub const STAMPS: [(&str, &str, &str); 6] = [
    ("like", "👍", "いいね"),
    ("ok", "🙆", "了解"),
    ("thanks", "🙏", "ありがとう"),
    ("done", "✅", "対応済み"),
    ("looking", "👀", "確認中"),
    ("celebrate", "🎉", "おめでとう"),
];

/// A stamp code from [`STAMPS`].
pub fn parse_stamp(raw: &str) -> Result<&'static str, DomainError> {
    STAMPS
        .iter()
        .find(|(code, _, _)| *code == raw)
        .map(|(code, _, _)| *code)
        .ok_or_else(|| {
            DomainError::invalid(
                "stamp",
                "スタンプ",
                "用意されたスタンプから選んでください。",
                "choose one of the available stamps.",
            )
        })
}

/// A group talk's name.
/// A file's name as uploaded: shown to people and sent back in `Content-Disposition`, so it has
/// no path, no control characters and no bidirectional overrides (which make `evil\u{202E}gpj.exe`
/// read as `evil exe.jpg`).
pub fn parse_file_name(raw: &str) -> Result<String, DomainError> {
    let v = raw.trim();
    let refuse =
        |ja: &'static str, en: &'static str| DomainError::invalid("name", "ファイル名", ja, en);
    if v.is_empty() || v == "." || v == ".." {
        return Err(refuse("ファイル名を指定してください。", "is required."));
    }
    if v.chars().count() > 200 {
        return Err(refuse(
            "ファイル名は200文字以内にしてください。",
            "must be at most 200 characters.",
        ));
    }
    if v.chars().any(|c| c == '/' || c == '\\' || hidden(c)) {
        return Err(refuse(
            "ファイル名に、区切り文字（/ \\）、制御文字、文字の向きを変える文字は使えません。",
            "must not contain / or \\, control characters or text-direction overrides.",
        ));
    }
    Ok(v.to_owned())
}

/// A control character or an invisible character that changes the direction of the text
/// around it: never wanted in a name someone else reads.
pub(crate) fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

pub fn parse_talk_name(raw: &str) -> Result<String, DomainError> {
    text("name", "トーク名", raw, 50)
}

/// A job title (職名), optional.
pub fn parse_title(raw: &str) -> Result<Option<String>, DomainError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    text("title", "職名", raw, 40).map(Some)
}

#[cfg(test)]
mod file_name_tests {
    use super::parse_file_name;

    #[test]
    fn file_names_are_plain_names() {
        assert_eq!(
            parse_file_name(" 窓口当番表.xlsx ").unwrap(),
            "窓口当番表.xlsx"
        );
        for bad in [
            "",
            "..",
            "../../etc/passwd",
            "a\\b.txt",
            "請求書\u{202E}fdp.exe",
            "line\nbreak.txt",
            "nul\0.txt",
        ] {
            assert!(parse_file_name(bad).is_err(), "{bad:?}");
        }
        assert!(parse_file_name(&"あ".repeat(201)).is_err());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_ids_are_lower_cased_and_limited_to_safe_characters() {
        assert_eq!(
            LoginId::parse(" Hanako.Sato ").map(|l| l.0),
            Ok("hanako.sato".into())
        );
        assert!(LoginId::parse("ab").is_err());
        assert!(LoginId::parse(".hidden").is_err());
        assert!(LoginId::parse("佐藤").is_err());
        assert!(LoginId::parse("a b c").is_err());
        assert!(LoginId::parse("<script>").is_err());
    }

    #[test]
    fn hiragana_readings_are_stored_as_katakana() {
        assert_eq!(
            Kana::parse("さとう はなこ").map(|k| k.0),
            Ok("サトウ　ハナコ".into())
        );
        assert!(Kana::parse("Sato").is_err());
    }

    #[test]
    fn names_refuse_control_characters_and_overlong_input() {
        assert!(PersonName::parse("佐藤\u{0}花子").is_err());
        assert!(PersonName::parse(&"あ".repeat(51)).is_err());
        assert_eq!(
            PersonName::parse(&"あ".repeat(50)).map(|n| n.0.chars().count()),
            Ok(50)
        );
        assert!(PersonName::parse("   ").is_err());
    }

    #[test]
    fn message_bodies_keep_line_breaks_and_refuse_blank_or_oversized_text() {
        assert_eq!(
            MessageBody::parse("一行目\r\n二行目\n").map(|b| b.0),
            Ok("一行目\n二行目".into())
        );
        assert!(MessageBody::parse(" \n\t ").is_err());
        assert!(MessageBody::parse(&"あ".repeat(4001)).is_err());
        assert!(MessageBody::parse(&"あ".repeat(4000)).is_ok());
        assert!(MessageBody::parse("bell\u{7}").is_err());
        assert_eq!(
            MessageBody::parse("  indented").map(|b| b.0),
            Ok("  indented".into())
        );
    }

    #[test]
    fn org_codes_are_short_lower_case_slugs() {
        assert!(OrgCode::parse("sakuragawa-town").is_ok());
        assert!(OrgCode::parse("-x").is_err());
        assert!(OrgCode::parse("桜川町").is_err());
    }
}
