//! Content-stream interpretation for text (ISO 32000-1 §9.4).
//!
//! Only what decides *which* text is shown and *where lines break* is tracked: the
//! current font (`Tf`), the text and line matrices (`BT`, `Td`, `TD`, `Tm`, `T*`, `TL`),
//! the CTM with `q`/`Q`/`cm`, and form XObjects (`Do`). Glyph widths are not read; the
//! advance after a string is estimated (an em per two-byte code, 0.6 em per one-byte
//! code), which errs towards gluing runs together — right for Japanese and for digits
//! positioned one by one — and inserts a space only across a clear gap. A move to another
//! baseline starts a new line.

use std::collections::HashMap;

use encoding_rs::{EUC_JP, SHIFT_JIS};

use super::cmap::{CMap, push_utf16};
use super::lex::{Lexer, MAX_DEPTH, Obj, Tok, is_delim, is_space};
use super::{Doc, PdfObj};
use crate::extract::inflate::Budget;
use crate::extract::sink::Sink;
use crate::extract::text::{decode_append, push_cp1252};
use crate::extract::xml::find;
use crate::extract::{ExtractError, Limits};

/// Deepest nesting of form XObjects followed.
const MAX_FORM_DEPTH: usize = 8;
/// Deepest `q` nesting tracked; deeper saves are ignored.
const MAX_SAVES: usize = 64;
/// Operands kept before an operator; more means the stream is not a content stream.
const MAX_OPERANDS: usize = 256;
/// A `TJ` adjustment below this (thousandths of an em) is taken as a word gap.
const TJ_SPACE: f64 = -200.0;

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn translate(tx: f64, ty: f64) -> Matrix {
    [1.0, 0.0, 0.0, 1.0, tx, ty]
}

#[derive(Clone, Copy)]
enum Encoding {
    /// Simple fonts: one byte per code, read as Windows-1252.
    Latin,
    /// Composite fonts with a Unicode CMap (`UniJIS-UCS2-H`, `UniJIS-UTF16-H` …).
    Utf16,
    /// Composite fonts with a Shift_JIS CMap (`90ms-RKSJ-H` …).
    ShiftJis,
    /// Composite fonts with an EUC-JP CMap (`EUC-H`).
    EucJp,
    /// Composite fonts with CIDs we cannot map (`Identity-H` without `/ToUnicode`).
    Unknown,
}

pub(crate) struct Font {
    cmap: Option<CMap>,
    encoding: Encoding,
    two_byte: bool,
}

impl Font {
    fn load(doc: &Doc<'_>, dict: &Obj, budget: &mut Budget) -> Result<Font, ExtractError> {
        let two_byte = dict
            .get(b"Subtype")
            .is_some_and(|s| doc.resolve(s).is_name(b"Type0"));
        let cmap = match dict.get(b"ToUnicode") {
            Some(Obj::Ref(n)) => match doc.get(*n) {
                Some(o) => doc
                    .stream_data(o, budget)?
                    .map(|d| CMap::parse(&d, two_byte)),
                None => None,
            },
            _ => None,
        };
        let name = dict
            .get(b"Encoding")
            .and_then(|e| doc.resolve(e).as_name())
            .unwrap_or(b"");
        let has = |part: &[u8]| find(name, part).is_some();
        let encoding = if !two_byte {
            Encoding::Latin
        } else if has(b"UCS2") || has(b"UTF16") {
            Encoding::Utf16
        } else if has(b"RKSJ") {
            Encoding::ShiftJis
        } else if has(b"EUC") {
            Encoding::EucJp
        } else {
            Encoding::Unknown
        };
        Ok(Font {
            cmap,
            encoding,
            two_byte,
        })
    }

    /// Appends the text of a shown string; returns its number of glyphs.
    fn decode(&self, bytes: &[u8], out: &mut String) -> usize {
        if let Some(cmap) = &self.cmap {
            return cmap.decode(bytes, !self.two_byte, out);
        }
        let start = out.len();
        let glyphs = match self.encoding {
            Encoding::Latin => {
                push_cp1252(bytes, out);
                bytes.len()
            }
            Encoding::Utf16 => {
                push_utf16(
                    bytes
                        .chunks_exact(2)
                        .map(|p| u16::from_be_bytes([p[0], p[1]])),
                    out,
                );
                bytes.len() / 2
            }
            Encoding::ShiftJis => {
                decode_append(SHIFT_JIS, bytes, out);
                out.get(start..).map_or(0, |s| s.chars().count())
            }
            Encoding::EucJp => {
                decode_append(EUC_JP, bytes, out);
                out.get(start..).map_or(0, |s| s.chars().count())
            }
            Encoding::Unknown => bytes.len() / 2,
        };
        // Subset fonts without a ToUnicode map often use codes 1, 2, 3 …: not text.
        if out
            .get(start..)
            .is_some_and(|s| s.chars().any(char::is_control))
        {
            let tail: String = out
                .get(start..)
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            out.truncate(start);
            out.push_str(&tail);
        }
        glyphs
    }

