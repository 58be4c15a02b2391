//! Reading and writing one tracker's result files for one sequence.
//!
//! Writes are atomic: each file is written to `<name>.tmp` beside its final
//! path, flushed to disk and renamed. The time file is renamed first and the
//! box file last, so a sequence whose box file exists is finished, and an
//! interrupted run leaves at most a `.tmp` file that the next write replaces.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bounding_box::BoundingBox;
use crate::box_file::{BoxFormat, format_box_line, read_boxes};
use crate::error::AnalysisError;
use crate::layout::{ResultLayout, check_sequence_name};
use crate::timing::{TimeFile, format_times, read_times};

/// The boxes of one repetition, as read from its file.
#[derive(Clone, Debug, PartialEq)]
pub struct RepetitionBoxes {
    /// Repetition number, counted from 1.
    pub repetition: u32,
    pub path: PathBuf,
    pub boxes: Vec<BoundingBox>,
}

/// One tracker's results for one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceResults {
    pub sequence: String,
    /// Box files by repetition number, lowest first; never empty.
    pub repetitions: Vec<RepetitionBoxes>,
    /// The time file and its contents, `None` when there is none.
    pub times: Option<(PathBuf, TimeFile)>,
}

/// Reads the results of one sequence, or returns `None` when it has no box file.
pub fn read_sequence_results(
    directory: &Path,
    layout: ResultLayout,
    format: BoxFormat,
    sequence: &str,
) -> Result<Option<SequenceResults>, AnalysisError> {
    check_sequence_name(sequence)?;

    let box_files = layout.find_box_files(directory, sequence)?;
    if box_files.is_empty() {
        return Ok(None);
    }

    let mut repetitions = Vec::with_capacity(box_files.len());
    for (repetition, path) in box_files {
        let boxes = read_boxes(&path, format)?;
        repetitions.push(RepetitionBoxes {
            repetition,
            path,
            boxes,
        });
    }

    let time_path = layout.time_file(directory, sequence);
    let times = if time_path.is_file() {
        let file = read_times(&time_path)?;
        Some((time_path, file))
    } else {
        None
    };

    Ok(Some(SequenceResults {
        sequence: sequence.to_string(),
        repetitions,
        times,
    }))
}

/// Writes the boxes (`x,y,w,h`, 3 decimals) and optional per-frame times
/// (seconds, 8 decimals) of one sequence; a GOT-10k layout gets repetition 1.
///
/// Non-finite values are rejected before anything is written, because the
/// benchmark servers cannot read them.
///
/// Limitation: only repetition 1 is written, with a one-column time file.
/// The GOT-10k toolkit runs stochastic trackers three times; write further
/// repetitions' boxes to [`ResultLayout::repetition_file`] with
/// [`write_atomic`].
pub fn write_sequence_results(
    directory: &Path,
    layout: ResultLayout,
    sequence: &str,
    boxes: &[BoundingBox],
    times: Option<&[f64]>,
) -> Result<(), AnalysisError> {
    check_sequence_name(sequence)?;

    let box_text = format_boxes(sequence, boxes)?;
    let time_text = times
        .map(|seconds| {
            format_times(seconds).map_err(|(frame, value)| AnalysisError::NonFiniteOutput {
                sequence: sequence.to_string(),
                frame,
                value,
            })
        })
        .transpose()?;

    if let Some(time_text) = time_text {
        write_atomic(&layout.time_file(directory, sequence), time_text.as_bytes())?;
    }
    write_atomic(&layout.box_file(directory, sequence), box_text.as_bytes())
}

/// Checks whether a sequence's box file exists, which marks it as finished.
pub fn is_sequence_finished(directory: &Path, layout: ResultLayout, sequence: &str) -> bool {
    check_sequence_name(sequence).is_ok() && layout.box_file(directory, sequence).is_file()
}

