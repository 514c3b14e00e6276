//! README, "Audit": every create, update and delete of plots, policies,
//! premium batches, schemes and areas leaves a row naming who did what to
//! which record, with the row before and after.

use crate::helpers::*;
use serde_json::{json, Value};

/// One audit row as the log shows it, its before and after read as JSON.
struct Row {
    action: String,
    username: String,
    entity_id: Option<i64>,
    before: Value,
    after: Value,
}

/// The audit rows of `entity` (of record `id` when given), newest first.
fn audit(app: &TestApp, entity: &str, id: Option<i64>) -> Vec<Row> {
    let path = match id {
        Some(id) => format!("/api/v1/audit?entity={entity}&entity_id={id}"),
        None => format!("/api/v1/audit?entity={entity}"),
    };
    let r = app.api("admin").get(&path);
    assert_eq!(r.status, 200, "{}", r.body);
    let json_of = |v: &Value| {
        v.as_str()
            .map(|s| serde_json::from_str(s).unwrap())
            .unwrap_or(Value::Null)
    };
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| Row {
            action: a["action"].as_str().unwrap().to_string(),
            username: a["username"].as_str().unwrap().to_string(),
            entity_id: a["entity_id"].as_i64(),
            before: json_of(&a["before_json"]),
            after: json_of(&a["after_json"]),
        })
        .collect()
}

fn actions(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|r| r.action.as_str()).collect()
}

