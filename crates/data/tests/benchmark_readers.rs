//! Readers of the evaluation layouts, on the real sample sequences.

mod common;

use mixformer_data::{
    BBox, Coco, DatasetKind, Otb, TrackingDataset, Uav123, Vot, load_frame, read_folder_sequence,
    read_otb_sequence, read_vot_sequence,
};

fn assert_box_near(actual: BBox, expected: [f32; 4]) {
    let actual = actual.to_array();
    for (a, e) in actual.iter().zip(expected) {
        assert!(
            (a - e).abs() < 1e-3,
            "box {actual:?}, expected {expected:?}"
        );
    }
}

#[test]
fn otb_crossing_reads_tab_separated_boxes() {
    let sequence = read_otb_sequence(&common::crossing_dir()).unwrap();
    assert_eq!(sequence.name, "Crossing");
    assert_eq!(sequence.dataset, DatasetKind::Otb);
    assert_eq!(sequence.frame_count(), 120);
    assert_eq!(sequence.boxes.len(), 120);
    assert_box_near(sequence.boxes[0], [205.0, 151.0, 17.0, 50.0]);
    assert_box_near(sequence.boxes[119], [56.0, 93.0, 14.0, 36.0]);
    assert_eq!(sequence.visible_count(), 120);
    let first = sequence.frame_path(0).unwrap();
    assert!(
        first.ends_with("Crossing/img/0001.jpg"),
        "{}",
        first.display()
    );
    assert!(sequence.frame_path(119).unwrap().ends_with("img/0120.jpg"));
}

#[test]
fn otb_root_lists_sequence_folders() {
    let otb = Otb::open(&common::sample_data().join("sot/otb")).unwrap();
    assert_eq!(otb.len(), 1);
    assert_eq!(otb.sequence_name(0), "Crossing");
    assert_eq!(otb.sequence(0).unwrap().frame_count(), 120);
}

#[test]
fn vot_bag_polygons_become_bounding_boxes() {
    let sequence = read_vot_sequence(&common::sample_data().join("sot/vot/bag")).unwrap();
    assert_eq!(sequence.frame_count(), 196);
    // 334.02,128.36,438.19,188.78,396.39,260.83,292.23,200.41
    assert_box_near(sequence.boxes[0], [292.23, 128.36, 145.96, 132.47]);
    // 125.98,124.13,279.77,90.122,310.95,231.12,157.16,265.13
    assert_box_near(sequence.boxes[195], [125.98, 90.122, 184.97, 175.008]);
    assert!(
        sequence
            .frame_path(0)
            .unwrap()
            .ends_with("bag/color/00000001.jpg")
    );
    let vot = Vot::open(&common::sample_data().join("sot/vot")).unwrap();
    assert_eq!(vot.sequence_name(0), "bag");
}

#[test]
fn uav123_wakeboard_reads_comma_boxes() {
    let uav = Uav123::open(&common::sample_data().join("sot/uav123"), "UAV123_10fps").unwrap();
    assert_eq!(uav.len(), 1);
    let sequence = uav.sequence(0).unwrap();
    assert_eq!(sequence.name, "wakeboard7");
    assert_eq!(sequence.frame_count(), 67);
    assert_box_near(sequence.boxes[0], [623.0, 299.0, 11.0, 38.0]);
    assert_box_near(sequence.boxes[66], [940.0, 303.0, 30.0, 52.0]);
    assert!(
        sequence
            .frame_path(66)
            .unwrap()
            .ends_with("wakeboard7/000067.jpg")
    );
    let frame = load_frame(&sequence.frame_path(0).unwrap()).unwrap();
    assert_eq!((frame.width(), frame.height()), (1280, 720));
}

#[test]
fn coco_boxes_are_one_frame_sequences() {
    let coco = Coco::open(&common::sample_data().join("coco"), "val2017").unwrap();
    assert_eq!(coco.len(), 14);
    assert!(!coco.is_video());
    let first = coco.sequence(0).unwrap();
    assert_eq!(first.name, "000000000785.jpg#442619");
    assert_eq!(first.frame_count(), 1);
    assert_eq!(first.class.as_deref(), Some("person"));
    assert_box_near(first.boxes[0], [280.79, 44.73, 218.7, 346.68]);
    let image = load_frame(&first.frame_path(0).unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (640, 425));
    let last = coco.sequence(13).unwrap();
    assert_box_near(last.boxes[0], [0.5, 43.74, 90.1, 220.09]);
}

#[test]
fn folder_sequence_orders_frames_by_number() {
    let folder = tempfile::tempdir().unwrap();
    let frames = common::sorted_frames(&common::crossing_dir().join("img"));
    for (i, name) in ["1.jpg", "2.jpg", "10.jpg"].iter().enumerate() {
        common::link(&frames[i], &folder.path().join(name));
    }
    let init = BBox::new(205.0, 151.0, 17.0, 50.0);
    let sequence = read_folder_sequence(folder.path(), init).unwrap();
    assert_eq!(sequence.frame_count(), 3);
    assert!(sequence.frame_path(2).unwrap().ends_with("10.jpg"));
    assert_eq!(sequence.init_box(), Some(init));
    assert!(!sequence.is_fully_annotated());
}
