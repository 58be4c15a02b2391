//! Each kind of bad input in result files, and the convention applied to it.

mod common;

use std::path::Path;

use common::{still_sequence, write_lines};
use mixformer_analysis::{
    AnalysisError, Benchmark, BenchmarkEvaluation, EvaluationOptions, GroundTruth,
    InvalidBoxPolicy, IssueKind, LengthPolicy, MissingSequencePolicy, TrackerSource,
    evaluate_trackers,
};

fn evaluate(
    directory: &Path,
    ground_truth: &[GroundTruth],
    options: &EvaluationOptions,
) -> Result<BenchmarkEvaluation, AnalysisError> {
    let tracker = TrackerSource::new("tracker", directory, Benchmark::Otb);
    evaluate_trackers(&[tracker], ground_truth, options)
}

#[test]
fn nan_and_non_positive_boxes_score_as_failures() {
    let folder = tempfile::tempdir().unwrap();
    write_lines(
        &folder.path().join("seq.txt"),
        &[
            "0,0,10,10",
            "0,0,10,10",
            "nan,nan,nan,nan",
            "0,0,0,10",
            "0,0,-10,10",
        ],
    );

    let evaluation = evaluate(
        folder.path(),
        &[still_sequence("seq", 5)],
        &Default::default(),
    )
    .unwrap();

    let tracker = &evaluation.trackers[0];
    assert_eq!(tracker.summary.curves.precision_at_20px(), 0.4);
    assert_eq!(tracker.summary.curves.success[0], 0.4);
    assert_eq!(tracker.issues.len(), 1);
    assert_eq!(
        tracker.issues[0].kind,
        IssueKind::InvalidBoxes {
            lines: vec![3, 4, 5]
        }
    );
    assert_eq!(tracker.issues[0].path, Some(folder.path().join("seq.txt")));
}

#[test]
fn invalid_box_rejected_when_asked() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("seq.txt");
    write_lines(&path, &["0,0,10,10", "0,0,10,NaN"]);
    let options = EvaluationOptions {
        invalid_boxes: InvalidBoxPolicy::Reject,
        ..Default::default()
    };

    let error = evaluate(folder.path(), &[still_sequence("seq", 2)], &options).unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "tracker tracker, sequence seq: {} line 2 has the invalid box [0.0, 0.0, 10.0, NaN]; \
             fix the tracker output, or count such frames as failures",
            path.display()
        )
    );
}

#[test]
fn too_few_lines_name_sequence_and_counts() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("seq.txt");
    write_lines(&path, &["0,0,10,10", "0,0,10,10"]);

    let error = evaluate(
        folder.path(),
        &[still_sequence("seq", 4)],
        &Default::default(),
    )
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "tracker tracker, sequence seq: {} has 2 lines but the ground truth has 4 frames; \
             rerun the sequence, or evaluate in lenient length mode to pad missing frames with \
             failures and drop extra lines",
            path.display()
        )
    );
}

#[test]
fn too_many_lines_are_an_error_too() {
    let folder = tempfile::tempdir().unwrap();
    write_lines(&folder.path().join("seq.txt"), &["0,0,10,10"; 3]);

    let error = evaluate(
        folder.path(),
        &[still_sequence("seq", 2)],
        &Default::default(),
    )
    .unwrap_err();

    assert!(
        matches!(
            error,
            AnalysisError::ResultLength {
                found: 3,
                expected: 2,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn empty_result_file_is_a_length_error() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("seq.txt"), "").unwrap();

    let error = evaluate(
        folder.path(),
        &[still_sequence("seq", 2)],
        &Default::default(),
    )
    .unwrap_err();

    assert!(
        matches!(
            error,
            AnalysisError::ResultLength {
                found: 0,
                expected: 2,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn lenient_lengths_pad_and_truncate() {
    let folder = tempfile::tempdir().unwrap();
    write_lines(&folder.path().join("short.txt"), &["0,0,10,10"; 2]);
    write_lines(&folder.path().join("long.txt"), &["0,0,10,10"; 6]);
    let options = EvaluationOptions {
        lengths: LengthPolicy::Lenient,
        ..Default::default()
    };

    let evaluation = evaluate(
        folder.path(),
        &[still_sequence("short", 4), still_sequence("long", 4)],
        &options,
    )
    .unwrap();

    let tracker = &evaluation.trackers[0];
    assert_eq!(tracker.sequences[0].metrics.curves.precision_at_20px(), 0.5);
    assert_eq!(tracker.sequences[1].metrics.curves.precision_at_20px(), 1.0);
    let kinds: Vec<&IssueKind> = tracker.issues.iter().map(|issue| &issue.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &IssueKind::MissingFrames {
                found: 2,
                expected: 4
            },
            &IssueKind::ExtraLines {
                found: 6,
                expected: 4
            },
        ]
    );
}

#[test]
fn non_numeric_text_names_file_and_line() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("seq.txt");
    write_lines(&path, &["0,0,10,10", "0,0,ten,10"]);

    let error = evaluate(
        folder.path(),
        &[still_sequence("seq", 2)],
        &Default::default(),
    )
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "tracker tracker, sequence seq: {} line 2: expected 4 numbers separated by commas, \
             tabs or spaces \
             (\"ten\" is not a number), found \"0,0,ten,10\"",
            path.display()
        )
    );
}

#[test]
fn missing_sequences_list_every_name_of_every_tracker() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    write_lines(&first.path().join("a.txt"), &["0,0,10,10"; 2]);
    write_lines(&second.path().join("c.txt"), &["0,0,10,10"; 2]);
    let trackers = [
        TrackerSource::new("first", first.path(), Benchmark::Lasot),
        TrackerSource::new("second", second.path(), Benchmark::Lasot),
    ];
    let ground_truth = [
        still_sequence("a", 2),
        still_sequence("b", 2),
        still_sequence("c", 2),
    ];

    let error = evaluate_trackers(&trackers, &ground_truth, &Default::default()).unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "missing results: tracker first has no results in {} for 2 sequence(s): b, c; \
             tracker second has no results in {} for 2 sequence(s): a, b; \
             run the trackers on these sequences, or skip missing sequences",
            first.path().display(),
            second.path().display()
        )
    );
}

