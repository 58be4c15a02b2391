//! The cached-template tracking path gives the full forward's outputs.

mod common;

use burn::tensor::{Device, Distribution, Tensor};
use common::*;
use mixformer_model_vit::model::xyxy_to_cxcywh;
use mixformer_model_vit::{HeadKind, MixFormer, VitConfig};

fn compare_paths(model: &MixFormer, template: Tensor<4>, online: Tensor<4>, search: Tensor<4>) {
    let full = model.forward(template.clone(), online.clone(), search.clone(), None);
    let cache = model.encode_templates(template, online);
    let tracked = model.track(search, &cache);

    let difference = max_abs_diff(&values(tracked.boxes), &values(full.boxes_cxcywh()));
    assert!(difference < 1e-5, "boxes differ by {difference}");
    if let Some(scores) = tracked.scores {
        let expected = full.score_logits.expect("both paths run the score head");
        let difference = max_abs_diff(
            &values(scores),
            &values(burn::tensor::activation::sigmoid(expected)),
        );
        assert!(difference < 1e-5, "scores differ by {difference}");
    }
}

#[test]
fn cached_path_matches_full_forward_for_the_student() {
    let device = Device::flex();
    let model = load_fixture_model("student", &device);
    let data = fixture_data("student");
    let (template, online, search) = fixture_images(&data, &device);
    compare_paths(&model, template, online, search);
}

#[test]
fn cached_path_matches_full_forward_for_the_teacher() {
    let device = Device::flex();
    let model = load_fixture_model("teacher_corner_up", &device);
    let data = fixture_data("teacher_corner_up");
    let (template, online, search) = fixture_images(&data, &device);
    compare_paths(&model, template, online, search);
}

#[test]
fn cached_path_matches_for_unequal_grids_and_odd_heads() {
    let device = Device::flex();
    let config = VitConfig {
        embed_dim: 24,
        depth: 2,
        num_heads: 3,
        mlp_ratio: 1.0,
        patch_size: 16,
        template_size: 48,
        search_size: 80,
        head: HeadKind::Distribution { bins: 20 },
        score_head: true,
        drop_path_rate: 0.0,
        layer_norm_eps: 1e-6,
    };
    let model = MixFormer::new(&config, &device).expect("valid config");
    let image = |size| Tensor::<4>::random([3, 3, size, size], Distribution::Default, &device);
    compare_paths(&model, image(48), image(48), image(80));
}

#[test]
fn cached_path_matches_with_one_block() {
    let device = Device::flex();
    let config = VitConfig {
        embed_dim: 16,
        depth: 1,
        num_heads: 2,
        mlp_ratio: 2.0,
        patch_size: 16,
        template_size: 32,
        search_size: 64,
        head: HeadKind::Distribution { bins: 16 },
        score_head: true,
        drop_path_rate: 0.0,
        layer_norm_eps: 1e-6,
    };
    let model = MixFormer::new(&config, &device).expect("valid config");
    let image = |size| Tensor::<4>::random([2, 3, size, size], Distribution::Default, &device);
    compare_paths(&model, image(32), image(32), image(64));
}

#[test]
#[should_panic(expected = "the template cache has 2 blocks and the model 1")]
fn cache_of_another_depth_is_rejected() {
    let device = Device::flex();
    let config = |depth| VitConfig {
        embed_dim: 16,
        depth,
        num_heads: 2,
        mlp_ratio: 1.0,
        patch_size: 16,
        template_size: 32,
        search_size: 64,
        head: HeadKind::Distribution { bins: 16 },
        score_head: false,
        drop_path_rate: 0.0,
        layer_norm_eps: 1e-6,
    };
    let deep = MixFormer::new(&config(2), &device).expect("valid config");
    let shallow = MixFormer::new(&config(1), &device).expect("valid config");
    let image = |size| Tensor::<4>::random([1, 3, size, size], Distribution::Default, &device);
    let cache = deep.encode_templates(image(32), image(32));
    shallow.track(image(64), &cache);
}

/// Outside autodiff attention is burn's fused op, under autodiff the plain
/// composition: both must give the same outputs.
#[test]
fn autodiff_forward_matches_plain_forward() {
    let plain_device = Device::flex();
    let autodiff_device = Device::flex().autodiff();
    let data = fixture_data("student");
    let plain = load_fixture_model("student", &plain_device);
    let autodiff = load_fixture_model("student", &autodiff_device);
    let (template, online, search) = fixture_images(&data, &plain_device);
    let (template_ad, online_ad, search_ad) = fixture_images(&data, &autodiff_device);

    let expected = plain.forward(template, online, search, None);
    let actual = autodiff.forward(template_ad, online_ad, search_ad, None);
    let difference = max_abs_diff(&values(actual.boxes()), &values(expected.boxes()));
    assert!(difference < 1e-5, "boxes differ by {difference}");
    for (index, (a, b)) in actual
        .block_outputs
        .iter()
        .zip(&expected.block_outputs)
        .enumerate()
    {
        let difference = max_abs_diff(&values(a.clone()), &values(b.clone()));
        assert!(difference < 1e-4, "block {index} differs by {difference}");
    }
}

#[test]
fn track_converts_boxes_to_centre_and_size() {
    let device = Device::flex();
    let boxes = Tensor::<2>::from_floats([[0.1, 0.2, 0.5, 0.8]], &device);
    let converted = values(xyxy_to_cxcywh(boxes));
    assert!(
        max_abs_diff(&converted, &[0.3, 0.5, 0.4, 0.6]) < 1e-6,
        "{converted:?}"
    );
}
