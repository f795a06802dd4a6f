//! Builders for real test documents: a small zip writer (stored and deflated entries),
//! minimal .docx/.xlsx/.pptx packages, and hand-made PDFs. Shared by `tests/extract.rs`
//! and `benches/scan.rs`.

// Not every user needs every builder; a builder misused by a test may panic.
#![allow(dead_code, clippy::panic)]

use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip writer producing archives that real tools open.
#[derive(Default)]
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    count: usize,
}

pub struct RawEntry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub method: u16,
    pub flags: u16,
    pub crc: u32,
    pub uncompressed: u32,
}

impl ZipWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry, deflated or stored.
    pub fn add(&mut self, name: &str, data: &[u8], deflate: bool) -> &mut Self {
        let packed = if deflate {
            compress_to_vec(data, 6)
        } else {
            data.to_vec()
        };
        self.add_raw(RawEntry {
            name,
            data: &packed,
            method: if deflate { 8 } else { 0 },
            flags: 0,
            crc: crc32(data),
            uncompressed: data.len() as u32,
        })
    }

    /// Adds an entry with every header field given (for lying or odd archives).
    pub fn add_raw(&mut self, e: RawEntry<'_>) -> &mut Self {
        let offset = self.out.len() as u32;
        let name = e.name.as_bytes();
        let mut header = Vec::new();
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes()); // version needed
        header.extend_from_slice(&e.flags.to_le_bytes());
        header.extend_from_slice(&e.method.to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // time
        header.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
        header.extend_from_slice(&e.crc.to_le_bytes());
        header.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        header.extend_from_slice(&e.uncompressed.to_le_bytes());
        header.extend_from_slice(&(name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes()); // extra
        self.out.extend_from_slice(&header);
        self.out.extend_from_slice(name);
        self.out.extend_from_slice(e.data);

        let c = &mut self.central;
        c.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        c.extend_from_slice(&20u16.to_le_bytes()); // version made by
        c.extend_from_slice(&header[4..28]); // needed … name length
        c.extend_from_slice(&0u16.to_le_bytes()); // extra
        c.extend_from_slice(&0u16.to_le_bytes()); // comment
        c.extend_from_slice(&0u16.to_le_bytes()); // disk
        c.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        c.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name);
        self.count += 1;
        self
    }

    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&self.central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // disks
        out.extend_from_slice(&(self.count as u16).to_le_bytes());
        out.extend_from_slice(&(self.count as u16).to_le_bytes());
        out.extend_from_slice(&(self.central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // comment
        out
    }
}

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

fn content_types(overrides: &[(&str, &str)]) -> String {
    let mut s = format!(
        r#"{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>"#
    );
    for (part, ct) in overrides {
        s.push_str(&format!(
            r#"<Override PartName="/{part}" ContentType="{ct}"/>"#
        ));
    }
    s.push_str("</Types>");
    s
}

fn rels(target: &str) -> String {
    format!(
        r#"{XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="{target}"/></Relationships>"#
    )
}

/// WordprocessingML for `paragraphs`.
pub fn document_xml(paragraphs: &[&str]) -> String {
    let mut s = format!(
        r#"{XML_DECL}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#
    );
    for p in paragraphs {
        s.push_str(&format!(
            r#"<w:p><w:pPr><w:jc w:val="left"/></w:pPr><w:r><w:rPr><w:rFonts w:hint="eastAsia"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r></w:p>"#,
            xml_escape(p)
        ));
    }
    s.push_str("<w:sectPr/></w:body></w:document>");
    s
}

