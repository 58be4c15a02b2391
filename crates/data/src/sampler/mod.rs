//! The tracking sampler: draws a dataset, a sequence and frames, then
//! processes them into one training or validation sample.

mod frame_ids;
mod params;
mod seed;
mod selection;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::{Rng, RngExt};

use crate::bbox::BBox;
use crate::crop::FrameTransform;
use crate::datasets::TrackingDataset;
use crate::error::{DataError, Result};
use crate::frame::{RgbImage, load_frame};
use crate::processing::{ProcessedImage, ProcessingParams, process_group};
use crate::sequence::Sequence;
use frame_ids::{Accept, FrameIds, draw_ids};
pub use params::{SamplerMode, SamplerParams};
pub use seed::{TRAIN_STREAM, VALIDATION_STREAM, sample_rng};
use selection::Selection;

/// Unreadable frames logged one by one before the log switches to every
/// thousandth.
const LOGGED_UNREADABLE_FRAMES: usize = 10;

/// Origin of the frames of a sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleSource {
    pub dataset: String,
    pub sequence: String,
    pub template_frames: Vec<usize>,
    /// Dataset of the search frames; differs from `dataset` only for score-stage
    /// negatives drawn from another sequence.
    pub search_dataset: String,
    pub search_sequence: String,
    pub search_frames: Vec<usize>,
}

/// One processed sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The first template, then the online templates.
    pub templates: Vec<ProcessedImage>,
    pub search: Vec<ProcessedImage>,
    /// Score-stage label: 1 for the target, 0 for a negative.
    pub label: Option<f32>,
    pub source: SampleSource,
}

/// Frames to load from one sequence.
struct FramePick {
    dataset: String,
    sequence: Arc<Sequence>,
    ids: Vec<usize>,
    /// Replace the boxes by a centred box of 1/8 of the image (score-stage
    /// negatives whose target is invisible).
    center_box: bool,
}

/// Builds samples from datasets; every sample is a pure function of
/// `(seed, epoch, index)` and the data on disk.
pub struct TrackingSampler {
    selection: Selection,
    params: SamplerParams,
    processing: ProcessingParams,
    stream: u64,
    unreadable_frames: AtomicUsize,
}

impl TrackingSampler {
    /// Builds a sampler; validation (no augmentation) draws from a
    /// separate random stream so that it never repeats training draws.
    pub fn new(
        datasets: Vec<Arc<dyn TrackingDataset>>,
        params: SamplerParams,
        processing: ProcessingParams,
    ) -> Result<Self> {
        params.validate(datasets.len())?;
        processing.validate()?;
        let selection = Selection::new(
            datasets,
            &params.dataset_ratios,
            2 * (params.num_templates + params.num_search_frames),
            params.min_sequence_frames,
            params.max_sequence_draws,
        )?;
        let stream = match processing.augmentation {
            Some(_) => TRAIN_STREAM,
            None => VALIDATION_STREAM,
        };
        Ok(Self {
            selection,
            params,
            processing,
            stream,
            unreadable_frames: AtomicUsize::new(0),
        })
    }

    pub fn params(&self) -> &SamplerParams {
        &self.params
    }

    pub fn processing(&self) -> &ProcessingParams {
        &self.processing
    }

    /// Builds sample `index` of `epoch`, drawing again after each rejection.
    pub fn sample(&self, epoch: u64, index: u64) -> Result<Sample> {
        let mut rng = sample_rng(self.params.seed, self.stream, epoch, index);
        let mut last_rejection = String::new();
        for _ in 0..self.params.max_attempts {
            match self.attempt(&mut rng)? {
                Ok(sample) => return Ok(sample),
                Err(rejection) => last_rejection = rejection,
            }
        }
        Err(DataError::AttemptsExhausted {
            epoch,
            index,
            attempts: self.params.max_attempts,
            last_rejection,
        })
    }

