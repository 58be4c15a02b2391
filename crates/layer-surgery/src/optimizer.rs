//! The AdamW optimiser state in the layout of `torch.optim.AdamW.state_dict()`:
//! `{'state': {id: {'step', 'exp_avg', 'exp_avg_sq'}}, 'param_groups': [...]}`,
//! where parameters are numbered consecutively over the groups.

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::value::{Dict, DictKey, Value};

/// Running moments of one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWParameterState {
    /// Number of updates applied. PyTorch 2.x stores it as a float32 scalar tensor.
    pub step: f64,
    /// First moment, shaped like the parameter.
    pub exp_avg: Tensor,
    /// Second moment, shaped like the parameter.
    pub exp_avg_sq: Tensor,
}

/// One parameter group.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWGroup {
    pub lr: f64,
    /// Learning rate before any schedule, which PyTorch's schedulers record.
    pub initial_lr: Option<f64>,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    /// Parameter ids of the group.
    pub params: Vec<i64>,
    /// Parameter names in the order of `params`, or empty. PyTorch writes them when
    /// the optimiser was built from named parameters.
    pub param_names: Vec<String>,
}

/// The state of an AdamW optimiser.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdamWState {
    /// Moments by parameter id. Parameters that were never updated have none.
    pub state: Vec<(i64, AdamWParameterState)>,
    pub param_groups: Vec<AdamWGroup>,
}

impl AdamWState {
    /// The state as the nested dict `Optimizer.state_dict()` returns.
    pub fn to_value(&self) -> Value {
        let mut state = Dict::new();
        for (id, parameter) in &self.state {
            let entry = Dict::new()
                .with("step", Value::Tensor(Tensor::scalar(parameter.step as f32)))
                .with("exp_avg", Value::Tensor(parameter.exp_avg.clone()))
                .with("exp_avg_sq", Value::Tensor(parameter.exp_avg_sq.clone()));
            state.insert(*id, Value::Dict(entry));
        }
        let groups = self.param_groups.iter().map(group_to_value).collect();
        Value::Dict(
            Dict::new()
                .with("state", Value::Dict(state))
                .with("param_groups", Value::List(groups)),
        )
    }

    /// Reads the state written by PyTorch or by [`AdamWState::to_value`].
    /// `origin` names the file for error messages.
    pub fn from_value(value: &Value, origin: &str) -> Result<Self> {
        let invalid = |detail: String| Error::invalid_checkpoint(origin, detail);
        let dict = value
            .as_dict()
            .ok_or_else(|| invalid(format!("optimizer state is a {}", value.type_name())))?;

        let mut state = Vec::new();
        if let Some(entries) = dict.get("state") {
            let entries = entries
                .as_dict()
                .ok_or_else(|| invalid("optimizer `state` is not a dict".into()))?;
            for (key, entry) in entries.iter() {
                let DictKey::Int(id) = key else {
                    return Err(invalid(format!("optimizer state key {key} is not an int")));
                };
                state.push((*id, parameter_from_value(*id, entry, &invalid)?));
            }
        }

        let groups = dict
            .get("param_groups")
            .and_then(Value::as_sequence)
            .ok_or_else(|| invalid("optimizer `param_groups` is missing or not a list".into()))?;
        let param_groups = groups
            .iter()
            .enumerate()
            .map(|(position, group)| group_from_value(position, group, &invalid))
            .collect::<Result<_>>()?;
        Ok(AdamWState {
            state,
            param_groups,
        })
    }
}

fn group_to_value(group: &AdamWGroup) -> Value {
    let mut dict = Dict::new()
        .with("lr", Value::Float(group.lr))
        .with(
            "betas",
            Value::Tuple(vec![
                Value::Float(group.betas.0),
                Value::Float(group.betas.1),
            ]),
        )
        .with("eps", Value::Float(group.eps))
        .with("weight_decay", Value::Float(group.weight_decay))
        .with("amsgrad", Value::Bool(group.amsgrad))
        .with("foreach", Value::None)
        .with("maximize", Value::Bool(false))
        .with("capturable", Value::Bool(false))
        .with("differentiable", Value::Bool(false))
        .with("fused", Value::None)
        .with("decoupled_weight_decay", Value::Bool(true));
    if let Some(initial_lr) = group.initial_lr {
        dict.insert("initial_lr", Value::Float(initial_lr));
    }
    let params = group.params.iter().map(|&id| Value::Int(id)).collect();
    dict.insert("params", Value::List(params));
    if !group.param_names.is_empty() {
        let names = group
            .param_names
            .iter()
            .map(|name| Value::Str(name.clone()))
            .collect();
        dict.insert("param_names", Value::List(names));
    }
    Value::Dict(dict)
}