    fn em_per_glyph(&self) -> f64 {
        if self.two_byte { 1.0 } else { 0.6 }
    }
}

/// Graphics state saved by `q` and restored by `Q` (the part of it we track).
#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<usize>,
    size: f64,
    leading: f64,
}

struct TextState {
    g: GState,
    saves: Vec<GState>,
    tm: Matrix,
    tlm: Matrix,
    /// Device position where the previous string ended (estimated) and its baseline.
    last: Option<(f64, f64)>,
}

impl TextState {
    fn new() -> TextState {
        TextState {
            g: GState {
                ctm: IDENTITY,
                font: None,
                size: 1.0,
                leading: 0.0,
            },
            saves: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            last: None,
        }
    }

    fn move_line(&mut self, tx: f64, ty: f64) {
        self.tlm = mul(&translate(tx, ty), &self.tlm);
        self.tm = self.tlm;
    }
}

#[derive(Debug)]
enum Operand {
    Num(f64),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    Other,
}

impl Operand {
    fn num(&self) -> Option<f64> {
        match self {
            Operand::Num(n) => Some(*n),
            _ => None,
        }
    }
}

/// An operand from its first token; arrays and dictionaries nest at most [`MAX_DEPTH`]
/// deep (deeper openers become `Other` without recursing).
fn operand(lx: &mut Lexer<'_>, tok: Tok<'_>, depth: usize) -> Operand {
    match tok {
        Tok::Int(i) => Operand::Num(i as f64),
        Tok::Real(r) => Operand::Num(r),
        Tok::Str(s) => Operand::Str(s),
        Tok::Name(n) => Operand::Name(n),
        Tok::ArrOpen if depth < MAX_DEPTH => {
            let mut items = Vec::new();
            loop {
                match lx.next_tok() {
                    None | Some(Tok::ArrClose) | Some(Tok::Kw(_)) => break,
                    Some(t) => items.push(operand(lx, t, depth + 1)),
                }
            }
            Operand::Array(items)
        }
        Tok::DictOpen if depth < MAX_DEPTH => {
            // Marked-content property lists: read past them, keep nothing.
            loop {
                match lx.next_tok() {
                    None | Some(Tok::DictClose) => break,
                    Some(t) => {
                        operand(lx, t, depth + 1);
                    }
                }
            }
            Operand::Other
        }
        _ => Operand::Other,
    }
}

/// Skips an inline image (`BI … ID <binary> EI`), whose binary data would otherwise be
/// lexed as operators and strings.
fn skip_inline_image(lx: &mut Lexer<'_>) {
    loop {
        match lx.next_tok() {
            None => return,
            Some(Tok::Kw(b"ID")) => break,
            Some(_) => {}
        }
    }
    let data = lx.buf;
    let mut from = lx.pos + 1;
    while let Some(rel) = data.get(from..).and_then(|d| find(d, b"EI")) {
        let at = from + rel;
        let before = at > 0 && data.get(at - 1).is_some_and(|&b| is_space(b));
        let after = data.get(at + 2).is_none_or(|&b| is_space(b) || is_delim(b));
        if before && after {
            lx.pos = at + 2;
            return;
        }
        from = at + 2;
    }
    lx.pos = data.len();
}

#[derive(PartialEq, Eq, Hash)]
enum FontKey {
    Ref(u32),
    /// A font dictionary written directly in a resource dictionary, keyed by address: it
    /// lives in the document, which is not changed while the extractor borrows it.
    Direct(usize),
}

pub(crate) struct Extractor<'d, 'a> {
    doc: &'d Doc<'a>,
    budget: Budget,
    fonts: Vec<Font>,
    font_index: HashMap<FontKey, usize>,
    /// Content bytes interpreted so far. Shared content (a form on every page, one stream
    /// listed by many pages) is interpreted once per use, so a small file could otherwise
    /// demand unbounded work; see [`Extractor::new`] for the bound.
    interpreted: u64,
    max_interpreted: u64,
    text: String,
}

impl<'d, 'a> Extractor<'d, 'a> {
    /// Interpretation is bounded by the inflate limit and by 16 × the file size + 16 MiB:
    /// real documents interpret about as much content as they inflate, while a small file
    /// that reuses one stream thousands of times would otherwise cost seconds of CPU.
    pub(crate) fn new(doc: &'d Doc<'a>, budget: Budget, limits: &Limits) -> Self {
        let by_size = (doc.data.len() as u64)
            .saturating_mul(16)
            .saturating_add(16 << 20);
        Extractor {
            doc,
            budget,
            fonts: Vec::new(),
            font_index: HashMap::new(),
            interpreted: 0,
            max_interpreted: limits.max_inflated_bytes.min(by_size),
            text: String::new(),
        }
    }

