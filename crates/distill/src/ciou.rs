//! Complete-IoU (CIoU) box loss: IoU minus a centre-distance term and an aspect-ratio term, in
//! the variant of the MixFormer trackers, where the aspect-ratio term only counts for pairs with
//! IoU above 0.5.
//!
//! # Guarded divisions
//!
//! The reference divides by five quantities without a guard: the predicted height, the
//! ground-truth height, the union, the squared enclosing diagonal `c²` and `1 − iou + v`. A
//! ground-truth box that lies outside the crop is clamped to a line or a point on its border.
//! For a point, `w_gt / h_gt` is `0 / 0`, so the loss and every gradient become NaN, and a
//! predicted box of zero size does the same through `w / h`.
//!
//! Here each of these denominators `d` is replaced by [`CIOU_EPSILON`] wherever
//! `|d| < CIOU_EPSILON` and left as it is elsewhere. The result is therefore the reference's
//! formula exactly wherever all five have a magnitude of at least `1e-7`. On ordinary boxes only
//! `1 − iou + v` can fall below that, for nearly identical boxes. There `α·v` stays below `1e-7`
//! with the guard, while the reference turns an exactly identical pair into `0 / 0` and NaN.
//! The guard keeps the sign of a negative denominator, such as the height of a predicted box
//! whose corners are swapped, so those boxes match the reference too. A replaced denominator
//! passes no gradient.
//!
//! Limitation: the guarantee assumes that areas, `ρ²` and `c²` fit in `f32`, which holds for
//! coordinates below about `1e18`. The tests exercise normalised boxes only.

use std::f64::consts::PI;

use burn::tensor::Tensor;

use crate::DistillError;
use crate::boxes::split_coordinates;
use crate::check::{ensure_boxes, ensure_non_empty, ensure_same_shape};

/// Smallest magnitude a CIoU denominator may have; smaller ones are replaced by this value.
///
/// `1e-7` is below the `f32` rounding step of coordinates near 1 (`1.2e-7`), so it only acts on
/// degenerate boxes.
pub const CIOU_EPSILON: f64 = 1e-7;

/// IoU above which the aspect-ratio term `α·v` enters the loss.
const ASPECT_TERM_MIN_IOU: f64 = 0.5;

/// Output of [`ciou_loss`].
#[derive(Debug, Clone)]
pub struct CiouLoss {
    /// `mean(1 − ciou)` over the pairs, `[1]`.
    pub loss: Tensor<1>,
    /// IoU of each pair, `[N]`, without gradient (it feeds the `IoU` statistic).
    pub iou: Tensor<1>,
}

