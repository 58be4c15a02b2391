//! The pre-norm transformer block with stochastic depth and the remove-rate factor.

use burn::module::{Flag, Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Distribution, Tensor};

use crate::attention::{MixedAttention, TemplateKeyValues};
use crate::fused;

/// `Linear(D, R) -> GELU (exact erf form) -> Linear(R, D)`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// First projection.
    pub fc1: Linear,
    /// Second projection.
    pub fc2: Linear,
}

impl Mlp {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let hidden = gelu(fused::linear_layer(&self.fc1, x));
        fused::linear_layer(&self.fc2, hidden)
    }
}

/// Stochastic depth: in training, drops a whole residual branch per sample
/// with probability `prob` and rescales the kept ones by `1 / (1 - prob)`.
#[derive(Module, Debug)]
pub struct DropPath {
    /// Drop probability.
    pub prob: f64,
    /// Whether the module is in training mode; `Module::valid` turns it off.
    pub training: Param<Flag>,
}

impl DropPath {
    fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        if self.prob == 0.0 || !self.training.is_enabled() || !x.device().is_autodiff() {
            return x;
        }
        let keep = 1.0 - self.prob;
        let [batch, _, _] = x.dims();
        let mask = Tensor::random([batch, 1, 1], Distribution::Bernoulli(keep), &x.device());
        x * mask.div_scalar(keep)
    }
}

/// One block: `x + r * DropPath(Attn(LN1(x)))`, then `x + r * DropPath(MLP(LN2(x)))`,
/// with `r` the remove rate (1 outside layer removal).
#[derive(Module, Debug)]
pub struct Block {
    /// LayerNorm before the attention.
    pub norm1: LayerNorm,
    /// Mixed attention.
    pub attn: MixedAttention,
    /// LayerNorm before the MLP.
    pub norm2: LayerNorm,
    /// MLP.
    pub mlp: Mlp,
    /// Stochastic depth of both residual branches.
    pub drop_path: DropPath,
    /// The epsilon of both layer norms (`1e-6` in the checkpoints).
    pub layer_norm_eps: f64,
}

impl Block {
    /// Creates a block of width `dim`.
    pub fn new(
        dim: usize,
        num_heads: usize,
        mlp_hidden: usize,
        drop_path: f64,
        layer_norm_eps: f64,
        device: &Device,
    ) -> Self {
        let norm = || {
            LayerNormConfig::new(dim)
                .with_epsilon(layer_norm_eps)
                .init(device)
        };
        Self {
            norm1: norm(),
            attn: MixedAttention::new(dim, num_heads, device),
            norm2: norm(),
            mlp: Mlp {
                fc1: LinearConfig::new(dim, mlp_hidden).init(device),
                fc2: LinearConfig::new(mlp_hidden, dim).init(device),
            },
            drop_path: DropPath {
                prob: drop_path,
                training: Param::from_bool(true),
            },
            layer_norm_eps,
        }
    }

    /// Runs every token; the first `template_tokens` are the templates.
    pub fn forward(&self, x: Tensor<3>, template_tokens: usize, remove_rate: f64) -> Tensor<3> {
        let attn = self
            .attn
            .forward(self.normalize(&self.norm1, x.clone()), template_tokens);
        self.finish(x, attn, remove_rate)
    }

    /// Runs the template tokens alone, returning their keys and values.
    pub fn forward_templates(&self, x: Tensor<3>) -> (Tensor<3>, TemplateKeyValues) {
        let (attn, cache) = self
            .attn
            .forward_templates(self.normalize(&self.norm1, x.clone()));
        (self.finish(x, attn, 1.0), cache)
    }

    /// Runs the search and prediction tokens against cached template keys and values.
    pub fn forward_search(&self, x: Tensor<3>, cache: &TemplateKeyValues) -> Tensor<3> {
        let attn = self
            .attn
            .forward_search(self.normalize(&self.norm1, x.clone()), cache);
        self.finish(x, attn, 1.0)
    }

    /// Runs every token like [`Self::forward`] but returns the outputs of the
    /// tokens from `first_query` on only. The earlier ones serve as keys and
    /// values alone.
    ///
    /// # Panics
    ///
    /// If `first_query` falls inside the first `template_tokens` tokens, whose
    /// queries see the templates only.
    pub fn forward_tail(
        &self,
        x: Tensor<3>,
        template_tokens: usize,
        first_query: usize,
        remove_rate: f64,
    ) -> Tensor<3> {
        assert!(
            first_query >= template_tokens,
            "the tail from token {first_query} includes template queries (the first {template_tokens})"
        );
        self.tail(x, None, first_query, remove_rate)
    }

    /// Runs the search and prediction tokens against cached template keys and
    /// values and returns the outputs of the tokens from `first_query` on only.
    pub fn forward_search_tail(
        &self,
        x: Tensor<3>,
        cache: &TemplateKeyValues,
        first_query: usize,
    ) -> Tensor<3> {
        self.tail(x, Some(cache), first_query, 1.0)
    }

    /// Runs the block for the tokens from `first_query` on, with `prefix`
    /// keys and values before those of `x`.
    fn tail(
        &self,
        x: Tensor<3>,
        prefix: Option<&TemplateKeyValues>,
        first_query: usize,
        remove_rate: f64,
    ) -> Tensor<3> {
        let rest = x.clone().narrow(1, first_query, x.dims()[1] - first_query);
        let attn = self
            .attn
            .tail(self.normalize(&self.norm1, x), prefix, first_query);
        self.finish(rest, attn, remove_rate)
    }

    /// Applies one of the block's layer norms, as a single autodiff step when training.
    fn normalize(&self, norm: &LayerNorm, x: Tensor<3>) -> Tensor<3> {
        fused::layer_norm(norm, self.layer_norm_eps, x)
    }

    /// Adds the attention branch, then runs the MLP branch.
    fn finish(&self, x: Tensor<3>, attn: Tensor<3>, remove_rate: f64) -> Tensor<3> {
        let x = x + scale(self.drop_path.forward(attn), remove_rate);
        let mlp = self.mlp.forward(self.normalize(&self.norm2, x.clone()));
        x + scale(self.drop_path.forward(mlp), remove_rate)
    }
}

/// Multiplies by the remove rate, skipping the no-op of `r = 1`.
fn scale(x: Tensor<3>, remove_rate: f64) -> Tensor<3> {
    if remove_rate == 1.0 {
        x
    } else {
        x.mul_scalar(remove_rate)
    }
}
