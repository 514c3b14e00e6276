//! Photos in the content-addressed photo store (issue 15, item 1): uploads
//! land under their SHA-256 and not in the database, the same photo is one
//! object, thumbnails are made by the server, hostile images write nothing,
//! and photos kept the old way move out resumably.

use crate::helpers::claims::{dispatch, insured, report};
use crate::helpers::*;
use diesel::prelude::*;
use guobao::db::schema::{claim_photos, notice_photos};
use sha2::{Digest, Sha256};

/// A camera-sized JPEG (1200 × 900) whose pixels depend on `seed`.
fn big_jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(1200, 900, |x, y| {
        image::Rgb([
            (x as u8).wrapping_mul(seed | 1),
            (y as u8).wrapping_add(seed),
            ((x ^ y) as u8).wrapping_mul(3),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every file under the photo store's directory (relative paths, sorted).
fn files(dir: &std::path::Path) -> Vec<String> {
    fn walk(root: &std::path::Path, d: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn object_path(dir: &std::path::Path, hash: &str) -> std::path::PathBuf {
    dir.join("sha256").join(&hash[..2]).join(hash)
}

fn post_photo(api: &Api, path: &str, bytes: Vec<u8>) -> Resp {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .header("Content-Type", "image/jpeg")
        .body(bytes)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    Resp {
        status,
        body: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    }
}

fn get_bytes(api: &Api, path: &str) -> (u16, String, Vec<u8>) {
    let r = reqwest::blocking::Client::new()
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.bytes().unwrap().to_vec())
}

/// Two dispatched claims (ids) in a fresh app.
fn two_claims(app: &TestApp) -> (i64, i64) {
    let a = insured(app, "存储甲", 31, true);
    let b = insured(app, "存储乙", 32, true);
    let uw = app.api("underwriter");
    let ca = report(&uw, &a, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    let cb = report(&uw, &b, "hail", "2012-06-12 07:00").body["id"]
        .as_i64()
        .unwrap();
    assert_eq!(dispatch(&uw, ca).status, 200);
    assert_eq!(dispatch(&uw, cb).status, 200);
    (ca, cb)
}

#[derive(QueryableByName)]
struct RowFacts {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    inline: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    width: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    height: Option<i32>,
}

fn rows_of(conn: &mut guobao::db::DbConn, table: &str) -> Vec<RowFacts> {
    diesel::sql_query(format!(
        "SELECT id, (content IS NOT NULL) AS inline, width, height FROM {table} ORDER BY id"
    ))
    .load(conn)
    .unwrap()
}

#[test]
fn an_upload_is_stored_by_its_hash_once_with_a_smaller_thumbnail() {
    let app = spawn_app_at("2012-06-12 08:00");
    let (ca, cb) = two_claims(&app);
    let adj = app.api("adjuster");
    let photo = big_jpeg(5);
    let hash = sha(&photo);

    let r = post_photo(
        &adj,
        &format!("/api/v1/claims/{ca}/photos?client_id=store-0001"),
        photo.clone(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["sha256"], hash.as_str());
    let dir = app.db.photos.path();
    assert!(object_path(dir, &hash).is_file());
    assert_eq!(std::fs::read(object_path(dir, &hash)).unwrap(), photo);
    // The row has the hash and the dimensions, not the bytes.
    let rows = rows_of(&mut app.conn(), "claim_photos");
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].inline);
    assert_eq!((rows[0].width, rows[0].height), (Some(1200), Some(900)));

    // The same photo on another claim: a second row, still one object
    // (and its reuse is flagged as before).
    let again = post_photo(
        &adj,
        &format!("/api/v1/claims/{cb}/photos?client_id=store-0002"),
        photo.clone(),
    );
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(again.body["reused_claim_no"].is_string(), "{}", again.body);
    assert_eq!(count(&mut app.conn(), "claim_photos"), 2);
    let objects: Vec<_> = files(dir)
        .into_iter()
        .filter(|f| f.starts_with("sha256/"))
        .collect();
    assert_eq!(objects, vec![format!("sha256/{}/{hash}", &hash[..2])]);

    // The original on request, byte for byte; the thumbnail a small JPEG.
    let pid = r.body["id"].as_i64().unwrap();
    let (status, ct, original) = get_bytes(&adj, &format!("/api/v1/claims/{ca}/photos/{pid}"));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert_eq!(original, photo);
    let (status, ct, thumb) = get_bytes(&adj, &format!("/api/v1/claims/{ca}/photos/{pid}/thumb"));
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert!(
        thumb.len() < photo.len() / 4,
        "{} vs {}",
        thumb.len(),
        photo.len()
    );
    let small = image::load_from_memory(&thumb).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));
    assert!(object_path(&dir.join("thumb"), &hash).is_file());

    // The claim page shows the thumbnail and links the original.
    let b = app.browser();
    b.login("underwriter");
    let page = b.get(&format!("/claims/{ca}"));
    assert!(
        page.body
            .contains(&format!("src=\"/claims/{ca}/photos/{pid}/thumb\"")),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(&format!("href=\"/claims/{ca}/photos/{pid}\"")));
    let (status, _, t) = b.get_bytes(&format!("/claims/{ca}/photos/{pid}/thumb"));
    assert_eq!((status, t), (200, thumb));
}

#[test]
fn a_shrunk_photo_keeps_the_original_hash_for_the_reuse_check() {
    let app = spawn_app_at("2012-06-12 08:00");
    let (ca, cb) = two_claims(&app);
    let adj = app.api("adjuster");
    let original = big_jpeg(9);
    let original_hash = sha(&original);
    // The tablet's shrunk copy (other bytes), sent with the original's hash.
    let shrunk = {
        let img = image::load_from_memory(&original)
            .unwrap()
            .thumbnail(600, 600);
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    let r = post_photo(
        &adj,
        &format!(
            "/api/v1/claims/{ca}/photos?client_id=shrink-0001&original_sha256={original_hash}"
        ),
        shrunk.clone(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["sha256"], sha(&shrunk).as_str());
    assert!(object_path(app.db.photos.path(), &sha(&shrunk)).is_file());
    // The same photo sent as taken to another claim is recognised.
    let again = post_photo(
        &adj,
        &format!("/api/v1/claims/{cb}/photos?client_id=shrink-0002"),
        original,
    );
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(again.body["reused_claim_no"].is_string(), "{}", again.body);
    // A malformed declared hash is refused, nothing recorded.
    let bad = post_photo(
        &adj,
        &format!("/api/v1/claims/{cb}/photos?client_id=shrink-0003&original_sha256=../x"),
        big_jpeg(10),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(count(&mut app.conn(), "claim_photos"), 2);
}

/// A PNG whose header says 20000 × 20000 RGB (1.2 GB of pixels) in a few
/// dozen bytes: a decompression bomb.
fn png_bomb() -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&20_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream of a few zero bytes.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn hostile_images_are_refused_and_nothing_is_written() {
    let app = spawn_app_at("2012-06-12 08:00");
    let (ca, _) = two_claims(&app);
    let adj = app.api("adjuster");
    let wide = {
        // 30000 × 1: past the longest side any camera takes.
        let img = image::GrayImage::new(30_000, 1);
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    // (A JPEG cut in half is not here: the decoder fills the missing rows
    // and takes it, as it did before photos left the database.)
    for (n, body) in [png_bomb(), wide, b"%PDF-1.7 not a photo".to_vec()]
        .into_iter()
        .enumerate()
    {
        let r = post_photo(
            &adj,
            &format!("/api/v1/claims/{ca}/photos?client_id=hostile-000{n}"),
            body,
        );
        assert_eq!(r.status, 422, "{n}: {}", r.body);
        assert_eq!(r.body["fields"][0]["code"], "photo_not_image", "{n}");
        assert!(r.body["message"].as_str().is_some());
    }
    // The inspection and notice entries refuse the bomb the same way.
    let notice_id: i64 = {
        #[derive(QueryableByName)]
        struct I {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        diesel::sql_query("SELECT id FROM notices ORDER BY id LIMIT 1")
            .get_result::<I>(&mut app.conn())
            .unwrap()
            .id
    };
    let r = post_photo(
        &app.api("station_a"),
        &format!("/api/v1/notices/{notice_id}/photos"),
        png_bomb(),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    // A real photo with no usable id of the tablet's is refused before it
    // is read, so it leaves no object behind either.
    for q in [
        "",
        "?client_id=short",
        "?client_id=%E4%B8%AD%E6%96%87%E7%BC%96%E5%8F%B7%E5%8F%B7",
    ] {
        let r = post_photo(&adj, &format!("/api/v1/claims/{ca}/photos{q}"), big_jpeg(9));
        assert_eq!(r.status, 422, "{q}: {}", r.body);
        assert_eq!(r.body["fields"][0]["code"], "client_id_invalid", "{q}");
        assert_eq!(r.body["message"], "照片缺少有效的编号（client_id）", "{q}");
    }
    assert_eq!(count(&mut app.conn(), "claim_photos"), 0);
    assert_eq!(count(&mut app.conn(), "notice_photos"), 0);
    assert_eq!(files(app.db.photos.path()), Vec::<String>::new());
}

/// `guobao photos move-out` against the test's database and photo store.
fn move_out(app: &TestApp, args: &[&str]) -> serde_json::Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guobao"))
        .args(["--database-url", &app.db.url])
        .arg("--photo-store")
        .arg(app.db.photos.path())
        .args(["photos", "move-out", "--json"])
        .args(args)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_str(out.trim()).unwrap()
}

#[test]
fn photos_kept_in_the_database_move_out_resumably_and_once() {
    let app = spawn_app_at("2012-06-12 08:00");
    let (ca, cb) = two_claims(&app);
    let notice_id: i64 = {
        #[derive(QueryableByName)]
        struct I {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            id: i64,
        }
        diesel::sql_query("SELECT id FROM notices ORDER BY id LIMIT 1")
            .get_result::<I>(&mut app.conn())
            .unwrap()
            .id
    };
    // Rows the old way: bytes in the row, no dimensions. Two claims share
    // one photo; one notice photo.
    let photos = [big_jpeg(21), big_jpeg(22), big_jpeg(21), big_jpeg(23)];
    let now = guobao::domain::time::Instant::from_utc(chrono::Utc::now());
    {
        let mut c = app.conn();
        for (i, p) in photos.iter().take(3).enumerate() {
            diesel::insert_into(claim_photos::table)
                .values((
                    claim_photos::claim_id.eq(if i == 2 { cb } else { ca }),
                    claim_photos::client_id.eq(format!("legacy-{i}")),
                    claim_photos::sha256.eq(sha(p)),
                    claim_photos::content_type.eq("image/jpeg"),
                    claim_photos::size_bytes.eq(p.len() as i64),
                    claim_photos::content.eq(Some(p.clone())),
                    claim_photos::created_at.eq(now),
                ))
                .execute(&mut c)
                .unwrap();
        }
        diesel::insert_into(notice_photos::table)
            .values((
                notice_photos::notice_id.eq(notice_id),
                notice_photos::sha256.eq(sha(&photos[3])),
                notice_photos::content_type.eq("image/jpeg"),
                notice_photos::size_bytes.eq(photos[3].len() as i64),
                notice_photos::content.eq(Some(photos[3].clone())),
                notice_photos::created_at.eq(now),
            ))
            .execute(&mut c)
            .unwrap();
    }
    let adj = app.api("adjuster");
    let first_id = rows_of(&mut app.conn(), "claim_photos")[0].id;
    // Served from the row before the move.
    let (status, _, b) = get_bytes(&adj, &format!("/api/v1/claims/{ca}/photos/{first_id}"));
    assert_eq!((status, b), (200, photos[0].clone()));

    // One batch of two, as if the run had been stopped there.
    let r = move_out(&app, &["--batch", "2", "--max-batches", "1"]);
    assert_eq!(
        (r["moved"].as_i64(), r["left"].as_i64()),
        (Some(2), Some(2)),
        "{r}"
    );
    let rows = rows_of(&mut app.conn(), "claim_photos");
    assert_eq!(
        rows.iter().map(|r| r.inline).collect::<Vec<_>>(),
        vec![false, false, true]
    );
    assert_eq!((rows[0].width, rows[0].height), (Some(1200), Some(900)));

    // The next run carries on; the shared photo is one object.
    let r = move_out(&app, &["--batch", "2"]);
    assert_eq!(
        (r["moved"].as_i64(), r["left"].as_i64()),
        (Some(2), Some(0)),
        "{r}"
    );
    assert!(rows_of(&mut app.conn(), "claim_photos")
        .iter()
        .all(|r| !r.inline));
    assert!(rows_of(&mut app.conn(), "notice_photos")
        .iter()
        .all(|r| !r.inline));
    let dir = app.db.photos.path();
    let objects: Vec<_> = files(dir)
        .into_iter()
        .filter(|f| f.starts_with("sha256/"))
        .collect();
    assert_eq!(objects.len(), 3, "{objects:?}");
    for p in &photos {
        assert_eq!(std::fs::read(object_path(dir, &sha(p))).unwrap(), *p);
    }
    // Once more: nothing left to do, nothing changed.
    let r = move_out(&app, &[]);
    assert_eq!(
        (r["moved"].as_i64(), r["left"].as_i64()),
        (Some(0), Some(0)),
        "{r}"
    );

    // Served from the store now, original and thumbnail.
    let (status, _, b) = get_bytes(&adj, &format!("/api/v1/claims/{ca}/photos/{first_id}"));
    assert_eq!((status, b), (200, photos[0].clone()));
    let (status, ct, t) = get_bytes(
        &adj,
        &format!("/api/v1/claims/{ca}/photos/{first_id}/thumb"),
    );
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert!(t.len() < photos[0].len());
}
