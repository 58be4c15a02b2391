//! Shape checks shared by the losses, so that a wrong input fails with a message that names it
//! instead of a panic inside burn.

use burn::tensor::Tensor;

use crate::DistillError;

/// Checks that `tensor` contains boxes: 4 coordinates in its last dimension.
pub(crate) fn ensure_boxes<const D: usize>(
    function: &'static str,
    input: &'static str,
    tensor: &Tensor<D>,
) -> Result<(), DistillError> {
    let shape = tensor.dims();
    if shape[D - 1] == 4 {
        Ok(())
    } else {
        Err(DistillError::BoxShape {
            function,
            input,
            shape: shape.to_vec(),
        })
    }
}

/// Checks that two inputs have the same shape.
pub(crate) fn ensure_same_shape<const D: usize>(
    function: &'static str,
    (left_name, left): (&'static str, &Tensor<D>),
    (right_name, right): (&'static str, &Tensor<D>),
) -> Result<(), DistillError> {
    let left_shape = left.dims();
    let right_shape = right.dims();
    if left_shape == right_shape {
        Ok(())
    } else {
        Err(DistillError::ShapeMismatch {
            function,
            left_name,
            left_shape: left_shape.to_vec(),
            right_name,
            right_shape: right_shape.to_vec(),
        })
    }
}

/// Checks that an input has at least one element, because the mean of nothing is NaN.
pub(crate) fn ensure_non_empty<const D: usize>(
    function: &'static str,
    input: &'static str,
    tensor: &Tensor<D>,
) -> Result<(), DistillError> {
    let shape = tensor.dims();
    if shape.contains(&0) {
        Err(DistillError::Empty {
            function,
            input,
            shape: shape.to_vec(),
        })
    } else {
        Ok(())
    }
}
