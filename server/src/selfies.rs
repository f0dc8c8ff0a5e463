//! Selfie bytes, content-addressed, behind [`SelfieStore`] so S3-compatible object
//! storage can replace the local folder at scale.
//!
//! [`LocalSelfieStore`] keeps `<dir>/ab/abcdef….jpg` (the first two hex digits of the
//! SHA-256 as a fan-out folder). A file is written to a temporary name in the same
//! folder, flushed to disk, then renamed into place, so a reader never sees half a
//! selfie and a crash leaves at worst a stray temporary file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

static TMP_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Where selfie bytes live.
pub trait SelfieStore: Send + Sync + 'static {
    /// Stores `bytes` under `sha256` (already verified by the caller). Returns false
    /// if it was already there.
    fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<bool>;
    /// The bytes, if stored.
    fn get(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>>;
    /// Whether they are stored.
    fn contains(&self, sha256: &str) -> std::io::Result<bool>;
}

/// Selfies in a local folder.
#[derive(Debug, Clone)]
pub struct LocalSelfieStore {
    dir: PathBuf,
}

fn valid_sha(sha256: &str) -> std::io::Result<()> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a lowercase hex SHA-256",
        ))
    }
}

impl LocalSelfieStore {
    /// Uses (and creates) `dir`.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(LocalSelfieStore {
            dir: dir.to_path_buf(),
        })
    }

    /// The path of a selfie.
    pub fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(format!("{sha256}.jpg"))
    }
}

impl SelfieStore for LocalSelfieStore {
    fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<bool> {
        valid_sha(sha256)?;
        let path = self.path_of(sha256);
        if path.exists() {
            return Ok(false);
        }
        let folder = path.parent().expect("a fan-out folder");
        std::fs::create_dir_all(folder)?;
        let tmp = folder.join(format!(
            ".{sha256}.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let write = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = write {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(true)
    }

    fn get(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        valid_sha(sha256)?;
        match std::fs::read(self.path_of(sha256)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn contains(&self, sha256: &str) -> std::io::Result<bool> {
        valid_sha(sha256)?;
        Ok(self.path_of(sha256).exists())
    }
}
