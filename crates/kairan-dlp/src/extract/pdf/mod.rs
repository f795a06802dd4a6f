//! A minimal PDF text extractor.
//!
//! The file is read by scanning for `N G obj … endobj` rather than through the xref
//! table, so broken or missing xrefs and incremental updates (the last definition of an
//! object wins) are tolerated. Streams are delimited by `/Length` when it checks out and by
//! the next `endstream` otherwise. Object streams (`/Type /ObjStm`) are expanded. Pages
//! are found through the page tree (falling back to every `/Type /Page` object), and
//! their content streams and form XObjects are interpreted for text operators only (see
//! [`content`]). Filled-in form fields and annotation comments are appended at the end.
//!
//! Not supported: encryption (reported as [`ExtractError::Encrypted`]), filters other
//! than `/FlateDecode` (streams using them are skipped), PNG predictors, OCR of scanned
//! pages, and composite fonts without a `/ToUnicode` CMap unless their encoding is a
//! Unicode, Shift_JIS or EUC-JP CMap.

mod cmap;
mod content;
mod lex;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use super::inflate::{self, Budget, Wrapper};
use super::sink::Sink;
use super::text::push_cp1252;
use super::xml::find;
use super::{ExtractError, Limits};
use lex::{Lexer, Obj, Tok, is_delim, is_space, parse_obj};

/// Deepest page tree, `/Parent` chain or reference chain followed.
const MAX_HOPS: usize = 32;

/// What a missing object or entry resolves to.
static NULL: Obj = Obj::Null;

/// Objects (dictionary values and array items count one each) that may be built while
/// reading a PDF: this many per allowed object ([`Limits::max_entries`]) plus one per
/// [`BYTES_PER_NODE`] bytes of file. Object streams draw on the same allowance, so their
/// inflated data cannot multiply the memory held by the parsed objects either.
const NODES_PER_ENTRY: usize = 100;
const BYTES_PER_NODE: usize = 16;

/// A bound on lexing work: 8 × the size of the data + 1 MiB. A well-formed file is lexed
/// about once, but a file made of nested `1 0 obj (` prefixes could make every candidate
/// re-lex the rest.
struct Fuel {
    used: u64,
    max: u64,
}

impl Fuel {
    fn for_data(len: usize) -> Fuel {
        Fuel {
            used: 0,
            max: (len as u64).saturating_mul(8).saturating_add(1 << 20),
        }
    }

    fn burn(&mut self, n: usize) -> Result<(), ExtractError> {
        self.used = self.used.saturating_add(n as u64);
        if self.used > self.max {
            return Err(ExtractError::Malformed("pdf: too complex"));
        }
        Ok(())
    }
}

/// Parses one object at `lx`, burning the bytes lexed and drawing on the node allowance
/// (a failed parse gives its nodes back: they are freed); an exhausted allowance is a
/// [`ExtractError::Bomb`].
fn parse_counted(
    lx: &mut Lexer<'_>,
    fuel: &mut Fuel,
    nodes: &mut usize,
) -> Result<Option<Obj>, ExtractError> {
    let (start, before) = (lx.pos, *nodes);
    let value = parse_obj(lx, nodes);
    fuel.burn(lx.pos - start)?;
    if *nodes == 0 {
        return Err(ExtractError::Bomb);
    }
    if value.is_none() {
        *nodes = before;
    }
    Ok(value)
}

pub(crate) fn extract(bytes: &[u8], limits: &Limits, sink: &mut Sink) -> Result<(), ExtractError> {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or(bytes);
    if find(head, b"%PDF-").is_none() {
        return Err(ExtractError::Malformed("pdf: no %PDF header"));
    }
    let mut budget = Budget::new(limits);
    let doc = Doc::scan(bytes, limits, &mut budget)?;
    if doc.encrypted {
        return Err(ExtractError::Encrypted);
    }
    let pages = doc.pages(limits);
    let mut ex = content::Extractor::new(&doc, budget, limits, &pages);
    for (page, resources) in pages {
        ex.page(page, resources, sink)?;
        if sink.is_full() {
            return Ok(());
        }
    }
    doc.fields_and_comments(sink);
    Ok(())
}

struct PdfObj {
    value: Obj,
    /// Where the raw stream data is in the file, for stream objects.
    stream: Option<Range<usize>>,
}

