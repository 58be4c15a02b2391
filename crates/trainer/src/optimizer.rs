//! AdamW over two parameter groups, with its state in the layout of
//! `torch.optim.AdamW.state_dict()`.
//!
//! The update is PyTorch's AdamW (decoupled weight decay, bias-corrected
//! moments). Tensors in CPU memory go through a one-pass kernel, and others
//! through burn's tensor operations.
//!
//! The moments are kept here, by PyTorch key, rather than in burn's
//! `ModuleOptimizer`. A checkpoint must store them in PyTorch's layout (per
//! parameter id over the groups, `Linear` weights transposed), and burn's
//! optimiser record keys them by run-specific parameter ids in fields that are
//! private to burn.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use mixformer_layer_surgery::{AdamWGroup, AdamWParameterState, AdamWState, Tensor as Stored};

use crate::TrainError;
use crate::adamw_cpu::{self, StepScalars};
use crate::params::{Group, ParamInfo};

/// PyTorch's AdamW betas, as the reference uses them.
pub const BETAS: (f64, f64) = (0.9, 0.999);
/// PyTorch's AdamW epsilon, as the reference uses it.
pub const EPSILON: f64 = 1e-8;

/// Learning rates of the two groups for one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupRates {
    /// Rate of the head group (`LR` times the schedule's factor).
    pub head: f64,
    /// Rate of the backbone group (`LR * BACKBONE_MULTIPLIER` times the factor).
    pub backbone: f64,
}

impl GroupRates {
    /// The rate of `group`.
    pub fn of(&self, group: Group) -> f64 {
        match group {
            Group::Head => self.head,
            Group::Backbone => self.backbone,
        }
    }
}

/// Running moments of one parameter, flattened, in burn's layout.
#[derive(Debug, Clone)]
struct Moments {
    step: usize,
    exp_avg: Tensor<1>,
    exp_avg_sq: Tensor<1>,
}

/// AdamW with a head group and a backbone group; frozen parameters are in neither.
#[derive(Debug, Clone)]
pub struct GroupedAdamW {
    weight_decay: f64,
    params: Vec<ParamInfo>,
    moments: HashMap<String, Moments>,
    base_rates: GroupRates,
    rates: GroupRates,
}

impl GroupedAdamW {
    /// Creates the optimiser for the trained entries of `params`, with
    /// `base_rates` before any schedule.
    pub fn new(params: Vec<ParamInfo>, weight_decay: f64, base_rates: GroupRates) -> Self {
        Self {
            weight_decay,
            params,
            moments: HashMap::new(),
            base_rates,
            rates: base_rates,
        }
    }

    /// Returns every parameter registered with the optimiser, trained or not.
    pub fn params(&self) -> &[ParamInfo] {
        &self.params
    }

    /// The current learning rates.
    pub fn rates(&self) -> GroupRates {
        self.rates
    }

    /// Sets the learning rates of the following steps.
    pub fn set_rates(&mut self, rates: GroupRates) {
        self.rates = rates;
    }

    /// Applies one update to every trained parameter that has a gradient in
    /// `grads`; other parameters are returned untouched.
    pub fn step<M: Module>(&mut self, module: M, grads: &mut GradientsParams) -> M {
        let by_id: HashMap<ParamId, &ParamInfo> = self
            .params
            .iter()
            .filter(|info| info.trained)
            .map(|info| (info.id, info))
            .collect();
        let mut updater = Updater {
            weight_decay: self.weight_decay,
            by_id,
            moments: &mut self.moments,
            grads,
            rates: self.rates,
        };
        module.map(&mut updater)
    }

    /// The update count and moments of a parameter, in burn's layout, if it
    /// was updated at least once.
    pub fn moments_of(&self, key: &str) -> Option<(usize, Vec<f32>, Vec<f32>)> {
        let moments = self.moments.get(key)?;
        Some((
            moments.step,
            to_vec(moments.exp_avg.clone()),
            to_vec(moments.exp_avg_sq.clone()),
        ))
    }

