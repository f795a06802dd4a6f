//! The roles of I8. A user holds one or more roles inside their own body; the privileged
//! ones (administrator, security officer, CSIRT, auditor) get stricter password and lockout
//! rules and appear in the privileged-ID list. A guest (ゲスト, I6) is a person from outside
//! the body let in by an approved application: the role comes only from that approval, never
//! from a grant, and allows nothing but the talks the guest is invited into.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Staff,
    SectionHead,
    Admin,
    SecurityOfficer,
    Csirt,
    Auditor,
    Guest,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Staff,
        Role::SectionHead,
        Role::Admin,
        Role::SecurityOfficer,
        Role::Csirt,
        Role::Auditor,
        Role::Guest,
    ];

    /// The stable code used in the database, the API, the CLI and the policy table.
    pub fn code(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::SectionHead => "section_head",
            Role::Admin => "admin",
            Role::SecurityOfficer => "security_officer",
            Role::Csirt => "csirt",
            Role::Auditor => "auditor",
            Role::Guest => "guest",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// Privileged IDs (特権ID) must be few, listed, and protected more strongly.
    pub fn is_privileged(self) -> bool {
        match self {
            Role::Admin | Role::SecurityOfficer | Role::Csirt | Role::Auditor => true,
            Role::Staff | Role::SectionHead | Role::Guest => false,
        }
    }

    /// Whether an administrator may grant it (a guest's role comes only from an approved
    /// application, with its period).
    pub fn is_grantable(self) -> bool {
        self != Role::Guest
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Staff => "職員",
            Role::SectionHead => "所属長",
            Role::Admin => "システム管理者",
            Role::SecurityOfficer => "情報セキュリティ責任者",
            Role::Csirt => "CSIRT",
            Role::Auditor => "監査担当",
            Role::Guest => "ゲスト",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Staff => "Staff",
            Role::SectionHead => "Section head",
            Role::Admin => "Administrator",
            Role::SecurityOfficer => "Security officer",
            Role::Csirt => "CSIRT",
            Role::Auditor => "Auditor",
            Role::Guest => "Guest",
        }
    }
}

/// True when the roles are a guest's only: such a user starts no talks and sees no directory.
pub fn only_guest(roles: &[Role]) -> bool {
    !roles.is_empty() && roles.iter().all(|r| *r == Role::Guest)
}

/// True when any of the roles is privileged.
pub fn any_privileged(roles: &[Role]) -> bool {
    roles.iter().any(|r| r.is_privileged())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_code_parses_back_to_the_same_role() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn staff_and_section_heads_are_not_privileged_but_the_other_roles_are() {
        let privileged: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.is_privileged())
            .collect();
        assert_eq!(
            privileged,
            vec![
                Role::Admin,
                Role::SecurityOfficer,
                Role::Csirt,
                Role::Auditor
            ]
        );
    }
}
