//! `guobao backup` and `guobao restore`: a consistent copy of the database
//! while the server runs, with a manifest that lets any restore be checked
//! table by table; retention; and the restore test that proves a backup
//! can be read back.
//!
//! Layout under the backup root:
//! `<root>/<YYYYMMDDTHHMMSSZ>/manifest.json` and `database.sqlite` or
//! `database.pgdump`; `<root>/objects/` for photo objects, shared by every
//! backup. A backup is written in `<root>/.partial-<stamp>-<pid>/` and
//! renamed when its manifest is written, so a killed backup never looks
//! complete ([`manifest::complete`] skips it).

pub mod digest;
pub mod manifest;
pub mod photos;
pub mod postgres;
pub mod sqlite;

pub use manifest::{latest, latest_backup, Backup, Manifest};

use crate::db::{self, Backend};
use crate::error::{AppError, ErrorCode};
use crate::photo_store::PhotoStore;
use chrono::Utc;
use manifest::{
    complete, stamp, sync_dir, DatabaseKind, PhotoSummary, RestoreCheck, TableDigest,
    DELETING_PREFIX, FORMAT, PARTIAL_PREFIX,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Told after each table is hashed: (done, total, table name).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64, &str);

fn kind_of(url: &str) -> DatabaseKind {
    match db::backend_of(url) {
        Backend::Sqlite => DatabaseKind::Sqlite,
        Backend::Postgres => DatabaseKind::Postgres,
    }
}

fn unwritable(path: &Path, e: impl std::fmt::Display) -> AppError {
    AppError::invalid(
        "to",
        ErrorCode::OutputUnwritable,
        format!("无法写入备份目录{}：{e}", path.display()),
    )
}

/// Back up the database at `url` under `root`; returns the new backup.
pub fn make(
    url: &str,
    root: &Path,
    store: Option<&PhotoStore>,
    progress: Progress,
) -> Result<Backup, AppError> {
    std::fs::create_dir_all(root).map_err(|e| unwritable(root, e))?;
    // Two backups started in the same second would want the same name.
    let mut created_at = Utc::now();
    for _ in 0..20 {
        if !root.join(stamp(created_at)).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        created_at = Utc::now();
    }
    let name = stamp(created_at);
    let partial = root.join(format!("{PARTIAL_PREFIX}{name}-{}", std::process::id()));
    std::fs::create_dir(&partial).map_err(|e| unwritable(&partial, e))?;
    let made = fill(url, root, store, &partial, &name, created_at, progress);
    if made.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    made
}

fn fill(
    url: &str,
    root: &Path,
    store: Option<&PhotoStore>,
    partial: &Path,
    name: &str,
    created_at: chrono::DateTime<Utc>,
    progress: Progress,
) -> Result<Backup, AppError> {
    let kind = kind_of(url);
    let file = partial.join(kind.file_name());
    let (tables, schema_version, mut photos) = match kind {
        DatabaseKind::Sqlite => {
            let c = sqlite::copy(url, &file, progress)?;
            (c.tables, c.schema_version, c.photos)
        }
        DatabaseKind::Postgres => {
            let d = postgres::dump(url, &file, progress)?;
            (d.tables, d.schema_version, d.photos)
        }
    };
    photos.new = photos::copy_objects(root, store).map_err(AppError::Internal)?;
    let manifest = Manifest {
        format: FORMAT,
        created_at,
        finished_at: Utc::now(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version,
        database: kind,
        tables,
        photos,
        restore_check: None,
    };
    manifest
        .write(partial)
        .map_err(|e| unwritable(partial, e))?;
    let dir = root.join(name);
    std::fs::rename(partial, &dir).map_err(|e| unwritable(&dir, e))?;
    sync_dir(root).map_err(|e| unwritable(root, e))?;
    Ok(Backup { dir, manifest })
}

/// A backup directory, or the newest complete backup when `path` is a root.
pub fn open(path: &Path) -> Result<Backup, AppError> {
    if path.join(manifest::MANIFEST_FILE).is_file() {
        let manifest = Manifest::read(path)
            .map_err(|e| AppError::invalid("dir", ErrorCode::BackupInvalid, e))?;
        if !path.join(manifest.database.file_name()).is_file() {
            return Err(AppError::invalid(
                "dir",
                ErrorCode::BackupInvalid,
                format!(
                    "备份目录{}缺少数据库文件{}",
                    path.display(),
                    manifest.database.file_name()
                ),
            ));
        }
        return Ok(Backup {
            dir: path.to_path_buf(),
            manifest,
        });
    }
    latest_backup(path).ok_or_else(|| {
        AppError::invalid(
            "dir",
            ErrorCode::BackupNotFound,
            format!("{}下没有完整的备份", path.display()),
        )
    })
}

/// The latest migration this program knows, as diesel records it.
pub fn known_schema_version(kind: DatabaseKind) -> String {
    use diesel::migration::MigrationSource;
    let names: Vec<String> = match kind {
        DatabaseKind::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&db::SQLITE_MIGRATIONS)
                .map(|m| m.iter().map(|m| m.name().version().to_string()).collect())
                .unwrap_or_default()
        }
        DatabaseKind::Postgres => {
            MigrationSource::<diesel::pg::Pg>::migrations(&db::POSTGRES_MIGRATIONS)
                .map(|m| m.iter().map(|m| m.name().version().to_string()).collect())
                .unwrap_or_default()
        }
    };
    names.into_iter().max().unwrap_or_default()
}

