//! Stage 1, dense-to-sparse distillation: a corner-head teacher teaches the
//! prediction-token student through its marginalised corner maps.

use burn::tensor::Device;
use mixformer_model_vit::{BoxHead, HeadOutput, MixFormer};

use super::common::{
    BoxLossWeights, BoxTerms, Teacher, as_constant, check_batch, head_name, output_name, read_stats,
};
use super::{Actor, ActorOutput, TrainBatch};
use crate::{CornerMaps, DistillError, SideDistributions, corner_kl_loss};

const NAME: &str = "DenseToSparseActor";
const CORNER_HEAD: &str = "a corner head (CORNER or CORNER_UP)";
const DISTRIBUTION_HEAD: &str = "a distribution head (MLP)";

/// Distils a `mixformer_vit` teacher into a `mixformer2_vit` student.
///
/// Loss: `IOU_WEIGHT · ciou + L1_WEIGHT · l1` of the student's boxes against
/// the ground truth plus `CORNER_WEIGHT · KL`, where the KL divergence compares
/// the teacher's corner maps, marginalised to the four sides, with the
/// student's side logits. The teacher's map must have the student's
/// `MODEL.FEAT_SZ` cells per side. Statistics: `Loss/total`, `Loss/giou`,
/// `Loss/l1`, `Loss/kl`, `IoU`, `IoU_teacher`.
#[derive(Debug)]
pub struct DenseToSparseActor {
    teacher: Teacher,
    weights: BoxLossWeights,
    corner_weight: f64,
}

impl DenseToSparseActor {
    /// Creates the actor around a corner-head `teacher`, which it moves to the
    /// plain device in evaluation mode.
    ///
    /// # Errors
    ///
    /// [`DistillError::HeadMismatch`] if the teacher has no corner head.
    pub fn new(
        teacher: MixFormer,
        weights: BoxLossWeights,
        corner_weight: f64,
    ) -> Result<Self, DistillError> {
        if !matches!(teacher.box_head, BoxHead::Corner(_)) {
            return Err(DistillError::HeadMismatch {
                actor: NAME,
                role: "teacher",
                expected: CORNER_HEAD,
                found: head_name(&teacher.box_head),
            });
        }
        Ok(Self {
            teacher: Teacher::new(teacher),
            weights,
            corner_weight,
        })
    }

    /// Returns the teacher in the inference mode the actor runs it in.
    pub fn teacher(&self) -> &MixFormer {
        self.teacher.model()
    }
}

impl Actor for DenseToSparseActor {
    fn forward(
        &self,
        student: &MixFormer,
        batch: &TrainBatch,
        _epoch: usize,
    ) -> Result<ActorOutput, DistillError> {
        check_batch(NAME, batch)?;

        // Student, on the training graph
        let output = student.forward_heads(
            batch.template.clone(),
            batch.online_template.clone(),
            batch.search.clone(),
            None,
        );
        let HeadOutput::Distribution(sides) = output.head else {
            return Err(DistillError::HeadMismatch {
                actor: NAME,
                role: "student",
                expected: DISTRIBUTION_HEAD,
                found: output_name(&output.head),
            });
        };

        // Teacher, without gradients
        let teacher_output = self.teacher.forward_heads(batch);
        let HeadOutput::Corner(corners) = teacher_output.head else {
            return Err(DistillError::HeadMismatch {
                actor: NAME,
                role: "teacher",
                expected: CORNER_HEAD,
                found: output_name(&teacher_output.head),
            });
        };
        let teacher_maps = CornerMaps {
            prob_tl: as_constant(corners.prob_tl, batch),
            prob_br: as_constant(corners.prob_br, batch),
        };
        let teacher_boxes = as_constant(corners.boxes, batch);

        // Losses
        let boxes = BoxTerms::new(sides.boxes.clone(), &batch.search_anno)?;
        let student_logits = SideDistributions {
            left: sides.left,
            right: sides.right,
            top: sides.top,
            bottom: sides.bottom,
        };
        let kl = corner_kl_loss(teacher_maps, student_logits)?;
        let loss = boxes.weighted(self.weights) + kl.clone().mul_scalar(self.corner_weight);

        let teacher_iou = boxes.mean_iou_of(teacher_boxes)?;
        let stats = read_stats(vec![
            ("Loss/total", loss.clone()),
            ("Loss/giou", boxes.ciou),
            ("Loss/l1", boxes.l1),
            ("Loss/kl", kl),
            ("IoU", boxes.mean_iou),
            ("IoU_teacher", teacher_iou),
        ]);
        Ok(ActorOutput { loss, stats })
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn replicate(&self, device: &Device) -> Box<dyn Actor> {
        Box::new(Self {
            teacher: self.teacher.to_device(device),
            weights: self.weights,
            corner_weight: self.corner_weight,
        })
    }
}