    /// The state as `torch.optim.AdamW.state_dict()` lays it out: the head
    /// group then the backbone group, parameters numbered consecutively in
    /// that order, named in `param_names`, moments in PyTorch's layout.
    pub fn state(&self) -> Result<AdamWState, TrainError> {
        let mut state = AdamWState::default();
        let mut next_id = 0i64;
        for group in [Group::Head, Group::Backbone] {
            let mut ids = Vec::new();
            let mut names = Vec::new();
            for info in self.trained_in(group) {
                if let Some(moments) = self.moments.get(&info.key) {
                    state.state.push((next_id, stored_moments(info, moments)?));
                }
                ids.push(next_id);
                names.push(info.key.clone());
                next_id += 1;
            }
            state.param_groups.push(AdamWGroup {
                lr: self.rates.of(group),
                initial_lr: Some(self.base_rates.of(group)),
                betas: BETAS,
                eps: EPSILON,
                weight_decay: self.weight_decay,
                amsgrad: false,
                params: ids,
                param_names: names,
            });
        }
        Ok(state)
    }

    /// Restores the moments and learning rates saved by [`GroupedAdamW::state`].
    ///
    /// Parameters are matched by name; the groups must hold the same trained
    /// parameters with the same shapes, or the error lists what differs.
    pub fn load_state(
        &mut self,
        state: &AdamWState,
        device: &Device,
        origin: &str,
    ) -> Result<(), TrainError> {
        let fail = |message: String| TrainError::Resume {
            path: origin.into(),
            message,
        };
        if state.param_groups.len() != 2 {
            return Err(fail(format!(
                "the optimiser state has {} parameter groups, expected 2 (head, backbone)",
                state.param_groups.len()
            )));
        }
        let mut by_id: HashMap<i64, &AdamWParameterState> = HashMap::new();
        for (id, moments) in &state.state {
            by_id.insert(*id, moments);
        }
        let mut moments = HashMap::new();
        let mut rates = [0.0; 2];
        for (position, group) in [Group::Head, Group::Backbone].into_iter().enumerate() {
            let saved = &state.param_groups[position];
            let expected: Vec<&String> = self.trained_in(group).map(|info| &info.key).collect();
            let names: Vec<&String> = saved.param_names.iter().collect();
            if names != expected {
                return Err(fail(format!(
                    "the {group:?} group of the optimiser state names {} parameters, the model \
                     trains {}; the checkpoint belongs to another stage or another freezing",
                    names.len(),
                    expected.len()
                )));
            }
            rates[position] = saved.lr;
            for (id, key) in saved.params.iter().zip(&saved.param_names) {
                let Some(saved_moments) = by_id.get(id) else {
                    continue;
                };
                let info = self
                    .params
                    .iter()
                    .find(|info| &info.key == key)
                    .ok_or_else(|| fail(format!("no parameter {key} in the model")))?;
                moments.insert(
                    key.clone(),
                    burn_moments(info, saved_moments, device, &fail)?,
                );
            }
        }
        self.moments = moments;
        self.rates = GroupRates {
            head: rates[0],
            backbone: rates[1],
        };
        Ok(())
    }

    fn trained_in(&self, group: Group) -> impl Iterator<Item = &ParamInfo> {
        self.params
            .iter()
            .filter(move |info| info.trained && info.group == group)
    }
}

fn to_vec<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("a converted float tensor reads back as f32")
}

/// Moments of one parameter in PyTorch's layout.
fn stored_moments(info: &ParamInfo, moments: &Moments) -> Result<AdamWParameterState, TrainError> {
    let convert = |flat: &Tensor<1>| -> Result<Stored, TrainError> {
        let (shape, values) = torch_layout(info, to_vec(flat.clone()));
        Stored::from_f32(shape, &values).map_err(TrainError::from)
    };
    Ok(AdamWParameterState {
        step: moments.step as f64,
        exp_avg: convert(&moments.exp_avg)?,
        exp_avg_sq: convert(&moments.exp_avg_sq)?,
    })
}

/// `values` of a parameter in burn's layout, reordered to PyTorch's.
fn torch_layout(info: &ParamInfo, values: Vec<f32>) -> (Vec<usize>, Vec<f32>) {
    if !info.transposed || info.shape.len() != 2 {
        return (info.shape.clone(), values);
    }
    let (rows, columns) = (info.shape[0], info.shape[1]);
    let mut transposed = vec![0.0; values.len()];
    for row in 0..rows {
        for column in 0..columns {
            transposed[column * rows + row] = values[row * columns + column];
        }
    }
    (vec![columns, rows], transposed)
}