#[test]
fn skipped_sequences_are_dropped_for_every_tracker() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for name in ["a.txt", "b.txt"] {
        write_lines(&first.path().join(name), &["0,0,10,10"; 2]);
    }
    write_lines(&second.path().join("a.txt"), &["0,0,10,10"; 2]);
    let trackers = [
        TrackerSource::new("first", first.path(), Benchmark::Lasot),
        TrackerSource::new("second", second.path(), Benchmark::Lasot),
    ];
    let options = EvaluationOptions {
        missing_sequences: MissingSequencePolicy::Skip,
        ..Default::default()
    };

    let evaluation = evaluate_trackers(
        &trackers,
        &[still_sequence("a", 2), still_sequence("b", 2)],
        &options,
    )
    .unwrap();

    assert_eq!(evaluation.sequences, vec!["a".to_string()]);
    assert_eq!(evaluation.skipped_sequences, vec!["b".to_string()]);
    assert_eq!(evaluation.trackers[0].sequences.len(), 1);
    assert_eq!(evaluation.trackers[1].sequences.len(), 1);
}

#[test]
fn skipping_every_sequence_is_an_error() {
    let folder = tempfile::tempdir().unwrap();
    let options = EvaluationOptions {
        missing_sequences: MissingSequencePolicy::Skip,
        ..Default::default()
    };

    let error = evaluate(folder.path(), &[still_sequence("a", 2)], &options).unwrap_err();

    assert_eq!(
        error.to_string(),
        "no sequences to evaluate (1 skipped for missing results); \
         check the dataset and the result folders"
    );
}

#[test]
fn invalid_times_are_reported_and_left_out() {
    let folder = tempfile::tempdir().unwrap();
    write_lines(&folder.path().join("seq.txt"), &["0,0,10,10"; 3]);
    write_lines(
        &folder.path().join("seq_time.txt"),
        &["0.1", "nan", "0.1", "0.1"],
    );

    let evaluation = evaluate(
        folder.path(),
        &[still_sequence("seq", 3)],
        &Default::default(),
    )
    .unwrap();

    let tracker = &evaluation.trackers[0];
    let timing = tracker.timing.unwrap();
    assert_eq!(timing.frame_count, 3);
    assert!((timing.fps().unwrap() - 10.0).abs() < 1e-9);
    let kinds: Vec<&IssueKind> = tracker.issues.iter().map(|issue| &issue.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &IssueKind::InvalidTimes { lines: vec![2] },
            &IssueKind::TimeLineCount {
                found: 4,
                expected: 3
            },
        ]
    );
}

#[test]
fn duplicate_tracker_names_are_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let trackers = [
        TrackerSource::new("same", folder.path(), Benchmark::Otb),
        TrackerSource::new("same", folder.path(), Benchmark::Otb),
    ];

    let error =
        evaluate_trackers(&trackers, &[still_sequence("a", 2)], &Default::default()).unwrap_err();

    assert!(
        matches!(error, AnalysisError::DuplicateTracker { .. }),
        "{error}"
    );
}

#[test]
fn no_trackers_is_an_error() {
    let error = evaluate_trackers(&[], &[still_sequence("a", 2)], &Default::default()).unwrap_err();

    assert!(matches!(error, AnalysisError::NoTrackers), "{error}");
}

#[test]
fn sequence_name_with_separator_is_rejected() {
    let folder = tempfile::tempdir().unwrap();

    let error = evaluate(
        folder.path(),
        &[still_sequence("../a", 2)],
        &Default::default(),
    )
    .unwrap_err();

    assert!(
        matches!(error, AnalysisError::InvalidSequenceName { .. }),
        "{error}"
    );
}

#[test]
fn invalid_ground_truth_frames_count_in_denominator() {
    let folder = tempfile::tempdir().unwrap();
    write_lines(&folder.path().join("seq.txt"), &["0,0,10,10"; 4]);
    let mut boxes = vec![common::square(0.0); 4];
    boxes[2] = mixformer_analysis::BoundingBox::missing();
    boxes[3] = mixformer_analysis::BoundingBox::new(0.0, 0.0, 0.0, 0.0);
    let truth = GroundTruth::new("seq", boxes).unwrap();

    let evaluation = evaluate(folder.path(), &[truth], &Default::default()).unwrap();

    let curves = &evaluation.trackers[0].summary.curves;
    assert_eq!(curves.success[0], 0.5);
    assert_eq!(curves.precision_at_20px(), 0.5);
    assert_eq!(curves.normalized_precision_at_0_20(), 0.5);
}
