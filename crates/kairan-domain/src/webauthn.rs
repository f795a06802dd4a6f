//! Passkeys and security keys (WebAuthn Level 2, I3): checking what a browser returns when a
//! credential is registered and when it signs in, against the challenge the server issued.
//!
//! Pure: the caller brings the stored challenge, the allowed origins, the relying-party ID and
//! (for a sign-in) the stored public key and counter. Attestation is not verified (the server
//! asks for `"none"`): a municipality cares that the same key comes back, not which vendor
//! made it. Keys are ES256 (P-256), what platform authenticators and security keys offer.
//!
//! Every length in the input is checked before it is used; the CBOR reader takes only the
//! subset WebAuthn uses, with a depth and item limit, so hostile input fails closed with an
//! error and never panics.

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// COSE algorithm identifier of ES256.
pub const ES256: i64 = -7;

/// Why a response was refused: a stable code for the audit log and the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebauthnError {
    #[error("the response is malformed")]
    Malformed,
    #[error("the response answers another challenge")]
    Challenge,
    #[error("the response comes from another origin")]
    Origin,
    #[error("the response is for another relying party")]
    RelyingParty,
    #[error("the ceremony type is wrong")]
    Type,
    #[error("the user was not present")]
    UserPresence,
    #[error("the key's algorithm is not supported")]
    Algorithm,
    #[error("the signature does not verify")]
    Signature,
    #[error("the signature counter went backwards: a cloned authenticator?")]
    Counter,
}

impl WebauthnError {
    pub fn code(self) -> &'static str {
        match self {
            WebauthnError::Malformed => "malformed",
            WebauthnError::Challenge => "challenge",
            WebauthnError::Origin => "origin",
            WebauthnError::RelyingParty => "relying_party",
            WebauthnError::Type => "type",
            WebauthnError::UserPresence => "user_presence",
            WebauthnError::Algorithm => "algorithm",
            WebauthnError::Signature => "signature",
            WebauthnError::Counter => "counter",
        }
    }
}

// ---- base64url (RFC 4648 §5, no padding), as WebAuthn's JSON carries binary ----

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub fn b64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(B64URL[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Decodes base64url; padding is tolerated, any other stray character is not.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = B64URL.iter().position(|&b| b == c)? as u32;
        buffer = (buffer << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

// ---- a bounded CBOR reader (RFC 8949), the subset WebAuthn uses ----

#[derive(Debug, Clone, PartialEq)]
pub enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    Bool(bool),
    Null,
}

impl Cbor {
    fn get(&self, key: &Cbor) -> Option<&Cbor> {
        match self {
            Cbor::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn get_text(&self, key: &str) -> Option<&Cbor> {
        self.get(&Cbor::Text(key.to_owned()))
    }

    fn get_int(&self, key: i64) -> Option<&Cbor> {
        self.get(&Cbor::Int(key))
    }

    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Cbor::Bytes(b) => Some(b),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Cbor::Int(i) => Some(*i),
            _ => None,
        }
    }
}

const MAX_DEPTH: usize = 8;
const MAX_ITEMS: usize = 512;

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    items: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.input.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn argument(&mut self, info: u8) -> Option<u64> {
        Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.take(1)?[0]),
            25 => u64::from(u16::from_be_bytes(self.take(2)?.try_into().ok()?)),
            26 => u64::from(u32::from_be_bytes(self.take(4)?.try_into().ok()?)),
            27 => u64::from_be_bytes(self.take(8)?.try_into().ok()?),
            // Indefinite lengths and reserved values: WebAuthn never needs them.
            _ => return None,
        })
    }

    fn item(&mut self, depth: usize) -> Option<Cbor> {
        self.items += 1;
        if depth > MAX_DEPTH || self.items > MAX_ITEMS {
            return None;
        }
        let head = self.take(1)?[0];
        let (major, info) = (head >> 5, head & 0x1f);
        if major == 7 {
            return match info {
                20 => Some(Cbor::Bool(false)),
                21 => Some(Cbor::Bool(true)),
                22 => Some(Cbor::Null),
                _ => None,
            };
        }
        let arg = self.argument(info)?;
        match major {
            0 => Some(Cbor::Int(i64::try_from(arg).ok()?)),
            1 => Some(Cbor::Int(-1 - i64::try_from(arg).ok()?)),
            2 => Some(Cbor::Bytes(self.take(usize::try_from(arg).ok()?)?.to_vec())),
            3 => {
                let raw = self.take(usize::try_from(arg).ok()?)?;
                Some(Cbor::Text(std::str::from_utf8(raw).ok()?.to_owned()))
            }
            4 => {
                let n = usize::try_from(arg).ok()?;
                // Every item takes at least a byte: a count beyond the input is a lie.
                if n > self.input.len() - self.pos {
                    return None;
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.item(depth + 1)?);
                }
                Some(Cbor::Array(v))
            }
            5 => {
                let n = usize::try_from(arg).ok()?;
                if n > (self.input.len() - self.pos) / 2 {
                    return None;
                }
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.item(depth + 1)?;
                    let val = self.item(depth + 1)?;
                    v.push((k, val));
                }
                Some(Cbor::Map(v))
            }
            _ => None,
        }
    }
}

