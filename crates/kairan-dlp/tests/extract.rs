//! Text extraction from real documents built in the test (zip packages with stored and
//! deflated entries, hand-made PDFs): the text a user would expect comes out and the
//! scanner finds the personal data in it; hostile inputs (bombs, truncation, encryption,
//! absurd nesting) fail cleanly and quickly.

// Test helpers fail loudly.
#![allow(clippy::panic, clippy::unwrap_used)]

mod support;

use kairan_dlp::{
    DocKind, ExtractError, Extracted, Kind, Limits, Scanner, extract, zip_entry_names,
};
use support::*;

fn text_of(kind: DocKind, bytes: &[u8]) -> String {
    match extract(kind, bytes, &Limits::default()) {
        Ok(Extracted { text, truncated }) => {
            assert!(!truncated);
            text
        }
        Err(e) => panic!("{kind:?}: {e}"),
    }
}

fn kinds(text: &str) -> Vec<Kind> {
    Scanner::default()
        .scan(text)
        .iter()
        .map(|f| f.kind)
        .collect()
}

// ---- text and CSV ----

#[test]
fn utf8_text_loses_its_bom() {
    let bytes = [
        &[0xEF, 0xBB, 0xBF][..],
        "個人番号 1234-5678-9018".as_bytes(),
    ]
    .concat();
    let text = text_of(DocKind::Text, &bytes);
    assert_eq!(text, "個人番号 1234-5678-9018");
    assert_eq!(kinds(&text), [Kind::MyNumber]);
}

#[test]
fn cp932_text_is_decoded() {
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode("①住所：東京都千代田区霞が関1-2-3");
    assert!(!bad);
    assert!(std::str::from_utf8(&bytes).is_err());
    assert_eq!(
        text_of(DocKind::Text, &bytes),
        "①住所：東京都千代田区霞が関1-2-3"
    );
}

#[test]
fn utf16_text_with_a_bom_is_decoded() {
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in "電話 090-1234-5678".encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
    }
    assert_eq!(text_of(DocKind::Text, &le), "電話 090-1234-5678");
    assert_eq!(text_of(DocKind::Text, &be), "電話 090-1234-5678");
}

#[test]
fn a_cp932_csv_yields_rows_and_cells() {
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("氏名,電話\r\n山田,090-1234-5678\r\n");
    let text = text_of(DocKind::Csv, &bytes);
    assert_eq!(text, "氏名\t電話\n山田\t090-1234-5678\n");
    assert_eq!(kinds(&text), [Kind::PhoneNumber]);
}

#[test]
fn quoted_csv_fields_are_unquoted() {
    let csv = "\u{FEFF}氏名,住所,備考\n\"山田, 太郎\",\"東京都千代田区\n霞が関1-2-3\",\"彼は\"\"至急\"\"と\"\n";
    let text = text_of(DocKind::Csv, csv.as_bytes());
    assert_eq!(
        text,
        "氏名\t住所\t備考\n山田, 太郎\t東京都千代田区\n霞が関1-2-3\t彼は\"至急\"と\n"
    );
}

// ---- Office Open XML ----

#[test]
fn a_docx_my_number_is_found() {
    let doc = docx(&["申請書", "個人番号 1234-5678-9018", "以上"]);
    let text = text_of(DocKind::Docx, &doc);
    assert_eq!(text, "申請書\n個人番号 1234-5678-9018\n以上\n");
    assert_eq!(kinds(&text), [Kind::MyNumber]);
}

#[test]
fn a_stored_docx_reads_headers_footers_and_comments() {
    let part = |root: &str, text: &str| {
        format!(
            r#"<w:{root} xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:{root}>"#
        )
    };
    let doc = docx_with(
        &["本文 &lt;A&gt; & B"],
        &[
            ("word/header2.xml", part("hdr", "ヘッダー2")),
            ("word/header10.xml", part("hdr", "ヘッダー10")),
            ("word/header1.xml", part("hdr", "ヘッダー1")),
            ("word/footer1.xml", part("ftr", "フッター")),
            (
                "word/comments.xml",
                part("comments", "コメント：090-1234-5678"),
            ),
            ("word/media/image1.xml", part("x", "含めない")),
        ],
        false,
    );
    let text = text_of(DocKind::Docx, &doc);
    assert_eq!(
        text,
        "本文 &lt;A&gt; & B\nヘッダー1\nヘッダー2\nヘッダー10\nフッター\nコメント：090-1234-5678\n"
    );
}

