//! Interface text in Japanese (default) and English (O6). Pages take the language from the
//! `lang` cookie set by the language switch. Text is written for municipal staff in 公用文 style.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The text in this language, of a pair written in both.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    pub fn from_cookie(v: Option<&str>) -> Lang {
        match v {
            Some("en") => Lang::En,
            _ => Lang::Ja,
        }
    }
}

/// (key, Japanese, English)
const TEXT: &[(&str, &str, &str)] = &[
    ("product", "Kairan", "Kairan"),
    (
        "tagline",
        "自治体職員のための業務チャット",
        "Secure staff chat for local government",
    ),
    ("sign_in", "サインイン", "Sign in"),
    ("sign_out", "サインアウト", "Sign out"),
    ("login_id", "ログインID", "Login ID"),
    (
        "invite_title",
        "ゲストとしての招待",
        "Invitation as a guest",
    ),
    (
        "invite_lead",
        "{org}から、業務用チャットへのゲストとしての招待が届いています。パスワードを設定すると、利用期間中にサインインできます。",
        "{org} invites you to its staff chat as a guest. Set a password to sign in during your period.",
    ),
    ("invite_name", "氏名（所属）", "Name (affiliation)"),
    ("invite_period", "利用期間", "Period"),
    (
        "invite_rules",
        "業務の連絡のためにのみ利用してください。招待されたトークだけが表示されます。チャットでのやり取りは正式な決裁にはなりません。利用期間を過ぎると、自動的にサインインできなくなります。",
        "Use it for the work you were invited for only. You see only the talks you are invited into. Agreement in chat is not a formal decision. After your period ends you can no longer sign in.",
    ),
    (
        "invite_set_password",
        "パスワードを設定する",
        "Set the password",
    ),
    (
        "invite_done",
        "パスワードを設定しました。次のログインIDでサインインしてください。",
        "Your password is set. Sign in with this login ID.",
    ),
    // 申請 (issue 10): the lists, the guest application form and one application.
    ("applications", "申請", "Applications"),
    (
        "notice_app_waiting",
        "承認を待っている申請があります。",
        "An application is waiting for your decision.",
    ),
    (
        "notice_app_approved",
        "あなたの申請が承認されました。",
        "Your application was approved.",
    ),
    (
        "notice_app_rejected",
        "あなたの申請は却下されました。",
        "Your application was rejected.",
    ),
    (
        "notice_app_returned",
        "あなたの申請が差し戻されました。理由を確認して修正してください。",
        "Your application was returned. See the reason and correct it.",
    ),
    (
        "notice_guest_ending",
        "ゲストの利用期間が残り{days}日で終わります。引き続き必要な場合は、延長を申請してください。",
        "A guest's period ends in {days} days. Apply for an extension if it is still needed.",
    ),
    ("notice_app_open", "申請を開く", "Open the application"),
    ("app_mine", "自分の申請", "My applications"),
    ("app_queue", "承認待ち", "Waiting for approval"),
    ("app_lists", "申請の一覧", "Application lists"),
    (
        "app_queue_count",
        "承認待ち {n}件",
        "{n} waiting for approval",
    ),
    ("app_new", "ゲストの利用を申請する", "Apply for a guest"),
    (
        "app_new_title",
        "ゲスト利用申請",
        "Guest access application",
    ),
    ("app_edit_title", "申請内容の修正", "Edit the application"),
    (
        "app_lead_mine",
        "自分が行った申請です。新しいものから順に表示しています。",
        "Applications you made, newest first.",
    ),
    (
        "app_lead_queue",
        "承認を待っている申請です。古いものから順に表示しています。内容を確認し、承認、差し戻し又は却下をしてください。",
        "Applications waiting for a decision, oldest first. Check each one and approve, return or reject it.",
    ),
    (
        "app_none_mine",
        "申請はまだありません。",
        "You have no applications yet.",
    ),
    (
        "app_none_mine_hint",
        "他の団体や事業者の担当者とトークでやり取りする必要がある場合は、「ゲストの利用を申請する」から申請してください。",
        "To talk with someone from another body or a company, use \"Apply for a guest\".",
    ),
    (
        "app_none_queue",
        "承認を待っている申請はありません。",
        "No application is waiting for a decision.",
    ),
    ("app_guest", "ゲスト", "Guest"),
    ("app_kind", "種類", "Kind"),
    ("app_applicant", "申請者", "Applicant"),
    ("app_period", "利用期間", "Period"),
    ("app_state", "状態", "Status"),
    ("app_days_left", "残り日数", "Days left"),
    ("app_days_left_n", "あと{n}日", "{n} days left"),
    ("app_days_today", "本日が最終日", "Ends today"),
    ("app_days_over", "期間終了", "Period over"),
    ("app_submitted_at", "申請日時", "Submitted"),
    ("app_created_at", "作成日時", "Created"),
    ("app_fiscal_year", "年度", "Fiscal year"),
    ("app_back", "申請の一覧に戻る", "Back to applications"),
    (
        "app_back_to_application",
        "申請の詳細に戻る",
        "Back to the application",
    ),
    (
        "app_form_lead",
        "他の団体や事業者の担当者が、ゲストとしてトークに参加できるよう申請します。システム管理者が承認すると、ゲスト用のIDと招待リンクが発行されます。",
        "Apply for someone from another body or a company to take part in talks as a guest. Once an administrator approves, a guest ID and an invitation link are issued.",
    ),
    (
        "app_all_required",
        "すべての項目を入力してください。",
        "Every field is required.",
    ),
    ("app_section_purpose", "目的と必要性", "Purpose and need"),
    ("app_section_guest", "ゲストの情報", "The guest"),
    (
        "app_section_confirm",
        "利用環境の確認",
        "The guest's environment",
    ),
    ("app_purpose", "利用目的", "Purpose"),
    (
        "app_purpose_hint",
        "ゲストが参加する業務を具体的に記入してください（500文字以内）。例：令和8年度総合防災訓練の合同準備",
        "The work the guest takes part in (up to 500 characters), e.g. joint preparation of the disaster drill.",
    ),
    ("app_need", "トークが必要な理由", "Why a talk is needed"),
    (
        "app_need_hint",
        "メールや電話ではなく、トークでやり取りする必要がある理由を記入してください（500文字以内）。",
        "Why this needs a talk rather than mail or telephone (up to 500 characters).",
    ),
    ("app_guest_name", "ゲストの氏名", "Guest's name"),
    (
        "app_guest_name_hint",
        "トークで表示される名前です（50文字以内）。",
        "The name shown in talks (up to 50 characters).",
    ),
    (
        "app_guest_affiliation",
        "所属（団体・会社）",
        "Affiliation (body or company)",
    ),
    (
        "app_guest_affiliation_hint",
        "「ゲスト（所属）」として、名前とともに職員に表示されます（100文字以内）。",
        "Shown to staff with the name, as \"Guest (affiliation)\" (up to 100 characters).",
    ),
    (
        "app_guest_email",
        "連絡先メールアドレス",
        "Contact e-mail address",
    ),
    (
        "app_guest_email_hint",
        "ゲストへの連絡に使います。招待リンクは自動では送信されません。",
        "For contacting the guest. The invitation link is not sent automatically.",
    ),
    ("app_start_date", "開始日", "Start date"),
    ("app_end_date", "終了日", "End date"),
    (
        "app_start_hint",
        "開始日は今日以降の日付を指定してください。",
        "The start date is today or later.",
    ),
    (
        "app_end_hint",
        "終了日は年度末までです（今年度に始まる場合は{last}まで）。年度をまたぐ期間は申請できません。",
        "The end date is no later than the end of the fiscal year ({last} for a period starting this fiscal year). A period cannot cross into the next fiscal year.",
    ),
    (
        "app_confirm_env",
        "ゲストが使用する端末及び通信環境が、ゲスト利用の手順に定める要件を満たしていることを確認しました。",
        "I have confirmed that the device and network the guest uses meet the requirements of the guest procedure.",
    ),
    (
        "app_confirm_env_hint",
        "確認できない場合は申請せず、情報システム担当者に相談してください。",
        "If you cannot confirm this, do not apply; ask your system administrator.",
    ),
    ("app_submit", "申請する", "Submit"),
    ("app_save_draft", "下書きとして保存", "Save as draft"),
    (
        "app_submit_note",
        "「申請する」を押すと、システム管理者に承認の依頼が届きます。下書きは自分だけが見られます。",
        "\"Submit\" sends it to the administrators for approval. A draft is seen by you only.",
    ),
    ("app_save", "修正を保存する", "Save changes"),
    ("app_save_submit", "保存して提出する", "Save and submit"),
    (
        "app_save_resubmit",
        "保存して再提出する",
        "Save and resubmit",
    ),
    (
        "app_edit_note",
        "「修正を保存する」では提出されません。提出するまで、承認の手続は進みません。",
        "\"Save changes\" does not submit it; nothing moves on until it is submitted.",
    ),
    ("app_summary", "申請の概要", "Summary"),
    ("app_content", "申請の内容", "What was applied for"),
    ("app_confirmed", "確認済み", "Confirmed"),
    ("app_not_confirmed", "未確認", "Not confirmed"),
    ("app_ext_target", "延長する申請", "Application extended"),
    (
        "app_ext_target_link",
        "元の申請を表示",
        "Show the application",
    ),
    ("app_ext_end", "延長後の終了日", "New end date"),
    ("app_ext_reason", "延長の理由", "Reason for the extension"),
    ("app_decide", "承認の判断", "Decision"),
    ("app_approve", "承認する", "Approve"),
    (
        "app_approve_hint",
        "承認すると、ゲスト用のIDと招待リンクが発行され、申請者に通知されます。",
        "Approving issues a guest ID and an invitation link, and the applicant is told.",
    ),
    (
        "app_approve_hint_other",
        "承認すると、申請者に通知されます。",
        "Approving tells the applicant.",
    ),
    ("app_return_or_reject", "差し戻し・却下", "Return or reject"),
    ("app_reason", "理由", "Reason"),
    (
        "app_reason_hint",
        "申請者に伝わります。差し戻す場合は修正してほしい点を、却下する場合はその理由を具体的に記入してください（1000文字以内）。",
        "The applicant sees it. Say what to change when returning, or why when rejecting (up to 1000 characters).",
    ),
    ("app_request_changes", "差し戻す", "Return for changes"),
    ("app_reject", "却下する", "Reject"),
    (
        "app_reject_confirm",
        "この申請を却下します。却下した申請は元に戻せません。よろしいですか",
        "Reject this application? A rejection cannot be undone",
    ),
    ("app_actions", "申請者の操作", "Your actions"),
    ("app_submit_draft", "提出する", "Submit"),
    ("app_resubmit", "再提出する", "Resubmit"),
    ("app_edit", "内容を修正する", "Edit"),
    ("app_withdraw", "取り下げる", "Withdraw"),
    (
        "app_withdraw_confirm",
        "この申請を取り下げます。取り下げた申請は元に戻せません。よろしいですか",
        "Withdraw this application? It cannot be undone",
    ),
    (
        "app_draft_note",
        "下書きです。内容を確認して「提出する」を押すと、システム管理者に承認の依頼が届きます。",
        "This is a draft. Check it and press \"Submit\" to send it to the administrators.",
    ),
    (
        "app_returned_note",
        "差し戻された申請です。内容を修正してから再提出してください。",
        "This application was returned. Edit it, then resubmit it.",
    ),
    (
        "app_waiting_note",
        "システム管理者の承認を待っています。承認の前であれば取り下げることができます。",
        "Waiting for an administrator. You can withdraw it until it is decided.",
    ),
    (
        "app_returned_reason",
        "差し戻しの理由",
        "Why it was returned",
    ),
    ("app_rejected_reason", "却下の理由", "Why it was rejected"),
    (
        "app_showing_latest",
        "現在の内容を表示しています。",
        "It is shown as it is now.",
    ),
    ("app_history", "処理の履歴", "History"),
    (
        "app_by_system",
        "システム（自動処理）",
        "System (automatic)",
    ),
    ("app_step_create", "下書きを作成", "Draft created"),
    ("app_step_submit", "提出", "Submitted"),
    ("app_step_edit", "内容を修正", "Edited"),
    ("app_step_resubmit", "再提出", "Resubmitted"),
    ("app_step_withdraw", "取り下げ", "Withdrawn"),
    ("app_step_approve", "承認", "Approved"),
    ("app_step_reject", "却下", "Rejected"),
    ("app_step_request_changes", "差し戻し", "Returned"),
    ("app_step_activate", "利用開始", "Started"),
    ("app_step_end", "利用終了", "Ended"),
    ("app_step_extend", "期間を延長", "Extended"),
    (
        "app_done_draft",
        "下書きとして保存しました。提出するまで、承認の手続は進みません。",
        "Saved as a draft. Nothing moves on until you submit it.",
    ),
    (
        "app_done_submit",
        "申請しました。承認をお待ちください（団体間グループは、参加するすべての団体のシステム管理者が承認します）。",
        "Submitted. It now waits for approval (for an inter-body group, by an administrator of every participating body).",
    ),
    (
        "app_done_edit",
        "修正を保存しました。",
        "Your changes are saved.",
    ),
    ("app_done_save", "保存しました。", "Saved."),
    (
        "app_done_resubmit",
        "再提出しました。承認をお待ちください（団体間グループは、参加するすべての団体のシステム管理者があらためて承認します）。",
        "Resubmitted. It now waits for approval (for an inter-body group, again by every participating body).",
    ),
    (
        "app_done_withdraw",
        "申請を取り下げました。",
        "The application was withdrawn.",
    ),
    (
        "app_done_approve",
        "承認しました。申請者に通知しました。",
        "Approved. The applicant has been told.",
    ),
    (
        "app_done_reject",
        "却下しました。申請者に理由を通知しました。",
        "Rejected. The applicant has been told why.",
    ),
    (
        "app_done_request_changes",
        "差し戻しました。申請者に理由を通知しました。",
        "Returned. The applicant has been told what to change.",
    ),
    (
        "app_invitation",
        "ゲストへの招待",
        "Invitation for the guest",
    ),
    (
        "app_invitation_lead",
        "次のログインIDと招待リンクを、メールなどでゲスト本人に伝えてください。ゲストはリンクを開いてパスワードを設定すると、利用期間中にサインインできます。",
        "Pass this login ID and invitation link on to the guest, by mail for example. The guest opens the link, sets a password, and can sign in during the period.",
    ),
    (
        "app_guest_login_id",
        "ゲストのログインID",
        "Guest's login ID",
    ),
    ("app_invitation_link", "招待リンク", "Invitation link"),
    (
        "app_invitation_expires",
        "リンクの有効期限",
        "Link valid until",
    ),
    ("app_copy", "コピー", "Copy"),
    ("app_copied", "コピーしました。", "Copied."),
    (
        "app_copy_failed",
        "コピーできませんでした。リンクを選択した状態にしましたので、Ctrl+C（Macでは⌘+C）でコピーしてください。",
        "It could not be copied. The link is selected: press Ctrl+C (⌘+C on a Mac).",
    ),
    (
        "app_invitation_once",
        "このリンクは1回だけ使えます。",
        "The link works once. ",
    ),
    (
        "app_invitation_private",
        "ゲストがパスワードを設定すると無効になります。リンクを知っている人は誰でもパスワードを設定できるため、ゲスト本人以外には伝えないでください。",
        "It stops working when the guest sets a password. Anyone with the link can set the password, so give it to the guest only.",
    ),
    (
        "app_invitation_address",
        "ゲストが庁外から接続する場合のアドレスがこの画面のアドレスと異なるときは、情報システム担当者に確認してください。",
        "If guests reach this server at a different address from the one on this screen (from outside the office), ask your system administrator.",
    ),
    (
        "app_invitation_accepted",
        "ゲストがパスワードを設定しました（{at}）。招待リンクは使用済みです。",
        "The guest set a password ({at}). The invitation link has been used.",
    ),
    (
        "app_invitation_expired",
        "招待リンクの有効期限が切れています。ゲストがまだパスワードを設定していない場合は、システム管理者に相談してください。",
        "The invitation link has expired. If the guest has not set a password yet, ask an administrator.",
    ),
    ("app_guest_account", "ゲストのID", "Guest ID"),
    ("app_guest_status", "利用状況", "Status"),
    ("app_guest_pending", "利用開始前", "Not started"),
    ("app_guest_active", "利用中", "Active"),
    ("app_guest_ended", "利用終了", "Ended"),
    ("app_password_set", "設定済み（{at}）", "Set ({at})"),
    (
        "app_password_unset",
        "未設定（招待リンクが未使用）",
        "Not set (invitation not used)",
    ),
    ("app_kind_choice", "申請の種類", "Kind of application"),
    ("app_kind_guest", "ゲスト利用", "Guest access"),
    ("app_kind_group", "団体間グループ", "Inter-body group"),
    ("app_subject", "対象", "Subject"),
    (
        "app_new_group",
        "団体間グループを申請する",
        "Apply for an inter-body group",
    ),
    (
        "app_group_title",
        "団体間グループの申請",
        "Inter-body group application",
    ),
    (
        "app_group_lead",
        "この環境を利用している他の団体の職員と、期間を定めて一つのトーク（団体間グループ）を共有するための申請です。参加するすべての団体のシステム管理者が承認すると、開始日にグループのトークが作成されます。",
        "Apply for a talk shared for a set period with staff of other bodies using this server (an inter-body group). Once the administrators of every participating body approve, the group's talk is made on the start date.",
    ),
    ("app_section_group", "グループ", "The group"),
    (
        "app_group_purpose_hint",
        "グループで行う業務を具体的に記入してください（500文字以内）。例：令和8年度広域避難訓練の調整",
        "The work the group does (up to 500 characters), e.g. coordinating the joint evacuation drill.",
    ),
    (
        "app_group_need",
        "グループが必要な理由",
        "Why a group is needed",
    ),
    (
        "app_group_need_hint",
        "メールや電話ではなく、団体をまたいだトークでやり取りする必要がある理由を記入してください（500文字以内）。",
        "Why this needs a talk shared between bodies rather than mail or telephone (up to 500 characters).",
    ),
    ("app_talk_name", "グループ名", "Group name"),
    (
        "app_talk_name_hint",
        "グループのトークの名前として、参加者全員に表示されます（50文字以内）。",
        "Shown to every member as the name of the group's talk (up to 50 characters).",
    ),
    (
        "app_own_members",
        "自団体の参加者",
        "Members from your body",
    ),
    (
        "app_own_members_hint",
        "申請者は必ず参加するため、選ぶ必要はありません。参加する職員は、承認の際に自団体のシステム管理者が確定します。",
        "You always take part and need not be chosen. Your body's administrator confirms who joins when approving.",
    ),
    (
        "app_no_staff",
        "選ぶことのできる職員がいません。",
        "There is nobody to choose.",
    ),
    ("app_filter_people", "氏名で絞り込む", "Filter by name"),
    ("app_selected_n", "{n}人を選択中", "{n} selected"),
    ("app_bodies", "参加する団体", "Participating bodies"),
    (
        "app_bodies_hint",
        "自団体以外の団体を選び、それぞれに参加をお願いする職員を記入してください。他の団体の職員名簿は表示されません。相手の団体のシステム管理者が、記入された内容をもとに参加する職員を選びます。",
        "Choose bodies other than your own and say whom you ask each one for. Other bodies' staff lists are not shown: each body's administrator chooses its members from what you write.",
    ),
    ("app_requested", "参加をお願いする職員", "Whom you ask for"),
    (
        "app_requested_hint",
        "例：防災課の担当者2名",
        "e.g. two people from the disaster-prevention section",
    ),
    (
        "app_no_bodies",
        "この環境には他の団体が登録されていないため、団体間グループを申請することはできません。",
        "No other body uses this server, so an inter-body group cannot be applied for.",
    ),
    (
        "app_group_submit_note",
        "「申請する」を押すと、自団体及び参加する各団体のシステム管理者に承認の依頼が届きます。",
        "\"Submit\" asks the administrators of your body and of every participating body for approval.",
    ),
    (
        "app_open_talk",
        "グループのトークを開く",
        "Open the group's talk",
    ),
    (
        "app_bodies_status",
        "参加団体と承認の状況",
        "Participating bodies and their approval",
    ),
    ("app_body_name", "団体名", "Body"),
    ("app_body_requested", "依頼内容", "Asked for"),
    ("app_body_approval", "承認", "Approval"),
    ("app_body_members", "参加者", "Members"),
    ("app_body_applicant", "申請団体", "Applying body"),
    ("app_body_yours", "自団体", "Your body"),
    ("app_body_approved", "承認済み", "Approved"),
    ("app_body_approved_by", "{who}（{at}）", "{who} ({at})"),
    (
        "app_extend_closed",
        "終了日が年度末のため、これ以上延長することはできません。新年度も必要な場合は、改めて申請してください。",
        "The end date is already the end of the fiscal year, so it cannot be extended. For the next fiscal year, apply anew.",
    ),
    ("app_body_waiting", "承認待ち", "Waiting"),
    (
        "app_own_requested",
        "申請者が指名した職員：",
        "Named by the applicant: ",
    ),
    ("app_people_n", "{n}名", "{n} people"),
    (
        "app_members_title",
        "自団体から参加する職員",
        "Your staff who join",
    ),
    (
        "app_members_hint",
        "自団体の職員のうち、このグループに参加する職員を選んでください（1人以上100人以内）。他の団体の参加者には、選んだ職員の氏名と団体名だけが表示されます。",
        "Choose who of your body's staff join this group (1 to 100). Members from other bodies see only their names and your body's name.",
    ),
    (
        "app_members_applicant",
        "申請者（{name}）は、選ばなくても参加します。",
        "The applicant ({name}) takes part without being chosen.",
    ),
    (
        "app_approve_body",
        "自団体として承認する",
        "Approve for your body",
    ),
    (
        "app_approve_hint_group",
        "すべての参加団体が承認すると申請者に通知され、開始日にグループのトークが作成されます。",
        "Once every participating body approves, the applicant is told and the group's talk is made on the start date.",
    ),
    (
        "app_approve_hint_group_extension",
        "自団体として承認します。すべての参加団体が承認すると、終了日が延長されます。",
        "You approve for your body. Once every participating body approves, the end date moves.",
    ),
    (
        "app_done_approve_body",
        "自団体として承認しました。他の団体の承認を待っています。",
        "Approved for your body. It now waits for the other bodies.",
    ),
    (
        "app_step_approve_body",
        "団体として承認",
        "Approved for a body",
    ),
    ("app_extend", "期間の延長を申請", "Apply for an extension"),
    (
        "app_extend_lead_guest",
        "利用期間を延長する必要がある場合は、延長後の終了日と理由を入力して申請してください。システム管理者が承認すると、終了日が延長されます。",
        "If the period needs to be longer, enter the new end date and the reason. Once an administrator approves, the end date moves.",
    ),
    (
        "app_extend_lead_group",
        "利用期間を延長する必要がある場合は、延長後の終了日と理由を入力して申請してください。参加するすべての団体のシステム管理者が承認すると、終了日が延長されます。",
        "If the period needs to be longer, enter the new end date and the reason. Once the administrators of every participating body approve, the end date moves.",
    ),
    (
        "app_extend_hint",
        "現在の終了日は{end}です。延長後の終了日は、{last}までの日付を指定してください。年度をまたいで利用する場合は、新年度に改めて申請してください。",
        "The current end date is {end}. The new one can be no later than {last}; for the next fiscal year, apply anew.",
    ),
    (
        "app_extend_reason_hint",
        "引き続き必要となる理由を記入してください（500文字以内）。",
        "Why it is still needed (up to 500 characters).",
    ),
    (
        "app_extend_submit",
        "延長を申請する",
        "Apply for the extension",
    ),
    ("guest_list", "ゲストの一覧", "Guests"),
    (
        "guest_list_lead",
        "この団体のゲストです。利用前・利用中のゲストは終了日が近い順に、終了したゲストは終了日が新しい順に表示しています。",
        "Your body's guests: current and upcoming ones by the nearest end date, ended ones latest first.",
    ),
    (
        "guest_list_current",
        "利用前・利用中のゲスト",
        "Current and upcoming guests",
    ),
    ("guest_list_ended", "終了したゲスト", "Ended guests"),
    (
        "guest_list_none",
        "該当するゲストはいません。",
        "No guests.",
    ),
    ("guest_list_name", "氏名", "Name"),
    ("guest_list_affiliation", "所属", "Affiliation"),
    ("guest_list_status", "状況", "Status"),
    ("guest_list_sponsor", "申請者", "Applicant"),
    ("guest_list_application", "申請", "Application"),
    ("guest_list_open", "申請を表示", "Show"),
    ("guest_status_pending", "利用前", "Not started"),
    ("guest_status_active", "利用中", "Active"),
    ("guest_status_ended", "終了", "Ended"),
    ("guest_status_suspended", "利用停止中", "Suspended"),
    ("guest_days_today", "本日まで", "Ends today"),
    ("guest_days_over", "終了", "Over"),
    ("password", "パスワード", "Password"),
    ("warning", "ご利用上の注意", "Notice"),
    ("language", "English", "日本語"),
    ("home", "ホーム", "Home"),
    ("welcome", "ようこそ", "Welcome"),
    ("last_sign_in", "前回のサインイン", "Last sign-in"),
    ("last_sign_out", "前回のサインアウト", "Last sign-out"),
    (
        "first_sign_in",
        "今回が初めてのサインインです。",
        "This is your first sign-in.",
    ),
    (
        "failed_since",
        "前回のサインイン以降の失敗回数",
        "Failed attempts since then",
    ),
    (
        "failed_warning",
        "心当たりのない失敗がある場合は、情報システム担当者に連絡してください。",
        "If you do not recognise these failures, tell your system administrator.",
    ),
    ("times", "回", ""),
    ("change_password", "パスワードの変更", "Change password"),
    (
        "change_password_required",
        "パスワードを変更してください（初めてのサインイン、管理者による再発行、または2要素認証の解除のため）。",
        "Choose a new password to continue (first sign-in, a reset by an administrator, or two-factor authentication turned off).",
    ),
    ("current_password", "現在のパスワード", "Current password"),
    ("new_password", "新しいパスワード", "New password"),
    (
        "confirm_password",
        "新しいパスワード(確認)",
        "New password (again)",
    ),
    (
        "password_hint",
        "15文字以上(特権IDは16文字以上)。記号などの組合せは不要です。長い文や単語の組合せが安全です。氏名やログインIDを含むもの、よく使われるものは使えません。",
        "At least 15 characters (16 for privileged IDs). No symbol rules: a long phrase or several words is safest. Your name, login ID and common passwords are not allowed.",
    ),
    ("save", "保存する", "Save"),
    (
        "password_changed",
        "パスワードを変更しました。",
        "Your password has been changed.",
    ),
    ("sessions", "サインイン中の端末", "Signed-in devices"),
    ("security", "2要素認証", "Two-factor authentication"),
    ("devices", "端末", "Devices"),
    (
        "notice_new_device",
        "新しい端末からのサインインがありました",
        "A sign-in came from a new device",
    ),
    (
        "notice_new_device_hint",
        "心当たりがない場合は、「サインイン中の端末」でその端末を紛失として届け出て、パスワードを変更してください。",
        "If it was not you, report that device lost at Signed-in devices and change your password.",
    ),
    (
        "devices_hint",
        "インターネット側（スマートフォン等）から使われる端末です。新しい端末は、承認するまで使えません（サインインの設定による）。紛失の届出があった端末は、すぐに紛失として扱ってください。",
        "Devices used from the internet side (smartphones etc.). New devices cannot be used until approved (see sign-in settings). Mark a device lost as soon as it is reported.",
    ),
    (
        "devices_none",
        "登録された端末はありません。",
        "No devices are registered.",
    ),
    ("user", "職員", "Staff"),
    ("first_seen", "登録", "Registered"),
    ("device_pending", "承認待ち", "Waiting for approval"),
    ("device_active", "利用中", "In use"),
    ("device_refused", "利用不可", "Refused"),
    ("device_lost", "紛失", "Lost"),
    ("device_approve", "承認する", "Approve"),
    ("device_refuse", "利用を認めない", "Refuse"),
    ("device_mark_lost", "紛失として扱う", "Treat as lost"),
    ("device_restore", "利用を再開する", "Restore"),
    (
        "my_devices",
        "登録した端末（スマートフォン等）",
        "Registered devices (smartphones etc.)",
    ),
    (
        "my_devices_hint",
        "インターネット側からサインインした端末です。紛失したときは「紛失した」を押すと、その端末はすぐにサインアウトされ、使えなくなります。",
        "Devices you signed in with from the internet side. If one is lost, press \"Lost\": it is signed out at once and blocked.",
    ),
    (
        "my_devices_none",
        "登録された端末はありません。職場のパソコンからの利用では登録は不要です。",
        "No devices are registered. Office PCs need no registration.",
    ),
    ("device_rename", "名前を変える", "Rename"),
    ("device_name", "端末の名前", "Device name"),
    ("device_report_lost", "紛失した", "Lost"),
    (
        "device_report_lost_confirm",
        "この端末を紛失として届け出ます。端末はすぐにサインアウトされ、管理者が再開するまで使えません。よろしいですか",
        "Report this device lost? It is signed out at once and blocked until an administrator restores it",
    ),
    (
        "device_lost_done",
        "端末を紛失として届け出ました。その端末のサインインはすべて終了しました。",
        "The device was reported lost. Every session on it has ended.",
    ),
    (
        "device_approval_setting",
        "スマートフォン等の新しい端末は、管理者の承認後に使えるようにする",
        "New internet devices wait for an administrator's approval",
    ),
    ("devices_settings", "端末の登録", "Device registration"),
    ("mfa_app", "認証アプリ", "Authenticator app"),
    (
        "passkeys",
        "パスキー・セキュリティキー",
        "Passkeys and security keys",
    ),
    ("passkey_setup_title", "パスキーを使う", "Use a passkey"),
    (
        "passkey_setup_lead",
        "パソコンやスマートフォンの顔認証・指紋認証・PIN（Windows Hello など）や、USBのセキュリティキーで確認できます。確認コードを入力する必要はありません。",
        "Confirm with your device's face, fingerprint or PIN (Windows Hello and the like) or a USB security key, without typing a code.",
    ),
    ("passkey_name", "パスキーの名前", "Name"),
    ("passkey_default_name", "このパソコン", "This computer"),
    (
        "passkey_name_hint",
        "どの端末か分かる名前にします（例: 執務室のパソコン）。",
        "A name that tells you which device it is (e.g. office PC).",
    ),
    (
        "passkey_register",
        "パスキーを登録する",
        "Register a passkey",
    ),
    ("passkey_add", "パスキーを追加する", "Add a passkey"),
    (
        "passkey_cancelled",
        "パスキーの操作が取り消されたか、時間内に完了しませんでした。もう一度お試しください。",
        "The passkey prompt was cancelled or timed out. Please try again.",
    ),
    (
        "passkey_sign_in_lead",
        "登録したパスキー（顔認証・指紋認証・PIN、セキュリティキー）で確認します。",
        "Confirm with a passkey you registered (face, fingerprint, PIN, or a security key).",
    ),
    (
        "passkey_sign_in",
        "パスキーで確認する",
        "Confirm with a passkey",
    ),
    (
        "passkey_done",
        "パスキーを登録しました。",
        "The passkey is registered.",
    ),
    (
        "passkey_removed",
        "パスキーを削除しました。",
        "The passkey was removed.",
    ),
    ("passkey_added", "登録", "Added"),
    ("passkey_last_used", "最終使用", "last used"),
    ("passkey_remove", "削除する", "Remove"),
    ("mfa_verify_title", "確認コードの入力", "Verification code"),
    (
        "mfa_verify_lead",
        "スマートフォンの認証アプリに表示されている6桁の確認コードを入力してください。",
        "Enter the 6-digit code shown in the authenticator app on your phone.",
    ),
    ("mfa_code", "確認コード", "Verification code"),
    (
        "mfa_code_hint",
        "認証アプリを使えないときは、保管しているリカバリーコード（例: ABCD-EFGH-JKLM-NPQR）を入力できます。各コードは1回だけ使えます。",
        "If you cannot use the app, enter one of your recovery codes (e.g. ABCD-EFGH-JKLM-NPQR). Each works once.",
    ),
    ("mfa_submit", "確認する", "Verify"),
    (
        "mfa_lost_device",
        "スマートフォンを紛失し、リカバリーコードもない場合は、情報システム担当者に2要素認証のリセットを依頼してください。",
        "If you lost your phone and have no recovery code, ask your system administrator to reset your two-factor authentication.",
    ),
    (
        "mfa_other_id",
        "別のIDでサインインする",
        "Sign in with another ID",
    ),
    (
        "mfa_setup_title",
        "認証アプリの登録",
        "Set up an authenticator app",
    ),
    (
        "mfa_enrol_title",
        "2要素認証の登録",
        "Set up two-factor authentication",
    ),
    (
        "mfa_setup_required",
        "このIDは、サインインのたびにパスワードに加えて、もう一つの確認が必要です（2要素認証）。続けるには、認証アプリかパスキーを登録してください。",
        "This ID needs a second check besides the password at each sign-in (two-factor authentication). Set up an authenticator app or a passkey to continue.",
    ),
    (
        "mfa_setup_step1",
        "スマートフォンに認証アプリ（Google Authenticator、Microsoft Authenticator など）を用意します。",
        "Install an authenticator app on your phone (Google Authenticator, Microsoft Authenticator, etc.).",
    ),
    (
        "mfa_setup_step2",
        "アプリでこのQRコードを読み取ります。読み取れない場合は、下のキーを手入力してください。",
        "Scan this QR code with the app. If it cannot scan, type the key below.",
    ),
    (
        "mfa_setup_step3",
        "アプリに表示された6桁の確認コードを入力して、登録を完了します。",
        "Enter the 6-digit code the app shows to finish.",
    ),
    ("mfa_secret", "手入力用のキー", "Key for manual entry"),
    ("mfa_setup_submit", "登録する", "Finish set-up"),
    ("mfa_codes_title", "リカバリーコード", "Recovery codes"),
    (
        "mfa_codes_lead",
        "スマートフォンを使えないときに、確認コードの代わりに入力するコードです。各コードは1回だけ使えます。この画面は今回しか表示されません。印刷するか、書き写して、他人の目に触れない場所に保管してください。",
        "Use these instead of a verification code when you cannot use your phone. Each works once. This page is shown only now: print or copy them and keep them where no one else can see them.",
    ),
    ("mfa_codes_print", "印刷する", "Print"),
    (
        "mfa_codes_saved",
        "保管しました。続ける",
        "I have kept them. Continue",
    ),
    ("mfa_status_on", "登録済み", "Set up"),
    ("mfa_status_off", "未登録", "Not set up"),
    ("mfa_since", "登録日時", "Set up on"),
    ("mfa_codes_left", "未使用のコード", "Unused codes"),
    (
        "mfa_codes_low",
        "リカバリーコードが残り少なくなっています。再発行してください。",
        "You are running out of recovery codes. Issue new ones.",
    ),
    (
        "mfa_required_note",
        "あなたのIDは、団体の方針により2要素認証が必須です。解除はできませんが、認証アプリの変更はできます。",
        "Your body requires two-factor authentication for your ID. It cannot be turned off, but you can move it to another app.",
    ),
    (
        "mfa_optional_note",
        "2要素認証を登録すると、パスワードが漏えいしても、あなたのスマートフォンがなければサインインできなくなります。",
        "With two-factor authentication, a leaked password is not enough to sign in without your phone.",
    ),
    ("mfa_replace", "認証アプリを変更する", "Move to another app"),
    (
        "mfa_start",
        "認証アプリを登録する",
        "Set up an authenticator app",
    ),
    (
        "mfa_new_codes",
        "リカバリーコードを再発行する",
        "Issue new recovery codes",
    ),
    (
        "mfa_new_codes_note",
        "再発行すると、これまでのリカバリーコードは使えなくなります。",
        "Issuing new codes makes the old ones stop working.",
    ),
    (
        "mfa_remove",
        "2要素認証を解除する",
        "Turn off two-factor authentication",
    ),
    (
        "mfa_password_to_confirm",
        "本人確認のため、パスワードを入力してください。",
        "Enter your password to confirm it is you.",
    ),
    (
        "mfa_done_totp",
        "認証アプリを登録しました。",
        "The authenticator app is set up.",
    ),
    (
        "mfa_done_removed",
        "2要素認証を解除しました。",
        "Two-factor authentication is off.",
    ),
    ("mfa_admin_on", "2要素認証: 登録済み", "Two-factor: set up"),
    (
        "mfa_admin_off",
        "2要素認証: 未登録",
        "Two-factor: not set up",
    ),
    (
        "mfa_reset",
        "2要素認証をリセットする",
        "Reset two-factor authentication",
    ),
    ("mfa_reset_reason", "リセットの理由", "Reason"),
    (
        "mfa_reset_hint",
        "10文字以上。理由は記録され、本人にも通知されます。リセットすると、本人のサインイン中の端末はすべてサインアウトされます。",
        "At least 10 characters. The reason is recorded and shown to the user. Every session of the user ends.",
    ),
    (
        "mfa_reset_done",
        "2要素認証をリセットしました。",
        "Two-factor authentication was reset.",
    ),
    ("sign_in_settings", "サインインの設定", "Sign-in settings"),
    (
        "sign_in_settings_lead",
        "パスワードに加えて確認コード（2要素認証）を必須とする範囲を設定します。特権ID（システム管理者、情報セキュリティ責任者、CSIRT、監査担当）は常に必須です。",
        "Choose who must use a verification code in addition to the password. Privileged IDs (administrators, security officers, CSIRT, auditors) always must.",
    ),
    (
        "mfa_by_role",
        "役割ごとに必須とする",
        "Required for these roles",
    ),
    (
        "mfa_by_device",
        "端末の種類ごとに必須とする（全職員）",
        "Required on these devices (everyone)",
    ),
    ("always", "（常に必須）", "(always)"),
    (
        "screen_and_sessions",
        "サインイン画面とセッション",
        "Sign-in screen and sessions",
    ),
    (
        "login_message_ja",
        "サインイン画面に表示するメッセージ（日本語）",
        "Message on the sign-in screen (Japanese)",
    ),
    (
        "login_message_en",
        "サインイン画面に表示するメッセージ（英語）",
        "Message on the sign-in screen (English)",
    ),
    (
        "login_message_help",
        "1,000文字以内。空欄の場合はサーバー共通の注意書きを表示します。複数の団体が同じサーバーを使う場合、職員には次のアドレスを案内してください:",
        "Up to 1,000 characters. Left empty, the server's own warning is shown. Where several bodies share the server, give your staff this address:",
    ),
    (
        "idle_minutes",
        "操作がないときに自動でサインアウトするまでの時間（分）",
        "Minutes without activity before signing out automatically",
    ),
    (
        "lockout_threshold",
        "IDをロックするまでのパスワード誤り回数",
        "Wrong passwords before an ID is locked",
    ),
    (
        "lockout_minutes",
        "ロックする時間（分）",
        "Minutes an ID stays locked",
    ),
    (
        "lockout_help",
        "回数は3〜10回、時間は5〜1,440分。特権IDには、これより厳しい回数が適用されます。",
        "3–10 attempts and 5–1,440 minutes. Privileged IDs are never given more attempts than this.",
    ),
    (
        "show_last_sign_in",
        "ホーム画面に前回のサインイン・サインアウトの日時と失敗回数を表示する",
        "Show the previous sign-in and sign-out and the failed attempts on the home page",
    ),
    // Directory sign-in (I9): the ディレクトリ連携 card and each ID's sign-in method.
    (
        "directory_heading",
        "ディレクトリ連携（LDAP / Active Directory）",
        "Directory sign-in (LDAP / Active Directory)",
    ),
    (
        "directory_lead",
        "職員が庁内のディレクトリ（Active Directory など）のIDとパスワードでサインインできるようにします。Kairanは職員本人のIDとパスワードでディレクトリに接続して確認し、ディレクトリのパスワードは保存しません。ディレクトリを使うかどうかは、「職員」の画面でIDごとに切り替えます。",
        "Lets staff sign in with their ID and password in your directory (such as Active Directory). Kairan checks them by binding to the directory as the person and stores no directory password. Which IDs use the directory is set per ID on the Staff page.",
    ),
    ("directory_status", "設定の状況", "Status"),
    ("directory_configured", "設定済み", "Set up"),
    ("directory_not_configured", "未設定", "Not set up"),
    ("directory_users", "利用するID数", "IDs using it"),
    ("directory_url", "接続先（URL）", "Directory URL"),
    (
        "directory_url_help",
        "ldaps://（通常は636番ポート）で始めるか、ldap://（通常は389番ポート）とStartTLSを組み合わせてください。パスワードを暗号化せずに送る設定は保存できません。",
        "Use ldaps:// (usually port 636), or ldap:// (usually port 389) with StartTLS. Settings that would send a password unencrypted cannot be saved.",
    ),
    (
        "directory_starttls",
        "StartTLSで暗号化する（ldap:// の場合）",
        "Encrypt with StartTLS (for ldap://)",
    ),
    ("directory_bind_dn", "バインドDN", "Bind DN"),
    (
        "directory_bind_dn_help",
        "職員が入力したIDが入る位置に {login} を1か所だけ入れてください。例：Active Directoryでは {login}@example.local、OpenLDAPでは uid={login},ou=people,dc=example,dc=jp",
        "Put {login} once where the sign-in ID goes, e.g. {login}@example.local for Active Directory or uid={login},ou=people,dc=example,dc=jp for OpenLDAP.",
    ),
    (
        "directory_user_base",
        "利用者の検索起点（ベースDN）",
        "Base DN for users",
    ),
    (
        "directory_user_filter",
        "利用者の検索条件（フィルター）",
        "User filter",
    ),
    (
        "directory_user_filter_help",
        "{login} を1か所だけ入れてください。サインインのたびに、本人のエントリーがこの条件に一致することを確認し、一致しない場合はサインインできません。空欄の場合は (uid={login}) です。Active Directoryで無効にしたアカウントを除く場合の例：",
        "Put {login} in it once. At each sign-in the person's entry must match it, or the sign-in is refused. Left empty, (uid={login}). To leave out accounts disabled in Active Directory:",
    ),
    (
        "directory_group_base",
        "グループの検索起点（ベースDN）",
        "Base DN for groups",
    ),
    (
        "directory_group_base_help",
        "グループを権限や所属に対応づける場合に入力してください。",
        "Needed when groups are mapped to roles or departments.",
    ),
    (
        "directory_ca",
        "CA証明書（PEM形式）",
        "CA certificate (PEM)",
    ),
    (
        "directory_ca_help",
        "ディレクトリサーバーの証明書を発行した認証局の証明書を、-----BEGIN CERTIFICATE----- の行から貼り付けてください。空欄の場合は、このサーバーに登録されている認証局を使用します。いずれの場合も、証明書を確認できないディレクトリには接続しません。",
        "The certificate of the authority that issued the directory server's certificate, from the -----BEGIN CERTIFICATE----- line. Left empty, the authorities trusted by this server are used. Either way, a directory whose certificate cannot be verified is never used.",
    ),
    (
        "directory_timeout",
        "応答を待つ時間（秒）",
        "Seconds to wait for the directory",
    ),
    (
        "directory_timeout_help",
        "1〜60秒。空欄の場合は5秒です。時間内に応答がない場合、ディレクトリを使うIDはサインインできません（Kairanのパスワードを使うIDは影響を受けません）。",
        "1–60 seconds; left empty, 5. When the directory does not answer in time, IDs that use it cannot sign in (IDs with a Kairan password are not affected).",
    ),
    (
        "directory_role_groups",
        "グループと権限の対応づけ",
        "Groups that give a role",
    ),
    (
        "directory_role_groups_help",
        "1行に1件ずつ「グループのDN => 権限」の形で入力してください。サインインのたびに、所属するグループに合わせて権限を付与・解除します。特権ID（システム管理者など）の権限は対応づけできないため、「職員」の画面で付与してください。指定できる権限：",
        "One \"group DN => role\" a line. At each sign-in, roles are granted and removed to match the person's groups. Privileged roles (administrator and the like) cannot be mapped: grant them on the Staff page. Roles you can use:",
    ),
    (
        "directory_department_groups",
        "グループと所属の対応づけ",
        "Groups that place a user in a department",
    ),
    (
        "directory_department_groups_help",
        "1行に1件ずつ「グループのDN => 所属」の形で入力してください。所属は名前またはIDで指定します。複数の行に該当する場合は、上の行の所属になります。",
        "One \"group DN => department\" a line, the department by its name or ID. When several lines match, the first one counts.",
    ),
    (
        "directory_departments_list",
        "この団体の所属（名前とID）",
        "This body's departments (name and ID)",
    ),
    (
        "directory_remove",
        "ディレクトリ連携の設定を削除する",
        "Remove the directory settings",
    ),
    (
        "directory_remove_help",
        "削除すると、ディレクトリを使うIDはサインインできなくなります。設定し直すか、そのIDのサインイン方法をKairanのパスワードに切り替えてください。",
        "Once removed, IDs that use the directory can no longer sign in until the settings are back or the IDs are switched to a Kairan password.",
    ),
    (
        "directory_remove_confirm",
        "ディレクトリ連携の設定を削除すると、ディレクトリを使うIDはサインインできなくなります。削除しますか",
        "IDs that use the directory will no longer be able to sign in. Remove the directory settings",
    ),
    ("sign_in_method", "サインイン方法", "Sign-in method"),
    (
        "sign_in_method_local",
        "Kairanのパスワード",
        "Kairan password",
    ),
    (
        "sign_in_method_directory",
        "ディレクトリ（LDAP / Active Directory）",
        "Directory (LDAP / Active Directory)",
    ),
    (
        "sign_in_method_help",
        "切り替えると、このIDでサインイン中の画面やアプリはサインアウトされます。ディレクトリが停止したときのために、Kairanのパスワードでサインインするシステム管理者を1人以上残してください。",
        "Switching signs this ID out everywhere. Keep at least one administrator who signs in with a Kairan password, for when the directory is down.",
    ),
    (
        "sign_in_method_to_directory",
        "ディレクトリでのサインインに切り替える",
        "Switch to directory sign-in",
    ),
    (
        "sign_in_method_to_local",
        "Kairanのパスワードに切り替える",
        "Switch to a Kairan password",
    ),
    (
        "sign_in_method_to_local_help",
        "Kairanのパスワードに切り替えると、仮パスワードを発行します。次回のサインイン時に、本人がパスワードを変更します。",
        "Switching to a Kairan password issues a temporary password; the person changes it at their next sign-in.",
    ),
    (
        "sign_in_method_changed",
        "サインイン方法を切り替えました。",
        "The sign-in method was switched.",
    ),
    (
        "sign_in_method_local_done",
        "サインイン方法をKairanのパスワードに切り替えました。次の仮パスワードを本人に伝えてください。",
        "The sign-in method is now a Kairan password. Give the person this temporary password.",
    ),
    (
        "notice_mfa_reset",
        "管理者があなたの2要素認証をリセットしました。",
        "An administrator reset your two-factor authentication.",
    ),
    (
        "sessions_hint",
        "心当たりのない端末があれば、サインアウトさせてからパスワードを変更してください。",
        "If you do not recognise a device, sign it out and change your password.",
    ),
    ("device", "端末", "Device"),
    ("address", "接続元", "Address"),
    ("started", "開始", "Started"),
    ("last_seen", "最終操作", "Last active"),
    ("this_device", "この端末", "This device"),
    ("end_session", "サインアウトさせる", "Sign out"),
    ("admin", "管理", "Administration"),
    ("users", "職員", "Staff"),
    ("departments", "所属", "Departments"),
    ("privileged", "特権ID", "Privileged IDs"),
    ("audit_log", "監査ログ", "Audit log"),
    ("review_talks", "トークの閲覧（監査）", "Read talks (audit)"),
    (
        "review_hint",
        "監査や事案の調査のために、メンバーではないトークの内容を閲覧できます。閲覧の前に理由を入力してください。理由と閲覧の事実は記録され、監査担当者がいつでも確認できます。",
        "For an audit or an incident, you can read talks you are not a member of. State the reason first: the reason and the reading are recorded and shown to auditors.",
    ),
    ("review_talk", "閲覧するトーク", "Talk to read"),
    ("review_talk_col", "トーク", "Talk"),
    ("review_reason", "閲覧の理由", "Reason"),
    (
        "review_reason_hint",
        "10文字以上。例: 情報漏えいの疑いに関する調査（案件番号 2026-14）",
        "At least 10 characters, e.g. investigation of a suspected leak (case 2026-14)",
    ),
    (
        "review_submit",
        "理由を記録して閲覧する",
        "Record the reason and read",
    ),
    (
        "review_recorded",
        "この閲覧は記録されました。記録番号",
        "This reading has been recorded. Record",
    ),
    ("review_versions", "以前の版", "Earlier versions"),
    ("review_deleted", "削除されたメッセージ", "Deleted message"),
    ("review_edited", "編集", "Edited"),
    ("review_replaced_deleted", "削除", "Deleted"),
    ("review_history", "これまでの閲覧記録", "Readings so far"),
    ("review_reader", "閲覧者", "Reader"),
    (
        "review_none",
        "まだ閲覧記録はありません。",
        "No readings yet.",
    ),
    (
        "review_no_talks",
        "この団体にはまだトークがありません。",
        "This body has no talks yet.",
    ),
    ("review_messages", "件", " messages"),
    (
        "review_empty_talk",
        "このトークにはメッセージがありません。",
        "This talk has no messages.",
    ),
    ("new_user", "職員IDの作成", "New staff ID"),
    ("display_name", "氏名", "Name"),
    ("kana", "フリガナ", "Reading (kana)"),
    ("title", "職名", "Title"),
    ("department", "所属", "Department"),
    ("roles", "権限", "Roles"),
    ("status", "状態", "Status"),
    ("active", "利用中", "Active"),
    ("suspended", "利用停止", "Suspended"),
    ("locked", "ロック中", "Locked"),
    ("pending_change", "初回変更待ち", "Must change password"),
    ("create", "作成する", "Create"),
    ("cancel", "戻る", "Back"),
    ("none", "なし", "None"),
    ("temporary_password", "仮パスワード", "Temporary password"),
    (
        "temporary_password_once",
        "この仮パスワードは今だけ表示されます。本人に確実に伝えてください。初回サインイン時に変更が必要です。",
        "This temporary password is shown only now. Pass it to the person; they must change it at first sign-in.",
    ),
    ("suspend", "利用停止にする", "Suspend"),
    ("reactivate", "利用を再開する", "Reactivate"),
    ("reset_password", "パスワードを再発行する", "Reset password"),
    ("grant", "付与する", "Grant"),
    ("revoke", "外す", "Revoke"),
    ("granted_at", "付与日時", "Granted"),
    ("granted_by", "付与者", "Granted by"),
    ("new_department", "所属の追加", "New department"),
    ("parent_department", "上位の所属", "Parent department"),
    ("top_level", "(最上位)", "(top level)"),
    ("add", "追加する", "Add"),
    ("when", "日時", "When"),
    ("actor", "操作者", "Actor"),
    ("action", "操作", "Action"),
    ("target", "対象", "Target"),
    ("details", "詳細", "Details"),
    ("all_actions", "すべての操作", "All actions"),
    ("filter", "絞り込む", "Filter"),
    ("older", "さらに古い記録", "Older records"),
    (
        "audit_hint",
        "記録はハッシュチェーンで連結され、改ざんは `kairan audit verify` で検出できます。",
        "Records are hash-chained; `kairan audit verify` detects any tampering.",
    ),
    ("error", "エラー", "Error"),
    ("back_home", "ホームへ戻る", "Back to home"),
    ("org", "団体", "Body"),
    ("your_roles", "あなたの権限", "Your roles"),
    ("operator", "運用者(コンソール)", "Operator (console)"),
    ("system", "システム", "System"),
    ("no_records", "記録はありません。", "No records."),
    ("saved", "保存しました。", "Saved."),
    ("protection", "情報保護", "Information protection"),
    (
        "dlp_events",
        "個人情報の検知記録",
        "Personal-data detections",
    ),
    (
        "dlp_events_hint",
        "送信前に個人情報などを検知した記録です。検知した値そのものは記録していません。種類と位置(バイト)だけを示します。",
        "Detections made before sending. The detected values are never kept: only their kind and position (bytes).",
    ),
    ("dlp_outcome", "対応", "Outcome"),
    ("dlp_kinds", "検知した種類(位置)", "Kinds found (position)"),
    (
        "protection_settings",
        "情報保護の設定",
        "Protection settings",
    ),
    (
        "protection_settings_hint",
        "情報資産の分類と、送信時に個人情報などを検知したときの扱いを団体ごとに定めます。変更は監査ログに記録されます。",
        "Set your body's classification scheme and what happens when personal data is found on sending. Changes are audit-logged.",
    ),
    ("scheme", "分類", "Classification scheme"),
    (
        "scheme_seed004",
        "機密性 第3種〜第1種(完全性・可用性 第4種〜第1種)",
        "Confidentiality class 3 to 1 (integrity and availability 4 to 1)",
    ),
    (
        "scheme_seed003",
        "機密性1〜3(完全性1〜2、可用性1〜2)",
        "Confidentiality 1 to 3 (integrity 1–2, availability 1–2)",
    ),
    ("scheme_custom", "独自の区分", "Custom levels"),
    (
        "scheme_levels",
        "独自の区分(機密性の低い順)",
        "Custom levels (least confidential first)",
    ),
    (
        "scheme_levels_help",
        "「公開:Public, 庁内限り:Internal, 秘:Secret」のように、日本語名:英語名をカンマで区切って2〜6段階を入力します。トークに区分が付いた後は、段階の数は変えられません(名前は変えられます)。",
        "Enter 2 to 6 levels as Japanese:English, comma-separated. Once talks carry classes the number of levels cannot change; the names can.",
    ),
    (
        "dlp_rules",
        "検知したときの扱い",
        "What happens on detection",
    ),
    (
        "dlp_rules_help",
        "「区分」は、確度の高い検知がその情報に求める最低の区分です。トークの上限を超える場合は、マスクしなければ送信できません。",
        "“Class” is the lowest class a confident finding implies. Above a talk's ceiling, it can only be sent masked.",
    ),
    ("dlp_kind", "種類", "Kind"),
    ("dlp_action", "扱い", "Action"),
    ("dlp_implies", "区分", "Class"),
    ("dlp_implies_none", "指定しない", "None"),
    ("dlp_notify", "責任者への通知", "Notify the officer"),
    ("dlp_notify_short", "通知する", "Notify"),
    (
        "dlp_keywords",
        "機密を示すキーワード",
        "Confidentiality keywords",
    ),
    (
        "dlp_keywords_help",
        "1行に1語。「秘」のような1文字の語は、「秘書」など別の語の一部では検知しません。",
        "One per line. A one-character word such as 秘 is not matched inside longer words such as 秘書.",
    ),
    ("talk_class", "区分", "Classification"),
    (
        "message_class",
        "このメッセージの区分",
        "Class of this message",
    ),
    (
        "class_ceiling",
        "上限(これを超える区分は送信できません)",
        "Ceiling (nothing above it can be sent)",
    ),
    (
        "class_ceiling_help",
        "最上位の区分を扱うトークにできるのは、メンバーである所属長か情報セキュリティ責任者です。上限は、すでにある内容の区分より下げられません。",
        "Only a member who is a section head or security officer may allow the top class. The ceiling cannot drop below what the talk already holds.",
    ),
    (
        "class_default",
        "既定の区分(送信時に変更できます)",
        "Default class (can be changed when sending)",
    ),
    ("integrity", "完全性", "Integrity"),
    ("availability", "可用性", "Availability"),
    ("close", "閉じる", "Close"),
    ("cancel_action", "キャンセル", "Cancel"),
    ("forward", "転送する", "Forward"),
    ("forward_title", "メッセージを転送", "Forward a message"),
    ("forward_to", "転送先のトーク", "Forward to"),
    (
        "forward_help",
        "転送したメッセージは元の区分を引き継ぎます。転送先の上限を超える場合は転送できません。",
        "A forwarded message keeps its class; it cannot go to a talk whose ceiling is lower.",
    ),
    (
        "suspended_done",
        "利用を停止しました。この職員のセッションはすべて終了しています。",
        "Suspended. All of this person's sessions have ended.",
    ),
    ("reactivated_done", "利用を再開しました。", "Reactivated."),
    ("skip_to_main", "本文へ移動", "Skip to content"),
    ("talks", "トーク", "Talks"),
    ("new_talk", "新しいトーク", "New talk"),
    ("direct_talk", "1対1", "One-to-one"),
    ("group_talk", "グループ", "Group"),
    ("talk_name", "トーク名", "Talk name"),
    (
        "talk_name_example",
        "例:令和8年度 予算要求 調整",
        "e.g. Budget request FY2026",
    ),
    ("members", "メンバー", "Members"),
    (
        "search_people",
        "氏名・フリガナで検索",
        "Search by name or kana",
    ),
    ("start_talk", "トークを始める", "Start talk"),
    ("search_talks", "トークを検索", "Search talks"),
    ("choose_talk", "トークを選んでください", "Choose a talk"),
    ("messages", "メッセージ", "Messages"),
    ("message", "メッセージ", "Message"),
    ("composer_hint", "メッセージを入力", "Write a message"),
    ("attach", "ファイルを添付", "Attach files"),
    ("talk_files", "ファイル", "Files"),
    ("inter_body_group", "団体間グループ", "Inter-body group"),
    (
        "talk_closed_notice",
        "このグループは期間が終了したため、閲覧のみできます。",
        "This group's period has ended: it can be read, not written to.",
    ),
    (
        "talk_files_title",
        "このトークのファイル",
        "Files in this talk",
    ),
    (
        "composer_help",
        "Enterで送信、Shift+Enterで改行。チャットでの合意は決裁ではありません。",
        "Enter sends, Shift+Enter adds a line. Agreement in chat is not a formal decision.",
    ),
    ("send", "送信", "Send"),
    (
        "dlp_title",
        "個人情報が含まれている可能性があります",
        "This may contain personal data",
    ),
    ("dlp_mask_send", "マスクして送信", "Mask and send"),
    (
        "dlp_send_anyway",
        "確認のうえ、このまま送信",
        "I have checked: send as is",
    ),
    ("dlp_edit", "修正する", "Edit"),
    ("menu", "メニュー", "Menu"),
];

pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    table(TEXT, lang)
}

/// A (key, Japanese, English) table in one language.
pub fn table(
    entries: &'static [(&'static str, &'static str, &'static str)],
    lang: Lang,
) -> BTreeMap<&'static str, &'static str> {
    entries
        .iter()
        .map(|(k, ja, en)| (*k, lang.pick(ja, en)))
        .collect()
}

/// Microseconds since the epoch as Japan time (JST has no daylight saving), e.g.
/// 「2026年4月1日 9:05」 or "2026-04-01 09:05".
pub fn format_time(us: i64, lang: Lang) -> String {
    use chrono::{Datelike, FixedOffset, TimeZone, Timelike};
    let Some(jst) = FixedOffset::east_opt(9 * 3600) else {
        return String::new();
    };
    let Some(t) = jst.timestamp_micros(us).single() else {
        return String::new();
    };
    match lang {
        Lang::Ja => format!(
            "{}年{}月{}日 {}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Lang::En => t.format("%Y-%m-%d %H:%M").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_unique_and_translated() {
        let mut keys: Vec<_> = TEXT.iter().map(|t| t.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n);
        for (k, ja, en) in TEXT {
            assert!(!ja.is_empty(), "{k}");
            assert!(!en.is_empty() || *k == "times", "{k}");
        }
    }

    #[test]
    fn times_are_shown_in_japan_time() {
        // 2026-04-01T00:05:00Z is 09:05 in Japan.
        let us = 1_775_001_900_000_000;
        assert_eq!(format_time(us, Lang::Ja), "2026年4月1日 9:05");
        assert_eq!(format_time(us, Lang::En), "2026-04-01 09:05");
    }
}
