//! The published and tiny experiments under `experiments/` load, and their
//! values match the reference's published files.

use std::path::{Path, PathBuf};

use mixformer_config::{
    DatasetName, ExperimentConfig, HeadType, SamplerMode, SchedulerType, Script, VitType,
};

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

fn load(script: Script, name: &str) -> ExperimentConfig {
    let path = experiments_dir()
        .join(script.name())
        .join(format!("{name}.yaml"));
    match ExperimentConfig::load(script, &path) {
        Ok(config) => config,
        Err(error) => panic!("{error}"),
    }
}

const PUBLISHED: [(Script, &str); 8] = [
    (Script::MixformerVit, "teacher_mixvit_b"),
    (Script::MixformerVit, "teacher_mixvit_l"),
    (Script::Mixformer2Vit, "student_288_depth12"),
    (Script::Mixformer2Vit, "teacher_288_depth12"),
    (Script::Mixformer2VitStu, "student_288_depth12to8"),
    (Script::Mixformer2VitStu, "student_288_depth8"),
    (Script::Mixformer2VitOnline, "288_depth8_score"),
    (Script::Mixformer2VitOnline, "224_depth4_mlp1_score"),
];

const TINY: [(Script, &str); 6] = [
    (Script::MixformerVit, "teacher_tiny"),
    (Script::Mixformer2Vit, "student_tiny_depth4"),
    (Script::Mixformer2Vit, "teacher_tiny_depth4"),
    (Script::Mixformer2VitStu, "student_tiny_depth4to2"),
    (Script::Mixformer2VitStu, "student_tiny_depth2"),
    (Script::Mixformer2VitOnline, "tiny_depth2_score"),
];

#[test]
fn every_experiment_loads_with_its_name() {
    for (script, name) in PUBLISHED.iter().chain(&TINY) {
        let config = load(*script, name);
        assert_eq!(config.script, *script);
        assert_eq!(config.name, *name);
        assert_eq!(
            config.experiment_name(),
            format!("{}/{name}", script.name())
        );
    }
}

#[test]
fn experiment_folders_hold_listed_files() {
    for script in Script::ALL {
        let folder = experiments_dir().join(script.name());
        let mut found: Vec<String> = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", folder.display()))
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        found.sort();
        let mut expected: Vec<String> = PUBLISHED
            .iter()
            .chain(&TINY)
            .filter(|(owner, _)| *owner == script)
            .map(|(_, name)| format!("{name}.yaml"))
            .collect();
        expected.sort();
        assert_eq!(found, expected, "files in {}", folder.display());
    }
}

#[test]
fn written_yaml_loads_back_unchanged() {
    let folder = tempfile::tempdir().expect("temporary folder");
    for (script, name) in PUBLISHED.iter().chain(&TINY) {
        let config = load(*script, name);
        let path = folder.path().join(format!("{name}.yaml"));
        std::fs::write(&path, config.to_yaml()).expect("write YAML");
        let reloaded = ExperimentConfig::load(*script, &path)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(reloaded, config, "{name}");
    }
}

#[test]
fn shared_published_values_match_reference() {
    for (script, name) in PUBLISHED {
        let config = load(script, name);
        let data = &config.data;
        assert_eq!(data.mean, [0.485, 0.456, 0.406], "{name}");
        assert_eq!(data.std, [0.229, 0.224, 0.225], "{name}");
        assert_eq!(data.template.number, 2, "{name}");
        assert_eq!(data.max_sample_interval, 200, "{name}");
        assert_eq!(config.train.grad_clip_norm, 0.1, "{name}");
        assert_eq!(config.train.backbone_multiplier, 0.1, "{name}");
        assert_eq!(config.train.scheduler.kind, SchedulerType::Step, "{name}");
        assert_eq!(config.test.template_factor, 2.0, "{name}");
        assert_eq!(config.model.vit_type.patch_size(), 16, "{name}");
    }
}

#[test]
fn teacher_b_uses_corner_up_and_script_defaults() {
    let config = load(Script::MixformerVit, "teacher_mixvit_b");
    let architecture = config.architecture();
    assert_eq!(architecture.head_type, HeadType::CornerUp);
    assert_eq!(architecture.embed_dim, 768);
    assert_eq!(architecture.depth, 12);
    assert_eq!(architecture.num_heads, 12);
    assert_eq!(architecture.mlp_hidden_dim(), 3072);
    assert_eq!(architecture.head_dim, 384);
    assert_eq!(architecture.feat_sz, 72);
    assert_eq!(architecture.drop_path_rate, 0.1);
    assert!(!architecture.prediction_tokens);
    assert!(!architecture.score_head);
    assert_eq!(config.train.lr, 1e-4);
    assert_eq!(config.train.epoch, 500);
    assert_eq!(config.train.lr_drop_epoch, 400);
    assert_eq!(config.train.batch_size, 16);
    assert_eq!(config.test.search_size, 288);
    assert!(!config.model.backbone.pretrained);
}

