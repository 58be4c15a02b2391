//! The training loop of every MixFormer stage.
//!
//! [`stage::build_stage`] turns an experiment config into a student, an
//! actor and the list of frozen parameters; [`Trainer`] runs the epochs:
//! AdamW over a head group and a backbone group ([`GroupedAdamW`]), the
//! `step` or `Mstep` schedule ([`LrSchedule`]), global-norm gradient
//! clipping ([`clip_global_norm`]), validation, the reference's log line,
//! checkpoints in the PyTorch trainers' layout and resume from the latest one.
//! [`experiment_data`] builds the loaders from the config's `DATA` section.
//!
//! The crate uses `mixformer-config`, `mixformer-data`, `mixformer-model-vit`,
//! `mixformer-distill` and `mixformer-layer-surgery`; the backend is the
//! `Device` it is given.

mod adamw_cpu;
pub mod batch;
pub mod clip;
pub mod data;
mod error;
pub mod logbook;
pub mod optimizer;
mod parallel;
pub mod params;
pub mod schedule;
pub mod stage;
pub mod stats;
pub mod trainer;

pub use batch::to_train_batch;
pub use clip::{clip_global_norm, global_norm};
pub use data::{BatchSource, ExperimentData, experiment_data};
pub use error::TrainError;
pub use optimizer::{GroupRates, GroupedAdamW};
pub use params::{Group, ParamInfo, param_table};
pub use schedule::LrSchedule;
pub use trainer::{StepTimes, TrainSummary, Trainer, TrainerSettings, epoch_seed};