    /// Appends the text of one page.
    pub(crate) fn page(
        &mut self,
        num: u32,
        resources: &'d Obj,
        sink: &mut Sink,
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let Some(page) = doc.get(num) else {
            return Ok(());
        };
        let mut parts: Vec<&PdfObj> = Vec::new();
        match page.value.get(b"Contents") {
            Some(Obj::Ref(n)) => match doc.get(*n) {
                Some(o) if o.stream.is_some() => parts.push(o),
                // An indirect array of streams.
                Some(o) => {
                    if let Obj::Array(items) = &o.value {
                        parts.extend(refs(doc, items));
                    }
                }
                None => {}
            },
            Some(Obj::Array(items)) => parts.extend(refs(doc, items)),
            _ => {}
        }
        // The streams of one page form one content stream: a token may span two of them.
        let mut content = Vec::new();
        for part in parts {
            if let Some(data) = doc.stream_data(part, &mut self.budget)? {
                content.extend_from_slice(&data);
                content.push(b'\n');
            }
        }
        let resources = doc.resolve(resources);
        let mut state = TextState::new();
        self.run(&content, resources, &mut state, 0, &mut Vec::new(), sink)?;
        sink.newline();
        Ok(())
    }

    fn font(&mut self, resources: &'d Obj, name: &[u8]) -> Result<Option<usize>, ExtractError> {
        let doc = self.doc;
        let Some(font) = resources
            .get(b"Font")
            .map(|f| doc.resolve(f))
            .and_then(|fonts| fonts.get(name))
        else {
            return Ok(None);
        };
        let key = match font {
            Obj::Ref(n) => FontKey::Ref(*n),
            other => FontKey::Direct(std::ptr::from_ref(other) as usize),
        };
        if let Some(&i) = self.font_index.get(&key) {
            return Ok(Some(i));
        }
        let loaded = Font::load(doc, doc.resolve(font), &mut self.budget)?;
        self.fonts.push(loaded);
        let i = self.fonts.len() - 1;
        self.font_index.insert(key, i);
        Ok(Some(i))
    }

