//! Staff IDs: identity, status, password state, sign-in counters and roles.

use crate::{AnyConnection, Result, WriteTx, flag};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub org_id: String,
    pub department_id: Option<String>,
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    pub title: Option<String>,
    pub status: String,
    pub password_hash: String,
    pub must_change_password: i64,
    pub failed_attempts: i64,
    pub locked_until: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    pub failed_since_last_sign_in: i64,
    pub created_at: i64,
    /// `local` or `directory` (I9).
    pub auth_source: String,
    pub directory_dn: Option<String>,
    /// The personnel section's number (職員番号), from a staff CSV.
    pub employee_no: Option<String>,
    /// 1: issued for development or testing (listed as such until disabled).
    pub is_test: i64,
    /// A leaver's last day (`YYYY-MM-DD`): the ID is disabled after it.
    pub last_day: Option<String>,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

const COLUMNS: &str = "id, org_id, department_id, login_id, display_name, kana, title, status, password_hash, must_change_password, failed_attempts, locked_until, last_sign_in_at, failed_since_last_sign_in, created_at, auth_source, directory_dn, employee_no, is_test, last_day";

pub struct NewUser<'a> {
    pub org_id: &'a str,
    pub department_id: Option<&'a str>,
    pub login_id: &'a str,
    pub display_name: &'a str,
    pub kana: &'a str,
    pub title: Option<&'a str>,
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub created_by: Option<&'a str>,
}

pub async fn insert(tx: &mut WriteTx, u: &NewUser<'_>) -> Result<String> {
    let id = crate::new_id();
    let now = crate::now_us();
    sqlx::query(
        "INSERT INTO users (id, org_id, department_id, login_id, display_name, kana, title, status, password_hash, must_change_password, password_changed_at, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, $10, $11)",
    )
    .bind(&id)
    .bind(u.org_id)
    .bind(u.department_id)
    .bind(u.login_id)
    .bind(u.display_name)
    .bind(u.kana)
    .bind(u.title)
    .bind(u.password_hash)
    .bind(flag(u.must_change_password))
    .bind(now)
    .bind(u.created_by)
    .execute(tx.conn())
    .await?;
    add_history(tx, &id, u.password_hash).await?;
    Ok(id)
}

/// Takes the user's row for the rest of the transaction (PostgreSQL; SQLite has one writer
/// anyway), so two changes to the same person's credentials cannot both decide on a state the
/// other is changing: say, removing their last two passkeys at once.
pub async fn lock(tx: &mut WriteTx, user_id: &str) -> Result<()> {
    if tx.engine() == crate::Engine::Postgres {
        sqlx::query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?;
    }
    Ok(())
}

/// The display names of the given IDs, in a few queries whatever their number.
pub async fn display_names(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut names = std::collections::HashMap::with_capacity(ids.len());
    for chunk in crate::fixed_slices(ids) {
        let sql = format!(
            "SELECT id, display_name FROM users WHERE id IN ({})",
            crate::in_list(1, chunk.len())
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        names.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(names)
}

pub async fn by_login(conn: &mut AnyConnection, login_id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE login_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(login_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

pub async fn list_by_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE org_id = $1 ORDER BY kana, login_id");
    Ok(sqlx::query_as(&sql).bind(org_id).fetch_all(conn).await?)
}

/// What a staff CSV row sets on an existing ID.
pub struct Profile<'a> {
    pub display_name: &'a str,
    pub kana: &'a str,
    pub title: Option<&'a str>,
    pub department_id: Option<&'a str>,
    pub employee_no: Option<&'a str>,
    pub last_day: Option<&'a str>,
}

pub async fn update_profile(tx: &mut WriteTx, user_id: &str, p: &Profile<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE users SET display_name = $1, kana = $2, title = $3, department_id = $4, employee_no = $5,
         last_day = $6 WHERE id = $7",
    )
    .bind(p.display_name)
    .bind(p.kana)
    .bind(p.title)
    .bind(p.department_id)
    .bind(p.employee_no)
    .bind(p.last_day)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Active IDs whose last day is before `today` (`YYYY-MM-DD`).
pub async fn leavers_due(conn: &mut AnyConnection, today: &str) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE status = 'active' AND last_day IS NOT NULL AND last_day < $1 LIMIT 500"
    );
    Ok(sqlx::query_as(&sql).bind(today).fetch_all(conn).await?)
}

