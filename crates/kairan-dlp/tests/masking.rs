//! Masking rules per kind, checked on real scanner output, plus the guarantee that no
//! masked digit survives in the output.

use kairan_dlp::{Scanner, mask};

fn masked(input: &str) -> String {
    let scanner = Scanner::default();
    mask(input, &scanner.scan(input))
}

#[test]
fn my_number_keeps_only_the_last_four_digits() {
    assert_eq!(masked("個人番号 1234-5678-9018"), "個人番号 ****-****-9018");
    assert_eq!(masked("個人番号 123456789018"), "個人番号 ********9018");
}

#[test]
fn full_width_separators_are_kept_when_masking() {
    assert_eq!(
        masked("個人番号 １２３４－５６７８－９０１８"),
        "個人番号 ****－****－９０１８"
    );
}

#[test]
fn phones_keep_the_first_and_last_groups() {
    assert_eq!(masked("携帯090-1234-5678"), "携帯090-****-5678");
    assert_eq!(masked("TEL (06)6123-4567"), "TEL (06)****-4567");
    assert_eq!(masked("+81 90-1234-5678"), "+81 90-****-5678");
    assert_eq!(masked("電話09012345678"), "電話090****5678");
}

#[test]
fn cards_keep_the_last_four_digits() {
    assert_eq!(
        masked("カード 4111-1111-1111-1111"),
        "カード ****-****-****-1111"
    );
}

#[test]
fn emails_keep_the_first_letter_and_the_domain() {
    assert_eq!(masked("taro@example.jp"), "t****@example.jp");
}

#[test]
fn birth_dates_mask_every_digit() {
    assert_eq!(masked("生年月日 1985年4月1日"), "生年月日 ****年*月*日");
    assert_eq!(masked("生年月日 平成元年1月8日"), "生年月日 平成*年*月*日");
}

#[test]
fn addresses_keep_prefecture_and_municipality() {
    assert_eq!(
        masked("東京都千代田区霞が関1-2-3"),
        "東京都千代田区****-*-*"
    );
    assert_eq!(masked("東京都町田市森野2-2-22"), "東京都町田市***-*-**");
    assert_eq!(masked("大阪市北区梅田一丁目2番3号"), "大阪市***********");
}

#[test]
fn postal_codes_keep_the_first_three_digits() {
    assert_eq!(masked("〒100-0013"), "〒100-****");
}

#[test]
fn identity_documents_mask_letters_and_digits() {
    assert_eq!(masked("在留カード AB12345678CD"), "在留カード ************");
    assert_eq!(masked("旅券番号 TK1234567"), "旅券番号 *********");
}

#[test]
fn keywords_are_left_visible() {
    assert_eq!(masked("【極秘】案"), "【極秘】案");
}

#[test]
fn masked_output_never_contains_the_masked_digits() {
    let text = "個人番号 123456789018 口座 普通 7654321 基礎年金番号 2345-678901";
    let scanner = Scanner::default();
    let found = scanner.scan(text);
    assert_eq!(found.len(), 3, "{found:?}");
    let out = mask(text, &found);
    // Every digit but the last four of each number (none of an account) is starred, and the
    // text around them is untouched.
    assert_eq!(
        out,
        "個人番号 ********9018 口座 普通 ******* 基礎年金番号 ****-**8901"
    );
}
