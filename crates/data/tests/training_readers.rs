//! GOT-10k, LaSOT and TrackingNet layouts assembled from the real sample
//! frames and annotations in a temporary folder.

mod common;

use std::fs;
use std::path::Path;

use mixformer_data::{
    Got10k, Got10kEval, Got10kSplit, Lasot, TrackingDataset, TrackingNet, validate_dataset,
};

/// Writes one `GOT-10k_Train_NNNNNN` folder from an OTB-style sequence, with
/// frames `absent` flagged absent and frames `uncovered` given cover 0.
fn write_got10k_sequence(
    train: &Path,
    name: &str,
    frames: &[std::path::PathBuf],
    rows: &[[f32; 4]],
    absent: &[usize],
    uncovered: &[usize],
) {
    let dir = train.join(name);
    common::link_frames(frames, &dir, rows.len(), |i| format!("{:08}.jpg", i + 1));
    let ground_truth: Vec<String> = rows
        .iter()
        .map(|r| format!("{:.4},{:.4},{:.4},{:.4}", r[0], r[1], r[2], r[3]))
        .collect();
    fs::write(dir.join("groundtruth.txt"), ground_truth.join("\n")).unwrap();
    let absence: Vec<&str> = (0..rows.len())
        .map(|i| if absent.contains(&i) { "1" } else { "0" })
        .collect();
    fs::write(dir.join("absence.label"), absence.join("\n")).unwrap();
    let cover: Vec<&str> = (0..rows.len())
        .map(|i| if uncovered.contains(&i) { "0" } else { "8" })
        .collect();
    fs::write(dir.join("cover.label"), cover.join("\n")).unwrap();
    fs::write(
        dir.join("meta_info.ini"),
        "[METAINFO]\nurl: none\nobject_class_name: pedestrian\n",
    )
    .unwrap();
}

fn got10k_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let train = root.path().join("train");
    let crossing = common::crossing_dir();
    write_got10k_sequence(
        &train,
        "GOT-10k_Train_000001",
        &common::sorted_frames(&crossing.join("img")),
        &common::rows(&crossing.join("groundtruth_rect.txt")),
        &[10, 11],
        &[20],
    );
    let uav = common::sample_data().join("sot/uav123/anno/UAV123_10fps/wakeboard7.txt");
    write_got10k_sequence(
        &train,
        "GOT-10k_Train_000002",
        &common::sorted_frames(&common::wakeboard_frames()),
        &common::rows(&uav),
        &[],
        &[],
    );
    root
}

#[test]
fn got10k_train_folder_reads_boxes_and_visibility() {
    let root = got10k_root();
    let got10k = Got10k::open(root.path(), Got10kSplit::TrainFull, None).unwrap();
    assert_eq!(got10k.name(), "GOT10K_train_full");
    assert_eq!(got10k.len(), 2);
    assert_eq!(got10k.sequence_name(0), "GOT-10k_Train_000001");

    let sequence = got10k.sequence(0).unwrap();
    assert_eq!(sequence.frame_count(), 120);
    assert_eq!(sequence.boxes[0].to_array(), [205.0, 151.0, 17.0, 50.0]);
    assert_eq!(sequence.boxes[119].to_array(), [56.0, 93.0, 14.0, 36.0]);
    assert_eq!(sequence.class.as_deref(), Some("pedestrian"));
    let invisible: Vec<usize> = (0..120).filter(|&i| !sequence.visible[i]).collect();
    assert_eq!(invisible, [10, 11, 20]);
    assert!(sequence.valid.iter().all(|v| *v));
    assert!(
        sequence
            .frame_path(0)
            .unwrap()
            .ends_with("GOT-10k_Train_000001/00000001.jpg")
    );

    let second = got10k.sequence(1).unwrap();
    assert_eq!(second.frame_count(), 67);
    assert_eq!(second.boxes[66].to_array(), [940.0, 303.0, 30.0, 52.0]);
    assert!(validate_dataset(&got10k).is_empty());
}

#[test]
fn got10k_split_list_takes_indices_or_names() {
    let root = got10k_root();
    let split = root.path().join("vot_train_split.txt");
    fs::write(&split, "1\n").unwrap();
    let by_index = Got10k::open(root.path(), Got10kSplit::VotTrain, Some(&split)).unwrap();
    assert_eq!(by_index.len(), 1);
    assert_eq!(by_index.sequence_name(0), "GOT-10k_Train_000002");
    assert_eq!(by_index.name(), "GOT10K_vottrain");

    fs::write(&split, "GOT-10k_Train_000001\n").unwrap();
    let by_name = Got10k::open(
        &root.path().join("train"),
        Got10kSplit::VotVal,
        Some(&split),
    );
    assert_eq!(by_name.unwrap().sequence_name(0), "GOT-10k_Train_000001");
}

#[test]
fn got10k_test_split_has_first_box_only() {
    let root = tempfile::tempdir().unwrap();
    let test = root.path().join("test");
    let dir = test.join("GOT-10k_Test_000001");
    let frames = common::sorted_frames(&common::crossing_dir().join("img"));
    common::link_frames(&frames, &dir, 30, |i| format!("{:08}.jpg", i + 1));
    fs::write(dir.join("groundtruth.txt"), "205,151,17,50\n").unwrap();
    fs::write(test.join("list.txt"), "GOT-10k_Test_000001\n").unwrap();

    let got10k = Got10kEval::open(root.path(), "test").unwrap();
    let sequence = got10k.sequence(0).unwrap();
    assert_eq!(sequence.frame_count(), 30);
    assert_eq!(sequence.boxes.len(), 1);
    assert_eq!(
        sequence.init_box().unwrap().to_array(),
        [205.0, 151.0, 17.0, 50.0]
    );
    assert!(!sequence.is_fully_annotated());
}

