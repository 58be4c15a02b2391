//! Stage 2, deep-to-shallow distillation: a prediction-token teacher teaches a
//! student whose blocks in `TRAIN.REMOVE_LAYERS` fade out (2a) or that has
//! already lost them (2b).

use burn::tensor::{Device, Tensor};
use mixformer_model_vit::{BoxHead, HeadOutput, MixFormer};

use super::common::{
    BoxLossWeights, BoxTerms, Teacher, as_constant, check_batch, head_name, output_name, read_stats,
};
use super::{Actor, ActorOutput, TrainBatch};
use crate::{DistillError, RemoveRateSchedule, SideDistributions, feature_mse_loss, side_kl_loss};

const NAME: &str = "DeepToShallowActor";
const DISTRIBUTION_HEAD: &str = "a distribution head (MLP)";

/// The experiment values that steer [`DeepToShallowActor`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeepToShallowSettings {
    /// Box regression weights.
    pub box_weights: BoxLossWeights,
    /// Weight of the logit distillation (`TRAIN.CORNER_WEIGHT`).
    pub corner_weight: f64,
    /// Weight of the feature distillation (`TRAIN.FEAT_WEIGHT`).
    pub feat_weight: f64,
    /// Student blocks whose outputs are distilled (`TRAIN.DISTILL_LAYERS_STUDENT`).
    pub distill_layers_student: Vec<usize>,
    /// Teacher blocks paired with them (`TRAIN.DISTILL_LAYERS_TEACHER`).
    pub distill_layers_teacher: Vec<usize>,
    /// Student blocks scaled by the remove rate (`TRAIN.REMOVE_LAYERS`); empty in stage 2b.
    pub remove_layers: Vec<usize>,
    /// Remove rate per epoch (`TRAIN.REMOVE_EPOCHS`).
    pub schedule: RemoveRateSchedule,
}

/// Distils a `mixformer2_vit` teacher into a `mixformer2_vit_stu` student.
///
/// Loss: `IOU_WEIGHT · ciou + L1_WEIGHT · l1` against the ground truth,
/// `CORNER_WEIGHT · KL` between the teacher's side probabilities and the
/// student's side logits, and `FEAT_WEIGHT · MSE` between the student blocks
/// `DISTILL_LAYERS_STUDENT` and the teacher blocks `DISTILL_LAYERS_TEACHER`.
/// In stage 2a the residual branches of the `REMOVE_LAYERS` blocks are scaled by
/// the remove rate `r(epoch)`, every other block by 1. Without distilled layers
/// the feature term is 0. Statistics: `Loss/total`, `Loss/giou`, `Loss/l1`,
/// `Loss/kl`, `Loss/feat`, `IoU`, `IoU_teacher`, `remove_rate` (1 when no block
/// is being removed).
#[derive(Debug)]
pub struct DeepToShallowActor {
    teacher: Teacher,
    settings: DeepToShallowSettings,
}

impl DeepToShallowActor {
    /// Creates the actor around a prediction-token `teacher`, which it moves to
    /// the plain device in evaluation mode.
    ///
    /// # Errors
    ///
    /// - [`DistillError::HeadMismatch`] if the teacher has no distribution head.
    /// - [`DistillError::LayerCountMismatch`] if the distilled layer lists differ in length.
    /// - [`DistillError::NoLayers`] if `FEAT_WEIGHT` is not 0 but no layers are listed.
    /// - [`DistillError::LayerOutOfRange`] if a teacher layer is past the teacher's depth.
    pub fn new(teacher: MixFormer, settings: DeepToShallowSettings) -> Result<Self, DistillError> {
        if !matches!(teacher.box_head, BoxHead::Distribution(_)) {
            return Err(DistillError::HeadMismatch {
                actor: NAME,
                role: "teacher",
                expected: DISTRIBUTION_HEAD,
                found: head_name(&teacher.box_head),
            });
        }
        let student_layers = settings.distill_layers_student.len();
        let teacher_layers = settings.distill_layers_teacher.len();
        if student_layers != teacher_layers {
            return Err(DistillError::LayerCountMismatch {
                student: student_layers,
                teacher: teacher_layers,
            });
        }
        if student_layers == 0 && settings.feat_weight != 0.0 {
            return Err(DistillError::NoLayers);
        }
        let depth = teacher.depth();
        if let Some(&index) = settings
            .distill_layers_teacher
            .iter()
            .find(|&&index| index >= depth)
        {
            return Err(DistillError::LayerOutOfRange {
                role: "teacher",
                index,
                available: depth,
            });
        }
        Ok(Self {
            teacher: Teacher::new(teacher),
            settings,
        })
    }

