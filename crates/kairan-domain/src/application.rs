//! Applications and approvals (申請と承認): one state machine for everything that a member of
//! staff asks for and someone else decides on.
//!
//! Guests and inter-body groups are the first users; exceptions, external services and SNS
//! posts will reuse the same machine, so each new workflow adds an [`ApplicationKind`], not a
//! new set of rules. [`next`] is the whole decision: from a state, a requested
//! [`Transition`] and who asks ([`Party`]), it returns the new state or says why not.
//! Separation of duties is part of it: whoever applied never approves, rejects or returns
//! their own application, whatever roles they hold. [`Approvals`] counts the approvals when
//! several bodies must each agree (an inter-body group needs every participating body's
//! administrator).
//!
//! Whether a user may decide on an application at all (their role, their body) is the
//! policy's question; the caller asks it first and passes the answer in [`Party::User`].

use crate::error::{DomainError, Localized};
use crate::ids::{OrgId, UserId};

/// What is applied for. The code is stored with the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationKind {
    /// Letting a person from outside the body into chosen talks for a limited period.
    Guest,
    /// A talk shared by staff of several bodies, for a limited period.
    InterOrgGroup,
    /// A later last day for an approved guest, within the same fiscal year.
    GuestExtension,
    /// A later last day for an approved inter-body group, within the same fiscal year; every
    /// participating body approves it again.
    GroupExtension,
}

impl ApplicationKind {
    pub const ALL: [ApplicationKind; 4] = [
        ApplicationKind::Guest,
        ApplicationKind::InterOrgGroup,
        ApplicationKind::GuestExtension,
        ApplicationKind::GroupExtension,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ApplicationKind::Guest => "guest",
            ApplicationKind::InterOrgGroup => "inter_org_group",
            ApplicationKind::GuestExtension => "guest_extension",
            ApplicationKind::GroupExtension => "group_extension",
        }
    }

    pub fn parse(code: &str) -> Option<ApplicationKind> {
        ApplicationKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether every participating body decides on it ([`Approvals`]), rather than the
    /// applicant's body alone.
    pub fn several_bodies(self) -> bool {
        matches!(
            self,
            ApplicationKind::InterOrgGroup | ApplicationKind::GroupExtension
        )
    }

    /// What an extension of this kind extends.
    pub fn extends(self) -> Option<ApplicationKind> {
        match self {
            ApplicationKind::GuestExtension => Some(ApplicationKind::Guest),
            ApplicationKind::GroupExtension => Some(ApplicationKind::InterOrgGroup),
            ApplicationKind::Guest | ApplicationKind::InterOrgGroup => None,
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ApplicationKind::Guest => "ゲスト利用",
            ApplicationKind::InterOrgGroup => "団体間グループ",
            ApplicationKind::GuestExtension => "ゲスト利用期間の延長",
            ApplicationKind::GroupExtension => "団体間グループの期間の延長",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ApplicationKind::Guest => "Guest access",
            ApplicationKind::InterOrgGroup => "Inter-body group",
            ApplicationKind::GuestExtension => "Guest period extension",
            ApplicationKind::GroupExtension => "Inter-body group period extension",
        }
    }
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApplicationState {
    /// Being written by the applicant; nobody else sees it yet.
    Draft,
    /// Waiting for the approvers.
    Submitted,
    /// Returned to the applicant with a reason, to be corrected and resubmitted.
    ChangesRequested,
    /// Approved; becomes active when its period starts.
    Approved,
    /// Refused. Final.
    Rejected,
    /// In effect (the guest can sign in, the group exists).
    Active,
    /// Its period is over or it was ended early. Final.
    Ended,
    /// Withdrawn by the applicant before a decision. Final.
    Withdrawn,
}

impl ApplicationState {
    pub const ALL: [ApplicationState; 8] = [
        ApplicationState::Draft,
        ApplicationState::Submitted,
        ApplicationState::ChangesRequested,
        ApplicationState::Approved,
        ApplicationState::Rejected,
        ApplicationState::Active,
        ApplicationState::Ended,
        ApplicationState::Withdrawn,
    ];

    /// The stable code used in the database and the API.
    pub fn code(self) -> &'static str {
        match self {
            ApplicationState::Draft => "draft",
            ApplicationState::Submitted => "submitted",
            ApplicationState::ChangesRequested => "changes_requested",
            ApplicationState::Approved => "approved",
            ApplicationState::Rejected => "rejected",
            ApplicationState::Active => "active",
            ApplicationState::Ended => "ended",
            ApplicationState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(code: &str) -> Option<ApplicationState> {
        ApplicationState::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            ApplicationState::Draft => "下書き",
            ApplicationState::Submitted => "申請中",
            ApplicationState::ChangesRequested => "差し戻し",
            ApplicationState::Approved => "承認済み",
            ApplicationState::Rejected => "却下",
            ApplicationState::Active => "有効",
            ApplicationState::Ended => "終了",
            ApplicationState::Withdrawn => "取り下げ",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ApplicationState::Draft => "Draft",
            ApplicationState::Submitted => "Submitted",
            ApplicationState::ChangesRequested => "Changes requested",
            ApplicationState::Approved => "Approved",
            ApplicationState::Rejected => "Rejected",
            ApplicationState::Active => "Active",
            ApplicationState::Ended => "Ended",
            ApplicationState::Withdrawn => "Withdrawn",
        }
    }

    /// Final states never change again; a new request is a new application.
    pub fn is_final(self) -> bool {
        match self {
            ApplicationState::Rejected | ApplicationState::Ended | ApplicationState::Withdrawn => {
                true
            }
            ApplicationState::Draft
            | ApplicationState::Submitted
            | ApplicationState::ChangesRequested
            | ApplicationState::Approved
            | ApplicationState::Active => false,
        }
    }
}

/// The most characters a reason for returning or rejecting may have.
pub const REASON_MAX_CHARS: usize = 1000;

/// What someone asks to do with an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The applicant sends a draft to the approvers.
    Submit,
    /// An approver returns it to the applicant; the reason says what to change.
    RequestChanges { reason: String },
    /// The applicant sends a returned application again.
    Resubmit,
    /// An approver approves it. For an application that needs several bodies, apply this
    /// only once [`Approvals::record`] says every body has approved.
    Approve,
    /// An approver refuses it; the applicant is told why.
    Reject { reason: String },
    /// It comes into effect: the clock job when the period starts, or an approver.
    Activate,
    /// It stops being in effect: the clock job after the last day, or an approver.
    End,
    /// The applicant takes it back before a decision.
    Withdraw,
    /// The applicant changes the content (the state stays the same).
    Edit,
}

