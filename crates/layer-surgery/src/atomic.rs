//! Crash-safe file replacement: write a temporary file in the target folder,
//! flush it to disk, rename it over the target, then flush the folder entry.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Suffix appended to the target name for the temporary file.
pub const TEMPORARY_SUFFIX: &str = ".tmp";

/// Returns the temporary file that `write_atomically` uses for `path`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TEMPORARY_SUFFIX);
    PathBuf::from(name)
}

/// Writes `path` so that, after a crash at any point, it contains either its old
/// contents or the complete new ones. The parent folder must exist.
///
/// A crash may leave `<path>.tmp` behind, and the next write overwrites it.
pub fn write_atomically<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    let temporary = temporary_path(path);
    let result = write_then_rename(path, &temporary, write);
    if result.is_err()
        && let Err(error) = fs::remove_file(&temporary)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %temporary.display(), %error, "failed to remove temporary file");
    }
    result
}

fn write_then_rename<F>(path: &Path, temporary: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    let file = File::create(temporary).map_err(|source| Error::io("create", temporary, source))?;
    let mut writer = BufWriter::new(file);
    write(&mut writer)?;
    writer
        .flush()
        .map_err(|source| Error::io("write", temporary, source))?;
    let file = writer
        .into_inner()
        .map_err(|error| Error::io("write", temporary, error.into_error()))?;
    file.sync_all()
        .map_err(|source| Error::io("flush to disk", temporary, source))?;
    drop(file);

    fs::rename(temporary, path).map_err(|source| Error::io("rename into place", path, source))?;
    sync_parent(path)
}

/// Flushes the folder entry so that the rename itself survives a power loss.
fn sync_parent(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        File::open(parent)
            .and_then(|folder| folder.sync_all())
            .map_err(|source| Error::io("flush to disk", parent, source))?;
    }
    // Windows cannot open a folder as a file, so the rename is left to the file system.
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_keeps_old_contents_and_removes_temporary() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("weights.pth");
        fs::write(&path, b"old").unwrap();
        let result = write_atomically(&path, |writer| {
            writer.write_all(b"partial").unwrap();
            Err(Error::surgery("interrupted"))
        });
        assert!(result.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(!temporary_path(&path).exists());
    }

    #[test]
    fn successful_write_replaces_contents() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("weights.pth");
        fs::write(&path, b"old").unwrap();
        write_atomically(&path, |writer| {
            writer
                .write_all(b"new")
                .map_err(|source| Error::io("write", "weights.pth", source))
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
    }
}
