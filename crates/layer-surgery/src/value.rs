//! The value tree of a checkpoint: the subset of Python objects that `torch.save`
//! files of weights, optimiser state and configuration contain.

use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};
use crate::foreign::ForeignObject;
use crate::tensor::Tensor;

/// A Python value read from or written to a checkpoint.
///
/// Python `bytes` are kept so that files holding them round-trip. Instances of
/// other classes, sets and functions are rejected by the default reader. With
/// foreign objects allowed they are read as inert [`Value::Object`] placeholders,
/// which the writers reject.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Dict),
    Tensor(Tensor),
    /// A placeholder for an object of a class outside the tensor allow-list.
    Object(Box<ForeignObject>),
}

/// A dictionary key: Python checkpoints use strings, and integers for the
/// per-parameter entries of an optimiser's `state`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DictKey {
    Str(String),
    Int(i64),
}

impl fmt::Display for DictKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DictKey::Str(text) => write!(formatter, "'{text}'"),
            DictKey::Int(number) => write!(formatter, "{number}"),
        }
    }
}

impl From<&str> for DictKey {
    fn from(key: &str) -> Self {
        DictKey::Str(key.to_owned())
    }
}

impl From<String> for DictKey {
    fn from(key: String) -> Self {
        DictKey::Str(key)
    }
}

impl From<i64> for DictKey {
    fn from(key: i64) -> Self {
        DictKey::Int(key)
    }
}

/// An insertion-ordered dictionary. `ordered` marks a `collections.OrderedDict`
/// (the type `state_dict()` returns) as opposed to a plain `dict`.
#[derive(Clone, Debug, Default)]
pub struct Dict {
    ordered: bool,
    entries: Vec<(DictKey, Value)>,
    index: HashMap<DictKey, usize>,
}

impl PartialEq for Dict {
    fn eq(&self, other: &Self) -> bool {
        self.ordered == other.ordered && self.entries == other.entries
    }
}

impl Dict {
    /// Creates an empty plain `dict`.
    pub fn new() -> Self {
        Dict::default()
    }

