//! Broken experiment files give errors that name the file, the key path and what is expected.

use std::path::PathBuf;

use mixformer_config::{ConfigError, ExperimentConfig, Script};
use tempfile::TempDir;

/// Writes `yaml` to `<temporary folder>/broken.yaml`; the folder lives as long as the value.
fn write(yaml: &str) -> (TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("broken.yaml");
    std::fs::write(&path, yaml).expect("write experiment file");
    (folder, path)
}

/// Loads `yaml` as an experiment of `script` and returns the error it must give.
fn load_error(script: Script, yaml: &str) -> (ConfigError, String) {
    let (_folder, path) = write(yaml);
    match ExperimentConfig::load(script, &path) {
        Ok(_) => panic!("expected an error for:\n{yaml}"),
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains(&path.display().to_string()),
                "the message does not name the file: {message}"
            );
            (error, message)
        }
    }
}

/// Loads `yaml` and returns the keys of the broken rules.
fn problem_keys(script: Script, yaml: &str) -> (Vec<String>, String) {
    let (error, message) = load_error(script, yaml);
    match error {
        ConfigError::Invalid { problems, .. } => (
            problems.into_iter().map(|problem| problem.key).collect(),
            message,
        ),
        other => panic!("expected broken rules, got: {other}"),
    }
}

#[test]
fn empty_file_gives_valid_script_defaults() {
    for script in Script::ALL {
        let (_folder, path) = write("# nothing but a comment\n");
        let config = ExperimentConfig::load(script, &path)
            .unwrap_or_else(|error| panic!("{script}: {error}"));
        assert_eq!(config.model, script.defaults().model, "{script}");
        assert_eq!(config.train, script.defaults().train, "{script}");
        assert_eq!(config.name, "broken");
    }
}

#[test]
fn script_defaults_differ_where_reference_differs() {
    use mixformer_config::{HeadType, SamplerMode};
    assert_eq!(
        Script::MixformerVit.defaults().model.head_type,
        HeadType::Corner
    );
    assert_eq!(
        Script::Mixformer2Vit.defaults().model.head_type,
        HeadType::Mlp
    );
    assert_eq!(
        Script::Mixformer2VitOnline.defaults().data.sampler_mode,
        SamplerMode::TridentPro
    );
    assert_eq!(
        Script::Mixformer2VitStu.defaults().data.sampler_mode,
        SamplerMode::Causal
    );
    assert_eq!(
        Script::Mixformer2VitOnline
            .defaults()
            .update_interval("TNL2K"),
        200
    );
}

#[test]
fn misspelled_key_is_named_with_suggestion() {
    let (error, message) = load_error(Script::Mixformer2VitStu, "TRAIN:\n  REMOVE_LAYER: [0, 3]\n");
    assert!(
        matches!(error, ConfigError::UnknownKey { ref key, .. } if key == "TRAIN.REMOVE_LAYER")
    );
    assert!(
        message.contains("unknown key TRAIN.REMOVE_LAYER "),
        "{message}"
    );
    assert!(
        message.contains("did you mean TRAIN.REMOVE_LAYERS?"),
        "{message}"
    );
}

#[test]
fn unknown_section_lists_accepted_keys() {
    let (_, message) = load_error(Script::MixformerVit, "SOLVER:\n  LR: 0.1\n");
    assert!(message.contains("unknown key SOLVER"), "{message}");
    assert!(
        message.contains("expected one of MODEL, DATA, TRAIN, TEST"),
        "{message}"
    );
}

#[test]
fn key_of_another_script_is_rejected() {
    let (error, message) = load_error(Script::MixformerVit, "TRAIN:\n  REMOVE_LAYERS: [0]\n");
    assert!(matches!(error, ConfigError::KeyNotForScript { .. }));
    assert!(
        message.contains("TRAIN.REMOVE_LAYERS is not read by script mixformer_vit"),
        "{message}"
    );
    assert!(
        message.contains("only mixformer2_vit_stu read it"),
        "{message}"
    );

    let (_, message) = load_error(Script::Mixformer2VitStu, "MODEL:\n  HEAD_DIM: 64\n");
    assert!(
        message.contains("MODEL.HEAD_DIM is not read by script mixformer2_vit_stu"),
        "{message}"
    );
}

