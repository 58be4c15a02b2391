//! `eval`: tracks benchmark sequences with a MixFormer checkpoint, writes the
//! results in the layouts the official toolkits read, and analyses them.
//!
//! - `eval run` tracks a dataset, several sequences at once, and resumes where
//!   an interrupted run stopped.
//! - `eval analyse` computes one-pass evaluation metrics (and GOT-10k's AO and
//!   SR), comparison tables, success and precision plots and frame rates.
//! - `eval pack` zips results for the servers that withhold their ground truth.
//!
//! The binary uses `mixformer-tracker` for tracking, `mixformer-data` for the
//! datasets, `mixformer-analysis` for result files and metrics, and
//! `mixformer-config` for experiments and local settings.

mod analyse;
mod cli;
mod dataset;
mod error;
mod run;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::error::EvalError;

fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> Result<(), EvalError> {
    match command {
        Command::Run(args) => {
            let summary = run::run(&args)?;
            let fps = if summary.seconds > 0.0 {
                format!("{:.1}", summary.frames as f64 / summary.seconds)
            } else {
                "-".to_owned()
            };
            println!(
                "tracked {} sequence(s), {} frames at {fps} FPS; skipped {} sequence(s) with \
                 complete results; results in {}",
                summary.tracked,
                summary.frames,
                summary.skipped,
                summary.directory.display()
            );
        }
        Command::Analyse(args) => {
            let report = analyse::analyse(&args)?;
            print!("{}", report.table);
            if report.issues > 0 {
                println!(
                    "{} problem(s) found in the result files; see issues.txt",
                    report.issues
                );
            }
            for file in &report.files {
                println!("wrote {}", file.display());
            }
        }
        Command::Pack(args) => {
            let count = analyse::pack(&args)?;
            println!("packed {count} sequence(s) into {}", args.output.display());
        }
    }
    Ok(())
}
