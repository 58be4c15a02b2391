//! The stages of a preset, their inputs, outputs and command lines.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use mixformer_config::{ExperimentConfig, LocalSettings, SETTINGS_ENV, Script};
use mixformer_layer_surgery::{Dict, Value, read_weights, surgery, write_pth};

use super::PipelineArgs;
use super::state::PipelineState;
use crate::paths::{SAMPLE_DATA_ENV, sample_data_folder};

/// The experiments a pipeline runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Small models on the sample data, minutes on a 2-core CPU.
    Tiny,
    /// The published experiments on the datasets of the local settings file.
    Base,
}

/// The experiment names of one preset, stage by stage.
struct Experiments {
    teacher: &'static str,
    stage1: &'static str,
    stage1_as_teacher: &'static str,
    stage2a: &'static str,
    stage2b: &'static str,
    score: &'static str,
    eval_dataset: &'static str,
}

impl Preset {
    fn experiments(self) -> Experiments {
        match self {
            Preset::Tiny => Experiments {
                teacher: "teacher_tiny",
                stage1: "student_tiny_depth4",
                stage1_as_teacher: "teacher_tiny_depth4",
                stage2a: "student_tiny_depth4to2",
                stage2b: "student_tiny_depth2",
                score: "tiny_depth2_score",
                eval_dataset: "otb",
            },
            Preset::Base => Experiments {
                teacher: "teacher_mixvit_b",
                stage1: "student_288_depth12",
                stage1_as_teacher: "teacher_288_depth12",
                stage2a: "student_288_depth12to8",
                stage2b: "student_288_depth8",
                score: "288_depth8_score",
                eval_dataset: "lasot",
            },
        }
    }

    fn name(self) -> &'static str {
        match self {
            Preset::Tiny => "tiny",
            Preset::Base => "base",
        }
    }
}

/// One training stage run by the `train` binary.
#[derive(Debug, Clone)]
pub struct TrainStage {
    pub title: String,
    pub script: Script,
    pub config: String,
    pub teacher: Option<(Script, String, PathBuf)>,
    pub pretrained: Option<PathBuf>,
    pub static_model: Option<PathBuf>,
    /// Checkpoint folder of the stage.
    pub folder: PathBuf,
    /// The checkpoint of the last epoch.
    pub final_checkpoint: PathBuf,
    /// Log file the trainer appends to.
    pub log: PathBuf,
}

impl TrainStage {
    /// Returns the `train` arguments, in the reference's spelling.
    pub fn arguments(&self, plan: &Plan) -> Vec<String> {
        let mut args = vec![
            "--script".to_string(),
            self.script.name().to_string(),
            "--config".to_string(),
            self.config.clone(),
            "--save_dir".to_string(),
            plan.output.display().to_string(),
            "--seed".to_string(),
            "42".to_string(),
        ];
        if let Some((script, config, checkpoint)) = &self.teacher {
            args.extend([
                "--distill".to_string(),
                "1".to_string(),
                "--script_teacher".to_string(),
                script.name().to_string(),
                "--config_teacher".to_string(),
                config.clone(),
                "--checkpoint_teacher_path".to_string(),
                checkpoint.display().to_string(),
            ]);
        }
        if let Some(path) = &self.pretrained {
            args.extend(["--pretrained".to_string(), path.display().to_string()]);
        }
        if let Some(path) = &self.static_model {
            args.extend(["--static_model".to_string(), path.display().to_string()]);
        }
        args
    }

    fn inputs(&self) -> Vec<PathBuf> {
        let mut inputs = Vec::new();
        if let Some((_, _, checkpoint)) = &self.teacher {
            inputs.push(checkpoint.clone());
        }
        inputs.extend(self.pretrained.iter().cloned());
        inputs.extend(self.static_model.iter().cloned());
        inputs
    }
}

/// Layer surgery between stages 2a and 2b.
#[derive(Debug, Clone)]
pub struct SurgeryStep {
    pub input: PathBuf,
    pub output: PathBuf,
    pub layers: Vec<usize>,
}

