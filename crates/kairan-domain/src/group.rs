//! What a section head fills in to apply for an inter-body group (団体間グループ, I7, seed 003
//! §7), and what each participating body's administrator decides for its own staff.
//!
//! The applicant names the other bodies and says whom they hope to work with there, in words
//! ("防災課の担当者2名"): no other body's directory is shown to them. Each body's administrator
//! then picks which of their own staff join ([`BodyApproval`]), so a body alone decides who of
//! its staff is exposed. The group becomes a talk once every body has approved.

use crate::DomainError;
use crate::fiscal::{self, Date};
use crate::guest::{TEXT_MAX_CHARS, text};
use serde::{Deserialize, Serialize};

/// At most this many other bodies in one group.
pub const MAX_BODIES: usize = 20;
/// At most this many members a body puts into one group.
pub const MAX_MEMBERS_PER_BODY: usize = 100;

/// The typed fields of an inter-body group application, stored as the application's `fields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRequest {
    /// What the bodies work on together.
    pub purpose: String,
    /// Why a shared talk is needed.
    pub need: String,
    /// The name of the talk the group becomes.
    pub talk_name: String,
    /// Staff of the applicant's own body who join besides the applicant (user IDs).
    #[serde(default)]
    pub own_members: Vec<String>,
    /// The other bodies taking part.
    pub bodies: Vec<BodyRequest>,
    pub start_date: Date,
    /// The last day, inclusive; never past 31 March of the fiscal year the period starts in.
    pub end_date: Date,
}

/// One other body, and whom the applicant asks it for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyRequest {
    pub org_id: String,
    /// Whom the applicant hopes to work with there, in words; that body's administrator
    /// chooses the people.
    pub requested: String,
}

fn ids(
    list: &mut Vec<String>,
    field: &'static str,
    label: &'static str,
    max: usize,
) -> Result<(), DomainError> {
    for id in list.iter_mut() {
        *id = id.trim().to_owned();
    }
    list.retain(|id| !id.is_empty());
    let mut seen = std::collections::HashSet::new();
    list.retain(|id| seen.insert(id.clone()));
    if list.len() > max {
        return Err(DomainError::invalid(
            field,
            label,
            format!("{max}件までです。"),
            format!("at most {max}."),
        ));
    }
    if list.iter().any(|id| id.len() > 64) {
        return Err(DomainError::invalid(
            field,
            label,
            "IDの形式が正しくありません。",
            "an ID is malformed.",
        ));
    }
    Ok(())
}

impl GroupRequest {
    /// Trims the texts and checks every field; `today` is the date in Japan and `own_org` the
    /// applicant's body, which cannot also be one of the others.
    pub fn validated(mut self, today: Date, own_org: &str) -> Result<GroupRequest, DomainError> {
        text(&mut self.purpose, "purpose", "利用目的", TEXT_MAX_CHARS)?;
        text(
            &mut self.need,
            "need",
            "グループが必要な理由",
            TEXT_MAX_CHARS,
        )?;
        self.talk_name = crate::input::parse_talk_name(&self.talk_name).map_err(|_| {
            DomainError::invalid(
                "talk_name",
                "グループ名",
                "1文字以上50文字以内で、制御文字を含めずに入力してください。",
                "must be 1 to 50 characters without control characters.",
            )
        })?;
        ids(
            &mut self.own_members,
            "own_members",
            "自団体の参加者",
            MAX_MEMBERS_PER_BODY - 1,
        )?;
        let mut seen = std::collections::HashSet::new();
        for b in &mut self.bodies {
            b.org_id = b.org_id.trim().to_owned();
            if b.org_id.is_empty() || b.org_id == own_org || !seen.insert(b.org_id.clone()) {
                return Err(DomainError::invalid(
                    "bodies",
                    "参加する団体",
                    "自団体以外の団体を、重複なく選んでください。",
                    "choose bodies other than your own, each once.",
                ));
            }
            text(
                &mut b.requested,
                "bodies",
                "参加をお願いする職員",
                TEXT_MAX_CHARS,
            )?;
        }
        if self.bodies.is_empty() || self.bodies.len() > MAX_BODIES {
            return Err(DomainError::invalid(
                "bodies",
                "参加する団体",
                format!("自団体以外の団体を1から{MAX_BODIES}団体まで選んでください。"),
                format!("choose 1 to {MAX_BODIES} bodies other than your own."),
            ));
        }
        fiscal::check_period(self.start_date, self.end_date, today)?;
        Ok(self)
    }

    /// Every body taking part: the applicant's first, then the others in the order named.
    pub fn all_bodies(&self, own_org: &str) -> Vec<String> {
        std::iter::once(own_org.to_owned())
            .chain(self.bodies.iter().map(|b| b.org_id.clone()))
            .collect()
    }
}

/// What a body's administrator sends with their approval: which of their own staff join.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyApproval {
    #[serde(default)]
    pub members: Vec<String>,
}

