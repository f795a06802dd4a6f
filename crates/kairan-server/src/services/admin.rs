//! Bodies, departments, staff IDs and roles (I1, I2, I8): what an administrator does, and what
//! the operator does from the console.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::input::{Kana, LoginId, OrgCode, PersonName, UnitName, parse_title};
use kairan_domain::policy::{self, Action, Actor, Denied, Resource};
use kairan_domain::{OrgId, Role, UserId};
use kairan_store::audit;
use kairan_store::orgs::{self, Department, Org};
use kairan_store::users::{self, User};
use kairan_store::{StoreError, sessions};
use std::collections::BTreeMap;

fn org_check(actor: &Actor, action: Action, org_id: &str) -> Result<(), AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, action, &Resource::Org(&org)).map_err(AppError::from)
}

pub(crate) fn user_check(actor: &Actor, action: Action, target: &User) -> Result<(), AppError> {
    let org = OrgId(target.org_id.clone());
    let user = UserId(target.id.clone());
    policy::check(
        actor,
        action,
        &Resource::User {
            org: &org,
            user: &user,
        },
    )
    .map_err(AppError::from)
}

/// Creating a body is the server operator's job (the console), not a body's administrator's.
pub async fn create_org(
    state: &AppState,
    actor: &Actor,
    code: &str,
    name: &str,
    name_en: &str,
) -> Result<Org, AppError> {
    if !matches!(actor, Actor::Operator) {
        return Err(Denied::MissingRole.into());
    }
    let code = OrgCode::parse(code)?;
    let name = UnitName::parse("name", "団体名", name)?;
    let mut tx = state.store.write().await?;
    let org = orgs::insert(&mut tx, code.as_str(), name.as_str(), name_en.trim())
        .await
        .map_err(|e| conflict(e, "org_code_taken"))?;
    let mut e = audit_entry(actor, AuditAction::OrgCreated);
    e.org_id = Some(org.id.clone());
    e.target_id = Some(org.id.clone());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(org)
}

fn conflict(e: StoreError, code: &'static str) -> AppError {
    match e {
        StoreError::Conflict => AppError::Conflict(code),
        other => other.into(),
    }
}

pub async fn list_orgs(state: &AppState) -> Result<Vec<Org>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(orgs::list(&mut conn).await?)
}

