//! Box format conversions.
//!
//! Boxes are normalised to the search crop. The heads predict `(x1, y1, x2, y2)`, the network
//! reports `(cx, cy, w, h)`, and ground truth arrives as `(x, y, w, h)`: top-left corner plus
//! size, as in pytracking annotations. Every function takes any number of leading dimensions
//! (`[N, 4]`, `[B, N, 4]`, ...) and works on the last one.

use burn::tensor::Tensor;

use crate::DistillError;
use crate::check::ensure_boxes;

/// Converts `(cx, cy, w, h)` boxes to `(x1, y1, x2, y2)`.
///
/// Shapes: `[..., 4] -> [..., 4]`.
///
/// # Errors
///
/// [`DistillError::BoxShape`] if the last dimension is not 4.
pub fn box_cxcywh_to_xyxy<const D: usize>(boxes: Tensor<D>) -> Result<Tensor<D>, DistillError> {
    ensure_boxes("box_cxcywh_to_xyxy", "boxes", &boxes)?;
    let [cx, cy, w, h] = split_coordinates(boxes);

    let half_w = w.div_scalar(2.0);
    let half_h = h.div_scalar(2.0);
    Ok(join_coordinates([
        cx.clone() - half_w.clone(),
        cy.clone() - half_h.clone(),
        cx + half_w,
        cy + half_h,
    ]))
}

/// Converts `(x1, y1, x2, y2)` boxes to `(cx, cy, w, h)`.
///
/// Shapes: `[..., 4] -> [..., 4]`.
///
/// # Errors
///
/// [`DistillError::BoxShape`] if the last dimension is not 4.
pub fn box_xyxy_to_cxcywh<const D: usize>(boxes: Tensor<D>) -> Result<Tensor<D>, DistillError> {
    ensure_boxes("box_xyxy_to_cxcywh", "boxes", &boxes)?;
    let [x1, y1, x2, y2] = split_coordinates(boxes);

    Ok(join_coordinates([
        (x1.clone() + x2.clone()).div_scalar(2.0),
        (y1.clone() + y2.clone()).div_scalar(2.0),
        x2 - x1,
        y2 - y1,
    ]))
}

/// Converts `(x, y, w, h)` boxes (top-left corner and size) to `(x1, y1, x2, y2)`.
///
/// Shapes: `[..., 4] -> [..., 4]`.
///
/// # Errors
///
/// [`DistillError::BoxShape`] if the last dimension is not 4.
pub fn box_xywh_to_xyxy<const D: usize>(boxes: Tensor<D>) -> Result<Tensor<D>, DistillError> {
    ensure_boxes("box_xywh_to_xyxy", "boxes", &boxes)?;
    let [x, y, w, h] = split_coordinates(boxes);

    Ok(join_coordinates([x.clone(), y.clone(), x + w, y + h]))
}

/// Clamps every coordinate to `[0, 1]`, the extent of the normalised crop.
///
/// Shapes: `[..., 4] -> [..., 4]`. A box lying wholly outside the crop collapses to a line or a
/// point on its border, which the CIoU loss accepts.
///
/// # Errors
///
/// [`DistillError::BoxShape`] if the last dimension is not 4.
pub fn clamp_boxes_to_unit<const D: usize>(boxes: Tensor<D>) -> Result<Tensor<D>, DistillError> {
    ensure_boxes("clamp_boxes_to_unit", "boxes", &boxes)?;
    Ok(boxes.clamp(0.0, 1.0))
}

/// Prepares ground truth for the losses: `(x, y, w, h)` to `(x1, y1, x2, y2)`, clamped to
/// `[0, 1]`.
///
/// Shapes: `[..., 4] -> [..., 4]`.
///
/// # Errors
///
/// [`DistillError::BoxShape`] if the last dimension is not 4.
pub fn ground_truth_to_xyxy<const D: usize>(boxes: Tensor<D>) -> Result<Tensor<D>, DistillError> {
    ensure_boxes("ground_truth_to_xyxy", "boxes", &boxes)?;
    clamp_boxes_to_unit(box_xywh_to_xyxy(boxes)?)
}

/// Splits `[..., 4]` into its four coordinates, each `[..., 1]`.
pub(crate) fn split_coordinates<const D: usize>(boxes: Tensor<D>) -> [Tensor<D>; 4] {
    let last = D - 1;
    [0, 1, 2, 3].map(|index| boxes.clone().narrow(last, index, 1))
}

fn join_coordinates<const D: usize>(coordinates: [Tensor<D>; 4]) -> Tensor<D> {
    Tensor::cat(coordinates.to_vec(), D - 1)
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;
    use crate::test_util::assert_values_near;

    fn boxes(values: [[f32; 4]; 2]) -> Tensor<2> {
        Tensor::from_floats(values, &Device::flex())
    }

    #[test]
    fn cxcywh_to_xyxy_moves_half_size_each_way() {
        let converted = box_cxcywh_to_xyxy(boxes([[0.5, 0.5, 0.2, 0.4], [0.1, 0.2, 0.3, 0.0]]));
        let expected = [0.4, 0.3, 0.6, 0.7, -0.05, 0.2, 0.25, 0.2];
        assert_values_near(&converted.unwrap(), &expected, 1e-6);
    }

    #[test]
    fn xyxy_to_cxcywh_inverts_cxcywh_to_xyxy() {
        let original = boxes([[0.5, 0.5, 0.2, 0.4], [0.3, 0.6, 0.25, 0.125]]);
        let round_trip = box_xyxy_to_cxcywh(box_cxcywh_to_xyxy(original).unwrap()).unwrap();
        let expected = [0.5, 0.5, 0.2, 0.4, 0.3, 0.6, 0.25, 0.125];
        assert_values_near(&round_trip, &expected, 1e-6);
    }

    #[test]
    fn xywh_to_xyxy_adds_size_to_corner() {
        let converted = box_xywh_to_xyxy(boxes([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.0, 0.0]]));
        let expected = [0.1, 0.2, 0.4, 0.6, 0.5, 0.5, 0.5, 0.5];
        assert_values_near(&converted.unwrap(), &expected, 1e-6);
    }

    #[test]
    fn ground_truth_outside_crop_collapses_to_border() {
        // The first box hangs over the right edge; the second lies wholly below the crop.
        let prepared = ground_truth_to_xyxy(boxes([[0.9, 0.2, 0.3, 0.4], [0.2, 1.3, 0.1, 0.2]]));
        let expected = [0.9, 0.2, 1.0, 0.6, 0.2, 1.0, 0.3, 1.0];
        assert_values_near(&prepared.unwrap(), &expected, 1e-6);
    }

    #[test]
    fn conversions_keep_leading_dimensions() {
        let batch = Tensor::<3>::zeros([2, 3, 4], &Device::flex());
        let converted = box_cxcywh_to_xyxy(batch).unwrap();
        assert_eq!(converted.dims(), [2, 3, 4]);
    }

    #[test]
    fn conversion_rejects_wrong_last_dimension() {
        let wrong = Tensor::<2>::zeros([2, 5], &Device::flex());
        let error = box_xywh_to_xyxy(wrong).unwrap_err();
        assert_eq!(
            error,
            DistillError::BoxShape {
                function: "box_xywh_to_xyxy",
                input: "boxes",
                shape: vec![2, 5],
            }
        );
        assert_eq!(
            error.to_string(),
            "box_xywh_to_xyxy: boxes has shape [2, 5], expected boxes with 4 coordinates in the \
             last dimension"
        );
    }
}
