//! PDF tokens and objects (ISO 32000-1 §7.2–7.3), shared by the file scanner, content
//! streams and CMaps.
//!
//! The lexer never fails: unterminated strings end at the end of input, stray delimiters
//! become one-byte keywords. The object parser fails (returns `None`) on anything that is
//! not a well-formed object, on nesting deeper than [`MAX_DEPTH`], which keeps its
//! recursion bounded, and when it has built as many objects as the caller allows, which
//! keeps its memory bounded.

/// Deepest nesting of arrays and dictionaries accepted.
pub(crate) const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    Int(i64),
    Real(f64),
    Name(Vec<u8>),
    /// A literal or hex string, decoded to its bytes.
    Str(Vec<u8>),
    ArrOpen,
    ArrClose,
    DictOpen,
    DictClose,
    /// Any other run of regular characters (`obj`, `R`, `Tj`, `true` …) or a stray
    /// delimiter.
    Kw(&'a [u8]),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Obj {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Obj>),
    Dict(Vec<(Vec<u8>, Obj)>),
    /// An indirect reference; the generation number is ignored (the scanner keeps the last
    /// definition of each object number, which is what incremental updates mean).
    Ref(u32),
}

impl Obj {
    pub(crate) fn get(&self, key: &[u8]) -> Option<&Obj> {
        match self {
            Obj::Dict(d) => d.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_name(&self) -> Option<&[u8]> {
        match self {
            Obj::Name(n) => Some(n),
            _ => None,
        }
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Obj::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn as_num(&self) -> Option<f64> {
        match self {
            Obj::Int(i) => Some(*i as f64),
            Obj::Real(r) => Some(*r),
            _ => None,
        }
    }

    pub(crate) fn is_name(&self, name: &[u8]) -> bool {
        self.as_name() == Some(name)
    }
}

pub(crate) fn is_space(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

pub(crate) fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_regular(b: u8) -> bool {
    !is_space(b) && !is_delim(b)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub(crate) struct Lexer<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(buf: &'a [u8], pos: usize) -> Lexer<'a> {
        Lexer { buf, pos }
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    pub(crate) fn skip_space(&mut self) {
        while let Some(b) = self.peek() {
            if is_space(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    pub(crate) fn next_tok(&mut self) -> Option<Tok<'a>> {
        self.skip_space();
        let b = self.peek()?;
        let start = self.pos;
        self.pos += 1;
        Some(match b {
            b'[' => Tok::ArrOpen,
            b']' => Tok::ArrClose,
            b'<' if self.peek() == Some(b'<') => {
                self.pos += 1;
                Tok::DictOpen
            }
            b'>' if self.peek() == Some(b'>') => {
                self.pos += 1;
                Tok::DictClose
            }
            b'<' => Tok::Str(self.hex_string()),
            b'(' => Tok::Str(self.literal_string()),
            b'/' => Tok::Name(self.name()),
            b')' | b'>' | b'{' | b'}' => Tok::Kw(self.buf.get(start..self.pos)?),
            _ => {
                while self.peek().is_some_and(is_regular) {
                    self.pos += 1;
                }
                number_or_keyword(self.buf.get(start..self.pos)?)
            }
        })
    }

    /// After `<`: hex digits up to `>`, whitespace ignored, an odd final digit padded
    /// with 0 (§7.3.4.3).
    fn hex_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut high: Option<u8> = None;
        while let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'>' {
                break;
            }
            if let Some(v) = hex_val(b) {
                match high.take() {
                    Some(h) => out.push(h << 4 | v),
                    None => high = Some(v),
                }
            }
        }
        if let Some(h) = high {
            out.push(h << 4);
        }
        out
    }

    /// After `(`: balanced parentheses, escapes, and end-of-line normalisation
    /// (§7.3.4.2).
    fn literal_string(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut depth = 1u32;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'\\' => {
                    let Some(e) = self.peek() else { break };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0C),
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            // High-order overflow is ignored (§7.3.4.2).
                            out.push((v & 0xFF) as u8);
                        }
                        // A backslash at the end of a line continues the string.
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        // `\(`, `\)`, `\\`, and an unknown escape: the char itself.
                        other => out.push(other),
                    }
                }
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\r' => {
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
        }
        out
    }

    /// After `/`: regular characters with `#xx` escapes.
    fn name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            self.pos += 1;
            if b == b'#' {
                let hi = self.peek().and_then(hex_val);
                let lo = self.buf.get(self.pos + 1).copied().and_then(hex_val);
                if let (Some(h), Some(l)) = (hi, lo) {
                    self.pos += 2;
                    out.push(h << 4 | l);
                    continue;
                }
            }
            out.push(b);
        }
        out
    }
}

fn number_or_keyword(run: &[u8]) -> Tok<'_> {
    let numeric = run
        .iter()
        .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
    if !numeric || !run.iter().any(u8::is_ascii_digit) {
        return Tok::Kw(run);
    }
    let s = std::str::from_utf8(run).unwrap_or("0");
    if !run.contains(&b'.')
        && let Ok(i) = s.parse::<i64>()
    {
        return Tok::Int(i);
    }
    // Reals, huge integers, and junk like `1-2` (which real writers do emit) degrade to a
    // best-effort number rather than an error.
    Tok::Real(s.parse::<f64>().unwrap_or(0.0))
}