    /// Tries one draw: `Err` for data errors, `Ok(Err(reason))` for a rejection.
    fn attempt(&self, rng: &mut impl Rng) -> Result<Result<Sample, String>> {
        let dataset_index = self.selection.draw_dataset(rng);
        let dataset = Arc::clone(&self.selection.entries[dataset_index].dataset);
        let (_, sequence) = self.selection.draw_sequence(dataset_index, rng)?;
        let ids = self.frame_ids(dataset.as_ref(), &sequence, rng)?;

        let templates = FramePick {
            dataset: dataset.name().into(),
            sequence: Arc::clone(&sequence),
            ids: ids.templates,
            center_box: false,
        };
        let positive = FramePick {
            dataset: dataset.name().into(),
            sequence: Arc::clone(&sequence),
            ids: ids.search,
            center_box: false,
        };
        let (search, label) = match self.params.positive_probability {
            None => (positive, None),
            Some(p) if rng.random_bool(p) => (positive, Some(1.0)),
            Some(_) => match self.negative_search(dataset.as_ref(), &sequence, rng)? {
                Some(negative) => (negative, Some(0.0)),
                None => return Ok(Err("no frame for a negative search region".into())),
            },
        };
        Ok(self.build(templates, search, label, rng))
    }

    fn frame_ids(
        &self,
        dataset: &dyn TrackingDataset,
        sequence: &Sequence,
        rng: &mut impl Rng,
    ) -> Result<FrameIds> {
        if !dataset.is_video() {
            return Ok(FrameIds {
                templates: vec![0; self.params.num_templates],
                search: vec![0; self.params.num_search_frames],
            });
        }
        let params = &self.params;
        let visible = &sequence.visible;
        let ids = match params.mode {
            SamplerMode::Causal => frame_ids::causal(
                visible,
                params.num_templates,
                params.num_search_frames,
                params.max_intervals[0],
                rng,
            ),
            SamplerMode::Trident => frame_ids::trident(
                visible,
                visible,
                Accept::Flagged,
                &params.max_intervals,
                rng,
            ),
            SamplerMode::TridentPro => {
                frame_ids::trident(visible, visible, Accept::Any, &params.max_intervals, rng)
            }
            SamplerMode::Stark => frame_ids::trident(
                visible,
                &sequence.valid,
                Accept::Flagged,
                &params.max_intervals,
                rng,
            ),
        };
        ids.map_err(|reason| DataError::UnsatisfiableSequence {
            dataset: dataset.name().into(),
            sequence: sequence.name.clone(),
            reason: format!("{:?} sampler: {reason}", params.mode),
        })
    }

    /// Draws a negative search frame: a frame of the same video where the
    /// target is invisible (its box replaced by a centred box), or failing
    /// that a frame of another sequence.
    fn negative_search(
        &self,
        dataset: &dyn TrackingDataset,
        sequence: &Arc<Sequence>,
        rng: &mut impl Rng,
    ) -> Result<Option<FramePick>> {
        if dataset.is_video() {
            let len = sequence.visible.len() as i64;
            if let Some(ids) = draw_ids(&sequence.visible, 1, 0, len, Accept::Unflagged, rng) {
                return Ok(Some(FramePick {
                    dataset: dataset.name().into(),
                    sequence: Arc::clone(sequence),
                    ids,
                    center_box: true,
                }));
            }
        }
        let other_index = self.selection.draw_dataset(rng);
        let other = Arc::clone(&self.selection.entries[other_index].dataset);
        let (_, other_sequence) = self.selection.draw_sequence(other_index, rng)?;
        let ids = if other.is_video() {
            let len = other_sequence.visible.len() as i64;
            match self.params.mode {
                SamplerMode::Stark => {
                    draw_ids(&other_sequence.valid, 1, 0, len, Accept::Flagged, rng)
                }
                _ => draw_ids(&other_sequence.visible, 1, 0, len, Accept::Any, rng),
            }
        } else {
            Some(vec![0])
        };
        Ok(ids.map(|ids| FramePick {
            dataset: other.name().into(),
            sequence: other_sequence,
            ids,
            center_box: false,
        }))
    }

