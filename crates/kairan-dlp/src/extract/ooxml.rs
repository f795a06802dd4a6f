//! Office Open XML: which parts of a `.docx`, `.xlsx` or `.pptx` hold text, and how their
//! markup maps to lines and cells.
//!
//! Parts are read one at a time and dropped after their text is taken, so memory is
//! bounded by the largest single part (itself bounded by the inflate budget) plus, for
//! spreadsheets, the shared-string table.

use super::inflate::Budget;
use super::sink::{Sink, floor_char_boundary};
use super::xml::{Event, Reader, attr, local, push_text, push_text_to};
use super::zip::{Archive, Entry};
use super::{DocKind, ExtractError, Limits};

pub(crate) fn extract(
    kind: DocKind,
    bytes: &[u8],
    limits: &Limits,
    sink: &mut Sink,
) -> Result<(), ExtractError> {
    let archive = match Archive::parse(bytes, limits) {
        Ok(a) => a,
        Err(ExtractError::Malformed(_)) if is_encrypted_package(bytes) => {
            return Err(ExtractError::Encrypted);
        }
        Err(e) => return Err(e),
    };
    // One encrypted entry is enough to make the package uninspectable.
    if archive.any_encrypted() {
        return Err(ExtractError::Encrypted);
    }
    let mut budget = Budget::new(limits);
    match kind {
        DocKind::Xlsx => xlsx(&archive, &mut budget, limits, sink),
        DocKind::Pptx => pptx(&archive, &mut budget, sink),
        _ => docx(&archive, &mut budget, sink),
    }
}

/// Office saves password-protected documents as an OLE compound file holding an
/// `EncryptedPackage` stream instead of a zip; recognise it so the caller can say why.
fn is_encrypted_package(bytes: &[u8]) -> bool {
    const OLE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    const NAME: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
    bytes.starts_with(&OLE) && bytes.windows(NAME.len()).any(|w| w == NAME)
}

