//! Public notices in tests: post the notice a policy or a claim needs and
//! let its period pass, so tests about other things can issue and pay.

use super::*;
use diesel::prelude::*;
use guobao::db::schema::{areas, claims, growers, notices, policies};
use serde_json::json;

pub const PLACE: &str = "村委会公示栏";
pub const PHONE: &str = "0871-12345678";

/// The village code of a policy's grower.
pub fn village_of_policy(app: &TestApp, policy_id: i64) -> String {
    let mut c = app.conn();
    policies::table
        .find(policy_id)
        .inner_join(growers::table)
        .inner_join(areas::table.on(areas::id.eq(growers::village_id)))
        .select(areas::code)
        .first(&mut c)
        .unwrap()
}

/// The notice's period ended yesterday: its start and end moved back by the
/// same number of days. This is time passing for this notice only; the
/// server's clock stays where the test put it (survey deadlines, payment
/// dates and "today" on forms depend on it).
pub fn end_period(app: &TestApp, notice_id: i64) {
    let mut c = app.conn();
    let (start, end): (String, String) = notices::table
        .find(notice_id)
        .select((notices::starts_on, notices::ends_on))
        .first(&mut c)
        .unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let (start, end) = (d(&start), d(&end));
    let yesterday = app.clock.today() - chrono::Duration::days(1);
    let shift = end - yesterday;
    diesel::update(notices::table.find(notice_id))
        .set((
            notices::starts_on.eq((start - shift).format("%Y-%m-%d").to_string()),
            notices::ends_on.eq((end - shift).format("%Y-%m-%d").to_string()),
        ))
        .execute(&mut c)
        .unwrap();
}

/// Post a notice through the API as `username` (starting today); the reply.
pub fn post_notice(api: &Api, body: Value) -> Resp {
    let mut b = json!({"place": PLACE, "contact_phone": PHONE});
    if let (Value::Object(m), Value::Object(extra)) = (&mut b, body) {
        m.extend(extra);
    }
    api.post("/api/v1/notices", b)
}

/// The village's enrollment notice, posted today by the county forestry
/// bureau and left to end: its id.
pub fn enrollment_notice_ended(app: &TestApp, village_code: &str) -> i64 {
    let today = app.clock.today().to_string();
    let r = post_notice(
        &app.api("forestry"),
        json!({"kind": "enrollment", "village_code": village_code, "starts_on": today}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    end_period(app, id);
    id
}

/// What a test about something else needs before it issues `policy_id`:
/// the enrollment notice of its village, posted and ended.
pub fn notice_for_policy(app: &TestApp, policy_id: i64) -> i64 {
    let village = village_of_policy(app, policy_id);
    enrollment_notice_ended(app, &village)
}

/// The claim results notice covering `claim_id` (its event's, or its
/// village's for a single claim), posted today and left to end: its id.
pub fn notice_for_claim(app: &TestApp, claim_id: i64) -> i64 {
    let (event, village): (Option<i64>, String) = {
        let mut c = app.conn();
        claims::table
            .find(claim_id)
            .inner_join(growers::table.on(growers::id.eq(claims::grower_id)))
            .inner_join(areas::table.on(areas::id.eq(growers::village_id)))
            .select((claims::event_id, areas::code))
            .first(&mut c)
            .unwrap()
    };
    let today = app.clock.today().to_string();
    let body = match event {
        Some(e) => json!({"kind": "claim", "event_id": e, "starts_on": today}),
        None => json!({"kind": "claim", "village_code": village, "starts_on": today}),
    };
    let r = post_notice(&app.api("underwriter"), body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    end_period(app, id);
    id
}
