//! Throughput benchmark without external harness: prints median MB/s for sparse and
//! dense Japanese business text, the median time to scan one 4 KB message, and the
//! throughput of extracting and then scanning a generated .docx and PDF.
//!
//! Run with `cargo bench`; numbers are medians over repeated runs on the same input.

// The document builders of the integration tests.
#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use kairan_dlp::{DocKind, Limits, Scanner, extract};

/// Ordinary business prose, a few findings per KB once the sensitive lines are mixed in.
const ORDINARY: &[&str] = &[
    "お疲れ様です。令和6年度の予算要求について、財政課から照会がありました。",
    "次回の定例会議は2024年4月15日10:00から本庁舎3階の第2会議室で行います。",
    "見積金額は1,234,567円（税込）で、納期は発注から30日以内とのことです。",
    "資料は共有フォルダに格納しています。修正があれば内線1234までご連絡ください。",
    "総第1234号の決裁が下りましたので、関係各課への周知をお願いします。",
    "注文番号 2024-000123 の納品が遅れているため、業者に確認中です。",
    "システム更改の進捗は予定どおりで、v2.3.1 の検証を来週行います。",
    "窓口の混雑状況は午前中がピークで、平均待ち時間は25分でした。",
];
const SENSITIVE: &[&str] = &[
    "申請者の個人番号は123456789018です。",
    "連絡先は090-1234-5678（携帯）です。",
    "担当者メール taro.yamada@city.example.lg.jp",
    "生年月日：昭和60年4月1日",
];

fn sparse_text(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 256);
    let mut i = 0usize;
    while s.len() < bytes {
        s.push_str(ORDINARY[i % ORDINARY.len()]);
        // Roughly one sensitive sentence per ~1 KB of prose.
        if i % 9 == 8 {
            s.push_str(SENSITIVE[(i / 9) % SENSITIVE.len()]);
        }
        s.push('\n');
        i += 1;
    }
    s
}

fn dense_text(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 256);
    let mut i = 0usize;
    while s.len() < bytes {
        s.push_str(SENSITIVE[i % SENSITIVE.len()]);
        s.push_str(" 〒100-0013 東京都千代田区霞が関1-2-3 カード 4111-1111-1111-1111 【極秘】\n");
        i += 1;
    }
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_scan(scanner: &Scanner, text: &str, runs: usize) -> (Duration, usize) {
    let mut found = 0;
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            found = black_box(scanner.scan(black_box(text))).len();
            t.elapsed()
        })
        .collect();
    (median(times), found)
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// Median time to extract the text of `doc` and scan it; MB/s are reported against the
/// extracted text so they compare with the plain-text figures.
fn time_extract_and_scan(
    scanner: &Scanner,
    kind: DocKind,
    doc: &[u8],
    runs: usize,
) -> (Duration, usize, usize) {
    let limits = Limits::default();
    let mut text_len = 0;
    let mut found = 0;
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            match extract(kind, black_box(doc), &limits) {
                Ok(out) => {
                    text_len = out.text.len();
                    found = black_box(scanner.scan(&out.text)).len();
                }
                Err(e) => eprintln!("{kind:?}: {e}"),
            }
            t.elapsed()
        })
        .collect();
    (median(times), text_len, found)
}

fn main() {
    let scanner = Scanner::default();

    let sparse = sparse_text(4 << 20);
    let (d, n) = time_scan(&scanner, &sparse, 15);
    println!(
        "sparse: {:>8.1} MB/s  ({} bytes, {} findings, {:.2} per KB)",
        mb_per_s(sparse.len(), d),
        sparse.len(),
        n,
        n as f64 * 1024.0 / sparse.len() as f64
    );

    let dense = dense_text(4 << 20);
    let (d, n) = time_scan(&scanner, &dense, 15);
    println!(
        "dense:  {:>8.1} MB/s  ({} bytes, {} findings, {:.2} per KB)",
        mb_per_s(dense.len(), d),
        dense.len(),
        n,
        n as f64 * 1024.0 / dense.len() as f64
    );

    let message: String = sparse
        .chars()
        .scan(0usize, |len, c| {
            *len += c.len_utf8();
            (*len <= 4096).then_some(c)
        })
        .collect();
    let (d, n) = time_scan(&scanner, &message, 2001);
    println!(
        "4 KB message: {:>8.1} µs median ({} bytes, {} findings)",
        d.as_secs_f64() * 1e6,
        message.len(),
        n
    );

    // Documents: the sparse text as paragraphs of a .docx and as lines of a PDF in a
    // Type0 font with a ToUnicode CMap (the common shape of Japanese PDFs).
    let lines: Vec<String> = sparse_text(2 << 20).lines().map(str::to_string).collect();
    let paragraphs: Vec<&str> = lines.iter().map(String::as_str).collect();
    for (kind, doc) in [
        (DocKind::Docx, support::docx(&paragraphs)),
        (DocKind::Pdf, support::text_pdf(&lines, 50)),
    ] {
        let (d, text_len, n) = time_extract_and_scan(&scanner, kind, &doc, 9);
        println!(
            "{:<5} {:>8.1} MB/s  extract+scan ({} bytes of text from a {} byte file, {} findings)",
            format!("{kind:?}:").to_lowercase(),
            mb_per_s(text_len, d),
            text_len,
            doc.len(),
            n
        );
    }
}
