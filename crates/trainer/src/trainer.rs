//! The epoch loop: optimiser steps, validation, log lines, checkpoints and resume.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use burn::module::{Module, ParamId};
use burn::tensor::Device;
use mixformer_config::ExperimentConfig;
use mixformer_distill::Actor;
use mixformer_layer_surgery::{AdamWState, Checkpoint, CheckpointManager, Value};
use mixformer_model_vit::{LoadPolicy, MixFormer, load_state_dict, to_state_dict};

use crate::TrainError;
use crate::batch::to_train_batch;
use crate::clip::clip_global_norm;
use crate::data::BatchSource;
use crate::logbook::Logbook;
use crate::optimizer::{GroupRates, GroupedAdamW};
use crate::parallel::{NonFinite, local_step, parallel_step};
use crate::params::{freeze, param_table};
use crate::schedule::LrSchedule;
use crate::stats::{RunningStats, describe, log_line};

/// Everything the loop reads from the experiment and the command line.
#[derive(Debug, Clone)]
pub struct TrainerSettings {
    /// Output root: checkpoints under `checkpoints/train/<script>/<config>/`,
    /// the log under `logs/`.
    pub save_dir: PathBuf,
    /// The script's name (`mixformer2_vit`, ...).
    pub script: String,
    /// The experiment's name (`student_288_depth12`, ...).
    pub config_name: String,
    /// Class name of the network, which names the checkpoint files.
    pub net_type: String,
    /// Epochs of the whole run (`TRAIN.EPOCH`).
    pub epochs: usize,
    /// Ends this invocation after this epoch, leaving the run to be resumed.
    pub stop_after: Option<usize>,
    /// Samples per step (`TRAIN.BATCH_SIZE`).
    pub batch_size: usize,
    /// Learning rate of the head group (`TRAIN.LR`).
    pub lr: f64,
    /// Backbone learning rate as a multiple of `lr` (`TRAIN.BACKBONE_MULTIPLIER`).
    pub backbone_multiplier: f64,
    /// AdamW weight decay (`TRAIN.WEIGHT_DECAY`).
    pub weight_decay: f64,
    /// Largest global gradient norm (`TRAIN.GRAD_CLIP_NORM`).
    pub grad_clip_norm: f64,
    /// Steps between log lines (`TRAIN.PRINT_INTERVAL`).
    pub print_interval: usize,
    /// Epochs between validation passes (`TRAIN.VAL_EPOCH_INTERVAL`).
    pub val_epoch_interval: usize,
    /// The learning-rate schedule (`TRAIN.SCHEDULER`).
    pub schedule: LrSchedule,
    /// Seed of drop-path and dropout, re-derived at the start of every epoch.
    pub seed: u64,
    /// Whether to draw a progress bar when stderr is a terminal.
    pub show_progress: bool,
    /// The experiment as YAML, stored in every checkpoint.
    pub config_yaml: String,
}

impl TrainerSettings {
    /// Builds the settings of an experiment whose outputs go under `save_dir`.
    pub fn from_config(
        config: &ExperimentConfig,
        save_dir: PathBuf,
        net_type: &str,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let train = &config.train;
        Ok(Self {
            save_dir,
            script: config.script.name().to_string(),
            config_name: config.name.clone(),
            net_type: net_type.to_string(),
            epochs: train.epoch,
            stop_after: None,
            batch_size: train.batch_size,
            lr: train.lr,
            backbone_multiplier: train.backbone_multiplier,
            weight_decay: train.weight_decay,
            grad_clip_norm: train.grad_clip_norm,
            print_interval: train.print_interval,
            val_epoch_interval: train.val_epoch_interval,
            schedule: LrSchedule::from_config(train)?,
            seed,
            show_progress: true,
            config_yaml: config.to_yaml(),
        })
    }

