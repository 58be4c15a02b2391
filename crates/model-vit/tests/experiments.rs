//! Every experiment file builds the model its checkpoints need.

use std::path::PathBuf;

use burn::tensor::{Device, Distribution, Tensor};
use mixformer_config::{ExperimentConfig, Script};
use mixformer_model_vit::{HeadKind, MixFormer, VitConfig};

fn vit_config(script: Script, name: &str) -> VitConfig {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments")
        .join(script.name())
        .join(format!("{name}.yaml"));
    let experiment = ExperimentConfig::load(script, &path).unwrap_or_else(|e| panic!("{e}"));
    VitConfig::from(&experiment.architecture())
}

#[test]
fn published_experiments_resolve_to_the_published_architectures() {
    let teacher = vit_config(Script::MixformerVit, "teacher_mixvit_b");
    assert_eq!(teacher, VitConfig::teacher_base());

    let large = vit_config(Script::MixformerVit, "teacher_mixvit_l");
    assert_eq!(
        (large.embed_dim, large.depth, large.num_heads),
        (1024, 24, 16)
    );

    let stage1 = vit_config(Script::Mixformer2Vit, "student_288_depth12");
    assert_eq!(stage1.depth, 12);
    assert_eq!(stage1.head, HeadKind::Distribution { bins: 72 });
    assert!(!stage1.score_head);

    let stage2b = vit_config(Script::Mixformer2VitStu, "student_288_depth8");
    assert_eq!(stage2b.depth, 8);

    assert_eq!(
        vit_config(Script::Mixformer2VitOnline, "288_depth8_score"),
        VitConfig::student_base()
    );
    assert_eq!(
        vit_config(Script::Mixformer2VitOnline, "224_depth4_mlp1_score"),
        VitConfig::student_small()
    );
}

#[test]
fn tiny_experiments_build_models_that_run() {
    let device = Device::flex();
    for (script, name) in [
        (Script::MixformerVit, "teacher_tiny"),
        (Script::Mixformer2Vit, "student_tiny_depth4"),
        (Script::Mixformer2VitStu, "student_tiny_depth4to2"),
        (Script::Mixformer2VitStu, "student_tiny_depth2"),
        (Script::Mixformer2VitOnline, "tiny_depth2_score"),
    ] {
        let config = vit_config(script, name);
        let model = MixFormer::new(&config, &device).unwrap_or_else(|e| panic!("{name}: {e}"));
        let image = |size| Tensor::<4>::random([2, 3, size, size], Distribution::Default, &device);
        let template = image(config.template_size);
        let search = image(config.search_size);

        let out = model.forward(template.clone(), template, search, None);

        assert_eq!(out.boxes().dims(), [2, 4], "{name}");
        assert_eq!(out.block_outputs.len(), config.depth, "{name}");
        assert_eq!(out.score_logits.is_some(), config.score_head, "{name}");
    }
}