    /// Loads, augments and processes the picked frames.
    fn build(
        &self,
        templates: FramePick,
        search: FramePick,
        label: Option<f32>,
        rng: &mut impl Rng,
    ) -> Result<Sample, String> {
        let mut loaded: Vec<(PathBuf, Arc<RgbImage>)> = Vec::new();
        let template_frames = self.load_frames(&templates, &mut loaded)?;
        let search_frames = self.load_frames(&search, &mut loaded)?;

        let transform = match &self.processing.augmentation {
            Some(augmentation) => FrameTransform {
                grayscale: rng.random_bool(augmentation.grayscale_probability),
                flip_horizontal: rng.random_bool(augmentation.frame_flip_probability),
            },
            None => FrameTransform::default(),
        };
        let template_boxes = frame_boxes(&templates, &template_frames, transform);
        let search_boxes = frame_boxes(&search, &search_frames, transform);

        let processing = &self.processing;
        let processed_templates = process_group(
            &frame_refs(&template_frames),
            &template_boxes,
            &processing.template,
            transform,
            processing,
            rng,
        )
        .map_err(|rejection| format!("templates of {}: {rejection}", templates.sequence.name))?;
        let processed_search = process_group(
            &frame_refs(&search_frames),
            &search_boxes,
            &processing.search,
            transform,
            processing,
            rng,
        )
        .map_err(|rejection| format!("search of {}: {rejection}", search.sequence.name))?;

        Ok(Sample {
            templates: processed_templates,
            search: processed_search,
            label,
            source: SampleSource {
                dataset: templates.dataset,
                sequence: templates.sequence.name.clone(),
                template_frames: templates.ids,
                search_dataset: search.dataset,
                search_sequence: search.sequence.name.clone(),
                search_frames: search.ids,
            },
        })
    }

    /// Decodes the picked frames, once per distinct file of the sample.
    fn load_frames(
        &self,
        pick: &FramePick,
        loaded: &mut Vec<(PathBuf, Arc<RgbImage>)>,
    ) -> Result<Vec<Arc<RgbImage>>, String> {
        let mut frames = Vec::with_capacity(pick.ids.len());
        for &id in &pick.ids {
            let Some(path) = pick.sequence.frame_path(id) else {
                return Err(format!(
                    "frame {id} of {} is past its last frame",
                    pick.sequence.name
                ));
            };
            if let Some((_, frame)) = loaded.iter().find(|(p, _)| *p == path) {
                frames.push(Arc::clone(frame));
                continue;
            }
            match load_frame(&path) {
                Ok(frame) => {
                    let frame = Arc::new(frame);
                    loaded.push((path, Arc::clone(&frame)));
                    frames.push(frame);
                }
                Err(error) => {
                    self.log_unreadable(&error);
                    return Err(error.to_string());
                }
            }
        }
        Ok(frames)
    }

    fn log_unreadable(&self, error: &DataError) {
        let count = self.unreadable_frames.fetch_add(1, Ordering::Relaxed) + 1;
        if count <= LOGGED_UNREADABLE_FRAMES || count.is_multiple_of(1000) {
            tracing::warn!(unreadable_frames = count, "skipping sample: {error}");
        }
    }
}

fn frame_refs(frames: &[Arc<RgbImage>]) -> Vec<&RgbImage> {
    frames.iter().map(Arc::as_ref).collect()
}

/// Looks up the boxes of the picked frames, in the coordinates of the transformed frames.
fn frame_boxes(pick: &FramePick, frames: &[Arc<RgbImage>], transform: FrameTransform) -> Vec<BBox> {
    pick.ids
        .iter()
        .zip(frames)
        .map(|(&id, frame)| {
            let (width, height) = (frame.width() as f32, frame.height() as f32);
            let bbox = if pick.center_box {
                center_box(width, height)
            } else {
                pick.sequence.boxes[id]
            };
            if transform.flip_horizontal {
                bbox.flip_horizontal(width)
            } else {
                bbox
            }
        })
        .collect()
}

/// Builds a box of 1/8 of the image at its centre, truncated to whole pixels
/// as in the reference's negative samples.
fn center_box(width: f32, height: f32) -> BBox {
    let (w, h) = (width / 8.0, height / 8.0);
    BBox::new(
        (width / 2.0 - w / 2.0).trunc(),
        (height / 2.0 - h / 2.0).trunc(),
        w.trunc(),
        h.trunc(),
    )
}