impl Transition {
    /// The stable code, used in audit records.
    pub fn code(&self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::RequestChanges { .. } => "request_changes",
            Transition::Resubmit => "resubmit",
            Transition::Approve => "approve",
            Transition::Reject { .. } => "reject",
            Transition::Activate => "activate",
            Transition::End => "end",
            Transition::Withdraw => "withdraw",
            Transition::Edit => "edit",
        }
    }

    /// The action as a noun that reads before 「できません」, e.g. 「承認」.
    pub fn label_ja(&self) -> &'static str {
        match self {
            Transition::Submit => "提出",
            Transition::RequestChanges { .. } => "差し戻し",
            Transition::Resubmit => "再提出",
            Transition::Approve => "承認",
            Transition::Reject { .. } => "却下",
            Transition::Activate => "利用開始",
            Transition::End => "終了",
            Transition::Withdraw => "取り下げ",
            Transition::Edit => "修正",
        }
    }

    /// The action as a verb, e.g. "approve".
    pub fn label_en(&self) -> &'static str {
        match self {
            Transition::Submit => "submit",
            Transition::RequestChanges { .. } => "return",
            Transition::Resubmit => "resubmit",
            Transition::Approve => "approve",
            Transition::Reject { .. } => "reject",
            Transition::Activate => "activate",
            Transition::End => "end",
            Transition::Withdraw => "withdraw",
            Transition::Edit => "edit",
        }
    }

    /// Who may ask for this transition.
    fn needs(&self) -> Needs {
        match self {
            Transition::Submit | Transition::Resubmit | Transition::Withdraw | Transition::Edit => {
                Needs::Applicant
            }
            Transition::RequestChanges { .. } | Transition::Approve | Transition::Reject { .. } => {
                Needs::Decider
            }
            Transition::Activate | Transition::End => Needs::ApproverOrSystem,
        }
    }
}

enum Needs {
    /// Only the applicant.
    Applicant,
    /// An approver who is not the applicant (separation of duties).
    Decider,
    /// An approver or the server's clock job. Putting an approved application into effect or
    /// ending it is not a decision, so an approver who is also the applicant may do it.
    ApproverOrSystem,
}

/// Who asks for a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party<'a> {
    /// A signed-in user. `applicant` is who applied for this application; `approver` is the
    /// policy's answer to "may this user decide on this application" (role and body).
    User {
        id: &'a UserId,
        applicant: &'a UserId,
        approver: bool,
    },
    /// The server itself: the job that starts and ends periods by the clock.
    System,
}