pub(crate) struct Doc<'a> {
    data: &'a [u8],
    /// By object number; iteration is in object-number order.
    objs: BTreeMap<u32, PdfObj>,
    root: Option<u32>,
    encrypted: bool,
}

/// The object number of `N G obj` when `at` is the position of `obj`.
fn object_number(data: &[u8], at: usize) -> Option<u32> {
    let byte = |i: usize| data.get(i).copied();
    // Walks back over at most `max` bytes matching `pred`; returns the new start.
    let back = |mut i: usize, max: usize, pred: fn(u8) -> bool| {
        let stop = i.saturating_sub(max);
        while i > stop && byte(i - 1).is_some_and(pred) {
            i -= 1;
        }
        i
    };
    let gen_end = back(at, 32, is_space);
    let gen_start = back(gen_end, 6, |b| b.is_ascii_digit());
    let num_end = back(gen_start, 32, is_space);
    let num_start = back(num_end, 11, |b| b.is_ascii_digit());
    if gen_start == gen_end || gen_end - gen_start > 5 || num_end == gen_start {
        return None;
    }
    if num_start == num_end || num_end - num_start > 10 {
        return None;
    }
    if num_start > 0 && byte(num_start - 1).is_some_and(|b| !is_space(b) && !is_delim(b)) {
        return None;
    }
    std::str::from_utf8(data.get(num_start..num_end)?)
        .ok()?
        .parse()
        .ok()
}

/// Where stream data starts: after `stream` and its end-of-line marker.
fn skip_eol(data: &[u8], at: usize) -> usize {
    match data.get(at..) {
        Some([b'\r', b'\n', ..]) => at + 2,
        Some([b'\n' | b'\r', ..]) => at + 1,
        _ => at,
    }
}

/// True when `endstream` follows `at`, after optional whitespace.
fn endstream_at(data: &[u8], at: usize) -> bool {
    let rest = data.get(at..).unwrap_or(&[]);
    let skip = rest.iter().take(16).take_while(|&&b| is_space(b)).count();
    rest.get(skip..)
        .is_some_and(|r| r.starts_with(b"endstream"))
}

/// The data range of a stream starting at `start`, and where scanning resumes. `/Length`
/// is used when `endstream` follows it; otherwise the next `endstream` ends the data.
fn stream_extent(data: &[u8], start: usize, length: Option<usize>) -> (Range<usize>, usize) {
    if let Some(end) = length.and_then(|n| start.checked_add(n))
        && end <= data.len()
        && endstream_at(data, end)
    {
        let resume =
            find(data.get(end..).unwrap_or(&[]), b"endstream").map_or(end, |i| end + i + 9);
        return (start..end, resume);
    }
    let Some(rel) = find(data.get(start..).unwrap_or(&[]), b"endstream") else {
        return (start..data.len(), data.len());
    };
    let mut end = start + rel;
    // The EOL before `endstream` is not part of the data.
    if end > start && data.get(end - 1) == Some(&b'\n') {
        end -= 1;
    }
    if end > start && data.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    (start..end, start + rel + 9)
}

/// Decodes a PDF text string (outside content streams): UTF-16BE with BOM, UTF-8 with
/// BOM (PDF 2.0), otherwise PDFDocEncoding, read as Windows-1252 (they agree on
/// printable ASCII and Latin-1).
fn text_string(bytes: &[u8]) -> String {
    let mut out = String::new();
    match bytes {
        [0xFE, 0xFF, rest @ ..] => cmap::push_utf16_be(rest, &mut out),
        [0xEF, 0xBB, 0xBF, rest @ ..] => out.push_str(&String::from_utf8_lossy(rest)),
        _ => push_cp1252(bytes, &mut out),
    }
    out.retain(|c| !c.is_control() || c == '\n' || c == '\t');
    out
}

