//! Zip archives of result files for the benchmark servers that hold back
//! their test ground truth (GOT-10k test, TrackingNet test).

use std::io::{Cursor, Write};
use std::path::Path;

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::error::AnalysisError;
use crate::issues::MissingResults;
use crate::layout::{ResultLayout, check_sequence_name};
use crate::result_files::write_atomic;

/// Packs one tracker's results into a zip archive and returns the number of
/// files in it.
///
/// A GOT-10k archive contains `<seq>/<seq>_NNN.txt` for every repetition and
/// `<seq>/<seq>_time.txt` where present, as the GOT-10k toolkit packs a
/// tracker's folder. Other layouts give a flat archive of `<seq>.txt` box
/// files without time files, which is what the TrackingNet server reads.
/// Every sequence must have results; the error lists all that do not.
pub fn pack_submission(
    directory: &Path,
    layout: ResultLayout,
    sequences: &[&str],
    archive: &Path,
) -> Result<usize, AnalysisError> {
    let mut entries = Vec::new();
    let mut missing = Vec::new();
    for &sequence in sequences {
        check_sequence_name(sequence)?;
        let box_files = layout.find_box_files(directory, sequence)?;
        if box_files.is_empty() {
            missing.push(sequence.to_string());
            continue;
        }
        for (_, path) in box_files {
            entries.push(path);
        }
        let time_file = layout.time_file(directory, sequence);
        if layout == ResultLayout::Got10k && time_file.is_file() {
            entries.push(time_file);
        }
    }
    if !missing.is_empty() {
        return Err(AnalysisError::MissingSequences {
            missing: vec![MissingResults {
                tracker: directory
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_else(|| directory.display().to_string()),
                directory: directory.to_path_buf(),
                sequences: missing,
            }],
        });
    }

    let write_error = |source: std::io::Error| AnalysisError::Write {
        path: archive.to_path_buf(),
        source,
    };
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for path in &entries {
        let name = archive_name(directory, path);
        writer
            .start_file(name, options)
            .map_err(|error| write_error(error.into()))?;
        let contents = std::fs::read(path).map_err(|source| AnalysisError::Read {
            path: path.clone(),
            source,
        })?;
        writer.write_all(&contents).map_err(write_error)?;
    }
    let bytes = writer
        .finish()
        .map_err(|error| write_error(error.into()))?
        .into_inner();

    write_atomic(archive, &bytes)?;
    Ok(entries.len())
}

/// Names a file inside the archive by its path below `directory`, with `/`
/// separators as zip requires.
fn archive_name(directory: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(directory).unwrap_or(path);
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounding_box::BoundingBox;
    use crate::result_files::write_sequence_results;

    fn entry_names(archive: &Path) -> Vec<String> {
        let file = std::fs::File::open(archive).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let mut names: Vec<String> = (0..zip.len())
            .map(|index| zip.by_index(index).unwrap().name().unwrap().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn got10k_archive_keeps_sequence_folders_and_times() {
        let folder = tempfile::tempdir().unwrap();
        let results = folder.path().join("tracker");
        let boxes = [BoundingBox::new(1.0, 2.0, 3.0, 4.0)];
        for sequence in ["GOT-10k_Test_000001", "GOT-10k_Test_000002"] {
            write_sequence_results(
                &results,
                ResultLayout::Got10k,
                sequence,
                &boxes,
                Some(&[0.1]),
            )
            .unwrap();
        }
        let archive = folder.path().join("tracker.zip");

        let count = pack_submission(
            &results,
            ResultLayout::Got10k,
            &["GOT-10k_Test_000001", "GOT-10k_Test_000002"],
            &archive,
        )
        .unwrap();

        assert_eq!(count, 4);
        assert_eq!(
            entry_names(&archive),
            vec![
                "GOT-10k_Test_000001/GOT-10k_Test_000001_001.txt",
                "GOT-10k_Test_000001/GOT-10k_Test_000001_time.txt",
                "GOT-10k_Test_000002/GOT-10k_Test_000002_001.txt",
                "GOT-10k_Test_000002/GOT-10k_Test_000002_time.txt",
            ]
        );
    }

    #[test]
    fn flat_archive_has_box_files_only() {
        let folder = tempfile::tempdir().unwrap();
        let results = folder.path().join("tracker");
        let boxes = [BoundingBox::new(1.0, 2.0, 3.0, 4.0)];
        write_sequence_results(
            &results,
            ResultLayout::SequenceFile,
            "seq",
            &boxes,
            Some(&[0.1]),
        )
        .unwrap();
        let archive = folder.path().join("tracker.zip");

        pack_submission(&results, ResultLayout::SequenceFile, &["seq"], &archive).unwrap();

        assert_eq!(entry_names(&archive), vec!["seq.txt"]);
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&archive).unwrap()).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("seq.txt").unwrap(), &mut text).unwrap();
        assert_eq!(text, "1.000,2.000,3.000,4.000\n");
    }

    #[test]
    fn missing_sequences_stop_packing() {
        let folder = tempfile::tempdir().unwrap();
        let archive = folder.path().join("tracker.zip");

        let error = pack_submission(
            folder.path(),
            ResultLayout::SequenceFile,
            &["a", "b"],
            &archive,
        )
        .unwrap_err();

        assert!(
            error.to_string().contains("for 2 sequence(s): a, b"),
            "{error}"
        );
        assert!(!archive.exists());
    }
}
