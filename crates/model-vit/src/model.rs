//! The MixFormer model: one definition for the teacher, the student, the
//! layer-removal and the online variants, steered by [`VitConfig`].

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::ModelError;
use crate::backbone::{TemplateCache, VisionTransformer};
use crate::config::{HeadKind, VitConfig};
use crate::heads::{CornerHead, CornerOutput, DistributionHead, DistributionOutput, ScoreHead};

/// The box head of a model.
// A model contains one head, so the variants' size difference costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum BoxHead {
    /// Corner head of the teacher.
    Corner(CornerHead),
    /// Distribution head of the student.
    Distribution(DistributionHead),
}

/// Outputs of a box head.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum HeadOutput {
    /// Corner maps of the teacher.
    Corner(CornerOutput),
    /// Side distributions of the student.
    Distribution(DistributionOutput),
}

impl HeadOutput {
    /// `(x1, y1, x2, y2)` normalised to the search crop, `[B, 4]`.
    pub fn boxes(&self) -> Tensor<2> {
        match self {
            HeadOutput::Corner(out) => out.boxes.clone(),
            HeadOutput::Distribution(out) => out.boxes.clone(),
        }
    }
}

/// The outputs of a training forward.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// Box head outputs, including the `(x1, y1, x2, y2)` boxes.
    pub head: HeadOutput,
    /// Score logit per sample, `[B, 1]`, when the model has a score head.
    pub score_logits: Option<Tensor<2>>,
    /// Every block's output over all tokens, `[B, N, D]` each.
    pub block_outputs: Vec<Tensor<3>>,
}

impl ModelOutput {
    /// `(x1, y1, x2, y2)` normalised to the search crop, `[B, 4]`.
    pub fn boxes(&self) -> Tensor<2> {
        self.head.boxes()
    }

    /// `(cx, cy, w, h)` normalised to the search crop, `[B, 4]`.
    pub fn boxes_cxcywh(&self) -> Tensor<2> {
        xyxy_to_cxcywh(self.boxes())
    }
}

/// The outputs of [`MixFormer::forward_heads`]: those of a training forward
/// without the block outputs.
#[derive(Debug, Clone)]
pub struct HeadsOutput {
    /// Box head outputs, including the `(x1, y1, x2, y2)` boxes.
    pub head: HeadOutput,
    /// Score logit per sample, `[B, 1]`, when the model has a score head.
    pub score_logits: Option<Tensor<2>>,
}

/// The outputs of one tracking step on the cached-template path.
#[derive(Debug, Clone)]
pub struct TrackOutput {
    /// `(cx, cy, w, h)` normalised to the search crop, `[B, 4]`.
    pub boxes: Tensor<2>,
    /// `sigmoid(score logit)`, `[B, 1]`, when the model has a score head.
    pub scores: Option<Tensor<2>>,
}

/// A MixFormer-ViT teacher or MixFormerV2 student.
#[derive(Module, Debug)]
pub struct MixFormer {
    /// The backbone (`backbone.*` keys).
    pub backbone: VisionTransformer,
    /// The box head (`box_head.*` keys).
    pub box_head: BoxHead,
    /// The score head (`score_head.*` keys) of the online model.
    pub score_head: Option<ScoreHead>,
}

impl MixFormer {
    /// Builds a model with random weights.
    pub fn new(config: &VitConfig, device: &Device) -> Result<Self, ModelError> {
        config.validate()?;

        let dim = config.embed_dim;
        let box_head = match config.head {
            HeadKind::Corner { channels } => {
                BoxHead::Corner(CornerHead::new(dim, channels, false, device))
            }
            HeadKind::CornerUp { channels } => {
                BoxHead::Corner(CornerHead::new(dim, channels, true, device))
            }
            HeadKind::Distribution { bins } => {
                BoxHead::Distribution(DistributionHead::new(dim, bins, config.search_size, device))
            }
        };

        Ok(Self {
            backbone: VisionTransformer::new(config, device),
            box_head,
            score_head: config.score_head.then(|| ScoreHead::new(dim, device)),
        })
    }

