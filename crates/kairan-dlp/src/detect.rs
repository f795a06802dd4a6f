//! The scanning engine: a single left-to-right pass over normalized characters that
//! dispatches on digits, Latin letters, `@`, `(`, `+` and a few CJK trigger characters,
//! then validates each candidate (shape, check digit, context words) on the spot.
//!
//! Candidates are recognised by hand-written scanners rather than regular expressions
//! so that text without triggers costs one comparison per character.

use crate::checksum::{corporate_number_valid, luhn_valid, my_number_valid};
use crate::context as cx;
use crate::{Finding, Kind, Scanner};

const MAX_GROUPS: usize = 8;
const MAX_DIGITS: usize = 24;

/// Characters that, right after a number, make it a quantity, a date part or a serial
/// rather than an identifier (1,234円, 総第1234号, 305号室, 3名).
const UNIT_SUFFIX: &[char] = &[
    '円', '万', '億', '千', '百', '件', '名', '人', '個', '枚', '台', '回', '歳', '号', '時', '分',
    '秒', '倍', '点', '位', '冊', '年', '月', '日', '週', '度', '番', '部', '階', '室', '％', '行',
    '頁', '期', '条', '項', '本', '缶', '箱', '社', '校', '課', '係', '班', '周', '票', '席',
];

/// Characters right before a number that make it an amount, a version, a serial or a
/// continuation of a longer code.
const REJECT_PREFIX: &[char] = &[
    '.', ',', '/', '-', '_', '@', '#', '$', '¥', '\\', '№', '%', '&', '=', '第', '*', '^', '~',
];