#[test]
fn wrong_type_names_list_element() {
    let (error, message) = load_error(
        Script::Mixformer2VitStu,
        "TRAIN:\n  REMOVE_LAYERS: [0, 3, six]\n",
    );
    let ConfigError::InvalidValue { key, .. } = &error else {
        panic!("expected a type error, got: {error}");
    };
    assert_eq!(key, "TRAIN.REMOVE_LAYERS[2]");
    assert!(
        message.contains("invalid type: string \"six\""),
        "{message}"
    );
}

#[test]
fn wrong_type_of_scalar_and_section() {
    let (_, message) = load_error(Script::Mixformer2Vit, "TRAIN:\n  EPOCH: many\n");
    assert!(message.contains("TRAIN.EPOCH: invalid type"), "{message}");

    let (_, message) = load_error(Script::Mixformer2Vit, "TRAIN:\n");
    assert!(
        message.contains(
            "TRAIN: expected a mapping of keys, found nothing (null); remove the empty section"
        ),
        "{message}"
    );

    let (_, message) = load_error(Script::Mixformer2Vit, "TRAIN: 5\n");
    assert!(
        message.contains("TRAIN: expected a mapping of keys, found the number 5"),
        "{message}"
    );

    let (_, message) = load_error(
        Script::Mixformer2Vit,
        "MODEL:\n  BACKBONE:\n    DEPTH: 4.5\n",
    );
    assert!(
        message.contains("MODEL.BACKBONE.DEPTH: invalid type"),
        "{message}"
    );
}

#[test]
fn unknown_spellings_list_accepted_values() {
    let (_, message) = load_error(Script::MixformerVit, "MODEL:\n  VIT_TYPE: huge_patch14\n");
    assert!(
        message.contains("MODEL.VIT_TYPE: unknown variant `huge_patch14`"),
        "{message}"
    );
    assert!(message.contains("base_patch16"), "{message}");

    let (_, message) = load_error(
        Script::Mixformer2Vit,
        "DATA:\n  TRAIN:\n    DATASETS_NAME: [LASOT, IMAGENET]\n    DATASETS_RATIO: [1, 1]\n",
    );
    assert!(
        message.contains("DATA.TRAIN.DATASETS_NAME[1]: unknown variant `IMAGENET`"),
        "{message}"
    );

    let (_, message) = load_error(
        Script::Mixformer2Vit,
        "TRAIN:\n  SCHEDULER:\n    TYPE: cosine\n",
    );
    assert!(
        message.contains("TRAIN.SCHEDULER.TYPE: unknown variant `cosine`"),
        "{message}"
    );
    assert!(message.contains("expected `step` or `Mstep`"), "{message}");
}

#[test]
fn score_experiment_with_96_bins_names_72() {
    let yaml = "MODEL:\n  FEAT_SZ: 96\nTRAIN:\n  TRAIN_SCORE: true\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitOnline, yaml);
    assert_eq!(keys, ["MODEL.FEAT_SZ"]);
    assert!(
        message.contains("MODEL.FEAT_SZ is 96 but DATA.SEARCH.SIZE 288 needs 72"),
        "{message}"
    );
}

#[test]
fn layer_out_of_range_names_index() {
    let yaml = "TRAIN:\n  REMOVE_LAYERS: [0, 12]\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(keys, ["TRAIN.REMOVE_LAYERS[1]"]);
    assert!(
        message.contains(
            "TRAIN.REMOVE_LAYERS[1] is 12 but MODEL.BACKBONE.DEPTH is 12, so block indices run from 0 to 11"
        ),
        "{message}"
    );
}

