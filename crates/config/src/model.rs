//! The `MODEL` section: backbone size, box head and pretrained weights.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Backbone preset (`MODEL.VIT_TYPE`).
///
/// The sizes are those of the ViT-B/16 and ViT-L/16 models in the reference's
/// `get_mixformer_vit`; `MODEL.BACKBONE` can override each of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VitType {
    /// ViT-B/16: width 768, 12 blocks, 12 heads.
    #[serde(rename = "base_patch16")]
    BasePatch16,
    /// ViT-L/16: width 1024, 24 blocks, 16 heads.
    #[serde(rename = "large_patch16")]
    LargePatch16,
}

impl VitType {
    /// Token width `D` of the preset.
    pub fn embed_dim(self) -> usize {
        match self {
            Self::BasePatch16 => 768,
            Self::LargePatch16 => 1024,
        }
    }

    /// Number of transformer blocks of the preset.
    pub fn depth(self) -> usize {
        match self {
            Self::BasePatch16 => 12,
            Self::LargePatch16 => 24,
        }
    }

    /// Attention heads per block of the preset.
    pub fn num_heads(self) -> usize {
        match self {
            Self::BasePatch16 => 12,
            Self::LargePatch16 => 16,
        }
    }

    /// MLP hidden width as a multiple of the token width (4 for both presets).
    pub fn mlp_ratio(self) -> f64 {
        4.0
    }

    /// Side of the square patches in pixels (16 for both presets).
    pub fn patch_size(self) -> usize {
        16
    }

    /// Returns the YAML spelling, `base_patch16` or `large_patch16`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BasePatch16 => "base_patch16",
            Self::LargePatch16 => "large_patch16",
        }
    }
}

/// Box head on top of the backbone (`MODEL.HEAD_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeadType {
    /// Corner head on the search tokens at stride 16.
    #[serde(rename = "CORNER")]
    Corner,
    /// Corner head with the up-sampling path, stride 4 (the MixFormer-ViT teacher).
    #[serde(rename = "CORNER_UP")]
    CornerUp,
    /// Distribution head on the four prediction tokens (MixFormerV2).
    #[serde(rename = "MLP")]
    Mlp,
}

impl HeadType {
    /// Returns the YAML spelling, `CORNER`, `CORNER_UP` or `MLP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Corner => "CORNER",
            Self::CornerUp => "CORNER_UP",
            Self::Mlp => "MLP",
        }
    }
}

/// Positional embedding (`MODEL.POSITION_EMBEDDING`); only the fixed 2-D sine-cosine one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PositionEmbedding {
    /// Fixed 2-D sine-cosine table, never trained.
    #[serde(rename = "sine")]
    Sine,
}

/// The `MODEL` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Backbone preset (`VIT_TYPE`).
    #[serde(rename = "VIT_TYPE")]
    pub vit_type: VitType,
    /// Box head (`HEAD_TYPE`).
    #[serde(rename = "HEAD_TYPE")]
    pub head_type: HeadType,
    /// Input width of the heads (`HIDDEN_DIM`); it must equal the backbone's token width.
    #[serde(rename = "HIDDEN_DIM")]
    pub hidden_dim: usize,
    /// Channels of the corner head's first convolution (`HEAD_DIM`, `mixformer_vit` only).
    #[serde(rename = "HEAD_DIM")]
    pub head_dim: usize,
    /// Bins per side of the distribution head (`FEAT_SZ`, MixFormerV2 scripts only).
    #[serde(rename = "FEAT_SZ")]
    pub feat_sz: usize,
    /// Targets per search region (`NUM_OBJECT_QUERIES`); only 1 is supported.
    #[serde(rename = "NUM_OBJECT_QUERIES")]
    pub num_object_queries: usize,
    /// Positional embedding (`POSITION_EMBEDDING`); only `sine` is accepted.
    #[serde(rename = "POSITION_EMBEDDING")]
    pub position_embedding: PositionEmbedding,
    /// Mask prediction (`PREDICT_MASK`); not implemented, so it must be false.
    #[serde(rename = "PREDICT_MASK")]
    pub predict_mask: bool,
    /// Keeps the corner head's BatchNorm statistics frozen (`HEAD_FREEZE_BN`).
    /// The MLP head has no BatchNorm, so the MixFormerV2 scripts accept the key and ignore it.
    #[serde(rename = "HEAD_FREEZE_BN")]
    pub head_freeze_bn: bool,
    /// Ignored: the reference defines `PRETRAINED_STAGE1` but never reads it.
    #[serde(rename = "PRETRAINED_STAGE1")]
    pub pretrained_stage1: bool,
    /// Starts the score stage from the static model given on the command line
    /// (`PRETRAINED_STATIC`, `mixformer2_vit_online` only).
    #[serde(rename = "PRETRAINED_STATIC")]
    pub pretrained_static: bool,
    /// The `MODEL.BACKBONE` section.
    #[serde(rename = "BACKBONE")]
    pub backbone: BackboneConfig,
}

/// The `MODEL.BACKBONE` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackboneConfig {
    /// Number of blocks (`DEPTH`); unset means the `VIT_TYPE` preset's depth.
    #[serde(rename = "DEPTH")]
    pub depth: Option<usize>,
    /// Depth of the teacher and of the checkpoint that stage 2 starts from
    /// (`DEPTH_TEACHER`, `mixformer2_vit_stu` only).
    #[serde(rename = "DEPTH_TEACHER")]
    pub depth_teacher: usize,
    /// MLP hidden width as a multiple of the token width (`MLP_RATIO`); unset means 4.
    #[serde(rename = "MLP_RATIO")]
    pub mlp_ratio: Option<f64>,
    /// Token width override (`EMBED_DIM`); unset means the `VIT_TYPE` preset's width.
    #[serde(rename = "EMBED_DIM")]
    pub embed_dim: Option<usize>,
    /// Attention-head override (`NUM_HEADS`); unset means the `VIT_TYPE` preset's count.
    #[serde(rename = "NUM_HEADS")]
    pub num_heads: Option<usize>,
    /// Largest stochastic-depth rate, reached by the last block (`DROP_PATH_RATE`).
    #[serde(rename = "DROP_PATH_RATE")]
    pub drop_path_rate: f64,
    /// Loads `PRETRAINED_PATH` into the model before training (`PRETRAINED`).
    #[serde(rename = "PRETRAINED")]
    pub pretrained: bool,
    /// Weights to start from (`PRETRAINED_PATH`). A relative path is resolved
    /// by [`crate::ExperimentConfig::pretrained_path`].
    #[serde(rename = "PRETRAINED_PATH")]
    pub pretrained_path: PathBuf,
}
