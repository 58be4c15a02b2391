//! `cargo xtask pipeline`: the whole recipe, from teacher training to the
//! evaluation report, with each stage's checkpoint passed to the next.
//!
//! The pipeline runs the release `train` and `eval` binaries. A stage counts as
//! done when its final checkpoint exists and the checkpoints it started from are
//! the ones recorded when it finished (`pipeline-state.json`). So a second run
//! skips finished stages and an interrupted stage resumes from its last epoch.
//! Deleting one stage's checkpoints reruns that stage and every later one.

mod plan;
mod report;
mod state;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use plan::{Plan, Preset, StageAction};

use crate::paths::workspace_root;
use state::PipelineState;

/// Options of `cargo xtask pipeline`.
#[derive(Debug, clap::Args)]
pub struct PipelineArgs {
    /// `tiny` trains small models on the sample data in minutes on a CPU;
    /// `base` runs the published experiments on the datasets of the local
    /// settings file.
    #[arg(long, value_enum, default_value_t = Preset::Tiny)]
    pub preset: Preset,

    /// Folder for checkpoints, logs, results and the report; defaults to
    /// `output/pipeline-<preset>` in the workspace (`tiny`) or the local
    /// settings' `save_dir` (`base`).
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// A trained MixFormer-ViT teacher checkpoint; the teacher stage is then skipped.
    #[arg(long, value_name = "PATH")]
    pub teacher_checkpoint: Option<PathBuf>,

    /// The sample data of the `tiny` preset; defaults to `MIXFORMER_SAMPLE_DATA`
    /// or `../shared/data` beside the workspace.
    #[arg(long, value_name = "DIR")]
    pub sample_data: Option<PathBuf>,

    /// Print the plan and stop.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs the pipeline.
pub fn run(args: &PipelineArgs) -> Result<(), String> {
    let started = Instant::now();
    let workspace = workspace_root();
    let plan = Plan::new(args, &workspace)?;
    let mut state = PipelineState::load(&plan.state_path())?;

    println!("{}", plan.describe(&state));
    if args.dry_run {
        return Ok(());
    }

    build_binaries(&workspace)?;
    let total = plan.actions.len();
    for (index, action) in plan.actions.iter().enumerate() {
        let step = format!("[{}/{}] {}", index + 1, total, action.title());
        if state.is_done(action)? {
            println!("{step}: done, skipped");
            continue;
        }
        state.invalidate(action)?;
        println!("{step}: running");
        let stage_started = Instant::now();
        action.execute(&plan, &workspace)?;
        state.record(action)?;
        state.save(&plan.state_path())?;
        println!(
            "{step}: finished in {:.0} s",
            stage_started.elapsed().as_secs_f64()
        );
    }

    let report = report::write(&plan)?;
    println!(
        "pipeline finished in {:.0} s; report: {}",
        started.elapsed().as_secs_f64(),
        report.display()
    );
    Ok(())
}

/// Builds `train` and `eval` in release mode once, so stages start at once.
fn build_binaries(workspace: &Path) -> Result<(), String> {
    println!("building the release train and eval binaries");
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace)
        .args([
            "build",
            "--release",
            "-p",
            "mixformer-train",
            "-p",
            "mixformer-eval",
        ])
        .status()
        .map_err(|error| format!("failed to start cargo: {error}"))?;
    if !status.success() {
        return Err(format!(
            "building the train and eval binaries failed ({status})"
        ));
    }
    Ok(())
}

/// Runs a command, echoing it, and fails with its exit status.
fn run_command(command: &mut Command) -> Result<(), String> {
    println!("  $ {}", describe_command(command));
    let status = command
        .status()
        .map_err(|error| format!("failed to start {}: {error}", describe_command(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe_command(command)))
    }
}

pub(crate) fn describe_command(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

impl StageAction {
    fn execute(&self, plan: &Plan, workspace: &Path) -> Result<(), String> {
        match self {
            StageAction::Train(stage) => {
                let mut command = Command::new(workspace.join("target/release/train"));
                command.current_dir(workspace).args(stage.arguments(plan));
                plan.apply_environment(&mut command);
                run_command(&mut command)
            }
            StageAction::Surgery(surgery) => surgery.execute(),
            StageAction::Evaluate(evaluation) => {
                for mut command in evaluation.commands(plan, workspace) {
                    plan.apply_environment(&mut command);
                    run_command(&mut command)?;
                }
                Ok(())
            }
        }
    }
}