    /// The rates of both groups during epoch `epochs_done + 1`.
    pub fn rates(&self, epochs_done: usize) -> GroupRates {
        let factor = self.schedule.factor(epochs_done);
        GroupRates {
            head: self.lr * factor,
            backbone: self.lr * self.backbone_multiplier * factor,
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        let invalid = |name, message: &str| {
            Err(TrainError::InvalidSetting {
                name,
                message: message.into(),
            })
        };
        if self.epochs == 0 {
            return invalid("TRAIN.EPOCH", "must be at least 1");
        }
        if self.batch_size == 0 {
            return invalid("TRAIN.BATCH_SIZE", "must be at least 1");
        }
        if !(self.grad_clip_norm.is_finite() && self.grad_clip_norm > 0.0) {
            return invalid("TRAIN.GRAD_CLIP_NORM", "must be a positive number");
        }
        if !(self.lr.is_finite() && self.lr >= 0.0 && self.backbone_multiplier >= 0.0) {
            return invalid(
                "TRAIN.LR",
                "LR and BACKBONE_MULTIPLIER must be non-negative numbers",
            );
        }
        Ok(())
    }
}

/// What one invocation of [`Trainer::fit`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    /// The first epoch trained by this invocation (after a resume, the one
    /// after the checkpoint's).
    pub first_epoch: usize,
    /// The last epoch finished, 0 when none was.
    pub last_epoch: usize,
    /// Averages of the last training epoch.
    pub train_stats: Vec<(String, f64)>,
    /// Averages of the last validation pass.
    pub val_stats: Vec<(String, f64)>,
    /// The last checkpoint written.
    pub checkpoint: Option<PathBuf>,
}

/// Wall-clock time of the phases of one training step.
///
/// On a GPU the operations run asynchronously, so a phase may end before its
/// work does. In a data-parallel step, `backward` is the main device's, and
/// `forward` covers the rest: splitting the batch, copying the student, the
/// other devices' passes, and moving and summing their gradients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepTimes {
    /// Forward passes of the student and the teacher, with the losses and statistics.
    pub forward: Duration,
    /// Backward pass and collection of the gradients.
    pub backward: Duration,
    /// Clipping of the gradients to their global norm.
    pub clip: Duration,
    /// The AdamW update.
    pub optimizer: Duration,
}

/// The training loop of one stage.
pub struct Trainer {
    student: MixFormer,
    actor: Box<dyn Actor>,
    optimizer: GroupedAdamW,
    trained: BTreeSet<ParamId>,
    settings: TrainerSettings,
    device: Device,
    checkpoints: CheckpointManager,
    logbook: Logbook,
    next_epoch: usize,
    last_checkpoint: Option<PathBuf>,
    /// Further devices of data-parallel training, each with its actor copy.
    replicas: Vec<(Device, Box<dyn Actor>)>,
    last_step_times: StepTimes,
}

impl Trainer {
    /// Prepares training `student` with `actor`; the parameters under the
    /// PyTorch keys in `frozen` are never updated.
    pub fn new(
        student: MixFormer,
        actor: Box<dyn Actor>,
        frozen: &[String],
        settings: TrainerSettings,
        device: &Device,
    ) -> Result<Self, TrainError> {
        settings.validate()?;
        let frozen: BTreeSet<String> = frozen.iter().cloned().collect();
        let table = param_table(&student, &frozen);
        let unknown: Vec<&String> = frozen
            .iter()
            .filter(|key| !table.iter().any(|info| &info.key == *key))
            .collect();
        if !unknown.is_empty() {
            return Err(TrainError::InvalidSetting {
                name: "frozen parameters",
                message: format!(
                    "{unknown:?} are not parameters of the model; frozen keys are PyTorch keys \
                     such as backbone.blocks.0.norm1.weight"
                ),
            });
        }
        let frozen_ids = table
            .iter()
            .filter(|info| frozen.contains(&info.key))
            .map(|info| info.id)
            .collect();
        let student = freeze(student, &frozen_ids);
        let trained = table
            .iter()
            .filter(|info| info.trained)
            .map(|info| info.id)
            .collect();
        let optimizer = GroupedAdamW::new(table, settings.weight_decay, settings.rates(0));
        let checkpoints = CheckpointManager::new(
            &settings.save_dir,
            &settings.script,
            &settings.config_name,
            &settings.net_type,
            settings.epochs as u64,
        );
        let logbook = Logbook::open(
            &settings.save_dir,
            &settings.script,
            &settings.config_name,
            settings.show_progress,
        )?;
        Ok(Self {
            student,
            actor,
            optimizer,
            trained,
            settings,
            device: device.clone(),
            checkpoints,
            logbook,
            next_epoch: 1,
            last_checkpoint: None,
            replicas: Vec::new(),
            last_step_times: StepTimes::default(),
        })
    }

