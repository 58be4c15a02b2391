//! Clipping of the gradients to a global norm, as `torch.nn.utils.clip_grad_norm_`.

use std::collections::BTreeSet;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// The small number PyTorch adds to the norm before dividing by it.
const NORM_EPSILON: f64 = 1e-6;

/// The L2 norm of all gradients of the parameters in `trained` taken together.
pub fn global_norm<M: Module>(
    module: &M,
    grads: &GradientsParams,
    trained: &BTreeSet<ParamId>,
) -> f64 {
    let mut summer = SquareSum {
        grads,
        trained,
        sum: None,
    };
    module.visit(&mut summer);
    summer
        .sum
        .map(|sum| sum.into_scalar::<f64>().sqrt())
        .unwrap_or(0.0)
}

/// Scales the gradients of `trained` so that their global norm is at most
/// `max_norm` and returns the norm before clipping.
///
/// As in PyTorch, gradients are multiplied by `max_norm / (norm + 1e-6)` when
/// that factor is below 1, so the norm after clipping is `max_norm` up to the
/// epsilon; a non-finite norm leaves them unchanged for the loss check to stop on.
pub fn clip_global_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    trained: &BTreeSet<ParamId>,
    max_norm: f64,
) -> f64 {
    let norm = global_norm(module, grads, trained);
    let factor = max_norm / (norm + NORM_EPSILON);
    if norm.is_finite() && factor < 1.0 {
        let mut scaler = Scaler {
            grads,
            trained,
            factor,
        };
        module.visit(&mut scaler);
    }
    norm
}

struct SquareSum<'a> {
    grads: &'a GradientsParams,
    trained: &'a BTreeSet<ParamId>,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquareSum<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if !self.trained.contains(&param.id) {
            return;
        }
        let Some(grad) = self.grads.get::<D>(param.id) else {
            return;
        };
        let squares = grad.square().sum();
        self.sum = Some(match self.sum.take() {
            Some(sum) => sum + squares,
            None => squares,
        });
    }
}

struct Scaler<'a> {
    grads: &'a mut GradientsParams,
    trained: &'a BTreeSet<ParamId>,
    factor: f64,
}

impl ModuleVisitor for Scaler<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.trained.contains(&param.id)
            && let Some(grad) = self.grads.remove::<D>(param.id)
        {
            self.grads
                .register::<D>(param.id, grad.mul_scalar(self.factor));
        }
    }
}