#[test]
fn distill_layers_check_their_own_depth() {
    let yaml = "MODEL:\n  BACKBONE:\n    DEPTH: 8\nTRAIN:\n  DISTILL_LAYERS_STUDENT: [1, 3, 5, 8]\n  DISTILL_LAYERS_TEACHER: [2, 5, 8, 12]\n";
    let (keys, _) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(
        keys,
        [
            "TRAIN.DISTILL_LAYERS_STUDENT[3]",
            "TRAIN.DISTILL_LAYERS_TEACHER[3]"
        ]
    );
}

#[test]
fn repeated_layer_is_rejected() {
    let (keys, message) = problem_keys(
        Script::Mixformer2VitStu,
        "TRAIN:\n  REMOVE_LAYERS: [3, 3]\n",
    );
    assert_eq!(keys, ["TRAIN.REMOVE_LAYERS[1]"]);
    assert!(message.contains("repeats block 3"), "{message}");
}

#[test]
fn unequal_distill_lists_are_rejected() {
    let yaml =
        "TRAIN:\n  DISTILL_LAYERS_STUDENT: [1, 3, 5]\n  DISTILL_LAYERS_TEACHER: [2, 5, 8, 11]\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(keys, ["TRAIN.DISTILL_LAYERS_TEACHER"]);
    assert!(
        message.contains(
            "TRAIN.DISTILL_LAYERS_STUDENT lists 3 blocks but TRAIN.DISTILL_LAYERS_TEACHER lists 4"
        ),
        "{message}"
    );
}

#[test]
fn depth_equals_teacher_minus_invalid() {
    let yaml = "MODEL:\n  BACKBONE:\n    DEPTH: 9\nTRAIN:\n  INVALID_LAYERS: [0, 3, 6, 9]\n  DISTILL_LAYERS_STUDENT: [1, 3, 5, 7]\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(keys, ["MODEL.BACKBONE.DEPTH"]);
    assert!(
        message.contains("MODEL.BACKBONE.DEPTH is 9 but MODEL.BACKBONE.DEPTH_TEACHER 12 minus the 4 TRAIN.INVALID_LAYERS leaves 8 blocks"),
        "{message}"
    );
}

#[test]
fn invalid_layers_index_teacher_depth() {
    let yaml = "MODEL:\n  BACKBONE:\n    DEPTH: 8\nTRAIN:\n  INVALID_LAYERS: [0, 3, 6, 12]\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(keys, ["TRAIN.INVALID_LAYERS[3]"]);
    assert!(
        message.contains("MODEL.BACKBONE.DEPTH_TEACHER is 12"),
        "{message}"
    );
}

#[test]
fn remove_rate_reaches_zero_in_training() {
    let yaml = "TRAIN:\n  EPOCH: 30\n  REMOVE_LAYERS: [0, 3, 6, 9]\n  DISTILL_LAYERS_STUDENT: [2, 5, 8, 11]\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(keys, ["TRAIN.REMOVE_EPOCHS"]);
    assert!(message.contains("reaches 0 only at epoch 39"), "{message}");
}

#[test]
fn head_width_must_divide_into_heads() {
    let yaml = "MODEL:\n  HIDDEN_DIM: 64\n  BACKBONE:\n    EMBED_DIM: 64\n    NUM_HEADS: 5\n";
    let (keys, message) = problem_keys(Script::Mixformer2Vit, yaml);
    assert_eq!(keys, ["MODEL.BACKBONE.NUM_HEADS"]);
    assert!(
        message.contains(
            "the token width MODEL.BACKBONE.EMBED_DIM 64 is not divisible by the head count MODEL.BACKBONE.NUM_HEADS 5"
        ),
        "{message}"
    );
}

#[test]
fn hidden_dim_must_equal_token_width() {
    let (keys, message) = problem_keys(
        Script::Mixformer2Vit,
        "MODEL:\n  BACKBONE:\n    EMBED_DIM: 64\n    NUM_HEADS: 4\n",
    );
    assert_eq!(keys, ["MODEL.HIDDEN_DIM"]);
    assert!(message.contains("set MODEL.HIDDEN_DIM: 64"), "{message}");
}