pub async fn org_by_code(state: &AppState, code: &str) -> Result<Org, AppError> {
    let mut conn = state.store.read().await?;
    orgs::by_code(&mut conn, code)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn org_by_id(state: &AppState, id: &str) -> Result<Org, AppError> {
    let mut conn = state.store.read().await?;
    orgs::by_id(&mut conn, id).await?.ok_or(AppError::NotFound)
}

pub async fn create_department(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    name: &str,
    parent_id: Option<&str>,
) -> Result<Department, AppError> {
    org_check(actor, Action::CreateDepartment, org_id)?;
    let name = UnitName::parse("name", "所属名", name)?;
    let mut tx = state.store.write().await?;
    if let Some(parent) = parent_id {
        let p = orgs::department(tx.conn(), parent).await?;
        if p.is_none_or(|p| p.org_id != org_id) {
            return Err(kairan_domain::DomainError::invalid(
                "parent_id",
                "上位所属",
                "この団体の所属を選んでください。",
                "choose a department of this body.",
            )
            .into());
        }
    }
    let dept = orgs::insert_department(&mut tx, org_id, parent_id, name.as_str(), 0)
        .await
        .map_err(|e| conflict(e, "department_exists"))?;
    let mut e = audit_entry(actor, AuditAction::DepartmentCreated);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(dept.id.clone());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(dept)
}

pub async fn departments(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<Department>, AppError> {
    org_check(actor, Action::ViewDirectory, org_id)?;
    let mut conn = state.store.read().await?;
    Ok(orgs::departments(&mut conn, org_id).await?)
}

/// What an administrator enters to issue a staff ID.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct NewUserInput {
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub department_id: Option<String>,
    /// Role codes; `staff` when empty.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Issued for development or testing (I10): listed in the dormant-ID report until disabled.
    #[serde(default)]
    pub test_id: bool,
}

pub struct Issued {
    pub user_id: String,
    /// Shown once to the administrator; only its hash is stored.
    pub temporary_password: String,
}

/// The roles named, as a person may give them: a guest's role comes only from an approved
/// guest application (with its period), so only the console (`Operator`, which holds every
/// right anyway) may name it here.
fn parse_roles(actor: &Actor, codes: &[String]) -> Result<Vec<Role>, AppError> {
    let mut roles = Vec::new();
    for c in codes {
        let role = Role::parse(c).ok_or_else(|| {
            kairan_domain::DomainError::invalid(
                "roles",
                "権限",
                format!("「{c}」という権限はありません。"),
                format!("unknown role {c}."),
            )
        })?;
        if !role.is_grantable() && matches!(actor, Actor::User(_)) {
            return Err(kairan_domain::DomainError::invalid(
                "roles",
                "権限",
                "ゲストは、承認されたゲスト利用申請によってのみ登録されます。",
                "a guest is admitted only by an approved guest application.",
            )
            .into());
        }
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    if roles.is_empty() {
        roles.push(Role::Staff);
    }
    Ok(roles)
}

/// Whether the actor may issue staff IDs in this body, for pages that offer the form.
pub fn may_create_user(actor: &Actor, org_id: &str) -> Result<(), AppError> {
    org_check(actor, Action::CreateUser, org_id)
}

pub async fn create_user(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    input: &NewUserInput,
) -> Result<Issued, AppError> {
    org_check(actor, Action::CreateUser, org_id)?;
    let login_id = LoginId::parse(&input.login_id)?;
    let name = PersonName::parse(&input.display_name)?;
    let kana = Kana::parse(&input.kana)?;
    let title = parse_title(&input.title)?;
    let roles = parse_roles(actor, &input.roles)?;
    let department_id = input.department_id.as_deref().filter(|d| !d.is_empty());
    let (temporary, hash) = state.hasher.issue();
    let mut tx = state.store.write().await?;
    if let Some(d) = department_id
        && orgs::department(tx.conn(), d)
            .await?
            .is_none_or(|d| d.org_id != org_id)
    {
        return Err(kairan_domain::DomainError::invalid(
            "department_id",
            "所属",
            "この団体の所属を選んでください。",
            "choose a department of this body.",
        )
        .into());
    }
    let created_by = match actor {
        Actor::User(u) => Some(u.user_id.0.clone()),
        Actor::Operator => None,
    };
    let user_id = users::insert(
        &mut tx,
        &users::NewUser {
            org_id,
            department_id,
            login_id: login_id.as_str(),
            display_name: name.as_str(),
            kana: kana.as_str(),
            title: title.as_deref(),
            password_hash: &hash,
            must_change_password: true,
            created_by: created_by.as_deref(),
        },
    )
    .await
    .map_err(|e| conflict(e, "login_id_taken"))?;
    for role in &roles {
        users::grant_role(&mut tx, &user_id, role.code(), created_by.as_deref()).await?;
    }
    if input.test_id {
        users::mark_test(&mut tx, &user_id).await?;
    }
    let mut e = audit_entry(actor, AuditAction::UserCreated);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(user_id.clone());
    detail(
        &mut e,
        "roles",
        roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
    );
    if input.test_id {
        detail(&mut e, "test_id", true);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(Issued {
        user_id,
        temporary_password: temporary,
    })
}

pub(crate) async fn target(state: &AppState, user_id: &str) -> Result<User, AppError> {
    let mut conn = state.store.read().await?;
    users::by_id(&mut conn, user_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Suspends (`active = false`) or reactivates a staff ID. Suspension ends every session at once.
pub async fn set_active(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    active: bool,
) -> Result<(), AppError> {
    let t = target(state, user_id).await?;
    let action = if active {
        Action::ReactivateUser
    } else {
        Action::SuspendUser
    };
    user_check(actor, action, &t)?;
    if t.is_active() == active {
        return Err(AppError::Conflict(if active {
            "already_active"
        } else {
            "already_suspended"
        }));
    }
    let mut tx = state.store.write().await?;
    users::set_status(
        &mut tx,
        user_id,
        if active { "active" } else { "suspended" },
    )
    .await?;
    let mut e = audit_entry(
        actor,
        if active {
            AuditAction::UserReactivated
        } else {
            AuditAction::UserSuspended
        },
    );
    e.org_id = Some(t.org_id.clone());
    e.target_id = Some(t.id.clone());
    if !active {
        let ended = sessions::end_all_for_user(&mut tx, user_id, "suspended").await?;
        detail(&mut e, "sessions_ended", ended);
    }
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    if !active {
        state
            .bus
            .publish(crate::realtime::Event::sessions_ended(user_id));
    }
    Ok(())
}

/// Issues a new temporary password (shown once), forces a change at next sign-in, clears any
/// lockout and ends the user's sessions.
pub async fn reset_password(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
) -> Result<String, AppError> {
    let t = target(state, user_id).await?;
    user_check(actor, Action::ResetPassword, &t)?;
    if t.auth_source == "directory" {
        return Err(AppError::Conflict("password_in_directory"));
    }
    let (temporary, hash) = state.hasher.issue();
    let mut tx = state.store.write().await?;
    users::set_password(&mut tx, user_id, &hash, true).await?;
    let ended = sessions::end_all_for_user(&mut tx, user_id, "password_reset").await?;
    let mut e = audit_entry(actor, AuditAction::PasswordReset);
    e.org_id = Some(t.org_id.clone());
    e.target_id = Some(t.id.clone());
    detail(&mut e, "sessions_ended", ended);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    state
        .bus
        .publish(crate::realtime::Event::sessions_ended(user_id));
    Ok(temporary)
}

pub async fn grant_role(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    role: &str,
) -> Result<(), AppError> {
    change_role(state, actor, user_id, role, true).await
}

pub async fn revoke_role(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    role: &str,
) -> Result<(), AppError> {
    change_role(state, actor, user_id, role, false).await
}

async fn change_role(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
    role: &str,
    grant: bool,
) -> Result<(), AppError> {
    let t = target(state, user_id).await?;
    user_check(
        actor,
        if grant {
            Action::GrantRole
        } else {
            Action::RevokeRole
        },
        &t,
    )?;
    let role = parse_roles(actor, &[role.to_owned()])?[0];
    let by = match actor {
        Actor::User(u) => Some(u.user_id.0.clone()),
        Actor::Operator => None,
    };
    let mut tx = state.store.write().await?;
    let changed = if grant {
        users::grant_role(&mut tx, user_id, role.code(), by.as_deref()).await?
    } else {
        users::revoke_role(&mut tx, user_id, role.code()).await?
    };
    if !changed {
        return Err(AppError::Conflict(if grant {
            "role_already_granted"
        } else {
            "role_not_granted"
        }));
    }
    let mut e = audit_entry(
        actor,
        if grant {
            AuditAction::RoleGranted
        } else {
            AuditAction::RoleRevoked
        },
    );
    e.org_id = Some(t.org_id.clone());
    e.target_id = Some(t.id.clone());
    detail(&mut e, "role", role.code());
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

/// A staff ID as an administrator sees it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub login_id: String,
    pub display_name: String,
    pub kana: String,
    pub title: Option<String>,
    pub department_id: Option<String>,
    pub status: String,
    pub roles: Vec<String>,
    pub must_change_password: bool,
    pub locked: bool,
    pub last_sign_in_at: Option<i64>,
    /// `local` or `directory` (I9).
    pub sign_in_method: String,
}

pub async fn list_users(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<UserView>, AppError> {
    org_check(actor, Action::ViewUsers, org_id)?;
    let mut conn = state.store.read().await?;
    let list = users::list_by_org(&mut conn, org_id).await?;
    let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (u, r) in users::roles_in_org(&mut conn, org_id).await? {
        roles.entry(u).or_default().push(r);
    }
    let now = kairan_store::now_us();
    Ok(list
        .into_iter()
        .map(|u| {
            let r = roles.remove(&u.id).unwrap_or_default();
            user_view(u, r, now)
        })
        .collect())
}

fn user_view(u: User, roles: Vec<String>, now: i64) -> UserView {
    UserView {
        roles,
        locked: u.locked_until.is_some_and(|t| t > now),
        must_change_password: u.must_change_password != 0,
        id: u.id,
        login_id: u.login_id,
        display_name: u.display_name,
        kana: u.kana,
        title: u.title,
        department_id: u.department_id,
        status: u.status,
        last_sign_in_at: u.last_sign_in_at,
        sign_in_method: u.auth_source,
    }
}

pub async fn get_user(
    state: &AppState,
    actor: &Actor,
    user_id: &str,
) -> Result<UserView, AppError> {
    let t = target(state, user_id).await?;
    user_check(actor, Action::ViewUsers, &t)?;
    // One person: their row and roles, not the whole body's list.
    let mut conn = state.store.read().await?;
    let roles = users::roles(&mut conn, &t.id).await?;
    Ok(user_view(t, roles, kairan_store::now_us()))
}

/// A directory entry: what every member of the body may see of a colleague.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub id: String,
    pub display_name: String,
    pub kana: String,
    pub title: Option<String>,
    pub department_id: Option<String>,
}

pub async fn directory(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<DirectoryEntry>, AppError> {
    org_check(actor, Action::ViewDirectory, org_id)?;
    let mut conn = state.store.read().await?;
    Ok(users::list_by_org(&mut conn, org_id)
        .await?
        .into_iter()
        .filter(|u| u.is_active())
        .map(|u| DirectoryEntry {
            id: u.id,
            display_name: u.display_name,
            kana: u.kana,
            title: u.title,
            department_id: u.department_id,
        })
        .collect())
}

pub async fn privileged(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
) -> Result<Vec<users::PrivilegedGrant>, AppError> {
    org_check(actor, Action::ListPrivileged, org_id)?;
    let codes: Vec<&str> = Role::ALL
        .iter()
        .filter(|r| r.is_privileged())
        .map(|r| r.code())
        .collect();
    let mut conn = state.store.read().await?;
    Ok(users::privileged(&mut conn, org_id, &codes).await?)
}

/// ID → name for every staff ID of a body, including suspended ones, to label records the
/// caller was already allowed to read (the audit log). Callers check the policy first.
pub(crate) async fn directory_all(
    state: &AppState,
    org_id: &str,
) -> Result<Vec<(String, String)>, AppError> {
    let mut conn = state.store.read().await?;
    Ok(users::list_by_org(&mut conn, org_id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

/// Sets a body's own password policy (merged over the server default). A console operation:
/// the rules that protect a body's administrators are not theirs to loosen.
pub async fn set_password_policy(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    overrides: serde_json::Map<String, serde_json::Value>,
) -> Result<kairan_domain::password::PasswordPolicy, AppError> {
    if !matches!(actor, Actor::Operator) {
        return Err(Denied::MissingRole.into());
    }
    let org = org_by_id(state, org_id).await?;
    let mut settings: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&org.settings).unwrap_or_default();
    let mut password = match settings.remove("password") {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let keys: Vec<String> = overrides.keys().cloned().collect();
    password.extend(overrides);
    // Validate the merged result with the same parser the sign-in path uses.
    let mut merged = serde_json::to_value(&state.config.password).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut merged {
        m.extend(password.clone());
    }
    let policy: kairan_domain::password::PasswordPolicy =
        serde_json::from_value(merged).map_err(|e| {
            kairan_domain::DomainError::invalid(
                "password",
                "パスワード規則",
                format!("設定値が正しくありません({e})。"),
                format!("invalid policy: {e}"),
            )
        })?;
    if policy.min_length < 8
        || policy.min_length_privileged < policy.min_length.min(16)
        || policy.lockout_threshold == 0
    {
        return Err(kairan_domain::DomainError::invalid(
            "password",
            "パスワード規則",
            "最小文字数は8文字以上、特権IDは一般の職員以上、ロックまでの回数は1回以上にしてください。",
            "min_length must be at least 8, privileged IDs at least as strict, lockout threshold at least 1.",
        )
        .into());
    }
    settings.insert("password".into(), serde_json::Value::Object(password));
    let mut tx = state.store.write().await?;
    orgs::set_settings(
        &mut tx,
        org_id,
        &serde_json::Value::Object(settings).to_string(),
    )
    .await?;
    let mut e = audit_entry(actor, AuditAction::OrgSettingsChanged);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(&mut e, "password_keys", keys);
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    Ok(policy)
}
