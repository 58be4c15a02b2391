//! Fixtures shared by the model tests: the PyTorch parity files written by
//! `xtask/scripts/make_model_fixtures.py`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use mixformer_model_vit::weights::WeightTensor;
use mixformer_model_vit::{HeadKind, LoadPolicy, MixFormer, VitConfig, load_weights_file};

/// Largest difference accepted between our outputs and PyTorch's.
pub const TOLERANCE: f32 = 1e-4;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The architecture of the fixture models: width 32, 4 heads, 32 px templates,
/// 64 px search.
pub fn fixture_config(name: &str) -> VitConfig {
    let base = VitConfig {
        embed_dim: 32,
        depth: 2,
        num_heads: 4,
        mlp_ratio: 4.0,
        patch_size: 16,
        template_size: 32,
        search_size: 64,
        head: HeadKind::CornerUp { channels: 32 },
        score_head: false,
        drop_path_rate: 0.1,
        layer_norm_eps: 1e-6,
    };
    match name {
        "teacher_corner_up" => base,
        "teacher_corner" => VitConfig {
            head: HeadKind::Corner { channels: 32 },
            ..base
        },
        "student" => VitConfig {
            depth: 3,
            mlp_ratio: 2.0,
            head: HeadKind::Distribution { bins: 16 },
            score_head: true,
            ..base
        },
        other => panic!("no fixture model named {other}"),
    }
}

/// Builds the fixture model `name` and loads its PyTorch checkpoint.
pub fn load_fixture_model(name: &str, device: &Device) -> MixFormer {
    let model = MixFormer::new(&fixture_config(name), device).expect("fixture config is valid");
    let policy = LoadPolicy::strict().with_classification_leftovers();
    let path = fixture_path(&format!("{name}.pth.tar"));
    let (model, report) = load_weights_file(model, &path, &policy).expect("fixture weights load");
    assert!(
        report.missing.is_empty(),
        "missing keys: {:?}",
        report.missing
    );
    burn::module::Module::valid(&model)
}

/// Reads every tensor of a safetensors file as `f32`.
pub fn read_safetensors(path: &Path) -> BTreeMap<String, WeightTensor> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("valid safetensors file");
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name} is not f32");
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            let shape = view.shape().to_vec();
            (name, WeightTensor { shape, values })
        })
        .collect()
}

/// Inputs and PyTorch outputs of the fixture `name`.
pub fn fixture_data(name: &str) -> BTreeMap<String, WeightTensor> {
    read_safetensors(&fixture_path(&format!("{name}.safetensors")))
}

pub fn tensor<const D: usize>(
    tensors: &BTreeMap<String, WeightTensor>,
    name: &str,
    device: &Device,
) -> Tensor<D> {
    let t = tensors
        .get(name)
        .unwrap_or_else(|| panic!("fixture has no tensor {name}"));
    Tensor::from_data(TensorData::new(t.values.clone(), t.shape.clone()), device)
}

/// The fixture's template, online template and search images.
pub fn fixture_images(
    tensors: &BTreeMap<String, WeightTensor>,
    device: &Device,
) -> (Tensor<4>, Tensor<4>, Tensor<4>) {
    (
        tensor(tensors, "template", device),
        tensor(tensors, "online_template", device),
        tensor(tensors, "search", device),
    )
}

pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}

/// Largest absolute difference between a tensor and a fixture entry of the same shape.
pub fn max_difference<const D: usize>(
    actual: Tensor<D>,
    tensors: &BTreeMap<String, WeightTensor>,
    name: &str,
) -> f32 {
    let expected = tensors
        .get(name)
        .unwrap_or_else(|| panic!("fixture has no tensor {name}"));
    assert_eq!(actual.dims().to_vec(), expected.shape, "shape of {name}");
    max_abs_diff(&values(actual), &expected.values)
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
