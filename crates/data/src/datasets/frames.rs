//! Matching frame files to ground-truth lines.
//!
//! Policy: the ground truth defines the length of a sequence. Fewer frame
//! files than ground-truth lines is an error; more frame files is logged
//! and the frames past the last annotated one are ignored.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::sequence::FramePaths;

const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Checks numbered frames without listing the folder: the last annotated
/// frame must exist, and a frame after it is reported as ignored.
pub(crate) fn check_numbered_frames(
    dataset: &str,
    sequence: &str,
    frames: &FramePaths,
) -> Result<()> {
    let FramePaths::Numbered {
        dir,
        first,
        digits,
        extension,
        count,
    } = frames
    else {
        return Ok(());
    };
    if *count == 0 {
        return Err(DataError::FrameCount {
            dataset: dataset.into(),
            sequence: sequence.into(),
            message: "the ground truth has no lines".into(),
        });
    }
    let last = crate::sequence::numbered_path(dir, first + *count as u64 - 1, *digits, extension);
    if !last.is_file() {
        return Err(DataError::FrameCount {
            dataset: dataset.into(),
            sequence: sequence.into(),
            message: format!(
                "the ground truth has {count} lines but frame {} is missing; \
                 restore the frames or trim the ground truth",
                last.display()
            ),
        });
    }
    let next = crate::sequence::numbered_path(dir, first + *count as u64, *digits, extension);
    if next.is_file() {
        tracing::warn!(
            dataset,
            sequence,
            annotated = count,
            "more frame files than ground-truth lines; frames from {} on are ignored",
            next.display()
        );
    }
    Ok(())
}

/// Frame files of a folder whose names are consecutive numbers.
#[derive(Clone, Debug)]
pub(crate) struct NumberedListing {
    pub dir: PathBuf,
    pub first: u64,
    pub count: usize,
    pub digits: usize,
    pub extension: String,
}

/// Lists `dir` for image files named by consecutive numbers (`0001.jpg` …).
pub(crate) fn list_numbered_frames(dir: &Path) -> Result<NumberedListing> {
    let entries = fs::read_dir(dir).map_err(|source| DataError::io(dir, source))?;
    let mut numbers = Vec::new();
    let mut stem_lengths = Vec::new();
    let mut extension = None;
    for entry in entries {
        let path = entry.map_err(|source| DataError::io(dir, source))?.path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        let (Some(stem), Some(ext)) = (stem.to_str(), ext.to_str()) else {
            continue;
        };
        if !IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
            continue;
        }
        let Ok(number) = stem.parse::<u64>() else {
            continue;
        };
        extension.get_or_insert_with(|| ext.to_owned());
        numbers.push(number);
        stem_lengths.push(stem.len());
    }

    let Some(extension) = extension else {
        return Err(DataError::MissingFile {
            what: "numbered frame images",
            path: dir.to_path_buf(),
            hint: "expected files such as 0001.jpg or 00000001.jpg",
        });
    };

    numbers.sort_unstable();
    numbers.dedup();
    let first = numbers[0];
    if let Some(gap) = numbers.windows(2).find(|pair| pair[1] != pair[0] + 1) {
        return Err(DataError::MissingFile {
            what: "frame",
            path: dir.join(format!("{}.{extension}", gap[0] + 1)),
            hint: "frame numbers must be consecutive",
        });
    }
    let same_length = stem_lengths.iter().all(|len| *len == stem_lengths[0]);
    Ok(NumberedListing {
        dir: dir.to_path_buf(),
        first,
        count: numbers.len(),
        digits: if same_length { stem_lengths[0] } else { 0 },
        extension,
    })
}

