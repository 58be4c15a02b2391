//! Comparing state dicts: with each other, and with the shapes a model expects.

use std::collections::HashMap;
use std::fmt;

use crate::dtype::DType;
use crate::state_dict::StateDict;

/// Maximum number of names a message lists before summarising the rest.
const LISTED_NAMES: usize = 10;

/// A key present in both dicts with different shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeMismatch {
    pub name: String,
    pub expected: Vec<usize>,
    pub found: Vec<usize>,
}

impl fmt::Display for ShapeMismatch {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "`{}`: expected {:?}, found {:?}",
            self.name, self.expected, self.found
        )
    }
}

/// Differences between an expected and a found state dict.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StateDictDiff {
    /// Keys of the expected dict absent from the found one (PyTorch's "missing keys").
    pub missing: Vec<String>,
    /// Keys of the found dict absent from the expected one ("unexpected keys").
    pub unexpected: Vec<String>,
    pub shape_mismatches: Vec<ShapeMismatch>,
    /// Keys of equal shape but different element type, as `(name, expected, found)`.
    pub dtype_mismatches: Vec<(String, DType, DType)>,
    /// For every key of equal shape, the largest absolute difference of the values
    /// compared as `f64`, in the order of the expected dict.
    pub max_abs_diff: Vec<(String, f64)>,
}

impl StateDictDiff {
    /// Returns whether both dicts have the same keys, shapes and types and every
    /// value differs by at most `tolerance`.
    pub fn is_within(&self, tolerance: f64) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.shape_mismatches.is_empty()
            && self.dtype_mismatches.is_empty()
            && self
                .max_abs_diff
                .iter()
                .all(|(_, difference)| *difference <= tolerance)
    }
}

/// Compares two state dicts key by key.
pub fn compare(expected: &StateDict, found: &StateDict) -> StateDictDiff {
    let mut diff = StateDictDiff {
        unexpected: found
            .names()
            .filter(|name| !expected.contains(name))
            .map(str::to_owned)
            .collect(),
        ..StateDictDiff::default()
    };
    for (name, expected_tensor) in expected.iter() {
        let Some(found_tensor) = found.get(name) else {
            diff.missing.push(name.to_owned());
            continue;
        };
        if expected_tensor.shape() != found_tensor.shape() {
            diff.shape_mismatches.push(ShapeMismatch {
                name: name.to_owned(),
                expected: expected_tensor.shape().to_vec(),
                found: found_tensor.shape().to_vec(),
            });
            continue;
        }
        if expected_tensor.dtype() != found_tensor.dtype() {
            diff.dtype_mismatches.push((
                name.to_owned(),
                expected_tensor.dtype(),
                found_tensor.dtype(),
            ));
        }
        if let Some(difference) = expected_tensor.max_abs_diff(found_tensor) {
            diff.max_abs_diff.push((name.to_owned(), difference));
        }
    }
    diff
}

/// Differences that keep a checkpoint from fitting a model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MismatchReport {
    /// `(expected, found)` when the checkpoint's `net_type` differs.
    pub net_type: Option<(String, String)>,
    pub missing: Vec<String>,
    pub unexpected: Vec<String>,
    pub shape_mismatches: Vec<ShapeMismatch>,
}

impl MismatchReport {
    pub fn is_empty(&self) -> bool {
        self.net_type.is_none()
            && self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.shape_mismatches.is_empty()
    }
}

fn write_names(formatter: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    let listed: Vec<&str> = names
        .iter()
        .take(LISTED_NAMES)
        .map(String::as_str)
        .collect();
    write!(formatter, "{}", listed.join(", "))?;
    if names.len() > LISTED_NAMES {
        write!(formatter, " and {} more", names.len() - LISTED_NAMES)?;
    }
    Ok(())
}

