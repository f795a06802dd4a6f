//! Plain text and CSV: charset detection and a forgiving CSV reader.
//!
//! Japanese municipal systems still export CP932 (Windows' Shift_JIS), Excel's "Unicode
//! text" is UTF-16LE with a BOM, and everything newer is UTF-8, often with a BOM. The rule
//! is deliberately simple: a BOM decides; otherwise valid UTF-8 is UTF-8 and anything else
//! is CP932 (`encoding_rs::SHIFT_JIS` is the WHATWG Shift_JIS, i.e. CP932 with the NEC and
//! IBM extensions).

use encoding_rs::{CoderResult, Encoding, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE};

use super::sink::Sink;

/// Chunk size for streaming decodes; also how much CSV output is buffered before it is
/// handed to the sink.
const CHUNK: usize = 16 * 1024;

pub(crate) fn extract_text(bytes: &[u8], sink: &mut Sink) {
    decode_chunks(bytes, |s| {
        sink.push_str(s);
        !sink.is_full()
    });
}

pub(crate) fn extract_csv(bytes: &[u8], sink: &mut Sink) {
    let mut csv = Csv::default();
    decode_chunks(bytes, |s| csv.feed(s, sink));
    csv.flush(sink);
}

/// Where the text comes from, once the encoding is decided.
enum Src<'a> {
    /// Valid UTF-8 (BOM stripped; an incomplete last char dropped).
    Utf8(&'a str),
    /// Bytes to decode with this encoding (BOM stripped).
    Other(&'static Encoding, &'a [u8]),
}

/// Picks the encoding and strips the BOM, validating UTF-8 once.
fn sniff(bytes: &[u8]) -> Src<'_> {
    let (bom_utf8, body) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (true, rest),
        [0xFF, 0xFE, rest @ ..] => return Src::Other(UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => return Src::Other(UTF_16BE, rest),
        _ => (false, bytes),
    };
    let mut chunks = body.utf8_chunks();
    let Some(first) = chunks.next() else {
        return Src::Utf8("");
    };
    let rest = first.invalid();
    // Valid throughout, or only the last char is incomplete: a file cut mid-character is
    // still UTF-8.
    if rest.is_empty()
        || (chunks.next().is_none()
            && matches!(std::str::from_utf8(rest), Err(e) if e.error_len().is_none()))
    {
        return Src::Utf8(first.valid());
    }
    // Invalid UTF-8 after a UTF-8 BOM: decode with replacement characters.
    Src::Other(if bom_utf8 { UTF_8 } else { SHIFT_JIS }, body)
}

/// Decodes `bytes` and hands the text to `f` in chunks until `f` returns false.
fn decode_chunks(bytes: &[u8], mut f: impl FnMut(&str) -> bool) {
    match sniff(bytes) {
        Src::Utf8(s) => {
            f(s);
        }
        Src::Other(encoding, body) => decode_with(encoding, body, f),
    }
}

/// Streams `src` through an `encoding_rs` decoder into a fixed buffer (the crate's
/// allocating helpers are behind its `alloc` feature, which we leave off).
pub(crate) fn decode_with(
    encoding: &'static Encoding,
    src: &[u8],
    mut f: impl FnMut(&str) -> bool,
) {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut buf = [0u8; CHUNK];
    // Short inputs (PDF strings) use a short prefix: the buffer is validated as UTF-8
    // below, and 16 KiB per call would dominate. 16 bytes always fit the next char.
    let len = src.len().saturating_mul(3).saturating_add(16).min(CHUNK);
    let Some(Ok(out)) = buf.get_mut(..len).map(std::str::from_utf8_mut) else {
        return;
    };
    let mut src = src;
    loop {
        let (result, read, written, _) = decoder.decode_to_str(src, out, true);
        if !f(out.get(..written).unwrap_or("")) {
            return;
        }
        src = src.get(read..).unwrap_or(&[]);
        match result {
            CoderResult::InputEmpty => return,
            CoderResult::OutputFull => {}
        }
    }
}

/// Windows-1252 for 0x80–0x9F (the rest of the byte range is Latin-1); undefined
/// positions map to U+FFFD.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
    '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}',
    'ž', 'Ÿ',
];

/// Appends `src` read as Windows-1252, dropping control characters (in PDF strings
/// without a usable encoding they are glyph indexes, not text).
pub(crate) fn push_cp1252(src: &[u8], out: &mut String) {
    for &b in src {
        let c = match b {
            0x80..=0x9F => CP1252_HIGH
                .get(usize::from(b - 0x80))
                .copied()
                .unwrap_or(char::REPLACEMENT_CHARACTER),
            _ => char::from(b),
        };
        if !c.is_control() {
            out.push(c);
        }
    }
}

/// Appends the decoding of `src` to `out` (used for short PDF strings).
pub(crate) fn decode_append(encoding: &'static Encoding, src: &[u8], out: &mut String) {
    decode_with(encoding, src, |s| {
        out.push_str(s);
        true
    });
}

