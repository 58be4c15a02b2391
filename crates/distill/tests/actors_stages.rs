//! The stage actors on tiny models: losses, statistics, gradients, the teacher's
//! inference mode and the remove rate of layer removal.
//!
//! The models have the sizes of the tiny experiments (width 64, 4 heads, MLP
//! ratio 2, 64 px templates, 128 px search, 32 bins or 32x32 corner maps), with
//! stochastic depth off so that two runs of a student can be compared.

use burn::module::Module;
use burn::tensor::Gradients;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use mixformer_distill::actors::{
    BoxLossWeights, DeepToShallowActor, DeepToShallowSettings, DenseToSparseActor, ScoreActor,
    TeacherTrainingActor,
};
use mixformer_distill::{
    Actor, ActorOutput, CornerMaps, DistillError, RemoveRateSchedule, SideDistributions,
    TrainBatch, ciou_loss, corner_kl_loss, feature_mse_loss, ground_truth_to_xyxy, side_kl_loss,
};
use mixformer_model_vit::{HeadKind, HeadOutput, MixFormer, ModelOutput, VitConfig};

const BATCH: usize = 2;
const BINS: usize = 32;

/// The published box weights (`IOU_WEIGHT`, `L1_WEIGHT`).
const BOX_WEIGHTS: BoxLossWeights = BoxLossWeights { iou: 2.0, l1: 5.0 };

fn tiny_config(head: HeadKind, depth: usize, score_head: bool) -> VitConfig {
    VitConfig {
        embed_dim: 64,
        depth,
        num_heads: 4,
        mlp_ratio: 2.0,
        patch_size: 16,
        template_size: 64,
        search_size: 128,
        head,
        score_head,
        drop_path_rate: 0.0,
        layer_norm_eps: 1e-6,
    }
}

fn corner_up_teacher(device: &Device) -> MixFormer {
    let config = tiny_config(HeadKind::CornerUp { channels: 64 }, 2, false);
    MixFormer::new(&config, device).unwrap()
}

fn distribution_model(depth: usize, score_head: bool, device: &Device) -> MixFormer {
    let config = tiny_config(HeadKind::Distribution { bins: BINS }, depth, score_head);
    MixFormer::new(&config, device).unwrap()
}

fn training_device() -> Device {
    Device::flex().autodiff()
}

fn batch(device: &Device, label: Option<[f32; BATCH]>) -> TrainBatch {
    let images = |size| {
        Tensor::random(
            [BATCH, 3, size, size],
            Distribution::Normal(0.0, 1.0),
            device,
        )
    };
    let anno = TensorData::new(
        vec![0.30f32, 0.35, 0.30, 0.25, 0.40, 0.40, 0.20, 0.30],
        [BATCH, 4],
    );
    TrainBatch {
        template: images(64),
        online_template: images(64),
        search: images(128),
        search_anno: Tensor::from_data(anno, device),
        label: label.map(|values| Tensor::from_floats(values, device)),
    }
}

/// The batch on the plain device, for reference runs.
fn plain(batch: &TrainBatch) -> TrainBatch {
    TrainBatch {
        template: batch.template.clone().inner(),
        online_template: batch.online_template.clone().inner(),
        search: batch.search.clone().inner(),
        search_anno: batch.search_anno.clone().inner(),
        label: batch.label.clone().map(Tensor::inner),
    }
}

/// Runs `model` on a plain batch without any remove rate.
fn run(model: &MixFormer, batch: &TrainBatch, rates: Option<&[f64]>) -> ModelOutput {
    model.forward(
        batch.template.clone(),
        batch.online_template.clone(),
        batch.search.clone(),
        rates,
    )
}

fn stat(output: &ActorOutput, name: &str) -> f64 {
    output
        .stats
        .iter()
        .find(|(stat, _)| stat == name)
        .map(|(_, value)| *value)
        .unwrap_or_else(|| panic!("no statistic {name} in {:?}", output.stats))
}

fn stat_names(output: &ActorOutput) -> Vec<&str> {
    output.stats.iter().map(|(name, _)| name.as_str()).collect()
}

fn scalar(tensor: Tensor<1>) -> f64 {
    f64::from(tensor.into_scalar::<f32>())
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-5 * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} differs from {expected}"
    );
}

