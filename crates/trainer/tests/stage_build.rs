//! Building every stage from the tiny experiments, with checkpoints written to a
//! temporary folder laid out as training writes them.

use std::fs;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use mixformer_config::{ExperimentConfig, LocalSettings, Script};
use mixformer_distill::TrainBatch;
use mixformer_layer_surgery::{
    Checkpoint, Dict, StateDict, Tensor as StoredTensor, Value, write_pth,
};
use mixformer_model_vit::{MixFormer, VitConfig, to_state_dict};
use mixformer_trainer::stage::{
    NET_TYPE, Stage, StageError, StageKind, StageOptions, TeacherSpec, build_stage,
};
use tempfile::TempDir;

/// The tiny stage-1 checkpoint that `student_tiny_depth4to2` names, under `<save_dir>/checkpoints`.
const STAGE1_CHECKPOINT: &str = "train/mixformer2_vit/student_tiny_depth4/MixFormer_ep0006.pth.tar";

/// The tiny stage-2a checkpoint that `student_tiny_depth2` names.
const STAGE2A_CHECKPOINT: &str =
    "train/mixformer2_vit_stu/student_tiny_depth4to2/MixFormer_ep0005.pth.tar";

fn experiment_path(script: Script, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments")
        .join(script.name())
        .join(format!("{name}.yaml"))
}

fn experiment(script: Script, name: &str) -> ExperimentConfig {
    ExperimentConfig::load(script, experiment_path(script, name)).unwrap()
}

fn training_device() -> Device {
    Device::flex().autodiff()
}

/// A temporary `save_dir` and `pretrained_dir` with their settings file.
struct Workspace {
    folder: TempDir,
    settings: LocalSettings,
}

impl Workspace {
    fn new() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        let settings_file = root.join("local.yaml");
        fs::write(
            &settings_file,
            "save_dir: output\npretrained_dir: pretrained\n",
        )
        .unwrap();
        let settings = LocalSettings::load(&settings_file).unwrap();
        Self { folder, settings }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.folder.path().join(relative)
    }

    fn checkpoint_path(&self, relative: &str) -> PathBuf {
        self.settings.checkpoints_dir().unwrap().join(relative)
    }

    fn options(&self) -> StageOptions {
        StageOptions {
            teacher: None,
            pretrained: None,
            static_model: None,
            settings: self.settings.clone(),
        }
    }
}

/// Random weights of the experiment's model as a state dict.
fn random_weights(config: &ExperimentConfig) -> StateDict {
    let model = MixFormer::new(&VitConfig::from(&config.architecture()), &Device::flex()).unwrap();
    to_state_dict(&model).unwrap()
}

fn write_checkpoint(path: &Path, net: StateDict, epoch: u64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let checkpoint = Checkpoint {
        epoch,
        net_type: NET_TYPE.to_owned(),
        actor_type: "test".to_owned(),
        net,
        optimizer: Value::None,
        stats: Vec::new(),
        settings: Value::None,
    };
    checkpoint.write(path).unwrap();
}

/// The tiny stage-0 teacher and its checkpoint, in the published layout with the
/// unused classification-ViT entries.
fn corner_teacher(workspace: &Workspace) -> TeacherSpec {
    let config = experiment(Script::MixformerVit, "teacher_tiny");
    let mut net = random_weights(&config);
    for (key, shape) in [
        ("backbone.cls_token", vec![1, 1, 64]),
        ("backbone.norm.weight", vec![64]),
        ("backbone.norm.bias", vec![64]),
    ] {
        net.insert(key, zeros(shape));
    }
    let checkpoint = workspace.path("teacher_tiny.pth.tar");
    write_checkpoint(&checkpoint, net, 6);
    TeacherSpec {
        script: Script::MixformerVit,
        config: experiment_path(Script::MixformerVit, "teacher_tiny"),
        checkpoint,
    }
}

