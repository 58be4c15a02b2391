//! One-pass AdamW over tensors in CPU memory, for the flex backend and
//! libtorch's CPU device.
//!
//! Written with tensor operations, the update streams each element through
//! memory about thirty times by our count, and PyTorch's own CPU loop about
//! twenty. This kernel reads the parameter, the gradient and both moments once
//! and writes the three results once, in chunks spread over rayon's threads.
//! The inputs are only read and the results go to new buffers, so a tensor
//! shared with another module or a caller is never changed.

use std::mem::MaybeUninit;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

/// Elements per rayon task: about a hundred tasks for a ViT-B MLP weight,
/// one for a bias.
const CHUNK: usize = 16 * 1024;

/// The scalars of one AdamW step, in the form PyTorch's update uses them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepScalars {
    /// `1 - lr * weight_decay`.
    pub decay: f32,
    /// `1 - beta_1`, the weight of the gradient in the first moment.
    pub first_weight: f32,
    /// `beta_2`.
    pub beta_2: f32,
    /// `1 - beta_2`.
    pub second_weight: f32,
    /// `lr / (1 - beta_1^t)`.
    pub step_size: f32,
    /// `sqrt(1 - beta_2^t)`.
    pub correction_2_sqrt: f32,
    /// `eps`.
    pub epsilon: f32,
}

/// The four inputs of an update: `[param, grad, exp_avg, exp_avg_sq]`.
pub(crate) type Inputs = [Tensor<1>; 4];

/// Updates `inputs` in one pass and returns the new `[param, exp_avg,
/// exp_avg_sq]`, or `None` when they are not all `f32` tensors in CPU memory
/// of a backend this kernel reads.
pub(crate) fn try_update(inputs: &Inputs, scalars: StepScalars) -> Option<[Tensor<1>; 3]> {
    if let Some(outputs) = flex_update(inputs, scalars) {
        return Some(outputs);
    }
    #[cfg(feature = "tch")]
    if let Some(outputs) = libtorch::update(inputs, scalars) {
        return Some(outputs);
    }
    None
}

fn flex_update(inputs: &Inputs, scalars: StepScalars) -> Option<[Tensor<1>; 3]> {
    let mut flex = Vec::with_capacity(4);
    for tensor in inputs {
        match tensor.clone().try_into_primitive::<Flex>() {
            Ok(primitive) if primitive.dtype() == DType::F32 => {
                flex.push(contiguous(primitive));
            }
            _ => return None,
        }
    }
    let slices: Vec<&[f32]> = flex
        .iter()
        .filter_map(|tensor| tensor.as_slice::<f32>())
        .collect();
    let [param, grad, exp_avg, exp_avg_sq] = slices[..] else {
        return None;
    };
    if !same_length(param, grad, exp_avg, exp_avg_sq) {
        return None;
    }

    let length = param.len();
    let mut outputs = [(); 3].map(|_| Vec::<f32>::with_capacity(length));
    {
        let [out_param, out_avg, out_avg_sq] = &mut outputs;
        update(
            [param, grad, exp_avg, exp_avg_sq],
            [
                &mut out_param.spare_capacity_mut()[..length],
                &mut out_avg.spare_capacity_mut()[..length],
                &mut out_avg_sq.spare_capacity_mut()[..length],
            ],
            scalars,
        );
    }
    Some(outputs.map(|mut values| {
        // SAFETY: `update` wrote every one of the first `length` elements.
        unsafe { values.set_len(length) };
        let primitive = FlexTensor::from_data(TensorData::new(values, [length]));
        Tensor::from_primitive::<Flex>(primitive)
    }))
}

/// Returns `tensor` itself when its elements are one contiguous run, else a contiguous copy.
fn contiguous(tensor: FlexTensor) -> FlexTensor {
    if tensor.as_slice::<f32>().is_some() {
        tensor
    } else {
        tensor.to_contiguous()
    }
}

fn same_length(param: &[f32], grad: &[f32], exp_avg: &[f32], exp_avg_sq: &[f32]) -> bool {
    let length = param.len();
    grad.len() == length && exp_avg.len() == length && exp_avg_sq.len() == length
}

