//! One test per case of the bad-input policy.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mixformer_data::{
    BBox, Coco, CropParams, DataError, FramePaths, Got10k, Got10kSplit, InMemoryDataset, Lasot,
    Normalization, ProcessingParams, SamplerMode, SamplerParams, Sequence, TrackingDataset,
    TrackingSampler, Uav123, load_frame, read_otb_sequence,
};

/// Builds an OTB folder with `frames` real frames and the given ground truth.
fn otb_folder(frames: usize, ground_truth: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let source = common::sorted_frames(&common::crossing_dir().join("img"));
    common::link_frames(&source, &root.path().join("img"), frames, |i| {
        format!("{:04}.jpg", i + 1)
    });
    fs::write(root.path().join("groundtruth_rect.txt"), ground_truth).unwrap();
    root
}

fn error_message<T>(result: Result<T, DataError>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn wrong_field_count_names_file_line_and_text() {
    let mut ground_truth = "205,151,17,50\n".repeat(16);
    ground_truth.push_str("12,34,NaN\n");
    let folder = otb_folder(17, &ground_truth);
    let message = error_message(read_otb_sequence(folder.path()));
    assert!(
        message.ends_with(
            "groundtruth_rect.txt line 17: expected 4 numbers separated by commas, \
             tabs or spaces, found \"12,34,NaN\""
        ),
        "{message}"
    );
}

#[test]
fn non_numeric_value_is_an_error() {
    let folder = otb_folder(2, "205,151,17,50\n205,151,x17,50\n");
    let message = error_message(read_otb_sequence(folder.path()));
    assert!(message.contains("line 2"), "{message}");
    assert!(message.contains("\"x17\" is not a number"), "{message}");
}

#[test]
fn nan_row_is_an_absent_target() {
    let root = tempfile::tempdir().unwrap();
    let anno = root.path().join("anno/UAV123");
    fs::create_dir_all(&anno).unwrap();
    fs::write(
        anno.join("wake.txt"),
        "623,299,11,38\nNaN,NaN,NaN,NaN\n624,296,11,38\n",
    )
    .unwrap();
    let source = common::sorted_frames(&common::wakeboard_frames());
    let frames = root.path().join("data_seq/UAV123/wake");
    common::link_frames(&source, &frames, 3, |i| format!("{:06}.jpg", i + 1));

    let uav = Uav123::open(root.path(), "UAV123").unwrap();
    let sequence = uav.sequence(0).unwrap();
    assert_eq!(sequence.boxes[1], BBox::default());
    assert_eq!(sequence.valid, [true, false, true]);
    assert_eq!(sequence.visible, [true, false, true]);
}

#[test]
fn negative_size_frame_is_invalid() {
    let folder = otb_folder(3, "205,151,17,50\n205,151,-17,50\n205,151,17,0\n");
    let sequence = read_otb_sequence(folder.path()).unwrap();
    assert_eq!(sequence.boxes[1].w, -17.0);
    assert_eq!(sequence.valid, [true, false, false]);
    assert_eq!(sequence.visible, [true, false, false]);
}

#[test]
fn more_lines_than_frames_is_an_error() {
    let folder = otb_folder(2, "205,151,17,50\n205,151,17,50\n205,151,17,50\n");
    let message = error_message(read_otb_sequence(folder.path()));
    assert!(
        message.contains("the ground truth has 3 lines but"),
        "{message}"
    );
    assert!(message.contains("has only 2 frames"), "{message}");
}

#[test]
fn fewer_lines_than_frames_drops_extra_frames() {
    let folder = otb_folder(4, "205,151,17,50\n206,151,17,50\n");
    let sequence = read_otb_sequence(folder.path()).unwrap();
    assert_eq!(sequence.frame_count(), 2);
    assert_eq!(sequence.boxes[1].x, 206.0);
}

#[test]
fn training_sequence_missing_frames_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cat/cat-1");
    let source = common::sorted_frames(&common::crossing_dir().join("img"));
    common::link_frames(&source, &dir.join("img"), 2, |i| {
        format!("{:08}.jpg", i + 1)
    });
    fs::write(dir.join("groundtruth.txt"), "1,2,3,4\n1,2,3,4\n1,2,3,4\n").unwrap();
    fs::write(dir.join("full_occlusion.txt"), "0,0,0").unwrap();
    fs::write(dir.join("out_of_view.txt"), "0,0,0").unwrap();
    let lasot = Lasot::open(root.path(), None).unwrap();
    let message = error_message(lasot.sequence(0));
    assert!(
        message.starts_with("LASOT sequence cat-1: the ground truth has 3 lines"),
        "{message}"
    );
    assert!(message.contains("00000003.jpg is missing"), "{message}");
}

#[test]
fn unreadable_image_is_an_error_naming_it() {
    let folder = tempfile::tempdir().unwrap();
    let corrupt = folder.path().join("00000001.jpg");
    fs::write(&corrupt, b"not a jpeg").unwrap();
    let message = error_message(load_frame(&corrupt));
    assert!(message.starts_with("failed to decode image"), "{message}");
    assert!(message.contains("00000001.jpg"), "{message}");
    let missing = folder.path().join("00000002.jpg");
    let message = error_message(load_frame(&missing));
    assert!(message.starts_with("failed to read"), "{message}");
}

fn small_processing() -> ProcessingParams {
    let crop = CropParams {
        size: 32,
        factor: 2.0,
        center_jitter: 0.0,
        scale_jitter: 0.0,
    };
    ProcessingParams {
        template: crop,
        search: crop,
        normalization: Normalization::default(),
        augmentation: None,
        token_stride: 16,
    }
}

