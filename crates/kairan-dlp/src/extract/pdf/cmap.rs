//! `/ToUnicode` CMaps (ISO 32000-1 §9.10.3): from character codes in a font's encoding to
//! Unicode. Japanese PDFs usually draw with 2-byte CIDs (`/Identity-H`), for which the
//! ToUnicode CMap is the only way back to text.
//!
//! Only the operators that matter for ToUnicode are read: `begincodespacerange`,
//! `beginbfchar` and `beginbfrange` (both destination forms). `usecmap` is ignored.

use std::collections::HashMap;

use super::lex::{Lexer, Obj, Tok, parse_obj};
use crate::extract::text::push_cp1252;

/// Most mappings kept from one CMap; real ones have at most a few tens of thousands.
const MAX_MAPPINGS: usize = 200_000;
/// Most objects (destination strings, array items) built while reading one CMap.
const MAX_NODES: usize = 4 * MAX_MAPPINGS;
/// Most code space ranges kept (each code is matched against all of them; the spec
/// allows 100 per block and real CMaps have one to four).
const MAX_SPACES: usize = 64;

#[derive(Debug, Clone)]
struct CodeSpace {
    len: usize,
    lo: [u8; 4],
    hi: [u8; 4],
}

#[derive(Debug, Clone)]
enum RangeDst {
    /// The first code maps to these UTF-16 units; each next code adds one to the last
    /// unit.
    Base(Vec<u16>),
    /// One destination per code.
    List(Vec<String>),
}

#[derive(Debug, Clone)]
struct Range {
    len: usize,
    lo: u32,
    hi: u32,
    dst: RangeDst,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct CMap {
    spaces: Vec<CodeSpace>,
    chars: HashMap<(usize, u32), String>,
    /// Sorted by (len, lo) for binary search.
    ranges: Vec<Range>,
    /// Code length when no code space range says otherwise.
    default_len: usize,
}

fn code_of(bytes: &[u8]) -> Option<(usize, u32)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some((
        bytes.len(),
        bytes.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)),
    ))
}

/// The next token if it is a string; otherwise the section has ended (the keyword that
/// ended it is consumed, which is harmless: it is an `end…` operator).
fn next_str(lx: &mut Lexer<'_>) -> Option<Vec<u8>> {
    match lx.next_tok()? {
        Tok::Str(s) => Some(s),
        _ => None,
    }
}

/// Big-endian byte pairs as UTF-16 code units; an odd last byte is ignored.
fn be_units(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
}

/// UTF-16BE bytes → String, as [`push_utf16`].
pub(crate) fn push_utf16_be(bytes: &[u8], out: &mut String) {
    push_utf16(be_units(bytes), out);
}

fn utf16_units(bytes: &[u8]) -> Vec<u16> {
    match bytes {
        // Broken writers emit one-byte destinations; read them as the code point.
        [b] => vec![u16::from(*b)],
        _ => be_units(bytes).collect(),
    }
}

/// UTF-16 → String; lone surrogates become U+FFFD, control chars are dropped.
fn push_utf16(units: impl IntoIterator<Item = u16>, out: &mut String) {
    for c in char::decode_utf16(units) {
        let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
        if !c.is_control() || c == '\n' || c == '\t' {
            out.push(c);
        }
    }
}

fn utf16_string(bytes: &[u8]) -> String {
    let mut s = String::new();
    push_utf16(utf16_units(bytes), &mut s);
    s
}

impl CMap {
    /// Parses a ToUnicode stream. `two_byte` says whether the font is composite (Type0),
    /// which decides the code length when the CMap declares no code space.
    pub(crate) fn parse(data: &[u8], two_byte: bool) -> CMap {
        let mut cmap = CMap::default();
        let mut lx = Lexer::new(data, 0);
        let mut count = 0usize;
        let mut nodes = MAX_NODES;
        while let Some(tok) = lx.next_tok() {
            let Tok::Kw(kw) = tok else { continue };
            match kw {
                b"begincodespacerange" => {
                    while let Some(lo) = next_str(&mut lx)
                        && let Some(hi) = next_str(&mut lx)
                    {
                        if lo.len() == hi.len()
                            && (1..=4).contains(&lo.len())
                            && cmap.spaces.len() < MAX_SPACES
                        {
                            let mut space = CodeSpace {
                                len: lo.len(),
                                lo: [0; 4],
                                hi: [0; 4],
                            };
                            space.lo[..lo.len()].copy_from_slice(&lo);
                            space.hi[..hi.len()].copy_from_slice(&hi);
                            cmap.spaces.push(space);
                        }
                    }
                }
                b"beginbfchar" => {
                    while let Some(src) = next_str(&mut lx) {
                        count += 1;
                        if count > MAX_MAPPINGS {
                            break;
                        }
                        // A destination that is not a string (some writers put a glyph
                        // name) maps to nothing.
                        if let Some(Obj::Str(dst)) = parse_obj(&mut lx, &mut nodes)
                            && let Some(code) = code_of(&src)
                        {
                            cmap.chars.insert(code, utf16_string(&dst));
                        }
                    }
                }
                b"beginbfrange" => {
                    while let Some(lo) = next_str(&mut lx)
                        && let Some(hi) = next_str(&mut lx)
                    {
                        count += 1;
                        if count > MAX_MAPPINGS {
                            break;
                        }
                        let dst = match parse_obj(&mut lx, &mut nodes) {
                            Some(Obj::Str(d)) => RangeDst::Base(utf16_units(&d)),
                            Some(Obj::Array(items)) => RangeDst::List(
                                items
                                    .iter()
                                    .map(|i| match i {
                                        Obj::Str(s) => utf16_string(s),
                                        _ => String::new(),
                                    })
                                    .collect(),
                            ),
                            _ => continue,
                        };
                        if let (Some((len, lo)), Some((hlen, hi))) = (code_of(&lo), code_of(&hi))
                            && len == hlen
                            && lo <= hi
                        {
                            cmap.ranges.push(Range { len, lo, hi, dst });
                        }
                    }
                }
                _ => {}
            }
        }
        cmap.ranges.sort_by_key(|r| (r.len, r.lo));
        let key_len = cmap
            .chars
            .keys()
            .map(|k| k.0)
            .chain(cmap.ranges.iter().map(|r| r.len))
            .min();
        cmap.default_len = match (two_byte, key_len) {
            (true, _) => 2,
            (false, Some(l)) => l,
            (false, None) => 1,
        };
        cmap
    }