impl<'a> Doc<'a> {
    fn scan(data: &'a [u8], limits: &Limits, budget: &mut Budget) -> Result<Doc<'a>, ExtractError> {
        let mut fuel = Fuel::for_data(data.len());
        let mut nodes = limits
            .max_entries
            .saturating_mul(NODES_PER_ENTRY)
            .saturating_add(data.len() / BYTES_PER_NODE);
        let mut objs: BTreeMap<u32, PdfObj> = BTreeMap::new();
        let mut pos = 0usize;
        while let Some(rel) = find(data.get(pos..).unwrap_or(&[]), b"obj") {
            let at = pos + rel;
            pos = at + 3;
            if data
                .get(at + 3)
                .is_some_and(|&b| !is_space(b) && !is_delim(b))
            {
                continue;
            }
            let Some(num) = object_number(data, at) else {
                continue;
            };
            let mut lx = Lexer::new(data, at + 3);
            let value = parse_counted(&mut lx, &mut fuel, &mut nodes)?;
            let after_value = lx.pos;
            let next = value.as_ref().and_then(|_| lx.next_tok());
            fuel.burn(lx.pos - after_value)?;
            let Some(value) = value else {
                continue;
            };
            if objs.len() >= limits.max_entries && !objs.contains_key(&num) {
                return Err(ExtractError::Bomb);
            }
            let mut stream = None;
            match next {
                Some(Tok::Kw(b"stream")) if matches!(value, Obj::Dict(_)) => {
                    let start = skip_eol(data, lx.pos);
                    let length = value
                        .get(b"Length")
                        .and_then(Obj::as_int)
                        .and_then(|n| usize::try_from(n).ok());
                    let (range, resume) = stream_extent(data, start, length);
                    stream = Some(range);
                    pos = resume;
                }
                Some(Tok::Kw(b"endobj")) => pos = lx.pos,
                _ => pos = after_value,
            }
            objs.insert(num, PdfObj { value, stream });
        }
        if objs.is_empty() {
            return Err(ExtractError::Malformed("pdf: no objects"));
        }
        let mut doc = Doc {
            data,
            objs,
            root: None,
            encrypted: false,
        };
        doc.fix_indirect_lengths();
        doc.read_trailers(&mut fuel, &mut nodes)?;
        doc.expand_object_streams(limits, budget, &mut nodes)?;
        if doc.root.is_none() {
            doc.root = doc
                .objs
                .iter()
                .find(|(_, o)| o.value.get(b"Type").is_some_and(|t| t.is_name(b"Catalog")))
                .map(|(&n, _)| n);
        }
        Ok(doc)
    }

    /// `/Length 12 0 R` could not be resolved while scanning; now it can.
    fn fix_indirect_lengths(&mut self) {
        let fixes: Vec<(u32, Range<usize>)> = self
            .objs
            .iter()
            .filter_map(|(&num, o)| {
                let range = o.stream.as_ref()?;
                let Some(Obj::Ref(len_ref)) = o.value.get(b"Length") else {
                    return None;
                };
                let n = usize::try_from(self.objs.get(len_ref)?.value.as_int()?).ok()?;
                let end = range.start.checked_add(n)?;
                (end <= self.data.len() && endstream_at(self.data, end))
                    .then_some((num, range.start..end))
            })
            .collect();
        for (num, range) in fixes {
            if let Some(o) = self.objs.get_mut(&num) {
                o.stream = Some(range);
            }
        }
    }

    /// Reads `trailer` dictionaries and cross-reference stream dictionaries for `/Root`
    /// and `/Encrypt`.
    fn read_trailers(&mut self, fuel: &mut Fuel, nodes: &mut usize) -> Result<(), ExtractError> {
        let mut trailers = Vec::new();
        let mut pos = 0;
        while let Some(rel) = find(self.data.get(pos..).unwrap_or(&[]), b"trailer") {
            let at = pos + rel + 7;
            let mut lx = Lexer::new(self.data, at);
            trailers.extend(parse_counted(&mut lx, fuel, nodes)?);
            pos = at;
        }
        let xref_streams = self
            .objs
            .values()
            .map(|o| &o.value)
            .filter(|v| v.get(b"Type").is_some_and(|t| t.is_name(b"XRef")));
        let mut encrypted = false;
        let mut root = None;
        for d in trailers.iter().chain(xref_streams) {
            if d.get(b"Encrypt").is_some_and(|e| *e != Obj::Null) {
                encrypted = true;
            }
            if let Some(Obj::Ref(r)) = d.get(b"Root") {
                root = Some(*r);
            }
        }
        self.encrypted |= encrypted;
        if root.is_some() {
            self.root = root;
        }
        Ok(())
    }

    /// Adds the objects compressed in `/Type /ObjStm` streams (PDF 1.5+). An object also
    /// defined directly in the file keeps its direct definition.
    fn expand_object_streams(
        &mut self,
        limits: &Limits,
        budget: &mut Budget,
        nodes: &mut usize,
    ) -> Result<(), ExtractError> {
        let mut found: Vec<(u32, Obj)> = Vec::new();
        for o in self.objs.values() {
            if !o.value.get(b"Type").is_some_and(|t| t.is_name(b"ObjStm")) {
                continue;
            }
            let Some(data) = self.stream_data(o, budget)? else {
                continue;
            };
            let first = o.value.get(b"First").and_then(Obj::as_int).unwrap_or(0);
            let count = o.value.get(b"N").and_then(Obj::as_int).unwrap_or(0);
            let (Ok(first), Ok(count)) = (usize::try_from(first), usize::try_from(count)) else {
                continue;
            };
            let mut lx = Lexer::new(&data, 0);
            let mut index = Vec::new();
            for _ in 0..count.min(limits.max_entries) {
                match (lx.next_tok(), lx.next_tok()) {
                    (Some(Tok::Int(n)), Some(Tok::Int(off))) => {
                        if let (Ok(n), Ok(off)) = (u32::try_from(n), usize::try_from(off)) {
                            index.push((n, off));
                        }
                    }
                    _ => break,
                }
            }
            // Offsets may overlap or repeat; bound the lexing as for the file itself.
            let mut fuel = Fuel::for_data(data.len());
            for (n, off) in index {
                if self.objs.contains_key(&n) {
                    continue;
                }
                let Some(at) = first.checked_add(off).filter(|&a| a <= data.len()) else {
                    continue;
                };
                let mut lx = Lexer::new(&data, at);
                if let Some(value) = parse_counted(&mut lx, &mut fuel, nodes)? {
                    if self.objs.len() + found.len() >= limits.max_entries {
                        return Err(ExtractError::Bomb);
                    }
                    found.push((n, value));
                }
            }
        }
        for (n, value) in found {
            self.objs.entry(n).or_insert(PdfObj {
                value,
                stream: None,
            });
        }
        Ok(())
    }

    /// Follows references (a bounded number of hops); missing objects are null.
    fn resolve<'o>(&'o self, obj: &'o Obj) -> &'o Obj {
        let mut cur = obj;
        for _ in 0..MAX_HOPS {
            match cur {
                Obj::Ref(n) => match self.objs.get(n) {
                    Some(o) => cur = &o.value,
                    None => return &NULL,
                },
                _ => return cur,
            }
        }
        &NULL
    }

    fn get(&self, num: u32) -> Option<&PdfObj> {
        self.objs.get(&num)
    }

    /// The decoded data of a stream object, or `None` when it uses a filter we do not
    /// support (images, mostly) or is not a stream.
    fn stream_data(
        &self,
        o: &PdfObj,
        budget: &mut Budget,
    ) -> Result<Option<Cow<'a, [u8]>>, ExtractError> {
        let Some(range) = &o.stream else {
            return Ok(None);
        };
        let raw: &'a [u8] = self.data.get(range.clone()).unwrap_or(&[]);
        let filters: Vec<&[u8]> = match o.value.get(b"Filter").map(|f| self.resolve(f)) {
            None | Some(Obj::Null) => Vec::new(),
            Some(Obj::Name(n)) => vec![n.as_slice()],
            Some(Obj::Array(items)) => {
                match items.iter().map(|f| self.resolve(f).as_name()).collect() {
                    Some(names) => names,
                    None => return Ok(None),
                }
            }
            Some(_) => return Ok(None),
        };
        if filters.iter().any(|f| *f != b"FlateDecode" && *f != b"Fl") {
            return Ok(None);
        }
        let predictor = |p: &Obj| {
            self.resolve(p)
                .get(b"Predictor")
                .and_then(Obj::as_int)
                .is_some_and(|v| v > 1)
        };
        let uses_predictor = match o.value.get(b"DecodeParms").map(|p| self.resolve(p)) {
            Some(Obj::Array(items)) => items.iter().any(predictor),
            Some(p) => predictor(p),
            None => false,
        };
        if uses_predictor {
            return Ok(None);
        }
        let mut data = Cow::Borrowed(raw);
        for _ in filters {
            let wrapper = if inflate::has_zlib_header(&data) {
                Wrapper::Zlib
            } else {
                Wrapper::Raw
            };
            // Damaged streams keep what inflated before the damage.
            data = Cow::Owned(inflate::inflate(&data, wrapper, budget)?.data);
        }
        Ok(Some(data))
    }

