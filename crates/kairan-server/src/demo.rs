//! The lived-in demo behind `kairan serve --demo`: two bodies on one server, each with a
//! department tree and a staff directory holding every role. Created once through the same
//! services an operator uses (so it is audited like real work); later runs reuse it.
//!
//! Demo passwords are random unless `KAIRAN_DEMO_PASSWORD` is set, and are kept in
//! `DATA/demo-logins.json` (mode 0600) so a second run can print the same table.

use crate::error::AppError;
use crate::services::admin::{self, NewUserInput};
use crate::state::AppState;
use kairan_domain::Role;
use kairan_domain::policy::Actor;
use kairan_store::users;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoLogin {
    pub org: String,
    pub login_id: String,
    pub name: String,
    pub role: String,
    pub password: String,
}

/// (login, name, kana, department, title, roles)
type Person = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [Role],
);

struct Body {
    code: &'static str,
    name: &'static str,
    name_en: &'static str,
    /// (department, parent department)
    departments: &'static [(&'static str, Option<&'static str>)],
    /// (login, name, kana, department, title, roles)
    people: &'static [Person],
}

const TOWN: Body = Body {
    code: "higashiyama-town",
    name: "東山町",
    name_en: "Higashiyama Town",
    departments: &[
        ("総務課", None),
        ("情報政策課", None),
        ("住民課", None),
        ("福祉課", None),
        ("広報課", None),
    ],
    people: &[
        (
            "takahashi.kenichi",
            "高橋 健一",
            "タカハシ ケンイチ",
            "情報政策課",
            "係長",
            &[Role::Admin],
        ),
        (
            "sasaki.yumi",
            "佐々木 由美",
            "ササキ ユミ",
            "総務課",
            "総務課長",
            &[Role::SecurityOfficer, Role::SectionHead],
        ),
        (
            "yamaguchi.daisuke",
            "山口 大輔",
            "ヤマグチ ダイスケ",
            "情報政策課",
            "主査",
            &[Role::Csirt],
        ),
        (
            "nakamura.keiko",
            "中村 恵子",
            "ナカムラ ケイコ",
            "総務課",
            "監査担当主幹",
            &[Role::Auditor],
        ),
        (
            "ito.makoto",
            "伊藤 誠",
            "イトウ マコト",
            "住民課",
            "住民課長",
            &[Role::SectionHead],
        ),
        (
            "sato.hanako",
            "佐藤 花子",
            "サトウ ハナコ",
            "住民課",
            "主事",
            &[Role::Staff],
        ),
        (
            "suzuki.shota",
            "鈴木 翔太",
            "スズキ ショウタ",
            "福祉課",
            "主事",
            &[Role::Staff],
        ),
        (
            "kobayashi.sakura",
            "小林 さくら",
            "コバヤシ サクラ",
            "福祉課",
            "主任",
            &[Role::Staff],
        ),
        (
            "tanaka.misaki",
            "田中 美咲",
            "タナカ ミサキ",
            "広報課",
            "主事",
            &[Role::Staff],
        ),
        (
            "kato.koji",
            "加藤 浩二",
            "カトウ コウジ",
            "広報課",
            "広報課長",
            &[Role::SectionHead],
        ),
        (
            "watanabe.takuya",
            "渡辺 拓也",
            "ワタナベ タクヤ",
            "総務課",
            "主事補",
            &[Role::Staff],
        ),
    ],
};

const CITY: Body = Body {
    code: "kitahama-city",
    name: "北浜市",
    name_en: "Kitahama City",
    departments: &[
        ("総務部", None),
        ("総務課", Some("総務部")),
        ("情報政策課", Some("総務部")),
        ("市民部", None),
        ("住民課", Some("市民部")),
        ("福祉課", Some("市民部")),
        ("企画部", None),
        ("広報課", Some("企画部")),
    ],
    people: &[
        (
            "mori.takashi",
            "森 隆",
            "モリ タカシ",
            "情報政策課",
            "主査",
            &[Role::Admin],
        ),
        (
            "ishii.naoko",
            "石井 直子",
            "イシイ ナオコ",
            "総務課",
            "総務課長",
            &[Role::SecurityOfficer, Role::SectionHead],
        ),
        (
            "saito.ryo",
            "斎藤 亮",
            "サイトウ リョウ",
            "情報政策課",
            "主任",
            &[Role::Csirt],
        ),
        (
            "shimizu.rie",
            "清水 理恵",
            "シミズ リエ",
            "総務課",
            "監査担当係長",
            &[Role::Auditor],
        ),
        (
            "yamamoto.kazuo",
            "山本 和夫",
            "ヤマモト カズオ",
            "住民課",
            "住民課長",
            &[Role::SectionHead],
        ),
        (
            "matsumoto.yuka",
            "松本 優花",
            "マツモト ユウカ",
            "住民課",
            "主事",
            &[Role::Staff],
        ),
        (
            "inoue.yosuke",
            "井上 陽介",
            "イノウエ ヨウスケ",
            "福祉課",
            "主事",
            &[Role::Staff],
        ),
        (
            "kimura.aya",
            "木村 彩",
            "キムラ アヤ",
            "広報課",
            "主任",
            &[Role::Staff],
        ),
        (
            "hayashi.kenta",
            "林 健太",
            "ハヤシ ケンタ",
            "情報政策課",
            "主事",
            &[Role::Staff],
        ),
        (
            "yoshida.mayumi",
            "吉田 真由美",
            "ヨシダ マユミ",
            "福祉課",
            "福祉課長",
            &[Role::SectionHead],
        ),
    ],
};

