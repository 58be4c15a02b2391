//! Stage-1 logit distillation from a corner-head teacher: its two 2-D corner maps are
//! marginalised into the four 1-D side distributions that the student predicts.

use burn::tensor::Tensor;

use crate::check::ensure_same_shape;
use crate::kl::side_kl_loss;
use crate::{DistillError, SideDistributions};

/// Softmax probability maps of a corner head, each `[B, F·F]`, flattened row-major from an
/// `F×F` grid (row = y, column = x).
#[derive(Debug, Clone)]
pub struct CornerMaps {
    /// Map of the top-left corner `(x1, y1)`.
    pub prob_tl: Tensor<2>,
    /// Map of the bottom-right corner `(x2, y2)`.
    pub prob_br: Tensor<2>,
}

/// Marginalises the corner maps into side distributions over `bins` bins.
///
/// From the top-left map, `top` sums each row over x, giving a distribution over y. `left` sums
/// each column over y, giving a distribution over x. `bottom` and `right` come from the
/// bottom-right map the same way. Input maps are `[B, bins·bins]`, and every output side is
/// `[B, bins]`.
///
/// # Errors
///
/// [`DistillError::ShapeMismatch`] if the two maps differ in shape, and
/// [`DistillError::CornerMapSize`] if a map does not have `bins·bins` cells.
pub fn marginalise_corner_maps(
    maps: CornerMaps,
    bins: usize,
) -> Result<SideDistributions, DistillError> {
    ensure_same_shape(
        "corner KL loss",
        ("teacher prob_tl", &maps.prob_tl),
        ("teacher prob_br", &maps.prob_br),
    )?;
    let [batch_size, cells] = maps.prob_tl.dims();
    if cells != bins * bins {
        return Err(DistillError::CornerMapSize {
            map: "prob_tl",
            cells,
            bins,
            expected: bins * bins,
        });
    }

    // [B, F·F] -> [B, F (y), F (x)]
    let top_left = maps.prob_tl.reshape([batch_size, bins, bins]);
    let bottom_right = maps.prob_br.reshape([batch_size, bins, bins]);

    Ok(SideDistributions {
        left: top_left.clone().sum_dim(1).squeeze_dim::<2>(1),
        right: bottom_right.clone().sum_dim(1).squeeze_dim::<2>(1),
        top: top_left.sum_dim(2).squeeze_dim::<2>(2),
        bottom: bottom_right.sum_dim(2).squeeze_dim::<2>(2),
    })
}

/// Computes the stage-1 logit-distillation loss: the teacher's corner maps are marginalised
/// with [`marginalise_corner_maps`] and compared with the student's side logits by
/// [`side_kl_loss`].
///
/// `teacher` maps are `[B, F·F]`, and every `student` side contains logits `[B, F]`, where `F` is
/// the student's bin count. Returns `[1]`.
///
/// # Errors
///
/// [`DistillError::CornerMapSize`] if the maps do not have `F·F` cells, otherwise the errors of
/// [`marginalise_corner_maps`] and [`side_kl_loss`].
pub fn corner_kl_loss(
    teacher: CornerMaps,
    student: SideDistributions,
) -> Result<Tensor<1>, DistillError> {
    let [_, bins] = student.left.dims();
    let teacher_sides = marginalise_corner_maps(teacher, bins)?;
    side_kl_loss(teacher_sides, student)
}

#[cfg(test)]
mod tests {
    use burn::tensor::activation::softmax;
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::test_util::{assert_values_near, scalar};

    /// Builds a `[1, 9]` map of a 3×3 grid whose cell `(y, x)` contains `(3·y + x) / 36`.
    fn ramp_map(device: &Device) -> Tensor<2> {
        let cells: Vec<f32> = (0..9).map(|index| index as f32 / 36.0).collect();
        Tensor::from_data(TensorData::new(cells, [1, 9]), device)
    }

    #[test]
    fn marginals_sum_rows_and_columns() {
        let device = Device::flex();
        let maps = CornerMaps {
            prob_tl: ramp_map(&device),
            prob_br: ramp_map(&device).flip([1]),
        };
        let sides = marginalise_corner_maps(maps, 3).unwrap();
        // Rows of the ramp: (0+1+2), (3+4+5), (6+7+8) over 36; columns: (0+3+6), (1+4+7), (2+5+8).
        assert_values_near(&sides.top, &[3.0 / 36.0, 12.0 / 36.0, 21.0 / 36.0], 1e-6);
        assert_values_near(&sides.left, &[9.0 / 36.0, 12.0 / 36.0, 15.0 / 36.0], 1e-6);
        // The flipped ramp reverses both rows and columns.
        assert_values_near(&sides.bottom, &[21.0 / 36.0, 12.0 / 36.0, 3.0 / 36.0], 1e-6);
        assert_values_near(&sides.right, &[15.0 / 36.0, 12.0 / 36.0, 9.0 / 36.0], 1e-6);
    }

    #[test]
    fn corner_kl_is_zero_when_student_matches_marginals() {
        let device = Device::flex();
        let logits =
            Tensor::<2>::from_floats([[0.2, -0.5, 1.0, 0.0, 0.3, -1.0, 0.8, 0.1, -0.2]], &device);
        let map = softmax(logits, 1);
        let maps = CornerMaps {
            prob_tl: map.clone(),
            prob_br: map,
        };
        let marginals = marginalise_corner_maps(maps.clone(), 3).unwrap();
        let student = SideDistributions {
            left: marginals.left.log(),
            right: marginals.right.log(),
            top: marginals.top.log(),
            bottom: marginals.bottom.log(),
        };
        let loss = corner_kl_loss(maps, student).unwrap();
        assert!(scalar(loss).abs() < 1e-6);
    }

    #[test]
    fn corner_map_of_wrong_size_is_rejected() {
        let device = Device::flex();
        let maps = CornerMaps {
            prob_tl: Tensor::<2>::zeros([2, 5184], &device),
            prob_br: Tensor::<2>::zeros([2, 5184], &device),
        };
        let student_side = Tensor::<2>::zeros([2, 18], &device);
        let student = SideDistributions {
            left: student_side.clone(),
            right: student_side.clone(),
            top: student_side.clone(),
            bottom: student_side,
        };
        let error = corner_kl_loss(maps, student).unwrap_err();
        assert_eq!(
            error,
            DistillError::CornerMapSize {
                map: "prob_tl",
                cells: 5184,
                bins: 18,
                expected: 324,
            }
        );
    }
}
