//! A minimal, non-validating XML scanner for Office Open XML parts.
//!
//! OOXML parts are machine-written, UTF-8 and have no DTDs, so a pull scanner that yields
//! start tags, end tags, text and CDATA is enough; no tree is built and nothing is
//! resolved except the five predefined entities and character references. Malformed
//! markup never fails: the scanner skips what it cannot read and stops at the end of
//! input, so a broken part yields whatever text it still has.

use super::sink::Sink;

pub(crate) enum Event<'a> {
    Start {
        name: &'a [u8],
        attrs: &'a [u8],
        empty: bool,
    },
    End {
        name: &'a [u8],
    },
    /// Character data with entities still encoded.
    Text(&'a [u8]),
    /// CDATA content, literal.
    CData(&'a [u8]),
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay.get(at + 1..at + 1 + rest.len()) == Some(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl<'a> Iterator for Reader<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let rest = self.buf.get(self.pos..)?;
            let &first = rest.first()?;
            if first != b'<' {
                let n = rest.iter().position(|&b| b == b'<').unwrap_or(rest.len());
                self.pos += n;
                return Some(Event::Text(rest.get(..n)?));
            }
            // Skips to just past `end`, or to the end of input.
            let skip_past = |end: &[u8], from: usize| match find(rest.get(from..)?, end) {
                Some(i) => Some(from + i + end.len()),
                None => Some(rest.len()),
            };
            if rest.starts_with(b"<!--") {
                self.pos += skip_past(b"-->", 4)?;
                continue;
            }
            if rest.starts_with(b"<![CDATA[") {
                let body = rest.get(9..)?;
                let n = find(body, b"]]>").unwrap_or(body.len());
                self.pos += skip_past(b"]]>", 9)?;
                return Some(Event::CData(body.get(..n)?));
            }
            if rest.starts_with(b"<?") {
                self.pos += skip_past(b"?>", 2)?;
                continue;
            }
            if rest.starts_with(b"<!") {
                // A DOCTYPE (not allowed in OOXML): skip it, internal subset included.
                let mut depth = 0i32;
                let end = rest.iter().position(|&b| {
                    match b {
                        b'[' => depth += 1,
                        b']' => depth -= 1,
                        b'>' if depth <= 0 => return true,
                        _ => {}
                    }
                    false
                });
                self.pos += end.map_or(rest.len(), |e| e + 1);
                continue;
            }
            // A tag: find its `>` outside attribute quotes.
            let mut quote = None;
            let gt = rest.iter().enumerate().skip(1).find_map(|(i, &b)| {
                match (quote, b) {
                    (None, b'"' | b'\'') => quote = Some(b),
                    (Some(q), b) if b == q => quote = None,
                    (None, b'>') => return Some(i),
                    _ => {}
                }
                None
            });
            let Some(gt) = gt else {
                // Unterminated tag at the end of a truncated part.
                self.pos = self.buf.len();
                return None;
            };
            self.pos += gt + 1;
            let inner = rest.get(1..gt)?;
            if let Some(name) = inner.strip_prefix(b"/") {
                let end = name.iter().position(|&b| is_space(b)).unwrap_or(name.len());
                return Some(Event::End {
                    name: name.get(..end)?,
                });
            }
            let (inner, empty) = match inner.strip_suffix(b"/") {
                Some(i) => (i, true),
                None => (inner, false),
            };
            let end = inner
                .iter()
                .position(|&b| is_space(b))
                .unwrap_or(inner.len());
            return Some(Event::Start {
                name: inner.get(..end)?,
                attrs: inner.get(end..)?,
                empty,
            });
        }
    }
}

/// The part of a qualified name after the prefix: `w:t` → `t`. Matching on local names
/// keeps us independent of the prefixes a writer chose.
pub(crate) fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => name.get(i + 1..).unwrap_or(name),
        None => name,
    }
}

/// The raw value of attribute `key` (qualified name as written) in `attrs`.
pub(crate) fn attr<'a>(attrs: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut rest = attrs;
    loop {
        let start = rest.iter().position(|&b| !is_space(b))?;
        rest = rest.get(start..)?;
        let eq = rest.iter().position(|&b| b == b'=')?;
        let name = rest.get(..eq)?.trim_ascii_end();
        rest = rest.get(eq + 1..)?.trim_ascii_start();
        let (&q, body) = rest.split_first()?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let close = body.iter().position(|&b| b == q)?;
        if name == key {
            return body.get(..close);
        }
        rest = body.get(close + 1..)?;
    }
}