    /// Length of the code at the start of `bytes`, by the code space ranges (§9.7.6.2).
    fn code_len(&self, bytes: &[u8]) -> usize {
        for len in 1..=4 {
            let Some(code) = bytes.get(..len) else { break };
            let hit = self.spaces.iter().any(|s| {
                s.len == len
                    && code
                        .iter()
                        .zip(s.lo.iter().zip(s.hi.iter()))
                        .all(|(b, (lo, hi))| lo <= b && b <= hi)
            });
            if hit {
                return len;
            }
        }
        self.spaces
            .iter()
            .map(|s| s.len)
            .min()
            .unwrap_or(self.default_len)
            .max(1)
    }

    fn lookup(&self, len: usize, code: u32, out: &mut String) -> bool {
        if let Some(s) = self.chars.get(&(len, code)) {
            out.push_str(s);
            return true;
        }
        let idx = self
            .ranges
            .partition_point(|r| (r.len, r.lo) <= (len, code));
        let Some(r) = idx.checked_sub(1).and_then(|i| self.ranges.get(i)) else {
            return false;
        };
        if r.len != len || code > r.hi {
            return false;
        }
        let offset = code - r.lo;
        match &r.dst {
            RangeDst::Base(units) => {
                if let Some((last, head)) = units.split_last() {
                    let shifted = last.wrapping_add(offset as u16);
                    push_utf16(head.iter().copied().chain([shifted]), out);
                }
            }
            RangeDst::List(items) => match items.get(offset as usize) {
                Some(s) => out.push_str(s),
                None => return false,
            },
        }
        true
    }

    /// Decodes a shown string; returns the number of codes (glyphs) it held. Unmapped
    /// one-byte codes fall back to Windows-1252 when `cp1252_fallback` (simple fonts).
    pub(crate) fn decode(&self, bytes: &[u8], cp1252_fallback: bool, out: &mut String) -> usize {
        let mut i = 0;
        let mut glyphs = 0;
        while let Some(rest) = bytes.get(i..).filter(|r| !r.is_empty()) {
            let len = self.code_len(rest).min(rest.len());
            if let Some((len, code)) = rest.get(..len).and_then(code_of)
                && !self.lookup(len, code, out)
                && cp1252_fallback
                && len == 1
            {
                push_cp1252(&[code as u8], out);
            }
            i += len;
            glyphs += 1;
        }
        glyphs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAPANESE: &[u8] = b"/CIDInit /ProcSet findresource begin
12 dict begin begincmap
1 begincodespacerange <0000> <FFFF> endcodespacerange
2 beginbfchar
<0001> <500B>
<0005> <D840DC0B>
endbfchar
2 beginbfrange
<0010> <0019> <0030>
<0020> <0022> [<4EBA> <756A> <53F7>]
endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn two_byte_codes_map_through_chars_and_ranges() {
        let cmap = CMap::parse(JAPANESE, true);
        let mut s = String::new();
        let n = cmap.decode(
            &[
                0, 1, 0, 0x20, 0, 0x21, 0, 0x22, 0, 0x11, 0, 0x19, 0, 5, 0x7F, 0x7F,
            ],
            false,
            &mut s,
        );
        assert_eq!(s, "個人番号19\u{2000B}");
        assert_eq!(n, 8);
    }

    #[test]
    fn simple_fonts_fall_back_to_cp1252() {
        let cmap = CMap::parse(b"1 beginbfchar <41> <0042> endbfchar", false);
        let mut s = String::new();
        // Unmapped: x, the euro sign and a quote in Windows-1252, and a control (dropped).
        assert_eq!(cmap.decode(b"Ax\x80\x93\x01A", true, &mut s), 6);
        assert_eq!(s, "Bx€“B");
    }

    #[test]
    fn garbage_cmaps_keep_what_they_could_read() {
        // A good mapping first, then junk; codes 1, 2, 3 are decoded through each.
        let good = "1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfchar <0001> <0041> endbfchar ";
        for (junk, want) in [
            ("beginbfrange <0002> [[[[[[ endbfrange", "A"),
            ("beginbfchar <0002>", "A"),
            (
                "beginbfchar <0002> /glyphname <0003> <0043> endbfchar",
                "AC",
            ),
            ("begincodespacerange <00", "A"),
            // A list shorter than its range, and a range running backwards.
            (
                "beginbfrange <0002> <0003> [<0042>] <0003> <0002> <0044> endbfrange",
                "AB",
            ),
            ("beginbfrange <0002> <0003> <00", "A"),
        ] {
            let cmap = CMap::parse(format!("{good}{junk}").as_bytes(), true);
            let mut s = String::new();
            assert_eq!(cmap.decode(b"\x00\x01\x00\x02\x00\x03", false, &mut s), 3);
            assert_eq!(s, want, "{junk}");
        }
        // Nothing usable at all.
        let cmap = CMap::parse(b"begincodespacerange <00", true);
        let mut s = String::new();
        assert_eq!(cmap.decode(b"\x00\x01\x02", false, &mut s), 2);
        assert_eq!(s, "");
    }
}
