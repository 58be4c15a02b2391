//! Rules of the `TRAIN` section: counts, schedule and the layer lists of stage 2.

use std::collections::BTreeSet;

use super::Checks;
use crate::experiment::ExperimentConfig;
use crate::train::SchedulerType;

pub(super) fn check_train(config: &ExperimentConfig, checks: &mut Checks) {
    let train = &config.train;
    checks.at_least_one("TRAIN.EPOCH", train.epoch);
    checks.at_least_one("TRAIN.BATCH_SIZE", train.batch_size);
    checks.at_least_one("TRAIN.PRINT_INTERVAL", train.print_interval);
    checks.at_least_one("TRAIN.VAL_EPOCH_INTERVAL", train.val_epoch_interval);
    checks.positive("TRAIN.LR", train.lr);
    checks.positive("TRAIN.GRAD_CLIP_NORM", train.grad_clip_norm);
    for (key, value) in [
        ("TRAIN.WEIGHT_DECAY", train.weight_decay),
        ("TRAIN.BACKBONE_MULTIPLIER", train.backbone_multiplier),
        ("TRAIN.IOU_WEIGHT", train.iou_weight),
        ("TRAIN.L1_WEIGHT", train.l1_weight),
        ("TRAIN.SCORE_WEIGHT", train.score_weight),
        ("TRAIN.CORNER_WEIGHT", train.corner_weight),
        ("TRAIN.FEAT_WEIGHT", train.feat_weight),
    ] {
        checks.non_negative(key, value);
    }

    if train.train_score && !config.script.has_score_head() {
        checks.fail(
            "TRAIN.TRAIN_SCORE",
            format!(
                "TRAIN.TRAIN_SCORE is true but script {} has no score head; \
                 train the score head with mixformer2_vit_online",
                config.script
            ),
        );
    }
    if train.deep_supervision {
        checks.fail(
            "TRAIN.DEEP_SUPERVISION",
            "TRAIN.DEEP_SUPERVISION is true but deep supervision is not implemented; set it to false",
        );
    }
    if train.freeze_stage0 {
        checks.fail(
            "TRAIN.FREEZE_STAGE0",
            "TRAIN.FREEZE_STAGE0 is true but a ViT backbone has no stage 0 to freeze; set it to false",
        );
    }

    let scheduler = &train.scheduler;
    checks.positive("TRAIN.SCHEDULER.GAMMA", scheduler.gamma);
    match scheduler.kind {
        SchedulerType::Step => checks.at_least_one("TRAIN.LR_DROP_EPOCH", train.lr_drop_epoch),
        SchedulerType::MultiStep => {
            let milestones = &scheduler.milestones;
            if milestones.is_empty() {
                checks.fail(
                    "TRAIN.SCHEDULER.MILESTONES",
                    "TRAIN.SCHEDULER.TYPE is Mstep but TRAIN.SCHEDULER.MILESTONES is empty; \
                     list the epochs after which the learning rate drops",
                );
            }
            if milestones.windows(2).any(|pair| pair[0] >= pair[1]) {
                checks.fail(
                    "TRAIN.SCHEDULER.MILESTONES",
                    format!(
                        "TRAIN.SCHEDULER.MILESTONES is {milestones:?} but must be strictly increasing"
                    ),
                );
            }
        }
    }
}

/// Checks that every index in `layers` addresses one of `depth` blocks, once.
fn check_indices(checks: &mut Checks, key: &str, layers: &[usize], depth: usize, depth_key: &str) {
    let mut seen = BTreeSet::new();
    for (position, layer) in layers.iter().enumerate() {
        if *layer >= depth {
            checks.fail(
                format!("{key}[{position}]"),
                format!(
                    "{key}[{position}] is {layer} but {depth_key} is {depth}, so block indices \
                     run from 0 to {}",
                    depth.saturating_sub(1)
                ),
            );
        }
        if !seen.insert(*layer) {
            checks.fail(
                format!("{key}[{position}]"),
                format!("{key}[{position}] repeats block {layer}; list each block once"),
            );
        }
    }
}

pub(super) fn check_layers(config: &ExperimentConfig, checks: &mut Checks) {
    let train = &config.train;
    let depth = config.architecture().depth;
    let teacher_depth = config.model.backbone.depth_teacher;
    let depth_key = "MODEL.BACKBONE.DEPTH";
    let teacher_key = "MODEL.BACKBONE.DEPTH_TEACHER";

    checks.at_least_one(teacher_key, teacher_depth);
    check_indices(
        checks,
        "TRAIN.REMOVE_LAYERS",
        &train.remove_layers,
        depth,
        depth_key,
    );
    // INVALID_LAYERS index the starting checkpoint, which is as deep as the teacher.
    check_indices(
        checks,
        "TRAIN.INVALID_LAYERS",
        &train.invalid_layers,
        teacher_depth,
        teacher_key,
    );
    check_indices(
        checks,
        "TRAIN.DISTILL_LAYERS_STUDENT",
        &train.distill_layers_student,
        depth,
        depth_key,
    );
    check_indices(
        checks,
        "TRAIN.DISTILL_LAYERS_TEACHER",
        &train.distill_layers_teacher,
        teacher_depth,
        teacher_key,
    );

    let student_pairs = train.distill_layers_student.len();
    let teacher_pairs = train.distill_layers_teacher.len();
    if student_pairs != teacher_pairs {
        checks.fail(
            "TRAIN.DISTILL_LAYERS_TEACHER",
            format!(
                "TRAIN.DISTILL_LAYERS_STUDENT lists {student_pairs} blocks but \
                 TRAIN.DISTILL_LAYERS_TEACHER lists {teacher_pairs}; they are compared in pairs"
            ),
        );
    }

    let invalid = train.invalid_layers.len();
    if invalid > 0 && depth + invalid != teacher_depth {
        checks.fail(
            depth_key,
            format!(
                "{depth_key} is {depth} but {teacher_key} {teacher_depth} minus the {invalid} \
                 TRAIN.INVALID_LAYERS leaves {} blocks",
                teacher_depth.saturating_sub(invalid)
            ),
        );
    }

    checks.at_least_one("TRAIN.REMOVE_EPOCHS", train.remove_epochs);
    let last_partial_epoch = train.remove_epochs.saturating_sub(1);
    if !train.remove_layers.is_empty() && train.epoch < last_partial_epoch {
        checks.fail(
            "TRAIN.REMOVE_EPOCHS",
            format!(
                "TRAIN.EPOCH is {} but with TRAIN.REMOVE_EPOCHS {} the remove rate reaches 0 \
                 only at epoch {last_partial_epoch}, so the removed blocks would still \
                 contribute at the end of training",
                train.epoch, train.remove_epochs
            ),
        );
    }
}
