//! Training checkpoints in the layout of the PyTorch tracking trainers: a dict
//! with `epoch`, `actor_type`, `net_type`, `net`, `net_info`, `constructor`,
//! `optimizer`, `stats` and `settings`.

use std::path::Path;

use crate::error::{Error, Result};
use crate::format::{read_value, write_pth, write_safetensors};
use crate::state_dict::StateDict;
use crate::surgery::{MismatchReport, check_shapes};
use crate::value::{Dict, DictKey, Value};

/// A training checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// The last finished epoch, counted from 1.
    pub epoch: u64,
    /// Class name of the network, e.g. `MixFormer`, which also names the file.
    pub net_type: String,
    /// Class name of the actor that trained the network.
    pub actor_type: String,
    /// The network's weights under PyTorch key names.
    pub net: StateDict,
    /// The optimiser state as `Optimizer.state_dict()` lays it out.
    /// [`crate::AdamWState`] converts it to and from a typed form.
    pub optimizer: Value,
    /// Scalar statistics of the epoch, such as mean losses.
    pub stats: Vec<(String, f64)>,
    /// The experiment config, as a nested dict or a YAML string.
    pub settings: Value,
}

/// `<net_type>_ep<epoch, at least 4 digits>.pth.tar`, e.g. `MixFormer_ep0045.pth.tar`.
pub fn checkpoint_file_name(net_type: &str, epoch: u64) -> String {
    format!("{net_type}_ep{epoch:04}.pth.tar")
}

impl Checkpoint {
    /// Builds the dict that `torch.load` returns for this checkpoint. `net_info`
    /// and `constructor` are `None`, as the reference trainers write them for
    /// networks without those attributes.
    pub fn to_value(&self) -> Value {
        let mut stats = Dict::new();
        for (name, number) in &self.stats {
            stats.insert(name.as_str(), Value::Float(*number));
        }
        let epoch = i64::try_from(self.epoch).unwrap_or(i64::MAX);
        Value::Dict(
            Dict::new()
                .with("epoch", Value::Int(epoch))
                .with("actor_type", Value::Str(self.actor_type.clone()))
                .with("net_type", Value::Str(self.net_type.clone()))
                .with("net", self.net.to_value())
                .with("net_info", Value::None)
                .with("constructor", Value::None)
                .with("optimizer", self.optimizer.clone())
                .with("stats", Value::Dict(stats))
                .with("settings", self.settings.clone()),
        )
    }

    /// Reads a checkpoint dict. `net`, `epoch` and `net_type` are required, and a
    /// missing `actor_type`, `optimizer`, `stats` or `settings` (or `config`) is
    /// empty. Statistics that are not numbers are skipped with a warning.
    pub fn from_value(value: &Value, origin: &str) -> Result<Self> {
        let dict = value.as_dict().ok_or_else(|| {
            Error::invalid_checkpoint(
                origin,
                format!(
                    "expected a dict at the top level, found {}",
                    value.type_name()
                ),
            )
        })?;
        let required = |key: &str| {
            dict.get(key).ok_or_else(|| {
                Error::invalid_checkpoint(origin, format!("the `{key}` entry is missing"))
            })
        };

        let net = StateDict::from_value(required("net")?, origin)?;
        let epoch = required("epoch")?;
        let epoch = epoch
            .as_int()
            .and_then(|number| u64::try_from(number).ok())
            .ok_or_else(|| {
                Error::invalid_checkpoint(
                    origin,
                    format!(
                        "`epoch` must be a non-negative int, found {}",
                        epoch.type_name()
                    ),
                )
            })?;
        let net_type = required("net_type")?;
        let net_type = net_type.as_str().map(str::to_owned).ok_or_else(|| {
            Error::invalid_checkpoint(
                origin,
                format!("`net_type` must be a str, found {}", net_type.type_name()),
            )
        })?;
        let actor_type = dict
            .get("actor_type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let settings = dict
            .get("settings")
            .or_else(|| dict.get("config"))
            .cloned()
            .unwrap_or(Value::None);

        Ok(Checkpoint {
            epoch,
            net_type,
            actor_type,
            net,
            optimizer: dict.get("optimizer").cloned().unwrap_or(Value::None),
            stats: read_stats(dict.get("stats"), origin),
            settings,
        })
    }

    /// Reads a checkpoint file of any supported format.
    pub fn read(path: &Path) -> Result<Self> {
        let (_, value) = read_value(path)?;
        Checkpoint::from_value(&value, &path.display().to_string())
    }

    /// Writes the checkpoint as a `torch.save` zip file, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_pth(path, &self.to_value())
    }