    /// The model being trained.
    pub fn student(&self) -> &MixFormer {
        &self.student
    }

    /// The optimiser.
    pub fn optimizer(&self) -> &GroupedAdamW {
        &self.optimizer
    }

    /// Returns the phase times of the last successful [`Self::train_step`].
    pub fn last_step_times(&self) -> StepTimes {
        self.last_step_times
    }

    /// The checkpoints of this run.
    pub fn checkpoints(&self) -> &CheckpointManager {
        &self.checkpoints
    }

    /// The epoch the next call to [`Trainer::fit`] starts with.
    pub fn next_epoch(&self) -> usize {
        self.next_epoch
    }

    /// Loads the latest checkpoint of this run, if any: weights, optimiser
    /// moments and learning rates; training continues with the epoch after it.
    /// Returns the checkpoint's epoch.
    pub fn resume(&mut self) -> Result<Option<usize>, TrainError> {
        let expected: Vec<(String, Vec<usize>)> = to_state_dict(&self.student)?
            .iter()
            .map(|(key, tensor)| (key.to_string(), tensor.shape().to_vec()))
            .collect();
        let Some(checkpoint) = self.checkpoints.resume(&expected)? else {
            return Ok(None);
        };
        let path = self.checkpoints.path_for(checkpoint.epoch);
        let origin = path.display().to_string();
        let (student, _) = load_state_dict(
            self.student.clone(),
            &checkpoint.net,
            &LoadPolicy::strict(),
            &origin,
        )?;
        self.student = student;
        let state = AdamWState::from_value(&checkpoint.optimizer, &origin)?;
        self.optimizer.load_state(&state, &self.device, &origin)?;
        let epoch = checkpoint.epoch as usize;
        self.next_epoch = epoch + 1;
        self.last_checkpoint = Some(path);
        tracing::info!(
            epoch,
            "resumed; training continues with epoch {}",
            epoch + 1
        );
        Ok(Some(epoch))
    }

    /// Trains from [`Trainer::next_epoch`] to the last epoch (or `stop_after`),
    /// validating every `val_epoch_interval` epochs and saving the checkpoints
    /// the [`CheckpointManager`] selects.
    pub fn fit(
        &mut self,
        train: &dyn BatchSource,
        val: Option<&dyn BatchSource>,
    ) -> Result<TrainSummary, TrainError> {
        let last = self
            .settings
            .stop_after
            .map_or(self.settings.epochs, |stop| stop.min(self.settings.epochs));
        let mut summary = TrainSummary {
            first_epoch: self.next_epoch,
            last_epoch: self.next_epoch - 1,
            train_stats: Vec::new(),
            val_stats: Vec::new(),
            checkpoint: self.last_checkpoint.clone(),
        };
        for epoch in self.next_epoch..=last {
            // Seeding per epoch makes drop-path the same whether or not the run was resumed.
            self.device.seed(epoch_seed(self.settings.seed, epoch));
            self.optimizer.set_rates(self.settings.rates(epoch - 1));
            summary.train_stats = self.train_epoch(train, epoch)?;
            if let Some(val) = val
                && epoch.is_multiple_of(self.settings.val_epoch_interval.max(1))
            {
                summary.val_stats = self.validate(val, epoch)?;
            }

            // The schedule steps after the epoch, so a checkpoint contains the next epoch's rates.
            self.optimizer.set_rates(self.settings.rates(epoch));
            self.next_epoch = epoch + 1;
            summary.last_epoch = epoch;
            if self.checkpoints.should_save(epoch as u64) {
                let path = self.save(epoch, &summary)?;
                self.last_checkpoint = Some(path);
                summary.checkpoint = self.last_checkpoint.clone();
            }
        }
        Ok(summary)
    }

