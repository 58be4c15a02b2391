//! The architecture of a MixFormer model, resolved from an experiment config.

use mixformer_config::{Architecture, HeadType};

use crate::ModelError;

/// Kind of box head on top of the backbone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// Corner head on the search tokens at stride 16 (`HEAD_TYPE: CORNER`).
    Corner {
        /// Channels of the first convolution unit (`MODEL.HEAD_DIM`).
        channels: usize,
    },
    /// Corner head with the up-sampling path, stride 4 (`HEAD_TYPE: CORNER_UP`).
    CornerUp {
        /// Channels of the first convolution unit (`MODEL.HEAD_DIM`).
        channels: usize,
    },
    /// Distribution head on the four prediction tokens (`HEAD_TYPE: MLP`).
    Distribution {
        /// Number of bins per side (`MODEL.FEAT_SZ`).
        bins: usize,
    },
}

/// Architecture of the teacher (MixFormer-ViT) and student (MixFormerV2) models.
///
/// Every size in the model comes from here; nothing is hard-coded.
#[derive(Debug, Clone, PartialEq)]
pub struct VitConfig {
    /// Token width `D`.
    pub embed_dim: usize,
    /// Number of transformer blocks.
    pub depth: usize,
    /// Attention heads per block.
    pub num_heads: usize,
    /// MLP hidden width as a multiple of `embed_dim`.
    pub mlp_ratio: f64,
    /// Side of the square patches (16 for every published model).
    pub patch_size: usize,
    /// Side of the template and online-template crops in pixels.
    pub template_size: usize,
    /// Side of the search crop in pixels.
    pub search_size: usize,
    /// Box head.
    pub head: HeadKind,
    /// Whether the model has the score head of the online stage.
    pub score_head: bool,
    /// Largest stochastic-depth rate; block `i` of `n` uses `rate * i / (n - 1)`.
    pub drop_path_rate: f64,
    /// LayerNorm epsilon of the backbone (1e-6 in the reference).
    pub layer_norm_eps: f64,
}

impl VitConfig {
    /// The MixFormer-ViT-B teacher with the `CORNER_UP` head (288 px search).
    pub fn teacher_base() -> Self {
        Self {
            embed_dim: 768,
            depth: 12,
            num_heads: 12,
            mlp_ratio: 4.0,
            patch_size: 16,
            template_size: 128,
            search_size: 288,
            head: HeadKind::CornerUp { channels: 384 },
            score_head: false,
            drop_path_rate: 0.1,
            layer_norm_eps: 1e-6,
        }
    }

    /// MixFormerV2-B: depth 8, 288 px search, 72 bins, with the score head.
    pub fn student_base() -> Self {
        Self {
            depth: 8,
            head: HeadKind::Distribution { bins: 72 },
            score_head: true,
            ..Self::teacher_base()
        }
    }

    /// MixFormerV2-S: depth 4, MLP ratio 1, 224 px search, 112 px template, 56 bins.
    pub fn student_small() -> Self {
        Self {
            depth: 4,
            mlp_ratio: 1.0,
            template_size: 112,
            search_size: 224,
            head: HeadKind::Distribution { bins: 56 },
            ..Self::student_base()
        }
    }

    /// Checks that the sizes fit together, so that building the model cannot panic.
    pub fn validate(&self) -> Result<(), ModelError> {
        let invalid = |reason: String| Err(ModelError::InvalidConfig(reason));
        if self.embed_dim == 0 || self.depth == 0 || self.num_heads == 0 || self.patch_size == 0 {
            return invalid(format!(
                "embed_dim ({}), depth ({}), num_heads ({}) and patch_size ({}) must be positive",
                self.embed_dim, self.depth, self.num_heads, self.patch_size
            ));
        }
        if !self.embed_dim.is_multiple_of(4) {
            return invalid(format!(
                "embed_dim {} must be a multiple of 4 for the sine-cosine tables",
                self.embed_dim
            ));
        }
        if self.score_head && !self.has_prediction_tokens() {
            return invalid(
                "the score head reads the prediction tokens, which only the MLP head has".into(),
            );
        }
        if !self.embed_dim.is_multiple_of(self.num_heads) {
            return invalid(format!(
                "embed_dim {} is not divisible by num_heads {}",
                self.embed_dim, self.num_heads
            ));
        }
        for (name, size) in [
            ("template", self.template_size),
            ("search", self.search_size),
        ] {
            if size == 0 || !size.is_multiple_of(self.patch_size) {
                return invalid(format!(
                    "{name} size {size} is not a positive multiple of the patch size {}",
                    self.patch_size
                ));
            }
        }
        if !(self.mlp_ratio > 0.0 && self.mlp_ratio.is_finite()) || self.mlp_hidden_dim() == 0 {
            return invalid(format!(
                "mlp_ratio {} gives no hidden units",
                self.mlp_ratio
            ));
        }
        if !(0.0..1.0).contains(&self.drop_path_rate) {
            return invalid(format!(
                "drop_path_rate {} is outside [0, 1)",
                self.drop_path_rate
            ));
        }
        match self.head {
            HeadKind::Corner { channels } | HeadKind::CornerUp { channels } => {
                if channels < 8 || !channels.is_multiple_of(8) {
                    return invalid(format!(
                        "corner head channels {channels} must be a positive multiple of 8"
                    ));
                }
            }
            HeadKind::Distribution { bins } => {
                if bins == 0 || !self.search_size.is_multiple_of(bins) {
                    return invalid(format!(
                        "{bins} bins do not divide the search size {}; the reference uses \
                         search size / 4 = {}",
                        self.search_size,
                        self.search_size / 4
                    ));
                }
            }
        }
        Ok(())
    }