/// Largest absolute value of a gradient, or 0 when the parameter got none.
fn gradient_size<const D: usize>(parameter: &Tensor<D>, gradients: &Gradients) -> f64 {
    parameter.grad(gradients).map_or(0.0, |gradient| {
        f64::from(gradient.abs().max().into_scalar::<f32>())
    })
}

fn mean_iou(boxes: Tensor<2>, batch: &TrainBatch) -> f64 {
    let target = ground_truth_to_xyxy(batch.search_anno.clone()).unwrap();
    scalar(ciou_loss(boxes, target).unwrap().iou.mean())
}

fn side_logits(output: ModelOutput) -> SideDistributions {
    let HeadOutput::Distribution(sides) = output.head else {
        panic!("expected a distribution head");
    };
    SideDistributions {
        left: sides.left,
        right: sides.right,
        top: sides.top,
        bottom: sides.bottom,
    }
}

fn side_probabilities(output: &ModelOutput) -> SideDistributions {
    let HeadOutput::Distribution(sides) = &output.head else {
        panic!("expected a distribution head");
    };
    let [left, top, right, bottom] = sides.probabilities();
    SideDistributions {
        left,
        right,
        top,
        bottom,
    }
}

fn stage2_settings(remove_layers: Vec<usize>, student_layers: Vec<usize>) -> DeepToShallowSettings {
    DeepToShallowSettings {
        box_weights: BOX_WEIGHTS,
        corner_weight: 5.0,
        feat_weight: 0.2,
        distill_layers_student: student_layers,
        distill_layers_teacher: vec![1, 3],
        remove_layers,
        schedule: RemoveRateSchedule::new(4).unwrap(),
    }
}

#[test]
fn teacher_training_weights_ciou_and_l1_and_trains_the_student() {
    let device = training_device();
    let student = corner_up_teacher(&device);
    let batch = batch(&device, None);

    let output = TeacherTrainingActor::new(BOX_WEIGHTS)
        .forward(&student, &batch, 1)
        .unwrap();

    assert_eq!(
        stat_names(&output),
        ["Loss/total", "Loss/giou", "Loss/l1", "IoU"]
    );
    let total = stat(&output, "Loss/total");
    assert!(total.is_finite(), "total loss {total}");
    let weighted = 2.0 * stat(&output, "Loss/giou") + 5.0 * stat(&output, "Loss/l1");
    assert_close(total, weighted, "Loss/total");
    assert_close(scalar(output.loss.clone()), total, "returned loss");

    // The IoU statistic is that of the student's own boxes. A second training-mode
    // run gives the same boxes, because its batch norms use the batch statistics.
    let boxes = run(&student, &batch, None).boxes().inner();
    assert_close(stat(&output, "IoU"), mean_iou(boxes, &plain(&batch)), "IoU");

    let gradients = output.loss.backward();
    let weight = student.backbone.patch_embed.proj.weight.val();
    assert!(gradient_size(&weight, &gradients) > 0.0);
}

#[test]
fn dense_to_sparse_adds_corner_kl_from_an_untouched_teacher() {
    let device = training_device();
    // Built on the training device: the actor itself must switch it to inference.
    let teacher = corner_up_teacher(&device);
    let reference_teacher = teacher.clone().valid();
    let student = distribution_model(2, false, &device);
    let batch = batch(&device, None);

    let actor = DenseToSparseActor::new(teacher, BOX_WEIGHTS, 5.0).unwrap();
    let output = actor.forward(&student, &batch, 1).unwrap();
    assert_eq!(
        stat_names(&output),
        [
            "Loss/total",
            "Loss/giou",
            "Loss/l1",
            "Loss/kl",
            "IoU",
            "IoU_teacher"
        ]
    );
    let weighted = 2.0 * stat(&output, "Loss/giou")
        + 5.0 * stat(&output, "Loss/l1")
        + 5.0 * stat(&output, "Loss/kl");
    assert_close(stat(&output, "Loss/total"), weighted, "Loss/total");

    // The teacher ran in inference mode: a separate inference run reproduces its
    // IoU and, with the student's logits, the KL term.
    let plain_batch = plain(&batch);
    let teacher_output = run(&reference_teacher, &plain_batch, None);
    let HeadOutput::Corner(corners) = teacher_output.head else {
        panic!("expected the corner head");
    };
    assert_close(
        stat(&output, "IoU_teacher"),
        mean_iou(corners.boxes.clone(), &plain_batch),
        "IoU_teacher",
    );
    let student_logits = side_logits(run(&student.valid(), &plain_batch, None));
    let maps = CornerMaps {
        prob_tl: corners.prob_tl.clone(),
        prob_br: corners.prob_br.clone(),
    };
    let expected_kl = scalar(corner_kl_loss(maps, student_logits).unwrap());
    assert_close(stat(&output, "Loss/kl"), expected_kl, "Loss/kl");

    // Gradients reach the student and the teacher stays on the plain device.
    let gradients = output.loss.backward();
    let student_weight = student.backbone.blocks[0].attn.qkv.weight.val();
    assert!(gradient_size(&student_weight, &gradients) > 0.0);
    let teacher_weight = actor.teacher().backbone.patch_embed.proj.weight.val();
    assert!(!teacher_weight.is_autodiff());

    // Training the student leaves the teacher's outputs as they were.
    let after = run(actor.teacher(), &plain_batch, None).boxes();
    let difference = (after - corners.boxes).abs().max().into_scalar::<f32>();
    assert_eq!(difference, 0.0);
}

