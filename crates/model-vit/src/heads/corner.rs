//! The corner head of MixFormer-ViT (`CORNER` and `CORNER_UP`).

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor, TensorData};

/// `Conv3x3 (padding 1, bias) -> BatchNorm2d -> ReLU`, stored in PyTorch as a
/// `Sequential` whose keys are `.0` (the convolution) and `.1` (the batch norm).
#[derive(Module, Debug)]
pub struct ConvUnit {
    /// Convolution, PyTorch index 0.
    pub conv: Conv2d,
    /// Batch norm, PyTorch index 1.
    pub bn: BatchNorm,
}

impl ConvUnit {
    fn new(input: usize, output: usize, device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([input, output], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            bn: BatchNormConfig::new(output).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        relu(self.bn.forward(self.conv.forward(x)))
    }
}

/// The up-sampling path of `CORNER_UP`: two skip connections from the
/// backbone features and two refinement branches added to the final map.
#[derive(Module, Debug)]
pub struct UpsamplingPath {
    /// `conv(D -> C/2)` on the backbone features, up-sampled x2.
    pub adjust1: ConvUnit,
    /// `conv(D -> C/4)` on the backbone features, up-sampled x4.
    pub adjust2: ConvUnit,
    /// `conv(C/2 -> C/4) -> conv(C/4 -> C/8) -> conv(C/8 -> 1)` on the second
    /// unit's output, up-sampled x4 into the map.
    pub adjust3: Vec<ConvUnit>,
    /// `conv(C/4 -> C/8) -> conv(C/8 -> 1)` on the third unit's output,
    /// up-sampled x2 into the map.
    pub adjust4: Vec<ConvUnit>,
}

/// One corner branch (top-left or bottom-right). In the checkpoints its
/// modules carry the branch as a suffix: `box_head.conv1_tl`, `box_head.adjust3_br.2`.
#[derive(Module, Debug)]
pub struct CornerBranch {
    /// `conv(D -> C)`.
    pub conv1: ConvUnit,
    /// `conv(C -> C/2)`.
    pub conv2: ConvUnit,
    /// `conv(C/2 -> C/4)`.
    pub conv3: ConvUnit,
    /// `conv(C/4 -> C/8)`.
    pub conv4: ConvUnit,
    /// Plain `Conv1x1(C/8 -> 1)`, no batch norm.
    pub conv5: Conv2d,
    /// Present for `CORNER_UP`.
    pub upsampling: Option<UpsamplingPath>,
}

impl CornerBranch {
    fn new(dim: usize, channels: usize, upsampling: bool, device: &Device) -> Self {
        let c = channels;
        let upsampling = upsampling.then(|| UpsamplingPath {
            adjust1: ConvUnit::new(dim, c / 2, device),
            adjust2: ConvUnit::new(dim, c / 4, device),
            adjust3: vec![
                ConvUnit::new(c / 2, c / 4, device),
                ConvUnit::new(c / 4, c / 8, device),
                ConvUnit::new(c / 8, 1, device),
            ],
            adjust4: vec![
                ConvUnit::new(c / 4, c / 8, device),
                ConvUnit::new(c / 8, 1, device),
            ],
        });
        Self {
            conv1: ConvUnit::new(dim, c, device),
            conv2: ConvUnit::new(c, c / 2, device),
            conv3: ConvUnit::new(c / 2, c / 4, device),
            conv4: ConvUnit::new(c / 4, c / 8, device),
            conv5: Conv2dConfig::new([c / 8, 1], [1, 1]).init(device),
            upsampling,
        }
    }

    /// `[B, D, g, g] -> [B, 1, M, M]` score map, `M = g` or `4g`.
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x1 = self.conv1.forward(x.clone());
        let x2 = self.conv2.forward(x1);
        let Some(up) = &self.upsampling else {
            let x3 = self.conv3.forward(x2);
            let x4 = self.conv4.forward(x3);
            return self.conv5.forward(x4);
        };

        // First up-sampling: stride 16 -> 8
        let u1 = upsample(up.adjust1.forward(x.clone()), 2) + upsample(x2.clone(), 2);
        let x3 = self.conv3.forward(u1);

