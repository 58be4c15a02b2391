//! Building a training stage from an experiment config: the student with its
//! starting weights, the actor with its teacher, the frozen parameters and the
//! checkpoint metadata.
//!
//! | stage | script | teacher | student starts from | frozen |
//! |---|---|---|---|---|
//! | 0 | `mixformer_vit` | none | MAE ViT weights or random | nothing |
//! | 1 | `mixformer2_vit` | `mixformer_vit` | MAE ViT weights or random | nothing |
//! | 2a | `mixformer2_vit_stu`, `REMOVE_LAYERS` set | `mixformer2_vit` | stage 1 | the `REMOVE_LAYERS` blocks |
//! | 2b | `mixformer2_vit_stu`, no `REMOVE_LAYERS` | `mixformer2_vit` | stage 2a minus `INVALID_LAYERS` | nothing |
//! | 3 | `mixformer2_vit_online` | none | stage 2b | all but `score_head.*` |

use std::fmt;
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use mixformer_config::{
    Architecture, ConfigError, ExperimentConfig, HeadType, LocalSettings, Script, SettingsError,
};
use mixformer_distill::actors::{
    BoxLossWeights, DeepToShallowActor, DeepToShallowSettings, DenseToSparseActor, ScoreActor,
    TeacherTrainingActor,
};
use mixformer_distill::{Actor, DistillError, RemoveRateSchedule};
use mixformer_layer_surgery::surgery::{self, RenameRule};
use mixformer_layer_surgery::{ReadOptions, StateDict, read_weights, read_weights_with};
use mixformer_model_vit::weights::FIXED_TABLE_KEYS;
use mixformer_model_vit::{
    LoadPolicy, MixFormer, ModelError, VitConfig, load_state_dict, load_weights_file, to_state_dict,
};
use thiserror::Error;

/// Class name of the network, written into checkpoints as `net_type` and used
/// in their file names (`MixFormer_ep0045.pth.tar`).
pub const NET_TYPE: &str = "MixFormer";

/// The teacher given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherSpec {
    /// The teacher's training script.
    pub script: Script,
    /// The teacher's experiment file.
    pub config: PathBuf,
    /// The teacher's weights.
    pub checkpoint: PathBuf,
}

/// Command-line choices that complete an experiment config.
#[derive(Debug, Clone)]
pub struct StageOptions {
    /// The teacher of stages 1 and 2.
    pub teacher: Option<TeacherSpec>,
    /// Starting weights that replace `MODEL.BACKBONE.PRETRAINED_PATH`.
    pub pretrained: Option<PathBuf>,
    /// The stage-2b checkpoint the score stage starts from (`--static-model`).
    pub static_model: Option<PathBuf>,
    /// Folders of this machine, which resolve relative weight paths.
    pub settings: LocalSettings,
}

/// The training stages of MixFormerV2 (METHOD.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StageKind {
    /// Stage 0: the MixFormer-ViT teacher on the ground truth.
    TeacherTraining,
    /// Stage 1: dense-to-sparse distillation into the prediction-token student.
    DenseToSparse,
    /// Stage 2a: progressive removal of the `REMOVE_LAYERS` blocks.
    LayerRemoval,
    /// Stage 2b: fine-tuning of the shallow student.
    ShallowFinetune,
    /// Stage 3: the score head.
    Score,
}

impl StageKind {
    /// Determines the stage of an experiment from its script and, for
    /// `mixformer2_vit_stu`, from whether `TRAIN.REMOVE_LAYERS` lists blocks.
    pub fn of(experiment: &ExperimentConfig) -> Self {
        match experiment.script {
            Script::MixformerVit => Self::TeacherTraining,
            Script::Mixformer2Vit => Self::DenseToSparse,
            Script::Mixformer2VitStu if experiment.train.remove_layers.is_empty() => {
                Self::ShallowFinetune
            }
            Script::Mixformer2VitStu => Self::LayerRemoval,
            Script::Mixformer2VitOnline => Self::Score,
        }
    }

