//! The evaluation datasets: names on the command line, roots, readers, result
//! layouts and update-interval keys.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;
use mixformer_analysis::Benchmark;
use mixformer_config::{Folder, LocalSettings, SettingsError};
use mixformer_data::{
    Got10kEval, InMemoryDataset, Lasot, Otb, Sequence, TrackingDataset, TrackingNet, Uav123, Vot,
    read_folder_sequence,
};

use crate::cli::DatasetArgs;
use crate::error::EvalError;

/// Names listed when `--sequence` names a sequence that does not exist.
const LISTED_NAMES: usize = 10;

/// A dataset `eval` can track on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalDataset {
    /// OTB-100: `<seq>/{img/, groundtruth_rect.txt}`.
    Otb,
    /// UAV123: `anno/<subset>/<seq>.txt`, `data_seq/<subset>/<seq>/`.
    Uav123,
    /// VOT sequences, tracked without resets (one-pass evaluation).
    Vot,
    /// GOT-10k test split; only the first box is public.
    #[value(name = "got10k_test")]
    Got10kTest,
    /// GOT-10k validation split.
    #[value(name = "got10k_val")]
    Got10kVal,
    /// LaSOT: `<class>/<class>-<n>/`.
    Lasot,
    /// TrackingNet test chunk (`TEST/`); only the first box is public.
    Trackingnet,
    /// A folder of frames with a box on the first frame (`--init-box`).
    Folder,
}

impl EvalDataset {
    /// Returns the command-line spelling, which is also the dataset's folder in the results path.
    pub fn key(self) -> &'static str {
        match self {
            Self::Otb => "otb",
            Self::Uav123 => "uav123",
            Self::Vot => "vot",
            Self::Got10kTest => "got10k_test",
            Self::Got10kVal => "got10k_val",
            Self::Lasot => "lasot",
            Self::Trackingnet => "trackingnet",
            Self::Folder => "folder",
        }
    }

    /// Returns the key looked up in `TEST.UPDATE_INTERVALS`, which is the command-line
    /// name in upper case (`GOT10K_TEST`, `LASOT`), as the reference tracker upper-cases
    /// its dataset name.
    pub fn update_interval_key(self) -> String {
        self.key().to_ascii_uppercase()
    }

    /// Returns the benchmark whose result layout and metrics apply.
    pub fn benchmark(self) -> Benchmark {
        match self {
            Self::Otb => Benchmark::Otb,
            Self::Uav123 => Benchmark::Uav123,
            Self::Got10kTest | Self::Got10kVal => Benchmark::Got10k,
            Self::Lasot => Benchmark::Lasot,
            Self::Trackingnet => Benchmark::TrackingNet,
            Self::Vot | Self::Folder => Benchmark::Other,
        }
    }

    /// Tells whether every frame has public ground truth, so results can be analysed here.
    pub fn has_ground_truth(self) -> bool {
        !matches!(self, Self::Got10kTest | Self::Trackingnet | Self::Folder)
    }

    /// Returns the local settings key of the dataset's root, `None` for a plain folder.
    fn settings_folder(self) -> Option<Folder> {
        match self {
            Self::Otb => Some(Folder::Otb),
            Self::Uav123 => Some(Folder::Uav123),
            Self::Vot => Some(Folder::Vot),
            Self::Got10kTest => Some(Folder::Got10kTest),
            Self::Got10kVal => Some(Folder::Got10k),
            Self::Lasot => Some(Folder::Lasot),
            Self::Trackingnet => Some(Folder::TrackingNet),
            Self::Folder => None,
        }
    }
}

impl fmt::Display for EvalDataset {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Otb => "OTB",
            Self::Uav123 => "UAV123",
            Self::Vot => "VOT",
            Self::Got10kTest => "GOT-10k test",
            Self::Got10kVal => "GOT-10k val",
            Self::Lasot => "LaSOT",
            Self::Trackingnet => "TrackingNet",
            Self::Folder => "folder",
        };
        formatter.write_str(name)
    }
}

/// Loads the local settings file named on the command line, or the default one.
pub fn load_settings(path: Option<&Path>) -> Result<LocalSettings, SettingsError> {
    match path {
        Some(path) => LocalSettings::load(path),
        None => LocalSettings::load_default(),
    }
}

/// Opens the dataset of `args` and returns its sequences in dataset order,
/// restricted to `--sequence` when given.
pub fn open_sequences(args: &DatasetArgs) -> Result<Vec<Arc<Sequence>>, EvalError> {
    let dataset = open_dataset(args)?;
    let indices = select_sequences(dataset.as_ref(), args)?;
    indices
        .into_iter()
        .map(|index| dataset.sequence(index).map_err(EvalError::from))
        .collect()
}

/// Returns the names of the dataset's sequences, restricted to `--sequence`
/// when given, without reading their annotations.
pub fn sequence_names(args: &DatasetArgs) -> Result<Vec<String>, EvalError> {
    let dataset = open_dataset(args)?;
    let indices = select_sequences(dataset.as_ref(), args)?;
    Ok(indices
        .into_iter()
        .map(|index| dataset.sequence_name(index).to_owned())
        .collect())
}