        // Second up-sampling: stride 8 -> 4
        let u2 = upsample(up.adjust2.forward(x), 4) + upsample(x3.clone(), 2);
        let x4 = self.conv4.forward(u2);

        // Map plus the two refinement branches
        let refine3 = up.adjust3.iter().fold(x2, |x, unit| unit.forward(x));
        let refine4 = up.adjust4.iter().fold(x3, |x, unit| unit.forward(x));
        self.conv5.forward(x4) + upsample(refine3, 4) + upsample(refine4, 2)
    }
}

/// Corner head: two branches predicting top-left and bottom-right score maps,
/// turned into corners by soft-argmax.
#[derive(Module, Debug)]
pub struct CornerHead {
    /// Top-left branch.
    pub tl: CornerBranch,
    /// Bottom-right branch.
    pub br: CornerBranch,
    /// Stride of the score map in pixels of the search crop (16 or 4).
    pub stride: usize,
}

/// Corner head outputs.
#[derive(Debug, Clone)]
pub struct CornerOutput {
    /// `(x1, y1, x2, y2)` normalised to the search crop, `[B, 4]`.
    pub boxes: Tensor<2>,
    /// Softmax over the top-left map, row-major (row = y), `[B, M * M]`.
    pub prob_tl: Tensor<2>,
    /// Softmax over the bottom-right map, `[B, M * M]`.
    pub prob_br: Tensor<2>,
}

impl CornerHead {
    /// Creates the head for backbone width `dim` and `channels` (`MODEL.HEAD_DIM`).
    pub fn new(dim: usize, channels: usize, upsampling: bool, device: &Device) -> Self {
        Self {
            tl: CornerBranch::new(dim, channels, upsampling, device),
            br: CornerBranch::new(dim, channels, upsampling, device),
            stride: if upsampling { 4 } else { 16 },
        }
    }

    /// Search tokens `[B, g * g, D]` (row-major) to corners and probability maps.
    pub fn forward(&self, search: Tensor<3>) -> CornerOutput {
        let [batch, tokens, dim] = search.dims();
        let grid = (tokens as f64).sqrt().round() as usize;

        // [B, N, D] -> [B, D, g, g]
        let features = search.swap_dims(1, 2).reshape([batch, dim, grid, grid]);

        let (x_tl, y_tl, prob_tl) = self.soft_argmax(self.tl.forward(features.clone()));
        let (x_br, y_br, prob_br) = self.soft_argmax(self.br.forward(features));

        let [_, cells] = prob_tl.dims();
        let map_side = (cells as f64).sqrt().round() as usize;
        let crop = (map_side * self.stride) as f64;
        let boxes = Tensor::cat(vec![x_tl, y_tl, x_br, y_br], 1).div_scalar(crop);
        CornerOutput {
            boxes,
            prob_tl,
            prob_br,
        }
    }

    /// `[B, 1, M, M]` map to expected `x`, `y` (`[B, 1]` each, pixels) and probabilities.
    fn soft_argmax(&self, map: Tensor<4>) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
        let [batch, _, side, _] = map.dims();
        let prob = softmax(map.reshape([batch, side * side]), 1);

        let device = prob.device();
        let (xs, ys): (Vec<f32>, Vec<f32>) = (0..side * side)
            .map(|i| {
                (
                    ((i % side) * self.stride) as f32,
                    ((i / side) * self.stride) as f32,
                )
            })
            .unzip();
        let coord_x = Tensor::<2>::from_data(TensorData::new(xs, [1, side * side]), &device);
        let coord_y = Tensor::<2>::from_data(TensorData::new(ys, [1, side * side]), &device);

        let x = (prob.clone() * coord_x).sum_dim(1);
        let y = (prob.clone() * coord_y).sum_dim(1);
        (x, y, prob)
    }
}

/// Nearest-neighbour up-sampling by an integer factor.
fn upsample(x: Tensor<4>, factor: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let options = InterpolateOptions::new(InterpolateMode::Nearest)
        .with_output_size([h * factor, w * factor]);
    interpolate(x, options)
}