/// Builds `<class>/<sequence>` from `lasot-annotations`, converting the
/// per-line `absent.txt` into LaSOT's one-line `full_occlusion.txt` and a
/// one-line `out_of_view.txt` of zeros. Only the first frames and the last
/// one are linked: the reader computes frame paths and checks the last one,
/// and thousands of links would make the test slow.
fn write_lasot_sequence(root: &Path, name: &str) -> Vec<bool> {
    let source = common::sample_data().join("lasot-annotations").join(name);
    let class = name.rsplit_once('-').unwrap().0;
    let dir = root.join(class).join(name);
    let ground_truth = fs::read_to_string(source.join("groundtruth.txt")).unwrap();
    let lines = ground_truth.lines().count();
    let frames = common::sorted_frames(&common::crossing_dir().join("img"));
    let img = dir.join("img");
    common::link_frames(&frames, &img, 3, |i| format!("{:08}.jpg", i + 1));
    common::link(&frames[0], &img.join(format!("{lines:08}.jpg")));
    fs::write(dir.join("groundtruth.txt"), ground_truth).unwrap();
    let absent: Vec<String> = fs::read_to_string(source.join("absent.txt"))
        .unwrap()
        .lines()
        .map(|line| line.trim().to_owned())
        .collect();
    fs::write(dir.join("full_occlusion.txt"), absent.join(",")).unwrap();
    fs::write(dir.join("out_of_view.txt"), vec!["0"; lines].join(",")).unwrap();
    absent.iter().map(|flag| flag == "1").collect()
}

#[test]
fn lasot_reads_boxes_and_absence_flags() {
    let root = tempfile::tempdir().unwrap();
    let mut absent = Vec::new();
    for name in ["airplane-1", "bird-2", "person-1"] {
        absent.push(write_lasot_sequence(root.path(), name));
    }
    let lasot = Lasot::open(root.path(), None).unwrap();
    assert_eq!(lasot.len(), 3);
    assert_eq!(lasot.sequence_name(2), "person-1");

    let person = lasot.sequence(2).unwrap();
    assert_eq!(person.frame_count(), 5550);
    assert_eq!(person.class.as_deref(), Some("person"));
    assert_eq!(person.boxes[0].to_array(), [456.0, 346.0, 203.0, 285.0]);
    assert_eq!(person.boxes[5549].to_array(), [672.0, 161.0, 210.0, 515.0]);
    let invisible: Vec<usize> = (0..5550).filter(|&i| !person.visible[i]).collect();
    let flagged: Vec<usize> = (0..5550).filter(|&i| absent[2][i]).collect();
    assert_eq!(invisible, flagged);
    assert_eq!(invisible.len(), 11);
    assert_eq!(invisible[0], 1653);
    assert!(!person.valid[1653]);

    let bird = lasot.sequence(1).unwrap();
    assert_eq!(bird.frame_count(), 4101);
    assert_eq!(bird.boxes[0].to_array(), [266.0, 202.0, 27.0, 62.0]);
    assert_eq!(
        (0..4101).filter(|&i| !bird.visible[i]).collect::<Vec<_>>(),
        [3692, 3693]
    );
    let airplane = lasot.sequence(0).unwrap();
    assert_eq!(airplane.visible_count(), 2788);
    assert!(
        airplane
            .frame_path(2787)
            .unwrap()
            .ends_with("airplane/airplane-1/img/00002788.jpg")
    );
}

#[test]
fn lasot_split_list_selects_sequences() {
    let root = tempfile::tempdir().unwrap();
    write_lasot_sequence(root.path(), "bird-2");
    write_lasot_sequence(root.path(), "airplane-1");
    let split = root.path().join("training_set.txt");
    fs::write(&split, "bird-2\n").unwrap();
    let lasot = Lasot::open(root.path(), Some(&split)).unwrap();
    assert_eq!(lasot.len(), 1);
    assert_eq!(
        lasot.sequence(0).unwrap().boxes[4100].to_array(),
        [234.0, 196.0, 42.0, 99.0]
    );
}

#[test]
fn trackingnet_frames_start_at_zero() {
    let root = tempfile::tempdir().unwrap();
    let chunk = root.path().join("TRAIN_3");
    let anno = common::sample_data().join("sot/uav123/anno/UAV123_10fps/wakeboard7.txt");
    fs::create_dir_all(chunk.join("anno")).unwrap();
    fs::copy(&anno, chunk.join("anno/wakeboard7.txt")).unwrap();
    let frames = common::sorted_frames(&common::wakeboard_frames());
    common::link_frames(&frames, &chunk.join("frames/wakeboard7"), 67, |i| {
        format!("{i}.jpg")
    });

    let trackingnet = TrackingNet::open(root.path(), None).unwrap();
    assert_eq!(trackingnet.len(), 1);
    let sequence = trackingnet.sequence(0).unwrap();
    assert_eq!(sequence.frame_count(), 67);
    assert_eq!(sequence.boxes[0].to_array(), [623.0, 299.0, 11.0, 38.0]);
    assert_eq!(sequence.boxes[66].to_array(), [940.0, 303.0, 30.0, 52.0]);
    assert!(
        sequence
            .frame_path(0)
            .unwrap()
            .ends_with("frames/wakeboard7/0.jpg")
    );
    assert!(
        sequence
            .frame_path(66)
            .unwrap()
            .ends_with("frames/wakeboard7/66.jpg")
    );
    assert_eq!(sequence.visible_count(), 67);

    let chosen = TrackingNet::open(root.path(), Some(&[3])).unwrap();
    assert_eq!(chosen.len(), 1);
}
