//! Generated messages: 10,000 ordinary business messages built from templates with
//! random amounts, dates, times, extensions and document numbers must raise no finding,
//! and generated sensitive values (valid My Numbers, Luhn-valid cards, phones …) must be
//! found with exact spans.

use kairan_dlp::{Kind, Scanner, corporate_check_digit, my_number_check_digit};

/// xorshift64*: deterministic, dependency-free randomness for reproducible tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | 'a'..='z' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            '-' => '－',
            _ => c,
        })
        .collect()
}

fn comma(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn amount(r: &mut Rng) -> String {
    let n = r.range(1, 9_999_999_999);
    match r.below(6) {
        0 => format!("{}円", comma(n)),
        1 => format!("¥{}", comma(n)),
        2 => format!("{}万円", r.range(1, 99_999)),
        3 => format!("{}千円", comma(r.range(1, 99_999_999))),
        4 => format!("￥{}－", comma(n)),
        _ => format!("{}円（税込）", n),
    }
}

fn date(r: &mut Rng) -> String {
    let y = r.range(2015, 2030);
    let (m, d) = (r.range(1, 12), r.range(1, 28));
    match r.below(8) {
        0 => format!("{y}年{m}月{d}日"),
        1 => format!("{y}/{m:02}/{d:02}"),
        2 => format!("{y}-{m:02}-{d:02}"),
        3 => format!("令和{}年{m}月{d}日", r.range(1, 12)),
        4 => format!("R{}.{m}.{d}", r.range(1, 12)),
        5 => format!("{m}月{d}日（{}）", r.pick(&["月", "火", "水", "木", "金"])),
        6 => format!("{y}.{m}.{d}"),
        _ => full_width(&format!("{y}年{m}月{d}日")),
    }
}

fn time(r: &mut Rng) -> String {
    let h = r.range(8, 20);
    let m = r.pick(&["00", "15", "30", "45"]);
    match r.below(4) {
        0 => format!("{h}:{m}"),
        1 => format!("{h}:{m}-{}:{m}", h + 1),
        2 => format!("{h}時{m}分"),
        _ => format!("{h}:{m}〜{}:00", h + 2),
    }
}

fn reference(r: &mut Rng) -> String {
    match r.below(12) {
        0 => format!("内線{}", r.digits(4)),
        1 => format!("内線 {}-{}", r.digits(2), r.digits(4)),
        2 => format!("総第{}号", r.range(1, 9999)),
        3 => format!(
            "{}第{}号",
            r.pick(&["総務", "企画", "財政", "教委"]),
            r.range(1, 999)
        ),
        4 => format!("注文番号 {}-{}", r.range(2015, 2030), r.digits(6)),
        5 => format!("v{}.{}.{}", r.range(0, 9), r.range(0, 20), r.range(0, 99)),
        6 => format!("ISBN978-4-{}-{}-{}", r.digits(5), r.digits(3), r.digits(1)),
        7 => format!("会議室{}", r.range(101, 999)),
        8 => format!("No.{}", r.digits(6)),
        9 => format!("令和{}年度", r.range(1, 12)),
        10 => format!("INV-{}-{}", r.range(2015, 2030), r.digits(4)),
        _ => format!("第{}四半期", r.range(1, 4)),
    }
}

fn count(r: &mut Rng) -> String {
    match r.below(5) {
        0 => format!("{}名", r.range(1, 500)),
        1 => format!("{}件", comma(r.range(1, 99_999))),
        2 => format!("{}.{}%", r.range(0, 100), r.range(0, 9)),
        3 => format!("{}部", r.range(1, 200)),
        _ => format!("{}ページ", r.range(1, 300)),
    }
}

fn ordinary_message(r: &mut Rng) -> String {
    let a = amount(r);
    let d = date(r);
    let t = time(r);
    let x = reference(r);
    let n = count(r);
    let d2 = date(r);
    match r.below(12) {
        0 => format!("{d} {t} から{x}で打合せを行います。出席予定は{n}です。"),
        1 => format!(
            "令和{}年度の予算要求額は{a}です。詳細は{x}を参照してください。",
            r.range(1, 12)
        ),
        2 => format!(
            "{x}の件、{d}までに回答をお願いします。不明点は内線{}まで。",
            r.digits(4)
        ),
        3 => format!("見積額{a}、納期{d2}、{x}。確認をお願いします。"),
        4 => format!("【連絡】{d}の研修は{t}に変更になりました（{n}）。"),
        5 => format!("支出負担行為 {x} 金額{a} 起票日{d}"),
        6 => format!("お疲れ様です。{x}について、{d} {t}に{n}で打合せ済みです。"),
        7 => format!(
            "申請件数は{n}、処理済みは{}件、未処理の金額は{a}です。",
            r.range(1, 999)
        ),
        8 => format!("次回会議：{d}（{t}） 場所：{x} 資料：{n}"),
        9 => format!("{d}〜{d2}は閉庁します。緊急時は内線{}へ。", r.digits(4)),
        10 => format!("前年比{n}増の{a}となりました。{x}に記載。"),
        _ => full_width(&format!("{d} {t} {x} {a} {n}")),
    }
}

#[test]
fn ten_thousand_ordinary_messages_raise_no_finding() {
    let scanner = Scanner::default();
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut hits = Vec::new();
    for i in 0..10_000 {
        let msg = ordinary_message(&mut r);
        if i < 12 {
            println!("sample: {msg}");
        }
        for f in scanner.scan(&msg) {
            hits.push(format!("{}: {:?} in {msg}", f.kind, f.text(&msg)));
        }
    }
    assert!(
        hits.is_empty(),
        "{} false positives, first: {:#?}",
        hits.len(),
        &hits[..hits.len().min(20)]
    );
}

fn my_number(r: &mut Rng) -> String {
    let base: Vec<u8> = (0..11).map(|_| r.below(10) as u8).collect();
    let cd = my_number_check_digit(&base).unwrap_or(0);
    base.iter()
        .chain([cd].iter())
        .map(|d| char::from(b'0' + d))
        .collect()
}

fn luhn_card(r: &mut Rng, prefix: &str, len: usize) -> String {
    let mut s: String = prefix.to_string();
    s.push_str(&r.digits(len - prefix.len() - 1));
    for c in 0..10u8 {
        let candidate = format!("{s}{c}");
        let digits: Vec<u8> = candidate.bytes().map(|b| b - b'0').collect();
        if kairan_dlp::luhn_valid(&digits) {
            return candidate;
        }
    }
    unreachable!("one of ten check digits always satisfies Luhn")
}

fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    for &n in sizes {
        out.push(&s[i..i + n]);
        i += n;
    }
    out.join(sep)
}