/// The tiny stage-1 model as the stage-2 teacher, its weights also written as the
/// stage-1 checkpoint that stage 2a starts from.
fn stage1_teacher(workspace: &Workspace) -> (TeacherSpec, StateDict) {
    let config = experiment(Script::Mixformer2Vit, "student_tiny_depth4");
    let net = random_weights(&config);
    let checkpoint = workspace.checkpoint_path(STAGE1_CHECKPOINT);
    write_checkpoint(&checkpoint, net.clone(), 6);
    let spec = TeacherSpec {
        script: Script::Mixformer2Vit,
        config: experiment_path(Script::Mixformer2Vit, "teacher_tiny_depth4"),
        checkpoint,
    };
    (spec, net)
}

fn zeros(shape: Vec<usize>) -> StoredTensor {
    let count = shape.iter().product();
    StoredTensor::from_f32(shape, &vec![0.0; count]).unwrap()
}

/// Whether two stored tensors are equal value for value.
fn identical(left: &StoredTensor, right: &StoredTensor) -> bool {
    left.max_abs_diff(right) == Some(0.0)
}

fn tiny_batch(device: &Device) -> TrainBatch {
    let images = |size| Tensor::random([2, 3, size, size], Distribution::Normal(0.0, 1.0), device);
    let anno = TensorData::new(vec![0.3f32, 0.3, 0.3, 0.3, 0.4, 0.4, 0.2, 0.3], [2, 4]);
    TrainBatch {
        template: images(64),
        online_template: images(64),
        search: images(128),
        search_anno: Tensor::from_data(anno, device),
        label: Some(Tensor::from_floats([1.0, 0.0], device)),
    }
}

/// Runs the stage's actor once and checks that the loss is finite.
fn assert_actor_runs(stage: &Stage, epoch: usize) {
    let batch = tiny_batch(&training_device());
    let output = stage.actor.forward(&stage.student, &batch, epoch).unwrap();
    let loss = f64::from(output.loss.into_scalar::<f32>());
    assert!(loss.is_finite(), "{}: loss {loss}", stage.actor.name());
}

#[test]
fn stage0_starts_random_without_pretrained_weights() {
    let workspace = Workspace::new();
    let config = experiment(Script::MixformerVit, "teacher_tiny");
    let stage = build_stage(&config, &workspace.options(), &training_device()).unwrap();

    assert_eq!(stage.kind, StageKind::TeacherTraining);
    assert_eq!(stage.actor.name(), "TeacherTrainingActor");
    assert_eq!(stage.net_type, "MixFormer");
    assert!(stage.frozen.is_empty());
    assert_eq!(stage.student.depth(), 4);
    assert_actor_runs(&stage, 1);
}

/// An MAE file: the backbone of `config` without `backbone.`, with the entries the
/// tracker drops, under `model`.
fn write_mae_weights(
    path: &Path,
    config: &ExperimentConfig,
    edit: impl Fn(&mut StateDict),
) -> StateDict {
    let mut mae = StateDict::new();
    for (name, tensor) in random_weights(config).iter() {
        if let Some(inner) = name.strip_prefix("backbone.") {
            mae.insert(inner, tensor.clone());
        }
    }
    for (key, shape) in [
        ("cls_token", vec![1, 1, 64]),
        ("pos_embed", vec![1, 17, 64]),
        ("mask_token", vec![1, 1, 64]),
        ("norm.weight", vec![64]),
        ("norm.bias", vec![64]),
        ("decoder_embed.weight", vec![32, 64]),
        ("decoder_blocks.0.norm1.weight", vec![32]),
    ] {
        mae.insert(key, zeros(shape));
    }
    edit(&mut mae);
    let file = Value::Dict(Dict::new().with("model", mae.to_value()));
    write_pth(path, &file).unwrap();
    mae
}

