//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// Finds the sample data folder: `../shared/data` beside the workspace, or
/// the folder named by `MIXFORMER_SAMPLE_DATA`. Panics naming the folder
/// when it is missing.
pub fn sample_data() -> PathBuf {
    let dir = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        dir.join("sot").is_dir(),
        "sample data not found at {}; set MIXFORMER_SAMPLE_DATA to the folder that \
         contains sot/, coco/ and lasot-annotations/",
        dir.display()
    );
    dir
}

pub fn crossing_dir() -> PathBuf {
    sample_data().join("sot/otb/Crossing")
}

pub fn wakeboard_frames() -> PathBuf {
    sample_data().join("sot/uav123/data_seq/UAV123_10fps/wakeboard7")
}

/// Links `target` at `link` (a copy where links are not available).
pub fn link(target: &Path, link: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).unwrap();
    #[cfg(not(unix))]
    fs::copy(target, link).unwrap();
}

/// Links `count` frames into `dir`, cycling through `source_frames`, named
/// by `name(i)` for `i` in `0..count`.
pub fn link_frames(
    source_frames: &[PathBuf],
    dir: &Path,
    count: usize,
    name: impl Fn(usize) -> String,
) {
    fs::create_dir_all(dir).unwrap();
    for i in 0..count {
        link(&source_frames[i % source_frames.len()], &dir.join(name(i)));
    }
}

/// Sorted image files of a folder.
pub fn sorted_frames(dir: &Path) -> Vec<PathBuf> {
    let mut frames: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jpg"))
        .collect();
    frames.sort();
    frames
}

/// Reads a ground-truth file into `[x, y, w, h]` rows, splitting on commas,
/// tabs or spaces (an independent parser for cross-checking the readers).
pub fn rows(path: &Path) -> Vec<[f32; 4]> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let values: Vec<f32> = line
                .split([',', '\t', ' '])
                .filter(|field| !field.is_empty())
                .map(|field| field.parse().unwrap())
                .collect();
            [values[0], values[1], values[2], values[3]]
        })
        .collect()
}
