//! The MixFormer-ViT teacher and the MixFormerV2 student as burn modules.
//!
//! One definition, [`MixFormer`], covers every role: the teacher with the
//! corner head (`CORNER`, `CORNER_UP`), the student with four prediction tokens
//! and the distribution head, the layer-removal variant (per-block remove
//! rates in [`MixFormer::forward`]) and the online model with the score head.
//! Parameters carry the PyTorch key names of the published checkpoints
//! ([`weights`]), and tracking runs on a cached-template path
//! ([`MixFormer::encode_templates`], [`MixFormer::track`]).
//!
//! The crate is generic over burn's backends through the `Device` it is given.
//! It uses `mixformer-config` for the experiment configuration and
//! `mixformer-layer-surgery` for reading and writing weight files.

pub mod attention;
pub mod backbone;
pub mod block;
pub mod config;
pub mod device;
pub mod fused;
pub mod heads;
pub mod io;
pub mod model;
pub mod position;
pub mod weights;

mod error;

pub use backbone::{HeadInputs, TemplateCache, VisionTransformer};
pub use config::{HeadKind, VitConfig};
pub use device::{default_cpu_device, device_from_name};
pub use error::ModelError;
pub use io::{LoadPolicy, load_state_dict, load_weights_file, save_safetensors, to_state_dict};
pub use model::{BoxHead, HeadOutput, HeadsOutput, MixFormer, ModelOutput, TrackOutput};