#[test]
fn stage0_loads_mae_weights_into_the_backbone() {
    let workspace = Workspace::new();
    let config = experiment(Script::MixformerVit, "teacher_tiny");
    let path = workspace.path("mae_tiny.pth");
    let mae = write_mae_weights(&path, &config, |_| {});

    let options = StageOptions {
        pretrained: Some(path),
        ..workspace.options()
    };
    let stage = build_stage(&config, &options, &training_device()).unwrap();
    let loaded = to_state_dict(&stage.student).unwrap();
    for key in [
        "blocks.3.mlp.fc2.weight",
        "patch_embed.proj.weight",
        "blocks.0.attn.qkv.bias",
    ] {
        let student_key = format!("backbone.{key}");
        assert!(
            identical(loaded.get(&student_key).unwrap(), mae.get(key).unwrap()),
            "{student_key} differs from the MAE file"
        );
    }
}

#[test]
fn mae_weights_of_another_width_are_rejected_by_key() {
    let workspace = Workspace::new();
    let config = experiment(Script::MixformerVit, "teacher_tiny");
    let path = workspace.path("mae_wide.pth");
    write_mae_weights(&path, &config, |mae| {
        mae.insert("blocks.1.norm1.weight", zeros(vec![96]));
    });

    let options = StageOptions {
        pretrained: Some(path),
        ..workspace.options()
    };
    let error = build_stage(&config, &options, &training_device()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, StageError::StudentWeights { .. }),
        "{message}"
    );
    assert!(
        message
            .contains("backbone.blocks.1.norm1.weight: shape [96] in the file, [64] in the model"),
        "{message}"
    );
}

#[test]
fn stage1_builds_with_a_corner_head_teacher() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2Vit, "student_tiny_depth4");
    let options = StageOptions {
        teacher: Some(corner_teacher(&workspace)),
        ..workspace.options()
    };
    let stage = build_stage(&config, &options, &training_device()).unwrap();

    assert_eq!(stage.kind, StageKind::DenseToSparse);
    assert_eq!(stage.actor.name(), "DenseToSparseActor");
    assert!(stage.frozen.is_empty());
    assert_actor_runs(&stage, 1);
}

#[test]
fn stage1_rejects_a_prediction_token_teacher() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2Vit, "student_tiny_depth4");
    let (teacher, _) = stage1_teacher(&workspace);
    let options = StageOptions {
        teacher: Some(teacher),
        ..workspace.options()
    };
    let error = build_stage(&config, &options, &training_device()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(
            "stage 1 (dense-to-sparse distillation) needs a mixformer_vit teacher, but"
        ),
        "{message}"
    );
    assert!(message.ends_with("is a mixformer2_vit experiment; give a mixformer_vit teacher"));
}

#[test]
fn stage1_without_a_teacher_is_rejected() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2Vit, "student_tiny_depth4");
    let error = build_stage(&config, &workspace.options(), &training_device()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "stage 1 (dense-to-sparse distillation) distils from a mixformer_vit teacher, but none \
         was given; pass the teacher's script, experiment file and checkpoint"
    );
}

#[test]
fn teacher_checkpoint_of_a_wrong_shape_is_rejected_by_key() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2Vit, "student_tiny_depth4");
    let mut teacher = corner_teacher(&workspace);
    let mut net = Checkpoint::read(&teacher.checkpoint).unwrap().net;
    net.insert("backbone.blocks.2.attn.qkv.weight", zeros(vec![96, 64]));
    teacher.checkpoint = workspace.path("teacher_wrong.pth.tar");
    write_checkpoint(&teacher.checkpoint, net, 6);

    let options = StageOptions {
        teacher: Some(teacher),
        ..workspace.options()
    };
    let error = build_stage(&config, &options, &training_device()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, StageError::TeacherCheckpoint { .. }),
        "{message}"
    );
    assert!(
        message.contains(
            "backbone.blocks.2.attn.qkv.weight: shape [96, 64] in the file, [192, 64] in the model"
        ),
        "{message}"
    );
}