impl BodyApproval {
    /// At least one member, each once, at most [`MAX_MEMBERS_PER_BODY`]. Whether they are
    /// active staff of the approver's body is the server's check.
    pub fn validated(mut self) -> Result<BodyApproval, DomainError> {
        ids(
            &mut self.members,
            "members",
            "参加する職員",
            MAX_MEMBERS_PER_BODY,
        )?;
        if self.members.is_empty() {
            return Err(DomainError::invalid(
                "members",
                "参加する職員",
                "自団体から参加する職員を1人以上選んでください。",
                "choose at least one member of your own staff.",
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn request() -> GroupRequest {
        GroupRequest {
            purpose: " 広域避難訓練の調整 ".into(),
            need: "三市の担当者で日々の調整をするため".into(),
            talk_name: "広域避難訓練 調整".into(),
            own_members: vec!["u-2".into(), " u-2 ".into(), "".into()],
            bodies: vec![BodyRequest {
                org_id: "org-west".into(),
                requested: "防災課の担当者2名".into(),
            }],
            start_date: d(2026, 12, 10),
            end_date: d(2027, 3, 31),
        }
    }

    fn field(r: Result<GroupRequest, DomainError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(DomainError::InvalidField { field, .. }) => field,
            Err(DomainError::PeriodCrossesFiscalYear { .. }) => "period_crosses_fiscal_year",
            Err(DomainError::Password(_)) => "password",
        }
    }

    #[test]
    fn a_complete_request_is_accepted_trimmed_with_members_once() {
        let ok = request().validated(d(2026, 12, 4), "org-east").unwrap();
        assert_eq!(ok.purpose, "広域避難訓練の調整");
        assert_eq!(ok.own_members, vec!["u-2".to_owned()]);
        assert_eq!(ok.all_bodies("org-east"), vec!["org-east", "org-west"]);
    }

    #[test]
    fn each_bad_field_is_named() {
        let today = d(2026, 12, 4);
        let own = "org-east";
        let body = |org: &str| BodyRequest {
            org_id: org.into(),
            requested: "担当者".into(),
        };
        let cases: Vec<(GroupRequest, &str)> = vec![
            (
                GroupRequest {
                    purpose: " ".into(),
                    ..request()
                },
                "purpose",
            ),
            (
                GroupRequest {
                    need: "あ".repeat(TEXT_MAX_CHARS + 1),
                    ..request()
                },
                "need",
            ),
            (
                GroupRequest {
                    talk_name: "".into(),
                    ..request()
                },
                "talk_name",
            ),
            (
                GroupRequest {
                    bodies: vec![],
                    ..request()
                },
                "bodies",
            ),
            (
                GroupRequest {
                    bodies: vec![body(own)],
                    ..request()
                },
                "bodies",
            ),
            (
                GroupRequest {
                    bodies: vec![body("org-west"), body("org-west")],
                    ..request()
                },
                "bodies",
            ),
            (
                GroupRequest {
                    bodies: (0..=MAX_BODIES)
                        .map(|i| body(&format!("org-{i}")))
                        .collect(),
                    ..request()
                },
                "bodies",
            ),
            (
                GroupRequest {
                    bodies: vec![BodyRequest {
                        org_id: "org-west".into(),
                        requested: "担当\u{202e}者".into(),
                    }],
                    ..request()
                },
                "bodies",
            ),
            (
                GroupRequest {
                    own_members: (0..MAX_MEMBERS_PER_BODY)
                        .map(|i| format!("u-{i}"))
                        .collect(),
                    ..request()
                },
                "own_members",
            ),
            (
                GroupRequest {
                    start_date: d(2026, 12, 3),
                    ..request()
                },
                "start_date",
            ),
            (
                GroupRequest {
                    end_date: d(2027, 4, 1),
                    ..request()
                },
                "period_crosses_fiscal_year",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(field(r.clone().validated(today, own)), want, "{r:?}");
        }
    }

    #[test]
    fn a_body_must_put_someone_in() {
        let none = BodyApproval { members: vec![] };
        assert!(matches!(
            none.validated(),
            Err(DomainError::InvalidField {
                field: "members",
                ..
            })
        ));
        let twice = BodyApproval {
            members: vec!["u-9".into(), "u-9".into()],
        };
        assert_eq!(twice.validated().unwrap().members, vec!["u-9".to_owned()]);
        let many = BodyApproval {
            members: (0..=MAX_MEMBERS_PER_BODY)
                .map(|i| format!("u-{i}"))
                .collect(),
        };
        assert!(many.validated().is_err());
    }

    /// Whatever the dates (every start over two years and more, lengths up to 500 days), an
    /// accepted period never crosses the end of a fiscal year nor starts in the past, and a
    /// refused one does one of those or ends before it starts.
    #[test]
    fn an_accepted_period_lies_inside_one_fiscal_year() {
        let today = d(2026, 12, 4);
        for start_off in -3..800 {
            for len in [-1, 0, 1, 27, 90, 116, 117, 118, 200, 364, 365, 499] {
                let start = today.add_days(start_off).unwrap();
                let end = start.add_days(len).unwrap();
                let r = GroupRequest {
                    start_date: start,
                    end_date: end,
                    ..request()
                };
                let inside = start >= today
                    && end >= start
                    && fiscal::fiscal_year(start) == fiscal::fiscal_year(end);
                assert_eq!(
                    r.validated(today, "org-east").is_ok(),
                    inside,
                    "{start} {end}"
                );
            }
        }
    }
}
