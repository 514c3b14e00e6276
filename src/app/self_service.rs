//! 农户自助查询: a grower looks up their own policies, plots and claims with
//! their ID number and phone, without an account.
//!
//! - Both must belong to the same grower record: the rows are found by the
//!   ID number alone, and the phone is compared with each of them in
//!   constant time, so "unknown ID", "right ID, wrong phone" and "right phone,
//!   wrong ID" do the same database work and get the same answer
//!   ([`ErrorCode::SelfLookupNoMatch`]). The web layer pads every answer to
//!   a fixed floor (`config::SelfService::answer_floor`).
//! - Throttled like the login (`app::throttle`: reserve before the lookup,
//!   row locks), per ID number and per client address, under key prefixes
//!   of its own and its own limits. A locked ID number or address is refused
//!   even with the right pair. Input that is not an ID number and phone at
//!   all counts against the address.
//! - Every lookup is audited (`self_lookup`, with its outcome, the masked ID
//!   number and the client address); never the full ID number.

use crate::app::throttle::{self, Limit};
use crate::app::{audit, Actor};
use crate::config::Security;
use crate::db::models::{Area, Claim, Grower, Plot, Policy};
use crate::db::schema::{areas, claims, growers, plots, policies};
use crate::db::DbConn;
use crate::domain::id_number::mask_phone;
use crate::domain::measure::normalize_width;
use crate::domain::text::{self, TextKind};
use crate::domain::time::Day;
use crate::domain::{Fen, IdNumber, Mu};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The one answer for every pair that does not belong to one grower.
pub const NO_MATCH: &str = "身份证号与联系电话不匹配，或没有查到登记记录。请核对后重新输入；如有疑问，请联系所在乡镇林业站。";

/// The audit action of a lookup.
pub const ACTION: &str = "self_lookup";

/// What a grower typed, from where, when.
pub struct Attempt<'a> {
    pub id_number: &'a str,
    pub phone: &'a str,
    pub client: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// One of the grower's policies.
#[derive(Debug, Clone, Serialize)]
pub struct SelfPolicy {
    pub year: i32,
    pub policy_no: String,
    pub scheme_name: String,
    pub status_name: String,
    pub insured_mu: Mu,
    pub premium: Fen,
    pub grower_share: Fen,
    pub cover_start: Option<Day>,
    pub cover_end: Option<Day>,
    /// The village's enrollment notice (承保公示) for this policy.
    pub notice: String,
}

/// One of the grower's plots.
#[derive(Debug, Clone, Serialize)]
pub struct SelfPlot {
    pub year: i32,
    pub code: String,
    pub village: String,
    pub variety: String,
    pub mu: Mu,
}

/// One of the grower's claims.
#[derive(Debug, Clone, Serialize)]
pub struct SelfClaim {
    pub claim_no: String,
    pub policy_no: String,
    pub peril_name: String,
    pub occurred: String,
    pub status_name: String,
    /// The agreed or proposed payout; none before the survey.
    pub payout: Option<Fen>,
    pub paid: Fen,
    /// The claim results notice (理赔公示), once there is a payout to post.
    pub notice: Option<String>,
    pub decline_reason: Option<String>,
}

/// What a grower sees of their own records: the ID number and phone masked.
#[derive(Debug, Clone, Serialize)]
pub struct SelfView {
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub policies: Vec<SelfPolicy>,
    pub plots: Vec<SelfPlot>,
    pub claims: Vec<SelfClaim>,
}

/// The throttle key of an ID number: a hash, so the throttle table does not
/// collect the numbers people type (most of them not growers' at all).
pub fn id_key(id: &IdNumber) -> String {
    let digest = Sha256::digest(format!("guobao-self-service\0{}", id.as_str()).as_bytes());
    format!("self_id:{}", hex::encode(digest))
}

/// The throttle key of a client address (apart from the login's).
pub fn addr_key(addr: &str) -> String {
    format!("self_addr:{addr}")
}

/// The lookups' throttle window and lock time, in the shape `throttle` reads.
fn throttle_settings(sec: &Security) -> Security {
    Security {
        lockout_window: sec.self_service.window,
        lockout_duration: sec.self_service.lockout,
        ..*sec
    }
}

/// The lookups are the system's own reads, from the grower's address.
fn actor(client: Option<&str>) -> Actor {
    Actor {
        username: "self_service".into(),
        display_name: "农户自助查询".into(),
        ..Actor::system()
    }
    .from_client(client.map(str::to_string))
}