/// Parses one object starting at the lexer's position. Every object built (the items and
/// values inside arrays and dictionaries too) takes one from `nodes`; when none are left
/// the parse fails and `nodes` is 0, which tells the caller why.
pub(crate) fn parse_obj(lx: &mut Lexer<'_>, nodes: &mut usize) -> Option<Obj> {
    let tok = lx.next_tok()?;
    from_tok(lx, tok, 0, nodes)
}

fn from_tok(lx: &mut Lexer<'_>, tok: Tok<'_>, depth: usize, nodes: &mut usize) -> Option<Obj> {
    *nodes = nodes.checked_sub(1)?;
    Some(match tok {
        Tok::Int(n) => {
            // `N G R` is a reference; anything else leaves the lexer where it was.
            let save = lx.pos;
            if let Some(Tok::Int(g)) = lx.next_tok()
                && g >= 0
                && let Some(Tok::Kw(b"R")) = lx.next_tok()
                && let Ok(num) = u32::try_from(n)
            {
                return Some(Obj::Ref(num));
            }
            lx.pos = save;
            Obj::Int(n)
        }
        Tok::Real(r) => Obj::Real(r),
        Tok::Name(n) => Obj::Name(n),
        Tok::Str(s) => Obj::Str(s),
        Tok::ArrOpen => {
            if depth >= MAX_DEPTH {
                return None;
            }
            let mut items = Vec::new();
            loop {
                match lx.next_tok()? {
                    Tok::ArrClose => break,
                    t => items.push(from_tok(lx, t, depth + 1, nodes)?),
                }
            }
            Obj::Array(items)
        }
        Tok::DictOpen => {
            if depth >= MAX_DEPTH {
                return None;
            }
            let mut entries = Vec::new();
            loop {
                match lx.next_tok()? {
                    Tok::DictClose => break,
                    Tok::Name(key) => {
                        let value = match lx.next_tok()? {
                            // A key without a value before `>>`: tolerate it as null.
                            Tok::DictClose => {
                                entries.push((key, Obj::Null));
                                break;
                            }
                            t => from_tok(lx, t, depth + 1, nodes)?,
                        };
                        entries.push((key, value));
                    }
                    _ => return None,
                }
            }
            Obj::Dict(entries)
        }
        Tok::Kw(b"true") => Obj::Bool(true),
        Tok::Kw(b"false") => Obj::Bool(false),
        Tok::Kw(b"null") => Obj::Null,
        Tok::Kw(_) | Tok::ArrClose | Tok::DictClose => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &[u8]) -> Vec<Tok<'_>> {
        let mut lx = Lexer::new(s, 0);
        std::iter::from_fn(|| lx.next_tok()).collect()
    }

    #[test]
    fn literal_strings_handle_escapes_and_nesting() {
        let t = toks(b"(a\\(b\\)c (nested) \\\\ \\101\\0617 \\n\\\r\nx\r\ny \\q)");
        assert_eq!(t, [Tok::Str(b"a(b)c (nested) \\ A17 \nx\ny q".to_vec())]);
    }

    #[test]
    fn hex_strings_and_names() {
        let t = toks(b"<48 65 6C6C 6F 7> /A#20B /F1 1.5 -3 .5 1-2 Tj");
        assert_eq!(
            t,
            [
                Tok::Str(b"Hello\x70".to_vec()),
                Tok::Name(b"A B".to_vec()),
                Tok::Name(b"F1".to_vec()),
                Tok::Real(1.5),
                Tok::Int(-3),
                Tok::Real(0.5),
                Tok::Real(0.0),
                Tok::Kw(b"Tj"),
            ]
        );
    }

    #[test]
    fn objects_parse_with_references() {
        let mut lx = Lexer::new(b"<< /Type /Page /Kids [1 0 R 2 0 R] /N 3 /X [1 2] >>", 0);
        let o = parse_obj(&mut lx, &mut 1000).unwrap();
        assert!(o.get(b"Type").unwrap().is_name(b"Page"));
        assert_eq!(
            o.get(b"Kids"),
            Some(&Obj::Array(vec![Obj::Ref(1), Obj::Ref(2)]))
        );
        assert_eq!(
            o.get(b"X"),
            Some(&Obj::Array(vec![Obj::Int(1), Obj::Int(2)]))
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        let mut nodes = usize::MAX;
        let deep = vec![b'['; 100_000];
        assert_eq!(parse_obj(&mut Lexer::new(&deep, 0), &mut nodes), None);
        let ok = [&[b'['; 60][..], &[b']'; 60][..]].concat();
        assert!(parse_obj(&mut Lexer::new(&ok, 0), &mut nodes).is_some());
    }

    #[test]
    fn every_object_built_takes_a_node() {
        let src = b"<< /A [1 2 3 0 R] /B << /C null >> >>";
        // dict, array, 1, 2, the reference, inner dict, null.
        let mut nodes = 7;
        assert!(parse_obj(&mut Lexer::new(src, 0), &mut nodes).is_some());
        assert_eq!(nodes, 0);
        let mut nodes = 6;
        assert_eq!(parse_obj(&mut Lexer::new(src, 0), &mut nodes), None);
        assert_eq!(nodes, 0);
    }

    #[test]
    fn unterminated_strings_end_at_the_end() {
        assert_eq!(toks(b"(abc (def"), [Tok::Str(b"abc (def".to_vec())]);
        assert_eq!(toks(b"<414"), [Tok::Str(b"A@".to_vec())]);
    }
}