/// Entries named `{prefix}{N}{suffix}` (or `{prefix}{suffix}`) in numeric order of N, so
/// that slide2 comes before slide10.
fn numbered<'e>(archive: &'e Archive<'_>, prefix: &str, suffix: &str) -> Vec<&'e Entry> {
    let mut found: Vec<(u64, &Entry)> = archive
        .entries
        .iter()
        .filter_map(|e| {
            let middle = e.name.strip_prefix(prefix)?.strip_suffix(suffix)?;
            if middle.contains('/') {
                return None;
            }
            let n = if middle.is_empty() {
                0
            } else {
                middle.parse().unwrap_or(u64::MAX)
            };
            Some((n, e))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    found.dedup_by(|a, b| a.1.name == b.1.name);
    found.into_iter().map(|(_, e)| e).collect()
}

fn docx(archive: &Archive<'_>, budget: &mut Budget, sink: &mut Sink) -> Result<(), ExtractError> {
    let main = archive
        .find("word/document.xml")
        .ok_or(ExtractError::Malformed("docx: no word/document.xml"))?;
    let mut parts = vec![main];
    parts.extend(numbered(archive, "word/header", ".xml"));
    parts.extend(numbered(archive, "word/footer", ".xml"));
    for name in [
        "word/footnotes.xml",
        "word/endnotes.xml",
        "word/comments.xml",
    ] {
        parts.extend(archive.find(name));
    }
    read_parts(archive, parts, budget, sink)
}

fn pptx(archive: &Archive<'_>, budget: &mut Budget, sink: &mut Sink) -> Result<(), ExtractError> {
    let mut parts = numbered(archive, "ppt/slides/slide", ".xml");
    if parts.is_empty() && archive.find("ppt/presentation.xml").is_none() {
        return Err(ExtractError::Malformed("pptx: no ppt/presentation.xml"));
    }
    parts.extend(numbered(archive, "ppt/notesSlides/notesSlide", ".xml"));
    read_parts(archive, parts, budget, sink)
}

/// Reads the paragraphs of each part in turn, each part ending its line, until the output
/// is full.
fn read_parts(
    archive: &Archive<'_>,
    parts: Vec<&Entry>,
    budget: &mut Budget,
    sink: &mut Sink,
) -> Result<(), ExtractError> {
    for part in parts {
        let xml = archive.read(part, budget)?;
        paragraphs(&xml, sink);
        sink.newline();
        if sink.is_full() {
            break;
        }
    }
    Ok(())
}

/// Text of WordprocessingML and DrawingML parts (and spreadsheet comments): the content
/// of `t` elements (`w:t`, `a:t`, also deleted text `w:delText`, which is still in the
/// file), tabs, breaks, and a newline per paragraph.
fn paragraphs(xml: &[u8], sink: &mut Sink) {
    let mut in_text = false;
    // Depth inside subtrees whose text duplicates or annotates other text: the fallback
    // rendering of alternate content (text boxes appear twice) and phonetic readings.
    let mut skip = 0u32;
    let mut tab_stops = 0u32;
    let mut buf = String::new();
    for ev in Reader::new(xml) {
        if sink.is_full() {
            return;
        }
        match ev {
            Event::Start { name, empty, .. } => match local(name) {
                b"Fallback" | b"rPh" => skip += u32::from(!empty),
                _ if skip > 0 => {}
                b"t" | b"delText" => in_text = !empty,
                b"tabs" => tab_stops += u32::from(!empty),
                b"tab" | b"ptab" if tab_stops == 0 => sink.tab(),
                b"br" | b"cr" => sink.newline(),
                b"noBreakHyphen" => sink.push_char('-'),
                _ => {}
            },
            Event::End { name } => match local(name) {
                b"Fallback" | b"rPh" => skip = skip.saturating_sub(1),
                _ if skip > 0 => {}
                b"t" | b"delText" => in_text = false,
                b"tabs" => tab_stops = tab_stops.saturating_sub(1),
                b"p" | b"comment" | b"si" => sink.newline(),
                _ => {}
            },
            Event::Text(t) if in_text && skip == 0 => push_text_to(t, &mut buf, sink),
            Event::CData(t) if in_text && skip == 0 => sink.push_str(&String::from_utf8_lossy(t)),
            _ => {}
        }
    }
}

/// The shared-string table, stored flat (one buffer plus offsets) so that a table of
/// millions of short strings costs 8 bytes per string rather than a `String` each.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<u32>,
    used: Vec<bool>,
    /// The table was cut at the text limit: its last item is partial, later ones missing.
    cut: bool,
}

impl SharedStrings {
    fn get(&mut self, i: usize) -> Option<&str> {
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)? as usize,
            None => 0,
        };
        let end = *self.ends.get(i)? as usize;
        if let Some(u) = self.used.get_mut(i) {
            *u = true;
        }
        self.text.get(start..end)
    }

    /// True when item `i` is partial or missing because the table was cut.
    fn lost(&self, i: usize) -> bool {
        self.cut && i.saturating_add(1) >= self.ends.len()
    }

    /// Reads `<si>` items. A table holding more than `max_bytes` of text is cut there
    /// ([`SharedStrings::cut`]): the output could not hold more text than that anyway.
    fn read(&mut self, xml: &[u8], max_bytes: usize) {
        self.cut = !self.read_items(xml, max_bytes);
    }

    fn read_items(&mut self, xml: &[u8], max_bytes: usize) -> bool {
        let mut in_item = false;
        let mut in_text = false;
        let mut phonetic = 0u32;
        for ev in Reader::new(xml) {
            match ev {
                Event::Start { name, empty, .. } => match local(name) {
                    b"si" => {
                        in_item = !empty;
                        if empty && !self.end_item(max_bytes) {
                            return false;
                        }
                    }
                    b"rPh" => phonetic += u32::from(!empty),
                    b"t" => in_text = in_item && !empty && phonetic == 0,
                    _ => {}
                },
                Event::End { name } => match local(name) {
                    b"si" => {
                        in_item = false;
                        if !self.end_item(max_bytes) {
                            return false;
                        }
                    }
                    b"rPh" => phonetic = phonetic.saturating_sub(1),
                    b"t" => in_text = false,
                    _ => {}
                },
                Event::Text(t) if in_text => push_text(t, &mut self.text),
                Event::CData(t) if in_text => self.text.push_str(&String::from_utf8_lossy(t)),
                _ => {}
            }
            if self.text.len() > max_bytes {
                self.text
                    .truncate(floor_char_boundary(&self.text, max_bytes));
                self.end_item(max_bytes);
                return false;
            }
        }
        true
    }

    fn end_item(&mut self, max_bytes: usize) -> bool {
        match u32::try_from(self.text.len()) {
            Ok(end) if self.text.len() <= max_bytes => {
                self.ends.push(end);
                self.used.push(false);
                true
            }
            _ => false,
        }
    }
}

