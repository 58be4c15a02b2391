//! The epoch loop with a test actor on synthetic batches: learning rates,
//! clipping, frozen parameters, resume, non-finite losses and determinism.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use burn::module::ParamId;
use burn::optim::GradientsParams;
use mixformer_layer_surgery::{AdamWState, Checkpoint};
use mixformer_model_vit::weights::export_weights;
use mixformer_trainer::{
    GroupRates, LrSchedule, TrainError, Trainer, clip_global_norm, global_norm, param_table,
    to_train_batch,
};

use common::{BoxActor, SyntheticBatches, device, serial, settings, tiny_student};

fn weights(trainer: &Trainer) -> Vec<(String, Vec<f32>)> {
    export_weights(trainer.student())
        .into_iter()
        .map(|(key, tensor)| (key, tensor.values))
        .collect()
}

#[test]
fn step_schedule_drops_both_groups() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path(), 5);
    let expected = |factor: f64| GroupRates {
        head: 1e-3 * factor,
        backbone: 1e-4 * factor,
    };
    assert_eq!(settings.rates(0), expected(1.0));
    assert_eq!(settings.rates(1), expected(1.0));
    let after_drop = settings.rates(2);
    assert!((after_drop.head - 1e-4).abs() < 1e-15, "{after_drop:?}");
    assert!((after_drop.backbone - 1e-5).abs() < 1e-15, "{after_drop:?}");
    let two_drops = settings.rates(4);
    assert!((two_drops.head - 1e-5).abs() < 1e-15, "{two_drops:?}");
}

