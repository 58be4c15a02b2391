//! Renaming keys: `module.` prefixes, declarative pattern rules, and dropping
//! the fixed positional tables.

use regex::Regex;

use super::SurgeryReport;
use crate::error::{Error, Result};
use crate::state_dict::StateDict;

/// Names of the fixed sine-cosine positional tables, which are never read from
/// a checkpoint because the model recomputes them. `pos_embed_reg` is learned
/// and therefore not among them.
pub const POSITIONAL_TABLES: [&str; 3] = ["pos_embed_t", "pos_embed_s", "pos_embed"];

/// Prefix that `torch.nn.DataParallel` and `DistributedDataParallel` add to every key.
const MODULE_PREFIX: &str = "module.";

/// A key mapping: every match of `pattern` in a key is replaced by `replacement`,
/// which may refer to capture groups as `$1` or `${name}`.
#[derive(Clone, Debug)]
pub struct RenameRule {
    pattern: Regex,
    replacement: String,
}

impl RenameRule {
    /// Compiles a rule. Fails with the pattern and the parser's message when the
    /// pattern is not a valid regular expression.
    pub fn new(pattern: &str, replacement: &str) -> Result<Self> {
        let pattern = Regex::new(pattern).map_err(|error| {
            Error::surgery(format!("invalid rename pattern `{pattern}`: {error}"))
        })?;
        Ok(RenameRule {
            pattern,
            replacement: replacement.to_owned(),
        })
    }

    pub fn pattern(&self) -> &str {
        self.pattern.as_str()
    }

    pub fn replacement(&self) -> &str {
        &self.replacement
    }

    fn apply(&self, key: &str) -> String {
        self.pattern
            .replace_all(key, self.replacement.as_str())
            .into_owned()
    }
}

/// Renames every key by applying each rule in turn. Two keys that end up with
/// the same name are an error naming both.
pub fn rename(state_dict: &StateDict, rules: &[RenameRule]) -> Result<(StateDict, SurgeryReport)> {
    rename_with(state_dict, |name| {
        rules
            .iter()
            .fold(name.to_owned(), |current, rule| rule.apply(&current))
    })
}

/// Strips every leading `module.` (nested data-parallel wrappers add one each).
pub fn strip_module_prefix(state_dict: &StateDict) -> Result<(StateDict, SurgeryReport)> {
    rename_with(state_dict, |name| {
        let mut stripped = name;
        while let Some(rest) = stripped.strip_prefix(MODULE_PREFIX) {
            stripped = rest;
        }
        stripped.to_owned()
    })
}

fn rename_with(
    state_dict: &StateDict,
    new_name_of: impl Fn(&str) -> String,
) -> Result<(StateDict, SurgeryReport)> {
    let mut report = SurgeryReport::default();
    let mut result = StateDict::new();
    let mut sources: std::collections::HashMap<String, String> = Default::default();
    for (name, tensor) in state_dict.iter() {
        let new_name = new_name_of(name);
        if let Some(previous) = sources.insert(new_name.clone(), name.to_owned()) {
            return Err(Error::surgery(format!(
                "keys `{previous}` and `{name}` would both be named `{new_name}`"
            )));
        }
        if new_name == name {
            report.kept.push(new_name.clone());
        } else {
            report.renamed.push((name.to_owned(), new_name.clone()));
        }
        result.insert(new_name, tensor.clone());
    }
    Ok((result, report))
}

/// Drops every key whose last segment is a fixed positional table
/// (`pos_embed_t`, `pos_embed_s`, `pos_embed`).
pub fn drop_positional_tables(state_dict: &StateDict) -> (StateDict, SurgeryReport) {
    let mut report = SurgeryReport::default();
    let mut result = StateDict::new();
    for (name, tensor) in state_dict.iter() {
        let last_segment = name.rsplit('.').next().unwrap_or(name);
        if POSITIONAL_TABLES.contains(&last_segment) {
            report.dropped.push(name.to_owned());
        } else {
            report.kept.push(name.to_owned());
            result.insert(name, tensor.clone());
        }
    }
    (result, report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn state_dict(names: &[&str]) -> StateDict {
        names
            .iter()
            .map(|name| (name.to_string(), Tensor::from_f32(vec![1], &[0.0]).unwrap()))
            .collect()
    }

    #[test]
    fn strip_module_prefix_removes_nested_prefixes() {
        let dict = state_dict(&[
            "module.module.backbone.cls_token",
            "box_head.w",
            "x.module.y",
        ]);
        let (result, report) = strip_module_prefix(&dict).unwrap();
        let names: Vec<&str> = result.names().collect();
        assert_eq!(
            names,
            vec!["backbone.cls_token", "box_head.w", "x.module.y"]
        );
        assert_eq!(report.renamed.len(), 1);
        assert_eq!(report.kept, vec!["box_head.w", "x.module.y"]);
    }

    #[test]
    fn strip_module_prefix_rejects_collision() {
        let dict = state_dict(&["module.w", "w"]);
        let error = strip_module_prefix(&dict).unwrap_err();
        assert_eq!(
            error.to_string(),
            "layer surgery failed: keys `module.w` and `w` would both be named `w`"
        );
    }

    #[test]
    fn rename_rules_apply_in_order_with_groups() {
        let dict = state_dict(&["blocks.0.attn.qkv.weight", "cls_token"]);
        let rules = [
            RenameRule::new(r"^blocks\.(\d+)\.", "backbone.blocks.$1.").unwrap(),
            RenameRule::new(r"\.qkv\.", ".in_proj.").unwrap(),
        ];
        let (result, report) = rename(&dict, &rules).unwrap();
        let names: Vec<&str> = result.names().collect();
        assert_eq!(
            names,
            vec!["backbone.blocks.0.attn.in_proj.weight", "cls_token"]
        );
        assert_eq!(report.kept, vec!["cls_token"]);
    }

    #[test]
    fn invalid_pattern_is_reported() {
        let error = RenameRule::new("blocks.(", "x").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("layer surgery failed: invalid rename pattern `blocks.(`"),
            "{error}"
        );
    }

    #[test]
    fn positional_tables_are_dropped_by_last_segment() {
        let dict = state_dict(&[
            "backbone.pos_embed",
            "backbone.pos_embed_t",
            "pos_embed_s",
            "backbone.pos_embed_reg",
            "backbone.pos_embed.extra",
        ]);
        let (result, report) = drop_positional_tables(&dict);
        let names: Vec<&str> = result.names().collect();
        assert_eq!(
            names,
            vec!["backbone.pos_embed_reg", "backbone.pos_embed.extra"]
        );
        assert_eq!(report.dropped.len(), 3);
    }
}