#[test]
fn dense_to_sparse_rejects_corner_maps_of_another_size() {
    let device = training_device();
    // A CORNER head on a 128 px search gives 8x8 maps, the student has 32 bins.
    let config = tiny_config(HeadKind::Corner { channels: 64 }, 2, false);
    let teacher = MixFormer::new(&config, &device.clone().inner()).unwrap();
    let student = distribution_model(2, false, &device);

    let actor = DenseToSparseActor::new(teacher, BOX_WEIGHTS, 5.0).unwrap();
    let error = actor
        .forward(&student, &batch(&device, None), 1)
        .unwrap_err();
    assert_eq!(
        error,
        DistillError::CornerMapSize {
            map: "prob_tl",
            cells: 64,
            bins: 32,
            expected: 1024,
        }
    );
    assert!(
        error
            .to_string()
            .contains("make the teacher's score-map size equal the student's MODEL.FEAT_SZ"),
        "{error}"
    );
}

#[test]
fn dense_to_sparse_rejects_a_prediction_token_teacher() {
    let device = training_device();
    let teacher = distribution_model(2, false, &device.clone().inner());
    let error = DenseToSparseActor::new(teacher, BOX_WEIGHTS, 5.0).unwrap_err();
    assert_eq!(
        error.to_string(),
        "DenseToSparseActor: the teacher has a distribution head (MLP), but this stage needs a \
         corner head (CORNER or CORNER_UP); check the teacher's MODEL.HEAD_TYPE"
    );
}

#[test]
fn deep_to_shallow_adds_side_kl_and_feature_terms() {
    let device = training_device();
    let teacher = distribution_model(4, false, &device.clone().inner());
    let reference_teacher = teacher.clone().valid();
    let student = distribution_model(4, false, &device);
    let batch = batch(&device, None);

    let actor = DeepToShallowActor::new(teacher, stage2_settings(vec![0, 2], vec![1, 3])).unwrap();
    let output = actor.forward(&student, &batch, 1).unwrap();
    assert_eq!(
        stat_names(&output),
        [
            "Loss/total",
            "Loss/giou",
            "Loss/l1",
            "Loss/kl",
            "Loss/feat",
            "IoU",
            "IoU_teacher",
            "remove_rate"
        ]
    );
    // REMOVE_EPOCHS 4: r(1) = 0.5 · (1 + cos(π · 2/4)) = 0.5.
    assert_close(stat(&output, "remove_rate"), 0.5, "remove_rate");
    let weighted = 2.0 * stat(&output, "Loss/giou")
        + 5.0 * stat(&output, "Loss/l1")
        + 5.0 * stat(&output, "Loss/kl")
        + 0.2 * stat(&output, "Loss/feat");
    assert_close(stat(&output, "Loss/total"), weighted, "Loss/total");

    // Separate inference runs of the teacher and of the student at r = 0.5.
    let plain_batch = plain(&batch);
    let teacher_output = run(&reference_teacher, &plain_batch, None);
    let rates = [0.5, 1.0, 0.5, 1.0];
    let student_output = run(&student.valid(), &plain_batch, Some(&rates));
    assert_close(
        stat(&output, "IoU_teacher"),
        mean_iou(teacher_output.boxes(), &plain_batch),
        "IoU_teacher",
    );
    let expected_feat = feature_mse_loss(
        &student_output.block_outputs,
        &teacher_output.block_outputs,
        &[1, 3],
        &[1, 3],
    )
    .unwrap();
    assert_close(
        stat(&output, "Loss/feat"),
        scalar(expected_feat),
        "Loss/feat",
    );
    let expected_kl = side_kl_loss(
        side_probabilities(&teacher_output),
        side_logits(student_output),
    )
    .unwrap();
    assert_close(stat(&output, "Loss/kl"), scalar(expected_kl), "Loss/kl");

    let gradients = output.loss.backward();
    let student_weight = student.backbone.blocks[3].mlp.fc2.weight.val();
    assert!(gradient_size(&student_weight, &gradients) > 0.0);
    assert!(
        !actor.teacher().backbone.blocks[0]
            .attn
            .qkv
            .weight
            .val()
            .is_autodiff()
    );
}

