//! Photo bytes by their SHA-256, outside the database (issue 15, item 1).
//!
//! One object per distinct content, under `sha256/<first 2 hex>/<64 hex>`;
//! the server-made thumbnail of it under `thumb/sha256/<2 hex>/<64 hex>`.
//! Behind it is any `object_store` backend: a local directory (the default,
//! written with fsync so an acknowledged photo survives a power cut) or an
//! S3-compatible bucket (MinIO, Ceph, a cloud bucket) named by an
//! `s3://bucket/prefix` URL, with the usual `AWS_*` environment for the
//! endpoint, region and keys.
//!
//! The API is async, like `object_store`'s. Web handlers call it directly;
//! the command line (and anything else outside a runtime) goes through
//! [`PhotoStore::blocking`]. Writes happen *before* the database
//! transaction that records the photo: an object without a row is harmless
//! garbage, a row without its object must never exist (ARCHITECTURE.md).

use crate::config::Config;
use crate::error::AppError;
use futures_util::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Where photos go when nothing is configured and the database is PostgreSQL
/// (relative to the server's working directory).
pub const DEFAULT_POSTGRES_LOCATION: &str = "data/photos";

/// Photo objects by content hash.
#[derive(Clone)]
pub struct PhotoStore {
    store: Arc<dyn ObjectStore>,
    location: String,
}

impl std::fmt::Debug for PhotoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhotoStore({})", self.location)
    }
}

/// A store that failed to answer: nothing was written by the request that met
/// it, and the same request may be sent again (503 on the web).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("照片存储暂时不可用：{0}")]
pub struct StoreError(pub String);

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        AppError::Busy(e.0)
    }
}