/// One CBOR item from the front of `input`, and how many bytes it took.
pub fn cbor_prefix(input: &[u8]) -> Option<(Cbor, usize)> {
    let mut r = Reader {
        input,
        pos: 0,
        items: 0,
    };
    let item = r.item(0)?;
    Some((item, r.pos))
}

/// Exactly one CBOR item filling `input`.
pub fn cbor(input: &[u8]) -> Option<Cbor> {
    match cbor_prefix(input)? {
        (item, used) if used == input.len() => Some(item),
        _ => None,
    }
}

// ---- authenticator data (WebAuthn §6.1) ----

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;

#[derive(Debug, Clone, PartialEq)]
pub struct AuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    /// Present at registration: the new credential.
    pub attested: Option<Attested>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attested {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    pub public_key: Cbor,
}

impl AuthData {
    pub fn user_present(&self) -> bool {
        self.flags & FLAG_UP != 0
    }

    pub fn user_verified(&self) -> bool {
        self.flags & FLAG_UV != 0
    }
}

pub fn parse_auth_data(bytes: &[u8]) -> Result<AuthData, WebauthnError> {
    let m = WebauthnError::Malformed;
    if bytes.len() < 37 {
        return Err(m);
    }
    let mut rp_id_hash = [0u8; 32];
    rp_id_hash.copy_from_slice(&bytes[..32]);
    let flags = bytes[32];
    let sign_count = u32::from_be_bytes([bytes[33], bytes[34], bytes[35], bytes[36]]);
    let mut rest = &bytes[37..];
    let attested = if flags & FLAG_AT != 0 {
        if rest.len() < 18 {
            return Err(m);
        }
        let mut aaguid = [0u8; 16];
        aaguid.copy_from_slice(&rest[..16]);
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        rest = &rest[18..];
        if len == 0 || len > 1023 || rest.len() < len {
            return Err(m);
        }
        let credential_id = rest[..len].to_vec();
        rest = &rest[len..];
        let (public_key, used) = cbor_prefix(rest).ok_or(m)?;
        rest = &rest[used..];
        Some(Attested {
            aaguid,
            credential_id,
            public_key,
        })
    } else {
        None
    };
    // Extensions (ED flag) are not asked for; anything left over is malformed.
    if !rest.is_empty() && bytes[32] & 0x80 == 0 {
        return Err(m);
    }
    Ok(AuthData {
        rp_id_hash,
        flags,
        sign_count,
        attested,
    })
}

/// An ES256 public key from its COSE form, as the SEC1 uncompressed point (65 bytes).
pub fn es256_key(cose: &Cbor) -> Result<Vec<u8>, WebauthnError> {
    let alg = cose.get_int(3).and_then(Cbor::int);
    let kty = cose.get_int(1).and_then(Cbor::int);
    let crv = cose.get_int(-1).and_then(Cbor::int);
    if alg != Some(ES256) || kty != Some(2) || crv != Some(1) {
        return Err(WebauthnError::Algorithm);
    }
    let x = cose.get_int(-2).and_then(Cbor::bytes);
    let y = cose.get_int(-3).and_then(Cbor::bytes);
    let (Some(x), Some(y)) = (x, y) else {
        return Err(WebauthnError::Malformed);
    };
    if x.len() != 32 || y.len() != 32 {
        return Err(WebauthnError::Malformed);
    }
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    // Refuse points that are not on the curve now, not at the first sign-in.
    VerifyingKey::from_sec1_bytes(&point).map_err(|_| WebauthnError::Malformed)?;
    Ok(point)
}

// ---- client data (WebAuthn §5.8.1) ----

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: bool,
}

/// What the server expects of a response.
pub struct Expected<'a> {
    /// The challenge it issued for this ceremony (raw bytes).
    pub challenge: &'a [u8],
    /// Origins the page may be served from (`https://chat.example.lg.jp`).
    pub origins: &'a [String],
    pub rp_id: &'a str,
}