    /// The stage's label in the method: `0`, `1`, `2a`, `2b` or `3`.
    pub fn label(self) -> &'static str {
        match self {
            Self::TeacherTraining => "0",
            Self::DenseToSparse => "1",
            Self::LayerRemoval => "2a",
            Self::ShallowFinetune => "2b",
            Self::Score => "3",
        }
    }

    /// Returns the script of the teacher the stage distils from, if it has one.
    pub fn teacher_script(self) -> Option<Script> {
        match self {
            Self::DenseToSparse => Some(Script::MixformerVit),
            Self::LayerRemoval | Self::ShallowFinetune => Some(Script::Mixformer2Vit),
            Self::TeacherTraining | Self::Score => None,
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let description = match self {
            Self::TeacherTraining => "teacher training",
            Self::DenseToSparse => "dense-to-sparse distillation",
            Self::LayerRemoval => "layer removal",
            Self::ShallowFinetune => "shallow fine-tuning",
            Self::Score => "score-head training",
        };
        write!(formatter, "stage {} ({description})", self.label())
    }
}

/// Everything the trainer needs to run a stage.
pub struct Stage {
    /// The model being trained, on the training device.
    pub student: MixFormer,
    /// The stage's forward pass and losses, with its teacher.
    pub actor: Box<dyn Actor>,
    /// PyTorch keys of the parameters the optimiser leaves untouched.
    pub frozen: Vec<String>,
    /// Written into checkpoints as `net_type` ([`NET_TYPE`]).
    pub net_type: String,
    /// The stage kind.
    pub kind: StageKind,
}

impl fmt::Debug for Stage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Stage")
            .field("actor", &self.actor.name())
            .field("frozen", &self.frozen.len())
            .field("net_type", &self.net_type)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// An error that keeps a stage from starting.
#[derive(Debug, Error)]
pub enum StageError {
    /// A distillation stage without a teacher.
    #[error(
        "{stage} distils from a {expected} teacher, but none was given; pass the teacher's \
         script, experiment file and checkpoint"
    )]
    MissingTeacher { stage: StageKind, expected: Script },

    /// A teacher given to a stage that has none.
    #[error("{stage} trains without a teacher; leave the teacher out")]
    UnexpectedTeacher { stage: StageKind },

    /// A teacher of the wrong script.
    #[error(
        "{stage} needs a {expected} teacher, but {} is a {found} experiment; give a {expected} \
         teacher",
        config.display()
    )]
    TeacherScript {
        stage: StageKind,
        expected: Script,
        found: Script,
        config: PathBuf,
    },

    /// A teacher whose architecture cannot teach this student.
    #[error("teacher {}: {problem}", config.display())]
    TeacherArchitecture { config: PathBuf, problem: String },

    /// The teacher's experiment file cannot be read.
    #[error("teacher experiment: {0}")]
    TeacherConfig(#[source] Box<ConfigError>),

    /// The teacher's checkpoint does not fit the teacher's model.
    #[error(
        "teacher checkpoint {}: {source}; give the checkpoint trained with the teacher's \
         experiment file",
        path.display()
    )]
    TeacherCheckpoint {
        path: PathBuf,
        #[source]
        source: Box<ModelError>,
    },

    /// A stage that continues a previous stage without its checkpoint.
    #[error("{stage} starts from the {previous} checkpoint, but none was given; {remedy}")]
    MissingStartingCheckpoint {
        stage: StageKind,
        previous: &'static str,
        remedy: &'static str,
    },

    /// A starting checkpoint that cannot be read or edited.
    #[error("starting weights {}: {source}", path.display())]
    ReadWeights {
        path: PathBuf,
        #[source]
        source: Box<mixformer_layer_surgery::Error>,
    },

    /// Starting weights that do not fit the student.
    #[error("{stage}: {source}")]
    StudentWeights {
        stage: StageKind,
        #[source]
        source: Box<ModelError>,
    },

    /// The student cannot be built from the experiment.
    #[error("student of {experiment}: {source}")]
    Student {
        experiment: String,
        #[source]
        source: Box<ModelError>,
    },

    /// A folder needed to resolve a path is not set.
    #[error(transparent)]
    Settings(#[from] SettingsError),

    /// `TRAIN.REMOVE_LAYERS` names blocks the student does not have.
    #[error("TRAIN.REMOVE_LAYERS {layers:?}: {source}; list blocks of the student")]
    RemoveLayers {
        layers: Vec<usize>,
        #[source]
        source: Box<mixformer_layer_surgery::Error>,
    },

    /// The actor rejects the models or the experiment values.
    #[error("{stage}: {source}")]
    Actor {
        stage: StageKind,
        #[source]
        source: Box<DistillError>,
    },
}