/// A .docx with the given paragraphs and extra parts (name, XML).
pub fn docx_with(paragraphs: &[&str], extra: &[(&str, String)], deflate: bool) -> Vec<u8> {
    let mut z = ZipWriter::new();
    z.add(
        "[Content_Types].xml",
        content_types(&[(
            "word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        )])
        .as_bytes(),
        deflate,
    );
    z.add("_rels/.rels", rels("word/document.xml").as_bytes(), deflate);
    z.add(
        "word/document.xml",
        document_xml(paragraphs).as_bytes(),
        deflate,
    );
    for (name, xml) in extra {
        z.add(name, xml.as_bytes(), deflate);
    }
    z.finish()
}

pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    docx_with(paragraphs, &[], true)
}

/// A .xlsx: shared strings, then sheets given as `<sheetData>` inner XML.
pub fn xlsx(shared: &[&str], sheets: &[&str]) -> Vec<u8> {
    let mut z = ZipWriter::new();
    z.add("[Content_Types].xml", content_types(&[]).as_bytes(), true);
    z.add("_rels/.rels", rels("xl/workbook.xml").as_bytes(), true);
    let mut wb = format!(
        r#"{XML_DECL}<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>"#
    );
    for i in 1..=sheets.len() {
        wb.push_str(&format!(
            r#"<sheet name="Sheet{i}" sheetId="{i}" r:id="rId{i}"/>"#
        ));
    }
    wb.push_str("</sheets></workbook>");
    z.add("xl/workbook.xml", wb.as_bytes(), true);
    let mut sst = format!(
        r#"{XML_DECL}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">"#,
        shared.len()
    );
    for s in shared {
        sst.push_str(&format!("<si><t>{}</t></si>", xml_escape(s)));
    }
    sst.push_str("</sst>");
    z.add("xl/sharedStrings.xml", sst.as_bytes(), true);
    for (i, data) in sheets.iter().enumerate() {
        let xml = format!(
            r#"{XML_DECL}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{data}</sheetData></worksheet>"#
        );
        z.add(
            &format!("xl/worksheets/sheet{}.xml", i + 1),
            xml.as_bytes(),
            true,
        );
    }
    z.finish()
}

pub fn slide_xml(text: &str) -> String {
    format!(
        r#"{XML_DECL}<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/><a:p><a:r><a:rPr lang="ja-JP"/><a:t>{}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#,
        xml_escape(text)
    )
}

/// A .pptx whose slides are given as (number, text), added to the zip in the given order.
pub fn pptx(slides: &[(u32, &str)], notes: &[(u32, &str)]) -> Vec<u8> {
    let mut z = ZipWriter::new();
    z.add("[Content_Types].xml", content_types(&[]).as_bytes(), true);
    z.add("_rels/.rels", rels("ppt/presentation.xml").as_bytes(), true);
    z.add(
        "ppt/presentation.xml",
        format!(r#"{XML_DECL}<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>"#).as_bytes(),
        true,
    );
    for (n, text) in slides {
        z.add(
            &format!("ppt/slides/slide{n}.xml"),
            slide_xml(text).as_bytes(),
            true,
        );
        z.add(
            &format!("ppt/slides/_rels/slide{n}.xml.rels"),
            rels("../slideLayouts/slideLayout1.xml").as_bytes(),
            true,
        );
    }
    for (n, text) in notes {
        z.add(
            &format!("ppt/notesSlides/notesSlide{n}.xml"),
            slide_xml(text).as_bytes(),
            true,
        );
    }
    z.finish()
}

/// A hand-made PDF: objects are appended in order and an xref table is written at the end.
pub struct Pdf {
    out: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl Default for Pdf {
    fn default() -> Self {
        Pdf {
            out: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
            offsets: Vec::new(),
        }
    }
}

impl Pdf {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn obj(&mut self, num: u32, body: &str) -> &mut Self {
        self.obj_bytes(num, body.as_bytes())
    }

    pub fn obj_bytes(&mut self, num: u32, body: &[u8]) -> &mut Self {
        self.offsets.push((num, self.out.len()));
        self.out
            .extend_from_slice(format!("{num} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
        self
    }

    /// A stream object; `flate` compresses it with `/FlateDecode`.
    pub fn stream(&mut self, num: u32, dict: &str, data: &[u8], flate: bool) -> &mut Self {
        let data = if flate {
            compress_to_vec_zlib(data, 6)
        } else {
            data.to_vec()
        };
        let filter = if flate { " /Filter /FlateDecode" } else { "" };
        let mut body =
            format!("<< /Length {}{filter} {dict} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(&data);
        body.extend_from_slice(b"\nendstream");
        self.obj_bytes(num, &body)
    }

    /// Raw bytes between objects (to build broken files).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    pub fn finish(&mut self, trailer_extra: &str) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        let xref = out.len();
        let max = self.offsets.iter().map(|o| o.0).max().unwrap_or(0);
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", max + 1).as_bytes());
        for n in 1..=max {
            match self.offsets.iter().find(|o| o.0 == n) {
                Some((_, off)) => out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes()),
                None => out.extend_from_slice(b"0000000000 65535 f \n"),
            }
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
                max + 1
            )
            .as_bytes(),
        );
        out
    }
}

/// Catalog (1), page tree (2) and a Helvetica font (3); pages are objects 10.., their
/// content streams 20...
pub fn simple_pdf(pages: &[&[u8]], flate: bool) -> Vec<u8> {
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 10 + i))
        .collect();
    pdf.obj(
        2,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} /Resources << /Font << /F1 3 0 R >> >> >>",
            kids.join(" "),
            pages.len()
        ),
    );
    pdf.obj(
        3,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    for (i, content) in pages.iter().enumerate() {
        let i = i as u32;
        pdf.obj(
            10 + i,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>",
                20 + i
            ),
        );
        pdf.stream(20 + i, "", content, flate);
    }
    pdf.finish("")
}

/// The ToUnicode CMap of [`japanese_pdf`]: CIDs 1–4 → 個人番号, 0x10–0x19 → digits,
/// 0x1A → '-', 0x1B → space, 0x1C → 𠀋 (a surrogate pair).
pub const JAPANESE_CMAP: &str = "/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
4 beginbfchar
<001A> <002D>
<001B> <0020>
<001C> <D840DC0B>
<0001> <500B>
endbfchar
2 beginbfrange
<0002> <0004> [<4EBA> <756A> <53F7>]
<0010> <0019> <0030>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end";

