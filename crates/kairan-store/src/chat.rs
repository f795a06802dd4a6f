//! Talks, members and messages (C1–C3). A message's sequence number is taken from its talk's
//! row inside the insert transaction, so numbers are dense per talk and a client can resume with
//! "everything after N" and miss nothing.

use crate::{AnyConnection, Result, StoreError, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Talk {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub name: String,
    pub last_seq: i64,
    pub created_at: i64,
    pub last_message_at: Option<i64>,
    /// Classes are ranks on the body's confidentiality scale (0 = least confidential).
    pub ceiling: i64,
    pub default_class: i64,
    /// The highest class of anything posted here.
    pub max_class: i64,
    pub integrity: Option<i64>,
    pub availability: Option<i64>,
    /// For an inter-body group: the application it was made for. Staff of every
    /// participating body are members.
    pub application_id: Option<String>,
    /// When the group's period ended; from then on it is read-only.
    pub closed_at: Option<i64>,
}

const TALK_COLUMNS: &str = "t.id, t.org_id, t.kind, t.name, t.last_seq, t.created_at, t.last_message_at, t.ceiling, t.default_class, t.max_class, t.integrity, t.availability, t.application_id, t.closed_at";

/// A talk's classification: its ceiling, the class a message gets by default, and the
/// optional integrity and availability classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TalkClass {
    pub ceiling: i64,
    pub default_class: i64,
    pub integrity: Option<i64>,
    pub availability: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Message {
    pub id: String,
    pub talk_id: String,
    pub seq: i64,
    pub sender_id: String,
    pub body: String,
    pub reply_to: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub pinned_at: Option<i64>,
    /// Confidentiality rank.
    pub class: i64,
    pub forwarded_from: Option<String>,
    /// The attached files as shown with the message (JSON; see the server's `Attachment`).
    pub attachments: Option<String>,
}

const MESSAGE_COLUMNS: &str = "id, talk_id, seq, sender_id, body, reply_to, created_at, edited_at, deleted_at, pinned_at, class, forwarded_from, attachments";

pub async fn insert_talk(
    tx: &mut WriteTx,
    org_id: &str,
    kind: &str,
    name: &str,
    direct_key: Option<&str>,
    by: &str,
    class: TalkClass,
) -> Result<String> {
    let id = crate::new_id();
    sqlx::query(
        "INSERT INTO talks (id, org_id, kind, name, direct_key, created_by, created_at, ceiling, default_class, integrity, availability) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(kind)
    .bind(name)
    .bind(direct_key)
    .bind(by)
    .bind(crate::now_us())
    .bind(class.ceiling)
    .bind(class.default_class)
    .bind(class.integrity)
    .bind(class.availability)
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Marks a new talk as the inter-body group of `application_id`.
pub async fn set_application(tx: &mut WriteTx, talk_id: &str, application_id: &str) -> Result<()> {
    sqlx::query("UPDATE talks SET application_id = $2 WHERE id = $1")
        .bind(talk_id)
        .bind(application_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The talk made for an inter-body group application, if it was made.
pub async fn talk_of_application(
    conn: &mut AnyConnection,
    application_id: &str,
) -> Result<Option<Talk>> {
    let sql = format!("SELECT {TALK_COLUMNS} FROM talks t WHERE t.application_id = $1");
    Ok(sqlx::query_as(&sql)
        .bind(application_id)
        .fetch_optional(conn)
        .await?)
}

/// Makes a group read-only at the end of its period. False if it already was.
pub async fn close(tx: &mut WriteTx, talk_id: &str, at: i64) -> Result<bool> {
    let r = sqlx::query("UPDATE talks SET closed_at = $2 WHERE id = $1 AND closed_at IS NULL")
        .bind(talk_id)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Takes a closed group out of everyone's sight once its retention after the end has passed:
/// every member leaves it and it is no longer found. Its messages stay for the auditors.
pub async fn remove(tx: &mut WriteTx, talk_id: &str, at: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE talks SET removed_at = $2 WHERE id = $1 AND closed_at IS NOT NULL AND removed_at IS NULL",
    )
    .bind(talk_id)
    .bind(at)
    .execute(tx.conn())
    .await?;
    if r.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE talk_members SET left_at = $2 WHERE talk_id = $1 AND left_at IS NULL")
        .bind(talk_id)
        .bind(at)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Closed groups whose end was before `closed_before` (µs) and which are still shown.
pub async fn closed_groups_to_remove(
    conn: &mut AnyConnection,
    closed_before: i64,
) -> Result<Vec<Talk>> {
    let sql = format!(
        "SELECT {TALK_COLUMNS} FROM talks t
         WHERE t.closed_at IS NOT NULL AND t.closed_at < $1 AND t.removed_at IS NULL
         ORDER BY t.closed_at LIMIT 500"
    );
    Ok(sqlx::query_as(&sql)
        .bind(closed_before)
        .fetch_all(conn)
        .await?)
}

pub async fn set_class(tx: &mut WriteTx, talk_id: &str, class: TalkClass) -> Result<()> {
    sqlx::query(
        "UPDATE talks SET ceiling = $2, default_class = $3, integrity = $4, availability = $5 WHERE id = $1",
    )
    .bind(talk_id)
    .bind(class.ceiling)
    .bind(class.default_class)
    .bind(class.integrity)
    .bind(class.availability)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether the body has any talk yet (its scheme then keeps its shape).
pub async fn org_has_talks(conn: &mut AnyConnection, org_id: &str) -> Result<bool> {
    let n: Option<i64> = sqlx::query_scalar("SELECT 1 FROM talks WHERE org_id = $1 LIMIT 1")
        .bind(org_id)
        .fetch_optional(conn)
        .await?;
    Ok(n.is_some())
}

pub async fn talk_by_direct_key(conn: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM talks WHERE direct_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn talk(conn: &mut AnyConnection, id: &str) -> Result<Option<Talk>> {
    let sql = format!("SELECT {TALK_COLUMNS} FROM talks t WHERE t.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

/// Adds a member, or brings back one who had left. Returns false when already a member.
pub async fn add_member(tx: &mut WriteTx, talk_id: &str, user_id: &str) -> Result<bool> {
    let now = crate::now_us();
    let updated = sqlx::query(
        "UPDATE talk_members SET left_at = NULL, joined_at = $3 WHERE talk_id = $1 AND user_id = $2 AND left_at IS NOT NULL",
    )
    .bind(talk_id)
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(true);
    }
    let inserted = sqlx::query(
        "INSERT INTO talk_members (talk_id, user_id, joined_at) VALUES ($1, $2, $3) ON CONFLICT (talk_id, user_id) DO NOTHING",
    )
    .bind(talk_id)
    .bind(user_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn remove_member(tx: &mut WriteTx, talk_id: &str, user_id: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE talk_members SET left_at = $3 WHERE talk_id = $1 AND user_id = $2 AND left_at IS NULL")
        .bind(talk_id)
        .bind(user_id)
        .bind(crate::now_us())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct TalkWithMembership {
    #[sqlx(flatten)]
    talk: Talk,
    member: i64,
}

/// A talk and whether `user_id` is a current member of it, in one query: the check before
/// every read of or post to a talk.
pub async fn talk_for_user(
    conn: &mut AnyConnection,
    talk_id: &str,
    user_id: &str,
) -> Result<Option<(Talk, bool)>> {
    let sql = format!(
        "SELECT {TALK_COLUMNS},
            (SELECT COUNT(*) FROM talk_members m WHERE m.talk_id = t.id AND m.user_id = $2 AND m.left_at IS NULL) AS member
         FROM talks t WHERE t.id = $1 AND t.removed_at IS NULL"
    );
    let row: Option<TalkWithMembership> = sqlx::query_as(&sql)
        .bind(talk_id)
        .bind(user_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| (r.talk, r.member > 0)))
}

/// The talks a user is a current member of (their IDs only).
pub async fn current_talk_ids(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT talk_id FROM talk_members WHERE user_id = $1 AND left_at IS NULL ORDER BY talk_id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?)
}

/// A current member with a name to show.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: String,
    pub display_name: String,
    pub kana: String,
    pub last_read_seq: i64,
    /// The member's body, and its name (shown beside members of other bodies).
    pub org_id: String,
    pub org_name: String,
    /// For a guest, the body or company the application named (ゲスト, seed 003 §6).
    pub guest_affiliation: Option<String>,
}

/// Current members with their names and read positions, in joining order.
pub async fn member_rows(conn: &mut AnyConnection, talk_id: &str) -> Result<Vec<MemberRow>> {
    Ok(sqlx::query_as(
        "SELECT m.user_id, u.display_name, u.kana, m.last_read_seq, u.org_id, o.name AS org_name,
                g.affiliation AS guest_affiliation
         FROM talk_members m JOIN users u ON u.id = m.user_id JOIN orgs o ON o.id = u.org_id
         LEFT JOIN guests g ON g.user_id = u.id
         WHERE m.talk_id = $1 AND m.left_at IS NULL ORDER BY m.joined_at",
    )
    .bind(talk_id)
    .fetch_all(conn)
    .await?)
}

/// Current members with their read positions.
pub async fn members(conn: &mut AnyConnection, talk_id: &str) -> Result<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT user_id, last_read_seq FROM talk_members WHERE talk_id = $1 AND left_at IS NULL ORDER BY joined_at",
    )
    .bind(talk_id)
    .fetch_all(conn)
    .await?)
}

/// A talk as one member sees it in the list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TalkSummary {
    #[sqlx(flatten)]
    pub talk: Talk,
    pub last_read_seq: i64,
    /// Unread messages that mention this member.
    pub unread_mentions: i64,
    /// For a 1:1 talk, the other person's name (also after they left).
    pub partner_name: Option<String>,
}

pub async fn talks_of(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<TalkSummary>> {
    let sql = format!(
        "SELECT {TALK_COLUMNS}, m.last_read_seq,
            (SELECT COUNT(*) FROM message_mentions mm JOIN messages x ON x.id = mm.message_id
             WHERE mm.user_id = m.user_id AND x.talk_id = t.id AND x.seq > m.last_read_seq AND x.deleted_at IS NULL) AS unread_mentions,
            (SELECT u.display_name FROM talk_members o JOIN users u ON u.id = o.user_id
             WHERE t.kind = 'direct' AND o.talk_id = t.id AND o.user_id <> m.user_id LIMIT 1) AS partner_name
         FROM talks t JOIN talk_members m ON m.talk_id = t.id
         WHERE m.user_id = $1 AND m.left_at IS NULL AND t.removed_at IS NULL
         ORDER BY COALESCE(t.last_message_at, t.created_at) DESC"
    );
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(conn).await?)
}

/// A message to append.
pub struct NewMessage<'a> {
    pub talk_id: &'a str,
    pub sender_id: &'a str,
    pub body: &'a str,
    pub reply_to: Option<&'a str>,
    pub class: i64,
    pub forwarded_from: Option<&'a str>,
    /// The attached files as shown with the message, JSON.
    pub attachments: Option<&'a str>,
}

/// A row lock on PostgreSQL, where rows read for a write must stay locked until commit;
/// nothing on SQLite, where the transaction already holds the database's write lock. `NO KEY`:
/// the key never changes, so rows that merely refer to the talk (files, readings, members)
/// can still be inserted meanwhile.
fn for_update(tx: &WriteTx) -> &'static str {
    match tx.engine() {
        crate::Engine::Postgres => " FOR NO KEY UPDATE",
        crate::Engine::Sqlite => "",
    }
}

/// Appends messages (of one talk or many) and returns them in the order given, each with its
/// sequence number. `talks` are their talks as [`talks_for_write`] read (and on PostgreSQL
/// locked) them in this same transaction: their counters are taken from there, not read again.
/// However many messages and talks, this is a fixed handful of statements: each talk's counter
/// moves once, the rows go in multi-row INSERTs and the senders' read marks in one UPDATE.
/// That is what makes group commit pay.
pub async fn insert_messages(
    tx: &mut WriteTx,
    talks: &[&Talk],
    news: &[NewMessage<'_>],
) -> Result<Vec<Message>> {
    let now = crate::now_us();
    // talk → (last seq so far, highest class), in id order; only talks that get a message.
    let mut counters: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    let mut read_marks: std::collections::BTreeMap<(&str, &str), i64> = Default::default();
    let mut messages = Vec::with_capacity(news.len());
    for n in news {
        let counter = match counters.entry(n.talk_id) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let t = talks
                    .iter()
                    .find(|t| t.id == n.talk_id)
                    .ok_or(StoreError::NotFound)?;
                e.insert((t.last_seq, t.max_class))
            }
        };
        counter.0 += 1;
        counter.1 = counter.1.max(n.class);
        read_marks.insert((n.talk_id, n.sender_id), counter.0);
        messages.push(Message {
            id: crate::new_id(),
            talk_id: n.talk_id.to_owned(),
            seq: counter.0,
            sender_id: n.sender_id.to_owned(),
            body: n.body.to_owned(),
            reply_to: n.reply_to.map(str::to_owned),
            created_at: now,
            edited_at: None,
            deleted_at: None,
            pinned_at: None,
            class: n.class,
            forwarded_from: n.forwarded_from.map(str::to_owned),
            attachments: n.attachments.map(str::to_owned),
        });
    }
    // The talk row is the per-talk counter; one UPDATE moves many talks at once.
    let counters: Vec<(&str, (i64, i64))> = counters.into_iter().collect();
    for chunk in crate::fixed_slices(&counters) {
        let sql = format!(
            "WITH v(id, last_seq, max_class) AS (VALUES {})
             UPDATE talks SET last_seq = v.last_seq, max_class = v.max_class, last_message_at = ${}
             FROM v WHERE talks.id = v.id",
            crate::placeholders(chunk.len(), 3),
            chunk.len() * 3 + 1
        );
        let mut q = sqlx::query(&sql);
        for (id, (seq, class)) in chunk {
            q = q.bind(*id).bind(*seq).bind(*class);
        }
        q.bind(now).execute(tx.conn()).await?;
    }
    for chunk in crate::fixed_slices(&messages) {
        let sql = format!(
            "INSERT INTO messages (id, talk_id, seq, sender_id, body, reply_to, created_at, class, forwarded_from, attachments) VALUES {}",
            crate::placeholders(chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            q = q
                .bind(&m.id)
                .bind(&m.talk_id)
                .bind(m.seq)
                .bind(&m.sender_id)
                .bind(&m.body)
                .bind(&m.reply_to)
                .bind(m.created_at)
                .bind(m.class)
                .bind(&m.forwarded_from)
                .bind(&m.attachments);
        }
        q.execute(tx.conn()).await?;
    }
    // The sender has read their own message.
    let read_marks: Vec<((&str, &str), i64)> = read_marks.into_iter().collect();
    for chunk in crate::fixed_slices(&read_marks) {
        let sql = format!(
            "WITH v(talk_id, user_id, seq) AS (VALUES {})
             UPDATE talk_members SET last_read_seq = v.seq
             FROM v WHERE talk_members.talk_id = v.talk_id AND talk_members.user_id = v.user_id
               AND talk_members.last_read_seq < v.seq",
            crate::placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for ((talk_id, user_id), seq) in chunk {
            q = q.bind(*talk_id).bind(*user_id).bind(*seq);
        }
        q.execute(tx.conn()).await?;
    }
    Ok(messages)
}

/// Talks read for a write that depends on them (messages against their ceilings), in id
/// order, locked until commit on PostgreSQL so nobody lowers a ceiling in between.
pub async fn talks_for_write(tx: &mut WriteTx, ids: &[&str]) -> Result<Vec<Talk>> {
    let mut talks = Vec::with_capacity(ids.len());
    for chunk in crate::fixed_slices(ids) {
        let sql = format!(
            "SELECT {TALK_COLUMNS} FROM talks t WHERE t.id IN ({}) ORDER BY t.id{}",
            crate::in_list(1, chunk.len()),
            for_update(tx)
        );
        let mut q = sqlx::query_as(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        talks.extend(q.fetch_all(tx.conn()).await?);
    }
    Ok(talks)
}

/// Current members of several talks, as (talk, user).
pub async fn members_of_talks(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<Vec<(String, String)>> {
    let mut rows = Vec::new();
    for chunk in crate::fixed_slices(ids) {
        let sql = format!(
            "SELECT talk_id, user_id FROM talk_members WHERE talk_id IN ({}) AND left_at IS NULL ORDER BY talk_id, joined_at",
            crate::in_list(1, chunk.len())
        );
        let mut q = sqlx::query_as(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        rows.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// Messages with `after < seq`, oldest first, at most `limit`.
pub async fn messages_after(
    conn: &mut AnyConnection,
    talk_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE talk_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    Ok(sqlx::query_as(&sql)
        .bind(talk_id)
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// The `limit` messages before `before`, returned oldest first (for scrolling back).
pub async fn messages_before(
    conn: &mut AnyConnection,
    talk_id: &str,
    before: i64,
    limit: i64,
) -> Result<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE talk_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    );
    let mut v: Vec<Message> = sqlx::query_as(&sql)
        .bind(talk_id)
        .bind(before)
        .bind(limit)
        .fetch_all(conn)
        .await?;
    v.reverse();
    Ok(v)
}

/// Moves a member's read position forward (never back). Returns the new position when it moved.
pub async fn mark_read(
    tx: &mut WriteTx,
    talk_id: &str,
    user_id: &str,
    seq: i64,
) -> Result<Option<i64>> {
    let done = sqlx::query(
        "UPDATE talk_members SET last_read_seq = $3 WHERE talk_id = $1 AND user_id = $2 AND left_at IS NULL AND last_read_seq < $3",
    )
    .bind(talk_id)
    .bind(user_id)
    .bind(seq)
    .execute(tx.conn())
    .await?;
    Ok((done.rows_affected() == 1).then_some(seq))
}

pub async fn set_name(tx: &mut WriteTx, talk_id: &str, name: &str) -> Result<()> {
    sqlx::query("UPDATE talks SET name = $2 WHERE id = $1")
        .bind(talk_id)
        .bind(name)
        .execute(tx.conn())
        .await?;
    Ok(())
}

pub async fn message(conn: &mut AnyConnection, id: &str) -> Result<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

async fn keep_version(tx: &mut WriteTx, m: &Message, by: &str, reason: &str) -> Result<()> {
    let next: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM message_versions WHERE message_id = $1",
    )
    .bind(&m.id)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO message_versions (message_id, version, body, replaced_by, replaced_at, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&m.id)
    .bind(next)
    .bind(&m.body)
    .bind(by)
    .bind(crate::now_us())
    .bind(reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces a message's text (and its class, which an edit may raise), keeping the previous
/// text as a version.
pub async fn edit_message(
    tx: &mut WriteTx,
    m: &Message,
    by: &str,
    body: &str,
    class: i64,
) -> Result<Message> {
    keep_version(tx, m, by, "edited").await?;
    let now = crate::now_us();
    sqlx::query("UPDATE messages SET body = $2, edited_at = $3, class = $4 WHERE id = $1")
        .bind(&m.id)
        .bind(body)
        .bind(now)
        .bind(class)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE talks SET max_class = $2 WHERE id = $1 AND max_class < $2")
        .bind(&m.talk_id)
        .bind(class)
        .execute(tx.conn())
        .await?;
    Ok(Message {
        body: body.to_owned(),
        edited_at: Some(now),
        class,
        ..m.clone()
    })
}

/// Deletes a message for its readers: the text moves to the version history and the row keeps
/// its place (and sequence number) in the talk.
pub async fn delete_message(tx: &mut WriteTx, m: &Message, by: &str) -> Result<Message> {
    keep_version(tx, m, by, "deleted").await?;
    let now = crate::now_us();
    sqlx::query("UPDATE messages SET body = '', deleted_at = $2, pinned_at = NULL, pinned_by = NULL WHERE id = $1")
        .bind(&m.id)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(Message {
        body: String::new(),
        deleted_at: Some(now),
        pinned_at: None,
        ..m.clone()
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Version {
    pub version: i64,
    pub body: String,
    pub replaced_by: String,
    pub replaced_at: i64,
    pub reason: String,
}

pub async fn versions(conn: &mut AnyConnection, message_id: &str) -> Result<Vec<Version>> {
    Ok(sqlx::query_as(
        "SELECT version, body, replaced_by, replaced_at, reason FROM message_versions WHERE message_id = $1 ORDER BY version",
    )
    .bind(message_id)
    .fetch_all(conn)
    .await?)
}

/// Adds or removes one person's stamp on a message. Returns whether anything changed.
pub async fn set_reaction(
    tx: &mut WriteTx,
    message_id: &str,
    user_id: &str,
    stamp: &str,
    on: bool,
) -> Result<bool> {
    let done = if on {
        sqlx::query(
            "INSERT INTO message_reactions (message_id, user_id, stamp, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (message_id, user_id, stamp) DO NOTHING",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(stamp)
        .bind(crate::now_us())
        .execute(tx.conn())
        .await?
    } else {
        sqlx::query(
            "DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND stamp = $3",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(stamp)
        .execute(tx.conn())
        .await?
    };
    Ok(done.rows_affected() == 1)
}

/// (message, stamp, user) for a set of messages of one talk, oldest first.
pub async fn reactions(
    conn: &mut AnyConnection,
    talk_id: &str,
    from_seq: i64,
    to_seq: i64,
) -> Result<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT r.message_id, r.stamp, r.user_id FROM message_reactions r JOIN messages m ON m.id = r.message_id
         WHERE m.talk_id = $1 AND m.seq >= $2 AND m.seq <= $3 ORDER BY r.created_at",
    )
    .bind(talk_id)
    .bind(from_seq)
    .bind(to_seq)
    .fetch_all(conn)
    .await?)
}

/// Pins (`on`) or unpins a message. Returns the message as it now stands.
pub async fn set_pin(tx: &mut WriteTx, m: &Message, by: &str, on: bool) -> Result<Message> {
    let at = on.then(crate::now_us);
    sqlx::query("UPDATE messages SET pinned_at = $2, pinned_by = $3 WHERE id = $1")
        .bind(&m.id)
        .bind(at)
        .bind(on.then_some(by))
        .execute(tx.conn())
        .await?;
    Ok(Message {
        pinned_at: at,
        ..m.clone()
    })
}

/// The pinned messages of a talk, most recently pinned first.
pub async fn pinned(conn: &mut AnyConnection, talk_id: &str) -> Result<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE talk_id = $1 AND pinned_at IS NOT NULL ORDER BY pinned_at DESC LIMIT 50"
    );
    Ok(sqlx::query_as(&sql).bind(talk_id).fetch_all(conn).await?)
}

pub async fn add_mentions(tx: &mut WriteTx, message_id: &str, users: &[String]) -> Result<()> {
    for u in users {
        sqlx::query("INSERT INTO message_mentions (message_id, user_id) VALUES ($1, $2) ON CONFLICT (message_id, user_id) DO NOTHING")
            .bind(message_id)
            .bind(u)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// (message, mentioned user) for messages `from..=to` of a talk.
pub async fn mentions(
    conn: &mut AnyConnection,
    talk_id: &str,
    from_seq: i64,
    to_seq: i64,
) -> Result<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT mm.message_id, mm.user_id FROM message_mentions mm JOIN messages m ON m.id = mm.message_id
         WHERE m.talk_id = $1 AND m.seq >= $2 AND m.seq <= $3",
    )
    .bind(talk_id)
    .bind(from_seq)
    .bind(to_seq)
    .fetch_all(conn)
    .await?)
}
