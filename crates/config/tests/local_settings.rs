//! The local settings file: template, loading, path resolution and errors.

use std::path::{Path, PathBuf};

use mixformer_config::{
    DatasetName, ExperimentConfig, Folder, LocalSettings, Script, SettingsError, settings_template,
    write_settings_template,
};

fn sample_data_dir() -> PathBuf {
    let path = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        path.is_dir(),
        "sample data not found at {}; set MIXFORMER_SAMPLE_DATA to its folder",
        path.display()
    );
    path
}

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments")
}

fn write_settings(text: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("local.yaml");
    std::fs::write(&path, text).expect("write settings");
    (folder, path)
}

#[test]
fn template_round_trip_resolves_paths() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("local.yaml");
    write_settings_template(&path, Some(Path::new("../data")), false).expect("write template");

    let settings = LocalSettings::load(&path).expect("load template");
    let base = folder.path().canonicalize().expect("canonical folder");
    assert_eq!(settings.file(), path);
    assert_eq!(
        settings.folder(Folder::Coco).expect("coco_dir"),
        base.join("../data/coco")
    );
    assert_eq!(
        settings.dataset_root(DatasetName::Otb).expect("otb_dir"),
        base.join("../data/sot/otb")
    );
    assert_eq!(
        settings
            .dataset_root(DatasetName::Uav123)
            .expect("uav123_dir"),
        base.join("../data/sot/uav123")
    );
    assert_eq!(
        settings.dataset_root(DatasetName::Vot).expect("vot_dir"),
        base.join("../data/sot/vot")
    );
    assert_eq!(settings.save_dir().expect("save_dir"), base.join("output"));
    assert_eq!(
        settings.checkpoints_dir().expect("save_dir"),
        base.join("output/checkpoints")
    );
    assert_eq!(
        settings.results_dir().expect("results_dir"),
        base.join("output/results")
    );
    assert_eq!(
        settings.pretrained_dir().expect("pretrained_dir"),
        base.join("checkpoints")
    );
}

#[test]
fn template_leaves_other_roots_unset() {
    let (_folder, path) = write_settings(&settings_template(None));
    let settings = LocalSettings::load(&path).expect("load template");
    for folder in [
        Folder::Got10k,
        Folder::Got10kTest,
        Folder::Lasot,
        Folder::TrackingNet,
        Folder::Coco,
        Folder::Otb,
        Folder::Uav123,
        Folder::Vot,
    ] {
        let error = settings.folder(folder).expect_err("unset root");
        let message = error.to_string();
        assert!(
            message.contains(&format!("{} is not set", folder.key())),
            "{message}"
        );
        assert!(message.contains("local.yaml"), "{message}");
    }
    assert!(settings.save_dir().is_ok());
}

#[test]
fn template_mentions_every_key() {
    let text = settings_template(None);
    for folder in Folder::ALL {
        assert!(
            text.contains(&format!("{}:", folder.key())),
            "{}",
            folder.key()
        );
    }
}

#[test]
fn absolute_paths_stay_as_written() {
    let (_folder, path) = write_settings("lasot_dir: /datasets/LaSOT\n");
    let settings = LocalSettings::load(&path).expect("load settings");
    assert_eq!(
        settings
            .dataset_root(DatasetName::Lasot)
            .expect("lasot_dir"),
        Path::new("/datasets/LaSOT")
    );
    assert!(settings.dataset_root(DatasetName::Coco17).is_err());
}

#[test]
fn got10k_splits_share_one_root() {
    let (_folder, path) = write_settings("got10k_dir: /datasets/GOT-10k\n");
    let settings = LocalSettings::load(&path).expect("load settings");
    for name in [
        DatasetName::Got10kVotTrain,
        DatasetName::Got10kVotVal,
        DatasetName::Got10kTrainFull,
    ] {
        assert_eq!(
            settings.dataset_root(name).expect("got10k_dir"),
            Path::new("/datasets/GOT-10k")
        );
    }
    assert!(settings.folder(Folder::Got10kTest).is_err());
}