/// A grower of 甲镇 with one eligible plot (so a draft policy); (grower, plot, policy).
fn grower_with_plot(app: &TestApp, station: &Api, seq: u32) -> (i64, i64, i64) {
    let g = GrowerBuilder::new("审计户").seq(seq).create(station);
    let r = PlotBuilder::new(g).create(station);
    assert_eq!(r.status, 201, "{}", r.body);
    let plot = r.body["id"].as_i64().unwrap();
    let policy = station.get(&format!("/api/v1/growers/{g}")).body["policies"][0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(audit(app, "plot", Some(plot)).len(), 1);
    (g, plot, policy)
}

#[test]
fn a_plot_is_audited_on_create_update_and_delete_with_its_draft_policy() {
    let app = spawn_app();
    let station = app.api("station_a");
    let (g, plot, policy) = grower_with_plot(&app, &station, 81);
    let r = station.put(
        &format!("/api/v1/plots/{plot}"),
        json!({"grower_id": g, "variety": "early", "tree_age": 9, "tree_count": 30,
               "fruit_per_tree": 300, "area_mu": "2"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(station.delete(&format!("/api/v1/plots/{plot}")).status, 204);

    let rows = audit(&app, "plot", Some(plot));
    assert_eq!(actions(&rows), ["delete", "update", "create"]);
    assert!(rows.iter().all(|r| r.username == "station_a"));
    assert!(rows.iter().all(|r| r.entity_id == Some(plot)));
    let (deleted, updated, created) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(created.before, Value::Null);
    assert_eq!(created.after["tree_age"], 8);
    assert_eq!(created.after["area_units"], 10_000);
    assert_eq!(updated.before["tree_age"], 8);
    assert_eq!(updated.before["area_units"], 10_000);
    assert_eq!(updated.after["tree_age"], 9);
    assert_eq!(updated.after["area_units"], 20_000);
    assert_eq!(deleted.before["tree_age"], 9);
    assert_eq!(deleted.before["code"], created.after["code"]);
    assert_eq!(deleted.after, Value::Null);

    // The draft policy followed the plot, and its removal is on record too.
    let rows = audit(&app, "policy", Some(policy));
    assert_eq!(rows.first().unwrap().action, "delete");
    assert_eq!(rows.last().unwrap().action, "create");
    assert_eq!(rows[0].username, "station_a");
    assert_eq!(rows[0].before["id"], policy);
    assert_eq!(rows[0].after, Value::Null);
    assert_eq!(count(&mut app.conn(), "policies"), 0);
}

#[test]
fn premium_batches_schemes_and_areas_are_audited() {
    let app = spawn_app();
    let station = app.api("station_a");
    let (_, _, policy) = grower_with_plot(&app, &station, 83);
    let r = station.post(
        &format!("/api/v1/policies/{policy}/collect"),
        json!({"collected_on": "2012-03-10"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = station.post(
        "/api/v1/batches",
        json!({"receipt_no": "SJ-AUDIT", "handed_over_on": "2012-03-31"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let batch = r.body["id"].as_i64().unwrap();
    let r = app.api("underwriter").post(
        &format!("/api/v1/batches/{batch}/confirm"),
        json!({"amount": "16.00", "confirmed_on": "2012-04-02"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let rows = audit(&app, "premium_batch", Some(batch));
    assert_eq!(actions(&rows), ["confirm", "create"]);
    let (confirmed, created) = (&rows[0], &rows[1]);
    assert_eq!(created.username, "station_a");
    assert_eq!(created.after["batch"]["receipt_no"], "SJ-AUDIT");
    assert_eq!(created.after["policy_ids"], json!([policy]));
    assert_eq!(confirmed.username, "underwriter");
    assert_eq!(confirmed.after["batch"]["id"], batch);

    let admin = app.api("admin");
    let apple: Value =
        serde_json::from_str(include_str!("../../fixtures/schemes/apple-2013.json")).unwrap();
    let schemes_before = audit(&app, "scheme", None).len();
    assert_eq!(admin.post("/api/v1/schemes", apple).status, 201);
    let rows = audit(&app, "scheme", None);
    assert_eq!(rows.len(), schemes_before + 1);
    assert_eq!(rows[0].action, "create");
    assert_eq!(rows[0].username, "admin");
    assert_eq!(rows[0].after["code"], "apple-2013");
    assert_eq!(rows[0].after["premium_per_mu"], "120.00");

    let r = admin.post(
        "/api/v1/areas",
        json!({"code": "532999101209", "name": "审计村", "level": "village", "parent_code": TOWNSHIP_A}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let village = r.body["id"].as_i64().unwrap();
    let rows = audit(&app, "area", Some(village));
    assert_eq!(actions(&rows), ["create"]);
    assert_eq!(rows[0].username, "admin");
    assert_eq!(rows[0].after["name"], "审计村");
    let r = app.api("forestry").put(
        &format!("/api/v1/townships/{TOWNSHIP_A}/target"),
        json!({"target_mu": "1250.5"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rows = audit(&app, "area", Some(app.seed.township_a));
    assert_eq!(actions(&rows), ["update"]);
    assert_eq!(rows[0].username, "forestry");
    assert_eq!(rows[0].before["target_mu_units"], 1_000_000);
    assert_eq!(rows[0].after["target_mu_units"], 12_505_000);
}

#[test]
fn deleting_a_grower_audits_the_grower_and_what_goes_with_it() {
    let app = spawn_app();
    let station = app.api("station_a");
    let (g, plot, policy) = grower_with_plot(&app, &station, 82);
    assert_eq!(station.delete(&format!("/api/v1/growers/{g}")).status, 204);
    assert_eq!(count(&mut app.conn(), "plots"), 0);
    assert_eq!(count(&mut app.conn(), "policies"), 0);
    let records = [("grower", g), ("plot", plot), ("policy", policy)];
    // The latest row of each record: who deleted it, and the row as it was.
    let latest: Vec<(&str, String, String, Value, Value)> = records
        .iter()
        .map(|&(entity, id)| {
            let last = audit(&app, entity, Some(id)).remove(0);
            (
                entity,
                last.action,
                last.username,
                last.before["id"].clone(),
                last.after,
            )
        })
        .collect();
    let expected: Vec<(&str, String, String, Value, Value)> = records
        .iter()
        .map(|&(entity, id)| {
            (
                entity,
                "delete".into(),
                "station_a".into(),
                json!(id),
                Value::Null,
            )
        })
        .collect();
    assert_eq!(latest, expected);
}
