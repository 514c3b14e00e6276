//! The gates: whether a notice allows a policy to be issued or a payout to
//! be paid, and the reason in words when it does not.

use super::*;

/// Why a notice does not (yet) allow the next step, in the order a clerk
/// fixes them: none, none with the current figures, still up, objections open.
enum Refusal {
    Missing,
    Stale(Box<(Notice, NoticeItem)>),
    InPeriod(Box<Notice>),
    Open(Box<Notice>, i64),
}

/// The one notice among `covering` that allows the step (its figures match,
/// its period ended before `today`, no objection open), else why not.
fn gate(
    conn: &mut DbConn,
    covering: Vec<(Notice, NoticeItem)>,
    matches: impl Fn(&NoticeItem) -> bool,
    today: NaiveDate,
) -> AppResult<Result<(), Refusal>> {
    gate_with(covering, matches, today, |id| {
        Ok(rows::open_objections(conn, id)?)
    })
}

/// [`gate`] with the open objections of a notice counted by `open_of`
/// (one query per notice, or a count read for many notices at once).
fn gate_with(
    covering: Vec<(Notice, NoticeItem)>,
    matches: impl Fn(&NoticeItem) -> bool,
    today: NaiveDate,
    mut open_of: impl FnMut(i64) -> AppResult<i64>,
) -> AppResult<Result<(), Refusal>> {
    let mut refusal = Refusal::Missing;
    for (n, item) in covering {
        if !matches(&item) {
            if matches!(refusal, Refusal::Missing) {
                refusal = Refusal::Stale(Box::new((n, item)));
            }
            continue;
        }
        if today <= n.ends_on.date() {
            // Keep the one ending first: it is the one to wait for.
            match &refusal {
                Refusal::InPeriod(m) if m.ends_on <= n.ends_on => {}
                Refusal::Open(..) => {}
                _ => refusal = Refusal::InPeriod(Box::new(n)),
            }
            continue;
        }
        let open = open_of(n.id)?;
        if open > 0 {
            refusal = Refusal::Open(Box::new(n), open);
            continue;
        }
        return Ok(Ok(()));
    }
    Ok(Err(refusal))
}

/// May the policy be issued today? Only when a notice of its village showed
/// its current figures (insured area, sum insured, premium, grower share),
/// that notice's period ended before today, and every objection raised on it
/// is resolved. The refusal says which is missing.
pub fn issuable(conn: &mut DbConn, p: &Policy, today: NaiveDate) -> AppResult<()> {
    let covering = rows::covering(conn, ENROLLMENT, Some(p.id), None)?;
    let matches = |i: &NoticeItem| {
        i.insured_area_units == p.insured_area_units
            && i.sum_insured_fen == p.sum_insured_fen
            && i.premium_fen == p.premium_fen
            && i.grower_share_fen == p.grower_share_fen
    };
    match gate(conn, covering, matches, today)? {
        Ok(()) => Ok(()),
        Err(Refusal::Missing) => Err(AppError::conflict(
            ErrorCode::NoticeMissing,
            format!(
                "保单{}尚未经本村承保公示：请先生成并张贴承保公示，公示期满后才能签发",
                p.policy_no
            ),
        )),
        Err(Refusal::Stale(b)) => {
            let (n, i) = *b;
            Err(AppError::conflict(
            ErrorCode::NoticeStale,
            format!(
                "保单{}在承保公示（{}起）后有变动：公示为{}亩、保费{}元，现为{}亩、保费{}元，须重新公示",
                p.policy_no,
                n.starts_on,
                i.insured_area_units,
                i.premium_fen,
                p.insured_area_units,
                p.premium_fen
            ),
        ))
        }
        Err(Refusal::InPeriod(n)) => Err(AppError::conflict(
            ErrorCode::NoticeInPeriod,
            format!("本村承保公示期至{}结束，公示期满后才能签发", n.ends_on),
        )),
        Err(Refusal::Open(n, k)) => Err(AppError::conflict(
            ErrorCode::NoticeObjectionOpen,
            format!("{}有{}条异议尚未处理，处理完毕后才能签发", n.title, k),
        )),
    }
}

/// May the claim's payout be paid today? Only when a claim results notice
/// showed its current payout, ended before today, with no objection open.
pub fn payable(conn: &mut DbConn, c: &Claim, today: NaiveDate) -> AppResult<()> {
    let covering = rows::covering(conn, CLAIM, None, Some(c.id))?;
    let outcome = gate(conn, covering, shows_payout(c), today)?;
    payable_refusal(c, outcome)
}

/// A claim notice's item showing the claim's payout as it stands.
fn shows_payout(c: &Claim) -> impl Fn(&NoticeItem) -> bool {
    let payout = c.payout_fen.unwrap_or(Fen::ZERO);
    move |i: &NoticeItem| i.payout_fen == payout
}