fn xlsx(
    archive: &Archive<'_>,
    budget: &mut Budget,
    limits: &Limits,
    sink: &mut Sink,
) -> Result<(), ExtractError> {
    let sheets = numbered(archive, "xl/worksheets/sheet", ".xml");
    if sheets.is_empty() && archive.find("xl/workbook.xml").is_none() {
        return Err(ExtractError::Malformed("xlsx: no xl/workbook.xml"));
    }
    let mut shared = SharedStrings::default();
    if let Some(sst) = archive.find("xl/sharedStrings.xml") {
        let xml = archive.read(sst, budget)?;
        shared.read(&xml, limits.max_text_bytes);
    }
    for part in sheets {
        let xml = archive.read(part, budget)?;
        sheet(&xml, &mut shared, sink);
        sink.newline();
        if sink.is_full() {
            return Ok(());
        }
    }
    if shared.cut {
        sink.mark_truncated();
        return Ok(());
    }
    // Strings no cell refers to are still in the file; scan them too.
    for i in 0..shared.ends.len() {
        if shared.used.get(i) == Some(&false)
            && let Some(s) = shared.get(i)
            && !s.is_empty()
        {
            sink.push_str(s);
            sink.newline();
        }
    }
    read_parts(
        archive,
        numbered(archive, "xl/comments", ".xml"),
        budget,
        sink,
    )
}

#[derive(Clone, Copy, PartialEq)]
enum CellType {
    /// `t="s"`: `<v>` is an index into the shared strings.
    Shared,
    /// `t="inlineStr"`: the text is in `<is><t>`.
    Inline,
    /// Numbers, booleans, formula results (`t="str"`), errors: `<v>` as written.
    Value,
}

