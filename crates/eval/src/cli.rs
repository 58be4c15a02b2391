//! Command-line arguments of `eval`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use mixformer_config::Script;
use mixformer_data::BBox;

use crate::dataset::EvalDataset;

/// Runs MixFormer checkpoints on tracking benchmarks and analyses their results.
#[derive(Debug, Parser)]
#[command(name = "eval", version)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The `eval` commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Track every sequence of a dataset and write the results in the toolkit layouts.
    Run(RunArgs),
    /// Compute metrics, tables and plots from one or more trackers' results.
    Analyse(AnalyseArgs),
    /// Zip a tracker's results for a benchmark server (GOT-10k test, TrackingNet).
    Pack(PackArgs),
}

/// The dataset and the sequences to use from it.
#[derive(Debug, Clone, Args)]
pub struct DatasetArgs {
    /// The dataset.
    #[arg(long, value_enum)]
    pub dataset: EvalDataset,

    /// Dataset root; defaults to the dataset's folder in the local settings file.
    /// For `folder`, the folder of frames.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// Only these sequences (repeat the option or list several names).
    #[arg(long = "sequence", value_name = "NAME", num_args = 1..)]
    pub sequences: Vec<String>,

    /// Local settings file with the dataset roots and the results folder;
    /// defaults to `MIXFORMER_LOCAL_SETTINGS` or `local.yaml` at the workspace root.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,

    /// UAV123 subset: `UAV123`, `UAV123_10fps` or `UAV123_20L`; defaults to
    /// `UAV123`, or to the only subset present.
    #[arg(long, value_name = "NAME")]
    pub subset: Option<String>,

    /// LaSOT sequence list (one `<class>-<n>` per line), such as the 280
    /// test sequences; defaults to every sequence under the root.
    #[arg(long, value_name = "FILE")]
    pub split_file: Option<PathBuf>,

    /// Box on the first frame for `--dataset folder`, as `x,y,w,h` in pixels.
    #[arg(long, value_name = "X,Y,W,H", value_parser = parse_box, allow_hyphen_values = true)]
    pub init_box: Option<BBox>,
}

/// Arguments of `eval run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Training script of the experiment: mixformer_vit, mixformer2_vit,
    /// mixformer2_vit_stu or mixformer2_vit_online.
    #[arg(long, value_parser = parse_script)]
    pub script: Script,

    /// Experiment name (read from `experiments/<script>/<name>.yaml`) or the path of a YAML file.
    #[arg(long, value_name = "NAME|FILE")]
    pub config: String,

    /// Weights to track with: a `.pth`/`.pth.tar` checkpoint (weights under `net`)
    /// or a safetensors file.
    #[arg(long, value_name = "PATH")]
    pub checkpoint: PathBuf,

    /// The dataset and its sequences.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// Sequences tracked at once, each by its own model on its own thread.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threads: usize,

    /// Results root; results go to `<output>/<name>/<dataset>/`. Defaults to
    /// `results_dir` of the local settings file.
    #[arg(long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Tracker name in the results path; defaults to the experiment name, with
    /// `-full` appended under `--full-forward`.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Run the full forward over both templates and the search region on every
    /// frame, as the reference tracker does, instead of the cached-template path.
    #[arg(long)]
    pub full_forward: bool,

    /// Frames between online-template updates, replacing the experiment's
    /// `TEST.UPDATE_INTERVALS` value for this dataset.
    #[arg(long, value_name = "FRAMES")]
    pub update_interval: Option<usize>,

    /// Tracking device: cpu (libtorch with the tch feature, else the pure-Rust
    /// backend), flex, libtorch, or cuda:N for the N-th GPU (tch feature).
    #[arg(long, default_value = "cpu")]
    pub device: String,
}

/// Arguments of `eval analyse`.
#[derive(Debug, Args)]
pub struct AnalyseArgs {
    /// Result folders, one per tracker, each `<output>/<tracker>/<dataset>`.
    #[arg(long, value_name = "DIR", num_args = 1.., required = true)]
    pub results: Vec<PathBuf>,