    /// Creates an empty `collections.OrderedDict`.
    pub fn ordered() -> Self {
        Dict {
            ordered: true,
            ..Dict::default()
        }
    }

    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Inserts or replaces an entry. A replaced entry keeps its position, as in Python.
    pub fn insert(&mut self, key: impl Into<DictKey>, value: Value) -> Option<Value> {
        let key = key.into();
        if let Some(&position) = self.index.get(&key) {
            return Some(std::mem::replace(&mut self.entries[position].1, value));
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
        None
    }

    /// Builder form of [`Dict::insert`].
    pub fn with(mut self, key: impl Into<DictKey>, value: Value) -> Self {
        self.insert(key, value);
        self
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.get_key(&DictKey::Str(key.to_owned()))
    }

    pub fn get_key(&self, key: &DictKey) -> Option<&Value> {
        self.index
            .get(key)
            .map(|&position| &self.entries[position].1)
    }

    /// Removes an entry, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let position = self.index.remove(&DictKey::Str(key.to_owned()))?;
        let (_, value) = self.entries.remove(position);
        for slot in self.index.values_mut() {
            if *slot > position {
                *slot -= 1;
            }
        }
        Some(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&DictKey, &Value)> {
        self.entries.iter().map(|(key, value)| (key, value))
    }

    pub fn keys(&self) -> impl Iterator<Item = &DictKey> {
        self.entries.iter().map(|(key, _)| key)
    }

    pub fn into_entries(self) -> Vec<(DictKey, Value)> {
        self.entries
    }
}

impl Value {
    /// Returns the Python type name, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(dict) if dict.is_ordered() => "OrderedDict",
            Value::Dict(_) => "dict",
            Value::Tensor(_) => "Tensor",
            Value::Object(_) => "foreign object",
        }
    }

    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(dict) => Some(dict),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    /// Returns the value of an `int` (a Python `bool` is not an `int` here).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(number) => Some(*number),
            _ => None,
        }
    }

    /// Returns the value of an `int` or `float`, or of a one-element tensor.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(number) => Some(*number as f64),
            Value::Float(number) => Some(*number),
            Value::Tensor(tensor) => tensor.item(),
            _ => None,
        }
    }

    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(tensor) => Some(tensor),
            _ => None,
        }
    }

    /// Returns the items of a `list` or `tuple`.
    pub fn as_sequence(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// Converts JSON into a value tree: objects become plain dicts, whole numbers
    /// that fit in `i64` become `int`, other numbers `float`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::None,
            serde_json::Value::Bool(flag) => Value::Bool(*flag),
            serde_json::Value::Number(number) => match number.as_i64() {
                Some(integer) => Value::Int(integer),
                None => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(text) => Value::Str(text.clone()),
            serde_json::Value::Array(items) => {
                Value::List(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => {
                let mut dict = Dict::new();
                for (key, item) in map {
                    dict.insert(key.as_str(), Value::from_json(item));
                }
                Value::Dict(dict)
            }
        }
    }

    /// Converts the value tree to JSON, for configs stored as nested dicts.
    /// Tuples become arrays and integer keys strings. Tensors, bytes and non-finite
    /// floats have no JSON form, so they are an error naming the path to them.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        self.to_json_at("")
    }

    fn to_json_at(&self, path: &str) -> Result<serde_json::Value> {
        let unrepresentable = |what: &str| {
            Error::invalid_checkpoint(
                "<value>",
                format!("{what} at `{path}` has no JSON representation"),
            )
        };
        Ok(match self {
            Value::None => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(number) => serde_json::Value::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map(serde_json::Value::Number)
                .ok_or_else(|| unrepresentable("non-finite float"))?,
            Value::Str(text) => serde_json::Value::String(text.clone()),
            Value::Bytes(_) => return Err(unrepresentable("bytes")),
            Value::Tensor(_) => return Err(unrepresentable("tensor")),
            Value::Object(object) => {
                return Err(unrepresentable(&format!(
                    "foreign object `{}`",
                    object.qualified_name()
                )));
            }
            Value::List(items) | Value::Tuple(items) => serde_json::Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(position, item)| item.to_json_at(&format!("{path}[{position}]")))
                    .collect::<Result<_>>()?,
            ),
            Value::Dict(dict) => {
                let mut map = serde_json::Map::new();
                for (key, item) in dict.iter() {
                    let name = match key {
                        DictKey::Str(text) => text.clone(),
                        DictKey::Int(number) => number.to_string(),
                    };
                    let child = item.to_json_at(&format!("{path}.{name}"))?;
                    map.insert(name, child);
                }
                serde_json::Value::Object(map)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dict_insert_replaces_in_place() {
        let mut dict = Dict::ordered()
            .with("a", Value::Int(1))
            .with("b", Value::Int(2));
        assert_eq!(dict.insert("a", Value::Int(3)), Some(Value::Int(1)));
        let keys: Vec<_> = dict.keys().cloned().collect();
        assert_eq!(keys, vec![DictKey::from("a"), DictKey::from("b")]);
        assert_eq!(dict.get("a"), Some(&Value::Int(3)));
    }

    #[test]
    fn dict_remove_keeps_lookup_consistent() {
        let mut dict = Dict::new()
            .with("a", Value::Int(1))
            .with("b", Value::Int(2))
            .with(7, Value::Int(3));
        assert_eq!(dict.remove("a"), Some(Value::Int(1)));
        assert_eq!(dict.get("b"), Some(&Value::Int(2)));
        assert_eq!(dict.get_key(&DictKey::Int(7)), Some(&Value::Int(3)));
        assert_eq!(dict.len(), 2);
    }

    #[test]
    fn json_round_trip_keeps_numbers_apart() {
        let json = serde_json::json!({"LR": 0.0004, "EPOCH": 500, "NAMES": ["GOT10K", "LASOT"]});
        let value = Value::from_json(&json);
        let dict = value.as_dict().unwrap();
        assert_eq!(dict.get("EPOCH"), Some(&Value::Int(500)));
        assert_eq!(dict.get("LR"), Some(&Value::Float(0.0004)));
        assert_eq!(value.to_json().unwrap(), json);
    }

    #[test]
    fn to_json_names_path_of_tensor() {
        let tensor = Tensor::from_f32(vec![1], &[1.0]).unwrap();
        let value = Value::Dict(Dict::new().with(
            "inner",
            Value::List(vec![Value::Int(1), Value::Tensor(tensor)]),
        ));
        let error = value.to_json().unwrap_err();
        assert!(
            error.to_string().contains("tensor at `.inner[1]`"),
            "{error}"
        );
    }
}
