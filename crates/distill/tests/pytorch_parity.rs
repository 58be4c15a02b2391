//! Compares the losses and their gradients with PyTorch on the fixture written by
//! `xtask/scripts/make_loss_fixtures.py` (inputs in `f32`, PyTorch results in `f64`).

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use mixformer_distill::{
    CornerMaps, SideDistributions, bce_with_logits_loss, ciou_loss, corner_kl_loss,
    feature_mse_loss, l1_loss, side_kl_loss,
};
use safetensors::{Dtype, SafeTensors};

/// Largest accepted absolute difference, relative to `max(1, |expected|)`.
const TOLERANCE: f64 = 2e-6;

const SIDES: [&str; 4] = ["left", "right", "top", "bottom"];

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/losses.safetensors")
}

struct Fixture {
    bytes: Vec<u8>,
}

impl Fixture {
    fn load() -> Self {
        let path = fixture_path();
        let bytes = std::fs::read(&path).unwrap_or_else(|error| {
            panic!(
                "cannot read {}: {error}; regenerate it with \
                 `python xtask/scripts/make_loss_fixtures.py crates/distill/tests/fixtures`",
                path.display()
            )
        });
        Self { bytes }
    }

    /// Reads a tensor as `f64` values with its shape; `f32`, `f64` and `i64` are accepted.
    fn values(&self, name: &str) -> (Vec<f64>, Vec<usize>) {
        let tensors = SafeTensors::deserialize(&self.bytes).expect("fixture is valid safetensors");
        let view = tensors
            .tensor(name)
            .unwrap_or_else(|error| panic!("fixture tensor {name}: {error}"));
        let data = view.data();
        let values = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|bytes| f64::from(f32::from_le_bytes(bytes.try_into().unwrap())))
                .collect(),
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|bytes| f64::from_le_bytes(bytes.try_into().unwrap()))
                .collect(),
            Dtype::I64 => data
                .chunks_exact(8)
                .map(|bytes| i64::from_le_bytes(bytes.try_into().unwrap()) as f64)
                .collect(),
            other => panic!("fixture tensor {name} has unsupported dtype {other:?}"),
        };
        (values, view.shape().to_vec())
    }

    /// Builds a burn tensor from a stored `f32` input; the cast back from `f64` is exact.
    fn tensor<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D> {
        let (values, shape) = self.values(name);
        assert_eq!(
            shape.len(),
            D,
            "fixture tensor {name} has rank {}",
            shape.len()
        );
        let values: Vec<f32> = values.into_iter().map(|value| value as f32).collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    fn student<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D> {
        self.tensor(name, device).require_grad()
    }

    fn indices(&self, name: &str) -> Vec<usize> {
        self.values(name)
            .0
            .into_iter()
            .map(|value| value as usize)
            .collect()
    }

    fn sides(&self, prefix: &str, device: &Device, student: bool) -> SideDistributions {
        let side = |name: &str| {
            let tensor: Tensor<2> = self.tensor(&format!("{prefix}.{name}"), device);
            if student {
                tensor.require_grad()
            } else {
                tensor
            }
        };
        SideDistributions {
            left: side("left"),
            right: side("right"),
            top: side("top"),
            bottom: side("bottom"),
        }
    }

    /// Asserts that `actual` matches the stored tensor `name`.
    fn assert_matches<const D: usize>(&self, actual: &Tensor<D>, name: &str) {
        let (expected, shape) = self.values(name);
        assert_eq!(actual.dims().to_vec(), shape, "{name}: shape");
        let actual = actual.to_data().try_to_vec::<f32>().unwrap();
        let mut worst = 0.0f64;
        for (index, (&actual, &expected)) in actual.iter().zip(&expected).enumerate() {
            let error = (f64::from(actual) - expected).abs() / expected.abs().max(1.0);
            assert!(
                error <= TOLERANCE,
                "{name}[{index}]: burn {actual}, PyTorch {expected}, relative error {error:e}"
            );
            worst = worst.max(error);
        }
        println!("{name}: largest relative error {worst:e}");
    }
}

fn autodiff_device() -> Device {
    Device::flex().autodiff()
}

