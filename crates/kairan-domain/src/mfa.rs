//! The second factor (I3; seed 004 4.4②③): time-based one-time passwords (RFC 6238), the
//! one-time recovery codes that stand in when the phone is gone, and the body's rule of who
//! must use a second factor.
//!
//! Pure: the caller brings the time, the secret and the randomness. The server keeps the
//! secret sealed, remembers the last time step each credential accepted (so a code is never
//! accepted twice), and stores recovery codes only as keyed hashes.

use crate::{DeviceClass, Role};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Seconds per TOTP time step, as every authenticator app uses.
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps either side of now that are still accepted: clocks on phones drift, and a person
/// needs a few seconds to type.
pub const WINDOW: i64 = 1;
/// Bytes of a new TOTP secret (160 bits, the size RFC 4226 recommends for HMAC-SHA1).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;
/// Characters of entropy in a recovery code (16 × 5 bits = 80 bits).
pub const RECOVERY_CODE_CHARS: usize = 16;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as `otpauth://` URIs carry secrets.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32, ignoring case, spaces and padding; `None` on any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.chars() {
        if c == ' ' || c == '=' || c == '-' {
            continue;
        }
        let upper = c.to_ascii_uppercase();
        let value = BASE32.iter().position(|&b| char::from(b) == upper)?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

/// The time step that contains `unix_seconds`.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code of one time step (RFC 6238 over HMAC-SHA1, dynamic truncation of RFC 4226).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    code_digits(secret, step, DIGITS)
}

fn code_digits(secret: &[u8], step: i64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        // HMAC takes keys of any length; this arm is never reached.
        return u32::MAX;
    };
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = (u32::from(hash[offset]) & 0x7f) << 24
        | u32::from(hash[offset + 1]) << 16
        | u32::from(hash[offset + 2]) << 8
        | u32::from(hash[offset + 3]);
    binary % 10u32.pow(digits)
}

/// What a person typed, as six ASCII digits: full-width digits (an IME left on) and spaces
/// are forgiven. `None` when it cannot be a TOTP code.
pub fn parse_code(typed: &str) -> Option<u32> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(fold_width)
        .collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpRefusal {
    /// Not the code of any step inside the window.
    Wrong,
    /// The code of a step this credential has already accepted (or an earlier one).
    Replayed,
}

impl TotpRefusal {
    pub fn code(self) -> &'static str {
        match self {
            TotpRefusal::Wrong => "wrong_code",
            TotpRefusal::Replayed => "replayed",
        }
    }
}

/// The step whose code `code` is, inside the window around `now_step` and after
/// `last_step`. The caller must then record the step atomically (compare-and-set on the
/// stored last step) before it treats the code as accepted.
pub fn verify(secret: &[u8], code: u32, now_step: i64, last_step: i64) -> Result<i64, TotpRefusal> {
    // Every step of the window is computed and compared whatever matched, so the time taken
    // does not tell which step (if any) the code belongs to.
    let mut accepted = None;
    let mut replayed = false;
    for step in (now_step - WINDOW)..=(now_step + WINDOW) {
        let matches: bool = code_at(secret, step).ct_eq(&code).into();
        if matches && step > last_step && accepted.is_none() {
            accepted = Some(step);
        }
        replayed |= matches && step <= last_step;
    }
    match (accepted, replayed) {
        (Some(step), _) => Ok(step),
        (None, true) => Err(TotpRefusal::Replayed),
        (None, false) => Err(TotpRefusal::Wrong),
    }
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent_encode(issuer),
        percent_encode(account),
        base32_encode(secret),
        percent_encode(issuer),
    )
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A recovery code from random bytes, shown as four groups of four (`ABCD-EFGH-JKLM-NPQR`).
/// The alphabet leaves out 0/O and 1/I, which people misread on paper.
pub fn recovery_code(random: &[u8; RECOVERY_CODE_CHARS]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(RECOVERY_CODE_CHARS + 3);
    for (i, b) in random.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    out
}

/// The canonical form of a typed recovery code: upper case, without spaces or hyphens,
/// full-width folded, and the commonly misread 0/O and 1/I read as O and I. `None` when it
/// cannot be a recovery code.
pub fn normalize_recovery_code(typed: &str) -> Option<String> {
    let s: String = typed
        .chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            '0' => 'O',
            '1' => 'I',
            c => c,
        })
        .collect();
    if s.len() != RECOVERY_CODE_CHARS || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    Some(s)
}

/// Full-width ASCII (what a Japanese IME types) to ASCII.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        'ー' => '-',
        _ => c,
    }
}

/// Who must use a second factor in a body (I3). Privileged IDs always must, whatever the
/// body writes here; the body adds roles and device classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaPolicy {
    /// Roles whose holders must use a second factor on every device.
    pub roles: Vec<Role>,
    /// Device classes on which everyone must use a second factor.
    pub devices: Vec<DeviceClass>,
}

impl Default for MfaPolicy {
    /// Internet devices (スマートフォン等) sign in from outside the LGWAN, where a password
    /// alone is what seed 004 4.4② forbids; on the LGWAN side the body decides.
    fn default() -> Self {
        MfaPolicy {
            roles: Vec::new(),
            devices: vec![DeviceClass::InternetDevice],
        }
    }
}

