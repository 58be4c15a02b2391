//! Data-parallel steps: a batch split over two device handles gives the
//! update of the whole batch on one device.

mod common;

use mixformer_distill::TrainBatch;
use mixformer_model_vit::MixFormer;
use mixformer_model_vit::weights::export_weights;
use mixformer_trainer::{TrainError, Trainer, to_train_batch};

use common::{BoxActor, SyntheticBatches, device, serial, settings, tiny_config};

/// Builds the tiny student without drop-path, whose random masks would
/// differ between one batch and two shares.
fn student_without_drop_path() -> MixFormer {
    let device = device();
    device.seed(5);
    let config = mixformer_model_vit::VitConfig {
        drop_path_rate: 0.0,
        ..tiny_config()
    };
    MixFormer::new(&config, &device).unwrap()
}

fn trainer(dir: &std::path::Path, actor: BoxActor, replicas: usize) -> Trainer {
    let mut trainer = Trainer::new(
        student_without_drop_path(),
        Box::new(actor),
        &[],
        settings(dir, 1),
        &device(),
    )
    .unwrap();
    trainer.set_replica_devices(&vec![device(); replicas]);
    trainer
}

/// Returns the two-sample synthetic batch every test steps on.
fn batch() -> TrainBatch {
    to_train_batch(
        &SyntheticBatches { seed: 9, steps: 1 }.batch(1, 0),
        &device(),
    )
    .unwrap()
}

fn plain_actor() -> BoxActor {
    BoxActor {
        scale: 1.0,
        nan_from_epoch: None,
    }
}

#[test]
fn two_shares_update_like_one_batch() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let batch = batch();

    let mut single = trainer(&dir.path().join("single"), plain_actor(), 0);
    let mut parallel = trainer(&dir.path().join("parallel"), plain_actor(), 1);
    let single_stats = single.train_step(&batch, 1, 1, 1).unwrap();
    let parallel_stats = parallel.train_step(&batch, 1, 1, 1).unwrap();

    for ((name, a), (other, b)) in single_stats.iter().zip(&parallel_stats) {
        assert_eq!(name, other);
        assert!((a - b).abs() < 1e-6, "{name}: {a} vs {b}");
    }
    let before = export_weights(&student_without_drop_path());
    let mut moved = 0;
    for (((key, one), (_, two)), (_, start)) in export_weights(single.student())
        .iter()
        .zip(&export_weights(parallel.student()))
        .zip(&before)
    {
        let difference = one
            .values
            .iter()
            .zip(&two.values)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(difference < 1e-6, "{key} differs by {difference}");
        if one.values != start.values {
            moved += 1;
        }
    }
    assert!(moved > 10, "only {moved} tensors were updated");
}

#[test]
fn batch_smaller_than_device_count_is_rejected() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let batch = batch();
    // Two samples over three devices.
    let mut parallel = trainer(dir.path(), plain_actor(), 2);
    let error = parallel.train_step(&batch, 1, 1, 1).unwrap_err();
    assert!(
        matches!(error, TrainError::InvalidSetting { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("cannot be split over 3 devices"),
        "{error}"
    );
}

#[test]
fn non_finite_share_stops_the_step() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let batch = batch();
    let actor = BoxActor {
        scale: 1.0,
        nan_from_epoch: Some(1),
    };
    let mut parallel = trainer(dir.path(), actor, 1);
    let error = parallel.train_step(&batch, 1, 1, 1).unwrap_err();
    assert!(matches!(error, TrainError::NonFiniteLoss { .. }), "{error}");
}