fn check_client_data(json: &[u8], kind: &str, e: &Expected<'_>) -> Result<(), WebauthnError> {
    let cd: ClientData = serde_json::from_slice(json).map_err(|_| WebauthnError::Malformed)?;
    if cd.kind != kind {
        return Err(WebauthnError::Type);
    }
    let sent = b64url_decode(&cd.challenge).ok_or(WebauthnError::Challenge)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(sent.as_slice(), e.challenge)) {
        return Err(WebauthnError::Challenge);
    }
    if cd.cross_origin || !e.origins.iter().any(|o| o == &cd.origin) {
        return Err(WebauthnError::Origin);
    }
    Ok(())
}

fn check_rp(auth: &AuthData, e: &Expected<'_>) -> Result<(), WebauthnError> {
    let want: [u8; 32] = Sha256::digest(e.rp_id.as_bytes()).into();
    if auth.rp_id_hash != want {
        return Err(WebauthnError::RelyingParty);
    }
    if !auth.user_present() {
        return Err(WebauthnError::UserPresence);
    }
    Ok(())
}

/// A credential a registration produced, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCredential {
    pub credential_id: Vec<u8>,
    /// SEC1 uncompressed P-256 point.
    pub public_key: Vec<u8>,
    pub sign_count: u32,
    pub user_verified: bool,
    pub aaguid: [u8; 16],
}

/// Checks `navigator.credentials.create()`'s answer (WebAuthn §7.1, attestation "none").
pub fn verify_registration(
    client_data_json: &[u8],
    attestation_object: &[u8],
    expected: &Expected<'_>,
) -> Result<NewCredential, WebauthnError> {
    check_client_data(client_data_json, "webauthn.create", expected)?;
    let att = cbor(attestation_object).ok_or(WebauthnError::Malformed)?;
    let auth_bytes = att
        .get_text("authData")
        .and_then(Cbor::bytes)
        .ok_or(WebauthnError::Malformed)?;
    let auth = parse_auth_data(auth_bytes)?;
    check_rp(&auth, expected)?;
    let attested = auth.attested.as_ref().ok_or(WebauthnError::Malformed)?;
    let public_key = es256_key(&attested.public_key)?;
    Ok(NewCredential {
        credential_id: attested.credential_id.clone(),
        public_key,
        sign_count: auth.sign_count,
        user_verified: auth.user_verified(),
        aaguid: attested.aaguid,
    })
}

/// What a verified sign-in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asserted {
    pub sign_count: u32,
    pub user_verified: bool,
}

/// Checks `navigator.credentials.get()`'s answer (WebAuthn §7.2) with the stored key and
/// counter. A counter that does not move forward (when either side counts) is refused.
pub fn verify_assertion(
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
    public_key: &[u8],
    stored_count: u32,
    expected: &Expected<'_>,
) -> Result<Asserted, WebauthnError> {
    check_client_data(client_data_json, "webauthn.get", expected)?;
    let auth = parse_auth_data(authenticator_data)?;
    check_rp(&auth, expected)?;
    let key = VerifyingKey::from_sec1_bytes(public_key).map_err(|_| WebauthnError::Algorithm)?;
    let sig = DerSignature::try_from(signature).map_err(|_| WebauthnError::Signature)?;
    let mut signed = Vec::with_capacity(authenticator_data.len() + 32);
    signed.extend_from_slice(authenticator_data);
    signed.extend_from_slice(&Sha256::digest(client_data_json));
    key.verify(&signed, &sig)
        .map_err(|_| WebauthnError::Signature)?;
    if (auth.sign_count != 0 || stored_count != 0) && auth.sign_count <= stored_count {
        return Err(WebauthnError::Counter);
    }
    Ok(Asserted {
        sign_count: auth.sign_count,
        user_verified: auth.user_verified(),
    })
}

/// A software authenticator: what Chromium's virtual authenticator does, in a few lines. For
/// tests (here and in the server's suites) and the load generator; it holds its key in memory
/// and offers no protection at all.
pub struct SoftAuthenticator {
    key: p256::ecdsa::SigningKey,
    pub id: Vec<u8>,
    pub count: u32,
}

