//! `/readyz`: whether this server can do its work now. Each check has a
//! bound, so a database that hangs makes the answer "not ready" within
//! seconds instead of making the load balancer's probe hang.

use crate::web::AppState;
use serde::Serialize;
use std::time::{Duration, Instant};

/// How long one check may take before it counts as failed.
pub const CHECK_BOUND: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was found, in Chinese.
    pub detail: String,
    pub ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub checks: Vec<Check>,
}

impl Readiness {
    pub fn of(checks: Vec<Check>) -> Readiness {
        Readiness {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

fn check(name: &'static str, started: Instant, outcome: Result<String, String>) -> Check {
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(detail) => Check {
            name,
            ok: true,
            detail,
            ms,
        },
        Err(detail) => Check {
            name,
            ok: false,
            detail,
            ms,
        },
    }
}

/// Database reachable and answering, migrations current, photo store
/// writable, free disk above the threshold.
pub async fn standard(state: &AppState) -> Readiness {
    let mut checks = Vec::new();

    let started = Instant::now();
    let pool = state.pool.clone();
    let asked = actix_web::rt::time::timeout(
        CHECK_BOUND,
        actix_web::web::block(move || -> Result<usize, String> {
            use diesel::connection::SimpleConnection;
            let mut conn = pool
                .get_timeout(CHECK_BOUND)
                .map_err(|e| format!("无法取得数据库连接：{e}"))?;
            conn.batch_execute("SELECT 1")
                .map_err(|e| format!("数据库没有应答：{e}"))?;
            crate::db::pending_migrations(&mut conn).map_err(|e| format!("无法读取迁移状态：{e}"))
        }),
    )
    .await;
    let answered = match asked {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => Err(format!("数据库检查失败：{e}")),
        Err(_) => Err(format!("数据库在{}秒内没有应答", CHECK_BOUND.as_secs())),
    };
    match answered {
        Ok(pending) => {
            checks.push(check("database", started, Ok("数据库连接正常".into())));
            checks.push(check(
                "migrations",
                started,
                if pending == 0 {
                    Ok("数据库结构为最新".into())
                } else {
                    Err(format!(
                        "有{pending}个数据库迁移尚未执行，请运行 guobao migrate"
                    ))
                },
            ));
        }
        Err(e) => {
            checks.push(check("database", started, Err(e)));
            checks.push(check(
                "migrations",
                started,
                Err("数据库不可用，无法检查".into()),
            ));
        }
    }

    let started = Instant::now();
    let probed = actix_web::rt::time::timeout(CHECK_BOUND, state.photos.probe()).await;
    checks.push(check(
        "photo_store",
        started,
        match probed {
            Ok(Ok(())) => Ok(format!("照片存储可写（{}）", state.photos.location())),
            Ok(Err(e)) => Err(format!(
                "照片存储无法写入（{}）：{}",
                state.photos.location(),
                e.0
            )),
            Err(_) => Err(format!(
                "照片存储在{}秒内没有应答（{}）",
                CHECK_BOUND.as_secs(),
                state.photos.location()
            )),
        },
    ));

    let started = Instant::now();
    checks.push(check(
        "disk",
        started,
        disk(
            state.pool.url(),
            state.photos.local_dir(),
            state.ops.min_free_bytes,
        ),
    ));
    Readiness::of(checks)
}

/// Free space where this server writes: the SQLite file's directory and a
/// local photo directory (PostgreSQL's disk is the database server's).
fn disk(url: &str, photos: Option<std::path::PathBuf>, min_free: u64) -> Result<String, String> {
    let mut places: Vec<(&str, std::path::PathBuf)> = Vec::new();
    if crate::db::backend_of(url) == crate::db::Backend::Sqlite {
        let file = std::path::Path::new(crate::db::sqlite_path(url));
        let dir = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        places.push(("数据库", dir.to_path_buf()));
    }
    if let Some(dir) = photos {
        places.push(("照片", dir));
    }
    let mut found = Vec::new();
    let mut short = Vec::new();
    for (what, dir) in places {
        match crate::ops::disk::free_bytes(&dir) {
            Ok(free) => {
                let text = format!("{what}目录剩余{}", gib(free));
                if free < min_free {
                    short.push(format!("{text}，低于{}", gib(min_free)));
                } else {
                    found.push(text);
                }
            }
            Err(e) => short.push(format!(
                "{what}目录 {} 无法读取剩余空间：{e}",
                dir.display()
            )),
        }
    }
    if short.is_empty() {
        Ok(if found.is_empty() {
            "本机不存放数据".into()
        } else {
            found.join("；")
        })
    } else {
        Err(short.join("；"))
    }
}

/// Bytes as GiB with one decimal, for people.
fn gib(bytes: u64) -> String {
    let tenths = bytes.saturating_mul(10) / (1024 * 1024 * 1024);
    format!("{}.{}GiB", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    #[test]
    fn disk_below_the_threshold_is_not_ready() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        assert!(super::disk(&url, None, 0)
            .unwrap()
            .contains("数据库目录剩余"));
        let err = super::disk(&url, Some(dir.path().join("photos")), u64::MAX).unwrap_err();
        assert!(err.contains("低于"), "{err}");
        assert_eq!(super::gib(3 * 1024 * 1024 * 1024 / 2), "1.5GiB");
    }
}
