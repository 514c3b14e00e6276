//! A backup's manifest (`manifest.json`) and the backup root's layout:
//! `<root>/<UTC stamp>/manifest.json` beside the database copy, and
//! `<root>/objects/` shared by every backup. Only a directory named by a
//! stamp whose manifest reads, names a known format and whose database file
//! is there counts as a backup: a backup is written under a temporary name
//! and renamed when complete, so a killed one never looks complete.
//!
//! The metrics endpoint and the monthly inspection read [`latest`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest layout this program writes and reads.
pub const FORMAT: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SQLITE_FILE: &str = "database.sqlite";
pub const PGDUMP_FILE: &str = "database.pgdump";
/// The photo objects every backup shares (content-addressed).
pub const OBJECTS_DIR: &str = "objects";
/// The prefix of a backup still being written (or of a killed one).
pub const PARTIAL_PREFIX: &str = ".partial-";
/// The prefix of a backup being deleted by retention.
pub const DELETING_PREFIX: &str = ".deleting-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    /// The database file inside a backup directory.
    pub fn file_name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => SQLITE_FILE,
            DatabaseKind::Postgres => PGDUMP_FILE,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "SQLite",
            DatabaseKind::Postgres => "PostgreSQL",
        }
    }
}

/// One table's rows: how many, and the SHA-256 of their canonical dump
/// (`ops::backup::digest`), the same on SQLite and PostgreSQL for the same data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoSummary {
    /// Photos the backup holds.
    pub count: u64,
    pub bytes: u64,
    /// Objects this backup copied that no earlier backup had.
    pub new: u64,
}

/// The last time the backup was restored into a scratch place and compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreCheck {
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub app_version: String,
    /// The latest migration applied to the copied database.
    pub schema_version: String,
    pub database: DatabaseKind,
    pub tables: BTreeMap<String, TableDigest>,
    pub photos: PhotoSummary,
    pub restore_check: Option<RestoreCheck>,
}

impl Manifest {
    /// Read `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(|e| format!("无法读取{}：{e}", path.display()))?;
        let m: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}不是有效的备份清单：{e}", path.display()))?;
        if m.format != FORMAT {
            return Err(format!(
                "{}的格式版本为{}，本程序只认识{FORMAT}",
                path.display(),
                m.format
            ));
        }
        Ok(m)
    }

    /// Write `dir/manifest.json` whole or not at all (a temporary file,
    /// synced, then renamed over the old one).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        write_synced(&tmp, &bytes)?;
        std::fs::rename(&tmp, dir.join(MANIFEST_FILE))?;
        sync_dir(dir)
    }

    /// Every row counted in the manifest.
    pub fn total_rows(&self) -> u64 {
        self.tables.values().map(|t| t.rows).sum()
    }
}

/// Write a file and flush it to the disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Make a rename or a new file in `dir` survive a power cut.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// A backup directory's name: the UTC time it started, `YYYYMMDDTHHMMSSZ`.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Whether `name` is a stamp as [`stamp`] writes it.
pub fn is_stamp(name: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(name, "%Y%m%dT%H%M%SZ").is_ok() && name.len() == 16
}

/// One complete backup.
#[derive(Debug, Clone)]
pub struct Backup {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// The complete backups under `root`, oldest first. Directories still being
/// written, killed half-way, being deleted, or without a readable manifest
/// and their database file are left out.
pub fn complete(root: &Path) -> Vec<Backup> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found: Vec<Backup> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            if !is_stamp(&name) {
                return None;
            }
            let dir = e.path();
            let manifest = Manifest::read(&dir).ok()?;
            dir.join(manifest.database.file_name())
                .is_file()
                .then_some(Backup { dir, manifest })
        })
        .collect();
    found.sort_by(|a, b| a.dir.file_name().cmp(&b.dir.file_name()));
    found
}

/// The newest complete backup under `root`, if any.
pub fn latest_backup(root: &Path) -> Option<Backup> {
    complete(root).pop()
}

/// The newest complete backup's manifest under `root`, if any.
pub fn latest(root: &Path) -> Option<Manifest> {
    latest_backup(root).map(|b| b.manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(at: &str) -> Manifest {
        let at: DateTime<Utc> = at.parse().unwrap();
        Manifest {
            format: FORMAT,
            created_at: at,
            finished_at: at,
            app_version: "0.1.0".into(),
            schema_version: "20261203000014".into(),
            database: DatabaseKind::Sqlite,
            tables: BTreeMap::from([(
                "areas".to_string(),
                TableDigest {
                    rows: 3,
                    sha256: "ab".into(),
                },
            )]),
            photos: PhotoSummary::default(),
            restore_check: None,
        }
    }

    #[test]
    fn stamps_round_trip_and_nothing_else_is_one() {
        let at: DateTime<Utc> = "2026-11-30T15:04:05Z".parse().unwrap();
        assert_eq!(stamp(at), "20261130T150405Z");
        assert!(is_stamp("20261130T150405Z"));
        for bad in [
            "20261130T150405",
            "20261330T150405Z",
            ".partial-20261130T150405Z",
            "objects",
            "20261130T150405Z1",
        ] {
            assert!(!is_stamp(bad), "{bad}");
        }
    }

    #[test]
    fn the_manifest_reads_as_written_with_database_named_in_lower_case() {
        let dir = std::env::temp_dir().join(format!("guobao-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = manifest("2026-11-30T15:04:05Z");
        m.write(&dir).unwrap();
        let text = std::fs::read_to_string(dir.join(MANIFEST_FILE)).unwrap();
        assert!(text.contains("\"database\": \"sqlite\""), "{text}");
        assert!(text.contains("\"restore_check\": null"), "{text}");
        assert_eq!(Manifest::read(&dir).unwrap(), m);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn latest_skips_partial_and_unreadable_backups() {
        let root = std::env::temp_dir().join(format!("guobao-latest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        assert!(latest(&root).is_none());
        let good = root.join("20261130T150405Z");
        std::fs::create_dir_all(&good).unwrap();
        manifest("2026-11-30T15:04:05Z").write(&good).unwrap();
        std::fs::write(good.join(SQLITE_FILE), b"x").unwrap();
        // Newer, but still being written: a partial name.
        let partial = root.join(format!("{PARTIAL_PREFIX}20261130T160000Z"));
        std::fs::create_dir_all(&partial).unwrap();
        manifest("2026-11-30T16:00:00Z").write(&partial).unwrap();
        std::fs::write(partial.join(SQLITE_FILE), b"x").unwrap();
        // Newer, a stamp name, but its manifest is cut short.
        let cut = root.join("20261130T170000Z");
        std::fs::create_dir_all(&cut).unwrap();
        std::fs::write(cut.join(MANIFEST_FILE), b"{\"format\":1,").unwrap();
        std::fs::write(cut.join(SQLITE_FILE), b"x").unwrap();
        // Newer, a manifest but no database file.
        let empty = root.join("20261130T180000Z");
        std::fs::create_dir_all(&empty).unwrap();
        manifest("2026-11-30T18:00:00Z").write(&empty).unwrap();
        let latest = latest_backup(&root).unwrap();
        assert_eq!(latest.dir, good);
        assert_eq!(complete(&root).len(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