#[test]
fn unknown_key_is_named() {
    let (_folder, path) = write_settings("save_dir: out\nlasot_path: /data/lasot\n");
    let error = LocalSettings::load(&path).expect_err("unknown key");
    assert!(matches!(error, SettingsError::Parse { .. }));
    let message = error.to_string();
    assert!(message.contains("unknown field `lasot_path`"), "{message}");
    assert!(message.contains("lasot_dir"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn wrong_type_is_named() {
    let (_folder, path) = write_settings("save_dir: [out]\n");
    let message = LocalSettings::load(&path)
        .expect_err("a list is not a path")
        .to_string();
    assert!(
        message.contains("save_dir: invalid type: sequence"),
        "{message}"
    );
}

#[test]
fn empty_file_sets_nothing() {
    let (_folder, path) = write_settings("");
    let settings = LocalSettings::load(&path).expect("load empty settings");
    assert!(settings.save_dir().is_err());
}

#[test]
fn missing_file_names_fix() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("local.yaml");
    let message = LocalSettings::load(&path)
        .expect_err("no such file")
        .to_string();
    assert!(message.contains("cargo xtask settings"), "{message}");
    assert!(message.contains("MIXFORMER_LOCAL_SETTINGS"), "{message}");
}

#[test]
fn existing_file_is_kept_unless_overwrite() {
    let (_folder, path) = write_settings("save_dir: mine\n");
    let error = write_settings_template(&path, None, false).expect_err("file exists");
    assert!(matches!(error, SettingsError::AlreadyExists { .. }));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read settings"),
        "save_dir: mine\n"
    );

    write_settings_template(&path, None, true).expect("overwrite");
    let settings = LocalSettings::load(&path).expect("load template");
    assert!(settings.save_dir().expect("save_dir").ends_with("output"));
}

#[test]
fn pretrained_path_depends_on_script() {
    let (_folder, path) = write_settings("save_dir: /runs\npretrained_dir: /weights\n");
    let settings = LocalSettings::load(&path).expect("load settings");
    let load = |script: Script, name: &str| {
        let file = experiments_dir()
            .join(script.name())
            .join(format!("{name}.yaml"));
        ExperimentConfig::load(script, file).unwrap_or_else(|error| panic!("{error}"))
    };

    let stage_one = load(Script::Mixformer2Vit, "student_288_depth12");
    assert_eq!(
        stage_one.pretrained_path(&settings).expect("resolved"),
        Some(PathBuf::from("/weights/mae_pretrain_vit_base.pth"))
    );

    let stage_two = load(Script::Mixformer2VitStu, "student_288_depth8");
    assert_eq!(
        stage_two.pretrained_path(&settings).expect("resolved"),
        Some(PathBuf::from(
            "/runs/checkpoints/train/mixformer2_vit_stu/student_288_depth12to8/MixFormer_ep0045.pth.tar"
        ))
    );
    assert_eq!(
        stage_two.checkpoint_dir(&settings).expect("resolved"),
        Path::new("/runs/checkpoints/train/mixformer2_vit_stu/student_288_depth8")
    );

    let teacher = load(Script::MixformerVit, "teacher_mixvit_b");
    assert_eq!(teacher.pretrained_path(&settings).expect("resolved"), None);

    let mut absolute = stage_one.clone();
    absolute.model.backbone.pretrained_path = PathBuf::from("/elsewhere/vit.pth");
    assert_eq!(
        absolute.pretrained_path(&settings).expect("resolved"),
        Some(PathBuf::from("/elsewhere/vit.pth"))
    );
}

#[test]
fn pretrained_path_names_missing_folder() {
    let (_folder, path) = write_settings("save_dir: /runs\n");
    let settings = LocalSettings::load(&path).expect("load settings");
    let file = experiments_dir().join("mixformer2_vit/student_288_depth12.yaml");
    let config = ExperimentConfig::load(Script::Mixformer2Vit, file).expect("load experiment");
    let message = config
        .pretrained_path(&settings)
        .expect_err("pretrained_dir unset")
        .to_string();
    assert!(message.contains("pretrained_dir is not set"), "{message}");
}

#[test]
fn tiny_datasets_exist_in_sample_data() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("local.yaml");
    let sample_data = sample_data_dir()
        .canonicalize()
        .expect("canonical sample data");
    write_settings_template(&path, Some(&sample_data), false).expect("write template");
    let settings = LocalSettings::load(&path).expect("load template");

    let tiny = [
        (Script::MixformerVit, "teacher_tiny"),
        (Script::Mixformer2Vit, "student_tiny_depth4"),
        (Script::Mixformer2VitStu, "student_tiny_depth4to2"),
        (Script::Mixformer2VitStu, "student_tiny_depth2"),
        (Script::Mixformer2VitOnline, "tiny_depth2_score"),
    ];
    for (script, name) in tiny {
        let file = experiments_dir()
            .join(script.name())
            .join(format!("{name}.yaml"));
        let config = ExperimentConfig::load(script, file).unwrap_or_else(|error| panic!("{error}"));
        let data = &config.data;
        for dataset in data
            .train
            .datasets_name
            .iter()
            .chain(&data.val.datasets_name)
        {
            let root = settings
                .dataset_root(*dataset)
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(root.is_dir(), "{name}: {dataset} root {}", root.display());
        }
    }
    assert!(
        settings
            .dataset_root(DatasetName::Coco17Val)
            .expect("coco_dir")
            .join("annotations/instances_val2017.json")
            .is_file()
    );
}
