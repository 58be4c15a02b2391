//! Stage 3: training the score head that decides online template updates.

use burn::tensor::Device;
use mixformer_model_vit::MixFormer;

use super::common::{check_batch, read_stats};
use super::{Actor, ActorOutput, TrainBatch};
use crate::{DistillError, bce_with_logits_loss};

const NAME: &str = "ScoreActor";

/// Trains the score head (`mixformer2_vit_online`) with
/// `SCORE_WEIGHT · BCE(score logit, label)`.
///
/// Only the score head learns; the trainer freezes the rest of the model.
/// Statistics: `Loss/total`, `Loss/score` and `Accuracy`, the fraction of
/// samples whose logit has the sign of its label (positive for label 1).
#[derive(Debug, Clone)]
pub struct ScoreActor {
    score_weight: f64,
}

impl ScoreActor {
    /// Creates the actor with the weight of the score loss (`TRAIN.SCORE_WEIGHT`).
    pub fn new(score_weight: f64) -> Self {
        Self { score_weight }
    }
}

impl Actor for ScoreActor {
    fn forward(
        &self,
        student: &MixFormer,
        batch: &TrainBatch,
        _epoch: usize,
    ) -> Result<ActorOutput, DistillError> {
        check_batch(NAME, batch)?;
        let labels = batch
            .label
            .clone()
            .ok_or(DistillError::MissingLabels { actor: NAME })?;
        if student.score_head.is_none() {
            return Err(DistillError::MissingScoreHead { actor: NAME });
        }

        let output = student.forward_heads(
            batch.template.clone(),
            batch.online_template.clone(),
            batch.search.clone(),
            None,
        );
        let logits = output
            .score_logits
            .ok_or(DistillError::MissingScoreHead { actor: NAME })?;

        // [B, 1] -> [B]
        let [samples, _] = logits.dims();
        let logits = logits.reshape([samples]);

        let score = bce_with_logits_loss(logits.clone(), labels.clone())?;
        let loss = score.clone().mul_scalar(self.score_weight);

        let predicted_positive = logits.greater_elem(0.0);
        let labelled_positive = labels.greater_elem(0.5);
        let accuracy = predicted_positive.equal(labelled_positive).float().mean();
        let stats = read_stats(vec![
            ("Loss/total", loss.clone()),
            ("Loss/score", score),
            ("Accuracy", accuracy),
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