impl NumberedListing {
    /// Returns the frames from frame number `start` on, matched to
    /// `annotated` ground-truth lines. `first_frame_only` accepts one line
    /// for the whole sequence (GOT-10k test, plain folders).
    pub(crate) fn frames_for(
        &self,
        dataset: &str,
        sequence: &str,
        start: u64,
        annotated: usize,
        first_frame_only: bool,
    ) -> Result<FramePaths> {
        let frame_error = |message: String| DataError::FrameCount {
            dataset: dataset.into(),
            sequence: sequence.into(),
            message,
        };
        if start < self.first || start >= self.first + self.count as u64 {
            return Err(frame_error(format!(
                "start frame {start} is outside the frames {}..={} in {}",
                self.first,
                self.first + self.count as u64 - 1,
                self.dir.display()
            )));
        }
        let available = (self.first + self.count as u64 - start) as usize;
        let count = if first_frame_only && annotated == 1 {
            available
        } else if annotated > available {
            return Err(frame_error(format!(
                "the ground truth has {annotated} lines but {} has only {available} frames \
                 from frame {start} on; restore the frames or trim the ground truth",
                self.dir.display()
            )));
        } else {
            if annotated < available {
                tracing::warn!(
                    dataset,
                    sequence,
                    annotated,
                    frames = available,
                    "more frame files than ground-truth lines; the extra frames are ignored"
                );
            }
            annotated
        };
        Ok(FramePaths::Numbered {
            dir: self.dir.clone(),
            first: start,
            digits: self.digits,
            extension: self.extension.clone(),
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(names: &[&str]) -> tempfile::TempDir {
        let folder = tempfile::tempdir().unwrap();
        for name in names {
            fs::write(folder.path().join(name), b"").unwrap();
        }
        folder
    }

    #[test]
    fn listing_finds_padding_and_start() {
        let folder = folder_with(&["0003.jpg", "0004.jpg", "0005.jpg", "notes.txt"]);
        let listing = list_numbered_frames(folder.path()).unwrap();
        assert_eq!(listing.first, 3);
        assert_eq!(listing.count, 3);
        assert_eq!(listing.digits, 4);
        assert_eq!(listing.extension, "jpg");
    }

    #[test]
    fn listing_rejects_a_gap() {
        let folder = folder_with(&["1.jpg", "2.jpg", "4.jpg"]);
        let message = list_numbered_frames(folder.path()).unwrap_err().to_string();
        assert!(message.contains("3.jpg"), "{message}");
    }

    #[test]
    fn more_lines_than_frames_is_an_error() {
        let folder = folder_with(&["1.jpg", "2.jpg"]);
        let listing = list_numbered_frames(folder.path()).unwrap();
        let message = listing
            .frames_for("OTB", "s", 1, 3, false)
            .unwrap_err()
            .to_string();
        assert!(message.contains("has 3 lines but"), "{message}");
        assert!(message.contains("only 2 frames"), "{message}");
    }

    #[test]
    fn fewer_lines_than_frames_truncates() {
        let folder = folder_with(&["1.jpg", "2.jpg", "3.jpg"]);
        let listing = list_numbered_frames(folder.path()).unwrap();
        let frames = listing.frames_for("OTB", "s", 1, 2, false).unwrap();
        assert_eq!(frames.len(), 2);
        let first_only = listing.frames_for("GOT-10k", "s", 1, 1, true).unwrap();
        assert_eq!(first_only.len(), 3);
    }

    #[test]
    fn missing_last_frame_is_an_error() {
        let folder = folder_with(&["00000001.jpg", "00000002.jpg"]);
        let frames = FramePaths::Numbered {
            dir: folder.path().to_path_buf(),
            first: 1,
            digits: 8,
            extension: "jpg".into(),
            count: 3,
        };
        let message = check_numbered_frames("LaSOT", "cat-1", &frames)
            .unwrap_err()
            .to_string();
        assert!(message.contains("has 3 lines but frame"), "{message}");
        assert!(message.contains("00000003.jpg is missing"), "{message}");
        let frames = FramePaths::Numbered {
            dir: folder.path().to_path_buf(),
            first: 1,
            digits: 8,
            extension: "jpg".into(),
            count: 1,
        };
        assert!(check_numbered_frames("LaSOT", "cat-1", &frames).is_ok());
    }
}