impl fmt::Display for MismatchReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = 0;
        let mut separator = |formatter: &mut fmt::Formatter<'_>| {
            parts += 1;
            if parts > 1 {
                formatter.write_str("; ")
            } else {
                Ok(())
            }
        };
        if let Some((expected, found)) = &self.net_type {
            separator(formatter)?;
            write!(formatter, "net type is {found}, expected {expected}")?;
        }
        if !self.missing.is_empty() {
            separator(formatter)?;
            write!(formatter, "{} missing keys: ", self.missing.len())?;
            write_names(formatter, &self.missing)?;
        }
        if !self.unexpected.is_empty() {
            separator(formatter)?;
            write!(formatter, "{} unexpected keys: ", self.unexpected.len())?;
            write_names(formatter, &self.unexpected)?;
        }
        if !self.shape_mismatches.is_empty() {
            separator(formatter)?;
            write!(
                formatter,
                "{} shape mismatches: ",
                self.shape_mismatches.len()
            )?;
            let listed: Vec<String> = self
                .shape_mismatches
                .iter()
                .take(LISTED_NAMES)
                .map(ShapeMismatch::to_string)
                .collect();
            write!(formatter, "{}", listed.join(", "))?;
            if self.shape_mismatches.len() > LISTED_NAMES {
                write!(
                    formatter,
                    " and {} more",
                    self.shape_mismatches.len() - LISTED_NAMES
                )?;
            }
        }
        Ok(())
    }
}

/// Checks a state dict against the parameter names and shapes a model expects.
pub fn check_shapes(state_dict: &StateDict, expected: &[(String, Vec<usize>)]) -> MismatchReport {
    let expected_shapes: HashMap<&str, &[usize]> = expected
        .iter()
        .map(|(name, shape)| (name.as_str(), shape.as_slice()))
        .collect();
    let mut report = MismatchReport {
        unexpected: state_dict
            .names()
            .filter(|name| !expected_shapes.contains_key(name))
            .map(str::to_owned)
            .collect(),
        ..MismatchReport::default()
    };
    for (name, shape) in expected {
        match state_dict.get(name) {
            None => report.missing.push(name.clone()),
            Some(tensor) if tensor.shape() != shape.as_slice() => {
                report.shape_mismatches.push(ShapeMismatch {
                    name: name.clone(),
                    expected: shape.clone(),
                    found: tensor.shape().to_vec(),
                });
            }
            Some(_) => {}
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn dict(entries: &[(&str, Vec<usize>, f32)]) -> StateDict {
        entries
            .iter()
            .map(|(name, shape, value)| {
                let numel = shape.iter().product();
                let tensor = Tensor::from_f32(shape.clone(), &vec![*value; numel]).unwrap();
                (name.to_string(), tensor)
            })
            .collect()
    }

    #[test]
    fn compare_lists_every_kind_of_difference() {
        let expected = dict(&[
            ("a", vec![2], 1.0),
            ("b", vec![2], 1.0),
            ("c", vec![1], 0.0),
        ]);
        let found = dict(&[
            ("a", vec![2], 1.5),
            ("b", vec![3], 1.0),
            ("d", vec![1], 0.0),
        ]);
        let diff = compare(&expected, &found);
        assert_eq!(diff.missing, vec!["c"]);
        assert_eq!(diff.unexpected, vec!["d"]);
        assert_eq!(diff.shape_mismatches.len(), 1);
        assert_eq!(diff.shape_mismatches[0].found, vec![3]);
        assert_eq!(diff.max_abs_diff, vec![("a".to_string(), 0.5)]);
        assert!(!diff.is_within(1.0));
    }

    #[test]
    fn identical_dicts_are_within_zero_tolerance() {
        let one = dict(&[("a", vec![2, 2], 3.0)]);
        assert!(compare(&one, &one).is_within(0.0));
    }

    #[test]
    fn check_shapes_names_each_mismatch() {
        let found = dict(&[("w", vec![4, 2], 0.0), ("extra", vec![1], 0.0)]);
        let expected = vec![("w".to_string(), vec![2, 4]), ("b".to_string(), vec![4])];
        let report = check_shapes(&found, &expected);
        assert_eq!(
            report.to_string(),
            "1 missing keys: b; 1 unexpected keys: extra; 1 shape mismatches: \
             `w`: expected [2, 4], found [4, 2]"
        );
    }
}
