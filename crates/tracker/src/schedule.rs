//! When the online template is replaced: the decision logic of the reference's
//! online tracker, without images or tensors, so it can be tested on its own.
//!
//! Frames are counted from 1 for the first tracked frame after initialisation.
//! On each frame, a score above the threshold and above the best score since
//! the last replacement makes that frame's crop the candidate. Every
//! `interval` frames the candidate becomes the online template, the best score
//! resets and the candidate falls back to the initial template. As in the
//! reference, an interval without a confident frame therefore brings the
//! initial template back as the online template.

/// The origin of an online template crop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateSource {
    /// The template crop of the first frame.
    Initial,
    /// The crop at the tracked box of this frame (1 is the first tracked frame).
    Frame(usize),
}

/// The actions a tracker takes after one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateUpdate {
    /// Crop a template at this frame's box and keep it as the candidate.
    pub remember: bool,
    /// Make this template the online template and recompute the template cache.
    /// `None` when the online template stays as it is, also at an interval
    /// boundary where the candidate is the template already in use.
    pub replace: Option<TemplateSource>,
}

/// The online-template update schedule of one tracked sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateSchedule {
    interval: usize,
    threshold: f32,
    frame: usize,
    best_score: Option<f32>,
    candidate: TemplateSource,
    online: TemplateSource,
}

impl UpdateSchedule {
    /// Starts a schedule at initialisation: the online template is the initial one.
    ///
    /// An `interval` of 0 is treated as 1.
    pub fn new(interval: usize, threshold: f32) -> Self {
        Self {
            interval: interval.max(1),
            threshold,
            frame: 0,
            best_score: None,
            candidate: TemplateSource::Initial,
            online: TemplateSource::Initial,
        }
    }

    /// Advances by one tracked frame with its score (`sigmoid` of the score
    /// head), or `None` where no score is available for the frame.
    pub fn step(&mut self, score: Option<f32>) -> TemplateUpdate {
        self.frame += 1;

        // A NaN score fails both comparisons, so it never becomes the candidate.
        let remember = match score {
            Some(score) => {
                score > self.threshold && self.best_score.is_none_or(|best| score > best)
            }
            None => false,
        };
        if remember {
            self.best_score = score;
            self.candidate = TemplateSource::Frame(self.frame);
        }

        let mut replace = None;
        if self.frame.is_multiple_of(self.interval) {
            if self.candidate != self.online {
                replace = Some(self.candidate);
                self.online = self.candidate;
            }
            self.best_score = None;
            self.candidate = TemplateSource::Initial;
        }
        TemplateUpdate { remember, replace }
    }

    /// Returns the number of frames tracked so far.
    pub fn frame(&self) -> usize {
        self.frame
    }

    /// Returns the origin of the online template in use.
    pub fn online(&self) -> TemplateSource {
        self.online
    }

    /// Returns the number of frames between replacements.
    pub fn interval(&self) -> usize {
        self.interval
    }
}

/// Runs a schedule over per-frame scores and returns every replacement as
/// `(frame, new online template)`; frames count from 1.
pub fn template_replacements(
    scores: &[Option<f32>],
    interval: usize,
    threshold: f32,
) -> Vec<(usize, TemplateSource)> {
    let mut schedule = UpdateSchedule::new(interval, threshold);
    scores
        .iter()
        .filter_map(|score| {
            let update = schedule.step(*score);
            update.replace.map(|source| (schedule.frame(), source))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TemplateSource::{Frame, Initial};

    #[test]
    fn best_frame_of_each_interval_replaces_template() {
        let scores = [0.6, 0.9, 0.7, 0.2, 0.55, 0.8, 0.3, 0.95].map(Some);
        let replacements = template_replacements(&scores, 4, 0.5);
        assert_eq!(replacements, vec![(4, Frame(2)), (8, Frame(8))]);
    }

    #[test]
    fn scores_at_or_below_threshold_are_ignored() {
        let scores = [0.5, 0.4, 0.1, f32::NAN, 0.5, 0.49].map(Some);
        assert_eq!(template_replacements(&scores, 3, 0.5), vec![]);
    }

    #[test]
    fn unconfident_interval_restores_initial_template() {
        let scores = [0.9, 0.1, 0.1, 0.1, 0.1, 0.1].map(Some);
        let replacements = template_replacements(&scores, 3, 0.5);
        assert_eq!(replacements, vec![(3, Frame(1)), (6, Initial)]);
    }

    #[test]
    fn best_score_resets_at_each_interval() {
        // 0.7 in the second interval is below the first interval's best (0.9)
        // and still wins, because the best score was reset.
        let scores = [0.9, 0.6, 0.7, 0.6].map(Some);
        let replacements = template_replacements(&scores, 2, 0.5);
        assert_eq!(replacements, vec![(2, Frame(1)), (4, Frame(3))]);
    }

    #[test]
    fn equal_score_does_not_replace_candidate() {
        let scores = [0.8, 0.8, 0.8].map(Some);
        assert_eq!(template_replacements(&scores, 3, 0.5), vec![(3, Frame(1))]);
    }

    #[test]
    fn confident_frame_on_boundary_is_used_at_once() {
        let mut schedule = UpdateSchedule::new(2, 0.5);
        assert_eq!(
            schedule.step(Some(0.2)),
            TemplateUpdate {
                remember: false,
                replace: None
            }
        );
        assert_eq!(
            schedule.step(Some(0.9)),
            TemplateUpdate {
                remember: true,
                replace: Some(Frame(2))
            }
        );
        assert_eq!(schedule.online(), Frame(2));
    }

    #[test]
    fn missing_scores_never_replace() {
        let scores = [None; 50];
        assert_eq!(template_replacements(&scores, 10, 0.5), vec![]);
    }

    #[test]
    fn interval_one_replaces_on_every_confident_frame() {
        let scores = [0.6, 0.7, 0.2, 0.6].map(Some);
        let replacements = template_replacements(&scores, 1, 0.5);
        assert_eq!(
            replacements,
            vec![(1, Frame(1)), (2, Frame(2)), (3, Initial), (4, Frame(4))]
        );
    }
}
