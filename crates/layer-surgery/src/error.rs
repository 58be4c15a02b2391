//! The crate's error type.

use std::io;
use std::path::PathBuf;

use crate::pickle::PickleError;
use crate::surgery::MismatchReport;

/// Every failure of reading, writing or editing state dicts and checkpoints.
///
/// `origin` fields name the file (or `<memory>` for in-memory data), so that a
/// message in a log names the checkpoint at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{origin}: invalid zip archive: {source}")]
    Zip {
        origin: String,
        #[source]
        source: zip::result::ZipError,
    },

    #[error("{origin}: {part}: {source}")]
    Pickle {
        origin: String,
        /// The zip entry or the position in a legacy file that contains the pickle.
        part: String,
        #[source]
        source: PickleError,
    },

    #[error("{origin}: invalid safetensors data: {source}")]
    Safetensors {
        origin: String,
        #[source]
        source: safetensors::SafeTensorError,
    },

    /// The file is damaged or is not a checkpoint of a known layout.
    #[error("{origin}: {detail}")]
    InvalidFile { origin: String, detail: String },

    /// The file is valid but uses a feature this crate does not read.
    #[error("{origin}: {detail}")]
    Unsupported { origin: String, detail: String },

    #[error("invalid tensor: {detail}")]
    InvalidTensor { detail: String },

    /// A checkpoint value has the wrong type or an entry is missing.
    #[error("{origin}: invalid checkpoint: {detail}")]
    InvalidCheckpoint { origin: String, detail: String },

    #[error("layer surgery failed: {detail}")]
    Surgery { detail: String },

    #[error("{origin}: checkpoint does not match the model: {report}")]
    Mismatch {
        origin: String,
        report: Box<MismatchReport>,
    },
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid_file(origin: &str, detail: impl Into<String>) -> Self {
        Error::InvalidFile {
            origin: origin.to_owned(),
            detail: detail.into(),
        }
    }

    pub(crate) fn unsupported(origin: &str, detail: impl Into<String>) -> Self {
        Error::Unsupported {
            origin: origin.to_owned(),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_checkpoint(origin: &str, detail: impl Into<String>) -> Self {
        Error::InvalidCheckpoint {
            origin: origin.to_owned(),
            detail: detail.into(),
        }
    }

    pub(crate) fn invalid_tensor(detail: impl Into<String>) -> Self {
        Error::InvalidTensor {
            detail: detail.into(),
        }
    }

    pub(crate) fn surgery(detail: impl Into<String>) -> Self {
        Error::Surgery {
            detail: detail.into(),
        }
    }
}
