//! L1 box loss.

use burn::tensor::Tensor;

use crate::DistillError;
use crate::check::{ensure_boxes, ensure_non_empty, ensure_same_shape};

/// Computes the mean absolute difference between predicted and ground-truth boxes.
///
/// Both inputs are `[N, 4]` in `(x1, y1, x2, y2)` order; the mean runs over all `4·N`
/// coordinates, as `torch.nn.L1Loss()` does. Returns `[1]`.
///
/// # Errors
///
/// [`DistillError::BoxShape`] or [`DistillError::ShapeMismatch`] if the inputs are not both
/// `[N, 4]`, and [`DistillError::Empty`] if `N` is 0.
pub fn l1_loss(predicted: Tensor<2>, target: Tensor<2>) -> Result<Tensor<1>, DistillError> {
    const FUNCTION: &str = "L1 loss";
    ensure_boxes(FUNCTION, "predicted boxes", &predicted)?;
    ensure_same_shape(
        FUNCTION,
        ("predicted boxes", &predicted),
        ("target boxes", &target),
    )?;
    ensure_non_empty(FUNCTION, "predicted boxes", &predicted)?;

    Ok((predicted - target).abs().mean())
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;
    use crate::test_util::scalar;

    #[test]
    fn l1_averages_over_all_coordinates() {
        let device = Device::flex();
        let predicted =
            Tensor::<2>::from_floats([[0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.5, 0.5]], &device);
        let target =
            Tensor::<2>::from_floats([[0.1, 0.0, 1.0, 0.7], [0.5, 0.5, 0.5, 0.9]], &device);
        let loss = l1_loss(predicted, target).unwrap();
        // |−0.1| + |0.3| + |−0.4| = 0.8 over 8 coordinates.
        assert!((scalar(loss) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn l1_rejects_wrong_box_width() {
        let device = Device::flex();
        let predicted = Tensor::<2>::zeros([2, 3], &device);
        let error = l1_loss(predicted.clone(), predicted).unwrap_err();
        assert!(matches!(error, DistillError::BoxShape { .. }), "{error}");
    }
}
