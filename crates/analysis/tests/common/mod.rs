//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mixformer_analysis::{BoundingBox, GroundTruth};

/// Finds the sample data folder: `MIXFORMER_SAMPLE_DATA`, or `../shared/data`
/// beside the workspace. Panics with the path it tried when it is missing.
pub fn sample_data() -> PathBuf {
    let path = std::env::var_os("MIXFORMER_SAMPLE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    assert!(
        path.is_dir(),
        "sample data not found at {}; set MIXFORMER_SAMPLE_DATA to the sample data folder",
        path.display()
    );
    path
}

/// Builds a 10x10 box with its top-left corner at `(x, 0)`.
pub fn square(x: f64) -> BoundingBox {
    BoundingBox::new(x, 0.0, 10.0, 10.0)
}

/// Builds a sequence of `frames` copies of the box at the origin, visible throughout.
pub fn still_sequence(name: &str, frames: usize) -> GroundTruth {
    GroundTruth::new(name, vec![square(0.0); frames]).unwrap()
}

/// Writes `lines` (joined with newlines) to `path`, creating parent folders.
pub fn write_lines(path: &Path, lines: &[&str]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}
