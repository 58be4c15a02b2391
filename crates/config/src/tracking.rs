//! The `TEST` section: crops and online-template updates at tracking time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::values;

/// The `TEST` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConfig {
    /// Template crop side as a multiple of the box's `sqrt(w * h)` (`TEMPLATE_FACTOR`).
    #[serde(rename = "TEMPLATE_FACTOR")]
    pub template_factor: f64,
    /// Template crop side after resizing, in pixels (`TEMPLATE_SIZE`); equals `DATA.TEMPLATE.SIZE`.
    #[serde(rename = "TEMPLATE_SIZE")]
    pub template_size: usize,
    /// Search crop side as a multiple of the box's `sqrt(w * h)` (`SEARCH_FACTOR`).
    #[serde(rename = "SEARCH_FACTOR")]
    pub search_factor: f64,
    /// Search crop side after resizing, in pixels (`SEARCH_SIZE`); equals `DATA.SEARCH.SIZE`.
    #[serde(rename = "SEARCH_SIZE")]
    pub search_size: usize,
    /// Epoch of the checkpoint that evaluation loads (`EPOCH`); unset means `TRAIN.EPOCH`.
    #[serde(rename = "EPOCH")]
    pub epoch: Option<usize>,
    /// Frames between online-template updates, per upper-case dataset name
    /// (`UPDATE_INTERVALS`, written `LASOT: [200]` as in the reference).
    #[serde(rename = "UPDATE_INTERVALS", with = "values::per_dataset")]
    pub update_intervals: BTreeMap<String, usize>,
    /// Online templates per dataset (`ONLINE_SIZES`); every value must be 1.
    #[serde(rename = "ONLINE_SIZES", with = "values::per_dataset")]
    pub online_sizes: BTreeMap<String, usize>,
}
