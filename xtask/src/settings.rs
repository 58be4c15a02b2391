//! `cargo xtask settings`: writes the local settings file of this machine.

use std::path::{Component, Path, PathBuf};

use mixformer_config::{LocalSettings, write_settings_template};

use crate::paths::{SAMPLE_DATA_ENV, sample_data_folder};

/// Options of `cargo xtask settings`.
#[derive(Debug, clap::Args)]
pub struct SettingsArgs {
    /// Overwrite an existing settings file.
    #[arg(long)]
    pub force: bool,

    /// Point the COCO, OTB, UAV123 and VOT roots at the sample data in
    /// ../shared/data beside the workspace (or at MIXFORMER_SAMPLE_DATA).
    #[arg(long)]
    pub sample_data: bool,
}

/// Writes a commented `local.yaml` at the workspace root, or at
/// `MIXFORMER_LOCAL_SETTINGS` when that is set.
pub fn run(args: &SettingsArgs) -> Result<(), String> {
    let path = LocalSettings::default_path();
    let sample_data = if args.sample_data {
        Some(sample_data_entry(&path)?)
    } else {
        None
    };

    write_settings_template(&path, sample_data.as_deref(), args.force)
        .map_err(|error| error.to_string())?;

    println!("wrote {}", path.display());
    if let Some(sample_data) = sample_data {
        println!(
            "COCO, OTB, UAV123 and VOT roots point into {}",
            sample_data.display()
        );
    }
    Ok(())
}

/// The sample-data folder as the settings file should name it: relative to the
/// file's folder when both are reachable that way, else absolute.
fn sample_data_entry(settings_path: &Path) -> Result<PathBuf, String> {
    let root = sample_data_folder(None);
    let root = root.canonicalize().map_err(|error| {
        format!(
            "sample data not found at {}: {error}; set {SAMPLE_DATA_ENV} to its folder",
            root.display()
        )
    })?;

    let settings_dir = match settings_path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok(match settings_dir.canonicalize() {
        Ok(settings_dir) => relative_path(&settings_dir, &root),
        Err(_) => root,
    })
}

/// The path from folder `from` to `to`; both must be absolute and canonical.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to)
        .take_while(|(left, right)| left == right)
        .count();
    // Only the root is shared: an absolute path reads better than a chain of `..`.
    if common <= 1 {
        return to.iter().collect();
    }
    let mut relative = PathBuf::new();
    for _ in common..from.len() {
        relative.push("..");
    }
    for component in &to[common..] {
        relative.push(component);
    }
    relative
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_climbs_to_common_folder() {
        let relative = relative_path(Path::new("/a/b/main"), Path::new("/a/b/shared/data"));
        assert_eq!(relative, Path::new("../shared/data"));
    }

    #[test]
    fn relative_path_inside_folder() {
        let relative = relative_path(Path::new("/a/b"), Path::new("/a/b/data"));
        assert_eq!(relative, Path::new("data"));
    }

    #[test]
    fn relative_path_without_common_folder_is_absolute() {
        let relative = relative_path(Path::new("/home/me"), Path::new("/srv/data"));
        assert_eq!(relative, Path::new("/srv/data"));
    }
}
