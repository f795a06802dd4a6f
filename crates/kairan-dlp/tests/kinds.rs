//! Table-driven tests per kind: each test states in its name what must (or must not)
//! be detected, using one `check` helper that compares the kinds found, in order.

use kairan_dlp::{Kind, ScanConfig, Scanner};

fn check(input: &str, expected: &[Kind]) {
    let scanner = Scanner::new(&ScanConfig::default());
    let found = scanner.scan(input);
    let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
    let texts: Vec<&str> = found.iter().map(|f| f.text(input)).collect();
    assert_eq!(kinds, expected, "input: {input:?}, matched: {texts:?}");
}

fn score_of(input: &str) -> f32 {
    let found = Scanner::default().scan(input);
    assert_eq!(found.len(), 1, "input: {input:?} found {found:?}");
    found[0].score
}

use Kind::*;

// ---- my_number ----
#[test]
fn a_valid_my_number_with_context_is_found() {
    check("申請者の個人番号は123456789018です", &[MyNumber]);
}
#[test]
fn a_my_number_grouped_with_hyphens_is_found() {
    check("マイナンバー：1234-5678-9018", &[MyNumber]);
}
#[test]
fn a_my_number_grouped_with_spaces_is_found() {
    check("個人番号 1234 5678 9018", &[MyNumber]);
}
#[test]
fn a_full_width_my_number_is_found() {
    check("個人番号：１２３４５６７８９０１８", &[MyNumber]);
}
#[test]
fn a_full_width_my_number_with_long_vowel_marks_is_found() {
    check("マイナンバーは１２３４ー５６７８ー９０１８", &[MyNumber]);
}
#[test]
fn a_my_number_with_a_wrong_check_digit_is_not_reported() {
    check("個人番号は123456789012です", &[]);
}
#[test]
fn a_valid_my_number_without_context_scores_low() {
    let s = score_of("ref 123456789018 end");
    assert!((0.3..=0.5).contains(&s), "{s}");
}
#[test]
fn a_valid_my_number_with_context_scores_high() {
    assert!(score_of("個人番号 123456789018") >= 0.9);
}
#[test]
fn a_my_number_with_mixed_separators_is_not_reported() {
    check("個人番号 1234-5678 9018", &[]);
}
#[test]
fn a_my_number_inside_a_longer_digit_run_is_not_reported() {
    check("個人番号 1234567890181", &[]);
}

// ---- corporate_number ----
#[test]
fn a_valid_corporate_number_is_found() {
    check("法人番号：7000012050002", &[CorporateNumber]);
}
#[test]
fn an_invoice_registration_number_is_a_corporate_number() {
    check("登録番号 T7000012050002", &[CorporateNumber]);
}
#[test]
fn a_corporate_number_with_a_bad_check_digit_is_not_reported() {
    check("法人番号：7000012050003", &[]);
}

// ---- resident_record_code ----
#[test]
fn an_eleven_digit_resident_record_code_in_context_is_found() {
    check("住民票コード：12345678901", &[ResidentRecordCode]);
}
#[test]
fn eleven_digits_without_resident_context_are_not_a_resident_code() {
    check("管理番号 12345678901", &[]);
}

// ---- basic_pension_number ----
#[test]
fn a_pension_number_in_context_is_found() {
    check("基礎年金番号 1234-567890", &[BasicPensionNumber]);
}
#[test]
fn a_four_six_number_without_pension_context_is_not_found() {
    check("注文番号 2024-000123", &[]);
}

// ---- residence_card_number ----
#[test]
fn a_residence_card_number_is_found() {
    check("在留カード番号 AB12345678CD", &[ResidenceCardNumber]);
}
#[test]
fn a_residence_card_number_in_full_width_is_found() {
    check(
        "在留カード：ＡＢ１２３４５６７８ＣＤ",
        &[ResidenceCardNumber],
    );
}
#[test]
fn a_lowercase_code_is_not_a_residence_card_number() {
    check("コード ab12345678cd", &[]);
}