    /// One optimiser step on `batch`; returns the actor's statistics.
    pub fn train_step(
        &mut self,
        batch: &mixformer_distill::TrainBatch,
        epoch: usize,
        step: usize,
        steps: usize,
    ) -> Result<Vec<(String, f64)>, TrainError> {
        let ids: Vec<ParamId> = self.trained.iter().copied().collect();
        let started = Instant::now();
        let outcome = if self.replicas.is_empty() {
            local_step(
                &self.student,
                self.actor.as_ref(),
                batch,
                epoch,
                step,
                1.0,
                &ids,
            )?
        } else {
            parallel_step(
                &self.student,
                self.actor.as_ref(),
                &self.device,
                &self.replicas,
                batch,
                epoch,
                step,
                &ids,
            )?
        };
        let result = match outcome {
            Ok(result) => result,
            Err(NonFinite { loss, mut stats }) => {
                if !stats.iter().any(|(name, _)| name == "Loss/total") {
                    stats.insert(0, ("Loss/total".into(), loss));
                }
                return Err(TrainError::NonFiniteLoss {
                    epoch,
                    step,
                    steps,
                    terms: describe(&stats),
                    kept: match &self.last_checkpoint {
                        Some(path) => format!("The last checkpoint, {}, is kept", path.display()),
                        None => "No checkpoint had been written yet".into(),
                    },
                });
            }
        };

        let passes = started.elapsed();
        let mut grads = result.grads;
        let clip_started = Instant::now();
        clip_global_norm(
            &self.student,
            &mut grads,
            &self.trained,
            self.settings.grad_clip_norm,
        );
        let optimizer_started = Instant::now();
        self.student = self.optimizer.step(self.student.clone(), &mut grads);
        self.last_step_times = StepTimes {
            forward: passes.saturating_sub(result.backward),
            backward: result.backward,
            clip: optimizer_started - clip_started,
            optimizer: optimizer_started.elapsed(),
        };
        Ok(result.stats)
    }

    /// Trains data-parallel over the trainer's device and `devices`: each step
    /// splits its batch into consecutive shares, one per device, and sums the
    /// gradients on the trainer's device, where clipping, the optimiser and
    /// the checkpoints run. The batch must hold at least one sample per device.
    pub fn set_replica_devices(&mut self, devices: &[Device]) {
        self.replicas = devices
            .iter()
            .map(|device| {
                (
                    device.clone(),
                    self.actor.replicate(&device.clone().inner()),
                )
            })
            .collect();
    }

    fn train_epoch(
        &mut self,
        source: &dyn BatchSource,
        epoch: usize,
    ) -> Result<Vec<(String, f64)>, TrainError> {
        let steps = source.steps_per_epoch();
        let mut stats = RunningStats::default();
        let started = Instant::now();
        self.logbook.start_bar("train", epoch, steps);
        for (index, batch) in source.epoch(epoch).enumerate().take(steps) {
            let step = index + 1;
            let batch_started = Instant::now();
            let batch = batch.map_err(|source| TrainError::Data {
                epoch,
                phase: "train",
                step,
                source: Box::new(source),
            })?;
            let train_batch = self.convert(&batch, epoch, "train", step, &self.device)?;
            let step_stats = self.train_step(&train_batch, epoch, step, steps)?;
            stats.update(&step_stats, batch.batch_size());
            self.logbook.tick();
            if step.is_multiple_of(self.settings.print_interval.max(1)) || step == steps {
                let line = self.line("train", epoch, step, steps, started, batch_started, &stats);
                self.logbook.line(&line)?;
            }
        }
        self.logbook.finish_bar();
        Ok(stats.averages())
    }

