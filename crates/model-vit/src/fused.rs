//! Softmax, layer norm and linear layers as one operation each.
//!
//! burn's autodiff records softmax and layer norm as the elementwise
//! operations they are composed of: max, subtract, exp, sum and divide, or
//! mean, variance, square root and so on. Its backward pass then walks the
//! activations once per recorded operation, where PyTorch runs one kernel
//! forward and one backward. With autodiff on the flex or libtorch backend,
//! [`softmax`] and [`layer_norm`] record a single step each. The forward runs
//! the backend's softmax kernel, and libtorch's layer-norm kernel on libtorch.
//! The backward is the closed form:
//!
//! - softmax: `dx = y ⊙ (g − Σ g ⊙ y)`, with libtorch's own backward kernel;
//! - layer norm: with `x̂ = (x − μ) σ⁻¹` and `ĝ = g ⊙ γ`,
//!   `dx = σ⁻¹ (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂))`, `dγ = Σ g ⊙ x̂`, `dβ = Σ g`.
//!
//! Without autodiff, with gradient checkpointing, or on other backends, both
//! are burn's own functions.
//!
//! [`linear`] runs one libtorch `addmm` with the bias as its starting value,
//! with or without autodiff, where burn multiplies and then adds the bias in
//! a second pass. Other backends run burn's `linear`.
//!
//! Outputs and gradients of all three equal burn's up to rounding
//! (`tests/fused_ops.rs`).

use burn::backend::Autodiff;
use burn::backend::Backend;
use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::FloatTensor;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::Tensor;
use burn::tensor::activation;
use burn::tensor::module;

/// The autodiff backend whose tensors the fused steps accept.
type Tracked<B> = Autodiff<B, NoCheckpointing>;

/// Computes the softmax over the last dimension of `x`.
pub fn softmax<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if x.device().is_autodiff() {
        #[cfg(feature = "tch")]
        if let Some(output) = libtorch::softmax(&x) {
            return output;
        }
        if let Some(output) = tracked_softmax::<Flex, D>(&x) {
            return output;
        }
    }
    activation::softmax(x, D - 1)
}

/// Applies `norm` to the last dimension of `x`. `epsilon` must be the one the
/// module was built with, because burn keeps that field private.
pub fn layer_norm<const D: usize>(norm: &LayerNorm, epsilon: f64, x: Tensor<D>) -> Tensor<D> {
    let Some(beta) = norm.beta.as_ref() else {
        return norm.forward(x);
    };
    if x.device().is_autodiff() {
        let gamma = norm.gamma.val();
        let beta = beta.val();
        #[cfg(feature = "tch")]
        if let Some(output) = libtorch::layer_norm(x.clone(), gamma.clone(), beta.clone(), epsilon)
        {
            return output;
        }
        if let Some(output) = tracked_layer_norm::<Flex, D>(x.clone(), gamma, beta, epsilon) {
            return output;
        }
    }
    norm.forward(x)
}

/// Applies `x · weight + bias` over the last dimension of `x`, with `weight`
/// `[in, out]` as burn stores it, like [`burn::tensor::module::linear`].
///
/// On libtorch, with a bias, this is one `addmm` whose matrix product starts
/// from the bias, as PyTorch's `nn.Linear` runs, where burn runs a batched
/// product and then adds the bias in a second pass over the output.
pub fn linear<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    #[cfg(feature = "tch")]
    if let Some(bias) = &bias
        && let Some(output) = libtorch::linear(&x, &weight, bias)
    {
        return output;
    }
    module::linear(x, weight, bias)
}

/// Applies the `Linear` module `layer` through [`linear`].
pub fn linear_layer<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    let bias = layer.bias.as_ref().map(|bias| bias.val());
    linear(x, layer.weight.val(), bias)
}

