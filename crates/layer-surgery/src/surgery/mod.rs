//! Operations on state dicts: removing and renumbering transformer blocks,
//! dropping fixed positional tables, renaming keys and comparing two dicts.
//! Each operation returns the new state dict and a [`SurgeryReport`].

mod blocks;
mod compare;
mod rename;

use std::collections::{HashMap, HashSet};
use std::fmt;

pub use blocks::{BlockPlacement, frozen_parameters, place_block, remove_blocks, remove_layers};
pub use compare::{MismatchReport, ShapeMismatch, StateDictDiff, check_shapes, compare};
pub use rename::{
    POSITIONAL_TABLES, RenameRule, drop_positional_tables, rename, strip_module_prefix,
};

/// Record of the keys an operation dropped, renamed and kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SurgeryReport {
    /// Keys removed.
    pub dropped: Vec<String>,
    /// Keys kept under a new name, as `(old, new)`.
    pub renamed: Vec<(String, String)>,
    /// Keys kept under their old name.
    pub kept: Vec<String>,
    /// Keys that contain `blocks.` without a block index after it, kept unchanged.
    pub unplaced: Vec<String>,
}

impl SurgeryReport {
    /// Combines this report with the report of a later operation applied to the
    /// result, so that the pair reads as one operation on the original keys.
    pub fn merge(&mut self, later: SurgeryReport) {
        let earlier_targets: HashSet<String> =
            self.renamed.iter().map(|(_, new)| new.clone()).collect();
        let later_renames: HashMap<&str, &str> = later
            .renamed
            .iter()
            .map(|(old, new)| (old.as_str(), new.as_str()))
            .collect();

        // Chain renames so that `a -> b` then `b -> c` reads `a -> c`.
        for (_, new) in &mut self.renamed {
            if let Some(&chained) = later_renames.get(new.as_str()) {
                *new = chained.to_owned();
            }
        }
        for (old, new) in &later.renamed {
            if !earlier_targets.contains(old) {
                self.renamed.push((old.clone(), new.clone()));
            }
        }
        self.dropped.extend(later.dropped);
        self.kept = later
            .kept
            .into_iter()
            .filter(|name| !earlier_targets.contains(name))
            .collect();
        for name in later.unplaced {
            if !self.unplaced.contains(&name) {
                self.unplaced.push(name);
            }
        }
    }
}

impl fmt::Display for SurgeryReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "dropped {}, renamed {}, kept {}",
            self.dropped.len(),
            self.renamed.len(),
            self.kept.len()
        )?;
        if !self.unplaced.is_empty() {
            write!(
                formatter,
                "; keys with `blocks.` but no block index (kept unchanged): {}",
                self.unplaced.join(", ")
            )?;
        }
        Ok(())
    }
}
