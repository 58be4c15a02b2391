//! Per-frame comparison of a predicted box with the ground truth.
//!
//! Every measure treats an invalid box (a NaN or infinite coordinate, or a
//! side that is not positive) as a complete miss: IoU 0 and an infinite
//! centre error, so the frame fails at every threshold.

use crate::bounding_box::{BoundingBox, ImageSize};

/// Computes the intersection over union of two boxes with continuous
/// coordinates.
///
/// pytracking's `calc_iou_overlap` writes the corners as `x + w - 1` and adds
/// the 1 back to the intersection, which gives the same value.
pub fn iou(predicted: &BoundingBox, ground_truth: &BoundingBox) -> f64 {
    if !predicted.is_valid() || !ground_truth.is_valid() {
        return 0.0;
    }

    let intersection = intersection_area(predicted, ground_truth);
    let union = predicted.area() + ground_truth.area() - intersection;
    intersection / union
}

/// Computes the distance in pixels between the two box centres.
pub fn center_error(predicted: &BoundingBox, ground_truth: &BoundingBox) -> f64 {
    if !predicted.is_valid() || !ground_truth.is_valid() {
        return f64::INFINITY;
    }

    let (dx, dy) = center_offset(predicted, ground_truth);
    dx.hypot(dy)
}

/// Computes the centre distance with the x offset divided by the
/// ground-truth width and the y offset by its height.
///
/// pytracking divides each centre by the ground-truth size before
/// subtracting. The result is the same up to rounding in the last bit.
pub fn normalized_center_error(predicted: &BoundingBox, ground_truth: &BoundingBox) -> f64 {
    if !predicted.is_valid() || !ground_truth.is_valid() {
        return f64::INFINITY;
    }

    let (dx, dy) = center_offset(predicted, ground_truth);
    (dx / ground_truth.width).hypot(dy / ground_truth.height)
}

/// Computes IoU as the GOT-10k toolkit's `rect_iou` does.
///
/// With an image size, both boxes are first bounded the way the toolkit
/// bounds them: `x` is clamped to `[0, W]` and then `w` to `[0, W - x]`
/// (likewise for `y` and `h`). A box that hangs over the left or top edge is
/// therefore shifted into the image, not cropped. The union gets
/// `f64::EPSILON` added and the result is clamped to `[0, 1]`, as in the
/// toolkit. An invalid predicted box gives 0, where the toolkit would return
/// NaN or a negative area for it.
pub fn got10k_iou(
    predicted: &BoundingBox,
    ground_truth: &BoundingBox,
    image_size: Option<ImageSize>,
) -> f64 {
    if !predicted.is_valid() || !ground_truth.is_finite() {
        return 0.0;
    }

    let (predicted, ground_truth) = match image_size {
        Some(size) => (
            bound_like_got10k(predicted, size),
            bound_like_got10k(ground_truth, size),
        ),
        None => (*predicted, *ground_truth),
    };

    let intersection = intersection_area(&predicted, &ground_truth);
    let union = predicted.area() + ground_truth.area() - intersection;
    (intersection / (union + f64::EPSILON)).clamp(0.0, 1.0)
}

fn intersection_area(first: &BoundingBox, second: &BoundingBox) -> f64 {
    let left = first.x.max(second.x);
    let top = first.y.max(second.y);
    let right = (first.x + first.width).min(second.x + second.width);
    let bottom = (first.y + first.height).min(second.y + second.height);
    (right - left).max(0.0) * (bottom - top).max(0.0)
}

fn center_offset(predicted: &BoundingBox, ground_truth: &BoundingBox) -> (f64, f64) {
    let (predicted_x, predicted_y) = predicted.center();
    let (truth_x, truth_y) = ground_truth.center();
    (predicted_x - truth_x, predicted_y - truth_y)
}

