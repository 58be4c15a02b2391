//! KL divergence between the teacher's and the student's box-side distributions (logit
//! distillation).

use burn::tensor::Tensor;
use burn::tensor::activation::log_softmax;

use crate::DistillError;
use crate::check::{ensure_non_empty, ensure_same_shape};

/// One tensor `[B, F]` per box side, over `F` bins: probabilities for a teacher, logits for a
/// student. Fields follow the prediction-token order: left, right, top, bottom.
#[derive(Debug, Clone)]
pub struct SideDistributions {
    /// Distribution of the left edge `x1`, over the bins along x.
    pub left: Tensor<2>,
    /// Distribution of the right edge `x2`, over the bins along x.
    pub right: Tensor<2>,
    /// Distribution of the top edge `y1`, over the bins along y.
    pub top: Tensor<2>,
    /// Distribution of the bottom edge `y2`, over the bins along y.
    pub bottom: Tensor<2>,
}

impl SideDistributions {
    /// Returns the four sides in field order.
    fn into_array(self) -> [Tensor<2>; 4] {
        [self.left, self.right, self.top, self.bottom]
    }
}

/// Function names for the errors of each side, in field order.
const SIDE_FUNCTIONS: [&str; 4] = [
    "KL loss (left side)",
    "KL loss (right side)",
    "KL loss (top side)",
    "KL loss (bottom side)",
];

/// Computes `KL(teacher ‖ student)` for one side: `Σ t · (log t − log_softmax(s))` over all
/// elements, divided by the batch size `B`.
///
/// `teacher_probabilities` and `student_logits` are `[B, F]`; returns `[1]`. This is
/// `torch.nn.KLDivLoss(reduction="batchmean")` applied to `log_softmax(s)` and `t`. Terms with
/// `t = 0` count as 0, so a teacher with empty bins gives no NaN. The teacher is detached, so
/// the gradient reaches only the student. Teacher entries must not be negative.
///
/// # Errors
///
/// [`DistillError::ShapeMismatch`] if the shapes differ, [`DistillError::Empty`] if either
/// dimension is 0.
pub fn kl_div_loss(
    teacher_probabilities: Tensor<2>,
    student_logits: Tensor<2>,
) -> Result<Tensor<1>, DistillError> {
    named_kl_div_loss("KL loss", teacher_probabilities, student_logits)
}

/// [`kl_div_loss`], with `function` naming the caller in errors.
fn named_kl_div_loss(
    function: &'static str,
    teacher_probabilities: Tensor<2>,
    student_logits: Tensor<2>,
) -> Result<Tensor<1>, DistillError> {
    ensure_same_shape(
        function,
        ("teacher probabilities", &teacher_probabilities),
        ("student logits", &student_logits),
    )?;
    ensure_non_empty(function, "student logits", &student_logits)?;
    let [batch_size, _] = student_logits.dims();

    let teacher = teacher_probabilities.detach();
    let student_log_probabilities = log_softmax(student_logits, 1);

    // t · log t with log(1) = 0 standing in where t = 0, the limit of t · log t.
    let empty_bins = teacher.clone().equal_elem(0.0);
    let teacher_log_probabilities = teacher.clone().mask_fill(empty_bins, 1.0).log();

    let pointwise = teacher * (teacher_log_probabilities - student_log_probabilities);
    Ok(pointwise.sum().div_scalar(batch_size as f64))
}

/// Computes the stage-2 logit-distillation loss: [`kl_div_loss`] for each of the four sides,
/// averaged.
///
/// `teacher` contains the probabilities of a prediction-token model, `student` the logits of the
/// student's distribution head, every side `[B, F]`. Returns `[1]`.
///
/// # Errors
///
/// [`DistillError::ShapeMismatch`] or [`DistillError::Empty`] as [`kl_div_loss`], naming the
/// first side that fails.
pub fn side_kl_loss(
    teacher: SideDistributions,
    student: SideDistributions,
) -> Result<Tensor<1>, DistillError> {
    let mut losses = Vec::with_capacity(4);
    let pairs = teacher.into_array().into_iter().zip(student.into_array());
    for (function, (teacher_side, student_side)) in SIDE_FUNCTIONS.into_iter().zip(pairs) {
        losses.push(named_kl_div_loss(function, teacher_side, student_side)?);
    }
    Ok(Tensor::cat(losses, 0).mean())
}

