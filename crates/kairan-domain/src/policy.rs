//! The one authorization point (I8). Every service calls [`check`] before it reads or writes;
//! no handler decides access on its own.
//!
//! The rules are the table in `docs/authorization.md`. A unit test here parses that table and
//! checks every cell against [`check`], and the server's integration suite walks the same
//! table through the real HTTP API, so the document, the code and the behaviour cannot drift.

use crate::error::Localized;
use crate::ids::{OrgId, UserId};
use crate::role::Role;

/// Who is acting. Built once per request by the server (or once per CLI run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user acting inside their own body.
    User(UserActor),
    /// The server operator at the console (`kairan admin …`): whoever can run the binary
    /// against the database already holds every right, so the CLI is not limited, but it is
    /// still audited.
    Operator,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserActor {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub roles: Vec<Role>,
}

impl UserActor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// What the actor wants to do. The codes are the first column of `docs/authorization.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    ViewDirectory,
    CreateDepartment,
    ViewUsers,
    CreateUser,
    SuspendUser,
    ReactivateUser,
    ResetPassword,
    GrantRole,
    RevokeRole,
    ReadAuditLog,
    ListPrivileged,
    /// Set the body's classification scheme and its personal-data (DLP) rules.
    ConfigureProtection,
    /// See the personal-data detections of the body (who, where, what kind; never the value).
    ViewDlpEvents,
    /// Read talks one is not a member of, every version included, for audit or an incident:
    /// only with a stated reason, and each reading is recorded and shown to auditors (G7).
    ReviewContent,
    /// Remove a user's second factor (a lost phone), with a recorded reason; the user is told.
    ResetMfa,
    /// Set who must use a second factor in the body (seed 004 4.4②: the system department
    /// sets how staff sign in).
    ConfigureSignIn,
    /// List the body's registered internet devices, approve or refuse new ones, report one
    /// lost or restore it (I5, seed 003 §8-11, §8-12).
    ManageDevices,
    /// Apply for a guest from outside the body (seed 003 §6: the section head applies).
    ApplyGuest,
    /// Apply for a talk shared with staff of other bodies (seed 003 §7: the section head
    /// applies; each body's administrator approves its own staff).
    ApplyGroup,
    /// Decide on the body's applications: approve, reject or return them (seed 003 §6, §7:
    /// the system administrator approves). Never one's own: the approval engine refuses it.
    DecideApplication,
}