#[test]
fn multistep_drops_after_milestones() {
    let schedule = LrSchedule::MultiStep {
        milestones: vec![2, 4],
        gamma: 0.5,
    };
    let factors: Vec<f64> = (0..6).map(|done| schedule.factor(done)).collect();
    assert_eq!(factors, [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
}

#[test]
fn checkpoint_stores_next_epoch_rates() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut trainer = Trainer::new(
        tiny_student(1),
        BoxActor::boxed(),
        &[],
        settings(dir.path(), 2),
        &device(),
    )
    .unwrap();
    let data = SyntheticBatches { seed: 1, steps: 1 };
    let summary = trainer.fit(&data, None).unwrap();
    assert_eq!(summary.last_epoch, 2);

    // Two epochs done with LR_DROP_EPOCH 2: the saved rates are those of epoch 3.
    let checkpoint = Checkpoint::read(summary.checkpoint.as_ref().unwrap()).unwrap();
    let state = AdamWState::from_value(&checkpoint.optimizer, "checkpoint").unwrap();
    let rates: Vec<(f64, Option<f64>)> = state
        .param_groups
        .iter()
        .map(|group| (group.lr, group.initial_lr))
        .collect();
    assert!((rates[0].0 - 1e-4).abs() < 1e-15, "{rates:?}");
    assert!((rates[1].0 - 1e-5).abs() < 1e-15, "{rates:?}");
    assert_eq!(rates[0].1, Some(1e-3));
    assert_eq!(rates[1].1, Some(1e-4));
    assert!(state.param_groups[0].param_names[0].starts_with("box_head."));
    assert!(state.param_groups[1].param_names[0].starts_with("backbone."));
}

#[test]
fn clipping_caps_global_norm() {
    let _guard = serial();
    let student = tiny_student(2);
    let batch = to_train_batch(
        &SyntheticBatches { seed: 2, steps: 1 }.batch(1, 0),
        &device(),
    )
    .unwrap();
    let actor = BoxActor {
        scale: 1000.0,
        nan_from_epoch: None,
    };
    let output = mixformer_distill::Actor::forward(&actor, &student, &batch, 1).unwrap();
    let table = param_table(&student, &BTreeSet::new());
    let trained: BTreeSet<ParamId> = table
        .iter()
        .filter(|info| info.trained)
        .map(|info| info.id)
        .collect();
    let ids: Vec<ParamId> = trained.iter().copied().collect();
    let mut gradients = output.loss.backward();
    let mut grads = GradientsParams::from_params(&mut gradients, &student, &ids);

    let before = clip_global_norm(&student, &mut grads, &trained, 0.1);
    let after = global_norm(&student, &grads, &trained);
    assert!(
        before > 1.0,
        "the loss was scaled to give a large norm, got {before}"
    );
    assert!((after - 0.1).abs() < 1e-5, "norm after clipping {after}");

    // Below the limit nothing changes.
    let again = clip_global_norm(&student, &mut grads, &trained, 10.0);
    let unchanged = global_norm(&student, &grads, &trained);
    assert!((again - unchanged).abs() < 1e-9);
}

#[test]
fn frozen_parameters_stay_bit_identical() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let student = tiny_student(3);
    let frozen: Vec<String> = export_weights(&student)
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| key.starts_with("backbone.blocks.0.") || key.starts_with("box_head."))
        .collect();
    assert!(frozen.len() > 5);
    let mut trainer = Trainer::new(
        student,
        BoxActor::boxed(),
        &frozen,
        settings(dir.path(), 1),
        &device(),
    )
    .unwrap();
    let before = weights(&trainer);
    let batch = to_train_batch(
        &SyntheticBatches { seed: 3, steps: 1 }.batch(1, 0),
        &device(),
    )
    .unwrap();
    trainer.train_step(&batch, 1, 1, 1).unwrap();
    let after = weights(&trainer);

    // The step records how long each of its phases took.
    let times = trainer.last_step_times();
    assert!(times.forward > Duration::ZERO, "{times:?}");
    assert!(times.backward > Duration::ZERO, "{times:?}");
    assert!(times.optimizer > Duration::ZERO, "{times:?}");

    let mut changed = 0;
    for ((key, old), (_, new)) in before.iter().zip(&after) {
        if frozen.contains(key) {
            assert!(
                old.iter().zip(new).all(|(a, b)| a.to_bits() == b.to_bits()),
                "frozen {key} changed"
            );
        } else if old != new {
            changed += 1;
        }
    }
    assert!(changed > 10, "only {changed} trained tensors changed");
    let state = trainer.optimizer().state().unwrap();
    let names: Vec<&String> = state
        .param_groups
        .iter()
        .flat_map(|group| &group.param_names)
        .collect();
    assert!(names.iter().all(|name| !frozen.contains(name)));
    assert!(
        names
            .iter()
            .all(|name| !name.ends_with("pos_embed_t") && !name.ends_with("pos_embed_s"))
    );
}

#[test]
fn unknown_frozen_key_is_named() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let error = match Trainer::new(
        tiny_student(4),
        BoxActor::boxed(),
        &["backbone.blocks.9.norm1.weight".to_string()],
        settings(dir.path(), 1),
        &device(),
    ) {
        Ok(_) => panic!("a key the model lacks was accepted"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains("backbone.blocks.9.norm1.weight"), "{error}");
}