#[test]
fn xlsx_numbers_and_shared_strings_read_row_by_row() {
    let sheet1 = r#"<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>
        <row r="2"><c r="A2" t="s"><v>3</v></c><c r="B2"><v>123456789018</v></c><c r="C2" t="str"><f>"0"&amp;B3</f><v>09012345678</v></c></row>
        <row r="3"><c r="A3" t="inlineStr"><is><t>佐藤</t></is></c><c r="B3" s="1"><v>3.5</v></c><c r="C3" t="b"><v>1</v></c></row>"#;
    let sheet2 = r#"<row r="1"><c r="A1" t="s"><v>4</v></c></row>"#;
    let book = xlsx(
        &["氏名", "個人番号", "電話", "山田", "2枚目"],
        &[sheet1, sheet2],
    );
    let text = text_of(DocKind::Xlsx, &book);
    assert_eq!(
        text,
        "氏名\t個人番号\t電話\n山田\t123456789018\t09012345678\n佐藤\t3.5\t1\n2枚目\n"
    );
    assert_eq!(kinds(&text), [Kind::MyNumber, Kind::PhoneNumber], "{text}");
}

#[test]
fn unreferenced_shared_strings_are_still_scanned() {
    let book = xlsx(
        &["使用", "削除された 090-1234-5678"],
        &[r#"<row><c t="s"><v>0</v></c></row>"#],
    );
    assert_eq!(
        text_of(DocKind::Xlsx, &book),
        "使用\n削除された 090-1234-5678\n"
    );
}

#[test]
fn pptx_slides_are_read_in_numeric_order() {
    let deck = pptx(
        &[(10, "スライド10"), (2, "スライド2"), (1, "スライド1")],
        &[(1, "ノート：個人番号 123456789018")],
    );
    let text = text_of(DocKind::Pptx, &deck);
    assert_eq!(
        text,
        "スライド1\nスライド2\nスライド10\nノート：個人番号 123456789018\n"
    );
    assert_eq!(kinds(&text), [Kind::MyNumber]);
}

#[test]
fn zip_entry_names_lists_the_directory() {
    let doc = docx(&["x"]);
    let names = zip_entry_names(&doc, &Limits::default()).unwrap();
    assert_eq!(
        names,
        ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
    );
}

#[test]
fn a_zip_behind_a_stub_is_still_read() {
    // Self-extractors and some mail gateways put bytes before the archive.
    let doc = [
        &b"MZ stub "[..],
        &[0u8; 500],
        &docx(&["個人番号 1234-5678-9018"]),
    ]
    .concat();
    assert_eq!(text_of(DocKind::Docx, &doc), "個人番号 1234-5678-9018\n");
}

#[test]
fn a_docx_without_its_main_part_is_malformed() {
    let mut z = ZipWriter::new();
    z.add("[Content_Types].xml", b"<Types/>", true);
    let bytes = z.finish();
    for (kind, why) in [
        (DocKind::Docx, "docx: no word/document.xml"),
        (DocKind::Pptx, "pptx: no ppt/presentation.xml"),
        (DocKind::Xlsx, "xlsx: no xl/workbook.xml"),
    ] {
        assert_eq!(
            extract(kind, &bytes, &Limits::default()),
            Err(ExtractError::Malformed(why))
        );
    }
}

#[test]
fn a_truncated_zip_is_malformed() {
    let doc = docx(&["個人番号 1234-5678-9018"]);
    for cut in [doc.len() - 1, doc.len() - 30, doc.len() / 2, 10, 0] {
        assert_eq!(
            extract(DocKind::Docx, &doc[..cut], &Limits::default()),
            Err(ExtractError::Malformed("zip: no end of central directory")),
            "cut at {cut}"
        );
    }
}

#[test]
fn a_zip_entry_with_cut_deflate_data_is_malformed() {
    // Directory intact, but the main part's deflate stream ends early.
    let xml = document_xml(&["個人番号 1234-5678-9018"; 50]);
    let packed = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 6);
    let mut z = ZipWriter::new();
    z.add_raw(RawEntry {
        name: "word/document.xml",
        data: &packed[..packed.len() / 2],
        method: 8,
        flags: 0,
        crc: 0,
        uncompressed: xml.len() as u32,
    });
    let doc = z.finish();
    assert_eq!(
        zip_entry_names(&doc, &Limits::default()).unwrap(),
        ["word/document.xml"]
    );
    assert_eq!(
        extract(DocKind::Docx, &doc, &Limits::default()),
        Err(ExtractError::Malformed("zip: bad deflate data"))
    );
}

#[test]
fn encrypted_zip_entries_are_refused() {
    let mut z = ZipWriter::new();
    z.add("[Content_Types].xml", b"<Types/>", false);
    z.add_raw(RawEntry {
        name: "word/document.xml",
        data: b"\x01\x02\x03 encrypted bytes",
        method: 8,
        flags: 1,
        crc: 0,
        uncompressed: 100,
    });
    let bytes = z.finish();
    assert_eq!(
        extract(DocKind::Docx, &bytes, &Limits::default()),
        Err(ExtractError::Encrypted)
    );
    // Listing the names still works: the server may want them.
    assert_eq!(
        zip_entry_names(&bytes, &Limits::default()).unwrap().len(),
        2
    );
}

