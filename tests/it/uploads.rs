//! Bodies are bounded before they are read: who may upload and the CSRF token
//! are settled from the request's head, a form has one total limit and limits
//! per part, a photo must decode as an image, and every refusal of a body says
//! so in the project's JSON error shape with a Chinese message.

use crate::helpers::claims::{dispatch, insured, jpeg, report, upload};
use crate::helpers::*;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const MB: usize = 1024 * 1024;
/// The roster/reconciliation file limit (ReadOptions::default().max_bytes).
const FILE_LIMIT: usize = 20 * MB;

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// A client that keeps the session cookie, so raw requests can carry it.
struct Session {
    base: String,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
    client: reqwest::blocking::Client,
}

impl Session {
    fn login(app: &TestApp, username: &str) -> Session {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::blocking::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let s = Session {
            base: app.address.clone(),
            jar,
            client,
        };
        let token = s.csrf("/login");
        let r = s
            .client
            .post(format!("{}/login", s.base))
            .form(&[
                ("username", username),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "login {username}");
        s
    }

    fn csrf(&self, path: &str) -> String {
        let body = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let re = regex::Regex::new(r#"csrf_token(?:" value="|=)([0-9a-f]+)"#).unwrap();
        re.captures(&body).expect("csrf token in page")[1].to_string()
    }

    fn cookie(&self) -> String {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&self.base).unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }

    fn multipart(&self, path: &str, form: Form) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }
}

/// Send only the head of a request that announces a 1 GB body and a first
/// slice of it, then read the answer. A server that waited for the body would
/// never answer (the read times out and the test fails).
fn head_then_answer(base: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n",
        1024 * MB
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // The first 64 KB of the body; the rest never comes.
    let _ = s.write_all(&vec![b'x'; 64 * 1024]);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap());
                let text = String::from_utf8_lossy(&buf);
                // Enough once the head and a body of the announced length are in.
                if let Some((h, b)) = text.split_once("\r\n\r\n") {
                    let len = h
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if b.len() >= len {
                        break;
                    }
                }
            }
            Err(e) => panic!("no answer before the body was sent: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn counts(app: &TestApp) -> Vec<i64> {
    let mut c = app.conn();
    [
        "roster_uploads",
        "growers",
        "plots",
        "claim_photos",
        "audit_log",
    ]
    .iter()
    .map(|t| count(&mut c, t))
    .collect()
}

#[test]
fn a_form_has_one_total_limit_a_part_count_and_a_field_size() {
    let app = spawn_app();
    let station = Session::login(&app, "station_a");
    let token = station.csrf("/import");
    let path = format!("/import?csrf_token={token}");
    let before = counts(&app);

    // The tester's body: dozens of fields. Refused at the 17th part.
    let mut form = Form::new();
    for i in 0..54 {
        form = form.text(format!("f{i}"), "x".repeat(1024));
    }
    let (status, body) = station.multipart(&path, form);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("表单项过多：最多16项"), "{body}");

    // One text field far over its size.
    let form = Form::new().text("township_code", "1".repeat(MB));
    let (status, body) = station.multipart(&path, form);
    assert_eq!(status, 422);
    assert!(body.contains("过长：最多4 KB"), "{body}");

    // A file just under its own limit plus fields, together over the total.
    let mut form = Form::new();
    for i in 0..10 {
        form = form.text(format!("note{i}"), "y".repeat(3 * 1024));
    }
    let form = form.part(
        "file",
        Part::bytes(vec![0u8; FILE_LIMIT - 1024]).file_name("big.xlsx"),
    );
    let (status, body) = station.multipart(&path, form);
    assert_eq!(status, 422);
    assert!(
        body.contains("整个表单（文件和所有字段合计）不能超过20.02 MB"),
        "{body}"
    );

    // A file over its limit.
    let form = Form::new().part(
        "file",
        Part::bytes(vec![0u8; FILE_LIMIT + 1]).file_name("big.xlsx"),
    );
    let (status, body) = station.multipart(&path, form);
    assert_eq!(status, 422);
    assert!(body.contains("文件超过20 MB上限"), "{body}");

    // Two files in one form.
    let form = Form::new()
        .part("file", Part::bytes(vec![1u8; 10]).file_name("a.xlsx"))
        .part("file", Part::bytes(vec![2u8; 10]).file_name("b.xlsx"));
    let (status, body) = station.multipart(&path, form);
    assert_eq!(status, 422);
    assert!(body.contains("一次只能上传一个文件"), "{body}");

    assert_eq!(counts(&app), before);
}

