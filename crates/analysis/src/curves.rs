//! Success and precision curves of one-pass evaluation (OPE), with the
//! thresholds pytracking uses.

/// Spacing of the success-curve thresholds.
pub const OVERLAP_STEP: f64 = 0.05;
/// Number of success-curve thresholds: 0, 0.05, ..., 1.
pub const OVERLAP_THRESHOLD_COUNT: usize = 21;
/// Number of precision-curve thresholds: 0 to 50 pixels, or 0 to 0.5 normalised.
pub const CENTER_THRESHOLD_COUNT: usize = 51;

/// Index of threshold 0.5 (`10 * 0.05`) on the success curve.
const OP50_INDEX: usize = 10;
/// Index of threshold 0.75 (`15 * 0.05`) on the success curve.
const OP75_INDEX: usize = 15;
/// Index of 20 px on the precision curve and of 0.20 on the normalised one.
const PRECISION_REPORT_INDEX: usize = 20;

/// Returns the IoU thresholds `i * 0.05`, i = 0..=20.
///
/// Each value is one multiplication, as `torch.arange` computes it. Adding
/// 0.05 twenty times drifts: the eleventh sum is 0.49999999999999994, so an
/// IoU of exactly 0.5 would wrongly pass the 0.5 threshold.
pub fn overlap_thresholds() -> Vec<f64> {
    (0..OVERLAP_THRESHOLD_COUNT)
        .map(|i| i as f64 * OVERLAP_STEP)
        .collect()
}

/// Returns the centre-error thresholds 0, 1, ..., 50 pixels.
pub fn center_error_thresholds() -> Vec<f64> {
    (0..CENTER_THRESHOLD_COUNT).map(|i| i as f64).collect()
}

/// Returns the normalised centre-error thresholds `i / 100`, i = 0..=50, as
/// pytracking divides `arange(0, 51)` by 100.
pub fn normalized_center_error_thresholds() -> Vec<f64> {
    (0..CENTER_THRESHOLD_COUNT)
        .map(|i| i as f64 / 100.0)
        .collect()
}

/// Computes, for each threshold, the number of values above it divided by
/// `denominator`: the success rate of IoUs.
pub(crate) fn rates_above(values: &[f64], thresholds: &[f64], denominator: usize) -> Vec<f64> {
    thresholds
        .iter()
        .map(|&threshold| {
            let count = values.iter().filter(|&&value| value > threshold).count();
            count as f64 / denominator as f64
        })
        .collect()
}

/// Computes, for each threshold, the number of values at or below it divided
/// by `denominator`: the precision of centre errors.
pub(crate) fn rates_at_or_below(
    values: &[f64],
    thresholds: &[f64],
    denominator: usize,
) -> Vec<f64> {
    thresholds
        .iter()
        .map(|&threshold| {
            let count = values.iter().filter(|&&value| value <= threshold).count();
            count as f64 / denominator as f64
        })
        .collect()
}

/// The three OPE curves, as fractions in `[0, 1]` at the thresholds of
/// [`overlap_thresholds`], [`center_error_thresholds`] and
/// [`normalized_center_error_thresholds`].
#[derive(Clone, Debug, PartialEq)]
pub struct OpeCurves {
    pub success: Vec<f64>,
    pub precision: Vec<f64>,
    pub normalized_precision: Vec<f64>,
}

impl OpeCurves {
    /// Averages curves point by point, or returns `None` for no curves.
    pub fn mean<'a>(curves: impl IntoIterator<Item = &'a OpeCurves>) -> Option<OpeCurves> {
        let mut sum = OpeCurves {
            success: vec![0.0; OVERLAP_THRESHOLD_COUNT],
            precision: vec![0.0; CENTER_THRESHOLD_COUNT],
            normalized_precision: vec![0.0; CENTER_THRESHOLD_COUNT],
        };
        let mut count = 0usize;
        for curve in curves {
            add_into(&mut sum.success, &curve.success);
            add_into(&mut sum.precision, &curve.precision);
            add_into(&mut sum.normalized_precision, &curve.normalized_precision);
            count += 1;
        }
        if count == 0 {
            return None;
        }

        for value in sum
            .success
            .iter_mut()
            .chain(&mut sum.precision)
            .chain(&mut sum.normalized_precision)
        {
            *value /= count as f64;
        }
        Some(sum)
    }

    /// Area under the success curve: the mean of its 21 points.
    pub fn auc(&self) -> f64 {
        self.success.iter().sum::<f64>() / self.success.len() as f64
    }

    /// Overlap precision at IoU 0.5: the fraction of frames with IoU > 0.5.
    pub fn op50(&self) -> f64 {
        self.success[OP50_INDEX]
    }

    /// Overlap precision at IoU 0.75.
    pub fn op75(&self) -> f64 {
        self.success[OP75_INDEX]
    }

    /// Fraction of frames with a centre error of at most 20 pixels.
    pub fn precision_at_20px(&self) -> f64 {
        self.precision[PRECISION_REPORT_INDEX]
    }

    /// Fraction of frames with a normalised centre error of at most 0.20.
    pub fn normalized_precision_at_0_20(&self) -> f64 {
        self.normalized_precision[PRECISION_REPORT_INDEX]
    }
}

fn add_into(sum: &mut [f64], values: &[f64]) {
    for (total, value) in sum.iter_mut().zip(values) {
        *total += value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_thresholds_are_exact_multiples() {
        let thresholds = overlap_thresholds();

        assert_eq!(thresholds.len(), 21);
        assert_eq!(thresholds[3], 0.05 * 3.0);
        assert_eq!(thresholds[10], 0.5);
        assert_eq!(thresholds[15], 0.75);
        assert_eq!(thresholds[20], 1.0);
    }

    #[test]
    fn repeated_addition_would_drift() {
        let mut accumulated = 0.0;
        for _ in 0..10 {
            accumulated += OVERLAP_STEP;
        }

        assert_ne!(accumulated, overlap_thresholds()[10]);
        assert!(accumulated < 0.5);
    }

    #[test]
    fn report_indices_point_at_report_thresholds() {
        assert_eq!(overlap_thresholds()[OP50_INDEX], 0.5);
        assert_eq!(overlap_thresholds()[OP75_INDEX], 0.75);
        assert_eq!(center_error_thresholds()[PRECISION_REPORT_INDEX], 20.0);
        assert_eq!(
            normalized_center_error_thresholds()[PRECISION_REPORT_INDEX],
            0.2
        );
        assert_eq!(normalized_center_error_thresholds()[50], 0.5);
    }

    #[test]
    fn success_is_strictly_above_threshold() {
        let rates = rates_above(&[0.5], &[0.45, 0.5, 0.55], 1);

        assert_eq!(rates, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn precision_includes_threshold() {
        let rates = rates_at_or_below(&[20.0, f64::INFINITY], &[19.0, 20.0, 50.0], 2);

        assert_eq!(rates, vec![0.0, 0.5, 0.5]);
    }

    #[test]
    fn mean_of_no_curves_is_none() {
        assert_eq!(OpeCurves::mean(&[]), None);
    }
}