impl Party<'_> {
    fn is_applicant(&self) -> bool {
        match self {
            Party::User { id, applicant, .. } => id == applicant,
            Party::System => false,
        }
    }
}

/// Why a transition or an approval was refused. Every error has a stable code and a message
/// in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    /// The transition does not exist from this state.
    #[error("cannot {transition} an application in state {state:?}")]
    InvalidTransition {
        state: ApplicationState,
        transition: &'static str,
    },
    /// The application is rejected, ended or withdrawn.
    #[error("the application is final ({state:?})")]
    Closed { state: ApplicationState },
    /// An approved or active application cannot be edited; a change needs a new approval.
    #[error("an approved application cannot be edited")]
    EditAfterApproval,
    /// The applicant tried to approve, reject or return their own application.
    #[error("the applicant cannot decide on their own application")]
    SelfApproval,
    /// Someone other than the applicant tried an applicant's action.
    #[error("only the applicant can do this")]
    NotApplicant,
    /// Someone without approval authority tried an approver's action.
    #[error("not an approver of this application")]
    NotApprover,
    /// The body is not among those whose approval the application needs.
    #[error("the body {0} is not a required approver")]
    NotRequiredApprover(OrgId),
    /// The body has approved already.
    #[error("the body {0} has already approved")]
    AlreadyApproved(OrgId),
    /// The person has approved already, on behalf of another body.
    #[error("the approver {0} has already approved for another body")]
    ApproverAlreadyCounted(UserId),
    /// A field of the transition is wrong (a missing reason).
    #[error(transparent)]
    Invalid(DomainError),
}

impl Localized for ApplicationError {
    fn code(&self) -> &'static str {
        match self {
            ApplicationError::InvalidTransition { .. } => "invalid_transition",
            ApplicationError::Closed { .. } => "application_closed",
            ApplicationError::EditAfterApproval => "edit_after_approval",
            ApplicationError::SelfApproval => "self_approval",
            ApplicationError::NotApplicant => "not_applicant",
            ApplicationError::NotApprover => "not_approver",
            ApplicationError::NotRequiredApprover(_) => "not_a_required_approver",
            ApplicationError::AlreadyApproved(_) => "already_approved",
            ApplicationError::ApproverAlreadyCounted(_) => "approver_already_counted",
            ApplicationError::Invalid(e) => e.code(),
        }
    }

    fn message_ja(&self) -> String {
        match self {
            ApplicationError::InvalidTransition { state, transition } => format!(
                "状態が「{}」の申請は{}できません。",
                state.label_ja(),
                transition_label_ja(transition)
            ),
            ApplicationError::Closed { state } => format!(
                "この申請は「{}」のため、これ以上の操作はできません。",
                state.label_ja()
            ),
            ApplicationError::EditAfterApproval => {
                "承認後の申請は変更できません。変更する場合は、改めて申請してください。".into()
            }
            ApplicationError::SelfApproval => {
                "自分の申請を承認、却下又は差し戻しすることはできません。".into()
            }
            ApplicationError::NotApplicant => "申請者本人のみが行える操作です。".into(),
            ApplicationError::NotApprover => "この申請を承認する権限がありません。".into(),
            ApplicationError::NotRequiredApprover(_) => {
                "この団体は、この申請の承認先ではありません。".into()
            }
            ApplicationError::AlreadyApproved(_) => "この団体は既に承認しています。".into(),
            ApplicationError::ApproverAlreadyCounted(_) => {
                "同じ人が複数の団体の承認を兼ねることはできません。".into()
            }
            ApplicationError::Invalid(e) => e.message_ja(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            ApplicationError::InvalidTransition { state, transition } => format!(
                "You cannot {} an application that is “{}”.",
                transition_label_en(transition),
                state.label_en()
            ),
            ApplicationError::Closed { state } => format!(
                "This application is “{}” and can no longer be changed.",
                state.label_en()
            ),
            ApplicationError::EditAfterApproval => {
                "An approved application cannot be changed. To change it, submit a new application."
                    .into()
            }
            ApplicationError::SelfApproval => {
                "You cannot approve, reject or return your own application.".into()
            }
            ApplicationError::NotApplicant => "Only the applicant can do this.".into(),
            ApplicationError::NotApprover => {
                "You are not allowed to decide on this application.".into()
            }
            ApplicationError::NotRequiredApprover(_) => {
                "This body is not asked to approve this application.".into()
            }
            ApplicationError::AlreadyApproved(_) => {
                "This body has already approved this application.".into()
            }
            ApplicationError::ApproverAlreadyCounted(_) => {
                "One person cannot approve on behalf of more than one body.".into()
            }
            ApplicationError::Invalid(e) => e.message_en(),
        }
    }
}

