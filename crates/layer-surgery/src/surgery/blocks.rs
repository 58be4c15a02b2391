//! Finding transformer blocks in parameter names, removing blocks and
//! renumbering the rest.

use std::collections::{BTreeMap, BTreeSet};

use super::SurgeryReport;
use super::rename::drop_positional_tables;
use crate::error::{Error, Result};
use crate::state_dict::StateDict;

/// Position of a key relative to the transformer blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockPlacement<'a> {
    /// `<prefix><index>.<rest>`, where `prefix` ends in `blocks.`. For
    /// `module.backbone.blocks.3.attn.qkv.weight` the prefix is
    /// `module.backbone.blocks.`, the index 3 and the rest `attn.qkv.weight`.
    Block {
        prefix: &'a str,
        index: usize,
        rest: &'a str,
    },
    /// The key has a `blocks` segment that is not followed by an index, e.g. `blocks.x.`.
    Unplaced,
    /// The key has no `blocks` segment.
    Outside,
}

/// Places a key by its first `blocks` segment, wherever it occurs, so that
/// `module.` and `backbone.` prefixes do not matter. `decoder_blocks` and
/// similar names are not `blocks` segments.
pub fn place_block(key: &str) -> BlockPlacement<'_> {
    let mut start = 0;
    while start <= key.len() {
        let end = key[start..].find('.').map_or(key.len(), |dot| start + dot);
        if &key[start..end] == "blocks" {
            let index_start = end + 1;
            if index_start > key.len() {
                return BlockPlacement::Unplaced;
            }
            let index_end = key[index_start..]
                .find('.')
                .map_or(key.len(), |dot| index_start + dot);
            let digits = &key[index_start..index_end];
            let index = digits
                .bytes()
                .all(|byte| byte.is_ascii_digit())
                .then(|| digits.parse::<usize>().ok())
                .flatten();
            return match (index, index_end < key.len()) {
                (Some(index), true) => BlockPlacement::Block {
                    prefix: &key[..index_start],
                    index,
                    rest: &key[index_end + 1..],
                },
                _ => BlockPlacement::Unplaced,
            };
        }
        start = end + 1;
    }
    BlockPlacement::Outside
}

/// Block indices present under each prefix (e.g. `backbone.blocks.`).
fn block_groups(state_dict: &StateDict) -> BTreeMap<String, BTreeSet<usize>> {
    let mut groups: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for name in state_dict.names() {
        if let BlockPlacement::Block { prefix, index, .. } = place_block(name) {
            groups.entry(prefix.to_owned()).or_default().insert(index);
        }
    }
    groups
}

/// Checks that every requested layer exists in every group of blocks.
fn check_layers_present(
    groups: &BTreeMap<String, BTreeSet<usize>>,
    layers: &BTreeSet<usize>,
) -> Result<()> {
    if groups.is_empty() {
        return Err(Error::surgery(
            "the state dict has no `blocks.<n>.` keys, so there are no layers to select",
        ));
    }
    for (prefix, present) in groups {
        let missing: Vec<usize> = layers.difference(present).copied().collect();
        if !missing.is_empty() {
            return Err(Error::surgery(format!(
                "layers {missing:?} not found under `{prefix}`, which has blocks {:?}",
                present.iter().collect::<Vec<_>>()
            )));
        }
    }
    Ok(())
}