// ---- phone_number ----
#[test]
fn a_tokyo_number_is_a_phone() {
    check("代表 03-1234-5678 まで", &[PhoneNumber]);
}
#[test]
fn a_rural_four_digit_area_code_is_a_phone() {
    check("0748-12-3456へ", &[PhoneNumber]);
}
#[test]
fn a_mobile_number_is_a_phone() {
    check("携帯090-1234-5678", &[PhoneNumber]);
}
#[test]
fn an_ip_phone_is_a_phone() {
    check("050-1234-5678", &[PhoneNumber]);
}
#[test]
fn a_free_dial_is_a_phone() {
    check(
        "0120-123-456 または 0800-123-4567",
        &[PhoneNumber, PhoneNumber],
    );
}
#[test]
fn a_parenthesised_area_code_is_a_phone() {
    check("TEL (06)1234-5678", &[PhoneNumber]);
}
#[test]
fn an_international_mobile_is_a_phone() {
    check("+81 90-1234-5678", &[PhoneNumber]);
}
#[test]
fn an_international_fixed_number_is_a_phone() {
    check("+81-3-1234-5678", &[PhoneNumber]);
}
#[test]
fn a_tel_prefix_glued_to_the_number_is_a_phone() {
    check("TEL03-1234-5678", &[PhoneNumber]);
}
#[test]
fn a_full_width_phone_is_a_phone() {
    check("電話：０３－１２３４－５６７８", &[PhoneNumber]);
}
#[test]
fn an_extension_is_not_a_phone() {
    check("内線1234までご連絡ください", &[]);
}
#[test]
fn a_time_range_is_not_a_phone() {
    check("10:00-12:00 会議室305", &[]);
}
#[test]
fn an_unsplit_fixed_number_needs_context() {
    check("番号0312345678", &[]);
    check("電話0312345678", &[PhoneNumber]);
}
#[test]
fn an_unsplit_mobile_number_is_a_phone() {
    check("09012345678", &[PhoneNumber]);
}

// ---- postal_code ----
#[test]
fn a_postal_code_after_the_postal_mark_is_found() {
    check("〒100-0013", &[PostalCode]);
}
#[test]
fn a_postal_code_with_a_label_is_found() {
    check("郵便番号 520-0001", &[PostalCode]);
}
#[test]
fn a_three_four_number_without_context_is_not_a_postal_code() {
    check("資料番号 123-4567", &[]);
}

// ---- address ----
#[test]
fn a_dashed_tokyo_address_is_found() {
    check("東京都千代田区霞が関1-2-3", &[Address]);
}
#[test]
fn a_banchi_address_is_found() {
    check("滋賀県愛知郡愛荘町愛知川72番地", &[Address]);
}
#[test]
fn a_kanji_chome_address_is_found() {
    check("大阪市北区梅田一丁目2番3号", &[Address]);
}
#[test]
fn an_address_after_a_postal_code_gives_both() {
    check(
        "〒100-0013 東京都千代田区霞が関1-2-3",
        &[PostalCode, Address],
    );
}
#[test]
fn a_quantity_range_after_a_ward_name_is_not_an_address() {
    check("渋谷区で2-3名が参加", &[]);
    check("港区の1-2件目", &[]);
}
#[test]
fn a_market_survey_is_not_an_address() {
    check("市場調査の結果は1-2で", &[]);
}

// ---- birth_date ----
#[test]
fn a_western_birth_date_is_found() {
    check("生年月日：1985年4月1日", &[BirthDate]);
}
#[test]
fn a_slashed_birth_date_is_found() {
    check("生年月日 1985/4/1", &[BirthDate]);
}
#[test]
fn an_iso_birth_date_is_found() {
    check("DOB: 1985-04-01", &[BirthDate]);
}
#[test]
fn an_era_birth_date_is_found() {
    check("昭和60年4月1日生まれ", &[BirthDate]);
}
#[test]
fn a_gannen_birth_date_is_found() {
    check("生年月日 平成元年1月8日", &[BirthDate]);
}
#[test]
fn an_era_initial_birth_date_is_found() {
    check("生年月日 S60.4.1", &[BirthDate]);
    check("誕生日はH1/1/8です", &[BirthDate]);
}
#[test]
fn a_full_width_birth_date_is_found() {
    check("生年月日：１９８５年４月１日", &[BirthDate]);
}
#[test]
fn a_meeting_date_is_not_a_birth_date() {
    check("会議は2024年4月1日に開催します", &[]);
}
#[test]
fn a_fiscal_year_is_not_a_birth_date() {
    check("令和6年度予算", &[]);
}
#[test]
fn a_deadline_after_a_birth_label_is_not_a_birth_date() {
    check("生年月日欄の追加は2024年4月10日までに", &[]);
}

