//! Element types of stored tensors and their names in PyTorch and safetensors.

use std::fmt;

/// Element type of a tensor, with the spelling PyTorch uses in `Tensor.dtype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    /// Every supported element type.
    pub const ALL: [DType; 10] = [
        DType::F64,
        DType::F32,
        DType::F16,
        DType::BF16,
        DType::I64,
        DType::I32,
        DType::I16,
        DType::I8,
        DType::U8,
        DType::Bool,
    ];

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// PyTorch name without the `torch.` prefix, e.g. `float32`.
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::I64 => "int64",
            DType::I32 => "int32",
            DType::I16 => "int16",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::Bool => "bool",
        }
    }

    /// Whether the type is a floating-point type.
    pub fn is_floating_point(self) -> bool {
        matches!(self, DType::F64 | DType::F32 | DType::F16 | DType::BF16)
    }

    /// Name of the legacy typed-storage class that `torch.save` pickles for this type,
    /// e.g. `FloatStorage` for `torch.FloatStorage`.
    pub fn torch_storage_name(self) -> &'static str {
        match self {
            DType::F64 => "DoubleStorage",
            DType::F32 => "FloatStorage",
            DType::F16 => "HalfStorage",
            DType::BF16 => "BFloat16Storage",
            DType::I64 => "LongStorage",
            DType::I32 => "IntStorage",
            DType::I16 => "ShortStorage",
            DType::I8 => "CharStorage",
            DType::U8 => "ByteStorage",
            DType::Bool => "BoolStorage",
        }
    }

    /// Looks up the type of a `torch.<name>` storage class.
    pub fn from_torch_storage_name(name: &str) -> Option<DType> {
        DType::ALL
            .into_iter()
            .find(|dtype| dtype.torch_storage_name() == name)
    }

    /// The safetensors spelling of this type.
    pub fn to_safetensors(self) -> safetensors::Dtype {
        match self {
            DType::F64 => safetensors::Dtype::F64,
            DType::F32 => safetensors::Dtype::F32,
            DType::F16 => safetensors::Dtype::F16,
            DType::BF16 => safetensors::Dtype::BF16,
            DType::I64 => safetensors::Dtype::I64,
            DType::I32 => safetensors::Dtype::I32,
            DType::I16 => safetensors::Dtype::I16,
            DType::I8 => safetensors::Dtype::I8,
            DType::U8 => safetensors::Dtype::U8,
            DType::Bool => safetensors::Dtype::BOOL,
        }
    }

    /// Maps a safetensors type to ours, or returns `None` for the types this crate
    /// does not read (unsigned 16/32/64-bit integers, 8-bit floats, complex).
    pub fn from_safetensors(dtype: safetensors::Dtype) -> Option<DType> {
        DType::ALL
            .into_iter()
            .find(|candidate| candidate.to_safetensors() == dtype)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_names_map_back_to_their_types() {
        for dtype in DType::ALL {
            assert_eq!(
                DType::from_torch_storage_name(dtype.torch_storage_name()),
                Some(dtype)
            );
            assert_eq!(DType::from_safetensors(dtype.to_safetensors()), Some(dtype));
        }
        assert_eq!(DType::from_torch_storage_name("ComplexFloatStorage"), None);
    }

    #[test]
    fn element_sizes_match_pytorch() {
        assert_eq!(DType::BF16.size(), 2);
        assert_eq!(DType::I64.size(), 8);
        assert_eq!(DType::Bool.size(), 1);
    }
}
