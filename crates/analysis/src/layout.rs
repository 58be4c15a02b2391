//! Paths of a tracker's result files in the layouts the official toolkits read.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::AnalysisError;

/// The file layout of one tracker's results on one benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultLayout {
    /// GOT-10k: `<dir>/<seq>/<seq>_001.txt` (repetitions `_002`, `_003`, ...
    /// beside it) and `<dir>/<seq>/<seq>_time.txt`.
    Got10k,
    /// LaSOT, OTB, UAV123, TrackingNet and most others: `<dir>/<seq>.txt`
    /// and `<dir>/<seq>_time.txt`.
    SequenceFile,
}

impl fmt::Display for ResultLayout {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Got10k => formatter.write_str("GOT-10k"),
            Self::SequenceFile => formatter.write_str("one-file-per-sequence"),
        }
    }
}

impl ResultLayout {
    /// Path of the box file of the first (or only) repetition.
    pub fn box_file(self, directory: &Path, sequence: &str) -> PathBuf {
        match self {
            Self::Got10k => repetition_path(directory, sequence, 1),
            Self::SequenceFile => directory.join(format!("{sequence}.txt")),
        }
    }

    /// Path of the box file of a numbered repetition, counted from 1.
    pub fn repetition_file(
        self,
        directory: &Path,
        sequence: &str,
        repetition: u32,
    ) -> Result<PathBuf, AnalysisError> {
        match self {
            Self::Got10k if repetition >= 1 => Ok(repetition_path(directory, sequence, repetition)),
            Self::SequenceFile if repetition == 1 => Ok(self.box_file(directory, sequence)),
            _ => Err(AnalysisError::Repetition {
                layout: self.to_string(),
                repetition,
            }),
        }
    }

    /// Path of the per-frame time file.
    pub fn time_file(self, directory: &Path, sequence: &str) -> PathBuf {
        match self {
            Self::Got10k => directory
                .join(sequence)
                .join(format!("{sequence}_time.txt")),
            Self::SequenceFile => directory.join(format!("{sequence}_time.txt")),
        }
    }

    /// Lists the existing box files of a sequence with their repetition
    /// numbers, lowest first.
    ///
    /// GOT-10k repetitions are the files `<seq>_<digits>.txt` in the
    /// sequence folder, so `_time.txt` and leftover `.tmp` files are not
    /// among them. An empty list means the sequence has no results.
    pub fn find_box_files(
        self,
        directory: &Path,
        sequence: &str,
    ) -> Result<Vec<(u32, PathBuf)>, AnalysisError> {
        check_sequence_name(sequence)?;
        match self {
            Self::SequenceFile => {
                let path = self.box_file(directory, sequence);
                Ok(if path.is_file() {
                    vec![(1, path)]
                } else {
                    Vec::new()
                })
            }
            Self::Got10k => find_repetitions(&directory.join(sequence), sequence),
        }
    }
}

fn repetition_path(directory: &Path, sequence: &str, repetition: u32) -> PathBuf {
    directory
        .join(sequence)
        .join(format!("{sequence}_{repetition:03}.txt"))
}

fn find_repetitions(folder: &Path, sequence: &str) -> Result<Vec<(u32, PathBuf)>, AnalysisError> {
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let read_error = |source| AnalysisError::Read {
        path: folder.to_path_buf(),
        source,
    };

    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let file_name = entry.file_name();
        let Some(repetition) = file_name
            .to_str()
            .and_then(|name| repetition_number(name, sequence))
        else {
            continue;
        };
        if entry.path().is_file() {
            found.push((repetition, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// Parses `<sequence>_<digits>.txt` into its repetition number.
fn repetition_number(file_name: &str, sequence: &str) -> Option<u32> {
    let digits = file_name
        .strip_prefix(sequence)?
        .strip_prefix('_')?
        .strip_suffix(".txt")?;
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Rejects sequence names that would point outside the result folder.
pub(crate) fn check_sequence_name(name: &str) -> Result<(), AnalysisError> {
    let is_invalid =
        name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']);
    if is_invalid {
        return Err(AnalysisError::InvalidSequenceName {
            name: name.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn got10k_paths() {
        let directory = Path::new("results");
        let layout = ResultLayout::Got10k;

        assert_eq!(
            layout.box_file(directory, "GOT-10k_Val_000001"),
            Path::new("results/GOT-10k_Val_000001/GOT-10k_Val_000001_001.txt")
        );
        assert_eq!(
            layout.time_file(directory, "GOT-10k_Val_000001"),
            Path::new("results/GOT-10k_Val_000001/GOT-10k_Val_000001_time.txt")
        );
        assert_eq!(
            layout.repetition_file(directory, "seq", 3).unwrap(),
            Path::new("results/seq/seq_003.txt")
        );
    }

    #[test]
    fn sequence_file_paths() {
        let directory = Path::new("results");
        let layout = ResultLayout::SequenceFile;

        assert_eq!(
            layout.box_file(directory, "airplane-1"),
            Path::new("results/airplane-1.txt")
        );
        assert_eq!(
            layout.time_file(directory, "airplane-1"),
            Path::new("results/airplane-1_time.txt")
        );
        assert!(layout.repetition_file(directory, "airplane-1", 2).is_err());
    }

    #[test]
    fn repetition_numbers_parse_only_digits() {
        assert_eq!(repetition_number("seq_001.txt", "seq"), Some(1));
        assert_eq!(repetition_number("seq_012.txt", "seq"), Some(12));
        assert_eq!(repetition_number("seq_time.txt", "seq"), None);
        assert_eq!(repetition_number("seq_001.txt.tmp", "seq"), None);
        assert_eq!(repetition_number("seq_.txt", "seq"), None);
        assert_eq!(repetition_number("other_001.txt", "seq"), None);
    }

    #[test]
    fn got10k_repetitions_are_found_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let sequence_folder = folder.path().join("seq");
        std::fs::create_dir(&sequence_folder).unwrap();
        for name in [
            "seq_003.txt",
            "seq_001.txt",
            "seq_time.txt",
            "seq_002.txt.tmp",
        ] {
            std::fs::write(sequence_folder.join(name), "").unwrap();
        }

        let found = ResultLayout::Got10k
            .find_box_files(folder.path(), "seq")
            .unwrap();

        let numbers: Vec<u32> = found.iter().map(|(number, _)| *number).collect();
        assert_eq!(numbers, vec![1, 3]);
    }

    #[test]
    fn missing_sequence_has_no_box_files() {
        let folder = tempfile::tempdir().unwrap();

        for layout in [ResultLayout::Got10k, ResultLayout::SequenceFile] {
            assert!(
                layout
                    .find_box_files(folder.path(), "seq")
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[test]
    fn path_like_sequence_names_are_rejected() {
        for name in ["", ".", "..", "a/b", "a\\b"] {
            assert!(check_sequence_name(name).is_err(), "{name:?}");
        }
        assert!(check_sequence_name("GOT-10k_Val_000001").is_ok());
    }
}
