//! One-pass evaluation (OPE) of a sequence and its average over sequences,
//! as pytracking's `extract_results` computes them.

use crate::bounding_box::BoundingBox;
use crate::curves::{
    OpeCurves, center_error_thresholds, normalized_center_error_thresholds, overlap_thresholds,
    rates_above, rates_at_or_below,
};
use crate::error::AnalysisError;
use crate::frame_measures::{center_error, iou, normalized_center_error};
use crate::ground_truth::GroundTruth;

/// Denominator of each curve point: the frames a sequence's rates are divided by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FrameDenominator {
    /// Every frame of the sequence, so invalid frames count as failures
    /// (pytracking's default).
    #[default]
    AllFrames,
    /// Only frames with a valid, visible target (pytracking's
    /// `exclude_invalid_frames=True`).
    ValidFrames,
}

/// Conventions of one-pass evaluation that differ between toolkits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpeConventions {
    /// Replaces the prediction of frame 0, where the tracker is initialised,
    /// by the ground truth. pytracking does this; most other libraries score
    /// frame 0 as predicted.
    pub replace_first_frame: bool,
    pub denominator: FrameDenominator,
}

impl Default for OpeConventions {
    fn default() -> Self {
        Self {
            replace_first_frame: true,
            denominator: FrameDenominator::AllFrames,
        }
    }
}

/// Per-frame IoU and centre errors of one sequence.
///
/// Invalid frames (invalid ground truth or target not visible) hold IoU 0
/// and infinite errors, so they fail at every threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameErrors {
    pub iou: Vec<f64>,
    pub center_error: Vec<f64>,
    pub normalized_center_error: Vec<f64>,
    pub valid: Vec<bool>,
}

impl FrameErrors {
    /// Compares one predicted box per frame with the ground truth.
    pub fn compute(
        predicted: &[BoundingBox],
        ground_truth: &GroundTruth,
        conventions: &OpeConventions,
    ) -> Result<Self, AnalysisError> {
        let frames = ground_truth.frame_count();
        if predicted.len() != frames {
            return Err(AnalysisError::FrameCount {
                sequence: ground_truth.name().to_string(),
                predicted: predicted.len(),
                frames,
            });
        }

        let mut errors = FrameErrors {
            iou: Vec::with_capacity(frames),
            center_error: Vec::with_capacity(frames),
            normalized_center_error: Vec::with_capacity(frames),
            valid: Vec::with_capacity(frames),
        };
        for (frame, truth) in ground_truth.boxes().iter().enumerate() {
            let valid = ground_truth.is_frame_valid(frame);
            let prediction = if frame == 0 && conventions.replace_first_frame {
                truth
            } else {
                &predicted[frame]
            };

            if valid {
                errors.iou.push(iou(prediction, truth));
                errors.center_error.push(center_error(prediction, truth));
                errors
                    .normalized_center_error
                    .push(normalized_center_error(prediction, truth));
            } else {
                errors.iou.push(0.0);
                errors.center_error.push(f64::INFINITY);
                errors.normalized_center_error.push(f64::INFINITY);
            }
            errors.valid.push(valid);
        }
        Ok(errors)
    }

    pub fn valid_frame_count(&self) -> usize {
        self.valid.iter().filter(|&&valid| valid).count()
    }
}

/// OPE results of one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceMetrics {
    pub sequence: String,
    pub frame_count: usize,
    pub valid_frame_count: usize,
    /// Mean IoU over valid frames, `None` when no frame is valid.
    pub mean_iou: Option<f64>,
    pub curves: OpeCurves,
}

impl SequenceMetrics {
    /// Evaluates one predicted box per ground-truth frame.
    pub fn compute(
        predicted: &[BoundingBox],
        ground_truth: &GroundTruth,
        conventions: &OpeConventions,
    ) -> Result<Self, AnalysisError> {
        let errors = FrameErrors::compute(predicted, ground_truth, conventions)?;
        let valid_frame_count = errors.valid_frame_count();

        let denominator = match conventions.denominator {
            FrameDenominator::AllFrames => ground_truth.frame_count(),
            FrameDenominator::ValidFrames => valid_frame_count,
        };
        if denominator == 0 {
            return Err(AnalysisError::NoValidFrames {
                sequence: ground_truth.name().to_string(),
            });
        }

        let curves = OpeCurves {
            success: rates_above(&errors.iou, &overlap_thresholds(), denominator),
            precision: rates_at_or_below(
                &errors.center_error,
                &center_error_thresholds(),
                denominator,
            ),
            normalized_precision: rates_at_or_below(
                &errors.normalized_center_error,
                &normalized_center_error_thresholds(),
                denominator,
            ),
        };

        let valid_iou_sum: f64 = errors
            .iou
            .iter()
            .zip(&errors.valid)
            .filter(|(_, valid)| **valid)
            .map(|(iou, _)| iou)
            .sum();
        let mean_iou = (valid_frame_count > 0).then(|| valid_iou_sum / valid_frame_count as f64);

        Ok(Self {
            sequence: ground_truth.name().to_string(),
            frame_count: ground_truth.frame_count(),
            valid_frame_count,
            mean_iou,
            curves,
        })
    }
}

/// OPE results averaged over sequences: each curve point is the mean of the
/// sequences' points, so every sequence weighs the same whatever its length.
#[derive(Clone, Debug, PartialEq)]
pub struct OpeSummary {
    pub sequence_count: usize,
    pub curves: OpeCurves,
}

