//! Feature distillation: mean squared error between chosen student and teacher block outputs.

use burn::tensor::Tensor;

use crate::DistillError;
use crate::check::{ensure_non_empty, ensure_same_shape};

/// Computes the feature-distillation loss between paired block outputs.
///
/// `student_features[i]` and `teacher_features[j]` are the outputs of block `i` and `j`, each
/// `[B, N, D]` over all tokens. Student block `student_layers[k]` is paired with teacher block
/// `teacher_layers[k]` (`TRAIN.DISTILL_LAYERS_STUDENT` and `TRAIN.DISTILL_LAYERS_TEACHER`). The
/// result, `[1]`, is the mean squared error of the two stacks `[L, B, N, D]`, computed pair by
/// pair without building the stacks. Teacher features are detached.
///
/// # Errors
///
/// - [`DistillError::NoLayers`] for empty layer lists.
/// - [`DistillError::LayerCountMismatch`] for lists of different lengths.
/// - [`DistillError::LayerOutOfRange`] for an index past the recorded outputs.
/// - [`DistillError::ShapeMismatch`] if a selected output differs in shape from the first
///   selected student output.
/// - [`DistillError::Empty`] if that output has no elements.
pub fn feature_mse_loss(
    student_features: &[Tensor<3>],
    teacher_features: &[Tensor<3>],
    student_layers: &[usize],
    teacher_layers: &[usize],
) -> Result<Tensor<1>, DistillError> {
    const FUNCTION: &str = "feature MSE loss";
    if student_layers.len() != teacher_layers.len() {
        return Err(DistillError::LayerCountMismatch {
            student: student_layers.len(),
            teacher: teacher_layers.len(),
        });
    }
    if student_layers.is_empty() {
        return Err(DistillError::NoLayers);
    }
    let students = select_layers("student", student_features, student_layers)?;
    let teachers = select_layers("teacher", teacher_features, teacher_layers)?;

    // Every pair must have the stacked shape, that of the first student output.
    let reference = students[0];
    ensure_non_empty(FUNCTION, "student feature", reference)?;
    for (student, teacher) in students.iter().zip(&teachers) {
        ensure_same_shape(
            FUNCTION,
            ("first student feature", reference),
            ("student feature", student),
        )?;
        ensure_same_shape(
            FUNCTION,
            ("student feature", student),
            ("teacher feature", teacher),
        )?;
    }

    let mut squared_error_sums = Vec::with_capacity(students.len());
    for (student, teacher) in students.into_iter().zip(teachers) {
        let difference = student.clone() - teacher.clone().detach();
        squared_error_sums.push(difference.square().sum());
    }
    let element_count = squared_error_sums.len() * reference.shape().num_elements();
    Ok(Tensor::cat(squared_error_sums, 0)
        .sum()
        .div_scalar(element_count as f64))
}

/// Picks the outputs of the listed blocks.
fn select_layers<'a>(
    role: &'static str,
    features: &'a [Tensor<3>],
    layers: &[usize],
) -> Result<Vec<&'a Tensor<3>>, DistillError> {
    layers
        .iter()
        .map(|&index| {
            features.get(index).ok_or(DistillError::LayerOutOfRange {
                role,
                index,
                available: features.len(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::*;
    use crate::test_util::scalar;

    fn constant_features(device: &Device, values: &[f32]) -> Vec<Tensor<3>> {
        values
            .iter()
            .map(|&value| Tensor::<3>::full([2, 3, 4], value, device))
            .collect()
    }

    #[test]
    fn feature_mse_uses_selected_pairs() {
        let device = Device::flex();
        let student = constant_features(&device, &[0.0, 1.0, 2.0]);
        let teacher = constant_features(&device, &[5.0, 1.5, 0.0, 4.0]);
        // Pairs (1, 1) and (2, 3): errors 0.5² and 2², equally many elements each.
        let loss = feature_mse_loss(&student, &teacher, &[1, 2], &[1, 3]).unwrap();
        assert!((scalar(loss) - (0.25 + 4.0) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn feature_mse_rejects_unpaired_layers() {
        let device = Device::flex();
        let features = constant_features(&device, &[0.0, 1.0]);
        let error = feature_mse_loss(&features, &features, &[0, 1], &[0]).unwrap_err();
        assert_eq!(
            error,
            DistillError::LayerCountMismatch {
                student: 2,
                teacher: 1
            }
        );
    }

    #[test]
    fn feature_mse_rejects_missing_layer() {
        let device = Device::flex();
        let features = constant_features(&device, &[0.0, 1.0]);
        let error = feature_mse_loss(&features, &features, &[0], &[2]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "feature MSE loss: teacher layer 2 is out of range because the teacher recorded 2 \
             block outputs; use indices below 2"
        );
    }

    #[test]
    fn feature_mse_rejects_empty_layer_lists() {
        let device = Device::flex();
        let features = constant_features(&device, &[0.0]);
        let error = feature_mse_loss(&features, &features, &[], &[]).unwrap_err();
        assert_eq!(error, DistillError::NoLayers);
    }

    #[test]
    fn feature_mse_rejects_mismatched_token_counts() {
        let device = Device::flex();
        let student = vec![Tensor::<3>::zeros([2, 3, 4], &device)];
        let teacher = vec![Tensor::<3>::zeros([2, 5, 4], &device)];
        let error = feature_mse_loss(&student, &teacher, &[0], &[0]).unwrap_err();
        assert!(
            matches!(error, DistillError::ShapeMismatch { .. }),
            "{error}"
        );
    }
}