impl Action {
    pub const ALL: [Action; 20] = [
        Action::ViewDirectory,
        Action::CreateDepartment,
        Action::ViewUsers,
        Action::CreateUser,
        Action::SuspendUser,
        Action::ReactivateUser,
        Action::ResetPassword,
        Action::GrantRole,
        Action::RevokeRole,
        Action::ReadAuditLog,
        Action::ListPrivileged,
        Action::ConfigureProtection,
        Action::ViewDlpEvents,
        Action::ReviewContent,
        Action::ResetMfa,
        Action::ConfigureSignIn,
        Action::ManageDevices,
        Action::ApplyGuest,
        Action::ApplyGroup,
        Action::DecideApplication,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::ViewDirectory => "view_directory",
            Action::CreateDepartment => "create_department",
            Action::ViewUsers => "view_users",
            Action::CreateUser => "create_user",
            Action::SuspendUser => "suspend_user",
            Action::ReactivateUser => "reactivate_user",
            Action::ResetPassword => "reset_password",
            Action::GrantRole => "grant_role",
            Action::RevokeRole => "revoke_role",
            Action::ReadAuditLog => "read_audit_log",
            Action::ListPrivileged => "list_privileged",
            Action::ConfigureProtection => "configure_protection",
            Action::ViewDlpEvents => "view_dlp_events",
            Action::ReviewContent => "review_content",
            Action::ResetMfa => "reset_mfa",
            Action::ConfigureSignIn => "configure_sign_in",
            Action::ManageDevices => "manage_devices",
            Action::ApplyGuest => "apply_guest",
            Action::ApplyGroup => "apply_group",
            Action::DecideApplication => "decide_application",
        }
    }

    pub fn parse(code: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The roles that may perform this action inside their own body.
    fn allowed_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::ViewDirectory => &[Staff, SectionHead, Admin, SecurityOfficer, Csirt, Auditor],
            Action::CreateDepartment
            | Action::ViewUsers
            | Action::CreateUser
            | Action::SuspendUser
            | Action::ReactivateUser
            | Action::ResetPassword
            | Action::GrantRole
            | Action::RevokeRole
            | Action::ResetMfa
            | Action::ConfigureSignIn
            | Action::ManageDevices
            | Action::DecideApplication => &[Admin],
            Action::ApplyGuest | Action::ApplyGroup => &[SectionHead],
            // Administrators are audited, so they never read the audit log themselves (G7).
            Action::ReadAuditLog => &[SecurityOfficer, Auditor],
            Action::ListPrivileged => &[Admin, SecurityOfficer, Auditor],
            // The security officer sets the rules; the administrator who runs the system does
            // not, so nobody both operates and polices the same control.
            Action::ConfigureProtection => &[SecurityOfficer],
            Action::ViewDlpEvents => &[SecurityOfficer, Csirt, Auditor],
            // Auditors audit; the officer and CSIRT investigate incidents. The administrator,
            // who runs the system, does not read what people wrote (seed 003 §9).
            Action::ReviewContent => &[SecurityOfficer, Csirt, Auditor],
        }
    }

    /// Actions that a user may never perform on their own account: granting oneself a role,
    /// resetting one's own password past the change-password rules, suspending oneself.
    fn forbids_self(self) -> bool {
        match self {
            Action::SuspendUser
            | Action::ReactivateUser
            | Action::ResetPassword
            | Action::ResetMfa
            | Action::GrantRole
            | Action::RevokeRole => true,
            Action::ViewDirectory
            | Action::CreateDepartment
            | Action::ViewUsers
            | Action::CreateUser
            | Action::ReadAuditLog
            | Action::ListPrivileged
            | Action::ConfigureProtection
            | Action::ViewDlpEvents
            | Action::ReviewContent
            | Action::ConfigureSignIn
            | Action::ManageDevices
            | Action::ApplyGuest
            | Action::ApplyGroup
            | Action::DecideApplication => false,
        }
    }
}

/// What the action touches. Every resource belongs to exactly one body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    Org(&'a OrgId),
    User { org: &'a OrgId, user: &'a UserId },
}

impl Resource<'_> {
    fn org(&self) -> &OrgId {
        match self {
            Resource::Org(org) => org,
            Resource::User { org, .. } => org,
        }
    }
}

/// Why access was refused. Shown to the user only as "forbidden"; the reason is for logs
/// and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("the resource belongs to another organization")]
    OtherOrganization,
    #[error("none of the actor's roles allows this action")]
    MissingRole,
    #[error("this action cannot be performed on one's own account")]
    OnSelf,
}

impl Localized for Denied {
    fn code(&self) -> &'static str {
        match self {
            Denied::OtherOrganization | Denied::MissingRole => "forbidden",
            Denied::OnSelf => "forbidden_on_self",
        }
    }

    fn message_ja(&self) -> String {
        match self {
            Denied::OtherOrganization | Denied::MissingRole => {
                "この操作を行う権限がありません。".into()
            }
            Denied::OnSelf => "自分自身のアカウントに対してこの操作は行えません。".into(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Denied::OtherOrganization | Denied::MissingRole => {
                "You are not allowed to do this.".into()
            }
            Denied::OnSelf => "You cannot do this to your own account.".into(),
        }
    }
}

/// The single decision: may `actor` perform `action` on `resource`?
pub fn check(actor: &Actor, action: Action, resource: &Resource<'_>) -> Result<(), Denied> {
    let user = match actor {
        Actor::Operator => return Ok(()),
        Actor::User(user) => user,
    };
    if resource.org() != &user.org_id {
        return Err(Denied::OtherOrganization);
    }
    if !action.allowed_roles().iter().any(|r| user.has(*r)) {
        return Err(Denied::MissingRole);
    }
    if action.forbids_self()
        && let Resource::User { user: target, .. } = resource
        && *target == &user.user_id
    {
        return Err(Denied::OnSelf);
    }
    Ok(())
}