/// Computes the CIoU loss between predicted and ground-truth boxes, pair by pair.
///
/// Both inputs are `[N, 4]` in `(x1, y1, x2, y2)` order, normalised to the crop. Per pair:
/// `ciou = clamp(iou − ρ²/c² − α·v, −1, 1)` with `ρ²` the squared distance between the centres,
/// `c²` the squared diagonal of the smallest box enclosing both,
/// `v = 4/π² · (atan(w_gt/h_gt) − atan(w/h))²` and `α = S·v / (1 − iou + v)`, where
/// `S = [iou > 0.5]` and `α` carries no gradient. The loss is `mean(1 − ciou)`.
///
/// Divisions are guarded as the module documentation describes, so finite input never yields
/// NaN or infinity in the loss or its gradient.
///
/// # Errors
///
/// [`DistillError::BoxShape`] or [`DistillError::ShapeMismatch`] if the inputs are not both
/// `[N, 4]`, and [`DistillError::Empty`] if `N` is 0.
pub fn ciou_loss(predicted: Tensor<2>, target: Tensor<2>) -> Result<CiouLoss, DistillError> {
    const FUNCTION: &str = "CIoU loss";
    ensure_boxes(FUNCTION, "predicted boxes", &predicted)?;
    ensure_boxes(FUNCTION, "target boxes", &target)?;
    ensure_same_shape(
        FUNCTION,
        ("predicted boxes", &predicted),
        ("target boxes", &target),
    )?;
    ensure_non_empty(FUNCTION, "predicted boxes", &predicted)?;

    // [N, 4] -> four [N]
    let [px1, py1, px2, py2] = split_coordinates(predicted).map(|c| c.squeeze_dim::<1>(1));
    let [tx1, ty1, tx2, ty2] = split_coordinates(target).map(|c| c.squeeze_dim::<1>(1));
    let predicted_w = px2.clone() - px1.clone();
    let predicted_h = py2.clone() - py1.clone();
    let target_w = tx2.clone() - tx1.clone();
    let target_h = ty2.clone() - ty1.clone();

    // Intersection over union
    let inter_w =
        (px2.clone().min_pair(tx2.clone()) - px1.clone().max_pair(tx1.clone())).clamp_min(0.0);
    let inter_h =
        (py2.clone().min_pair(ty2.clone()) - py1.clone().max_pair(ty1.clone())).clamp_min(0.0);
    let inter = inter_w * inter_h;
    let union = predicted_w.clone() * predicted_h.clone() + target_w.clone() * target_h.clone()
        - inter.clone();
    let iou = inter / guard_denominator(union);

    // Centre distance over the enclosing diagonal
    let centre_dx = (tx1.clone() + tx2.clone() - px1.clone() - px2.clone()).div_scalar(2.0);
    let centre_dy = (ty1.clone() + ty2.clone() - py1.clone() - py2.clone()).div_scalar(2.0);
    let centre_distance = centre_dx.square() + centre_dy.square();
    let enclosing_w = (px2.max_pair(tx2) - px1.min_pair(tx1)).clamp_min(0.0);
    let enclosing_h = (py2.max_pair(ty2) - py1.min_pair(ty1)).clamp_min(0.0);
    let enclosing_diagonal = enclosing_w.square() + enclosing_h.square();
    let distance_term = centre_distance / guard_denominator(enclosing_diagonal);

    // Aspect-ratio consistency
    let target_angle = (target_w / guard_denominator(target_h)).atan();
    let predicted_angle = (predicted_w / guard_denominator(predicted_h)).atan();
    let v = (target_angle - predicted_angle)
        .square()
        .mul_scalar(4.0 / (PI * PI));
    let alpha = aspect_weight(iou.clone().detach(), v.clone().detach());

    let ciou = (iou.clone() - distance_term - alpha * v).clamp(-1.0, 1.0);
    let loss = ciou.neg().add_scalar(1.0).mean();
    Ok(CiouLoss {
        loss,
        iou: iou.detach(),
    })
}

/// Computes `α = S·v / (1 − iou + v)` from detached inputs.
///
/// Identical boxes make this `0 / 0`, and the reference's loss NaN. The guard gives `α = 0`
/// instead, and `α·v = 0` is the right value there because `v = 0`.
fn aspect_weight(iou: Tensor<1>, v: Tensor<1>) -> Tensor<1> {
    let below_threshold = iou.clone().lower_equal_elem(ASPECT_TERM_MIN_IOU);
    let denominator = iou.neg().add_scalar(1.0) + v.clone();
    (v / guard_denominator(denominator)).mask_fill(below_threshold, 0.0)
}