fn burn_moments(
    info: &ParamInfo,
    saved: &AdamWParameterState,
    device: &Device,
    fail: &dyn Fn(String) -> TrainError,
) -> Result<Moments, TrainError> {
    let torch_shape: Vec<usize> = if info.transposed && info.shape.len() == 2 {
        vec![info.shape[1], info.shape[0]]
    } else {
        info.shape.clone()
    };
    let convert = |stored: &Stored| -> Result<Tensor<1>, TrainError> {
        if stored.shape() != torch_shape.as_slice() {
            return Err(fail(format!(
                "the moments of {} have shape {:?}, the parameter has {:?}",
                info.key,
                stored.shape(),
                torch_shape
            )));
        }
        let values = stored.to_f32_vec();
        // PyTorch -> burn is the same transpose read the other way round.
        let burn_values = if info.transposed && torch_shape.len() == 2 {
            let flipped = ParamInfo {
                shape: torch_shape.clone(),
                ..info.clone()
            };
            torch_layout(&flipped, values).1
        } else {
            values
        };
        let count = burn_values.len();
        Ok(Tensor::from_data(
            TensorData::new(burn_values, [count]),
            device,
        ))
    };
    Ok(Moments {
        step: saved.step.round().max(0.0) as usize,
        exp_avg: convert(&saved.exp_avg)?,
        exp_avg_sq: convert(&saved.exp_avg_sq)?,
    })
}

struct Updater<'a> {
    weight_decay: f64,
    by_id: HashMap<ParamId, &'a ParamInfo>,
    moments: &'a mut HashMap<String, Moments>,
    grads: &'a mut GradientsParams,
    rates: GroupRates,
}

impl ModuleMapper for Updater<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(info) = self.by_id.get(&param.id).copied() else {
            return param;
        };
        let Some(grad) = self.grads.remove::<D>(param.id) else {
            return param;
        };
        let (id, tensor, mapper) = param.consume();
        let require_grad = tensor.is_require_grad();
        let checkpointing = tensor.gradient_checkpointing_strategy();
        let shape = tensor.shape();
        let autodiff = tensor.is_autodiff();

        // The update runs on the plain tensor, outside the autodiff graph. The
        // moments are stored flat so that one map contains every rank.
        let tensor = tensor.inner().flatten::<1>(0, D - 1);
        let grad = grad.flatten::<1>(0, D - 1);
        let previous = self.moments.remove(&info.key);
        let (updated, moments) = adamw_update(
            tensor,
            grad,
            previous,
            self.rates.of(info.group),
            self.weight_decay,
        );
        self.moments.insert(info.key.clone(), moments);

        let mut updated = updated.reshape(shape);
        if autodiff {
            updated = Tensor::from_inner(updated);
        }
        if let Some(strategy) = checkpointing {
            updated = updated.with_gradient_checkpointing_strategy(strategy);
        }
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// Runs one AdamW step of a flattened parameter, as `torch.optim.AdamW` computes it:
///
/// ```text
/// p <- p (1 - lr wd)
/// m <- b1 m + (1 - b1) g            v <- b2 v + (1 - b2) g^2
/// p <- p - (lr / c1) m / (sqrt(v) / sqrt(c2) + eps),   ck = 1 - bk^t
/// ```
///
/// The first step starts from zero moments, like PyTorch's. Tensors in CPU
/// memory go through the one-pass kernel of [`crate::adamw_cpu`]; others
/// through [`tensor_update`].
fn adamw_update(
    param: Tensor<1>,
    grad: Tensor<1>,
    previous: Option<Moments>,
    rate: f64,
    weight_decay: f64,
) -> (Tensor<1>, Moments) {
    let (beta_1, beta_2) = BETAS;
    let (step, exp_avg, exp_avg_sq) = step_moments(previous, &grad);
    let correction_1 = 1.0 - beta_1.powi(step as i32);
    let correction_2 = 1.0 - beta_2.powi(step as i32);
    let scalars = StepScalars {
        decay: (1.0 - rate * weight_decay) as f32,
        first_weight: (1.0 - beta_1) as f32,
        beta_2: beta_2 as f32,
        second_weight: (1.0 - beta_2) as f32,
        step_size: (rate / correction_1) as f32,
        correction_2_sqrt: correction_2.sqrt() as f32,
        epsilon: EPSILON as f32,
    };
    let inputs = [param, grad, exp_avg, exp_avg_sq];
    let [param, exp_avg, exp_avg_sq] = match adamw_cpu::try_update(&inputs, scalars) {
        Some(updated) => updated,
        None => tensor_update(inputs, rate, weight_decay, step),
    };
    (
        param,
        Moments {
            step,
            exp_avg,
            exp_avg_sq,
        },
    )
}