#[test]
fn remove_rate_scales_exactly_the_remove_layers() {
    let device = training_device();
    let teacher = distribution_model(4, false, &device.clone().inner());
    let student = distribution_model(4, false, &device);
    let batch = batch(&device, None);
    let plain_batch = plain(&batch);
    let actor = DeepToShallowActor::new(teacher, stage2_settings(vec![0, 2], vec![1, 3])).unwrap();

    // Epoch 2 of 4: r = 0.5 · (1 + cos(3π/4)) on blocks 0 and 2, 1 on blocks 1 and 3.
    let rate = RemoveRateSchedule::new(4).unwrap().rate(2).unwrap();
    let output = actor.forward(&student, &batch, 2).unwrap();
    assert_close(stat(&output, "remove_rate"), rate, "remove_rate");
    let expected = run(
        &student.valid(),
        &plain_batch,
        Some(&[rate, 1.0, rate, 1.0]),
    );
    assert_close(
        stat(&output, "IoU"),
        mean_iou(expected.boxes(), &plain_batch),
        "IoU",
    );

    // A rate on the wrong blocks gives other boxes, so the check above can fail.
    let swapped = run(
        &student.valid(),
        &plain_batch,
        Some(&[1.0, rate, 1.0, rate]),
    );
    let moved = (swapped.boxes() - expected.boxes())
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(moved > 1e-6, "boxes moved by {moved}");
}

#[test]
fn removed_blocks_contribute_nothing_once_the_rate_is_zero() {
    let device = training_device();
    let teacher = distribution_model(4, false, &device.clone().inner());
    let student = distribution_model(4, false, &device);
    let batch = batch(&device, None);

    // From epoch REMOVE_EPOCHS - 1 = 3 on, blocks 0 and 2 are skipped.
    let deep_actor =
        DeepToShallowActor::new(teacher.clone(), stage2_settings(vec![0, 2], vec![1, 3])).unwrap();
    let deep = deep_actor.forward(&student, &batch, 3).unwrap();
    assert_eq!(stat(&deep, "remove_rate"), 0.0);

    // The same student without blocks 0 and 2, its blocks 1 and 3 renumbered 0 and 1.
    let mut shallow = student.clone();
    shallow.backbone.blocks = vec![
        student.backbone.blocks[1].clone(),
        student.backbone.blocks[3].clone(),
    ];
    let shallow_actor =
        DeepToShallowActor::new(teacher, stage2_settings(Vec::new(), vec![0, 1])).unwrap();
    let cut = shallow_actor.forward(&shallow, &batch, 3).unwrap();
    assert_eq!(stat(&cut, "remove_rate"), 1.0);

    for ((name, deep_value), (_, cut_value)) in deep.stats.iter().zip(&cut.stats) {
        if name != "remove_rate" {
            assert_close(*deep_value, *cut_value, name);
        }
    }
}

