//! The server's own key, and what it protects: TOTP secrets are sealed with it before they
//! reach the database, and recovery codes are stored as keyed hashes, so a copy of the
//! database alone yields neither (I3).
//!
//! The key is 32 random bytes, from `KAIRAN_SECRET_KEY` (hex) or the file `DATA/secret.key`,
//! created on first start with mode 0600. Nodes sharing one PostgreSQL must share the key;
//! the database keeps the key's fingerprint and a node holding another key refuses to start.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

const KEY_FILE: &str = "secret.key";
const SEALED_PREFIX: &str = "v1.";

pub struct ServerKey {
    cipher: ChaCha20Poly1305,
    mac_key: [u8; 32],
    fingerprint: String,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(master) {
        mac.update(label.as_bytes());
        out.copy_from_slice(&mac.finalize().into_bytes());
    }
    out
}

impl ServerKey {
    pub fn from_master(master: &[u8; 32]) -> ServerKey {
        let seal = derive(master, "kairan seal v1");
        ServerKey {
            cipher: ChaCha20Poly1305::new((&seal).into()),
            mac_key: derive(master, "kairan mac v1"),
            fingerprint: hex::encode(&derive(master, "kairan key fingerprint v1")[..16]),
        }
    }

    /// The key from `hex` when given, else from `DATA/secret.key`, created when missing.
    pub fn load(hex_key: Option<&str>, data_dir: &Path) -> Result<ServerKey, String> {
        if let Some(h) = hex_key {
            return parse_hex(h.trim())
                .map(|m| ServerKey::from_master(&m))
                .ok_or_else(|| {
                    "KAIRAN_SECRET_KEY must be 64 hexadecimal characters (32 bytes)".to_owned()
                });
        }
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            create_key_file(&path)?;
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        parse_hex(text.trim())
            .map(|m| ServerKey::from_master(&m))
            .ok_or_else(|| format!("{} does not hold a 32-byte hex key", path.display()))
    }

    /// What the database records to tell keys apart (not the key, nor enough to find it).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Seals `plain`, bound to `context` (the owner's ID), so a sealed value copied onto
    /// another row does not open.
    pub fn seal(&self, plain: &[u8], context: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        format!(
            "{SEALED_PREFIX}{}{}",
            hex::encode(nonce),
            hex::encode(sealed)
        )
    }

    /// Opens a sealed value; `None` when it was sealed with another key or context, or
    /// altered.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        let bytes = hex::decode(sealed.strip_prefix(SEALED_PREFIX)?).ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }

    /// A keyed hash of `value` for `context`: what the database keeps of a recovery code.
    pub fn mac_hex(&self, context: &str, value: &str) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key) else {
            return String::new();
        };
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

fn parse_hex(h: &str) -> Option<[u8; 32]> {
    let bytes = hex::decode(h).ok()?;
    bytes.try_into().ok()
}

/// Writes a new key beside the target and links it into place, so two nodes starting at
/// once on one data directory end up with the same key: the second link fails and that node
/// reads the first one's file.
fn create_key_file(path: &Path) -> Result<(), String> {
    let mut master = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut master);
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::now_v7().simple()));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(hex::encode(master).as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    };
    let done = write();
    let _ = std::fs::remove_file(&tmp);
    done.map_err(|e| format!("cannot create {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = ServerKey::from_master(&[7; 32]);
        let other = ServerKey::from_master(&[8; 32]);
        let sealed = key.seal(b"JBSWY3DPEHPK3PXP", "user-1");
        assert!(!sealed.contains(&hex::encode(b"JBSWY3DPEHPK3PXP")));
        assert_eq!(
            key.open(&sealed, "user-1").as_deref(),
            Some(&b"JBSWY3DPEHPK3PXP"[..])
        );
        assert_eq!(key.open(&sealed, "user-2"), None);
        assert_eq!(other.open(&sealed, "user-1"), None);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            key.open(&String::from_utf8(tampered).unwrap_or_default(), "user-1"),
            None
        );
        assert_ne!(
            key.seal(b"x", "u"),
            key.seal(b"x", "u"),
            "a fresh nonce each time"
        );
        assert_ne!(key.fingerprint(), other.fingerprint());
    }

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("kairan-key-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = ServerKey::load(None, &dir).unwrap();
        let again = ServerKey::load(None, &dir).unwrap();
        assert_eq!(first.fingerprint(), again.fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        assert!(ServerKey::load(Some("abc"), &dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
