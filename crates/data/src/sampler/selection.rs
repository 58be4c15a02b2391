//! Drawing a dataset by ratio and a usable sequence from it.

use std::sync::{Arc, OnceLock};

use rand::distr::weighted::WeightedIndex;
use rand::{Rng, RngExt};

use crate::datasets::TrackingDataset;
use crate::error::{DataError, Result};
use crate::sequence::Sequence;

/// A dataset with the list of its usable sequences, built only when random
/// draws keep missing them.
pub(crate) struct DatasetEntry {
    pub dataset: Arc<dyn TrackingDataset>,
    eligible: OnceLock<Vec<usize>>,
}

/// Draws datasets by ratio and usable sequences from them.
pub(crate) struct Selection {
    pub entries: Vec<DatasetEntry>,
    weights: WeightedIndex<f64>,
    /// A video sequence is usable with more visible frames than this.
    pub min_visible_exclusive: usize,
    pub min_frames: usize,
    pub max_draws: usize,
}

impl Selection {
    pub(crate) fn new(
        datasets: Vec<Arc<dyn TrackingDataset>>,
        ratios: &[f64],
        min_visible_exclusive: usize,
        min_frames: usize,
        max_draws: usize,
    ) -> Result<Self> {
        let weights = WeightedIndex::new(ratios.iter().copied()).map_err(|error| {
            DataError::InvalidParameter {
                name: "DATASETS_RATIO",
                message: format!("{ratios:?}: {error}"),
            }
        })?;
        for dataset in &datasets {
            if dataset.is_empty() {
                return Err(DataError::InvalidParameter {
                    name: "DATASETS_NAME",
                    message: format!("dataset {} has no sequences", dataset.name()),
                });
            }
        }
        Ok(Self {
            entries: datasets
                .into_iter()
                .map(|dataset| DatasetEntry {
                    dataset,
                    eligible: OnceLock::new(),
                })
                .collect(),
            weights,
            min_visible_exclusive,
            min_frames,
            max_draws: max_draws.max(1),
        })
    }

    /// Draws a dataset index by ratio.
    pub(crate) fn draw_dataset(&self, rng: &mut impl Rng) -> usize {
        rng.sample(&self.weights)
    }

    fn is_usable(&self, dataset: &dyn TrackingDataset, sequence: &Sequence) -> bool {
        !dataset.is_video()
            || (sequence.visible_count() > self.min_visible_exclusive
                && sequence.visible.len() >= self.min_frames)
    }

    /// Draws a usable sequence of dataset `index`: uniformly at random, and
    /// after `max_draws` misses uniformly among the usable ones, listed once.
    /// Both give the same law; the list only bounds the work.
    pub(crate) fn draw_sequence(
        &self,
        index: usize,
        rng: &mut impl Rng,
    ) -> Result<(usize, Arc<Sequence>)> {
        let entry = &self.entries[index];
        let dataset = entry.dataset.as_ref();
        // The random draws come first even when the list already exists, so
        // that a sample consumes the same random numbers whichever thread
        // built the list, and when.
        for _ in 0..self.max_draws {
            let candidate = rng.random_range(0..dataset.len());
            let sequence = dataset.sequence(candidate)?;
            if self.is_usable(dataset, &sequence) {
                return Ok((candidate, sequence));
            }
        }
        let eligible = match entry.eligible.get() {
            Some(eligible) => eligible,
            None => {
                let listed = self.list_usable(dataset)?;
                entry.eligible.get_or_init(|| listed)
            }
        };
        self.draw_listed(dataset, eligible, rng)
    }

    fn list_usable(&self, dataset: &dyn TrackingDataset) -> Result<Vec<usize>> {
        tracing::info!(
            dataset = dataset.name(),
            sequences = dataset.len(),
            "random draws keep missing usable sequences; listing them once"
        );
        let mut usable = Vec::new();
        for index in 0..dataset.len() {
            if self.is_usable(dataset, dataset.sequence(index)?.as_ref()) {
                usable.push(index);
            }
        }
        Ok(usable)
    }

    fn draw_listed(
        &self,
        dataset: &dyn TrackingDataset,
        eligible: &[usize],
        rng: &mut impl Rng,
    ) -> Result<(usize, Arc<Sequence>)> {
        if eligible.is_empty() {
            return Err(self.no_usable_sequence(dataset));
        }
        let index = eligible[rng.random_range(0..eligible.len())];
        Ok((index, dataset.sequence(index)?))
    }

    fn no_usable_sequence(&self, dataset: &dyn TrackingDataset) -> DataError {
        DataError::NoEligibleSequence {
            dataset: dataset.name().into(),
            total: dataset.len(),
            rule: format!(
                "at least {} frames and more than {} visible frames",
                self.min_frames, self.min_visible_exclusive
            ),
        }
    }
}