/// Compare two short texts in time that does not depend on where they
/// differ (phones are at most 30 characters; longer never matches).
fn same_text(stored: &str, typed: &str) -> bool {
    const N: usize = 64;
    let (a, b) = (stored.as_bytes(), typed.as_bytes());
    let mut diff = u8::from(a.len() != b.len() || a.len() > N);
    for i in 0..N {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= std::hint::black_box(x ^ y);
    }
    diff == 0
}

/// The ID number and phone as the rest of the project reads them
/// (half-width, no spaces; the phone without dashes), or every problem.
fn check_input(
    id_raw: &str,
    phone_raw: &str,
    today: chrono::NaiveDate,
) -> Result<(IdNumber, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let id = match text::check("身份证号", &normalize_width(id_raw), TextKind::Code) {
        Err(p) => {
            errors.push(FieldError::new("id_number", p.code, p.message));
            None
        }
        Ok(t) if t.is_empty() => {
            errors.push(FieldError::new(
                "id_number",
                ErrorCode::ValueRequired,
                "请填写身份证号",
            ));
            None
        }
        Ok(t) => match IdNumber::parse_at(&t, today) {
            Ok(id) => Some(id),
            Err(e) => {
                errors.push(FieldError::new("id_number", e.code(), e.to_string()));
                None
            }
        },
    };
    let phone = match text::check("联系电话", &normalize_width(phone_raw), TextKind::Phone) {
        Err(p) => {
            errors.push(FieldError::new("phone", p.code, p.message));
            None
        }
        Ok(t) if t.is_empty() => {
            errors.push(FieldError::new(
                "phone",
                ErrorCode::ValueRequired,
                "请填写登记时留的联系电话",
            ));
            None
        }
        Ok(t) => {
            let digits = super::growers::digits_only(&t);
            if super::growers::phone_ok(&digits) {
                Some(digits)
            } else {
                errors.push(FieldError::new(
                    "phone",
                    ErrorCode::PhoneInvalid,
                    "联系电话应为11位手机号或带区号的固定电话",
                ));
                None
            }
        }
    };
    match (id, phone) {
        (Some(id), Some(phone)) if errors.is_empty() => Ok((id, phone)),
        _ => Err(errors),
    }
}

fn record(
    conn: &mut DbConn,
    actor: &Actor,
    grower_id: i64,
    after: &serde_json::Value,
) -> AppResult<()> {
    audit::record(
        conn,
        actor,
        ACTION,
        "grower",
        grower_id,
        None::<&()>,
        Some(after),
    )
}

/// Audit the locks a failure set, naming which kind of key (never the key).
fn record_lockouts(
    conn: &mut DbConn,
    actor: &Actor,
    sec: &Security,
    locked: &[String],
    masked_id: Option<&str>,
) -> AppResult<()> {
    for key in locked {
        let scope = if key.starts_with("self_id:") {
            "id_number"
        } else {
            "address"
        };
        audit::record(
            conn,
            actor,
            "lockout",
            "grower",
            0,
            None::<&()>,
            Some(&serde_json::json!({
                "self_service": scope,
                "id_number": masked_id,
                "minutes": sec.self_service.lockout.as_secs() / 60,
            })),
        )?;
    }
    Ok(())
}

