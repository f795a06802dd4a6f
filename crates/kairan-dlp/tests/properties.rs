//! Property-style robustness tests with a small xorshift PRNG: random ASCII, Japanese
//! and arbitrary Unicode strings never make the scanner or the masker panic, and every
//! finding has char-boundary offsets with `start < end <= len`, sorted and disjoint.

use kairan_dlp::{Scanner, mask};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Characters that exercise every trigger of the scanner and its normalizer.
const ALPHABET: &[char] = &[
    '0',
    '1',
    '2',
    '3',
    '4',
    '5',
    '6',
    '7',
    '8',
    '9',
    '０',
    '１',
    '９',
    '-',
    '－',
    'ー',
    'ｰ',
    '—',
    ' ',
    '　',
    '/',
    '.',
    ',',
    ':',
    '(',
    ')',
    '+',
    '@',
    '＠',
    '_',
    'A',
    'B',
    'S',
    'H',
    'T',
    'R',
    'M',
    'x',
    'ｔ',
    '〒',
    '年',
    '月',
    '日',
    '元',
    '昭',
    '和',
    '平',
    '成',
    '令',
    '明',
    '治',
    '大',
    '正',
    '丁',
    '目',
    '番',
    '地',
    '号',
    '市',
    '区',
    '町',
    '村',
    '都',
    '東',
    '京',
    '一',
    '二',
    '秘',
    '極',
    '機',
    '密',
    '㊙',
    '個',
    '人',
    '番',
    '号',
    '生',
    'ま',
    'れ',
    'パ',
    'ス',
    'ポ',
    'ト',
    '\n',
    '。',
    '円',
    '¥',
    '内',
    '線',
    '🎌',
    '\u{10FFFF}',
    '\u{0301}',
    'é',
];

fn random_text(r: &mut Rng) -> String {
    let len = r.below(80);
    (0..len)
        .map(|_| match r.below(10) {
            0 => char::from_u32(r.below(0x11_0000) as u32).unwrap_or('?'),
            _ => ALPHABET[r.below(ALPHABET.len())],
        })
        .collect()
}

fn assert_well_formed(scanner: &Scanner, text: &str) {
    let found = scanner.scan(text);
    let mut prev_end = 0;
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len(), "{f:?} in {text:?}");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?} in {text:?}"
        );
        assert!(f.start >= prev_end, "overlap {found:?} in {text:?}");
        assert!((0.0..=1.0).contains(&f.score));
        prev_end = f.end;
    }
    let masked = mask(text, &found);
    if found.is_empty() {
        assert_eq!(masked, text);
    }
}

#[test]
fn random_strings_never_panic_and_offsets_are_char_boundaries() {
    let scanner = Scanner::default();
    let mut r = Rng(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..30_000 {
        let text = random_text(&mut r);
        assert_well_formed(&scanner, &text);
    }
}

#[test]
fn mutated_sensitive_samples_never_panic() {
    let samples = [
        "個人番号：１２３４－５６７８－９０１８",
        "〒100-0013 東京都千代田区霞が関1-2-3",
        "+81 90-1234-5678 (06)1234-5678",
        "生年月日 S60.4.1 平成元年1月8日",
        "taro@example.jp AB12345678CD T7000012050002",
        "大阪市北区梅田一丁目2番3号【極秘】",
    ];
    let scanner = Scanner::default();
    let mut r = Rng(12345);
    for _ in 0..20_000 {
        let mut chars: Vec<char> = samples[r.below(samples.len())].chars().collect();
        for _ in 0..r.below(4) + 1 {
            let at = r.below(chars.len() + 1);
            match r.below(3) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 => chars.insert(at, ALPHABET[r.below(ALPHABET.len())]),
                _ if at < chars.len() => chars[at] = ALPHABET[r.below(ALPHABET.len())],
                _ => {}
            }
        }
        let text: String = chars.into_iter().collect();
        assert_well_formed(&scanner, &text);
    }
}

#[test]
fn mask_ignores_findings_that_do_not_fit_the_text() {
    let bogus = kairan_dlp::Finding {
        kind: kairan_dlp::Kind::Email,
        start: 1,
        end: 400,
        score: 1.0,
        context: false,
    };
    assert_eq!(mask("日本語", &[bogus]), "日本語");
}
