//! The distribution head of MixFormerV2 on the four prediction tokens.

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{relu, softmax};

use crate::fused;
use burn::tensor::{Device, Tensor, TensorData};

/// PyTorch's `nn.LayerNorm` default, used by the heads (the backbone uses 1e-6).
const HEAD_LAYER_NORM_EPS: f64 = 1e-5;

/// `Linear(D, D) -> LayerNorm -> ReLU -> Linear(D, F) -> LayerNorm`, shared by
/// the four tokens. PyTorch keys: `box_head.layers.{0,1}.{0,1}`.
#[derive(Module, Debug)]
pub struct DistributionHead {
    /// `layers.0.0`.
    pub hidden: Linear,
    /// `layers.0.1`.
    pub hidden_norm: LayerNorm,
    /// `layers.1.0`.
    pub output: Linear,
    /// `layers.1.1`.
    pub output_norm: LayerNorm,
    /// Width of one bin in pixels of the search crop (`SEARCH.SIZE / F`).
    pub stride: f64,
}

/// Per-side logits over the `F` bins, `[B, F]` each.
#[derive(Debug, Clone)]
pub struct DistributionOutput {
    /// `(x1, y1, x2, y2)` normalised to the search crop, `[B, 4]`.
    pub boxes: Tensor<2>,
    /// Left side.
    pub left: Tensor<2>,
    /// Top side.
    pub top: Tensor<2>,
    /// Right side.
    pub right: Tensor<2>,
    /// Bottom side.
    pub bottom: Tensor<2>,
}

impl DistributionOutput {
    /// The four logit vectors in the order left, top, right, bottom.
    pub fn logits(&self) -> [Tensor<2>; 4] {
        [
            self.left.clone(),
            self.top.clone(),
            self.right.clone(),
            self.bottom.clone(),
        ]
    }

    /// The four distributions (softmax over bins) in the order left, top, right, bottom.
    pub fn probabilities(&self) -> [Tensor<2>; 4] {
        self.logits().map(|logits| softmax(logits, 1))
    }
}

impl DistributionHead {
    /// Creates the head for token width `dim`, `bins` bins and a search crop of `search_size`.
    pub fn new(dim: usize, bins: usize, search_size: usize, device: &Device) -> Self {
        let norm = |width| {
            LayerNormConfig::new(width)
                .with_epsilon(HEAD_LAYER_NORM_EPS)
                .init(device)
        };
        Self {
            hidden: LinearConfig::new(dim, dim).init(device),
            hidden_norm: norm(dim),
            output: LinearConfig::new(dim, bins).init(device),
            output_norm: norm(bins),
            stride: search_size as f64 / bins as f64,
        }
    }

    /// Prediction tokens `[B, 4, D]` in the order left, right, top, bottom, to the box.
    pub fn forward(&self, tokens: Tensor<3>) -> DistributionOutput {
        let [batch, _, _] = tokens.dims();

        // [B, 4, D] -> [B, 4, F]
        let x = relu(fused::layer_norm(
            &self.hidden_norm,
            HEAD_LAYER_NORM_EPS,
            self.hidden.forward(tokens),
        ));
        let logits = fused::layer_norm(
            &self.output_norm,
            HEAD_LAYER_NORM_EPS,
            self.output.forward(x),
        );
        let bins = logits.dims()[2];

        // Expected coordinate per side: sum_i p_i * i * stride, in pixels.
        let positions: Vec<f32> = (0..bins).map(|i| (i as f64 * self.stride) as f32).collect();
        let positions =
            Tensor::<3>::from_data(TensorData::new(positions, [1, 1, bins]), &logits.device());
        let coords = (fused::softmax(logits.clone()) * positions)
            .sum_dim(2)
            .reshape([batch, 4]);

        // Tokens are (left, right, top, bottom); boxes are (left, top, right, bottom).
        let side = |i: usize| logits.clone().narrow(1, i, 1).reshape([batch, bins]);
        let coord = |i: usize| coords.clone().narrow(1, i, 1);
        let crop = bins as f64 * self.stride;
        let boxes = Tensor::cat(vec![coord(0), coord(2), coord(1), coord(3)], 1).div_scalar(crop);

        DistributionOutput {
            boxes,
            left: side(0),
            right: side(1),
            top: side(2),
            bottom: side(3),
        }
    }
}