/// What a restored database holds against what its manifest says.
#[derive(Debug, Clone)]
pub struct Checked {
    pub tables: BTreeMap<String, TableDigest>,
    pub schema_version: String,
    pub photos: PhotoSummary,
    /// One Chinese line per difference; empty when everything agrees.
    pub differences: Vec<String>,
}

impl Checked {
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }

    pub fn rows(&self) -> u64 {
        self.tables.values().map(|t| t.rows).sum()
    }
}

/// Read back a restored database and compare it with the manifest.
fn check(backup: &Backup, url: &str, progress: Progress) -> Result<Checked, AppError> {
    let (tables, schema_version, photos) = match backup.manifest.database {
        DatabaseKind::Sqlite => {
            let c = sqlite::read(&sqlite::path_of(url), progress)?;
            (c.tables, c.schema_version, c.photos)
        }
        DatabaseKind::Postgres => {
            let mut conn = db::establish(url)
                .map_err(|e| AppError::Internal(format!("无法连接恢复后的数据库：{e}")))?;
            let tables = digest::all(&mut conn, progress).map_err(AppError::Internal)?;
            let version = digest::schema_version(&mut conn)
                .map_err(|e| AppError::Internal(format!("读取数据库版本失败：{e}")))?;
            let photos = photos::in_database(&mut conn).map_err(AppError::Internal)?;
            (tables, version, photos)
        }
    };
    let m = &backup.manifest;
    let mut differences = digest::compare(&m.tables, &tables);
    if schema_version != m.schema_version {
        differences.push(format!(
            "数据库版本：清单为{}，恢复后为{}",
            m.schema_version, schema_version
        ));
    }
    if photos.count != m.photos.count || photos.bytes != m.photos.bytes {
        differences.push(format!(
            "照片：清单为{}张{}字节，恢复后为{}张{}字节",
            m.photos.count, m.photos.bytes, photos.count, photos.bytes
        ));
    }
    Ok(Checked {
        tables,
        schema_version,
        photos,
        differences,
    })
}

/// Restore `backup` into the empty database at `url` (and the empty photo
/// photo `store`), then compare what is there with the manifest.
/// A target that is not empty, of the other kind, or a backup newer than
/// this program is refused before anything is written.
pub fn restore(
    backup: &Backup,
    url: &str,
    store: Option<&PhotoStore>,
    progress: Progress,
) -> Result<Checked, AppError> {
    let m = &backup.manifest;
    let target = kind_of(url);
    if target != m.database {
        return Err(AppError::invalid(
            "database_url",
            ErrorCode::BackupDatabaseMismatch,
            format!(
                "这是{}数据库的备份，不能恢复到{}数据库",
                m.database.label(),
                target.label()
            ),
        ));
    }
    let known = known_schema_version(m.database);
    if m.schema_version > known {
        return Err(AppError::invalid(
            "dir",
            ErrorCode::BackupSchemaNewer,
            format!(
                "备份的数据库版本为{}，本程序只认识到{known}；请用相同或更新版本的程序恢复",
                m.schema_version
            ),
        ));
    }
    match m.database {
        DatabaseKind::Sqlite => sqlite::check_empty(url)?,
        DatabaseKind::Postgres => postgres::check_empty(url)?,
    }
    if let Some(store) = store {
        if !photos::store_is_empty(store).map_err(AppError::Internal)? {
            return Err(AppError::conflict(
                ErrorCode::RestoreTargetNotEmpty,
                format!(
                    "照片库{}已有照片：恢复只写入空的照片库，未写入任何内容",
                    store.location()
                ),
            ));
        }
    }
    let file = backup.dir.join(m.database.file_name());
    match m.database {
        DatabaseKind::Sqlite => sqlite::restore(&file, url)?,
        DatabaseKind::Postgres => postgres::restore(&file, url)?,
    }
    let root = backup.dir.parent().unwrap_or(Path::new("."));
    photos::restore_objects(root, store).map_err(AppError::Internal)?;
    check(backup, url, progress)
}