#[test]
fn deep_to_shallow_rejects_a_remove_layer_past_the_student() {
    let device = training_device();
    let teacher = distribution_model(4, false, &device.clone().inner());
    let student = distribution_model(2, false, &device);
    let actor = DeepToShallowActor::new(teacher, stage2_settings(vec![0, 2], vec![0, 1])).unwrap();

    let error = actor
        .forward(&student, &batch(&device, None), 1)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "DeepToShallowActor: TRAIN.REMOVE_LAYERS lists block 2, but the student has 2 blocks; \
         use indices below 2"
    );
}

#[test]
fn deep_to_shallow_rejects_teacher_layers_past_the_teacher() {
    let device = training_device();
    let teacher = distribution_model(2, false, &device.clone().inner());
    let error =
        DeepToShallowActor::new(teacher, stage2_settings(Vec::new(), vec![0, 1])).unwrap_err();
    assert_eq!(
        error,
        DistillError::LayerOutOfRange {
            role: "teacher",
            index: 3,
            available: 2,
        }
    );
}

#[test]
fn score_actor_trains_the_score_head_on_labels() {
    let device = training_device();
    let student = distribution_model(2, true, &device);
    let batch = batch(&device, Some([1.0, 0.0]));

    let output = ScoreActor::new(1.0).forward(&student, &batch, 1).unwrap();
    assert_eq!(
        stat_names(&output),
        ["Loss/total", "Loss/score", "Accuracy"]
    );
    assert_close(
        stat(&output, "Loss/total"),
        stat(&output, "Loss/score"),
        "Loss/total",
    );

    // Loss and accuracy from the logits of a separate run.
    let logits: Vec<f32> = run(&student.valid(), &plain(&batch), None)
        .score_logits
        .unwrap()
        .into_data()
        .try_to_vec()
        .unwrap();
    let labels = [1.0f64, 0.0];
    let bce: f64 = logits
        .iter()
        .zip(labels)
        .map(|(&logit, label)| {
            let probability = 1.0 / (1.0 + (-f64::from(logit)).exp());
            -(label * probability.ln() + (1.0 - label) * (1.0 - probability).ln())
        })
        .sum::<f64>()
        / 2.0;
    assert_close(stat(&output, "Loss/score"), bce, "Loss/score");
    let correct = logits
        .iter()
        .zip(labels)
        .filter(|&(&logit, label)| (logit > 0.0) == (label > 0.5))
        .count();
    assert_close(stat(&output, "Accuracy"), correct as f64 / 2.0, "Accuracy");

    let gradients = output.loss.backward();
    let score_head = student.score_head.as_ref().unwrap();
    assert!(gradient_size(&score_head.output.weight.val(), &gradients) > 0.0);
}

#[test]
fn score_actor_needs_labels_and_a_score_head() {
    let device = training_device();
    let with_head = distribution_model(2, true, &device);
    let error = ScoreActor::new(1.0)
        .forward(&with_head, &batch(&device, None), 1)
        .unwrap_err();
    assert_eq!(
        error,
        DistillError::MissingLabels {
            actor: "ScoreActor"
        }
    );

    let without_head = distribution_model(2, false, &device);
    let error = ScoreActor::new(1.0)
        .forward(&without_head, &batch(&device, Some([1.0, 0.0])), 1)
        .unwrap_err();
    assert_eq!(
        error,
        DistillError::MissingScoreHead {
            actor: "ScoreActor"
        }
    );
}

#[test]
fn batch_of_mismatched_sizes_is_rejected_by_name() {
    let device = training_device();
    let student = corner_up_teacher(&device);
    let mut batch = batch(&device, None);
    batch.search_anno = Tensor::zeros([3, 4], &device);

    let error = TeacherTrainingActor::new(BOX_WEIGHTS)
        .forward(&student, &batch, 1)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "TeacherTrainingActor: ground-truth boxes has 3 samples but the search images have 2, \
         and every input of a batch must have the same samples"
    );
}

#[test]
fn actors_run_on_a_plain_device_for_validation() {
    let device = Device::flex();
    let teacher = distribution_model(4, false, &device);
    let student = distribution_model(4, false, &device);
    let actor = DeepToShallowActor::new(teacher, stage2_settings(vec![0, 2], vec![1, 3])).unwrap();

    let output = actor.forward(&student, &batch(&device, None), 1).unwrap();
    assert!(stat(&output, "Loss/total").is_finite());
    assert!(!output.loss.is_autodiff());
}