/// Look up a grower's own records by ID number and phone, under the
/// self-service throttle. Errors: `Validation` (not an ID number or phone),
/// `Locked` (too many failures for the ID number or the address), and the
/// conflict [`ErrorCode::SelfLookupNoMatch`] for every pair that is not one
/// grower's.
pub fn lookup(conn: &mut DbConn, sec: &Security, a: &Attempt) -> AppResult<SelfView> {
    let tsec = throttle_settings(sec);
    let ss = sec.self_service;
    let actor = actor(a.client);
    let addr_key = a.client.map(addr_key);
    let addr_limit = addr_key.as_deref().map(|key| Limit {
        key,
        max: ss.address_failures,
    });
    let today = crate::app::clock::china_date(a.now);
    let (id, phone) = match check_input(a.id_number, a.phone, today) {
        Ok(pair) => pair,
        Err(errors) => {
            // Not a pair at all: a failure of the address (no ID to key on).
            let limits: Vec<Limit> = addr_limit.into_iter().collect();
            let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            if let Err(e) = throttle::reserve(conn, &tsec, a.now, &limits) {
                record(
                    conn,
                    &actor,
                    0,
                    &serde_json::json!({"outcome": "locked", "fields": fields}),
                )?;
                return Err(e);
            }
            let locked = throttle::failed(conn, &tsec, a.now, &limits)?;
            record(
                conn,
                &actor,
                0,
                &serde_json::json!({"outcome": "invalid", "fields": fields}),
            )?;
            record_lockouts(conn, &actor, sec, &locked, None)?;
            return Err(AppError::Validation(errors));
        }
    };
    let masked = id.masked();
    let id_key = id_key(&id);
    let mut limits = vec![Limit {
        key: &id_key,
        max: ss.id_failures,
    }];
    limits.extend(addr_limit);
    if let Err(e) = throttle::reserve(conn, &tsec, a.now, &limits) {
        record(
            conn,
            &actor,
            0,
            &serde_json::json!({"outcome": "locked", "id_number": masked}),
        )?;
        return Err(e);
    }
    // By the ID number only; then the phone against every row found (one
    // per enrolled year), never stopping early. No row: against a stand-in,
    // so an unknown number costs what a known one does.
    let rows: Vec<Grower> = growers::table
        .filter(growers::id_number.eq(id.as_str()))
        .order((growers::year.desc(), growers::id))
        .select(Grower::as_select())
        .load(conn)?;
    let mut matched: Vec<&Grower> = Vec::new();
    if rows.is_empty() {
        std::hint::black_box(same_text("00000000000", &phone));
    }
    for g in &rows {
        if same_text(&g.phone, &phone) {
            matched.push(g);
        }
    }
    // The records are read whether or not the pair matched (of no grower then).
    let view = records(conn, &matched, &masked, &phone, today)?;
    let Some(first) = matched.first() else {
        let locked = throttle::failed(conn, &tsec, a.now, &limits)?;
        record(
            conn,
            &actor,
            0,
            &serde_json::json!({"outcome": "no_match", "id_number": masked}),
        )?;
        record_lockouts(conn, &actor, sec, &locked, Some(&masked))?;
        return Err(AppError::conflict(ErrorCode::SelfLookupNoMatch, NO_MATCH));
    };
    throttle::succeeded(conn, &id_key, addr_key.as_deref())?;
    record(
        conn,
        &actor,
        first.id,
        &serde_json::json!({
            "outcome": "found",
            "id_number": masked,
            "growers": matched.iter().map(|g| g.id).collect::<Vec<_>>(),
            "policies": view.policies.len(),
            "plots": view.plots.len(),
            "claims": view.claims.len(),
        }),
    )?;
    Ok(view)
}

