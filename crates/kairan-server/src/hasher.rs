//! Argon2id password hashing, run off the async runtime on the blocking pool. A semaphore caps
//! how many hashes run at once, so a burst of sign-ins cannot exhaust memory (each hash takes
//! `argon2.memory_kib`).
//!
//! Temporary passwords the server issues itself ([`Hasher::issue`]) are another matter: they
//! are random (20 symbols of 48, about 111 bits), so no guessing attack can use a fast hash
//! against them, and a slow one would only make issuing slow — a 100,000-row staff import
//! would spend over half an hour in Argon2. They are kept as a salted SHA-256
//! (`$kairan-issued$…`), must be changed at first sign-in (which stores an Argon2id hash),
//! and are checked with the same work as any password, so a sign-in's timing does not tell
//! whether the ID still has its issued password.

use crate::config::Argon2Config;
use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Hasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the login ID does not exist, so
    /// that a sign-in takes the same time whether or not the ID exists.
    dummy: Arc<String>,
}

impl Hasher {
    pub fn new(c: &Argon2Config) -> Result<Hasher, AppError> {
        let params = Params::new(c.memory_kib, c.iterations, c.parallelism, None)
            .map_err(|e| AppError::Internal(format!("argon2 params: {e}")))?;
        let mut h = Hasher {
            params,
            permits: Arc::new(Semaphore::new(c.concurrent())),
            dummy: Arc::new(String::new()),
        };
        let random = crate::token::random_hex(16);
        h.dummy = Arc::new(h.hash_now(&random)?);
        Ok(h)
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("argon2 hash: {e}")))
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let this = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || this.hash_now(&password))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    }

    /// A new temporary password and how it is stored: (password, stored form).
    pub fn issue(&self) -> (String, String) {
        let password = crate::token::temporary_password();
        let salt = crate::token::random_hex(16);
        let stored = format!("{ISSUED}{salt}${}", issued_digest(&salt, &password));
        (password, stored)
    }

    /// True when `password` matches `hash`. A malformed stored hash never matches.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        if let Some(rest) = hash.strip_prefix(ISSUED) {
            let matches = rest.split_once('$').is_some_and(|(salt, digest)| {
                use subtle::ConstantTimeEq;
                bool::from(
                    issued_digest(salt, password)
                        .as_bytes()
                        .ct_eq(digest.as_bytes()),
                )
            });
            // The same work as an Argon2 check, so timing does not tell issued from chosen.
            self.verify_dummy(password).await?;
            return Ok(matches);
        }
        self.verify_argon(password, hash).await
    }

    async fn verify_argon(&self, password: &str, hash: &str) -> Result<bool, AppError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let password = password.to_owned();
        let hash = hash.to_owned();
        tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return false;
            };
            // Verify with the parameters stored in the hash, so older hashes keep working
            // after the configured cost changes.
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Spends the same work as a real verification, for unknown IDs.
    pub async fn verify_dummy(&self, password: &str) -> Result<(), AppError> {
        let dummy = self.dummy.clone();
        self.verify_argon(password, &dummy).await.map(|_| ())
    }
}

/// How an issued temporary password is stored: this prefix, the salt, `$`, the digest.
const ISSUED: &str = "$kairan-issued$v1$";

fn issued_digest(salt: &str, password: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> Hasher {
        Hasher::new(&crate::config::Argon2Config {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            ..Default::default()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn an_issued_password_matches_only_itself_and_is_salted() {
        let h = hasher();
        let (password, stored) = h.issue();
        let (_, other) = h.issue();
        assert!(stored.starts_with(ISSUED));
        assert!(!stored.contains(&password));
        assert!(h.verify(&password, &stored).await.unwrap());
        assert!(!h.verify(&password, &other).await.unwrap());
        assert!(!h.verify(&format!("{password}x"), &stored).await.unwrap());
        // A tampered or truncated stored form never matches.
        assert!(
            !h.verify(&password, &stored[..stored.len() - 1])
                .await
                .unwrap()
        );
        assert!(!h.verify(&password, ISSUED).await.unwrap());
        // The same password issued twice is stored differently.
        let salt = crate::token::random_hex(16);
        assert_ne!(issued_digest(&salt, "a"), issued_digest("00", "a"));
    }

    #[tokio::test]
    async fn chosen_passwords_are_still_argon2id() {
        let h = hasher();
        let stored = h.hash("自分で決めた長いパスフレーズ").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            h.verify("自分で決めた長いパスフレーズ", &stored)
                .await
                .unwrap()
        );
        assert!(!h.verify("違う", &stored).await.unwrap());
    }
}