impl SurgeryStep {
    /// Removes the blocks and writes the pruned weights under `net`.
    pub fn execute(&self) -> Result<(), String> {
        let weights = read_weights(&self.input).map_err(|error| error.to_string())?;
        let (pruned, report) = surgery::remove_blocks(&weights.state_dict, &self.layers)
            .map_err(|error| error.to_string())?;
        println!(
            "  removed blocks {:?}: {} keys dropped, {} renamed, {} parameters left of {}",
            self.layers,
            report.dropped.len(),
            report.renamed.len(),
            pruned.parameter_count(),
            weights.state_dict.parameter_count()
        );
        if let Some(folder) = self.output.parent() {
            std::fs::create_dir_all(folder)
                .map_err(|error| format!("failed to create {}: {error}", folder.display()))?;
        }
        let checkpoint = Dict::new()
            .with("net", pruned.to_value())
            .with("epoch", Value::Int(0));
        write_pth(&self.output, &Value::Dict(checkpoint)).map_err(|error| error.to_string())
    }
}

/// Tracking on the evaluation sequences and the analysis of the results.
#[derive(Debug, Clone)]
pub struct EvaluationStep {
    pub script: Script,
    pub config: String,
    pub checkpoint: PathBuf,
    pub dataset: String,
    pub tracker: String,
    pub results: PathBuf,
    pub report: PathBuf,
}

impl EvaluationStep {
    /// `eval run` then `eval analyse`.
    pub fn commands(&self, plan: &Plan, workspace: &Path) -> Vec<Command> {
        let binary = workspace.join("target/release/eval");
        let mut track = Command::new(&binary);
        track.current_dir(workspace).args([
            "run",
            "--script",
            self.script.name(),
            "--config",
            &self.config,
            "--checkpoint",
            &self.checkpoint.display().to_string(),
            "--dataset",
            &self.dataset,
            "--output",
            &self.results.display().to_string(),
            "--name",
            &self.tracker,
            "--settings",
            &plan.settings.display().to_string(),
        ]);
        let mut analyse = Command::new(&binary);
        analyse.current_dir(workspace).args([
            "analyse",
            "--results",
            &self.result_folder().display().to_string(),
            "--dataset",
            &self.dataset,
            "--settings",
            &plan.settings.display().to_string(),
            "--report",
            &self.report.display().to_string(),
        ]);
        vec![track, analyse]
    }

    /// `<results>/<tracker>/<dataset>`, as `eval run` writes it.
    pub fn result_folder(&self) -> PathBuf {
        self.results.join(&self.tracker).join(&self.dataset)
    }
}

/// One step of the pipeline.
#[derive(Debug, Clone)]
pub enum StageAction {
    Train(TrainStage),
    Surgery(SurgeryStep),
    Evaluate(EvaluationStep),
}

impl StageAction {
    pub fn title(&self) -> String {
        match self {
            StageAction::Train(stage) => stage.title.clone(),
            StageAction::Surgery(_) => "layer surgery".to_string(),
            StageAction::Evaluate(step) => format!("evaluation on {}", step.dataset),
        }
    }

    /// Returns the file whose presence marks the step as finished.
    pub fn output(&self) -> PathBuf {
        match self {
            StageAction::Train(stage) => stage.final_checkpoint.clone(),
            StageAction::Surgery(step) => step.output.clone(),
            StageAction::Evaluate(step) => step.report.join("comparison.md"),
        }
    }

    /// Returns the files the step starts from.
    pub fn inputs(&self) -> Vec<PathBuf> {
        match self {
            StageAction::Train(stage) => stage.inputs(),
            StageAction::Surgery(step) => vec![step.input.clone()],
            StageAction::Evaluate(step) => vec![step.checkpoint.clone()],
        }
    }