#[test]
fn teacher_l_takes_large_preset() {
    let config = load(Script::MixformerVit, "teacher_mixvit_l");
    let architecture = config.architecture();
    assert_eq!(config.model.vit_type, VitType::LargePatch16);
    assert_eq!(architecture.embed_dim, 1024);
    assert_eq!(architecture.depth, 24);
    assert_eq!(architecture.num_heads, 16);
    assert_eq!(config.model.hidden_dim, 1024);
    assert!(config.model.backbone.pretrained);
}

#[test]
fn stage_one_student_values() {
    let config = load(Script::Mixformer2Vit, "student_288_depth12");
    let architecture = config.architecture();
    assert_eq!(architecture.head_type, HeadType::Mlp);
    assert_eq!(architecture.feat_sz, 72);
    assert_eq!(architecture.depth, 12);
    assert!(architecture.prediction_tokens);
    assert_eq!(config.train.lr, 4e-4);
    assert_eq!(config.train.batch_size, 32);
    assert_eq!(config.train.corner_weight, 5.0);
    assert_eq!(config.train.feat_weight, 0.0);
    assert_eq!(config.train.val_epoch_interval, 5);
    assert_eq!(
        config.data.train.datasets_name,
        [
            DatasetName::Got10kVotTrain,
            DatasetName::Lasot,
            DatasetName::Coco17,
            DatasetName::TrackingNet
        ]
    );
    assert_eq!(config.data.train.sample_per_epoch, 60000);
    assert_eq!(config.data.search.factor, 5.0);
    assert_eq!(config.test.search_factor, 4.5);
    assert_eq!(config.update_interval("TRACKINGNET"), 25);
    assert_eq!(config.update_interval("VOT20"), 10);
    assert_eq!(config.update_interval("GOT10K_TEST"), 200);
}

#[test]
fn stage_two_a_removes_every_third_block() {
    let config = load(Script::Mixformer2VitStu, "student_288_depth12to8");
    assert_eq!(config.train.remove_layers, [0, 3, 6, 9]);
    assert!(config.train.invalid_layers.is_empty());
    assert_eq!(config.train.distill_layers_student, [2, 5, 8, 11]);
    assert_eq!(config.train.distill_layers_teacher, [2, 5, 8, 11]);
    assert_eq!(config.architecture().depth, 12);
    assert_eq!(config.model.backbone.depth_teacher, 12);
    assert_eq!(config.train.epoch, 45);
    assert_eq!(config.train.feat_weight, 0.2);
    assert_eq!(config.train.remove_epochs, 40);
}

#[test]
fn remove_rate_follows_cosine_over_forty_epochs() {
    let config = load(Script::Mixformer2VitStu, "student_288_depth12to8");
    let train = &config.train;
    assert!((train.remove_rate(1) - 0.993_844).abs() < 1e-6);
    assert!((train.remove_rate(19) - 0.5).abs() < 1e-12);
    assert!(train.remove_rate(38) > 0.0);
    assert_eq!(train.remove_rate(39), 0.0);
    assert_eq!(train.remove_rate(45), 0.0);
}

#[test]
fn remove_rate_is_one_without_removed_layers() {
    let config = load(Script::Mixformer2VitStu, "student_288_depth8");
    assert_eq!(config.train.remove_rate(1), 1.0);
    assert_eq!(config.train.remove_rate(100), 1.0);
}

#[test]
fn stage_two_b_keeps_eight_blocks() {
    let config = load(Script::Mixformer2VitStu, "student_288_depth8");
    assert_eq!(config.architecture().depth, 8);
    assert_eq!(config.model.backbone.depth_teacher, 12);
    assert!(config.train.remove_layers.is_empty());
    assert_eq!(config.train.invalid_layers, [0, 3, 6, 9]);
    assert_eq!(config.train.distill_layers_student, [1, 3, 5, 7]);
    assert_eq!(config.train.distill_layers_teacher, [2, 5, 8, 11]);
    assert_eq!(config.train.epoch, 500);
}