#[test]
fn an_encrypted_office_package_is_reported_as_encrypted() {
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.resize(512, 0);
    for u in "EncryptedPackage".encode_utf16() {
        ole.extend_from_slice(&u.to_le_bytes());
    }
    ole.resize(2048, 0);
    assert_eq!(
        extract(DocKind::Docx, &ole, &Limits::default()),
        Err(ExtractError::Encrypted)
    );
}

#[test]
fn unsupported_zip_methods_are_malformed() {
    let mut z = ZipWriter::new();
    z.add_raw(RawEntry {
        name: "word/document.xml",
        data: b"BZh91AY&SY",
        method: 12,
        flags: 0,
        crc: 0,
        uncompressed: 10,
    });
    assert_eq!(
        extract(DocKind::Docx, &z.finish(), &Limits::default()),
        Err(ExtractError::Malformed("zip method"))
    );
}

#[test]
fn too_many_zip_entries_are_refused() {
    let mut z = ZipWriter::new();
    for i in 0..20_000 {
        z.add(&format!("f{i}"), b"", false);
    }
    let bytes = z.finish();
    assert_eq!(
        zip_entry_names(&bytes, &Limits::default()),
        Err(ExtractError::Bomb)
    );
    assert_eq!(
        extract(DocKind::Docx, &bytes, &Limits::default()),
        Err(ExtractError::Bomb)
    );
    let lenient = Limits {
        max_entries: 20_000,
        ..Limits::default()
    };
    assert_eq!(zip_entry_names(&bytes, &lenient).unwrap().len(), 20_000);
}

/// 50 MiB of zeros deflated: about 50 KB, a ratio of about 1000:1.

#[test]
fn zip_bombs_are_refused_quickly() {
    let packed = zeros_deflated();
    assert!(packed.len() < 200_000, "{}", packed.len());

    // Claims 1 GiB: refused from the header.
    let honest = bomb_docx(&packed, 1 << 30);
    assert_eq!(
        extract(DocKind::Docx, &honest, &Limits::default()),
        Err(ExtractError::Bomb)
    );

    // Claims 1 KB: caught by the ratio while inflating, after at most
    // compressed × max_ratio bytes (about 10 MB), not 50 MiB.
    let liar = bomb_docx(&packed, 1000);
    assert_eq!(
        extract(DocKind::Docx, &liar, &Limits::default()),
        Err(ExtractError::Bomb)
    );

    // With the ratio lifted, the total budget still stops it.
    let no_ratio = Limits {
        max_ratio: u64::MAX,
        max_inflated_bytes: 8 << 20,
        ..Limits::default()
    };
    assert_eq!(
        extract(DocKind::Docx, &liar, &no_ratio),
        Err(ExtractError::Bomb)
    );
}

#[test]
fn the_inflate_budget_is_shared_by_all_parts() {
    // Each part is small and ordinary; together they are over a tight budget.
    let para = "個人番号 1234-5678-9018 ".repeat(2000);
    let extra: Vec<(&str, String)> = vec![
        ("word/header1.xml", document_xml(&[&para])),
        ("word/header2.xml", document_xml(&[&para])),
        ("word/header3.xml", document_xml(&[&para])),
    ];
    let doc = docx_with(&[&para], &extra, true);
    let tight = Limits {
        max_inflated_bytes: 200_000,
        max_ratio: 1_000_000,
        ..Limits::default()
    };
    assert_eq!(
        extract(DocKind::Docx, &doc, &tight),
        Err(ExtractError::Bomb)
    );
    assert_eq!(text_of(DocKind::Docx, &doc), format!("{para}\n").repeat(4));
}