#[test]
fn stage2a_starts_from_stage1_and_freezes_the_remove_layers() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitStu, "student_tiny_depth4to2");
    let (teacher, stage1) = stage1_teacher(&workspace);
    let options = StageOptions {
        teacher: Some(teacher),
        ..workspace.options()
    };
    let stage = build_stage(&config, &options, &training_device()).unwrap();

    assert_eq!(stage.kind, StageKind::LayerRemoval);
    assert_eq!(stage.actor.name(), "DeepToShallowActor");
    let loaded = to_state_dict(&stage.student).unwrap();
    for key in [
        "backbone.blocks.2.mlp.fc1.weight",
        "box_head.layers.1.0.weight",
    ] {
        assert!(
            identical(loaded.get(key).unwrap(), stage1.get(key).unwrap()),
            "{key}"
        );
    }

    let parts = [
        "norm1.weight",
        "norm1.bias",
        "attn.qkv.weight",
        "attn.qkv.bias",
        "attn.proj.weight",
        "attn.proj.bias",
        "norm2.weight",
        "norm2.bias",
        "mlp.fc1.weight",
        "mlp.fc1.bias",
        "mlp.fc2.weight",
        "mlp.fc2.bias",
    ];
    let mut expected: Vec<String> = [0, 2]
        .iter()
        .flat_map(|block| parts.map(|part| format!("backbone.blocks.{block}.{part}")))
        .collect();
    let mut frozen = stage.frozen.clone();
    expected.sort();
    frozen.sort();
    assert_eq!(frozen, expected);
    assert_actor_runs(&stage, 3);
}

#[test]
fn stage2_rejects_a_teacher_of_another_depth() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitStu, "student_tiny_depth4to2");
    let (mut teacher, _) = stage1_teacher(&workspace);
    let shallow_teacher = workspace.path("teacher_tiny_depth2.yaml");
    let text = fs::read_to_string(&teacher.config)
        .unwrap()
        .replace("DEPTH: 4", "DEPTH: 2");
    fs::write(&shallow_teacher, text).unwrap();
    teacher.config = shallow_teacher;

    let options = StageOptions {
        teacher: Some(teacher),
        ..workspace.options()
    };
    let error = build_stage(&config, &options, &training_device()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, StageError::TeacherArchitecture { .. }),
        "{message}"
    );
    assert!(
        message.ends_with(
            "it has 2 blocks, but the student's MODEL.BACKBONE.DEPTH_TEACHER is 4; give the \
             teacher the student's experiment expects or correct DEPTH_TEACHER"
        ),
        "{message}"
    );
}

#[test]
fn stage2b_keeps_the_blocks_stage2a_did_not_remove() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitStu, "student_tiny_depth2");
    let (teacher, _) = stage1_teacher(&workspace);
    let stage2a = random_weights(&experiment(
        Script::Mixformer2VitStu,
        "student_tiny_depth4to2",
    ));
    write_checkpoint(
        &workspace.checkpoint_path(STAGE2A_CHECKPOINT),
        stage2a.clone(),
        5,
    );

    let options = StageOptions {
        teacher: Some(teacher),
        ..workspace.options()
    };
    let stage = build_stage(&config, &options, &training_device()).unwrap();
    assert_eq!(stage.kind, StageKind::ShallowFinetune);
    assert!(stage.frozen.is_empty());
    assert_eq!(stage.student.depth(), 2);

    // INVALID_LAYERS [0, 2]: blocks 1 and 3 become 0 and 1, everything else stays.
    let loaded = to_state_dict(&stage.student).unwrap();
    let mut compared = 0;
    for (key, tensor) in loaded.iter() {
        let source_key = match key.strip_prefix("backbone.blocks.0.") {
            Some(rest) => format!("backbone.blocks.1.{rest}"),
            None => match key.strip_prefix("backbone.blocks.1.") {
                Some(rest) => format!("backbone.blocks.3.{rest}"),
                None => key.to_owned(),
            },
        };
        if key.ends_with("pos_embed_t") || key.ends_with("pos_embed_s") {
            continue;
        }
        assert!(
            identical(tensor, stage2a.get(&source_key).unwrap()),
            "{key} vs {source_key}"
        );
        compared += 1;
    }
    // 2 blocks of 12 tensors, patch embedding, prediction tokens and the head.
    assert_eq!(compared, 2 * 12 + 2 + 2 + 8);
    assert_actor_runs(&stage, 1);
}

