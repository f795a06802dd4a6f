//! Context word lists and the helpers that look for them around a candidate.
//!
//! Words are stored lower-case; Latin text in the input is compared case-insensitively
//! (after full-width folding by the normalizer), Japanese text exactly.

pub(crate) const MY_NUMBER: &[&str] = &[
    "個人番号",
    "マイナンバー",
    "番号",
    "申請者",
    "通知カード",
    "本人確認",
    "mynumber",
    "my number",
];
/// Words that point at My Number specifically, used to break ties with 免許証.
pub(crate) const MY_NUMBER_STRONG: &[&str] = &["個人番号", "マイナンバー", "mynumber", "my number"];
pub(crate) const CORPORATE: &[&str] = &["法人番号", "登録番号", "インボイス", "適格請求書", "法人"];
pub(crate) const RESIDENT_RECORD: &[&str] = &["住民票コード", "住民票のコード"];
pub(crate) const PENSION: &[&str] = &["基礎年金番号", "年金番号", "年金手帳"];
pub(crate) const RESIDENCE_CARD: &[&str] = &["在留カード", "在留"];
pub(crate) const PHONE: &[&str] = &[
    "電話",
    "tel",
    "携帯",
    "連絡先",
    "fax",
    "ファクス",
    "ファックス",
    "phone",
];
pub(crate) const EXTENSION: &[&str] = &["内線"];
pub(crate) const POSTAL: &[&str] = &["〒", "郵便番号", "住所", "所在地", "送付先"];
pub(crate) const ADDRESS: &[&str] = &["住所", "所在地", "居所", "本籍", "送付先"];
pub(crate) const BIRTH: &[&str] = &[
    "生年月日",
    "生まれ",
    "誕生日",
    "出生",
    "生年",
    "dob",
    "d.o.b",
    "birth",
];
/// Words right after a date that confirm it is a birth date (1985年4月1日生).
pub(crate) const BIRTH_AFTER: &[&str] = &["生まれ", "生", "出生", "誕生"];
/// Words right after a date that make it a deadline or an event, never a birth date.
pub(crate) const NOT_BIRTH_AFTER: &[&str] =
    &["まで", "締切", "〆切", "期限", "開催", "予定", "から"];
/// Words right after a keyword that turn it into the name of a property: 機密性 is the
/// classification axis itself, not a stamp on the text.
pub(crate) const NOT_KEYWORD_AFTER: &[&str] = &["性"];
pub(crate) const BANK: &[&str] = &["普通", "当座", "口座番号", "口座", "支店", "預金"];
pub(crate) const CARD: &[&str] = &[
    "カード",
    "クレジット",
    "card",
    "visa",
    "master",
    "jcb",
    "amex",
    "有効期限",
];
pub(crate) const PASSPORT: &[&str] = &["旅券", "パスポート", "passport"];
pub(crate) const LICENSE: &[&str] = &["免許証", "運転免許", "免許"];
pub(crate) const ISBN: &[&str] = &["isbn", "issn"];

/// True if `word` occurs in `c` starting at `i`.
#[inline]
pub(crate) fn matches_at(c: &[char], i: usize, word: &str) -> bool {
    let mut k = i;
    for w in word.chars() {
        match c.get(k) {
            Some(x) if x.to_ascii_lowercase() == w => k += 1,
            _ => return false,
        }
    }
    true
}

/// True if any word starts at a position in `from..to` (clamped to the text).
pub(crate) fn any_word_in(c: &[char], from: usize, to: usize, words: &[&str]) -> bool {
    let to = to.min(c.len());
    // `matches_at` bails out on the first char; a `str::starts_with(char)` pre-check
    // would call memcmp, which dominated profiles of dense text.
    (from..to).any(|p| words.iter().any(|w| matches_at(c, p, w)))
}

/// True if a word appears within `window` characters before `start` or within
/// `window / 2` characters after `end`.
pub(crate) fn near(c: &[char], start: usize, end: usize, window: usize, words: &[&str]) -> bool {
    // Labels usually precede the value, so the look-ahead is kept shorter to avoid
    // borrowing the label of the next field in a form-like message.
    before(c, start, window, words) || any_word_in(c, end, end + window / 2, words)
}

/// True if a word appears within `window` characters before `start`.
pub(crate) fn before(c: &[char], start: usize, window: usize, words: &[&str]) -> bool {
    any_word_in(c, start.saturating_sub(window), start, words)
}