    /// Writes the weights alone as a safetensors file, atomically.
    pub fn write_weights_safetensors(&self, path: &Path) -> Result<()> {
        write_safetensors(path, &self.net)
    }

    /// Compares the checkpoint with the network it is about to be loaded into.
    /// Returns the differences, and an empty report means the checkpoint fits.
    pub fn check_compatible(
        &self,
        net_type: &str,
        expected_shapes: &[(String, Vec<usize>)],
    ) -> MismatchReport {
        let mut report = check_shapes(&self.net, expected_shapes);
        if self.net_type != net_type {
            report.net_type = Some((net_type.to_owned(), self.net_type.clone()));
        }
        report
    }
}

fn read_stats(stats: Option<&Value>, origin: &str) -> Vec<(String, f64)> {
    let Some(dict) = stats.and_then(Value::as_dict) else {
        return Vec::new();
    };
    let mut numbers = Vec::new();
    for (key, item) in dict.iter() {
        let name = match key {
            DictKey::Str(text) => text.clone(),
            DictKey::Int(number) => number.to_string(),
        };
        match item.as_f64() {
            Some(number) => numbers.push((name, number)),
            None => tracing::warn!(
                file = origin,
                stat = %name,
                found = item.type_name(),
                "skipping a statistic that is not a number"
            ),
        }
    }
    numbers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn checkpoint() -> Checkpoint {
        let net: StateDict = [(
            "backbone.blocks.0.norm1.weight".to_string(),
            Tensor::from_f32(vec![2], &[1.0, 2.0]).unwrap(),
        )]
        .into_iter()
        .collect();
        Checkpoint {
            epoch: 45,
            net_type: "MixFormer".into(),
            actor_type: "MixFormerDistillStage2Actor".into(),
            net,
            optimizer: Value::None,
            stats: vec![("Loss/total".into(), 1.25)],
            settings: Value::Str("TRAIN:\n  EPOCH: 45\n".into()),
        }
    }

    #[test]
    fn file_name_pads_epoch_to_four_digits() {
        assert_eq!(
            checkpoint_file_name("MixFormer", 5),
            "MixFormer_ep0005.pth.tar"
        );
        assert_eq!(
            checkpoint_file_name("MixFormer", 12345),
            "MixFormer_ep12345.pth.tar"
        );
    }

    #[test]
    fn value_round_trip_keeps_every_field() {
        let original = checkpoint();
        let back = Checkpoint::from_value(&original.to_value(), "memory").unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn missing_net_type_is_named() {
        let mut value = checkpoint().to_value();
        if let Value::Dict(dict) = &mut value {
            dict.remove("net_type");
        }
        let error = Checkpoint::from_value(&value, "ckpt.pth.tar").unwrap_err();
        assert_eq!(
            error.to_string(),
            "ckpt.pth.tar: invalid checkpoint: the `net_type` entry is missing"
        );
    }

    #[test]
    fn check_compatible_reports_net_type_and_shapes() {
        let expected = vec![("backbone.blocks.0.norm1.weight".to_string(), vec![3])];
        let report = checkpoint().check_compatible("MixFormerV2", &expected);
        assert_eq!(
            report.net_type,
            Some(("MixFormerV2".to_string(), "MixFormer".to_string()))
        );
        assert_eq!(report.shape_mismatches.len(), 1);
        assert!(
            checkpoint()
                .check_compatible(
                    "MixFormer",
                    &[("backbone.blocks.0.norm1.weight".to_string(), vec![2])]
                )
                .is_empty()
        );
    }
}
