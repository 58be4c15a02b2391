//! Evaluation of result folders in the toolkits' layouts.

mod common;

use std::path::Path;

use common::{square, still_sequence, write_lines};
use mixformer_analysis::{
    Benchmark, EvaluationOptions, GroundTruth, ResultLayout, TrackerSource, evaluate_trackers,
    write_sequence_results,
};

const EXACT: f64 = 1e-12;

/// GOT-10k style data: sequence `a` has 4 frames with the target absent in
/// frame 2, sequence `b` has 2 frames.
fn got10k_ground_truth() -> Vec<GroundTruth> {
    vec![
        still_sequence("a", 4).with_cover(&[8, 8, 0, 8]).unwrap(),
        still_sequence("b", 2),
    ]
}

/// Writes two repetitions for `a` and one for `b` in the GOT-10k layout.
fn write_got10k_results(directory: &Path) {
    let layout = ResultLayout::Got10k;
    // Repetition 1 of a: IoU 1 in frame 1, 1/3 in frame 3 (frames 0 and 2 are not scored).
    let first = [square(90.0), square(0.0), square(90.0), square(5.0)];
    write_sequence_results(directory, layout, "a", &first, Some(&[0.1, 0.1, 0.1, 0.1])).unwrap();
    // Repetition 2 of a: IoU 1/3 in frame 1, 0 in frame 3.
    write_lines(
        &layout.repetition_file(directory, "a", 2).unwrap(),
        &["0,0,10,10", "5,0,10,10", "0,0,10,10", "50,0,10,10"],
    );
    // b: an 8x10 box inside the 10x10 target, IoU 0.8.
    let b = [
        square(0.0),
        mixformer_analysis::BoundingBox::new(0.0, 0.0, 8.0, 10.0),
    ];
    write_sequence_results(directory, layout, "b", &b, Some(&[0.2, 0.4])).unwrap();
}

#[test]
fn got10k_ao_pools_all_frames() {
    let folder = tempfile::tempdir().unwrap();
    write_got10k_results(folder.path());
    let tracker = TrackerSource::new("tracker", folder.path(), Benchmark::Got10k);

    let evaluation = evaluate_trackers(
        &[tracker],
        &got10k_ground_truth(),
        &EvaluationOptions::for_benchmark(Benchmark::Got10k),
    )
    .unwrap();

    // Pooled IoUs: 1, 1/3 (a, repetition 1), 1/3, 0 (a, repetition 2), 0.8 (b).
    let tracker = &evaluation.trackers[0];
    let got10k = tracker.got10k.as_ref().unwrap();
    assert_eq!(got10k.frame_count, 5);
    assert!((got10k.average_overlap - (1.0 + 2.0 / 3.0 + 0.8) / 5.0).abs() < EXACT);
    assert!((got10k.success_rate_50 - 0.4).abs() < EXACT);
    assert!((got10k.success_rate_75 - 0.4).abs() < EXACT);

    let per_sequence = tracker.sequences[0].got10k.as_ref().unwrap();
    assert!((per_sequence.average_overlap - (1.0 + 2.0 / 3.0) / 4.0).abs() < EXACT);
    assert_eq!(tracker.sequences[0].repetition_count, 2);
}

#[test]
fn ope_uses_first_repetition() {
    let folder = tempfile::tempdir().unwrap();
    write_got10k_results(folder.path());
    let tracker = TrackerSource::new("tracker", folder.path(), Benchmark::Got10k);

    let evaluation = evaluate_trackers(
        &[tracker],
        &got10k_ground_truth(),
        &EvaluationOptions::for_benchmark(Benchmark::Got10k),
    )
    .unwrap();

    // Sequence a, repetition 1: frames 0 (replaced) and 1 are exact, frame 2
    // is absent, frame 3 is off by 5 px.
    let metrics = &evaluation.trackers[0].sequences[0].metrics;
    assert_eq!(metrics.valid_frame_count, 3);
    assert_eq!(metrics.curves.op50(), 0.5);
    assert_eq!(metrics.curves.precision_at_20px(), 0.75);
}

#[test]
fn fps_is_total_frames_over_total_time() {
    let folder = tempfile::tempdir().unwrap();
    write_got10k_results(folder.path());
    let tracker = TrackerSource::new("tracker", folder.path(), Benchmark::Got10k);

    let evaluation = evaluate_trackers(
        &[tracker],
        &got10k_ground_truth(),
        &EvaluationOptions::for_benchmark(Benchmark::Got10k),
    )
    .unwrap();

    let tracker = &evaluation.trackers[0];
    // a: 4 frames in 0.4 s; b: 2 frames in 0.6 s; overall 6 frames in 1 s.
    let fps = |timing: Option<mixformer_analysis::Timing>| timing.unwrap().fps().unwrap();
    assert!((fps(tracker.sequences[0].timing) - 10.0).abs() < 1e-9);
    assert!((fps(tracker.sequences[1].timing) - 2.0 / 0.6).abs() < 1e-9);
    assert!((fps(tracker.timing) - 6.0).abs() < 1e-9);
}

#[test]
fn sequence_file_layout_with_tabs_and_no_times() {
    let folder = tempfile::tempdir().unwrap();
    write_lines(
        &folder.path().join("seq.txt"),
        &["0\t0\t10\t10", "0\t0\t10\t10", "5\t0\t10\t10"],
    );
    let tracker = TrackerSource::new("tracker", folder.path(), Benchmark::Lasot);

    let evaluation = evaluate_trackers(
        &[tracker],
        &[still_sequence("seq", 3)],
        &EvaluationOptions::for_benchmark(Benchmark::Lasot),
    )
    .unwrap();

    let tracker = &evaluation.trackers[0];
    assert_eq!(tracker.got10k, None);
    assert_eq!(tracker.timing, None);
    // IoU 1, 1 and 1/3: (20 + 20 + 7) successes over 3 frames x 21 thresholds.
    assert!((tracker.summary.curves.auc() - 47.0 / 63.0).abs() < EXACT);
}
