//! Problems found in result files that the evaluation works around and reports.

use std::fmt;
use std::path::PathBuf;

/// Most line numbers listed in one message; the rest are counted.
const LISTED_LINES: usize = 10;

/// A problem in one tracker's results for one sequence that did not stop
/// the evaluation, with the convention applied to it.
#[derive(Clone, Debug, PartialEq)]
pub struct InputIssue {
    pub tracker: String,
    pub sequence: String,
    /// The file with the problem, `None` for results given in memory.
    pub path: Option<PathBuf>,
    pub kind: IssueKind,
}

/// Kind of problem, with the scoring convention applied to it.
#[derive(Clone, Debug, PartialEq)]
pub enum IssueKind {
    /// Predicted boxes with a NaN or infinite coordinate or a side that is
    /// not positive, at these 1-based lines; scored as failures.
    InvalidBoxes { lines: Vec<usize> },
    /// Fewer lines than frames in lenient mode; the missing frames are
    /// scored as failures.
    MissingFrames { found: usize, expected: usize },
    /// More lines than frames in lenient mode; the extra lines are ignored.
    ExtraLines { found: usize, expected: usize },
    /// Times that are NaN, infinite or negative, at these 1-based lines;
    /// left out of the frame rate.
    InvalidTimes { lines: Vec<usize> },
    /// A time file whose line count differs from the frame count; the
    /// frame rate uses the lines as they are.
    TimeLineCount { found: usize, expected: usize },
}

impl fmt::Display for InputIssue {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "tracker {}, sequence {}",
            self.tracker, self.sequence
        )?;
        if let Some(path) = &self.path {
            write!(formatter, ", {}", path.display())?;
        }
        write!(formatter, ": {}", self.kind)
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBoxes { lines } => write!(
                formatter,
                "{} predicted box(es) with a NaN or infinite coordinate or a non-positive size \
                 at line(s) {}; scored as failures",
                lines.len(),
                list_lines(lines)
            ),
            Self::MissingFrames { found, expected } => write!(
                formatter,
                "{found} lines for {expected} frames; the last {} frame(s) are scored as failures",
                expected - found
            ),
            Self::ExtraLines { found, expected } => write!(
                formatter,
                "{found} lines for {expected} frames; the last {} line(s) are ignored",
                found - expected
            ),
            Self::InvalidTimes { lines } => write!(
                formatter,
                "{} NaN, infinite or negative time(s) at line(s) {}; left out of the frame rate",
                lines.len(),
                list_lines(lines)
            ),
            Self::TimeLineCount { found, expected } => write!(
                formatter,
                "{found} time lines for {expected} frames; the frame rate uses the lines present"
            ),
        }
    }
}

/// A tracker's sequences without a result file.
#[derive(Clone, Debug, PartialEq)]
pub struct MissingResults {
    pub tracker: String,
    pub directory: PathBuf,
    pub sequences: Vec<String>,
}

impl fmt::Display for MissingResults {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "tracker {} has no results in {} for {} sequence(s): {}",
            self.tracker,
            self.directory.display(),
            self.sequences.len(),
            self.sequences.join(", ")
        )
    }
}

fn list_lines(lines: &[usize]) -> String {
    let listed: Vec<String> = lines
        .iter()
        .take(LISTED_LINES)
        .map(usize::to_string)
        .collect();
    let mut text = listed.join(", ");
    if lines.len() > LISTED_LINES {
        text.push_str(&format!(" and {} more", lines.len() - LISTED_LINES));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_boxes_message_lists_lines() {
        let issue = InputIssue {
            tracker: "mixformer".into(),
            sequence: "bird-2".into(),
            path: Some(PathBuf::from("results/bird-2.txt")),
            kind: IssueKind::InvalidBoxes { lines: vec![3, 7] },
        };

        assert_eq!(
            issue.to_string(),
            "tracker mixformer, sequence bird-2, results/bird-2.txt: 2 predicted box(es) with a \
             NaN or infinite coordinate or a non-positive size at line(s) 3, 7; scored as failures"
        );
    }

    #[test]
    fn long_line_lists_are_cut() {
        let lines: Vec<usize> = (1..=25).collect();

        assert_eq!(
            list_lines(&lines),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 15 more"
        );
    }

    #[test]
    fn length_messages_give_the_difference() {
        let missing = IssueKind::MissingFrames {
            found: 8,
            expected: 10,
        };
        let extra = IssueKind::ExtraLines {
            found: 12,
            expected: 10,
        };

        assert_eq!(
            missing.to_string(),
            "8 lines for 10 frames; the last 2 frame(s) are scored as failures"
        );
        assert_eq!(
            extra.to_string(),
            "12 lines for 10 frames; the last 2 line(s) are ignored"
        );
    }
}
