//! The `Sequence` abstraction shared by every dataset reader.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::bbox::BBox;

/// The benchmark layout a sequence was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetKind {
    Got10k,
    Lasot,
    TrackingNet,
    Coco,
    Otb,
    Uav123,
    Vot,
    /// A plain folder of frames with an initial box.
    Folder,
}

impl fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Got10k => "GOT-10k",
            Self::Lasot => "LaSOT",
            Self::TrackingNet => "TrackingNet",
            Self::Coco => "COCO",
            Self::Otb => "OTB",
            Self::Uav123 => "UAV123",
            Self::Vot => "VOT",
            Self::Folder => "folder",
        };
        f.write_str(name)
    }
}

/// The image files of a sequence, computed from a numbering pattern where the
/// layout has one, so that long sequences need no directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramePaths {
    /// `dir/{first + i:0digits$}.{extension}` for `i` in `0..count`.
    Numbered {
        dir: PathBuf,
        first: u64,
        /// Zero-padded width of the number; 0 means no padding.
        digits: usize,
        extension: String,
        count: usize,
    },
    /// An explicit list of files.
    List(Vec<PathBuf>),
}

impl FramePaths {
    pub fn len(&self) -> usize {
        match self {
            Self::Numbered { count, .. } => *count,
            Self::List(paths) => paths.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the path of frame `index` (0-based), or `None` past the end.
    pub fn get(&self, index: usize) -> Option<PathBuf> {
        if index >= self.len() {
            return None;
        }
        Some(match self {
            Self::Numbered {
                dir,
                first,
                digits,
                extension,
                ..
            } => numbered_path(dir, *first + index as u64, *digits, extension),
            Self::List(paths) => paths[index].clone(),
        })
    }
}

/// Formats `dir/<number padded to digits>.<extension>`.
pub(crate) fn numbered_path(dir: &Path, number: u64, digits: usize, extension: &str) -> PathBuf {
    dir.join(format!("{number:0digits$}.{extension}"))
}

/// One annotated video (or a still image seen as a one-frame video).
///
/// `boxes`, `valid` and `visible` have one entry per annotated frame. Every
/// frame is annotated, except in the GOT-10k test split and in plain folders,
/// where only the first box is known: use [`Sequence::init_box`] for tracking.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub name: String,
    pub dataset: DatasetKind,
    pub frames: FramePaths,
    /// Ground truth `[x, y, w, h]` in pixels.
    pub boxes: Vec<BBox>,
    /// `w > 0 && h > 0` for each annotated frame.
    pub valid: Vec<bool>,
    /// Target visible: valid and not flagged absent, occluded or out of view.
    pub visible: Vec<bool>,
    /// Object class, where the dataset names one.
    pub class: Option<String>,
}

impl Sequence {
    /// Builds a sequence whose visibility follows the validity of its boxes,
    /// optionally narrowed by dataset flags (`false` = not visible, and a
    /// frame past the end of the flags is not visible).
    pub fn new(
        name: impl Into<String>,
        dataset: DatasetKind,
        frames: FramePaths,
        boxes: Vec<BBox>,
        visible_flags: Option<Vec<bool>>,
    ) -> Self {
        let valid: Vec<bool> = boxes.iter().map(|bbox| bbox.is_valid()).collect();
        let visible = match visible_flags {
            Some(flags) => valid
                .iter()
                .enumerate()
                .map(|(i, v)| *v && flags.get(i).copied().unwrap_or(false))
                .collect(),
            None => valid.clone(),
        };
        Self {
            name: name.into(),
            dataset,
            frames,
            boxes,
            valid,
            visible,
            class: None,
        }
    }

    pub fn with_class(mut self, class: Option<String>) -> Self {
        self.class = class;
        self
    }

    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// Returns the path of frame `index` (0-based), or `None` past the end.
    pub fn frame_path(&self, index: usize) -> Option<PathBuf> {
        self.frames.get(index)
    }

    /// Returns the first frame's box, used to start tracking.
    pub fn init_box(&self) -> Option<BBox> {
        self.boxes.first().copied()
    }

    /// True when every frame has a ground-truth box.
    pub fn is_fully_annotated(&self) -> bool {
        self.boxes.len() == self.frame_count()
    }

    pub fn visible_count(&self) -> usize {
        self.visible.iter().filter(|visible| **visible).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_frames_are_zero_padded() {
        let frames = FramePaths::Numbered {
            dir: PathBuf::from("seq/img"),
            first: 1,
            digits: 8,
            extension: "jpg".into(),
            count: 3,
        };
        assert_eq!(frames.get(0).unwrap(), Path::new("seq/img/00000001.jpg"));
        assert_eq!(frames.get(2).unwrap(), Path::new("seq/img/00000003.jpg"));
        assert_eq!(frames.get(3), None);
    }

    #[test]
    fn unpadded_frames_start_at_zero() {
        let frames = FramePaths::Numbered {
            dir: PathBuf::from("frames/video"),
            first: 0,
            digits: 0,
            extension: "jpg".into(),
            count: 12,
        };
        assert_eq!(frames.get(0).unwrap(), Path::new("frames/video/0.jpg"));
        assert_eq!(frames.get(11).unwrap(), Path::new("frames/video/11.jpg"));
    }

    #[test]
    fn visibility_needs_valid_box_and_flag() {
        let boxes = vec![
            BBox::new(0.0, 0.0, 5.0, 5.0),
            BBox::new(0.0, 0.0, 0.0, 5.0),
            BBox::new(0.0, 0.0, 5.0, 5.0),
        ];
        let frames = FramePaths::List(vec![PathBuf::new(); 3]);
        let sequence = Sequence::new(
            "s",
            DatasetKind::Otb,
            frames,
            boxes,
            Some(vec![true, true, false]),
        );
        assert_eq!(sequence.valid, [true, false, true]);
        assert_eq!(sequence.visible, [true, false, false]);
        assert_eq!(sequence.visible_count(), 1);
    }
}
