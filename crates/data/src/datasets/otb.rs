//! OTB: `<sequence>/{img/0001.jpg…, groundtruth_rect.txt}`, fields separated
//! by commas, tabs or spaces. Sequences with two targets ship
//! `groundtruth_rect.1.txt` and `groundtruth_rect.2.txt` and become
//! `<sequence>-1` and `<sequence>-2`.

use std::fs;
use std::path::Path;

use super::TrackingDataset;
use super::benchmark::{BenchmarkDataset, SequenceFiles, delegate_tracking_dataset};
use crate::annotation::BoxFormat;
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, Sequence};

/// An OTB root: every sub-folder that has an `img` folder is a sequence.
///
/// Limitation: a few OTB sequences (David, for one) are annotated from a
/// later image than the first. Give their first annotated frame number with
/// [`Otb::with_start_frame`], because otherwise their ground truth is matched
/// to the frames from the first image on.
pub struct Otb(BenchmarkDataset);

delegate_tracking_dataset!(Otb);

impl Otb {
    pub fn open(root: &Path) -> Result<Self> {
        let entries = fs::read_dir(root).map_err(|source| DataError::io(root, source))?;
        let mut dirs = Vec::new();
        for entry in entries {
            let path = entry.map_err(|source| DataError::io(root, source))?.path();
            if path.join("img").is_dir() {
                dirs.push(path);
            }
        }
        dirs.sort();
        let mut sequences = Vec::new();
        for dir in dirs {
            sequences.extend(sequence_files(&dir)?);
        }
        let dataset = BenchmarkDataset::new(
            "OTB",
            DatasetKind::Otb,
            BoxFormat::Rect,
            root.to_path_buf(),
            sequences,
            "sequence folders with img/ and groundtruth_rect.txt",
        )?;
        Ok(Self(dataset))
    }

    /// Sets the number of the image that the first ground-truth line belongs to.
    pub fn with_start_frame(mut self, sequence: &str, start: u64) -> Self {
        self.0.set_start_frame(sequence, start);
        self
    }
}

/// Reads one OTB sequence folder with a single `groundtruth_rect.txt`.
pub fn read_otb_sequence(dir: &Path) -> Result<Sequence> {
    let files = sequence_files(dir)?;
    let dataset = BenchmarkDataset::new(
        "OTB",
        DatasetKind::Otb,
        BoxFormat::Rect,
        dir.to_path_buf(),
        files,
        "img/ and groundtruth_rect.txt",
    )?;
    Ok(dataset.sequence(0)?.as_ref().clone())
}

/// Finds the ground-truth files of one folder: `groundtruth_rect.txt`, or
/// `groundtruth_rect.<k>.txt` for each target.
fn sequence_files(dir: &Path) -> Result<Vec<SequenceFiles>> {
    let folder_name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let single = dir.join("groundtruth_rect.txt");
    if single.is_file() {
        return Ok(vec![SequenceFiles {
            name: folder_name,
            ground_truth: single,
            frame_dir: dir.join("img"),
        }]);
    }
    let mut files = Vec::new();
    for target in 1.. {
        let ground_truth = dir.join(format!("groundtruth_rect.{target}.txt"));
        if !ground_truth.is_file() {
            break;
        }
        files.push(SequenceFiles {
            name: format!("{folder_name}-{target}"),
            ground_truth,
            frame_dir: dir.join("img"),
        });
    }
    if files.is_empty() {
        return Err(DataError::MissingFile {
            what: "ground truth",
            path: single,
            hint: "every OTB sequence folder needs groundtruth_rect.txt \
                   (or groundtruth_rect.1.txt for several targets)",
        });
    }
    Ok(files)
}
