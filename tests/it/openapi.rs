//! The OpenAPI document served at /api/v1/openapi.json must describe exactly
//! the routes `web::api::configure` registers, and every `$ref` in it must
//! resolve. Adding a route without documenting it fails here.

use regex::Regex;
use serde_json::Value;
use std::collections::BTreeSet;

const API_SOURCE: &str = include_str!("../../src/web/api.rs");
/// Route groups that api.rs mounts inside its scope with `.configure(...)`.
const SCOPED_SOURCES: [&str; 13] = [
    include_str!("../../src/web/claims/api.rs"),
    include_str!("../../src/web/inspection/api.rs"),
    include_str!("../../src/web/home/api.rs"),
    include_str!("../../src/web/areas/api.rs"),
    include_str!("../../src/web/schemes/api.rs"),
    include_str!("../../src/web/growers/api.rs"),
    include_str!("../../src/web/plots/api.rs"),
    include_str!("../../src/web/policies/api.rs"),
    include_str!("../../src/web/audit/api.rs"),
    include_str!("../../src/web/accounts/api.rs"),
    include_str!("../../src/web/self_service/api.rs"),
    include_str!("../../src/web/notices/api.rs"),
    include_str!("../../src/web/checks/api.rs"),
];
const PREFIX: &str = "/api/v1";
const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(guobao::web::api::OPENAPI).expect("openapi.json is not valid JSON")
}

/// The body of `pub fn configure` in a source file, so routes elsewhere don't count.
fn configure_of(source: &'static str) -> &'static str {
    let start = source
        .find("pub fn configure(")
        .expect("no `pub fn configure`");
    let rest = &source[start..];
    let end = rest.find("\n}\n").expect("end of configure not found");
    &rest[..end]
}

fn configure_source() -> &'static str {
    configure_of(API_SOURCE)
}

/// `{id:\d+}` in actix is `{id}` in OpenAPI.
fn openapi_template(actix_path: &str) -> String {
    let param = Regex::new(r"\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}").unwrap();
    param.replace_all(actix_path, "{$1}").into_owned()
}

/// (path, method) for every `.route("<path>", web::<method>()` in configure.
fn registered_routes() -> BTreeSet<(String, String)> {
    let src = configure_source();
    assert!(
        src.contains(&format!("web::scope(\"{PREFIX}\")")),
        "the API scope is no longer {PREFIX}; update this test"
    );
    let route = Regex::new(r#"\.route\(\s*"([^"]*)"\s*,\s*web::([a-z]+)\(\)"#).unwrap();
    let mut all = src.to_string();
    for (i, scoped) in SCOPED_SOURCES.iter().enumerate() {
        assert!(
            src.contains(".configure("),
            "api.rs no longer mounts route group {i} with .configure(...)"
        );
        all.push_str(configure_of(scoped));
    }
    let src = all.as_str();
    let routes: Vec<(String, String)> = route
        .captures_iter(src)
        .map(|c| {
            (
                format!("{PREFIX}{}", openapi_template(&c[1])),
                c[2].to_string(),
            )
        })
        .collect();
    // Guard against the regex silently missing routes after a refactor.
    let mentions = src.matches(".route(").count();
    assert_eq!(
        routes.len(),
        mentions,
        "some .route(...) calls in configure were not understood by this test"
    );
    assert!(!routes.is_empty(), "no routes found in api.rs configure");
    routes.into_iter().collect()
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"]
        .as_object()
        .expect("document has no paths object");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let item = item.as_object().expect("path item is not an object");
        for key in item.keys() {
            if HTTP_METHODS.contains(&key.as_str()) {
                out.insert((path.clone(), key.clone()));
            }
        }
    }
    out
}

#[test]
fn is_openapi_3_0_3() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    assert_eq!(doc["info"]["title"], "果保 guobao API");
    assert_eq!(doc["info"]["version"], "1");
    assert!(doc["components"]["securitySchemes"]["bearerAuth"].is_object());
}

#[test]
fn every_registered_route_is_documented() {
    let doc = document();
    let documented = documented_operations(&doc);
    let missing: Vec<_> = registered_routes()
        .into_iter()
        .filter(|r| !documented.contains(r))
        .collect();
    assert!(
        missing.is_empty(),
        "routes registered in api.rs but missing from openapi.json: {missing:?}"
    );
}