    /// Returns the teacher in the inference mode the actor runs it in.
    pub fn teacher(&self) -> &MixFormer {
        self.teacher.model()
    }

    /// Computes the remove rate of 1-based `epoch`: the schedule's value while
    /// blocks are being removed, 1 otherwise.
    ///
    /// # Errors
    ///
    /// [`DistillError::EpochZero`] for epoch 0.
    pub fn remove_rate(&self, epoch: usize) -> Result<f64, DistillError> {
        if epoch == 0 {
            return Err(DistillError::EpochZero);
        }
        if self.settings.remove_layers.is_empty() {
            return Ok(1.0);
        }
        let epoch = u32::try_from(epoch).unwrap_or(u32::MAX);
        self.settings.schedule.rate(epoch)
    }

    /// Residual scale of each of the student's `depth` blocks at `rate`.
    fn block_rates(&self, depth: usize, rate: f64) -> Result<Vec<f64>, DistillError> {
        let mut rates = vec![1.0; depth];
        for &index in &self.settings.remove_layers {
            let slot = rates
                .get_mut(index)
                .ok_or(DistillError::RemoveLayerOutOfRange {
                    actor: NAME,
                    index,
                    depth,
                })?;
            *slot = rate;
        }
        Ok(rates)
    }

    /// Computes the feature-distillation term, `[1]`, which is 0 when no layers are distilled.
    fn feature_loss(
        &self,
        student_blocks: &[Tensor<3>],
        teacher_blocks: Vec<Tensor<3>>,
        batch: &TrainBatch,
    ) -> Result<Tensor<1>, DistillError> {
        let settings = &self.settings;
        if settings.distill_layers_student.is_empty() {
            return Ok(Tensor::zeros([1], &batch.search.device()));
        }
        let teacher_blocks: Vec<_> = teacher_blocks
            .into_iter()
            .map(|block| as_constant(block, batch))
            .collect();
        feature_mse_loss(
            student_blocks,
            &teacher_blocks,
            &settings.distill_layers_student,
            &settings.distill_layers_teacher,
        )
    }
}

impl Actor for DeepToShallowActor {
    fn forward(
        &self,
        student: &MixFormer,
        batch: &TrainBatch,
        epoch: usize,
    ) -> Result<ActorOutput, DistillError> {
        check_batch(NAME, batch)?;
        let remove_rate = self.remove_rate(epoch)?;
        let rates = self.block_rates(student.depth(), remove_rate)?;

        // Student, with the removed blocks scaled
        let output = student.forward(
            batch.template.clone(),
            batch.online_template.clone(),
            batch.search.clone(),
            Some(&rates),
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
        let teacher_output = self.teacher.forward(batch);
        let HeadOutput::Distribution(teacher_sides) = &teacher_output.head else {
            return Err(DistillError::HeadMismatch {
                actor: NAME,
                role: "teacher",
                expected: DISTRIBUTION_HEAD,
                found: output_name(&teacher_output.head),
            });
        };
        let [left, top, right, bottom] = teacher_sides
            .probabilities()
            .map(|side| as_constant(side, batch));
        let teacher_probabilities = SideDistributions {
            left,
            right,
            top,
            bottom,
        };
        let teacher_boxes = as_constant(teacher_sides.boxes.clone(), batch);

        // Losses
        let boxes = BoxTerms::new(sides.boxes.clone(), &batch.search_anno)?;
        let student_logits = SideDistributions {
            left: sides.left,
            right: sides.right,
            top: sides.top,
            bottom: sides.bottom,
        };
        let kl = side_kl_loss(teacher_probabilities, student_logits)?;
        let feat = self.feature_loss(&output.block_outputs, teacher_output.block_outputs, batch)?;
        let loss = boxes.weighted(self.settings.box_weights)
            + kl.clone().mul_scalar(self.settings.corner_weight)
            + feat.clone().mul_scalar(self.settings.feat_weight);

        let teacher_iou = boxes.mean_iou_of(teacher_boxes)?;
        let mut stats = read_stats(vec![
            ("Loss/total", loss.clone()),
            ("Loss/giou", boxes.ciou),
            ("Loss/l1", boxes.l1),
            ("Loss/kl", kl),
            ("Loss/feat", feat),
            ("IoU", boxes.mean_iou),
            ("IoU_teacher", teacher_iou),
        ]);
        stats.push(("remove_rate".to_owned(), remove_rate));
        Ok(ActorOutput { loss, stats })
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn replicate(&self, device: &Device) -> Box<dyn Actor> {
        Box::new(Self {
            teacher: self.teacher.to_device(device),
            settings: self.settings.clone(),
        })
    }
}