    fn run(
        &mut self,
        content: &[u8],
        resources: &'d Obj,
        state: &mut TextState,
        depth: usize,
        active: &mut Vec<u32>,
        sink: &mut Sink,
    ) -> Result<(), ExtractError> {
        // Every run costs something, even an empty form drawn a million times.
        self.interpreted += content.len() as u64 + 256;
        if self.interpreted > self.max_interpreted {
            return Err(ExtractError::Bomb);
        }
        let mut lx = Lexer::new(content, 0);
        let mut ops: Vec<Operand> = Vec::new();
        while let Some(tok) = lx.next_tok() {
            if sink.is_full() {
                return Ok(());
            }
            let Tok::Kw(op) = tok else {
                if ops.len() >= MAX_OPERANDS {
                    ops.clear();
                }
                let o = operand(&mut lx, tok, 0);
                ops.push(o);
                continue;
            };
            let n = |i: usize| {
                ops.len()
                    .checked_sub(i)
                    .and_then(|k| ops.get(k))
                    .and_then(Operand::num)
            };
            match op {
                b"q" if state.saves.len() < MAX_SAVES => state.saves.push(state.g.clone()),
                b"Q" => {
                    if let Some(g) = state.saves.pop() {
                        state.g = g;
                    }
                }
                b"cm" => {
                    if let Some(m) = matrix(&ops) {
                        state.g.ctm = mul(&m, &state.g.ctm);
                    }
                }
                b"BT" => {
                    state.tm = IDENTITY;
                    state.tlm = IDENTITY;
                }
                b"Tf" => {
                    if let (Some(Operand::Name(name)), Some(size)) =
                        (ops.len().checked_sub(2).and_then(|k| ops.get(k)), n(1))
                    {
                        state.g.font = self.font(resources, name)?;
                        state.g.size = size;
                    }
                }
                b"TL" => state.g.leading = n(1).unwrap_or(state.g.leading),
                b"Td" | b"TD" => {
                    if let (Some(tx), Some(ty)) = (n(2), n(1)) {
                        if op == b"TD" {
                            state.g.leading = -ty;
                        }
                        state.move_line(tx, ty);
                    }
                }
                b"Tm" => {
                    if let Some(m) = matrix(&ops) {
                        state.tm = m;
                        state.tlm = m;
                    }
                }
                b"T*" => {
                    state.move_line(0.0, -state.g.leading);
                    sink.newline();
                }
                b"Tj" => {
                    if let Some(Operand::Str(s)) = ops.last() {
                        self.show(s, state, sink);
                    }
                }
                b"'" | b"\"" => {
                    state.move_line(0.0, -state.g.leading);
                    sink.newline();
                    if let Some(Operand::Str(s)) = ops.last() {
                        self.show(s, state, sink);
                    }
                }
                b"TJ" => {
                    if let Some(Operand::Array(items)) = ops.last() {
                        for item in items {
                            match item {
                                Operand::Str(s) => self.show(s, state, sink),
                                Operand::Num(adj) => {
                                    if *adj < TJ_SPACE && !sink.at_line_start() {
                                        sink.space();
                                    }
                                    let dx = -adj / 1000.0 * state.g.size;
                                    state.tm = mul(&translate(dx, 0.0), &state.tm);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                b"Do" => {
                    if let Some(Operand::Name(name)) = ops.last() {
                        self.form(name, resources, state, depth, active, sink)?;
                    }
                }
                b"BI" => skip_inline_image(&mut lx),
                _ => {}
            }
            ops.clear();
        }
        Ok(())
    }

    /// Shows one string: line break or word gap from the position, then the text.
    fn show(&mut self, bytes: &[u8], state: &mut TextState, sink: &mut Sink) {
        let font = state.g.font.and_then(|i| self.fonts.get(i));
        self.text.clear();
        let (glyphs, em) = match font {
            Some(f) => (f.decode(bytes, &mut self.text), f.em_per_glyph()),
            None => {
                push_cp1252(bytes, &mut self.text);
                (bytes.len(), 0.6)
            }
        };
        let m = mul(&state.tm, &state.g.ctm);
        let (x, y) = (m[4], m[5]);
        // The font size in device space, for the tolerances below.
        let size = (state.g.size * m[2].hypot(m[3])).abs();
        let size = if size.is_finite() && size > 0.0 {
            size
        } else {
            1.0
        };
        if let Some((last_x, last_y)) = state.last {
            if (y - last_y).abs() > size * 0.5 {
                sink.newline();
            } else if x - last_x > size {
                sink.space();
            }
        }
        sink.push_str(&self.text);
        let advance = glyphs as f64 * em * state.g.size;
        state.tm = mul(&translate(advance, 0.0), &state.tm);
        let end = mul(&state.tm, &state.g.ctm);
        state.last = Some((end[4], y));
    }

    /// Runs a form XObject named in the resources (recursion and depth bounded).
    fn form(
        &mut self,
        name: &[u8],
        resources: &'d Obj,
        state: &mut TextState,
        depth: usize,
        active: &mut Vec<u32>,
        sink: &mut Sink,
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let Some(Obj::Ref(num)) = resources
            .get(b"XObject")
            .map(|x| doc.resolve(x))
            .and_then(|x| x.get(name))
        else {
            return Ok(());
        };
        if depth >= MAX_FORM_DEPTH || active.contains(num) {
            return Ok(());
        }
        let Some(obj) = doc.get(*num) else {
            return Ok(());
        };
        if !obj
            .value
            .get(b"Subtype")
            .is_some_and(|s| s.is_name(b"Form"))
        {
            return Ok(());
        }
        let Some(data) = doc.stream_data(obj, &mut self.budget)? else {
            return Ok(());
        };
        let form_resources = match obj.value.get(b"Resources").map(|r| doc.resolve(r)) {
            Some(r @ Obj::Dict(_)) => r,
            _ => resources,
        };
        let saved = (state.g.clone(), state.tm, state.tlm);
        if let Some(Obj::Array(m)) = obj.value.get(b"Matrix") {
            let nums: Vec<f64> = m.iter().filter_map(Obj::as_num).collect();
            if let [a, b, c, d, e, f] = nums[..] {
                state.g.ctm = mul(&[a, b, c, d, e, f], &state.g.ctm);
            }
        }
        active.push(*num);
        let result = self.run(&data, form_resources, state, depth + 1, active, sink);
        active.pop();
        (state.g, state.tm, state.tlm) = saved;
        result
    }
}

/// The six numbers before a `cm` or `Tm` operator.
fn matrix(ops: &[Operand]) -> Option<Matrix> {
    let start = ops.len().checked_sub(6)?;
    let mut m = [0.0; 6];
    for (slot, op) in m.iter_mut().zip(ops.get(start..)?) {
        *slot = op.num()?;
    }
    Some(m)
}

/// The stream objects an array of references points to.
fn refs<'d>(doc: &'d Doc<'_>, items: &[Obj]) -> Vec<&'d PdfObj> {
    items
        .iter()
        .filter_map(|i| match i {
            Obj::Ref(n) => doc.get(*n),
            _ => None,
        })
        .collect()
}