/// The refusal [`payable`] gives for what the gate found.
fn payable_refusal(c: &Claim, outcome: Result<(), Refusal>) -> AppResult<()> {
    let payout = c.payout_fen.unwrap_or(Fen::ZERO);
    match outcome {
        Ok(()) => Ok(()),
        Err(Refusal::Missing) => Err(AppError::conflict(
            ErrorCode::ClaimNoticeMissing,
            format!(
                "赔案{}尚未进行理赔结果公示：请先生成并张贴理赔公示，公示期满后才能支付赔款",
                c.claim_no
            ),
        )),
        Err(Refusal::Stale(b)) => {
            let (n, i) = *b;
            Err(AppError::conflict(
                ErrorCode::ClaimNoticeStale,
                format!(
                    "赔案{}的赔款在理赔公示（{}起）后有变动：公示为{}元，现为{}元，须重新公示",
                    c.claim_no, n.starts_on, i.payout_fen, payout
                ),
            ))
        }
        Err(Refusal::InPeriod(n)) => Err(AppError::conflict(
            ErrorCode::ClaimNoticeInPeriod,
            format!("理赔结果公示期至{}结束，公示期满后才能支付赔款", n.ends_on),
        )),
        Err(Refusal::Open(n, k)) => Err(AppError::conflict(
            ErrorCode::ClaimNoticeObjectionOpen,
            format!("{}有{}条异议尚未处理，处理完毕后才能支付赔款", n.title, k),
        )),
    }
}

/// What a grower reads about the enrollment notice of a policy (农户自助查询).
pub fn policy_notice_text(conn: &mut DbConn, p: &Policy, today: NaiveDate) -> AppResult<String> {
    let covering = rows::covering(conn, ENROLLMENT, Some(p.id), None)?;
    let matches = |i: &NoticeItem| {
        i.insured_area_units == p.insured_area_units
            && i.sum_insured_fen == p.sum_insured_fen
            && i.premium_fen == p.premium_fen
            && i.grower_share_fen == p.grower_share_fen
    };
    Ok(grower_text(
        gate(conn, covering, matches, today)?,
        "承保公示",
    ))
}

/// What a grower reads about the results notice of a claim; `None` before
/// the claim has a payout to post.
pub fn claim_notice_text(
    conn: &mut DbConn,
    c: &Claim,
    today: NaiveDate,
) -> AppResult<Option<String>> {
    let Some(payout) = c.payout_fen else {
        return Ok(None);
    };
    let covering = rows::covering(conn, CLAIM, None, Some(c.id))?;
    if covering.is_empty() && c.approved_at.is_none() {
        return Ok(None);
    }
    let matches = |i: &NoticeItem| i.payout_fen == payout;
    Ok(Some(grower_text(
        gate(conn, covering, matches, today)?,
        "理赔结果公示",
    )))
}

fn grower_text(outcome: Result<(), Refusal>, what: &str) -> String {
    match outcome {
        Ok(()) => format!("{what}已期满，异议均已处理"),
        Err(Refusal::Missing) => format!("尚未进行{what}"),
        Err(Refusal::Stale(_)) => format!("{what}后数据有变动，待重新公示"),
        Err(Refusal::InPeriod(n)) => {
            format!("{what}中：{} 至 {}", n.starts_on, n.ends_on)
        }
        Err(Refusal::Open(_, k)) => format!("{what}期间有{k}条异议正在处理"),
    }
}

/// Which of `list` wait on their notice, each with the refusal [`payable`]
/// gives it (`None`: it may be paid): in two statements whatever the
/// number of claims (the board asks for every approved claim it shows).
pub fn waiting(
    conn: &mut DbConn,
    list: &[&Claim],
    today: NaiveDate,
) -> AppResult<Vec<Option<AppError>>> {
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let mut covering: HashMap<i64, Vec<(Notice, NoticeItem)>> = HashMap::new();
    for (n, item) in rows::covering_claims(conn, &ids)? {
        if let Some(claim) = item.claim_id {
            covering.entry(claim).or_default().push((n, item));
        }
    }
    let mut notice_ids: Vec<i64> = covering.values().flatten().map(|(n, _)| n.id).collect();
    notice_ids.sort_unstable();
    notice_ids.dedup();
    let open = rows::open_objections_of(conn, &notice_ids)?;
    list.iter()
        .map(|c| {
            let mine = covering.remove(&c.id).unwrap_or_default();
            let outcome = gate_with(mine, shows_payout(c), today, |id| {
                Ok(open.get(&id).copied().unwrap_or(0))
            })?;
            match payable_refusal(c, outcome) {
                Ok(()) => Ok(None),
                Err(e @ AppError::Conflict { .. }) => Ok(Some(e)),
                Err(e) => Err(e),
            }
        })
        .collect()
}

/// Where the policy stands with its enrollment notice, for its page: `None`
/// past issuance, else whether it may be issued today and, if not, why.
pub fn policy_notice(
    conn: &mut DbConn,
    actor: &Actor,
    policy_id: i64,
    today: NaiveDate,
) -> AppResult<Option<(bool, String)>> {
    let p = crate::app::scoped::<Policy>(conn, actor, policy_id)?;
    if !matches!(p.status, PolicyStatus::Draft | PolicyStatus::Collected) {
        return Ok(None);
    }
    Ok(Some(match issuable(conn, &p, today) {
        Ok(()) => (true, "承保公示期已满，异议已处理完毕".to_string()),
        Err(e @ AppError::Conflict { .. }) => (false, e.to_string()),
        Err(e) => return Err(e),
    }))
}