fn expect_one(scanner: &Scanner, text: &str, kind: Kind, value: &str) {
    let found = scanner.scan(text);
    let hit = found.iter().find(|f| f.kind == kind);
    assert!(hit.is_some(), "{kind} not found in {text:?}: {found:?}");
    if let Some(f) = hit {
        assert_eq!(f.text(text), value, "span of {kind} in {text:?}");
    }
}

#[test]
fn generated_sensitive_values_are_detected_with_exact_spans() {
    let scanner = Scanner::default();
    let mut r = Rng(42);
    for _ in 0..2_000 {
        let mn = my_number(&mut r);
        let shown = match r.below(4) {
            0 => mn.clone(),
            1 => group(&mn, &[4, 4, 4], "-"),
            2 => group(&mn, &[4, 4, 4], " "),
            _ => full_width(&group(&mn, &[4, 4, 4], "-")),
        };
        let ctx = r.coin();
        let text = if ctx {
            format!(
                "{}{}{}を確認しました。",
                r.pick(&["申請者の", "", "扶養者 "]),
                r.pick(&["個人番号", "マイナンバー"]),
                format_args!("：{shown}")
            )
        } else {
            format!("参照 {shown} 済")
        };
        expect_one(&scanner, &text, Kind::MyNumber, &shown);
        let f = scanner.scan(&text)[0];
        assert_eq!(f.context, ctx, "{text}");
        assert!(
            if ctx {
                f.score >= 0.9
            } else {
                (0.3..=0.5).contains(&f.score)
            },
            "{text} {f:?}"
        );

        let card = match r.below(3) {
            0 => luhn_card(&mut r, "4", 16),
            1 => luhn_card(&mut r, "5", 16),
            _ => luhn_card(&mut r, "35", 16),
        };
        let shown = match r.below(3) {
            0 => card.clone(),
            1 => group(&card, &[4, 4, 4, 4], "-"),
            _ => group(&card, &[4, 4, 4, 4], " "),
        };
        expect_one(
            &scanner,
            &format!("カード番号 {shown} 有効期限 12/28"),
            Kind::CreditCard,
            &shown,
        );

        let phone = match r.below(5) {
            0 => format!(
                "{}-{}-{}",
                r.pick(&["090", "080", "070", "050"]),
                r.digits(4),
                r.digits(4)
            ),
            1 => format!("03-{}-{}", r.range(1000, 9999), r.digits(4)),
            2 => format!("0{}-{}-{}", r.range(100, 999), r.range(10, 99), r.digits(4)),
            3 => format!("0120-{}-{}", r.digits(3), r.digits(3)),
            _ => format!("+81 90-{}-{}", r.digits(4), r.digits(4)),
        };
        expect_one(
            &scanner,
            &format!("連絡先は{phone}です"),
            Kind::PhoneNumber,
            &phone,
        );

        let base: Vec<u8> = (0..12).map(|_| r.below(10) as u8).collect();
        let cd = corporate_check_digit(&base).unwrap_or(0);
        let corp: String = [cd]
            .iter()
            .chain(base.iter())
            .map(|d| char::from(b'0' + d))
            .collect();
        expect_one(
            &scanner,
            &format!("法人番号 {corp}"),
            Kind::CorporateNumber,
            &corp,
        );

        let zip = format!("{}-{}", r.digits(3), r.digits(4));
        expect_one(
            &scanner,
            &format!("〒{zip} 県庁"),
            Kind::PostalCode,
            &format!("〒{zip}"),
        );

        let (y, m, d) = (r.range(1930, 2020), r.range(1, 12), r.range(1, 28));
        let birth = match r.below(4) {
            0 => format!("{y}年{m}月{d}日"),
            1 => format!("{y}/{m}/{d}"),
            2 => format!("昭和{}年{m}月{d}日", r.range(1, 64)),
            _ => format!("H{}.{m}.{d}", r.range(1, 31)),
        };
        expect_one(
            &scanner,
            &format!("生年月日：{birth}"),
            Kind::BirthDate,
            &birth,
        );

        let letters = |r: &mut Rng| -> String {
            (0..2)
                .map(|_| char::from(b'A' + r.below(26) as u8))
                .collect()
        };
        let card_no = format!("{}{}{}", letters(&mut r), r.digits(8), letters(&mut r));
        expect_one(
            &scanner,
            &format!("在留カード番号 {card_no}"),
            Kind::ResidenceCardNumber,
            &card_no,
        );

        let user = format!("user{}", r.digits(3));
        let email = format!("{user}@{}.example.jp", r.pick(&["city", "pref", "town"]));
        expect_one(
            &scanner,
            &format!("送付先 {email} まで"),
            Kind::Email,
            &email,
        );
    }
}

#[test]
fn my_numbers_with_a_wrong_check_digit_are_never_reported() {
    let scanner = Scanner::default();
    let mut r = Rng(7);
    for _ in 0..2_000 {
        let mut mn = my_number(&mut r).into_bytes();
        mn[11] = b'0' + (mn[11] - b'0' + 1 + r.below(9) as u8) % 10;
        let mn = String::from_utf8(mn).unwrap();
        let found = scanner.scan(&format!("個人番号 {mn}"));
        assert!(found.is_empty(), "{mn}: {found:?}");
    }
}
