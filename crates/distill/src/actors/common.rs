//! Pieces shared by the actors: the box losses against the ground truth, the
//! teacher held for inference, the batch checks and the reading of statistics.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use mixformer_model_vit::{BoxHead, HeadOutput, HeadsOutput, MixFormer, ModelOutput};

use super::TrainBatch;
use crate::{CiouLoss, DistillError, ciou_loss, ground_truth_to_xyxy, l1_loss};

/// Weights of the two box regression terms (`TRAIN.IOU_WEIGHT`, `TRAIN.L1_WEIGHT`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxLossWeights {
    /// Weight of the CIoU loss (2.0 in every published experiment).
    pub iou: f64,
    /// Weight of the L1 loss (5.0 in every published experiment).
    pub l1: f64,
}

/// The student's box regression terms against the ground truth.
pub(crate) struct BoxTerms {
    /// `mean(1 − ciou)`, `[1]`.
    pub ciou: Tensor<1>,
    /// Mean absolute coordinate error, `[1]`.
    pub l1: Tensor<1>,
    /// Mean IoU of the batch, `[1]`, without gradient.
    pub mean_iou: Tensor<1>,
    /// The ground truth as `(x1, y1, x2, y2)` clamped to the crop, `[B, 4]`.
    pub target: Tensor<2>,
}

impl BoxTerms {
    /// Computes CIoU and L1 between `predicted` `(x1, y1, x2, y2)` boxes and the
    /// batch's `(x, y, w, h)` ground truth.
    pub fn new(predicted: Tensor<2>, search_anno: &Tensor<2>) -> Result<Self, DistillError> {
        let target = ground_truth_to_xyxy(search_anno.clone())?;
        let CiouLoss { loss, iou } = ciou_loss(predicted.clone(), target.clone())?;
        let l1 = l1_loss(predicted, target.clone())?;
        Ok(Self {
            ciou: loss,
            l1,
            mean_iou: iou.mean(),
            target,
        })
    }

    /// `IOU_WEIGHT · ciou + L1_WEIGHT · l1`.
    pub fn weighted(&self, weights: BoxLossWeights) -> Tensor<1> {
        self.ciou.clone().mul_scalar(weights.iou) + self.l1.clone().mul_scalar(weights.l1)
    }

    /// Mean IoU of other boxes (the teacher's) against the same ground truth, `[1]`.
    pub fn mean_iou_of(&self, boxes: Tensor<2>) -> Result<Tensor<1>, DistillError> {
        Ok(ciou_loss(boxes, self.target.clone())?.iou.mean())
    }
}

/// A teacher network held for inference only.
///
/// The model lives on the plain (non-autodiff) device in evaluation mode, so
/// its batch norms use their running statistics, stochastic depth is off and no
/// graph is recorded. Its outputs re-enter the student's graph as constants.
#[derive(Debug)]
pub(crate) struct Teacher {
    model: MixFormer,
}

impl Teacher {
    /// Puts `model` into evaluation mode on the plain device.
    pub fn new(model: MixFormer) -> Self {
        Self {
            model: model.valid(),
        }
    }

    pub fn model(&self) -> &MixFormer {
        &self.model
    }

    /// Copies the teacher onto `device`.
    pub fn to_device(&self, device: &Device) -> Self {
        Self {
            model: self.model.clone().to_device(device),
        }
    }

    /// Runs the teacher on plain copies of the batch images.
    pub fn forward(&self, batch: &TrainBatch) -> ModelOutput {
        self.model.forward(
            batch.template.clone().inner(),
            batch.online_template.clone().inner(),
            batch.search.clone().inner(),
            None,
        )
    }

    /// Runs the teacher like [`Self::forward`] but returns the head outputs
    /// only, for the stages that read nothing else.
    pub fn forward_heads(&self, batch: &TrainBatch) -> HeadsOutput {
        self.model.forward_heads(
            batch.template.clone().inner(),
            batch.online_template.clone().inner(),
            batch.search.clone().inner(),
            None,
        )
    }
}

/// Moves a teacher output onto the student's graph as a constant: onto the
/// autodiff device when the batch is there, without requiring a gradient.
pub(crate) fn as_constant<const D: usize>(tensor: Tensor<D>, batch: &TrainBatch) -> Tensor<D> {
    if batch.search.is_autodiff() {
        tensor.autodiff()
    } else {
        tensor
    }
}

/// Names a box head for error messages.
pub(crate) fn head_name(head: &BoxHead) -> &'static str {
    match head {
        BoxHead::Corner(_) => "a corner head (CORNER or CORNER_UP)",
        BoxHead::Distribution(_) => "a distribution head (MLP)",
    }
}

/// Names a head output for error messages.
pub(crate) fn output_name(head: &HeadOutput) -> &'static str {
    match head {
        HeadOutput::Corner(_) => "a corner head (CORNER or CORNER_UP)",
        HeadOutput::Distribution(_) => "a distribution head (MLP)",
    }
}

/// Checks that every input of the batch has the same, non-zero number of
/// samples and that the two templates have the same shape, so that a bad batch
/// is reported by name instead of failing inside the model.
pub(crate) fn check_batch(actor: &'static str, batch: &TrainBatch) -> Result<(), DistillError> {
    let search_shape = batch.search.dims();
    let samples = search_shape[0];
    if samples == 0 {
        return Err(DistillError::Empty {
            function: actor,
            input: "search images",
            shape: search_shape.to_vec(),
        });
    }
    let template_shape = batch.template.dims();
    let online_shape = batch.online_template.dims();
    if template_shape != online_shape {
        return Err(DistillError::ShapeMismatch {
            function: actor,
            left_name: "template images",
            left_shape: template_shape.to_vec(),
            right_name: "online template images",
            right_shape: online_shape.to_vec(),
        });
    }
    let mut counts = vec![
        ("template images", template_shape[0]),
        ("ground-truth boxes", batch.search_anno.dims()[0]),
    ];
    if let Some(label) = &batch.label {
        counts.push(("labels", label.dims()[0]));
    }
    for (input, found) in counts {
        if found != samples {
            return Err(DistillError::BatchSize {
                actor,
                input,
                found,
                expected: samples,
            });
        }
    }
    Ok(())
}

/// Reads named scalar statistics with one transfer from the device.
pub(crate) fn read_stats(entries: Vec<(&'static str, Tensor<1>)>) -> Vec<(String, f64)> {
    let (names, values): (Vec<&str>, Vec<Tensor<1>>) = entries
        .into_iter()
        .map(|(name, value)| (name, value.detach()))
        .unzip();
    let numbers: Vec<f64> = Tensor::cat(values, 0).into_data().iter::<f64>().collect();
    names.into_iter().map(str::to_owned).zip(numbers).collect()
}
