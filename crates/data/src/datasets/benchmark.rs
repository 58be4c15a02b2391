//! The shared reader behind the evaluation benchmarks (OTB, UAV123, VOT):
//! one ground-truth file and one folder of numbered frames per sequence.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::frames::list_numbered_frames;
use super::{SequenceCache, TrackingDataset};
use crate::annotation::{BoxFormat, read_boxes};
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, Sequence};

/// Locations of one sequence's files.
#[derive(Clone, Debug)]
pub(crate) struct SequenceFiles {
    pub name: String,
    pub ground_truth: PathBuf,
    pub frame_dir: PathBuf,
}

/// Sequences of an evaluation benchmark, read on first use.
pub(crate) struct BenchmarkDataset {
    name: String,
    kind: DatasetKind,
    format: BoxFormat,
    sequences: Vec<SequenceFiles>,
    start_frames: HashMap<String, u64>,
    cache: SequenceCache,
}

impl BenchmarkDataset {
    pub(crate) fn new(
        name: &str,
        kind: DatasetKind,
        format: BoxFormat,
        root: PathBuf,
        sequences: Vec<SequenceFiles>,
        expected: &'static str,
    ) -> Result<Self> {
        if sequences.is_empty() {
            return Err(DataError::EmptyDataset {
                dataset: name.into(),
                root,
                expected,
            });
        }
        Ok(Self {
            name: name.into(),
            kind,
            format,
            cache: SequenceCache::new(sequences.len()),
            sequences,
            start_frames: HashMap::new(),
        })
    }

    /// Sets the number of the frame that the first ground-truth line belongs
    /// to, for sequences whose annotation starts after the first image.
    pub(crate) fn set_start_frame(&mut self, sequence: &str, start: u64) {
        self.start_frames.insert(sequence.to_owned(), start);
        self.cache = SequenceCache::new(self.sequences.len());
    }

    /// Reads `sequence`'s frames from the sibling folder `folder` instead of its own.
    pub(crate) fn set_frame_folder(&mut self, sequence: &str, folder: &str) {
        for files in self.sequences.iter_mut().filter(|f| f.name == sequence) {
            if let Some(parent) = files.frame_dir.parent() {
                files.frame_dir = parent.join(folder);
            }
        }
        self.cache = SequenceCache::new(self.sequences.len());
    }

    fn load(&self, index: usize) -> Result<Sequence> {
        let files = &self.sequences[index];
        if !files.frame_dir.is_dir() {
            return Err(DataError::MissingFile {
                what: "frame folder",
                path: files.frame_dir.clone(),
                hint: "each annotated sequence needs its frame folder; UAV123 split \
                       sequences sharing another folder need Uav123::with_frame_folder",
            });
        }
        let boxes = read_boxes(&files.ground_truth, self.format)?;
        let listing = list_numbered_frames(&files.frame_dir)?;
        let start = self
            .start_frames
            .get(&files.name)
            .copied()
            .unwrap_or(listing.first);
        let frames = listing.frames_for(&self.name, &files.name, start, boxes.len(), false)?;
        Ok(Sequence::new(&files.name, self.kind, frames, boxes, None))
    }
}

impl TrackingDataset for BenchmarkDataset {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatasetKind {
        self.kind
    }

    fn len(&self) -> usize {
        self.sequences.len()
    }

    fn sequence_name(&self, index: usize) -> &str {
        &self.sequences[index].name
    }

    fn sequence(&self, index: usize) -> Result<Arc<Sequence>> {
        self.cache.get_or_load(index, || self.load(index))
    }
}

/// Implements `TrackingDataset` for a newtype around `BenchmarkDataset`.
macro_rules! delegate_tracking_dataset {
    ($type:ty) => {
        impl $crate::datasets::TrackingDataset for $type {
            fn name(&self) -> &str {
                self.0.name()
            }

            fn kind(&self) -> $crate::sequence::DatasetKind {
                self.0.kind()
            }

            fn len(&self) -> usize {
                self.0.len()
            }

            fn sequence_name(&self, index: usize) -> &str {
                self.0.sequence_name(index)
            }

            fn sequence(
                &self,
                index: usize,
            ) -> $crate::error::Result<std::sync::Arc<$crate::sequence::Sequence>> {
                self.0.sequence(index)
            }
        }
    };
}

pub(crate) use delegate_tracking_dataset;
