//! Policies of an evaluation for imperfect result files.

use crate::benchmark::Benchmark;
use crate::ope::OpeConventions;

/// Policy for a result file whose line count differs from the sequence's
/// frame count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LengthPolicy {
    /// Stop with an error naming the tracker, sequence, file and both counts.
    #[default]
    Strict,
    /// Score missing frames as failures and ignore extra lines, reporting
    /// each case as an issue. pytracking pads with zero boxes and truncates
    /// the same way.
    Lenient,
}

/// Policy for a predicted box with a NaN or infinite coordinate or a side
/// that is not positive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InvalidBoxPolicy {
    /// Score the frame as a failure (IoU 0, infinite centre error) and
    /// report the lines as an issue.
    #[default]
    CountAsFailure,
    /// Stop with an error naming the first such line, as pytracking does for
    /// NaN and negative sizes.
    Reject,
}

/// Policy for a sequence without a result file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingSequencePolicy {
    /// Stop with an error listing every missing sequence of every tracker.
    #[default]
    Reject,
    /// Drop the sequence for every tracker, so all trackers are averaged
    /// over the same sequences, and log a warning naming it. This is
    /// pytracking's `skip_missing_seq=True`.
    Skip,
}

/// Options of an evaluation; the default is pytracking's OPE with strict
/// input checks and no GOT-10k metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvaluationOptions {
    pub conventions: OpeConventions,
    pub lengths: LengthPolicy,
    pub invalid_boxes: InvalidBoxPolicy,
    pub missing_sequences: MissingSequencePolicy,
    /// Also compute GOT-10k AO, SR0.5 and SR0.75.
    pub got10k_metrics: bool,
}

impl EvaluationOptions {
    /// Returns the default options, with GOT-10k metrics where the benchmark reports them.
    pub fn for_benchmark(benchmark: Benchmark) -> Self {
        Self {
            got10k_metrics: benchmark.reports_got10k_metrics(),
            ..Self::default()
        }
    }
}