/// Builds the student, the actor, the frozen parameter list and the checkpoint
/// metadata of the stage that `experiment` describes.
///
/// The student is built on `device` (the training device, usually with
/// autodiff) and loaded as the stage's row in the module table describes. The
/// teacher is built on the plain device beneath it and checked against the
/// student before its checkpoint is read.
///
/// # Errors
///
/// A [`StageError`] naming the missing or mismatched teacher, the checkpoint and
/// the keys that do not load, or the path that cannot be resolved.
pub fn build_stage(
    experiment: &ExperimentConfig,
    options: &StageOptions,
    device: &Device,
) -> Result<Stage, StageError> {
    let kind = StageKind::of(experiment);
    let architecture = experiment.architecture();
    let student = MixFormer::new(&VitConfig::from(&architecture), device).map_err(|source| {
        StageError::Student {
            experiment: experiment.experiment_name(),
            source: Box::new(source),
        }
    })?;
    let teacher = load_teacher(kind, experiment, &architecture, options, device)?;

    let (student, frozen) = match kind {
        StageKind::TeacherTraining | StageKind::DenseToSparse => {
            let student = match starting_path(experiment, options)? {
                Some(path) => load_pretrained_backbone(student, &path, kind)?,
                None => {
                    tracing::info!(%kind, "the student starts from random weights");
                    student
                }
            };
            (student, Vec::new())
        }
        StageKind::LayerRemoval | StageKind::ShallowFinetune => {
            let path = starting_path(experiment, options)?.ok_or(
                StageError::MissingStartingCheckpoint {
                    stage: kind,
                    previous: if kind == StageKind::LayerRemoval {
                        "stage-1"
                    } else {
                        "stage-2a"
                    },
                    remedy: "set MODEL.BACKBONE.PRETRAINED true and PRETRAINED_PATH, or give \
                             the pretrained weights on the command line",
                },
            )?;
            let student =
                load_previous_stage(student, &path, &experiment.train.invalid_layers, kind)?;
            let frozen = frozen_blocks(&student, &experiment.train.remove_layers)?;
            (student, frozen)
        }
        StageKind::Score => {
            let path = options
                .static_model
                .clone()
                .map(Ok)
                .or_else(|| starting_path(experiment, options).transpose())
                .transpose()?
                .ok_or(StageError::MissingStartingCheckpoint {
                    stage: kind,
                    previous: "stage-2b",
                    remedy: "give it as the static model on the command line",
                })?;
            let student = load_static_model(student, &path, kind)?;
            let frozen = all_but_score_head(&student, kind)?;
            (student, frozen)
        }
    };

    let actor = build_actor(kind, experiment, teacher)?;
    tracing::info!(
        %kind,
        experiment = %experiment.experiment_name(),
        actor = actor.name(),
        frozen = frozen.len(),
        "stage ready"
    );
    Ok(Stage {
        student,
        actor,
        frozen,
        net_type: NET_TYPE.to_owned(),
        kind,
    })
}

/// Resolves the weights the student starts from: the command line's, else the config's.
fn starting_path(
    experiment: &ExperimentConfig,
    options: &StageOptions,
) -> Result<Option<PathBuf>, StageError> {
    match &options.pretrained {
        Some(path) => Ok(Some(path.clone())),
        None => Ok(experiment.pretrained_path(&options.settings)?),
    }
}

