//! The sections read from the machine: the last backup and its restore
//! test, free disk, and the certificate's expiry.

use super::*;

// ---- backup ----

pub(super) fn backup_section(root: &Path, now: DateTime<Utc>) -> BackupSection {
    let all = manifest::complete(root);
    let count = all.len();
    let Some(b) = all.into_iter().next_back() else {
        return BackupSection {
            judged: judged(
                Status::Abnormal,
                format!("备份目录{}中没有任何完整的备份", root.display()),
            ),
            root: root.display().to_string(),
            backups: 0,
            latest: None,
        };
    };
    let m = &b.manifest;
    let age_hours = (now - m.created_at).num_hours().max(0);
    let (test, tested_at, detail) = match &m.restore_check {
        None => (RestoreTest::Never, None, None),
        Some(c) => (
            if c.ok {
                RestoreTest::Passed
            } else {
                RestoreTest::Failed
            },
            Some(seconds(c.at)),
            Some(c.detail.clone()),
        ),
    };
    let when = seconds(m.created_at);
    let (status, note) = if age_hours >= BACKUP_MISSING_DAYS * 24 {
        (
            Status::Abnormal,
            format!("最近一次备份在{when}，已有{}天没有备份", age_hours / 24),
        )
    } else if test == RestoreTest::Failed {
        (
            Status::Abnormal,
            format!("最近一次备份（{when}）的恢复测试未通过"),
        )
    } else if test == RestoreTest::Never {
        (
            Status::Attention,
            format!("最近一次备份（{when}）从未做过恢复测试（guobao backup verify）"),
        )
    } else if age_hours >= BACKUP_LATE_HOURS {
        (
            Status::Attention,
            format!("最近一次备份在{when}，已超过{BACKUP_LATE_HOURS}小时"),
        )
    } else {
        (
            Status::Normal,
            format!("最近一次备份在{when}，恢复测试通过"),
        )
    };
    BackupSection {
        judged: judged(status, note),
        root: root.display().to_string(),
        backups: count,
        latest: Some(LatestBackup {
            dir: b.dir.display().to_string(),
            created_at: when,
            age_hours,
            database: m.database.label(),
            schema_version: m.schema_version.clone(),
            rows: m.total_rows(),
            photos: m.photos.count,
            restore_test: test,
            restore_test_name: test.label(),
            restore_tested_at: tested_at,
            restore_detail: detail,
        }),
    }
}

// ---- disk ----

pub(super) fn disk_section(db_file: Option<&Path>, places: &Places) -> DiskSection {
    let mut wanted: Vec<(&'static str, PathBuf)> = Vec::new();
    if let Some(f) = db_file {
        let dir = f
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        wanted.push(("数据库目录", dir.to_path_buf()));
    }
    if let Some(p) = &places.photo_dir {
        wanted.push(("照片目录", p.clone()));
    }
    wanted.push(("备份目录", places.backup_root.clone()));
    let mut out = Vec::new();
    let mut unread = Vec::new();
    for (what, path) in wanted {
        match crate::ops::disk::space(&path) {
            Ok(s) => {
                let free_percent = u64_percent(s.free, s.total);
                let status = if s.free < DISK_MIN_FREE_BYTES
                    || free_percent < Decimal::from(DISK_MIN_FREE_PERCENT)
                {
                    Status::Abnormal
                } else if free_percent < Decimal::from(DISK_LOW_FREE_PERCENT) {
                    Status::Attention
                } else {
                    Status::Normal
                };
                out.push(DiskPlace {
                    what,
                    path: path.display().to_string(),
                    free_bytes: s.free,
                    total_bytes: s.total,
                    free_size: size_text(i64::try_from(s.free).unwrap_or(i64::MAX)),
                    free_percent,
                    status,
                    status_name: status.label(),
                });
            }
            Err(e) => unread.push(format!("{what}{}：{e}", path.display())),
        }
    }
    let worst = out.iter().map(|p| p.status).max().unwrap_or(Status::Normal);
    let status = if unread.is_empty() {
        worst
    } else {
        worst.max(Status::Attention)
    };
    let mut parts: Vec<String> = out
        .iter()
        .map(|p| format!("{}剩余{}（{}%）", p.what, p.free_size, p.free_percent))
        .collect();
    parts.extend(unread.iter().map(|u| format!("无法读取{u}")));
    DiskSection {
        judged: judged(status, parts.join("；")),
        places: out,
    }
}

pub(super) fn u64_percent(part: u64, whole: u64) -> Decimal {
    if whole == 0 {
        return Decimal::ZERO;
    }
    Decimal::from(part)
        .checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|p| p.checked_div(Decimal::from(whole)))
        .map_or(Decimal::ZERO, one_decimal)
}

// ---- certificate ----

pub(super) fn certificate_section(path: Option<&Path>, now: DateTime<Utc>) -> CertificateSection {
    let Some(path) = path else {
        return CertificateSection {
            judged: judged(Status::Normal, "未配置（GUOBAO_TLS_CERT）"),
            configured: false,
            path: None,
            not_after: None,
            days_left: None,
        };
    };
    let shown = path.display().to_string();
    match not_after(path) {
        Ok(t) => {
            let days = (t - now).num_days();
            let when = seconds(t);
            let (status, note) = if t <= now {
                (Status::Abnormal, format!("证书已于{when}过期"))
            } else if days < CERT_WARN_DAYS {
                (
                    Status::Attention,
                    format!("证书将于{when}到期，还剩{days}天"),
                )
            } else {
                (Status::Normal, format!("证书将于{when}到期，还剩{days}天"))
            };
            CertificateSection {
                judged: judged(status, note),
                configured: true,
                path: Some(shown),
                not_after: Some(when),
                days_left: Some(days),
            }
        }
        Err(e) => CertificateSection {
            judged: judged(Status::Abnormal, format!("无法读取证书{shown}：{e}")),
            configured: true,
            path: Some(shown),
            not_after: None,
            days_left: None,
        },
    }
}

/// The certificate's notAfter through `openssl x509 -enddate`.
fn not_after(path: &Path) -> Result<DateTime<Utc>, String> {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-enddate", "-noout", "-in"])
        .arg(path)
        .output()
        .map_err(|e| format!("无法运行openssl：{e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl无法读取：{}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    parse_enddate(&text).ok_or_else(|| format!("openssl的输出无法识别：{}", text.trim()))
}

/// `notAfter=Nov 30 18:00:00 2027 GMT` → the instant.
pub fn parse_enddate(text: &str) -> Option<DateTime<Utc>> {
    let rest = text.trim().strip_prefix("notAfter=")?;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let joined = words.join(" ");
    let t = NaiveDateTime::parse_from_str(&joined, "%b %d %H:%M:%S %Y GMT").ok()?;
    Some(Utc.from_utc_datetime(&t))
}
