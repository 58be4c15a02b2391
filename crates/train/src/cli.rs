//! The command line of `train` and what it runs.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use clap::{Parser, ValueEnum};
use mixformer_config::{ConfigError, ExperimentConfig, LocalSettings, Script, SettingsError};
use mixformer_model_vit::device_from_name;
use mixformer_trainer::stage::{StageError, StageKind, StageOptions, TeacherSpec, build_stage};
use mixformer_trainer::{TrainError, Trainer, TrainerSettings, experiment_data};
use thiserror::Error;

/// Seed of the reference's `train.py`.
const DEFAULT_SEED: u64 = 42;

/// How many devices to train on, as in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// One device.
    Single,
    /// `--nproc-per-node` devices, data-parallel.
    Multiple,
}

/// Trains one MixFormer stage. Experiment files are read from
/// `experiments/<script>/<config>.yaml`.
#[derive(Debug, Parser)]
#[command(name = "train", version, about)]
pub struct Args {
    /// Training script: mixformer_vit, mixformer2_vit, mixformer2_vit_stu or mixformer2_vit_online.
    #[arg(long)]
    pub script: String,
    /// Experiment name, the file name under experiments/<script>/ without `.yaml`.
    #[arg(long)]
    pub config: String,
    /// Output root for checkpoints/ and logs/ (default: save_dir of local.yaml).
    #[arg(long = "save-dir", alias = "save_dir")]
    pub save_dir: Option<PathBuf>,
    /// 1 for the distillation stages (1, 2a, 2b), which need the teacher options.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
    pub distill: u8,
    /// The teacher's training script.
    #[arg(long = "script-teacher", alias = "script_teacher")]
    pub script_teacher: Option<String>,
    /// The teacher's experiment name under experiments/<script-teacher>/.
    #[arg(long = "config-teacher", alias = "config_teacher")]
    pub config_teacher: Option<String>,
    /// The teacher's weights (`.pth`, `.pth.tar` or `.safetensors`).
    #[arg(long = "checkpoint-teacher-path", alias = "checkpoint_teacher_path")]
    pub checkpoint_teacher_path: Option<PathBuf>,
    /// The stage-2b checkpoint the score stage starts from.
    #[arg(long = "static-model", alias = "static_model")]
    pub static_model: Option<PathBuf>,
    /// Starting weights, replacing MODEL.BACKBONE.PRETRAINED_PATH without editing the YAML.
    #[arg(long)]
    pub pretrained: Option<PathBuf>,
    /// single: one device; multiple: --nproc-per-node devices.
    #[arg(long, value_enum, default_value_t = Mode::Multiple)]
    pub mode: Mode,
    /// Devices to train on in `--mode multiple`.
    #[arg(long = "nproc-per-node", alias = "nproc_per_node", default_value_t = 1)]
    pub nproc_per_node: usize,
    /// Seed of the data sampling, the initialisation and drop-path.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Replaces TRAIN.EPOCH, for short runs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Ends this invocation after this epoch; running the command again resumes.
    #[arg(long = "stop-after", alias = "stop_after")]
    pub stop_after: Option<usize>,
    /// Folder of the experiment files (default: experiments/ of the workspace).
    #[arg(long = "experiments-dir", alias = "experiments_dir")]
    pub experiments_dir: Option<PathBuf>,
    /// The local settings file (default: MIXFORMER_LOCAL_SETTINGS, else local.yaml).
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Training device: cpu (libtorch with the tch feature, else the pure-Rust
    /// backend), flex, libtorch, or cuda:N for the N-th GPU (tch feature).
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// Why `train` stopped.
#[derive(Debug, Error)]
pub enum CliError {
    /// A combination of options that cannot run.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// Runs the stage the arguments describe.
pub fn run(args: &Args) -> Result<(), CliError> {
    let device = training_device(args)?;
    let replicas = replica_devices(args)?;
    let experiments = args
        .experiments_dir
        .clone()
        .unwrap_or_else(default_experiments_dir);
    let mut config = load_experiment(&experiments, &args.script, &args.config)?;
    if let Some(epochs) = args.epochs {
        config.train.epoch = epochs;
    }
    let teacher = teacher_spec(args, &experiments, StageKind::of(&config))?;
    let settings = match &args.settings {
        Some(path) => LocalSettings::load(path)?,
        None => LocalSettings::load_default()?,
    };
    let save_dir = match &args.save_dir {
        Some(dir) => dir.clone(),
        None => settings.save_dir()?.to_owned(),
    };

    // One seed fixes the initialisation here, drop-path per epoch and the data's draws.
    device.seed(args.seed);
    let options = StageOptions {
        teacher,
        pretrained: args.pretrained.clone(),
        static_model: args.static_model.clone(),
        settings: settings.clone(),
    };
    let stage = build_stage(&config, &options, &device)?;
    tracing::info!(stage = %stage.kind, experiment = %config.experiment_name(), "starting");
    // As in the reference, TRAIN.BATCH_SIZE is per device: each step draws one
    // batch for every device and the epoch has SAMPLE_PER_EPOCH / (N x B) steps.
    // The saved config keeps the per-device value.
    let devices = replicas.len() + 1;
    let mut data_config = config.clone();
    data_config.train.batch_size *= devices;
    let data = experiment_data(&data_config, &settings, args.seed)?;

    let mut trainer_settings =
        TrainerSettings::from_config(&config, save_dir, &stage.net_type, args.seed)?;
    trainer_settings.stop_after = args.stop_after;
    trainer_settings.batch_size *= devices;
    let mut trainer = Trainer::new(
        stage.student,
        stage.actor,
        &stage.frozen,
        trainer_settings,
        &device,
    )?;
    trainer.set_replica_devices(&replicas);
    trainer.resume()?;
    let summary = trainer.fit(&data.train, Some(&data.val))?;
    match &summary.checkpoint {
        Some(path) => tracing::info!(
            epoch = summary.last_epoch,
            checkpoint = %path.display(),
            "finished"
        ),
        None => tracing::info!(epoch = summary.last_epoch, "finished without a checkpoint"),
    }
    Ok(())
}

/// `experiments/` of the workspace this binary was built in.
fn default_experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

fn load_experiment(
    experiments: &Path,
    script: &str,
    config: &str,
) -> Result<ExperimentConfig, CliError> {
    let script: Script = script.parse()?;
    let path = experiments
        .join(script.name())
        .join(format!("{config}.yaml"));
    Ok(ExperimentConfig::load(script, path)?)
}

/// The teacher options, checked against the stage before anything is loaded.
fn teacher_spec(
    args: &Args,
    experiments: &Path,
    kind: StageKind,
) -> Result<Option<TeacherSpec>, CliError> {
    let given = [
        args.script_teacher.is_some(),
        args.config_teacher.is_some(),
        args.checkpoint_teacher_path.is_some(),
    ];
    match (args.distill, kind.teacher_script()) {
        (0, None) => {
            if given.iter().any(|&set| set) {
                return Err(CliError::Usage(format!(
                    "{kind} has no teacher; leave out --script-teacher, --config-teacher and \
                     --checkpoint-teacher-path"
                )));
            }
            Ok(None)
        }
        (0, Some(expected)) => Err(CliError::Usage(format!(
            "{kind} distils from a {expected} teacher: pass --distill 1 with --script-teacher, \
             --config-teacher and --checkpoint-teacher-path"
        ))),
        (_, None) => Err(CliError::Usage(format!(
            "{kind} trains without a teacher; leave out --distill 1"
        ))),
        (_, Some(_)) => {
            let (Some(script), Some(config), Some(checkpoint)) = (
                &args.script_teacher,
                &args.config_teacher,
                &args.checkpoint_teacher_path,
            ) else {
                return Err(CliError::Usage(
                    "--distill 1 needs --script-teacher, --config-teacher and \
                     --checkpoint-teacher-path"
                        .into(),
                ));
            };
            let script: Script = script.parse()?;
            let config = experiments
                .join(script.name())
                .join(format!("{config}.yaml"));
            if !config.is_file() {
                return Err(CliError::Usage(format!(
                    "the teacher's experiment file {} does not exist",
                    config.display()
                )));
            }
            if !checkpoint.is_file() {
                return Err(CliError::Usage(format!(
                    "the teacher's checkpoint {} does not exist",
                    checkpoint.display()
                )));
            }
            Ok(Some(TeacherSpec {
                script,
                config,
                checkpoint: checkpoint.clone(),
            }))
        }
    }
}

/// Returns the device of `--device`, with autodiff: libtorch when built with the `tch`
/// feature, the pure-Rust CPU backend otherwise (see `mixformer_model_vit::device`).
fn training_device(args: &Args) -> Result<Device, CliError> {
    device_from_name(&args.device)
        .map(|device| device.autodiff())
        .map_err(|error| CliError::Usage(format!("--device: {error}")))
}

/// Returns the devices after the first of data-parallel training: none for
/// one device, `cuda:K+1 .. cuda:K+N-1` for `--device cuda:K` and N
/// processes. Stops before anything is loaded when the machine lacks them.
fn replica_devices(args: &Args) -> Result<Vec<Device>, CliError> {
    let wanted = match args.mode {
        Mode::Single => 1,
        Mode::Multiple => args.nproc_per_node,
    };
    if wanted == 0 {
        return Err(CliError::Usage(
            "--nproc-per-node must be at least 1".into(),
        ));
    }
    if wanted == 1 {
        return Ok(Vec::new());
    }
    let first = args
        .device
        .strip_prefix("cuda:")
        .and_then(|index| index.parse::<usize>().ok());
    let available = match first {
        Some(_) => cuda_device_count(),
        // The CPU backends have one device.
        None => 1,
    };
    let Some(first) = first.filter(|first| first + wanted <= available) else {
        return Err(CliError::Usage(format!(
            "--nproc-per-node {wanted}: this machine has {available} device(s) for the chosen \
             backend; pass --nproc-per-node {available} or --mode single (data-parallel \
             training runs on GPUs cuda:K .. cuda:K+N-1 with --device cuda:K)"
        )));
    };
    (first + 1..first + wanted)
        .map(|index| {
            device_from_name(&format!("cuda:{index}"))
                .map(Device::autodiff)
                .map_err(|error| CliError::Usage(format!("--nproc-per-node: {error}")))
        })
        .collect()
}

/// Returns the number of CUDA devices libtorch finds, 0 without the `tch` feature.
fn cuda_device_count() -> usize {
    #[cfg(feature = "tch")]
    {
        Device::enumerate(burn::tensor::DeviceType::LibTorch).len()
    }
    #[cfg(not(feature = "tch"))]
    {
        0
    }
}