/// Builds the stage's actor from the experiment's weights and layer lists.
fn build_actor(
    kind: StageKind,
    experiment: &ExperimentConfig,
    teacher: Option<MixFormer>,
) -> Result<Box<dyn Actor>, StageError> {
    let train = &experiment.train;
    let box_weights = BoxLossWeights {
        iou: train.iou_weight,
        l1: train.l1_weight,
    };
    let actor_error = |source| StageError::Actor {
        stage: kind,
        source: Box::new(source),
    };
    let teacher = || {
        teacher.ok_or(StageError::MissingTeacher {
            stage: kind,
            expected: kind.teacher_script().unwrap_or(Script::MixformerVit),
        })
    };
    Ok(match kind {
        StageKind::TeacherTraining => Box::new(TeacherTrainingActor::new(box_weights)),
        StageKind::DenseToSparse => Box::new(
            DenseToSparseActor::new(teacher()?, box_weights, train.corner_weight)
                .map_err(actor_error)?,
        ),
        StageKind::LayerRemoval | StageKind::ShallowFinetune => {
            let removal_epochs = u32::try_from(train.remove_epochs).unwrap_or(u32::MAX);
            let settings = DeepToShallowSettings {
                box_weights,
                corner_weight: train.corner_weight,
                feat_weight: train.feat_weight,
                distill_layers_student: train.distill_layers_student.clone(),
                distill_layers_teacher: train.distill_layers_teacher.clone(),
                remove_layers: train.remove_layers.clone(),
                schedule: RemoveRateSchedule::new(removal_epochs).map_err(actor_error)?,
            };
            Box::new(DeepToShallowActor::new(teacher()?, settings).map_err(actor_error)?)
        }
        StageKind::Score => Box::new(ScoreActor::new(train.score_weight)),
    })
}

/// Checks the teacher against the stage and the student, then builds it on
/// the plain device and loads its checkpoint strictly.
fn load_teacher(
    kind: StageKind,
    experiment: &ExperimentConfig,
    student: &Architecture,
    options: &StageOptions,
    device: &Device,
) -> Result<Option<MixFormer>, StageError> {
    let spec = match (kind.teacher_script(), &options.teacher) {
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(StageError::UnexpectedTeacher { stage: kind }),
        (Some(expected), None) => {
            return Err(StageError::MissingTeacher {
                stage: kind,
                expected,
            });
        }
        (Some(expected), Some(spec)) if spec.script != expected => {
            return Err(StageError::TeacherScript {
                stage: kind,
                expected,
                found: spec.script,
                config: spec.config.clone(),
            });
        }
        (Some(_), Some(spec)) => spec,
    };

    let teacher_config = ExperimentConfig::load(spec.script, &spec.config)
        .map_err(|error| StageError::TeacherConfig(Box::new(error)))?;
    let teacher = teacher_config.architecture();
    check_teacher(kind, experiment, student, &teacher).map_err(|problem| {
        StageError::TeacherArchitecture {
            config: spec.config.clone(),
            problem,
        }
    })?;

    let model =
        MixFormer::new(&VitConfig::from(&teacher), &device.clone().inner()).map_err(|source| {
            StageError::TeacherCheckpoint {
                path: spec.checkpoint.clone(),
                source: Box::new(source),
            }
        })?;
    // Published teachers pickle the reference's settings and statistics objects
    // beside the weights; they are read as inert placeholders.
    let policy = LoadPolicy::strict()
        .with_classification_leftovers()
        .allowing_foreign_objects();
    let (model, _) = load_weights_file(model, &spec.checkpoint, &policy).map_err(|source| {
        StageError::TeacherCheckpoint {
            path: spec.checkpoint.clone(),
            source: Box::new(source),
        }
    })?;
    tracing::info!(
        checkpoint = %spec.checkpoint.display(),
        config = %spec.config.display(),
        "teacher loaded"
    );
    Ok(Some(model))
}

