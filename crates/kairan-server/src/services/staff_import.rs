//! A body's staff list in and out as CSV (I1; issue 8): the yearly work of a personnel
//! section, from the administrator's screen, the API or `kairan admin import-staff`.
//!
//! An import is a preview first: the file is read and every row checked
//! (`kairan_domain::staff_csv`), then matched against the body: departments by name, IDs by
//! login ID, employee numbers unique. Nothing is written while anything is wrong, and every
//! problem is listed by line and column. Applied, the whole file is one transaction with one
//! audit record summarising it; importing the same file again changes nothing. New IDs get a
//! temporary password each (shown once, to be changed at first sign-in). Privileged roles are
//! never given by a file: they are granted one by one, where the grant is recorded (I8); a
//! row's roles replace the person's other roles.

use crate::error::AppError;
use crate::services::{audit_entry, detail};
use crate::state::AppState;
use kairan_domain::audit::AuditAction;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_domain::staff_csv::{self, CsvEncoding, RowError, StaffRow, Unmappable};
use kairan_domain::{OrgId, Role};
use kairan_store::{audit, orgs, users};
use serde::Serialize;
use sha2::Digest;
use std::collections::HashMap;
use utoipa::ToSchema;

/// What an import did, or would do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// `utf-8`, `utf-8-bom` or `cp932`, as detected.
    #[schema(value_type = Option<String>)]
    pub encoding: Option<CsvEncoding>,
    pub rows: usize,
    /// Login IDs that would be (or were) created.
    pub created: Vec<String>,
    /// Login IDs whose details or roles change, with the columns that change.
    pub updated: Vec<Updated>,
    pub unchanged: usize,
    /// Every problem, by line and column; nothing is written while there is one.
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<RowError>,
    /// True once written (false for a preview, or when there were errors).
    pub applied: bool,
    /// The temporary passwords of the new IDs, shown once (only when applied).
    pub issued: Vec<Issued>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Updated {
    pub login_id: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Issued {
    pub login_id: String,
    pub temporary_password: String,
}

/// One row matched against the body.
enum Plan {
    Create(StaffRow, Option<String>),
    Update(
        Box<users::User>,
        StaffRow,
        Option<String>,
        Vec<String>,
        Vec<Role>,
    ),
    Same,
}

fn row_error(line: usize, column: &str, ja: String, en: String) -> RowError {
    RowError {
        line,
        column: column.to_owned(),
        message_ja: ja,
        message_en: en,
    }
}

/// Reads and checks a file against the body, and writes it unless `dry_run` or anything is
/// wrong.
pub async fn import(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::CreateUser, &Resource::Org(&org))?;
    let mut report = ImportReport {
        encoding: None,
        rows: 0,
        created: Vec::new(),
        updated: Vec::new(),
        unchanged: 0,
        errors: Vec::new(),
        applied: false,
        issued: Vec::new(),
    };
    let rows = match staff_csv::read(bytes) {
        Ok((rows, encoding)) => {
            report.encoding = Some(encoding);
            rows
        }
        Err(errors) => {
            report.errors = errors;
            return Ok(report);
        }
    };
    report.rows = rows.len();
    let (departments, existing, roles_held) = {
        let mut conn = state.store.read().await?;
        let departments: HashMap<String, String> = orgs::departments(&mut conn, org_id)
            .await?
            .into_iter()
            .map(|d| (d.name, d.id))
            .collect();
        let existing: HashMap<String, users::User> = users::list_by_org(&mut conn, org_id)
            .await?
            .into_iter()
            .map(|u| (u.login_id.clone(), u))
            .collect();
        let mut roles_held: HashMap<String, Vec<Role>> = HashMap::new();
        for (user, role) in users::roles_in_org(&mut conn, org_id).await? {
            if let Some(r) = Role::parse(&role) {
                roles_held.entry(user).or_default().push(r);
            }
        }
        (departments, existing, roles_held)
    };
    let numbers: HashMap<&str, &str> = existing
        .values()
        .filter_map(|u| u.employee_no.as_deref().map(|n| (n, u.login_id.as_str())))
        .collect();
    let mut plans = Vec::with_capacity(rows.len());
    for row in rows {
        let dept = match &row.department {
            Some(name) => match departments.get(name) {
                Some(id) => Some(id.clone()),
                None => {
                    report.errors.push(row_error(
                        row.line,
                        "department",
                        format!(
                            "所属「{name}」はこの団体にありません。先に所属を作成してください。"
                        ),
                        format!("there is no department \"{name}\" in this body; create it first."),
                    ));
                    continue;
                }
            },
            None => None,
        };
        // A file may list privileged roles a person already holds (an exported file does), but
        // never gives one.
        let held: Vec<Role> = existing
            .get(&row.login_id)
            .and_then(|u| roles_held.get(&u.id))
            .cloned()
            .unwrap_or_default();
        if let Some(r) = row
            .roles
            .iter()
            .find(|r| r.is_privileged() && !held.contains(r))
        {
            report.errors.push(row_error(
                row.line,
                "roles",
                format!(
                    "「{}」はCSVでは付与できません。特権IDは管理画面で1人ずつ付与してください。",
                    r.label_ja()
                ),
                format!(
                    "{} cannot be given by a file; grant privileged roles one by one.",
                    r.label_en()
                ),
            ));
            continue;
        }
        if let Some(n) = &row.employee_no
            && let Some(holder) = numbers.get(n.as_str())
            && *holder != row.login_id
        {
            report.errors.push(row_error(
                row.line,
                "employee_no",
                format!("職員番号「{n}」は、すでに「{holder}」が使っています。"),
                format!("the employee number \"{n}\" already belongs to \"{holder}\"."),
            ));
            continue;
        }
        match existing.get(&row.login_id) {
            None => {
                plans.push(Plan::Create(row, dept));
            }
            Some(u) => {
                let mut columns = Vec::new();
                if u.display_name != row.display_name {
                    columns.push("display_name".to_owned());
                }
                if u.kana != row.kana {
                    columns.push("kana".to_owned());
                }
                if u.title != row.title {
                    columns.push("title".to_owned());
                }
                if u.department_id != dept {
                    columns.push("department".to_owned());
                }
                if u.employee_no != row.employee_no && row.employee_no.is_some() {
                    columns.push("employee_no".to_owned());
                }
                if u.last_day != row.last_day.map(|d| d.to_string()) {
                    columns.push("last_day".to_owned());
                }
                // Privileged roles stay as they are; the row's other roles replace the rest.
                let mut wanted: Vec<Role> = held
                    .iter()
                    .copied()
                    .filter(|r| r.is_privileged() || !r.is_grantable())
                    .collect();
                for r in row.roles.iter().filter(|r| !r.is_privileged()) {
                    if !wanted.contains(r) {
                        wanted.push(*r);
                    }
                }
                wanted.sort();
                let mut now = held.clone();
                now.sort();
                if !row.roles.is_empty() && wanted != now {
                    columns.push("roles".to_owned());
                }
                if columns.is_empty() {
                    plans.push(Plan::Same);
                } else {
                    plans.push(Plan::Update(Box::new(u.clone()), row, dept, columns, held));
                }
            }
        }
    }
    // IDs are unique across bodies: a new one must not be another body's.
    let mut conn = state.store.read().await?;
    for p in &plans {
        if let Plan::Create(row, _) = p
            && users::by_login(&mut conn, &row.login_id).await?.is_some()
        {
            report.errors.push(row_error(
                row.line,
                "login_id",
                format!(
                    "ログインID「{}」は、ほかの団体で使われています。",
                    row.login_id
                ),
                format!("the login ID \"{}\" is used by another body.", row.login_id),
            ));
        }
    }
    drop(conn);
    report.errors.sort_by_key(|e| e.line);
    for p in &plans {
        match p {
            Plan::Create(row, _) => report.created.push(row.login_id.clone()),
            Plan::Update(_, row, _, columns, _) => report.updated.push(Updated {
                login_id: row.login_id.clone(),
                columns: columns.clone(),
            }),
            Plan::Same => report.unchanged += 1,
        }
    }
    if dry_run || !report.errors.is_empty() {
        return Ok(report);
    }
    let by = match actor {
        Actor::User(u) => Some(u.user_id.0.clone()),
        Actor::Operator => None,
    };
    // Temporary passwords are issued before the transaction, which then only writes.
    let mut passwords = Vec::new();
    for p in &plans {
        if let Plan::Create(row, _) = p {
            let (temporary, hash) = state.hasher.issue();
            passwords.push((row.login_id.clone(), temporary, hash));
        }
    }
    let mut tx = state.store.write().await?;
    let mut hashes = passwords.iter();
    for p in &plans {
        match p {
            Plan::Create(row, dept) => {
                let Some((_, _, hash)) = hashes.next() else {
                    return Err(AppError::Internal("password count".into()));
                };
                let id = users::insert(
                    &mut tx,
                    &users::NewUser {
                        org_id,
                        department_id: dept.as_deref(),
                        login_id: &row.login_id,
                        display_name: &row.display_name,
                        kana: &row.kana,
                        title: row.title.as_deref(),
                        password_hash: hash,
                        must_change_password: true,
                        created_by: by.as_deref(),
                    },
                )
                .await?;
                if row.employee_no.is_some() || row.last_day.is_some() {
                    set_profile(&mut tx, &id, row, dept.as_deref()).await?;
                }
                let roles = if row.roles.is_empty() {
                    vec![Role::Staff]
                } else {
                    row.roles.clone()
                };
                for r in roles {
                    users::grant_role(&mut tx, &id, r.code(), by.as_deref()).await?;
                }
            }
            Plan::Update(u, row, dept, columns, held) => {
                set_profile(&mut tx, &u.id, row, dept.as_deref()).await?;
                if columns.iter().any(|c| c == "roles") {
                    for r in held
                        .iter()
                        .filter(|r| !r.is_privileged() && r.is_grantable())
                    {
                        if !row.roles.contains(r) {
                            users::revoke_role(&mut tx, &u.id, r.code()).await?;
                        }
                    }
                    for r in row.roles.iter().filter(|r| !r.is_privileged()) {
                        if !held.contains(r) {
                            users::grant_role(&mut tx, &u.id, r.code(), by.as_deref()).await?;
                        }
                    }
                }
            }
            Plan::Same => {}
        }
    }
    let mut e = audit_entry(actor, AuditAction::StaffImported);
    e.org_id = Some(org_id.to_owned());
    e.target_id = Some(org_id.to_owned());
    detail(&mut e, "rows", report.rows);
    detail(&mut e, "created", report.created.len());
    detail(&mut e, "updated", report.updated.len());
    detail(&mut e, "unchanged", report.unchanged);
    detail(
        &mut e,
        "file_sha256",
        hex::encode(sha2::Sha256::digest(bytes)),
    );
    audit::append(&mut tx, e).await?;
    tx.commit().await?;
    report.applied = true;
    report.issued = passwords
        .into_iter()
        .map(|(login_id, temporary_password, _)| Issued {
            login_id,
            temporary_password,
        })
        .collect();
    Ok(report)
}

