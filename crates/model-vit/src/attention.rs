//! Mixed asymmetric attention: template queries see only templates, search
//! and prediction-token queries see every token.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Device;
use burn::tensor::Tensor;
use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;

use crate::fused;

/// Keys and values of the template and online-template tokens of one block,
/// `[B, heads, 2 * template tokens, head dim]` each.
///
/// They do not depend on the search image, so the tracker computes them once
/// per template change and reuses them for every frame.
#[derive(Debug, Clone)]
pub struct TemplateKeyValues {
    /// Keys.
    pub keys: Tensor<4>,
    /// Values.
    pub values: Tensor<4>,
}

/// The attention of one block: one `qkv` projection for all tokens and one
/// output projection, named as in the PyTorch checkpoints (`attn.qkv`, `attn.proj`).
#[derive(Module, Debug)]
pub struct MixedAttention {
    /// `Linear(D, 3D)`: its output features are all queries, then all keys, then all values.
    pub qkv: Linear,
    /// `Linear(D, D)` applied to the concatenated heads.
    pub proj: Linear,
    /// Number of heads.
    pub num_heads: usize,
}

impl MixedAttention {
    /// Creates the attention of width `dim` with `num_heads` heads.
    pub fn new(dim: usize, num_heads: usize, device: &Device) -> Self {
        Self {
            qkv: LinearConfig::new(dim, 3 * dim).init(device),
            proj: LinearConfig::new(dim, dim).init(device),
            num_heads,
        }
    }

    /// Runs the mixed attention over `[templates | search and prediction tokens]`,
    /// where the first `template_tokens` tokens are the templates.
    pub fn forward(&self, x: Tensor<3>, template_tokens: usize) -> Tensor<3> {
        let [batch, tokens, dim] = x.dims();
        let [q, k, v] = self.project_qkv(x);

        // Template queries attend to template keys only.
        let template_out = attend(
            q.clone().narrow(2, 0, template_tokens),
            k.clone().narrow(2, 0, template_tokens),
            v.clone().narrow(2, 0, template_tokens),
        );

        // Search and prediction-token queries attend to every token.
        let search_queries = q.narrow(2, template_tokens, tokens - template_tokens);
        let search_out = attend(search_queries, k, v);

        // [B, H, N, d] -> [B, N, D]
        let out = Tensor::cat(vec![template_out, search_out], 2);
        self.project_out(out, batch, tokens, dim)
    }

    /// Runs the template tokens alone and returns their output with their keys
    /// and values for [`Self::forward_search`].
    pub fn forward_templates(&self, x: Tensor<3>) -> (Tensor<3>, TemplateKeyValues) {
        let [batch, tokens, dim] = x.dims();
        let [q, k, v] = self.project_qkv(x);
        let out = attend(q, k.clone(), v.clone());
        let out = self.project_out(out, batch, tokens, dim);
        (out, TemplateKeyValues { keys: k, values: v })
    }

    /// Runs the search and prediction tokens against `[cached template keys and
    /// values ; their own]`, which equals their part of [`Self::forward`].
    pub fn forward_search(&self, x: Tensor<3>, cache: &TemplateKeyValues) -> Tensor<3> {
        let [batch, tokens, dim] = x.dims();
        let [q, k, v] = self.project_qkv(x);
        let k = Tensor::cat(vec![cache.keys.clone(), k], 2);
        let v = Tensor::cat(vec![cache.values.clone(), v], 2);
        let out = attend(q, k, v);
        self.project_out(out, batch, tokens, dim)
    }

    /// Runs every token of `x` as keys and values but only the tokens from
    /// `first_query` on as queries, and returns their outputs,
    /// `[B, N - first_query, D]`.
    ///
    /// These equal their rows of [`Self::forward`] when no template is queried,
    /// since search and prediction-token queries see every token. A model's
    /// last block needs no more than the tokens its heads read.
    pub fn forward_tail(&self, x: Tensor<3>, first_query: usize) -> Tensor<3> {
        self.tail(x, None, first_query)
    }

    /// Runs the search-side tokens against the cached template keys and values
    /// like [`Self::forward_search`], but returns only the tokens from
    /// `first_query` on: the earlier ones serve as keys and values alone.
    ///
    /// The last block of a student needs the outputs of its four prediction
    /// tokens only, so this skips the query and output-projection work of
    /// every search token there.
    pub fn forward_search_tail(
        &self,
        x: Tensor<3>,
        cache: &TemplateKeyValues,
        first_query: usize,
    ) -> Tensor<3> {
        self.tail(x, Some(cache), first_query)
    }

