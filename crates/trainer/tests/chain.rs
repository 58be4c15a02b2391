//! The short chain of stages on the real sample data with the tiny
//! experiments: teacher, stage 1, stage 2a, layer surgery with stage 2b,
//! and the score head, each one epoch of one step, each starting from the
//! previous stage's checkpoint.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use mixformer_config::{ExperimentConfig, LocalSettings, Script};
use mixformer_layer_surgery::Checkpoint;
use mixformer_trainer::stage::{StageKind, StageOptions, TeacherSpec, build_stage};
use mixformer_trainer::{Trainer, TrainerSettings, experiment_data};

const SEED: u64 = 11;

fn sample_data() -> PathBuf {
    let dir = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        dir.join("sot").is_dir(),
        "sample data not found at {}; set MIXFORMER_SAMPLE_DATA to the folder that contains \
         sot/ and coco/",
        dir.display()
    );
    dir
}

fn experiment_file(script: Script, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments")
        .join(script.name())
        .join(format!("{name}.yaml"))
}

struct Chain {
    save_dir: PathBuf,
    settings: LocalSettings,
    device: Device,
}

impl Chain {
    /// Trains one epoch of one step and returns the checkpoint.
    fn run(
        &self,
        script: Script,
        name: &str,
        teacher: Option<TeacherSpec>,
        pretrained: Option<PathBuf>,
        static_model: Option<PathBuf>,
    ) -> (StageKind, Vec<String>, PathBuf) {
        let mut config = ExperimentConfig::load(script, experiment_file(script, name)).unwrap();
        config.train.epoch = 1;
        config.train.num_worker = 2;
        config.train.val_epoch_interval = 1;
        config.data.train.sample_per_epoch = config.train.batch_size;
        config.data.val.sample_per_epoch = config.train.batch_size;

        self.device.seed(SEED);
        let options = StageOptions {
            teacher,
            pretrained,
            static_model,
            settings: self.settings.clone(),
        };
        let stage = build_stage(&config, &options, &self.device).unwrap();
        let data = experiment_data(&config, &self.settings, SEED).unwrap();
        let mut settings =
            TrainerSettings::from_config(&config, self.save_dir.clone(), &stage.net_type, SEED)
                .unwrap();
        settings.show_progress = false;
        let frozen = stage.frozen.clone();
        let mut trainer = Trainer::new(
            stage.student,
            stage.actor,
            &stage.frozen,
            settings,
            &self.device,
        )
        .unwrap();
        let summary = trainer.fit(&data.train, Some(&data.val)).unwrap();
        assert_eq!(summary.last_epoch, 1);
        assert!(
            summary
                .train_stats
                .iter()
                .any(|(name, value)| name == "Loss/total" && value.is_finite()),
            "{name}: {:?}",
            summary.train_stats
        );
        assert!(!summary.val_stats.is_empty(), "{name}: no validation");
        (stage.kind, frozen, summary.checkpoint.unwrap())
    }
}

fn teacher(script: Script, name: &str, checkpoint: &Path) -> Option<TeacherSpec> {
    Some(TeacherSpec {
        script,
        config: experiment_file(script, name),
        checkpoint: checkpoint.to_owned(),
    })
}

fn block_count(checkpoint: &Checkpoint) -> usize {
    (0..64)
        .take_while(|index| {
            checkpoint
                .net
                .get(&format!("backbone.blocks.{index}.norm1.weight"))
                .is_some()
        })
        .count()
}

#[test]
fn tiny_chain_teacher_to_score_head() {
    let data = sample_data();
    let output = tempfile::tempdir().unwrap();
    let settings_file = output.path().join("local.yaml");
    std::fs::write(
        &settings_file,
        format!(
            "vot_dir: {}\nuav123_dir: {}\ncoco_dir: {}\notb_dir: {}\nsave_dir: out\n\
             pretrained_dir: .\n",
            data.join("sot/vot").display(),
            data.join("sot/uav123").display(),
            data.join("coco").display(),
            data.join("sot/otb").display(),
        ),
    )
    .unwrap();
    let settings = LocalSettings::load(&settings_file).unwrap();
    let chain = Chain {
        save_dir: settings.save_dir().unwrap().to_owned(),
        settings,
        device: Device::flex().autodiff(),
    };

    let (kind, _, stage0) = chain.run(Script::MixformerVit, "teacher_tiny", None, None, None);
    assert_eq!(kind, StageKind::TeacherTraining);

    let (kind, _, stage1) = chain.run(
        Script::Mixformer2Vit,
        "student_tiny_depth4",
        teacher(Script::MixformerVit, "teacher_tiny", &stage0),
        None,
        None,
    );
    assert_eq!(kind, StageKind::DenseToSparse);

    let stage1_teacher = || teacher(Script::Mixformer2Vit, "teacher_tiny_depth4", &stage1);
    let (kind, frozen, stage2a) = chain.run(
        Script::Mixformer2VitStu,
        "student_tiny_depth4to2",
        stage1_teacher(),
        Some(stage1.clone()),
        None,
    );
    assert_eq!(kind, StageKind::LayerRemoval);
    assert!(
        frozen
            .iter()
            .all(|key| key.starts_with("backbone.blocks.0.")
                || key.starts_with("backbone.blocks.2."))
    );
    assert!(!frozen.is_empty());
    let removal = Checkpoint::read(&stage2a).unwrap();
    let first = Checkpoint::read(&stage1).unwrap();
    for key in &frozen {
        assert_eq!(
            removal.net.get(key),
            first.net.get(key),
            "{key} moved in stage 2a"
        );
    }

    let (kind, _, stage2b) = chain.run(
        Script::Mixformer2VitStu,
        "student_tiny_depth2",
        stage1_teacher(),
        Some(stage2a.clone()),
        None,
    );
    assert_eq!(kind, StageKind::ShallowFinetune);
    let shallow = Checkpoint::read(&stage2b).unwrap();
    assert_eq!(block_count(&removal), 4);
    assert_eq!(block_count(&shallow), 2);

    let (kind, frozen, stage3) = chain.run(
        Script::Mixformer2VitOnline,
        "tiny_depth2_score",
        None,
        None,
        Some(stage2b.clone()),
    );
    assert_eq!(kind, StageKind::Score);
    assert!(frozen.iter().all(|key| !key.starts_with("score_head.")));
    let score = Checkpoint::read(&stage3).unwrap();
    assert!(score.net.get("score_head.layers.1.weight").is_some());
    for (key, tensor) in shallow.net.iter() {
        if key.ends_with("num_batches_tracked") || key.contains("running_") {
            continue;
        }
        assert_eq!(
            score.net.get(key),
            Some(tensor),
            "{key} moved in the score stage"
        );
    }
    assert_eq!(score.epoch, 1);
    assert_eq!(score.net_type, "MixFormer");
}
