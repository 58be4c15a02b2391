//! Remove-rate schedule of progressive layer removal (stage 2a).
//!
//! The residual branches of the blocks listed in `TRAIN.REMOVE_LAYERS` are scaled by a remove
//! rate `r` that falls from about 1 to 0 along a half cosine:
//! `r(e) = 0.5·(1 + cos(π·min(e + 1, E) / E))`, with `e` the 1-based epoch and `E` the removal
//! period. Once `r` is 0 the blocks contribute nothing and can be cut from the checkpoint.

use std::f64::consts::PI;

use crate::DistillError;

/// Removal period of the reference, `E = 40` epochs, a constant in MixFormerV2's trainer.
pub const DEFAULT_REMOVAL_EPOCHS: u32 = 40;

/// Cosine remove-rate schedule over a removal period of `E` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoveRateSchedule {
    removal_epochs: u32,
}

impl Default for RemoveRateSchedule {
    fn default() -> Self {
        Self {
            removal_epochs: DEFAULT_REMOVAL_EPOCHS,
        }
    }
}

impl RemoveRateSchedule {
    /// Creates a schedule that reaches 0 after `removal_epochs` (`E`) epochs.
    ///
    /// # Errors
    ///
    /// [`DistillError::ZeroRemovalEpochs`] if `removal_epochs` is 0.
    pub fn new(removal_epochs: u32) -> Result<Self, DistillError> {
        if removal_epochs == 0 {
            return Err(DistillError::ZeroRemovalEpochs);
        }
        Ok(Self { removal_epochs })
    }

    /// Removal period `E` in epochs.
    pub fn removal_epochs(&self) -> u32 {
        self.removal_epochs
    }

    /// Computes the remove rate of 1-based `epoch`.
    ///
    /// With `E = 40`: epoch 1 gives 0.993844, epoch 19 gives 0.5 and epoch 39 and every later
    /// one give 0. From epoch `E − 1` on the rate is exactly 0.0 rather than
    /// `0.5·(1 + cos π)`, so that removed blocks contribute exactly nothing whatever rounding
    /// `cos` does on the platform.
    ///
    /// # Errors
    ///
    /// [`DistillError::EpochZero`] for epoch 0, because epochs count from 1.
    pub fn rate(&self, epoch: u32) -> Result<f64, DistillError> {
        if epoch == 0 {
            return Err(DistillError::EpochZero);
        }
        let step = epoch.saturating_add(1).min(self.removal_epochs);
        if step == self.removal_epochs {
            return Ok(0.0);
        }
        let phase = PI * f64::from(step) / f64::from(self.removal_epochs);
        Ok(0.5 * (1.0 + phase.cos()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_matches_reference_points() {
        let schedule = RemoveRateSchedule::default();
        assert_eq!(schedule.removal_epochs(), 40);
        assert!((schedule.rate(1).unwrap() - 0.993844).abs() < 1e-6);
        assert_eq!(schedule.rate(19).unwrap(), 0.5);
        assert_eq!(
            schedule.rate(38).unwrap(),
            0.5 * (1.0 + (PI * 39.0 / 40.0).cos())
        );
    }

    #[test]
    fn rate_is_exactly_zero_from_period_end() {
        let schedule = RemoveRateSchedule::default();
        for epoch in [39, 40, 41, 500, u32::MAX] {
            assert_eq!(schedule.rate(epoch).unwrap(), 0.0, "epoch {epoch}");
        }
    }

    #[test]
    fn rate_decreases_through_the_period() {
        let schedule = RemoveRateSchedule::new(10).unwrap();
        let rates: Vec<f64> = (1..=10)
            .map(|epoch| schedule.rate(epoch).unwrap())
            .collect();
        for pair in rates.windows(2) {
            assert!(pair[1] <= pair[0], "{rates:?}");
        }
        assert!((rates[4] - 0.5 * (1.0 + (PI * 0.6).cos())).abs() < 1e-12);
    }

    #[test]
    fn one_epoch_period_removes_at_once() {
        let schedule = RemoveRateSchedule::new(1).unwrap();
        assert_eq!(schedule.rate(1).unwrap(), 0.0);
    }

    #[test]
    fn zero_period_is_rejected() {
        assert_eq!(
            RemoveRateSchedule::new(0),
            Err(DistillError::ZeroRemovalEpochs)
        );
    }

    #[test]
    fn epoch_zero_is_rejected() {
        let error = RemoveRateSchedule::default().rate(0).unwrap_err();
        assert_eq!(error, DistillError::EpochZero);
        assert_eq!(
            error.to_string(),
            "remove-rate schedule: epoch 0 is invalid, epochs are numbered from 1"
        );
    }
}