    /// Tracker names for the tables and plots, one per `--results` folder;
    /// defaults to the `<tracker>` part of each folder.
    #[arg(long, value_name = "NAME", num_args = 1..)]
    pub names: Vec<String>,

    /// The dataset and its sequences.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// Folder for the tables and plots.
    #[arg(long, value_name = "DIR")]
    pub report: PathBuf,

    /// Score missing frames as failures and ignore extra lines instead of
    /// rejecting result files with the wrong line count.
    #[arg(long)]
    pub lenient_lengths: bool,

    /// Leave out, for every tracker, the sequences that some tracker has no results for.
    #[arg(long)]
    pub skip_missing: bool,

    /// Reject result files with NaN, infinite or non-positive boxes instead of
    /// scoring those frames as failures.
    #[arg(long)]
    pub reject_invalid_boxes: bool,
}

/// Arguments of `eval pack`.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The tracker's result folder, `<output>/<tracker>/<dataset>`.
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,

    /// The dataset and its sequences.
    #[command(flatten)]
    pub dataset: DatasetArgs,

    /// The zip file to write.
    #[arg(long, value_name = "FILE")]
    pub output: PathBuf,
}

fn parse_script(text: &str) -> Result<Script, String> {
    text.parse()
        .map_err(|error: mixformer_config::ConfigError| error.to_string())
}

/// Parses `x,y,w,h` (commas, spaces or tabs between the numbers).
pub fn parse_box(text: &str) -> Result<BBox, String> {
    let values: Vec<&str> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|field| !field.is_empty())
        .collect();
    let invalid = || format!("expected four numbers x,y,w,h, found {text:?}");
    if values.len() != 4 {
        return Err(invalid());
    }
    let mut numbers = [0.0f32; 4];
    for (number, value) in numbers.iter_mut().zip(&values) {
        *number = value.parse().map_err(|_| invalid())?;
    }
    let bbox = BBox::from(numbers);
    if !(bbox.is_valid() && bbox.w.is_finite() && bbox.h.is_finite()) {
        return Err(format!(
            "the box {text:?} needs finite coordinates and a positive width and height"
        ));
    }
    Ok(bbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_parses_with_commas_or_spaces() {
        assert_eq!(
            parse_box("205,151,17,50"),
            Ok(BBox::new(205.0, 151.0, 17.0, 50.0))
        );
        assert_eq!(
            parse_box("-2.5 3 17 50"),
            Ok(BBox::new(-2.5, 3.0, 17.0, 50.0))
        );
    }

    #[test]
    fn box_with_three_numbers_is_rejected() {
        assert_eq!(
            parse_box("1,2,3"),
            Err("expected four numbers x,y,w,h, found \"1,2,3\"".to_string())
        );
    }

    #[test]
    fn box_without_area_is_rejected() {
        assert!(parse_box("1,2,0,4").is_err());
        assert!(parse_box("1,2,nan,4").is_err());
    }

    #[test]
    fn command_line_parses() {
        let cli = Cli::try_parse_from([
            "eval",
            "run",
            "--script",
            "mixformer2_vit_online",
            "--config",
            "288_depth8_score",
            "--checkpoint",
            "model.pth.tar",
            "--dataset",
            "got10k_test",
            "--sequence",
            "a",
            "b",
            "--threads",
            "2",
        ])
        .expect("valid command line");
        let Command::Run(args) = cli.command else {
            panic!("expected the run command");
        };
        assert_eq!(args.script, Script::Mixformer2VitOnline);
        assert_eq!(args.dataset.dataset, EvalDataset::Got10kTest);
        assert_eq!(args.dataset.sequences, ["a", "b"]);
        assert_eq!(args.threads, 2);
        assert!(!args.full_forward);
    }
}
