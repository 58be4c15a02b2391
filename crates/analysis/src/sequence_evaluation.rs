//! Evaluation of one tracker on one sequence: the input policies applied to
//! its boxes and times, then OPE, GOT-10k and frame-rate metrics.

use std::path::PathBuf;

use crate::bounding_box::BoundingBox;
use crate::error::AnalysisError;
use crate::got10k::{Got10kMetrics, got10k_frame_ious};
use crate::ground_truth::GroundTruth;
use crate::issues::{InputIssue, IssueKind};
use crate::ope::SequenceMetrics;
use crate::options::{EvaluationOptions, InvalidBoxPolicy, LengthPolicy};
use crate::timing::{TimeFile, Timing};

/// Results of one tracker on one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceEvaluation {
    /// OPE metrics of the first repetition.
    pub metrics: SequenceMetrics,
    /// GOT-10k metrics over the IoUs of all repetitions, `None` when they
    /// were not requested or no frame after the first has a visible target.
    pub got10k: Option<Got10kMetrics>,
    /// Frames and seconds from the time file, `None` without one.
    pub timing: Option<Timing>,
    /// Number of repetitions read.
    pub repetition_count: usize,
}

/// One repetition's boxes and the file they came from.
pub(crate) struct RawRepetition {
    pub path: Option<PathBuf>,
    pub boxes: Vec<BoundingBox>,
}

/// A sequence's predictions before any policy is applied.
pub(crate) struct RawSequence<'a> {
    pub tracker: &'a str,
    pub repetitions: Vec<RawRepetition>,
    pub times: Option<(Option<PathBuf>, TimeFile)>,
}

/// A sequence's evaluation with what the tracker-level pooling needs.
pub(crate) struct EvaluatedSequence {
    pub evaluation: SequenceEvaluation,
    pub got10k_ious: Vec<f64>,
    pub issues: Vec<InputIssue>,
}

pub(crate) fn evaluate_sequence(
    raw: RawSequence<'_>,
    ground_truth: &GroundTruth,
    options: &EvaluationOptions,
) -> Result<EvaluatedSequence, AnalysisError> {
    let mut issues = Vec::new();
    let repetition_count = raw.repetitions.len();

    let mut repetitions = Vec::with_capacity(repetition_count);
    for repetition in raw.repetitions {
        let boxes =
            conform_repetition(raw.tracker, repetition, ground_truth, options, &mut issues)?;
        repetitions.push(boxes);
    }
    let first = repetitions
        .first()
        .ok_or_else(|| AnalysisError::FrameCount {
            sequence: ground_truth.name().to_string(),
            predicted: 0,
            frames: ground_truth.frame_count(),
        })?;

    let metrics = SequenceMetrics::compute(first, ground_truth, &options.conventions)?;

    let mut got10k_ious = Vec::new();
    if options.got10k_metrics {
        for boxes in &repetitions {
            got10k_ious.extend(got10k_frame_ious(boxes, ground_truth)?);
        }
    }
    let got10k = Got10kMetrics::from_ious(&got10k_ious);

    let timing = raw.times.map(|(path, file)| {
        check_times(raw.tracker, path, &file, ground_truth, &mut issues);
        file.timing()
    });

    Ok(EvaluatedSequence {
        evaluation: SequenceEvaluation {
            metrics,
            got10k,
            timing,
            repetition_count,
        },
        got10k_ious,
        issues,
    })
}

/// Applies the length and invalid-box policies to one repetition.
fn conform_repetition(
    tracker: &str,
    repetition: RawRepetition,
    ground_truth: &GroundTruth,
    options: &EvaluationOptions,
    issues: &mut Vec<InputIssue>,
) -> Result<Vec<BoundingBox>, AnalysisError> {
    let RawRepetition { path, mut boxes } = repetition;
    let expected = ground_truth.frame_count();
    let found = boxes.len();
    let issue = |kind| InputIssue {
        tracker: tracker.to_string(),
        sequence: ground_truth.name().to_string(),
        path: path.clone(),
        kind,
    };

    if found != expected {
        match options.lengths {
            LengthPolicy::Strict => {
                return Err(AnalysisError::ResultLength {
                    tracker: tracker.to_string(),
                    sequence: ground_truth.name().to_string(),
                    path: source_name(&path),
                    found,
                    expected,
                });
            }
            LengthPolicy::Lenient if found < expected => {
                issues.push(issue(IssueKind::MissingFrames { found, expected }));
            }
            LengthPolicy::Lenient => {
                issues.push(issue(IssueKind::ExtraLines { found, expected }));
            }
        }
    }

    // Only frames whose prediction decides the score are checked. Frame 0 is
    // skipped when the ground truth replaces it, and frames without a valid
    // visible target fail whatever is predicted. Padded frames are reported
    // as missing rather than invalid.
    let first_scored = usize::from(options.conventions.replace_first_frame);
    let invalid_lines: Vec<usize> = boxes
        .iter()
        .enumerate()
        .take(expected)
        .skip(first_scored)
        .filter(|(frame, bounding_box)| {
            ground_truth.is_frame_valid(*frame) && !bounding_box.is_valid()
        })
        .map(|(frame, _)| frame + 1)
        .collect();

    if let Some(&line) = invalid_lines.first() {
        match options.invalid_boxes {
            InvalidBoxPolicy::Reject => {
                return Err(AnalysisError::InvalidPrediction {
                    tracker: tracker.to_string(),
                    sequence: ground_truth.name().to_string(),
                    path: source_name(&path),
                    line,
                    values: format!("{:?}", boxes[line - 1].to_array()),
                });
            }
            InvalidBoxPolicy::CountAsFailure => {
                issues.push(issue(IssueKind::InvalidBoxes {
                    lines: invalid_lines,
                }));
            }
        }
    }

    boxes.resize(expected, BoundingBox::missing());
    Ok(boxes)
}

/// Returns the file a repetition came from, or a placeholder for predictions held in memory.
fn source_name(path: &Option<PathBuf>) -> PathBuf {
    path.clone()
        .unwrap_or_else(|| PathBuf::from("the predictions in memory"))
}

fn check_times(
    tracker: &str,
    path: Option<PathBuf>,
    file: &TimeFile,
    ground_truth: &GroundTruth,
    issues: &mut Vec<InputIssue>,
) {
    let issue = |kind| InputIssue {
        tracker: tracker.to_string(),
        sequence: ground_truth.name().to_string(),
        path: path.clone(),
        kind,
    };

    if !file.invalid_lines.is_empty() {
        issues.push(issue(IssueKind::InvalidTimes {
            lines: file.invalid_lines.clone(),
        }));
    }
    if file.line_count != ground_truth.frame_count() {
        issues.push(issue(IssueKind::TimeLineCount {
            found: file.line_count,
            expected: ground_truth.frame_count(),
        }));
    }
}