    /// Pages in document order with their (possibly inherited) `/Resources`.
    fn pages(&self, limits: &Limits) -> Vec<(u32, &Obj)> {
        let from_tree = self.page_tree(limits);
        if !from_tree.is_empty() {
            return from_tree;
        }
        // No usable page tree: every page object, in object-number order.
        self.objs
            .iter()
            .filter_map(|(&n, o)| {
                let o = &o.value;
                if !o.get(b"Type").is_some_and(|t| t.is_name(b"Page")) {
                    return None;
                }
                let mut node = o;
                for _ in 0..MAX_HOPS {
                    if let Some(r) = node.get(b"Resources") {
                        return Some((n, r));
                    }
                    node = self.resolve(node.get(b"Parent")?);
                }
                Some((n, &NULL))
            })
            .collect()
    }

    fn page_tree(&self, limits: &Limits) -> Vec<(u32, &Obj)> {
        let mut out = Vec::new();
        let Some(catalog) = self.root.and_then(|r| self.get(r)) else {
            return out;
        };
        let Some(Obj::Ref(top)) = catalog.value.get(b"Pages") else {
            return out;
        };
        let mut seen = HashSet::new();
        let mut stack = vec![(*top, &NULL, 0usize)];
        while let Some((num, inherited, depth)) = stack.pop() {
            if depth > MAX_HOPS || !seen.insert(num) || seen.len() > limits.max_entries {
                continue;
            }
            let Some(node) = self.get(num).map(|o| &o.value) else {
                continue;
            };
            let resources = node.get(b"Resources").unwrap_or(inherited);
            let is_page = node.get(b"Type").is_some_and(|t| t.is_name(b"Page"));
            match node.get(b"Kids").map(|k| self.resolve(k)) {
                Some(Obj::Array(kids)) if !is_page => {
                    for kid in kids.iter().rev() {
                        if let Obj::Ref(k) = kid {
                            stack.push((*k, resources, depth + 1));
                        }
                    }
                }
                _ if is_page || node.get(b"Contents").is_some() => out.push((num, resources)),
                _ => {}
            }
        }
        out
    }

