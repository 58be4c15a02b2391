//! Losses and schedules of the MixFormer distillation stages, as functions on burn tensors.
//!
//! - [`boxes`]: conversions between `(cx, cy, w, h)`, `(x, y, w, h)` and `(x1, y1, x2, y2)`.
//! - [`ciou`] and [`l1`]: box regression losses, with the per-pair IoU for the `IoU` statistic.
//! - [`kl`] and [`corner`]: logit distillation, `KL(teacher ‖ student)` over the four box sides,
//!   from a prediction-token teacher (stage 2) or a corner-head teacher (stage 1).
//! - [`feature`]: feature distillation between chosen block outputs.
//! - [`bce`]: the score head's loss.
//! - [`schedule`]: the remove rate of progressive layer removal.
//! - [`actors`]: one actor per training stage, owning its forward pass and losses.
//!
//! Every loss checks its input shapes and returns [`DistillError`] on a mismatch. The losses
//! depend on `burn` alone and the actors also on `mixformer-model-vit`. Backends are chosen
//! by the tensors' device.

pub mod actors;
pub mod bce;
pub mod boxes;
mod check;
pub mod ciou;
pub mod corner;
mod error;
pub mod feature;
pub mod kl;
pub mod l1;
pub mod schedule;

#[cfg(test)]
mod test_util;

pub use actors::{Actor, ActorOutput, TrainBatch};
pub use bce::bce_with_logits_loss;
pub use boxes::{
    box_cxcywh_to_xyxy, box_xywh_to_xyxy, box_xyxy_to_cxcywh, clamp_boxes_to_unit,
    ground_truth_to_xyxy,
};
pub use ciou::{CIOU_EPSILON, CiouLoss, ciou_loss};
pub use corner::{CornerMaps, corner_kl_loss, marginalise_corner_maps};
pub use error::DistillError;
pub use feature::feature_mse_loss;
pub use kl::{SideDistributions, kl_div_loss, side_kl_loss};
pub use l1::l1_loss;
pub use schedule::{DEFAULT_REMOVAL_EPOCHS, RemoveRateSchedule};