/// Writes a file through a temporary file and a rename, creating missing
/// parent folders, so readers see either the old file or the whole new one.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), AnalysisError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AnalysisError::Write { path, source }
    };

    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(write_error(parent))?;
    }

    let temporary = temporary_path(path);
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(write_error(&temporary)(source));
    }
    std::fs::rename(&temporary, path).map_err(write_error(path))
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn format_boxes(sequence: &str, boxes: &[BoundingBox]) -> Result<String, AnalysisError> {
    let mut text = String::with_capacity(boxes.len() * 32);
    for (frame, bounding_box) in boxes.iter().enumerate() {
        let line = format_box_line(bounding_box).ok_or_else(|| {
            let value = bounding_box
                .to_array()
                .into_iter()
                .find(|value| !value.is_finite())
                .unwrap_or(f64::NAN);
            AnalysisError::NonFiniteOutput {
                sequence: sequence.to_string(),
                frame,
                value,
            }
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes() -> Vec<BoundingBox> {
        vec![
            BoundingBox::new(1.0, 2.0, 3.0, 4.0),
            BoundingBox::new(1.5, 2.25, 3.125, 4.0625),
        ]
    }

    #[test]
    fn written_results_read_back() {
        let folder = tempfile::tempdir().unwrap();

        for layout in [ResultLayout::Got10k, ResultLayout::SequenceFile] {
            write_sequence_results(folder.path(), layout, "seq", &boxes(), Some(&[0.5, 0.25]))
                .unwrap();

            let results = read_sequence_results(folder.path(), layout, BoxFormat::Xywh, "seq")
                .unwrap()
                .unwrap();

            assert_eq!(results.repetitions.len(), 1);
            // Written with 3 decimals, 4.0625 reads back as 4.062.
            let read = &results.repetitions[0].boxes;
            assert_eq!(read[0], boxes()[0]);
            assert_eq!(read[1], BoundingBox::new(1.5, 2.25, 3.125, 4.062));
            let (_, times) = results.times.unwrap();
            assert_eq!(times.seconds, vec![0.5, 0.25]);
        }
    }

    #[test]
    fn written_box_file_has_fixed_precision() {
        let folder = tempfile::tempdir().unwrap();

        write_sequence_results(
            folder.path(),
            ResultLayout::SequenceFile,
            "seq",
            &boxes(),
            None,
        )
        .unwrap();

        let text = std::fs::read_to_string(folder.path().join("seq.txt")).unwrap();
        assert_eq!(text, "1.000,2.000,3.000,4.000\n1.500,2.250,3.125,4.062\n");
        assert!(!folder.path().join("seq_time.txt").exists());
    }

    #[test]
    fn no_temporary_file_is_left_behind() {
        let folder = tempfile::tempdir().unwrap();

        write_sequence_results(
            folder.path(),
            ResultLayout::Got10k,
            "seq",
            &boxes(),
            Some(&[0.1, 0.1]),
        )
        .unwrap();

        let names: Vec<String> = std::fs::read_dir(folder.path().join("seq"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|name| !name.ends_with(".tmp")),
            "{names:?}"
        );
        assert_eq!(names.len(), 2);
    }

    #[test]
    fn interrupted_write_is_not_finished() {
        let folder = tempfile::tempdir().unwrap();
        let layout = ResultLayout::SequenceFile;
        // An interrupted write leaves only the temporary file.
        std::fs::write(folder.path().join("seq.txt.tmp"), "1,2,3").unwrap();

        assert!(!is_sequence_finished(folder.path(), layout, "seq"));
        assert_eq!(
            read_sequence_results(folder.path(), layout, BoxFormat::Xywh, "seq").unwrap(),
            None
        );

        write_sequence_results(folder.path(), layout, "seq", &boxes(), None).unwrap();

        assert!(is_sequence_finished(folder.path(), layout, "seq"));
        assert!(!folder.path().join("seq.txt.tmp").exists());
    }

    #[test]
    fn non_finite_box_is_rejected_before_writing() {
        let folder = tempfile::tempdir().unwrap();
        let mut with_nan = boxes();
        with_nan[1].width = f64::NAN;

        let error = write_sequence_results(
            folder.path(),
            ResultLayout::SequenceFile,
            "seq",
            &with_nan,
            None,
        )
        .unwrap_err();

        assert_eq!(
            error.to_string(),
            "sequence seq, frame 1: cannot write the non-finite value NaN; \
             result files contain finite numbers only"
        );
        assert!(!folder.path().join("seq.txt").exists());
    }

    #[test]
    fn non_finite_time_is_rejected_before_writing() {
        let folder = tempfile::tempdir().unwrap();

        let error = write_sequence_results(
            folder.path(),
            ResultLayout::SequenceFile,
            "seq",
            &boxes(),
            Some(&[0.1, f64::INFINITY]),
        )
        .unwrap_err();

        assert!(
            matches!(error, AnalysisError::NonFiniteOutput { frame: 1, .. }),
            "{error}"
        );
        assert!(!folder.path().join("seq_time.txt").exists());
    }

    #[test]
    fn got10k_repetitions_are_all_read() {
        let folder = tempfile::tempdir().unwrap();
        let layout = ResultLayout::Got10k;
        write_sequence_results(folder.path(), layout, "seq", &boxes(), None).unwrap();
        let second = layout.repetition_file(folder.path(), "seq", 2).unwrap();
        write_atomic(&second, b"0,0,1,1\n0,0,1,1\n").unwrap();

        let results = read_sequence_results(folder.path(), layout, BoxFormat::Xywh, "seq")
            .unwrap()
            .unwrap();

        assert_eq!(results.repetitions.len(), 2);
        assert_eq!(results.repetitions[1].repetition, 2);
        assert_eq!(
            results.repetitions[1].boxes[0],
            BoundingBox::new(0.0, 0.0, 1.0, 1.0)
        );
        assert_eq!(results.times, None);
    }
}
