//! Administration pages: staff IDs, departments and the privileged-ID list.

use super::Done;
use super::{PageCtx, PageError, me_value, render, when};
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::services::admin::{self, NewUserInput};
use crate::state::AppState;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kairan_domain::{Localized, Role};
use minijinja::{Value, context};
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user))
        .route("/admin/users/new", get(new_user_page))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/suspend", post(suspend))
        .route("/admin/users/{id}/reactivate", post(reactivate))
        .route("/admin/users/{id}/reset-password", post(reset_password))
        .route("/admin/users/{id}/reset-mfa", post(reset_mfa))
        .route("/admin/users/{id}/roles", post(grant_role))
        .route("/admin/users/{id}/roles/{role}/revoke", post(revoke_role))
        .route(
            "/admin/departments",
            get(departments_page).post(create_department),
        )
        .route("/admin/privileged", get(privileged_page))
}

fn role_label(code: &str, lang: Lang) -> String {
    Role::parse(code)
        .map(|r| lang.pick(r.label_ja(), r.label_en()).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

fn all_roles(lang: Lang) -> Vec<Value> {
    Role::ALL
        .iter()
        .filter(|r| r.is_grantable())
        .map(|r| context! { code => r.code(), label => role_label(r.code(), lang), privileged => r.is_privileged() })
        .collect()
}

struct Base {
    me: CurrentUser,
    org_name: String,
}

async fn base(
    state: &AppState,
    me: Result<CurrentUser, AppError>,
    lang: Lang,
) -> Result<Base, PageError> {
    let me = me.map_err(|e| PageError(e, lang))?;
    let org = admin::org_by_id(state, &me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    Ok(Base {
        me,
        org_name: org.name,
    })
}

async fn dept_names(
    state: &AppState,
    b: &Base,
    lang: Lang,
) -> Result<BTreeMap<String, String>, PageError> {
    let list = admin::departments(state, &b.me.actor(), &b.me.user.org_id)
        .await
        .map_err(|e| PageError(e, lang))?;
    Ok(list.into_iter().map(|d| (d.id, d.name)).collect())
}

async fn users_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Html<String>, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    let list = admin::list_users(&state, &b.me.actor(), &b.me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let depts = dept_names(&state, &b, ctx.lang).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|u| {
            context! {
                id => u.id, login_id => u.login_id, name => u.display_name, kana => u.kana, title => u.title,
                department => u.department_id.as_ref().and_then(|d| depts.get(d)),
                roles => u.roles.iter().map(|r| role_label(r, ctx.lang)).collect::<Vec<_>>(),
                status => u.status, locked => u.locked, pending => u.must_change_password,
                last_sign_in => when(u.last_sign_in_at, ctx.lang),
            }
        })
        .collect();
    render(
        &state,
        "users.html",
        &ctx,
        context! { me => me_value(&b.me, &b.org_name, ctx.lang), nav => "users", rows },
    )
}

async fn new_user_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Html<String>, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    new_user_form(&state, &ctx, &b, None, &NewUserForm::default()).await
}

async fn new_user_form(
    state: &AppState,
    ctx: &PageCtx,
    b: &Base,
    error: Option<String>,
    form: &NewUserForm,
) -> Result<Html<String>, PageError> {
    // Only administrators reach the form; the service decides again on submit.
    admin::may_create_user(&b.me.actor(), &b.me.user.org_id).map_err(|e| PageError(e, ctx.lang))?;
    let depts = admin::departments(state, &b.me.actor(), &b.me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let departments: Vec<Value> = depts
        .iter()
        .map(|d| context! { id => d.id, name => d.name })
        .collect();
    render(
        state,
        "user_new.html",
        ctx,
        context! {
            me => me_value(&b.me, &b.org_name, ctx.lang), nav => "users", error, departments,
            roles => all_roles(ctx.lang),
            form => context! { login_id => form.login_id, display_name => form.display_name, kana => form.kana, title => form.title, department_id => form.department_id, role => form.role },
        },
    )
}

#[derive(Deserialize, Default)]
struct NewUserForm {
    login_id: String,
    display_name: String,
    kana: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    role: String,
}

async fn create_user(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    let input = NewUserInput {
        login_id: f.login_id.clone(),
        display_name: f.display_name.clone(),
        kana: f.kana.clone(),
        title: f.title.clone(),
        department_id: Some(f.department_id.clone()).filter(|d| !d.is_empty()),
        roles: if f.role.is_empty() {
            vec![]
        } else {
            vec![f.role.clone()]
        },
        test_id: false,
    };
    match admin::create_user(&state, &b.me.actor(), &b.me.user.org_id, &input).await {
        Ok(issued) => {
            let page = render(
                &state,
                "issued.html",
                &ctx,
                context! {
                    me => me_value(&b.me, &b.org_name, ctx.lang), nav => "users",
                    user_id => issued.user_id, login_id => input.login_id.trim().to_ascii_lowercase(), name => input.display_name,
                    temporary_password => issued.temporary_password,
                },
            )?;
            Ok(page.into_response())
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let msg = if ctx.lang == Lang::Ja {
                e.message_ja()
            } else {
                e.message_en()
            };
            Ok((
                status,
                new_user_form(&state, &ctx, &b, Some(msg), &f).await?,
            )
                .into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn user_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    user_view(&state, &ctx, &b, &id, q.done.as_deref(), None).await
}

/// One ID's page rendered straight from a POST handled elsewhere (web/directory.rs): with a
/// temporary password shown this once, or with the reason the action was refused.
pub(super) async fn user_page_after(
    state: &AppState,
    ctx: &PageCtx,
    me: CurrentUser,
    id: &str,
    done: Option<&str>,
    temporary_password: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let b = base(state, Ok(me), ctx.lang).await?;
    user_view_with(state, ctx, &b, id, done, temporary_password, error).await
}

async fn user_view(
    state: &AppState,
    ctx: &PageCtx,
    b: &Base,
    id: &str,
    done: Option<&str>,
    temporary_password: Option<String>,
) -> Result<Html<String>, PageError> {
    user_view_with(state, ctx, b, id, done, temporary_password, None).await
}

async fn user_view_with(
    state: &AppState,
    ctx: &PageCtx,
    b: &Base,
    id: &str,
    done: Option<&str>,
    temporary_password: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let u = admin::get_user(state, &b.me.actor(), id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let depts = dept_names(state, b, ctx.lang).await?;
    let has_mfa = crate::services::mfa::has_factor(state, &u.id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let held: Vec<Value> = u
        .roles
        .iter()
        .map(|r| context! { code => r, label => role_label(r, ctx.lang) })
        .collect();
    let grantable: Vec<Value> = Role::ALL
        .iter()
        .filter(|r| r.is_grantable() && !u.roles.iter().any(|h| h == r.code()))
        .map(|r| context! { code => r.code(), label => role_label(r.code(), ctx.lang) })
        .collect();
    render(
        state,
        "user.html",
        ctx,
        context! {
            me => me_value(&b.me, &b.org_name, ctx.lang), nav => "users",
            user => context! {
                id => u.id, login_id => u.login_id, name => u.display_name, kana => u.kana, title => u.title,
                department => u.department_id.as_ref().and_then(|d| depts.get(d)),
                status => u.status, locked => u.locked, pending => u.must_change_password,
                last_sign_in => when(u.last_sign_in_at, ctx.lang),
                is_self => u.id == b.me.user.id,
                has_mfa, sign_in_method => u.sign_in_method,
            },
            held, grantable, done, temporary_password, error,
        },
    )
}

async fn suspend(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    admin::set_active(&state, &b.me.actor(), &id, false)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=suspended")).into_response())
}

async fn reactivate(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    admin::set_active(&state, &b.me.actor(), &id, true)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=reactivated")).into_response())
}

async fn reset_password(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    let temporary = admin::reset_password(&state, &b.me.actor(), &id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    // Rendered directly (no redirect), so the temporary password is never in a URL.
    Ok(
        user_view(&state, &ctx, &b, &id, Some("reset"), Some(temporary))
            .await?
            .into_response(),
    )
}

#[derive(Deserialize)]
struct ReasonForm {
    reason: String,
}

async fn reset_mfa(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    match crate::services::mfa::reset(&state, &b.me.actor(), &id, &f.reason).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}?done=mfa_reset")).into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let message = super::message(&e, &ctx);
            let page = user_view_with(&state, &ctx, &b, &id, None, None, Some(message)).await?;
            Ok((status, page).into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

async fn grant_role(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path(id): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    admin::grant_role(&state, &b.me.actor(), &id, &f.role)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=saved")).into_response())
}

async fn revoke_role(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Path((id, role)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    admin::revoke_role(&state, &b.me.actor(), &id, &role)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=saved")).into_response())
}

async fn departments_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    departments_view(&state, &ctx, &b, None, q.done.is_some()).await
}

async fn departments_view(
    state: &AppState,
    ctx: &PageCtx,
    b: &Base,
    error: Option<String>,
    done: bool,
) -> Result<Html<String>, PageError> {
    let list = admin::departments(state, &b.me.actor(), &b.me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    // Show the tree: parents first, children indented under them.
    let mut rows = Vec::new();
    fn walk(
        list: &[kairan_store::orgs::Department],
        parent: Option<&str>,
        depth: usize,
        rows: &mut Vec<Value>,
    ) {
        for d in list.iter().filter(|d| d.parent_id.as_deref() == parent) {
            rows.push(context! { id => d.id, name => d.name, depth });
            walk(list, Some(&d.id), depth + 1, rows);
        }
    }
    walk(&list, None, 0, &mut rows);
    render(
        state,
        "departments.html",
        ctx,
        context! { me => me_value(&b.me, &b.org_name, ctx.lang), nav => "departments", rows, error, done, can_create => b.me.has(Role::Admin) },
    )
}

#[derive(Deserialize)]
struct DepartmentForm {
    name: String,
    #[serde(default)]
    parent_id: String,
}

async fn create_department(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
    Form(f): Form<DepartmentForm>,
) -> Result<Response, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    let parent = Some(f.parent_id.as_str()).filter(|p| !p.is_empty());
    match admin::create_department(&state, &b.me.actor(), &b.me.user.org_id, &f.name, parent).await
    {
        Ok(_) => Ok(Redirect::to("/admin/departments?done=1").into_response()),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let status = e.status();
            let msg = if ctx.lang == Lang::Ja {
                e.message_ja()
            } else {
                e.message_en()
            };
            Ok((
                status,
                departments_view(&state, &ctx, &b, Some(msg), false).await?,
            )
                .into_response())
        }
        Err(e) => Err(PageError(e, ctx.lang)),
    }
}

async fn privileged_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    me: Result<CurrentUser, AppError>,
) -> Result<Html<String>, PageError> {
    let b = base(&state, me, ctx.lang).await?;
    let list = admin::privileged(&state, &b.me.actor(), &b.me.user.org_id)
        .await
        .map_err(|e| PageError(e, ctx.lang))?;
    let rows: Vec<Value> = list
        .iter()
        .map(|g| {
            context! {
                user_id => g.user_id, login_id => g.login_id, name => g.display_name, status => g.status,
                role => role_label(&g.role, ctx.lang), granted_at => when(Some(g.granted_at), ctx.lang), granted_by => g.granted_by_login,
            }
        })
        .collect();
    render(
        &state,
        "privileged.html",
        &ctx,
        context! { me => me_value(&b.me, &b.org_name, ctx.lang), nav => "privileged", rows, is_admin => b.me.has(Role::Admin) },
    )
}
