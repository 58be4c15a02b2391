//! Weights leave and re-enter the model unchanged, and loads that do not fit
//! are rejected with the offending keys.

mod common;

use burn::tensor::Device;
use common::*;
use mixformer_layer_surgery::{Dict, Value, read_weights, write_pth};
use mixformer_model_vit::{
    LoadPolicy, MixFormer, ModelError, load_state_dict, load_weights_file, save_safetensors,
    to_state_dict,
};

fn outputs(model: &MixFormer, device: &Device) -> Vec<f32> {
    let data = fixture_data("student");
    let (template, online, search) = fixture_images(&data, device);
    let out = model.forward(template, online, search, None);
    let mut all = values(out.boxes());
    for block in out.block_outputs {
        all.extend(values(block));
    }
    all.extend(values(out.score_logits.expect("student has a score head")));
    all
}

#[test]
fn safetensors_round_trip_gives_identical_outputs() {
    let device = Device::flex();
    let model = load_fixture_model("student", &device);
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("student.safetensors");

    save_safetensors(&model, &path).expect("save");
    let fresh = MixFormer::new(&fixture_config("student"), &device).expect("valid config");
    let (reloaded, report) = load_weights_file(fresh, &path, &LoadPolicy::strict()).expect("load");

    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);
    assert_eq!(outputs(&model, &device), outputs(&reloaded, &device));
}

#[test]
fn pth_round_trip_gives_identical_outputs_and_pytorch_names() {
    let device = Device::flex();
    let model = load_fixture_model("teacher_corner_up", &device);
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("MixFormer_ep0001.pth.tar");

    let state_dict = to_state_dict(&model).expect("export");
    let checkpoint = Dict::new()
        .with("net", state_dict.to_value())
        .with("epoch", Value::Int(1));
    write_pth(&path, &Value::Dict(checkpoint)).expect("write");

    // Every key PyTorch wrote for these modules comes back, and nothing else.
    let original = read_weights(&fixture_path("teacher_corner_up.pth.tar"))
        .unwrap()
        .state_dict;
    let written = read_weights(&path).unwrap().state_dict;
    let leftovers = [
        "backbone.cls_token",
        "backbone.pos_embed",
        "backbone.norm.weight",
        "backbone.norm.bias",
    ];
    let mut expected: Vec<&str> = original
        .names()
        .filter(|k| !leftovers.contains(k))
        .collect();
    let mut actual: Vec<&str> = written.names().collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected);

    let fresh = MixFormer::new(&fixture_config("teacher_corner_up"), &device).unwrap();
    let (reloaded, _) = load_weights_file(fresh, &path, &LoadPolicy::strict()).expect("load");
    let reloaded = burn::module::Module::valid(&reloaded);
    let data = fixture_data("teacher_corner_up");
    let (t, o, s) = fixture_images(&data, &device);
    let before = values(model.forward(t.clone(), o.clone(), s.clone(), None).boxes());
    let after = values(reloaded.forward(t, o, s, None).boxes());
    assert_eq!(before, after);
}

#[test]
fn module_prefixed_checkpoint_loads_the_same_weights() {
    let device = Device::flex();
    let weights = read_weights(&fixture_path("student.pth.tar"))
        .unwrap()
        .state_dict;
    let mut prefixed = mixformer_layer_surgery::StateDict::new();
    for (key, tensor) in weights.iter() {
        prefixed.insert(format!("module.{key}"), tensor.clone());
    }
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("prefixed.pth");
    let checkpoint = Dict::new().with("net", prefixed.to_value());
    write_pth(&path, &Value::Dict(checkpoint)).unwrap();

    let fresh = MixFormer::new(&fixture_config("student"), &device).unwrap();
    let (model, _) = load_weights_file(fresh, &path, &LoadPolicy::strict()).expect("load");
    let reference = load_fixture_model("student", &device);
    assert_eq!(
        outputs(&burn::module::Module::valid(&model), &device),
        outputs(&reference, &device)
    );
}

#[test]
fn shape_mismatch_is_an_error_naming_the_key() {
    let device = Device::flex();
    let mut config = fixture_config("student");
    config.head = mixformer_model_vit::HeadKind::Distribution { bins: 32 };
    let model = MixFormer::new(&config, &device).unwrap();
    let path = fixture_path("student.pth.tar");

    let error = load_weights_file(model, &path, &LoadPolicy::strict()).unwrap_err();

    let ModelError::LoadMismatch {
        shape_mismatches, ..
    } = &error
    else {
        panic!("expected a mismatch, got {error}");
    };
    let keys: Vec<&str> = shape_mismatches
        .iter()
        .map(|(k, _, _)| k.as_str())
        .collect();
    assert!(keys.contains(&"box_head.layers.1.0.weight"), "{keys:?}");
    let message = error.to_string();
    assert!(
        message.contains("box_head.layers.1.0.weight: shape [16, 32] in the file, [32, 32]"),
        "{message}"
    );
}

#[test]
fn missing_keys_are_an_error_unless_allowed() {
    let device = Device::flex();
    let weights = read_weights(&fixture_path("student.pth.tar"))
        .unwrap()
        .state_dict;
    let mut without_score = mixformer_layer_surgery::StateDict::new();
    for (key, tensor) in weights
        .iter()
        .filter(|(k, _)| !k.starts_with("score_head."))
    {
        without_score.insert(key, tensor.clone());
    }
    let config = fixture_config("student");

    let model = MixFormer::new(&config, &device).unwrap();
    let error =
        load_state_dict(model, &without_score, &LoadPolicy::strict(), "stage 2b").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("missing from the file: score_head.layers.0.0.weight"),
        "{error}"
    );

    let policy = LoadPolicy {
        allow_missing: vec!["score_head.".into()],
        ..LoadPolicy::strict()
    };
    let model = MixFormer::new(&config, &device).unwrap();
    let (_, report) = load_state_dict(model, &without_score, &policy, "stage 2b").expect("allowed");
    assert_eq!(report.missing.len(), 4);
}

#[test]
fn unexpected_keys_are_an_error_in_a_strict_load() {
    let device = Device::flex();
    let model = MixFormer::new(&fixture_config("teacher_corner_up"), &device).unwrap();
    let path = fixture_path("teacher_corner_up.pth.tar");

    let error = load_weights_file(model, &path, &LoadPolicy::strict()).unwrap_err();

    let message = error.to_string();
    assert!(
        message.contains("not used by the model: backbone.cls_token"),
        "{message}"
    );
}
