//! Saving, listing, cleaning and resuming checkpoints in an experiment folder.

use std::fs;

use mixformer_layer_surgery::{
    AdamWGroup, AdamWParameterState, AdamWState, Checkpoint, CheckpointManager, Error, StateDict,
    Tensor, Value,
};

const NET_TYPE: &str = "MixFormer";

fn net(width: usize, value: f32) -> StateDict {
    [
        ("backbone.blocks.0.norm1.weight", vec![width]),
        ("box_head.layers.1.0.bias", vec![3]),
    ]
    .into_iter()
    .map(|(name, shape)| {
        let numel: usize = shape.iter().product();
        (
            name.to_string(),
            Tensor::from_f32(shape, &vec![value; numel]).unwrap(),
        )
    })
    .collect()
}

fn checkpoint(epoch: u64) -> Checkpoint {
    let moment = Tensor::from_f32(vec![2], &[0.1, 0.2]).unwrap();
    let optimizer = AdamWState {
        state: vec![(
            0,
            AdamWParameterState {
                step: epoch as f64,
                exp_avg: moment.clone(),
                exp_avg_sq: moment,
            },
        )],
        param_groups: vec![AdamWGroup {
            lr: 4e-4,
            initial_lr: Some(4e-4),
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-4,
            amsgrad: false,
            params: vec![0, 1],
            param_names: Vec::new(),
        }],
    };
    Checkpoint {
        epoch,
        net_type: NET_TYPE.into(),
        actor_type: "MixFormerActor".into(),
        net: net(2, epoch as f32),
        optimizer: optimizer.to_value(),
        stats: vec![("Loss/total".into(), 0.5)],
        settings: Value::Str("TRAIN:\n  EPOCH: 500\n".into()),
    }
}

fn manager(folder: &std::path::Path) -> CheckpointManager {
    CheckpointManager::new(
        folder,
        "mixformer2_vit",
        "student_288_depth12",
        NET_TYPE,
        500,
    )
}

#[test]
fn save_then_resume_returns_same_checkpoint() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    let saved = checkpoint(5);
    let path = manager.save(&saved).unwrap();
    assert!(path.ends_with(
        "checkpoints/train/mixformer2_vit/student_288_depth12/MixFormer_ep0005.pth.tar"
    ));

    let resumed = manager.resume(&saved.net.shapes()).unwrap().unwrap();
    assert_eq!(resumed, saved);
    let optimizer = AdamWState::from_value(&resumed.optimizer, "resumed").unwrap();
    assert_eq!(optimizer.state[0].1.step, 5.0);
}

#[test]
fn resume_without_checkpoints_returns_none() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    assert!(manager.resume(&[]).unwrap().is_none());
    assert!(manager.latest().unwrap().is_none());
}

#[test]
fn latest_orders_epochs_by_number() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    for epoch in [9999, 10000, 998, 5] {
        manager.save(&checkpoint(epoch)).unwrap();
    }
    // Name sorting would put ep9999 after ep10000.
    let epochs: Vec<u64> = manager
        .checkpoints()
        .unwrap()
        .into_iter()
        .map(|(epoch, _)| epoch)
        .collect();
    assert_eq!(epochs, vec![5, 998, 9999, 10000]);
    let (epoch, path) = manager.latest().unwrap().unwrap();
    assert_eq!(epoch, 10000);
    assert!(path.ends_with("MixFormer_ep10000.pth.tar"));
    let resumed = manager
        .resume(&checkpoint(1).net.shapes())
        .unwrap()
        .unwrap();
    assert_eq!(resumed.epoch, 10000);
}

#[test]
fn other_files_are_ignored() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    manager.save(&checkpoint(3)).unwrap();
    let directory = manager.directory();
    for name in [
        "Other_ep0100.pth.tar",
        "MixFormer_ep0100.pth",
        "notes.txt",
        "MixFormer_epX.pth.tar",
    ] {
        fs::write(directory.join(name), b"not a checkpoint").unwrap();
    }
    assert_eq!(manager.latest().unwrap().unwrap().0, 3);
}

