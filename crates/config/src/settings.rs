//! Per-machine settings: dataset roots and output folders, kept out of the experiments.
//!
//! They live in `local.yaml` at the workspace root, which git ignores; the
//! environment variable `MIXFORMER_LOCAL_SETTINGS` names another file.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::data::DatasetName;
use crate::error::SettingsError;

/// Environment variable that overrides the location of the local settings file.
pub const SETTINGS_ENV: &str = "MIXFORMER_LOCAL_SETTINGS";

/// A folder that the local settings file can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Folder {
    /// GOT-10k root, containing `train/`.
    Got10k,
    /// GOT-10k test set, containing `list.txt` and one folder per sequence.
    Got10kTest,
    /// LaSOT root, containing one folder per class.
    Lasot,
    /// TrackingNet root, containing the `TRAIN_<k>` chunks.
    TrackingNet,
    /// COCO 2017 root, containing `images/` and `annotations/`.
    Coco,
    /// OTB root, containing one folder per sequence.
    Otb,
    /// UAV123 root, containing `data_seq/` and `anno/`.
    Uav123,
    /// VOT root, containing one folder per sequence.
    Vot,
    /// Output root: checkpoints go to `checkpoints/`, logs to `logs/`.
    Save,
    /// Tracking results for evaluation.
    Results,
    /// Downloaded weights, such as the MAE ViT checkpoints.
    Pretrained,
}

impl Folder {
    /// Every folder, in the order of the settings file.
    pub const ALL: [Folder; 11] = [
        Self::Got10k,
        Self::Got10kTest,
        Self::Lasot,
        Self::TrackingNet,
        Self::Coco,
        Self::Otb,
        Self::Uav123,
        Self::Vot,
        Self::Save,
        Self::Results,
        Self::Pretrained,
    ];

    /// Returns the folder's key in the settings file.
    pub fn key(self) -> &'static str {
        match self {
            Self::Got10k => "got10k_dir",
            Self::Got10kTest => "got10k_test_dir",
            Self::Lasot => "lasot_dir",
            Self::TrackingNet => "trackingnet_dir",
            Self::Coco => "coco_dir",
            Self::Otb => "otb_dir",
            Self::Uav123 => "uav123_dir",
            Self::Vot => "vot_dir",
            Self::Save => "save_dir",
            Self::Results => "results_dir",
            Self::Pretrained => "pretrained_dir",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Got10k => "GOT-10k, the folder containing train/",
            Self::Got10kTest => "GOT-10k test set, the folder containing list.txt",
            Self::Lasot => "LaSOT, the folder containing one folder per class",
            Self::TrackingNet => "TrackingNet, the folder containing TRAIN_0, TRAIN_1, ...",
            Self::Coco => "COCO 2017, the folder containing images/ and annotations/",
            Self::Otb => "OTB, the folder containing one folder per sequence",
            Self::Uav123 => "UAV123, the folder containing data_seq/ and anno/",
            Self::Vot => "VOT, the folder containing one folder per sequence",
            Self::Save => "checkpoints/ and logs/ are written here",
            Self::Results => "tracking results are written here",
            Self::Pretrained => "downloaded weights, such as mae_pretrain_vit_base.pth",
        }
    }

    /// Returns the template's value for a folder that the caller leaves unset.
    fn placeholder(self) -> Option<&'static str> {
        match self {
            Self::Save => Some("output"),
            Self::Results => Some("output/results"),
            Self::Pretrained => Some("checkpoints"),
            _ => None,
        }
    }

    /// Returns the folder that contains a training dataset.
    pub fn for_dataset(name: DatasetName) -> Folder {
        match name {
            DatasetName::Got10kVotTrain
            | DatasetName::Got10kVotVal
            | DatasetName::Got10kTrainFull => Self::Got10k,
            DatasetName::Lasot => Self::Lasot,
            DatasetName::TrackingNet => Self::TrackingNet,
            DatasetName::Coco17 | DatasetName::Coco17Val => Self::Coco,
            DatasetName::Otb => Self::Otb,
            DatasetName::Uav123 => Self::Uav123,
            DatasetName::Vot => Self::Vot,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    got10k_dir: Option<PathBuf>,
    got10k_test_dir: Option<PathBuf>,
    lasot_dir: Option<PathBuf>,
    trackingnet_dir: Option<PathBuf>,
    coco_dir: Option<PathBuf>,
    otb_dir: Option<PathBuf>,
    uav123_dir: Option<PathBuf>,
    vot_dir: Option<PathBuf>,
    save_dir: Option<PathBuf>,
    results_dir: Option<PathBuf>,
    pretrained_dir: Option<PathBuf>,
}

impl SettingsFile {
    fn into_folders(self) -> [(Folder, Option<PathBuf>); 11] {
        [
            (Folder::Got10k, self.got10k_dir),
            (Folder::Got10kTest, self.got10k_test_dir),
            (Folder::Lasot, self.lasot_dir),
            (Folder::TrackingNet, self.trackingnet_dir),
            (Folder::Coco, self.coco_dir),
            (Folder::Otb, self.otb_dir),
            (Folder::Uav123, self.uav123_dir),
            (Folder::Vot, self.vot_dir),
            (Folder::Save, self.save_dir),
            (Folder::Results, self.results_dir),
            (Folder::Pretrained, self.pretrained_dir),
        ]
    }
}

/// The local settings of this machine, with every path resolved against the file's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalSettings {
    file: PathBuf,
    folders: Vec<(Folder, PathBuf)>,
}

