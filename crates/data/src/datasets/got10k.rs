//! GOT-10k: `train/GOT-10k_Train_NNNNNN/{00000001.jpg…, groundtruth.txt,
//! absence.label, cover.label, meta_info.ini}` for training, and the
//! `val` / `test` folders (with `list.txt`) for evaluation.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::frames::{check_numbered_frames, list_numbered_frames};
use super::{SequenceCache, TrackingDataset};
use crate::annotation::{BoxFormat, read_boxes, read_cover, read_flags, read_text};
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, FramePaths, Sequence};

/// The training splits of GOT-10k used by the trackers of the MixFormer family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Got10kSplit {
    /// The training part of the VOT-style split (`GOT10K_vottrain`).
    VotTrain,
    /// The held-out part of the VOT-style split (`GOT10K_votval`).
    VotVal,
    /// The whole train folder (`GOT10K_train_full`).
    TrainFull,
}

impl Got10kSplit {
    /// Name of the split in experiment files.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::VotTrain => "GOT10K_vottrain",
            Self::VotVal => "GOT10K_votval",
            Self::TrainFull => "GOT10K_train_full",
        }
    }
}

/// The GOT-10k train folder, optionally restricted by a split list.
pub struct Got10k {
    name: String,
    train_dir: PathBuf,
    sequences: Vec<String>,
    cache: SequenceCache,
}

impl Got10k {
    /// Indexes the train folder of `root` (the GOT-10k folder or its `train`
    /// folder itself).
    ///
    /// `split_file` lists the sequences of the split, one per line, either as
    /// a 0-based index into the train list (the format of the split files of
    /// pytracking-style trackers) or as a folder name. Without it the whole
    /// train folder is used.
    pub fn open(root: &Path, split: Got10kSplit, split_file: Option<&Path>) -> Result<Self> {
        let train_dir = if root.join("train").is_dir() {
            root.join("train")
        } else {
            root.to_path_buf()
        };
        let all = list_train_sequences(&train_dir)?;
        let sequences = match split_file {
            Some(file) => select_split(&train_dir, &all, file)?,
            None => {
                if split != Got10kSplit::TrainFull {
                    tracing::warn!(
                        split = split.config_name(),
                        "no split list given; using every sequence of the train folder"
                    );
                }
                all
            }
        };
        if sequences.is_empty() {
            return Err(DataError::EmptyDataset {
                dataset: split.config_name().into(),
                root: train_dir,
                expected: "GOT-10k_Train_NNNNNN folders or a list.txt naming them",
            });
        }
        for name in &sequences {
            let ground_truth = train_dir.join(name).join("groundtruth.txt");
            if !ground_truth.is_file() {
                return Err(DataError::MissingFile {
                    what: "ground truth",
                    path: ground_truth,
                    hint: "every sequence folder needs a groundtruth.txt; restore it or \
                           remove the sequence from the split",
                });
            }
        }
        tracing::info!(
            split = split.config_name(),
            sequences = sequences.len(),
            "indexed GOT-10k"
        );
        Ok(Self {
            name: split.config_name().into(),
            cache: SequenceCache::new(sequences.len()),
            train_dir,
            sequences,
        })
    }

    fn load(&self, index: usize) -> Result<Sequence> {
        let name = &self.sequences[index];
        let dir = self.train_dir.join(name);
        load_sequence(&self.name, name, &dir, false)
    }
}