/// Flags an ID as issued for development or testing.
pub async fn mark_test(tx: &mut WriteTx, user_id: &str) -> Result<()> {
    sqlx::query("UPDATE users SET is_test = 1 WHERE id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn roles(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Every (user, role) pair of a body, for listings that show roles beside names.
pub async fn roles_in_org(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT r.user_id, r.role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE u.org_id = $1 ORDER BY r.role",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

/// Returns false when the user already held the role.
pub async fn grant_role(
    tx: &mut WriteTx,
    user_id: &str,
    role: &str,
    by: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO user_roles (user_id, role, granted_at, granted_by) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, role) DO NOTHING",
    )
    .bind(user_id)
    .bind(role)
    .bind(crate::now_us())
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Returns false when the user did not hold the role.
pub async fn revoke_role(tx: &mut WriteTx, user_id: &str, role: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
        .bind(user_id)
        .bind(role)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A privileged role holder, with when and by whom the role was granted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrivilegedGrant {
    pub user_id: String,
    pub login_id: String,
    pub display_name: String,
    pub status: String,
    pub role: String,
    pub granted_at: i64,
    pub granted_by_login: Option<String>,
}

pub async fn privileged(
    conn: &mut AnyConnection,
    org_id: &str,
    roles: &[&str],
) -> Result<Vec<PrivilegedGrant>> {
    // The role list is a fixed set of codes from kairan-domain, never user input.
    let list = roles
        .iter()
        .map(|r| format!("'{r}'"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT u.id AS user_id, u.login_id, u.display_name, u.status, r.role, r.granted_at, g.login_id AS granted_by_login
         FROM user_roles r JOIN users u ON u.id = r.user_id LEFT JOIN users g ON g.id = r.granted_by
         WHERE u.org_id = $1 AND r.role IN ({list}) ORDER BY r.role, u.kana"
    );
    Ok(sqlx::query_as(&sql).bind(org_id).fetch_all(conn).await?)
}

pub async fn set_status(tx: &mut WriteTx, user_id: &str, status: &str) -> Result<()> {
    sqlx::query("UPDATE users SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Sets a new password hash, records it in the history and clears any lockout.
pub async fn set_password(
    tx: &mut WriteTx,
    user_id: &str,
    hash: &str,
    must_change: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, must_change_password = $2, password_changed_at = $3, failed_attempts = 0, locked_until = NULL WHERE id = $4",
    )
    .bind(hash)
    .bind(flag(must_change))
    .bind(crate::now_us())
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    add_history(tx, user_id, hash).await
}

async fn add_history(tx: &mut WriteTx, user_id: &str, hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO password_history (user_id, password_hash, created_at) VALUES ($1, $2, $3)",
    )
    .bind(user_id)
    .bind(hash)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The most recent password hashes, newest first.
pub async fn password_history(
    conn: &mut AnyConnection,
    user_id: &str,
    n: usize,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await?)
}

/// Counts a failed sign-in; locks the ID until `lock_until` when the threshold is reached.
/// Returns the new consecutive failure count.
/// The next sign-in must choose a new password (the rules that allowed the current one no
/// longer apply).
pub async fn require_password_change(tx: &mut WriteTx, user_id: &str) -> Result<()> {
    sqlx::query("UPDATE users SET must_change_password = 1 WHERE id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn record_failure(
    tx: &mut WriteTx,
    user_id: &str,
    threshold: i64,
    lock_until: i64,
) -> Result<i64> {
    let n: i64 = sqlx::query_scalar(
        "UPDATE users SET failed_attempts = failed_attempts + 1, failed_since_last_sign_in = failed_since_last_sign_in + 1
         WHERE id = $1 RETURNING failed_attempts",
    )
    .bind(user_id)
    .fetch_one(tx.conn())
    .await?;
    if n >= threshold {
        sqlx::query("UPDATE users SET locked_until = $1, failed_attempts = 0 WHERE id = $2")
            .bind(lock_until)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
    }
    Ok(n)
}

/// Records a successful sign-in and returns the previous sign-in time and the failures since.
pub async fn record_success(tx: &mut WriteTx, user_id: &str) -> Result<(Option<i64>, i64)> {
    let (prev, failed): (Option<i64>, i64) = sqlx::query_as(
        "SELECT last_sign_in_at, failed_since_last_sign_in FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE users SET last_sign_in_at = $1, failed_since_last_sign_in = 0, failed_attempts = 0, locked_until = NULL WHERE id = $2",
    )
    .bind(crate::now_us())
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok((prev, failed))
}

/// The active users of a body who hold `role` (e.g. the security officers to notify).
pub async fn active_with_role(
    conn: &mut AnyConnection,
    org_id: &str,
    role: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE u.org_id = $1 AND r.role = $2 AND u.status = 'active' ORDER BY u.id",
    )
    .bind(org_id)
    .bind(role)
    .fetch_all(conn)
    .await?)
}

/// Hands an ID's password to the directory (I9): Kairan's own hash is replaced by a value no
/// password matches, so a password set before can never be used again, and Kairan never asks
/// this ID to change a password it does not hold.
pub async fn use_directory(tx: &mut WriteTx, user_id: &str) -> Result<()> {
    sqlx::query(
        "UPDATE users SET auth_source = 'directory', password_hash = '!directory', must_change_password = 0 WHERE id = $1",
    )
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Takes an ID back to Kairan's own password; the caller sets a temporary one in the same
/// transaction.
pub async fn use_local(tx: &mut WriteTx, user_id: &str) -> Result<()> {
    sqlx::query("UPDATE users SET auth_source = 'local' WHERE id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// What a directory sign-in learnt: the entry's DN, and the department its groups map to
/// (`None`: the department stays as it is).
pub async fn record_directory_entry(
    tx: &mut WriteTx,
    user_id: &str,
    dn: &str,
    department_id: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET directory_dn = $1, department_id = COALESCE($2, department_id) WHERE id = $3",
    )
    .bind(dn)
    .bind(department_id)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// How many active IDs of a body hold `role` and sign in with Kairan's own password.
pub async fn count_local_with_role(
    conn: &mut AnyConnection,
    org_id: &str,
    role: &str,
) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM users u JOIN user_roles r ON r.user_id = u.id
         WHERE u.org_id = $1 AND r.role = $2 AND u.status = 'active' AND u.auth_source = 'local'",
    )
    .bind(org_id)
    .bind(role)
    .fetch_one(conn)
    .await?;
    Ok(n)
}
