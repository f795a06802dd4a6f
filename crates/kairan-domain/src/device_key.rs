//! The key that binds a registered internet device to the browser or app that registered it
//! (I5; seed 003 §8-11: only the dedicated app on a registered device).
//!
//! The device cookie alone is a bearer token: copied to another machine it would pass for the
//! device. So the browser also holds a P-256 key pair made with WebCrypto as *non-extractable*
//! (the private key cannot be read out, not even by the page's own script) and kept in the
//! browser's storage; at each sign-in it signs a fresh server challenge together with the ID
//! being signed in. The server keeps the public key with the device at registration, and from
//! then on that device signs in only with a valid signature by that key. A copied cookie
//! without the key is refused.
//!
//! What is signed: `kairan-device-v1\n{challenge}\n{login_id}`, ECDSA P-256 with SHA-256, the
//! signature as WebCrypto gives it (r ‖ s, 64 bytes), base64url. The public key is the
//! uncompressed SEC1 point (65 bytes, WebCrypto's `raw` export), base64url.

use crate::webauthn::b64url_decode;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

/// What the browser sends with a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProof {
    pub public_key: String,
    pub challenge: String,
    pub signature: String,
}

/// Why a proof does not hold. Only the code reaches the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    /// Not a P-256 point, or not base64url.
    MalformedKey,
    /// Not 64 bytes of r ‖ s, or not base64url.
    MalformedSignature,
    /// The signature does not verify for this key, challenge and ID.
    BadSignature,
}

impl ProofError {
    pub fn code(self) -> &'static str {
        match self {
            ProofError::MalformedKey => "device_key_malformed",
            ProofError::MalformedSignature => "device_signature_malformed",
            ProofError::BadSignature => "device_signature_invalid",
        }
    }
}

/// The bytes the device signs.
pub fn signed_message(challenge: &str, login_id: &str) -> Vec<u8> {
    format!("kairan-device-v1\n{challenge}\n{login_id}").into_bytes()
}

/// Checks a public key's shape: base64url of an uncompressed or compressed P-256 point that
/// lies on the curve.
pub fn parse_public_key(b64: &str) -> Result<VerifyingKey, ProofError> {
    let bytes = b64url_decode(b64).ok_or(ProofError::MalformedKey)?;
    if bytes.len() != 65 && bytes.len() != 33 {
        return Err(ProofError::MalformedKey);
    }
    VerifyingKey::from_sec1_bytes(&bytes).map_err(|_| ProofError::MalformedKey)
}

/// Verifies the device's signature over the challenge and the ID.
pub fn verify(proof: &DeviceProof, login_id: &str) -> Result<(), ProofError> {
    let key = parse_public_key(&proof.public_key)?;
    let raw = b64url_decode(&proof.signature).ok_or(ProofError::MalformedSignature)?;
    let sig = Signature::from_slice(&raw).map_err(|_| ProofError::MalformedSignature)?;
    key.verify(&signed_message(&proof.challenge, login_id), &sig)
        .map_err(|_| ProofError::BadSignature)
}

/// Whether two encodings name the same key (a browser may export the same point again).
pub fn same_key(a: &str, b: &str) -> bool {
    match (b64url_decode(a), b64url_decode(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// A device key held in memory, as a test or the load generator holds one. It offers no
/// protection; a browser's key is non-extractable.
pub struct SoftDeviceKey {
    key: p256::ecdsa::SigningKey,
}

impl SoftDeviceKey {
    /// A key from 32 seed bytes (a test's fixed seed). None if the bytes are not a valid
    /// scalar (zero or above the curve order).
    pub fn from_seed(seed: [u8; 32]) -> Option<SoftDeviceKey> {
        p256::ecdsa::SigningKey::from_bytes(&seed.into())
            .ok()
            .map(|key| SoftDeviceKey { key })
    }

    pub fn public_key(&self) -> String {
        crate::webauthn::b64url_encode(self.key.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// The proof a browser sends for this challenge and ID.
    pub fn prove(&self, challenge: &str, login_id: &str) -> DeviceProof {
        use p256::ecdsa::signature::Signer;
        let sig: Signature = self.key.sign(&signed_message(challenge, login_id));
        DeviceProof {
            public_key: self.public_key(),
            challenge: challenge.to_owned(),
            signature: crate::webauthn::b64url_encode(&sig.to_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SoftDeviceKey {
        SoftDeviceKey::from_seed([n; 32]).unwrap()
    }

    #[test]
    fn a_proof_holds_only_for_its_key_challenge_and_id() {
        let k = key(7);
        let p = k.prove("c1", "sato.hanako");
        assert_eq!(verify(&p, "sato.hanako"), Ok(()));
        assert_eq!(verify(&p, "suzuki.ichiro"), Err(ProofError::BadSignature));
        let other_challenge = DeviceProof {
            challenge: "c2".into(),
            ..p.clone()
        };
        assert_eq!(
            verify(&other_challenge, "sato.hanako"),
            Err(ProofError::BadSignature)
        );
        let other_key = DeviceProof {
            public_key: key(8).public_key(),
            ..p.clone()
        };
        assert_eq!(
            verify(&other_key, "sato.hanako"),
            Err(ProofError::BadSignature)
        );
        assert!(same_key(&p.public_key, &k.public_key()));
        assert!(!same_key(&p.public_key, &key(8).public_key()));
    }

    #[test]
    fn malformed_keys_and_signatures_are_named_and_never_panic() {
        let p = key(7).prove("c", "id");
        for bad in ["", "!!", "AAAA", &p.signature] {
            let q = DeviceProof {
                public_key: bad.into(),
                ..p.clone()
            };
            assert_eq!(verify(&q, "id"), Err(ProofError::MalformedKey), "{bad}");
        }
        // A point of the right length that is not on the curve.
        let mut off = vec![4u8];
        off.extend([1u8; 64]);
        let q = DeviceProof {
            public_key: crate::webauthn::b64url_encode(&off),
            ..p.clone()
        };
        assert_eq!(verify(&q, "id"), Err(ProofError::MalformedKey));
        for bad in ["", "%%", "AAAA", &p.public_key] {
            let q = DeviceProof {
                signature: bad.into(),
                ..p.clone()
            };
            assert_eq!(
                verify(&q, "id"),
                Err(ProofError::MalformedSignature),
                "{bad}"
            );
        }
        // Every single-bit flip of the signature fails.
        let raw = b64url_decode(&p.signature).unwrap();
        for i in 0..raw.len() * 8 {
            let mut flipped = raw.clone();
            flipped[i / 8] ^= 1 << (i % 8);
            let q = DeviceProof {
                signature: crate::webauthn::b64url_encode(&flipped),
                ..p.clone()
            };
            assert!(verify(&q, "id").is_err(), "bit {i}");
        }
    }
}
