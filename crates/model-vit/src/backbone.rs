//! The one-stream ViT backbone: patch embedding, positional tables,
//! prediction tokens and the mixed-attention blocks.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Distribution, Tensor};

use crate::attention::TemplateKeyValues;
use crate::block::Block;
use crate::config::VitConfig;
use crate::position::sincos_table;

/// Number of prediction tokens: left, right, top, bottom.
pub const PREDICTION_TOKENS: usize = 4;

/// `Conv2d(3, D, patch, stride patch)` turning an image into row-major tokens.
#[derive(Module, Debug)]
pub struct PatchEmbed {
    /// The patch projection.
    pub proj: Conv2d,
}

impl PatchEmbed {
    /// `[B, 3, H, W] -> [B, (H / p) * (W / p), D]`
    pub fn forward(&self, image: Tensor<4>) -> Tensor<3> {
        self.proj.forward(image).flatten::<3>(2, 3).swap_dims(1, 2)
    }
}

/// The backbone, with field names that give the PyTorch keys under `backbone.`.
#[derive(Module, Debug)]
pub struct VisionTransformer {
    /// Patch embedding shared by all images.
    pub patch_embed: PatchEmbed,
    /// Transformer blocks.
    pub blocks: Vec<Block>,
    /// Learned prediction tokens `[1, 4, D]` (student only).
    pub reg_tokens: Option<Param<Tensor<3>>>,
    /// Learned positional embedding of the prediction tokens `[1, 4, D]` (student only).
    pub pos_embed_reg: Option<Param<Tensor<3>>>,
    /// Fixed sine-cosine table of the template grid; never trained, never loaded.
    pub pos_embed_t: Param<Tensor<3>>,
    /// Fixed sine-cosine table of the search grid; never trained, never loaded.
    pub pos_embed_s: Param<Tensor<3>>,
    /// Tokens of one template image.
    pub template_tokens: usize,
}

/// What the blocks produce in a training forward.
#[derive(Debug, Clone)]
pub struct BackboneOutput {
    /// Search tokens after the last block, `[B, S, D]`.
    pub search: Tensor<3>,
    /// Prediction tokens after the last block, `[B, 4, D]` (student only).
    pub prediction_tokens: Option<Tensor<3>>,
    /// Every block's output over all tokens, `[B, N, D]` each.
    pub block_outputs: Vec<Tensor<3>>,
}

/// The last block's outputs that the heads read, from
/// [`VisionTransformer::forward_heads`].
#[derive(Debug, Clone)]
pub struct HeadInputs {
    /// Search tokens after the last block, `[B, S, D]`, when asked for and
    /// always for a teacher.
    pub search: Option<Tensor<3>>,
    /// Prediction tokens after the last block, `[B, 4, D]` (student only).
    pub prediction_tokens: Option<Tensor<3>>,
}

/// Per-block keys and values of a template pair, computed once per template change.
#[derive(Debug, Clone)]
pub struct TemplateCache {
    /// One entry per block.
    pub blocks: Vec<TemplateKeyValues>,
}

impl VisionTransformer {
    /// Creates a backbone with random weights.
    pub fn new(config: &VitConfig, device: &Device) -> Self {
        let dim = config.embed_dim;
        let proj = Conv2dConfig::new([3, dim], [config.patch_size, config.patch_size])
            .with_stride([config.patch_size, config.patch_size])
            .init(device);

        let blocks = config
            .drop_path_rates()
            .into_iter()
            .map(|rate| {
                Block::new(
                    dim,
                    config.num_heads,
                    config.mlp_hidden_dim(),
                    rate,
                    config.layer_norm_eps,
                    device,
                )
            })
            .collect();

        // Truncated normal with std 0.02 in the reference; a plain normal clipped
        // at two standard deviations gives the same distribution.
        let (reg_tokens, pos_embed_reg) = if config.has_prediction_tokens() {
            let shape = [1, PREDICTION_TOKENS, dim];
            let tokens =
                Tensor::random(shape, Distribution::Normal(0.0, 0.02), device).clamp(-0.04, 0.04);
            let pos = Tensor::zeros(shape, device);
            (
                Some(Param::from_tensor(tokens)),
                Some(Param::from_tensor(pos)),
            )
        } else {
            (None, None)
        };

        let fixed =
            |grid| Param::from_tensor(sincos_table(grid, dim, device)).set_require_grad(false);
        Self {
            patch_embed: PatchEmbed { proj },
            blocks,
            reg_tokens,
            pos_embed_reg,
            pos_embed_t: fixed(config.template_grid()),
            pos_embed_s: fixed(config.search_grid()),
            template_tokens: config.template_tokens(),
        }
    }