impl MfaPolicy {
    /// Whether a user holding `roles` must pass a second factor on `device`.
    pub fn required(&self, roles: &[Role], device: DeviceClass) -> bool {
        self.required_everywhere(roles) || self.devices.contains(&device)
    }

    /// Whether the user must use a second factor on every device: then they may replace it
    /// but never remove it.
    pub fn required_everywhere(&self, roles: &[Role]) -> bool {
        roles
            .iter()
            .any(|r| r.is_privileged() || self.roles.contains(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows, with the 8-digit codes the RFC lists.
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(code_digits(secret, step_at(time), 8), expected, "t={time}");
            assert_eq!(code_at(secret, step_at(time)), expected % 1_000_000);
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(
            base32_decode("mzxw 6ytb oi======"),
            Some(b"foobar".to_vec())
        );
        assert_eq!(base32_decode("MZ1W"), None);
        for n in 0..40u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(37).wrapping_add(n)).collect();
            assert_eq!(base32_decode(&base32_encode(&bytes)), Some(bytes));
        }
    }

    #[test]
    fn a_code_is_accepted_inside_the_window_only_and_never_twice() {
        let secret = b"12345678901234567890";
        let now = 1_000_000;
        let code = |s| code_at(secret, s);
        assert_eq!(verify(secret, code(now), now, 0), Ok(now));
        assert_eq!(verify(secret, code(now - 1), now, 0), Ok(now - 1));
        assert_eq!(verify(secret, code(now + 1), now, 0), Ok(now + 1));
        assert_eq!(
            verify(secret, code(now - 2), now, 0),
            Err(TotpRefusal::Wrong)
        );
        assert_eq!(
            verify(secret, code(now + 2), now, 0),
            Err(TotpRefusal::Wrong)
        );
        // Once step `now` is used, its code and every earlier one are replays.
        assert_eq!(
            verify(secret, code(now), now, now),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(
            verify(secret, code(now - 1), now, now),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(verify(secret, code(now + 1), now, now), Ok(now + 1));
    }

    #[test]
    fn typed_codes_forgive_spaces_and_full_width_digits() {
        assert_eq!(parse_code(" 123 456 "), Some(123_456));
        assert_eq!(parse_code("１２３４５６"), Some(123_456));
        assert_eq!(parse_code("012345"), Some(12_345));
        assert_eq!(parse_code("12345"), None);
        assert_eq!(parse_code("1234567"), None);
        assert_eq!(parse_code("12a456"), None);
        assert_eq!(
            parse_code("١٢٣٤٥٦"),
            None,
            "other scripts' digits are not codes"
        );
    }

    #[test]
    fn recovery_codes_read_back_however_they_are_typed() {
        let code = recovery_code(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 31]);
        assert_eq!(code, "ABCD-EFGH-JKLM-NPQ9");
        let canonical = normalize_recovery_code(&code);
        assert_eq!(canonical.as_deref(), Some("ABCDEFGHJKLMNPQ9"));
        assert_eq!(normalize_recovery_code("abcd efgh jklm npq9"), canonical);
        assert_eq!(
            normalize_recovery_code("ＡＢＣＤーＥＦＧＨーＪＫＬＭーＮＰＱ９"),
            canonical
        );
        assert_eq!(normalize_recovery_code("ABCD-EFGH"), None);
        assert_eq!(normalize_recovery_code("ABCD-EFGH-JKLM-NPQ!"), None);
        // Misread characters are read as what the alphabet has.
        assert_eq!(
            normalize_recovery_code("0BCD-EFGH-JKLM-NPQ1").as_deref(),
            Some("OBCDEFGHJKLMNPQI")
        );
    }

    #[test]
    fn recovery_codes_use_every_letter_of_their_alphabet_evenly() {
        let mut seen = std::collections::BTreeSet::new();
        for b in 0..=255u8 {
            let code = recovery_code(&[b; RECOVERY_CODE_CHARS]);
            seen.insert(code.chars().next().unwrap_or(' '));
            assert!(normalize_recovery_code(&code).is_some(), "{code}");
        }
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn privileged_ids_always_need_a_second_factor_whatever_the_body_says() {
        let none = MfaPolicy {
            roles: vec![],
            devices: vec![],
        };
        for role in Role::ALL {
            for device in DeviceClass::ALL {
                assert_eq!(none.required(&[role], device), role.is_privileged());
            }
        }
        let default = MfaPolicy::default();
        assert!(default.required(&[Role::Staff], DeviceClass::InternetDevice));
        assert!(!default.required(&[Role::Staff], DeviceClass::LgwanPc));
        assert!(!default.required_everywhere(&[Role::Staff]));
        let heads = MfaPolicy {
            roles: vec![Role::SectionHead],
            devices: vec![],
        };
        assert!(heads.required(&[Role::Staff, Role::SectionHead], DeviceClass::LgwanPc));
        assert!(heads.required_everywhere(&[Role::SectionHead]));
        assert!(!heads.required(&[Role::Staff], DeviceClass::InternetDevice));
    }

    #[test]
    fn the_otpauth_uri_escapes_what_it_carries() {
        let uri = otpauth_uri("Kairan 北町", "sato.hanako", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/Kairan%20%E5%8C%97%E7%94%BA:sato.hanako?secret=MZXW6YTBOI&issuer=Kairan%20%E5%8C%97%E7%94%BA&algorithm=SHA1&digits=6&period=30"
        );
    }
}
