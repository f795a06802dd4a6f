//! Bodies (団体) and their department trees (所属).

use crate::{AnyConnection, Result, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Org {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub settings: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Department {
    pub id: String,
    pub org_id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub sort_order: i64,
}

pub async fn insert(tx: &mut WriteTx, code: &str, name: &str, name_en: &str) -> Result<Org> {
    let org = Org {
        id: crate::new_id(),
        code: code.to_owned(),
        name: name.to_owned(),
        name_en: name_en.to_owned(),
        settings: "{}".into(),
        created_at: crate::now_us(),
    };
    sqlx::query("INSERT INTO orgs (id, code, name, name_en, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&org.id)
        .bind(&org.code)
        .bind(&org.name)
        .bind(&org.name_en)
        .bind(&org.settings)
        .bind(org.created_at)
        .execute(tx.conn())
        .await?;
    Ok(org)
}

const ORG_COLUMNS: &str = "id, code, name, name_en, settings, created_at";

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Org>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM orgs ORDER BY code");
    Ok(sqlx::query_as(&sql).fetch_all(conn).await?)
}

pub async fn by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE code = $1");
    Ok(sqlx::query_as(&sql).bind(code).fetch_optional(conn).await?)
}

pub async fn by_id(conn: &mut AnyConnection, id: &str) -> Result<Option<Org>> {
    let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

pub async fn insert_department(
    tx: &mut WriteTx,
    org_id: &str,
    parent_id: Option<&str>,
    name: &str,
    sort_order: i64,
) -> Result<Department> {
    let d = Department {
        id: crate::new_id(),
        org_id: org_id.to_owned(),
        parent_id: parent_id.map(str::to_owned),
        name: name.to_owned(),
        sort_order,
    };
    sqlx::query(
        "INSERT INTO departments (id, org_id, parent_id, name, sort_order, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&d.id)
    .bind(&d.org_id)
    .bind(&d.parent_id)
    .bind(&d.name)
    .bind(d.sort_order)
    .bind(crate::now_us())
    .execute(tx.conn())
    .await?;
    Ok(d)
}

pub async fn departments(conn: &mut AnyConnection, org_id: &str) -> Result<Vec<Department>> {
    Ok(sqlx::query_as(
        "SELECT id, org_id, parent_id, name, sort_order FROM departments WHERE org_id = $1 ORDER BY sort_order, name",
    )
    .bind(org_id)
    .fetch_all(conn)
    .await?)
}

pub async fn department(conn: &mut AnyConnection, id: &str) -> Result<Option<Department>> {
    Ok(sqlx::query_as(
        "SELECT id, org_id, parent_id, name, sort_order FROM departments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// Replaces a body's settings document (JSON).
pub async fn set_settings(tx: &mut WriteTx, org_id: &str, settings: &str) -> Result<()> {
    sqlx::query("UPDATE orgs SET settings = $2 WHERE id = $1")
        .bind(org_id)
        .bind(settings)
        .execute(tx.conn())
        .await?;
    Ok(())
}