async fn set_profile(
    tx: &mut kairan_store::WriteTx,
    user_id: &str,
    row: &StaffRow,
    dept: Option<&str>,
) -> Result<(), AppError> {
    let last_day = row.last_day.map(|d| d.to_string());
    users::update_profile(
        tx,
        user_id,
        &users::Profile {
            display_name: &row.display_name,
            kana: &row.kana,
            title: row.title.as_deref(),
            department_id: dept,
            employee_no: row.employee_no.as_deref(),
            last_day: last_day.as_deref(),
        },
    )
    .await?;
    Ok(())
}

/// The body's staff as CSV in the chosen encoding (guests are not staff and are left out).
/// For CP932, characters it cannot hold are listed and nothing is written.
pub async fn export(
    state: &AppState,
    actor: &Actor,
    org_id: &str,
    encoding: CsvEncoding,
) -> Result<Result<Vec<u8>, Vec<Unmappable>>, AppError> {
    let org = OrgId(org_id.to_owned());
    policy::check(actor, Action::ViewUsers, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    let departments: HashMap<String, String> = orgs::departments(&mut conn, org_id)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let mut roles: HashMap<String, Vec<Role>> = HashMap::new();
    for (user, role) in users::roles_in_org(&mut conn, org_id).await? {
        if let Some(r) = Role::parse(&role) {
            roles.entry(user).or_default().push(r);
        }
    }
    let staff: Vec<users::User> = users::list_by_org(&mut conn, org_id)
        .await?
        .into_iter()
        .filter(|u| {
            !kairan_domain::role::only_guest(roles.get(&u.id).map(Vec::as_slice).unwrap_or(&[]))
        })
        .collect();
    let rows: Vec<StaffRow> = staff
        .into_iter()
        .enumerate()
        .map(|(i, u)| StaffRow {
            line: i + 2,
            employee_no: u.employee_no,
            login_id: u.login_id,
            display_name: u.display_name,
            kana: u.kana,
            department: u.department_id.and_then(|d| departments.get(&d).cloned()),
            title: u.title,
            roles: roles.remove(&u.id).unwrap_or_default(),
            last_day: u
                .last_day
                .as_deref()
                .and_then(kairan_domain::fiscal::Date::parse_iso),
        })
        .collect();
    Ok(staff_csv::write(&rows, encoding))
}
