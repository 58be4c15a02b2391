//! Dataset readers and the lazily filled sequence cache they share.
//!
//! Opening a dataset only lists folders, and for COCO parses the annotation
//! json. A sequence's annotation files are parsed the first time it is
//! requested and cached from then on.

mod benchmark;
mod coco;
mod folder;
mod frames;
mod got10k;
mod in_memory;
mod lasot;
mod otb;
mod registry;
mod trackingnet;
mod uav123;
mod vot;

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, Sequence};

pub use coco::Coco;
pub use folder::read_folder_sequence;
pub use got10k::{Got10k, Got10kEval, Got10kSplit};
pub use in_memory::InMemoryDataset;
pub use lasot::Lasot;
pub use otb::{Otb, read_otb_sequence};
pub use registry::{DatasetName, DatasetRoots, open_datasets};
pub use trackingnet::TrackingNet;
pub use uav123::Uav123;
pub use vot::{Vot, read_vot_sequence};

/// A collection of sequences that the sampler and the evaluation can draw from.
pub trait TrackingDataset: Send + Sync {
    /// Returns the name used in experiment files, for example `GOT10K_vottrain`.
    fn name(&self) -> &str;

    fn kind(&self) -> DatasetKind;

    /// False for still-image datasets (COCO), whose sequences have one frame.
    fn is_video(&self) -> bool {
        true
    }

    /// Number of sequences.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name of sequence `index`, known without reading its annotations.
    fn sequence_name(&self, index: usize) -> &str;

    /// Reads sequence `index` on first use and returns the cached copy after.
    ///
    /// # Panics
    /// When `index >= self.len()`.
    fn sequence(&self, index: usize) -> Result<Arc<Sequence>>;
}

/// Reads every sequence of a dataset (in parallel) and returns every error
/// found, so that a dataset can be checked before a long training run.
pub fn validate_dataset(dataset: &dyn TrackingDataset) -> Vec<DataError> {
    (0..dataset.len())
        .into_par_iter()
        .filter_map(|index| dataset.sequence(index).err())
        .collect()
}

/// One cache slot per sequence, filled on first use.
pub(crate) struct SequenceCache {
    slots: Vec<OnceLock<Arc<Sequence>>>,
}

impl SequenceCache {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            slots: (0..len).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Returns the cached sequence or loads it. Two threads may load the same
    /// sequence at once, and both get the copy that was stored first. Loading
    /// is deterministic, so the race changes nothing.
    pub(crate) fn get_or_load(
        &self,
        index: usize,
        load: impl FnOnce() -> Result<Sequence>,
    ) -> Result<Arc<Sequence>> {
        let slot = &self.slots[index];
        if let Some(sequence) = slot.get() {
            return Ok(Arc::clone(sequence));
        }
        let loaded = Arc::new(load()?);
        Ok(Arc::clone(slot.get_or_init(|| loaded)))
    }
}
