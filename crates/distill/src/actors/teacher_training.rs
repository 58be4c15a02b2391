//! Stage 0: training the MixFormer-ViT teacher on the ground truth alone.

use burn::tensor::Device;
use mixformer_model_vit::{HeadOutput, MixFormer};

use super::common::{BoxLossWeights, BoxTerms, check_batch, output_name, read_stats};
use super::{Actor, ActorOutput, TrainBatch};
use crate::DistillError;

const NAME: &str = "TeacherTrainingActor";

/// Trains a corner-head model (`mixformer_vit`) with
/// `IOU_WEIGHT · ciou + L1_WEIGHT · l1` against the ground truth.
///
/// The reference starts its pipeline from a published teacher; this stage lets
/// ours start without one. Statistics: `Loss/total`, `Loss/giou`, `Loss/l1`, `IoU`.
#[derive(Debug, Clone)]
pub struct TeacherTrainingActor {
    weights: BoxLossWeights,
}

impl TeacherTrainingActor {
    /// Creates the actor with the box-loss weights of the experiment.
    pub fn new(weights: BoxLossWeights) -> Self {
        Self { weights }
    }
}

impl Actor for TeacherTrainingActor {
    fn forward(
        &self,
        student: &MixFormer,
        batch: &TrainBatch,
        _epoch: usize,
    ) -> Result<ActorOutput, DistillError> {
        check_batch(NAME, batch)?;
        let output = student.forward_heads(
            batch.template.clone(),
            batch.online_template.clone(),
            batch.search.clone(),
            None,
        );
        let HeadOutput::Corner(corners) = &output.head else {
            return Err(DistillError::HeadMismatch {
                actor: NAME,
                role: "student",
                expected: "a corner head (CORNER or CORNER_UP)",
                found: output_name(&output.head),
            });
        };

        let boxes = BoxTerms::new(corners.boxes.clone(), &batch.search_anno)?;
        let loss = boxes.weighted(self.weights);
        let stats = read_stats(vec![
            ("Loss/total", loss.clone()),
            ("Loss/giou", boxes.ciou),
            ("Loss/l1", boxes.l1),
            ("IoU", boxes.mean_iou),
        ]);
        Ok(ActorOutput { loss, stats })
    }

    fn name(&self) -> &'static str {
        NAME
    }

    fn replicate(&self, device: &Device) -> Box<dyn Actor> {
        let _ = device;
        Box::new(self.clone())
    }
}
