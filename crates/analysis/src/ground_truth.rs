//! A sequence's annotation: one box per frame, target visibility and image size.

use std::path::Path;

use crate::bounding_box::{BoundingBox, ImageSize};
use crate::box_file::{BoxFormat, read_boxes};
use crate::error::AnalysisError;
use crate::number_text::{FieldCount, parse_number_lines, read_text};

/// The annotation of one sequence.
///
/// A frame is valid when its box is valid (finite, positive size) and the
/// target is visible. Invalid frames stay in the sequence and count as
/// failures in every metric.
#[derive(Clone, Debug, PartialEq)]
pub struct GroundTruth {
    name: String,
    boxes: Vec<BoundingBox>,
    visible: Option<Vec<bool>>,
    image_size: Option<ImageSize>,
}

impl GroundTruth {
    /// Creates a sequence annotation with the target visible in every frame
    /// until visibility flags are set.
    pub fn new(name: impl Into<String>, boxes: Vec<BoundingBox>) -> Result<Self, AnalysisError> {
        let name = name.into();
        if boxes.is_empty() {
            return Err(AnalysisError::EmptyGroundTruth { sequence: name });
        }
        Ok(Self {
            name,
            boxes,
            visible: None,
            image_size: None,
        })
    }

    /// Reads an `x, y, w, h` annotation file such as LaSOT's `groundtruth.txt`,
    /// OTB's `groundtruth_rect.txt` or a UAV123 `anno` file.
    ///
    /// Rows of NaN (UAV123 marks frames without a target this way) become
    /// invalid frames.
    pub fn read(name: impl Into<String>, path: &Path) -> Result<Self, AnalysisError> {
        Self::new(name, read_boxes(path, BoxFormat::Xywh)?)
    }

    /// Sets per-frame visibility: `false` marks a frame without a visible target.
    pub fn with_visibility(mut self, visible: Vec<bool>) -> Result<Self, AnalysisError> {
        if visible.len() != self.boxes.len() {
            return Err(AnalysisError::VisibilityLength {
                sequence: self.name,
                flags: visible.len(),
                frames: self.boxes.len(),
            });
        }
        self.visible = Some(visible);
        Ok(self)
    }

    /// Marks the target absent wherever any of the flag lists is non-zero.
    ///
    /// LaSOT ships two lists, `full_occlusion.txt` and `out_of_view.txt`;
    /// GOT-10k ships `absence.label`. Each list needs one flag per frame.
    pub fn with_absence_flags(self, flag_lists: &[&[u32]]) -> Result<Self, AnalysisError> {
        let frames = self.boxes.len();
        if let Some(wrong) = flag_lists.iter().find(|flags| flags.len() != frames) {
            return Err(AnalysisError::VisibilityLength {
                sequence: self.name,
                flags: wrong.len(),
                frames,
            });
        }

        let visible = (0..frames)
            .map(|frame| flag_lists.iter().all(|flags| flags[frame] == 0))
            .collect();
        self.with_visibility(visible)
    }

    /// Sets visibility from GOT-10k's `cover.label`: cover 0 means the
    /// target is absent, 1 to 8 give the visible fraction in eighths.
    pub fn with_cover(self, cover: &[u32]) -> Result<Self, AnalysisError> {
        let visible = cover.iter().map(|&level| level > 0).collect();
        self.with_visibility(visible)
    }

