//! The experiment config and what later stages derive from it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::DataConfig;
use crate::error::{ConfigError, Problem, SettingsError};
use crate::model::ModelConfig;
use crate::script::Script;
use crate::settings::LocalSettings;
use crate::tracking::TestConfig;
use crate::train::TrainConfig;
use crate::{keys, validate};

/// One experiment: the script's defaults with an experiment file laid over them.
///
/// The sections contain the union of the four scripts' keys, and a key that a script
/// does not read is rejected when the file is loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentConfig {
    /// The training script the experiment belongs to.
    pub script: Script,
    /// The experiment's name: the file name without `.yaml`.
    pub name: String,
    /// The `MODEL` section.
    pub model: ModelConfig,
    /// The `DATA` section.
    pub data: DataConfig,
    /// The `TRAIN` section.
    pub train: TrainConfig,
    /// The `TEST` section.
    pub test: TestConfig,
}

/// The four sections as they appear in YAML.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sections {
    #[serde(rename = "MODEL")]
    model: ModelConfig,
    #[serde(rename = "DATA")]
    data: DataConfig,
    #[serde(rename = "TRAIN")]
    train: TrainConfig,
    #[serde(rename = "TEST")]
    test: TestConfig,
}

impl ExperimentConfig {
    /// Loads an experiment file of `script`, laid over [`Script::defaults`], and validates it.
    ///
    /// Keys the file leaves out keep the script's default; a list replaces the
    /// default list, and `TEST.UPDATE_INTERVALS` and `TEST.ONLINE_SIZES` are
    /// merged per dataset. Every error names the file and the key path.
    pub fn load(script: Script, path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::parse(script, name, path, &text)
    }

    fn parse(script: Script, name: String, path: &Path, text: &str) -> Result<Self, ConfigError> {
        let file: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|error| ConfigError::Syntax {
                path: path.to_owned(),
                message: error.to_string(),
            })?;

        let defaults = script.defaults().sections_value();
        keys::check_keys(script, path, &file, &defaults)?;
        let merged = keys::overlay(defaults, file);

        let sections: Sections = serde_path_to_error::deserialize(merged).map_err(|error| {
            ConfigError::InvalidValue {
                path: path.to_owned(),
                key: error.path().to_string(),
                message: error.inner().to_string(),
            }
        })?;
        let config = Self {
            script,
            name,
            model: sections.model,
            data: sections.data,
            train: sections.train,
            test: sections.test,
        };

        config.validate().map_err(|problems| ConfigError::Invalid {
            path: path.to_owned(),
            script: script.name().to_owned(),
            problems,
        })?;
        Ok(config)
    }

    /// Checks the rules that types cannot express (sizes, layer indices, list
    /// lengths, script-specific settings) and returns every rule broken.
    pub fn validate(&self) -> Result<(), Vec<Problem>> {
        let problems = validate::problems(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Writes the config as YAML with the reference's key spelling, leaving out
    /// the keys its script does not read, so that [`ExperimentConfig::load`]
    /// reads it back unchanged.
    pub fn to_yaml(&self) -> String {
        let mut value = self.sections_value();
        keys::remove_unread_keys(self.script, &mut value);
        // A YAML value with string keys always has a text form, so writing cannot fail.
        serde_yaml::to_string(&value).expect("a config value always serializes to YAML")
    }

    fn sections_value(&self) -> serde_yaml::Value {
        let sections = Sections {
            model: self.model.clone(),
            data: self.data.clone(),
            train: self.train.clone(),
            test: self.test.clone(),
        };
        serde_yaml::to_value(sections).expect("a config value always converts to a YAML value")
    }

    /// Returns the experiment's name as the reference spells it, `<script>/<config>`,
    /// for example `mixformer2_vit_stu/student_288_depth8`.
    pub fn experiment_name(&self) -> String {
        format!("{}/{}", self.script.name(), self.name)
    }

    /// Returns the frames between online-template updates when tracking on `dataset`.
    ///
    /// The name is matched against `TEST.UPDATE_INTERVALS` ignoring case. A
    /// dataset the config does not name uses `DATA.MAX_SAMPLE_INTERVAL`, as the
    /// reference's trackers do (200 in every published experiment).
    pub fn update_interval(&self, dataset: &str) -> usize {
        self.test
            .update_intervals
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(dataset))
            .map(|(_, interval)| *interval)
            .unwrap_or(self.data.max_sample_interval)
    }

    /// Returns the epoch of the checkpoint that evaluation loads: `TEST.EPOCH`,
    /// or `TRAIN.EPOCH` when unset.
    pub fn test_epoch(&self) -> usize {
        self.test.epoch.unwrap_or(self.train.epoch)
    }

    /// Returns the folder of this experiment's checkpoints,
    /// `<save_dir>/checkpoints/train/<script>/<config>`.
    pub fn checkpoint_dir(&self, settings: &LocalSettings) -> Result<PathBuf, SettingsError> {
        Ok(settings
            .checkpoints_dir()?
            .join("train")
            .join(self.script.name())
            .join(&self.name))
    }

    /// Resolves the weights to load before training, or `None` when
    /// `MODEL.BACKBONE.PRETRAINED` is false.
    ///
    /// An absolute `PRETRAINED_PATH` is used as it is. A relative one names a
    /// previous stage's checkpoint in `mixformer2_vit_stu`, resolved against
    /// `<save_dir>/checkpoints`, and pretrained ViT weights in the other
    /// scripts, resolved against `pretrained_dir`.
    pub fn pretrained_path(
        &self,
        settings: &LocalSettings,
    ) -> Result<Option<PathBuf>, SettingsError> {
        let backbone = &self.model.backbone;
        if !backbone.pretrained {
            return Ok(None);
        }
        if backbone.pretrained_path.is_absolute() {
            return Ok(Some(backbone.pretrained_path.clone()));
        }
        let base = match self.script {
            Script::Mixformer2VitStu => settings.checkpoints_dir()?,
            _ => settings.pretrained_dir()?.to_owned(),
        };
        Ok(Some(base.join(&backbone.pretrained_path)))
    }
}