    /// Values of filled-in form fields (with the field name, a useful context word such
    /// as 氏名) and the text of annotations (comments, sticky notes).
    fn fields_and_comments(&self, sink: &mut Sink) {
        for o in self.objs.values() {
            let v = &o.value;
            let value = v.get(b"V").map(|x| self.resolve(x));
            if let (Some(Obj::Str(name)), Some(Obj::Str(value))) = (v.get(b"T"), value) {
                sink.push_str(&text_string(name));
                sink.space();
                sink.push_str(&text_string(value));
                sink.newline();
            } else if v.get(b"Rect").is_some()
                && !v.get(b"Type").is_some_and(|t| t.is_name(b"Sig"))
                && let Some(Obj::Str(text)) = v.get(b"Contents")
            {
                sink.push_str(&text_string(text));
                sink.newline();
            }
            if sink.is_full() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_headers_are_recognised() {
        let d = b"x\n12 0 obj\n3 0obj endobj 1 0 obj";
        assert_eq!(object_number(d, 7), Some(12));
        assert_eq!(object_number(d, 14), Some(3));
        assert_eq!(object_number(d, 21), None); // endobj
        assert_eq!(object_number(b"a12 0 obj", 6), None);
        assert_eq!(object_number(b"obj", 0), None);
    }

    #[test]
    fn stream_extents_prefer_a_valid_length() {
        let d = b"stream\nabcendstream\nendstream";
        assert_eq!(stream_extent(d, 7, Some(3)).0, 7..10);
        // Bogus length: the first endstream ends it.
        assert_eq!(stream_extent(d, 7, Some(5)).0, 7..10);
        assert_eq!(stream_extent(d, 7, Some(9999)).0, 7..10);
        assert_eq!(stream_extent(b"stream\nabc", 7, None), (7..10, 10));
    }

    #[test]
    fn text_strings_decode() {
        assert_eq!(text_string(b"\xFE\xFF\x6C\x0F\x54\x0D"), "氏名");
        assert_eq!(text_string(b"Caf\xE9"), "Café");
    }
}