/// What a member does in a talk. Talks are not decided by role: only current members of a
/// talk in their own body may read it, post to it or manage it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalkAction {
    /// Start a talk in one's own body (any role but a guest's).
    Create,
    Read,
    Post,
    /// Invite, rename, leave, set the default class or lower the ceiling.
    Manage,
    /// Raise a talk's ceiling to the body's top class: seed 004 2(2)①(ウ) makes the section
    /// head (所属長) designate where first-class information is handled, and seed 003 §9 keeps
    /// it out of chat otherwise. A member who is a section head or security officer may.
    AllowTopClass,
}

/// The facts about a talk the decision needs.
#[derive(Debug, Clone, Copy)]
pub struct TalkRef<'a> {
    /// The body the talk belongs to (for a group shared by several bodies, the applicant's).
    pub org: &'a OrgId,
    /// Whether the actor is a current member.
    pub member: bool,
    /// An inter-body group (I7): staff of other bodies are members by their own body's
    /// approval, so membership, not the body, decides who reads it.
    pub shared: bool,
    /// The group's period is over: it is kept to read, nobody posts.
    pub closed: bool,
}

impl<'a> TalkRef<'a> {
    /// A talk of one body, open.
    pub fn of(org: &'a OrgId, member: bool) -> TalkRef<'a> {
        TalkRef {
            org,
            member,
            shared: false,
            closed: false,
        }
    }
}

/// The talk decision. Callers answer "not found" on refusal, so that nobody learns a talk
/// exists unless they belong to it.
///
/// In a shared group each body approved its own members, so nobody manages the membership
/// from inside the talk (no invitations, no renaming): a change goes through an application.
pub fn check_talk(actor: &Actor, action: TalkAction, talk: &TalkRef<'_>) -> Result<(), Denied> {
    let user = match actor {
        Actor::Operator => return Ok(()),
        Actor::User(user) => user,
    };
    if talk.org != &user.org_id && !(talk.shared && talk.member) {
        return Err(Denied::OtherOrganization);
    }
    if user.roles.is_empty() {
        return Err(Denied::MissingRole);
    }
    match action {
        // A guest takes part only in the talks staff invite them into (seed 003 §6).
        TalkAction::Create if crate::role::only_guest(&user.roles) => Err(Denied::MissingRole),
        TalkAction::Create => Ok(()),
        TalkAction::Read if talk.member => Ok(()),
        TalkAction::Post if talk.member && !talk.closed => Ok(()),
        TalkAction::Manage if talk.member && !talk.shared && !talk.closed => Ok(()),
        TalkAction::AllowTopClass
            if talk.member
                && !talk.shared
                && (user.has(Role::SectionHead) || user.has(Role::SecurityOfficer)) =>
        {
            Ok(())
        }
        TalkAction::Read | TalkAction::Post | TalkAction::Manage | TalkAction::AllowTopClass => {
            Err(Denied::MissingRole)
        }
    }
}

/// One cell of the documented matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Allowed on resources of the actor's own body; denied on another body's.
    Own,
    /// Denied everywhere.
    No,
}

