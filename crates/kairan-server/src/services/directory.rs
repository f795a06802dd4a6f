//! Directory sign-in (LDAP / Active Directory, I9): a body's settings, the bind with the
//! user's own credentials over LDAPS or StartTLS, and what the directory's groups say about
//! the user's roles and department.
//!
//! Which IDs use the directory is decided per ID (`users.auth_source`): an ID marked
//! `directory` is checked only by the directory, every other ID only by Kairan's own hash,
//! so the body's break-glass administrators stay local and still sign in when the directory
//! is down. The body's second-factor policy applies on top either way.
//!
//! Everything that can go wrong with the directory fails closed: a refused bind, a missing or
//! disabled entry, two entries for one ID, a timeout, a TLS failure or an answer that does not
//! parse all end in "sign-in failed" or `directory_unavailable`, never in a session.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::directory::{DirectoryConfig, Mapping};
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::{DomainError, OrgId, Role};
use kairan_store::audit;
use kairan_store::{orgs, users};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use std::sync::Arc;
use std::time::Duration;

/// What the directory said about a user whose bind succeeded.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dn: String,
    pub groups: Vec<String>,
}

/// The directory's answer to one sign-in.
#[derive(Debug)]
pub enum Verdict {
    Accepted(Entry),
    /// The bind was refused (a wrong password, or an account the directory disabled), or the
    /// entry does not match the body's filter (disabled by an attribute). The reason goes to
    /// the audit log, never to the person signing in.
    Refused(&'static str),
}

/// Why the directory could not be asked; kept for the audit log (no password, no DN).
#[derive(Debug)]
pub struct Unavailable(pub &'static str);

/// The body's directory settings, if it has them.
pub fn config_in(settings: &str) -> Option<DirectoryConfig> {
    let v: serde_json::Value = serde_json::from_str(settings).ok()?;
    serde_json::from_value(v.get("directory")?.clone()).ok()
}

pub async fn config_for(
    state: &AppState,
    org_id: &str,
) -> Result<Option<DirectoryConfig>, AppError> {
    let org = crate::services::admin::org_by_id(state, org_id).await?;
    Ok(config_in(&org.settings))
}

/// The TLS client settings for a body's directory: its own CA when given, else the
/// system's roots. Certificates are always verified.
fn tls_config(cfg: &DirectoryConfig) -> Result<Arc<rustls::ClientConfig>, &'static str> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    if cfg.ca_pem.trim().is_empty() {
        for cert in rustls_native_roots() {
            let _ = roots.add(cert);
        }
    } else {
        for cert in CertificateDer::pem_slice_iter(cfg.ca_pem.as_bytes()) {
            let cert = cert.map_err(|_| "ca_unreadable")?;
            roots.add(cert).map_err(|_| "ca_unreadable")?;
        }
    }
    if roots.is_empty() {
        return Err("no_trusted_roots");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| "tls_setup")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The system's trusted roots (Debian's `ca-certificates`), read once per call: directory
/// sign-ins are rare enough that caching is not worth a stale store.
fn rustls_native_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let Ok(pem) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") else {
        return Vec::new();
    };
    CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect()
}

/// Binds as the user and reads their entry and groups. Bounded by the body's timeout as a
/// whole, so a directory that accepts the connection and then says nothing cannot hold a
/// sign-in.
pub async fn authenticate(
    cfg: &DirectoryConfig,
    login: &str,
    password: &str,
) -> Result<Verdict, Unavailable> {
    // An empty password would be an unauthenticated bind, which LDAP servers "accept".
    if password.is_empty() {
        return Ok(Verdict::Refused("empty_password"));
    }
    let limit = Duration::from_secs(u64::from(cfg.timeout_seconds));
    match tokio::time::timeout(limit, ask(cfg, login, password, limit)).await {
        Ok(answer) => answer,
        Err(_) => Err(Unavailable("timeout")),
    }
}

