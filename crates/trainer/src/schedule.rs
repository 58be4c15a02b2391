//! Learning-rate schedules, stepped once after each epoch.

use mixformer_config::{SchedulerType, TrainConfig};

use crate::TrainError;

/// A learning-rate schedule as a factor of the base rates.
#[derive(Debug, Clone, PartialEq)]
pub enum LrSchedule {
    /// `TYPE: step`: times `gamma` every `every` epochs, as PyTorch's `StepLR`.
    Step {
        /// Epochs between drops (`TRAIN.LR_DROP_EPOCH`).
        every: usize,
        /// Factor of each drop (`TRAIN.SCHEDULER.GAMMA`, 0.1 by default, the
        /// factor of the reference's `StepLR`).
        gamma: f64,
    },
    /// `TYPE: Mstep`: times `gamma` after each milestone epoch, as PyTorch's `MultiStepLR`.
    MultiStep {
        /// Epochs after which the rate drops (`TRAIN.SCHEDULER.MILESTONES`).
        milestones: Vec<usize>,
        /// Factor of each drop (`TRAIN.SCHEDULER.GAMMA`).
        gamma: f64,
    },
}

impl LrSchedule {
    /// The schedule of a `TRAIN` section.
    pub fn from_config(train: &TrainConfig) -> Result<Self, TrainError> {
        let gamma = train.scheduler.gamma;
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(TrainError::InvalidSetting {
                name: "TRAIN.SCHEDULER.GAMMA",
                message: format!("{gamma} must be a positive number"),
            });
        }
        Ok(match train.scheduler.kind {
            SchedulerType::Step => {
                if train.lr_drop_epoch == 0 {
                    return Err(TrainError::InvalidSetting {
                        name: "TRAIN.LR_DROP_EPOCH",
                        message: "must be at least 1 for the step schedule".into(),
                    });
                }
                LrSchedule::Step {
                    every: train.lr_drop_epoch,
                    gamma,
                }
            }
            SchedulerType::MultiStep => LrSchedule::MultiStep {
                milestones: train.scheduler.milestones.clone(),
                gamma,
            },
        })
    }

    /// The factor of the base rates after `epochs_done` scheduler steps, that
    /// is during epoch `epochs_done + 1`.
    pub fn factor(&self, epochs_done: usize) -> f64 {
        let drops = match self {
            LrSchedule::Step { every, .. } => epochs_done / every,
            LrSchedule::MultiStep { milestones, .. } => milestones
                .iter()
                .filter(|&&milestone| milestone <= epochs_done)
                .count(),
        };
        let gamma = match self {
            LrSchedule::Step { gamma, .. } | LrSchedule::MultiStep { gamma, .. } => *gamma,
        };
        gamma.powi(drops as i32)
    }
}
