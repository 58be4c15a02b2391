//! Ground-truth readers and visibility handling on the real annotations of
//! the sample data.

mod common;

use mixformer_analysis::{
    BoundingBox, EvaluationOptions, GroundTruth, SequencePrediction, evaluate_predictions,
    read_flags,
};

#[test]
fn otb_tab_separated_ground_truth_reads() {
    let path = common::sample_data().join("sot/otb/Crossing/groundtruth_rect.txt");

    let truth = GroundTruth::read("Crossing", &path).unwrap();

    assert_eq!(truth.frame_count(), 120);
    assert_eq!(truth.boxes()[0], BoundingBox::new(205.0, 151.0, 17.0, 50.0));
}

#[test]
fn uav123_comma_separated_ground_truth_reads() {
    let path = common::sample_data().join("sot/uav123/anno/UAV123_10fps/wakeboard7.txt");

    let truth = GroundTruth::read("wakeboard7", &path).unwrap();

    assert_eq!(truth.frame_count(), 67);
    assert_eq!(truth.boxes()[0], BoundingBox::new(623.0, 299.0, 11.0, 38.0));
}

/// Scores the ground truth as its own prediction on a LaSOT sequence.
fn perfect_tracker_on_lasot(
    sequence: &str,
) -> (GroundTruth, mixformer_analysis::TrackerEvaluation) {
    let folder = common::sample_data()
        .join("lasot-annotations")
        .join(sequence);
    let absent = read_flags(&folder.join("absent.txt")).unwrap();
    let truth = GroundTruth::read(sequence, &folder.join("groundtruth.txt"))
        .unwrap()
        .with_absence_flags(&[&absent])
        .unwrap();
    let prediction = SequencePrediction {
        sequence: sequence.to_string(),
        boxes: truth.boxes().to_vec(),
        times: None,
    };

    let evaluation = evaluate_predictions(
        "ground-truth",
        &[prediction],
        std::slice::from_ref(&truth),
        &EvaluationOptions::default(),
    )
    .unwrap();
    (truth, evaluation)
}

#[test]
fn lasot_absent_frames_fail_even_for_perfect_boxes() {
    // bird-2 has 4101 frames, 2 of them flagged absent with non-empty boxes.
    let (truth, evaluation) = perfect_tracker_on_lasot("bird-2");
    let curves = &evaluation.summary.curves;
    let visible_fraction = 4099.0 / 4101.0;

    assert_eq!(truth.frame_count(), 4101);
    assert_eq!(evaluation.sequences[0].metrics.valid_frame_count, 4099);
    assert!((curves.success[0] - visible_fraction).abs() < 1e-12);
    assert!((curves.auc() - 20.0 / 21.0 * visible_fraction).abs() < 1e-12);
    assert!((curves.precision_at_20px() - visible_fraction).abs() < 1e-12);
    assert!((curves.normalized_precision_at_0_20() - visible_fraction).abs() < 1e-12);
}

#[test]
fn lasot_empty_boxes_of_absent_frames_are_invalid() {
    // person-1 marks its 11 absent frames with 0,0,0,0 boxes.
    let (truth, evaluation) = perfect_tracker_on_lasot("person-1");

    assert_eq!(truth.frame_count(), 5550);
    assert_eq!(evaluation.sequences[0].metrics.valid_frame_count, 5539);
    // The perfect tracker copies those empty boxes, but they are not
    // reported: the frames fail whatever is predicted.
    assert!(evaluation.issues.is_empty(), "{:?}", evaluation.issues);
}
