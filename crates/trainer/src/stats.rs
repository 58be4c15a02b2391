//! Running averages of the actor's statistics and the field's log line.

/// Running averages of named statistics, in the order they first appeared.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunningStats {
    entries: Vec<(String, f64, usize)>,
}

impl RunningStats {
    /// Adds one value per statistic, each the mean over a batch of `count` samples.
    pub fn update(&mut self, stats: &[(String, f64)], count: usize) {
        for (name, value) in stats {
            match self.entries.iter_mut().find(|(known, _, _)| known == name) {
                Some(entry) => {
                    entry.1 += value * count as f64;
                    entry.2 += count;
                }
                None => self
                    .entries
                    .push((name.clone(), value * count as f64, count)),
            }
        }
    }

    /// The average of every statistic so far.
    pub fn averages(&self) -> Vec<(String, f64)> {
        self.entries
            .iter()
            .map(|(name, sum, count)| (name.clone(), sum / (*count).max(1) as f64))
            .collect()
    }
}

/// The per-step line of the PyTorch tracking trainers:
/// `[train: 3, 50 / 1875] FPS: 40.1 (41.2)  ,  Loss/total: 1.23456  ,  IoU: 0.61234`.
///
/// `average_fps` counts samples per second since the epoch began, `batch_fps`
/// those of the last batch.
pub fn log_line(
    phase: &str,
    epoch: usize,
    step: usize,
    steps: usize,
    average_fps: f64,
    batch_fps: f64,
    averages: &[(String, f64)],
) -> String {
    let mut line =
        format!("[{phase}: {epoch}, {step} / {steps}] FPS: {average_fps:.1} ({batch_fps:.1})");
    for (name, value) in averages {
        line.push_str(&format!("  ,  {name}: {value:.5}"));
    }
    line
}

/// `name: value` pairs separated by commas, for error messages.
pub fn describe(stats: &[(String, f64)]) -> String {
    stats
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_weight_batches_by_their_size() {
        let mut stats = RunningStats::default();
        stats.update(&[("Loss/total".into(), 1.0), ("IoU".into(), 0.5)], 2);
        stats.update(&[("Loss/total".into(), 4.0), ("IoU".into(), 0.8)], 1);
        let averages = stats.averages();
        assert_eq!(averages[0], ("Loss/total".into(), 2.0));
        assert!((averages[1].1 - 0.6).abs() < 1e-12);
    }

    #[test]
    fn log_line_follows_the_reference_format() {
        let line = log_line(
            "train",
            3,
            50,
            1875,
            40.06,
            41.24,
            &[("Loss/total".into(), 1.234564), ("IoU".into(), 0.5)],
        );
        assert_eq!(
            line,
            "[train: 3, 50 / 1875] FPS: 40.1 (41.2)  ,  Loss/total: 1.23456  ,  IoU: 0.50000"
        );
    }
}