#[test]
fn ciou_loss_iou_and_gradient_match_pytorch() {
    let fixture = Fixture::load();
    let device = autodiff_device();
    let predicted: Tensor<2> = fixture.student("ciou.predicted", &device);
    let target = fixture.tensor("ciou.target", &device);

    let output = ciou_loss(predicted.clone(), target).unwrap();
    fixture.assert_matches(&output.loss, "ciou.loss");
    fixture.assert_matches(&output.iou, "ciou.iou");

    let gradients = output.loss.backward();
    let gradient = predicted
        .grad(&gradients)
        .expect("gradient of the predicted boxes");
    fixture.assert_matches(&gradient, "ciou.grad_predicted");
}

#[test]
fn l1_loss_and_gradient_match_pytorch() {
    let fixture = Fixture::load();
    let device = autodiff_device();
    let predicted: Tensor<2> = fixture.student("ciou.predicted", &device);
    let target = fixture.tensor("ciou.target", &device);

    let loss = l1_loss(predicted.clone(), target).unwrap();
    fixture.assert_matches(&loss, "l1.loss");

    let gradient = predicted
        .grad(&loss.backward())
        .expect("gradient of the predicted boxes");
    fixture.assert_matches(&gradient, "l1.grad_predicted");
}

#[test]
fn corner_kl_loss_and_gradient_match_pytorch() {
    let fixture = Fixture::load();
    let device = autodiff_device();
    let teacher = CornerMaps {
        prob_tl: fixture.tensor("corner_kl.teacher.prob_tl", &device),
        prob_br: fixture.tensor("corner_kl.teacher.prob_br", &device),
    };
    let student = fixture.sides("corner_kl.student", &device, true);

    let loss = corner_kl_loss(teacher, student.clone()).unwrap();
    fixture.assert_matches(&loss, "corner_kl.loss");

    let gradients = loss.backward();
    let student_sides = [student.left, student.right, student.top, student.bottom];
    for (side, tensor) in SIDES.into_iter().zip(student_sides) {
        let gradient = tensor.grad(&gradients).expect("gradient of a student side");
        fixture.assert_matches(&gradient, &format!("corner_kl.grad_student.{side}"));
    }
}

#[test]
fn side_kl_with_empty_bins_matches_pytorch() {
    let fixture = Fixture::load();
    let device = autodiff_device();
    let teacher = fixture.sides("side_kl.teacher", &device, false);
    let left_values = teacher.left.to_data().try_to_vec::<f32>().unwrap();
    let empty_bins = left_values.iter().filter(|&&value| value == 0.0).count();
    assert_eq!(
        empty_bins, 3,
        "the fixture's teacher must contain empty bins"
    );
    let student = fixture.sides("side_kl.student", &device, true);

    let loss = side_kl_loss(teacher, student.clone()).unwrap();
    fixture.assert_matches(&loss, "side_kl.loss");

    let gradients = loss.backward();
    let student_sides = [student.left, student.right, student.top, student.bottom];
    for (side, tensor) in SIDES.into_iter().zip(student_sides) {
        let gradient = tensor.grad(&gradients).expect("gradient of a student side");
        fixture.assert_matches(&gradient, &format!("side_kl.grad_student.{side}"));
    }
}

#[test]
fn feature_mse_loss_and_gradient_match_pytorch() {
    let fixture = Fixture::load();
    let device = autodiff_device();
    let students: Vec<Tensor<3>> = (0..3)
        .map(|index| fixture.student(&format!("feature.student.{index}"), &device))
        .collect();
    let teachers: Vec<Tensor<3>> = (0..4)
        .map(|index| fixture.tensor(&format!("feature.teacher.{index}"), &device))
        .collect();
    let student_layers = fixture.indices("feature.student_layers");
    let teacher_layers = fixture.indices("feature.teacher_layers");

    let loss = feature_mse_loss(&students, &teachers, &student_layers, &teacher_layers).unwrap();
    fixture.assert_matches(&loss, "feature.loss");

    let gradients = loss.backward();
    for &index in &student_layers {
        let gradient = students[index]
            .grad(&gradients)
            .expect("gradient of a student block");
        fixture.assert_matches(&gradient, &format!("feature.grad_student.{index}"));
    }
}

#[test]
fn bce_loss_and_gradient_match_pytorch() {
    let fixture = Fixture::load();
    let device = autodiff_device();
    let logits: Tensor<1> = fixture.student("bce.logits", &device);
    let labels = fixture.tensor("bce.labels", &device);

    let loss = bce_with_logits_loss(logits.clone(), labels).unwrap();
    fixture.assert_matches(&loss, "bce.loss");

    let gradient = logits
        .grad(&loss.backward())
        .expect("gradient of the logits");
    fixture.assert_matches(&gradient, "bce.grad_logits");
}
