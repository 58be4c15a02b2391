//! `MixFormer::forward_heads`, whose last block computes only the tokens the
//! heads read, gives the outputs and the gradients of the full forward.

mod common;

use burn::tensor::{Device, Distribution, Gradients, Tensor};
use common::*;
use mixformer_model_vit::{HeadKind, HeadOutput, MixFormer, VitConfig};

fn head_values(head: &HeadOutput) -> Vec<Vec<f32>> {
    match head {
        HeadOutput::Corner(out) => vec![
            values(out.boxes.clone()),
            values(out.prob_tl.clone()),
            values(out.prob_br.clone()),
        ],
        HeadOutput::Distribution(out) => {
            let mut all = vec![values(out.boxes.clone())];
            all.extend(out.logits().map(values));
            all
        }
    }
}

fn assert_close(actual: &[Vec<f32>], expected: &[Vec<f32>], tolerance: f32, label: &str) {
    assert_eq!(actual.len(), expected.len(), "{label}: output count");
    for (index, (a, b)) in actual.iter().zip(expected).enumerate() {
        let difference = max_abs_diff(a, b);
        assert!(
            difference < tolerance,
            "{label}: output {index} differs by {difference}"
        );
    }
}

fn compare_outputs(model: &MixFormer, images: [Tensor<4>; 3], rates: Option<&[f64]>) {
    let [template, online, search] = images;
    let full = model.forward(template.clone(), online.clone(), search.clone(), rates);
    let heads = model.forward_heads(template, online, search, rates);
    assert_close(
        &head_values(&heads.head),
        &head_values(&full.head),
        1e-5,
        "head",
    );
    match (heads.score_logits, full.score_logits) {
        (Some(a), Some(b)) => {
            let difference = max_abs_diff(&values(a), &values(b));
            assert!(difference < 1e-5, "score logits differ by {difference}");
        }
        (None, None) => {}
        _ => panic!("only one forward ran the score head"),
    }
}

#[test]
fn student_fixture_outputs_match() {
    let device = Device::flex();
    let model = load_fixture_model("student", &device);
    let (template, online, search) = fixture_images(&fixture_data("student"), &device);
    compare_outputs(&model, [template, online, search], None);
}

#[test]
fn teacher_fixture_outputs_match() {
    let device = Device::flex();
    let model = load_fixture_model("teacher_corner_up", &device);
    let (template, online, search) = fixture_images(&fixture_data("teacher_corner_up"), &device);
    compare_outputs(&model, [template, online, search], None);
}

fn small_config(head: HeadKind, depth: usize) -> VitConfig {
    VitConfig {
        embed_dim: 24,
        depth,
        num_heads: 3,
        mlp_ratio: 2.0,
        patch_size: 16,
        template_size: 48,
        search_size: 80,
        head,
        score_head: matches!(head, HeadKind::Distribution { .. }),
        drop_path_rate: 0.0,
        layer_norm_eps: 1e-6,
    }
}

fn random_images(device: &Device) -> [Tensor<4>; 3] {
    let image = |size| Tensor::<4>::random([2, 3, size, size], Distribution::Default, device);
    [image(48), image(48), image(80)]
}

#[test]
fn remove_rates_and_one_block_match() {
    let device = Device::flex();
    for depth in [1, 3] {
        let rates: Vec<f64> = (0..depth).map(|index| 1.0 - 0.3 * index as f64).collect();
        for head in [
            HeadKind::Distribution { bins: 20 },
            HeadKind::Corner { channels: 16 },
        ] {
            let model = MixFormer::new(&small_config(head, depth), &device).expect("valid config");
            compare_outputs(&model, random_images(&device), Some(&rates));
        }
    }
}

/// Returns a scalar that depends on every output of the heads.
fn objective(head: &HeadOutput, score_logits: Option<Tensor<2>>) -> Tensor<1> {
    let mut total = match head {
        HeadOutput::Corner(out) => {
            out.boxes.clone().sum()
                + (out.prob_tl.clone() * out.prob_br.clone())
                    .sum()
                    .mul_scalar(10.0)
        }
        HeadOutput::Distribution(out) => out
            .logits()
            .into_iter()
            .enumerate()
            .map(|(index, logits)| logits.powi_scalar(2).mean().mul_scalar(index as f64 + 1.0))
            .fold(out.boxes.clone().sum(), |sum, term| sum + term),
    };
    if let Some(logits) = score_logits {
        total = total + logits.sum();
    }
    total
}

/// Returns the gradient of `param`, flattened.
fn gradient<const D: usize>(param: Tensor<D>, grads: &Gradients) -> Vec<f32> {
    let count = param.dims().iter().product::<usize>();
    let grad = param.grad(grads).expect("the parameter has a gradient");
    values(grad.reshape([count]))
}

/// Returns the gradients of a few parameters, from the last block to the patch embedding.
fn gradients(model: &MixFormer, loss: Tensor<1>) -> Vec<Vec<f32>> {
    let grads = loss.backward();
    let blocks = &model.backbone.blocks;
    let last = blocks.last().expect("at least one block");
    let mut all = vec![
        gradient(last.attn.qkv.weight.val(), &grads),
        gradient(last.mlp.fc2.weight.val(), &grads),
        gradient(blocks[0].attn.proj.weight.val(), &grads),
        gradient(model.backbone.patch_embed.proj.weight.val(), &grads),
    ];
    if let Some(tokens) = &model.backbone.reg_tokens {
        all.push(gradient(tokens.val(), &grads));
    }
    all
}

#[test]
fn gradients_match_full_forward() {
    let device = Device::flex().autodiff();
    let rates = [1.0, 0.8];
    for head in [
        HeadKind::Distribution { bins: 20 },
        HeadKind::Corner { channels: 16 },
    ] {
        device.seed(3);
        let model = MixFormer::new(&small_config(head, 2), &device).expect("valid config");
        let images = random_images(&device);
        let [template, online, search] = images.clone();
        let full = model.forward(template, online, search, Some(&rates));
        let expected = gradients(&model, objective(&full.head, full.score_logits));
        let [template, online, search] = images;
        let heads = model.forward_heads(template, online, search, Some(&rates));
        let actual = gradients(&model, objective(&heads.head, heads.score_logits));
        assert_close(&actual, &expected, 1e-5, &format!("{head:?} gradients"));
    }
}