/// The transition's labels from its code, for messages built from a stored error.
fn transition_label_ja(code: &str) -> &'static str {
    sample_transitions()
        .iter()
        .find(|t| t.code() == code)
        .map_or("この操作", Transition::label_ja)
}

fn transition_label_en(code: &str) -> &'static str {
    sample_transitions()
        .iter()
        .find(|t| t.code() == code)
        .map_or("do this to", Transition::label_en)
}

/// One transition of each kind (reasons empty), to look labels up by code.
fn sample_transitions() -> [Transition; 9] {
    [
        Transition::Submit,
        Transition::RequestChanges {
            reason: String::new(),
        },
        Transition::Resubmit,
        Transition::Approve,
        Transition::Reject {
            reason: String::new(),
        },
        Transition::Activate,
        Transition::End,
        Transition::Withdraw,
        Transition::Edit,
    ]
}

fn authorize(needs: Needs, who: Party<'_>) -> Result<(), ApplicationError> {
    match (needs, who) {
        (Needs::Applicant, who) if who.is_applicant() => Ok(()),
        (Needs::Applicant, _) => Err(ApplicationError::NotApplicant),
        // Checked before the role, so the applicant is told the real reason whatever roles
        // they hold, and an attempt on one's own application is recognisable in the audit log.
        (Needs::Decider, who) if who.is_applicant() => Err(ApplicationError::SelfApproval),
        (Needs::Decider, Party::User { approver: true, .. }) => Ok(()),
        (Needs::Decider, _) => Err(ApplicationError::NotApprover),
        (Needs::ApproverOrSystem, Party::User { approver: true, .. } | Party::System) => Ok(()),
        (
            Needs::ApproverOrSystem,
            Party::User {
                approver: false, ..
            },
        ) => Err(ApplicationError::NotApprover),
    }
}

/// The reason for returning or rejecting: required, so the applicant learns what to do.
fn check_reason(reason: &str) -> Result<(), ApplicationError> {
    let reason = reason.trim();
    let invalid = |ja: String, en: String| {
        Err(ApplicationError::Invalid(DomainError::invalid(
            "reason", "理由", ja, en,
        )))
    };
    if reason.is_empty() {
        return invalid("入力してください。".into(), "is required.".into());
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return invalid(
            format!("{REASON_MAX_CHARS}文字以内で入力してください。"),
            format!("must be at most {REASON_MAX_CHARS} characters."),
        );
    }
    // Line breaks and tabs are fine in a reason; other control characters are not.
    if reason
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return invalid(
            "使用できない文字が含まれています。".into(),
            "contains characters that are not allowed.".into(),
        );
    }
    Ok(())
}

/// The state after `transition`, asked for by `who`, or why it is refused.
///
/// Checks, in this order: who may ask for the transition at all (so self-approval is refused
/// in any state), whether the state is final, whether the transition leaves this state, and
/// last the reason of a return or rejection.
pub fn next(
    state: ApplicationState,
    transition: &Transition,
    who: Party<'_>,
) -> Result<ApplicationState, ApplicationError> {
    use ApplicationState::*;
    authorize(transition.needs(), who)?;
    if state.is_final() {
        return Err(ApplicationError::Closed { state });
    }
    let to = match (state, transition) {
        (Draft, Transition::Submit) => Submitted,
        (ChangesRequested, Transition::Resubmit) => Submitted,
        (Draft | ChangesRequested, Transition::Edit) => state,
        // What was approved is what is in effect; a change goes through approval again.
        (Approved | Active, Transition::Edit) => return Err(ApplicationError::EditAfterApproval),
        (Draft | Submitted | ChangesRequested, Transition::Withdraw) => Withdrawn,
        (Submitted, Transition::Approve) => Approved,
        (Submitted, Transition::RequestChanges { reason }) => {
            check_reason(reason)?;
            ChangesRequested
        }
        // Also from ChangesRequested, so an approver can close an application that the
        // applicant neither corrects nor withdraws.
        (Submitted | ChangesRequested, Transition::Reject { reason }) => {
            check_reason(reason)?;
            Rejected
        }
        (Approved, Transition::Activate) => Active,
        (Active, Transition::End) => Ended,
        _ => {
            return Err(ApplicationError::InvalidTransition {
                state,
                transition: transition.code(),
            });
        }
    };
    Ok(to)
}

