//! The administrator's screens for directory sign-in (LDAP / Active Directory, I9): the
//! ディレクトリ連携 card on 管理 › サインインの設定, and the sign-in method of one ID on
//! 管理 › 職員. Every decision and every audit record is the service's
//! (`services::directory`); this module only turns form fields into settings and back.

use super::{Done, PageCtx, PageError, message};
use crate::auth::{Authenticated, CurrentUser};
use crate::error::AppError;
use crate::services::{admin, directory};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use kairan_domain::directory::{DirectoryConfig, GroupDepartment, GroupRole};
use kairan_domain::{DomainError, Role};
use kairan_store::orgs::Department;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/sign-in/directory", post(save))
        .route("/admin/sign-in/directory/remove", post(remove))
        .route("/admin/users/{id}/sign-in-method", post(set_method))
}

/// The directory card as typed: every field as text, so a refused form comes back exactly as
/// it was sent. No `Debug`: the form holds the CA certificate, which has no place in a log.
#[derive(Default, Deserialize, Serialize)]
struct DirectoryForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    starttls: Option<String>,
    #[serde(default)]
    bind_dn: String,
    #[serde(default)]
    user_base: String,
    #[serde(default)]
    user_filter: String,
    #[serde(default)]
    group_base: String,
    #[serde(default)]
    ca_pem: String,
    #[serde(default)]
    timeout_seconds: String,
    /// One `group DN => role` a line.
    #[serde(default)]
    role_groups: String,
    /// One `group DN => department name or id` a line.
    #[serde(default)]
    department_groups: String,
}

/// A refused directory form and the reason, while the sign-in settings page that shows it
/// again is rendered. The page's handler lives in `web::mfa`; [`settings_value`], which it
/// calls, takes the typed form from here instead of the saved settings.
struct Refused {
    form: DirectoryForm,
    error: String,
}

tokio::task_local! {
    static REFUSED: Refused;
}

/// The `directory` value of the sign-in settings page: the saved settings as form fields (or
/// the refused form as typed), how many IDs use the directory, and what the hints list.
pub(super) async fn settings_value(
    state: &AppState,
    ctx: &PageCtx,
    me: &Authenticated,
) -> Result<Value, PageError> {
    let lang = ctx.lang;
    let actor = me.actor();
    let org = &me.user.org_id;
    let saved = directory::config_for_admin(state, &actor, org)
        .await
        .map_err(|e| PageError(e, lang))?;
    let depts = admin::departments(state, &actor, org)
        .await
        .map_err(|e| PageError(e, lang))?;
    let users = admin::list_users(state, &actor, org)
        .await
        .map_err(|e| PageError(e, lang))?
        .iter()
        .filter(|u| u.sign_in_method == "directory")
        .count();
    let refused = REFUSED
        .try_with(|r| (Value::from_serialize(&r.form), r.error.clone()))
        .ok();
    let (form, error) = match refused {
        Some((form, error)) => (form, Some(error)),
        None => {
            let form = saved
                .as_ref()
                .map(|c| form_of(c, &depts))
                .unwrap_or_default();
            (Value::from_serialize(&form), None)
        }
    };
    let roles: Vec<Value> = Role::ALL
        .iter()
        .filter(|r| !r.is_privileged() && r.is_grantable())
        .map(|r| context! { code => r.code(), label => lang.pick(r.label_ja(), r.label_en()) })
        .collect();
    let departments: Vec<Value> = depts
        .iter()
        .map(|d| context! { id => d.id, name => d.name })
        .collect();
    Ok(context! {
        configured => saved.is_some(),
        form, error, users, roles, departments,
    })
}