#[test]
fn every_documented_operation_is_registered() {
    let doc = document();
    let registered = registered_routes();
    let extra: Vec<_> = documented_operations(&doc)
        .into_iter()
        .filter(|r| !registered.contains(r))
        .collect();
    assert!(
        extra.is_empty(),
        "operations in openapi.json that api.rs does not register: {extra:?}"
    );
}

#[test]
fn every_operation_has_a_chinese_summary_and_declares_its_path_parameters() {
    let doc = document();
    let param_name = Regex::new(r"\{([^}]+)\}").unwrap();
    for (path, method) in documented_operations(&doc) {
        let op = &doc["paths"][&path][&method];
        let summary = op["summary"].as_str().unwrap_or("");
        assert!(
            summary
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{method} {path}: summary should be in Chinese, got {summary:?}"
        );
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "path")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect();
        let in_template: BTreeSet<String> = param_name
            .captures_iter(&path)
            .map(|c| c[1].to_string())
            .collect();
        assert_eq!(
            declared, in_template,
            "{method} {path}: path parameters declared vs. in the template"
        );
    }
}

/// Follow one local `$ref`, or return the value itself.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => pointer(doc, r).unwrap_or_else(|| panic!("unresolved $ref {r}")),
        None => v,
    }
}

fn pointer<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let p = reference.strip_prefix('#')?;
    doc.pointer(p)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    out.push(child.as_str().unwrap_or("<not a string>").to_string());
                } else {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves_to_a_component() {
    let doc = document();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty(), "expected the document to use $ref");
    let broken: Vec<_> = refs
        .iter()
        .filter(|r| {
            !r.starts_with("#/components/")
                || pointer(&doc, r).is_none_or(|target| !target.is_object())
        })
        .collect();
    assert!(broken.is_empty(), "$refs that do not resolve: {broken:?}");
}

// ------------------------------------------------------------------------
// The document against the running server: every operation is sent a small
// set of valid and invalid requests, and every status that comes back must be
// one the document declares for that operation (and never a 5xx).

use crate::helpers::{spawn_app_at, TOWNSHIP_A};
use serde_json::json;

const HUGE_DECIMAL: &str = "79228162514264337593543950335";
const UNKNOWN_ENUM: &str = "no_such_value";

struct Probe {
    what: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    token: Option<String>,
}

fn example_value(doc: &Value, schema: &Value) -> Option<String> {
    let s = resolve(doc, schema);
    for key in ["example", "default"] {
        if let Some(v) = s.get(key) {
            return Some(match v {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            });
        }
    }
    if let Some(first) = s["enum"].as_array().and_then(|e| e.first()) {
        return first.as_str().map(str::to_string);
    }
    None
}

/// A value for a schema: its example, else its first enum value or default,
/// else one built from its type (objects from their properties: all, or
/// only the required ones).
fn synth(doc: &Value, schema: &Value, only_required: bool, depth: u32) -> Value {
    let s = resolve(doc, schema);
    if let Some(v) = s.get("example").or_else(|| s.get("default")) {
        return v.clone();
    }
    if let Some(first) = s["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if depth > 6 {
        return Value::Null;
    }
    match s["type"].as_str() {
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        Some("array") => json!([synth(doc, &s["items"], only_required, depth + 1)]),
        Some("string") => match s["format"].as_str() {
            Some("date") => json!("2012-06-10"),
            Some("date-time") => json!("2012-06-11T12:00:00Z"),
            _ => json!("1"),
        },
        _ => {
            let required = required_of(doc, s);
            let mut out = serde_json::Map::new();
            for (name, prop) in properties(doc, s) {
                if !only_required || required.contains(&name.as_str()) {
                    out.insert(name.clone(), synth(doc, prop, only_required, depth + 1));
                }
            }
            Value::Object(out)
        }
    }
}

/// Property schemas of a request body's schema (following `$ref`s).
fn properties<'a>(doc: &'a Value, schema: &'a Value) -> Vec<(&'a String, &'a Value)> {
    resolve(doc, schema)["properties"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k, resolve(doc, v))).collect())
        .unwrap_or_default()
}

