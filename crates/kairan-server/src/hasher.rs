//! Argon2id password hashing, run off the async runtime on the blocking pool. A semaphore caps
//! how many hashes run at once, so a burst of sign-ins cannot exhaust memory (each hash takes
//! `argon2.memory_kib`).

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

    /// True when `password` matches `hash`. A malformed stored hash never matches.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, AppError> {
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
        self.verify(password, &dummy).await.map(|_| ())
    }
}