/// Replaces each value with magnitude below [`CIOU_EPSILON`] by `CIOU_EPSILON`.
fn guard_denominator(denominator: Tensor<1>) -> Tensor<1> {
    let too_small = denominator.clone().abs().lower_elem(CIOU_EPSILON);
    denominator.mask_fill(too_small, CIOU_EPSILON)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::test_util::{assert_all_finite, assert_values_near, scalar};

    fn boxes(device: &Device, values: &[[f32; 4]]) -> Tensor<2> {
        let flat: Vec<f32> = values.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [values.len(), 4]), device)
    }

    /// CIoU of one pair in `f64`, written out from the definition.
    fn ciou_by_hand(predicted: [f64; 4], target: [f64; 4]) -> (f64, f64) {
        let [px1, py1, px2, py2] = predicted;
        let [tx1, ty1, tx2, ty2] = target;
        let inter = (px2.min(tx2) - px1.max(tx1)).max(0.0) * (py2.min(ty2) - py1.max(ty1)).max(0.0);
        let union = (px2 - px1) * (py2 - py1) + (tx2 - tx1) * (ty2 - ty1) - inter;
        let iou = inter / union;
        let rho2 =
            ((tx1 + tx2 - px1 - px2) / 2.0).powi(2) + ((ty1 + ty2 - py1 - py2) / 2.0).powi(2);
        let c2 = (px2.max(tx2) - px1.min(tx1)).powi(2) + (py2.max(ty2) - py1.min(ty1)).powi(2);
        let v = 4.0 / (PI * PI)
            * (((tx2 - tx1) / (ty2 - ty1)).atan() - ((px2 - px1) / (py2 - py1)).atan()).powi(2);
        let alpha = if iou > 0.5 { v / (1.0 - iou + v) } else { 0.0 };
        ((iou - rho2 / c2 - alpha * v).clamp(-1.0, 1.0), iou)
    }

    #[test]
    fn identical_unit_boxes_give_zero_loss() {
        let device = Device::flex();
        let unit = boxes(&device, &[[0.0, 0.0, 1.0, 1.0]]);
        let output = ciou_loss(unit.clone(), unit).unwrap();
        assert_eq!(scalar(output.loss), 0.0);
        assert_eq!(scalar(output.iou), 1.0);
    }

    #[test]
    fn half_overlapping_boxes_match_hand_computation() {
        // Two 0.5 x 0.5 squares shifted by half a side: inter 0.125, union 0.375, IoU 1/3.
        // Centres 0.25 apart, enclosing box 0.75 x 0.5, so rho²/c² = 0.0625 / 0.8125.
        // The aspect ratios agree (v = 0) and IoU < 0.5, so ciou = 1/3 - 1/13.
        let device = Device::flex();
        let predicted = boxes(&device, &[[0.0, 0.0, 0.5, 0.5]]);
        let target = boxes(&device, &[[0.25, 0.0, 0.75, 0.5]]);
        let output = ciou_loss(predicted, target).unwrap();
        let expected_ciou = 1.0 / 3.0 - 1.0 / 13.0;
        assert!((scalar(output.iou) - 1.0 / 3.0).abs() < 1e-6);
        assert!((scalar(output.loss) - (1.0 - expected_ciou)).abs() < 1e-6);
    }

    #[test]
    fn aspect_term_counts_only_above_half_iou() {
        let device = Device::flex();
        // IoU 0.55 with different aspect ratios: alpha·v enters, about 2e-3.
        let high = ([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.55]);
        // IoU 0.4 with different aspect ratios: alpha is 0.
        let low = ([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 0.4]);
        for (predicted, target) in [high, low] {
            let (expected_ciou, expected_iou) = ciou_by_hand(predicted, target);
            let output = ciou_loss(
                boxes(&device, &[predicted.map(|x| x as f32)]),
                boxes(&device, &[target.map(|x| x as f32)]),
            )
            .unwrap();
            assert!((scalar(output.iou) - expected_iou).abs() < 1e-6);
            assert!((scalar(output.loss) - (1.0 - expected_ciou)).abs() < 1e-6);
        }

        // Without the aspect term the high pair would score iou - rho²/c² = 0.55 - 0.050625 / 2.
        let output = ciou_loss(
            boxes(&device, &[high.0.map(|x| x as f32)]),
            boxes(&device, &[high.1.map(|x| x as f32)]),
        )
        .unwrap();
        let loss_without_aspect = 1.0 - (0.55 - 0.050625 / 2.0);
        assert!(scalar(output.loss) > loss_without_aspect + 1e-3);
    }

    #[test]
    fn loss_is_mean_over_pairs() {
        let device = Device::flex();
        let predicted = boxes(&device, &[[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5]]);
        let target = boxes(&device, &[[0.0, 0.0, 1.0, 1.0], [0.25, 0.0, 0.75, 0.5]]);
        let output = ciou_loss(predicted, target).unwrap();
        let second_loss = 1.0 - (1.0 / 3.0 - 1.0 / 13.0);
        assert!((scalar(output.loss) - second_loss / 2.0).abs() < 1e-6);
        assert_values_near(&output.iou, &[1.0, 1.0 / 3.0], 1e-6);
    }

    #[test]
    fn degenerate_boxes_give_finite_loss_and_gradient() {
        let device = Device::flex().autodiff();
        let cases: [(&str, [f32; 4], [f32; 4]); 6] = [
            (
                "target clamped to a point",
                [0.8, 0.8, 0.95, 0.9],
                [1.0, 1.0, 1.0, 1.0],
            ),
            (
                "target clamped to a horizontal line",
                [0.2, 0.8, 0.5, 0.95],
                [0.3, 1.0, 0.6, 1.0],
            ),
            (
                "target clamped to a vertical line",
                [0.1, 0.2, 0.3, 0.4],
                [0.0, 0.1, 0.0, 0.5],
            ),
            (
                "zero-size prediction",
                [0.4, 0.4, 0.4, 0.4],
                [0.3, 0.3, 0.6, 0.5],
            ),
            (
                "zero-size prediction on a point target",
                [1.0, 1.0, 1.0, 1.0],
                [1.0, 1.0, 1.0, 1.0],
            ),
            (
                "zero-height prediction inside target",
                [0.3, 0.4, 0.5, 0.4],
                [0.2, 0.2, 0.6, 0.6],
            ),
        ];
        for (case, predicted, target) in cases {
            let predicted = boxes(&device, &[predicted]).require_grad();
            let target = boxes(&device, &[target]);
            let output = ciou_loss(predicted.clone(), target).unwrap();
            let loss_value = scalar(output.loss.clone());
            assert!(loss_value.is_finite(), "{case}: loss {loss_value}");
            assert!(
                (0.0..=2.0).contains(&loss_value),
                "{case}: loss {loss_value}"
            );
            let gradients = output.loss.backward();
            let gradient = predicted.grad(&gradients).unwrap();
            assert_all_finite(&gradient, case);
        }
    }

    #[test]
    fn swapped_prediction_corners_give_finite_loss() {
        let device = Device::flex().autodiff();
        let predicted = boxes(&device, &[[0.6, 0.6, 0.4, 0.4]]).require_grad();
        let target = boxes(&device, &[[0.4, 0.4, 0.6, 0.6]]);
        let output = ciou_loss(predicted.clone(), target).unwrap();
        assert_eq!(scalar(output.iou), 0.0);
        let gradients = output.loss.backward();
        assert_all_finite(&predicted.grad(&gradients).unwrap(), "swapped corners");
    }

    #[test]
    fn mismatched_box_counts_are_rejected() {
        let device = Device::flex();
        let predicted = Tensor::<2>::zeros([3, 4], &device);
        let target = Tensor::<2>::zeros([2, 4], &device);
        let error = ciou_loss(predicted, target).unwrap_err();
        assert_eq!(
            error.to_string(),
            "CIoU loss: predicted boxes has shape [3, 4] but target boxes has shape [2, 4], \
             expected equal shapes"
        );
    }

    #[test]
    fn empty_batch_is_rejected() {
        let device = Device::flex();
        let empty = Tensor::<2>::zeros([0, 4], &device);
        let error = ciou_loss(empty.clone(), empty).unwrap_err();
        assert!(matches!(error, DistillError::Empty { .. }), "{error}");
    }
}