#[test]
fn uploads_are_refused_from_the_head_before_the_body_is_read() {
    let app = spawn_app();
    let before = counts(&app);
    let station = Session::login(&app, "station_a");
    // The token first: the page that makes it also updates the cookie.
    let token = station.csrf("/import");
    let cookie = station.cookie();
    let multipart = "multipart/form-data; boundary=XyZ";

    // No CSRF token: 403 while the body is still coming.
    for path in ["/import", "/import/boundaries", "/finance/reconcile"] {
        let (status, text) = head_then_answer(
            &app.address,
            path,
            &[("Cookie", &cookie), ("Content-Type", multipart)],
        );
        assert_eq!(status, 403, "{path}: {text}");
        assert!(has_chinese(&text), "{path}: {text}");
    }
    // A wrong token.
    let (status, _) = head_then_answer(
        &app.address,
        "/import?csrf_token=0000",
        &[("Cookie", &cookie), ("Content-Type", multipart)],
    );
    assert_eq!(status, 403);
    // The right token, the wrong role: a township station does not reconcile.
    let (status, text) = head_then_answer(
        &app.address,
        &format!("/finance/reconcile?csrf_token={token}"),
        &[("Cookie", &cookie), ("Content-Type", multipart)],
    );
    assert_eq!(status, 403, "{text}");
    // The right token and role, but 1 GB announced: refused as too large.
    let (status, text) = head_then_answer(
        &app.address,
        &format!("/import?csrf_token={token}"),
        &[("Cookie", &cookie), ("Content-Type", multipart)],
    );
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("不能超过"), "{text}");

    // The API: no token, the wrong role, then too large, all from the head.
    let insurer = app.api("underwriter");
    let finance = app.api("finance");
    let station_api = app.api("station_a");
    let cases: Vec<(String, String, u16, &str)> = vec![
        (
            "/api/v1/claims/1/photos?client_id=photo-head-0001".into(),
            String::new(),
            401,
            "unauthenticated",
        ),
        (
            "/api/v1/claims/1/photos?client_id=photo-head-0001".into(),
            station_api.token.clone(),
            403,
            "forbidden",
        ),
        (
            "/api/v1/finance/reconciliations?scheme=walnut-2012&source=insurer".into(),
            insurer.token.clone(),
            403,
            "forbidden",
        ),
        (
            format!("/api/v1/townships/{TOWNSHIP_A}/boundaries?dry_run=1"),
            finance.token.clone(),
            403,
            "forbidden",
        ),
        (
            format!("/api/v1/townships/{TOWNSHIP_A}/boundaries?dry_run=1"),
            station_api.token.clone(),
            422,
            "validation_failed",
        ),
        (
            "/api/v1/finance/reconciliations?scheme=walnut-2012&source=insurer".into(),
            finance.token.clone(),
            422,
            "validation_failed",
        ),
    ];
    for (path, token, want, code) in cases {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("Content-Type", "application/octet-stream")];
        if !token.is_empty() {
            headers.push(("Authorization", &auth));
        }
        let (status, text) = head_then_answer(&app.address, &path, &headers);
        assert_eq!(status, want, "{path}: {text}");
        let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1)
            .unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
        assert_eq!(body["error"], code, "{path}: {body}");
        assert!(
            has_chinese(body["message"].as_str().unwrap_or("")),
            "{body}"
        );
    }
    assert_eq!(counts(&app), before);
}

#[test]
fn a_photo_must_be_an_image_and_within_its_limit() {
    let app = spawn_app_at("2012-06-12 08:00");
    let uw = app.api("underwriter");
    let ins = insured(&app, "照片户", 71, true);
    let r = report(&uw, &ins, "hail", "2012-06-11 20:00");
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(dispatch(&uw, id).status, 200);
    let adj = app.api("adjuster");
    let before = counts(&app);

    // The JPEG signature in front of a web page.
    let mut fake = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    fake.extend_from_slice(b"<html><body><script>alert(1)</script></body></html>");
    // A real photo cut off half way, and a PNG signature with nothing behind it.
    let good = jpeg(5);
    let cut = good.get(..good.len() / 2).unwrap().to_vec();
    let png_sig = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    for (i, bytes) in [fake, cut, png_sig].into_iter().enumerate() {
        let r = upload(&adj, id, &format!("photo-fake-{i:04}"), bytes);
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(r.body["fields"][0]["code"], "photo_not_image");
        assert!(has_chinese(r.body["message"].as_str().unwrap()));
    }
    // Over the limit: a JSON error naming it.
    let mut huge = jpeg(6);
    huge.resize(10 * MB + 1, 0);
    let r = upload(&adj, id, "photo-huge-0001", huge);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "photo_too_large");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("不能超过10 MB"),
        "{}",
        r.body
    );
    assert_eq!(counts(&app), before);

    // A real photo is taken.
    let r = upload(&adj, id, "photo-good-0001", good);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(count(&mut app.conn(), "claim_photos"), 1);
}

