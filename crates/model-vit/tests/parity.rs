//! The models reproduce a PyTorch implementation's outputs from the same weights.

mod common;

use burn::tensor::Device;
use common::*;
use mixformer_layer_surgery::{Tensor as StoredTensor, read_weights};
use mixformer_model_vit::{HeadOutput, LoadPolicy, MixFormer, load_state_dict};

fn assert_close(difference: f32, what: &str) {
    eprintln!("{what}: largest difference from PyTorch {difference:.1e}");
    assert!(
        difference <= TOLERANCE,
        "{what} differs from PyTorch by {difference}"
    );
}

#[test]
fn teacher_corner_up_matches_pytorch() {
    let device = Device::flex();
    let model = load_fixture_model("teacher_corner_up", &device);
    let data = fixture_data("teacher_corner_up");
    let (template, online, search) = fixture_images(&data, &device);

    let out = model.forward(template, online, search, None);

    assert_close(max_difference(out.boxes(), &data, "boxes"), "boxes");
    let HeadOutput::Corner(corner) = &out.head else {
        panic!("the teacher has a corner head");
    };
    assert_eq!(corner.prob_tl.dims(), [2, 16 * 16]);
    assert_close(
        max_difference(corner.prob_tl.clone(), &data, "prob_tl"),
        "prob_tl",
    );
    assert_close(
        max_difference(corner.prob_br.clone(), &data, "prob_br"),
        "prob_br",
    );
}

#[test]
fn teacher_corner_matches_pytorch() {
    let device = Device::flex();
    let model = load_fixture_model("teacher_corner", &device);
    let data = fixture_data("teacher_corner");
    let (template, online, search) = fixture_images(&data, &device);

    let out = model.forward(template, online, search, None);

    assert_close(max_difference(out.boxes(), &data, "boxes"), "boxes");
    let HeadOutput::Corner(corner) = &out.head else {
        panic!("the teacher has a corner head");
    };
    assert_eq!(corner.prob_tl.dims(), [2, 4 * 4]);
    assert_close(
        max_difference(corner.prob_tl.clone(), &data, "prob_tl"),
        "prob_tl",
    );
    assert_close(
        max_difference(corner.prob_br.clone(), &data, "prob_br"),
        "prob_br",
    );
}

#[test]
fn student_matches_pytorch() {
    let device = Device::flex();
    let model = load_fixture_model("student", &device);
    let data = fixture_data("student");
    let (template, online, search) = fixture_images(&data, &device);

    let out = model.forward(template, online, search, None);

    assert_close(max_difference(out.boxes(), &data, "boxes"), "boxes");
    let HeadOutput::Distribution(distribution) = &out.head else {
        panic!("the student has a distribution head");
    };
    for (side, logits) in [
        ("left", &distribution.left),
        ("top", &distribution.top),
        ("right", &distribution.right),
        ("bottom", &distribution.bottom),
    ] {
        let name = format!("logits_{side}");
        assert_close(max_difference(logits.clone(), &data, &name), &name);
    }
    assert_eq!(out.block_outputs.len(), 3);
    for (index, block) in out.block_outputs.iter().enumerate() {
        let name = format!("block_{index}");
        assert_close(max_difference(block.clone(), &data, &name), &name);
    }
    let scores = out
        .score_logits
        .expect("the fixture student has a score head");
    assert_close(
        max_difference(scores, &data, "score_logits"),
        "score_logits",
    );
}

#[test]
fn remove_rates_scale_residual_branches_as_pytorch() {
    let device = Device::flex();
    let model = load_fixture_model("student", &device);
    let data = fixture_data("student");
    let (template, online, search) = fixture_images(&data, &device);
    let rates: Vec<f64> = data["remove_rates"]
        .values
        .iter()
        .map(|&r| r as f64)
        .collect();

    let out = model.forward(template, online, search, Some(&rates));

    assert_close(
        max_difference(out.boxes(), &data, "boxes_removed"),
        "boxes_removed",
    );
}

/// The parity checks above can fail: one perturbed weight moves the outputs
/// well past the tolerance.
#[test]
fn perturbed_weight_breaks_parity() {
    let device = Device::flex();
    let data = fixture_data("student");
    let path = fixture_path("student.pth.tar");
    let mut weights = read_weights(&path).expect("fixture reads").state_dict;

    let key = "backbone.blocks.1.mlp.fc1.weight";
    let original = weights.get(key).expect("fixture has the key");
    let mut values = original.to_f32_vec();
    values[0] += 0.05;
    let shape = original.shape().to_vec();
    weights.insert(
        key,
        StoredTensor::from_f32(shape, &values).expect("same size"),
    );

    let model = MixFormer::new(&fixture_config("student"), &device).expect("valid config");
    let (model, _) = load_state_dict(model, &weights, &LoadPolicy::strict(), "perturbed")
        .expect("perturbed weights still fit");
    let (template, online, search) = fixture_images(&data, &device);
    let out = model.forward(template, online, search, None);

    let difference = max_difference(out.block_outputs[1].clone(), &data, "block_1");
    eprintln!("one weight moved by 0.05 moves block 1 by {difference}");
    assert!(
        difference > 10.0 * TOLERANCE,
        "perturbation moved block 1 by only {difference}"
    );
}
