//! Labelled corpus evaluation: hand-written positives (with the kinds they contain) and
//! hard negatives (ordinary business messages). Prints recall and precision per kind
//! (`cargo test --test corpus -- --nocapture`) and enforces both at ≥ 0.95.

use std::collections::BTreeMap;

use kairan_dlp::{Kind, Scanner};

const POSITIVES: &str = include_str!("corpus/positives.tsv");
const NEGATIVES: &str = include_str!("corpus/negatives.txt");

fn lines(src: &str) -> impl Iterator<Item = &str> {
    src.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

#[derive(Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
}

fn count_kinds(kinds: impl Iterator<Item = Kind>) -> BTreeMap<Kind, usize> {
    let mut m = BTreeMap::new();
    for k in kinds {
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[test]
fn corpus_recall_and_precision_per_kind_are_at_least_95_percent() {
    let scanner = Scanner::default();
    let mut counts: BTreeMap<Kind, Counts> =
        Kind::ALL.iter().map(|&k| (k, Counts::default())).collect();
    let mut failures = Vec::new();
    let mut positives = 0;
    let mut negatives = 0;

    let mut tally = |text: &str, expected: BTreeMap<Kind, usize>, failures: &mut Vec<String>| {
        let found = scanner.scan(text);
        let got = count_kinds(found.iter().map(|f| f.kind));
        for k in Kind::ALL {
            let e = expected.get(&k).copied().unwrap_or(0);
            let g = got.get(&k).copied().unwrap_or(0);
            let c = counts.entry(k).or_default();
            c.tp += e.min(g);
            c.fn_ += e.saturating_sub(g);
            c.fp += g.saturating_sub(e);
        }
        if got != expected {
            let spans: Vec<String> = found
                .iter()
                .map(|f| format!("{}={:?}", f.kind, f.text(text)))
                .collect();
            failures.push(format!(
                "{text}\n    expected {expected:?}\n    got {spans:?}"
            ));
        }
    };

    for line in lines(POSITIVES) {
        let (labels, text) = line
            .split_once('\t')
            .expect("positive lines are `kinds<TAB>text`");
        let expected = count_kinds(
            labels
                .split(',')
                .map(|l| Kind::parse(l.trim()).unwrap_or_else(|| panic!("unknown kind {l:?}"))),
        );
        tally(text, expected, &mut failures);
        positives += 1;
    }
    for text in lines(NEGATIVES) {
        tally(text, BTreeMap::new(), &mut failures);
        negatives += 1;
    }

    println!("corpus: {positives} positive lines, {negatives} negative lines");
    println!(
        "{:<24} {:>4} {:>4} {:>4} {:>7} {:>9}",
        "kind", "tp", "fp", "fn", "recall", "precision"
    );
    let mut below = Vec::new();
    for (k, c) in &counts {
        let recall = if c.tp + c.fn_ == 0 {
            1.0
        } else {
            c.tp as f64 / (c.tp + c.fn_) as f64
        };
        let precision = if c.tp + c.fp == 0 {
            1.0
        } else {
            c.tp as f64 / (c.tp + c.fp) as f64
        };
        println!(
            "{:<24} {:>4} {:>4} {:>4} {:>7.3} {:>9.3}",
            k.code(),
            c.tp,
            c.fp,
            c.fn_,
            recall,
            precision
        );
        assert!(
            c.tp + c.fn_ >= 8,
            "corpus needs at least 8 positives for {k}"
        );
        if recall < 0.95 || precision < 0.95 {
            below.push(k.code());
        }
    }
    for f in &failures {
        println!("MISMATCH: {f}");
    }
    assert!(below.is_empty(), "kinds below 0.95: {below:?}");
    assert!(positives >= 150 && negatives >= 300);
}