impl TrackingDataset for Got10k {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatasetKind {
        DatasetKind::Got10k
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

/// Lists the train sequences from `list.txt`, or sorted folder names without it.
fn list_train_sequences(train_dir: &Path) -> Result<Vec<String>> {
    let list_file = train_dir.join("list.txt");
    if list_file.is_file() {
        return Ok(read_text(&list_file)?
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect());
    }
    let entries = fs::read_dir(train_dir).map_err(|source| DataError::io(train_dir, source))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DataError::io(train_dir, source))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("GOT-10k_") && entry.path().is_dir() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Resolves a split list of indices or names against the train list.
fn select_split(train_dir: &Path, all: &[String], split_file: &Path) -> Result<Vec<String>> {
    let text = read_text(split_file)?;
    let mut selected = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let entry = line.trim();
        if entry.is_empty() {
            continue;
        }
        let name = match entry.parse::<usize>() {
            Ok(position) => all
                .get(position)
                .cloned()
                .ok_or_else(|| DataError::Annotation {
                    file: split_file.to_path_buf(),
                    line: index + 1,
                    message: format!(
                        "sequence index {position} is out of range: the train folder has {} \
                     sequences",
                        all.len()
                    ),
                })?,
            Err(_) => entry.to_owned(),
        };
        let dir = train_dir.join(&name);
        if !dir.is_dir() {
            return Err(DataError::MissingSequence {
                split_file: split_file.to_path_buf(),
                line: index + 1,
                sequence: name,
                expected_path: dir,
            });
        }
        selected.push(name);
    }
    Ok(selected)
}

/// Reads one GOT-10k sequence folder. `evaluation` lists the frames (the test
/// split annotates only the first frame); training computes them from the
/// ground truth.
fn load_sequence(dataset: &str, name: &str, dir: &Path, evaluation: bool) -> Result<Sequence> {
    let boxes = read_boxes(&dir.join("groundtruth.txt"), BoxFormat::Rect)?;
    let frames = if evaluation {
        list_numbered_frames(dir)?.frames_for(dataset, name, 1, boxes.len(), true)?
    } else {
        let frames = FramePaths::Numbered {
            dir: dir.to_path_buf(),
            first: 1,
            digits: 8,
            extension: "jpg".into(),
            count: boxes.len(),
        };
        check_numbered_frames(dataset, name, &frames)?;
        frames
    };
    let flags = read_visibility(dataset, name, dir, boxes.len(), !evaluation)?;
    let class = read_class(dir);
    Ok(Sequence::new(name, DatasetKind::Got10k, frames, boxes, flags).with_class(class))
}

/// Visible = not absent and cover > 0. Missing label files leave visibility
/// to box validity (logged when `warn_if_missing`).
fn read_visibility(
    dataset: &str,
    name: &str,
    dir: &Path,
    annotated: usize,
    warn_if_missing: bool,
) -> Result<Option<Vec<bool>>> {
    let absence_file = dir.join("absence.label");
    let cover_file = dir.join("cover.label");
    if !absence_file.is_file() || !cover_file.is_file() {
        if warn_if_missing {
            tracing::warn!(
                dataset,
                sequence = name,
                "absence.label or cover.label missing; visibility follows box validity only"
            );
        }
        return Ok(None);
    }
    let absent = read_flags(&absence_file)?;
    let cover = read_cover(&cover_file)?;
    for (file, len) in [(&absence_file, absent.len()), (&cover_file, cover.len())] {
        if len != annotated {
            return Err(DataError::Annotation {
                file: file.clone(),
                line: len.min(annotated) + 1,
                message: format!(
                    "expected one value per ground-truth line ({annotated}), found {len}"
                ),
            });
        }
    }
    Ok(Some(
        absent
            .iter()
            .zip(&cover)
            .map(|(absent, cover)| !absent && *cover > 0)
            .collect(),
    ))
}

/// Reads `object_class_name` from `meta_info.ini`, if present.
fn read_class(dir: &Path) -> Option<String> {
    let text = fs::read_to_string(dir.join("meta_info.ini")).ok()?;
    text.lines().find_map(|line| {
        let value = line.trim().strip_prefix("object_class_name:")?;
        Some(value.trim().to_owned())
    })
}

/// The GOT-10k `val` or `test` folder for evaluation: `<split>/list.txt` and
/// `<split>/<sequence>/{00000001.jpg…, groundtruth.txt}`. The test split
/// gives only the first frame's box.
pub struct Got10kEval {
    name: String,
    split_dir: PathBuf,
    sequences: Vec<String>,
    cache: SequenceCache,
}

impl Got10kEval {
    /// Indexes `root/<split>` (`split` is `val` or `test`).
    pub fn open(root: &Path, split: &str) -> Result<Self> {
        let split_dir = root.join(split);
        let list_file = split_dir.join("list.txt");
        if !list_file.is_file() {
            return Err(DataError::MissingFile {
                what: "GOT-10k sequence list",
                path: list_file,
                hint: "the val and test folders of GOT-10k ship a list.txt",
            });
        }
        let text = read_text(&list_file)?;
        let mut sequences = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let name = line.trim();
            if name.is_empty() {
                continue;
            }
            let dir = split_dir.join(name);
            if !dir.join("groundtruth.txt").is_file() {
                return Err(DataError::MissingSequence {
                    split_file: list_file.clone(),
                    line: index + 1,
                    sequence: name.into(),
                    expected_path: dir.join("groundtruth.txt"),
                });
            }
            sequences.push(name.to_owned());
        }
        if sequences.is_empty() {
            return Err(DataError::EmptyDataset {
                dataset: format!("GOT-10k {split}"),
                root: split_dir,
                expected: "sequence names in list.txt",
            });
        }
        Ok(Self {
            name: format!("GOT10K_{split}"),
            cache: SequenceCache::new(sequences.len()),
            split_dir,
            sequences,
        })
    }
}

impl TrackingDataset for Got10kEval {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatasetKind {
        DatasetKind::Got10k
    }

    fn len(&self) -> usize {
        self.sequences.len()
    }

    fn sequence_name(&self, index: usize) -> &str {
        &self.sequences[index]
    }

    fn sequence(&self, index: usize) -> Result<Arc<Sequence>> {
        let name = &self.sequences[index];
        let dir = self.split_dir.join(name);
        self.cache
            .get_or_load(index, || load_sequence(&self.name, name, &dir, true))
    }
}
