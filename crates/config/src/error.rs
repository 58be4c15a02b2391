//! Errors of experiment files and local settings.

use std::fmt;
use std::path::PathBuf;

/// A value that passed type checks but breaks a rule of the model or the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path of the offending value, for example `TRAIN.REMOVE_LAYERS[2]`.
    pub key: String,
    /// Description of the broken rule and of the expected value, naming the key.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

/// Failure to load an experiment file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("failed to read experiment file {}: {source}", .path.display())]
    Read {
        /// The experiment file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("{}: invalid YAML: {message}", .path.display())]
    Syntax {
        /// The experiment file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key that no script defines.
    #[error("{}: unknown key {key} for script {script}; {hint}", .path.display())]
    UnknownKey {
        /// The experiment file.
        path: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// The script the file was loaded for.
        script: String,
        /// The closest known key, or the keys accepted at that level.
        hint: String,
    },
    /// A key that exists, but not for this script.
    #[error("{}: {key} is not read by script {script}; only {readers} read it", .path.display())]
    KeyNotForScript {
        /// The experiment file.
        path: PathBuf,
        /// Dotted path of the key.
        key: String,
        /// The script the file was loaded for.
        script: String,
        /// The scripts that read the key, separated by commas.
        readers: String,
    },
    /// A value of the wrong type or outside the accepted spellings.
    #[error("{}: {key}: {message}", .path.display())]
    InvalidValue {
        /// The experiment file.
        path: PathBuf,
        /// Dotted path of the value, for example `TRAIN.REMOVE_LAYERS[2]`.
        key: String,
        /// Description of the value found and of the expected one.
        message: String,
    },
    /// Values that are well-typed but impossible together.
    #[error("{}: invalid experiment for script {script}:{}", .path.display(), list(.problems))]
    Invalid {
        /// The experiment file.
        path: PathBuf,
        /// The script the file was loaded for.
        script: String,
        /// Every rule the file breaks.
        problems: Vec<Problem>,
    },
    /// A script name that does not exist.
    #[error(
        "unknown script {name}; expected mixformer_vit, mixformer2_vit, \
         mixformer2_vit_stu or mixformer2_vit_online"
    )]
    UnknownScript {
        /// The name given.
        name: String,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("\n  - {problem}"))
        .collect()
}

/// Failure to load, query or write the local settings file.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error(
        "failed to read local settings {}: {source}; create the file with \
         `cargo xtask settings` or point MIXFORMER_LOCAL_SETTINGS at one",
        .path.display()
    )]
    Read {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML, has an unknown key or a value of the wrong type.
    #[error("{}: {message}", .path.display())]
    Parse {
        /// The settings file.
        path: PathBuf,
        /// Description of the problem, naming the key.
        message: String,
    },
    /// A folder that the caller needs is not set in the file.
    #[error("{}: {key} is not set; add `{key}: <folder>` to the file", .path.display())]
    NotSet {
        /// The settings file.
        path: PathBuf,
        /// The missing key.
        key: &'static str,
    },
    /// The file exists and overwriting was not requested.
    #[error(
        "{} already exists; remove it first or overwrite it with `cargo xtask settings --force`",
        .path.display()
    )]
    AlreadyExists {
        /// The settings file.
        path: PathBuf,
    },
    /// The file could not be written.
    #[error("failed to write local settings {}: {source}", .path.display())]
    Write {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
