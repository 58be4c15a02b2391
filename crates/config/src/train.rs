//! The `TRAIN` section: optimiser, schedule, loss weights and layer removal.

use serde::{Deserialize, Serialize};

/// Optimiser (`TRAIN.OPTIMIZER`); the reference supports AdamW only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Optimizer {
    /// AdamW with betas (0.9, 0.999) and eps 1e-8.
    #[serde(rename = "ADAMW")]
    AdamW,
}

/// Logit distillation loss (`TRAIN.DISTILL_LOSS_TYPE`); only the KL divergence exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DistillLossType {
    /// KL(teacher || student) over the four side distributions.
    #[serde(rename = "KL")]
    Kl,
}

/// Learning-rate schedule (`TRAIN.SCHEDULER.TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchedulerType {
    /// Multiply by `GAMMA` every `TRAIN.LR_DROP_EPOCH` epochs.
    #[serde(rename = "step")]
    Step,
    /// Multiply by `GAMMA` at each epoch in `MILESTONES`.
    #[serde(rename = "Mstep")]
    MultiStep,
}

/// The `TRAIN` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Trains only the score head and samples positive and negative pairs
    /// (`TRAIN_SCORE`, true only in `mixformer2_vit_online`).
    #[serde(rename = "TRAIN_SCORE")]
    pub train_score: bool,
    /// Learning rate of the head parameters (`LR`).
    #[serde(rename = "LR")]
    pub lr: f64,
    /// AdamW weight decay, applied to every trained parameter (`WEIGHT_DECAY`).
    #[serde(rename = "WEIGHT_DECAY")]
    pub weight_decay: f64,
    /// Number of epochs (`EPOCH`).
    #[serde(rename = "EPOCH")]
    pub epoch: usize,
    /// Epochs between learning-rate drops of the `step` schedule (`LR_DROP_EPOCH`).
    #[serde(rename = "LR_DROP_EPOCH")]
    pub lr_drop_epoch: usize,
    /// Samples per step (`BATCH_SIZE`).
    #[serde(rename = "BATCH_SIZE")]
    pub batch_size: usize,
    /// Threads that build samples (`NUM_WORKER`).
    #[serde(rename = "NUM_WORKER")]
    pub num_worker: usize,
    /// Optimiser (`OPTIMIZER`).
    #[serde(rename = "OPTIMIZER")]
    pub optimizer: Optimizer,
    /// Learning rate of parameters named `backbone` as a multiple of `LR` (`BACKBONE_MULTIPLIER`).
    #[serde(rename = "BACKBONE_MULTIPLIER")]
    pub backbone_multiplier: f64,
    /// Weight of the CIoU loss (`IOU_WEIGHT`).
    #[serde(rename = "IOU_WEIGHT")]
    pub iou_weight: f64,
    /// Weight of the L1 box loss (`L1_WEIGHT`).
    #[serde(rename = "L1_WEIGHT")]
    pub l1_weight: f64,
    /// Weight of the score head's binary cross-entropy (`SCORE_WEIGHT`, score stage).
    #[serde(rename = "SCORE_WEIGHT")]
    pub score_weight: f64,
    /// Deep supervision (`DEEP_SUPERVISION`); not implemented, so it must be false.
    #[serde(rename = "DEEP_SUPERVISION")]
    pub deep_supervision: bool,
    /// Freezing of a CvT backbone's first stage (`FREEZE_STAGE0`); a ViT has no
    /// stages, so it must be false.
    #[serde(rename = "FREEZE_STAGE0")]
    pub freeze_stage0: bool,
    /// Steps between two log lines (`PRINT_INTERVAL`).
    #[serde(rename = "PRINT_INTERVAL")]
    pub print_interval: usize,
    /// Epochs between two validation passes (`VAL_EPOCH_INTERVAL`).
    #[serde(rename = "VAL_EPOCH_INTERVAL")]
    pub val_epoch_interval: usize,
    /// Largest global gradient norm (`GRAD_CLIP_NORM`).
    #[serde(rename = "GRAD_CLIP_NORM")]
    pub grad_clip_norm: f64,
    /// Ignored: the reference's training script sets `DISTILL` itself.
    #[serde(rename = "DISTILL")]
    pub distill: bool,
    /// Logit distillation loss (`DISTILL_LOSS_TYPE`).
    #[serde(rename = "DISTILL_LOSS_TYPE")]
    pub distill_loss_type: DistillLossType,
    /// Weight of the logit distillation loss (`CORNER_WEIGHT`, stages 1 and 2).
    #[serde(rename = "CORNER_WEIGHT")]
    pub corner_weight: f64,
    /// Ignored: the reference defines `ATTN_WEIGHT` but never reads it.
    #[serde(rename = "ATTN_WEIGHT")]
    pub attn_weight: f64,
    /// Weight of the feature distillation loss (`FEAT_WEIGHT`, read by
    /// `mixformer2_vit_stu` only; the other scripts accept it and ignore it).
    #[serde(rename = "FEAT_WEIGHT")]
    pub feat_weight: f64,
    /// Ignored: the reference defines `TEACHER_MODEL` but never reads it.
    #[serde(rename = "TEACHER_MODEL")]
    pub teacher_model: bool,
    /// Ignored: a setting of PyTorch's `DistributedDataParallel` (`FIND_UNUSED_PARAMETERS`).
    #[serde(rename = "FIND_UNUSED_PARAMETERS")]
    pub find_unused_parameters: bool,
    /// Ignored: the reference defines `DISTILL_LAYER` but never reads it.
    #[serde(rename = "DISTILL_LAYER")]
    pub distill_layer: usize,
    /// Blocks whose residual branches are scaled by the remove rate and
    /// frozen in stage 2a (`REMOVE_LAYERS`).
    #[serde(rename = "REMOVE_LAYERS")]
    pub remove_layers: Vec<usize>,
    /// Blocks of the starting checkpoint that are dropped before loading,
    /// the rest renumbered densely (`INVALID_LAYERS`, stage 2b).
    #[serde(rename = "INVALID_LAYERS")]
    pub invalid_layers: Vec<usize>,
    /// Student blocks whose outputs are compared with the teacher's (`DISTILL_LAYERS_STUDENT`).
    #[serde(rename = "DISTILL_LAYERS_STUDENT")]
    pub distill_layers_student: Vec<usize>,
    /// Teacher blocks paired with `DISTILL_LAYERS_STUDENT`, in the same order
    /// (`DISTILL_LAYERS_TEACHER`).
    #[serde(rename = "DISTILL_LAYERS_TEACHER")]
    pub distill_layers_teacher: Vec<usize>,
    /// Epochs over which the remove rate falls from 1 to 0 (`REMOVE_EPOCHS`).
    /// The reference hard-codes 40.
    #[serde(rename = "REMOVE_EPOCHS")]
    pub remove_epochs: usize,
    /// The `TRAIN.SCHEDULER` section.
    #[serde(rename = "SCHEDULER")]
    pub scheduler: SchedulerConfig,
}