#[cfg(test)]
mod tests {
    use burn::tensor::activation::softmax;
    use burn::tensor::{Device, Tensor};

    use super::*;
    use crate::test_util::{assert_all_finite, assert_values_near, scalar};

    #[test]
    fn kl_of_identical_distributions_is_zero() {
        let device = Device::flex();
        let logits =
            Tensor::<2>::from_floats([[0.3, -1.2, 2.0, 0.1], [1.0, 1.0, -3.0, 0.5]], &device);
        let teacher = softmax(logits.clone(), 1);
        let loss = kl_div_loss(teacher, logits).unwrap();
        assert!(scalar(loss).abs() < 1e-6);
    }

    #[test]
    fn kl_divides_sum_by_batch_size() {
        let device = Device::flex();
        // Teacher one-hot on bin 0, student uniform over 4 bins: each row gives log 4.
        let teacher =
            Tensor::<2>::from_floats([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]], &device);
        let student = Tensor::<2>::zeros([2, 4], &device);
        let loss = kl_div_loss(teacher, student).unwrap();
        assert!((scalar(loss) - 4f64.ln()).abs() < 1e-6);
    }

    #[test]
    fn kl_with_zero_teacher_bins_has_finite_gradient() {
        let device = Device::flex().autodiff();
        let teacher = Tensor::<2>::from_floats([[0.5, 0.5, 0.0, 0.0]], &device);
        let student = Tensor::<2>::from_floats([[0.0, 1.0, -2.0, 3.0]], &device).require_grad();
        let loss = kl_div_loss(teacher, student.clone()).unwrap();

        // Σ t (log t − log_softmax(s)) over the two non-empty bins, by hand.
        let log_normaliser = [0.0f64, 1.0, -2.0, 3.0]
            .iter()
            .map(|s| s.exp())
            .sum::<f64>()
            .ln();
        let expected = 0.5 * (0.5f64.ln() - (0.0 - log_normaliser))
            + 0.5 * (0.5f64.ln() - (1.0 - log_normaliser));
        assert!((scalar(loss.clone()) - expected).abs() < 1e-5);

        // d/ds = softmax(s) − t, for a batch of one.
        let gradients = loss.backward();
        let gradient = student.grad(&gradients).unwrap();
        assert_all_finite(&gradient, "student logits");
        let exp: Vec<f64> = [0.0f64, 1.0, -2.0, 3.0]
            .iter()
            .map(|s| (s - log_normaliser).exp())
            .collect();
        let expected_gradient = [exp[0] - 0.5, exp[1] - 0.5, exp[2], exp[3]];
        assert_values_near(&gradient, &expected_gradient, 1e-6);
    }

    #[test]
    fn side_kl_averages_the_four_sides() {
        let device = Device::flex();
        let uniform = Tensor::<2>::zeros([1, 4], &device);
        let one_hot = Tensor::<2>::from_floats([[1.0, 0.0, 0.0, 0.0]], &device);
        let quarter = Tensor::<2>::full([1, 4], 0.25, &device);
        // Only the left side differs from the student's uniform distribution.
        let teacher = SideDistributions {
            left: one_hot,
            right: quarter.clone(),
            top: quarter.clone(),
            bottom: quarter,
        };
        let student = SideDistributions {
            left: uniform.clone(),
            right: uniform.clone(),
            top: uniform.clone(),
            bottom: uniform,
        };
        let loss = side_kl_loss(teacher, student).unwrap();
        assert!((scalar(loss) - 4f64.ln() / 4.0).abs() < 1e-6);
    }

    #[test]
    fn side_kl_names_the_mismatched_side() {
        let device = Device::flex();
        let four_bins = Tensor::<2>::zeros([2, 4], &device);
        let five_bins = Tensor::<2>::zeros([2, 5], &device);
        let teacher = SideDistributions {
            left: four_bins.clone(),
            right: four_bins.clone(),
            top: four_bins.clone(),
            bottom: four_bins.clone(),
        };
        let student = SideDistributions {
            left: four_bins.clone(),
            right: four_bins.clone(),
            top: five_bins,
            bottom: four_bins,
        };
        let error = side_kl_loss(teacher, student).unwrap_err();
        assert_eq!(
            error.to_string(),
            "KL loss (top side): teacher probabilities has shape [2, 4] but student logits has \
             shape [2, 5], expected equal shapes"
        );
    }
}