    /// Training and distillation forward over `[B, 3, H, W]` images.
    ///
    /// `remove_rates` gives each block's residual scale (stage 2a); `None` is 1
    /// everywhere.
    pub fn forward(
        &self,
        template: Tensor<4>,
        online_template: Tensor<4>,
        search: Tensor<4>,
        remove_rates: Option<&[f64]>,
    ) -> ModelOutput {
        let backbone = self
            .backbone
            .forward(template, online_template, search, remove_rates);
        let (head, score_logits) =
            self.run_heads(Some(backbone.search), backbone.prediction_tokens);
        ModelOutput {
            head,
            score_logits,
            block_outputs: backbone.block_outputs,
        }
    }

    /// Returns the head and score outputs of [`Self::forward`], equal up to rounding,
    /// for the stages whose losses read nothing else.
    ///
    /// The last block runs only the tokens the heads read: the four prediction
    /// tokens of a student, the search tokens of a teacher. That removes about
    /// four fifths of a student's last block, forward and backward.
    pub fn forward_heads(
        &self,
        template: Tensor<4>,
        online_template: Tensor<4>,
        search: Tensor<4>,
        remove_rates: Option<&[f64]>,
    ) -> HeadsOutput {
        let search_read = matches!(self.box_head, BoxHead::Corner(_));
        let inputs = self.backbone.forward_heads(
            template,
            online_template,
            search,
            remove_rates,
            search_read,
        );
        let (head, score_logits) = self.run_heads(inputs.search, inputs.prediction_tokens);
        HeadsOutput { head, score_logits }
    }

    /// Computes each block's template keys and values once per template change.
    pub fn encode_templates(
        &self,
        template: Tensor<4>,
        online_template: Tensor<4>,
    ) -> TemplateCache {
        self.backbone.encode_templates(template, online_template)
    }

    /// Tracks one search image against cached templates.
    ///
    /// A student's last block runs its four prediction tokens only, because its
    /// heads read nothing else. A teacher's corner head needs every search token.
    ///
    /// # Panics
    ///
    /// If `cache` was encoded by a model of another depth.
    pub fn track(&self, search: Tensor<4>, cache: &TemplateCache) -> TrackOutput {
        if let BoxHead::Distribution(head) = &self.box_head
            && let Some(tokens) = self
                .backbone
                .forward_prediction_tokens(search.clone(), cache)
        {
            let boxes = head.forward(tokens.clone()).boxes;
            let scores = self
                .score_head
                .as_ref()
                .map(|score_head| sigmoid(score_head.forward(tokens)));
            return TrackOutput {
                boxes: xyxy_to_cxcywh(boxes),
                scores,
            };
        }
        let backbone = self.backbone.forward_search(search, cache);
        let (head, score_logits) =
            self.run_heads(Some(backbone.search), backbone.prediction_tokens);
        TrackOutput {
            boxes: xyxy_to_cxcywh(head.boxes()),
            scores: score_logits.map(sigmoid),
        }
    }

    /// Number of transformer blocks.
    pub fn depth(&self) -> usize {
        self.backbone.blocks.len()
    }

    /// Runs the box head and the score head on the last block's search and
    /// prediction tokens.
    fn run_heads(
        &self,
        search: Option<Tensor<3>>,
        prediction_tokens: Option<Tensor<3>>,
    ) -> (HeadOutput, Option<Tensor<2>>) {
        let head = match &self.box_head {
            BoxHead::Corner(head) => HeadOutput::Corner(
                head.forward(search.expect("the corner head is given the search tokens")),
            ),
            BoxHead::Distribution(head) => {
                let tokens = prediction_tokens
                    .clone()
                    .expect("a model with the distribution head has prediction tokens");
                HeadOutput::Distribution(head.forward(tokens))
            }
        };
        let score_logits = match (&self.score_head, prediction_tokens) {
            (Some(score_head), Some(tokens)) => Some(score_head.forward(tokens)),
            _ => None,
        };
        (head, score_logits)
    }
}

/// `(x1, y1, x2, y2) -> (cx, cy, w, h)` on `[B, 4]`.
pub fn xyxy_to_cxcywh(boxes: Tensor<2>) -> Tensor<2> {
    let top_left = boxes.clone().narrow(1, 0, 2);
    let bottom_right = boxes.narrow(1, 2, 2);
    let centre = (top_left.clone() + bottom_right.clone()).mul_scalar(0.5);
    Tensor::cat(vec![centre, bottom_right - top_left], 1)
}