/// Crossing's annotations pointed at a folder without images.
fn broken_crossing() -> (Sequence, PathBuf) {
    let mut sequence = read_otb_sequence(&common::crossing_dir()).unwrap();
    sequence.name = "Broken".into();
    let missing_dir = Path::new("missing-frames").to_path_buf();
    sequence.frames = FramePaths::Numbered {
        dir: missing_dir.clone(),
        first: 1,
        digits: 4,
        extension: "jpg".into(),
        count: 120,
    };
    (sequence, missing_dir)
}

#[test]
fn missing_images_skip_the_sample() {
    let good = read_otb_sequence(&common::crossing_dir()).unwrap();
    let (broken, _) = broken_crossing();
    let datasets: Vec<Arc<dyn TrackingDataset>> = vec![Arc::new(
        InMemoryDataset::new("OTB", vec![good, broken]).unwrap(),
    )];
    let params = SamplerParams::new(SamplerMode::Causal, vec![50], 2, vec![1.0], 0);
    let sampler = TrackingSampler::new(datasets, params, small_processing()).unwrap();
    for index in 0..8 {
        assert_eq!(
            sampler.sample(0, index).unwrap().source.sequence,
            "Crossing"
        );
    }
}

#[test]
fn only_missing_images_exhaust_the_attempts() {
    let (broken, missing_dir) = broken_crossing();
    let datasets: Vec<Arc<dyn TrackingDataset>> =
        vec![Arc::new(InMemoryDataset::new("OTB", vec![broken]).unwrap())];
    let mut params = SamplerParams::new(SamplerMode::Causal, vec![50], 2, vec![1.0], 0);
    params.max_attempts = 5;
    let sampler = TrackingSampler::new(datasets, params, small_processing()).unwrap();
    let message = error_message(sampler.sample(2, 9));
    assert!(
        message.starts_with("sample 9 of epoch 2: no valid sample after 5 attempts"),
        "{message}"
    );
    assert!(
        message.contains(&missing_dir.display().to_string()),
        "{message}"
    );
}

#[test]
fn sequence_folder_without_ground_truth_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let sequence = root.path().join("train/GOT-10k_Train_000001");
    fs::create_dir_all(&sequence).unwrap();
    let message = error_message(Got10k::open(root.path(), Got10kSplit::TrainFull, None));
    assert!(message.starts_with("ground truth not found"), "{message}");
    assert!(
        message.contains("GOT-10k_Train_000001/groundtruth.txt"),
        "{message}"
    );

    let otb = tempfile::tempdir().unwrap();
    fs::create_dir_all(otb.path().join("Walk/img")).unwrap();
    let message = error_message(mixformer_data::Otb::open(otb.path()));
    assert!(message.contains("Walk/groundtruth_rect.txt"), "{message}");
}

#[test]
fn empty_datasets_are_errors() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("train")).unwrap();
    let message = error_message(Got10k::open(root.path(), Got10kSplit::TrainFull, None));
    assert!(message.starts_with("GOT10K_train_full at"), "{message}");
    assert!(message.contains("no sequences found"), "{message}");

    let message = error_message(Lasot::open(root.path(), None));
    assert!(message.contains("no sequences found"), "{message}");

    let message = error_message(InMemoryDataset::new("EMPTY", Vec::new()));
    assert!(
        message.contains("dataset EMPTY needs at least one sequence"),
        "{message}"
    );
}

#[test]
fn split_naming_missing_sequence_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("train/GOT-10k_Train_000001")).unwrap();
    let split = root.path().join("split.txt");
    fs::write(&split, "GOT-10k_Train_000001\nGOT-10k_Train_000007\n").unwrap();
    let message = error_message(Got10k::open(
        root.path(),
        Got10kSplit::VotTrain,
        Some(&split),
    ));
    assert!(
        message.contains("split.txt line 2: sequence \"GOT-10k_Train_000007\" not found"),
        "{message}"
    );

    fs::write(&split, "3\n").unwrap();
    let message = error_message(Got10k::open(
        root.path(),
        Got10kSplit::VotTrain,
        Some(&split),
    ));
    assert!(
        message.contains("sequence index 3 is out of range"),
        "{message}"
    );

    let lasot_split = root.path().join("lasot.txt");
    fs::write(&lasot_split, "zebra-3\n").unwrap();
    let message = error_message(Lasot::open(root.path(), Some(&lasot_split)));
    assert!(
        message.contains("lasot.txt line 1: sequence \"zebra-3\" not found"),
        "{message}"
    );
}

fn coco_root(json: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("annotations")).unwrap();
    fs::create_dir_all(root.path().join("images/train2017")).unwrap();
    fs::write(
        root.path().join("annotations/instances_train2017.json"),
        json,
    )
    .unwrap();
    root
}

#[test]
fn coco_missing_field_is_an_error() {
    let json = r#"{"images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "iscrowd": 0}]}"#;
    let root = coco_root(json);
    let message = error_message(Coco::open(root.path(), "train2017"));
    assert!(message.contains("instances_train2017.json"), "{message}");
    assert!(message.contains("missing field `bbox`"), "{message}");
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn coco_unknown_image_and_crowd_only_are_errors() {
    let json = r#"{"images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 5, "image_id": 2, "category_id": 1, "iscrowd": 0,
                         "bbox": [1, 2, 3, 4]}]}"#;
    let message = error_message(Coco::open(coco_root(json).path(), "train2017"));
    assert!(
        message.contains("annotation 5 refers to image 2"),
        "{message}"
    );

    let json = r#"{"images": [{"id": 1, "file_name": "a.jpg"}],
        "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "iscrowd": 1,
                         "bbox": [1, 2, 3, 4]}]}"#;
    let message = error_message(Coco::open(coco_root(json).path(), "train2017"));
    assert!(
        message.contains("at least one annotation with iscrowd 0"),
        "{message}"
    );
}
