//! The training and validation batches of an experiment, from its `DATA` and
//! `TRAIN` sections and the dataset folders of the local settings.

use std::path::Path;
use std::sync::Arc;

use mixformer_config::{DatasetName, DatasetsConfig, ExperimentConfig, Folder, LocalSettings};
use mixformer_data::{
    AugmentationParams, Batch, Coco, CropParams, DataError, DataLoader, DatasetRoots, LoaderParams,
    Normalization, Otb, ProcessingParams, SamplerMode, SamplerParams, TrackingDataset,
    TrackingSampler, Uav123, Vot, open_datasets,
};

use crate::TrainError;

/// Batches to prefetch ahead of the training loop.
const PREFETCH_BATCHES: usize = 2;

/// Probability of a positive pair in the score stage, as in the reference.
const POSITIVE_PROBABILITY: f64 = 0.5;

/// UAV123 subsets tried in order when `UAV123` is named.
const UAV123_SUBSETS: [&str; 3] = ["UAV123", "UAV123_10fps", "UAV123_20L"];

/// Where the batches of an epoch come from.
pub trait BatchSource: Send + Sync {
    /// Steps of one epoch.
    fn steps_per_epoch(&self) -> usize;

    /// The batches of `epoch` (1-based), in order.
    fn epoch(&self, epoch: usize) -> Box<dyn Iterator<Item = Result<Batch, DataError>> + '_>;
}

impl BatchSource for DataLoader {
    fn steps_per_epoch(&self) -> usize {
        self.batches_per_epoch()
    }

    fn epoch(&self, epoch: usize) -> Box<dyn Iterator<Item = Result<Batch, DataError>> + '_> {
        Box::new(DataLoader::epoch(self, epoch as u64))
    }
}

/// The loaders of one experiment.
pub struct ExperimentData {
    /// Batches of `DATA.TRAIN`, with augmentation.
    pub train: DataLoader,
    /// Batches of `DATA.VAL`, without augmentation.
    pub val: DataLoader,
}

/// Builds the training and validation loaders of `config`, with every random
/// choice derived from `seed`.
pub fn experiment_data(
    config: &ExperimentConfig,
    settings: &LocalSettings,
    seed: u64,
) -> Result<ExperimentData, TrainError> {
    let train = loader(config, settings, &config.data.train, true, seed)?;
    let val = loader(config, settings, &config.data.val, false, seed)?;
    Ok(ExperimentData { train, val })
}

fn loader(
    config: &ExperimentConfig,
    settings: &LocalSettings,
    datasets: &DatasetsConfig,
    training: bool,
    seed: u64,
) -> Result<DataLoader, TrainError> {
    let data_error = |source: DataError| TrainError::Data {
        epoch: 0,
        phase: if training { "train" } else { "val" },
        step: 0,
        source: Box::new(source),
    };
    let opened = datasets
        .datasets_name
        .iter()
        .map(|&name| open_dataset(name, settings))
        .collect::<Result<Vec<_>, _>>()?;

    let data = &config.data;
    let crop = |size, factor: f64, center: f64, scale: f64| CropParams {
        size,
        factor: factor as f32,
        center_jitter: center as f32,
        scale_jitter: scale as f32,
    };
    let processing = ProcessingParams {
        template: crop(
            data.template.size,
            data.template.factor,
            data.template.center_jitter,
            data.template.scale_jitter,
        ),
        search: crop(
            data.search.size,
            data.search.factor,
            data.search.center_jitter,
            data.search.scale_jitter,
        ),
        normalization: Normalization {
            mean: data.mean.map(|value| value as f32),
            std: data.std.map(|value| value as f32),
        },
        augmentation: training.then(AugmentationParams::default),
        token_stride: config.architecture().patch_size,
    };

    let mode = match data.sampler_mode {
        mixformer_config::SamplerMode::Causal => SamplerMode::Causal,
        mixformer_config::SamplerMode::Trident => SamplerMode::Trident,
        mixformer_config::SamplerMode::TridentPro => SamplerMode::TridentPro,
        mixformer_config::SamplerMode::Stark => SamplerMode::Stark,
    };
    let templates = data.template.number;
    let intervals = match mode {
        SamplerMode::Causal => vec![data.max_sample_interval],
        _ => vec![data.max_sample_interval; templates.saturating_sub(1).max(1)],
    };
    let mut params = SamplerParams::new(
        mode,
        intervals,
        templates,
        datasets.datasets_ratio.clone(),
        seed,
    );
    if config.train.train_score {
        params.positive_probability = Some(POSITIVE_PROBABILITY);
    }
    let sampler = TrackingSampler::new(opened, params, processing).map_err(data_error)?;
    let loader_params = LoaderParams {
        batch_size: config.train.batch_size,
        samples_per_epoch: datasets.sample_per_epoch,
        num_workers: config.train.num_worker.max(1),
        prefetch_batches: PREFETCH_BATCHES,
    };
    DataLoader::new(Arc::new(sampler), loader_params).map_err(data_error)
}

/// Opens one dataset named in `DATASETS_NAME` from its folder in the local settings.
fn open_dataset(
    name: DatasetName,
    settings: &LocalSettings,
) -> Result<Arc<dyn TrackingDataset>, TrainError> {
    let root = settings
        .folder(Folder::for_dataset(name))
        .map_err(|error| TrainError::InvalidSetting {
            name: "DATA.*.DATASETS_NAME",
            message: format!("{name} is requested: {error}"),
        })?;
    let opened: Result<Arc<dyn TrackingDataset>, DataError> = match name {
        DatasetName::Coco17Val => Coco::open(root, "val2017").map(|d| Arc::new(d) as _),
        DatasetName::Otb => Otb::open(root).map(|d| Arc::new(d) as _),
        DatasetName::Vot => Vot::open(root).map(|d| Arc::new(d) as _),
        DatasetName::Uav123 => open_uav123(root),
        _ => {
            let roots = training_roots(name, root);
            open_datasets(&[name.as_str()], &roots).and_then(|mut opened| {
                opened.pop().ok_or_else(|| DataError::InvalidParameter {
                    name: "DATASETS_NAME",
                    message: format!("{name} opened no dataset"),
                })
            })
        }
    };
    opened.map_err(|source| TrainError::Data {
        epoch: 0,
        phase: "open",
        step: 0,
        source: Box::new(source),
    })
}

fn training_roots(name: DatasetName, root: &Path) -> DatasetRoots {
    let mut roots = DatasetRoots::default();
    match name {
        DatasetName::Lasot => roots.lasot = Some(root.to_owned()),
        DatasetName::TrackingNet => roots.trackingnet = Some(root.to_owned()),
        DatasetName::Coco17 => roots.coco = Some(root.to_owned()),
        _ => roots.got10k = Some(root.to_owned()),
    }
    roots
}

/// Opens the first UAV123 subset found under `root`.
fn open_uav123(root: &Path) -> Result<Arc<dyn TrackingDataset>, DataError> {
    let subset = UAV123_SUBSETS
        .iter()
        .find(|subset| root.join("anno").join(subset).is_dir())
        .copied()
        .unwrap_or(UAV123_SUBSETS[0]);
    Ok(Arc::new(Uav123::open(root, subset)?))
}
