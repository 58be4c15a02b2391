//! Reference values of the OPE fixture in the sample data: two 25-frame
//! sequences whose results are given as `x1,y1,x2,y2`.
//!
//! The reference values (success 67.524, precision 50.0, normalised
//! precision 70.0) were computed by an established evaluation library that
//! scores frame 0 as predicted. Our default replaces frame 0 by the ground
//! truth, which turns video-2's first frame from a miss into a hit: one more
//! frame out of 50, so 68.667, 52.0 and 72.0.

mod common;

use mixformer_analysis::{
    BoxFormat, EvaluationOptions, GroundTruth, OpeConventions, OpeSummary, SequenceMetrics,
    SequencePrediction, evaluate_predictions, read_boxes,
};

const EXACT: f64 = 1e-12;

fn fixture() -> Vec<(GroundTruth, Vec<mixformer_analysis::BoundingBox>)> {
    let folder = common::sample_data().join("metrics/ope-fixture");
    ["video-1", "video-2"]
        .into_iter()
        .map(|name| {
            let sequence = folder.join(name);
            let truth = GroundTruth::read(name, &sequence.join("gt_for_eval.txt")).unwrap();
            let results =
                read_boxes(&sequence.join("track_results.txt"), BoxFormat::Corners).unwrap();
            (truth, results)
        })
        .collect()
}

fn summary(conventions: &OpeConventions) -> OpeSummary {
    let metrics: Vec<SequenceMetrics> = fixture()
        .iter()
        .map(|(truth, results)| SequenceMetrics::compute(results, truth, conventions).unwrap())
        .collect();
    OpeSummary::from_sequences(&metrics).unwrap()
}

#[test]
fn fixture_reference_conventions_reproduce_known_answers() {
    let conventions = OpeConventions {
        replace_first_frame: false,
        ..OpeConventions::default()
    };

    let curves = summary(&conventions).curves;

    assert_eq!(format!("{:.3}", curves.auc() * 100.0), "67.524");
    // 709 successes over 2 sequences x 25 frames x 21 thresholds.
    assert!((curves.auc() - 709.0 / 1050.0).abs() < EXACT);
    assert_eq!(curves.precision_at_20px(), 0.5);
    assert_eq!(curves.normalized_precision_at_0_20(), 0.7);
}

#[test]
fn fixture_default_conventions_score_frame_zero_as_hit() {
    let curves = summary(&OpeConventions::default()).curves;

    assert_eq!(format!("{:.3}", curves.auc() * 100.0), "68.667");
    assert!((curves.auc() - 721.0 / 1050.0).abs() < EXACT);
    assert_eq!(curves.precision_at_20px(), 0.52);
    assert_eq!(curves.normalized_precision_at_0_20(), 0.72);
}

#[test]
fn fixture_sequences_differ_as_expected() {
    let conventions = OpeConventions {
        replace_first_frame: false,
        ..OpeConventions::default()
    };
    let fixture = fixture();

    let close = SequenceMetrics::compute(&fixture[0].1, &fixture[0].0, &conventions).unwrap();
    let loose = SequenceMetrics::compute(&fixture[1].1, &fixture[1].0, &conventions).unwrap();

    // video-1 follows the target within 3 px; video-2's boxes are far too wide.
    assert_eq!(close.curves.precision_at_20px(), 1.0);
    assert_eq!(close.curves.normalized_precision_at_0_20(), 1.0);
    assert_eq!(loose.curves.precision_at_20px(), 0.0);
    assert_eq!(loose.curves.normalized_precision_at_0_20(), 0.4);
    assert_eq!(close.curves.op50(), 1.0);
}

#[test]
fn fixture_through_in_memory_evaluation() {
    let fixture = fixture();
    let ground_truth: Vec<GroundTruth> = fixture.iter().map(|(truth, _)| truth.clone()).collect();
    let predictions: Vec<SequencePrediction> = fixture
        .iter()
        .map(|(truth, results)| SequencePrediction {
            sequence: truth.name().to_string(),
            boxes: results.clone(),
            times: None,
        })
        .collect();
    let mut options = EvaluationOptions::default();
    options.conventions.replace_first_frame = false;

    let evaluation =
        evaluate_predictions("fixture", &predictions, &ground_truth, &options).unwrap();

    assert!((evaluation.summary.curves.auc() - 709.0 / 1050.0).abs() < EXACT);
    assert_eq!(evaluation.sequences.len(), 2);
    assert!(evaluation.issues.is_empty());
    assert_eq!(evaluation.timing, None);
}
