//! Evaluation of one or more trackers on a dataset: result folders in,
//! per-sequence and averaged metrics out.

use std::collections::HashSet;
use std::path::PathBuf;

use tracing::{info, warn};

use crate::benchmark::Benchmark;
use crate::bounding_box::BoundingBox;
use crate::box_file::BoxFormat;
use crate::error::AnalysisError;
use crate::got10k::Got10kMetrics;
use crate::ground_truth::GroundTruth;
use crate::issues::{InputIssue, MissingResults};
use crate::layout::{ResultLayout, check_sequence_name};
use crate::ope::OpeSummary;
use crate::options::{EvaluationOptions, MissingSequencePolicy};
use crate::result_files::read_sequence_results;
use crate::sequence_evaluation::{
    EvaluatedSequence, RawRepetition, RawSequence, SequenceEvaluation, evaluate_sequence,
};
use crate::timing::{TimeFile, Timing};

/// One tracker's result folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackerSource {
    /// Name shown in tables and plot legends.
    pub name: String,
    pub directory: PathBuf,
    pub layout: ResultLayout,
    pub format: BoxFormat,
}

impl TrackerSource {
    /// Describes a folder of `x, y, w, h` results in the benchmark's layout.
    pub fn new(
        name: impl Into<String>,
        directory: impl Into<PathBuf>,
        benchmark: Benchmark,
    ) -> Self {
        Self {
            name: name.into(),
            directory: directory.into(),
            layout: benchmark.result_layout(),
            format: BoxFormat::Xywh,
        }
    }
}

/// Predictions of one sequence held in memory, for example straight from a tracker.
#[derive(Clone, Debug, PartialEq)]
pub struct SequencePrediction {
    pub sequence: String,
    pub boxes: Vec<BoundingBox>,
    /// Seconds per frame, `None` when not measured.
    pub times: Option<Vec<f64>>,
}

/// One tracker's results on a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerEvaluation {
    pub tracker: String,
    /// Per-sequence results, in the dataset's order.
    pub sequences: Vec<SequenceEvaluation>,
    /// OPE curves averaged over sequences.
    pub summary: OpeSummary,
    /// GOT-10k metrics over the IoUs of all frames of all sequences, when requested.
    pub got10k: Option<Got10kMetrics>,
    /// Frames and seconds of all sequences with a time file, `None` when none has one.
    pub timing: Option<Timing>,
    /// Problems found in the result files and how they were scored.
    pub issues: Vec<InputIssue>,
}

/// Several trackers evaluated on the same sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchmarkEvaluation {
    pub trackers: Vec<TrackerEvaluation>,
    /// Names of the sequences evaluated, in dataset order.
    pub sequences: Vec<String>,
    /// Sequences dropped for every tracker because one of them had no results.
    pub skipped_sequences: Vec<String>,
}

/// Evaluates every tracker's result folder on the same sequences.
///
/// Missing sequences are an error listing all of them, unless the options
/// skip them, in which case they are dropped for every tracker.
pub fn evaluate_trackers(
    trackers: &[TrackerSource],
    ground_truth: &[GroundTruth],
    options: &EvaluationOptions,
) -> Result<BenchmarkEvaluation, AnalysisError> {
    check_tracker_names(trackers)?;
    for truth in ground_truth {
        check_sequence_name(truth.name())?;
    }

    let missing = find_missing(trackers, ground_truth)?;
    let skipped: HashSet<&str> = missing
        .iter()
        .flat_map(|results| results.sequences.iter().map(String::as_str))
        .collect();
    if !missing.is_empty() {
        match options.missing_sequences {
            MissingSequencePolicy::Reject => {
                return Err(AnalysisError::MissingSequences { missing });
            }
            MissingSequencePolicy::Skip => {
                for results in &missing {
                    warn!("{results}; skipping these sequences for every tracker");
                }
            }
        }
    }

    let kept: Vec<&GroundTruth> = ground_truth
        .iter()
        .filter(|truth| !skipped.contains(truth.name()))
        .collect();
    if kept.is_empty() {
        return Err(AnalysisError::NoSequences {
            skipped: skipped.len(),
        });
    }

    let mut evaluations = Vec::with_capacity(trackers.len());
    for tracker in trackers {
        info!(
            "evaluating tracker {} on {} sequences from {}",
            tracker.name,
            kept.len(),
            tracker.directory.display()
        );
        let mut sequences = Vec::with_capacity(kept.len());
        for truth in &kept {
            let raw = read_raw_sequence(tracker, truth.name())?;
            sequences.push(evaluate_sequence(raw, truth, options)?);
        }
        evaluations.push(summarise(&tracker.name, sequences, options)?);
    }

    Ok(BenchmarkEvaluation {
        trackers: evaluations,
        sequences: kept.iter().map(|truth| truth.name().to_string()).collect(),
        skipped_sequences: ground_truth
            .iter()
            .map(GroundTruth::name)
            .filter(|name| skipped.contains(name))
            .map(str::to_string)
            .collect(),
    })
}