fn open_dataset(args: &DatasetArgs) -> Result<Box<dyn TrackingDataset>, EvalError> {
    let root = dataset_root(args)?;
    Ok(match args.dataset {
        EvalDataset::Otb => Box::new(Otb::open(&root)?),
        EvalDataset::Uav123 => {
            let subset = match &args.subset {
                Some(subset) => subset.clone(),
                None => find_uav123_subset(&root)?,
            };
            Box::new(Uav123::open(&root, &subset)?)
        }
        EvalDataset::Vot => Box::new(Vot::open(&root)?),
        EvalDataset::Got10kTest => Box::new(open_got10k_split(&root, "test")?),
        EvalDataset::Got10kVal => Box::new(open_got10k_split(&root, "val")?),
        EvalDataset::Lasot => Box::new(Lasot::open(&root, args.split_file.as_deref())?),
        EvalDataset::Trackingnet => Box::new(TrackingNet::open_test(&root)?),
        EvalDataset::Folder => {
            let init_box = args.init_box.ok_or(EvalError::FolderArguments {
                missing: "--init-box X,Y,W,H",
            })?;
            let sequence = read_folder_sequence(&root, init_box)?;
            Box::new(InMemoryDataset::new("folder", vec![sequence])?)
        }
    })
}

/// Returns `--root`, or the dataset's folder from the local settings.
fn dataset_root(args: &DatasetArgs) -> Result<PathBuf, EvalError> {
    if let Some(root) = &args.root {
        return Ok(root.clone());
    }
    let folder = args
        .dataset
        .settings_folder()
        .ok_or(EvalError::FolderArguments {
            missing: "--root DIR",
        })?;
    let settings_error = |source| EvalError::Settings {
        source,
        flag: "--root DIR",
    };
    let settings = load_settings(args.settings.as_deref()).map_err(settings_error)?;
    let root = settings.folder(folder).map_err(settings_error)?;
    Ok(root.to_owned())
}

/// Indices of the sequences named by `--sequence`, in the order given, or
/// every index when none is named.
fn select_sequences(
    dataset: &dyn TrackingDataset,
    args: &DatasetArgs,
) -> Result<Vec<usize>, EvalError> {
    if args.sequences.is_empty() {
        return Ok((0..dataset.len()).collect());
    }
    let mut indices = Vec::with_capacity(args.sequences.len());
    let mut unknown = Vec::new();
    for name in &args.sequences {
        match (0..dataset.len()).find(|&index| dataset.sequence_name(index) == name) {
            Some(index) if !indices.contains(&index) => indices.push(index),
            Some(_) => {}
            None => unknown.push(name.clone()),
        }
    }
    if !unknown.is_empty() {
        let available: Vec<&str> = (0..dataset.len().min(LISTED_NAMES))
            .map(|index| dataset.sequence_name(index))
            .collect();
        let more = dataset.len().saturating_sub(LISTED_NAMES);
        let mut available = available.join(", ");
        if more > 0 {
            available.push_str(&format!(" and {more} more"));
        }
        return Err(EvalError::UnknownSequences {
            dataset: args.dataset.to_string(),
            names: unknown,
            available,
        });
    }
    Ok(indices)
}

/// Picks `UAV123` when present, otherwise the only subset folder under `anno/`.
fn find_uav123_subset(root: &Path) -> Result<String, EvalError> {
    let anno_dir = root.join("anno");
    if anno_dir.join("UAV123").is_dir() {
        return Ok("UAV123".to_owned());
    }
    let entries = std::fs::read_dir(&anno_dir).map_err(|source| EvalError::Io {
        path: anno_dir.clone(),
        source,
    })?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| EvalError::Io {
            path: anno_dir.clone(),
            source,
        })?;
        if entry.path().is_dir() {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found.sort();
    match found.as_slice() {
        [only] => Ok(only.clone()),
        _ => Err(EvalError::Uav123Subset { anno_dir, found }),
    }
}

/// Opens a GOT-10k split from the split folder itself (it contains
/// `list.txt`) or from its parent.
fn open_got10k_split(root: &Path, split: &'static str) -> Result<Got10kEval, EvalError> {
    let split_dir = if root.join("list.txt").is_file() {
        root.to_path_buf()
    } else {
        root.join(split)
    };
    if !split_dir.join("list.txt").is_file() {
        return Err(EvalError::Got10kSplit {
            split,
            root: root.to_path_buf(),
            expected: split_dir,
        });
    }
    let split_dir = std::fs::canonicalize(&split_dir).map_err(|source| EvalError::Io {
        path: split_dir.clone(),
        source,
    })?;
    let parent = split_dir.parent().unwrap_or(Path::new("/"));
    let name = split_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Got10kEval::open(parent, &name)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_interval_keys_are_upper_case_names() {
        assert_eq!(EvalDataset::Got10kTest.update_interval_key(), "GOT10K_TEST");
        assert_eq!(EvalDataset::Lasot.update_interval_key(), "LASOT");
        assert_eq!(
            EvalDataset::Trackingnet.update_interval_key(),
            "TRACKINGNET"
        );
    }

    #[test]
    fn only_got10k_uses_its_layout() {
        assert_eq!(EvalDataset::Got10kVal.benchmark(), Benchmark::Got10k);
        assert_eq!(EvalDataset::Got10kTest.benchmark(), Benchmark::Got10k);
        assert_eq!(EvalDataset::Vot.benchmark(), Benchmark::Other);
        assert_eq!(EvalDataset::Folder.benchmark(), Benchmark::Other);
    }

    #[test]
    fn command_line_names_match_keys() {
        for dataset in EvalDataset::value_variants() {
            let value = dataset.to_possible_value().expect("no variant is skipped");
            assert_eq!(value.get_name(), dataset.key());
        }
    }
}
