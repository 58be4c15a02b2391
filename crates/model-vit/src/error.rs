use thiserror::Error;

/// Errors of model construction and weight loading.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The architecture cannot be built.
    #[error("invalid model configuration: {0}")]
    InvalidConfig(String),

    /// A device name this build does not know.
    #[error("{origin}unknown device {name:?}; expected {accepted}")]
    UnknownDevice {
        /// The source of the name with a trailing `: ` (an option or variable), or empty.
        origin: String,
        /// The name given.
        name: String,
        /// The names this build accepts.
        accepted: &'static str,
    },

    /// A weight file could not be read or written.
    #[error("{0}")]
    Weights(String),

    /// The weights do not fit the model.
    #[error(
        "{origin}: the weights do not match the model:{}",
        describe_mismatch(missing, unexpected, shape_mismatches)
    )]
    LoadMismatch {
        /// The file the weights came from.
        origin: String,
        /// Keys the model needs and the file lacks.
        missing: Vec<String>,
        /// Keys the file has and the model does not use.
        unexpected: Vec<String>,
        /// `(key, file shape, model shape)`.
        shape_mismatches: Vec<(String, Vec<usize>, Vec<usize>)>,
    },
}

fn describe_mismatch(
    missing: &[String],
    unexpected: &[String],
    shapes: &[(String, Vec<usize>, Vec<usize>)],
) -> String {
    let mut text = String::new();
    for (key, file, model) in shapes {
        text.push_str(&format!(
            "\n  {key}: shape {file:?} in the file, {model:?} in the model"
        ));
    }
    if !missing.is_empty() {
        text.push_str(&format!(
            "\n  missing from the file: {}",
            missing.join(", ")
        ));
    }
    if !unexpected.is_empty() {
        text.push_str(&format!(
            "\n  not used by the model: {}",
            unexpected.join(", ")
        ));
    }
    text.push_str("\n  check that the experiment config matches the checkpoint (depth, width, FEAT_SZ, head type)");
    text
}
