//! Saving training checkpoints crash-safely and finding the one to resume from.

use std::fs;
use std::path::{Path, PathBuf};

use crate::atomic::TEMPORARY_SUFFIX;
use crate::checkpoint::{Checkpoint, checkpoint_file_name};
use crate::error::{Error, Result};

/// Extension of finished checkpoints.
const CHECKPOINT_EXTENSION: &str = ".pth.tar";

/// Number of final epochs after each of which a checkpoint is saved, as in the
/// reference trainers (which also save every fifth epoch).
const FINAL_EPOCHS_SAVED: u64 = 10;
const SAVE_INTERVAL: u64 = 5;

/// Parses the epoch from `<net_type>_ep<digits>.pth.tar`, or returns `None` for other names.
pub fn parse_checkpoint_epoch(file_name: &str, net_type: &str) -> Option<u64> {
    let digits = file_name
        .strip_prefix(net_type)?
        .strip_prefix("_ep")?
        .strip_suffix(CHECKPOINT_EXTENSION)?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Returns whether `file_name` is a temporary file left by an interrupted save of
/// this network, either ours (`<name>.pth.tar.tmp`) or the reference trainers'
/// (`<net_type>_ep<digits>.tmp`).
fn is_leftover_temporary(file_name: &str, net_type: &str) -> bool {
    let Some(stem) = file_name.strip_suffix(TEMPORARY_SUFFIX) else {
        return false;
    };
    if parse_checkpoint_epoch(stem, net_type).is_some() {
        return true;
    }
    stem.strip_prefix(net_type)
        .and_then(|rest| rest.strip_prefix("_ep"))
        .is_some_and(|digits| {
            !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
        })
}

/// Checkpoints of one network in one experiment folder,
/// `<save_dir>/checkpoints/train/<script>/<config>/`.
///
/// Only one training process may use a folder at a time: removing leftover
/// temporary files assumes no save is in progress.
#[derive(Clone, Debug)]
pub struct CheckpointManager {
    directory: PathBuf,
    net_type: String,
    total_epochs: u64,
}

impl CheckpointManager {
    /// Creates a manager for training `net_type` for `total_epochs` epochs (`TRAIN.EPOCH`).
    pub fn new(
        save_dir: &Path,
        script: &str,
        config: &str,
        net_type: &str,
        total_epochs: u64,
    ) -> Self {
        CheckpointManager {
            directory: save_dir
                .join("checkpoints")
                .join("train")
                .join(script)
                .join(config),
            net_type: net_type.to_owned(),
            total_epochs,
        }
    }

    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// Returns whether a checkpoint is saved after `epoch` (counted from 1), which is
    /// after each of the last ten epochs and after every fifth.
    pub fn should_save(&self, epoch: u64) -> bool {
        epoch + FINAL_EPOCHS_SAVED > self.total_epochs || epoch.is_multiple_of(SAVE_INTERVAL)
    }

    pub fn path_for(&self, epoch: u64) -> PathBuf {
        self.directory
            .join(checkpoint_file_name(&self.net_type, epoch))
    }

    /// Saves a checkpoint atomically (temporary file, flush, rename, folder flush)
    /// and returns its path. The checkpoint's net type must be this manager's.
    pub fn save(&self, checkpoint: &Checkpoint) -> Result<PathBuf> {
        if checkpoint.net_type != self.net_type {
            return Err(Error::invalid_checkpoint(
                &self.directory.display().to_string(),
                format!(
                    "cannot save a {} checkpoint in a folder of {} checkpoints",
                    checkpoint.net_type, self.net_type
                ),
            ));
        }
        fs::create_dir_all(&self.directory)
            .map_err(|source| Error::io("create", &self.directory, source))?;
        let path = self.path_for(checkpoint.epoch);
        checkpoint.write(&path)?;
        tracing::info!(path = %path.display(), epoch = checkpoint.epoch, "saved checkpoint");
        Ok(path)
    }

    /// Finished checkpoints of this network, by epoch in ascending numeric order
    /// (so `ep10000` follows `ep9999`). A missing folder has none.
    pub fn checkpoints(&self) -> Result<Vec<(u64, PathBuf)>> {
        let mut found = Vec::new();
        for entry in self.entries()? {
            if let Some(epoch) = parse_checkpoint_epoch(&entry.0, &self.net_type) {
                found.push((epoch, entry.1));
            }
        }
        found.sort();
        Ok(found)
    }

    /// Returns the checkpoint of the highest epoch, if any.
    pub fn latest(&self) -> Result<Option<(u64, PathBuf)>> {
        Ok(self.checkpoints()?.pop())
    }

    /// Deletes temporary files that interrupted saves left and returns their paths.
    pub fn remove_temporary_files(&self) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for (name, path) in self.entries()? {
            if !is_leftover_temporary(&name, &self.net_type) {
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => {
                    tracing::warn!(path = %path.display(), "removed the temporary file of an interrupted save");
                    removed.push(path);
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(Error::io("remove", path, source)),
            }
        }
        Ok(removed)
    }

    /// Loads the latest checkpoint to resume training, after removing leftover
    /// temporary files. Returns `None` when there is none. A checkpoint whose net
    /// type, keys or shapes differ from `expected_shapes` is rejected with an error
    /// listing the differences.
    pub fn resume(&self, expected_shapes: &[(String, Vec<usize>)]) -> Result<Option<Checkpoint>> {
        self.remove_temporary_files()?;
        let Some((epoch, path)) = self.latest()? else {
            tracing::info!(directory = %self.directory.display(), "no checkpoint to resume from");
            return Ok(None);
        };
        let checkpoint = Checkpoint::read(&path)?;
        let origin = path.display().to_string();
        if checkpoint.epoch != epoch {
            return Err(Error::invalid_checkpoint(
                &origin,
                format!(
                    "the file name says epoch {epoch} but the checkpoint holds epoch {}",
                    checkpoint.epoch
                ),
            ));
        }
        let report = checkpoint.check_compatible(&self.net_type, expected_shapes);
        if !report.is_empty() {
            return Err(Error::Mismatch {
                origin,
                report: Box::new(report),
            });
        }
        tracing::info!(path = %origin, epoch, "resuming from checkpoint");
        Ok(Some(checkpoint))
    }

    /// Lists file names and paths in the folder. A missing folder has no entries.
    fn entries(&self) -> Result<Vec<(String, PathBuf)>> {
        let listing = match fs::read_dir(&self.directory) {
            Ok(listing) => listing,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(Error::io("list", &self.directory, source)),
        };
        let mut entries = Vec::new();
        for entry in listing {
            let entry = entry.map_err(|source| Error::io("list", &self.directory, source))?;
            if let Some(name) = entry.file_name().to_str() {
                entries.push((name.to_owned(), entry.path()));
            }
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_parsing_accepts_only_exact_names() {
        assert_eq!(
            parse_checkpoint_epoch("MixFormer_ep0045.pth.tar", "MixFormer"),
            Some(45)
        );
        assert_eq!(
            parse_checkpoint_epoch("MixFormer_ep10000.pth.tar", "MixFormer"),
            Some(10000)
        );
        assert_eq!(
            parse_checkpoint_epoch("MixFormer_ep0045.pth.tar.tmp", "MixFormer"),
            None
        );
        assert_eq!(
            parse_checkpoint_epoch("Other_ep0045.pth.tar", "MixFormer"),
            None
        );
        assert_eq!(
            parse_checkpoint_epoch("MixFormer_ep.pth.tar", "MixFormer"),
            None
        );
        assert_eq!(
            parse_checkpoint_epoch("MixFormer_ep+45.pth.tar", "MixFormer"),
            None
        );
    }

    #[test]
    fn leftover_temporaries_are_recognised() {
        assert!(is_leftover_temporary(
            "MixFormer_ep0045.pth.tar.tmp",
            "MixFormer"
        ));
        assert!(is_leftover_temporary("MixFormer_ep0045.tmp", "MixFormer"));
        assert!(!is_leftover_temporary(
            "MixFormer_ep0045.pth.tar",
            "MixFormer"
        ));
        assert!(!is_leftover_temporary("notes.tmp", "MixFormer"));
        assert!(!is_leftover_temporary("Other_ep0045.tmp", "MixFormer"));
    }

    #[test]
    fn saves_last_ten_epochs_and_every_fifth() {
        let manager =
            CheckpointManager::new(Path::new("out"), "mixformer2_vit_stu", "x", "MixFormer", 45);
        let saved: Vec<u64> = (1..=45)
            .filter(|&epoch| manager.should_save(epoch))
            .collect();
        assert_eq!(
            saved,
            vec![
                5, 10, 15, 20, 25, 30, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45
            ]
        );
        let short = CheckpointManager::new(Path::new("out"), "s", "c", "MixFormer", 3);
        assert!((1..=3).all(|epoch| short.should_save(epoch)));
    }

    #[test]
    fn directory_follows_script_and_config() {
        let manager = CheckpointManager::new(
            Path::new("out"),
            "mixformer2_vit",
            "student_288_depth12",
            "MixFormer",
            500,
        );
        assert_eq!(
            manager.path_for(7),
            Path::new(
                "out/checkpoints/train/mixformer2_vit/student_288_depth12/MixFormer_ep0007.pth.tar"
            )
        );
    }
}
