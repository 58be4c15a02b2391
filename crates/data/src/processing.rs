//! Turning sampled frames into network inputs: jitter, crop, box mapping,
//! per-crop augmentation, normalisation and the padding checks.

use std::fmt;

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;

use crate::augment::{AugmentationParams, Normalization, adjust_brightness};
use crate::bbox::BBox;
use crate::crop::{CropWindow, FrameTransform, crop_frame};
use crate::error::DataError;
use crate::frame::RgbImage;

/// Crop settings of the templates or of the search region
/// (`DATA.TEMPLATE` / `DATA.SEARCH`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CropParams {
    /// Output side in pixels (`SIZE`).
    pub size: usize,
    /// Crop side relative to the box's geometric mean side (`FACTOR`).
    pub factor: f32,
    /// Centre jitter relative to the jittered box side (`CENTER_JITTER`).
    pub center_jitter: f32,
    /// Standard deviation of the log-scale jitter (`SCALE_JITTER`).
    pub scale_jitter: f32,
}

/// Everything the processing step needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessingParams {
    pub template: CropParams,
    pub search: CropParams,
    pub normalization: Normalization,
    /// Training augmentation; `None` for validation, which only normalises.
    pub augmentation: Option<AugmentationParams>,
    /// Backbone patch size: the padding check also runs on the token grid
    /// of `size / token_stride` cells (16 in every published model).
    pub token_stride: usize,
}

impl ProcessingParams {
    /// Checks sizes, factors, jitters, probabilities and statistics.
    pub fn validate(&self) -> Result<(), DataError> {
        for (group, crop) in [("TEMPLATE", &self.template), ("SEARCH", &self.search)] {
            crop.validate(group)?;
        }
        if self.token_stride == 0 {
            return invalid("token_stride", "must be at least 1".into());
        }
        let statistics = self
            .normalization
            .mean
            .iter()
            .chain(&self.normalization.std);
        if statistics.clone().any(|v| !v.is_finite()) || self.normalization.std.contains(&0.0) {
            return invalid(
                "MEAN/STD",
                format!(
                    "{:?}: values must be finite and STD non-zero",
                    self.normalization
                ),
            );
        }
        if let Some(augmentation) = &self.augmentation {
            let probabilities = [
                augmentation.grayscale_probability,
                augmentation.frame_flip_probability,
                augmentation.crop_flip_probability,
            ];
            if probabilities.iter().any(|p| !(0.0..=1.0).contains(p)) {
                return invalid(
                    "augmentation",
                    format!("{augmentation:?}: probabilities must lie in [0, 1]"),
                );
            }
            if !(0.0..=1.0).contains(&augmentation.brightness_jitter) {
                return invalid(
                    "brightness_jitter",
                    format!("{} is not in [0, 1]", augmentation.brightness_jitter),
                );
            }
        }
        Ok(())
    }
}

impl CropParams {
    fn validate(&self, group: &'static str) -> Result<(), DataError> {
        if self.size == 0 {
            return invalid(group, "SIZE must be at least 1".into());
        }
        if !(self.factor.is_finite() && self.factor > 0.0) {
            return invalid(group, format!("FACTOR {} must be positive", self.factor));
        }
        let jitters = [self.center_jitter, self.scale_jitter];
        if jitters.iter().any(|j| !(j.is_finite() && *j >= 0.0)) {
            return invalid(
                group,
                format!(
                    "CENTER_JITTER and SCALE_JITTER {jitters:?} must be finite and non-negative"
                ),
            );
        }
        Ok(())
    }
}

fn invalid(name: &'static str, message: String) -> Result<(), DataError> {
    Err(DataError::InvalidParameter { name, message })
}

/// Reason for not turning a set of frames into a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The jittered box gives a crop side below one pixel.
    CropTooSmall,
    /// Every pixel of a crop touches the zero padding.
    AllPadding,
    /// Every token cell of a crop touches the zero padding.
    AllPaddingOnTokenGrid,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CropTooSmall => "the jittered box gives a crop side below one pixel",
            Self::AllPadding => "the crop lies entirely in the zero padding",
            Self::AllPaddingOnTokenGrid => "every token cell of the crop lies in the zero padding",
        })
    }
}

/// One crop ready for the network.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcessedImage {
    /// Side of the crop in pixels.
    pub size: usize,
    /// Normalised `[3, size, size]` pixels.
    pub pixels: Vec<f32>,
    /// Ground truth `(x, y, w, h)` in the crop, divided by the crop size.
    pub bbox: BBox,
}

