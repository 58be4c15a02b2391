use std::path::PathBuf;

use thiserror::Error;

use crate::issues::MissingResults;

/// Errors of reading, evaluating, reporting and plotting tracking results.
#[derive(Debug, Error)]
pub enum AnalysisError {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("failed to write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} line {line}: expected {expected}, found \"{found}\"")]
    Parse {
        path: PathBuf,
        line: usize,
        expected: String,
        found: String,
    },

    #[error(
        "{path} line {line} is empty, but every frame needs one line; \
         write the box of every frame or remove the blank line"
    )]
    EmptyLine { path: PathBuf, line: usize },

    #[error("tracker {tracker}, sequence {sequence}: {source}")]
    InSequence {
        tracker: String,
        sequence: String,
        source: Box<AnalysisError>,
    },

    #[error(
        "sequence {sequence}: the ground truth has no frames; \
         check that the annotation file is not empty"
    )]
    EmptyGroundTruth { sequence: String },

    #[error(
        "sequence {sequence}: {flags} visibility flags for {frames} ground-truth frames; \
         the flag files must have one value per frame"
    )]
    VisibilityLength {
        sequence: String,
        flags: usize,
        frames: usize,
    },

    #[error(
        "sequence {sequence}: {predicted} predicted boxes for {frames} ground-truth frames; \
         the evaluation needs one box per frame"
    )]
    FrameCount {
        sequence: String,
        predicted: usize,
        frames: usize,
    },

    #[error(
        "tracker {tracker}, sequence {sequence}: {path} has {found} lines but the ground truth \
         has {expected} frames; rerun the sequence, or evaluate in lenient length mode to pad \
         missing frames with failures and drop extra lines"
    )]
    ResultLength {
        tracker: String,
        sequence: String,
        path: PathBuf,
        found: usize,
        expected: usize,
    },

    #[error(
        "tracker {tracker}, sequence {sequence}: {path} line {line} has the invalid box \
         {values}; fix the tracker output, or count such frames as failures"
    )]
    InvalidPrediction {
        tracker: String,
        sequence: String,
        path: PathBuf,
        line: usize,
        values: String,
    },

    #[error(
        "missing results: {list}; run the trackers on these sequences, \
         or skip missing sequences",
        list = .missing.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    MissingSequences { missing: Vec<MissingResults> },

    #[error(
        "no sequences to evaluate ({skipped} skipped for missing results); \
         check the dataset and the result folders"
    )]
    NoSequences { skipped: usize },

    #[error(
        "sequence {sequence} has no valid frame to divide by; \
         divide by all frames instead of valid frames only"
    )]
    NoValidFrames { sequence: String },

    #[error("no trackers given; pass at least one result folder")]
    NoTrackers,

    #[error("tracker name {name} appears twice; give every result folder its own name")]
    DuplicateTracker { name: String },

    #[error(
        "sequence name {name:?} cannot name a result file; \
         use a name without path separators that is not empty, \".\" or \"..\""
    )]
    InvalidSequenceName { name: String },

    #[error(
        "sequence {sequence}, frame {frame}: cannot write the non-finite value {value}; \
         result files contain finite numbers only"
    )]
    NonFiniteOutput {
        sequence: String,
        frame: usize,
        value: f64,
    },

    #[error(
        "{layout} results have no repetition {repetition}; repetitions count from 1, \
         and only GOT-10k results have more than one"
    )]
    Repetition { layout: String, repetition: u32 },

    #[error(
        "GOT-10k metrics need at least one visible frame after the first; \
         none of the {sequences} sequence(s) has one"
    )]
    NoGot10kFrames { sequences: usize },

    #[error("unknown benchmark {name:?}; expected one of {expected}")]
    UnknownBenchmark { name: String, expected: String },

    #[error("{what} has no curves to plot; evaluate at least one tracker first")]
    EmptyPlot { what: String },

    #[error("failed to draw {path}: {message}")]
    Plot { path: PathBuf, message: String },

    #[error("the built-in plot font could not be loaded; the font file in the crate is damaged")]
    Font,
}
