//! Errors of the `eval` commands.

use std::path::PathBuf;

use mixformer_analysis::AnalysisError;
use mixformer_config::{ConfigError, SettingsError};
use mixformer_data::{BBox, DataError};
use mixformer_model_vit::ModelError;
use mixformer_tracker::TrackerError;

/// Everything that stops an `eval` command.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A folder was neither given on the command line nor found in the local settings.
    #[error("{source}; or pass {flag}")]
    Settings {
        /// The local settings problem.
        source: SettingsError,
        /// The command-line option that replaces the setting.
        flag: &'static str,
    },

    /// The experiment file could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// The experiment named by `--config` does not exist.
    #[error(
        "experiment file not found: {}; run from the workspace root or pass the file's path \
         to --config",
        .path.display()
    )]
    ExperimentNotFound {
        /// The path tried.
        path: PathBuf,
    },

    /// The model could not be built or its checkpoint loaded.
    #[error(transparent)]
    Model(#[from] ModelError),

    /// The tracker rejected its parameters or the model.
    #[error(transparent)]
    Tracker(#[from] TrackerError),

    /// A dataset could not be read.
    #[error(transparent)]
    Data(#[from] DataError),

    /// Results could not be read, written or evaluated.
    #[error(transparent)]
    Analysis(#[from] AnalysisError),

    /// Tracking failed on one frame of a sequence.
    #[error("sequence {sequence}, frame {frame}: {source}")]
    TrackingFailed {
        /// The sequence.
        sequence: String,
        /// The frame number, counted from 1.
        frame: usize,
        /// The cause.
        source: Box<EvalError>,
    },

    /// A sequence's results could not be written.
    #[error("sequence {sequence}: {source}")]
    WriteResults {
        /// The sequence.
        sequence: String,
        /// The cause, naming the file.
        source: Box<AnalysisError>,
    },

    /// A sequence has no frames to track.
    #[error("sequence {sequence} has no frames; check its frame folder")]
    EmptySequence {
        /// The sequence.
        sequence: String,
    },

    /// A sequence's first box cannot start tracking.
    #[error(
        "sequence {sequence}: the first ground-truth box (x {}, y {}, w {}, h {}) is invalid; \
         tracking needs a finite box with positive width and height on frame 1",
        .bbox.x, .bbox.y, .bbox.w, .bbox.h
    )]
    InvalidInitialBox {
        /// The sequence.
        sequence: String,
        /// The box found.
        bbox: BBox,
    },

    /// `--sequence` named sequences the dataset does not have.
    #[error("dataset {dataset} has no sequence named {}; available: {available}", .names.join(", "))]
    UnknownSequences {
        /// The dataset.
        dataset: String,
        /// The names not found.
        names: Vec<String>,
        /// Some of the dataset's names.
        available: String,
    },

    /// A dataset whose ground truth is not public cannot be analysed.
    #[error(
        "dataset {dataset} has ground truth for the first frame only, so it cannot be analysed \
         here; pack the results with `eval pack` and submit them to the benchmark's server"
    )]
    NoGroundTruth {
        /// The dataset.
        dataset: String,
    },

    /// A sequence's ground truth does not cover every frame.
    #[error(
        "sequence {sequence}: {boxes} ground-truth boxes for {frames} frames; analysis needs \
         one box per frame"
    )]
    PartialGroundTruth {
        /// The sequence.
        sequence: String,
        /// Boxes in the annotation.
        boxes: usize,
        /// Frames on disk.
        frames: usize,
    },

    /// `--dataset folder` was run without `--root` or `--init-box`.
    #[error(
        "--dataset folder needs {missing}: the folder of frames and the box on its first frame"
    )]
    FolderArguments {
        /// The missing option.
        missing: &'static str,
    },

    /// The UAV123 subset could not be chosen.
    #[error(
        "cannot choose a UAV123 subset in {}: found {}; pass --subset (UAV123, UAV123_10fps \
         or UAV123_20L)",
        .anno_dir.display(),
        if .found.is_empty() { "no subset folder".to_string() } else { .found.join(", ") }
    )]
    Uav123Subset {
        /// The `anno` folder searched.
        anno_dir: PathBuf,
        /// The subset folders found.
        found: Vec<String>,
    },

    /// A GOT-10k split folder is missing.
    #[error(
        "GOT-10k {split} folder not found at {} (nor a list.txt in {}); pass the split folder \
         or its parent to --root",
        .expected.display(),
        .root.display()
    )]
    Got10kSplit {
        /// `val` or `test`.
        split: &'static str,
        /// The root given.
        root: PathBuf,
        /// The split folder tried.
        expected: PathBuf,
    },

    /// A file or folder could not be read or written.
    #[error("failed to access {}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },

    /// A frame's size could not be read.
    #[error("failed to read the image size of {}: {source}", .path.display())]
    ImageSize {
        /// The frame.
        path: PathBuf,
        /// The cause.
        source: image::ImageError,
    },

    /// The worker threads could not be started.
    #[error("failed to start {threads} worker threads: {message}")]
    ThreadPool {
        /// Threads requested.
        threads: usize,
        /// The cause.
        message: String,
    },

    /// `--names` does not give one name per `--results` folder.
    #[error(
        "--names gives {names} names for {folders} --results folders; give one name per folder"
    )]
    NameCount {
        /// Names given.
        names: usize,
        /// Folders given.
        folders: usize,
    },

    /// Some sequences failed; the others were tracked and written.
    #[error(
        "{} of {total} sequence(s) failed and have no results (run the command again to retry \
         them):{}",
        .failures.len(),
        .failures.iter().map(|failure| format!("\n  {failure}")).collect::<String>()
    )]
    SequencesFailed {
        /// Sequences attempted.
        total: usize,
        /// One message per failed sequence.
        failures: Vec<String>,
    },
}
