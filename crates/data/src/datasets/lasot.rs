//! LaSOT: `<class>/<class>-<n>/{img/00000001.jpg…, groundtruth.txt,
//! full_occlusion.txt, out_of_view.txt}`. The two flag files are one
//! comma-separated line of 0/1 each; the target is visible when neither is set.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::frames::check_numbered_frames;
use super::{SequenceCache, TrackingDataset};
use crate::annotation::{BoxFormat, read_boxes, read_flags, read_text};
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, FramePaths, Sequence};

/// A LaSOT root, optionally restricted by a split list of sequence names.
pub struct Lasot {
    root: PathBuf,
    sequences: Vec<String>,
    cache: SequenceCache,
}

impl Lasot {
    /// Indexes `root`. `split_file` names one sequence per line
    /// (`airplane-1`); without it every `<class>/<class>-<n>` folder is used.
    pub fn open(root: &Path, split_file: Option<&Path>) -> Result<Self> {
        let sequences = match split_file {
            Some(file) => read_split(root, file)?,
            None => list_sequences(root)?,
        };
        if sequences.is_empty() {
            return Err(DataError::EmptyDataset {
                dataset: "LASOT".into(),
                root: root.to_path_buf(),
                expected: "<class>/<class>-<n> folders",
            });
        }
        for name in &sequences {
            let ground_truth = sequence_dir(root, name).join("groundtruth.txt");
            if !ground_truth.is_file() {
                return Err(DataError::MissingFile {
                    what: "ground truth",
                    path: ground_truth,
                    hint: "every sequence folder needs a groundtruth.txt; restore it or \
                           remove the sequence from the split",
                });
            }
        }
        tracing::info!(sequences = sequences.len(), "indexed LaSOT");
        Ok(Self {
            root: root.to_path_buf(),
            cache: SequenceCache::new(sequences.len()),
            sequences,
        })
    }

    fn load(&self, index: usize) -> Result<Sequence> {
        let name = &self.sequences[index];
        let dir = sequence_dir(&self.root, name);
        let boxes = read_boxes(&dir.join("groundtruth.txt"), BoxFormat::Rect)?;
        let frames = FramePaths::Numbered {
            dir: dir.join("img"),
            first: 1,
            digits: 8,
            extension: "jpg".into(),
            count: boxes.len(),
        };
        check_numbered_frames("LASOT", name, &frames)?;
        let flags = read_visibility(name, &dir, boxes.len())?;
        let class = class_of(name).to_owned();
        Ok(Sequence::new(name, DatasetKind::Lasot, frames, boxes, flags).with_class(Some(class)))
    }
}

impl TrackingDataset for Lasot {
    fn name(&self) -> &str {
        "LASOT"
    }

    fn kind(&self) -> DatasetKind {
        DatasetKind::Lasot
    }

    fn len(&self) -> usize {
        self.sequences.len()
    }

    fn sequence_name(&self, index: usize) -> &str {
        &self.sequences[index]
    }

    fn sequence(&self, index: usize) -> Result<Arc<Sequence>> {
        self.cache.get_or_load(index, || self.load(index))
    }
}

/// Returns the class of a sequence name: `airplane-1` gives `airplane`.
fn class_of(name: &str) -> &str {
    name.rsplit_once('-').map_or(name, |(class, _)| class)
}

fn sequence_dir(root: &Path, name: &str) -> PathBuf {
    root.join(class_of(name)).join(name)
}

fn read_split(root: &Path, split_file: &Path) -> Result<Vec<String>> {
    let text = read_text(split_file)?;
    let mut sequences = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let name = line.trim();
        if name.is_empty() {
            continue;
        }
        let dir = sequence_dir(root, name);
        if !dir.is_dir() {
            return Err(DataError::MissingSequence {
                split_file: split_file.to_path_buf(),
                line: index + 1,
                sequence: name.into(),
                expected_path: dir,
            });
        }
        sequences.push(name.to_owned());
    }
    Ok(sequences)
}

/// Lists `<class>/<class>-<n>` folders, sorted by class and then by number.
fn list_sequences(root: &Path) -> Result<Vec<String>> {
    let mut sequences = Vec::new();
    for class_dir in sorted_subdirs(root)? {
        let Some(class) = class_dir.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let prefix = format!("{class}-");
        for sequence_dir in sorted_subdirs(&class_dir)? {
            let Some(name) = sequence_dir.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if let Some(number) = name
                .strip_prefix(&prefix)
                .and_then(|n| n.parse::<u32>().ok())
            {
                sequences.push((class.to_owned(), number, name.to_owned()));
            }
        }
    }
    sequences.sort();
    Ok(sequences.into_iter().map(|(_, _, name)| name).collect())
}

fn sorted_subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = fs::read_dir(dir).map_err(|source| DataError::io(dir, source))?;
    let mut dirs = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| DataError::io(dir, source))?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Visible = neither fully occluded nor out of view. Missing flag files
/// leave visibility to box validity, with a warning.
fn read_visibility(name: &str, dir: &Path, annotated: usize) -> Result<Option<Vec<bool>>> {
    let occlusion_file = dir.join("full_occlusion.txt");
    let out_of_view_file = dir.join("out_of_view.txt");
    if !occlusion_file.is_file() || !out_of_view_file.is_file() {
        tracing::warn!(
            sequence = name,
            "full_occlusion.txt or out_of_view.txt missing; visibility follows box validity only"
        );
        return Ok(None);
    }
    let occluded = read_flags(&occlusion_file)?;
    let out_of_view = read_flags(&out_of_view_file)?;
    for (file, len) in [
        (&occlusion_file, occluded.len()),
        (&out_of_view_file, out_of_view.len()),
    ] {
        if len != annotated {
            return Err(DataError::Annotation {
                file: file.clone(),
                line: 1,
                message: format!(
                    "expected one flag per ground-truth line ({annotated}), found {len}"
                ),
            });
        }
    }
    Ok(Some(
        occluded
            .iter()
            .zip(&out_of_view)
            .map(|(occluded, out)| !occluded && !out)
            .collect(),
    ))
}
