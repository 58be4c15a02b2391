//! Opening training datasets by the names used in experiment files.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use super::{Coco, Got10k, Got10kSplit, Lasot, TrackingDataset, TrackingNet};
use crate::error::{DataError, Result};

const KNOWN_NAMES: &str =
    "GOT10K_vottrain, GOT10K_votval, GOT10K_train_full, LASOT, COCO17, TRACKINGNET";

/// A training dataset as named in `DATA.TRAIN.DATASETS_NAME`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetName {
    Got10k(Got10kSplit),
    Lasot,
    Coco17,
    TrackingNet,
}

impl FromStr for DatasetName {
    type Err = DataError;

    fn from_str(name: &str) -> Result<Self> {
        Ok(match name {
            "GOT10K_vottrain" => Self::Got10k(Got10kSplit::VotTrain),
            "GOT10K_votval" => Self::Got10k(Got10kSplit::VotVal),
            "GOT10K_train_full" => Self::Got10k(Got10kSplit::TrainFull),
            "LASOT" => Self::Lasot,
            "COCO17" => Self::Coco17,
            "TRACKINGNET" => Self::TrackingNet,
            _ => {
                return Err(DataError::UnknownDataset {
                    name: name.into(),
                    expected: KNOWN_NAMES,
                });
            }
        })
    }
}

/// Dataset locations on this machine and the split lists to use.
#[derive(Clone, Debug, Default)]
pub struct DatasetRoots {
    /// The GOT-10k folder (containing `train/`) or its train folder.
    pub got10k: Option<PathBuf>,
    /// Split list for `GOT10K_vottrain` (indices or names, one per line).
    pub got10k_vottrain_split: Option<PathBuf>,
    /// Split list for `GOT10K_votval`.
    pub got10k_votval_split: Option<PathBuf>,
    /// Split list for `GOT10K_train_full`; without it the whole train folder.
    pub got10k_train_full_split: Option<PathBuf>,
    /// The LaSOT folder of class folders.
    pub lasot: Option<PathBuf>,
    /// LaSOT training split list (sequence names); without it every sequence.
    pub lasot_split: Option<PathBuf>,
    /// The COCO folder containing `annotations/`.
    pub coco: Option<PathBuf>,
    /// COCO split name; `train2017` when unset.
    pub coco_split: Option<String>,
    /// The TrackingNet folder containing the `TRAIN_<k>` chunks.
    pub trackingnet: Option<PathBuf>,
    /// TrackingNet chunk numbers; every chunk found when unset.
    pub trackingnet_chunks: Option<Vec<u32>>,
}

/// Opens the named datasets in order.
pub fn open_datasets(
    names: &[impl AsRef<str>],
    roots: &DatasetRoots,
) -> Result<Vec<Arc<dyn TrackingDataset>>> {
    names
        .iter()
        .map(|name| open_dataset(name.as_ref().parse()?, roots))
        .collect()
}

fn open_dataset(name: DatasetName, roots: &DatasetRoots) -> Result<Arc<dyn TrackingDataset>> {
    let missing_root = |field: &'static str| DataError::InvalidParameter {
        name: field,
        message: format!("dataset {name:?} is requested but its root folder is not set"),
    };
    Ok(match name {
        DatasetName::Got10k(split) => {
            let root = roots
                .got10k
                .as_deref()
                .ok_or_else(|| missing_root("got10k"))?;
            let split_file = match split {
                Got10kSplit::VotTrain => roots.got10k_vottrain_split.as_deref(),
                Got10kSplit::VotVal => roots.got10k_votval_split.as_deref(),
                Got10kSplit::TrainFull => roots.got10k_train_full_split.as_deref(),
            };
            Arc::new(Got10k::open(root, split, split_file)?)
        }
        DatasetName::Lasot => {
            let root = roots
                .lasot
                .as_deref()
                .ok_or_else(|| missing_root("lasot"))?;
            Arc::new(Lasot::open(root, roots.lasot_split.as_deref())?)
        }
        DatasetName::Coco17 => {
            let root = roots.coco.as_deref().ok_or_else(|| missing_root("coco"))?;
            let split = roots.coco_split.as_deref().unwrap_or("train2017");
            Arc::new(Coco::open(root, split)?)
        }
        DatasetName::TrackingNet => {
            let root = roots
                .trackingnet
                .as_deref()
                .ok_or_else(|| missing_root("trackingnet"))?;
            Arc::new(TrackingNet::open(
                root,
                roots.trackingnet_chunks.as_deref(),
            )?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_like_experiment_files() {
        assert_eq!(
            "GOT10K_vottrain".parse::<DatasetName>().unwrap(),
            DatasetName::Got10k(Got10kSplit::VotTrain)
        );
        assert_eq!("LASOT".parse::<DatasetName>().unwrap(), DatasetName::Lasot);
        let message = "VID".parse::<DatasetName>().unwrap_err().to_string();
        assert!(
            message.starts_with("unknown dataset name \"VID\""),
            "{message}"
        );
    }

    #[test]
    fn missing_root_is_reported() {
        let message = match open_datasets(&["LASOT"], &DatasetRoots::default()) {
            Ok(_) => panic!("opening without a root succeeded"),
            Err(error) => error.to_string(),
        };
        assert!(message.contains("root folder is not set"), "{message}");
    }
}
