//! Ordered maps from parameter names to tensors, as PyTorch's `state_dict()`.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::value::{Dict, DictKey, Value};

/// Parameter and buffer tensors by name, in insertion order.
#[derive(Clone, Debug, Default)]
pub struct StateDict {
    entries: Vec<(String, Tensor)>,
    index: HashMap<String, usize>,
}

impl PartialEq for StateDict {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl StateDict {
    pub fn new() -> Self {
        StateDict::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Inserts or replaces a tensor. A replaced tensor keeps its position.
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor) -> Option<Tensor> {
        let name = name.into();
        if let Some(&position) = self.index.get(&name) {
            return Some(std::mem::replace(&mut self.entries[position].1, tensor));
        }
        self.index.insert(name.clone(), self.entries.len());
        self.entries.push((name, tensor));
        None
    }

    pub fn get(&self, name: &str) -> Option<&Tensor> {
        self.index
            .get(name)
            .map(|&position| &self.entries[position].1)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Removes a tensor, keeping the order of the others.
    pub fn remove(&mut self, name: &str) -> Option<Tensor> {
        let position = self.index.remove(name)?;
        let (_, tensor) = self.entries.remove(position);
        for slot in self.index.values_mut() {
            if *slot > position {
                *slot -= 1;
            }
        }
        Some(tensor)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries
            .iter()
            .map(|(name, tensor)| (name.as_str(), tensor))
    }

    /// Total number of elements over all tensors, buffers included.
    pub fn parameter_count(&self) -> usize {
        self.entries.iter().map(|(_, tensor)| tensor.numel()).sum()
    }

    /// Names and shapes, the form a model describes its expected parameters in.
    pub fn shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.entries
            .iter()
            .map(|(name, tensor)| (name.clone(), tensor.shape().to_vec()))
            .collect()
    }

    /// The state dict as a `collections.OrderedDict`, as `Module.state_dict()` returns it.
    pub fn to_value(&self) -> Value {
        let mut dict = Dict::ordered();
        for (name, tensor) in &self.entries {
            dict.insert(name.as_str(), Value::Tensor(tensor.clone()));
        }
        Value::Dict(dict)
    }

    /// Reads a dict whose every entry is a string key with a tensor value.
    /// `origin` names the file for the error message.
    pub fn from_value(value: &Value, origin: &str) -> Result<Self> {
        let dict = value.as_dict().ok_or_else(|| {
            Error::invalid_checkpoint(
                origin,
                format!("expected a dict of tensors, found {}", value.type_name()),
            )
        })?;
        let mut state_dict = StateDict::new();
        for (key, item) in dict.iter() {
            let DictKey::Str(name) = key else {
                return Err(Error::invalid_checkpoint(
                    origin,
                    format!("state dict key {key} is not a string"),
                ));
            };
            let tensor = item.as_tensor().ok_or_else(|| {
                Error::invalid_checkpoint(
                    origin,
                    format!(
                        "state dict entry `{name}` has type {}, expected Tensor",
                        item.type_name()
                    ),
                )
            })?;
            state_dict.insert(name.clone(), tensor.clone());
        }
        Ok(state_dict)
    }
}

impl FromIterator<(String, Tensor)> for StateDict {
    fn from_iter<I: IntoIterator<Item = (String, Tensor)>>(iter: I) -> Self {
        let mut state_dict = StateDict::new();
        for (name, tensor) in iter {
            state_dict.insert(name, tensor);
        }
        state_dict
    }
}

impl IntoIterator for StateDict {
    type Item = (String, Tensor);
    type IntoIter = std::vec::IntoIter<(String, Tensor)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(value: f32) -> Tensor {
        Tensor::from_f32(vec![1], &[value]).unwrap()
    }

    #[test]
    fn remove_keeps_order_and_lookup() {
        let mut state_dict: StateDict = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(position, name)| (name.to_string(), tensor(position as f32)))
            .collect();
        assert_eq!(state_dict.remove("a"), Some(tensor(0.0)));
        assert_eq!(state_dict.names().collect::<Vec<_>>(), vec!["b", "c"]);
        assert_eq!(state_dict.get("c"), Some(&tensor(2.0)));
    }

    #[test]
    fn from_value_rejects_non_tensor_entry() {
        let value = Value::Dict(
            Dict::ordered()
                .with("weight", Value::Tensor(tensor(1.0)))
                .with("epoch", Value::Int(3)),
        );
        let error = StateDict::from_value(&value, "model.pth").unwrap_err();
        assert_eq!(
            error.to_string(),
            "model.pth: invalid checkpoint: state dict entry `epoch` has type int, expected Tensor"
        );
    }

    #[test]
    fn value_round_trip_keeps_names_and_tensors() {
        let state_dict: StateDict = [
            ("x".to_string(), tensor(1.0)),
            ("y".to_string(), tensor(2.0)),
        ]
        .into_iter()
        .collect();
        let back = StateDict::from_value(&state_dict.to_value(), "memory").unwrap();
        assert_eq!(back, state_dict);
        assert_eq!(back.parameter_count(), 2);
    }
}