/// Says what keeps `teacher` from teaching `student` in `kind`, and what to change.
fn check_teacher(
    kind: StageKind,
    experiment: &ExperimentConfig,
    student: &Architecture,
    teacher: &Architecture,
) -> Result<(), String> {
    // Both networks see the same crops.
    for (what, teacher_size, student_size) in [
        ("template", teacher.template_size, student.template_size),
        ("search", teacher.search_size, student.search_size),
    ] {
        if teacher_size != student_size {
            return Err(format!(
                "its {what} crops are {teacher_size} px but the student's are {student_size} px; \
                 set DATA.{}.SIZE to {student_size} in the teacher's experiment",
                what.to_uppercase()
            ));
        }
    }

    if kind == StageKind::DenseToSparse {
        if teacher.head_type == HeadType::Mlp {
            return Err(format!(
                "its head is MLP, but {kind} marginalises a corner head's maps; give a teacher \
                 with MODEL.HEAD_TYPE CORNER or CORNER_UP"
            ));
        }
        if teacher.feat_sz != student.feat_sz {
            return Err(format!(
                "its {} head gives {side}x{side} corner maps, but the student predicts {bins} \
                 bins per side; make the teacher's score-map size equal the student's \
                 MODEL.FEAT_SZ ({bins})",
                teacher.head_type.as_str(),
                side = teacher.feat_sz,
                bins = student.feat_sz,
            ));
        }
        return Ok(());
    }

    // Stage 2: side distributions and block outputs are compared one to one.
    if teacher.head_type != HeadType::Mlp {
        return Err(format!(
            "its head is {}, but {kind} compares side distributions; give a mixformer2_vit \
             teacher with MODEL.HEAD_TYPE MLP",
            teacher.head_type.as_str()
        ));
    }
    if teacher.feat_sz != student.feat_sz {
        return Err(format!(
            "its MODEL.FEAT_SZ is {} but the student's is {}; the side distributions must have \
             the same bins",
            teacher.feat_sz, student.feat_sz
        ));
    }
    let depth_teacher = experiment.model.backbone.depth_teacher;
    if teacher.depth != depth_teacher {
        return Err(format!(
            "it has {} blocks, but the student's MODEL.BACKBONE.DEPTH_TEACHER is {depth_teacher}; \
             give the teacher the student's experiment expects or correct DEPTH_TEACHER",
            teacher.depth
        ));
    }
    if teacher.embed_dim != student.embed_dim {
        return Err(format!(
            "its tokens have width {} but the student's have width {}; feature distillation \
             compares block outputs of equal width",
            teacher.embed_dim, student.embed_dim
        ));
    }
    Ok(())
}