    /// Head width `D / num_heads`.
    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.num_heads
    }

    /// Hidden width of each block's MLP, `int(D * mlp_ratio)` as in the reference.
    pub fn mlp_hidden_dim(&self) -> usize {
        (self.embed_dim as f64 * self.mlp_ratio) as usize
    }

    /// Side of the template token grid.
    pub fn template_grid(&self) -> usize {
        self.template_size / self.patch_size
    }

    /// Side of the search token grid.
    pub fn search_grid(&self) -> usize {
        self.search_size / self.patch_size
    }

    /// Tokens of one template image.
    pub fn template_tokens(&self) -> usize {
        self.template_grid() * self.template_grid()
    }

    /// Tokens of the search image.
    pub fn search_tokens(&self) -> usize {
        self.search_grid() * self.search_grid()
    }

    /// Whether the backbone carries the four prediction tokens (the student does).
    pub fn has_prediction_tokens(&self) -> bool {
        matches!(self.head, HeadKind::Distribution { .. })
    }

    /// Stochastic-depth rate of each block, rising linearly from 0 to `drop_path_rate`.
    pub fn drop_path_rates(&self) -> Vec<f64> {
        if self.depth == 1 {
            return vec![0.0];
        }
        (0..self.depth)
            .map(|i| self.drop_path_rate * i as f64 / (self.depth - 1) as f64)
            .collect()
    }
}

impl From<&Architecture> for VitConfig {
    /// The model of an experiment config, with the backbone's LayerNorm epsilon of
    /// the reference (1e-6).
    fn from(architecture: &Architecture) -> Self {
        let head = match architecture.head_type {
            HeadType::Corner => HeadKind::Corner {
                channels: architecture.head_dim,
            },
            HeadType::CornerUp => HeadKind::CornerUp {
                channels: architecture.head_dim,
            },
            HeadType::Mlp => HeadKind::Distribution {
                bins: architecture.feat_sz,
            },
        };
        Self {
            embed_dim: architecture.embed_dim,
            depth: architecture.depth,
            num_heads: architecture.num_heads,
            mlp_ratio: architecture.mlp_ratio,
            patch_size: architecture.patch_size,
            template_size: architecture.template_size,
            search_size: architecture.search_size,
            head,
            score_head: architecture.score_head,
            drop_path_rate: architecture.drop_path_rate,
            layer_norm_eps: 1e-6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(config: VitConfig) -> String {
        match config.validate() {
            Err(error) => error.to_string(),
            Ok(()) => panic!("{config:?} was accepted"),
        }
    }

    #[test]
    fn presets_are_valid() {
        for config in [
            VitConfig::teacher_base(),
            VitConfig::student_base(),
            VitConfig::student_small(),
        ] {
            assert!(config.validate().is_ok(), "{config:?}");
        }
    }

    #[test]
    fn validate_rejects_unbuildable_sizes() {
        let base = VitConfig::student_base();
        let message = rejection(VitConfig {
            embed_dim: 770,
            num_heads: 10,
            ..base.clone()
        });
        assert!(
            message.contains("embed_dim 770 must be a multiple of 4"),
            "{message}"
        );

        let message = rejection(VitConfig {
            search_size: 290,
            ..base.clone()
        });
        assert!(message.contains("search size 290"), "{message}");

        let message = rejection(VitConfig {
            head: HeadKind::Distribution { bins: 100 },
            ..base.clone()
        });
        assert!(
            message.contains("100 bins do not divide the search size 288"),
            "{message}"
        );

        let message = rejection(VitConfig {
            head: HeadKind::CornerUp { channels: 384 },
            ..base
        });
        assert!(
            message.contains("score head reads the prediction tokens"),
            "{message}"
        );
    }
}