#[test]
fn resume_restores_moments_and_final_weights() {
    let _guard = serial();
    let data = SyntheticBatches { seed: 5, steps: 2 };

    let whole_dir = tempfile::tempdir().unwrap();
    let mut whole = Trainer::new(
        tiny_student(5),
        BoxActor::boxed(),
        &[],
        settings(whole_dir.path(), 3),
        &device(),
    )
    .unwrap();
    whole.fit(&data, Some(&data)).unwrap();

    let split_dir = tempfile::tempdir().unwrap();
    let mut first = settings(split_dir.path(), 3);
    first.stop_after = Some(2);
    let mut part = Trainer::new(tiny_student(5), BoxActor::boxed(), &[], first, &device()).unwrap();
    let summary = part.fit(&data, Some(&data)).unwrap();
    assert_eq!(summary.last_epoch, 2);
    let key = "backbone.blocks.1.attn.qkv.weight";
    let moments_at_stop = part.optimizer().moments_of(key).unwrap();
    drop(part);

    // The same command again: a fresh model, resumed from epoch 2.
    let mut resumed = Trainer::new(
        tiny_student(5),
        BoxActor::boxed(),
        &[],
        settings(split_dir.path(), 3),
        &device(),
    )
    .unwrap();
    assert_eq!(resumed.resume().unwrap(), Some(2));
    assert_eq!(resumed.next_epoch(), 3);
    assert_eq!(
        resumed.optimizer().moments_of(key).unwrap(),
        moments_at_stop
    );
    assert_eq!(moments_at_stop.0, 4, "two epochs of two steps");
    let summary = resumed.fit(&data, Some(&data)).unwrap();
    assert_eq!((summary.first_epoch, summary.last_epoch), (3, 3));

    // Loaded `Linear` weights are transposed views, so sums run in another
    // order and the last bits may differ.
    let max_difference = |a: &[f32], b: &[f32]| {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    for ((key, resumed), (_, whole)) in weights(&resumed).iter().zip(&weights(&whole)) {
        let difference = max_difference(resumed, whole);
        assert!(difference < 1e-6, "{key} differs by {difference}");
    }
    let (resumed_step, resumed_avg, _) = resumed.optimizer().moments_of(key).unwrap();
    let (whole_step, whole_avg, _) = whole.optimizer().moments_of(key).unwrap();
    assert_eq!(resumed_step, whole_step);
    assert!(max_difference(&resumed_avg, &whole_avg) < 1e-6);

    let log =
        std::fs::read_to_string(split_dir.path().join("logs/mixformer2_vit-tiny.log")).unwrap();
    assert!(log.contains("[train: 1, 1 / 2] FPS: "), "{log}");
    assert!(log.contains("[train: 3, 2 / 2] FPS: "), "{log}");
    assert!(log.contains("[val: 2, 2 / 2] FPS: "), "{log}");
    assert!(log.contains("  ,  Loss/total: "), "{log}");
}

#[test]
fn non_finite_loss_keeps_last_checkpoint() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let actor = Box::new(BoxActor {
        scale: 1.0,
        nan_from_epoch: Some(2),
    });
    let mut trainer = Trainer::new(
        tiny_student(6),
        actor,
        &[],
        settings(dir.path(), 3),
        &device(),
    )
    .unwrap();
    let data = SyntheticBatches { seed: 6, steps: 2 };
    let error = trainer.fit(&data, None).unwrap_err();
    assert!(
        matches!(error, TrainError::NonFiniteLoss { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("epoch 2, step 1 / 2: the loss is not finite"),
        "{message}"
    );
    assert!(
        message.contains("Loss/total: NaN, Loss/l1: NaN"),
        "{message}"
    );
    let kept = trainer.checkpoints().path_for(1);
    assert!(message.contains(&kept.display().to_string()), "{message}");
    assert!(kept.is_file());
    assert!(!trainer.checkpoints().path_for(2).exists());
    assert_eq!(Checkpoint::read(&kept).unwrap().epoch, 1);
}

#[test]
fn same_seed_identical_checkpoints() {
    let _guard = serial();
    let data = SyntheticBatches { seed: 8, steps: 2 };
    let run = || {
        let dir = tempfile::tempdir().unwrap();
        let mut trainer = Trainer::new(
            tiny_student(8),
            BoxActor::boxed(),
            &[],
            settings(dir.path(), 1),
            &device(),
        )
        .unwrap();
        let summary = trainer.fit(&data, None).unwrap();
        let bytes = std::fs::read(summary.checkpoint.unwrap()).unwrap();
        (dir, bytes)
    };
    let (_first_dir, first) = run();
    let (_second_dir, second) = run();
    assert!(first.len() > 10_000);
    assert!(first == second, "the two checkpoints differ");
}