#[test]
fn stage2b_loads_a_checkpoint_cut_before_without_cutting_again() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitStu, "student_tiny_depth2");
    let (teacher, _) = stage1_teacher(&workspace);
    let pruned = random_weights(&config);
    let path = workspace.checkpoint_path("surgery/student_tiny_depth2_init.pth.tar");
    write_checkpoint(&path, pruned.clone(), 0);

    let options = StageOptions {
        teacher: Some(teacher),
        pretrained: Some(path),
        ..workspace.options()
    };
    let stage = build_stage(&config, &options, &training_device()).unwrap();

    let loaded = to_state_dict(&stage.student).unwrap();
    for key in [
        "backbone.blocks.0.attn.qkv.weight",
        "backbone.blocks.1.mlp.fc2.bias",
    ] {
        assert!(
            identical(loaded.get(key).unwrap(), pruned.get(key).unwrap()),
            "{key}"
        );
    }
}

#[test]
fn stage3_trains_only_the_score_head_of_the_static_model() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitOnline, "tiny_depth2_score");
    let stage2b = random_weights(&experiment(Script::Mixformer2VitStu, "student_tiny_depth2"));
    let static_model = workspace.path("stage2b.pth.tar");
    write_checkpoint(&static_model, stage2b.clone(), 4);

    let options = StageOptions {
        static_model: Some(static_model),
        ..workspace.options()
    };
    let stage = build_stage(&config, &options, &training_device()).unwrap();
    assert_eq!(stage.kind, StageKind::Score);
    assert_eq!(stage.actor.name(), "ScoreActor");

    let loaded = to_state_dict(&stage.student).unwrap();
    let key = "backbone.blocks.1.attn.proj.weight";
    assert!(identical(
        loaded.get(key).unwrap(),
        stage2b.get(key).unwrap()
    ));

    // Frozen: every stage-2b parameter; trained: the four score-head tensors.
    let mut expected: Vec<String> = stage2b
        .names()
        .filter(|name| !name.ends_with("pos_embed_t") && !name.ends_with("pos_embed_s"))
        .map(str::to_owned)
        .collect();
    let mut frozen = stage.frozen.clone();
    expected.sort();
    frozen.sort();
    assert_eq!(frozen, expected);
    let trained: Vec<&str> = loaded
        .names()
        .filter(|name| !stage.frozen.iter().any(|frozen| frozen == name))
        .filter(|name| !name.ends_with("pos_embed_t") && !name.ends_with("pos_embed_s"))
        .collect();
    assert_eq!(
        trained,
        [
            "score_head.layers.0.0.weight",
            "score_head.layers.0.0.bias",
            "score_head.layers.1.weight",
            "score_head.layers.1.bias"
        ]
    );
    assert_actor_runs(&stage, 1);
}

#[test]
fn stage3_without_a_static_model_is_rejected() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitOnline, "tiny_depth2_score");
    let error = build_stage(&config, &workspace.options(), &training_device()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "stage 3 (score-head training) starts from the stage-2b checkpoint, but none was given; \
         give it as the static model on the command line"
    );
}

#[test]
fn stage3_rejects_a_teacher() {
    let workspace = Workspace::new();
    let config = experiment(Script::Mixformer2VitOnline, "tiny_depth2_score");
    let options = StageOptions {
        teacher: Some(corner_teacher(&workspace)),
        ..workspace.options()
    };
    let error = build_stage(&config, &options, &training_device()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "stage 3 (score-head training) trains without a teacher; leave the teacher out"
    );
}