/// 2-byte CID string for text made of the characters [`JAPANESE_CMAP`] maps.
pub fn cids(text: &str) -> String {
    let mut hex = String::from("<");
    for c in text.chars() {
        let cid = match c {
            '個' => 1,
            '人' => 2,
            '番' => 3,
            '号' => 4,
            '0'..='9' => 0x10 + (c as u32 - '0' as u32),
            '-' => 0x1A,
            ' ' => 0x1B,
            '𠀋' => 0x1C,
            _ => panic!("no CID for {c}"),
        };
        hex.push_str(&format!("{cid:04X}"));
    }
    hex.push('>');
    hex
}

/// A PDF drawing with a Type0 / Identity-H font whose ToUnicode CMap maps 2-byte CIDs to
/// Japanese; `content` is the page's content stream (font `/F1`).
pub fn japanese_pdf(content: &str) -> Vec<u8> {
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(2, "<< /Type /Pages /Kids [10 0 R] /Count 1 >>");
    pdf.obj(
        10,
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 11 0 R /Contents 20 0 R >>",
    );
    pdf.obj(11, "<< /Font << /F1 4 0 R >> >>");
    pdf.obj(
        4,
        "<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+MS-Mincho /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
    );
    pdf.obj(
        5,
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+MS-Mincho /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
    );
    pdf.stream(6, "", JAPANESE_CMAP.as_bytes(), true);
    pdf.stream(20, "", content.as_bytes(), true);
    pdf.finish("")
}

/// A PDF of `lines` in a Type0 / Identity-H font, `per_page` lines per page, with a
/// ToUnicode CMap generated for exactly the characters used (one CID per distinct char),
/// as Japanese PDF writers do with subset fonts. Content streams are compressed.
pub fn text_pdf(lines: &[String], per_page: usize) -> Vec<u8> {
    let mut cid_of: std::collections::HashMap<char, u16> = std::collections::HashMap::new();
    let mut chars: Vec<char> = Vec::new();
    let mut pages: Vec<String> = Vec::new();
    for chunk in lines.chunks(per_page.max(1)) {
        let mut content = String::from("BT /F1 10 Tf 14 TL 1 0 0 1 40 800 Tm\n");
        for line in chunk {
            content.push('<');
            for c in line.chars() {
                let cid = *cid_of.entry(c).or_insert_with(|| {
                    chars.push(c);
                    chars.len() as u16
                });
                content.push_str(&format!("{cid:04X}"));
            }
            content.push_str("> Tj T*\n");
        }
        content.push_str("ET\n");
        pages.push(content);
    }
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    for (block, cs) in chars.chunks(100).enumerate() {
        cmap.push_str(&format!("{} beginbfchar\n", cs.len()));
        for (i, c) in cs.iter().enumerate() {
            let cid = block * 100 + i + 1;
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            cmap.push_str(&format!("<{cid:04X}> <{hex}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");

    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 100 + 2 * i))
        .collect();
    pdf.obj(
        2,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} /Resources << /Font << /F1 4 0 R >> >> >>",
            kids.join(" "),
            pages.len()
        ),
    );
    pdf.obj(
        4,
        "<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+IPAexMincho /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 6 0 R >>",
    );
    pdf.obj(
        5,
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+IPAexMincho /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
    );
    pdf.stream(6, "", cmap.as_bytes(), true);
    for (i, content) in pages.iter().enumerate() {
        let num = 100 + 2 * i as u32;
        pdf.obj(
            num,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>",
                num + 1
            ),
        );
        pdf.stream(num + 1, "", content.as_bytes(), true);
    }
    pdf.finish("")
}

/// 50 MiB of zeros, deflated (about 50 KB).
pub fn zeros_deflated() -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(&vec![0u8; 50 << 20], 6)
}

/// A .docx whose document part is `packed`, its header claiming `claimed` bytes.
pub fn bomb_docx(packed: &[u8], claimed: u32) -> Vec<u8> {
    let mut z = ZipWriter::new();
    z.add("[Content_Types].xml", b"<Types/>", true);
    z.add_raw(RawEntry {
        name: "word/document.xml",
        data: packed,
        method: 8,
        flags: 0,
        crc: 0,
        uncompressed: claimed,
    });
    z.finish()
}

/// One page whose `/Contents` lists the same 1 MB uncompressed stream `times` times.
pub fn repeated_contents_pdf(times: usize) -> Vec<u8> {
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(2, "<< /Type /Pages /Kids [10 0 R] /Count 1 >>");
    pdf.obj(
        10,
        &format!(
            "<< /Type /Page /Parent 2 0 R /Contents [{}] >>",
            "20 0 R ".repeat(times)
        ),
    );
    pdf.stream(20, "", &b"0 0 m 9 9 l S\n".repeat(75_000), false);
    pdf.finish("")
}
