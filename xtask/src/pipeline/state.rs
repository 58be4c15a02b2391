//! The record of finished steps and the input files each one started from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use super::plan::StageAction;

/// Size and modification time of a file, enough to notice it was rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Fingerprint {
    path: PathBuf,
    bytes: u64,
    modified_ns: u128,
}

impl Fingerprint {
    fn of(path: &Path) -> Result<Self, String> {
        let metadata = std::fs::metadata(path)
            .map_err(|error| format!("failed to read {}: {error}", path.display()))?;
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |duration| duration.as_nanos());
        Ok(Self {
            path: path.to_path_buf(),
            bytes: metadata.len(),
            modified_ns,
        })
    }
}

/// The recorded inputs of each finished step, by title.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct PipelineState {
    finished: BTreeMap<String, Vec<Fingerprint>>,
}

impl PipelineState {
    /// Reads the state file, or starts empty when there is none.
    pub fn load(path: &Path) -> Result<Self, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|error| {
                format!(
                    "invalid pipeline state {}: {error}; delete it to start over",
                    path.display()
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(format!("failed to read {}: {error}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|error| error.to_string())?;
        std::fs::write(path, text)
            .map_err(|error| format!("failed to write {}: {error}", path.display()))
    }

    /// Checks that the step's output exists and its inputs are the recorded ones.
    pub fn is_done(&self, action: &StageAction) -> Result<bool, String> {
        if !action.output().exists() {
            return Ok(false);
        }
        let Some(recorded) = self.finished.get(&action.title()) else {
            return Ok(false);
        };
        Ok(current_inputs(action)? == *recorded)
    }

    /// Deletes a step's outputs when it finished before on other inputs, so
    /// it starts over instead of resuming from stale checkpoints. A step
    /// without a record is left alone: it may be an interrupted run to resume.
    pub fn invalidate(&mut self, action: &StageAction) -> Result<(), String> {
        let Some(recorded) = self.finished.remove(&action.title()) else {
            return Ok(());
        };
        let inputs_changed = current_inputs(action)
            .map(|current| current != recorded)
            .unwrap_or(true);
        if !inputs_changed {
            return Ok(());
        }
        for path in action.stale_outputs() {
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else if path.exists() {
                std::fs::remove_file(&path)
            } else {
                continue;
            };
            removed
                .map_err(|error| format!("failed to remove stale {}: {error}", path.display()))?;
            println!("  inputs changed: removed stale {}", path.display());
        }
        Ok(())
    }

    pub fn record(&mut self, action: &StageAction) -> Result<(), String> {
        self.finished
            .insert(action.title(), current_inputs(action)?);
        Ok(())
    }
}

fn current_inputs(action: &StageAction) -> Result<Vec<Fingerprint>, String> {
    action
        .inputs()
        .iter()
        .map(|path| Fingerprint::of(path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::plan::SurgeryStep;

    fn surgery(folder: &Path) -> StageAction {
        StageAction::Surgery(SurgeryStep {
            input: folder.join("stage2a.pth.tar"),
            output: folder.join("pruned.pth.tar"),
            layers: vec![0, 2],
        })
    }

    #[test]
    fn step_is_done_only_with_output_and_recorded_inputs() {
        let folder = tempfile::tempdir().unwrap();
        let action = surgery(folder.path());
        std::fs::write(folder.path().join("stage2a.pth.tar"), b"weights").unwrap();
        let mut state = PipelineState::default();

        assert!(!state.is_done(&action).unwrap(), "no output yet");
        std::fs::write(folder.path().join("pruned.pth.tar"), b"pruned").unwrap();
        assert!(!state.is_done(&action).unwrap(), "output without a record");
        state.record(&action).unwrap();
        assert!(state.is_done(&action).unwrap());
    }

    #[test]
    fn changed_input_makes_the_step_stale_and_removes_its_output() {
        let folder = tempfile::tempdir().unwrap();
        let action = surgery(folder.path());
        let input = folder.path().join("stage2a.pth.tar");
        std::fs::write(&input, b"weights").unwrap();
        std::fs::write(folder.path().join("pruned.pth.tar"), b"pruned").unwrap();
        let mut state = PipelineState::default();
        state.record(&action).unwrap();

        std::fs::write(&input, b"retrained weights").unwrap();

        assert!(!state.is_done(&action).unwrap());
        state.invalidate(&action).unwrap();
        assert!(!folder.path().join("pruned.pth.tar").exists());
    }

    #[test]
    fn state_survives_a_save_and_load() {
        let folder = tempfile::tempdir().unwrap();
        let action = surgery(folder.path());
        std::fs::write(folder.path().join("stage2a.pth.tar"), b"weights").unwrap();
        std::fs::write(folder.path().join("pruned.pth.tar"), b"pruned").unwrap();
        let mut state = PipelineState::default();
        state.record(&action).unwrap();
        let path = folder.path().join("pipeline-state.json");

        state.save(&path).unwrap();
        let loaded = PipelineState::load(&path).unwrap();

        assert!(loaded.is_done(&action).unwrap());
    }
}
