//! Content-stream interpretation for text (ISO 32000-1 §9.4).
//!
//! Only what decides *which* text is shown and *where lines break* is tracked: the
//! current font (`Tf`), the text and line matrices (`BT`, `Td`, `TD`, `Tm`, `T*`, `TL`),
//! the CTM with `q`/`Q`/`cm`, and form XObjects (`Do`). Glyph widths are not read; the
//! advance after a string is estimated (an em per two-byte code, 0.6 em per one-byte
//! code), which errs towards gluing runs together — right for Japanese and for digits
//! positioned one by one — and inserts a space only across a clear gap. A move to another
//! baseline starts a new line.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use encoding_rs::{EUC_JP, SHIFT_JIS};

use super::cmap::{CMap, push_utf16_be};
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
    cmap: Option<Rc<CMap>>,
    encoding: Encoding,
    two_byte: bool,
}

impl Font {
    /// Whether the font is composite (Type0): it decides how codes are read.
    fn is_two_byte(doc: &Doc<'_>, dict: &Obj) -> bool {
        dict.get(b"Subtype")
            .is_some_and(|s| doc.resolve(s).is_name(b"Type0"))
    }

    fn new(doc: &Doc<'_>, dict: &Obj, cmap: Option<Rc<CMap>>) -> Font {
        let two_byte = Font::is_two_byte(doc, dict);
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
        Font {
            cmap,
            encoding,
            two_byte,
        }
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
                push_utf16_be(bytes, out);
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

/// The address of an object in the document, as an identity (see [`FontKey::Direct`]).
fn address(obj: &Obj) -> usize {
    std::ptr::from_ref(obj) as usize
}

/// Decoded stream data: borrowed from the file when unfiltered, inflated otherwise.
type Data<'a> = Rc<Cow<'a, [u8]>>;

/// What interpretation costs besides the content itself, per run (page or form use).
const RUN_COST: usize = 256;

pub(crate) struct Extractor<'d, 'a> {
    doc: &'d Doc<'a>,
    budget: Budget,
    fonts: Vec<Font>,
    font_index: HashMap<FontKey, usize>,
    /// Parsed `/ToUnicode` CMaps by stream object and font kind: fonts may share one.
    cmaps: HashMap<(u32, bool), Option<Rc<CMap>>>,
    /// Decoded form XObjects and page contents used by several pages, by object number
    /// (`None`: not a stream we can decode), so that each is inflated, and charged to the
    /// budget, once. Content used by one page only is not kept.
    streams: HashMap<u32, Option<Data<'a>>>,
    /// Content streams listed more than once in the pages' `/Contents`.
    shared_content: HashSet<u32>,
    /// Runs of a stream with a resource dictionary (by address) that showed no text, moved
    /// to no new line and called nothing that might: running them again would change
    /// nothing, so they are skipped (a letterhead form drawn on every page, say).
    textless: HashSet<(u32, usize)>,
    /// Content bytes interpreted so far, including every use of shared content; see
    /// [`Extractor::new`] for the bound.
    interpreted: u64,
    max_interpreted: u64,
    text: String,
}

impl<'d, 'a> Extractor<'d, 'a> {
    /// Interpretation is bounded by the inflate limit and by 16 × the file size + 16 MiB:
    /// real documents interpret about as much content as they inflate, while a small file
    /// that reuses one stream thousands of times would otherwise cost seconds of CPU and,
    /// when one page lists a stream many times, memory.
    pub(crate) fn new(
        doc: &'d Doc<'a>,
        budget: Budget,
        limits: &Limits,
        pages: &[(u32, &Obj)],
    ) -> Self {
        let by_size = (doc.data.len() as u64)
            .saturating_mul(16)
            .saturating_add(16 << 20);
        let mut seen = HashSet::new();
        let mut shared_content = HashSet::new();
        for &(page, _) in pages {
            for part in content_parts(doc, page) {
                if !seen.insert(part) {
                    shared_content.insert(part);
                }
            }
        }
        Extractor {
            doc,
            budget,
            fonts: Vec::new(),
            font_index: HashMap::new(),
            cmaps: HashMap::new(),
            streams: HashMap::new(),
            shared_content,
            textless: HashSet::new(),
            interpreted: 0,
            max_interpreted: limits.max_inflated_bytes.min(by_size),
            text: String::new(),
        }
    }

    /// Counts `n` bytes of content about to be interpreted (or copied for it).
    fn charge(&mut self, n: usize) -> Result<(), ExtractError> {
        self.interpreted = self.interpreted.saturating_add(n as u64);
        if self.interpreted > self.max_interpreted {
            return Err(ExtractError::Bomb);
        }
        Ok(())
    }

    /// The decoded data of stream object `num`, from the cache when it is there; `keep`
    /// puts it there.
    fn stream(&mut self, num: u32, keep: bool) -> Result<Option<Data<'a>>, ExtractError> {
        if let Some(data) = self.streams.get(&num) {
            return Ok(data.clone());
        }
        let data = match self.doc.get(num) {
            Some(o) => self.doc.stream_data(o, &mut self.budget)?.map(Rc::new),
            None => None,
        };
        if keep {
            self.streams.insert(num, data.clone());
        }
        Ok(data)
    }

    /// Appends the text of one page.
    pub(crate) fn page(
        &mut self,
        num: u32,
        resources: &'d Obj,
        sink: &mut Sink,
    ) -> Result<(), ExtractError> {
        let doc = self.doc;
        let resources = doc.resolve(resources);
        let mut parts = Vec::new();
        for part in content_parts(doc, num) {
            let keep = self.shared_content.contains(&part);
            if let Some(data) = self.stream(part, keep)? {
                parts.push((part, data));
            }
        }
        let mut state = TextState::new();
        match parts.as_slice() {
            [] => {}
            // One stream (the usual case) is interpreted where it is.
            [(part, data)] => {
                let key = (*part, address(resources));
                if !self.textless.contains(&key) {
                    self.charge(data.len())?;
                    if !self.run(data, resources, &mut state, &mut Vec::new(), sink)? {
                        self.textless.insert(key);
                    }
                }
            }
            // The streams of one page form one content stream: a token may span two of
            // them. Each is charged before it is copied.
            _ => {
                let mut content = Vec::new();
                for (_, data) in &parts {
                    self.charge(data.len() + 1)?;
                    content.extend_from_slice(data);
                    content.push(b'\n');
                }
                self.run(&content, resources, &mut state, &mut Vec::new(), sink)?;
            }
        }
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
            other => FontKey::Direct(address(other)),
        };
        if let Some(&i) = self.font_index.get(&key) {
            return Ok(Some(i));
        }
        let dict = doc.resolve(font);
        let cmap = match dict.get(b"ToUnicode") {
            Some(Obj::Ref(n)) => self.cmap(*n, Font::is_two_byte(doc, dict))?,
            _ => None,
        };
        self.fonts.push(Font::new(doc, dict, cmap));
        let i = self.fonts.len() - 1;
        self.font_index.insert(key, i);
        Ok(Some(i))
    }