fn bound_like_got10k(bounding_box: &BoundingBox, size: ImageSize) -> BoundingBox {
    let x = bounding_box.x.clamp(0.0, size.width);
    let y = bounding_box.y.clamp(0.0, size.height);
    let width = bounding_box.width.clamp(0.0, size.width - x);
    let height = bounding_box.height.clamp(0.0, size.height - y);
    BoundingBox::new(x, y, width, height)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXACT: f64 = 1e-12;

    #[test]
    fn iou_of_identical_boxes_is_one() {
        let a = BoundingBox::new(3.0, 4.0, 10.0, 20.0);

        assert_eq!(iou(&a, &a), 1.0);
    }

    #[test]
    fn iou_of_half_shifted_box() {
        let ground_truth = BoundingBox::new(0.0, 0.0, 10.0, 10.0);
        let predicted = BoundingBox::new(5.0, 0.0, 10.0, 10.0);

        // Intersection 50, union 150.
        assert!((iou(&predicted, &ground_truth) - 1.0 / 3.0).abs() < EXACT);
    }

    #[test]
    fn iou_of_disjoint_or_touching_boxes_is_zero() {
        let ground_truth = BoundingBox::new(0.0, 0.0, 10.0, 10.0);

        assert_eq!(
            iou(&BoundingBox::new(10.0, 0.0, 5.0, 5.0), &ground_truth),
            0.0
        );
        assert_eq!(
            iou(&BoundingBox::new(50.0, 50.0, 5.0, 5.0), &ground_truth),
            0.0
        );
    }

    #[test]
    fn iou_of_invalid_prediction_is_zero() {
        let ground_truth = BoundingBox::new(0.0, 0.0, 10.0, 10.0);

        for predicted in [
            BoundingBox::new(f64::NAN, 0.0, 10.0, 10.0),
            BoundingBox::new(0.0, 0.0, 0.0, 10.0),
            BoundingBox::new(0.0, 0.0, -10.0, -10.0),
            BoundingBox::new(0.0, 0.0, f64::INFINITY, 10.0),
        ] {
            assert_eq!(iou(&predicted, &ground_truth), 0.0, "{predicted:?}");
        }
    }

    #[test]
    fn center_errors_of_offset_box() {
        let ground_truth = BoundingBox::new(0.0, 0.0, 10.0, 20.0);
        let predicted = BoundingBox::new(3.0, 4.0, 10.0, 20.0);

        assert!((center_error(&predicted, &ground_truth) - 5.0).abs() < EXACT);
        let expected = (0.3_f64).hypot(0.2);
        assert!((normalized_center_error(&predicted, &ground_truth) - expected).abs() < EXACT);
    }

    #[test]
    fn center_error_of_invalid_box_is_infinite() {
        let valid = BoundingBox::new(0.0, 0.0, 10.0, 10.0);
        let empty = BoundingBox::new(0.0, 0.0, 0.0, 0.0);

        assert_eq!(center_error(&empty, &valid), f64::INFINITY);
        assert_eq!(center_error(&valid, &empty), f64::INFINITY);
        assert_eq!(
            normalized_center_error(&BoundingBox::missing(), &valid),
            f64::INFINITY
        );
        assert_eq!(normalized_center_error(&valid, &empty), f64::INFINITY);
    }

    #[test]
    fn got10k_iou_matches_plain_iou_inside_image() {
        let ground_truth = BoundingBox::new(10.0, 10.0, 10.0, 10.0);
        let predicted = BoundingBox::new(15.0, 10.0, 10.0, 10.0);
        let size = ImageSize {
            width: 100.0,
            height: 100.0,
        };

        let bounded = got10k_iou(&predicted, &ground_truth, Some(size));

        assert!((bounded - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn got10k_bound_shifts_box_over_left_edge() {
        let ground_truth = BoundingBox::new(0.0, 0.0, 10.0, 10.0);
        // Bounded to (0, 0, 10, 10): the toolkit moves the box, so it matches exactly.
        let predicted = BoundingBox::new(-5.0, 0.0, 10.0, 10.0);
        let size = ImageSize {
            width: 100.0,
            height: 100.0,
        };

        assert!((got10k_iou(&predicted, &ground_truth, Some(size)) - 1.0).abs() < 1e-9);
        assert!((got10k_iou(&predicted, &ground_truth, None) - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn got10k_bound_crops_box_over_right_edge() {
        let ground_truth = BoundingBox::new(90.0, 0.0, 10.0, 10.0);
        // Bounded to (90, 0, 10, 10).
        let predicted = BoundingBox::new(90.0, 0.0, 20.0, 10.0);
        let size = ImageSize {
            width: 100.0,
            height: 50.0,
        };

        assert!((got10k_iou(&predicted, &ground_truth, Some(size)) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn got10k_iou_of_invalid_prediction_is_zero() {
        let ground_truth = BoundingBox::new(0.0, 0.0, 10.0, 10.0);

        assert_eq!(
            got10k_iou(&BoundingBox::missing(), &ground_truth, None),
            0.0
        );
        let negative = BoundingBox::new(0.0, 0.0, -4.0, 10.0);
        assert_eq!(got10k_iou(&negative, &ground_truth, None), 0.0);
    }
}