#[test]
fn refused_bodies_answer_in_the_json_error_shape() {
    let app = spawn_app();
    let api = app.api("station_a");
    let client = reqwest::blocking::Client::new();
    let before = counts(&app);
    let post = |path: &str, ct: &str, body: Vec<u8>| {
        let r = client
            .post(format!("{}{path}", app.address))
            .bearer_auth(&api.token)
            .header("Content-Type", ct)
            .body(body)
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{path} {status}: not JSON: {text:?}"));
        (status, body)
    };
    // A JSON body over 2 MB: 413 with the limit.
    let mut big = b"{\"name\":\"".to_vec();
    big.extend(vec![b'a'; 3 * MB]);
    big.extend(b"\"}");
    let (status, body) = post("/api/v1/growers", "application/json", big);
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"], "body_too_large");
    assert!(body["message"].as_str().unwrap().contains("2 MB"), "{body}");
    // Not JSON, the wrong content type, the wrong field types: 422.
    for (ct, b) in [
        ("application/json", b"{not json".to_vec()),
        ("text/plain", b"{}".to_vec()),
        (
            "application/json",
            br#"{"name": 5, "id_number": []}"#.to_vec(),
        ),
        ("application/json", b"".to_vec()),
    ] {
        let (status, body) = post("/api/v1/growers", ct, b.clone());
        assert_eq!(status, 422, "{ct} {body}");
        assert_eq!(body["error"], "validation_failed");
        assert_eq!(body["fields"][0]["code"], "json_invalid");
        assert!(has_chinese(body["message"].as_str().unwrap()), "{body}");
    }
    // The survey page's JSON endpoint (outside the API scope) too.
    let br = app.browser();
    br.login("adjuster");
    let p = br.post_raw(
        "/claims/1/survey.json",
        &[],
        "application/json",
        vec![b' '; 3 * MB],
    );
    assert_eq!(p.status, 413, "{}", p.body);
    assert!(p.body.contains("body_too_large"), "{}", p.body);
    // A page form over its limit.
    let p = br.post("/claims", &[("description", &"z".repeat(5 * MB))]);
    assert_eq!(p.status, 413);
    assert!(p.body.contains("body_too_large"), "{}", p.body);
    assert_eq!(counts(&app), before);
}

#[test]
fn pages_are_checked_and_never_wrap() {
    let app = spawn_app();
    let api = app.api("station_a");
    GrowerBuilder::new("分页户").seq(81).create(&api);
    let r = api.get("/api/v1/growers?page=9223372036854775807");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"], json!([]));
    assert_eq!(r.body["total"], 1);
    let r = api.get("/api/v1/growers?page=9223372036854775807&page_size=500");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["items"], json!([]));
    for q in [
        "page_size=100000",
        "page_size=501",
        "page_size=0",
        "page=0",
        "page=-1",
    ] {
        for list in ["/api/v1/growers", "/api/v1/plots", "/api/v1/policies"] {
            let r = api.get(&format!("{list}?{q}"));
            assert_eq!(r.status, 422, "{list}?{q}: {}", r.body);
            assert!(has_chinese(r.body["message"].as_str().unwrap()));
        }
    }
    // A number too large for the type is a 422 too, not a wrap or a 500.
    let r = api.get("/api/v1/growers?page=92233720368547758070");
    assert_eq!(r.status, 422, "{}", r.body);
    // Unknown enum values in a query are refused, naming what is accepted.
    let r = api.get("/api/v1/policies?status=paid");
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.body["fields"][0]["code"], "status_invalid");
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("issued（已签发）"));
    let r = app.api("underwriter").get("/api/v1/claims?status=lost");
    assert_eq!(r.status, 422, "{}", r.body);
    let r = api.get("/api/v1/policies?status=issued");
    assert_eq!(r.status, 200, "{}", r.body);
}
