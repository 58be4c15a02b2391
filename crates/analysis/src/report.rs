//! Tables of evaluation results: trackers side by side, and sequence by sequence.

use crate::evaluation::{BenchmarkEvaluation, TrackerEvaluation};
use crate::sequence_evaluation::SequenceEvaluation;
use crate::table::{Alignment, Table};

/// A reported number. Scores are shown as percentages with two decimals,
/// frame rates with one decimal, and a missing value as `-`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Area under the OPE success curve (success score).
    Auc,
    Op50,
    Op75,
    /// Precision at 20 pixels.
    Precision20,
    /// Normalised precision at 0.20.
    NormalizedPrecision20,
    Fps,
    /// GOT-10k average overlap.
    AverageOverlap,
    /// GOT-10k success rate at IoU 0.5.
    SuccessRate50,
    /// GOT-10k success rate at IoU 0.75.
    SuccessRate75,
}

impl Metric {
    pub const OPE: [Metric; 6] = [
        Self::Auc,
        Self::Op50,
        Self::Op75,
        Self::Precision20,
        Self::NormalizedPrecision20,
        Self::Fps,
    ];
    pub const GOT10K: [Metric; 3] = [
        Self::AverageOverlap,
        Self::SuccessRate50,
        Self::SuccessRate75,
    ];

    pub fn header(self) -> &'static str {
        match self {
            Self::Auc => "AUC",
            Self::Op50 => "OP50",
            Self::Op75 => "OP75",
            Self::Precision20 => "Prec@20",
            Self::NormalizedPrecision20 => "NormPrec@0.20",
            Self::Fps => "FPS",
            Self::AverageOverlap => "AO",
            Self::SuccessRate50 => "SR0.5",
            Self::SuccessRate75 => "SR0.75",
        }
    }

    /// Returns the tracker's value over the whole dataset, as a fraction or in frames per second.
    pub fn tracker_value(self, tracker: &TrackerEvaluation) -> Option<f64> {
        let curves = &tracker.summary.curves;
        let got10k = tracker.got10k.as_ref();
        match self {
            Self::Auc => Some(curves.auc()),
            Self::Op50 => Some(curves.op50()),
            Self::Op75 => Some(curves.op75()),
            Self::Precision20 => Some(curves.precision_at_20px()),
            Self::NormalizedPrecision20 => Some(curves.normalized_precision_at_0_20()),
            Self::Fps => tracker.timing.and_then(|timing| timing.fps()),
            Self::AverageOverlap => got10k.map(|metrics| metrics.average_overlap),
            Self::SuccessRate50 => got10k.map(|metrics| metrics.success_rate_50),
            Self::SuccessRate75 => got10k.map(|metrics| metrics.success_rate_75),
        }
    }

    /// Returns the value on one sequence, as a fraction or in frames per second.
    pub fn sequence_value(self, sequence: &SequenceEvaluation) -> Option<f64> {
        let curves = &sequence.metrics.curves;
        let got10k = sequence.got10k.as_ref();
        match self {
            Self::Auc => Some(curves.auc()),
            Self::Op50 => Some(curves.op50()),
            Self::Op75 => Some(curves.op75()),
            Self::Precision20 => Some(curves.precision_at_20px()),
            Self::NormalizedPrecision20 => Some(curves.normalized_precision_at_0_20()),
            Self::Fps => sequence.timing.and_then(|timing| timing.fps()),
            Self::AverageOverlap => got10k.map(|metrics| metrics.average_overlap),
            Self::SuccessRate50 => got10k.map(|metrics| metrics.success_rate_50),
            Self::SuccessRate75 => got10k.map(|metrics| metrics.success_rate_75),
        }
    }

    pub fn format(self, value: Option<f64>) -> String {
        match (self, value) {
            (_, None) => "-".to_string(),
            (Self::Fps, Some(fps)) => format!("{fps:.1}"),
            (_, Some(fraction)) => format!("{:.2}", fraction * 100.0),
        }
    }
}

/// Builds the comparison table: one row per tracker, the OPE metrics and
/// FPS, plus AO, SR0.5 and SR0.75 when any tracker has GOT-10k metrics.
pub fn comparison_table(evaluation: &BenchmarkEvaluation) -> Table {
    let metrics = reported_metrics(&evaluation.trackers);

    let mut columns = vec![("Tracker".to_string(), Alignment::Left)];
    columns.extend(metric_columns(&metrics));
    let mut table = Table::new(columns);

    for tracker in &evaluation.trackers {
        let mut row = vec![tracker.tracker.clone()];
        row.extend(
            metrics
                .iter()
                .map(|metric| metric.format(metric.tracker_value(tracker))),
        );
        table.push_row(row);
    }
    table
}

/// Builds one tracker's per-sequence table: frame counts and every metric.
pub fn sequence_table(tracker: &TrackerEvaluation) -> Table {
    let metrics = reported_metrics(std::slice::from_ref(tracker));

    let mut columns = vec![
        ("Sequence".to_string(), Alignment::Left),
        ("Frames".to_string(), Alignment::Right),
        ("Valid".to_string(), Alignment::Right),
    ];
    columns.extend(metric_columns(&metrics));
    let mut table = Table::new(columns);

    for sequence in &tracker.sequences {
        let mut row = vec![
            sequence.metrics.sequence.clone(),
            sequence.metrics.frame_count.to_string(),
            sequence.metrics.valid_frame_count.to_string(),
        ];
        row.extend(
            metrics
                .iter()
                .map(|metric| metric.format(metric.sequence_value(sequence))),
        );
        table.push_row(row);
    }
    table
}

/// Builds a table of one metric with a row per sequence and a column per tracker.
pub fn sequence_comparison_table(evaluation: &BenchmarkEvaluation, metric: Metric) -> Table {
    let mut columns = vec![(format!("Sequence ({})", metric.header()), Alignment::Left)];
    columns.extend(
        evaluation
            .trackers
            .iter()
            .map(|tracker| (tracker.tracker.clone(), Alignment::Right)),
    );
    let mut table = Table::new(columns);

    for (index, sequence) in evaluation.sequences.iter().enumerate() {
        let mut row = vec![sequence.clone()];
        row.extend(evaluation.trackers.iter().map(|tracker| {
            let value = tracker
                .sequences
                .get(index)
                .and_then(|evaluated| metric.sequence_value(evaluated));
            metric.format(value)
        }));
        table.push_row(row);
    }
    table
}

fn reported_metrics(trackers: &[TrackerEvaluation]) -> Vec<Metric> {
    let mut metrics = Metric::OPE.to_vec();
    if trackers.iter().any(|tracker| tracker.got10k.is_some()) {
        metrics.extend(Metric::GOT10K);
    }
    metrics
}

fn metric_columns(metrics: &[Metric]) -> Vec<(String, Alignment)> {
    metrics
        .iter()
        .map(|metric| (metric.header().to_string(), Alignment::Right))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_show_as_percentages() {
        assert_eq!(Metric::Auc.format(Some(0.675238)), "67.52");
        assert_eq!(Metric::SuccessRate75.format(Some(1.0)), "100.00");
        assert_eq!(Metric::Fps.format(Some(165.04)), "165.0");
        assert_eq!(Metric::Fps.format(None), "-");
    }
}
