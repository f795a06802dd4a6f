//! Reading and verifying the audit log (G5). Reading is decided by the policy; verification is
//! an operator's job and runs from the console (`kairan audit verify`).

use crate::error::AppError;
use crate::state::AppState;
use kairan_domain::OrgId;
use kairan_domain::policy::{self, Action, Actor, Resource};
use kairan_store::audit::{self, Query, Row};

pub async fn list(state: &AppState, actor: &Actor, q: &Query) -> Result<Vec<Row>, AppError> {
    let org = OrgId(q.org_id.clone());
    policy::check(actor, Action::ReadAuditLog, &Resource::Org(&org))?;
    let mut conn = state.store.read().await?;
    Ok(audit::list(&mut conn, q).await?)
}
