//! The network's sizes, resolved from `VIT_TYPE`, its overrides and the crop sizes.

use crate::experiment::ExperimentConfig;
use crate::model::HeadType;

/// Every size the model builder needs, with presets and overrides resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Architecture {
    /// Token width `D`.
    pub embed_dim: usize,
    /// Number of transformer blocks.
    pub depth: usize,
    /// Attention heads per block.
    pub num_heads: usize,
    /// MLP hidden width as a multiple of `embed_dim`.
    pub mlp_ratio: f64,
    /// Side of the square patches in pixels.
    pub patch_size: usize,
    /// Side of the template and online-template crops in pixels.
    pub template_size: usize,
    /// Side of the search crop in pixels.
    pub search_size: usize,
    /// Box head.
    pub head_type: HeadType,
    /// Channels of the corner head's first convolution (`MODEL.HEAD_DIM`); the MLP head ignores it.
    pub head_dim: usize,
    /// Side of the corner heads' score map, or the MLP head's bins per side:
    /// `search_size / patch_size` for `CORNER`, `search_size / 4` for `CORNER_UP`, `MODEL.FEAT_SZ` for `MLP`.
    pub feat_sz: usize,
    /// Stochastic-depth rate of the last block; the rates rise linearly from 0 over the depth.
    pub drop_path_rate: f64,
    /// Whether the model carries the four prediction tokens (MixFormerV2 scripts).
    pub prediction_tokens: bool,
    /// Whether the model has the score head (`mixformer2_vit_online`).
    pub score_head: bool,
}

impl Architecture {
    /// Hidden width of each block's MLP, `embed_dim * mlp_ratio`.
    pub fn mlp_hidden_dim(&self) -> usize {
        (self.embed_dim as f64 * self.mlp_ratio).round() as usize
    }
}

impl ExperimentConfig {
    /// Resolves the network's sizes: `MODEL.BACKBONE` overrides first, then the `VIT_TYPE` preset.
    pub fn architecture(&self) -> Architecture {
        let vit = self.model.vit_type;
        let backbone = &self.model.backbone;
        let search_size = self.data.search.size;
        let head_type = self.model.head_type;
        let feat_sz = match head_type {
            HeadType::Corner => search_size / vit.patch_size(),
            HeadType::CornerUp => search_size / 4,
            HeadType::Mlp => self.model.feat_sz,
        };
        Architecture {
            embed_dim: backbone.embed_dim.unwrap_or(vit.embed_dim()),
            depth: backbone.depth.unwrap_or(vit.depth()),
            num_heads: backbone.num_heads.unwrap_or(vit.num_heads()),
            mlp_ratio: backbone.mlp_ratio.unwrap_or(vit.mlp_ratio()),
            patch_size: vit.patch_size(),
            template_size: self.data.template.size,
            search_size,
            head_type,
            head_dim: self.model.head_dim,
            feat_sz,
            drop_path_rate: backbone.drop_path_rate,
            prediction_tokens: self.script.has_prediction_tokens(),
            score_head: self.script.has_score_head(),
        }
    }
}