/// Forward and backward kernels of the fused steps on one inner backend.
/// The default bodies compose the backend's tensor operations, and a backend
/// overrides those it has a faster kernel for.
trait FusedKernels: Backend {
    /// Computes `y ⊙ (g − Σ g ⊙ y)` over the last dimension of `output` (`y`).
    fn softmax_backward(output: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let last = last_dim::<Self>(&output);
        let dot = Self::float_sum_dim(Self::float_mul(grad.clone(), output.clone()), last);
        Self::float_mul(output, Self::float_sub(grad, dot))
    }

    /// Computes the layer norm of `x` over its last dimension, with the mean
    /// and reciprocal standard deviation of each row (last dimension kept as 1).
    fn layer_norm_forward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> [FloatTensor<Self>; 3] {
        let last = last_dim::<Self>(&x);
        let mean = Self::float_mean_dim(x.clone(), last);
        let centered = Self::float_sub(x, mean.clone());
        let variance =
            Self::float_mean_dim(Self::float_mul(centered.clone(), centered.clone()), last);
        let inverse_std = Self::float_recip(Self::float_sqrt(Self::float_add_scalar(
            variance,
            epsilon.into(),
        )));
        let normalized = Self::float_mul(centered, inverse_std.clone());
        let output = Self::float_add(Self::float_mul(normalized, gamma), beta);
        [output, mean, inverse_std]
    }

    /// Computes the gradients of `x`, `gamma` and `beta` from the output gradient `grad`.
    fn layer_norm_backward(
        grad: FloatTensor<Self>,
        saved: LayerNormSaved<Self>,
    ) -> [FloatTensor<Self>; 3] {
        let LayerNormSaved {
            x,
            gamma,
            mean,
            inverse_std,
        } = saved;
        let last = last_dim::<Self>(&x);
        let normalized = Self::float_mul(Self::float_sub(x, mean), inverse_std.clone());
        let scaled = Self::float_mul(grad.clone(), gamma);
        let scaled_mean = Self::float_mean_dim(scaled.clone(), last);
        let projection =
            Self::float_mean_dim(Self::float_mul(scaled.clone(), normalized.clone()), last);
        let dx = Self::float_mul(
            Self::float_sub(
                Self::float_sub(scaled, scaled_mean),
                Self::float_mul(normalized.clone(), projection),
            ),
            inverse_std,
        );
        let dgamma = sum_rows::<Self>(Self::float_mul(grad.clone(), normalized));
        let dbeta = sum_rows::<Self>(grad);
        [dx, dgamma, dbeta]
    }
}

impl FusedKernels for Flex {}

