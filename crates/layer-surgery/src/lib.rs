//! State dicts, PyTorch checkpoint interchange and layer surgery for MixFormerV2.
//!
//! Reads `torch.save` files (zip and legacy formats) through a restricted
//! unpickler that never executes code, reads and writes safetensors, writes
//! checkpoints that `torch.load` opens, edits state dicts (removing and
//! renumbering transformer blocks, renaming keys) and saves training
//! checkpoints crash-safely. The crate is plain Rust and does not depend on
//! burn, and the model crate converts its modules to and from [`StateDict`].

mod atomic;
mod checkpoint;
mod dtype;
mod error;
mod foreign;
mod format;
mod manager;
mod optimizer;
mod pickle;
mod safetensors_io;
mod state_dict;
pub mod surgery;
mod tensor;
mod torch_legacy;
mod torch_zip;
mod value;
mod weights;

pub use atomic::{TEMPORARY_SUFFIX, temporary_path, write_atomically};
pub use checkpoint::{Checkpoint, checkpoint_file_name};
pub use dtype::DType;
pub use error::{Error, Result};
pub use foreign::ForeignObject;
pub use format::{
    FileFormat, ReadOptions, pth_bytes, read_safetensors, read_value, read_value_bytes,
    read_value_bytes_with, read_value_with, safetensors_bytes, write_pth, write_safetensors,
};
pub use manager::{CheckpointManager, parse_checkpoint_epoch};
pub use optimizer::{AdamWGroup, AdamWParameterState, AdamWState};
pub use pickle::PickleError;
pub use state_dict::StateDict;
pub use surgery::{MismatchReport, SurgeryReport};
pub use tensor::{Element, Tensor, checked_numel};
pub use value::{Dict, DictKey, Value};
pub use weights::{Weights, WeightsLocation, find_weights, read_weights, read_weights_with};
