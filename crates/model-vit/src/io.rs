//! Loading and saving model weights in the PyTorch checkpoint layout.

use std::path::Path;

use burn::module::Module;
use mixformer_layer_surgery::{
    ReadOptions, StateDict, Tensor as StoredTensor, read_weights_with, write_safetensors,
};

use crate::ModelError;
use crate::weights::{LoadReport, WeightSource, WeightTensor, export_weights, import_weights};

impl WeightSource for StateDict {
    fn keys(&self) -> Vec<String> {
        self.names().map(str::to_string).collect()
    }

    fn shape(&self, key: &str) -> Option<Vec<usize>> {
        self.get(key).map(|tensor| tensor.shape().to_vec())
    }

    fn tensor(&self, key: &str) -> Option<WeightTensor> {
        let tensor = self.get(key)?;
        Some(WeightTensor {
            shape: tensor.shape().to_vec(),
            values: tensor.to_f32_vec(),
        })
    }
}

/// Deviations from an exact match that a load accepts.
///
/// A shape mismatch is always an error.
#[derive(Debug, Clone, Default)]
pub struct LoadPolicy {
    /// Key prefixes that may be missing from the file because that part starts
    /// fresh (e.g. `score_head.` in the score stage).
    pub allow_missing: Vec<String>,
    /// Keys skipped without being reported as unexpected, matched as whole
    /// dotted segments (e.g. `backbone.cls_token`).
    pub ignore: Vec<String>,
    /// Whether keys the model does not have are accepted (and logged).
    pub allow_unexpected: bool,
    /// Whether objects of unknown classes beside the weights (the reference's
    /// pickled `settings` and statistics) are read as inert placeholders
    /// instead of rejecting the file. Nothing is executed either way.
    pub allow_foreign_objects: bool,
}

impl LoadPolicy {
    /// Requires an exact match, apart from the fixed tables and batch-norm counters.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Accepts the unused classification-ViT entries that published
    /// MixFormer-ViT teachers and MAE weights carry.
    pub fn with_classification_leftovers(mut self) -> Self {
        self.ignore.extend(
            [
                "backbone.cls_token",
                "backbone.norm",
                "backbone.head",
                "backbone.mask_token",
            ]
            .map(String::from),
        );
        self
    }

    /// Reads published reference checkpoints, which pickle trainer objects
    /// beside the weights (see [`LoadPolicy::allow_foreign_objects`]).
    pub fn allowing_foreign_objects(mut self) -> Self {
        self.allow_foreign_objects = true;
        self
    }
}

/// Collects the model's weights into a state dict with PyTorch names and layouts.
///
/// Batch norms get the `num_batches_tracked` counter PyTorch expects (0, since
/// burn does not count batches), so `load_state_dict(strict=True)` accepts the result.
pub fn to_state_dict<M: Module>(module: &M) -> Result<StateDict, ModelError> {
    let mut state_dict = StateDict::new();
    for (key, tensor) in export_weights(module) {
        let stored = StoredTensor::from_f32(tensor.shape, &tensor.values)
            .map_err(|error| ModelError::Weights(error.to_string()))?;
        let counter = key
            .strip_suffix(".running_var")
            .map(|base| format!("{base}.num_batches_tracked"));
        state_dict.insert(key, stored);
        if let Some(counter) = counter {
            state_dict.insert(counter, StoredTensor::scalar(0i64));
        }
    }
    Ok(state_dict)
}

/// Loads weights from a state dict and applies `policy`.
pub fn load_state_dict<M: Module>(
    module: M,
    state_dict: &StateDict,
    policy: &LoadPolicy,
    origin: &str,
) -> Result<(M, LoadReport), ModelError> {
    let ignore: Vec<&str> = policy.ignore.iter().map(String::as_str).collect();
    let (module, report) = import_weights(module, state_dict, &ignore);

    let allowed: Vec<&str> = policy.allow_missing.iter().map(String::as_str).collect();
    let missing = report.missing_except(&allowed);
    let unexpected = if policy.allow_unexpected {
        Vec::new()
    } else {
        report.unexpected.clone()
    };
    if !report.shape_mismatches.is_empty() || !missing.is_empty() || !unexpected.is_empty() {
        return Err(ModelError::LoadMismatch {
            origin: origin.to_string(),
            missing,
            unexpected,
            shape_mismatches: report.shape_mismatches.clone(),
        });
    }
    if !report.ignored.is_empty() {
        tracing::info!(
            file = origin,
            count = report.ignored.len(),
            "ignored fixed tables and unused entries"
        );
    }
    if !report.unexpected.is_empty() {
        tracing::warn!(file = origin, keys = ?report.unexpected, "keys the model does not use");
    }
    Ok((module, report))
}

/// Loads weights from a `torch.save` file (`.pth`, `.pth.tar`; under `net`,
/// `model` or at the top level; `module.` prefixes stripped) or a safetensors file.
pub fn load_weights_file<M: Module>(
    module: M,
    path: &Path,
    policy: &LoadPolicy,
) -> Result<(M, LoadReport), ModelError> {
    let options = ReadOptions {
        allow_foreign_objects: policy.allow_foreign_objects,
    };
    let weights = read_weights_with(path, &options)
        .map_err(|error| ModelError::Weights(error.to_string()))?;
    load_state_dict(
        module,
        &weights.state_dict,
        policy,
        &path.display().to_string(),
    )
}

/// Saves the weights as safetensors with PyTorch key names.
pub fn save_safetensors<M: Module>(module: &M, path: &Path) -> Result<(), ModelError> {
    let state_dict = to_state_dict(module)?;
    write_safetensors(path, &state_dict).map_err(|error| ModelError::Weights(error.to_string()))
}