async fn ask(
    cfg: &DirectoryConfig,
    login: &str,
    password: &str,
    limit: Duration,
) -> Result<Verdict, Unavailable> {
    let tls = tls_config(cfg).map_err(Unavailable)?;
    let settings = LdapConnSettings::new()
        .set_conn_timeout(limit)
        .set_starttls(cfg.starttls && cfg.url.starts_with("ldap://"))
        .set_config(tls);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, cfg.url.trim())
        .await
        .map_err(|e| Unavailable(connection_reason(&e)))?;
    tokio::spawn(async move {
        let _ = conn.drive().await;
    });
    let bound = ldap
        .simple_bind(&cfg.bind_dn_for(login), password)
        .await
        .map_err(|_| Unavailable("bind_failed"))?;
    match bound.rc {
        0 => {}
        // invalidCredentials (a wrong password; also Active Directory's disabled, expired
        // and locked accounts), inappropriateAuthentication, insufficientAccessRights,
        // unwillingToPerform: the directory said no.
        49 | 48 | 50 | 53 => {
            let _ = ldap.unbind().await;
            return Ok(Verdict::Refused("directory_refused"));
        }
        _ => return Err(Unavailable("bind_result")),
    }
    let found = ldap
        .with_search_options(ldap3::SearchOptions::new().sizelimit(2))
        .search(
            cfg.user_base.trim(),
            Scope::Subtree,
            &cfg.user_filter_for(login),
            vec!["1.1"],
        )
        .await
        .map_err(|_| Unavailable("search_failed"))?;
    // sizeLimitExceeded (4) means more than one entry: the filter does not name one person.
    if found.1.rc == 4 || found.0.len() > 1 {
        return Err(Unavailable("ambiguous_entry"));
    }
    if found.1.rc != 0 {
        return Err(Unavailable("search_result"));
    }
    let Some(entry) = found.0.into_iter().next() else {
        let _ = ldap.unbind().await;
        return Ok(Verdict::Refused("directory_account_disabled"));
    };
    let dn = SearchEntry::construct(entry).dn;
    let mut groups = Vec::new();
    if !cfg.group_base.trim().is_empty() {
        let ldap3::SearchResult(entries, result) = ldap
            .with_search_options(ldap3::SearchOptions::new().sizelimit(1000))
            .search(
                cfg.group_base.trim(),
                Scope::Subtree,
                &DirectoryConfig::group_filter_for(&dn),
                vec!["1.1"],
            )
            .await
            .map_err(|_| Unavailable("group_search_failed"))?;
        if result.rc != 0 {
            return Err(Unavailable("group_search_result"));
        }
        groups = entries
            .into_iter()
            .map(|e| SearchEntry::construct(e).dn)
            .collect();
    }
    let _ = ldap.unbind().await;
    Ok(Verdict::Accepted(Entry { dn, groups }))
}

fn connection_reason(e: &ldap3::LdapError) -> &'static str {
    match e {
        // A certificate the body's CA did not sign, a wrong name, an expired certificate.
        ldap3::LdapError::Io { source }
            if source
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
        {
            "tls_refused"
        }
        ldap3::LdapError::Io { .. } => "connect_failed",
        ldap3::LdapError::Timeout { .. } => "timeout",
        ldap3::LdapError::UrlParsing { .. } | ldap3::LdapError::UnknownScheme(_) => "bad_url",
        _ => "protocol",
    }
}

/// Applies what the directory's groups say: non-privileged roles added and removed to match
/// (privileged roles are never touched), the department moved. In the sign-in's
/// transaction, with one audit record when anything changed.
pub(crate) async fn apply(
    tx: &mut kairan_store::WriteTx,
    user: &users::User,
    entry: &Entry,
    mapping: &Mapping,
) -> Result<(), AppError> {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    if let Some(roles) = &mapping.roles {
        let held: Vec<Role> = users::roles(tx.conn(), &user.id)
            .await?
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect();
        for r in roles.iter().filter(|r| !held.contains(r)) {
            users::grant_role(tx, &user.id, r.code(), None).await?;
            added.push(r.code());
        }
        for r in held
            .iter()
            .filter(|r| !r.is_privileged() && !roles.contains(r))
        {
            users::revoke_role(tx, &user.id, r.code()).await?;
            removed.push(r.code());
        }
    }
    let moved = mapping
        .department_id
        .as_deref()
        .filter(|d| user.department_id.as_deref() != Some(*d));
    users::record_directory_entry(tx, &user.id, &entry.dn, moved).await?;
    if added.is_empty() && removed.is_empty() && moved.is_none() {
        return Ok(());
    }
    let mut e = kairan_store::audit::NewEntry::new(AuditAction::DirectorySynced);
    e.org_id = Some(user.org_id.clone());
    e.target_id = Some(user.id.clone());
    detail(&mut e, "roles_added", added);
    detail(&mut e, "roles_removed", removed);
    if let Some(d) = moved {
        detail(&mut e, "department", d);
    }
    audit::append(tx, e).await?;
    Ok(())
}