    /// Sets the image size that GOT-10k's IoU bounds boxes to.
    pub fn with_image_size(mut self, size: ImageSize) -> Self {
        self.image_size = Some(size);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn boxes(&self) -> &[BoundingBox] {
        &self.boxes
    }

    pub fn frame_count(&self) -> usize {
        self.boxes.len()
    }

    pub fn image_size(&self) -> Option<ImageSize> {
        self.image_size
    }

    /// Per-frame visibility, `None` when no flags were given.
    pub fn visibility(&self) -> Option<&[bool]> {
        self.visible.as_deref()
    }

    pub fn is_target_visible(&self, frame: usize) -> bool {
        self.visible.as_ref().is_none_or(|visible| visible[frame])
    }

    /// Checks that the frame's box is valid and its target visible.
    pub fn is_frame_valid(&self, frame: usize) -> bool {
        self.boxes[frame].is_valid() && self.is_target_visible(frame)
    }
}

/// Reads a file of non-negative whole numbers such as LaSOT's
/// `full_occlusion.txt` (one comma-separated line), GOT-10k's `cover.label`
/// or an `absent.txt` with one value per line.
pub fn read_flags(path: &Path) -> Result<Vec<u32>, AnalysisError> {
    let text = read_text(path)?;
    let lines = parse_number_lines(&text, path, FieldCount::AtLeastOne)?;

    let mut flags = Vec::new();
    for line in &lines {
        for &value in &line.values {
            if value.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&value) {
                return Err(AnalysisError::Parse {
                    path: path.to_path_buf(),
                    line: line.line,
                    expected: "non-negative whole numbers".to_string(),
                    found: value.to_string(),
                });
            }
            flags.push(value as u32);
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes(count: usize) -> Vec<BoundingBox> {
        vec![BoundingBox::new(0.0, 0.0, 10.0, 10.0); count]
    }

    #[test]
    fn empty_ground_truth_is_rejected() {
        let error = GroundTruth::new("empty", Vec::new()).unwrap_err();

        assert!(
            error
                .to_string()
                .starts_with("sequence empty: the ground truth has no frames")
        );
    }

    #[test]
    fn absence_flags_combine_with_or() {
        let occluded = [0, 1, 0, 0];
        let out_of_view = [0, 0, 1, 0];

        let truth = GroundTruth::new("seq", boxes(4))
            .unwrap()
            .with_absence_flags(&[&occluded, &out_of_view])
            .unwrap();

        assert_eq!(truth.visibility(), Some(&[true, false, false, true][..]));
    }

    #[test]
    fn cover_zero_means_absent() {
        let truth = GroundTruth::new("seq", boxes(3))
            .unwrap()
            .with_cover(&[8, 0, 1])
            .unwrap();

        assert!(truth.is_target_visible(0));
        assert!(!truth.is_target_visible(1));
        assert!(truth.is_target_visible(2));
    }

    #[test]
    fn flag_count_must_match_frames() {
        let error = GroundTruth::new("seq", boxes(3))
            .unwrap()
            .with_cover(&[1, 1])
            .unwrap_err();

        assert_eq!(
            error.to_string(),
            "sequence seq: 2 visibility flags for 3 ground-truth frames; \
             the flag files must have one value per frame"
        );
    }

    #[test]
    fn invalid_box_makes_frame_invalid() {
        let mut annotation = boxes(3);
        annotation[1] = BoundingBox::new(0.0, 0.0, 0.0, 0.0);
        annotation[2] = BoundingBox::missing();

        let truth = GroundTruth::new("seq", annotation).unwrap();

        assert!(truth.is_frame_valid(0));
        assert!(!truth.is_frame_valid(1));
        assert!(!truth.is_frame_valid(2));
    }

    #[test]
    fn flags_read_from_one_line_or_many() {
        let folder = tempfile::tempdir().unwrap();
        let one_line = folder.path().join("full_occlusion.txt");
        let per_line = folder.path().join("absent.txt");
        std::fs::write(&one_line, "0,0,1,1,0\n").unwrap();
        std::fs::write(&per_line, "0\n0\n1\n1\n0\n").unwrap();

        assert_eq!(read_flags(&one_line).unwrap(), vec![0, 0, 1, 1, 0]);
        assert_eq!(read_flags(&per_line).unwrap(), vec![0, 0, 1, 1, 0]);
    }

    #[test]
    fn fractional_flag_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("cover.label");
        std::fs::write(&path, "8\n0.5\n").unwrap();

        let error = read_flags(&path).unwrap_err();

        assert!(
            matches!(error, AnalysisError::Parse { line: 2, .. }),
            "{error}"
        );
    }
}
