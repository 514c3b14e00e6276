//! Free space on the file system that holds a path, for `/readyz` and the
//! monthly inspection (`statvfs`, through rustix's safe wrapper).

use std::path::Path;

/// Bytes an unprivileged process may still write on the file system that
/// holds `path` (the nearest existing ancestor when `path` does not exist
/// yet, as a photo directory before its first photo).
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    space(path).map(|s| s.free)
}

/// The file system that holds a path: what may still be written, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// Bytes an unprivileged process may still write.
    pub free: u64,
    /// The file system's size in bytes.
    pub total: u64,
}

/// [`free_bytes`] with the file system's size (the monthly inspection judges
/// the share left as well as the bytes).
pub fn space(path: &Path) -> std::io::Result<Space> {
    let mut at = path.to_path_buf();
    while !at.exists() {
        if !at.pop() || at.as_os_str().is_empty() {
            at = std::path::PathBuf::from(".");
            break;
        }
    }
    let st = rustix::fs::statvfs(&at).map_err(std::io::Error::from)?;
    Ok(Space {
        free: st.f_bavail.saturating_mul(st.f_frsize),
        total: st.f_blocks.saturating_mul(st.f_frsize),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn free_space_of_a_directory_and_of_a_path_not_made_yet() {
        let dir = tempfile::tempdir().unwrap();
        let here = super::free_bytes(dir.path()).unwrap();
        assert!(here > 0);
        let later = super::free_bytes(&dir.path().join("a/b/c")).unwrap();
        // The same file system: within what other processes wrote meanwhile.
        assert!(later.abs_diff(here) < 1 << 30, "{here} {later}");
        let s = super::space(dir.path()).unwrap();
        assert!(s.total >= s.free && s.total > 0, "{s:?}");
    }
}