    /// The parsed `/ToUnicode` CMap in stream object `num`, parsed once.
    fn cmap(&mut self, num: u32, two_byte: bool) -> Result<Option<Rc<CMap>>, ExtractError> {
        if let Some(cmap) = self.cmaps.get(&(num, two_byte)) {
            return Ok(cmap.clone());
        }
        let cmap = self
            .stream(num, false)?
            .map(|data| Rc::new(CMap::parse(&data, two_byte)));
        self.cmaps.insert((num, two_byte), cmap.clone());
        Ok(cmap)
    }

    /// Interprets `content`, whose bytes the caller has charged. Returns false when the
    /// run showed no text, started no line and called nothing that might have (so that
    /// running the same content with the same resources again would add nothing).
    fn run(
        &mut self,
        content: &[u8],
        resources: &'d Obj,
        state: &mut TextState,
        active: &mut Vec<u32>,
        sink: &mut Sink,
    ) -> Result<bool, ExtractError> {
        // Every run costs something, even an empty form drawn a million times.
        self.charge(RUN_COST)?;
        let mut output = false;
        let mut lx = Lexer::new(content, 0);
        let mut ops: Vec<Operand> = Vec::new();
        while let Some(tok) = lx.next_tok() {
            if sink.is_full() {
                return Ok(true);
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
                    if let Some(m) = matrix(&ops, Operand::num) {
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
                    if let Some(m) = matrix(&ops, Operand::num) {
                        state.tm = m;
                        state.tlm = m;
                    }
                }
                b"T*" => {
                    output = true;
                    state.move_line(0.0, -state.g.leading);
                    sink.newline();
                }
                b"Tj" => {
                    output = true;
                    if let Some(Operand::Str(s)) = ops.last() {
                        self.show(s, state, sink);
                    }
                }
                b"'" | b"\"" => {
                    output = true;
                    state.move_line(0.0, -state.g.leading);
                    sink.newline();
                    if let Some(Operand::Str(s)) = ops.last() {
                        self.show(s, state, sink);
                    }
                }
                b"TJ" => {
                    output = true;
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
                        output |= self.form(name, resources, state, active, sink)?;
                    }
                }
                b"BI" => skip_inline_image(&mut lx),
                _ => {}
            }
            ops.clear();
        }
        Ok(output)
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