/// Returns the number of the coming step and the moments it starts from:
/// zeros before the first step, like PyTorch's.
fn step_moments(previous: Option<Moments>, grad: &Tensor<1>) -> (usize, Tensor<1>, Tensor<1>) {
    match previous {
        Some(moments) => (moments.step + 1, moments.exp_avg, moments.exp_avg_sq),
        None => (1, grad.zeros_like(), grad.zeros_like()),
    }
}

/// Runs the AdamW step of [`adamw_update`] in burn's tensor operations, for
/// any backend: `[param, grad, exp_avg, exp_avg_sq]` to the new `[param,
/// exp_avg, exp_avg_sq]`.
///
/// The scalars are folded into the moments and the denominator, so a step
/// takes fourteen elementwise passes and allocates two buffers on a backend
/// that updates unshared tensors in place, such as libtorch.
fn tensor_update(
    inputs: [Tensor<1>; 4],
    rate: f64,
    weight_decay: f64,
    step: usize,
) -> [Tensor<1>; 3] {
    let [param, grad, exp_avg, exp_avg_sq] = inputs;
    let (beta_1, beta_2) = BETAS;
    // m <- (m b1 / (1 - b1) + g)(1 - b1), and the same for v with g^2.
    let exp_avg =
        (exp_avg.mul_scalar(beta_1 / (1.0 - beta_1)) + grad.clone()).mul_scalar(1.0 - beta_1);
    let exp_avg_sq =
        (exp_avg_sq.mul_scalar(beta_2 / (1.0 - beta_2)) + grad.square()).mul_scalar(1.0 - beta_2);

    let decayed = param.mul_scalar(1.0 - rate * weight_decay);
    if rate <= 0.0 {
        return [decayed, exp_avg, exp_avg_sq];
    }
    // (lr / c1) m / (sqrt(v) / sqrt(c2) + eps) = m / (a sqrt(v) + b)
    let correction_1 = 1.0 - beta_1.powi(step as i32);
    let correction_2 = 1.0 - beta_2.powi(step as i32);
    let a = correction_1 / (rate * correction_2.sqrt());
    let b = EPSILON * correction_1 / rate;
    let delta = exp_avg_sq
        .clone()
        .sqrt()
        .mul_scalar(a)
        .add_scalar(b)
        .recip()
        .mul(exp_avg.clone());
    [decayed - delta, exp_avg, exp_avg_sq]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: Tensor<1>, expected: &[f32], label: &str) {
        let actual = to_vec(actual);
        for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() <= 1e-6 + 1e-5 * e.abs(),
                "{label}[{index}]: {a} against PyTorch's {e}"
            );
        }
    }

    type Update = fn(Tensor<1>, Tensor<1>, Option<Moments>, f64, f64) -> (Tensor<1>, Moments);

    /// Runs [`adamw_update`]'s step with burn's tensor operations only.
    fn tensor_path(
        param: Tensor<1>,
        grad: Tensor<1>,
        previous: Option<Moments>,
        rate: f64,
        weight_decay: f64,
    ) -> (Tensor<1>, Moments) {
        let (step, exp_avg, exp_avg_sq) = step_moments(previous, &grad);
        let [param, exp_avg, exp_avg_sq] =
            tensor_update([param, grad, exp_avg, exp_avg_sq], rate, weight_decay, step);
        let moments = Moments {
            step,
            exp_avg,
            exp_avg_sq,
        };
        (param, moments)
    }

    /// Checks three steps against `torch.optim.AdamW(lr, betas=(0.9, 0.999),
    /// eps=1e-8, weight_decay=0.05)` from torch 2.9, the third at a lower rate.
    /// The entries cover a zero gradient, a large one and one near epsilon.
    fn check_against_pytorch(update: Update, device: &Device, path: &str) {
        let tensor = |values: &[f32]| Tensor::<1>::from_floats(values, device);
        let grads: [[f32; 5]; 3] = [
            [0.1, -0.2, 0.0, 1.5, 1e-6],
            [-0.3, 0.05, 0.02, 1.0, -2e-6],
            [0.2, 0.2, -0.01, -4.0, 0.0],
        ];
        let rates = [0.01, 0.01, 0.004];
        let expected: [[f32; 5]; 3] = [
            [4.897_5e-1, -1.239_375, 1.999, -1.0e-2, -9.601_138_5e-3],
            [
                4.944_470_2e-1,
                -1.234_060_5,
                1.990_559,
                -1.969_852_1e-2,
                -5.958_307_5e-3,
            ],
            [
                4.942_729_8e-1,
                -1.234_552_5,
                1.989_246_4,
                -1.859_660_8e-2,
                -4.833_821e-3,
            ],
        ];

        let mut param = tensor(&[0.5, -1.25, 2.0, 0.0, 3e-4]);
        let mut moments = None;
        for step in 0..3 {
            let (updated, next) = update(param, tensor(&grads[step]), moments, rates[step], 0.05);
            let label = format!("{path}, step {}", step + 1);
            assert_close(updated.clone(), &expected[step], &label);
            param = updated;
            moments = Some(next);
        }
        let moments = moments.expect("three steps ran");
        assert_eq!(moments.step, 3);
        assert_close(
            moments.exp_avg,
            &[1.1e-3, 8.3e-3, 8.0e-4, -1.885e-1, -9.9e-8],
            &format!("{path}, exp_avg"),
        );
        assert_close(
            moments.exp_avg_sq,
            &[
                1.398_900_2e-4,
                8.241_754_4e-5,
                4.996e-7,
                1.924_450_3e-2,
                4.994e-15,
            ],
            &format!("{path}, exp_avg_sq"),
        );
    }

    #[test]
    fn one_pass_kernel_matches_pytorch() {
        check_against_pytorch(adamw_update, &Device::flex(), "one-pass kernel");
    }

    #[test]
    fn tensor_operations_match_pytorch() {
        check_against_pytorch(tensor_path, &Device::flex(), "tensor operations");
    }

    #[cfg(feature = "tch")]
    #[test]
    fn libtorch_paths_match_pytorch() {
        let device = mixformer_model_vit::device_from_name("libtorch").expect("a known device");
        check_against_pytorch(adamw_update, &device, "libtorch one-pass kernel");
        check_against_pytorch(tensor_path, &device, "libtorch tensor operations");
    }

    /// Long enough for several kernel chunks and a short last one.
    #[test]
    fn both_paths_agree_over_many_chunks() {
        let device = Device::flex();
        let length = 2 * 16 * 1024 + 777;
        let wave = |scale: f32, phase: f32| -> Tensor<1> {
            let values: Vec<f32> = (0..length)
                .map(|index| scale * (index as f32 * 0.37 + phase).sin())
                .collect();
            Tensor::from_data(TensorData::new(values, [length]), &device)
        };
        let (mut kernel, mut tensors) = (wave(1.0, 0.0), wave(1.0, 0.0));
        let (mut kernel_moments, mut tensor_moments) = (None, None);
        for step in 0..3 {
            let grad = wave(0.1, step as f32);
            let (param, moments) = adamw_update(kernel, grad.clone(), kernel_moments, 0.01, 0.05);
            (kernel, kernel_moments) = (param, Some(moments));
            let (param, moments) = tensor_path(tensors, grad, tensor_moments, 0.01, 0.05);
            (tensors, tensor_moments) = (param, Some(moments));
        }
        assert_close(kernel, &to_vec(tensors), "parameter");
    }

    #[test]
    fn one_pass_kernel_leaves_its_inputs_unchanged() {
        let device = Device::flex();
        let param = Tensor::<1>::from_floats([1.0, -2.0, 3.0], &device);
        let grad = Tensor::<1>::from_floats([0.5, 0.25, -1.0], &device);
        let (updated, moments) = adamw_update(param.clone(), grad.clone(), None, 0.1, 0.05);
        let (again, _) = adamw_update(
            updated.clone(),
            grad.clone(),
            Some(moments.clone()),
            0.1,
            0.05,
        );
        assert_close(param, &[1.0, -2.0, 3.0], "parameter");
        assert_close(grad, &[0.5, 0.25, -1.0], "gradient");
        assert_eq!(moments.step, 1);
        assert_close(moments.exp_avg, &[0.05, 0.025, -0.1], "first moment");
        assert!(
            to_vec(again) != to_vec(updated),
            "a second step moves the parameter"
        );
    }

    #[test]
    fn zero_rate_moves_only_the_moments() {
        let device = Device::flex();
        let param = Tensor::<1>::from_floats([1.0, -2.0], &device);
        let grad = Tensor::<1>::from_floats([0.5, 0.25], &device);
        let (updated, moments) = adamw_update(param, grad, None, 0.0, 0.05);
        assert_close(updated, &[1.0, -2.0], "parameter");
        assert_close(moments.exp_avg, &[0.05, 0.025], "exp_avg");
        assert_eq!(moments.step, 1);
    }
}