    fn validate(
        &mut self,
        source: &dyn BatchSource,
        epoch: usize,
    ) -> Result<Vec<(String, f64)>, TrainError> {
        let steps = source.steps_per_epoch();
        let student = self.student.valid();
        let device = self.device.clone().inner();
        let mut stats = RunningStats::default();
        let started = Instant::now();
        self.logbook.start_bar("val", epoch, steps);
        for (index, batch) in source.epoch(epoch).enumerate().take(steps) {
            let step = index + 1;
            let batch_started = Instant::now();
            let batch = batch.map_err(|source| TrainError::Data {
                epoch,
                phase: "val",
                step,
                source: Box::new(source),
            })?;
            let val_batch = self.convert(&batch, epoch, "val", step, &device)?;
            let output = self
                .actor
                .forward(&student, &val_batch, epoch)
                .map_err(|source| TrainError::Actor {
                    epoch,
                    phase: "val",
                    step,
                    source: Box::new(source),
                })?;
            stats.update(&output.stats, batch.batch_size());
            self.logbook.tick();
            if step.is_multiple_of(self.settings.print_interval.max(1)) || step == steps {
                let line = self.line("val", epoch, step, steps, started, batch_started, &stats);
                self.logbook.line(&line)?;
            }
        }
        self.logbook.finish_bar();
        Ok(stats.averages())
    }

    fn convert(
        &self,
        batch: &mixformer_data::Batch,
        epoch: usize,
        phase: &'static str,
        step: usize,
        device: &Device,
    ) -> Result<mixformer_distill::TrainBatch, TrainError> {
        if batch.batch_size() != self.settings.batch_size {
            return Err(TrainError::Batch {
                epoch,
                phase,
                step,
                message: format!(
                    "the batch contains {} samples, but TRAIN.BATCH_SIZE is {}",
                    batch.batch_size(),
                    self.settings.batch_size
                ),
            });
        }
        to_train_batch(batch, device).map_err(|message| TrainError::Batch {
            epoch,
            phase,
            step,
            message,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        phase: &str,
        epoch: usize,
        step: usize,
        steps: usize,
        started: Instant,
        batch_started: Instant,
        stats: &RunningStats,
    ) -> String {
        let samples = (step * self.settings.batch_size) as f64;
        let average_fps = samples / started.elapsed().as_secs_f64().max(1e-9);
        let batch_fps =
            self.settings.batch_size as f64 / batch_started.elapsed().as_secs_f64().max(1e-9);
        log_line(
            phase,
            epoch,
            step,
            steps,
            average_fps,
            batch_fps,
            &stats.averages(),
        )
    }

    fn save(&self, epoch: usize, summary: &TrainSummary) -> Result<PathBuf, TrainError> {
        let prefixed = |prefix: &str, stats: &[(String, f64)]| {
            stats
                .iter()
                .map(|(name, value)| (format!("{prefix}/{name}"), *value))
                .collect::<Vec<_>>()
        };
        let mut stats = prefixed("train", &summary.train_stats);
        stats.extend(prefixed("val", &summary.val_stats));
        let checkpoint = Checkpoint {
            epoch: epoch as u64,
            net_type: self.settings.net_type.clone(),
            actor_type: self.actor.name().to_string(),
            net: to_state_dict(&self.student)?,
            optimizer: self.optimizer.state()?.to_value(),
            stats,
            settings: Value::Str(self.settings.config_yaml.clone()),
        };
        Ok(self.checkpoints.save(&checkpoint)?)
    }
}

/// The seed of epoch `epoch`: the run's seed mixed with the epoch (SplitMix64).
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut z = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
