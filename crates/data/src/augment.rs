//! Photometric augmentation and normalisation of crops.

/// Per-channel normalisation `(v - mean) / std` of `[0, 1]` RGB values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Default for Normalization {
    /// Returns the ImageNet statistics of `DATA.MEAN` / `DATA.STD` in every
    /// published MixFormerV2 experiment.
    fn default() -> Self {
        Self {
            mean: [0.485, 0.456, 0.406],
            std: [0.229, 0.224, 0.225],
        }
    }
}

impl Normalization {
    /// Normalises channel-major `[3, H, W]` pixels in place.
    pub fn apply(&self, pixels: &mut [f32]) {
        let plane = pixels.len() / 3;
        for (channel, values) in pixels.chunks_mut(plane).enumerate() {
            let (mean, std) = (self.mean[channel], self.std[channel]);
            for value in values {
                *value = (*value - mean) / std;
            }
        }
    }
}

/// Probabilities and ranges of the training augmentation; the defaults are
/// those of the MixFormer reference's training transforms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AugmentationParams {
    /// Probability of converting all frames of a sample to grayscale.
    pub grayscale_probability: f64,
    /// Probability of flipping all frames of a sample (boxes follow).
    pub frame_flip_probability: f64,
    /// Brightness factor drawn from `U(1 - b, 1 + b)` per crop (`b` ≤ 1).
    pub brightness_jitter: f32,
    /// Probability of flipping each crop on its own.
    pub crop_flip_probability: f64,
}

impl Default for AugmentationParams {
    fn default() -> Self {
        Self {
            grayscale_probability: 0.05,
            frame_flip_probability: 0.5,
            brightness_jitter: 0.2,
            crop_flip_probability: 0.5,
        }
    }
}

/// Multiplies `[0, 1]` pixels by `factor` and clamps them back into `[0, 1]`.
pub fn adjust_brightness(pixels: &mut [f32], factor: f32) {
    for value in pixels {
        *value = (*value * factor).clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_uses_channel_statistics() {
        let mut pixels = vec![0.485, 0.485, 0.456, 0.0, 1.0, 0.406];
        Normalization::default().apply(&mut pixels);
        assert_eq!(pixels[0], 0.0);
        assert_eq!(pixels[2], 0.0);
        assert!((pixels[3] + 0.456 / 0.224).abs() < 1e-6);
        assert!((pixels[4] - (1.0 - 0.406) / 0.225).abs() < 1e-6);
    }

    #[test]
    fn brightness_clamps_to_unit_range() {
        let mut pixels = vec![0.5, 0.9, 0.0];
        adjust_brightness(&mut pixels, 1.2);
        assert_eq!(pixels, [0.6, 1.0, 0.0]);
    }
}