/// One worksheet: cells in document order (row by row), tab-separated, a newline per row.
fn sheet(xml: &[u8], shared: &mut SharedStrings, sink: &mut Sink) {
    let mut cell = CellType::Value;
    let mut in_v = false;
    let mut in_inline = false;
    let mut in_t = false;
    let mut phonetic = 0u32;
    let mut value = String::new();
    let mut row_empty = true;
    for ev in Reader::new(xml) {
        if sink.is_full() {
            return;
        }
        match ev {
            Event::Start { name, attrs, empty } => match local(name) {
                b"row" => row_empty = true,
                b"c" if !empty => {
                    cell = match attr(attrs, b"t") {
                        Some(b"s") => CellType::Shared,
                        Some(b"inlineStr") => CellType::Inline,
                        _ => CellType::Value,
                    };
                    value.clear();
                }
                b"v" => in_v = !empty,
                b"is" => in_inline = !empty,
                b"rPh" => phonetic += u32::from(!empty),
                b"t" => in_t = in_inline && !empty && phonetic == 0,
                _ => {}
            },
            Event::End { name } => match local(name) {
                b"v" => in_v = false,
                b"is" => in_inline = false,
                b"t" => in_t = false,
                b"rPh" => phonetic = phonetic.saturating_sub(1),
                b"c" => {
                    let mut lost = false;
                    let text = match cell {
                        CellType::Shared => match value.trim().parse::<usize>() {
                            Ok(i) => {
                                lost = shared.lost(i);
                                shared.get(i).unwrap_or("")
                            }
                            Err(_) => "",
                        },
                        CellType::Inline | CellType::Value => value.as_str(),
                    };
                    if !text.is_empty() {
                        if !row_empty {
                            sink.tab();
                        }
                        sink.push_str(text);
                        row_empty = false;
                    }
                    if lost {
                        // The rest of this string and of the table were cut at the text
                        // limit: the output ends here, marked incomplete, so that it is
                        // still a prefix of the whole text.
                        sink.mark_truncated();
                        return;
                    }
                    value.clear();
                }
                b"row" if !row_empty => sink.newline(),
                _ => {}
            },
            Event::Text(t) => {
                let wanted = match cell {
                    CellType::Inline => in_t,
                    _ => in_v,
                };
                if wanted {
                    push_text(t, &mut value);
                }
            }
            Event::CData(t) if in_v || in_t => value.push_str(&String::from_utf8_lossy(t)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn para(xml: &str) -> String {
        let mut sink = Sink::new(1 << 20);
        paragraphs(xml.as_bytes(), &mut sink);
        sink.finish().text
    }

    #[test]
    fn word_markup_maps_to_lines_and_tabs() {
        let xml = r#"<w:document><w:body>
            <w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>
              <w:r><w:t>氏名</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">山田 &amp; 太郎</w:t></w:r></w:p>
            <w:p><w:r><w:t>電話</w:t><w:br/><w:t>090</w:t><w:noBreakHyphen/><w:t>1234</w:t></w:r></w:p>
            <w:p><w:del><w:r><w:delText>削除済み</w:delText></w:r></w:del></w:p>
            <mc:AlternateContent><mc:Choice><w:t>箱</w:t></mc:Choice><mc:Fallback><w:t>箱</w:t></mc:Fallback></mc:AlternateContent>
            </w:body></w:document>"#;
        assert_eq!(para(xml), "氏名\t山田 & 太郎\n電話\n090-1234\n削除済み\n箱");
    }

    #[test]
    fn shared_strings_skip_phonetic_readings() {
        let xml = r#"<sst><si><t>山田</t><rPh sb="0" eb="2"><t>ヤマダ</t></rPh></si><si><r><t>a</t></r><r><t>b</t></r></si><si/><si><t>x</t></si></sst>"#;
        let mut s = SharedStrings::default();
        s.read(xml.as_bytes(), 100);
        assert!(!s.cut);
        assert_eq!(s.get(0), Some("山田"));
        assert_eq!(s.get(1), Some("ab"));
        assert_eq!(s.get(2), Some(""));
        assert_eq!(s.get(3), Some("x"));
        assert_eq!(s.get(4), None);
    }

    #[test]
    fn sheet_cells_resolve_shared_strings_in_row_order() {
        let mut s = SharedStrings::default();
        s.read(
            b"<sst><si><t>\xe6\xb0\x8f\xe5\x90\x8d</t></si><si><t>tel</t></si></sst>",
            100,
        );
        assert!(!s.cut);
        let xml = r#"<worksheet><sheetData>
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
            <row r="2"><c r="A2" t="inlineStr"><is><t>山田</t></is></c><c r="B2"><f>1+1</f><v>9012345678</v></c><c r="C2"/></row>
            <row r="3"/>
            </sheetData></worksheet>"#;
        let mut sink = Sink::new(1 << 20);
        sheet(xml.as_bytes(), &mut s, &mut sink);
        assert_eq!(sink.finish().text, "氏名\ttel\n山田\t9012345678\n");
    }

    #[test]
    fn a_cut_shared_string_table_ends_the_sheet_there() {
        let mut s = SharedStrings::default();
        s.read(
            b"<sst><si><t>abc</t></si><si><t>defgh</t></si><si><t>ij</t></si></sst>",
            6,
        );
        assert!(s.cut);
        assert_eq!(s.get(0), Some("abc"));
        assert_eq!(s.get(1), Some("def"));
        assert_eq!(s.get(2), None);
        assert!(!s.lost(0) && s.lost(1) && s.lost(2));
        let xml = r#"<worksheet><sheetData>
            <row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c><v>5</v></c></row>
            <row><c t="s"><v>2</v></c></row>
            </sheetData></worksheet>"#;
        let mut sink = Sink::new(1 << 20);
        sheet(xml.as_bytes(), &mut s, &mut sink);
        let out = sink.finish();
        assert_eq!((out.text.as_str(), out.truncated), ("abc\tdef", true));
    }
}