/// The approvals an application needs from several bodies, and those given so far. An
/// inter-body group needs the administrator of every participating body to approve for their
/// own staff; the application moves to [`ApplicationState::Approved`] only when this is
/// complete.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvals {
    /// The bodies that must approve, each once.
    pub required: Vec<OrgId>,
    /// The approvals given: which body, and who approved for it.
    pub given: Vec<(OrgId, UserId)>,
}

impl Approvals {
    /// Approvals needed from these bodies (a body listed twice counts once).
    pub fn new(required: Vec<OrgId>) -> Approvals {
        let mut unique: Vec<OrgId> = Vec::with_capacity(required.len());
        for org in required {
            if !unique.contains(&org) {
                unique.push(org);
            }
        }
        Approvals {
            required: unique,
            given: Vec::new(),
        }
    }

    /// Records `approver`'s approval for `org` and says whether every body has now approved.
    /// The caller has checked that `approver` may approve for `org`.
    pub fn record(
        &mut self,
        org: &OrgId,
        approver: &UserId,
        applicant: &UserId,
    ) -> Result<bool, ApplicationError> {
        if approver == applicant {
            return Err(ApplicationError::SelfApproval);
        }
        if !self.required.contains(org) {
            return Err(ApplicationError::NotRequiredApprover(org.clone()));
        }
        if self.given.iter().any(|(o, _)| o == org) {
            return Err(ApplicationError::AlreadyApproved(org.clone()));
        }
        // One person approving for two bodies would make two approvals out of one decision.
        if self.given.iter().any(|(_, u)| u == approver) {
            return Err(ApplicationError::ApproverAlreadyCounted(approver.clone()));
        }
        self.given.push((org.clone(), approver.clone()));
        Ok(self.is_complete())
    }

    /// True when every required body has approved. An empty list is never complete: an
    /// application that names no approver must not pass as approved.
    pub fn is_complete(&self) -> bool {
        !self.required.is_empty() && self.pending().is_empty()
    }

    /// The bodies that have not approved yet, in the order required.
    pub fn pending(&self) -> Vec<&OrgId> {
        self.required
            .iter()
            .filter(|org| !self.given.iter().any(|(o, _)| o == *org))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn user(s: &str) -> UserId {
        UserId(s.to_owned())
    }

    fn org(s: &str) -> OrgId {
        OrgId(s.to_owned())
    }

    /// The parties of the table, by column.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Who {
        /// The applicant, with no approval authority.
        A,
        /// The applicant, who also holds approval authority (an administrator applying).
        Aplus,
        /// Another user with approval authority.
        P,
        /// Another user without it.
        O,
        /// The clock job.
        S,
    }

    const WHO: [Who; 5] = [Who::A, Who::Aplus, Who::P, Who::O, Who::S];

    fn party<'a>(who: Who, applicant: &'a UserId, other: &'a UserId) -> Party<'a> {
        match who {
            Who::A => Party::User {
                id: applicant,
                applicant,
                approver: false,
            },
            Who::Aplus => Party::User {
                id: applicant,
                applicant,
                approver: true,
            },
            Who::P => Party::User {
                id: other,
                applicant,
                approver: true,
            },
            Who::O => Party::User {
                id: other,
                applicant,
                approver: false,
            },
            Who::S => Party::System,
        }
    }

    fn transition(code: &str, reason: &str) -> Transition {
        match code {
            "submit" => Transition::Submit,
            "request_changes" => Transition::RequestChanges {
                reason: reason.to_owned(),
            },
            "resubmit" => Transition::Resubmit,
            "approve" => Transition::Approve,
            "reject" => Transition::Reject {
                reason: reason.to_owned(),
            },
            "activate" => Transition::Activate,
            "end" => Transition::End,
            "withdraw" => Transition::Withdraw,
            "edit" => Transition::Edit,
            other => panic!("unknown transition {other}"),
        }
    }

    const TRANSITIONS: [&str; 9] = [
        "submit",
        "request_changes",
        "resubmit",
        "approve",
        "reject",
        "activate",
        "end",
        "withdraw",
        "edit",
    ];