fn logins_file(state: &AppState) -> PathBuf {
    state.config.data_dir.join("demo-logins.json")
}

/// Creates the demo on an empty server, or reads back the logins of an existing one.
pub async fn ensure(
    state: &AppState,
    fixed_password: Option<&str>,
) -> Result<Vec<DemoLogin>, AppError> {
    let existing = admin::list_orgs(state).await?;
    if existing.iter().any(|o| o.code == TOWN.code) {
        let text = std::fs::read_to_string(logins_file(state)).unwrap_or_default();
        return Ok(serde_json::from_str(&text).unwrap_or_default());
    }
    let mut logins = Vec::new();
    let town = create_body(state, &TOWN, fixed_password, &mut logins).await?;
    let city = create_body(state, &CITY, fixed_password, &mut logins).await?;
    conversations(state, &town).await?;
    inter_body_group(state, &town, &city).await?;
    let path = logins_file(state);
    let json = serde_json::to_string_pretty(&logins).unwrap_or_default();
    write_private(&path, &json)
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    Ok(logins)
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(text.as_bytes())
}

/// A body as created: its ID and its people (login, user ID, roles), for seeding its work.
struct Seeded {
    org_id: String,
    people: Vec<(&'static str, String, Vec<Role>)>,
}

impl Seeded {
    /// One of the body's people as the services see them acting, with their user ID.
    fn actor(&self, login: &str) -> Result<(Actor, String), AppError> {
        use kairan_domain::policy::UserActor;
        use kairan_domain::{OrgId, UserId};
        let (_, id, roles) = self
            .people
            .iter()
            .find(|(l, _, _)| *l == login)
            .ok_or_else(|| AppError::Internal(format!("demo user {login}")))?;
        Ok((
            Actor::User(UserActor {
                user_id: UserId(id.clone()),
                org_id: OrgId(self.org_id.clone()),
                roles: roles.clone(),
            }),
            id.clone(),
        ))
    }
}

async fn create_body(
    state: &AppState,
    body: &Body,
    fixed: Option<&str>,
    logins: &mut Vec<DemoLogin>,
) -> Result<Seeded, AppError> {
    let op = Actor::Operator;
    let org = admin::create_org(state, &op, body.code, body.name, body.name_en).await?;
    let mut ids: Vec<(&str, String)> = Vec::new();
    for (name, parent) in body.departments {
        let parent_id =
            parent.and_then(|p| ids.iter().find(|(n, _)| *n == p).map(|(_, id)| id.clone()));
        let d = admin::create_department(state, &op, &org.id, name, parent_id.as_deref()).await?;
        ids.push((name, d.id));
    }
    let mut people: Vec<(&'static str, String, Vec<Role>)> = Vec::new();
    for (login, name, kana, dept, title, roles) in body.people {
        let input = NewUserInput {
            login_id: (*login).into(),
            display_name: (*name).into(),
            kana: (*kana).into(),
            title: (*title).into(),
            department_id: ids
                .iter()
                .find(|(n, _)| n == dept)
                .map(|(_, id)| id.clone()),
            roles: roles.iter().map(|r| r.code().to_owned()).collect(),
            test_id: false,
        };
        let issued = admin::create_user(state, &op, &org.id, &input).await?;
        people.push((login, issued.user_id.clone(), roles.to_vec()));
        // Demo users can sign in at once; real IDs get a temporary password to change.
        let password = fixed
            .map(str::to_owned)
            .unwrap_or_else(crate::token::temporary_password);
        let hash = state.hasher.hash(&password).await?;
        let mut tx = state.store.write().await?;
        users::set_password(&mut tx, &issued.user_id, &hash, false).await?;
        tx.commit().await?;
        logins.push(DemoLogin {
            org: body.name.into(),
            login_id: (*login).into(),
            name: (*name).into(),
            role: roles
                .iter()
                .map(|r| r.label_ja())
                .collect::<Vec<_>>()
                .join("・"),
            password,
        });
    }
    Ok(Seeded {
        org_id: org.id,
        people,
    })
}

/// A few days of ordinary work in 東山町, sent through the chat service like any user's
/// messages: a section liaison group, a talk a section head cleared for personal data, a 1:1
/// talk, and one My Number that the DLP stopped (so the security officer has an alert).
async fn conversations(state: &AppState, town: &Seeded) -> Result<(), AppError> {
    use crate::services::chat::{self, ClassRequest, Member, Post};
    let org_id = town.org_id.as_str();
    let actor = |login: &str| town.actor(login);
    let ito = actor("ito.makoto")?;
    let sato = actor("sato.hanako")?;
    let suzuki = actor("suzuki.shota")?;
    let kobayashi = actor("kobayashi.sakura")?;
    let takahashi = actor("takahashi.kenichi")?;
    let watanabe = actor("watanabe.takuya")?;
    fn member<'b>(a: &'b (Actor, String), org_id: &'b str) -> Member<'b> {
        Member {
            actor: &a.0,
            user_id: &a.1,
            org_id,
            device: kairan_domain::DeviceClass::LgwanPc,
        }
    }
    async fn say(
        state: &AppState,
        m: Member<'_>,
        talk: &str,
        body: &str,
        class: Option<i64>,
        confirmed: bool,
    ) -> Result<String, AppError> {
        chat::post(
            state,
            &m,
            talk,
            Post {
                body,
                class,
                confirmed,
                ..Post::default()
            },
        )
        .await
        .map(|(msg, _)| msg.id)
    }

    let liaison = chat::create_group(
        state,
        &member(&ito, org_id),
        "住民課・福祉課 連絡",
        &[sato.1.clone(), suzuki.1.clone(), kobayashi.1.clone()],
        &ClassRequest::default(),
    )
    .await?;
    say(
        state,
        member(&ito, org_id),
        &liaison,
        "おはようございます。来週の窓口応援の件、福祉課さんから2名お願いできますでしょうか。",
        None,
        false,
    )
    .await?;
    let reply = say(
        state,
        member(&kobayashi, org_id),
        &liaison,
        "承知しました。鈴木さんと私で調整します。\n時間帯は9時〜12時でよろしいですか。",
        None,
        false,
    )
    .await?;
    // A corrected message: members see "edited"; auditors reading the talk see both versions.
    chat::edit(
        state,
        &member(&kobayashi, org_id),
        &reply,
        "承知しました。鈴木さんと私で調整します。\n時間帯は9時〜12時と13時〜15時の2回でよろしいですか。",
        false,
    )
    .await?;
    say(
        state,
        member(&sato, org_id),
        &liaison,
        "転入届の記載例を共有フォルダに置きました。\n最新の様式は令和8年4月版です。",
        None,
        false,
    )
    .await?;
    say(
        state,
        member(&suzuki, org_id),
        &liaison,
        "取扱注意：来年度の体制案は公表前のため、課内限りでお願いします。",
        Some(1),
        true,
    )
    .await?;
    // The stopped attempt: refused, audited by kind and position, and reported to the officer.
    let _ = say(
        state,
        member(&sato, org_id),
        &liaison,
        "申請者の個人番号は1234-5678-9018です。確認をお願いします。",
        None,
        false,
    )
    .await;
    say(
        state,
        member(&sato, org_id),
        &liaison,
        "申請者の個人番号は****-****-9018です。確認をお願いします。",
        None,
        false,
    )
    .await?;

    let cleared = chat::create_group(
        state,
        &member(&ito, org_id),
        "個人情報の照会（住民課・福祉課）",
        &[suzuki.1.clone(), sato.1.clone()],
        &ClassRequest {
            ceiling: Some(2),
            ..ClassRequest::default()
        },
    )
    .await?;
    say(
        state,
        member(&ito, org_id),
        &cleared,
        "このトークは個人情報を扱うため、機密性 第1種まで送信できるようにしています。",
        None,
        false,
    )
    .await?;
    say(
        state,
        member(&suzuki, org_id),
        &cleared,
        "ご相談の方の生年月日は昭和60年4月1日です。民生委員さんに確認済みです。",
        None,
        true,
    )
    .await?;

    let (direct, _) = chat::open_direct(state, &member(&takahashi, org_id), &watanabe.1).await?;
    say(
        state,
        member(&takahashi, org_id),
        &direct,
        "渡辺さん、庁内ネットワークの更新作業は14時からです。",
        None,
        false,
    )
    .await?;
    say(
        state,
        member(&watanabe, org_id),
        &direct,
        "了解しました。手順書は https://intra.example.lg.jp/docs/network を確認しておきます。",
        None,
        false,
    )
    .await?;
    Ok(())
}

/// An inter-body group in effect between 東山町 and 北浜市, made as people make one: a section
/// head of 東山町 applies, naming a colleague and asking 北浜市 for two people in words; each
/// body's administrator approves for their own body with their own staff (neither is the
/// applicant); the period starts today, so the last approval makes the talk at once. A few
/// messages from both bodies follow, each checked by its sender's own body's rules.
async fn inter_body_group(state: &AppState, town: &Seeded, city: &Seeded) -> Result<(), AppError> {
    use crate::services::applications::{self, Step};
    use crate::services::chat::{self, Member, Post};
    let kato = town.actor("kato.koji")?;
    let watanabe = town.actor("watanabe.takuya")?;
    let takahashi = town.actor("takahashi.kenichi")?;
    let mori = city.actor("mori.takashi")?;
    let kimura = city.actor("kimura.aya")?;
    let inoue = city.actor("inoue.yosuke")?;
    let today = state.clock.today();
    let fields = serde_json::json!({
        "purpose": "東山町・北浜市 広域防災訓練（避難所開設・要配慮者の避難支援）の準備と当日の連絡調整",
        "need": "両団体の広報・防災担当が、訓練の周知文案や当日の集合時間の変更を同じ場で確認し合う必要があるため。電話やメールでは版の食い違いが起きやすいため。",
        "talk_name": "広域防災訓練 連絡調整",
        "own_members": [watanabe.1],
        "bodies": [{
            "org_id": city.org_id,
            "requested": "広報課の担当者1名、福祉課（要配慮者支援）の担当者1名",
        }],
        "start_date": today.to_string(),
        "end_date": kairan_domain::fiscal::fiscal_year_end(today).to_string(),
    });
    let applied = applications::create(
        state,
        &kato.0,
        &town.org_id,
        "inter_org_group",
        fields,
        true,
    )
    .await?;
    let approve = |version: i64, members: Vec<String>| Step {
        transition: "approve".into(),
        reason: None,
        version,
        fields: None,
        members: Some(members),
    };
    let half = applications::step(
        state,
        &takahashi.0,
        &applied.id,
        approve(applied.version, vec![watanabe.1.clone()]),
    )
    .await?;
    let done = applications::step(
        state,
        &mori.0,
        &half.id,
        approve(half.version, vec![kimura.1.clone(), inoue.1.clone()]),
    )
    .await?;
    // The administrator of 北浜市 is not a member, so read the talk back as the applicant.
    let talk = match done.talk_id {
        Some(t) => t,
        None => applications::get(state, &kato.0, &done.id)
            .await?
            .talk_id
            .ok_or_else(|| AppError::Internal("demo group: no talk was made".into()))?,
    };
    let lines = [
        (
            &kato,
            &town.org_id,
            "東山町広報課の加藤です。広域防災訓練の準備と当日の連絡は、このグループでお願いします。",
        ),
        (
            &kimura,
            &city.org_id,
            "北浜市広報課の木村です。よろしくお願いします。避難所開設の周知文案は、今週中にこちらへ載せます。",
        ),
        (
            &inoue,
            &city.org_id,
            "北浜市福祉課の井上です。要配慮者の避難支援の流れを、両団体で揃えられればと思います。",
        ),
        (
            &watanabe,
            &town.org_id,
            "東山町総務課の渡辺です。当日の集合場所と時間の案を、来週の打合せまでに共有します。",
        ),
    ];
    for (who, org_id, body) in lines {
        let m = Member {
            actor: &who.0,
            user_id: &who.1,
            org_id,
            device: kairan_domain::DeviceClass::LgwanPc,
        };
        chat::post(
            state,
            &m,
            &talk,
            Post {
                body,
                ..Post::default()
            },
        )
        .await?;
    }
    Ok(())
}
