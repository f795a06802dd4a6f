//! cargo-fuzz target: arbitrary bytes (as UTF-8 when valid, lossily otherwise) must never
//! make scanning or masking panic, and every finding must sit on char boundaries.

#![no_main]

use kairan_dlp::{Scanner, mask};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let scanner = Scanner::default();
    let findings = scanner.scan(&text);
    let mut prev_end = 0;
    for f in &findings {
        assert!(f.start < f.end && f.end <= text.len());
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
        assert!(f.start >= prev_end);
        prev_end = f.end;
    }
    let _ = mask(&text, &findings);
});