#[test]
fn crop_sizes_must_fit_patch_grid() {
    let yaml = "DATA:\n  SEARCH:\n    SIZE: 300\n  TEMPLATE:\n    SIZE: 120\nTEST:\n  SEARCH_SIZE: 300\n  TEMPLATE_SIZE: 120\n";
    let (keys, message) = problem_keys(Script::MixformerVit, yaml);
    assert_eq!(keys, ["DATA.SEARCH.SIZE", "DATA.TEMPLATE.SIZE"]);
    assert!(
        message.contains(
            "DATA.SEARCH.SIZE is 300 but must be a positive multiple of the patch size 16"
        ),
        "{message}"
    );
}

#[test]
fn test_sizes_must_match_data_sizes() {
    let (keys, message) = problem_keys(Script::MixformerVit, "TEST:\n  SEARCH_SIZE: 384\n");
    assert_eq!(keys, ["TEST.SEARCH_SIZE"]);
    assert!(message.contains("set TEST.SEARCH_SIZE: 288"), "{message}");
}

#[test]
fn head_type_must_suit_script() {
    let (keys, message) = problem_keys(Script::Mixformer2Vit, "MODEL:\n  HEAD_TYPE: CORNER_UP\n");
    assert_eq!(keys, ["MODEL.HEAD_TYPE"]);
    assert!(
        message.contains("MODEL.HEAD_TYPE is CORNER_UP but script mixformer2_vit builds only MLP"),
        "{message}"
    );
}

#[test]
fn dataset_ratios_must_match_names() {
    let yaml = "DATA:\n  TRAIN:\n    DATASETS_NAME: [LASOT, COCO17]\n    DATASETS_RATIO: [1]\n";
    let (keys, message) = problem_keys(Script::Mixformer2Vit, yaml);
    assert_eq!(keys, ["DATA.TRAIN.DATASETS_RATIO"]);
    assert!(
        message.contains(
            "DATA.TRAIN.DATASETS_RATIO has 1 values but DATA.TRAIN.DATASETS_NAME names 2 datasets"
        ),
        "{message}"
    );
}

#[test]
fn counts_must_be_positive() {
    let yaml = "TRAIN:\n  BATCH_SIZE: 0\n  EPOCH: 0\n";
    let (keys, _) = problem_keys(Script::Mixformer2Vit, yaml);
    assert!(keys.contains(&"TRAIN.BATCH_SIZE".to_owned()), "{keys:?}");
    assert!(keys.contains(&"TRAIN.EPOCH".to_owned()), "{keys:?}");
}

#[test]
fn epoch_needs_one_full_batch() {
    let yaml = "TRAIN:\n  BATCH_SIZE: 32\nDATA:\n  VAL:\n    SAMPLE_PER_EPOCH: 16\n";
    let (keys, message) = problem_keys(Script::Mixformer2Vit, yaml);
    assert_eq!(keys, ["DATA.VAL.SAMPLE_PER_EPOCH"]);
    assert!(
        message.contains("DATA.VAL.SAMPLE_PER_EPOCH is 16 but TRAIN.BATCH_SIZE is 32"),
        "{message}"
    );
}

#[test]
fn multistep_needs_increasing_milestones() {
    let (keys, _) = problem_keys(
        Script::Mixformer2Vit,
        "TRAIN:\n  SCHEDULER:\n    TYPE: Mstep\n",
    );
    assert_eq!(keys, ["TRAIN.SCHEDULER.MILESTONES"]);

    let (keys, _) = problem_keys(
        Script::Mixformer2Vit,
        "TRAIN:\n  SCHEDULER:\n    TYPE: Mstep\n    MILESTONES: [300, 200]\n",
    );
    assert_eq!(keys, ["TRAIN.SCHEDULER.MILESTONES"]);

    let (_folder, path) = write(
        "TRAIN:\n  SCHEDULER:\n    TYPE: Mstep\n    MILESTONES: [200, 300]\n    GAMMA: 0.5\n",
    );
    let config =
        ExperimentConfig::load(Script::Mixformer2Vit, &path).expect("valid Mstep schedule");
    assert_eq!(config.train.scheduler.milestones, [200, 300]);
    assert_eq!(config.train.scheduler.gamma, 0.5);
}

