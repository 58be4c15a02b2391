//! Tracking parameters: crop geometry, normalisation and the online-template
//! update schedule.

use mixformer_config::ExperimentConfig;
use mixformer_data::Normalization;

use crate::TrackerError;

/// The network path that a tracker runs on every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardMode {
    /// Template keys and values are computed once per template change and
    /// each frame runs only the search region and the prediction tokens.
    #[default]
    Cached,
    /// The full forward over template, online template and search region on
    /// every frame, as the reference tracker runs it. It gives the same boxes
    /// as [`ForwardMode::Cached`] to float tolerance and is kept for comparison.
    FullForward,
}

/// Everything a [`crate::Tracker`] needs besides the network.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackerParams {
    /// Template crop side as a multiple of the box's `sqrt(w * h)` (`TEST.TEMPLATE_FACTOR`).
    pub template_factor: f32,
    /// Template crop side after resizing, in pixels (`TEST.TEMPLATE_SIZE`).
    pub template_size: usize,
    /// Search crop side as a multiple of the box's `sqrt(w * h)` (`TEST.SEARCH_FACTOR`).
    pub search_factor: f32,
    /// Search crop side after resizing, in pixels (`TEST.SEARCH_SIZE`).
    pub search_size: usize,
    /// Per-channel normalisation of `[0, 1]` RGB crops (`DATA.MEAN`, `DATA.STD`).
    pub normalization: Normalization,
    /// Frames between online-template replacements (`TEST.UPDATE_INTERVALS[dataset]`).
    pub update_interval: usize,
    /// A frame's crop becomes a candidate online template when its score is
    /// above this value (0.5, hard-coded in the reference tracker).
    pub update_score_threshold: f32,
    /// Smallest width and height of a tracked box in pixels (10, the reference's
    /// `clip_box` margin).
    pub min_box_side: f32,
    /// Network path run on every frame.
    pub mode: ForwardMode,
}

impl TrackerParams {
    /// Reads the tracking parameters of an experiment for `dataset`.
    ///
    /// `dataset` is matched against `TEST.UPDATE_INTERVALS` ignoring case; a
    /// dataset the experiment does not name gets `DATA.MAX_SAMPLE_INTERVAL`
    /// (200 in every published experiment), see
    /// [`ExperimentConfig::update_interval`].
    pub fn from_config(config: &ExperimentConfig, dataset: &str) -> Self {
        let test = &config.test;
        Self {
            template_factor: test.template_factor as f32,
            template_size: test.template_size,
            search_factor: test.search_factor as f32,
            search_size: test.search_size,
            normalization: Normalization {
                mean: config.data.mean.map(|value| value as f32),
                std: config.data.std.map(|value| value as f32),
            },
            update_interval: config.update_interval(dataset),
            update_score_threshold: 0.5,
            min_box_side: 10.0,
            mode: ForwardMode::Cached,
        }
    }

    /// Returns the parameters with another forward mode.
    pub fn with_mode(mut self, mode: ForwardMode) -> Self {
        self.mode = mode;
        self
    }

    /// Returns the parameters with another update interval.
    pub fn with_update_interval(mut self, frames: usize) -> Self {
        self.update_interval = frames;
        self
    }

    /// Checks that every value is in range: positive finite factors and
    /// standard deviations, non-zero sizes and interval, finite threshold and margin.
    pub fn validate(&self) -> Result<(), TrackerError> {
        let invalid = |name, value: String, expected| {
            Err(TrackerError::InvalidParameter {
                name,
                value,
                expected,
            })
        };
        for (name, factor) in [
            ("template_factor", self.template_factor),
            ("search_factor", self.search_factor),
        ] {
            if !(factor.is_finite() && factor > 0.0) {
                return invalid(name, factor.to_string(), "a positive finite number");
            }
        }
        for (name, size) in [
            ("template_size", self.template_size),
            ("search_size", self.search_size),
            ("update_interval", self.update_interval),
        ] {
            if size == 0 {
                return invalid(name, size.to_string(), "at least 1");
            }
        }
        if !self.update_score_threshold.is_finite() {
            return invalid(
                "update_score_threshold",
                self.update_score_threshold.to_string(),
                "a finite number",
            );
        }
        if !(self.min_box_side.is_finite() && self.min_box_side >= 0.0) {
            return invalid(
                "min_box_side",
                self.min_box_side.to_string(),
                "a finite number of pixels, 0 or more",
            );
        }
        for (channel, std) in self.normalization.std.iter().enumerate() {
            if !(std.is_finite() && *std > 0.0) {
                return invalid(
                    "normalization.std",
                    format!("{std} (channel {channel})"),
                    "positive finite standard deviations",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> TrackerParams {
        TrackerParams {
            template_factor: 2.0,
            template_size: 128,
            search_factor: 4.5,
            search_size: 288,
            normalization: Normalization::default(),
            update_interval: 200,
            update_score_threshold: 0.5,
            min_box_side: 10.0,
            mode: ForwardMode::Cached,
        }
    }

    #[test]
    fn reference_values_are_valid() {
        assert!(params().validate().is_ok());
    }

    #[test]
    fn zero_interval_is_rejected() {
        let error = params().with_update_interval(0).validate().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid tracking parameter update_interval = 0: at least 1"
        );
    }

    #[test]
    fn non_positive_factor_is_rejected() {
        let mut params = params();
        params.search_factor = 0.0;
        let error = params.validate().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid tracking parameter search_factor = 0: a positive finite number"
        );
    }

    #[test]
    fn zero_std_is_rejected() {
        let mut params = params();
        params.normalization.std[1] = 0.0;
        assert!(matches!(
            params.validate(),
            Err(TrackerError::InvalidParameter {
                name: "normalization.std",
                ..
            })
        ));
    }
}