/// The libtorch kernels. burn 0.22 marks burn-tch deprecated (0.23 removes
/// it), and the workspace pins 0.22.
#[cfg(feature = "tch")]
#[allow(deprecated)]
mod libtorch {
    use burn::backend::LibTorch;
    use burn::backend::libtorch::TchTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::tensor::Tensor;

    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};

    use super::{FusedKernels, LayerNormSaved, Tracked, tracked_layer_norm, tracked_softmax};

    pub(super) fn softmax<const D: usize>(x: &Tensor<D>) -> Option<Tensor<D>> {
        tracked_softmax::<LibTorch, D>(x)
    }

    pub(super) fn layer_norm<const D: usize>(
        x: Tensor<D>,
        gamma: Tensor<1>,
        beta: Tensor<1>,
        epsilon: f64,
    ) -> Option<Tensor<D>> {
        tracked_layer_norm::<LibTorch, D>(x, gamma, beta, epsilon)
    }

    /// Runs `linear` as one `addmm` when all three tensors are libtorch tensors,
    /// tracked or not.
    pub(super) fn linear<const D: usize>(
        x: &Tensor<D>,
        weight: &Tensor<2>,
        bias: &Tensor<1>,
    ) -> Option<Tensor<D>> {
        if !x.device().is_autodiff() {
            let x = x.clone().try_into_primitive::<LibTorch>().ok()?;
            let weight = weight.clone().try_into_primitive::<LibTorch>().ok()?;
            let bias = bias.clone().try_into_primitive::<LibTorch>().ok()?;
            let output = affine(&x.tensor, &weight.tensor, &bias.tensor);
            return Some(Tensor::from_primitive::<LibTorch>(TchTensor::new(output)));
        }

        let x = x.clone().try_into_primitive::<Tracked<LibTorch>>().ok()?;
        let weight = weight
            .clone()
            .try_into_primitive::<Tracked<LibTorch>>()
            .ok()?;
        let bias = bias
            .clone()
            .try_into_primitive::<Tracked<LibTorch>>()
            .ok()?;
        let x_tracked = x.is_tracked();
        let weight_tracked = weight.is_tracked();
        let prepared = LinearStep
            .prepare::<NoCheckpointing>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        let x = x.into_primitive();
        let weight = weight.into_primitive();
        let output = TchTensor::new(affine(
            &x.tensor,
            &weight.tensor,
            &bias.into_primitive().tensor,
        ));
        let output = match prepared {
            // As in burn's own matrix product, each operand is kept only for
            // the gradient of the other.
            OpsKind::Tracked(prep) => {
                let state = (weight_tracked.then_some(x), x_tracked.then_some(weight));
                prep.finish(state, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(output),
        };
        Some(Tensor::from_primitive::<Tracked<LibTorch>>(output))
    }

    /// Computes `x · weight + bias` over the last dimension of `x` with one `addmm`.
    fn affine(x: &tch::Tensor, weight: &tch::Tensor, bias: &tch::Tensor) -> tch::Tensor {
        let mut size = x.size();
        let width = size.last().copied().unwrap_or(0);
        let rows = x.reshape([-1, width]);
        let output = bias.addmm(&rows, weight);
        if let Some(last) = size.last_mut() {
            *last = weight.size()[1];
        }
        output.reshape(size.as_slice())
    }

    /// Autodiff step of `x · weight + bias`, with the weight `[in, out]`.
    #[derive(Debug)]
    struct LinearStep;

    impl Backward<LibTorch, 3> for LinearStep {
        /// The input, kept when the weight needs a gradient, and the weight,
        /// kept when the input does.
        type State = (Option<TchTensor>, Option<TchTensor>);

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
            let grad = grads.consume::<LibTorch>(&ops.node);
            let (x, weight) = ops.state;
            let [x_node, weight_node, bias_node] = ops.parents;
            let size = grad.tensor.size();
            let outputs = size.last().copied().unwrap_or(0);
            let grad_rows = grad.tensor.reshape([-1, outputs]);

            if let (Some(node), Some(weight)) = (x_node, weight) {
                let mut x_size = size;
                if let Some(last) = x_size.last_mut() {
                    *last = weight.tensor.size()[0];
                }
                let dx = grad_rows.mm(&weight.tensor.tr()).reshape(x_size.as_slice());
                grads.register::<LibTorch>(node.id, TchTensor::new(dx));
            }
            if let (Some(node), Some(x)) = (weight_node, x) {
                let inputs = x.tensor.size().last().copied().unwrap_or(0);
                let x_rows = x.tensor.reshape([-1, inputs]);
                let dweight = x_rows.tr().mm(&grad_rows);
                grads.register::<LibTorch>(node.id, TchTensor::new(dweight));
            }
            if let Some(node) = bias_node {
                let dbias = grad_rows.sum_dim_intlist(&[0i64][..], false, None);
                grads.register::<LibTorch>(node.id, TchTensor::new(dbias));
            }
        }
    }

    #[cfg(test)]
    pub(super) fn assert_fused() {
        let device = burn::tensor::Device::libtorch();
        super::tests::assert_fused::<LibTorch>(device.clone().autodiff());
        for device in [device.clone(), device.autodiff()] {
            let x = Tensor::<2>::ones([2, 3], &device);
            let weight = Tensor::<2>::ones([3, 4], &device);
            let bias = Tensor::<1>::zeros([4], &device);
            assert!(linear(&x, &weight, &bias).is_some(), "{device:?}");
        }
    }

    impl FusedKernels for LibTorch {
        fn softmax_backward(
            output: FloatTensor<Self>,
            grad: FloatTensor<Self>,
        ) -> FloatTensor<Self> {
            let kind = output.tensor.kind();
            TchTensor::new(tch::Tensor::internal_softmax_backward_data(
                &grad.tensor,
                &output.tensor,
                -1,
                kind,
            ))
        }

        fn layer_norm_forward(
            x: FloatTensor<Self>,
            gamma: FloatTensor<Self>,
            beta: FloatTensor<Self>,
            epsilon: f64,
        ) -> [FloatTensor<Self>; 3] {
            let width = x.tensor.size().last().copied().unwrap_or(0);
            let (output, mean, inverse_std) = x.tensor.native_layer_norm(
                [width],
                Some(&gamma.tensor),
                Some(&beta.tensor),
                epsilon,
            );
            [
                TchTensor::new(output),
                TchTensor::new(mean),
                TchTensor::new(inverse_std),
            ]
        }

        fn layer_norm_backward(
            grad: FloatTensor<Self>,
            saved: LayerNormSaved<Self>,
        ) -> [FloatTensor<Self>; 3] {
            let LayerNormSaved {
                x,
                gamma,
                mean,
                inverse_std,
            } = saved;
            let output_grad = grad;
            let grad = &output_grad.tensor;
            let last = [-1i64];
            let rows: Vec<i64> = (0..grad.dim() as i64 - 1).collect();

            // On CUDA the row statistics of half-precision inputs come back in
            // single precision, so `normalized` takes the input's type again.
            let normalized =
                ((&x.tensor - &mean.tensor) * &inverse_std.tensor).to_kind(x.tensor.kind());
            // `scaled` is a fresh buffer, so the in-place steps below touch no
            // tensor that another step reads.
            let mut scaled = grad * &gamma.tensor;
            let scaled_mean = scaled.mean_dim(&last[..], true, None);
            let projection = (&scaled * &normalized).mean_dim(&last[..], true, None);
            let _ = scaled.g_sub_(&scaled_mean);
            let _ = scaled.addcmul_(&normalized, &projection.neg());
            let _ = scaled.g_mul_(&inverse_std.tensor);

            // libtorch reads an empty list of dimensions as all of them, so a
            // single row keeps its gradients as they are. Its beta gradient is
            // the output gradient itself, whose storage other steps may share.
            // The clone keeps burn's count of that storage, so burn does not
            // write into it in place.
            let sum_rows =
                |tensor: tch::Tensor| tensor.sum_dim_intlist(rows.as_slice(), false, None);
            let (dgamma, dbeta) = match rows.is_empty() {
                true => (TchTensor::new(grad * &normalized), output_grad.clone()),
                false => (
                    TchTensor::new(sum_rows(grad * &normalized)),
                    TchTensor::new(sum_rows(grad.shallow_clone())),
                ),
            };
            [TchTensor::new(scaled), dgamma, dbeta]
        }
    }
}

