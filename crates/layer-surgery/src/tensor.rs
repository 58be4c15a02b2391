//! Dense tensors stored as contiguous little-endian bytes.

use half::{bf16, f16};

use crate::dtype::DType;
use crate::error::{Error, Result};

/// A Rust scalar type that maps one-to-one to a [`DType`].
pub trait Element: Copy + sealed::Sealed {
    const DTYPE: DType;

    /// Decodes one element from exactly `DTYPE.size()` little-endian bytes.
    fn from_le_slice(bytes: &[u8]) -> Self;

    /// Appends the little-endian bytes of `self`.
    fn extend_le(self, out: &mut Vec<u8>);

    /// Converts to `f64`: `true` is 1, and 64-bit integers round to the nearest `f64`.
    fn to_f64(self) -> f64;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! numeric_element {
    ($type:ty, $dtype:expr) => {
        impl sealed::Sealed for $type {}

        impl Element for $type {
            const DTYPE: DType = $dtype;

            fn from_le_slice(bytes: &[u8]) -> Self {
                let mut array = [0u8; std::mem::size_of::<$type>()];
                array.copy_from_slice(bytes);
                <$type>::from_le_bytes(array)
            }

            fn extend_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }

            fn to_f64(self) -> f64 {
                f64::from(self)
            }
        }
    };
}

numeric_element!(f64, DType::F64);
numeric_element!(f32, DType::F32);
numeric_element!(f16, DType::F16);
numeric_element!(bf16, DType::BF16);
numeric_element!(i32, DType::I32);
numeric_element!(i16, DType::I16);
numeric_element!(i8, DType::I8);
numeric_element!(u8, DType::U8);

impl sealed::Sealed for i64 {}

impl Element for i64 {
    const DTYPE: DType = DType::I64;

    fn from_le_slice(bytes: &[u8]) -> Self {
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        i64::from_le_bytes(array)
    }

    fn extend_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }

    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl sealed::Sealed for bool {}

impl Element for bool {
    const DTYPE: DType = DType::Bool;

    fn from_le_slice(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }

    fn extend_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }

    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
}

/// Number of elements of `shape`, or `None` when the product overflows `usize`.
pub fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |count, &dim| count.checked_mul(dim))
}