impl LocalSettings {
    /// Returns the settings file: `MIXFORMER_LOCAL_SETTINGS` when set, else `local.yaml`
    /// at the root of the workspace this crate was built in.
    pub fn default_path() -> PathBuf {
        match std::env::var_os(SETTINGS_ENV) {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => workspace_root().join("local.yaml"),
        }
    }

    /// Loads the file at [`LocalSettings::default_path`].
    pub fn load_default() -> Result<Self, SettingsError> {
        Self::load(Self::default_path())
    }

    /// Loads a settings file, rejecting unknown keys and resolving relative
    /// paths against the file's folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let parse_error = |message: String| SettingsError::Parse {
            path: path.to_owned(),
            message,
        };

        let mut value: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|error| parse_error(format!("invalid YAML: {error}")))?;
        if value.is_null() {
            value = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
        }
        let file: SettingsFile = serde_path_to_error::deserialize(value).map_err(|error| {
            let message = error.inner().to_string();
            match error.path().to_string().as_str() {
                "." => parse_error(message),
                key => parse_error(format!("{key}: {message}")),
            }
        })?;

        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let base = fs::canonicalize(parent).unwrap_or_else(|_| parent.to_owned());
        let folders = file
            .into_folders()
            .into_iter()
            .filter_map(|(folder, value)| value.map(|value| (folder, base.join(value))))
            .collect();
        Ok(Self {
            file: path.to_owned(),
            folders,
        })
    }

    /// Returns the file the settings were read from.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Returns the path set for `folder`, or an error naming the missing key.
    pub fn folder(&self, folder: Folder) -> Result<&Path, SettingsError> {
        self.folders
            .iter()
            .find(|(set, _)| *set == folder)
            .map(|(_, path)| path.as_path())
            .ok_or_else(|| SettingsError::NotSet {
                path: self.file.clone(),
                key: folder.key(),
            })
    }

    /// Returns the root of a training dataset.
    pub fn dataset_root(&self, name: DatasetName) -> Result<&Path, SettingsError> {
        self.folder(Folder::for_dataset(name))
    }

    /// Returns the output root (`save_dir`).
    pub fn save_dir(&self) -> Result<&Path, SettingsError> {
        self.folder(Folder::Save)
    }

    /// Returns the folder where checkpoints are written and read, `<save_dir>/checkpoints`.
    pub fn checkpoints_dir(&self) -> Result<PathBuf, SettingsError> {
        Ok(self.save_dir()?.join("checkpoints"))
    }

    /// Returns the folder for tracking results (`results_dir`).
    pub fn results_dir(&self) -> Result<&Path, SettingsError> {
        self.folder(Folder::Results)
    }

    /// Returns the folder of downloaded weights (`pretrained_dir`).
    pub fn pretrained_dir(&self) -> Result<&Path, SettingsError> {
        self.folder(Folder::Pretrained)
    }
}

/// Returns the workspace root, two folders above this crate's manifest.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .unwrap_or(manifest)
        .to_owned()
}

/// Folders of the sample data under its root, for [`settings_template`].
const SAMPLE_DATA_FOLDERS: [(Folder, &str); 4] = [
    (Folder::Coco, "coco"),
    (Folder::Otb, "sot/otb"),
    (Folder::Uav123, "sot/uav123"),
    (Folder::Vot, "sot/vot"),
];

/// Writes the text of a commented settings file.
///
/// With `sample_data`, the COCO, OTB, UAV123 and VOT roots point into that
/// folder, written as given (relative to the settings file's folder, or
/// absolute). Other dataset roots are left commented out, and the output
/// folders default to `output`, `output/results` and `checkpoints`.
pub fn settings_template(sample_data: Option<&Path>) -> String {
    let mut text = String::from(
        "# Local settings of this machine: dataset roots and output folders.\n\
         # Experiment files never contain paths of a machine; they go here.\n\
         # Relative paths are resolved against the folder of this file.\n\
         # A key left commented out is unset, and a command that needs it stops\n\
         # with an error naming it.\n",
    );
    for folder in Folder::ALL {
        if folder == Folder::Got10k {
            text.push_str("\n# Dataset roots\n");
        }
        if folder == Folder::Save {
            text.push_str("\n# Outputs and weights\n");
        }
        let sample = sample_data.and_then(|root| {
            SAMPLE_DATA_FOLDERS
                .iter()
                .find(|(sample_folder, _)| *sample_folder == folder)
                .map(|(_, relative)| root.join(relative))
        });
        let value = sample.or_else(|| folder.placeholder().map(PathBuf::from));
        let _ = writeln!(text, "# {}", folder.description());
        match value {
            Some(value) => {
                let _ = writeln!(text, "{}: {}", folder.key(), quote(&value));
            }
            None => {
                let _ = writeln!(text, "# {}: /path/to/folder", folder.key());
            }
        }
    }
    text
}

/// Writes [`settings_template`] to `path`; an existing file is kept unless `overwrite`.
pub fn write_settings_template(
    path: &Path,
    sample_data: Option<&Path>,
    overwrite: bool,
) -> Result<(), SettingsError> {
    let write_error = |source| SettingsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            SettingsError::AlreadyExists {
                path: path.to_owned(),
            }
        } else {
            write_error(source)
        }
    })?;
    file.write_all(settings_template(sample_data).as_bytes())
        .map_err(write_error)
}

/// Quotes a path as a YAML double-quoted scalar.
fn quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}