    /// Runs a form XObject named in the resources (recursion and depth bounded). Returns
    /// what [`Extractor::run`] does: false when it added nothing and never will.
    fn form(
        &mut self,
        name: &[u8],
        resources: &'d Obj,
        state: &mut TextState,
        active: &mut Vec<u32>,
        sink: &mut Sink,
    ) -> Result<bool, ExtractError> {
        let doc = self.doc;
        let Some(Obj::Ref(num)) = resources
            .get(b"XObject")
            .map(|x| doc.resolve(x))
            .and_then(|x| x.get(name))
        else {
            return Ok(false);
        };
        let num = *num;
        let Some(obj) = doc.get(num) else {
            return Ok(false);
        };
        if !obj
            .value
            .get(b"Subtype")
            .is_some_and(|s| s.is_name(b"Form"))
        {
            return Ok(false);
        }
        // Skipped here, but maybe not from elsewhere.
        if active.len() >= MAX_FORM_DEPTH || active.contains(&num) {
            return Ok(true);
        }
        let form_resources = match obj.value.get(b"Resources").map(|r| doc.resolve(r)) {
            Some(r @ Obj::Dict(_)) => r,
            _ => resources,
        };
        let key = (num, address(form_resources));
        if self.textless.contains(&key) {
            return Ok(false);
        }
        let Some(data) = self.stream(num, true)? else {
            return Ok(false);
        };
        self.charge(data.len())?;
        // The form runs in a graphics state of its own (ISO 32000-1 §8.10.1): whatever it
        // changes, and its unbalanced `q`/`Q`, do not leak to the caller.
        let saved = (
            state.g.clone(),
            state.tm,
            state.tlm,
            std::mem::take(&mut state.saves),
        );
        if let Some(Obj::Array(m)) = obj.value.get(b"Matrix")
            && m.len() == 6
            && let Some(m) = matrix(m, Obj::as_num)
        {
            state.g.ctm = mul(&m, &state.g.ctm);
        }
        active.push(num);
        let result = self.run(&data, form_resources, state, active, sink);
        active.pop();
        (state.g, state.tm, state.tlm, state.saves) = saved;
        let output = result?;
        if !output {
            self.textless.insert(key);
        }
        Ok(output)
    }
}

/// The last six numbers of `items` (the operands of `cm` or `Tm`, a form's `/Matrix`).
fn matrix<T>(items: &[T], num: impl Fn(&T) -> Option<f64>) -> Option<Matrix> {
    let start = items.len().checked_sub(6)?;
    let mut m = [0.0; 6];
    for (slot, item) in m.iter_mut().zip(items.get(start..)?) {
        *slot = num(item)?;
    }
    Some(m)
}

/// The object numbers of a page's content streams, in order.
fn content_parts(doc: &Doc<'_>, page: u32) -> Vec<u32> {
    let refs = |items: &[Obj]| -> Vec<u32> {
        items
            .iter()
            .filter_map(|i| match i {
                Obj::Ref(n) => Some(*n),
                _ => None,
            })
            .collect()
    };
    match doc.get(page).and_then(|p| p.value.get(b"Contents")) {
        Some(Obj::Ref(n)) => match doc.get(*n) {
            Some(o) if o.stream.is_some() => vec![*n],
            // An indirect array of streams.
            Some(PdfObj {
                value: Obj::Array(items),
                ..
            }) => refs(items),
            _ => Vec::new(),
        },
        Some(Obj::Array(items)) => refs(items),
        _ => Vec::new(),
    }
}
