//! Tracking datasets, samplers, crops and batches for MixFormer training and
//! tracking.
//!
//! Readers index GOT-10k, LaSOT, TrackingNet and COCO for training, and OTB,
//! UAV123, VOT, the GOT-10k val/test folders and plain frame folders for
//! evaluation, all as [`Sequence`]s behind [`TrackingDataset`]. The
//! [`TrackingSampler`] draws template and search frames as the MixFormer
//! reference does, crops and augments them, and [`DataLoader`] stacks the
//! samples into [`Batch`]es on a thread pool. Every random choice derives
//! from `(seed, epoch, sample index)`, so batches are bit-identical whatever
//! the number of threads.
//!
//! This crate depends on no other crate of the workspace and not on burn:
//! batches are `f32` arrays with shapes, which the trainer turns into tensors.

mod annotation;
mod augment;
mod batch;
mod bbox;
mod crop;
pub mod datasets;
mod error;
mod frame;
mod loader;
mod padding;
mod processing;
mod sampler;
mod sequence;

pub use annotation::{BoxFormat, parse_boxes, read_boxes, read_cover, read_flags};
pub use augment::{AugmentationParams, Normalization, adjust_brightness};
pub use batch::{Array, Batch};
pub use bbox::BBox;
pub use crop::{Crop, CropWindow, FrameTransform, crop_around_box, crop_frame};
pub use datasets::{
    Coco, DatasetName, DatasetRoots, Got10k, Got10kEval, Got10kSplit, InMemoryDataset, Lasot, Otb,
    TrackingDataset, TrackingNet, Uav123, Vot, open_datasets, read_folder_sequence,
    read_otb_sequence, read_vot_sequence, validate_dataset,
};
pub use error::{DataError, Result};
pub use frame::{RgbImage, load_frame};
pub use loader::{DataLoader, EpochBatches, LoaderParams};
pub use padding::PaddingMask;
pub use processing::{
    CropParams, ProcessedImage, ProcessingParams, Rejection, jitter_box, process_group,
};
pub use sampler::{
    Sample, SampleSource, SamplerMode, SamplerParams, TRAIN_STREAM, TrackingSampler,
    VALIDATION_STREAM, sample_rng,
};
pub use sequence::{DatasetKind, FramePaths, Sequence};