/// Removes the blocks with the given indices and renumbers the remaining blocks
/// densely in their order, e.g. removing 0, 3, 6, 9 of 12 maps 1, 2, 4, 5, 7, 8,
/// 10, 11 to 0 … 7. Each group of blocks (each distinct prefix) is renumbered on
/// its own. Keys outside the blocks are kept, and keys that cannot be placed are
/// kept and listed in the report.
pub fn remove_blocks(
    state_dict: &StateDict,
    layers: &[usize],
) -> Result<(StateDict, SurgeryReport)> {
    let layers: BTreeSet<usize> = layers.iter().copied().collect();
    let groups = block_groups(state_dict);
    check_layers_present(&groups, &layers)?;

    let renumbering: BTreeMap<&str, BTreeMap<usize, usize>> = groups
        .iter()
        .map(|(prefix, present)| {
            let kept = present.difference(&layers).copied();
            let mapping = kept.enumerate().map(|(new, old)| (old, new)).collect();
            (prefix.as_str(), mapping)
        })
        .collect();

    let mut report = SurgeryReport::default();
    let mut result = StateDict::new();
    for (name, tensor) in state_dict.iter() {
        let new_name = match place_block(name) {
            BlockPlacement::Block {
                prefix,
                index,
                rest,
            } => match renumbering[prefix].get(&index) {
                Some(&new_index) => format!("{prefix}{new_index}.{rest}"),
                None => {
                    report.dropped.push(name.to_owned());
                    continue;
                }
            },
            BlockPlacement::Unplaced => {
                report.unplaced.push(name.to_owned());
                name.to_owned()
            }
            BlockPlacement::Outside => name.to_owned(),
        };
        if new_name == name {
            report.kept.push(new_name.clone());
        } else {
            report.renamed.push((name.to_owned(), new_name.clone()));
        }
        if result.insert(new_name.clone(), tensor.clone()).is_some() {
            return Err(Error::surgery(format!(
                "renumbering `{name}` gives `{new_name}`, which another key already has"
            )));
        }
    }
    if !report.unplaced.is_empty() {
        tracing::warn!(keys = ?report.unplaced, "keys contain `blocks.` without a block index");
    }
    Ok((result, report))
}

/// Applies the surgery between layer-removal training and fine-tuning: removes
/// the `INVALID_LAYERS` blocks, renumbers the rest and drops the fixed positional
/// tables, which the model recomputes. Every other key is kept.
pub fn remove_layers(
    state_dict: &StateDict,
    layers: &[usize],
) -> Result<(StateDict, SurgeryReport)> {
    let (without_blocks, mut report) = remove_blocks(state_dict, layers)?;
    let (result, tables) = drop_positional_tables(&without_blocks);
    report.merge(tables);
    Ok((result, report))
}

