//! Developer and pipeline tasks, run as `cargo xtask <task>`.

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
    /// Write the local settings file (dataset roots, output folders).
    Settings(settings::SettingsArgs),
    /// Inspect, convert, remove layers from and compare weight files.
    Weights(weights::WeightsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.task {
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
