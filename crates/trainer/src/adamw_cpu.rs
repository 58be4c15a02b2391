//! One-pass AdamW over tensors in CPU memory, for the flex backend and
//! libtorch's CPU device.
//!
//! Counting each read and each write of an element as one memory pass, the
//! update takes about thirty passes when written with burn's tensor
//! operations and about twenty in PyTorch 2.9's single-tensor AdamW. This
//! kernel reads the parameter, the gradient and both moments once and writes
//! the three results once (seven passes), in chunks spread over rayon's
//! threads.
//! The inputs are only read and the results go to new buffers, so a tensor
//! shared with another module or a caller is never changed.

use std::mem::MaybeUninit;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

/// Elements per rayon task: 144 tasks for a ViT-B MLP weight, one for a bias.
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

/// Computes the AdamW step of `inputs` in one pass and returns the new
/// `[param, exp_avg, exp_avg_sq]`, or `None` when the inputs are not all
/// `f32` tensors in CPU memory of a backend this kernel reads.
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
/// The arithmetic follows `torch.optim.AdamW`'s single-tensor CPU path step
/// by step, equal up to rounding: `mul_`, `lerp_`, `mul_` and `addcmul_`, then
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
    // Zipped iterators carry no bounds checks, so the loop can be vectorised.
    let written = new_param
        .iter_mut()
        .zip(new_avg.iter_mut())
        .zip(new_avg_sq.iter_mut());
    let read = param.iter().zip(grad).zip(exp_avg.iter().zip(exp_avg_sq));
    for (((out_param, out_avg), out_avg_sq), ((&p, &g), (&m, &v))) in written.zip(read) {
        let m = m + s.first_weight * (g - m);
        let v = v * s.beta_2 + s.second_weight * g * g;
        let denominator = v.sqrt() / s.correction_2_sqrt + s.epsilon;
        out_param.write(p * s.decay - s.step_size * (m / denominator));
        out_avg.write(m);
        out_avg_sq.write(v);
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
        // An empty tensor may have a null data pointer, which no slice may hold.
        let length = tensors[0].numel();
        if length == 0 || tensors.iter().any(|tensor| tensor.numel() != length) {
            return None;
        }

        let outputs =
            [(); 3].map(|_| tch::Tensor::empty([length as i64], (Kind::Float, Device::Cpu)));
        {
            // SAFETY: each input is a contiguous CPU float tensor of `length`
            // elements (at least one, so its pointer is not null) that lives
            // until the end of this block. Nothing writes it meanwhile,
            // because the optimiser runs on the trainer's thread after every
            // device's share of the step has finished. The outputs are new
            // tensors of `length` elements, distinct from the inputs and from
            // each other, and are viewed as uninitialised until `update`
            // writes them.
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

#[cfg(test)]
mod tests {
    use burn::tensor::Device;

    use super::*;

    /// Returns the scalars of a first step at rate 0.1 and weight decay 0.05.
    fn first_step() -> StepScalars {
        StepScalars {
            decay: 0.995,
            first_weight: 0.1,
            beta_2: 0.999,
            second_weight: 0.001,
            step_size: 1.0,
            correction_2_sqrt: 0.001_f32.sqrt(),
            epsilon: 1e-8,
        }
    }

    #[test]
    fn flex_view_takes_the_kernel() {
        let device = Device::flex();
        // A view with an offset into a wider buffer.
        let param = Tensor::<1>::from_floats([9.0, 1.0, -2.0, 3.0, 9.0], &device).narrow(0, 1, 3);
        let grad = Tensor::<1>::from_floats([0.5, 0.25, -1.0], &device);
        let zeros = Tensor::<1>::zeros([3], &device);
        let outputs = try_update(&[param, grad, zeros.clone(), zeros], first_step());
        let [param, exp_avg, _] = outputs.expect("flex f32 tensors take the kernel");

        // The first step moves each entry by the rate against its gradient's sign.
        let param: Vec<f32> = param.into_data().try_to_vec::<f32>().expect("f32 values");
        for (actual, expected) in param.iter().zip([0.895, -2.09, 3.085]) {
            assert!((actual - expected).abs() < 1e-6, "{param:?}");
        }
        // The first moment is a tenth of the gradient.
        let exp_avg: Vec<f32> = exp_avg.into_data().try_to_vec::<f32>().expect("f32 values");
        for (actual, expected) in exp_avg.iter().zip([0.05, 0.025, -0.1]) {
            assert!((actual - expected).abs() < 1e-7, "{exp_avg:?}");
        }
    }

    #[test]
    fn double_precision_is_left_to_tensor_operations() {
        let device = Device::flex();
        let tensor = || Tensor::<1>::from_floats([1.0, 2.0], &device).cast(DType::F64);
        assert_eq!(
            tensor().dtype(),
            DType::F64,
            "the cast keeps double precision"
        );
        let outputs = try_update(&[tensor(), tensor(), tensor(), tensor()], first_step());
        assert!(outputs.is_none());
    }
}
