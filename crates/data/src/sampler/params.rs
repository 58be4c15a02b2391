//! Parameters of the tracking sampler.

use std::str::FromStr;

use crate::error::{DataError, Result};

/// Frame-drawing rule of the sampler (`DATA.SAMPLER_MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplerMode {
    /// Online templates before a visible base frame, search frames after it
    /// (stages 0–2).
    Causal,
    /// Visible first template and search frame; visible online templates near
    /// the search frame.
    Trident,
    /// As `Trident`, but online templates may be invisible (score stage).
    TridentPro,
    /// As `Trident`, but online templates need only a valid box.
    Stark,
}

impl FromStr for SamplerMode {
    type Err = DataError;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "causal" => Ok(Self::Causal),
            "trident" => Ok(Self::Trident),
            "trident_pro" => Ok(Self::TridentPro),
            "stark" => Ok(Self::Stark),
            _ => Err(DataError::InvalidParameter {
                name: "SAMPLER_MODE",
                message: format!(
                    "unknown sampler mode {name:?}; expected causal, trident, trident_pro or stark"
                ),
            }),
        }
    }
}

/// Parameters of [`TrackingSampler`](super::TrackingSampler).
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerParams {
    pub mode: SamplerMode,
    /// `DATA.MAX_SAMPLE_INTERVAL`: the causal mode uses the first value; the
    /// trident modes one value per online template.
    pub max_intervals: Vec<usize>,
    /// Templates per sample, the first one included (`DATA.TEMPLATE.NUMBER`).
    pub num_templates: usize,
    /// Search frames per sample (`DATA.SEARCH.NUMBER`, 1 in every experiment).
    pub num_search_frames: usize,
    /// `DATA.TRAIN.DATASETS_RATIO`, one weight per dataset.
    pub dataset_ratios: Vec<f64>,
    /// Score-stage labels (`TRAIN.TRAIN_SCORE`): `Some(p)` draws a positive
    /// sample with probability `p` (0.5 in the reference).
    pub positive_probability: Option<f64>,
    /// Seed of every random choice.
    pub seed: u64,
    /// Sequences shorter than this are not drawn (20 in the reference).
    pub min_sequence_frames: usize,
    /// Attempts at one sample before giving up with an error naming the last
    /// rejection. The reference retries forever.
    pub max_attempts: usize,
    /// Random sequence draws per dataset before the sampler lists the
    /// eligible sequences of the dataset once and draws among them.
    pub max_sequence_draws: usize,
}

impl SamplerParams {
    /// Parameters with the reference's defaults for everything but the mode,
    /// intervals, template count, ratios and seed.
    pub fn new(
        mode: SamplerMode,
        max_intervals: Vec<usize>,
        num_templates: usize,
        dataset_ratios: Vec<f64>,
        seed: u64,
    ) -> Self {
        Self {
            mode,
            max_intervals,
            num_templates,
            num_search_frames: 1,
            dataset_ratios,
            positive_probability: None,
            seed,
            min_sequence_frames: 20,
            max_attempts: 100,
            max_sequence_draws: 100,
        }
    }

    /// Checks the parameters against each other and against `dataset_count`.
    pub(crate) fn validate(&self, dataset_count: usize) -> Result<()> {
        self.validate_ratios(dataset_count)?;
        self.validate_counts()?;
        self.validate_mode()
    }

    fn validate_ratios(&self, dataset_count: usize) -> Result<()> {
        if dataset_count == 0 {
            return invalid("DATASETS_NAME", "at least one dataset is needed".into());
        }
        if self.dataset_ratios.len() != dataset_count {
            return invalid(
                "DATASETS_RATIO",
                format!(
                    "{} ratios for {dataset_count} datasets; give one ratio per dataset",
                    self.dataset_ratios.len()
                ),
            );
        }
        let all_usable = self
            .dataset_ratios
            .iter()
            .all(|r| r.is_finite() && *r >= 0.0);
        if !all_usable || self.dataset_ratios.iter().sum::<f64>() <= 0.0 {
            return invalid(
                "DATASETS_RATIO",
                format!(
                    "{:?}: ratios must be finite, non-negative and not all zero",
                    self.dataset_ratios
                ),
            );
        }
        Ok(())
    }

    fn validate_counts(&self) -> Result<()> {
        if self.num_templates == 0 || self.num_search_frames == 0 {
            return invalid(
                "NUMBER",
                "at least one template and one search frame are needed".into(),
            );
        }
        if self.max_intervals.is_empty() || self.max_intervals.contains(&0) {
            return invalid(
                "MAX_SAMPLE_INTERVAL",
                format!(
                    "{:?}: give at least one interval, each ≥ 1",
                    self.max_intervals
                ),
            );
        }
        if self.max_attempts == 0 {
            return invalid("max_attempts", "must be at least 1".into());
        }
        if let Some(p) = self.positive_probability
            && !(0.0..=1.0).contains(&p)
        {
            return invalid("positive_probability", format!("{p} is not in [0, 1]"));
        }
        Ok(())
    }

    fn validate_mode(&self) -> Result<()> {
        if self.mode == SamplerMode::Causal {
            if self.positive_probability.is_some() {
                return invalid(
                    "SAMPLER_MODE",
                    "score labels need the trident, trident_pro or stark mode, not causal".into(),
                );
            }
            return Ok(());
        }
        if self.num_templates != self.max_intervals.len() + 1 {
            return invalid(
                "MAX_SAMPLE_INTERVAL",
                format!(
                    "{:?} gives {} online templates, but {} templates are requested; \
                     the {:?} mode takes one interval per online template",
                    self.max_intervals,
                    self.max_intervals.len(),
                    self.num_templates,
                    self.mode
                ),
            );
        }
        if self.num_search_frames != 1 {
            return invalid(
                "SEARCH.NUMBER",
                format!("the {:?} mode draws exactly one search frame", self.mode),
            );
        }
        Ok(())
    }
}

fn invalid(name: &'static str, message: String) -> Result<()> {
    Err(DataError::InvalidParameter { name, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trident_needs_one_interval_per_online_template() {
        let params = SamplerParams::new(SamplerMode::TridentPro, vec![200], 3, vec![1.0], 0);
        let message = params.validate(1).unwrap_err().to_string();
        assert!(message.contains("gives 1 online templates"), "{message}");
    }

    #[test]
    fn ratios_must_match_datasets() {
        let params = SamplerParams::new(SamplerMode::Causal, vec![200], 2, vec![1.0, 1.0], 0);
        let message = params.validate(3).unwrap_err().to_string();
        assert!(message.contains("2 ratios for 3 datasets"), "{message}");
    }

    #[test]
    fn causal_rejects_score_labels() {
        let mut params = SamplerParams::new(SamplerMode::Causal, vec![200], 2, vec![1.0], 0);
        params.positive_probability = Some(0.5);
        assert!(params.validate(1).is_err());
    }

    #[test]
    fn modes_parse_from_config_names() {
        assert_eq!(
            "trident_pro".parse::<SamplerMode>().unwrap(),
            SamplerMode::TridentPro
        );
        assert!("interval".parse::<SamplerMode>().is_err());
    }
}
