//! GOT-10k average overlap (AO) and success rates (SR), as the official
//! GOT-10k toolkit (`got10k/experiments/got10k.py`) computes them.
//!
//! The toolkit drops frame 0 (the initialisation) and the frames whose cover
//! label is 0 (target absent). It pools the IoUs of all remaining frames of
//! all sequences and repetitions before averaging, so a long sequence weighs
//! more than a short one. OPE, in contrast, averages per sequence first.

use crate::bounding_box::BoundingBox;
use crate::error::AnalysisError;
use crate::frame_measures::got10k_iou;
use crate::ground_truth::GroundTruth;

/// Number of points of the toolkit's success curve, `np.linspace(0, 1, 101)`.
pub const GOT10K_CURVE_POINTS: usize = 101;

/// Returns the success-curve thresholds as `np.linspace(0, 1, 101)` computes
/// them: `i * 0.01`, with the last one set to exactly 1.
pub fn got10k_thresholds() -> Vec<f64> {
    let step = 1.0 / (GOT10K_CURVE_POINTS - 1) as f64;
    (0..GOT10K_CURVE_POINTS)
        .map(|i| {
            if i == GOT10K_CURVE_POINTS - 1 {
                1.0
            } else {
                i as f64 * step
            }
        })
        .collect()
}

/// Computes the IoU of every frame that GOT-10k scores: frame 0 and frames
/// with an absent target are left out.
///
/// Frames whose ground-truth box is invalid but whose target is marked
/// visible stay in and score 0, where the toolkit would score NaN.
pub fn got10k_frame_ious(
    predicted: &[BoundingBox],
    ground_truth: &GroundTruth,
) -> Result<Vec<f64>, AnalysisError> {
    let frames = ground_truth.frame_count();
    if predicted.len() != frames {
        return Err(AnalysisError::FrameCount {
            sequence: ground_truth.name().to_string(),
            predicted: predicted.len(),
            frames,
        });
    }

    let ious = (1..frames)
        .filter(|&frame| ground_truth.is_target_visible(frame))
        .map(|frame| {
            got10k_iou(
                &predicted[frame],
                &ground_truth.boxes()[frame],
                ground_truth.image_size(),
            )
        })
        .collect();
    Ok(ious)
}

/// GOT-10k metrics over a pool of frames.
#[derive(Clone, Debug, PartialEq)]
pub struct Got10kMetrics {
    /// Number of pooled frames.
    pub frame_count: usize,
    /// Average overlap: the mean IoU.
    pub average_overlap: f64,
    /// Fraction of frames with IoU > 0.5.
    pub success_rate_50: f64,
    /// Fraction of frames with IoU > 0.75.
    pub success_rate_75: f64,
    /// Fraction of frames with IoU above each of [`got10k_thresholds`].
    pub success_curve: Vec<f64>,
}

impl Got10kMetrics {
    /// Computes the metrics of pooled IoUs, or `None` when there are none.
    pub fn from_ious(ious: &[f64]) -> Option<Self> {
        if ious.is_empty() {
            return None;
        }

        let count = ious.len() as f64;
        let fraction_above =
            |threshold: f64| ious.iter().filter(|&&iou| iou > threshold).count() as f64 / count;
        Some(Self {
            frame_count: ious.len(),
            average_overlap: ious.iter().sum::<f64>() / count,
            success_rate_50: fraction_above(0.5),
            success_rate_75: fraction_above(0.75),
            success_curve: got10k_thresholds()
                .into_iter()
                .map(fraction_above)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounding_box::ImageSize;

    const EXACT: f64 = 1e-12;

    fn square(x: f64) -> BoundingBox {
        BoundingBox::new(x, 0.0, 10.0, 10.0)
    }

    #[test]
    fn frame_zero_and_absent_frames_are_dropped() {
        let ground_truth = GroundTruth::new("seq", vec![square(0.0); 4])
            .unwrap()
            .with_cover(&[8, 8, 0, 4])
            .unwrap();
        // Frame 0 would score 0 and frame 2 would score 1 if they counted.
        let predicted = vec![square(50.0), square(5.0), square(0.0), square(0.0)];

        let ious = got10k_frame_ious(&predicted, &ground_truth).unwrap();

        assert_eq!(ious.len(), 2);
        assert!((ious[0] - 1.0 / 3.0).abs() < 1e-9);
        assert!((ious[1] - 1.0).abs() < 1e-9);
    }

    #[test]
    fn ao_is_mean_of_pooled_ious() {
        // Pooling across sequences happens before this call: three IoUs of 1
        // from one sequence and one of 0 from another give 3/4, where a mean
        // of per-sequence means would give 1/2.
        let metrics = Got10kMetrics::from_ious(&[1.0, 1.0, 1.0, 0.0]).unwrap();

        assert!((metrics.average_overlap - 0.75).abs() < EXACT);
        assert_eq!(metrics.frame_count, 4);
    }

    #[test]
    fn hand_computed_ao_and_success_rates() {
        let size = ImageSize {
            width: 640.0,
            height: 480.0,
        };
        let ground_truth = GroundTruth::new("seq", vec![square(0.0); 5])
            .unwrap()
            .with_image_size(size);
        // Frames 1 to 4 score IoU 1, 1/3 (shifted by half a width), 0.8 (an 8x10 box
        // inside the 10x10 truth) and 0.
        let predicted = vec![
            square(0.0),
            square(0.0),
            square(5.0),
            BoundingBox::new(0.0, 0.0, 8.0, 10.0),
            square(300.0),
        ];

        let ious = got10k_frame_ious(&predicted, &ground_truth).unwrap();
        let metrics = Got10kMetrics::from_ious(&ious).unwrap();

        let expected_ao = (1.0 + 1.0 / 3.0 + 0.8 + 0.0) / 4.0;
        assert!((metrics.average_overlap - expected_ao).abs() < 1e-9);
        assert_eq!(metrics.success_rate_50, 0.5);
        assert_eq!(metrics.success_rate_75, 0.5);
        assert_eq!(metrics.success_curve.len(), GOT10K_CURVE_POINTS);
        assert_eq!(metrics.success_curve[0], 0.75);
    }

    #[test]
    fn success_rate_is_strictly_above() {
        let metrics = Got10kMetrics::from_ious(&[0.5, 0.75]).unwrap();

        assert_eq!(metrics.success_rate_50, 0.5);
        assert_eq!(metrics.success_rate_75, 0.0);
    }

    #[test]
    fn thresholds_end_at_exactly_one() {
        let thresholds = got10k_thresholds();

        assert_eq!(thresholds[0], 0.0);
        assert_eq!(thresholds[50], 0.5);
        assert_eq!(thresholds[100], 1.0);
    }

    #[test]
    fn no_frames_give_no_metrics() {
        assert_eq!(Got10kMetrics::from_ious(&[]), None);
    }
}
