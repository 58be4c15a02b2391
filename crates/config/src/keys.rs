//! Key checks and the overlay of an experiment file on a script's defaults.
//!
//! Both work on YAML values: the defaults, converted to a value, list every
//! key of the union, which makes them the schema the file is checked against.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::error::ConfigError;
use crate::script::{Script, scripts_reading};

/// Sections whose keys are dataset names rather than fixed names.
const DATASET_MAPS: [&str; 2] = ["TEST.UPDATE_INTERVALS", "TEST.ONLINE_SIZES"];

/// Rejects keys that no script defines, keys that `script` does not read,
/// non-string keys and sections that are not mappings.
pub(crate) fn check_keys(
    script: Script,
    path: &Path,
    file: &Value,
    defaults: &Value,
) -> Result<(), ConfigError> {
    if file.is_null() {
        return Ok(());
    }
    check_level(script, path, file, defaults, "")
}

fn check_level(
    script: Script,
    path: &Path,
    file: &Value,
    schema: &Value,
    prefix: &str,
) -> Result<(), ConfigError> {
    let Value::Mapping(schema) = schema else {
        return Ok(());
    };
    let section = if prefix.is_empty() {
        "the top level"
    } else {
        prefix
    };
    let Value::Mapping(entries) = file else {
        let advice = if file.is_null() {
            "; remove the empty section or add keys under it"
        } else {
            ""
        };
        return Err(ConfigError::InvalidValue {
            path: path.to_owned(),
            key: section.to_owned(),
            message: format!(
                "expected a mapping of keys, found {}{advice}",
                describe(file)
            ),
        });
    };

    for (key, value) in entries {
        let Value::String(key) = key else {
            return Err(ConfigError::InvalidValue {
                path: path.to_owned(),
                key: section.to_owned(),
                message: format!("keys must be strings, found {}", describe(key)),
            });
        };
        if DATASET_MAPS.contains(&prefix) {
            continue;
        }
        let full = join(prefix, key);
        let Some(sub_schema) = schema.get(key.as_str()) else {
            return Err(ConfigError::UnknownKey {
                path: path.to_owned(),
                key: full,
                script: script.name().to_owned(),
                hint: hint(script, prefix, key, schema),
            });
        };
        if let Some(readers) = scripts_reading(&full)
            && !readers.contains(&script)
        {
            return Err(ConfigError::KeyNotForScript {
                path: path.to_owned(),
                key: full,
                script: script.name().to_owned(),
                readers: readers
                    .iter()
                    .map(|reader| reader.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        check_level(script, path, value, sub_schema, &full)?;
    }
    Ok(())
}

/// Lays `file` over `defaults`: mappings are merged key by key, everything else is replaced.
pub(crate) fn overlay(defaults: Value, file: Value) -> Value {
    match (defaults, file) {
        (defaults, Value::Null) if defaults.is_mapping() => defaults,
        (Value::Mapping(mut merged), Value::Mapping(entries)) => {
            for (key, value) in entries {
                let value = match merged.remove(&key) {
                    Some(default) => overlay(default, value),
                    None => value,
                };
                merged.insert(key, value);
            }
            Value::Mapping(merged)
        }
        (_, file) => file,
    }
}

/// Removes the keys that `script` does not read, so that the result loads again.
pub(crate) fn remove_unread_keys(script: Script, value: &mut Value) {
    remove_level(script, value, "");
}

fn remove_level(script: Script, value: &mut Value, prefix: &str) {
    let Value::Mapping(entries) = value else {
        return;
    };
    if DATASET_MAPS.contains(&prefix) {
        return;
    }
    entries.retain(|key, _| {
        key.as_str()
            .is_none_or(|key| script.reads_key(&join(prefix, key)))
    });
    for (key, sub) in entries.iter_mut() {
        if let Some(key) = key.as_str() {
            remove_level(script, sub, &join(prefix, key));
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Suggests the closest key the script reads, or lists them all when none is close.
fn hint(script: Script, prefix: &str, key: &str, schema: &Mapping) -> String {
    let candidates: Vec<String> = schema
        .keys()
        .filter_map(Value::as_str)
        .map(|candidate| join(prefix, candidate))
        .filter(|candidate| script.reads_key(candidate))
        .collect();
    let typed = join(prefix, key);
    let closest = candidates
        .iter()
        .map(|candidate| {
            (
                edit_distance(&typed.to_uppercase(), &candidate.to_uppercase()),
                candidate,
            )
        })
        .min();
    match closest {
        Some((distance, candidate)) if distance <= (key.chars().count() / 3).max(1) => {
            format!("did you mean {candidate}?")
        }
        _ => format!("expected one of {}", candidates.join(", ")),
    }
}

/// Levenshtein distance between two strings, counted in characters.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1; right.len() + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[right.len()]
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_owned(),
        Value::Bool(flag) => format!("the boolean {flag}"),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string {text:?}"),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(tagged) => format!("a value tagged {}", tagged.tag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("REMOVE_LAYER", "REMOVE_LAYERS"), 1);
        assert_eq!(edit_distance("FEAT_SZ", "FEAT_SZ"), 0);
        assert_eq!(edit_distance("", "ABC"), 3);
        assert_eq!(edit_distance("LR", "EPOCH"), 5);
    }

    #[test]
    fn overlay_merges_mappings_and_replaces_lists() {
        let defaults: Value =
            serde_yaml::from_str("A: {B: 1, C: [1, 2]}\nD: {X: [3]}").expect("valid YAML");
        let file: Value = serde_yaml::from_str("A: {C: [9]}\nD: {Y: [4]}").expect("valid YAML");
        let merged = overlay(defaults, file);
        let expected: Value =
            serde_yaml::from_str("A: {B: 1, C: [9]}\nD: {X: [3], Y: [4]}").expect("valid YAML");
        assert_eq!(merged, expected);
    }
}