fn failed(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// A 64-character lowercase hex SHA-256, else none: every key is built from
/// one of these, so no caller can name a path of its own.
pub fn checked_hash(hash: &str) -> Option<&str> {
    (hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then_some(hash)
}

/// SHA-256 of the bytes, lowercase hex.
pub fn hash_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key_under(top: &str, hash: &str) -> Result<Key, StoreError> {
    let hash = checked_hash(hash).ok_or_else(|| StoreError(format!("无效的照片摘要：{hash}")))?;
    let two = hash.get(0..2).unwrap_or_default();
    Ok(Key::from(format!("{top}/{two}/{hash}")))
}

/// The object key of a photo: `sha256/<2 hex>/<64 hex>`.
pub fn object_key(hash: &str) -> Result<Key, StoreError> {
    key_under("sha256", hash)
}

/// The object key of a photo's thumbnail: `thumb/sha256/<2 hex>/<64 hex>`.
pub fn thumb_key(hash: &str) -> Result<Key, StoreError> {
    key_under("thumb/sha256", hash)
}

/// The store a configuration names: `GUOBAO_PHOTO_STORE` / `--photo-store`
/// when set, else a `photos` directory beside the SQLite file, or
/// [`DEFAULT_POSTGRES_LOCATION`] for PostgreSQL.
pub fn location_for(config: &Config) -> String {
    if let Some(l) = config
        .photo_store
        .as_deref()
        .filter(|l| !l.trim().is_empty())
    {
        return l.trim().to_string();
    }
    let url = config.database_url();
    match crate::db::backend_of(url) {
        crate::db::Backend::Postgres => DEFAULT_POSTGRES_LOCATION.to_string(),
        crate::db::Backend::Sqlite => {
            let file = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            let dir = std::path::Path::new(file)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            dir.join("photos").display().to_string()
        }
    }
}

impl PhotoStore {
    /// The store the configuration names (see [`location_for`]).
    pub fn open(config: &Config) -> Result<PhotoStore, String> {
        PhotoStore::at(&location_for(config))
    }

    /// A directory path, or an `s3://bucket/prefix` URL.
    pub fn at(location: &str) -> Result<PhotoStore, String> {
        if let Some(rest) = location.strip_prefix("s3://") {
            return PhotoStore::s3(location, rest);
        }
        if location.contains("://") {
            return Err(format!(
                "照片存储 {location} 无法识别：应为目录路径或 s3://桶名/前缀"
            ));
        }
        PhotoStore::local(std::path::Path::new(location))
    }

    /// A local directory, made when missing; files are fsynced on write.
    pub fn local(dir: &std::path::Path) -> Result<PhotoStore, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("无法创建照片目录 {}：{e}", dir.display()))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| format!("无法打开照片目录 {}：{e}", dir.display()))?
            .with_fsync(true);
        Ok(PhotoStore {
            store: Arc::new(fs),
            location: dir.display().to_string(),
        })
    }

    fn s3(location: &str, rest: &str) -> Result<PhotoStore, String> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("照片存储 {location} 缺少桶名"));
        }
        // reqwest is built without a TLS provider of its own: ring, once per
        // process (a second install is refused harmlessly).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| format!("无法打开照片存储 {location}：{e}"))?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(PrefixStore::new(s3, prefix))
        };
        Ok(PhotoStore {
            store,
            location: location.to_string(),
        })
    }

    /// A store in memory only: gone with the process (tests).
    pub fn in_memory() -> PhotoStore {
        PhotoStore::from_object_store(Arc::new(object_store::memory::InMemory::new()), "memory")
    }

    /// A store over any `object_store` backend (tests use the in-memory one).
    pub fn from_object_store(store: Arc<dyn ObjectStore>, location: &str) -> PhotoStore {
        PhotoStore {
            store,
            location: location.to_string(),
        }
    }

    /// The underlying object store (the backup copies objects through it).
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The directory or URL the store was opened at, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The local directory the store writes to (not for S3 or memory).
    pub fn local_dir(&self) -> Option<std::path::PathBuf> {
        (!self.location.contains("://") && self.location != "memory")
            .then(|| std::path::PathBuf::from(&self.location))
    }

    /// Write, read back and delete a small object: the store takes writes
    /// (`/readyz`). The probe's key is outside the photo and thumbnail trees.
    pub async fn probe(&self) -> Result<(), StoreError> {
        let key = Key::from("readyz/probe");
        let body = crate::db::now_text().into_bytes();
        self.store
            .put(&key, PutPayload::from(body.clone()))
            .await
            .map_err(failed)?;
        let back = self.read(&key).await?;
        let _ = self.store.delete(&key).await;
        if back.as_deref() == Some(body.as_slice()) {
            Ok(())
        } else {
            Err(StoreError("照片存储写入后读出的内容不一致".into()))
        }
    }

    /// Store the bytes under their hash and return the hash. The same bytes
    /// are one object: when it already exists nothing is written.
    pub async fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        let hash = hash_of(bytes);
        let key = object_key(&hash)?;
        if !self.has(&key).await? {
            self.store
                .put(&key, PutPayload::from(bytes.to_vec()))
                .await
                .map_err(failed)?;
        }
        Ok(hash)
    }

    /// The bytes stored under this hash, or `None` when there is no such object.
    pub async fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(&object_key(hash)?).await
    }

    /// Whether an object is stored under this hash.
    pub async fn exists(&self, hash: &str) -> Result<bool, StoreError> {
        self.has(&object_key(hash)?).await
    }

    /// Every photo hash in the store (thumbnails not included), sorted.
    pub async fn list(&self) -> Result<Vec<String>, StoreError> {
        let prefix = Key::from("sha256");
        let metas: Vec<_> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(failed)?;
        let mut hashes: Vec<String> = metas
            .iter()
            .filter_map(|m| m.location.filename())
            .filter_map(checked_hash)
            .map(str::to_string)
            .collect();
        hashes.sort();
        hashes.dedup();
        Ok(hashes)
    }

    /// The stored thumbnail of a photo, if one was made.
    pub async fn get_thumb(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(&thumb_key(hash)?).await
    }

    /// Keep a thumbnail of the photo with this hash.
    pub async fn put_thumb(&self, hash: &str, jpeg: Vec<u8>) -> Result<(), StoreError> {
        let key = thumb_key(hash)?;
        self.store
            .put(&key, PutPayload::from(jpeg))
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn has(&self, key: &Key) -> Result<bool, StoreError> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }

    async fn read(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        match self.store.get(key).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(failed)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(e)),
        }
    }

    /// The same calls for code outside an async runtime (the command line):
    /// each runs to completion on a small runtime of its own. Not for use
    /// inside a runtime (a web handler): there, await the async calls.
    pub fn blocking(&self) -> Result<Blocking, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("无法启动照片存储的运行时：{e}"))?;
        Ok(Blocking {
            store: self.clone(),
            rt,
        })
    }
}

