//! Errors of the training loop.

use std::path::PathBuf;

use mixformer_data::DataError;
use mixformer_distill::DistillError;
use mixformer_layer_surgery::Error as CheckpointError;
use mixformer_model_vit::ModelError;
use thiserror::Error;

/// Why training stopped or could not start.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A setting that the loop cannot use.
    #[error("invalid training setting {name}: {message}")]
    InvalidSetting {
        /// The setting, spelt as in the experiment file where it comes from there.
        name: &'static str,
        /// What is wrong and what to change.
        message: String,
    },

    /// The data loader failed.
    #[error("epoch {epoch}, {phase} step {step}: loading the batch failed: {source}")]
    Data {
        epoch: usize,
        phase: &'static str,
        step: usize,
        #[source]
        source: Box<DataError>,
    },

    /// A batch whose arrays do not fit the model.
    #[error("epoch {epoch}, {phase} step {step}: {message}")]
    Batch {
        epoch: usize,
        phase: &'static str,
        step: usize,
        message: String,
    },

    /// The actor rejected a batch.
    #[error("epoch {epoch}, {phase} step {step}: the actor failed: {source}")]
    Actor {
        epoch: usize,
        phase: &'static str,
        step: usize,
        #[source]
        source: Box<DistillError>,
    },

    /// The loss became NaN or infinite.
    #[error(
        "epoch {epoch}, step {step} / {steps}: the loss is not finite ({terms}); training \
         stopped. {kept}. Lower TRAIN.LR or TRAIN.GRAD_CLIP_NORM, or check the data, then run \
         the same command again to resume from that checkpoint"
    )]
    NonFiniteLoss {
        epoch: usize,
        step: usize,
        steps: usize,
        /// Every statistic of the step, `name: value` separated by commas.
        terms: String,
        /// Which checkpoint is kept.
        kept: String,
    },

    /// Reading or writing a checkpoint failed.
    #[error("checkpoint: {0}")]
    Checkpoint(Box<CheckpointError>),

    /// Converting the weights failed.
    #[error("model weights: {0}")]
    Model(Box<ModelError>),

    /// A checkpoint to resume from does not fit the run.
    #[error("{path}: cannot resume: {message}")]
    Resume { path: PathBuf, message: String },

    /// Writing the log file failed.
    #[error("cannot write the log file {path}: {source}")]
    Log {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<CheckpointError> for TrainError {
    fn from(error: CheckpointError) -> Self {
        TrainError::Checkpoint(Box::new(error))
    }
}

impl From<ModelError> for TrainError {
    fn from(error: ModelError) -> Self {
        TrainError::Model(Box::new(error))
    }
}