/// Parses the matrix table of `docs/authorization.md`: a header row naming role codes, then
/// one row per action code with `own` or `no` per role. Used by the unit test below and by
/// the server's HTTP matrix test, so both read the same document.
pub fn parse_matrix(markdown: &str) -> Result<Vec<(Action, Role, Cell)>, String> {
    let mut roles: Vec<Role> = Vec::new();
    let mut cells = Vec::new();
    for line in markdown.lines().map(str::trim) {
        if !line.starts_with('|') {
            continue;
        }
        let cols: Vec<&str> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_end_matches('†').trim().trim_matches('`'))
            .collect();
        if cols.first() == Some(&"action") {
            let parsed: Option<Vec<Role>> = cols[1..].iter().map(|c| Role::parse(c)).collect();
            match parsed {
                Some(parsed) => roles = parsed,
                // A later table about the same actions (e.g. where each is reached).
                None if !cells.is_empty() => break,
                None => return Err(format!("unknown role column in {line}")),
            }
            continue;
        }
        if cols.first().is_some_and(|c| c.starts_with("---")) {
            continue;
        }
        let Some(action) = cols.first().and_then(|c| Action::parse(c)) else {
            continue;
        };
        if roles.is_empty() || cols.len() != roles.len() + 1 {
            return Err(format!("row {} does not match the header", action.code()));
        }
        for (role, cell) in roles.iter().zip(&cols[1..]) {
            let cell = match *cell {
                "own" => Cell::Own,
                "no" => Cell::No,
                other => return Err(format!("unknown cell {other} for {}", action.code())),
            };
            cells.push((action, *role, cell));
        }
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(org: &str, user: &str, roles: &[Role]) -> Actor {
        Actor::User(UserActor {
            user_id: UserId(user.into()),
            org_id: OrgId(org.into()),
            roles: roles.to_vec(),
        })
    }

    const MATRIX: &str = include_str!("../../../docs/authorization.md");

    #[test]
    fn the_documented_matrix_covers_every_action_and_role() {
        let cells = parse_matrix(MATRIX).unwrap();
        assert_eq!(cells.len(), Action::ALL.len() * Role::ALL.len());
        for action in Action::ALL {
            for role in Role::ALL {
                assert!(
                    cells.iter().any(|(a, r, _)| *a == action && *r == role),
                    "{} × {} missing from docs/authorization.md",
                    action.code(),
                    role.code()
                );
            }
        }
    }

    #[test]
    fn every_documented_cell_is_what_the_policy_decides() {
        let own = OrgId("own".into());
        let other = OrgId("other".into());
        let target = UserId("someone-else".into());
        for (action, role, cell) in parse_matrix(MATRIX).unwrap() {
            let a = actor("own", "me", &[role]);
            for (org, expect_allowed) in [(&own, cell == Cell::Own), (&other, false)] {
                let resource = Resource::User { org, user: &target };
                assert_eq!(
                    check(&a, action, &resource).is_ok(),
                    expect_allowed,
                    "{} as {} in {} org",
                    action.code(),
                    role.code(),
                    org
                );
            }
        }
    }

    #[test]
    fn an_administrator_cannot_grant_themselves_a_role() {
        let a = actor("o", "me", &[Role::Admin]);
        let org = OrgId("o".into());
        let me = UserId("me".into());
        let on_me = Resource::User {
            org: &org,
            user: &me,
        };
        assert_eq!(check(&a, Action::GrantRole, &on_me), Err(Denied::OnSelf));
        assert_eq!(
            check(&a, Action::ResetPassword, &on_me),
            Err(Denied::OnSelf)
        );
        assert_eq!(check(&a, Action::SuspendUser, &on_me), Err(Denied::OnSelf));
        assert_eq!(check(&a, Action::CreateUser, &Resource::Org(&org)), Ok(()));
    }

    #[test]
    fn the_operator_at_the_console_may_do_everything_but_is_still_a_distinct_actor() {
        let org = OrgId("o".into());
        for action in Action::ALL {
            assert_eq!(
                check(&Actor::Operator, action, &Resource::Org(&org)),
                Ok(())
            );
        }
    }

    #[test]
    fn only_members_of_a_talk_in_their_own_body_may_read_or_post() {
        let a = actor("o", "me", &[Role::Staff]);
        let own = OrgId("o".into());
        let other = OrgId("x".into());
        let t = |org, member| TalkRef::of(org, member);
        for action in [TalkAction::Read, TalkAction::Post, TalkAction::Manage] {
            assert_eq!(check_talk(&a, action, &t(&own, true)), Ok(()));
            assert!(check_talk(&a, action, &t(&own, false)).is_err());
            assert!(check_talk(&a, action, &t(&other, true)).is_err());
        }
        assert_eq!(check_talk(&a, TalkAction::Create, &t(&own, false)), Ok(()));
        assert!(check_talk(&a, TalkAction::Create, &t(&other, false)).is_err());
    }

    #[test]
    fn a_shared_group_is_read_by_its_members_of_every_body_and_closes_for_posting() {
        let host = OrgId("o".into());
        let guest_body = actor("x", "them", &[Role::Staff]);
        let head = actor("o", "me", &[Role::SectionHead]);
        let group = |member, closed| TalkRef {
            org: &host,
            member,
            shared: true,
            closed,
        };
        for a in [&guest_body, &head] {
            assert_eq!(check_talk(a, TalkAction::Read, &group(true, false)), Ok(()));
            assert_eq!(check_talk(a, TalkAction::Post, &group(true, false)), Ok(()));
            // Membership is each body's decision, taken by application, not inside the talk.
            assert!(check_talk(a, TalkAction::Manage, &group(true, false)).is_err());
            assert!(check_talk(a, TalkAction::AllowTopClass, &group(true, false)).is_err());
            // After its period: read-only.
            assert_eq!(check_talk(a, TalkAction::Read, &group(true, true)), Ok(()));
            assert!(check_talk(a, TalkAction::Post, &group(true, true)).is_err());
        }
        // Not a member: nothing, and from another body not even that the body matches.
        assert_eq!(
            check_talk(&guest_body, TalkAction::Read, &group(false, false)),
            Err(Denied::OtherOrganization)
        );
        assert!(check_talk(&head, TalkAction::Read, &group(false, false)).is_err());
        // A talk of one body stays closed to another body's staff even if a row says member.
        assert_eq!(
            check_talk(&guest_body, TalkAction::Read, &TalkRef::of(&host, true)),
            Err(Denied::OtherOrganization)
        );
    }

    #[test]
    fn a_guest_takes_part_in_talks_it_is_in_but_starts_none() {
        let g = actor("o", "guest", &[Role::Guest]);
        let own = OrgId("o".into());
        let t = |member| TalkRef::of(&own, member);
        for action in [TalkAction::Read, TalkAction::Post, TalkAction::Manage] {
            assert_eq!(check_talk(&g, action, &t(true)), Ok(()));
            assert!(check_talk(&g, action, &t(false)).is_err());
        }
        assert_eq!(
            check_talk(&g, TalkAction::Create, &t(false)),
            Err(Denied::MissingRole)
        );
        assert!(check_talk(&g, TalkAction::AllowTopClass, &t(true)).is_err());
        for action in Action::ALL {
            assert!(
                check(&g, action, &Resource::Org(&own)).is_err(),
                "{action:?}"
            );
        }
    }

    #[test]
    fn only_a_member_who_is_section_head_or_security_officer_allows_the_top_class() {
        let own = OrgId("o".into());
        let t = |member| TalkRef::of(&own, member);
        let top = TalkAction::AllowTopClass;
        assert!(check_talk(&actor("o", "me", &[Role::Staff]), top, &t(true)).is_err());
        assert!(check_talk(&actor("o", "me", &[Role::Admin]), top, &t(true)).is_err());
        assert_eq!(
            check_talk(&actor("o", "me", &[Role::SectionHead]), top, &t(true)),
            Ok(())
        );
        assert_eq!(
            check_talk(&actor("o", "me", &[Role::SecurityOfficer]), top, &t(true)),
            Ok(())
        );
        assert!(check_talk(&actor("o", "me", &[Role::SectionHead]), top, &t(false)).is_err());
    }

    #[test]
    fn a_user_with_no_roles_may_do_nothing() {
        let a = actor("o", "me", &[]);
        let org = OrgId("o".into());
        for action in Action::ALL {
            assert_eq!(
                check(&a, action, &Resource::Org(&org)),
                Err(Denied::MissingRole)
            );
        }
    }
}