/// The policies, plots and claims of the matched grower rows (all years of
/// one person), with names resolved.
fn records(
    conn: &mut DbConn,
    matched: &[&Grower],
    masked_id: &str,
    phone: &str,
    today: chrono::NaiveDate,
) -> AppResult<SelfView> {
    let ids: Vec<i64> = matched.iter().map(|g| g.id).collect();
    let years: HashMap<i64, i32> = matched.iter().map(|g| (g.id, g.year)).collect();
    let pols: Vec<Policy> = policies::table
        .filter(policies::grower_id.eq_any(&ids))
        .order(policies::id)
        .select(Policy::as_select())
        .load(conn)?;
    let pls: Vec<Plot> = plots::table
        .filter(plots::grower_id.eq_any(&ids))
        .order(plots::id)
        .select(Plot::as_select())
        .load(conn)?;
    let cls: Vec<Claim> = claims::table
        .filter(claims::grower_id.eq_any(&ids))
        .order(claims::reported_at.desc())
        .select(Claim::as_select())
        .load(conn)?;
    let village_ids: Vec<i64> = pls.iter().map(|p| p.village_id).collect();
    let villages: HashMap<i64, String> = areas::table
        .filter(areas::id.eq_any(&village_ids))
        .select(Area::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let schemes: HashMap<i64, crate::domain::scheme::SchemeDef> = super::schemes::list(conn)?
        .into_iter()
        .map(|s| (s.id, s.def))
        .collect();
    let year = |grower_id: i64| years.get(&grower_id).copied().unwrap_or_default();
    let policy_nos: HashMap<i64, String> =
        pols.iter().map(|p| (p.id, p.policy_no.clone())).collect();
    let policy_notices = pols
        .iter()
        .map(|p| super::notices::policy_notice_text(conn, p, today))
        .collect::<AppResult<Vec<String>>>()?;
    let claim_notices = cls
        .iter()
        .map(|c| super::notices::claim_notice_text(conn, c, today))
        .collect::<AppResult<Vec<Option<String>>>>()?;
    let policies = pols
        .iter()
        .zip(policy_notices)
        .map(|(p, notice)| SelfPolicy {
            year: year(p.grower_id),
            policy_no: p.policy_no.clone(),
            scheme_name: schemes
                .get(&p.scheme_id)
                .map(|d| d.name.clone())
                .unwrap_or_default(),
            status_name: p.status.name().to_string(),
            insured_mu: p.insured_area_units,
            premium: p.premium_fen,
            grower_share: p.grower_share_fen,
            cover_start: p.cover_start,
            cover_end: p.cover_end,
            notice,
        })
        .collect();
    let plots = pls
        .iter()
        .map(|p| SelfPlot {
            year: year(p.grower_id),
            code: p.code.clone(),
            village: villages.get(&p.village_id).cloned().unwrap_or_default(),
            variety: schemes
                .get(&p.scheme_id)
                .and_then(|d| d.variety(&p.variety))
                .map_or_else(|| p.variety.clone(), |v| v.name.clone()),
            mu: p.area_units,
        })
        .collect();
    let claims = cls
        .iter()
        .zip(claim_notices)
        .map(|(c, notice)| SelfClaim {
            claim_no: c.claim_no.clone(),
            policy_no: policy_nos.get(&c.policy_id).cloned().unwrap_or_default(),
            peril_name: schemes
                .get(&c.scheme_id)
                .and_then(|d| {
                    d.perils
                        .iter()
                        .chain(d.excluded_causes.iter())
                        .find(|p| p.code == c.peril)
                        .map(|p| p.name.clone())
                })
                .unwrap_or_else(|| c.peril.clone()),
            occurred: c.occurred_at.display(),
            status_name: c.status.name().to_string(),
            payout: c.payout_fen,
            paid: c.paid_fen,
            decline_reason: c.decline_reason.clone(),
            notice,
        })
        .collect();
    Ok(SelfView {
        name: matched.first().map(|g| g.name.clone()).unwrap_or_default(),
        id_number: masked_id.to_string(),
        phone: mask_phone(phone),
        policies,
        plots,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_compares_whole_texts() {
        assert!(same_text("13800000000", "13800000000"));
        assert!(!same_text("13800000000", "13800000001"));
        assert!(!same_text("13800000000", "1380000000"));
        assert!(!same_text("", "1"));
        let long = "1".repeat(70);
        assert!(!same_text(&long, &long));
    }

    #[test]
    fn input_is_read_as_the_grower_form_reads_it() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let first17 = "53299919700101001";
        let id = format!(
            "{first17}{}",
            crate::domain::id_number::check_char(first17).unwrap()
        );
        let wide: String = id
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        let (parsed, phone) = check_input(&format!(" {wide} "), "138 0000-0000", today).unwrap();
        assert_eq!(parsed.as_str(), id);
        assert_eq!(phone, "13800000000");
        let errs = check_input("", "", today).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.code == ErrorCode::ValueRequired));
        let errs = check_input("53299919700101001\u{0}", "1380000000\n0", today).unwrap_err();
        assert_eq!(errs[0].code, ErrorCode::TextControlChar);
        assert_eq!(errs[1].code, ErrorCode::TextControlChar);
        let errs = check_input(&"1".repeat(500), &"1".repeat(500), today).unwrap_err();
        assert!(errs.iter().all(|e| e.code == ErrorCode::TextTooLong));
        let wrong_check = if id.ends_with('0') { '1' } else { '0' };
        let bad_id = format!("{first17}{wrong_check}");
        let errs = check_input(&bad_id, "12345", today).unwrap_err();
        assert_eq!(errs[0].code, ErrorCode::IdNumberChecksum);
        assert_eq!(errs[0].field, "id_number");
        assert_eq!(errs[1].code, ErrorCode::PhoneInvalid);
        assert!(crate::domain::id_number::mask_id(&id).contains("*"));
    }

    #[test]
    fn the_id_key_is_a_hash_not_the_number() {
        let first17 = "53299919700101001";
        let id = format!(
            "{first17}{}",
            crate::domain::id_number::check_char(first17).unwrap()
        );
        let key = id_key(&IdNumber::parse(&id).unwrap());
        assert!(key.starts_with("self_id:") && !key.contains(first17));
        assert_eq!(addr_key("1.2.3.4"), "self_addr:1.2.3.4");
    }
}