fn parameter_from_value(
    id: i64,
    entry: &Value,
    invalid: &dyn Fn(String) -> Error,
) -> Result<AdamWParameterState> {
    let entry = entry
        .as_dict()
        .ok_or_else(|| invalid(format!("optimizer state of parameter {id} is not a dict")))?;
    let tensor = |key: &str| {
        entry
            .get(key)
            .and_then(Value::as_tensor)
            .cloned()
            .ok_or_else(|| {
                invalid(format!(
                    "optimizer state of parameter {id} has no `{key}` tensor"
                ))
            })
    };
    let step = entry.get("step").and_then(Value::as_f64).ok_or_else(|| {
        invalid(format!(
            "optimizer state of parameter {id} has no numeric `step`"
        ))
    })?;
    Ok(AdamWParameterState {
        step,
        exp_avg: tensor("exp_avg")?,
        exp_avg_sq: tensor("exp_avg_sq")?,
    })
}

fn group_from_value(
    position: usize,
    group: &Value,
    invalid: &dyn Fn(String) -> Error,
) -> Result<AdamWGroup> {
    let group = group
        .as_dict()
        .ok_or_else(|| invalid(format!("parameter group {position} is not a dict")))?;
    let number = |key: &str| {
        group
            .get(key)
            .and_then(Value::as_f64)
            .ok_or_else(|| invalid(format!("parameter group {position} has no numeric `{key}`")))
    };
    let betas = group
        .get("betas")
        .and_then(Value::as_sequence)
        .and_then(|betas| match betas {
            [first, second] => Some((first.as_f64()?, second.as_f64()?)),
            _ => None,
        })
        .ok_or_else(|| invalid(format!("parameter group {position} has no pair `betas`")))?;
    let params = group
        .get("params")
        .and_then(Value::as_sequence)
        .and_then(|ids| ids.iter().map(Value::as_int).collect::<Option<Vec<_>>>())
        .ok_or_else(|| {
            invalid(format!(
                "parameter group {position} has no list of int `params`"
            ))
        })?;
    let param_names = match group.get("param_names").and_then(Value::as_sequence) {
        Some(names) => names
            .iter()
            .map(|name| name.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(format!("parameter group {position} has a non-str name")))?,
        None => Vec::new(),
    };
    Ok(AdamWGroup {
        lr: number("lr")?,
        initial_lr: group.get("initial_lr").and_then(Value::as_f64),
        betas,
        eps: number("eps")?,
        weight_decay: number("weight_decay")?,
        amsgrad: matches!(group.get("amsgrad"), Some(Value::Bool(true))),
        params,
        param_names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_round_trip_keeps_moments_and_groups() {
        let moment = Tensor::from_f32(vec![2], &[0.5, -0.5]).unwrap();
        let state = AdamWState {
            state: vec![(
                0,
                AdamWParameterState {
                    step: 3.0,
                    exp_avg: moment.clone(),
                    exp_avg_sq: moment,
                },
            )],
            param_groups: vec![AdamWGroup {
                lr: 4e-5,
                initial_lr: Some(4e-5),
                betas: (0.9, 0.999),
                eps: 1e-8,
                weight_decay: 1e-4,
                amsgrad: false,
                params: vec![0, 1],
                param_names: vec!["backbone.a".into(), "backbone.b".into()],
            }],
        };
        let back = AdamWState::from_value(&state.to_value(), "memory").unwrap();
        assert_eq!(back, state);
    }

    #[test]
    fn missing_moment_is_named() {
        let value = Value::Dict(
            Dict::new()
                .with(
                    "state",
                    Value::Dict(
                        Dict::new()
                            .with(4, Value::Dict(Dict::new().with("step", Value::Float(1.0)))),
                    ),
                )
                .with("param_groups", Value::List(Vec::new())),
        );
        let error = AdamWState::from_value(&value, "ckpt").unwrap_err();
        assert_eq!(
            error.to_string(),
            "ckpt: invalid checkpoint: optimizer state of parameter 4 has no `exp_avg` tensor"
        );
    }
}
