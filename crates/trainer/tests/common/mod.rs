//! A tiny student, a test actor and synthetic batches for the loop tests.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use burn::tensor::{Device, Tensor};
use mixformer_data::{Array, Batch, DataError, SampleSource};
use mixformer_distill::{Actor, ActorOutput, DistillError, TrainBatch};
use mixformer_model_vit::{HeadKind, MixFormer, VitConfig};
use mixformer_trainer::{BatchSource, LrSchedule, TrainerSettings};

pub const BATCH: usize = 2;
pub const TEMPLATE: usize = 32;
pub const SEARCH: usize = 64;

/// burn's random generator is global, so tests that seed it run one at a time.
static SEEDED: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SEEDED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn device() -> Device {
    Device::flex().autodiff()
}

/// A 2-block student with prediction tokens and drop-path, so that the seed matters.
pub fn tiny_config() -> VitConfig {
    VitConfig {
        embed_dim: 32,
        depth: 2,
        num_heads: 2,
        mlp_ratio: 2.0,
        patch_size: 16,
        template_size: TEMPLATE,
        search_size: SEARCH,
        head: HeadKind::Distribution { bins: 16 },
        score_head: false,
        drop_path_rate: 0.1,
        layer_norm_eps: 1e-6,
    }
}

pub fn tiny_student(seed: u64) -> MixFormer {
    let device = device();
    device.seed(seed);
    MixFormer::new(&tiny_config(), &device).unwrap()
}

/// L1 between the predicted and the true `(x1, y1, x2, y2)` boxes, scaled by
/// `scale`; from epoch `nan_from_epoch` on the loss is NaN.
pub struct BoxActor {
    pub scale: f64,
    pub nan_from_epoch: Option<usize>,
}

impl BoxActor {
    pub fn boxed() -> Box<dyn Actor> {
        Box::new(BoxActor {
            scale: 1.0,
            nan_from_epoch: None,
        })
    }
}

impl Actor for BoxActor {
    fn forward(
        &self,
        student: &MixFormer,
        batch: &TrainBatch,
        epoch: usize,
    ) -> Result<ActorOutput, DistillError> {
        let output = student.forward(
            batch.template.clone(),
            batch.online_template.clone(),
            batch.search.clone(),
            None,
        );
        let target = mixformer_distill::box_xywh_to_xyxy(batch.search_anno.clone())?;
        let mut loss: Tensor<1> = (output.boxes() - target)
            .abs()
            .mean()
            .mul_scalar(self.scale)
            .reshape([1]);
        if self.nan_from_epoch.is_some_and(|from| epoch >= from) {
            loss = loss.mul_scalar(f64::NAN);
        }
        let value: f64 = loss.clone().into_scalar::<f64>();
        Ok(ActorOutput {
            loss,
            stats: vec![
                ("Loss/total".into(), value),
                ("Loss/l1".into(), value / 2.0),
            ],
        })
    }

    fn replicate(&self, _device: &Device) -> Box<dyn Actor> {
        Box::new(BoxActor {
            scale: self.scale,
            nan_from_epoch: self.nan_from_epoch,
        })
    }

    fn name(&self) -> &'static str {
        "BoxActor"
    }
}

/// Random batches that depend only on `(seed, epoch, index)`.
pub struct SyntheticBatches {
    pub seed: u64,
    pub steps: usize,
}

impl SyntheticBatches {
    fn values(&self, epoch: usize, index: usize, salt: u64, count: usize) -> Vec<f32> {
        let mut state = self.seed
            ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (index as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
            ^ salt.wrapping_mul(0x94D0_49BB_1331_11EB);
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 40) as f32) / ((1u64 << 24) as f32)
            })
            .collect()
    }

    pub fn batch(&self, epoch: usize, index: usize) -> Batch {
        let array = |data: Vec<f32>, shape: Vec<usize>| Array { data, shape };
        let templates = 2 * BATCH * 3 * TEMPLATE * TEMPLATE;
        let search = BATCH * 3 * SEARCH * SEARCH;
        let boxes: Vec<f32> = self
            .values(epoch, index, 3, BATCH * 4)
            .into_iter()
            .map(|value| 0.2 + 0.3 * value)
            .collect();
        Batch {
            template_images: array(
                self.values(epoch, index, 1, templates),
                vec![2, BATCH, 3, TEMPLATE, TEMPLATE],
            ),
            template_anno: array(vec![0.25; 2 * BATCH * 4], vec![2, BATCH, 4]),
            search_images: array(
                self.values(epoch, index, 2, search),
                vec![1, BATCH, 3, SEARCH, SEARCH],
            ),
            search_anno: array(boxes, vec![1, BATCH, 4]),
            label: None,
            sources: vec![
                SampleSource {
                    dataset: "synthetic".into(),
                    sequence: format!("{epoch}-{index}"),
                    template_frames: vec![0, 1],
                    search_dataset: "synthetic".into(),
                    search_sequence: format!("{epoch}-{index}"),
                    search_frames: vec![2],
                };
                BATCH
            ],
        }
    }
}

impl BatchSource for SyntheticBatches {
    fn steps_per_epoch(&self) -> usize {
        self.steps
    }

    fn epoch(&self, epoch: usize) -> Box<dyn Iterator<Item = Result<Batch, DataError>> + '_> {
        Box::new((0..self.steps).map(move |index| Ok(self.batch(epoch, index))))
    }
}

pub fn settings(save_dir: &Path, epochs: usize) -> TrainerSettings {
    TrainerSettings {
        save_dir: save_dir.to_owned(),
        script: "mixformer2_vit".into(),
        config_name: "tiny".into(),
        net_type: "MixFormer".into(),
        epochs,
        stop_after: None,
        batch_size: BATCH,
        lr: 1e-3,
        backbone_multiplier: 0.1,
        weight_decay: 1e-4,
        grad_clip_norm: 0.1,
        print_interval: 1,
        val_epoch_interval: 2,
        schedule: LrSchedule::Step {
            every: 2,
            gamma: 0.1,
        },
        seed: 7,
        show_progress: false,
        config_yaml: "TRAIN:\n  EPOCH: 3\n".into(),
    }
}