/// Tensors saved for the layer-norm backward: the input, the scale and the row statistics.
#[derive(Debug, Clone)]
struct LayerNormSaved<B: Backend> {
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    mean: FloatTensor<B>,
    inverse_std: FloatTensor<B>,
}

fn last_dim<B: Backend>(tensor: &FloatTensor<B>) -> usize {
    use burn::backend::TensorMetadata;
    tensor.shape().num_dims() - 1
}

/// Sums `[..., d]` over every dimension but the last, to `[d]`.
fn sum_rows<B: Backend>(tensor: FloatTensor<B>) -> FloatTensor<B> {
    use burn::backend::TensorMetadata;
    let shape = tensor.shape();
    let width = shape[shape.num_dims() - 1];
    let rows = B::float_reshape(tensor, [shape.num_elements() / width, width].into());
    B::float_reshape(B::float_sum_dim(rows, 0), [width].into())
}

#[derive(Debug)]
struct SoftmaxStep;

impl<B: FusedKernels> Backward<B, 1> for SoftmaxStep {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let output = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::softmax_backward(output, grad)
        });
    }
}

/// Runs the fused softmax when `x` is a tracked tensor of backend `B`.
fn tracked_softmax<B: FusedKernels, const D: usize>(x: &Tensor<D>) -> Option<Tensor<D>>
where
    burn::backend::DispatchTensor: burn::backend::DispatchKindConversion<Tracked<B>>,
{
    let x = x.clone().try_into_primitive::<Tracked<B>>().ok()?;
    let output = match SoftmaxStep
        .prepare::<NoCheckpointing>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let output = B::softmax(x.into_primitive(), D - 1);
            prep.finish(output.clone(), output)
        }
        OpsKind::UnTracked(prep) => prep.finish(B::softmax(x.into_primitive(), D - 1)),
    };
    Some(Tensor::from_primitive::<Tracked<B>>(output))
}

