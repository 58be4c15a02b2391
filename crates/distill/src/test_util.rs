//! Helpers for the unit tests.

use burn::tensor::Tensor;

/// Reads a one-element tensor as `f64`.
pub(crate) fn scalar<const D: usize>(tensor: Tensor<D>) -> f64 {
    f64::from(tensor.into_scalar::<f32>())
}

/// Asserts that the tensor's values, flattened row-major, are within `tolerance` of `expected`.
pub(crate) fn assert_values_near<const D: usize>(
    tensor: &Tensor<D>,
    expected: &[f64],
    tolerance: f64,
) {
    let actual = tensor.to_data().try_to_vec::<f32>().unwrap();
    assert_eq!(actual.len(), expected.len(), "element count");
    for (index, (&actual, &expected)) in actual.iter().zip(expected).enumerate() {
        let error = (f64::from(actual) - expected).abs();
        assert!(
            error <= tolerance,
            "element {index}: {actual} differs from {expected} by {error:e} \
             (tolerance {tolerance:e})"
        );
    }
}

/// Asserts that every value of the tensor is finite.
pub(crate) fn assert_all_finite<const D: usize>(tensor: &Tensor<D>, context: &str) {
    let values = tensor.to_data().try_to_vec::<f32>().unwrap();
    assert!(
        values.iter().all(|value| value.is_finite()),
        "{context}: non-finite values {values:?}"
    );
}
