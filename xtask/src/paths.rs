//! Folders every task resolves the same way.

use std::path::{Path, PathBuf};

/// Environment variable naming the sample data folder.
pub const SAMPLE_DATA_ENV: &str = "MIXFORMER_SAMPLE_DATA";

/// Returns the workspace root, the parent of the `xtask` package.
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_owned()
}

/// Returns the sample data folder: `explicit`, else `MIXFORMER_SAMPLE_DATA`,
/// else `../shared/data` beside the workspace. The folder may not exist.
pub fn sample_data_folder(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(path) => path.to_path_buf(),
        None => match std::env::var_os(SAMPLE_DATA_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => workspace_root().join("../shared/data"),
        },
    }
}