#[derive(Debug)]
struct LayerNormStep;

impl<B: FusedKernels> Backward<B, 3> for LayerNormStep {
    type State = Option<LayerNormSaved<B>>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<B>(&ops.node);
        let Some(saved) = ops.state else {
            return;
        };
        let [dx, dgamma, dbeta] = B::layer_norm_backward(grad, saved);
        for (parent, gradient) in ops.parents.into_iter().zip([dx, dgamma, dbeta]) {
            if let Some(parent) = parent {
                grads.register::<B>(parent.id, gradient);
            }
        }
    }
}

/// Runs the fused layer norm when `x` is a tracked tensor of backend `B`.
fn tracked_layer_norm<B: FusedKernels, const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> Option<Tensor<D>>
where
    burn::backend::DispatchTensor: burn::backend::DispatchKindConversion<Tracked<B>>,
{
    let x = x.try_into_primitive::<Tracked<B>>().ok()?;
    let gamma = gamma.try_into_primitive::<Tracked<B>>().ok()?;
    let beta = beta.try_into_primitive::<Tracked<B>>().ok()?;
    let output = match LayerNormStep
        .prepare::<NoCheckpointing>([x.node(), gamma.node(), beta.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let x = x.into_primitive();
            let gamma = gamma.into_primitive();
            let [output, mean, inverse_std] =
                B::layer_norm_forward(x.clone(), gamma.clone(), beta.into_primitive(), epsilon);
            let saved = LayerNormSaved {
                x,
                gamma,
                mean,
                inverse_std,
            };
            prep.finish(Some(saved), output)
        }
        OpsKind::UnTracked(prep) => prep.finish(B::layer_norm(
            x.into_primitive(),
            gamma.into_primitive(),
            Some(beta.into_primitive()),
            epsilon,
        )),
    };
    Some(Tensor::from_primitive::<Tracked<B>>(output))
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;

    /// Checks that tracked tensors of `device` take the fused steps. The public
    /// functions fall back to burn's composition when a tensor does not convert.
    pub(super) fn assert_fused<B: FusedKernels>(device: Device)
    where
        burn::backend::DispatchTensor: burn::backend::DispatchKindConversion<Tracked<B>>,
    {
        let x = Tensor::<2>::ones([2, 3], &device).require_grad();
        assert!(tracked_softmax::<B, 2>(&x).is_some());
        let gamma = Tensor::<1>::ones([3], &device).require_grad();
        let beta = Tensor::<1>::zeros([3], &device).require_grad();
        assert!(tracked_layer_norm::<B, 2>(x, gamma, beta, 1e-5).is_some());
    }

    #[test]
    fn tracked_tensors_take_the_fused_steps() {
        assert_fused::<Flex>(Device::flex().autodiff());
        #[cfg(feature = "tch")]
        libtorch::assert_fused();
    }
}
