//! Stage-1 training steps per second: student
//! forward and backward, teacher forward, clipping and the AdamW step, on
//! random data, with the mean time of each phase.
//!
//! `cargo bench -p mixformer-trainer --bench train_step` times the tiny
//! experiments (batch `TRAIN.BATCH_SIZE` = 4); add `-- base` for the base
//! experiments (12-block student, ViT-B teacher) at batch 2.
//! `MIXFORMER_DEVICE` picks the backend: `cpu`, `flex`, `libtorch` or `cuda:N`
//! (see `mixformer_model_vit::device`).

use std::path::Path;
use std::time::Instant;

use burn::tensor::Device;
use mixformer_config::{ExperimentConfig, Script};
use mixformer_data::{Array, Batch, SampleSource};
use mixformer_distill::actors::{BoxLossWeights, DenseToSparseActor};
use mixformer_model_vit::device::{backend_label, device_from_env};
use mixformer_model_vit::{MixFormer, VitConfig};
use mixformer_trainer::{Trainer, TrainerSettings, to_train_batch};

struct Case {
    name: &'static str,
    student: &'static str,
    teacher: &'static str,
    batch: Option<usize>,
    steps: usize,
}

fn experiment(script: Script, name: &str) -> ExperimentConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments")
        .join(script.name())
        .join(format!("{name}.yaml"));
    ExperimentConfig::load(script, &path).unwrap_or_else(|error| panic!("{error}"))
}

fn random_values(count: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32) / ((1u64 << 24) as f32) - 0.5
        })
        .collect()
}

fn random_batch(batch: usize, template: usize, search: usize) -> Batch {
    let source = SampleSource {
        dataset: "random".into(),
        sequence: "random".into(),
        template_frames: vec![0, 1],
        search_dataset: "random".into(),
        search_sequence: "random".into(),
        search_frames: vec![2],
    };
    Batch {
        template_images: Array {
            data: random_values(2 * batch * 3 * template * template, 1),
            shape: vec![2, batch, 3, template, template],
        },
        template_anno: Array {
            data: vec![0.25; 2 * batch * 4],
            shape: vec![2, batch, 4],
        },
        search_images: Array {
            data: random_values(batch * 3 * search * search, 2),
            shape: vec![1, batch, 3, search, search],
        },
        search_anno: Array {
            data: (0..batch).flat_map(|_| [0.3, 0.35, 0.3, 0.25]).collect(),
            shape: vec![1, batch, 4],
        },
        label: None,
        sources: vec![source; batch],
    }
}

fn run(case: &Case, device: &Device) {
    let device = device.clone().autodiff();
    device.seed(0);
    let mut student_config = experiment(Script::Mixformer2Vit, case.student);
    if let Some(batch) = case.batch {
        student_config.train.batch_size = batch;
    }
    let teacher_config = experiment(Script::MixformerVit, case.teacher);
    let student = MixFormer::new(&VitConfig::from(&student_config.architecture()), &device)
        .unwrap_or_else(|error| panic!("{error}"));
    let teacher = MixFormer::new(&VitConfig::from(&teacher_config.architecture()), &device)
        .unwrap_or_else(|error| panic!("{error}"));
    let train = &student_config.train;
    let actor = DenseToSparseActor::new(
        teacher,
        BoxLossWeights {
            iou: train.iou_weight,
            l1: train.l1_weight,
        },
        train.corner_weight,
    )
    .unwrap_or_else(|error| panic!("{error}"));

    let output = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let mut settings =
        TrainerSettings::from_config(&student_config, output.path().into(), "MixFormer", 0)
            .unwrap_or_else(|error| panic!("{error}"));
    settings.show_progress = false;
    let batch_size = settings.batch_size;
    let mut trainer = Trainer::new(student, Box::new(actor), &[], settings, &device)
        .unwrap_or_else(|error| panic!("{error}"));
    let architecture = student_config.architecture();
    let batch = to_train_batch(
        &random_batch(
            batch_size,
            architecture.template_size,
            architecture.search_size,
        ),
        &device,
    )
    .unwrap_or_else(|error| panic!("{error}"));

    // The first step allocates and warms the caches.
    trainer
        .train_step(&batch, 1, 1, case.steps + 1)
        .unwrap_or_else(|error| panic!("{error}"));
    let started = Instant::now();
    let mut phases = [0.0; 4];
    for step in 0..case.steps {
        trainer
            .train_step(&batch, 1, step + 2, case.steps + 1)
            .unwrap_or_else(|error| panic!("{error}"));
        let times = trainer.last_step_times();
        let step_phases = [times.forward, times.backward, times.clip, times.optimizer];
        for (total, time) in phases.iter_mut().zip(step_phases) {
            *total += time.as_secs_f64();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{:<44} batch {batch_size}: {:>8.3} steps/s ({:.3} s/step, {} steps)",
        case.name,
        case.steps as f64 / seconds,
        seconds / case.steps as f64,
        case.steps
    );
    let [forward, backward, clip, optimizer] = phases.map(|total| total / case.steps as f64);
    println!(
        "  per step: forward {forward:.4} s, backward {backward:.4} s, clip {clip:.4} s, \
         AdamW {optimizer:.4} s"
    );
    // Machine-readable line for `cargo xtask bench`.
    println!(
        "result train_step {} {:.5}",
        case.name.split(':').next().unwrap_or(case.name),
        case.steps as f64 / seconds
    );
}

fn main() {
    let base = std::env::args().any(|arg| arg == "base");
    let (device_name, device) = device_from_env().unwrap_or_else(|error| panic!("{error}"));
    println!("backend: {}", backend_label(&device_name));
    let mut cases = vec![Case {
        name: "tiny: student_tiny_depth4 / teacher_tiny",
        student: "student_tiny_depth4",
        teacher: "teacher_tiny",
        batch: None,
        steps: 40,
    }];
    if base {
        cases.push(Case {
            name: "base: student_288_depth12 / teacher_mixvit_b",
            student: "student_288_depth12",
            teacher: "teacher_mixvit_b",
            batch: Some(2),
            steps: 3,
        });
    }
    for case in &cases {
        run(case, &device);
    }
}