/// Lists every key of the given blocks, which are the parameters that
/// layer-removal training (`REMOVE_LAYERS`) freezes. Fails when a layer does not exist.
pub fn frozen_parameters(state_dict: &StateDict, layers: &[usize]) -> Result<Vec<String>> {
    let layers: BTreeSet<usize> = layers.iter().copied().collect();
    check_layers_present(&block_groups(state_dict), &layers)?;
    Ok(state_dict
        .names()
        .filter(|name| {
            matches!(place_block(name), BlockPlacement::Block { index, .. } if layers.contains(&index))
        })
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn state_dict(names: &[&str]) -> StateDict {
        names
            .iter()
            .enumerate()
            .map(|(position, name)| {
                let tensor = Tensor::from_f32(vec![1], &[position as f32]).unwrap();
                (name.to_string(), tensor)
            })
            .collect()
    }

    #[test]
    fn place_block_finds_index_after_prefixes() {
        assert_eq!(
            place_block("module.backbone.blocks.11.attn.qkv.weight"),
            BlockPlacement::Block {
                prefix: "module.backbone.blocks.",
                index: 11,
                rest: "attn.qkv.weight"
            }
        );
        assert_eq!(
            place_block("blocks.0.norm1.bias"),
            BlockPlacement::Block {
                prefix: "blocks.",
                index: 0,
                rest: "norm1.bias"
            }
        );
    }

    #[test]
    fn place_block_reports_missing_index() {
        assert_eq!(
            place_block("backbone.blocks.x.norm1.weight"),
            BlockPlacement::Unplaced
        );
        assert_eq!(place_block("backbone.blocks"), BlockPlacement::Unplaced);
        assert_eq!(place_block("backbone.blocks.3"), BlockPlacement::Unplaced);
        assert_eq!(
            place_block("backbone.blocks.-1.norm1"),
            BlockPlacement::Unplaced
        );
    }

    #[test]
    fn place_block_ignores_similar_names() {
        assert_eq!(
            place_block("decoder_blocks.0.norm1.weight"),
            BlockPlacement::Outside
        );
        assert_eq!(place_block("backbone.pos_embed_t"), BlockPlacement::Outside);
    }

    #[test]
    fn removing_blocks_renumbers_densely() {
        let names: Vec<String> = (0..6)
            .map(|index| format!("backbone.blocks.{index}.w"))
            .collect();
        let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
        all.push("box_head.w");
        let (result, report) = remove_blocks(&state_dict(&all), &[0, 3]).unwrap();
        let kept: Vec<&str> = result.names().collect();
        assert_eq!(
            kept,
            vec![
                "backbone.blocks.0.w",
                "backbone.blocks.1.w",
                "backbone.blocks.2.w",
                "backbone.blocks.3.w",
                "box_head.w"
            ]
        );
        // Old block 4 is new block 2.
        assert_eq!(
            result.get("backbone.blocks.2.w").unwrap().to_f32_vec(),
            vec![4.0]
        );
        assert_eq!(
            report.dropped,
            vec!["backbone.blocks.0.w", "backbone.blocks.3.w"]
        );
        assert_eq!(report.renamed.len(), 4);
        assert_eq!(report.kept, vec!["box_head.w"]);
    }

    #[test]
    fn removing_absent_layer_fails() {
        let dict = state_dict(&["blocks.0.w", "blocks.1.w"]);
        let error = remove_blocks(&dict, &[2]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "layer surgery failed: layers [2] not found under `blocks.`, which has blocks [0, 1]"
        );
    }

    #[test]
    fn unplaced_keys_are_kept_and_reported() {
        let dict = state_dict(&["blocks.0.w", "blocks.1.w", "blocks.x.w"]);
        let (result, report) = remove_blocks(&dict, &[0]).unwrap();
        assert!(result.contains("blocks.x.w"));
        assert!(result.contains("blocks.0.w"));
        assert_eq!(report.unplaced, vec!["blocks.x.w"]);
    }

    #[test]
    fn frozen_parameters_lists_every_key_of_layers() {
        let dict = state_dict(&[
            "backbone.blocks.0.norm1.weight",
            "backbone.blocks.0.mlp.fc1.bias",
            "backbone.blocks.1.norm1.weight",
            "backbone.blocks.3.attn.proj.weight",
            "backbone.reg_tokens",
        ]);
        let frozen = frozen_parameters(&dict, &[0, 3]).unwrap();
        assert_eq!(
            frozen,
            vec![
                "backbone.blocks.0.norm1.weight",
                "backbone.blocks.0.mlp.fc1.bias",
                "backbone.blocks.3.attn.proj.weight"
            ]
        );
        assert!(frozen_parameters(&dict, &[2]).is_err());
    }

    #[test]
    fn remove_layers_also_drops_positional_tables() {
        let dict = state_dict(&[
            "backbone.pos_embed_t",
            "backbone.pos_embed_s",
            "backbone.pos_embed_reg",
            "backbone.blocks.0.w",
            "backbone.blocks.1.w",
        ]);
        let (result, report) = remove_layers(&dict, &[0]).unwrap();
        let names: Vec<&str> = result.names().collect();
        assert_eq!(names, vec!["backbone.pos_embed_reg", "backbone.blocks.0.w"]);
        assert_eq!(
            report.dropped,
            vec![
                "backbone.blocks.0.w",
                "backbone.pos_embed_t",
                "backbone.pos_embed_s"
            ]
        );
        assert_eq!(
            report.renamed,
            vec![(
                "backbone.blocks.1.w".to_string(),
                "backbone.blocks.0.w".to_string()
            )]
        );
        assert_eq!(report.kept, vec!["backbone.pos_embed_reg"]);
    }
}
