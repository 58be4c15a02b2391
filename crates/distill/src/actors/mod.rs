//! Actors: one per training stage, each owning the forward pass and the losses
//! of its stage, so that the trainer contains no distillation logic.
//!
//! The trainer owns the student and its optimiser; an actor receives the
//! student for each batch, runs its own teacher (if any) without gradients and
//! in inference mode, and returns the loss to minimise with the named
//! statistics the log line reports.

mod common;
mod deep_to_shallow;
mod dense_to_sparse;
mod score;
mod teacher_training;

use burn::tensor::{Device, Tensor};
use mixformer_model_vit::MixFormer;

use crate::DistillError;

pub use common::BoxLossWeights;
pub use deep_to_shallow::{DeepToShallowActor, DeepToShallowSettings};
pub use dense_to_sparse::DenseToSparseActor;
pub use score::ScoreActor;
pub use teacher_training::TeacherTrainingActor;

/// One batch on the training device.
#[derive(Debug, Clone)]
pub struct TrainBatch {
    /// First template images, `[B, 3, T, T]`.
    pub template: Tensor<4>,
    /// Online template images, `[B, 3, T, T]`.
    pub online_template: Tensor<4>,
    /// Search images, `[B, 3, S, S]`.
    pub search: Tensor<4>,
    /// Ground-truth boxes in the search crop, `(x, y, w, h)` normalised to the
    /// crop, `[B, 4]`.
    pub search_anno: Tensor<2>,
    /// Score-stage labels (1 for a positive pair, 0 for a negative), `[B]`.
    pub label: Option<Tensor<1>>,
}

/// What an actor returns for one batch.
#[derive(Debug, Clone)]
pub struct ActorOutput {
    /// The scalar loss to minimise, `[1]`, on the student's autodiff graph.
    pub loss: Tensor<1>,
    /// Named statistics for the log line, in display order (`Loss/total`,
    /// `Loss/giou`, `Loss/l1`, `Loss/kl`, `Loss/feat`, `IoU`, `IoU_teacher`,
    /// `remove_rate`, ...).
    pub stats: Vec<(String, f64)>,
}

/// The forward pass and losses of one training stage.
pub trait Actor: Send + Sync {
    /// Runs the student (and the teacher, if any) on a batch. `epoch` is 1-based
    /// and drives epoch-dependent terms such as the remove rate.
    fn forward(
        &self,
        student: &MixFormer,
        batch: &TrainBatch,
        epoch: usize,
    ) -> Result<ActorOutput, DistillError>;

    /// Name of the actor, written into checkpoints as `actor_type`.
    fn name(&self) -> &'static str;

    /// Returns a copy of this actor whose teacher, if any, lives on `device`,
    /// for data-parallel training over several devices.
    fn replicate(&self, device: &Device) -> Box<dyn Actor>;
}