    /// Every (state, transition) with the outcome for each party, in the column order
    /// A (applicant), A+ (applicant with approval authority), P (another approver),
    /// O (another user), S (system). A state code is the new state; `!code` is the error.
    /// Written out by hand from the rules, not computed, so it checks [`next`].
    const TABLE: &str = "
draft             submit          submitted           submitted           !not_applicant      !not_applicant  !not_applicant
draft             resubmit        !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
draft             edit            draft               draft               !not_applicant      !not_applicant  !not_applicant
draft             withdraw        withdrawn           withdrawn           !not_applicant      !not_applicant  !not_applicant
draft             approve         !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
draft             reject          !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
draft             request_changes !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
draft             activate        !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
draft             end             !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
submitted         submit          !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
submitted         resubmit        !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
submitted         edit            !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
submitted         withdraw        withdrawn           withdrawn           !not_applicant      !not_applicant  !not_applicant
submitted         approve         !self_approval      !self_approval      approved            !not_approver   !not_approver
submitted         reject          !self_approval      !self_approval      rejected            !not_approver   !not_approver
submitted         request_changes !self_approval      !self_approval      changes_requested   !not_approver   !not_approver
submitted         activate        !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
submitted         end             !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
changes_requested submit          !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
changes_requested resubmit        submitted           submitted           !not_applicant      !not_applicant  !not_applicant
changes_requested edit            changes_requested   changes_requested   !not_applicant      !not_applicant  !not_applicant
changes_requested withdraw        withdrawn           withdrawn           !not_applicant      !not_applicant  !not_applicant
changes_requested approve         !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
changes_requested reject          !self_approval      !self_approval      rejected            !not_approver   !not_approver
changes_requested request_changes !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
changes_requested activate        !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
changes_requested end             !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
approved          submit          !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
approved          resubmit        !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
approved          edit            !edit_after_approval !edit_after_approval !not_applicant    !not_applicant  !not_applicant
approved          withdraw        !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
approved          approve         !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
approved          reject          !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
approved          request_changes !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
approved          activate        !not_approver       active              active              !not_approver   active
approved          end             !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
active            submit          !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
active            resubmit        !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
active            edit            !edit_after_approval !edit_after_approval !not_applicant    !not_applicant  !not_applicant
active            withdraw        !invalid_transition !invalid_transition !not_applicant      !not_applicant  !not_applicant
active            approve         !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
active            reject          !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
active            request_changes !self_approval      !self_approval      !invalid_transition !not_approver   !not_approver
active            activate        !not_approver       !invalid_transition !invalid_transition !not_approver   !invalid_transition
active            end             !not_approver       ended               ended               !not_approver   ended
rejected          submit          !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
rejected          resubmit        !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
rejected          edit            !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
rejected          withdraw        !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
rejected          approve         !self_approval      !self_approval      !application_closed !not_approver   !not_approver
rejected          reject          !self_approval      !self_approval      !application_closed !not_approver   !not_approver
rejected          request_changes !self_approval      !self_approval      !application_closed !not_approver   !not_approver
rejected          activate        !not_approver       !application_closed !application_closed !not_approver   !application_closed
rejected          end             !not_approver       !application_closed !application_closed !not_approver   !application_closed
ended             submit          !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
ended             resubmit        !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
ended             edit            !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
ended             withdraw        !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
ended             approve         !self_approval      !self_approval      !application_closed !not_approver   !not_approver
ended             reject          !self_approval      !self_approval      !application_closed !not_approver   !not_approver
ended             request_changes !self_approval      !self_approval      !application_closed !not_approver   !not_approver
ended             activate        !not_approver       !application_closed !application_closed !not_approver   !application_closed
ended             end             !not_approver       !application_closed !application_closed !not_approver   !application_closed
withdrawn         submit          !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
withdrawn         resubmit        !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
withdrawn         edit            !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
withdrawn         withdraw        !application_closed !application_closed !not_applicant      !not_applicant  !not_applicant
withdrawn         approve         !self_approval      !self_approval      !application_closed !not_approver   !not_approver
withdrawn         reject          !self_approval      !self_approval      !application_closed !not_approver   !not_approver
withdrawn         request_changes !self_approval      !self_approval      !application_closed !not_approver   !not_approver
withdrawn         activate        !not_approver       !application_closed !application_closed !not_approver   !application_closed
withdrawn         end             !not_approver       !application_closed !application_closed !not_approver   !application_closed
";

    fn outcome(r: &Result<ApplicationState, ApplicationError>) -> String {
        match r {
            Ok(state) => state.code().to_owned(),
            Err(e) => format!("!{}", e.code()),
        }
    }