#[test]
fn score_stage_288_fixes_feat_sz_to_72() {
    let config = load(Script::Mixformer2VitOnline, "288_depth8_score");
    let architecture = config.architecture();
    assert_eq!(architecture.feat_sz, 72);
    assert_eq!(architecture.depth, 8);
    assert!(architecture.score_head);
    assert!(config.train.train_score);
    assert!(config.model.pretrained_static);
    assert!(config.model.head_freeze_bn);
    assert_eq!(config.data.sampler_mode, SamplerMode::TridentPro);
    assert_eq!(config.train.epoch, 40);
    assert_eq!(config.train.lr_drop_epoch, 20);
    assert_eq!(config.update_interval("GOT10K_TEST"), 10);
    assert_eq!(config.update_interval("got10k_test"), 10);
    assert_eq!(config.update_interval("LASOT"), 200);
    assert_eq!(config.test.online_sizes.get("LASOT"), Some(&1));
    assert_eq!(config.test_epoch(), 40);
}

#[test]
fn score_stage_224_fixes_feat_sz_to_56() {
    let config = load(Script::Mixformer2VitOnline, "224_depth4_mlp1_score");
    let architecture = config.architecture();
    assert_eq!(architecture.feat_sz, 56);
    assert_eq!(architecture.search_size, 224);
    assert_eq!(architecture.template_size, 112);
    assert_eq!(architecture.depth, 4);
    assert_eq!(architecture.mlp_ratio, 1.0);
    assert_eq!(architecture.mlp_hidden_dim(), 768);
    assert_eq!(config.data.search.factor, 4.5);
    assert_eq!(config.update_interval("GOT10K_TEST"), 15);
}

#[test]
fn unnamed_dataset_uses_max_sample_interval() {
    let config = load(Script::Mixformer2VitOnline, "288_depth8_score");
    assert_eq!(config.update_interval("OTB"), 200);
    let tiny = load(Script::Mixformer2VitOnline, "tiny_depth2_score");
    assert_eq!(tiny.update_interval("OTB"), 10);
    assert_eq!(tiny.update_interval("LASOT"), 200);
}

#[test]
fn test_epoch_defaults_to_train_epoch() {
    assert_eq!(
        load(Script::Mixformer2Vit, "student_288_depth12").test_epoch(),
        500
    );
    assert_eq!(
        load(Script::Mixformer2VitStu, "student_tiny_depth4to2").test_epoch(),
        5
    );
}

#[test]
fn tiny_experiments_share_small_architecture() {
    for (script, name) in TINY {
        let architecture = load(script, name).architecture();
        assert_eq!(architecture.embed_dim, 64, "{name}");
        assert_eq!(architecture.num_heads, 4, "{name}");
        assert_eq!(architecture.mlp_ratio, 2.0, "{name}");
        assert_eq!(architecture.patch_size, 16, "{name}");
        assert_eq!(architecture.template_size, 64, "{name}");
        assert_eq!(architecture.search_size, 128, "{name}");
        assert_eq!(architecture.feat_sz, 32, "{name}");
    }
    let teacher = load(Script::MixformerVit, "teacher_tiny");
    assert_eq!(teacher.architecture().head_type, HeadType::CornerUp);
    assert_eq!(teacher.architecture().head_dim, 64);
    assert_eq!(teacher.architecture().depth, 4);
}

#[test]
fn tiny_stages_chain_depths_and_layers() {
    let stage_one = load(Script::Mixformer2Vit, "student_tiny_depth4");
    assert_eq!(stage_one.architecture().depth, 4);

    let remove = load(Script::Mixformer2VitStu, "student_tiny_depth4to2");
    assert_eq!(remove.architecture().depth, 4);
    assert_eq!(remove.train.remove_layers, [0, 2]);
    assert_eq!(remove.train.distill_layers_student, [1, 3]);
    assert_eq!(remove.train.distill_layers_teacher, [1, 3]);
    assert_eq!(remove.train.remove_rate(remove.train.epoch), 0.0);
    assert!(remove.train.remove_rate(1) > 0.0);

    let finetune = load(Script::Mixformer2VitStu, "student_tiny_depth2");
    assert_eq!(finetune.architecture().depth, 2);
    assert_eq!(finetune.model.backbone.depth_teacher, 4);
    assert_eq!(finetune.train.invalid_layers, [0, 2]);
    assert_eq!(finetune.train.distill_layers_student, [0, 1]);
    assert_eq!(finetune.train.distill_layers_teacher, [1, 3]);

    let score = load(Script::Mixformer2VitOnline, "tiny_depth2_score");
    assert_eq!(score.architecture().depth, 2);
    assert!(score.train.train_score);
}

#[test]
fn tiny_experiments_run_small_epochs() {
    for (script, name) in TINY {
        let config = load(script, name);
        if name == "teacher_tiny_depth4" {
            continue;
        }
        assert_eq!(config.train.batch_size, 4, "{name}");
        assert_eq!(config.train.num_worker, 2, "{name}");
        assert_eq!(config.data.train.sample_per_epoch, 256, "{name}");
        assert!((4..=6).contains(&config.train.epoch), "{name}");
    }
}