/// Jitters a box: `size' = size · exp(N(0, 1) · scale_jitter)` per side, and
/// the centre moves by `(U(0, 1) − 0.5) · sqrt(w'·h') · center_jitter` per axis.
pub fn jitter_box(bbox: BBox, center_jitter: f32, scale_jitter: f32, rng: &mut impl Rng) -> BBox {
    let noise_w: f32 = rng.sample(StandardNormal);
    let noise_h: f32 = rng.sample(StandardNormal);
    let w = bbox.w * (noise_w * scale_jitter).exp();
    let h = bbox.h * (noise_h * scale_jitter).exp();
    let max_offset = (w * h).sqrt() * center_jitter;
    let (cx, cy) = bbox.center();
    let cx = cx + max_offset * (rng.random::<f32>() - 0.5);
    let cy = cy + max_offset * (rng.random::<f32>() - 0.5);
    BBox::from_center(cx, cy, w, h)
}

/// Processes the frames of one group (the templates or the search frames).
///
/// `boxes` are in the coordinates of the frames after `transform`. All
/// boxes are jittered before any crop, and the first problem rejects the
/// whole group, as in the reference.
pub fn process_group(
    frames: &[&RgbImage],
    boxes: &[BBox],
    crop: &CropParams,
    transform: FrameTransform,
    params: &ProcessingParams,
    rng: &mut impl Rng,
) -> Result<Vec<ProcessedImage>, Rejection> {
    let mut windows = Vec::with_capacity(boxes.len());
    for bbox in boxes {
        let jittered = jitter_box(*bbox, crop.center_jitter, crop.scale_jitter, rng);
        let window =
            CropWindow::around(jittered, crop.factor, crop.size).ok_or(Rejection::CropTooSmall)?;
        windows.push(window);
    }

    let grid = crop.size / params.token_stride.max(1);
    let mut processed = Vec::with_capacity(frames.len());
    for ((frame, bbox), window) in frames.iter().zip(boxes).zip(&windows) {
        let mut image = crop_frame(frame, window, transform);
        let mut target = window.box_to_crop(*bbox).normalized(crop.size as f32);

        if let Some(augmentation) = &params.augmentation {
            let jitter = augmentation.brightness_jitter;
            let factor = rng.random_range((1.0 - jitter).max(0.0)..=1.0 + jitter);
            adjust_brightness(&mut image.pixels, factor);
            if rng.random_bool(augmentation.crop_flip_probability) {
                image.flip_horizontal();
                target = target.flip_horizontal(1.0);
            }
        }

        if image.padding.is_all_padding() {
            return Err(Rejection::AllPadding);
        }
        if image.padding.is_all_padding_on_grid(grid) {
            return Err(Rejection::AllPaddingOnTokenGrid);
        }
        params.normalization.apply(&mut image.pixels);
        processed.push(ProcessedImage {
            size: crop.size,
            pixels: image.pixels,
            bbox: target,
        });
    }
    Ok(processed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ProcessingParams {
        let crop = CropParams {
            size: 32,
            factor: 2.0,
            center_jitter: 0.0,
            scale_jitter: 0.0,
        };
        ProcessingParams {
            template: crop,
            search: crop,
            normalization: Normalization::default(),
            augmentation: Some(AugmentationParams::default()),
            token_stride: 16,
        }
    }

    #[test]
    fn validation_rejects_unusable_values() {
        assert!(params().validate().is_ok());

        let mut negative_jitter = params();
        negative_jitter.search.scale_jitter = -0.5;
        let message = negative_jitter.validate().unwrap_err().to_string();
        assert!(
            message.starts_with("invalid data parameter SEARCH"),
            "{message}"
        );

        let mut bad_brightness = params();
        if let Some(augmentation) = &mut bad_brightness.augmentation {
            augmentation.brightness_jitter = 1.5;
        }
        assert!(bad_brightness.validate().is_err());

        let mut zero_std = params();
        zero_std.normalization.std[1] = 0.0;
        assert!(zero_std.validate().is_err());
    }

    #[test]
    fn scale_jitter_changes_size_not_centre_spread() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let bbox = BBox::new(10.0, 20.0, 40.0, 10.0);
        let jittered = jitter_box(bbox, 0.0, 0.5, &mut rng);
        let (cx, cy) = jittered.center();
        assert!((cx - 30.0).abs() < 1e-4, "{cx}");
        assert!((cy - 25.0).abs() < 1e-4, "{cy}");
        assert_ne!(jittered.w, bbox.w);
        let unchanged = jitter_box(bbox, 0.0, 0.0, &mut rng);
        assert_eq!(unchanged, bbox);
    }
}