#[test]
fn one_online_template_only() {
    let (keys, message) = problem_keys(
        Script::Mixformer2VitOnline,
        "TEST:\n  ONLINE_SIZES:\n    LASOT: [3]\n",
    );
    assert_eq!(keys, ["TEST.ONLINE_SIZES.LASOT"]);
    assert!(
        message.contains("only one online template is supported"),
        "{message}"
    );

    let (_, message) = load_error(
        Script::Mixformer2VitOnline,
        "DATA:\n  MAX_SAMPLE_INTERVAL: [200, 100]\n",
    );
    assert!(
        message.contains("DATA.MAX_SAMPLE_INTERVAL: found a list of 2 values"),
        "{message}"
    );
}

#[test]
fn interval_accepts_number_or_single_list() {
    let (_folder, path) =
        write("DATA:\n  MAX_SAMPLE_INTERVAL: [150]\nTEST:\n  UPDATE_INTERVALS:\n    OTB: 7\n");
    let config = ExperimentConfig::load(Script::Mixformer2Vit, &path).expect("valid intervals");
    assert_eq!(config.data.max_sample_interval, 150);
    assert_eq!(config.update_interval("otb"), 7);
    assert_eq!(config.update_interval("LASOT"), 200);
    assert_eq!(config.update_interval("UAV123"), 150);
}

#[test]
fn score_training_needs_score_script_and_sampler() {
    let (keys, message) = problem_keys(Script::Mixformer2Vit, "TRAIN:\n  TRAIN_SCORE: true\n");
    assert_eq!(keys, ["TRAIN.TRAIN_SCORE"]);
    assert!(
        message.contains("script mixformer2_vit has no score head"),
        "{message}"
    );

    let yaml = "DATA:\n  SAMPLER_MODE: causal\nTRAIN:\n  TRAIN_SCORE: true\n";
    let (keys, _) = problem_keys(Script::Mixformer2VitOnline, yaml);
    assert_eq!(keys, ["DATA.SAMPLER_MODE"]);
}

#[test]
fn unsupported_reference_switches_are_rejected() {
    let yaml =
        "MODEL:\n  PREDICT_MASK: true\n  NUM_OBJECT_QUERIES: 2\nTRAIN:\n  DEEP_SUPERVISION: true\n";
    let (keys, _) = problem_keys(Script::Mixformer2Vit, yaml);
    assert_eq!(
        keys,
        [
            "MODEL.NUM_OBJECT_QUERIES",
            "MODEL.PREDICT_MASK",
            "TRAIN.DEEP_SUPERVISION"
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let yaml = "MODEL:\n  FEAT_SZ: 96\nTRAIN:\n  BATCH_SIZE: 0\n  REMOVE_LAYERS: [20]\n";
    let (keys, message) = problem_keys(Script::Mixformer2VitStu, yaml);
    assert_eq!(keys.len(), 3, "{message}");
    assert_eq!(message.matches("\n  - ").count(), 3, "{message}");
}

#[test]
fn invalid_yaml_gives_line() {
    let (error, message) = load_error(Script::Mixformer2Vit, "TRAIN:\n  EPOCH: [1\n");
    assert!(matches!(error, ConfigError::Syntax { .. }));
    assert!(message.contains("line"), "{message}");
}

#[test]
fn missing_file_is_named() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("absent.yaml");
    let error = ExperimentConfig::load(Script::Mixformer2Vit, &path).expect_err("no such file");
    assert!(matches!(error, ConfigError::Read { .. }));
    assert!(error.to_string().contains("absent.yaml"));
}

#[test]
fn script_names_parse() {
    for script in Script::ALL {
        let parsed: Script = script.name().parse().expect("known script");
        assert_eq!(parsed, script);
    }
    let error = "mixformer_cvt"
        .parse::<Script>()
        .expect_err("unknown script");
    assert!(error.to_string().contains("unknown script mixformer_cvt"));
}