/// Evaluates predictions held in memory, one per ground-truth sequence
/// (matched by name); a sequence without predictions follows the missing
/// sequence policy.
pub fn evaluate_predictions(
    tracker: &str,
    predictions: &[SequencePrediction],
    ground_truth: &[GroundTruth],
    options: &EvaluationOptions,
) -> Result<TrackerEvaluation, AnalysisError> {
    let mut sequences = Vec::with_capacity(ground_truth.len());
    let mut missing = Vec::new();
    for truth in ground_truth {
        let Some(prediction) = predictions.iter().find(|p| p.sequence == truth.name()) else {
            missing.push(truth.name().to_string());
            continue;
        };
        let raw = RawSequence {
            tracker,
            repetitions: vec![RawRepetition {
                path: None,
                boxes: prediction.boxes.clone(),
            }],
            times: prediction
                .times
                .as_deref()
                .map(|seconds| (None, TimeFile::from_seconds(seconds))),
        };
        sequences.push(evaluate_sequence(raw, truth, options)?);
    }

    if !missing.is_empty() {
        let results = MissingResults {
            tracker: tracker.to_string(),
            directory: PathBuf::from("memory"),
            sequences: missing,
        };
        match options.missing_sequences {
            MissingSequencePolicy::Reject => {
                return Err(AnalysisError::MissingSequences {
                    missing: vec![results],
                });
            }
            MissingSequencePolicy::Skip => warn!("{results}; skipping these sequences"),
        }
    }
    if sequences.is_empty() {
        return Err(AnalysisError::NoSequences {
            skipped: ground_truth.len(),
        });
    }
    summarise(tracker, sequences, options)
}

fn check_tracker_names(trackers: &[TrackerSource]) -> Result<(), AnalysisError> {
    if trackers.is_empty() {
        return Err(AnalysisError::NoTrackers);
    }
    let mut seen = HashSet::new();
    for tracker in trackers {
        if !seen.insert(tracker.name.as_str()) {
            return Err(AnalysisError::DuplicateTracker {
                name: tracker.name.clone(),
            });
        }
    }
    Ok(())
}

fn find_missing(
    trackers: &[TrackerSource],
    ground_truth: &[GroundTruth],
) -> Result<Vec<MissingResults>, AnalysisError> {
    let mut missing = Vec::new();
    for tracker in trackers {
        let mut sequences = Vec::new();
        for truth in ground_truth {
            let files = tracker
                .layout
                .find_box_files(&tracker.directory, truth.name())?;
            if files.is_empty() {
                sequences.push(truth.name().to_string());
            }
        }
        if !sequences.is_empty() {
            missing.push(MissingResults {
                tracker: tracker.name.clone(),
                directory: tracker.directory.clone(),
                sequences,
            });
        }
    }
    Ok(missing)
}

fn read_raw_sequence<'a>(
    tracker: &'a TrackerSource,
    sequence: &str,
) -> Result<RawSequence<'a>, AnalysisError> {
    let results =
        read_sequence_results(&tracker.directory, tracker.layout, tracker.format, sequence)
            .map_err(|error| AnalysisError::InSequence {
                tracker: tracker.name.clone(),
                sequence: sequence.to_string(),
                source: Box::new(error),
            })?
            .ok_or_else(|| AnalysisError::MissingSequences {
                missing: vec![MissingResults {
                    tracker: tracker.name.clone(),
                    directory: tracker.directory.clone(),
                    sequences: vec![sequence.to_string()],
                }],
            })?;

    Ok(RawSequence {
        tracker: &tracker.name,
        repetitions: results
            .repetitions
            .into_iter()
            .map(|repetition| RawRepetition {
                path: Some(repetition.path),
                boxes: repetition.boxes,
            })
            .collect(),
        times: results.times.map(|(path, file)| (Some(path), file)),
    })
}

fn summarise(
    tracker: &str,
    sequences: Vec<EvaluatedSequence>,
    options: &EvaluationOptions,
) -> Result<TrackerEvaluation, AnalysisError> {
    let issues: Vec<InputIssue> = sequences
        .iter()
        .flat_map(|sequence| sequence.issues.iter().cloned())
        .collect();
    for issue in &issues {
        warn!("{issue}");
    }

    let got10k = if options.got10k_metrics {
        let pooled: Vec<f64> = sequences
            .iter()
            .flat_map(|sequence| sequence.got10k_ious.iter().copied())
            .collect();
        let metrics = Got10kMetrics::from_ious(&pooled).ok_or(AnalysisError::NoGot10kFrames {
            sequences: sequences.len(),
        })?;
        Some(metrics)
    } else {
        None
    };

    let evaluations: Vec<SequenceEvaluation> = sequences
        .into_iter()
        .map(|sequence| sequence.evaluation)
        .collect();
    let summary = OpeSummary::from_sequences(evaluations.iter().map(|sequence| &sequence.metrics))?;
    let timings: Vec<&Timing> = evaluations
        .iter()
        .filter_map(|sequence| sequence.timing.as_ref())
        .collect();
    let timing = (!timings.is_empty()).then(|| Timing::combine(timings));

    Ok(TrackerEvaluation {
        tracker: tracker.to_string(),
        sequences: evaluations,
        summary,
        got10k,
        timing,
        issues,
    })
}
