//! UAV123: `anno/<subset>/<sequence>.txt` and
//! `data_seq/<subset>/<sequence>/000001.jpg…`, with `<subset>` one of
//! `UAV123`, `UAV123_10fps`, `UAV123_20L`. A line of NaN values marks a frame
//! where the target is absent; it becomes an invalid, not visible frame.

use std::fs;
use std::path::Path;

use super::benchmark::{BenchmarkDataset, SequenceFiles, delegate_tracking_dataset};
use crate::annotation::BoxFormat;
use crate::error::{DataError, Result};
use crate::sequence::DatasetKind;

/// One UAV123 subset.
///
/// Limitation: in the full UAV123 release, split sequences such as `bird1_2`
/// share the frame folder `bird1` and start at a later frame. This reader
/// does not know those ranges, so such sequences need
/// [`Uav123::with_frame_folder`]. Sequences with a folder of their own need
/// nothing.
pub struct Uav123(BenchmarkDataset);

delegate_tracking_dataset!(Uav123);

impl Uav123 {
    pub fn open(root: &Path, subset: &str) -> Result<Self> {
        let anno_dir = root.join("anno").join(subset);
        let entries = fs::read_dir(&anno_dir).map_err(|source| DataError::io(&anno_dir, source))?;
        let mut sequences = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|source| DataError::io(&anno_dir, source))?
                .path();
            if !path.is_file() || path.extension().is_none_or(|ext| ext != "txt") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
                continue;
            };
            sequences.push(SequenceFiles {
                name: name.to_owned(),
                frame_dir: root.join("data_seq").join(subset).join(name),
                ground_truth: path.clone(),
            });
        }
        sequences.sort_by(|a, b| a.name.cmp(&b.name));
        let dataset = BenchmarkDataset::new(
            "UAV123",
            DatasetKind::Uav123,
            BoxFormat::Rect,
            anno_dir,
            sequences,
            "anno/<subset>/<sequence>.txt files",
        )?;
        Ok(Self(dataset))
    }

    /// Reads `sequence` from the frames of another folder of the subset,
    /// starting at frame number `start` (for split sequences such as `bird1_2`).
    pub fn with_frame_folder(mut self, sequence: &str, folder: &str, start: u64) -> Self {
        self.0.set_frame_folder(sequence, folder);
        self.0.set_start_frame(sequence, start);
        self
    }
}