/// Appends character data with entities decoded. Unknown or broken entities are kept
/// literally; invalid UTF-8 becomes U+FFFD.
pub(crate) fn push_text(raw: &[u8], out: &mut String) {
    let mut rest = raw;
    while let Some(amp) = rest.iter().position(|&b| b == b'&') {
        push_lossy(rest.get(..amp).unwrap_or(&[]), out);
        rest = rest.get(amp..).unwrap_or(&[]);
        // Longest reference is `&#x10FFFF;`; a `;` further away is not ours.
        let semi = rest.iter().take(12).position(|&b| b == b';');
        let decoded = semi.and_then(|s| entity(rest.get(1..s)?));
        match (semi, decoded) {
            (Some(s), Some(c)) => {
                out.push(c);
                rest = rest.get(s + 1..).unwrap_or(&[]);
            }
            _ => {
                out.push('&');
                rest = rest.get(1..).unwrap_or(&[]);
            }
        }
    }
    push_lossy(rest, out);
}

fn push_lossy(bytes: &[u8], out: &mut String) {
    out.push_str(&String::from_utf8_lossy(bytes));
}

fn entity(name: &[u8]) -> Option<char> {
    match name {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        [b'#', b'x' | b'X', hex @ ..] => char_ref(hex, 16),
        [b'#', dec @ ..] => char_ref(dec, 10),
        _ => None,
    }
}

fn char_ref(digits: &[u8], radix: u32) -> Option<char> {
    let s = std::str::from_utf8(digits).ok()?;
    if s.is_empty() || !s.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u32::from_str_radix(s, radix).ok()?;
    // NUL and surrogates are not XML characters.
    Some(
        char::from_u32(v)
            .filter(|&c| c != '\0')
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    )
}

/// Appends decoded character data straight to the sink.
pub(crate) fn push_text_to(raw: &[u8], buf: &mut String, sink: &mut Sink) {
    buf.clear();
    push_text(raw, buf);
    sink.push_str(buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(raw: &str) -> String {
        let mut s = String::new();
        push_text(raw.as_bytes(), &mut s);
        s
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            text("a&amp;b&lt;&gt;&quot;&apos;&#65;&#x500B;"),
            "a&b<>\"'A個"
        );
        assert_eq!(text("AT&T &bogus; &#xZZ; &"), "AT&T &bogus; &#xZZ; &");
        assert_eq!(text("&#0;&#xD800;"), "\u{FFFD}\u{FFFD}");
    }

    /// The events of `xml`, one short string each.
    fn events(xml: &[u8]) -> Vec<String> {
        Reader::new(xml)
            .map(|ev| match ev {
                Event::Start { name, attrs, empty } => format!(
                    "S:{}:{}:{}",
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(attr(attrs, b"a").unwrap_or(b"-")),
                    empty
                ),
                Event::End { name } => format!("E:{}", String::from_utf8_lossy(name)),
                Event::Text(t) => format!("T:{}", String::from_utf8_lossy(t)),
                Event::CData(t) => format!("C:{}", String::from_utf8_lossy(t)),
            })
            .collect()
    }

    #[test]
    fn events_cover_tags_text_and_cdata() {
        let xml = br#"<?xml version="1.0"?><!-- c --><w:p a="x>y"><w:t xml:space="preserve">a &amp; b</w:t><w:tab/><![CDATA[<raw>]]></w:p>"#;
        assert_eq!(
            events(xml),
            [
                "S:w:p:x>y:false",
                "S:w:t:-:false",
                "T:a &amp; b",
                "E:w:t",
                "S:w:tab:-:true",
                "C:<raw>",
                "E:w:p"
            ]
        );
    }

    #[test]
    fn truncated_markup_ends_quietly() {
        let cases: [(&[u8], &[&str]); 6] = [
            (b"<a a=\"1\"><b a=\"x", &["S:a:1:false"]),
            (b"<a>text<!-- open", &["S:a:-:false", "T:text"]),
            (b"<a><![CDATA[x", &["S:a:-:false", "C:x"]),
            (b"<a/><?pi", &["S:a:-:true"]),
            (b"</a", &[]),
            (b"<", &[]),
        ];
        for (xml, want) in cases {
            assert_eq!(events(xml), want, "{}", String::from_utf8_lossy(xml));
        }
    }
}