/// Runs the update over equal-length slices: reads `[param, grad, exp_avg,
/// exp_avg_sq]` and writes every element of `[param, exp_avg, exp_avg_sq]`.
///
/// The arithmetic follows `torch.optim.AdamW`'s single-tensor CPU path
/// operation by operation: `mul_`, `lerp_`, `mul_` and `addcmul_`, then
/// `addcdiv_` by `sqrt(v) / sqrt(c2) + eps`.
fn update(inputs: [&[f32]; 4], outputs: [&mut [MaybeUninit<f32>]; 3], scalars: StepScalars) {
    let [param, grad, exp_avg, exp_avg_sq] = inputs;
    let [out_param, out_avg, out_avg_sq] = outputs;
    out_param
        .par_chunks_mut(CHUNK)
        .zip(out_avg.par_chunks_mut(CHUNK))
        .zip(out_avg_sq.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(index, ((new_param, new_avg), new_avg_sq))| {
            let start = index * CHUNK;
            let end = start + new_param.len();
            update_chunk(
                [
                    &param[start..end],
                    &grad[start..end],
                    &exp_avg[start..end],
                    &exp_avg_sq[start..end],
                ],
                [new_param, new_avg, new_avg_sq],
                scalars,
            );
        });
}

fn update_chunk(inputs: [&[f32]; 4], outputs: [&mut [MaybeUninit<f32>]; 3], s: StepScalars) {
    let [param, grad, exp_avg, exp_avg_sq] = inputs;
    let [new_param, new_avg, new_avg_sq] = outputs;
    for index in 0..new_param.len() {
        let g = grad[index];
        let m = exp_avg[index];
        let m = m + s.first_weight * (g - m);
        let v = exp_avg_sq[index] * s.beta_2 + s.second_weight * g * g;
        let denominator = v.sqrt() / s.correction_2_sqrt + s.epsilon;
        let p = param[index] * s.decay - s.step_size * (m / denominator);
        new_param[index].write(p);
        new_avg[index].write(m);
        new_avg_sq[index].write(v);
    }
}

// burn 0.22 marks burn-tch deprecated and 0.23 removes it, so the workspace pins 0.22.
#[cfg(feature = "tch")]
#[allow(deprecated)]
mod libtorch {
    //! The same kernel on libtorch's CPU tensors, read and written through
    //! their data pointers.

    use std::mem::MaybeUninit;

    use burn::backend::LibTorch;
    use burn::backend::libtorch::TchTensor;
    use burn::tensor::Tensor;
    use tch::{Device, Kind};

    use super::{Inputs, StepScalars};

    pub(super) fn update(inputs: &Inputs, scalars: StepScalars) -> Option<[Tensor<1>; 3]> {
        let mut tensors = Vec::with_capacity(4);
        for tensor in inputs {
            match tensor.clone().try_into_primitive::<LibTorch>() {
                Ok(primitive)
                    if primitive.tensor.device() == Device::Cpu
                        && primitive.tensor.kind() == Kind::Float
                        && primitive.tensor.dim() == 1 =>
                {
                    tensors.push(primitive.tensor.contiguous());
                }
                _ => return None,
            }
        }
        let length = tensors[0].numel();
        if tensors.iter().any(|tensor| tensor.numel() != length) {
            return None;
        }

        let outputs =
            [(); 3].map(|_| tch::Tensor::empty([length as i64], (Kind::Float, Device::Cpu)));
        {
            // SAFETY: each input is a contiguous CPU float tensor of `length`
            // elements that lives until the end of this block and that nothing
            // writes meanwhile. The outputs are new tensors of `length`
            // elements, distinct from the inputs and from each other, and are
            // viewed as uninitialised until `update` writes them.
            let read = |tensor: &tch::Tensor| unsafe {
                std::slice::from_raw_parts(tensor.data_ptr() as *const f32, length)
            };
            let write = |tensor: &tch::Tensor| unsafe {
                std::slice::from_raw_parts_mut(tensor.data_ptr() as *mut MaybeUninit<f32>, length)
            };
            let [out_param, out_avg, out_avg_sq] = &outputs;
            super::update(
                [
                    read(&tensors[0]),
                    read(&tensors[1]),
                    read(&tensors[2]),
                    read(&tensors[3]),
                ],
                [write(out_param), write(out_avg), write(out_avg_sq)],
                scalars,
            );
        }
        Some(outputs.map(|tensor| Tensor::from_primitive::<LibTorch>(TchTensor::new(tensor))))
    }
}
