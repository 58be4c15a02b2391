//! Binary cross-entropy with logits, the loss of the score head.

use burn::tensor::Tensor;
use burn::tensor::activation::log_sigmoid;

use crate::DistillError;
use crate::check::{ensure_non_empty, ensure_same_shape};

/// Computes the mean binary cross-entropy between logits and labels.
///
/// `logits` and `labels` are `[B]`, labels in `[0, 1]` (1 for a positive sample). Per sample the
/// loss is `−y·log σ(x) − (1 − y)·log σ(−x)`, evaluated as `(1 − y)·x − log σ(x)` with burn's
/// stable `log_sigmoid`, so large `|x|` neither overflows nor loses the gradient `σ(x) − y`.
/// This is `torch.nn.BCEWithLogitsLoss()` without weights. Returns `[1]`.
///
/// # Errors
///
/// [`DistillError::ShapeMismatch`] if the shapes differ, [`DistillError::Empty`] for an empty
/// batch.
pub fn bce_with_logits_loss(
    logits: Tensor<1>,
    labels: Tensor<1>,
) -> Result<Tensor<1>, DistillError> {
    const FUNCTION: &str = "BCE loss";
    ensure_same_shape(FUNCTION, ("logits", &logits), ("labels", &labels))?;
    ensure_non_empty(FUNCTION, "logits", &logits)?;

    let negative_weight = labels.neg().add_scalar(1.0);
    let per_sample = negative_weight * logits.clone() - log_sigmoid(logits);
    Ok(per_sample.mean())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;
    use crate::test_util::{assert_values_near, scalar};

    fn reference_bce(logit: f64, label: f64) -> f64 {
        let probability = 1.0 / (1.0 + (-logit).exp());
        -(label * probability.ln() + (1.0 - label) * (1.0 - probability).ln())
    }

    #[test]
    fn bce_matches_definition() {
        let device = Device::flex();
        let logits = [0.0, 2.0, -1.5, 0.3];
        let labels = [1.0, 0.0, 0.0, 1.0];
        let loss = bce_with_logits_loss(
            Tensor::from_floats(logits, &device),
            Tensor::from_floats(labels, &device),
        )
        .unwrap();
        let expected = logits
            .iter()
            .zip(labels)
            .map(|(&x, y)| reference_bce(x, y))
            .sum::<f64>()
            / 4.0;
        assert!((scalar(loss) - expected).abs() < 1e-6);
    }

    #[test]
    fn bce_stays_finite_for_large_logits() {
        let device = Device::flex().autodiff();
        let logits =
            Tensor::<1>::from_floats([200.0, -200.0, 200.0, -200.0], &device).require_grad();
        let labels = Tensor::<1>::from_floats([1.0, 0.0, 0.0, 1.0], &device);
        let loss = bce_with_logits_loss(logits.clone(), labels).unwrap();
        // The two wrong confident predictions cost 200 each.
        assert!((scalar(loss.clone()) - 100.0).abs() < 1e-3);

        // d/dx = (σ(x) − y) / B.
        let gradient = logits.grad(&loss.backward()).unwrap();
        assert_values_near(&gradient, &[0.0, 0.0, 0.25, -0.25], 1e-6);
    }

    #[test]
    fn bce_gradient_at_zero_logit() {
        let device = Device::flex().autodiff();
        let logits = Tensor::<1>::zeros([2], &device).require_grad();
        let labels = Tensor::<1>::from_floats([1.0, 0.0], &device);
        let loss = bce_with_logits_loss(logits.clone(), labels).unwrap();
        assert!((scalar(loss.clone()) - 2f64.ln()).abs() < 1e-6);
        let gradient = logits.grad(&loss.backward()).unwrap();
        assert_values_near(&gradient, &[-0.25, 0.25], 1e-6);
    }
}