/// 都道府県, used to anchor the start of an address.
const PREFECTURES: &[&str] = &[
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// Returns the length in chars of the prefecture name starting at `i`, if any.
pub(crate) fn prefecture_at(c: &[char], i: usize) -> Option<usize> {
    // Every name is 3 or 4 chars ending in 都道府県; checking that first skips the list.
    let ends =
        matches!(c.get(i + 2), Some('都' | '道' | '府' | '県')) || c.get(i + 3) == Some(&'県');
    if !ends {
        return None;
    }
    PREFECTURES
        .iter()
        .find(|p| cx::matches_at(c, i, p))
        .map(|p| p.chars().count())
}

/// Municipality markers; the following character rules out common words such as
/// 市場, 区分, 町内 that are not place names.
fn is_muni_marker(c: &[char], m: usize) -> bool {
    let Some(&x) = c.get(m) else { return false };
    if !matches!(x, '市' | '区' | '町' | '村' | '郡') {
        return false;
    }
    !matches!(
        c.get(m + 1),
        Some(
            '場' | '民'
                | '長'
                | '役'
                | '内'
                | '販'
                | '況'
                | '外'
                | '分'
                | '別'
                | '間'
                | '切'
                | '域'
                | '画'
                | '議'
                | '会'
                | '政'
                | '立'
                | '営'
                | '税'
                | '街'
                | '制'
                | '史'
                | '費'
        )
    )
}

#[inline]
pub(crate) fn is_kanji(x: char) -> bool {
    matches!(x, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' | '〆' | 'ヶ' | 'ヵ')
}

#[inline]
fn is_kana(x: char) -> bool {
    matches!(x, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}')
}

#[inline]
fn is_kanji_numeral(x: char) -> bool {
    matches!(
        x,
        '一' | '二' | '三' | '四' | '五' | '六' | '七' | '八' | '九' | '十' | '〇' | '百'
    )
}

#[inline]
fn digit(c: &[char], i: usize) -> bool {
    c.get(i).is_some_and(|x| x.is_ascii_digit())
}

/// A run of digit groups joined by single separators, e.g. `090-1234-5678`.
struct Token {
    start: usize,
    end: usize,
    lens: [u8; MAX_GROUPS],
    n: usize,
    digits: [u8; MAX_DIGITS],
    nd: usize,
    hyphen: bool,
    space: bool,
    other_sep: bool,
    paren: bool,
    paren_closed: bool,
    plus: bool,
}

impl Token {
    fn overflow(&self) -> bool {
        self.n > MAX_GROUPS || self.nd > MAX_DIGITS
    }
    fn d(&self) -> &[u8] {
        &self.digits[..self.nd.min(MAX_DIGITS)]
    }
    fn g(&self) -> &[u8] {
        &self.lens[..self.n.min(MAX_GROUPS)]
    }
    /// Plain digits, or groups joined by one kind of separator (all `-` or all spaces).
    fn id_shaped(&self, groups: &[u8]) -> bool {
        if self.paren || self.plus || self.other_sep {
            return false;
        }
        if self.n == 1 {
            return true;
        }
        self.hyphen != self.space && self.g() == groups
    }
}

fn parse_token(c: &[char], i: usize) -> Token {
    let mut t = Token {
        start: i,
        end: i,
        lens: [0; MAX_GROUPS],
        n: 0,
        digits: [0; MAX_DIGITS],
        nd: 0,
        hyphen: false,
        space: false,
        other_sep: false,
        paren: false,
        paren_closed: false,
        plus: false,
    };
    let mut p = i;
    match c.get(p) {
        Some('+') => {
            t.plus = true;
            p += 1;
        }
        Some('(') => {
            t.paren = true;
            p += 1;
        }
        _ => {}
    }
    loop {
        let gs = p;
        while let Some(x) = c.get(p).filter(|x| x.is_ascii_digit()) {
            if t.nd < MAX_DIGITS {
                t.digits[t.nd] = *x as u8 - b'0';
            }
            t.nd += 1;
            p += 1;
        }
        if p == gs {
            break;
        }
        if t.n < MAX_GROUPS {
            t.lens[t.n] = (p - gs).min(255) as u8;
        }
        t.n += 1;
        t.end = p;
        if t.paren && t.n == 1 {
            if c.get(p) == Some(&')') {
                let mut q = p + 1;
                if c.get(q) == Some(&' ') {
                    q += 1;
                }
                if digit(c, q) {
                    t.paren_closed = true;
                    p = q;
                    continue;
                }
            }
            break;
        }
        match c.get(p) {
            Some(&s) if matches!(s, '-' | ' ' | '.' | '/' | ',') && digit(c, p + 1) => {
                match s {
                    '-' => t.hyphen = true,
                    ' ' => t.space = true,
                    _ => t.other_sep = true,
                }
                p += 1;
            }
            _ => break,
        }
    }
    t
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Plain,
    Tel,
    T,
    Reject,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PhoneShape {
    Structured,
    UnsplitMobile,
    UnsplitFixed,
}

fn phone_shape(t: &Token) -> Option<PhoneShape> {
    if t.other_sep || (t.paren && !t.paren_closed) {
        return None;
    }
    let d = t.d();
    let g = t.g();
    let mut nat = [0u8; MAX_DIGITS];
    let mut lens = [0u8; MAX_GROUPS];
    let (nl, gl);
    if t.plus {
        // +81 drops the trunk prefix 0 of the national number.
        if d.len() < 4 || d[0] != 8 || d[1] != 1 || d[2] == 0 {
            return None;
        }
        nat[1..d.len() - 1].copy_from_slice(&d[2..]);
        nl = d.len() - 1;
        if g.len() == 1 {
            lens[0] = nl as u8;
            gl = 1;
        } else {
            if g[0] != 2 {
                return None;
            }
            lens[..g.len() - 1].copy_from_slice(&g[1..]);
            lens[0] += 1;
            gl = g.len() - 1;
        }
    } else {
        nat[..d.len()].copy_from_slice(d);
        nl = d.len();
        lens[..g.len()].copy_from_slice(g);
        gl = g.len();
    }
    let nat = &nat[..nl];
    let lens = &lens[..gl];
    if nl < 10 || nat[0] != 0 {
        return None;
    }
    let mobile = nl == 11 && matches!(nat[1], 2 | 5 | 7 | 8 | 9) && nat[2] == 0;
    if gl == 1 {
        if t.plus && (mobile || (nl == 10 && nat[1] != 0)) {
            return Some(PhoneShape::Structured);
        }
        if mobile {
            return Some(PhoneShape::UnsplitMobile);
        }
        if nl == 10 && nat[1] != 0 {
            return Some(PhoneShape::UnsplitFixed);
        }
        return None;
    }
    if gl != 3 {
        return None;
    }
    if mobile && lens == [3, 4, 4] && !t.paren {
        return Some(PhoneShape::Structured);
    }
    let head = &nat[..4];
    if matches!(head, [0, 1, 2, 0] | [0, 5, 7, 0] | [0, 9, 9, 0]) && lens == [4, 3, 3] {
        return Some(PhoneShape::Structured);
    }
    if head == [0, 8, 0, 0] && lens == [4, 3, 4] {
        return Some(PhoneShape::Structured);
    }
    let area = usize::from(lens[0]);
    if nl == 10
        && nat[1] != 0
        && (2..=5).contains(&area)
        && area + usize::from(lens[1]) == 6
        && lens[2] == 4
    {
        return Some(PhoneShape::Structured);
    }
    None
}

pub(crate) struct Engine<'a> {
    c: &'a [char],
    off: &'a [usize],
    sc: &'a Scanner,
    pub(crate) out: Vec<Finding>,
    last_date_end: usize,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(c: &'a [char], off: &'a [usize], sc: &'a Scanner) -> Self {
        Engine {
            c,
            off,
            sc,
            out: Vec::new(),
            last_date_end: 0,
        }
    }

    fn emit(&mut self, kind: Kind, s: usize, e: usize, score: f32, context: bool) {
        if !self.sc.enabled[kind.index()] || score < self.sc.min_score || s >= e {
            return;
        }
        let (Some(&start), Some(&end)) = (self.off.get(s), self.off.get(e)) else {
            return;
        };
        self.out.push(Finding {
            kind,
            start,
            end,
            score,
            context,
        });
    }

    fn near(&self, s: usize, e: usize, words: &[&str]) -> bool {
        cx::near(self.c, s, e, self.sc.window, words)
    }

    pub(crate) fn run(&mut self) {
        let c = self.c;
        let n = c.len();
        let mut i = 0;
        while i < n {
            let ch = c[i];
            if self.sc.may_start_keyword(ch)
                && let Some(end) = self.keyword(i)
            {
                i = end;
                continue;
            }
            let next = if ch.is_ascii_digit() {
                self.at_digit(i)
            } else if ch.is_ascii_alphabetic() {
                self.at_letter(i)
            } else if ch == '@' {
                self.at_at(i)
            } else if ch == '(' {
                self.at_paren(i)
            } else if ch == '+' {
                self.at_plus(i)
            } else if (ch as u32) >= 0x3000 {
                self.at_cjk(i)
            } else {
                i + 1
            };
            i = next.max(i + 1);
        }
    }

    fn prev_alnum(&self, i: usize) -> bool {
        i > 0 && self.c[i - 1].is_ascii_alphanumeric()
    }

    fn at_paren(&mut self, i: usize) -> usize {
        if self.prev_alnum(i) || self.c.get(i + 1) != Some(&'0') {
            return i + 1;
        }
        let t = parse_token(self.c, i);
        if !t.paren_closed {
            return i + 1;
        }
        self.classify(&t, Prefix::Plain)
    }

    fn at_plus(&mut self, i: usize) -> usize {
        if self.prev_alnum(i) || !cx::matches_at(self.c, i + 1, "81") {
            return i + 1;
        }
        let t = parse_token(self.c, i);
        self.classify(&t, Prefix::Plain)
    }

    fn at_digit(&mut self, i: usize) -> usize {
        if let Some(end) = self.western_date(i) {
            return end;
        }
        let t = parse_token(self.c, i);
        if let Some(end) = self.address_from_token(&t) {
            return end;
        }
        let prefix = self.prefix(i);
        self.classify(&t, prefix)
    }

    /// Classifies what stands right before a number starting at `s`.
    fn prefix(&self, s: usize) -> Prefix {
        let c = self.c;
        if s == 0 {
            return Prefix::Plain;
        }
        let p = c[s - 1];
        if p.is_ascii_alphabetic() {
            let mut j = s - 1;
            while j > 0 && c[j - 1].is_ascii_alphabetic() {
                j -= 1;
            }
            if j > 0 && c[j - 1].is_ascii_digit() {
                return Prefix::Reject;
            }
            let w: String = c[j..s].iter().map(|x| x.to_ascii_lowercase()).collect();
            return match w.as_str() {
                "tel" | "fax" | "phone" | "mobile" => Prefix::Tel,
                "t" => Prefix::T,
                _ => Prefix::Reject,
            };
        }
        if REJECT_PREFIX.contains(&p) || (p == ':' && s >= 2 && c[s - 2].is_ascii_digit()) {
            return Prefix::Reject;
        }
        Prefix::Plain
    }

    fn suffix_ok(&self, e: usize) -> bool {
        let c = self.c;
        let Some(&x) = c.get(e) else { return true };
        if x.is_ascii_alphanumeric() || matches!(x, '@' | '_' | '%' | '¥') {
            return false;
        }
        if matches!(x, ':' | '.' | '-' | '/' | ',')
            && c.get(e + 1).is_some_and(|y| y.is_ascii_alphanumeric())
        {
            return false;
        }
        !UNIT_SUFFIX.contains(&x)
    }

    /// Decides what a numeric token is; returns where scanning resumes.
    fn classify(&mut self, t: &Token, prefix: Prefix) -> usize {
        let (s, e) = (t.start, t.end);
        if t.overflow() || prefix == Prefix::Reject || !self.suffix_ok(e) {
            return e;
        }
        let c = self.c;
        let d = t.d();
        if prefix == Prefix::T {
            if t.nd == 13 && t.n == 1 && corporate_number_valid(d) {
                let ctx = self.near(s, e, cx::CORPORATE);
                self.emit(
                    Kind::CorporateNumber,
                    s - 1,
                    e,
                    if ctx { 0.95 } else { 0.8 },
                    ctx,
                );
            }
            return e;
        }
        if cx::before(c, s, 12, cx::ISBN) {
            return e;
        }
        if t.nd == 12 && t.id_shaped(&[4, 4, 4]) {
            let license = self.near(s, e, cx::LICENSE);
            let valid = my_number_valid(d);
            if valid && (!license || self.near(s, e, cx::MY_NUMBER_STRONG)) {
                let ctx = self.near(s, e, cx::MY_NUMBER);
                self.emit(Kind::MyNumber, s, e, if ctx { 0.95 } else { 0.4 }, ctx);
            } else if license {
                self.emit(Kind::DriversLicenseNumber, s, e, 0.9, true);
            }
            return e;
        }
        if t.nd == 13 && t.id_shaped(&[1, 4, 4, 4]) {
            if corporate_number_valid(d) {
                let ctx = self.near(s, e, cx::CORPORATE);
                self.emit(
                    Kind::CorporateNumber,
                    s,
                    e,
                    if ctx { 0.95 } else { 0.45 },
                    ctx,
                );
            }
            return e;
        }
        if t.nd == 11 && t.n == 1 && !t.plus && self.near(s, e, cx::RESIDENT_RECORD) {
            self.emit(Kind::ResidentRecordCode, s, e, 0.9, true);
            return e;
        }
        if t.nd == 10 && t.id_shaped(&[4, 6]) && self.near(s, e, cx::PENSION) {
            self.emit(Kind::BasicPensionNumber, s, e, 0.9, true);
            return e;
        }
        if let Some(shape) = phone_shape(t) {
            if cx::before(c, s, 4, cx::EXTENSION) {
                return e;
            }
            let ctx = prefix == Prefix::Tel || self.near(s, e, cx::PHONE);
            match shape {
                PhoneShape::Structured => {
                    self.emit(Kind::PhoneNumber, s, e, if ctx { 0.95 } else { 0.85 }, ctx)
                }
                PhoneShape::UnsplitMobile => {
                    self.emit(Kind::PhoneNumber, s, e, if ctx { 0.9 } else { 0.6 }, ctx)
                }
                PhoneShape::UnsplitFixed if ctx => self.emit(Kind::PhoneNumber, s, e, 0.8, ctx),
                PhoneShape::UnsplitFixed => {}
            }
            return e;
        }
        if t.nd == 7 && t.id_shaped(&[3, 4]) && !t.space {
            let mut q = s;
            while q > 0 && c[q - 1] == ' ' {
                q -= 1;
            }
            if q > 0 && c[q - 1] == '〒' {
                self.emit(Kind::PostalCode, q - 1, e, 0.95, true);
            } else if t.n == 2 && self.near(s, e, cx::POSTAL) {
                self.emit(Kind::PostalCode, s, e, 0.85, true);
            } else if t.n == 1 && cx::before(c, s, self.sc.window, cx::BANK) {
                self.emit(Kind::BankAccount, s, e, 0.85, true);
            }
            return e;
        }
        if (14..=19).contains(&t.nd) && matches!(d[0], 2..=6) {
            let shaped = t.n == 1
                || [
                    &[4u8, 4, 4, 4][..],
                    &[4, 6, 4],
                    &[4, 6, 5],
                    &[4, 4, 4, 4, 3],
                    &[4, 4, 4, 2],
                    &[4, 4, 4, 3],
                ]
                .iter()
                .any(|g| t.id_shaped(g));
            if shaped && luhn_valid(d) {
                let ctx = self.near(s, e, cx::CARD);
                self.emit(Kind::CreditCard, s, e, if ctx { 0.95 } else { 0.8 }, ctx);
            }
        }
        e
    }

    // ----- dates -------------------------------------------------------------------

    /// Reads 1..=max digits at `p`; returns (value, end) when followed by a non-digit.
    fn read_num(&self, p: usize, max: usize) -> Option<(u32, usize)> {
        let c = self.c;
        let mut q = p;
        let mut v: u32 = 0;
        while digit(c, q) && q - p < max {
            v = v * 10 + (c[q] as u32 - '0' as u32);
            q += 1;
        }
        if q == p || digit(c, q) {
            return None;
        }
        Some((v, q))
    }

    fn skip_space(&self, p: usize) -> usize {
        if self.c.get(p) == Some(&' ') {
            p + 1
        } else {
            p
        }
    }

    /// Parses `Y年M月D日` or `Y<sep>M<sep>D` from `p` after the year has been read.
    fn month_day(&self, p: usize) -> Option<usize> {
        let c = self.c;
        let sep = *c.get(p)?;
        let (m, d, end) = if sep == '年' {
            let (m, q) = self.read_num(self.skip_space(p + 1), 2)?;
            if c.get(q) != Some(&'月') {
                return None;
            }
            let (d, q) = self.read_num(self.skip_space(q + 1), 2)?;
            if c.get(q) != Some(&'日') {
                return None;
            }
            (m, d, q + 1)
        } else if matches!(sep, '/' | '-' | '.') {
            let (m, q) = self.read_num(p + 1, 2)?;
            if c.get(q) != Some(&sep) {
                return None;
            }
            let (d, q) = self.read_num(q + 1, 2)?;
            if c.get(q)
                .is_some_and(|x| x.is_ascii_alphanumeric() || *x == sep)
            {
                return None;
            }
            (m, d, q)
        } else {
            return None;
        };
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(end)
    }

    fn western_date(&mut self, i: usize) -> Option<usize> {
        let (y, q) = self.read_num(i, 4)?;
        if q - i != 4 || !(1868..=2100).contains(&y) {
            return None;
        }
        let end = self.month_day(q)?;
        self.date_found(i, end);
        Some(end)
    }

    /// 明治/大正/昭和/平成/令和 followed by a year (digits or 元).
    fn era_date(&mut self, i: usize) -> Option<usize> {
        let c = self.c;
        let max = match (c.get(i), c.get(i + 1)) {
            (Some('明'), Some('治')) => 45,
            (Some('大'), Some('正')) => 15,
            (Some('昭'), Some('和')) => 64,
            (Some('平'), Some('成')) => 31,
            (Some('令'), Some('和')) => 99,
            _ => return None,
        };
        self.era_year(i, self.skip_space(i + 2), max)
    }

    fn era_year(&mut self, s: usize, p: usize, max: u32) -> Option<usize> {
        let (y, q) = if self.c.get(p) == Some(&'元') {
            (1, p + 1)
        } else {
            self.read_num(p, 2)?
        };
        if !(1..=max).contains(&y) {
            return None;
        }
        let end = self.month_day(q)?;
        self.date_found(s, end);
        Some(end)
    }

    fn date_found(&mut self, s: usize, e: usize) {
        let c = self.c;
        let mut from = s.saturating_sub(self.sc.window).max(self.last_date_end);
        // A birth label in an earlier sentence or line does not describe this date.
        if let Some(k) = (from..s).rev().find(|&k| matches!(c[k], '。' | '\n')) {
            from = k + 1;
        }
        self.last_date_end = e;
        if cx::any_word_in(c, e, e + 3, cx::NOT_BIRTH_AFTER) {
            return;
        }
        let before = cx::any_word_in(c, from, s, cx::BIRTH);
        let after = cx::any_word_in(c, e, e + 2, cx::BIRTH_AFTER);
        if before || after {
            self.emit(Kind::BirthDate, s, e, 0.9, true);
        }
    }

    // ----- Latin-letter led tokens -----------------------------------------------

    fn at_letter(&mut self, i: usize) -> usize {
        let c = self.c;
        let n = c.len();
        let run = |mut p: usize, f: fn(&char) -> bool| {
            while p < n && f(&c[p]) {
                p += 1;
            }
            p
        };
        let j = run(i, char::is_ascii_alphabetic);
        let k = run(j, char::is_ascii_digit);
        let m = run(k, char::is_ascii_alphabetic);
        let end = run(m, char::is_ascii_alphanumeric);
        let prev_ok = i == 0 || !matches!(c[i - 1], '_' | '.' | '-' | '@' | '/');
        let (letters, digits, tail) = (j - i, k - j, m - k);
        if digits == 0 || !prev_ok {
            return end;
        }
        if letters == 1 && tail == 0 && digits <= 2 && end == k {
            // S60.4.1, H1/1/8: the initial of 明治/大正/昭和/平成/令和.
            let max = match c[i] {
                'M' => 45,
                'T' => 15,
                'S' => 64,
                'H' => 31,
                'R' => 99,
                _ => 0,
            };
            if max > 0
                && let Some(e) = self.era_year(i, j, max)
            {
                return e;
            }
        }
        let word: String = c[i..j].iter().map(|x| x.to_ascii_lowercase()).collect();
        if matches!(word.as_str(), "tel" | "fax" | "phone" | "mobile" | "t") {
            let t = parse_token(c, j);
            let prefix = self.prefix(j);
            return self.classify(&t, prefix).max(end);
        }
        let upper = |a: usize, b: usize| c[a..b].iter().all(char::is_ascii_uppercase);
        let after_ok = !c.get(end).is_some_and(|x| {
            matches!(x, '@' | '_' | '-' | '.')
                && c.get(end + 1).is_some_and(char::is_ascii_alphanumeric)
        });
        if letters == 2
            && digits == 8
            && tail == 2
            && end == m
            && upper(i, j)
            && upper(k, m)
            && after_ok
        {
            let ctx = self.near(i, end, cx::RESIDENCE_CARD);
            self.emit(
                Kind::ResidenceCardNumber,
                i,
                end,
                if ctx { 0.95 } else { 0.75 },
                ctx,
            );
            return end;
        }
        if letters == 2 && digits == 7 && tail == 0 && end == k && upper(i, j) && after_ok {
            if self.near(i, end, cx::PASSPORT) {
                self.emit(Kind::PassportNumber, i, end, 0.9, true);
            }
            return end;
        }
        end
    }

    // ----- e-mail ---------------------------------------------------------------

    fn at_at(&mut self, i: usize) -> usize {
        let c = self.c;
        let local = |x: char| x.is_ascii_alphanumeric() || matches!(x, '.' | '_' | '%' | '+' | '-');
        let mut s = i;
        while s > 0 && local(c[s - 1]) {
            s -= 1;
        }
        while s < i && c[s] == '.' {
            s += 1;
        }
        if s == i {
            return i + 1;
        }
        let mut p = i + 1;
        let mut labels = 0;
        let mut last = (p, p);
        loop {
            let ls = p;
            while p < c.len() && (c[p].is_ascii_alphanumeric() || c[p] == '-') {
                p += 1;
            }
            if p == ls {
                break;
            }
            labels += 1;
            last = (ls, p);
            if c.get(p) == Some(&'.') && c.get(p + 1).is_some_and(char::is_ascii_alphanumeric) {
                p += 1;
            } else {
                break;
            }
        }
        let tld_ok =
            last.1 - last.0 >= 2 && c[last.0..last.1].iter().all(char::is_ascii_alphabetic);
        if labels < 2 || !tld_ok {
            return i + 1;
        }
        self.emit(Kind::Email, s, last.1, 0.95, false);
        last.1
    }

    // ----- CJK triggers: eras, kanji-numeral addresses ---------------------------

    fn at_cjk(&mut self, i: usize) -> usize {
        let c = self.c;
        let ch = c[i];
        if matches!(ch, '明' | '大' | '昭' | '平' | '令')
            && let Some(end) = self.era_date(i)
        {
            return end;
        }
        if ch == '丁' && c.get(i + 1) == Some(&'目') {
            let mut j = i;
            while j > 0 && is_kanji_numeral(c[j - 1]) {
                j -= 1;
            }
            if j < i
                && let Some(end) = self.try_address(j)
            {
                return end;
            }
        }
        i + 1
    }

    fn keyword(&mut self, i: usize) -> Option<usize> {
        let c = self.c;
        let sc = self.sc;
        for kw in &sc.keywords {
            let len = kw.len();
            if kw.first() != Some(&c[i]) || c.get(i..i + len) != Some(&kw[..]) {
                continue;
            }
            if len == 1 {
                // A lone 秘 is a stamp only when it stands apart: 【秘】, (秘), not 秘書 or 黙秘.
                let word = |x: &char| is_kanji(*x) || is_kana(*x);
                if (i > 0 && word(&c[i - 1])) || c.get(i + 1).is_some_and(word) {
                    continue;
                }
            }
            if cx::NOT_KEYWORD_AFTER
                .iter()
                .any(|w| cx::matches_at(c, i + len, w))
            {
                continue;
            }
            self.emit(Kind::Keyword, i, i + len, 0.8, false);
            return Some(i + len);
        }
        None
    }

    // ----- addresses -----------------------------------------------------------

    fn address_from_token(&mut self, t: &Token) -> Option<usize> {
        if t.plus || t.paren || t.overflow() || t.d().first() == Some(&0) {
            return None;
        }
        let suffix = matches!(self.c.get(t.end), Some('番' | '丁' | '号' | 'の'));
        let dashed = (2..=4).contains(&t.n)
            && t.hyphen
            && !t.space
            && !t.other_sep
            && t.g().iter().all(|&l| l <= 4);
        if !suffix && !dashed {
            return None;
        }
        if dashed && !suffix && phone_shape(t).is_some() {
            return None;
        }
        self.try_address(t.start)
    }

    /// Reads one block number (ASCII digits or kanji numerals) at `p`.
    fn block_number(&self, p: usize) -> usize {
        let c = self.c;
        let mut q = p;
        if digit(c, q) {
            while digit(c, q) && q - p < 5 {
                q += 1;
            }
        } else {
            while c.get(q).is_some_and(|x| is_kanji_numeral(*x)) && q - p < 4 {
                q += 1;
            }
        }
        q
    }

    /// Parses block numbers such as `1-2-3`, `72番地`, `一丁目2番3号` starting at `pos`.
    fn address_tail(&self, pos: usize) -> Option<usize> {
        let c = self.c;
        let mut p = pos;
        let mut numbers = 0;
        let mut marked = false;
        let mut end = pos;
        loop {
            let q = self.block_number(p);
            if q == p {
                break;
            }
            numbers += 1;
            p = q;
            end = p;
            let mut chained = false;
            if cx::matches_at(c, p, "丁目") || cx::matches_at(c, p, "番地") {
                p += 2;
                marked = true;
                chained = true;
                end = p;
            } else if c.get(p) == Some(&'番') && c.get(p + 1) != Some(&'目') {
                p += 1;
                marked = true;
                chained = true;
                end = p;
            } else if c.get(p) == Some(&'号')
                && !matches!(
                    c.get(p + 1),
                    Some('室' | '館' | '機' | '車' | '線' | '棟' | '議')
                )
            {
                marked = true;
                end = p + 1;
                break;
            }
            match c.get(p) {
                Some('-' | 'の') if self.block_number(p + 1) > p + 1 => p += 1,
                _ if chained && self.block_number(p) > p => {}
                _ => break,
            }
        }
        if numbers == 0 || (!marked && numbers < 2) {
            return None;
        }
        // A trailing digit or letter means this was part of a longer code, and a unit
        // (2-3名, 1-2件) means a quantity range, not block numbers.
        if c.get(end)
            .is_some_and(|x| x.is_ascii_alphanumeric() || UNIT_SUFFIX.contains(x))
        {
            return None;
        }
        Some(end)
    }

    /// Finds where the place name before the block numbers at `pos` starts.
    fn address_head(&self, pos: usize) -> Option<usize> {
        let c = self.c;
        let mut p = pos;
        if p > 0 && c[p - 1] == ' ' {
            p -= 1;
        }
        // Block numbers follow the place name directly; after a particle (渋谷区で2-3) the
        // number belongs to the sentence, not to the address.
        if p > 0
            && matches!(
                c[p - 1],
                'で' | 'に' | 'は' | 'を' | 'が' | 'と' | 'も' | 'の' | 'へ' | 'や'
            )
        {
            return None;
        }
        let limit = p.saturating_sub(24);
        let mut j = p;
        // Digits may sit inside the place name (札幌市中央区北1条西2丁目).
        while j > limit && (is_kanji(c[j - 1]) || is_kana(c[j - 1]) || c[j - 1].is_ascii_digit()) {
            j -= 1;
        }
        if j == p {
            return None;
        }
        if let Some(q) = (j..p).find(|&q| prefecture_at(c, q).is_some_and(|l| q + l < p)) {
            return Some(q);
        }
        let m = (j + 1..p).find(|&m| is_muni_marker(c, m))?;
        let lim = m.saturating_sub(4).max(j);
        let mut s = m;
        while s > lim && is_kanji(c[s - 1]) && !matches!(c[s - 1], '所' | '住' | '先' | '地') {
            s -= 1;
        }
        (s < m).then_some(s)
    }

    fn try_address(&mut self, pos: usize) -> Option<usize> {
        let end = self.address_tail(pos)?;
        let start = self.address_head(pos)?;
        let ctx = self.near(start, end, cx::ADDRESS);
        self.emit(
            Kind::Address,
            start,
            end,
            if ctx { 0.95 } else { 0.85 },
            ctx,
        );
        Some(end)
    }
}

/// Keeps findings sorted by start and drops overlaps, preferring the higher score and
/// then the longer span.
pub(crate) fn resolve_overlaps(mut v: Vec<Finding>) -> Vec<Finding> {
    v.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(v.len());
    for f in v {
        match out.last_mut() {
            Some(last) if f.start < last.end => {
                let better = f.score > last.score
                    || (f.score == last.score && f.end - f.start > last.end - last.start);
                if better {
                    *last = f;
                }
            }
            _ => out.push(f),
        }
    }
    out
}