/// Saved settings as the card's fields; departments by name where the name is unambiguous.
fn form_of(c: &DirectoryConfig, depts: &[Department]) -> DirectoryForm {
    let department = |id: &str| {
        let mut named = depts.iter().filter(|d| d.id == id).map(|d| d.name.as_str());
        match named.next() {
            Some(name) if depts.iter().filter(|d| d.name == name).count() == 1 => name.to_owned(),
            _ => id.to_owned(),
        }
    };
    DirectoryForm {
        url: c.url.clone(),
        starttls: c.starttls.then(|| "1".to_owned()),
        bind_dn: c.bind_dn.clone(),
        user_base: c.user_base.clone(),
        user_filter: c.user_filter.clone(),
        group_base: c.group_base.clone(),
        ca_pem: c.ca_pem.clone(),
        timeout_seconds: c.timeout_seconds.to_string(),
        role_groups: c
            .role_groups
            .iter()
            .map(|g| format!("{} => {}", g.group, g.role.code()))
            .collect::<Vec<_>>()
            .join("\n"),
        department_groups: c
            .department_groups
            .iter()
            .map(|g| format!("{} => {}", g.group, department(&g.department_id)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn invalid(field: &'static str, label: &'static str, ja: String, en: String) -> AppError {
    DomainError::invalid(field, label, ja, en).into()
}

/// Text from a textarea: browsers send CRLF line ends.
fn lf(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The card's fields as settings. What the form can tell (a line without `=>`, a role or a
/// department that does not exist, a word for the timeout) is refused here with the line it
/// is on; everything else is the service's check.
fn config_of(f: &DirectoryForm, depts: &[Department]) -> Result<DirectoryConfig, AppError> {
    let timeout = f.timeout_seconds.trim();
    let timeout_seconds = if timeout.is_empty() {
        5
    } else {
        super::typed_number(timeout).ok_or_else(|| {
            invalid(
                "timeout_seconds",
                "応答を待つ時間",
                "半角の数字で入力してください。".into(),
                "enter a whole number.".into(),
            )
        })?
    };
    let user_filter = f.user_filter.trim();
    let mut role_groups = Vec::new();
    for (n, group, role) in
        mapping_lines(&f.role_groups, "role_groups", "グループと権限の対応づけ")?
    {
        let role = Role::ALL
            .into_iter()
            .find(|r| {
                r.code() == role.to_ascii_lowercase()
                    || r.label_ja() == role
                    || r.label_en().eq_ignore_ascii_case(&role)
            })
            .ok_or_else(|| {
                invalid(
                    "role_groups",
                    "グループと権限の対応づけ",
                    format!(
                        "{n}行目の権限「{role}」はありません。一覧にある権限を指定してください。"
                    ),
                    format!("line {n}: there is no role \"{role}\"; use one of the roles listed."),
                )
            })?;
        role_groups.push(GroupRole { group, role });
    }
    let mut department_groups = Vec::new();
    for (n, group, dept) in mapping_lines(
        &f.department_groups,
        "department_groups",
        "グループと所属の対応づけ",
    )? {
        let department_id = department_of(&dept, depts).map_err(|many| {
            let (ja, en) = if many {
                (
                    format!("{n}行目の所属「{dept}」は同じ名前のものが複数あります。所属のIDで指定してください。"),
                    format!("line {n}: several departments are called \"{dept}\"; give the department's ID."),
                )
            } else {
                (
                    format!("{n}行目の所属「{dept}」はこの団体にありません。所属の名前またはIDで指定してください。"),
                    format!("line {n}: this body has no department \"{dept}\"; give a department's name or ID."),
                )
            };
            invalid("department_groups", "グループと所属の対応づけ", ja, en)
        })?;
        department_groups.push(GroupDepartment {
            group,
            department_id,
        });
    }
    Ok(DirectoryConfig {
        url: f.url.trim().to_owned(),
        starttls: f.starttls.is_some(),
        bind_dn: f.bind_dn.trim().to_owned(),
        user_base: f.user_base.trim().to_owned(),
        user_filter: if user_filter.is_empty() {
            "(uid={login})".to_owned()
        } else {
            user_filter.to_owned()
        },
        group_base: f.group_base.trim().to_owned(),
        ca_pem: lf(f.ca_pem.trim()),
        timeout_seconds,
        role_groups,
        department_groups,
    })
}

/// The lines of a mapping textarea as (line number, group DN, what it maps to). `=>` may be
/// typed full-width with the IME on. The last `=>` separates: a DN never holds one
/// unescaped, a department name might.
fn mapping_lines(
    text: &str,
    field: &'static str,
    label: &'static str,
) -> Result<Vec<(usize, String, String)>, AppError> {
    let mut out = Vec::new();
    for (i, line) in lf(text).lines().enumerate() {
        let line = line.replace("＝＞", "=>");
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let Some((group, to)) = line.rsplit_once("=>") else {
            return Err(invalid(
                field,
                label,
                format!(
                    "{n}行目に「=>」がありません。1行に1件ずつ「グループのDN => 対応先」の形で入力してください。"
                ),
                format!("line {n} has no \"=>\"; write one \"group DN => target\" a line."),
            ));
        };
        let (group, to) = (group.trim(), to.trim());
        if group.is_empty() || to.is_empty() {
            return Err(invalid(
                field,
                label,
                format!("{n}行目の「=>」の前にグループのDNを、後ろに対応先を入力してください。"),
                format!("line {n}: put the group's DN before \"=>\" and the target after it."),
            ));
        }
        out.push((n, group.to_owned(), to.to_owned()));
    }
    Ok(out)
}

/// A department by its ID or its name. `Err(true)`: the name is shared by several.
fn department_of(text: &str, depts: &[Department]) -> Result<String, bool> {
    if let Some(d) = depts.iter().find(|d| d.id == text) {
        return Ok(d.id.clone());
    }
    let mut named = depts.iter().filter(|d| d.name.trim() == text);
    match (named.next(), named.next()) {
        (Some(d), None) => Ok(d.id.clone()),
        (Some(_), Some(_)) => Err(true),
        (None, _) => Err(false),
    }
}

/// A whole number, with full-width digits from an IME read as digits.
async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<DirectoryForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    let actor = me.actor();
    let org = me.user.org_id.clone();
    let depts = admin::departments(&state, &actor, &org)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let saved = match config_of(&f, &depts) {
        Ok(cfg) => directory::configure(&state, &actor, &org, Some(cfg)).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(Redirect::to("/admin/sign-in?done=1").into_response()),
        Err(e @ AppError::Invalid(_)) => {
            // The page again with what was typed, so nothing has to be entered twice.
            let refused = Refused {
                form: f,
                error: message(&e, &ctx),
            };
            let page = REFUSED
                .scope(
                    refused,
                    super::mfa::policy_page(State(state), ctx, Ok(me), Query(Done { done: None })),
                )
                .await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn remove(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    directory::configure(&state, &me.actor(), &me.user.org_id, None)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to("/admin/sign-in?done=1").into_response())
}

#[derive(Deserialize)]
struct MethodForm {
    method: String,
}

/// Moves one ID between a Kairan password and the directory. Back to a Kairan password, the
/// temporary password is shown on the answer itself, never in a URL.
async fn set_method(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<MethodForm>,
) -> Result<Response, PageError> {
    let me = me.map_err(|e| PageError(e, ctx.lang))?;
    match directory::set_method(&state, &me.actor(), &id, &f.method).await {
        Ok(Some(temporary)) => Ok(super::admin::user_page_after(
            &state,
            &ctx,
            me,
            &id,
            Some("method_local"),
            Some(temporary),
            None,
        )
        .await?
        .into_response()),
        Ok(None) => {
            Ok(Redirect::to(&format!("/admin/users/{id}?done=method_changed")).into_response())
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let error = message(&e, &ctx);
            let page =
                super::admin::user_page_after(&state, &ctx, me, &id, None, None, Some(error))
                    .await?;
            Ok((e.status(), page).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dept(id: &str, name: &str) -> Department {
        Department {
            id: id.into(),
            org_id: "org".into(),
            parent_id: None,
            name: name.into(),
            sort_order: 0,
        }
    }

    fn form(roles: &str, departments: &str) -> DirectoryForm {
        DirectoryForm {
            url: " ldaps://dc.example.lg.jp ".into(),
            bind_dn: "{login}@example.local".into(),
            user_base: "dc=example,dc=local".into(),
            role_groups: roles.into(),
            department_groups: departments.into(),
            ..DirectoryForm::default()
        }
    }

    #[test]
    fn mapping_lines_become_roles_and_departments_and_back() {
        let depts = [dept("d1", "総務課"), dept("d2", "住民課")];
        let f = form(
            "cn=heads,ou=groups,dc=example,dc=local => section_head\r\n\r\ncn=all,dc=example,dc=local ＝＞ 職員",
            "cn=soumu,dc=example,dc=local => 総務課\ncn=x,dc=example,dc=local=>d2",
        );
        let c = config_of(&f, &depts).unwrap();
        assert_eq!(c.url, "ldaps://dc.example.lg.jp");
        assert_eq!(c.user_filter, "(uid={login})");
        assert_eq!(c.timeout_seconds, 5);
        assert_eq!(c.role_groups[0].role, Role::SectionHead);
        assert_eq!(c.role_groups[1].group, "cn=all,dc=example,dc=local");
        assert_eq!(c.role_groups[1].role, Role::Staff);
        assert_eq!(c.department_groups[0].department_id, "d1");
        assert_eq!(c.department_groups[1].department_id, "d2");
        let back = form_of(&c, &depts);
        assert_eq!(
            back.department_groups,
            "cn=soumu,dc=example,dc=local => 総務課\ncn=x,dc=example,dc=local => 住民課"
        );
        assert_eq!(config_of(&back, &depts).unwrap(), c);
    }

    #[test]
    fn a_line_that_cannot_be_read_is_named_by_its_number() {
        let depts = [dept("d1", "総務課"), dept("d2", "総務課")];
        let cases = [
            form("cn=a => section_head\ncn=b", ""),
            form("cn=a => 課長", ""),
            form("", "cn=a => 総務課"),
            form("", "cn=a => 福祉課"),
            form(" => staff", ""),
        ];
        let expected = [
            "2行目",
            "1行目の権限「課長」",
            "複数",
            "ありません",
            "1行目",
        ];
        for (f, want) in cases.iter().zip(expected) {
            let e = config_of(f, &depts).unwrap_err();
            let AppError::Invalid(e) = e else {
                panic!("not invalid")
            };
            let m = kairan_domain::Localized::message_ja(&e);
            assert!(m.contains(want), "{m}");
        }
    }

    #[test]
    fn the_timeout_takes_full_width_digits_and_refuses_words() {
        let mut f = form("", "");
        f.timeout_seconds = "１０".into();
        assert_eq!(config_of(&f, &[]).unwrap().timeout_seconds, 10);
        f.timeout_seconds = "十秒".into();
        assert!(config_of(&f, &[]).is_err());
    }
}