impl OpeSummary {
    pub fn from_sequences<'a>(
        sequences: impl IntoIterator<Item = &'a SequenceMetrics>,
    ) -> Result<Self, AnalysisError> {
        let sequences: Vec<&SequenceMetrics> = sequences.into_iter().collect();
        let curves = OpeCurves::mean(sequences.iter().map(|metrics| &metrics.curves))
            .ok_or(AnalysisError::NoSequences { skipped: 0 })?;
        Ok(Self {
            sequence_count: sequences.len(),
            curves,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXACT: f64 = 1e-12;

    /// Builds a four-frame sequence whose per-frame IoUs are 1.0, 0.5, 0.0
    /// and "target absent".
    fn check_vector() -> (Vec<BoundingBox>, GroundTruth) {
        let truth = BoundingBox::new(0.0, 0.0, 10.0, 10.0);
        // Width 20 at the same corner: intersection 100, union 200.
        let half = BoundingBox::new(0.0, 0.0, 20.0, 10.0);
        let disjoint = BoundingBox::new(100.0, 100.0, 10.0, 10.0);

        let ground_truth = GroundTruth::new("check", vec![truth; 4])
            .unwrap()
            .with_visibility(vec![true, true, true, false])
            .unwrap();
        (vec![truth, half, disjoint, truth], ground_truth)
    }

    #[test]
    fn check_vector_auc_is_7_5_over_21() {
        let (predicted, ground_truth) = check_vector();

        let metrics =
            SequenceMetrics::compute(&predicted, &ground_truth, &OpeConventions::default())
                .unwrap();

        assert!((metrics.curves.auc() - 7.5 / 21.0).abs() < EXACT);
    }

    #[test]
    fn iou_of_half_fails_at_half_threshold() {
        let (predicted, ground_truth) = check_vector();

        let metrics =
            SequenceMetrics::compute(&predicted, &ground_truth, &OpeConventions::default())
                .unwrap();

        // Only the IoU-1.0 frame passes 0.5; the IoU-0.5 frame passes 0.45.
        assert_eq!(metrics.curves.success[9], 0.5);
        assert_eq!(metrics.curves.op50(), 0.25);
        assert_eq!(metrics.curves.success[20], 0.0);
    }

    #[test]
    fn absent_frame_fails_everywhere() {
        let (mut predicted, ground_truth) = check_vector();
        predicted.truncate(3);
        predicted.push(BoundingBox::new(0.0, 0.0, 10.0, 10.0));

        let errors =
            FrameErrors::compute(&predicted, &ground_truth, &OpeConventions::default()).unwrap();

        assert_eq!(errors.iou[3], 0.0);
        assert_eq!(errors.center_error[3], f64::INFINITY);
        assert_eq!(errors.normalized_center_error[3], f64::INFINITY);
        assert!(!errors.valid[3]);
    }

    #[test]
    fn valid_frame_denominator_skips_absent_frame() {
        let (predicted, ground_truth) = check_vector();
        let conventions = OpeConventions {
            denominator: FrameDenominator::ValidFrames,
            ..OpeConventions::default()
        };

        let metrics = SequenceMetrics::compute(&predicted, &ground_truth, &conventions).unwrap();

        assert!((metrics.curves.auc() - 30.0 / 3.0 / 21.0).abs() < EXACT);
        assert_eq!(metrics.valid_frame_count, 3);
        assert!((metrics.mean_iou.unwrap() - 0.5).abs() < EXACT);
    }

    #[test]
    fn first_frame_replacement_is_optional() {
        let ground_truth =
            GroundTruth::new("seq", vec![BoundingBox::new(0.0, 0.0, 10.0, 10.0); 2]).unwrap();
        let predicted = vec![BoundingBox::missing(); 2];

        let replaced =
            SequenceMetrics::compute(&predicted, &ground_truth, &OpeConventions::default())
                .unwrap();
        let as_predicted = SequenceMetrics::compute(
            &predicted,
            &ground_truth,
            &OpeConventions {
                replace_first_frame: false,
                ..OpeConventions::default()
            },
        )
        .unwrap();

        assert_eq!(replaced.curves.precision_at_20px(), 0.5);
        assert_eq!(as_predicted.curves.precision_at_20px(), 0.0);
    }

    #[test]
    fn frame_count_mismatch_is_rejected() {
        let (mut predicted, ground_truth) = check_vector();
        predicted.pop();

        let error = SequenceMetrics::compute(&predicted, &ground_truth, &OpeConventions::default())
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "sequence check: 3 predicted boxes for 4 ground-truth frames; \
             the evaluation needs one box per frame"
        );
    }

    #[test]
    fn summary_averages_sequences_equally() {
        let long =
            GroundTruth::new("long", vec![BoundingBox::new(0.0, 0.0, 4.0, 4.0); 10]).unwrap();
        let short =
            GroundTruth::new("short", vec![BoundingBox::new(0.0, 0.0, 4.0, 4.0); 2]).unwrap();
        let conventions = OpeConventions {
            replace_first_frame: false,
            ..OpeConventions::default()
        };
        let perfect = SequenceMetrics::compute(long.boxes(), &long, &conventions).unwrap();
        let failed =
            SequenceMetrics::compute(&[BoundingBox::missing(); 2], &short, &conventions).unwrap();

        let summary = OpeSummary::from_sequences([&perfect, &failed]).unwrap();

        assert_eq!(summary.sequence_count, 2);
        assert_eq!(summary.curves.precision_at_20px(), 0.5);
        assert!((summary.curves.auc() - 20.0 / 21.0 / 2.0).abs() < EXACT);
    }
}