    #[test]
    fn every_state_transition_and_party_gives_the_tabled_outcome() {
        let applicant = user("u-applicant");
        let other = user("u-other");
        let mut seen = HashSet::new();
        let mut rows = 0;
        for line in TABLE.lines().filter(|l| !l.trim().is_empty()) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(cols.len(), 2 + WHO.len(), "{line}");
            let state = ApplicationState::parse(cols[0]).unwrap();
            let t = transition(cols[1], "記載内容を確認してください。");
            assert!(seen.insert((state, cols[1])), "duplicate row: {line}");
            for (who, expected) in WHO.iter().zip(&cols[2..]) {
                let got = next(state, &t, party(*who, &applicant, &other));
                assert_eq!(outcome(&got), *expected, "{line} / {who:?}");
            }
            rows += 1;
        }
        // The table covers every pair exactly once.
        assert_eq!(rows, ApplicationState::ALL.len() * TRANSITIONS.len());
        for state in ApplicationState::ALL {
            for t in TRANSITIONS {
                assert!(seen.contains(&(state, t)), "missing row {state:?} {t}");
            }
        }
    }

    #[test]
    fn returning_or_rejecting_needs_a_reason() {
        let applicant = user("a");
        let approver = user("b");
        let who = Party::User {
            id: &approver,
            applicant: &applicant,
            approver: true,
        };
        for code in ["request_changes", "reject"] {
            for reason in ["", "  \n ", "理由\u{0}"] {
                let err =
                    next(ApplicationState::Submitted, &transition(code, reason), who).unwrap_err();
                assert_eq!(err.code(), "invalid_field", "{code} {reason:?}");
            }
            let long = "あ".repeat(REASON_MAX_CHARS + 1);
            assert!(next(ApplicationState::Submitted, &transition(code, &long), who).is_err());
            let max = "あ".repeat(REASON_MAX_CHARS);
            assert!(next(ApplicationState::Submitted, &transition(code, &max), who).is_ok());
            assert!(
                next(
                    ApplicationState::Submitted,
                    &transition(code, "添付資料が不足しています。\n再提出してください。"),
                    who
                )
                .is_ok()
            );
        }
        // The reason is checked last: a wrong state is reported as such.
        let err = next(ApplicationState::Draft, &transition("reject", ""), who).unwrap_err();
        assert_eq!(err.code(), "invalid_transition");
    }

    #[test]
    fn codes_parse_back_and_labels_are_set() {
        for state in ApplicationState::ALL {
            assert_eq!(ApplicationState::parse(state.code()), Some(state));
            assert!(!state.label_ja().is_empty() && !state.label_en().is_empty());
        }
        assert_eq!(ApplicationState::parse("pending"), None);
        for kind in ApplicationKind::ALL {
            assert_eq!(ApplicationKind::parse(kind.code()), Some(kind));
        }
        assert_eq!(ApplicationKind::Guest.code(), "guest");
        assert_eq!(ApplicationKind::InterOrgGroup.code(), "inter_org_group");
        let final_states: Vec<_> = ApplicationState::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            final_states,
            vec![
                ApplicationState::Rejected,
                ApplicationState::Ended,
                ApplicationState::Withdrawn
            ]
        );
        for code in TRANSITIONS {
            assert_eq!(transition(code, "").code(), code);
        }
    }

    #[test]
    fn messages_name_the_state_and_the_action() {
        let err = ApplicationError::InvalidTransition {
            state: ApplicationState::Approved,
            transition: "withdraw",
        };
        assert_eq!(
            err.message_ja(),
            "状態が「承認済み」の申請は取り下げできません。"
        );
        assert_eq!(
            err.message_en(),
            "You cannot withdraw an application that is “Approved”."
        );
        let closed = ApplicationError::Closed {
            state: ApplicationState::Rejected,
        };
        assert_eq!(
            closed.message_ja(),
            "この申請は「却下」のため、これ以上の操作はできません。"
        );
        let every = [
            err,
            closed,
            ApplicationError::EditAfterApproval,
            ApplicationError::SelfApproval,
            ApplicationError::NotApplicant,
            ApplicationError::NotApprover,
            ApplicationError::NotRequiredApprover(org("o")),
            ApplicationError::AlreadyApproved(org("o")),
            ApplicationError::ApproverAlreadyCounted(user("u")),
        ];
        let codes: HashSet<_> = every.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), every.len());
        for e in every {
            assert!(!e.message_ja().is_empty() && !e.message_en().is_empty());
        }
    }

    /// xorshift64: a fixed seed gives the same walks on every run, with no extra crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// How far along the one-way path an application is; it never goes back once approved.
    fn rank(state: ApplicationState) -> u8 {
        use ApplicationState::*;
        match state {
            Draft | Submitted | ChangesRequested => 0,
            Approved => 1,
            Active => 2,
            Rejected | Ended | Withdrawn => 3,
        }
    }

    #[test]
    fn random_walks_keep_the_invariants() {
        let applicant = user("u-applicant");
        let other = user("u-other");
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut reached = HashSet::new();
        let mut applied = 0usize;
        for _ in 0..5_000 {
            let mut state = ApplicationState::Draft;
            let mut path = vec![state];
            for _ in 0..40 {
                let who = WHO[rng.below(WHO.len())];
                let reason = ["", "理由を記載してください。"][rng.below(2)];
                let t = transition(TRANSITIONS[rng.below(TRANSITIONS.len())], reason);
                let result = next(state, &t, party(who, &applicant, &other));
                let Ok(to) = result else {
                    continue;
                };
                applied += 1;
                // Final states never change.
                assert!(!state.is_final(), "{path:?} then {t:?}");
                // Approved only from Submitted, by an approver who did not apply.
                if to == ApplicationState::Approved {
                    assert_eq!(state, ApplicationState::Submitted, "{path:?}");
                    assert_eq!(who, Who::P, "{path:?}");
                }
                // Only someone other than the applicant decides.
                if matches!(
                    t,
                    Transition::Approve
                        | Transition::Reject { .. }
                        | Transition::RequestChanges { .. }
                ) {
                    assert_eq!(who, Who::P, "{path:?} then {t:?}");
                }
                // Active only from Approved.
                if to == ApplicationState::Active {
                    assert_eq!(state, ApplicationState::Approved, "{path:?}");
                }
                // Editing never moves an application; anything else always does.
                assert_eq!(t == Transition::Edit, to == state, "{path:?} then {t:?}");
                // No way back once approved.
                if rank(state) > 0 {
                    assert!(rank(to) > rank(state), "{path:?} then {t:?}");
                }
                state = to;
                path.push(state);
                reached.insert(state);
            }
            // Approved, if reached, came right after Submitted.
            for pair in path.windows(2) {
                if pair[1] == ApplicationState::Approved {
                    assert_eq!(pair[0], ApplicationState::Submitted);
                }
            }
        }
        // The walks went everywhere, so the invariants were really exercised.
        for state in ApplicationState::ALL {
            if state != ApplicationState::Draft {
                assert!(reached.contains(&state), "never reached {state:?}");
            }
        }
        assert!(applied > 10_000, "{applied}");
    }

    #[test]
    fn a_group_is_approved_when_every_body_has_approved() {
        let applicant = user("u-applicant");
        let mut approvals = Approvals::new(vec![org("town"), org("city"), org("town")]);
        assert_eq!(approvals.required, vec![org("town"), org("city")]);
        assert!(!approvals.is_complete());
        assert_eq!(
            approvals.record(&org("town"), &user("admin-town"), &applicant),
            Ok(false)
        );
        assert_eq!(approvals.pending(), vec![&org("city")]);
        assert_eq!(
            approvals.record(&org("town"), &user("admin-town-2"), &applicant),
            Err(ApplicationError::AlreadyApproved(org("town")))
        );
        assert_eq!(
            approvals.record(&org("village"), &user("admin-village"), &applicant),
            Err(ApplicationError::NotRequiredApprover(org("village")))
        );
        assert_eq!(
            approvals.record(&org("city"), &applicant, &applicant),
            Err(ApplicationError::SelfApproval)
        );
        assert_eq!(
            approvals.record(&org("city"), &user("admin-town"), &applicant),
            Err(ApplicationError::ApproverAlreadyCounted(user("admin-town")))
        );
        assert_eq!(approvals.given.len(), 1, "refusals record nothing");
        assert_eq!(
            approvals.record(&org("city"), &user("admin-city"), &applicant),
            Ok(true)
        );
        assert!(approvals.is_complete());
        assert!(approvals.pending().is_empty());
    }

    #[test]
    fn no_required_body_is_never_complete() {
        let mut approvals = Approvals::new(Vec::new());
        assert!(!approvals.is_complete());
        assert_eq!(
            approvals.record(&org("town"), &user("x"), &user("y")),
            Err(ApplicationError::NotRequiredApprover(org("town")))
        );
        assert!(!Approvals::default().is_complete());
    }

    #[test]
    fn approvals_complete_in_any_order_and_only_at_the_last_body() {
        let applicant = user("u-applicant");
        let orgs: Vec<OrgId> = (0..5).map(|i| org(&format!("org-{i}"))).collect();
        let mut rng = XorShift(42);
        for _ in 0..500 {
            let mut order = orgs.clone();
            // Fisher–Yates shuffle.
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let mut approvals = Approvals::new(orgs.clone());
            for (i, o) in order.iter().enumerate() {
                let approver = user(&format!("admin-{o}"));
                let complete = approvals.record(o, &approver, &applicant).unwrap();
                assert_eq!(complete, i == order.len() - 1);
                assert_eq!(approvals.pending().len(), order.len() - i - 1);
            }
        }
    }
}
