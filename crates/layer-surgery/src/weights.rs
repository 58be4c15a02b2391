//! Locating the weights inside a checkpoint: under `net` (our checkpoints and the
//! trackers'), under `model` (MAE-pretrained ViTs) or at the top level (a bare
//! `state_dict()`).

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::{FileFormat, ReadOptions, read_value_with};
use crate::state_dict::StateDict;
use crate::surgery::{SurgeryReport, strip_module_prefix};
use crate::value::{DictKey, Value};

/// Location of the weights inside a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightsLocation {
    /// The `net` entry.
    Net,
    /// The `model` entry.
    Model,
    /// The file is the state dict itself.
    TopLevel,
}

impl fmt::Display for WeightsLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            WeightsLocation::Net => "`net`",
            WeightsLocation::Model => "`model`",
            WeightsLocation::TopLevel => "the top level",
        })
    }
}

/// Weights read from a checkpoint file.
#[derive(Clone, Debug)]
pub struct Weights {
    /// The weights with `module.` prefixes stripped.
    pub state_dict: StateDict,
    pub location: WeightsLocation,
    pub format: FileFormat,
    /// The stripping of `module.` prefixes.
    pub prefix_report: SurgeryReport,
}

/// Finds the state dict inside a checkpoint's value tree. `origin` names the
/// file for error messages.
pub fn find_weights(value: &Value, origin: &str) -> Result<(WeightsLocation, StateDict)> {
    let Some(dict) = value.as_dict() else {
        return Err(Error::invalid_checkpoint(
            origin,
            format!(
                "expected a dict at the top level, found {}",
                value.type_name()
            ),
        ));
    };
    for (key, location) in [
        ("net", WeightsLocation::Net),
        ("model", WeightsLocation::Model),
    ] {
        if let Some(inner) = dict.get(key)
            && inner.as_dict().is_some()
        {
            return Ok((location, StateDict::from_value(inner, origin)?));
        }
    }
    let all_tensors = dict.iter().all(|(_, item)| item.as_tensor().is_some());
    if all_tensors && !dict.is_empty() {
        return Ok((
            WeightsLocation::TopLevel,
            StateDict::from_value(value, origin)?,
        ));
    }
    let keys: Vec<String> = dict
        .keys()
        .map(|key| match key {
            DictKey::Str(text) => text.clone(),
            DictKey::Int(number) => number.to_string(),
        })
        .collect();
    Err(Error::invalid_checkpoint(
        origin,
        format!(
            "no weights found: expected a `net` or `model` dict of tensors or a dict of \
             tensors at the top level, found the keys [{}]",
            keys.join(", ")
        ),
    ))
}

/// Reads the weights of a checkpoint file of any supported format and strips
/// `module.` prefixes.
pub fn read_weights(path: &Path) -> Result<Weights> {
    read_weights_with(path, &ReadOptions::strict())
}

/// Reads the weights as [`read_weights`] does, with `options`. With foreign
/// objects allowed, the weights of a published reference checkpoint load
/// although its `settings` and `stats` entries pickle trainer objects.
pub fn read_weights_with(path: &Path, options: &ReadOptions) -> Result<Weights> {
    let origin = path.display().to_string();
    let (format, value) = read_value_with(path, options)?;
    let (location, raw) = find_weights(&value, &origin)?;
    let (state_dict, prefix_report) = strip_module_prefix(&raw)?;
    if !prefix_report.renamed.is_empty() {
        tracing::info!(
            file = %origin,
            count = prefix_report.renamed.len(),
            "stripped `module.` prefixes"
        );
    }
    Ok(Weights {
        state_dict,
        location,
        format,
        prefix_report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;
    use crate::value::Dict;

    fn tensor() -> Value {
        Value::Tensor(Tensor::from_f32(vec![1], &[1.0]).unwrap())
    }

    #[test]
    fn find_weights_prefers_net_then_model() {
        let net = Value::Dict(
            Dict::new()
                .with("epoch", Value::Int(1))
                .with("net", Value::Dict(Dict::ordered().with("w", tensor()))),
        );
        assert_eq!(find_weights(&net, "f").unwrap().0, WeightsLocation::Net);
        let model =
            Value::Dict(Dict::new().with("model", Value::Dict(Dict::new().with("w", tensor()))));
        assert_eq!(find_weights(&model, "f").unwrap().0, WeightsLocation::Model);
        let top = Value::Dict(Dict::ordered().with("w", tensor()));
        assert_eq!(
            find_weights(&top, "f").unwrap().0,
            WeightsLocation::TopLevel
        );
    }

    #[test]
    fn missing_weights_lists_top_level_keys() {
        let value = Value::Dict(Dict::new().with("epoch", Value::Int(1)).with("w", tensor()));
        let error = find_weights(&value, "ckpt.pth").unwrap_err();
        assert!(
            error.to_string().ends_with("found the keys [epoch, w]"),
            "{error}"
        );
    }
}
