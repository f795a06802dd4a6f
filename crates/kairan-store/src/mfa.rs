//! Second factors (I3): TOTP credentials, recovery codes, and what a session still owes
//! after its password step. Secrets arrive sealed and codes arrive hashed; this module never
//! sees either in the clear.

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Totp {
    pub id: String,
    pub user_id: String,
    pub secret_sealed: String,
    pub last_step: i64,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

const TOTP_COLUMNS: &str = "id, user_id, secret_sealed, last_step, created_at, confirmed_at";

/// The user's TOTP credential in use (confirmed), if any.
pub async fn confirmed_totp(conn: &mut AnyConnection, user_id: &str) -> Result<Option<Totp>> {
    let sql = format!(
        "SELECT {TOTP_COLUMNS} FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL"
    );
    Ok(sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(conn)
        .await?)
}

/// The enrolment the user started and has not yet proved with a code.
pub async fn pending_totp(conn: &mut AnyConnection, user_id: &str) -> Result<Option<Totp>> {
    let sql = format!(
        "SELECT {TOTP_COLUMNS} FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NULL
         ORDER BY created_at DESC, id DESC LIMIT 1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_optional(conn)
        .await?)
}

/// Starts an enrolment, replacing any earlier unfinished one. Returns its ID.
pub async fn start_totp(tx: &mut WriteTx, user_id: &str, secret_sealed: &str) -> Result<String> {
    sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NULL")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    let id = crate::new_id();
    sqlx::query(
        "INSERT INTO totp_credentials (id, user_id, secret_sealed, last_step, created_at) VALUES ($1, $2, $3, 0, $4)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(secret_sealed)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Confirms an enrolment with the step its first code used; the credential it replaces, if
/// any, is removed in the same transaction. False when the enrolment is gone (confirmed in a
/// race, or replaced).
pub async fn confirm_totp(tx: &mut WriteTx, user_id: &str, id: &str, step: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE totp_credentials SET confirmed_at = $1, last_step = $2 WHERE id = $3 AND user_id = $4 AND confirmed_at IS NULL",
    )
    .bind(crate::now_us())
    .bind(step)
    .bind(id)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1 AND id <> $2")
        .bind(user_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Records that a credential accepted the code of `step`: compare-and-set on the last step,
/// so of two requests racing with the same code exactly one wins. False for the loser.
pub async fn use_step(tx: &mut WriteTx, id: &str, step: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE totp_credentials SET last_step = $1 WHERE id = $2 AND last_step < $1 AND confirmed_at IS NOT NULL",
    )
    .bind(step)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every second factor of a user (TOTP credentials, passkeys) and their recovery
/// codes; returns how many factors there were (confirmed or not).
pub async fn remove_all(tx: &mut WriteTx, user_id: &str) -> Result<u64> {
    let done = sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    let keys = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    remove_recovery_codes(tx, user_id).await?;
    Ok(done.rows_affected() + keys.rows_affected())
}

/// Replaces the user's recovery codes with these hashes.
pub async fn replace_recovery_codes(
    tx: &mut WriteTx,
    user_id: &str,
    hashes: &[String],
) -> Result<()> {
    remove_recovery_codes(tx, user_id).await?;
    let now = crate::now_us();
    for h in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(h)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Spends one recovery code: false when it is unknown or already used.
pub async fn use_recovery_code(tx: &mut WriteTx, user_id: &str, hash: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(crate::now_us())
    .bind(user_id)
    .bind(hash)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes the user has left.
pub async fn recovery_codes_left(conn: &mut AnyConnection, user_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?)
}

/// Moves a session on from its second-factor step, only from the state the caller saw.
pub async fn set_session_state(
    tx: &mut WriteTx,
    session_id: &str,
    from: &str,
    to: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET mfa_state = $1 WHERE id = $2 AND mfa_state = $3 AND ended_at IS NULL",
    )
    .bind(to)
    .bind(session_id)
    .bind(from)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The fingerprint of the sealing key recorded in the database: the first node to start
/// records its own; every node compares what comes back with its key.
pub async fn key_fingerprint(tx: &mut WriteTx, mine: &str) -> Result<String> {
    sqlx::query(
        "INSERT INTO server_key (id, fingerprint) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
    )
    .bind(mine)
    .execute(tx.conn())
    .await?;
    Ok(
        sqlx::query_scalar("SELECT fingerprint FROM server_key WHERE id = 1")
            .fetch_one(tx.conn())
            .await?,
    )
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Passkey {
    pub id: String,
    pub user_id: String,
    /// base64url, as the browser names it.
    pub credential_id: String,
    /// SEC1 P-256 point, hex.
    pub public_key: String,
    pub sign_count: i64,
    pub name: String,
    pub aaguid: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const PASSKEY_COLUMNS: &str =
    "id, user_id, credential_id, public_key, sign_count, name, aaguid, created_at, last_used_at";

pub async fn passkeys(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Passkey>> {
    let sql =
        format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at");
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

pub struct NewPasskey<'a> {
    pub user_id: &'a str,
    pub credential_id: &'a str,
    pub public_key: &'a str,
    pub sign_count: i64,
    pub name: &'a str,
    pub aaguid: &'a str,
}

/// Stores a registered passkey; `Conflict` when the credential is already registered.
pub async fn insert_passkey(tx: &mut WriteTx, p: &NewPasskey<'_>) -> Result<String> {
    let id = crate::new_id();
    let done = sqlx::query(
        "INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, name, aaguid, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(&id)
    .bind(p.user_id)
    .bind(p.credential_id)
    .bind(p.public_key)
    .bind(p.sign_count)
    .bind(p.name)
    .bind(p.aaguid)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() != 1 {
        return Err(crate::StoreError::Conflict);
    }
    Ok(id)
}

/// Records a use: the counter moves from what the caller read to `count` (compare-and-set,
/// so two uses of one response cannot both pass).
pub async fn use_passkey(tx: &mut WriteTx, id: &str, read: i64, count: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE passkeys SET sign_count = $1, last_used_at = $2 WHERE id = $3 AND sign_count = $4",
    )
    .bind(count)
    .bind(crate::now_us())
    .bind(id)
    .bind(read)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the user's recovery codes (their last second factor is gone).
pub async fn remove_recovery_codes(tx: &mut WriteTx, user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Removes one of the user's passkeys; false when it is not theirs or gone.
pub async fn remove_passkey(tx: &mut WriteTx, user_id: &str, id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn rename_passkey(tx: &mut WriteTx, user_id: &str, id: &str, name: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Issues a challenge for a session's ceremony, replacing any earlier one of that purpose.
pub async fn put_challenge(
    tx: &mut WriteTx,
    session_id: &str,
    purpose: &str,
    challenge: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM webauthn_challenges WHERE session_id = $1 AND purpose = $2")
        .bind(session_id)
        .bind(purpose)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO webauthn_challenges (session_id, purpose, challenge, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(session_id)
    .bind(purpose)
    .bind(challenge)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Takes the session's challenge for `purpose` (it cannot be used again): the challenge and
/// when it was issued.
pub async fn take_challenge(
    tx: &mut WriteTx,
    session_id: &str,
    purpose: &str,
) -> Result<Option<(String, i64)>> {
    Ok(sqlx::query_as(
        "DELETE FROM webauthn_challenges WHERE session_id = $1 AND purpose = $2 RETURNING challenge, created_at",
    )
    .bind(session_id)
    .bind(purpose)
    .fetch_optional(tx.conn())
    .await?)
}

/// Whether the user has any second factor in use: a confirmed TOTP credential or a passkey.
pub async fn has_any_factor(conn: &mut AnyConnection, user_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL)
              + (SELECT COUNT(*) FROM passkeys WHERE user_id = $1)",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}
