//! Per-frame tracking times and the frame rate computed from them.

use std::path::Path;

use crate::error::AnalysisError;
use crate::number_text::{FieldCount, format_fixed, parse_number_lines, read_text};

/// Decimals of the times this crate writes, in seconds, as the GOT-10k
/// toolkit writes them (`%.8f`).
pub const TIME_DECIMALS: usize = 8;

/// Frames processed and the time they took.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    pub frame_count: usize,
    pub total_seconds: f64,
}

impl Timing {
    /// Frames per second: frames divided by total time, `None` when no time was recorded.
    pub fn fps(&self) -> Option<f64> {
        (self.total_seconds > 0.0).then(|| self.frame_count as f64 / self.total_seconds)
    }

    /// Adds up frames and times, so the combined frame rate is total frames
    /// over total time, not a mean of per-sequence rates.
    pub fn combine<'a>(timings: impl IntoIterator<Item = &'a Timing>) -> Timing {
        timings
            .into_iter()
            .fold(Timing::default(), |sum, timing| Timing {
                frame_count: sum.frame_count + timing.frame_count,
                total_seconds: sum.total_seconds + timing.total_seconds,
            })
    }
}

/// The contents of a time file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimeFile {
    /// Usable per-frame times in seconds, in file order.
    pub seconds: Vec<f64>,
    /// Number of lines in the file.
    pub line_count: usize,
    /// Lines (1-based) with a NaN, infinite or negative time, left out of [`TimeFile::seconds`].
    pub invalid_lines: Vec<usize>,
}

impl TimeFile {
    /// Builds the record of times held in memory, one per frame; the line
    /// numbers of invalid times are frame indices plus one.
    pub fn from_seconds(seconds: &[f64]) -> Self {
        let mut file = TimeFile {
            line_count: seconds.len(),
            ..TimeFile::default()
        };
        for (index, &value) in seconds.iter().enumerate() {
            if is_usable_time(value) {
                file.seconds.push(value);
            } else {
                file.invalid_lines.push(index + 1);
            }
        }
        file
    }

    pub fn timing(&self) -> Timing {
        Timing {
            frame_count: self.seconds.len(),
            total_seconds: self.seconds.iter().sum(),
        }
    }
}

/// Reads a time file: one line per frame, the seconds spent on that frame.
///
/// A GOT-10k time file has one comma-separated column per repetition; every
/// column is read, so its frame rate covers all repetitions. A time of zero
/// is kept (the frame took less than the timer's resolution), where the
/// GOT-10k toolkit drops it.
pub fn read_times(path: &Path) -> Result<TimeFile, AnalysisError> {
    let text = read_text(path)?;
    let lines = parse_number_lines(&text, path, FieldCount::AtLeastOne)?;

    let mut file = TimeFile {
        line_count: lines.len(),
        ..TimeFile::default()
    };
    for line in &lines {
        let mut line_is_valid = true;
        for &seconds in &line.values {
            if is_usable_time(seconds) {
                file.seconds.push(seconds);
            } else {
                line_is_valid = false;
            }
        }
        if !line_is_valid {
            file.invalid_lines.push(line.line);
        }
    }
    Ok(file)
}

fn is_usable_time(seconds: f64) -> bool {
    seconds.is_finite() && seconds >= 0.0
}

/// Formats per-frame times, one per line with [`TIME_DECIMALS`] decimals;
/// `Err` carries the index of the first non-finite time.
pub(crate) fn format_times(seconds: &[f64]) -> Result<String, (usize, f64)> {
    let mut text = String::with_capacity(seconds.len() * (TIME_DECIMALS + 4));
    for (frame, &value) in seconds.iter().enumerate() {
        let line = format_fixed(value, TIME_DECIMALS).ok_or((frame, value))?;
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_is_frames_over_total_time() {
        let timing = Timing {
            frame_count: 50,
            total_seconds: 2.0,
        };

        assert_eq!(timing.fps(), Some(25.0));
        assert_eq!(Timing::default().fps(), None);
    }

    #[test]
    fn combined_fps_weighs_by_frames() {
        let fast = Timing {
            frame_count: 100,
            total_seconds: 1.0,
        };
        let slow = Timing {
            frame_count: 10,
            total_seconds: 1.0,
        };

        let combined = Timing::combine([&fast, &slow]);

        assert_eq!(combined.fps(), Some(55.0));
    }

    #[test]
    fn invalid_times_are_left_out_and_reported() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("seq_time.txt");
        std::fs::write(&path, "0.5\nnan\n-1\n0\n0.25\n").unwrap();

        let file = read_times(&path).unwrap();

        assert_eq!(file.seconds, vec![0.5, 0.0, 0.25]);
        assert_eq!(file.invalid_lines, vec![2, 3]);
        assert_eq!(file.line_count, 5);
        assert_eq!(file.timing().fps(), Some(4.0));
    }

    #[test]
    fn times_in_memory_number_frames_from_one() {
        let file = TimeFile::from_seconds(&[0.1, f64::NAN, 0.3]);

        assert_eq!(file.seconds, vec![0.1, 0.3]);
        assert_eq!(file.invalid_lines, vec![2]);
        assert_eq!(file.line_count, 3);
    }

    #[test]
    fn repetition_columns_are_pooled() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("seq_time.txt");
        std::fs::write(&path, "0.1,0.2\n0.3,0.4\n").unwrap();

        let file = read_times(&path).unwrap();

        assert_eq!(file.seconds.len(), 4);
        assert_eq!(file.line_count, 2);
    }

    #[test]
    fn times_format_with_eight_decimals() {
        assert_eq!(
            format_times(&[0.0123, 1.0]).unwrap(),
            "0.01230000\n1.00000000\n"
        );
        assert_eq!(format_times(&[0.1, f64::NAN]).unwrap_err().0, 1);
    }
}
