//! The four training scripts and the keys each of them reads.

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;
use crate::experiment::ExperimentConfig;

/// A training script of the reference, which fixes the model family and the
/// defaults that an experiment file is laid over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// `mixformer_vit`: the MixFormer-ViT teacher with a corner head (stage 0).
    MixformerVit,
    /// `mixformer2_vit`: the MixFormerV2 student distilled from the teacher (stage 1).
    Mixformer2Vit,
    /// `mixformer2_vit_stu`: layer removal and fine-tuning with feature distillation (stage 2).
    Mixformer2VitStu,
    /// `mixformer2_vit_online`: training of the score head (stage 3).
    Mixformer2VitOnline,
}

use Script::{Mixformer2Vit, Mixformer2VitOnline, Mixformer2VitStu, MixformerVit};

/// Keys that only some scripts read. Every other key of the union is read by all four.
///
/// Where the reference's per-script defaults define a key, the same scripts
/// accept it here, except `TRAIN.REMOVE_LAYERS`, which stage 1 defines but
/// cannot use (its model has no remove rate), and the keys this project adds.
const SCRIPT_SPECIFIC_KEYS: &[(&str, &[Script])] = &[
    ("MODEL.HEAD_DIM", &[MixformerVit]),
    (
        "MODEL.FEAT_SZ",
        &[Mixformer2Vit, Mixformer2VitStu, Mixformer2VitOnline],
    ),
    (
        "MODEL.PRETRAINED_STAGE1",
        &[MixformerVit, Mixformer2Vit, Mixformer2VitStu],
    ),
    ("MODEL.PRETRAINED_STATIC", &[Mixformer2VitOnline]),
    ("MODEL.BACKBONE.DEPTH_TEACHER", &[Mixformer2VitStu]),
    (
        "TRAIN.ATTN_WEIGHT",
        &[MixformerVit, Mixformer2VitStu, Mixformer2VitOnline],
    ),
    ("TRAIN.DISTILL_LAYER", &[MixformerVit]),
    (
        "TRAIN.FIND_UNUSED_PARAMETERS",
        &[Mixformer2Vit, Mixformer2VitStu],
    ),
    ("TRAIN.REMOVE_LAYERS", &[Mixformer2VitStu]),
    ("TRAIN.INVALID_LAYERS", &[Mixformer2VitStu]),
    ("TRAIN.DISTILL_LAYERS_STUDENT", &[Mixformer2VitStu]),
    ("TRAIN.DISTILL_LAYERS_TEACHER", &[Mixformer2VitStu]),
    ("TRAIN.REMOVE_EPOCHS", &[Mixformer2VitStu]),
];

impl Script {
    /// The four scripts, in training order.
    pub const ALL: [Script; 4] = [
        MixformerVit,
        Mixformer2Vit,
        Mixformer2VitStu,
        Mixformer2VitOnline,
    ];

    /// Returns the script's name, which is also its folder under `experiments/`.
    pub fn name(self) -> &'static str {
        match self {
            MixformerVit => "mixformer_vit",
            Mixformer2Vit => "mixformer2_vit",
            Mixformer2VitStu => "mixformer2_vit_stu",
            Mixformer2VitOnline => "mixformer2_vit_online",
        }
    }

    /// Tells whether the model has the four prediction tokens and the distribution
    /// head (MixFormerV2).
    pub fn has_prediction_tokens(self) -> bool {
        self != MixformerVit
    }

    /// Tells whether the model has the score head of the online stage.
    pub fn has_score_head(self) -> bool {
        self == Mixformer2VitOnline
    }

    /// Builds the defaults that an experiment file of this script is laid over.
    ///
    /// They are the reference's `lib/config/<script>/config.py` values except
    /// where those cannot work here (see `docs/config.md`). The config's name is
    /// `defaults` until it is loaded from a file.
    pub fn defaults(self) -> ExperimentConfig {
        crate::defaults::reference_defaults(self)
    }

    /// Tells whether an experiment file of this script may set `key` (a dotted path
    /// such as `TRAIN.REMOVE_LAYERS`), assuming the key exists in some script.
    pub(crate) fn reads_key(self, key: &str) -> bool {
        scripts_reading(key).is_none_or(|scripts| scripts.contains(&self))
    }
}

/// Returns the scripts that read `key`, or `None` when every script reads it.
pub(crate) fn scripts_reading(key: &str) -> Option<&'static [Script]> {
    SCRIPT_SPECIFIC_KEYS
        .iter()
        .find(|(specific, _)| *specific == key)
        .map(|(_, scripts)| *scripts)
}

impl fmt::Display for Script {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for Script {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|script| script.name() == name)
            .ok_or_else(|| ConfigError::UnknownScript {
                name: name.to_owned(),
            })
    }
}