fn required_of<'a>(doc: &'a Value, schema: &'a Value) -> Vec<&'a str> {
    resolve(doc, schema)["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn is_numeric(schema: &Value) -> bool {
    matches!(schema["type"].as_str(), Some("integer" | "number"))
        || schema["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("0-9") || p.contains("\\d"))
}

/// The requests sent to one operation.
fn probes(
    doc: &Value,
    path: &str,
    op: &Value,
    tokens: &[(&str, &str)],
    photo: &[u8],
) -> Vec<Probe> {
    let fill = |id: &str| {
        path.replace("{id}", id)
            .replace("{photo_id}", id)
            .replace("{code}", TOWNSHIP_A)
    };
    let params: Vec<&Value> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .filter(|p| p["in"] == "query")
        .collect();
    let mut query: Vec<(String, String)> = Vec::new();
    for p in &params {
        let name = p["name"].as_str().unwrap_or("").to_string();
        let value = example_value(doc, &p["schema"]).or_else(|| {
            (p["required"] == true).then(|| match p["schema"]["type"].as_str() {
                Some("integer" | "number") => "1".to_string(),
                Some("boolean") => "true".to_string(),
                _ => "1".to_string(),
            })
        });
        if let Some(v) = value {
            query.push((name, v));
        }
    }
    // The request body: the document's example in its first content type.
    let body = op["requestBody"]["content"].as_object().and_then(|c| {
        let (ct, media) = c.iter().next()?;
        let bytes = if ct.starts_with("image/") || ct == "application/octet-stream" {
            photo.to_vec()
        } else {
            let ex = media
                .get("example")
                .cloned()
                .unwrap_or_else(|| synth(doc, &media["schema"], false, 0));
            ex.to_string().into_bytes()
        };
        Some((ct.clone(), bytes, media["schema"].clone()))
    });
    let mut out = Vec::new();
    let base = |what: &str, token: &str| Probe {
        what: what.to_string(),
        path: fill("1"),
        query: query.clone(),
        body: body.as_ref().map(|(ct, b, _)| (ct.clone(), b.clone())),
        token: Some(token.to_string()),
    };
    for (who, token) in tokens {
        out.push(base(&format!("valid as {who}"), token));
    }
    let admin = tokens.first().map(|t| t.1).unwrap_or("");
    let mut p = base("no token", admin);
    p.token = None;
    out.push(p);
    for id in [
        "9223372036854775807",
        "99999999999999999999999",
        "abc",
        "-1",
    ] {
        if path.contains('{') {
            let mut p = base(&format!("path id {id}"), admin);
            p.path = fill(id);
            out.push(p);
        }
    }
    let mut p = base("page beyond i64 and page_size 100000", admin);
    p.query.push(("page".into(), "9223372036854775807".into()));
    p.query.push(("page_size".into(), "100000".into()));
    out.push(p);
    let mut p = base("page 9223372036854775807", admin);
    p.query.push(("page".into(), "9223372036854775807".into()));
    out.push(p);
    for q in &params {
        let name = q["name"].as_str().unwrap_or("");
        let wrong = match q["schema"]["type"].as_str() {
            Some("integer" | "number") => vec!["abc", "1e3", "99999999999999999999999"],
            Some("boolean") => vec!["maybe"],
            _ if resolve(doc, &q["schema"])["enum"].is_array() => vec![UNKNOWN_ENUM],
            _ => vec![HUGE_DECIMAL, ""],
        };
        for w in wrong {
            let mut p = base(&format!("query {name}={w}"), admin);
            p.query.retain(|(k, _)| k != name);
            p.query.push((name.to_string(), w.to_string()));
            out.push(p);
        }
    }
    let Some((ct, example, schema)) = body.clone() else {
        return out;
    };
    let mut p = base("no body", admin);
    p.body = None;
    out.push(p);
    let mut with = |what: String, bytes: Vec<u8>, ct: &str| {
        let mut p = base(&what, admin);
        p.body = Some((ct.to_string(), bytes));
        out.push(p);
    };
    if !ct.contains("json") {
        with("an empty body".into(), Vec::new(), &ct);
        with("html, not a file".into(), b"<html></html>".to_vec(), &ct);
        return out;
    }
    with("not JSON".into(), b"{\"a\":".to_vec(), &ct);
    with("a JSON array".into(), b"[]".to_vec(), &ct);
    with("an empty object".into(), b"{}".to_vec(), &ct);
    with("wrong content type".into(), example.clone(), "text/plain");
    with(
        "a number far too large".into(),
        b"{\"x\": 1e400}".to_vec(),
        &ct,
    );
    let Ok(Value::Object(ex)) = serde_json::from_slice::<Value>(&example) else {
        return out;
    };
    // Only the fields the document says are required: serde must not miss one.
    with(
        "only the documented required fields".into(),
        synth(doc, &schema, true, 0).to_string().into_bytes(),
        &ct,
    );
    let mut big = b"{\"x\": \"".to_vec();
    big.resize(3 * 1024 * 1024, b'a');
    big.extend_from_slice(b"\"}");
    with("a body over the limit".into(), big, &ct);
    let props = properties(doc, &schema);
    for (name, prop) in &props {
        let mut variants: Vec<(String, Value)> = vec![
            ("an object".into(), json!({"a": 1})),
            ("an array".into(), json!([1, 2])),
        ];
        if prop["type"] == "string" || prop.get("$ref").is_some() || prop["type"].is_null() {
            variants.push(("a number".into(), json!(12345)));
            variants.push(("a huge decimal".into(), json!(HUGE_DECIMAL)));
            variants.push(("an exponent".into(), json!("1e3")));
        }
        if is_numeric(prop) {
            variants.push(("i64::MAX + 1".into(), json!(9_223_372_036_854_775_808u64)));
            variants.push(("a huge decimal".into(), json!(HUGE_DECIMAL)));
        }
        if prop["enum"].is_array() {
            variants.push(("an unknown enum value".into(), json!(UNKNOWN_ENUM)));
        }
        if prop["type"] == "boolean" {
            variants.push(("a string".into(), json!("yes")));
        }
        for (label, v) in variants {
            let mut b = ex.clone();
            b.insert(name.to_string(), v);
            with(
                format!("{name} as {label}"),
                Value::Object(b).to_string().into_bytes(),
                &ct,
            );
        }
    }
    out
}

fn send(client: &reqwest::blocking::Client, base: &str, method: &str, p: &Probe) -> (u16, String) {
    let url = format!("{base}{}", p.path);
    let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut rb = client.request(m, url).query(&p.query);
    if let Some(t) = &p.token {
        rb = rb.bearer_auth(t);
    }
    if let Some((ct, b)) = &p.body {
        rb = rb.header("Content-Type", ct).body(b.clone());
    }
    match rb.send() {
        Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
        // The connection dropped without an answer: as bad as a 5xx.
        Err(e) => (599, format!("no answer: {e}")),
    }
}

#[test]
fn every_operation_answers_only_the_statuses_it_declares() {
    let doc = document();
    let app = spawn_app_at("2012-06-12 08:00");
    // Some records for the ids in paths to find: an insured plot, a claim.
    let ins = crate::helpers::claims::insured(&app, "契约户", 91, true);
    let uw = app.api("underwriter");
    let r = crate::helpers::claims::report(&uw, &ins, "hail", "2012-06-11 20:00");
    assert_eq!(r.status, 201, "{}", r.body);
    let admin = app.api("admin");
    let others: Vec<(String, String)> = ["station_b", "adjuster", "finance"]
        .iter()
        .map(|u| (u.to_string(), app.api(u).token))
        .collect();
    let mut tokens: Vec<(&str, &str)> = vec![("admin", admin.token.as_str())];
    tokens.extend(others.iter().map(|(u, t)| (u.as_str(), t.as_str())));
    let photo = crate::helpers::claims::jpeg(9);
    let client = reqwest::blocking::Client::new();
    let mut wrong = Vec::new();
    let mut sent = 0;
    // Deletes last, so the records stay for the other operations.
    let mut ops: Vec<(String, String)> = documented_operations(&doc).into_iter().collect();
    ops.sort_by_key(|(_, m)| m == "delete");
    for (path, method) in ops {
        let op = &doc["paths"][&path][&method];
        let declared: BTreeSet<String> = op["responses"]
            .as_object()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        for p in probes(&doc, &path, op, &tokens, &photo) {
            let (status, body) = send(&client, &app.address, &method, &p);
            sent += 1;
            let declared_ok = declared.contains(&status.to_string())
                || (declared.contains("default") && status < 500);
            let missing_field = status == 422
                && p.what.starts_with("only the documented")
                && body.contains("missing field");
            if status >= 500 || !declared_ok || missing_field {
                let short: String = body.chars().take(300).collect();
                wrong.push(format!(
                    "{} {path} [{}] {:?} -> {status} (declared {declared:?}): {short}",
                    method.to_uppercase(),
                    p.what,
                    p.path
                ));
            }
        }
    }
    assert!(sent > 500, "only {sent} requests sent");
    assert!(
        wrong.is_empty(),
        "{} of {sent} answers not in the document:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
