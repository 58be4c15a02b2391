//! VOT: `<sequence>/{color/00000001.jpg… (or the frames directly in the
//! folder), groundtruth.txt}`. A ground-truth line is `x, y, w, h` or an
//! 8-value polygon, which becomes its axis-aligned bounding box.

use std::fs;
use std::path::{Path, PathBuf};

use super::TrackingDataset;
use super::benchmark::{BenchmarkDataset, SequenceFiles, delegate_tracking_dataset};
use crate::annotation::{BoxFormat, read_text};
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, Sequence};

/// A VOT sequences folder: the sequences named in `list.txt`, or every
/// sub-folder with a `groundtruth.txt` when there is no list.
pub struct Vot(BenchmarkDataset);

delegate_tracking_dataset!(Vot);

impl Vot {
    pub fn open(root: &Path) -> Result<Self> {
        let list_file = root.join("list.txt");
        let dirs = if list_file.is_file() {
            read_list(root, &list_file)?
        } else {
            let entries = fs::read_dir(root).map_err(|source| DataError::io(root, source))?;
            let mut dirs = Vec::new();
            for entry in entries {
                let path = entry.map_err(|source| DataError::io(root, source))?.path();
                if path.join("groundtruth.txt").is_file() {
                    dirs.push(path);
                }
            }
            dirs.sort();
            dirs
        };
        let sequences = dirs.iter().map(|dir| sequence_files(dir)).collect();
        let dataset = BenchmarkDataset::new(
            "VOT",
            DatasetKind::Vot,
            BoxFormat::RectOrPolygon,
            root.to_path_buf(),
            sequences,
            "sequence folders with groundtruth.txt, or a list.txt naming them",
        )?;
        Ok(Self(dataset))
    }
}

/// Reads one VOT sequence folder.
pub fn read_vot_sequence(dir: &Path) -> Result<Sequence> {
    let ground_truth = dir.join("groundtruth.txt");
    if !ground_truth.is_file() {
        return Err(DataError::MissingFile {
            what: "ground truth",
            path: ground_truth,
            hint: "every VOT sequence folder needs a groundtruth.txt",
        });
    }
    let dataset = BenchmarkDataset::new(
        "VOT",
        DatasetKind::Vot,
        BoxFormat::RectOrPolygon,
        dir.to_path_buf(),
        vec![sequence_files(dir)],
        "groundtruth.txt",
    )?;
    Ok(dataset.sequence(0)?.as_ref().clone())
}

fn sequence_files(dir: &Path) -> SequenceFiles {
    let color = dir.join("color");
    SequenceFiles {
        name: dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ground_truth: dir.join("groundtruth.txt"),
        frame_dir: if color.is_dir() {
            color
        } else {
            dir.to_path_buf()
        },
    }
}

fn read_list(root: &Path, list_file: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for (index, line) in read_text(list_file)?.lines().enumerate() {
        let name = line.trim();
        if name.is_empty() {
            continue;
        }
        let dir = root.join(name);
        if !dir.join("groundtruth.txt").is_file() {
            return Err(DataError::MissingSequence {
                split_file: list_file.to_path_buf(),
                line: index + 1,
                sequence: name.into(),
                expected_path: dir.join("groundtruth.txt"),
            });
        }
        dirs.push(dir);
    }
    Ok(dirs)
}
