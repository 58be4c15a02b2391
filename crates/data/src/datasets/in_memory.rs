//! A dataset made of sequences already read, for example benchmark sequences
//! reused for training or sequences built by a test.

use std::sync::Arc;

use super::TrackingDataset;
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, Sequence};

/// A fixed list of sequences under one name.
pub struct InMemoryDataset {
    name: String,
    kind: DatasetKind,
    is_video: bool,
    sequences: Vec<Arc<Sequence>>,
}

impl InMemoryDataset {
    /// Wraps video sequences; the dataset kind is the first sequence's.
    pub fn new(name: impl Into<String>, sequences: Vec<Sequence>) -> Result<Self> {
        let name = name.into();
        let Some(first) = sequences.first() else {
            return Err(DataError::InvalidParameter {
                name: "sequences",
                message: format!("dataset {name} needs at least one sequence"),
            });
        };
        Ok(Self {
            kind: first.dataset,
            is_video: true,
            sequences: sequences.into_iter().map(Arc::new).collect(),
            name,
        })
    }

    /// Wraps one-frame sequences of still images, which the sampler repeats
    /// for the templates and the search region.
    pub fn still_images(name: impl Into<String>, sequences: Vec<Sequence>) -> Result<Self> {
        let mut dataset = Self::new(name, sequences)?;
        dataset.is_video = false;
        Ok(dataset)
    }

    /// Copies every sequence of another dataset, reading each one.
    pub fn collect(dataset: &dyn TrackingDataset) -> Result<Self> {
        let sequences = (0..dataset.len())
            .map(|index| dataset.sequence(index).map(|s| s.as_ref().clone()))
            .collect::<Result<Vec<_>>>()?;
        let mut collected = Self::new(dataset.name(), sequences)?;
        collected.is_video = dataset.is_video();
        Ok(collected)
    }
}

impl TrackingDataset for InMemoryDataset {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatasetKind {
        self.kind
    }

    fn is_video(&self) -> bool {
        self.is_video
    }

    fn len(&self) -> usize {
        self.sequences.len()
    }

    fn sequence_name(&self, index: usize) -> &str {
        &self.sequences[index].name
    }

    fn sequence(&self, index: usize) -> Result<Arc<Sequence>> {
        Ok(Arc::clone(&self.sequences[index]))
    }
}