#[derive(Default, Clone, Copy, PartialEq)]
enum CsvState {
    /// At the start of a field.
    #[default]
    Start,
    Unquoted,
    Quoted,
    /// Saw `"` inside a quoted field: either `""` or the closing quote.
    QuoteInQuoted,
}

/// RFC 4180 reader that never fails: stray quotes are kept as text. Cells are joined with
/// tabs and records with newlines; newlines inside quoted cells are kept.
#[derive(Default)]
struct Csv {
    state: CsvState,
    /// A record ended with CR: a following LF belongs to it.
    after_cr: bool,
    out: String,
}

impl Csv {
    fn feed(&mut self, s: &str, sink: &mut Sink) -> bool {
        for c in s.chars() {
            if std::mem::take(&mut self.after_cr) && c == '\n' {
                continue;
            }
            match (self.state, c) {
                (CsvState::Start, '"') => self.state = CsvState::Quoted,
                (CsvState::Quoted, '"') => self.state = CsvState::QuoteInQuoted,
                (CsvState::QuoteInQuoted, '"') => {
                    self.out.push('"');
                    self.state = CsvState::Quoted;
                }
                (CsvState::Quoted, c) => self.out.push(c),
                (_, ',') => {
                    self.out.push('\t');
                    self.state = CsvState::Start;
                }
                (_, '\r' | '\n') => {
                    self.out.push('\n');
                    self.after_cr = c == '\r';
                    self.state = CsvState::Start;
                }
                (_, c) => {
                    self.out.push(c);
                    self.state = CsvState::Unquoted;
                }
            }
            if self.out.len() >= CHUNK {
                self.flush(sink);
                if sink.is_full() {
                    return false;
                }
            }
        }
        true
    }

    fn flush(&mut self, sink: &mut Sink) {
        sink.push_str(&self.out);
        self.out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(s: &str) -> String {
        let mut sink = Sink::new(1 << 20);
        extract_csv(s.as_bytes(), &mut sink);
        sink.finish().text
    }

    #[test]
    fn quoted_fields_are_unquoted() {
        assert_eq!(csv("\"a,b\",\"x\"\"y\"\r\n1,2"), "a,b\tx\"y\n1\t2");
    }

    #[test]
    fn quoted_newlines_stay_in_the_cell() {
        assert_eq!(csv("\"東京都\n千代田区\",x\n"), "東京都\n千代田区\tx\n");
    }

    #[test]
    fn stray_quotes_are_kept() {
        assert_eq!(csv("a\"b,\"c\"d\n"), "a\"b\tcd\n");
    }

    #[test]
    fn cp932_is_decoded() {
        // 「氏名」 in CP932.
        let mut sink = Sink::new(100);
        extract_text(&[0x8E, 0x81, 0x96, 0xBC], &mut sink);
        assert_eq!(sink.finish().text, "氏名");
    }

    #[test]
    fn utf16le_with_bom_is_decoded() {
        let mut sink = Sink::new(100);
        extract_text(&[0xFF, 0xFE, 0x0F, 0x6C, 0x0D, 0x54], &mut sink);
        assert_eq!(sink.finish().text, "氏名");
    }

    #[test]
    fn cp1252_maps_the_high_block_and_drops_controls() {
        let mut s = String::new();
        push_cp1252(b"\x80\x01A\x93q\x94\x81\xE9\n", &mut s);
        assert_eq!(s, "€A“q”\u{FFFD}é");
    }

    #[test]
    fn a_cut_utf8_char_at_the_end_is_dropped() {
        let mut sink = Sink::new(100);
        extract_text(&"個人".as_bytes()[..5], &mut sink);
        assert_eq!(sink.finish().text, "個");
    }

    #[test]
    fn the_encoding_is_sniffed_once() {
        let utf8 = |src: Src<'_>| match src {
            Src::Utf8(s) => Some(s.to_string()),
            Src::Other(..) => None,
        };
        let other = |src: Src<'_>| match src {
            Src::Other(e, body) => Some((e.name(), body.to_vec())),
            Src::Utf8(_) => None,
        };
        assert_eq!(utf8(sniff(b"")), Some(String::new()));
        assert_eq!(utf8(sniff("個人".as_bytes())), Some("個人".into()));
        assert_eq!(
            utf8(sniff(&"\u{FEFF}個人".as_bytes()[..8])),
            Some("個".into())
        );
        // An invalid byte at the end is not a cut char.
        assert_eq!(
            other(sniff(b"ab\xFF")),
            Some(("Shift_JIS", b"ab\xFF".to_vec()))
        );
        assert_eq!(
            other(sniff(b"\xEF\xBB\xBFa\xFFb")),
            Some(("UTF-8", b"a\xFFb".to_vec()))
        );
        assert_eq!(
            other(sniff(b"\xFE\xFF\x00a")),
            Some(("UTF-16BE", b"\x00a".to_vec()))
        );
    }

    #[test]
    fn invalid_utf8_after_a_bom_gets_replacement_characters() {
        let mut sink = Sink::new(100);
        extract_text(b"\xEF\xBB\xBFa\xFFb", &mut sink);
        assert_eq!(sink.finish().text, "a\u{FFFD}b");
    }
}