    /// Runs the queries from `first_query` on against the keys and values of `prefix`
    /// followed by those of every token of `x`.
    pub(crate) fn tail(
        &self,
        x: Tensor<3>,
        prefix: Option<&TemplateKeyValues>,
        first_query: usize,
    ) -> Tensor<3> {
        let [batch, tokens, dim] = x.dims();
        let queried = tokens - first_query;
        let head_dim = dim / self.num_heads;
        let weight = self.qkv.weight.val();
        let bias = self.qkv.bias.as_ref().map(|bias| bias.val());
        // Columns [0, D) of the fused projection give queries, [D, 3D) keys and values.
        let columns = |start: usize, width: usize| {
            (
                weight.clone().narrow(1, start, width),
                bias.clone().map(|bias| bias.narrow(0, start, width)),
            )
        };

        // [B, N, 2D] -> [B, N, 2, H, d] -> [2, B, H, N, d]
        let (kv_weight, kv_bias) = columns(dim, 2 * dim);
        let kv = fused::linear(x.clone(), kv_weight, kv_bias)
            .reshape([batch, tokens, 2, self.num_heads, head_dim])
            .permute([2, 0, 3, 1, 4]);
        let shape = [batch, self.num_heads, tokens, head_dim];
        let mut k = kv.clone().narrow(0, 0, 1).reshape(shape);
        let mut v = kv.narrow(0, 1, 1).reshape(shape);

        // [B, n, D] -> [B, H, n, d]
        let (q_weight, q_bias) = columns(0, dim);
        let q = fused::linear(x.narrow(1, first_query, queried), q_weight, q_bias)
            .reshape([batch, queried, self.num_heads, head_dim])
            .swap_dims(1, 2);

        if let Some(prefix) = prefix {
            k = Tensor::cat(vec![prefix.keys.clone(), k], 2);
            v = Tensor::cat(vec![prefix.values.clone(), v], 2);
        }
        self.project_out(attend(q, k, v), batch, queried, dim)
    }

    /// `[B, N, D] -> 3 x [B, H, N, d]`
    fn project_qkv(&self, x: Tensor<3>) -> [Tensor<4>; 3] {
        let [batch, tokens, dim] = x.dims();
        let head_dim = dim / self.num_heads;

        // [B, N, 3D] -> [B, N, 3, H, d] -> [3, B, H, N, d]
        let qkv = fused::linear_layer(&self.qkv, x)
            .reshape([batch, tokens, 3, self.num_heads, head_dim])
            .permute([2, 0, 3, 1, 4]);

        let shape = [batch, self.num_heads, tokens, head_dim];
        let mut parts = qkv.chunk(3, 0).into_iter().map(|part| part.reshape(shape));
        let mut next = || parts.next().expect("chunk(3) returns three parts");
        [next(), next(), next()]
    }

    /// `[B, H, N, d] -> [B, N, D]`, then the output projection.
    fn project_out(&self, heads: Tensor<4>, batch: usize, tokens: usize, dim: usize) -> Tensor<3> {
        let merged = heads.swap_dims(1, 2).reshape([batch, tokens, dim]);
        fused::linear_layer(&self.proj, merged)
    }
}

/// Scaled dot-product attention, `softmax(q k^T / sqrt(d)) v`, per head.
///
/// Without autodiff (tracking, the teacher of a distillation stage) this is
/// burn's fused attention op: libtorch's `scaled_dot_product_attention`, or
/// flex's own kernel. It cut the cached MixFormerV2-B step time by about a
/// quarter on flex (docs/performance.md). Under autodiff burn would fall back
/// to the composition below, whose softmax is one autodiff step ([`fused`]).
fn attend(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<4> {
    if !q.device().is_autodiff() {
        // The default scale is 1 / sqrt(head dim), without mask or causality.
        return attention(q, k, v, None, None, AttentionModuleOptions::default());
    }
    let head_dim = q.dims()[3];
    let scale = (head_dim as f64).powf(-0.5);
    let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(scale);
    fused::softmax(scores).matmul(v)
}
