//! The fused softmax and layer norm give the outputs and gradients of burn's
//! own composition, on every device the build has, with and without autodiff.

mod common;

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::activation;
use burn::tensor::{Device, Distribution, Tensor};
use common::{max_abs_diff, values};
use mixformer_model_vit::fused;

fn devices() -> Vec<Device> {
    let mut devices = vec![Device::flex()];
    if cfg!(feature = "tch") {
        devices.push(mixformer_model_vit::device_from_name("libtorch").expect("tch build"));
    }
    devices
}

/// Asserts agreement to 1e-5 relative to the largest expected magnitude (at
/// least 1), since the products sum in a different order.
fn assert_close(actual: &[f32], expected: &[f32], label: &str) {
    assert_eq!(actual.len(), expected.len(), "{label}: length");
    let scale = expected
        .iter()
        .fold(1.0f32, |max, value| max.max(value.abs()));
    let difference = max_abs_diff(actual, expected);
    assert!(
        difference < 1e-5 * scale,
        "{label}: differs by {difference} at scale {scale}"
    );
}

/// Random values spread enough that softmax rows are far from uniform.
fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.5, 3.0), device)
}

/// Runs the fused softmax and burn's on the same input. The objective weights
/// the outputs by random values, so every output element gets its own gradient.
fn compare_softmax(device: &Device, transposed: bool) {
    let input = random([2, 3, 5, 7], device);
    let input = if transposed {
        input.swap_dims(2, 3)
    } else {
        input
    };
    let weights = random(input.dims(), device);
    let run = |fused_op: bool| {
        let x = input.clone().detach().require_grad();
        let y = if fused_op {
            fused::softmax(x.clone())
        } else {
            activation::softmax(x.clone(), 3)
        };
        let grads = (y.clone() * weights.clone()).sum().backward();
        let grad = x.grad(&grads).expect("x has a gradient");
        (values(y), values(grad))
    };
    let (output, grad) = run(true);
    let (expected_output, expected_grad) = run(false);
    let label = format!("{device:?}, transposed {transposed}");
    assert_close(
        &output,
        &expected_output,
        &format!("softmax output, {label}"),
    );
    assert_close(&grad, &expected_grad, &format!("softmax gradient, {label}"));
}

#[test]
fn softmax_matches_burn_with_autodiff() {
    for device in devices() {
        for transposed in [false, true] {
            compare_softmax(&device.clone().autodiff(), transposed);
        }
    }
}

fn norm(width: usize, device: &Device) -> LayerNorm {
    let mut norm = LayerNormConfig::new(width).with_epsilon(1e-5).init(device);
    norm.gamma = Param::from_tensor(random([width], device));
    norm.beta = Some(Param::from_tensor(random([width], device)));
    norm
}

/// Returns the output and the gradients of the input, gamma and beta.
fn layer_norm_run<const D: usize>(
    norm: &LayerNorm,
    input: &Tensor<D>,
    weights: &Tensor<D>,
    fused_op: bool,
    track_input: bool,
) -> Vec<Vec<f32>> {
    let x = if track_input {
        input.clone().detach().require_grad()
    } else {
        input.clone().detach()
    };
    let y = if fused_op {
        fused::layer_norm(norm, 1e-5, x.clone())
    } else {
        norm.forward(x.clone())
    };
    let grads = (y.clone() * weights.clone()).sum().backward();
    let beta = norm.beta.as_ref().expect("the norm has a bias").val();
    let mut all = vec![
        values(y),
        values(norm.gamma.val().grad(&grads).expect("gamma has a gradient")),
        values(beta.grad(&grads).expect("beta has a gradient")),
    ];
    if track_input {
        all.push(values(x.grad(&grads).expect("x has a gradient")));
    }
    all
}

#[test]
fn layer_norm_matches_burn_with_autodiff() {
    for device in devices() {
        let device = device.autodiff();
        let norm = norm(16, &device);
        // A wide offset and scale make the row statistics matter.
        let input = random([2, 9, 16], &device).mul_scalar(4.0).add_scalar(3.0);
        let weights = random([2, 9, 16], &device);
        for track_input in [true, false] {
            let actual = layer_norm_run(&norm, &input, &weights, true, track_input);
            let expected = layer_norm_run(&norm, &input, &weights, false, track_input);
            for (index, (a, e)) in actual.iter().zip(&expected).enumerate() {
                let label = format!("{device:?}, tracked input {track_input}, value {index}");
                assert_close(a, e, &label);
            }
        }
    }
}

#[test]
fn layer_norm_matches_burn_on_one_row() {
    for device in devices() {
        let device = device.autodiff();
        let norm = norm(16, &device);
        let input = random([16], &device).mul_scalar(4.0).add_scalar(3.0);
        let weights = random([16], &device);
        let actual = layer_norm_run(&norm, &input, &weights, true, true);
        let expected = layer_norm_run(&norm, &input, &weights, false, true);
        for (index, (a, e)) in actual.iter().zip(&expected).enumerate() {
            assert_close(a, e, &format!("{device:?}, one row, value {index}"));
        }
    }
}

