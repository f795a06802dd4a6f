//! Check-digit algorithms for the numbers that carry one.
//!
//! All functions take ASCII digit values (0..=9) and return false rather than panic on
//! unexpected lengths, so callers can feed them any candidate.

/// 個人番号 (My Number) check digit, as defined by 総務省令第八十五号 第五条:
/// weights `n + 1` for n = 1..=6 and `n - 5` for n = 7..=11, counting the 11 base
/// digits from the right; check = 0 when `sum % 11 <= 1`, else `11 - sum % 11`.
pub fn my_number_valid(d: &[u8]) -> bool {
    if d.len() != 12 {
        return false;
    }
    my_number_check_digit(&d[..11]) == Some(d[11])
}

/// Computes the My Number check digit for 11 base digits.
pub fn my_number_check_digit(base: &[u8]) -> Option<u8> {
    if base.len() != 11 {
        return None;
    }
    let mut sum: u32 = 0;
    for n in 1..=11usize {
        let p = u32::from(base[11 - n]);
        let q = if n <= 6 { n + 1 } else { n - 5 } as u32;
        sum += p * q;
    }
    let r = sum % 11;
    Some(if r <= 1 { 0 } else { (11 - r) as u8 })
}

/// 法人番号 check digit: the leading digit equals `9 - (sum % 9)` where the 12 base
/// digits are weighted 1, 2, 1, 2, … from the right.
pub fn corporate_number_valid(d: &[u8]) -> bool {
    if d.len() != 13 {
        return false;
    }
    corporate_check_digit(&d[1..]) == Some(d[0])
}

/// Computes the 法人番号 check digit for 12 base digits.
pub fn corporate_check_digit(base: &[u8]) -> Option<u8> {
    if base.len() != 12 {
        return None;
    }
    let sum: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &v)| u32::from(v) * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    Some((9 - sum % 9) as u8)
}

/// Luhn (mod 10) check used by payment cards.
pub fn luhn_valid(d: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &v)| {
            let v = u32::from(v);
            if i % 2 == 1 {
                let x = v * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                v
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn published_my_number_example_is_valid() {
        // Example used in public explanations of the 総務省令 formula.
        assert!(my_number_valid(&digits("123456789018")));
        assert!(!my_number_valid(&digits("123456789012")));
    }

    #[test]
    fn national_tax_agency_corporate_number_is_valid() {
        // 国税庁's own 法人番号.
        assert!(corporate_number_valid(&digits("7000012050002")));
        assert!(!corporate_number_valid(&digits("7000012050003")));
    }

    #[test]
    fn luhn_accepts_test_card_numbers() {
        assert!(luhn_valid(&digits("4111111111111111")));
        assert!(luhn_valid(&digits("5555555555554444")));
        assert!(!luhn_valid(&digits("4111111111111112")));
    }

    #[test]
    fn wrong_lengths_are_rejected_not_panicking() {
        assert!(!my_number_valid(&digits("1234")));
        assert!(!corporate_number_valid(&[]));
        assert!(!luhn_valid(&[]));
    }
}
