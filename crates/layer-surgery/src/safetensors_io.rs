//! Reading and writing weights in the safetensors format (weights only: a flat
//! map of names to tensors plus string metadata).

use std::borrow::Cow;
use std::collections::HashMap;

use safetensors::SafeTensors;
use safetensors::tensor::View;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::state_dict::StateDict;
use crate::tensor::Tensor;

/// Metadata written to every file, as `safetensors.torch.save_file` expects it.
const FORMAT_METADATA: (&str, &str) = ("format", "pt");

/// Reads the tensors of a safetensors file in the order of their data in the file.
pub(crate) fn read(data: &[u8], origin: &str) -> Result<StateDict> {
    let safetensors_error = |source| Error::Safetensors {
        origin: origin.to_owned(),
        source,
    };
    let (_, metadata) = SafeTensors::read_metadata(data).map_err(safetensors_error)?;
    let tensors = SafeTensors::deserialize(data).map_err(safetensors_error)?;

    let mut state_dict = StateDict::new();
    for name in metadata.offset_keys() {
        let view = tensors.tensor(&name).map_err(safetensors_error)?;
        let dtype = DType::from_safetensors(view.dtype()).ok_or_else(|| {
            Error::unsupported(
                origin,
                format!(
                    "tensor `{name}` has type {:?}, which is not read",
                    view.dtype()
                ),
            )
        })?;
        let tensor = Tensor::from_bytes(dtype, view.shape().to_vec(), view.data().to_vec())?;
        state_dict.insert(name, tensor);
    }
    Ok(state_dict)
}

/// Serialises a state dict. The format sorts tensors by alignment and name, so
/// the order of `state_dict` is not kept.
pub(crate) fn to_bytes(state_dict: &StateDict) -> Result<Vec<u8>> {
    let views = state_dict
        .iter()
        .map(|(name, tensor)| (name.to_owned(), TensorData(tensor)));
    let metadata = HashMap::from([(FORMAT_METADATA.0.to_owned(), FORMAT_METADATA.1.to_owned())]);
    safetensors::serialize(views, Some(metadata)).map_err(|source| Error::Safetensors {
        origin: "<memory>".to_owned(),
        source,
    })
}

struct TensorData<'a>(&'a Tensor);

impl View for TensorData<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        self.0.dtype().to_safetensors()
    }

    fn shape(&self) -> &[usize] {
        self.0.shape()
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.0.data())
    }

    fn data_len(&self) -> usize {
        self.0.data().len()
    }
}