/// [`PhotoStore`] for synchronous callers.
pub struct Blocking {
    store: PhotoStore,
    rt: tokio::runtime::Runtime,
}

impl Blocking {
    pub fn put(&self, bytes: &[u8]) -> Result<String, StoreError> {
        self.rt.block_on(self.store.put(bytes))
    }
    pub fn get(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.rt.block_on(self.store.get(hash))
    }
    pub fn exists(&self, hash: &str) -> Result<bool, StoreError> {
        self.rt.block_on(self.store.exists(hash))
    }
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        self.rt.block_on(self.store.list())
    }
    pub fn put_thumb(&self, hash: &str, jpeg: Vec<u8>) -> Result<(), StoreError> {
        self.rt.block_on(self.store.put_thumb(hash, jpeg))
    }
    /// Run any other future of the store (e.g. on [`PhotoStore::object_store`]).
    pub fn run<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
    pub fn store(&self) -> &PhotoStore {
        &self.store
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_built_from_checked_hashes_only() {
        let h = hash_of(b"abc");
        assert_eq!(object_key(&h).unwrap().as_ref(), format!("sha256/ba/{h}"));
        assert_eq!(
            thumb_key(&h).unwrap().as_ref(),
            format!("thumb/sha256/ba/{h}")
        );
        assert!(object_key("../../etc/passwd").is_err());
        assert!(object_key(&h.to_uppercase()).is_err());
        assert!(object_key(&h[..63]).is_err());
    }

    #[test]
    fn the_default_location_is_beside_the_sqlite_file() {
        let c = Config {
            database_url: Some("sqlite:///var/lib/guobao/guobao.db".into()),
            ..Config::default()
        };
        assert_eq!(location_for(&c), "/var/lib/guobao/photos");
        let c = Config {
            database_url: Some("guobao.db".into()),
            ..Config::default()
        };
        assert_eq!(location_for(&c), "./photos");
        let c = Config {
            database_url: Some("postgres://u@h/db".into()),
            ..Config::default()
        };
        assert_eq!(location_for(&c), DEFAULT_POSTGRES_LOCATION);
        let c = Config {
            photo_store: Some("s3://bucket/guobao".into()),
            ..c
        };
        assert_eq!(location_for(&c), "s3://bucket/guobao");
    }

    #[test]
    fn same_bytes_are_one_object_and_list_names_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::local(dir.path()).unwrap();
        let b = store.blocking().unwrap();
        let h1 = b.put(b"one photo").unwrap();
        let h2 = b.put(b"one photo").unwrap();
        let h3 = b.put(b"another").unwrap();
        assert_eq!(h1, h2);
        assert!(b.exists(&h1).unwrap());
        assert_eq!(b.get(&h3).unwrap().unwrap(), b"another");
        assert_eq!(b.get(&hash_of(b"none")).unwrap(), None);
        b.put_thumb(&h1, vec![1, 2, 3]).unwrap();
        let mut want = vec![h1.clone(), h3];
        want.sort();
        assert_eq!(b.list().unwrap(), want);
        let two = h1.get(0..2).unwrap();
        assert!(dir.path().join("sha256").join(two).join(&h1).is_file());
    }
}