// ---- bank_account ----
#[test]
fn a_savings_account_is_found() {
    check("○○銀行 本店 普通 1234567", &[BankAccount]);
}
#[test]
fn an_account_number_label_is_enough() {
    check("口座番号：７６５４３２１", &[BankAccount]);
}
#[test]
fn an_amount_near_a_branch_is_not_an_account() {
    check("支店の売上 1234567円", &[]);
}

// ---- credit_card ----
#[test]
fn a_grouped_card_number_is_found() {
    check("カード番号 4111 1111 1111 1111", &[CreditCard]);
}
#[test]
fn an_unsplit_card_number_is_found() {
    check("5555555555554444", &[CreditCard]);
}
#[test]
fn a_card_number_failing_luhn_is_not_found() {
    check("カード番号 4111-1111-1111-1112", &[]);
}
#[test]
fn a_big_amount_is_not_a_card() {
    check("¥4,111,111,111,111,111", &[]);
}

// ---- passport_number ----
#[test]
fn a_passport_number_in_context_is_found() {
    check("旅券番号 TK1234567", &[PassportNumber]);
}
#[test]
fn a_passport_number_after_katakana_label_is_found() {
    check("パスポート：ＴＫ１２３４５６７", &[PassportNumber]);
}
#[test]
fn a_product_code_is_not_a_passport() {
    check("型番 TK1234567", &[]);
}

// ---- drivers_license_number ----
#[test]
fn a_license_number_in_context_is_found() {
    check("運転免許証番号 123456789012", &[DriversLicenseNumber]);
}

// ---- email ----
#[test]
fn an_email_is_found() {
    check("連絡はtaro.yamada@city.example.lg.jpまで", &[Email]);
}
#[test]
fn a_full_width_email_is_found() {
    check("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", &[Email]);
}
#[test]
fn a_mention_is_not_an_email() {
    check("@yamada さん確認お願いします", &[]);
}

// ---- keyword ----
#[test]
fn a_confidential_stamp_is_a_keyword() {
    check("【極秘】来年度の組織改編案", &[Keyword]);
}
#[test]
fn a_lone_secret_mark_is_a_keyword() {
    check("（秘）人事異動案", &[Keyword]);
    check("㊙ 人事異動案", &[Keyword]);
}
#[test]
fn a_secretary_is_not_a_keyword() {
    check("秘書課に確認します", &[]);
}

#[test]
fn the_name_of_the_confidentiality_axis_is_not_a_stamp() {
    check("この情報は機密性 第1種に分類します", &[]);
    check("機密性2の資料です", &[]);
}
#[test]
fn custom_keywords_replace_the_defaults() {
    let cfg = ScanConfig {
        keywords: vec!["内部限定".into()],
        ..ScanConfig::default()
    };
    let text = "内部限定の資料です。極秘";
    let found = Scanner::new(&cfg).scan(text);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, Keyword);
    assert_eq!(
        found[0].text(text),
        "内部限定",
        "the body's word, not the default 極秘"
    );
}

// ---- generic negatives ----
#[test]
fn version_numbers_isbns_and_document_numbers_are_ignored() {
    check("v1.2.3 をリリース。ISBN978-4-87311-565-8、総第1234号", &[]);
}
#[test]
fn amounts_are_ignored() {
    check("合計 ¥1,234,567（税込 1,358,023円）", &[]);
}

// ---- API ----
#[test]
fn findings_serialize_with_the_kind_code() {
    let found = Scanner::default().scan("携帯090-1234-5678");
    let json = serde_json::to_string(&found[0]).unwrap();
    assert!(
        json.starts_with(r#"{"kind":"phone_number","start":6,"end":19"#),
        "{json}"
    );
}
#[test]
fn every_kind_round_trips_through_its_code() {
    for k in Kind::ALL {
        assert_eq!(Kind::parse(k.code()), Some(k));
        assert!(!k.label_ja().is_empty() && !k.label_en().is_empty());
    }
    assert_eq!(Kind::parse("nope"), None);
}
#[test]
fn disabled_kinds_are_not_reported() {
    let cfg = ScanConfig {
        kinds: vec![Email],
        ..ScanConfig::default()
    };
    assert!(Scanner::new(&cfg).scan("090-1234-5678").is_empty());
}
#[test]
fn offsets_refer_to_the_original_full_width_text() {
    let text = "電話：０３－１２３４－５６７８です";
    let f = Scanner::default().scan(text);
    assert_eq!(f[0].text(text), "０３－１２３４－５６７８");
}
