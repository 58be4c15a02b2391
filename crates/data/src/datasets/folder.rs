//! A plain folder of frames with an initial box, for tracking a video that
//! belongs to no benchmark.

use std::fs;
use std::path::{Path, PathBuf};

use crate::bbox::BBox;
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, FramePaths, Sequence};

const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Reads every `.jpg`, `.jpeg` or `.png` file of `dir` as one sequence whose
/// only ground truth is `init_box` on the first frame.
///
/// Frames are ordered by number when every file name is a number
/// (`1.jpg, 2.jpg, 10.jpg`), and by name otherwise.
pub fn read_folder_sequence(dir: &Path, init_box: BBox) -> Result<Sequence> {
    if !init_box.is_valid() {
        return Err(DataError::InvalidParameter {
            name: "init_box",
            message: format!("{init_box:?} needs a positive width and height"),
        });
    }
    let entries = fs::read_dir(dir).map_err(|source| DataError::io(dir, source))?;
    let mut frames: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| DataError::io(dir, source))?.path();
        let is_image = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
        if is_image && path.is_file() {
            frames.push(path);
        }
    }
    if frames.is_empty() {
        return Err(DataError::EmptyDataset {
            dataset: "folder".into(),
            root: dir.to_path_buf(),
            expected: "image files (.jpg, .jpeg or .png)",
        });
    }
    let numbers: Option<Vec<u64>> = frames
        .iter()
        .map(|path| path.file_stem()?.to_str()?.parse().ok())
        .collect();
    match numbers {
        Some(numbers) => {
            let mut numbered: Vec<(u64, PathBuf)> = numbers.into_iter().zip(frames).collect();
            numbered.sort();
            frames = numbered.into_iter().map(|(_, path)| path).collect();
        }
        None => frames.sort(),
    }
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Sequence::new(
        name,
        DatasetKind::Folder,
        FramePaths::List(frames),
        vec![init_box],
        None,
    ))
}