#[test]
fn leftover_temporary_files_are_ignored_and_removed() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    manager.save(&checkpoint(10)).unwrap();
    let directory = manager.directory().to_path_buf();
    // A save of epoch 15 that crashed half-way, and a reference trainer's temporary file.
    fs::write(
        directory.join("MixFormer_ep0015.pth.tar.tmp"),
        b"PK\x03\x04trunc",
    )
    .unwrap();
    fs::write(directory.join("MixFormer_ep0020.tmp"), b"").unwrap();
    fs::write(directory.join("notes.tmp"), b"kept").unwrap();

    assert_eq!(manager.latest().unwrap().unwrap().0, 10);
    let resumed = manager
        .resume(&checkpoint(10).net.shapes())
        .unwrap()
        .unwrap();
    assert_eq!(resumed.epoch, 10);
    assert!(!directory.join("MixFormer_ep0015.pth.tar.tmp").exists());
    assert!(!directory.join("MixFormer_ep0020.tmp").exists());
    assert!(directory.join("notes.tmp").exists());
    assert!(manager.remove_temporary_files().unwrap().is_empty());
}

#[test]
fn wrong_net_type_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    let mut other = checkpoint(7);
    other.net_type = "MixFormerOnline".into();
    fs::create_dir_all(manager.directory()).unwrap();
    other.write(&manager.path_for(7)).unwrap();

    let error = manager.resume(&other.net.shapes()).unwrap_err();
    assert!(matches!(error, Error::Mismatch { .. }));
    assert!(
        error.to_string().ends_with(
            "checkpoint does not match the model: net type is MixFormerOnline, expected MixFormer"
        ),
        "{error}"
    );
}

#[test]
fn missing_and_unexpected_keys_are_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    manager.save(&checkpoint(7)).unwrap();
    let expected = vec![
        ("backbone.blocks.0.norm1.weight".to_string(), vec![2]),
        ("score_head.layers.1.bias".to_string(), vec![1]),
    ];
    let error = manager.resume(&expected).unwrap_err().to_string();
    assert!(
        error.ends_with(
            "1 missing keys: score_head.layers.1.bias; 1 unexpected keys: box_head.layers.1.0.bias"
        ),
        "{error}"
    );
}

#[test]
fn wrong_shapes_are_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    manager.save(&checkpoint(7)).unwrap();
    let expected = net(4, 0.0).shapes();
    let error = manager.resume(&expected).unwrap_err().to_string();
    assert!(
        error.ends_with(
            "1 shape mismatches: `backbone.blocks.0.norm1.weight`: expected [4], found [2]"
        ),
        "{error}"
    );
}

#[test]
fn renamed_file_with_other_epoch_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    let path = manager.save(&checkpoint(7)).unwrap();
    fs::rename(&path, manager.path_for(8)).unwrap();
    let error = manager
        .resume(&checkpoint(7).net.shapes())
        .unwrap_err()
        .to_string();
    assert!(
        error.ends_with("the file name says epoch 8 but the checkpoint holds epoch 7"),
        "{error}"
    );
}

#[test]
fn corrupt_latest_checkpoint_is_an_error() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    manager.save(&checkpoint(5)).unwrap();
    fs::write(manager.path_for(6), b"PK\x03\x04 damaged").unwrap();
    let error = manager
        .resume(&checkpoint(5).net.shapes())
        .unwrap_err()
        .to_string();
    assert!(error.contains("MixFormer_ep0006.pth.tar"), "{error}");
}

#[test]
fn save_rejects_other_net_type() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    let mut other = checkpoint(1);
    other.net_type = "Other".into();
    let error = manager.save(&other).unwrap_err().to_string();
    assert!(
        error.ends_with("cannot save a Other checkpoint in a folder of MixFormer checkpoints"),
        "{error}"
    );
}

#[test]
fn saved_file_loads_with_safetensors_export() {
    let folder = tempfile::tempdir().unwrap();
    let saved = checkpoint(12);
    let path = folder.path().join("weights.safetensors");
    saved.write_weights_safetensors(&path).unwrap();
    let weights = mixformer_layer_surgery::read_weights(&path).unwrap();
    assert_eq!(weights.state_dict.shapes(), saved.net.shapes());
    assert_eq!(
        weights
            .state_dict
            .get("box_head.layers.1.0.bias")
            .unwrap()
            .to_f32_vec(),
        vec![12.0; 3]
    );
}