#[test]
fn output_is_capped_at_max_text_bytes() {
    let limits = Limits {
        max_text_bytes: 100,
        ..Limits::default()
    };
    // 30 bytes a sentence: the cut falls inside 号 (bytes 99–102), which is dropped.
    let para = "個人番号 1234-5678-9018。".repeat(50);
    let cut = format!("{}個人番", "個人番号 1234-5678-9018。".repeat(3));
    assert_eq!(cut.len(), 99);
    // 27 bytes a run: the cut falls on a char boundary.
    let run = "個人番号 1234-5678-9018".repeat(20);
    let pdf_cut = &run[..100];
    let inputs = [
        (DocKind::Text, para.clone().into_bytes(), cut.as_str()),
        (DocKind::Csv, para.clone().into_bytes(), &cut),
        (DocKind::Docx, docx(&[&para, &para]), &cut),
        (DocKind::Pptx, pptx(&[(1, &para)], &[]), &cut),
        (
            DocKind::Xlsx,
            xlsx(&[&para], &[r#"<row><c t="s"><v>0</v></c></row>"#]),
            &cut,
        ),
        (
            DocKind::Pdf,
            japanese_pdf(&format!("BT /F1 12 Tf 72 700 Td {} Tj ET", cids(&run))),
            pdf_cut,
        ),
    ];
    for (kind, bytes, want) in inputs {
        let out = extract(kind, &bytes, &limits).unwrap();
        assert_eq!((out.text.as_str(), out.truncated), (want, true), "{kind:?}");
    }
    // Exactly at the limit is not truncation.
    let exact = Limits {
        max_text_bytes: 6,
        ..Limits::default()
    };
    let out = extract(DocKind::Docx, &docx(&["個人"]), &exact).unwrap();
    assert_eq!((out.text.as_str(), out.truncated), ("個人", false));
}

// ---- PDF ----

#[test]
fn an_uncompressed_pdf_page_yields_its_text() {
    let content =
        b"BT /F1 12 Tf 72 760 Td (Application form) Tj 0 -14 Td (Tel: 090-1234-5678) Tj ET";
    let text = text_of(DocKind::Pdf, &simple_pdf(&[content], false));
    assert_eq!(text, "Application form\nTel: 090-1234-5678\n");
    assert_eq!(kinds(&text), [Kind::PhoneNumber]);
}

#[test]
fn flate_content_streams_and_several_pages_are_read() {
    let p1 = b"BT /F1 12 Tf 72 760 Td (Page one) Tj ET";
    let p2 = b"BT /F1 12 Tf 1 0 0 1 72 760 Tm [(Ka) 120 (i) -250 (ran)] TJ T* (next) ' ET";
    let text = text_of(DocKind::Pdf, &simple_pdf(&[p1, p2], true));
    assert_eq!(text, "Page one\nKai ran\nnext\n");
}

#[test]
fn literal_string_escapes_are_decoded() {
    let content = br"BT /F1 12 Tf 72 760 Td (a\(b\) \\ \101\102 (nested) tab\there\
joined) Tj ET";
    let text = text_of(DocKind::Pdf, &simple_pdf(&[content], false));
    assert_eq!(text, "a(b) \\ AB (nested) tabherejoined\n");
}

#[test]
fn a_japanese_type0_font_decodes_through_to_unicode() {
    let content = format!(
        "BT /F1 10.5 Tf 1 0 0 1 72 700 Tm {} Tj [{} -300 {}] TJ ET BT /F1 10.5 Tf 72 680 Td {} Tj ET",
        cids("個人番号"),
        cids("1234-5678"),
        cids("-9018"),
        cids("𠀋")
    );
    let text = text_of(DocKind::Pdf, &japanese_pdf(&content));
    assert_eq!(text, "個人番号1234-5678 -9018\n𠀋\n");
    // Written the usual way, in one run, the scanner finds it.
    let content = format!(
        "BT /F1 10.5 Tf 72 700 Td {} Tj ET",
        cids("個人番号 1234-5678-9018")
    );
    let text = text_of(DocKind::Pdf, &japanese_pdf(&content));
    assert_eq!(text, "個人番号 1234-5678-9018\n");
    assert_eq!(kinds(&text), [Kind::MyNumber]);
}

#[test]
fn characters_positioned_one_by_one_stay_together() {
    // Some generators place every glyph with its own Tm: digits must not be split.
    let mut content = String::from("BT /F1 12 Tf ");
    for (i, c) in "1234-5678-9018".chars().enumerate() {
        content.push_str(&format!(
            "1 0 0 1 {} 700 Tm {} Tj ",
            100.0 + i as f64 * 6.0,
            cids(&c.to_string())
        ));
    }
    content.push_str("ET");
    let text = text_of(DocKind::Pdf, &japanese_pdf(&content));
    assert_eq!(text, "1234-5678-9018\n");
}

#[test]
fn separate_cells_on_one_line_get_a_space() {
    let content = b"BT /F1 10 Tf 1 0 0 1 50 700 Tm (Name) Tj 1 0 0 1 300 700 Tm (Yamada) Tj ET";
    assert_eq!(
        text_of(DocKind::Pdf, &simple_pdf(&[content], false)),
        "Name Yamada\n"
    );
}

#[test]
fn indirect_lengths_object_streams_forms_and_fields_are_read() {
    let mut pdf = Pdf::new();
    pdf.obj(
        1,
        "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [30 0 R] >> >>",
    );
    // The page tree lives in an object stream (PDF 1.5).
    let objs = [
        "<< /Type /Pages /Kids [10 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> /XObject << /X1 12 0 R >> >> /Contents [20 0 R 21 0 R] >>",
    ];
    let mut header = String::new();
    let mut body = String::new();
    for (num, o) in [2, 10].iter().zip(objs) {
        header.push_str(&format!("{num} {} ", body.len()));
        body.push_str(o);
        body.push('\n');
    }
    let stm = format!("{header}{body}");
    pdf.stream(
        40,
        &format!("/Type /ObjStm /N 2 /First {}", header.len()),
        stm.as_bytes(),
        true,
    );
    pdf.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    // Content split in two streams (between an operand and its operator); the first has
    // an indirect /Length.
    let c1 = b"BT /F1 12 Tf 72 700 Td (Split across)";
    pdf.obj_bytes(
        20,
        &[
            b"<< /Length 22 0 R >>\nstream\n".as_slice(),
            c1,
            b"\nendstream",
        ]
        .concat(),
    );
    pdf.obj(22, &c1.len().to_string());
    pdf.stream(21, "", b"Tj ET /X1 Do", true);
    pdf.stream(
        12,
        "/Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /Font << /F1 3 0 R >> >>",
        b"BT /F1 9 Tf 0 -100 Td (Form text) Tj ET /X1 Do",
        false,
    );
    pdf.obj(30, "<< /FT /Tx /T (Memo) /V (Caf\\351) >>");
    pdf.obj(
        31,
        "<< /FT /Tx /T <FEFF6C0F540D> /V <FEFF5C717530592A90CE> /Rect [0 0 1 1] >>",
    );
    pdf.obj(
        32,
        "<< /Type /Annot /Subtype /Text /Rect [0 0 1 1] /Contents (Call 090-1234-5678) >>",
    );
    let bytes = pdf.finish("");
    let text = text_of(DocKind::Pdf, &bytes);
    assert_eq!(
        text, "Split across\nForm text\nMemo Café\n氏名 山田太郎\nCall 090-1234-5678\n",
        "{text:?}"
    );
}

#[test]
fn a_many_page_japanese_pdf_round_trips_line_by_line() {
    let lines: Vec<String> = (0..300)
        .map(|i| match i % 4 {
            0 => format!("第{i}条　申請者の氏名及び住所を記載すること。"),
            1 => "個人番号：1234-5678-9018（本人確認済み）".to_string(),
            2 => format!("連絡先 090-1234-{:04}　担当：山田", i),
            _ => "𠀋 サロゲートペアと半角ｶﾅ、ＡＢＣ全角英字".to_string(),
        })
        .collect();
    let bytes = text_pdf(&lines, 40);
    let text = text_of(DocKind::Pdf, &bytes);
    assert_eq!(text, lines.join("\n") + "\n");
    let found = kinds(&text);
    assert_eq!(found.iter().filter(|k| **k == Kind::MyNumber).count(), 75);
    assert_eq!(
        found.iter().filter(|k| **k == Kind::PhoneNumber).count(),
        75
    );
}

#[test]
fn an_encrypted_pdf_is_refused() {
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(5, "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>");
    let bytes = pdf.finish("/Encrypt 5 0 R /ID [<01> <01>]");
    assert_eq!(
        extract(DocKind::Pdf, &bytes, &Limits::default()),
        Err(ExtractError::Encrypted)
    );
}

#[test]
fn not_a_pdf_is_malformed() {
    for (bytes, why) in [
        (&b""[..], "pdf: no %PDF header"),
        (b"hello", "pdf: no %PDF header"),
        (b"%PDF-1.4\n% nothing here\n%%EOF", "pdf: no objects"),
    ] {
        assert_eq!(
            extract(DocKind::Pdf, bytes, &Limits::default()),
            Err(ExtractError::Malformed(why))
        );
    }
}

#[test]
fn a_bogus_stream_length_falls_back_to_endstream() {
    for length in ["99999", "3", "-5", "7 0 R", "(x)"] {
        let mut pdf = Pdf::new();
        pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
        pdf.obj(2, "<< /Type /Pages /Kids [10 0 R] /Count 1 >>");
        pdf.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
        pdf.obj(
            10,
            "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents 20 0 R >>",
        );
        pdf.obj(
            20,
            &format!(
                "<< /Length {length} >>\nstream\nBT /F1 12 Tf (Tel 03-1234-5678) Tj ET\nendstream"
            ),
        );
        let text = text_of(DocKind::Pdf, &pdf.finish(""));
        assert_eq!(text, "Tel 03-1234-5678\n", "/Length {length}");
    }
}

#[test]
fn a_broken_xref_and_missing_page_tree_still_yield_text() {
    let mut pdf = Pdf::new();
    pdf.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    pdf.obj(
        10,
        "<< /Type /Page /Resources << /Font << /F1 3 0 R >> >> /Contents 20 0 R >>",
    );
    pdf.stream(20, "", b"BT /F1 12 Tf (orphan page) Tj ET", true);
    let mut bytes = pdf.finish("");
    // Garble the xref offsets.
    let xref = bytes.windows(4).position(|w| w == b"xref").unwrap();
    bytes[xref + 20..xref + 40].fill(b'9');
    assert_eq!(text_of(DocKind::Pdf, &bytes), "orphan page\n");
}

/// Extracts `bytes` under `limits` and again with at most `small` bytes of text: neither
/// may panic, and when both succeed the cut text is a prefix of the whole, the rest being
/// layout only unless the cut one says it was truncated. Returns the first outcome.
fn extract_checking_prefix(
    kind: DocKind,
    bytes: &[u8],
    limits: &Limits,
    small: usize,
) -> Result<Extracted, ExtractError> {
    let whole = extract(kind, bytes, limits);
    let cut_limits = Limits {
        max_text_bytes: small,
        ..limits.clone()
    };
    if let (Ok(whole), Ok(cut)) = (&whole, extract(kind, bytes, &cut_limits)) {
        let Some(rest) = whole.text.strip_prefix(cut.text.as_str()) else {
            panic!(
                "{kind:?}: {:?} is not a prefix of {:?}",
                cut.text, whole.text
            );
        };
        assert!(
            cut.truncated || rest.chars().all(|c| matches!(c, '\n' | '\t' | ' ')),
            "{kind:?}: {:?} not marked truncated before {rest:?}",
            cut.text
        );
    }
    whole
}

#[test]
fn truncated_pdfs_give_a_clean_outcome() {
    let full = "個人番号 1234-5678-9018\n";
    let good = japanese_pdf(&format!(
        "BT /F1 12 Tf 72 700 Td {} Tj ET",
        cids(full.trim_end())
    ));
    // Every truncation point of a real file: the header or the objects are missing, the
    // content is lost, or the text comes out whole (only the xref and trailer were cut).
    for cut in 0..good.len() {
        let r = extract_checking_prefix(DocKind::Pdf, &good[..cut], &Limits::default(), 8);
        match r {
            Err(ExtractError::Malformed("pdf: no %PDF header")) => assert!(cut < 5),
            Err(ExtractError::Malformed("pdf: no objects")) => {}
            Ok(Extracted {
                text,
                truncated: false,
            }) if text.is_empty() || text == full => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn malformed_pdfs_never_panic_or_hang() {
    let no_objects = Err(ExtractError::Malformed("pdf: no objects"));
    let nested = |open: &str, n: usize| format!("%PDF-1.4\n1 0 obj\n{}\nendobj\n", open.repeat(n));
    let mut cases: Vec<(String, Vec<u8>, Result<&str, ExtractError>)> = vec![
        // Nesting past the parser's depth limit: object 1 is refused, and it was the only
        // one.
        (
            "[".into(),
            nested("[", 1_000_000).into_bytes(),
            no_objects.clone(),
        ),
        (
            "<<".into(),
            nested("<<", 500_000).into_bytes(),
            no_objects.clone(),
        ),
        (
            "<< /A [".into(),
            nested("<< /A [", 200_000).into_bytes(),
            no_objects.clone(),
        ),
        (
            ")".into(),
            nested(")", 1_000_000).into_bytes(),
            no_objects.clone(),
        ),
        // Readable objects (a string running to the end, integers, a reference to
        // itself), but no pages.
        ("(".into(), nested("(", 1_000_000).into_bytes(), Ok("")),
        (
            "1 0 obj (".into(),
            nested("1 0 obj (", 100_000).into_bytes(),
            Ok(""),
        ),
        (
            "1 0 obj [".into(),
            nested("1 0 obj [", 100_000).into_bytes(),
            Ok(""),
        ),
        (
            "1 0 R".into(),
            nested("1 0 R ", 100_000).into_bytes(),
            Ok(""),
        ),
        (
            "stream".into(),
            format!(
                "%PDF-1.4\n{}",
                "1 0 obj << /Length 5 >> stream\n".repeat(50_000)
            )
            .into_bytes(),
            Ok(""),
        ),
    ];
    // Content streams (uncompressed, so that the interpreter rather than the inflate
    // guard meets them) with unbalanced parens, endless arrays and dictionaries, junk
    // operators, absurd numbers, and more saves than are tracked.
    let huge = "1".repeat(40); // 1e40: not an i64, read as a real
    let inf = "1".repeat(400); // beyond f64: infinity
    let contents = [
        ("BT /F1 12 Tf (unbalanced ((( Tj ET".to_string(), ""),
        (format!("BT /F1 12 Tf {} ET", "[".repeat(200_000)), ""),
        (format!("BT {} ET", "<<".repeat(100_000)), ""),
        (
            format!("BT /F1 12 Tf {} (a) Tj ET", "<< /A [".repeat(50_000)),
            "",
        ),
        (
            "BT /F1 12 Tf ) ) ) > > } { Tj TJ ' \" Tf Tm cm Do BI ID \x00\x01 EI ET".to_string(),
            "",
        ),
        (
            format!(
                "BT /F1 {huge} Tf {huge} {huge} {huge} {huge} {huge} {huge} Tm (a) Tj (b) Tj ET"
            ),
            "ab\n",
        ),
        (
            format!("BT /F1 {inf} Tf {inf} {inf} {inf} {inf} {inf} {inf} Tm (a) Tj (b) Tj ET"),
            "ab\n",
        ),
        (
            "BT /F1 12 Tf 0 0 0 0 0 0 Tm (a) Tj NaN NaN Td (b) Tj ET".to_string(),
            "ab\n",
        ),
        (
            "q ".repeat(100_000) + "BT /F1 12 Tf (x) Tj ET " + &"Q ".repeat(100_000),
            "x\n",
        ),
    ];
    for (content, text) in contents {
        let label = content.chars().take(30).collect();
        cases.push((label, simple_pdf(&[content.as_bytes()], false), Ok(text)));
    }
    // Self-referencing page tree, a form XObject that draws itself, a reference loop: the
    // form runs from each of the page's two `Do`s but not from its own, then the page
    // (the same stream) shows its own text.
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(
        2,
        "<< /Type /Pages /Kids [2 0 R 10 0 R 2 0 R] /Resources 2 0 R >>",
    );
    pdf.obj(10, "<< /Type /Page /Parent 2 0 R /Resources << /XObject << /X 11 0 R >> /Font 12 0 R >> /Contents 11 0 R >>");
    pdf.stream(
        11,
        "/Subtype /Form /Resources << /XObject << /X 11 0 R >> >>",
        b"/X Do /X Do (loop) Tj",
        false,
    );
    pdf.obj(12, "13 0 R");
    pdf.obj(13, "12 0 R");
    cases.push(("loops".into(), pdf.finish(""), Ok("looplooploop\n")));

    for (label, case, want) in &cases {
        let got = extract_checking_prefix(DocKind::Pdf, case, &Limits::default(), 1);
        let got = got.map(|out| {
            assert!(!out.truncated, "{label}");
            out.text
        });
        assert_eq!(got.as_deref(), want.as_deref(), "{label}");
    }
}

#[test]
fn too_many_pdf_objects_are_refused() {
    let mut pdf = Pdf::new();
    for n in 1..=20_000 {
        pdf.obj(n, "null");
    }
    let bytes = pdf.finish("");
    assert_eq!(
        extract(DocKind::Pdf, &bytes, &Limits::default()),
        Err(ExtractError::Bomb)
    );
}

#[test]
fn a_pdf_flate_bomb_is_refused() {
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(2, "<< /Type /Pages /Kids [10 0 R] /Count 1 >>");
    pdf.obj(10, "<< /Type /Page /Parent 2 0 R /Contents 20 0 R >>");
    pdf.stream(20, "", &vec![b' '; 20 << 20], true);
    let bytes = pdf.finish("");
    assert_eq!(
        extract(DocKind::Pdf, &bytes, &Limits::default()),
        Err(ExtractError::Bomb)
    );
}

#[test]
fn a_stream_listed_many_times_by_one_page_is_refused() {
    // 1 MB of uncompressed content listed 2,000 times in one page's /Contents: 2 GB once
    // the parts are joined. Each part is charged before it is copied (tests/memory.rs checks
    // what that saves).
    let bytes = repeated_contents_pdf(2000);
    assert!(
        (1_000_000..1_100_000).contains(&bytes.len()),
        "{}",
        bytes.len()
    );
    assert_eq!(
        extract(DocKind::Pdf, &bytes, &Limits::default()),
        Err(ExtractError::Bomb)
    );
}

#[test]
fn a_form_drawn_on_every_page_is_inflated_and_interpreted_once() {
    // A 63 KB letterhead of path operators (no text) drawn on each of 2,000 pages: run
    // every time, that is 126 MB of content for a file of under 400 KB. It is inflated
    // once and, having shown no text, run once. A small form with text (a stamp) is still
    // run on every page that draws it.
    let mut art = String::new();
    for i in 0..10_000u32 {
        if art.len() >= 63_000 {
            break;
        }
        art.push_str(&format!(
            "{} {} m {} {} l S\n",
            i % 577,
            i * 7 % 811,
            i * 13 % 577,
            i * 3 % 811
        ));
    }
    let pages = 2000u32;
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 100 + 2 * i)).collect();
    pdf.obj(
        2,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} /Resources << /Font << /F1 3 0 R >> /XObject << /Art 4 0 R /Stamp 5 0 R >> >> >>",
            kids.join(" ")
        ),
    );
    pdf.obj(
        3,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    );
    pdf.stream(
        4,
        "/Type /XObject /Subtype /Form /BBox [0 0 595 842]",
        art.as_bytes(),
        true,
    );
    pdf.stream(
        5,
        "/Type /XObject /Subtype /Form /BBox [0 0 100 20] /Resources << /Font << /F1 3 0 R >> >>",
        b"BT /F1 9 Tf 0 0 Td (Stamp) Tj ET",
        true,
    );
    for i in 0..pages {
        let content: &[u8] = match pages - i {
            1 => b"q /Art Do Q q /Stamp Do Q BT /F1 12 Tf 72 700 Td (Tel 03-1234-5678) Tj ET",
            2 => b"q /Art Do Q q /Stamp Do Q",
            _ => b"q /Art Do Q",
        };
        let num = 100 + 2 * i;
        pdf.obj(
            num,
            &format!("<< /Type /Page /Parent 2 0 R /Contents {} 0 R >>", num + 1),
        );
        pdf.stream(num + 1, "", content, false);
    }
    let bytes = pdf.finish("");
    assert!(art.len() >= 63_000 && art.len() < 64 * 1024);
    assert!(bytes.len() < 400_000, "{}", bytes.len());
    assert_eq!(
        text_of(DocKind::Pdf, &bytes),
        "Stamp\nStamp\nTel 03-1234-5678\n"
    );
}

#[test]
fn pdf_objects_are_held_to_a_node_allowance() {
    // One array of 400,000 names in 1.2 MB: 400,001 objects to build. The allowance is
    // 100 per allowed object plus one per 16 bytes of file.
    let names = format!("[{}]", "/a ".repeat(400_000));
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(2, "<< /Type /Pages /Kids [] /Count 0 >>");
    pdf.obj(3, &names);
    let direct = pdf.finish("");
    // The same array in a compressed object stream: its inflated data draws on the same
    // allowance, which the (small) file size decides.
    let mut pdf = Pdf::new();
    pdf.obj(1, "<< /Type /Catalog /Pages 2 0 R >>");
    pdf.obj(2, "<< /Type /Pages /Kids [] /Count 0 >>");
    let stm = format!("3 0 {names}");
    pdf.stream(4, "/Type /ObjStm /N 1 /First 4", stm.as_bytes(), true);
    let packed = pdf.finish("");
    assert!(packed.len() < 10_000, "{}", packed.len());

    let limits = |max_entries: usize| Limits {
        max_entries,
        max_ratio: u64::MAX,
        ..Limits::default()
    };
    // 1,000 × 100 + 75,000 for the direct file, 100,000 + a few hundred for the packed one.
    for bytes in [&direct, &packed] {
        assert_eq!(
            extract(DocKind::Pdf, bytes, &limits(1000)),
            Err(ExtractError::Bomb)
        );
        // 1,000,000 + …: enough.
        assert_eq!(
            extract(DocKind::Pdf, bytes, &limits(10_000)).map(|o| o.text),
            Ok(String::new())
        );
    }
}

/// A tiny xorshift generator for the mutation test below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_documents_never_panic_and_cut_text_is_a_prefix() {
    let seeds: Vec<(DocKind, Vec<u8>)> = vec![
        (
            DocKind::Docx,
            docx_with(
                &["個人番号 1234-5678-9018", "電話 090-1234-5678"],
                &[],
                false,
            ),
        ),
        (DocKind::Docx, docx(&["個人番号 1234-5678-9018"])),
        (
            DocKind::Xlsx,
            xlsx(
                &["a", "b"],
                &[r#"<row><c t="s"><v>1</v></c><c><v>5</v></c></row>"#],
            ),
        ),
        (DocKind::Pptx, pptx(&[(1, "x"), (2, "y")], &[])),
        (
            DocKind::Pdf,
            japanese_pdf(&format!(
                "BT /F1 12 Tf 72 700 Td {} Tj ET",
                cids("個人番号 1234-5678-9018")
            )),
        ),
        (
            DocKind::Pdf,
            simple_pdf(&[b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET"], false),
        ),
        (DocKind::Csv, b"a,\"b\"\"c\",d\r\n".to_vec()),
    ];
    let limits = Limits {
        max_text_bytes: 1000,
        max_inflated_bytes: 1 << 20,
        max_entries: 100,
        max_ratio: 50,
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (kind, seed) in &seeds {
        for _ in 0..300 {
            let mut bytes = seed.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                match rng.below(4) {
                    0 => bytes[at] = rng.next() as u8,
                    1 => bytes[at] ^= 1 << rng.below(8),
                    2 => bytes.truncate(at.max(1)),
                    _ => {
                        let b = bytes[at];
                        bytes.insert(at, b);
                    }
                }
            }
            for k in [*kind, DocKind::Pdf, DocKind::Docx] {
                let _ = extract_checking_prefix(k, &bytes, &limits, 10);
            }
            if let Ok(names) = zip_entry_names(&bytes, &limits) {
                assert!(names.len() <= limits.max_entries);
            }
        }
    }
}
