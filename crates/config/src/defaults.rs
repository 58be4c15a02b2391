//! Per-script defaults, taken from the reference's `lib/config/<script>/config.py`.
//!
//! Where the reference's defaults describe a model that cannot load the
//! published checkpoints, or a setting this project does not support, ours differ:
//! - `MODEL.FEAT_SZ` is 72, not 18, to match the 288 px search region;
//! - `TEST.TEMPLATE_SIZE` and `TEST.SEARCH_SIZE` are 128 and 288, not 192 and
//!   384, to match the `DATA` sizes the network is built for;
//! - `DATA.TEMPLATE.NUMBER` is 2, not 1, because the model always takes an online template;
//! - `TEST.ONLINE_SIZES` is empty, not 3 per dataset: one online template everywhere;
//! - `TEST.EPOCH` is unset, meaning the last training epoch, not 500;
//! - `MODEL.BACKBONE.PRETRAINED_PATH` is a file name resolved against the
//!   pretrained-weights folder of the local settings, not a path on the authors' machines.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::data::{
    DataConfig, DatasetName, DatasetsConfig, SamplerMode, SearchConfig, TemplateConfig,
};
use crate::experiment::ExperimentConfig;
use crate::model::{BackboneConfig, HeadType, ModelConfig, PositionEmbedding, VitType};
use crate::script::Script;
use crate::tracking::TestConfig;
use crate::train::{DistillLossType, Optimizer, SchedulerConfig, SchedulerType, TrainConfig};

pub(crate) fn reference_defaults(script: Script) -> ExperimentConfig {
    ExperimentConfig {
        script,
        name: "defaults".to_owned(),
        model: model_defaults(script),
        data: data_defaults(script),
        train: train_defaults(),
        test: test_defaults(script),
    }
}

fn model_defaults(script: Script) -> ModelConfig {
    let head_type = match script {
        Script::MixformerVit => HeadType::Corner,
        _ => HeadType::Mlp,
    };
    ModelConfig {
        vit_type: VitType::BasePatch16,
        head_type,
        hidden_dim: 768,
        // The reference's corner head falls back to 384 channels when HEAD_DIM is unset.
        head_dim: 384,
        feat_sz: 72,
        num_object_queries: 1,
        position_embedding: PositionEmbedding::Sine,
        predict_mask: false,
        head_freeze_bn: false,
        pretrained_stage1: false,
        pretrained_static: false,
        backbone: BackboneConfig {
            depth: None,
            depth_teacher: 12,
            mlp_ratio: None,
            embed_dim: None,
            num_heads: None,
            // Every backbone of the reference is built with drop_path_rate=0.1.
            drop_path_rate: 0.1,
            pretrained: false,
            pretrained_path: PathBuf::from("mae_pretrain_vit_base.pth"),
        },
    }
}

fn data_defaults(script: Script) -> DataConfig {
    let sampler_mode = match script {
        Script::Mixformer2VitOnline => SamplerMode::TridentPro,
        _ => SamplerMode::Causal,
    };
    DataConfig {
        sampler_mode,
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
        max_sample_interval: 200,
        train: DatasetsConfig {
            datasets_name: vec![DatasetName::Got10kVotTrain],
            datasets_ratio: vec![1.0],
            sample_per_epoch: 60000,
        },
        val: DatasetsConfig {
            datasets_name: vec![DatasetName::Got10kVotVal],
            datasets_ratio: vec![1.0],
            sample_per_epoch: 10000,
        },
        search: SearchConfig {
            size: 288,
            factor: 5.0,
            center_jitter: 4.5,
            scale_jitter: 0.5,
        },
        template: TemplateConfig {
            size: 128,
            factor: 2.0,
            number: 2,
            center_jitter: 0.0,
            scale_jitter: 0.0,
        },
    }
}

fn train_defaults() -> TrainConfig {
    TrainConfig {
        train_score: false,
        lr: 1e-4,
        weight_decay: 1e-4,
        epoch: 500,
        lr_drop_epoch: 400,
        batch_size: 16,
        num_worker: 8,
        optimizer: Optimizer::AdamW,
        backbone_multiplier: 0.1,
        iou_weight: 2.0,
        l1_weight: 5.0,
        score_weight: 1.0,
        deep_supervision: false,
        freeze_stage0: false,
        print_interval: 50,
        val_epoch_interval: 20,
        grad_clip_norm: 0.1,
        distill: false,
        distill_loss_type: DistillLossType::Kl,
        corner_weight: 1.0,
        attn_weight: 1.0,
        feat_weight: 0.2,
        teacher_model: false,
        find_unused_parameters: false,
        distill_layer: 12,
        remove_layers: Vec::new(),
        invalid_layers: Vec::new(),
        distill_layers_student: vec![1, 3, 5, 7],
        distill_layers_teacher: vec![2, 5, 8, 11],
        // The reference's trainer hard-codes 40 epochs of layer removal.
        remove_epochs: 40,
        scheduler: SchedulerConfig {
            kind: SchedulerType::Step,
            decay_rate: 0.1,
            milestones: Vec::new(),
            // PyTorch's StepLR default, which the reference relies on.
            gamma: 0.1,
        },
    }
}

fn test_defaults(script: Script) -> TestConfig {
    let mut update_intervals: BTreeMap<String, usize> = [
        ("LASOT", 200),
        ("GOT10K_TEST", 200),
        ("TRACKINGNET", 200),
        ("VOT20", 200),
        ("VOT22STB", 10),
        ("VOT20LT", 200),
    ]
    .into_iter()
    .map(|(name, interval)| (name.to_owned(), interval))
    .collect();
    if script == Script::Mixformer2VitOnline {
        update_intervals.insert("TNL2K".to_owned(), 200);
    }
    TestConfig {
        template_factor: 2.0,
        template_size: 128,
        search_factor: 5.0,
        search_size: 288,
        epoch: None,
        update_intervals,
        online_sizes: BTreeMap::new(),
    }
}