    /// Returns the paths to delete before rerunning the step on new inputs.
    pub fn stale_outputs(&self) -> Vec<PathBuf> {
        match self {
            StageAction::Train(stage) => vec![stage.folder.clone()],
            StageAction::Surgery(step) => vec![step.output.clone()],
            StageAction::Evaluate(step) => vec![step.result_folder(), step.report.clone()],
        }
    }
}

/// Every step of a pipeline run, in order.
#[derive(Debug)]
pub struct Plan {
    pub preset: Preset,
    pub output: PathBuf,
    pub settings: PathBuf,
    pub actions: Vec<StageAction>,
}

impl Plan {
    /// Builds the plan and, for the `tiny` preset, its local settings file.
    pub fn new(args: &PipelineArgs, workspace: &Path) -> Result<Self, String> {
        let experiments = args.preset.experiments();
        let (output, settings) = match args.preset {
            Preset::Tiny => {
                let output = absolute(
                    args.output
                        .clone()
                        .unwrap_or_else(|| workspace.join("output/pipeline-tiny")),
                )?;
                let sample = sample_data(args)?;
                let settings = output.join("local.yaml");
                write_sample_settings(&settings, &sample, &output)?;
                (output, settings)
            }
            Preset::Base => {
                let settings_path = LocalSettings::default_path();
                let settings = LocalSettings::load(&settings_path).map_err(|e| e.to_string())?;
                let output = match &args.output {
                    Some(path) => absolute(path.clone())?,
                    None => settings
                        .save_dir()
                        .map_err(|e| e.to_string())?
                        .to_path_buf(),
                };
                (output, settings_path)
            }
        };

        let stage = |title: &str, script: Script, config: &str| -> Result<TrainStage, String> {
            let experiment = load_experiment(workspace, script, config)?;
            let folder = output
                .join("checkpoints/train")
                .join(script.name())
                .join(config);
            let final_checkpoint =
                folder.join(format!("MixFormer_ep{:04}.pth.tar", experiment.train.epoch));
            Ok(TrainStage {
                title: title.to_string(),
                script,
                config: config.to_string(),
                teacher: None,
                pretrained: None,
                static_model: None,
                log: output
                    .join("logs")
                    .join(format!("{}-{config}.log", script.name())),
                folder,
                final_checkpoint,
            })
        };

        let mut actions = Vec::new();
        let teacher_checkpoint = match &args.teacher_checkpoint {
            Some(path) => absolute(path.clone())?,
            None => {
                let teacher = stage(
                    "stage 0: teacher training",
                    Script::MixformerVit,
                    experiments.teacher,
                )?;
                let checkpoint = teacher.final_checkpoint.clone();
                actions.push(StageAction::Train(teacher));
                checkpoint
            }
        };

        let mut stage1 = stage(
            "stage 1: dense-to-sparse distillation",
            Script::Mixformer2Vit,
            experiments.stage1,
        )?;
        stage1.teacher = Some((
            Script::MixformerVit,
            experiments.teacher.to_string(),
            teacher_checkpoint,
        ));
        let stage1_checkpoint = stage1.final_checkpoint.clone();
        actions.push(StageAction::Train(stage1));

        let stage1_teacher = (
            Script::Mixformer2Vit,
            experiments.stage1_as_teacher.to_string(),
            stage1_checkpoint.clone(),
        );
        let mut stage2a = stage(
            "stage 2a: progressive layer removal",
            Script::Mixformer2VitStu,
            experiments.stage2a,
        )?;
        stage2a.teacher = Some(stage1_teacher.clone());
        stage2a.pretrained = Some(stage1_checkpoint);
        let stage2a_checkpoint = stage2a.final_checkpoint.clone();
        actions.push(StageAction::Train(stage2a));

        let stage2b_experiment =
            load_experiment(workspace, Script::Mixformer2VitStu, experiments.stage2b)?;
        let surgery = SurgeryStep {
            input: stage2a_checkpoint,
            output: output
                .join("checkpoints/surgery")
                .join(format!("{}_init.pth.tar", experiments.stage2b)),
            layers: stage2b_experiment.train.invalid_layers.clone(),
        };
        let pruned = surgery.output.clone();
        actions.push(StageAction::Surgery(surgery));

        let mut stage2b = stage(
            "stage 2b: finetuning the pruned student",
            Script::Mixformer2VitStu,
            experiments.stage2b,
        )?;
        stage2b.teacher = Some(stage1_teacher);
        stage2b.pretrained = Some(pruned);
        let stage2b_checkpoint = stage2b.final_checkpoint.clone();
        actions.push(StageAction::Train(stage2b));

        let mut score = stage(
            "stage 3: score head",
            Script::Mixformer2VitOnline,
            experiments.score,
        )?;
        score.static_model = Some(stage2b_checkpoint);
        let score_checkpoint = score.final_checkpoint.clone();
        actions.push(StageAction::Train(score));

        actions.push(StageAction::Evaluate(EvaluationStep {
            script: Script::Mixformer2VitOnline,
            config: experiments.score.to_string(),
            checkpoint: score_checkpoint,
            dataset: experiments.eval_dataset.to_string(),
            tracker: format!("mixformer2-{}", args.preset.name()),
            results: output.join("results"),
            report: output.join("report/evaluation"),
        }));

        Ok(Self {
            preset: args.preset,
            output,
            settings,
            actions,
        })
    }

