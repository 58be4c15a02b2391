//! Tracking evaluation. The crate reads and writes result files in the
//! official toolkits' layouts. It computes one-pass evaluation (OPE) metrics
//! as pytracking computes them, GOT-10k AO and SR as the GOT-10k toolkit
//! computes them, and frame rates. It renders comparison tables and success
//! and precision plots, and packs zip archives for the benchmark servers.
//!
//! This crate uses no other project crate and no tensor library, so the
//! `eval` binary and trackers outside the project can share it. The
//! conventions (which frames count, how bad input is scored) are described
//! in `docs/evaluation.md`.

mod benchmark;
mod bounding_box;
mod box_file;
mod curves;
mod error;
mod evaluation;
mod font;
mod frame_measures;
mod got10k;
mod ground_truth;
mod issues;
mod layout;
mod number_text;
mod ope;
mod options;
mod plot;
mod report;
mod result_files;
mod sequence_evaluation;
mod submission;
mod table;
mod timing;

pub use benchmark::Benchmark;
pub use bounding_box::{BoundingBox, ImageSize};
pub use box_file::{BOX_DECIMALS, BoxFormat, format_box_line, parse_boxes, read_boxes};
pub use curves::{
    CENTER_THRESHOLD_COUNT, OVERLAP_STEP, OVERLAP_THRESHOLD_COUNT, OpeCurves,
    center_error_thresholds, normalized_center_error_thresholds, overlap_thresholds,
};
pub use error::AnalysisError;
pub use evaluation::{
    BenchmarkEvaluation, SequencePrediction, TrackerEvaluation, TrackerSource,
    evaluate_predictions, evaluate_trackers,
};
pub use frame_measures::{center_error, got10k_iou, iou, normalized_center_error};
pub use got10k::{GOT10K_CURVE_POINTS, Got10kMetrics, got10k_frame_ious, got10k_thresholds};
pub use ground_truth::{GroundTruth, read_flags};
pub use issues::{InputIssue, IssueKind, MissingResults};
pub use layout::ResultLayout;
pub use ope::{FrameDenominator, FrameErrors, OpeConventions, OpeSummary, SequenceMetrics};
pub use options::{EvaluationOptions, InvalidBoxPolicy, LengthPolicy, MissingSequencePolicy};
pub use plot::{CurveKind, DEFAULT_PLOT_SIZE, MIN_PLOT_SIZE, plot_all_curves, plot_curves};
pub use report::{Metric, comparison_table, sequence_comparison_table, sequence_table};
pub use result_files::{
    RepetitionBoxes, SequenceResults, is_sequence_finished, read_sequence_results, write_atomic,
    write_sequence_results,
};
pub use sequence_evaluation::SequenceEvaluation;
pub use submission::pack_submission;
pub use table::{Alignment, Table};
pub use timing::{TIME_DECIMALS, TimeFile, Timing, read_times};