/// Restore `backup` into a scratch place (a file beside the backups for
/// SQLite, a temporary database on the server at `url` for PostgreSQL),
/// compare, remove the scratch, and record the result in the manifest.
pub fn verify(backup: &Backup, url: &str, progress: Progress) -> Result<RestoreCheck, AppError> {
    let token = format!(
        "{}_{}",
        std::process::id(),
        Utc::now().timestamp_subsec_nanos()
    );
    let checked = match backup.manifest.database {
        DatabaseKind::Sqlite => {
            let root = backup.dir.parent().unwrap_or(Path::new("."));
            let scratch = root.join(format!(".verify-{token}"));
            std::fs::create_dir(&scratch).map_err(|e| unwritable(&scratch, e))?;
            let scratch_url = scratch.join("restored.db").to_string_lossy().into_owned();
            let checked = restore(backup, &scratch_url, None, progress);
            let _ = std::fs::remove_dir_all(&scratch);
            checked?
        }
        DatabaseKind::Postgres => {
            if kind_of(url) != DatabaseKind::Postgres {
                return Err(AppError::invalid(
                    "database_url",
                    ErrorCode::BackupDatabaseMismatch,
                    "校验PostgreSQL备份需要一个PostgreSQL服务器：请用--database-url指定（将在其上建立并删除一个临时数据库）",
                ));
            }
            let name = format!("guobao_verify_{token}");
            let scratch_url = postgres::create_scratch(url, &name)?;
            let checked = restore(backup, &scratch_url, None, progress);
            let dropped = postgres::drop_scratch(url, &name);
            let checked = checked?;
            dropped?;
            checked
        }
    };
    let detail = if checked.ok() {
        format!(
            "已恢复到临时{}库并逐表核对：{}张表、{}行、{}张照片与清单一致",
            backup.manifest.database.label(),
            checked.tables.len(),
            checked.rows(),
            checked.photos.count
        )
    } else {
        checked.differences.join("；")
    };
    let result = RestoreCheck {
        at: Utc::now(),
        ok: checked.ok(),
        detail,
    };
    let mut m = Manifest::read(&backup.dir)
        .map_err(|e| AppError::invalid("dir", ErrorCode::BackupInvalid, e))?;
    m.restore_check = Some(result.clone());
    m.write(&backup.dir)
        .map_err(|e| unwritable(&backup.dir, e))?;
    Ok(result)
}

/// Keep the newest `keep` complete backups under `root` (and always
/// `protect`, the one just made); delete the rest. Each is first renamed
/// out of the backups' name space, so a deletion cut short never leaves a
/// half backup that looks complete. Photo objects stay: a later backup
/// copies only what is missing, and an object no kept backup needs costs
/// only space (see README, "Backup").
pub fn prune(root: &Path, keep: usize, protect: &Path) -> Result<Vec<PathBuf>, AppError> {
    let all = complete(root);
    let cut = all.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for b in all.into_iter().take(cut) {
        if b.dir == protect {
            continue;
        }
        let Some(name) = b.dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let doomed = root.join(format!("{DELETING_PREFIX}{name}"));
        std::fs::rename(&b.dir, &doomed).map_err(|e| unwritable(&b.dir, e))?;
        std::fs::remove_dir_all(&doomed).map_err(|e| unwritable(&doomed, e))?;
        removed.push(b.dir);
    }
    Ok(removed)
}
