//! Developer and pipeline tasks, run as `cargo xtask <task>`.

mod bench;
mod paths;
mod pipeline;
mod settings;
mod weights;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Developer and pipeline tasks of the MixFormerV2 workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Time tracking, a stage-1 training step and sample preparation on our
    /// backends and on a PyTorch baseline, and print the ratios.
    Bench(bench::BenchArgs),
    /// Run every training stage, layer surgery and the evaluation, resuming
    /// finished stages, and write a report.
    Pipeline(pipeline::PipelineArgs),
    /// Write the local settings file (dataset roots, output folders).
    Settings(settings::SettingsArgs),
    /// Inspect, convert, remove layers from and compare weight files.
    Weights(weights::WeightsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.task {
        Task::Bench(args) => bench::run(args),
        Task::Pipeline(args) => pipeline::run(args),
        Task::Settings(args) => settings::run(args),
        Task::Weights(args) => weights::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