#[test]
fn both_match_burn_without_autodiff() {
    for device in devices() {
        let input = random([2, 4, 16], &device);
        assert_close(
            &values(fused::softmax(input.clone())),
            &values(activation::softmax(input.clone(), 2)),
            &format!("softmax, {device:?}"),
        );
        let norm = norm(16, &device);
        assert_close(
            &values(fused::layer_norm(&norm, 1e-5, input.clone())),
            &values(norm.forward(input)),
            &format!("layer norm, {device:?}"),
        );
    }
}

/// Returns the output of `x · weight + bias` and, with autodiff, the
/// gradients of the input, the weight and the bias.
fn linear_run<const D: usize>(
    input: &Tensor<D>,
    weight: &Tensor<2>,
    bias: &Tensor<1>,
    fused_op: bool,
) -> Vec<Vec<f32>> {
    let tracked = input.device().is_autodiff();
    let track = |tensor: Tensor<D>| match tracked {
        true => tensor.detach().require_grad(),
        false => tensor,
    };
    let x = track(input.clone());
    let full_weight = weight.clone().detach();
    let full_bias = bias.clone().detach();
    let (full_weight, full_bias) = match tracked {
        true => (full_weight.require_grad(), full_bias.require_grad()),
        false => (full_weight, full_bias),
    };

    // A column slice, as the last block's key and value projection reads it.
    let columns = full_weight.dims()[1] - 2;
    let weight = full_weight.clone().narrow(1, 1, columns);
    let bias = full_bias.clone().narrow(0, 1, columns);
    let y = if fused_op {
        fused::linear(x.clone(), weight, Some(bias))
    } else {
        burn::tensor::module::linear(x.clone(), weight, Some(bias))
    };

    let mut all = vec![values(y.clone())];
    if tracked {
        let grads = (y.clone() * y).sum().backward();
        all.push(values(x.grad(&grads).expect("x has a gradient")));
        all.push(values(
            full_weight.grad(&grads).expect("weight has a gradient"),
        ));
        all.push(values(full_bias.grad(&grads).expect("bias has a gradient")));
    }
    all
}

fn compare_linear<const D: usize>(input: Tensor<D>, weight: &Tensor<2>, bias: &Tensor<1>) {
    let actual = linear_run(&input, weight, bias, true);
    let expected = linear_run(&input, weight, bias, false);
    assert_eq!(actual.len(), expected.len(), "value count");
    for (index, (a, e)) in actual.iter().zip(&expected).enumerate() {
        let label = format!("{:?}, rank {D}, value {index}", input.device());
        assert_close(a, e, &label);
    }
}

#[test]
fn linear_matches_burn() {
    for device in devices() {
        for device in [device.clone(), device.autodiff()] {
            let weight = random([16, 12], &device);
            let bias = random([12], &device);
            compare_linear(random([2, 9, 16], &device), &weight, &bias);
            compare_linear(random([16], &device), &weight, &bias);
        }
    }
}

/// The beta gradient of a single row equals the output gradient, which the
/// sum's other operand shares. Scaling the one, as gradient clipping does,
/// must leave the other as it is.
#[test]
fn layer_norm_one_row_gradients_stay_apart() {
    for device in devices() {
        let device = device.autodiff();
        let norm = norm(16, &device);
        let x = random([16], &device).require_grad();
        let offset = random([16], &device).require_grad();
        let weights = random([16], &device);
        let output = fused::layer_norm(&norm, 1e-5, x) + offset.clone();
        let mut grads = (output * weights).sum().backward();
        let offset_grad = values(offset.grad(&grads).expect("offset has a gradient"));

        let beta = norm.beta.as_ref().expect("the norm has a bias").val();
        let beta_grad = beta.grad_remove(&mut grads).expect("beta has a gradient");
        let halved = values(beta_grad.mul_scalar(0.5));
        let offset_after = values(offset.grad(&grads).expect("offset has a gradient"));
        assert_close(
            &offset_after,
            &offset_grad,
            &format!("{device:?}, offset gradient"),
        );
        let expected_half: Vec<f32> = offset_grad.iter().map(|value| value * 0.5).collect();
        assert_close(
            &halved,
            &expected_half,
            &format!("{device:?}, halved beta gradient"),
        );
    }
}

#[test]
fn linear_with_frozen_weight_matches_burn() {
    for device in devices() {
        let device = device.autodiff();
        let input = random([2, 9, 16], &device);
        let weight = random([16, 12], &device);
        let bias = random([12], &device);
        let run = |fused_op: bool| {
            let x = input.clone().detach().require_grad();
            let y = if fused_op {
                fused::linear(x.clone(), weight.clone(), Some(bias.clone()))
            } else {
                burn::tensor::module::linear(x.clone(), weight.clone(), Some(bias.clone()))
            };
            let grads = (y.clone() * y).sum().backward();
            assert!(weight.grad(&grads).is_none(), "{device:?}: frozen weight");
            values(x.grad(&grads).expect("x has a gradient"))
        };
        assert_close(
            &run(true),
            &run(false),
            &format!("{device:?}, frozen weight"),
        );
    }
}
