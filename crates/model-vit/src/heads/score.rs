//! The score head that decides online template updates.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// `Linear(D, D) -> ReLU -> Linear(D, 1)` per prediction token, averaged over
/// the four tokens. PyTorch keys: `score_head.layers.0.0` and `score_head.layers.1`.
#[derive(Module, Debug)]
pub struct ScoreHead {
    /// `layers.0.0`.
    pub hidden: Linear,
    /// `layers.1`.
    pub output: Linear,
}

impl ScoreHead {
    /// Creates the head for token width `dim`.
    pub fn new(dim: usize, device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(dim, dim).init(device),
            output: LinearConfig::new(dim, 1).init(device),
        }
    }

    /// Prediction tokens `[B, 4, D]` to one logit per sample, `[B, 1]`.
    pub fn forward(&self, tokens: Tensor<3>) -> Tensor<2> {
        let [batch, tokens_per_sample, _] = tokens.dims();
        let x = self.output.forward(relu(self.hidden.forward(tokens)));
        x.reshape([batch, tokens_per_sample]).mean_dim(1)
    }
}