impl TrainConfig {
    /// Computes the remove rate `r` of the blocks in `REMOVE_LAYERS` for a 1-based epoch.
    ///
    /// `r(e) = 0.5 * (1 + cos(pi * min(e + 1, E) / E))` with `E = REMOVE_EPOCHS`,
    /// as in the reference's trainer; it is 0 from epoch `E - 1` on. Without
    /// layers to remove the rate is 1.
    pub fn remove_rate(&self, epoch: usize) -> f64 {
        if self.remove_layers.is_empty() || self.remove_epochs == 0 {
            return 1.0;
        }
        let horizon = self.remove_epochs as f64;
        let progress = (epoch + 1).min(self.remove_epochs) as f64 / horizon;
        0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

/// The `TRAIN.SCHEDULER` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Schedule (`TYPE`).
    #[serde(rename = "TYPE")]
    pub kind: SchedulerType,
    /// Ignored: the reference's `step` schedule never reads `DECAY_RATE`
    /// (the published files set it to 400 or 0.1); the factor is `GAMMA`.
    #[serde(rename = "DECAY_RATE")]
    pub decay_rate: f64,
    /// Epochs after which an `Mstep` schedule drops the learning rate (`MILESTONES`).
    #[serde(rename = "MILESTONES")]
    pub milestones: Vec<usize>,
    /// Factor applied to the learning rate at each drop (`GAMMA`, both schedules).
    #[serde(rename = "GAMMA")]
    pub gamma: f64,
}
