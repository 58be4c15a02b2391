//! The `DATA` section: datasets, frame sampling and crops.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values;

/// A dataset that `DATA.TRAIN.DATASETS_NAME` and `DATA.VAL.DATASETS_NAME` can name.
///
/// The first six are the reference's training sets, which also has ImageNet
/// VID. The COCO val2017 split and the evaluation layouts are accepted too, so
/// that a small experiment can train on the sample data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DatasetName {
    /// GOT-10k train folder, `vottrain` split.
    #[serde(rename = "GOT10K_vottrain")]
    Got10kVotTrain,
    /// GOT-10k train folder, `votval` split.
    #[serde(rename = "GOT10K_votval")]
    Got10kVotVal,
    /// GOT-10k train folder, every sequence.
    #[serde(rename = "GOT10K_train_full")]
    Got10kTrainFull,
    /// LaSOT training sequences.
    #[serde(rename = "LASOT")]
    Lasot,
    /// TrackingNet training chunks.
    #[serde(rename = "TRACKINGNET")]
    TrackingNet,
    /// COCO 2017 `train2017` images, each box a one-frame sequence.
    #[serde(rename = "COCO17")]
    Coco17,
    /// COCO 2017 `val2017` images, each box a one-frame sequence.
    #[serde(rename = "COCO17_VAL")]
    Coco17Val,
    /// OTB sequences.
    #[serde(rename = "OTB")]
    Otb,
    /// UAV123 sequences.
    #[serde(rename = "UAV123")]
    Uav123,
    /// VOT sequences.
    #[serde(rename = "VOT")]
    Vot,
}

impl DatasetName {
    /// Every accepted name, in the order of the enum.
    pub const ALL: [DatasetName; 10] = [
        Self::Got10kVotTrain,
        Self::Got10kVotVal,
        Self::Got10kTrainFull,
        Self::Lasot,
        Self::TrackingNet,
        Self::Coco17,
        Self::Coco17Val,
        Self::Otb,
        Self::Uav123,
        Self::Vot,
    ];

    /// Returns the YAML spelling, for example `GOT10K_vottrain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Got10kVotTrain => "GOT10K_vottrain",
            Self::Got10kVotVal => "GOT10K_votval",
            Self::Got10kTrainFull => "GOT10K_train_full",
            Self::Lasot => "LASOT",
            Self::TrackingNet => "TRACKINGNET",
            Self::Coco17 => "COCO17",
            Self::Coco17Val => "COCO17_VAL",
            Self::Otb => "OTB",
            Self::Uav123 => "UAV123",
            Self::Vot => "VOT",
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Rule for drawing template and search frames from a sequence (`DATA.SAMPLER_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SamplerMode {
    /// Online template before the first template, search frame after it (stages 0 to 2).
    #[serde(rename = "causal")]
    Causal,
    /// First template and search frame anywhere, online template near the search frame.
    #[serde(rename = "trident")]
    Trident,
    /// `trident` with the online template on the far side from the first template,
    /// invisible targets allowed (score stage).
    #[serde(rename = "trident_pro")]
    TridentPro,
    /// `trident` with the online template drawn from frames where the box is valid,
    /// visible or not (STARK's rule).
    #[serde(rename = "stark")]
    Stark,
}

/// The `DATA` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Frame sampling rule (`SAMPLER_MODE`).
    #[serde(rename = "SAMPLER_MODE")]
    pub sampler_mode: SamplerMode,
    /// Per-channel RGB mean on [0, 1] images (`MEAN`).
    #[serde(rename = "MEAN")]
    pub mean: [f64; 3],
    /// Per-channel RGB standard deviation on [0, 1] images (`STD`).
    #[serde(rename = "STD")]
    pub std: [f64; 3],
    /// Largest gap in frames between sampled frames (`MAX_SAMPLE_INTERVAL`).
    /// The YAML may give a number or, as the score experiments do, a list of one number.
    #[serde(
        rename = "MAX_SAMPLE_INTERVAL",
        deserialize_with = "values::deserialize_one_or_single_list"
    )]
    pub max_sample_interval: usize,
    /// Training datasets (`TRAIN`).
    #[serde(rename = "TRAIN")]
    pub train: DatasetsConfig,
    /// Validation datasets (`VAL`).
    #[serde(rename = "VAL")]
    pub val: DatasetsConfig,
    /// Search-region crop (`SEARCH`).
    #[serde(rename = "SEARCH")]
    pub search: SearchConfig,
    /// Template crops (`TEMPLATE`).
    #[serde(rename = "TEMPLATE")]
    pub template: TemplateConfig,
}

/// `DATA.TRAIN` or `DATA.VAL`: which datasets feed an epoch and how many samples it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetsConfig {
    /// Datasets to sample from (`DATASETS_NAME`).
    #[serde(rename = "DATASETS_NAME")]
    pub datasets_name: Vec<DatasetName>,
    /// Relative sampling weight of each dataset, in the same order (`DATASETS_RATIO`).
    #[serde(rename = "DATASETS_RATIO")]
    pub datasets_ratio: Vec<f64>,
    /// Samples per epoch (`SAMPLE_PER_EPOCH`); an epoch has `SAMPLE_PER_EPOCH / BATCH_SIZE` steps.
    #[serde(rename = "SAMPLE_PER_EPOCH")]
    pub sample_per_epoch: usize,
}

/// `DATA.SEARCH`: the search-region crop and its jitter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Side of the crop after resizing, in pixels (`SIZE`).
    #[serde(rename = "SIZE")]
    pub size: usize,
    /// Crop side as a multiple of the jittered box's `sqrt(w * h)` (`FACTOR`).
    #[serde(rename = "FACTOR")]
    pub factor: f64,
    /// Centre jitter as a multiple of the box's `sqrt(w * h)` (`CENTER_JITTER`).
    #[serde(rename = "CENTER_JITTER")]
    pub center_jitter: f64,
    /// Standard deviation of the log-scale jitter (`SCALE_JITTER`).
    #[serde(rename = "SCALE_JITTER")]
    pub scale_jitter: f64,
}

/// `DATA.TEMPLATE`: the template crops and their jitter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// Side of the crop after resizing, in pixels (`SIZE`).
    #[serde(rename = "SIZE")]
    pub size: usize,
    /// Crop side as a multiple of the jittered box's `sqrt(w * h)` (`FACTOR`).
    #[serde(rename = "FACTOR")]
    pub factor: f64,
    /// Templates per sample: the first template plus one online template (`NUMBER`, always 2).
    #[serde(rename = "NUMBER")]
    pub number: usize,
    /// Centre jitter as a multiple of the box's `sqrt(w * h)` (`CENTER_JITTER`).
    #[serde(rename = "CENTER_JITTER")]
    pub center_jitter: f64,
    /// Standard deviation of the log-scale jitter (`SCALE_JITTER`).
    #[serde(rename = "SCALE_JITTER")]
    pub scale_jitter: f64,
}