/// A dense, row-major tensor: element type, shape and contiguous little-endian data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    dtype: DType,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl Tensor {
    /// Builds a tensor from raw little-endian bytes, checking that their length is
    /// `numel(shape) · dtype.size()`.
    pub fn from_bytes(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> Result<Self> {
        let expected = checked_numel(&shape)
            .and_then(|numel| numel.checked_mul(dtype.size()))
            .ok_or_else(|| {
                Error::invalid_tensor(format!(
                    "shape {shape:?} has more elements than fit in memory"
                ))
            })?;
        if data.len() != expected {
            return Err(Error::invalid_tensor(format!(
                "{dtype} tensor of shape {shape:?} needs {expected} bytes, got {}",
                data.len()
            )));
        }
        Ok(Tensor { dtype, shape, data })
    }

    /// Builds a tensor of the element type of `T` from values in row-major order.
    pub fn from_values<T: Element>(shape: Vec<usize>, values: &[T]) -> Result<Self> {
        let mut data = Vec::with_capacity(values.len() * T::DTYPE.size());
        for &value in values {
            value.extend_le(&mut data);
        }
        Tensor::from_bytes(T::DTYPE, shape, data)
    }

    /// Builds a `float32` tensor. Fails when `values.len()` differs from `numel(shape)`.
    pub fn from_f32(shape: Vec<usize>, values: &[f32]) -> Result<Self> {
        Tensor::from_values(shape, values)
    }

    /// Builds a zero-dimensional tensor (shape `[]`), as PyTorch stores AdamW's `step`.
    pub fn scalar<T: Element>(value: T) -> Self {
        let mut data = Vec::with_capacity(T::DTYPE.size());
        value.extend_le(&mut data);
        Tensor {
            dtype: T::DTYPE,
            shape: Vec::new(),
            data,
        }
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Returns the contiguous little-endian element bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Number of elements (1 for a zero-dimensional tensor).
    pub fn numel(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// Returns the values as `T`. Fails unless the tensor's type is exactly `T`'s.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        if self.dtype != T::DTYPE {
            return Err(Error::invalid_tensor(format!(
                "requested {} values from a {} tensor",
                T::DTYPE,
                self.dtype
            )));
        }
        Ok(self
            .data
            .chunks_exact(self.dtype.size())
            .map(T::from_le_slice)
            .collect())
    }

    /// Converts every element to `f64` (integers and booleans included).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        fn convert<T: Element>(data: &[u8]) -> Vec<f64> {
            data.chunks_exact(T::DTYPE.size())
                .map(|bytes| T::from_le_slice(bytes).to_f64())
                .collect()
        }

        match self.dtype {
            DType::F64 => convert::<f64>(&self.data),
            DType::F32 => convert::<f32>(&self.data),
            DType::F16 => convert::<f16>(&self.data),
            DType::BF16 => convert::<bf16>(&self.data),
            DType::I64 => convert::<i64>(&self.data),
            DType::I32 => convert::<i32>(&self.data),
            DType::I16 => convert::<i16>(&self.data),
            DType::I8 => convert::<i8>(&self.data),
            DType::U8 => convert::<u8>(&self.data),
            DType::Bool => convert::<bool>(&self.data),
        }
    }

    /// Converts every element to `f32`, rounding `float64` and 64-bit integers to nearest.
    pub fn to_f32_vec(&self) -> Vec<f32> {
        if self.dtype == DType::F32 {
            return self.data.chunks_exact(4).map(f32::from_le_slice).collect();
        }
        self.to_f64_vec()
            .into_iter()
            .map(|value| value as f32)
            .collect()
    }

    /// Returns the single value of a one-element tensor as `f64`.
    pub fn item(&self) -> Option<f64> {
        (self.numel() == 1).then(|| self.to_f64_vec()[0])
    }

    /// Largest absolute difference between the elements of two tensors of equal shape,
    /// compared as `f64`, or `None` when the shapes differ. NaN against NaN counts as equal.
    pub fn max_abs_diff(&self, other: &Tensor) -> Option<f64> {
        if self.shape != other.shape {
            return None;
        }
        let max = self
            .to_f64_vec()
            .into_iter()
            .zip(other.to_f64_vec())
            .map(|(left, right)| {
                if left.to_bits() == right.to_bits() || (left.is_nan() && right.is_nan()) {
                    0.0
                } else {
                    (left - right).abs()
                }
            })
            .fold(0.0, |max: f64, difference| {
                if difference.is_nan() || difference > max {
                    difference
                } else {
                    max
                }
            });
        Some(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_f32_rejects_wrong_length() {
        let error = Tensor::from_f32(vec![2, 3], &[1.0; 5]).unwrap_err();
        assert!(
            error.to_string().contains("needs 24 bytes, got 20"),
            "{error}"
        );
    }

    #[test]
    fn half_precision_converts_to_f32() {
        let values = [f16::from_f32(1.5), f16::from_f32(-2.0)];
        let tensor = Tensor::from_values(vec![2], &values).unwrap();
        assert_eq!(tensor.dtype(), DType::F16);
        assert_eq!(tensor.to_f32_vec(), vec![1.5, -2.0]);
        let brain = Tensor::from_values(vec![1], &[bf16::from_f32(0.25)]).unwrap();
        assert_eq!(brain.to_f32_vec(), vec![0.25]);
    }

    #[test]
    fn to_vec_requires_matching_dtype() {
        let tensor = Tensor::from_values(vec![3], &[1i64, -2, 3]).unwrap();
        assert_eq!(tensor.to_vec::<i64>().unwrap(), vec![1, -2, 3]);
        assert!(tensor.to_vec::<i32>().is_err());
        assert_eq!(tensor.to_f32_vec(), vec![1.0, -2.0, 3.0]);
    }

    #[test]
    fn scalar_has_empty_shape_and_one_element() {
        let step = Tensor::scalar(12.0f32);
        assert_eq!(step.shape(), &[] as &[usize]);
        assert_eq!(step.numel(), 1);
        assert_eq!(step.item(), Some(12.0));
    }

    #[test]
    fn max_abs_diff_reports_largest_difference() {
        let left = Tensor::from_f32(vec![3], &[1.0, 2.0, 3.0]).unwrap();
        let right = Tensor::from_f32(vec![3], &[1.0, 2.5, 2.0]).unwrap();
        assert_eq!(left.max_abs_diff(&right), Some(1.0));
        let other_shape = Tensor::from_f32(vec![1, 3], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(left.max_abs_diff(&other_shape), None);
        let nan = Tensor::from_f32(vec![1], &[f32::NAN]).unwrap();
        let one = Tensor::from_f32(vec![1], &[1.0]).unwrap();
        assert_eq!(nan.max_abs_diff(&nan), Some(0.0));
        assert!(nan.max_abs_diff(&one).unwrap().is_nan());
    }
}
