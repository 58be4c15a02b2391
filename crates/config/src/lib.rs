//! Typed experiment configs and local settings for MixFormer training and tracking.
//!
//! An experiment is a YAML file under `experiments/<script>/` laid over the
//! defaults of one of the reference's four training scripts ([`Script`]). The
//! keys keep the reference's spelling (`TRAIN.REMOVE_LAYERS`). An unknown key,
//! a key the script does not read, a wrong type or an impossible combination
//! is an error that names the file and the key path. [`ExperimentConfig`]
//! also resolves what later stages need: the network's sizes
//! ([`Architecture`]), the online-template update interval per dataset, the
//! remove rate of stage 2a and the paths of checkpoints and pretrained weights.
//!
//! Paths of a machine (dataset roots, output folders) live in a separate
//! `local.yaml` ([`LocalSettings`]), never in the experiments.
//!
//! This crate depends on no other crate of the project.
//!
//! ```no_run
//! use mixformer_config::{ExperimentConfig, Script};
//!
//! let config = ExperimentConfig::load(
//!     Script::Mixformer2VitStu,
//!     "experiments/mixformer2_vit_stu/student_288_depth12to8.yaml",
//! )?;
//! assert_eq!(config.train.remove_layers, [0, 3, 6, 9]);
//! assert_eq!(config.architecture().feat_sz, 72);
//! # Ok::<(), mixformer_config::ConfigError>(())
//! ```

#![warn(missing_docs)]

mod architecture;
mod data;
mod defaults;
mod error;
mod experiment;
mod keys;
mod model;
mod script;
mod settings;
mod tracking;
mod train;
mod validate;
mod values;

pub use architecture::Architecture;
pub use data::{
    DataConfig, DatasetName, DatasetsConfig, SamplerMode, SearchConfig, TemplateConfig,
};
pub use error::{ConfigError, Problem, SettingsError};
pub use experiment::ExperimentConfig;
pub use model::{BackboneConfig, HeadType, ModelConfig, PositionEmbedding, VitType};
pub use script::Script;
pub use settings::{
    Folder, LocalSettings, SETTINGS_ENV, settings_template, write_settings_template,
};
pub use tracking::TestConfig;
pub use train::{DistillLossType, Optimizer, SchedulerConfig, SchedulerType, TrainConfig};