/// Sets or clears a body's directory settings. The settings are checked, the filter parsed,
/// and every mapped department must be the body's own.
pub async fn configure(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    cfg: Option<DirectoryConfig>,
) -> Result<(), AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    if let Some(cfg) = &cfg {
        cfg.validate()?;
        if ldap3::parse_filter(cfg.user_filter_for("probe")).is_err() {
            return Err(DomainError::invalid(
                "directory",
                "ディレクトリ連携",
                "利用者の検索条件がLDAPの検索条件として正しくありません。",
                "the user filter is not a valid LDAP filter.",
            )
            .into());
        }
        if tls_config(cfg).is_err() {
            return Err(DomainError::invalid(
                "directory",
                "ディレクトリ連携",
                "CA証明書を読み取れません。PEM形式(-----BEGIN CERTIFICATE-----)で貼り付けてください。",
                "the CA certificate cannot be read; paste it in PEM form.",
            )
            .into());
        }
        let mut conn = state.store.read().await?;
        for g in &cfg.department_groups {
            let own = orgs::department(&mut conn, &g.department_id)
                .await?
                .is_some_and(|d| d.org_id == org_id);
            if !own {
                return Err(DomainError::invalid(
                    "directory",
                    "ディレクトリ連携",
                    "グループに対応づける所属は、この団体の所属から選んでください。",
                    "map groups to departments of this body.",
                )
                .into());
            }
        }
    }
    let value = match &cfg {
        Some(c) => serde_json::to_value(c).unwrap_or_default(),
        None => serde_json::Value::Null,
    };
    let mut tx = crate::services::write_setting(state, org_id, "directory", value).await?;
    let mut e = audit_entry(actor, AuditAction::DirectoryConfigured);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    match &cfg {
        Some(c) => {
            detail(&mut e, "url", c.url.as_str());
            detail(&mut e, "starttls", c.starttls);
            detail(&mut e, "role_groups", c.role_groups.len());
            detail(&mut e, "department_groups", c.department_groups.len());
        }
        None => detail(&mut e, "enabled", false),
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// Reads a body's directory settings for someone allowed to set them.
pub async fn config_for_admin(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Option<DirectoryConfig>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ConfigureSignIn, &Resource::Org(&org))?;
    config_for(state, org_id).await
}

/// Moves an ID between Kairan's own password (`local`) and the body's directory. The body
/// keeps at least one active local administrator, its way in when the directory is down.
/// Sessions of the ID end: it signs in again the new way. Back to `local`, a temporary
/// password is issued (shown once) and must be changed at the next sign-in.
pub async fn set_method(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    method: &str,
) -> Result<Option<String>, AppError> {
    let t = crate::services::admin::target(state, user_id).await?;
    crate::services::admin::user_check(actor, Action::ConfigureSignIn, &t)?;
    if !matches!(method, "local" | "directory") {
        return Err(DomainError::invalid(
            "method",
            "サインイン方法",
            "「local」か「directory」を指定してください。",
            "use \"local\" or \"directory\".",
        )
        .into());
    }
    if t.auth_source == method {
        return Ok(None);
    }
    let temporary = if method == "local" {
        let (temporary, hash) = state.hasher.issue();
        Some((hash, temporary))
    } else {
        if config_for(state, &t.org_id).await?.is_none() {
            return Err(AppError::Conflict("directory_not_configured"));
        }
        None
    };
    let mut tx = state.store.write().await?;
    match &temporary {
        Some((hash, _)) => {
            users::use_local(&mut tx, &t.id).await?;
            users::set_password(&mut tx, &t.id, hash, true).await?;
        }
        None => {
            let is_admin = users::roles(tx.conn(), &t.id)
                .await?
                .iter()
                .any(|r| r == Role::Admin.code());
            let local_admins =
                users::count_local_with_role(tx.conn(), &t.org_id, Role::Admin.code()).await?;
            if is_admin && t.is_active() && local_admins <= 1 {
                return Err(AppError::Conflict("last_local_admin"));
            }
            users::use_directory(&mut tx, &t.id).await?;
        }
    }
    let ended = kairan_store::sessions::end_all_for_user(&mut tx, &t.id, "sign_in_method").await?;
    let mut e = audit_entry(actor, AuditAction::SignInMethodChanged);
    e.org_id = Some(t.org_id.clone());
    e.target_id = Some(t.id.clone());
    detail(&mut e, "method", method);
    detail(&mut e, "sessions_ended", ended);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::sessions_ended(&t.id));
    Ok(temporary.map(|(_, t)| t))
}