impl SoftAuthenticator {
    /// A key derived from `seed`, and a credential ID of sixteen `seed` bytes.
    pub fn new(seed: u8) -> Result<SoftAuthenticator, WebauthnError> {
        // 0x01 first keeps the scalar below the curve order; never zero.
        let mut bytes = [seed; 32];
        bytes[0] = 0x01;
        let key = p256::ecdsa::SigningKey::from_bytes(&bytes.into())
            .map_err(|_| WebauthnError::Algorithm)?;
        Ok(SoftAuthenticator {
            key,
            id: vec![seed; 16],
            count: 0,
        })
    }

    fn cose(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut c = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        c.extend_from_slice(point.x().map(|x| x.as_slice()).unwrap_or(&[0; 32]));
        c.extend_from_slice(&[0x22, 0x58, 0x20]);
        c.extend_from_slice(point.y().map(|y| y.as_slice()).unwrap_or(&[0; 32]));
        c
    }

    /// Authenticator data for `rp` with `flags` (UP = 1, UV = 4), with the new credential when
    /// `attested`.
    pub fn auth_data(&self, rp: &str, flags: u8, attested: bool) -> Vec<u8> {
        let mut a = Sha256::digest(rp.as_bytes()).to_vec();
        a.push(flags | if attested { FLAG_AT } else { 0 });
        a.extend_from_slice(&self.count.to_be_bytes());
        if attested {
            a.extend_from_slice(&[7; 16]);
            a.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            a.extend_from_slice(&self.id);
            a.extend(self.cose());
        }
        a
    }

    pub fn client_data(kind: &str, challenge: &[u8], origin: &str) -> Vec<u8> {
        format!(
            r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#,
            b64url_encode(challenge)
        )
        .into_bytes()
    }

    /// `navigator.credentials.create()`: (clientDataJSON, attestationObject).
    pub fn register(&self, challenge: &[u8], origin: &str, rp: &str) -> (Vec<u8>, Vec<u8>) {
        let auth = self.auth_data(rp, FLAG_UP | FLAG_UV, true);
        // {"fmt": "none", "attStmt": {}, "authData": …}
        let mut att = vec![0xa3, 0x63];
        att.extend_from_slice(b"fmt");
        att.push(0x64);
        att.extend_from_slice(b"none");
        att.push(0x67);
        att.extend_from_slice(b"attStmt");
        att.push(0xa0);
        att.push(0x68);
        att.extend_from_slice(b"authData");
        att.push(0x59);
        att.extend_from_slice(&(auth.len() as u16).to_be_bytes());
        att.extend(auth);
        (Self::client_data("webauthn.create", challenge, origin), att)
    }

