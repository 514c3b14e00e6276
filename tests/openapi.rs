//! The OpenAPI document served at /api/v1/openapi.json must describe exactly
//! the routes `web::api::configure` registers, and every `$ref` in it must
//! resolve. Adding a route without documenting it fails here.

use regex::Regex;
use serde_json::Value;
use std::collections::BTreeSet;

const API_SOURCE: &str = include_str!("../src/web/api.rs");
/// Route groups that api.rs mounts inside its scope with `.configure(...)`.
const SCOPED_SOURCES: [&str; 1] = [include_str!("../src/web/claims_api.rs")];
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