/// Loads pretrained weights into the student's backbone (stages 0 and 1).
///
/// An MAE ViT file (`model` entry, keys without `backbone.`) is renamed into
/// `backbone.` after dropping what the tracker has no place for: `cls_token`,
/// `pos_embed`, `mask_token`, `norm.*`, `fc_norm.*`, `head.*` and the decoder.
/// A file whose keys already carry `backbone.` is loaded as it is. The box head,
/// the prediction tokens and the score head start fresh; every other missing
/// key, and any shape mismatch, is an error. Keys the student has no place for,
/// such as the blocks of a deeper ViT, are logged and skipped.
fn load_pretrained_backbone(
    student: MixFormer,
    path: &Path,
    kind: StageKind,
) -> Result<MixFormer, StageError> {
    let read_error = |source| StageError::ReadWeights {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let options = ReadOptions {
        allow_foreign_objects: true,
    };
    let weights = read_weights_with(path, &options).map_err(read_error)?;
    let has_backbone_prefix = weights
        .state_dict
        .names()
        .any(|name| name.starts_with("backbone."));
    let state_dict = if has_backbone_prefix {
        weights.state_dict
    } else {
        mae_into_backbone(&weights.state_dict).map_err(read_error)?
    };

    let policy = LoadPolicy {
        allow_missing: [
            "box_head.",
            "score_head.",
            "backbone.reg_tokens",
            "backbone.pos_embed_reg",
        ]
        .map(String::from)
        .to_vec(),
        allow_unexpected: true,
        ..LoadPolicy::strict().with_classification_leftovers()
    };
    let origin = path.display().to_string();
    let (student, report) =
        load_state_dict(student, &state_dict, &policy, &origin).map_err(|source| {
            StageError::StudentWeights {
                stage: kind,
                source: Box::new(source),
            }
        })?;
    tracing::info!(
        file = %origin,
        loaded = report.loaded.len(),
        fresh = ?report.missing,
        skipped = ?report.unexpected,
        "pretrained backbone loaded"
    );
    Ok(student)
}

/// Top-level MAE entries that have no place in the tracker's backbone.
const MAE_UNUSED_KEYS: [&str; 3] = ["cls_token", "pos_embed", "mask_token"];

/// Prefixes of MAE keys that have no place in the tracker's backbone: the final
/// norms, the classifier and the decoder (`decoder_embed`, `decoder_blocks`, ...).
const MAE_UNUSED_PREFIXES: [&str; 4] = ["norm.", "fc_norm.", "head.", "decoder"];

/// Drops the unused MAE keys and prefixes the rest with `backbone.`.
fn mae_into_backbone(mae: &StateDict) -> Result<StateDict, mixformer_layer_surgery::Error> {
    let mut kept = StateDict::new();
    let mut dropped = Vec::new();
    for (name, tensor) in mae.iter() {
        let unused = MAE_UNUSED_KEYS.contains(&name)
            || MAE_UNUSED_PREFIXES
                .iter()
                .any(|prefix| name.starts_with(prefix));
        if unused {
            dropped.push(name.to_owned());
        } else {
            kept.insert(name, tensor.clone());
        }
    }
    tracing::info!(count = dropped.len(), keys = ?dropped, "MAE keys the tracker does not use");
    let (renamed, _) = surgery::rename(&kept, &[RenameRule::new("^", "backbone.")?])?;
    Ok(renamed)
}

/// Loads the checkpoint of the previous stage (stages 2a and 2b): the
/// `INVALID_LAYERS` blocks are cut and the rest renumbered, unless the
/// checkpoint already has the student's depth, then every key must match the
/// student.
fn load_previous_stage(
    student: MixFormer,
    path: &Path,
    invalid_layers: &[usize],
    kind: StageKind,
) -> Result<MixFormer, StageError> {
    let read_error = |source| StageError::ReadWeights {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let weights = read_weights(path).map_err(read_error)?;
    // A checkpoint that already has the student's depth was cut before, e.g. by
    // `cargo xtask weights remove-layers`; cutting it again would drop live blocks.
    let already_cut = checkpoint_depth(&weights.state_dict) == student.depth();
    let state_dict = if invalid_layers.is_empty() || already_cut {
        weights.state_dict
    } else {
        let (cut, report) =
            surgery::remove_layers(&weights.state_dict, invalid_layers).map_err(read_error)?;
        tracing::info!(layers = ?invalid_layers, %report, "removed INVALID_LAYERS");
        cut
    };
    let policy = LoadPolicy::strict().with_classification_leftovers();
    let origin = path.display().to_string();
    let (student, _) =
        load_state_dict(student, &state_dict, &policy, &origin).map_err(|source| {
            StageError::StudentWeights {
                stage: kind,
                source: Box::new(source),
            }
        })?;
    Ok(student)
}

/// Number of distinct `backbone.blocks.<n>.` indices in a state dict.
fn checkpoint_depth(state_dict: &mixformer_layer_surgery::StateDict) -> usize {
    let indices: std::collections::BTreeSet<usize> = state_dict
        .names()
        .filter_map(|key| match surgery::place_block(key) {
            surgery::BlockPlacement::Block { index, .. } => Some(index),
            _ => None,
        })
        .collect();
    indices.len()
}

/// Loads the stage-2b model for the score stage; only the score head may be missing.
fn load_static_model(
    student: MixFormer,
    path: &Path,
    kind: StageKind,
) -> Result<MixFormer, StageError> {
    let policy = LoadPolicy {
        allow_missing: vec!["score_head.".to_owned()],
        ..LoadPolicy::strict().with_classification_leftovers()
    };
    let (student, _) =
        load_weights_file(student, path, &policy).map_err(|source| StageError::StudentWeights {
            stage: kind,
            source: Box::new(source),
        })?;
    Ok(student)
}

/// Lists every key of the `REMOVE_LAYERS` blocks (stage 2a), none in stage 2b.
fn frozen_blocks(student: &MixFormer, remove_layers: &[usize]) -> Result<Vec<String>, StageError> {
    if remove_layers.is_empty() {
        return Ok(Vec::new());
    }
    let state_dict = to_state_dict(student).map_err(|source| StageError::StudentWeights {
        stage: StageKind::LayerRemoval,
        source: Box::new(source),
    })?;
    surgery::frozen_parameters(&state_dict, remove_layers).map_err(|source| {
        StageError::RemoveLayers {
            layers: remove_layers.to_vec(),
            source: Box::new(source),
        }
    })
}

/// Lists every parameter key outside `score_head.` (stage 3), without the fixed tables.
fn all_but_score_head(student: &MixFormer, kind: StageKind) -> Result<Vec<String>, StageError> {
    let state_dict = to_state_dict(student).map_err(|source| StageError::StudentWeights {
        stage: kind,
        source: Box::new(source),
    })?;
    Ok(state_dict
        .names()
        .filter(|name| !name.starts_with("score_head."))
        .filter(|name| {
            let last = name.rsplit('.').next().unwrap_or(name);
            !FIXED_TABLE_KEYS.contains(&last)
        })
        .map(str::to_owned)
        .collect())
}
