//! Errors of the data pipeline.

use std::path::PathBuf;

/// Everything that can go wrong while reading datasets and building samples.
///
/// Each message names the file or sequence involved and what was expected, so
/// the person preparing the data can fix it without reading this crate.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read.
    #[error("failed to read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A line of an annotation file is malformed.
    #[error("{} line {line}: {message}", file.display())]
    Annotation {
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        message: String,
    },

    /// A file that the layout requires is missing.
    #[error("{what} not found: {} ({hint})", path.display())]
    MissingFile {
        what: &'static str,
        path: PathBuf,
        hint: &'static str,
    },

    /// A dataset root contains no sequences.
    #[error("{dataset} at {}: no sequences found; expected {expected}", root.display())]
    EmptyDataset {
        dataset: String,
        root: PathBuf,
        expected: &'static str,
    },

    /// A split list names a sequence that is not on disk.
    #[error(
        "{} line {line}: sequence {sequence:?} not found at {}; \
         fix the split list or restore the sequence",
        split_file.display(),
        expected_path.display()
    )]
    MissingSequence {
        split_file: PathBuf,
        line: usize,
        sequence: String,
        expected_path: PathBuf,
    },

    /// The number of frames on disk does not match the ground truth.
    #[error("{dataset} sequence {sequence}: {message}")]
    FrameCount {
        dataset: String,
        sequence: String,
        message: String,
    },

    /// A COCO annotation file could not be parsed or is inconsistent.
    #[error("{}: {message}", path.display())]
    Coco { path: PathBuf, message: String },

    /// An image could not be decoded.
    #[error("failed to decode image {}: {source}", path.display())]
    ImageDecode {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },

    /// No sequence of a dataset satisfies the sampler's rules.
    #[error(
        "dataset {dataset}: none of its {total} sequences can be sampled; every sequence \
         needs {rule}"
    )]
    NoEligibleSequence {
        dataset: String,
        total: usize,
        rule: String,
    },

    /// A sequence cannot provide the frames that the sampler mode requests.
    #[error("dataset {dataset} sequence {sequence}: {reason}")]
    UnsatisfiableSequence {
        dataset: String,
        sequence: String,
        reason: String,
    },

    /// Every attempt at building one sample was rejected.
    #[error(
        "sample {index} of epoch {epoch}: no valid sample after {attempts} attempts; \
         last rejection: {last_rejection}"
    )]
    AttemptsExhausted {
        epoch: u64,
        index: u64,
        attempts: usize,
        last_rejection: String,
    },

    /// A parameter struct contains an unusable value.
    #[error("invalid data parameter {name}: {message}")]
    InvalidParameter { name: &'static str, message: String },

    /// A dataset name is not one this crate can read.
    #[error("unknown dataset name {name:?}; expected one of {expected}")]
    UnknownDataset {
        name: String,
        expected: &'static str,
    },

    /// The background loading thread stopped without finishing its epoch.
    #[error("the batch loading thread stopped unexpectedly: {0}")]
    LoaderStopped(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