    /// Runs template, online template and search through every block.
    ///
    /// `remove_rates` scales the residual branches of each block (`1.0` leaves a
    /// block unchanged); `None` means 1 everywhere.
    pub fn forward(
        &self,
        template: Tensor<4>,
        online_template: Tensor<4>,
        search: Tensor<4>,
        remove_rates: Option<&[f64]>,
    ) -> BackboneOutput {
        let templates = self.embed_templates(template, online_template);
        let search = self.embed_search(search);
        let search_tokens = search.dims()[1] - self.prediction_token_count();
        let template_tokens = templates.dims()[1];

        // [templates | online templates | search | prediction tokens]
        let mut x = Tensor::cat(vec![templates, search], 1);

        let mut block_outputs = Vec::with_capacity(self.blocks.len());
        for (index, block) in self.blocks.iter().enumerate() {
            x = block.forward(x, template_tokens, rate_of(remove_rates, index));
            block_outputs.push(x.clone());
        }

        self.split_outputs(x, template_tokens, search_tokens, block_outputs)
    }

    /// Runs like [`Self::forward`] but keeps no block outputs, and the last
    /// block computes only the tokens the heads read: the search and prediction
    /// tokens when `search_read`, the prediction tokens alone otherwise.
    ///
    /// A teacher, which has no prediction tokens, always returns its search
    /// tokens. Its last block skips the template queries (a quarter of the
    /// tokens at a 288-pixel search), and a student's skips all but four.
    pub fn forward_heads(
        &self,
        template: Tensor<4>,
        online_template: Tensor<4>,
        search: Tensor<4>,
        remove_rates: Option<&[f64]>,
        search_read: bool,
    ) -> HeadInputs {
        let templates = self.embed_templates(template, online_template);
        let search = self.embed_search(search);
        let prediction_tokens = self.prediction_token_count();
        let search_tokens = search.dims()[1] - prediction_tokens;
        let template_tokens = templates.dims()[1];
        let search_read = search_read || prediction_tokens == 0;
        let first_query = if search_read {
            template_tokens
        } else {
            template_tokens + search_tokens
        };

        let mut x = Tensor::cat(vec![templates, search], 1);
        let tail = match self.blocks.split_last() {
            Some((last, earlier)) => {
                for (index, block) in earlier.iter().enumerate() {
                    x = block.forward(x, template_tokens, rate_of(remove_rates, index));
                }
                let rate = rate_of(remove_rates, earlier.len());
                last.forward_tail(x, template_tokens, first_query, rate)
            }
            None => {
                let tokens = x.dims()[1];
                x.narrow(1, first_query, tokens - first_query)
            }
        };

        let tail_tokens = tail.dims()[1];
        HeadInputs {
            search: search_read.then(|| tail.clone().narrow(1, 0, search_tokens)),
            prediction_tokens: (prediction_tokens > 0)
                .then(|| tail.narrow(1, tail_tokens - PREDICTION_TOKENS, PREDICTION_TOKENS)),
        }
    }

