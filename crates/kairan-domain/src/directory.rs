//! A body's directory sign-in (LDAP / Active Directory, I9): its settings, their validation,
//! the escaping that keeps a typed ID from changing a DN or a search filter, and the mapping
//! of directory groups to roles and departments.
//!
//! The server binds to the directory with the user's own DN and password; it holds no
//! directory password of its own. Only what is pure lives here; the connection is in the
//! server's `services::directory`.

use crate::DomainError;
use crate::role::Role;
use serde::{Deserialize, Serialize};

/// A body's directory settings, stored as `settings.directory` on the body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryConfig {
    /// `ldaps://host:636`, or `ldap://host:389` with `starttls`. Plain LDAP is refused: the
    /// user's password travels in the bind.
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    /// The DN (or, for Active Directory, the user principal name) to bind as, with `{login}`
    /// where the sign-in ID goes: `uid={login},ou=people,dc=example,dc=jp` or
    /// `{login}@example.local`.
    pub bind_dn: String,
    /// Where the user's own entry is looked up after the bind.
    pub user_base: String,
    /// The entry that must match for the account to be usable, with `{login}`. Active
    /// Directory's disabled flag is excluded with
    /// `(&(sAMAccountName={login})(!(userAccountControl:1.2.840.113556.1.4.803:=2)))`.
    #[serde(default = "default_user_filter")]
    pub user_filter: String,
    /// Where groups are looked up by their `member` (empty: no group mapping).
    #[serde(default)]
    pub group_base: String,
    /// The certificate authority that signed the directory's certificate, in PEM. Empty: the
    /// system's trusted roots.
    #[serde(default)]
    pub ca_pem: String,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// Directory groups that give a role. Only non-privileged roles: privileged IDs are
    /// granted in Kairan by an administrator, where the grant is recorded (I8).
    #[serde(default)]
    pub role_groups: Vec<GroupRole>,
    /// Directory groups that place a user in a department.
    #[serde(default)]
    pub department_groups: Vec<GroupDepartment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRole {
    pub group: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDepartment {
    pub group: String,
    pub department_id: String,
}

fn default_user_filter() -> String {
    "(uid={login})".into()
}

fn default_timeout() -> u32 {
    5
}

const PLACEHOLDER: &str = "{login}";

fn invalid(reason_ja: impl Into<String>, reason_en: impl Into<String>) -> DomainError {
    DomainError::invalid("directory", "ディレクトリ連携", reason_ja, reason_en)
}

impl DirectoryConfig {
    /// Checks what can be checked without the network. The filter's syntax is checked again
    /// by the LDAP library when the server saves it.
    pub fn validate(&self) -> Result<(), DomainError> {
        let url = self.url.trim();
        let tls = if let Some(rest) = url.strip_prefix("ldaps://") {
            !rest.is_empty()
        } else if let Some(rest) = url.strip_prefix("ldap://") {
            !rest.is_empty() && self.starttls
        } else {
            false
        };
        if !tls {
            return Err(invalid(
                "接続先は ldaps:// で始めるか、ldap:// と StartTLS を組み合わせてください(暗号化しない接続ではパスワードを送りません)。",
                "the URL must be ldaps://, or ldap:// with StartTLS (a password is never sent unencrypted).",
            ));
        }
        if self.bind_dn.matches(PLACEHOLDER).count() != 1 {
            return Err(invalid(
                "バインドDNには {login} を1か所だけ入れてください。",
                "the bind DN must contain {login} exactly once.",
            ));
        }
        if self.user_filter.matches(PLACEHOLDER).count() != 1
            || !balanced(&self.user_filter)
            || !self.user_filter.starts_with('(')
        {
            return Err(invalid(
                "利用者の検索条件は括弧で囲み、{login} を1か所だけ入れてください。",
                "the user filter must be parenthesised and contain {login} exactly once.",
            ));
        }
        if self.user_base.trim().is_empty() {
            return Err(invalid(
                "利用者の検索起点を入れてください。",
                "enter the base DN for users.",
            ));
        }
        if !(1..=60).contains(&self.timeout_seconds) {
            return Err(invalid(
                "待ち時間は1〜60秒にしてください。",
                "the timeout must be 1–60 seconds.",
            ));
        }
        if self.role_groups.iter().any(|g| !g.role.is_grantable()) {
            return Err(invalid(
                "ゲストは、承認されたゲスト利用申請によってのみ登録されます。ディレクトリのグループからは与えられません。",
                "a guest is admitted only by an approved guest application, never by a directory group.",
            ));
        }
        if let Some(g) = self.role_groups.iter().find(|g| g.role.is_privileged()) {
            return Err(invalid(
                format!(
                    "「{}」はディレクトリのグループから与えられません。特権IDは管理画面で付与してください。",
                    g.role.label_ja()
                ),
                format!(
                    "{} cannot come from a directory group; grant privileged roles in Kairan.",
                    g.role.label_en()
                ),
            ));
        }
        let groups = self
            .role_groups
            .iter()
            .map(|g| &g.group)
            .chain(self.department_groups.iter().map(|g| &g.group));
        for g in groups {
            if g.trim().is_empty() || g.len() > 512 {
                return Err(invalid(
                    "グループのDNを入れてください(512文字まで)。",
                    "enter each group's DN (up to 512 characters).",
                ));
            }
        }
        if (!self.role_groups.is_empty() || !self.department_groups.is_empty())
            && self.group_base.trim().is_empty()
        {
            return Err(invalid(
                "グループを対応づけるときは、グループの検索起点を入れてください。",
                "enter the base DN for groups when groups are mapped.",
            ));
        }
        Ok(())
    }

    /// The DN to bind as for a sign-in ID.
    pub fn bind_dn_for(&self, login: &str) -> String {
        self.bind_dn.replace(PLACEHOLDER, &dn_escape(login))
    }

    /// The filter that finds the user's usable entry.
    pub fn user_filter_for(&self, login: &str) -> String {
        self.user_filter.replace(PLACEHOLDER, &filter_escape(login))
    }

    /// The filter that finds the groups an entry belongs to (`groupOfNames`,
    /// `groupOfUniqueNames` and Active Directory groups).
    pub fn group_filter_for(entry_dn: &str) -> String {
        let dn = filter_escape(entry_dn);
        format!("(|(member={dn})(uniqueMember={dn}))")
    }

    /// What the directory's groups say about a user: the mapped roles (staff when none map)
    /// and the first mapped department. `None` for roles when no role groups are configured,
    /// so roles set in Kairan stay as they are.
    pub fn map_groups(&self, groups: &[String]) -> Mapping {
        let member = |g: &str| groups.iter().any(|m| same_dn(m, g));
        let roles = if self.role_groups.is_empty() {
            None
        } else {
            let mut roles: Vec<Role> = self
                .role_groups
                .iter()
                .filter(|g| member(&g.group))
                .map(|g| g.role)
                .collect();
            if !roles.contains(&Role::Staff) {
                roles.push(Role::Staff);
            }
            roles.sort();
            roles.dedup();
            Some(roles)
        };
        let department_id = self
            .department_groups
            .iter()
            .find(|g| member(&g.group))
            .map(|g| g.department_id.clone());
        Mapping {
            roles,
            department_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub roles: Option<Vec<Role>>,
    pub department_id: Option<String>,
}

fn balanced(filter: &str) -> bool {
    let mut depth = 0i32;
    for c in filter.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// DNs compare without regard to case or the spaces around separators, as directories do.
fn same_dn(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        s.split(',')
            .map(|rdn| {
                rdn.split('=')
                    .map(|p| p.trim().to_lowercase())
                    .collect::<Vec<_>>()
                    .join("=")
            })
            .collect::<Vec<_>>()
            .join(",")
    }
    norm(a) == norm(b)
}

/// Escapes a value for a search filter (RFC 4515): `*`, `(`, `)`, `\` and NUL become `\XX`,
/// so a typed ID can never widen or close the filter.
pub fn filter_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => out.push_str(&format!("\\{:02x}", u32::from(c))),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value for a DN (RFC 4514): the special characters get a backslash,
/// a leading `#` or space and a trailing space too, NUL becomes `\00`.
pub fn dn_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DirectoryConfig {
        DirectoryConfig {
            url: "ldaps://dc.example.lg.jp".into(),
            starttls: false,
            bind_dn: "uid={login},ou=people,dc=example,dc=lg,dc=jp".into(),
            user_base: "ou=people,dc=example,dc=lg,dc=jp".into(),
            user_filter: default_user_filter(),
            group_base: "ou=groups,dc=example,dc=lg,dc=jp".into(),
            ca_pem: String::new(),
            timeout_seconds: 5,
            role_groups: vec![GroupRole {
                group: "cn=heads,ou=groups,dc=example,dc=lg,dc=jp".into(),
                role: Role::SectionHead,
            }],
            department_groups: vec![GroupDepartment {
                group: "cn=soumu,ou=groups,dc=example,dc=lg,dc=jp".into(),
                department_id: "dept-1".into(),
            }],
        }
    }

    #[test]
    fn a_typed_id_cannot_change_the_filter_or_the_dn() {
        let c = config();
        assert_eq!(
            c.user_filter_for("a*)(uid=*"),
            "(uid=a\\2a\\29\\28uid=\\2a)"
        );
        assert_eq!(c.user_filter_for("x\\y\0"), "(uid=x\\5cy\\00)");
        assert_eq!(
            c.bind_dn_for("evil,ou=admins"),
            "uid=evil\\,ou\\=admins,ou=people,dc=example,dc=lg,dc=jp"
        );
        assert_eq!(dn_escape("#a b "), "\\#a b\\ ");
        assert_eq!(dn_escape(" a"), "\\ a");
        assert_eq!(dn_escape("a+b;c<d>\"e\""), "a\\+b\\;c\\<d\\>\\\"e\\\"");
        assert_eq!(filter_escape("田中*"), "田中\\2a");
        assert_eq!(
            DirectoryConfig::group_filter_for("uid=a(b),ou=p"),
            "(|(member=uid=a\\28b\\29,ou=p)(uniqueMember=uid=a\\28b\\29,ou=p))"
        );
    }

    #[test]
    fn only_encrypted_connections_and_sound_templates_are_accepted() {
        assert!(config().validate().is_ok());
        let mut c = config();
        c.url = "ldap://dc.example.lg.jp".into();
        assert!(
            c.validate().is_err(),
            "plain LDAP would send passwords in clear"
        );
        c.starttls = true;
        assert!(c.validate().is_ok());
        for url in ["ldaps://", "http://x", "", "LDAPS://x"] {
            let mut c = config();
            c.url = url.into();
            assert!(c.validate().is_err(), "{url}");
        }
        let mut c = config();
        c.bind_dn = "uid=fixed,dc=x".into();
        assert!(c.validate().is_err());
        c.bind_dn = "{login}{login}".into();
        assert!(c.validate().is_err());
        let mut c = config();
        c.user_filter = "(uid={login}".into();
        assert!(c.validate().is_err());
        c.user_filter = "uid={login}".into();
        assert!(c.validate().is_err());
        c.user_filter = "(&(uid={login})(!(employeeType=disabled)))".into();
        assert!(c.validate().is_ok());
        let mut c = config();
        c.timeout_seconds = 0;
        assert!(c.validate().is_err());
        let mut c = config();
        c.group_base = String::new();
        assert!(c.validate().is_err(), "groups mapped without a base");
    }

    #[test]
    fn privileged_roles_never_come_from_the_directory() {
        for role in Role::ALL.into_iter().filter(|r| r.is_privileged()) {
            let mut c = config();
            c.role_groups.push(GroupRole {
                group: "cn=admins,ou=groups,dc=example,dc=lg,dc=jp".into(),
                role,
            });
            assert!(c.validate().is_err(), "{role:?}");
        }
    }

    #[test]
    fn groups_map_to_roles_and_a_department_whatever_the_case_and_spacing() {
        let c = config();
        let m = c.map_groups(&[
            "CN=Heads, OU=Groups, DC=example, DC=lg, DC=jp".into(),
            "cn=soumu,ou=groups,dc=example,dc=lg,dc=jp".into(),
        ]);
        assert_eq!(m.roles, Some(vec![Role::Staff, Role::SectionHead]));
        assert_eq!(m.department_id.as_deref(), Some("dept-1"));
        let none = c.map_groups(&[]);
        assert_eq!(none.roles, Some(vec![Role::Staff]), "no group: staff only");
        assert_eq!(none.department_id, None);
        let mut unmapped = config();
        unmapped.role_groups.clear();
        assert_eq!(unmapped.map_groups(&[]).roles, None, "roles left alone");
    }
}