    pub fn state_path(&self) -> PathBuf {
        self.output.join("pipeline-state.json")
    }

    /// Points the binaries at this pipeline's local settings file.
    pub fn apply_environment(&self, command: &mut Command) {
        command.env(SETTINGS_ENV, &self.settings);
    }

    /// Formats the plan as printed before the run.
    pub fn describe(&self, state: &PipelineState) -> String {
        let mut text = format!(
            "pipeline preset {}: output {}, settings {}\n",
            self.preset.name(),
            self.output.display(),
            self.settings.display()
        );
        for (index, action) in self.actions.iter().enumerate() {
            let status = match state.is_done(action) {
                Ok(true) => "done",
                Ok(false) => "to run",
                Err(_) => "unknown",
            };
            let _ = writeln!(
                text,
                "  {}. {} [{status}] -> {}",
                index + 1,
                action.title(),
                action.output().display()
            );
        }
        text
    }
}

fn load_experiment(
    workspace: &Path,
    script: Script,
    config: &str,
) -> Result<ExperimentConfig, String> {
    let path = workspace
        .join("experiments")
        .join(script.name())
        .join(format!("{config}.yaml"));
    ExperimentConfig::load(script, &path).map_err(|error| error.to_string())
}

fn sample_data(args: &PipelineArgs) -> Result<PathBuf, String> {
    let path = sample_data_folder(args.sample_data.as_deref());
    if !path.join("sot").is_dir() {
        return Err(format!(
            "sample data not found at {}: pass --sample-data DIR or set {SAMPLE_DATA_ENV}",
            path.display()
        ));
    }
    absolute(path)
}

fn absolute(path: PathBuf) -> Result<PathBuf, String> {
    std::path::absolute(&path).map_err(|error| format!("invalid path {}: {error}", path.display()))
}

/// Writes the `tiny` preset's local settings: sample-data roots and the output folder.
fn write_sample_settings(path: &Path, sample: &Path, output: &Path) -> Result<(), String> {
    std::fs::create_dir_all(output)
        .map_err(|error| format!("failed to create {}: {error}", output.display()))?;
    let entries = [
        ("coco_dir", sample.join("coco")),
        ("otb_dir", sample.join("sot/otb")),
        ("uav123_dir", sample.join("sot/uav123")),
        ("vot_dir", sample.join("sot/vot")),
        ("save_dir", output.to_path_buf()),
        ("results_dir", output.join("results")),
    ];
    let mut text = String::from("# Written by `cargo xtask pipeline` for the tiny preset.\n");
    for (key, value) in entries {
        let _ = writeln!(text, "{key}: {:?}", value.display().to_string());
    }
    std::fs::write(path, text)
        .map_err(|error| format!("failed to write {}: {error}", path.display()))
}