    /// Runs the template pair alone, keeping each block's keys and values.
    pub fn encode_templates(
        &self,
        template: Tensor<4>,
        online_template: Tensor<4>,
    ) -> TemplateCache {
        let mut x = self.embed_templates(template, online_template);
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let (out, cache) = block.forward_templates(x);
            x = out;
            blocks.push(cache);
        }
        TemplateCache { blocks }
    }

    /// Runs the search image (and prediction tokens) against a template cache.
    ///
    /// Returns the search tokens `[B, S, D]` and the prediction tokens `[B, 4, D]`.
    ///
    /// # Panics
    ///
    /// If `cache` comes from a model of another depth.
    pub fn forward_search(&self, search: Tensor<4>, cache: &TemplateCache) -> BackboneOutput {
        self.check_cache(cache);
        let mut x = self.embed_search(search);
        let search_tokens = x.dims()[1] - self.prediction_token_count();
        for (block, keys_values) in self.blocks.iter().zip(&cache.blocks) {
            x = block.forward_search(x, keys_values);
        }
        self.split_outputs(x, 0, search_tokens, Vec::new())
    }

    /// Runs the search image against a template cache and returns the
    /// prediction tokens after the last block, `[B, 4, D]`, or `None` for a
    /// teacher, which has none.
    ///
    /// Equals the prediction tokens of [`Self::forward_search`], but the last
    /// block computes queries, the output projection and the MLP for the four
    /// prediction tokens only, since no head reads the search tokens there.
    pub fn forward_prediction_tokens(
        &self,
        search: Tensor<4>,
        cache: &TemplateCache,
    ) -> Option<Tensor<3>> {
        self.reg_tokens.as_ref()?;
        self.check_cache(cache);
        let (last, earlier) = self.blocks.split_last()?;
        let last_cache = cache.blocks.last()?;
        let mut x = self.embed_search(search);
        let search_tokens = x.dims()[1] - PREDICTION_TOKENS;
        for (block, keys_values) in earlier.iter().zip(&cache.blocks) {
            x = block.forward_search(x, keys_values);
        }
        Some(last.forward_search_tail(x, last_cache, search_tokens))
    }

    /// Panics unless `cache` has one entry per block, since a cache from a
    /// model of another depth would otherwise pair blocks silently.
    fn check_cache(&self, cache: &TemplateCache) {
        assert_eq!(
            cache.blocks.len(),
            self.blocks.len(),
            "the template cache has {} blocks and the model {}: encode the templates with this model",
            cache.blocks.len(),
            self.blocks.len()
        );
    }

    /// 4 for the student, 0 for the teacher.
    fn prediction_token_count(&self) -> usize {
        if self.reg_tokens.is_some() {
            PREDICTION_TOKENS
        } else {
            0
        }
    }

    /// Embeds both templates: `[B, 2 * T, D]`.
    fn embed_templates(&self, template: Tensor<4>, online_template: Tensor<4>) -> Tensor<3> {
        let pos = self.pos_embed_t.val();
        let template = self.patch_embed.forward(template) + pos.clone();
        let online = self.patch_embed.forward(online_template) + pos;
        Tensor::cat(vec![template, online], 1)
    }

    /// Embeds the search image and appends the prediction tokens: `[B, S (+ 4), D]`.
    fn embed_search(&self, search: Tensor<4>) -> Tensor<3> {
        let search = self.patch_embed.forward(search) + self.pos_embed_s.val();
        match (&self.reg_tokens, &self.pos_embed_reg) {
            (Some(tokens), Some(pos)) => {
                let [batch, _, dim] = search.dims();
                let tokens = (tokens.val() + pos.val()).expand([batch, PREDICTION_TOKENS, dim]);
                Tensor::cat(vec![search, tokens], 1)
            }
            _ => search,
        }
    }

    fn split_outputs(
        &self,
        x: Tensor<3>,
        template_tokens: usize,
        search_tokens: usize,
        block_outputs: Vec<Tensor<3>>,
    ) -> BackboneOutput {
        let search = x.clone().narrow(1, template_tokens, search_tokens);
        let prediction_tokens = self
            .reg_tokens
            .as_ref()
            .map(|_| x.narrow(1, template_tokens + search_tokens, PREDICTION_TOKENS));
        BackboneOutput {
            search,
            prediction_tokens,
            block_outputs,
        }
    }
}

/// Returns the residual scale of block `index`: 1 unless `remove_rates` gives one.
fn rate_of(remove_rates: Option<&[f64]>, index: usize) -> f64 {
    remove_rates
        .and_then(|rates| rates.get(index))
        .copied()
        .unwrap_or(1.0)
}