    /// `navigator.credentials.get()`: (clientDataJSON, authenticatorData, DER signature).
    pub fn sign(
        &mut self,
        challenge: &[u8],
        origin: &str,
        rp: &str,
    ) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        use p256::ecdsa::signature::Signer;
        self.count += 1;
        let cd = Self::client_data("webauthn.get", challenge, origin);
        let auth = self.auth_data(rp, FLAG_UP | FLAG_UV, false);
        let mut signed = auth.clone();
        signed.extend_from_slice(&Sha256::digest(&cd));
        let sig: p256::ecdsa::Signature = self.key.sign(&signed);
        (cd, auth, sig.to_der().as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Authenticator = SoftAuthenticator;

    const ORIGIN: &str = "https://chat.example.lg.jp";
    const RP: &str = "chat.example.lg.jp";

    fn expected<'a>(challenge: &'a [u8], origins: &'a [String]) -> Expected<'a> {
        Expected {
            challenge,
            origins,
            rp_id: RP,
        }
    }

    #[test]
    fn a_registered_key_signs_in_and_its_counter_must_move_forward() {
        let origins = vec![ORIGIN.to_owned()];
        let mut a = Authenticator::new(3).unwrap();
        let (cd, att) = a.register(b"challenge-1", ORIGIN, RP);
        let cred = verify_registration(&cd, &att, &expected(b"challenge-1", &origins)).unwrap();
        assert_eq!(cred.credential_id, a.id);
        assert!(cred.user_verified);
        assert_eq!(cred.public_key.len(), 65);

        let (cd, auth, sig) = a.sign(b"challenge-2", ORIGIN, RP);
        let ok = verify_assertion(
            &cd,
            &auth,
            &sig,
            &cred.public_key,
            0,
            &expected(b"challenge-2", &origins),
        )
        .unwrap();
        assert_eq!(ok.sign_count, 1);
        // The same response again: its counter no longer moves forward.
        assert_eq!(
            verify_assertion(
                &cd,
                &auth,
                &sig,
                &cred.public_key,
                1,
                &expected(b"challenge-2", &origins)
            ),
            Err(WebauthnError::Counter)
        );
    }

    #[test]
    fn foreign_challenges_origins_parties_keys_and_types_fail_closed() {
        let origins = vec![ORIGIN.to_owned()];
        let mut a = Authenticator::new(4).unwrap();
        let (cd, att) = a.register(b"issued", ORIGIN, RP);
        assert_eq!(
            verify_registration(&cd, &att, &expected(b"another", &origins)),
            Err(WebauthnError::Challenge)
        );
        let (cd2, att2) = a.register(b"issued", "https://evil.example", RP);
        assert_eq!(
            verify_registration(&cd2, &att2, &expected(b"issued", &origins)),
            Err(WebauthnError::Origin)
        );
        let (cd3, att3) = a.register(b"issued", ORIGIN, "evil.example");
        assert_eq!(
            verify_registration(&cd3, &att3, &expected(b"issued", &origins)),
            Err(WebauthnError::RelyingParty)
        );
        let cred = verify_registration(&cd, &att, &expected(b"issued", &origins)).unwrap();
        // A sign-in response offered as a registration, and the other way round.
        let (gcd, gauth, gsig) = a.sign(b"issued", ORIGIN, RP);
        assert_eq!(
            verify_registration(&gcd, &att, &expected(b"issued", &origins)),
            Err(WebauthnError::Type)
        );
        assert_eq!(
            verify_assertion(
                &cd,
                &gauth,
                &gsig,
                &cred.public_key,
                0,
                &expected(b"issued", &origins)
            ),
            Err(WebauthnError::Type)
        );
        // Another key's signature, and a tampered authenticator data.
        let other = Authenticator::new(5).unwrap();
        let (ocd, oatt) = other.register(b"x", ORIGIN, RP);
        let other_key = verify_registration(&ocd, &oatt, &expected(b"x", &origins))
            .unwrap()
            .public_key;
        assert_eq!(
            verify_assertion(
                &gcd,
                &gauth,
                &gsig,
                &other_key,
                0,
                &expected(b"issued", &origins)
            ),
            Err(WebauthnError::Signature)
        );
        let mut tampered = gauth.clone();
        tampered[36] ^= 0x10;
        assert_eq!(
            verify_assertion(
                &gcd,
                &tampered,
                &gsig,
                &cred.public_key,
                0,
                &expected(b"issued", &origins)
            ),
            Err(WebauthnError::Signature)
        );
        // Without user presence.
        let mut absent = a.auth_data(RP, 0, false);
        absent[36] = 9;
        assert_eq!(
            verify_assertion(
                &gcd,
                &absent,
                &gsig,
                &cred.public_key,
                0,
                &expected(b"issued", &origins)
            ),
            Err(WebauthnError::UserPresence)
        );
    }

    #[test]
    fn truncated_or_garbled_input_is_malformed_and_never_panics() {
        let origins = vec![ORIGIN.to_owned()];
        let a = Authenticator::new(6).unwrap();
        let (cd, att) = a.register(b"c", ORIGIN, RP);
        for n in 0..att.len() {
            assert!(verify_registration(&cd, &att[..n], &expected(b"c", &origins)).is_err());
        }
        for i in 0..att.len() {
            let mut flipped = att.clone();
            flipped[i] ^= 0xff;
            let _ = verify_registration(&cd, &flipped, &expected(b"c", &origins));
        }
        assert_eq!(
            verify_registration(b"not json", &att, &expected(b"c", &origins)),
            Err(WebauthnError::Malformed)
        );
        // A map that claims more entries than the input holds, and deep nesting.
        assert_eq!(cbor(&[0xbb, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), None);
        let nested = |depth: usize| {
            let mut v = vec![0x81; depth];
            v.push(0x00);
            v
        };
        assert!(cbor(&nested(8)).is_some(), "eight levels are allowed");
        assert_eq!(cbor(&nested(9)), None, "nine are not");
    }

    #[test]
    fn base64url_round_trips_without_padding() {
        assert_eq!(b64url_encode(b"\xfb\xff"), "-_8");
        assert_eq!(b64url_decode("-_8"), Some(b"\xfb\xff".to_vec()));
        assert_eq!(b64url_decode("-_8="), Some(b"\xfb\xff".to_vec()));
        assert_eq!(b64url_decode("a+b/"), None);
        assert_eq!(b64url_decode("abcde"), None);
        for n in 0..50u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(91)).collect();
            assert_eq!(b64url_decode(&b64url_encode(&bytes)), Some(bytes));
        }
    }
}
