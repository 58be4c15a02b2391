//! Files with one box per line: ground truth and tracker results.

use std::path::Path;

use crate::bounding_box::BoundingBox;
use crate::error::AnalysisError;
use crate::number_text::{FieldCount, format_fixed, parse_number_lines, read_text};

/// Column order of the four numbers on each line of a box file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BoxFormat {
    /// `x, y, w, h`: every benchmark's ground truth and the toolkits' results.
    #[default]
    Xywh,
    /// `x1, y1, x2, y2`: the two corners, as some libraries write results.
    Corners,
}

impl BoxFormat {
    fn to_box(self, values: &[f64]) -> BoundingBox {
        match self {
            Self::Xywh => BoundingBox::new(values[0], values[1], values[2], values[3]),
            Self::Corners => BoundingBox::from_corners(values[0], values[1], values[2], values[3]),
        }
    }
}

/// Decimals of every number in the box files this crate writes, as the
/// GOT-10k toolkit writes them (`%.3f`).
pub const BOX_DECIMALS: usize = 3;

/// Reads a box file, one box per line.
///
/// NaN, infinite and non-positive sizes are returned as they are, so the
/// caller decides what such a box means. Text that is not four numbers is an
/// error naming the file and line.
pub fn read_boxes(path: &Path, format: BoxFormat) -> Result<Vec<BoundingBox>, AnalysisError> {
    parse_boxes(&read_text(path)?, path, format)
}

/// Parses the text of a box file; `path` names the file in errors.
pub fn parse_boxes(
    text: &str,
    path: &Path,
    format: BoxFormat,
) -> Result<Vec<BoundingBox>, AnalysisError> {
    let lines = parse_number_lines(text, path, FieldCount::Exactly(4))?;
    Ok(lines
        .iter()
        .map(|line| format.to_box(&line.values))
        .collect())
}

/// Formats one box as `x,y,w,h` with [`BOX_DECIMALS`] decimals, or returns
/// `None` when a coordinate is not finite.
pub fn format_box_line(bounding_box: &BoundingBox) -> Option<String> {
    let fields: Option<Vec<String>> = bounding_box
        .to_array()
        .iter()
        .map(|value| format_fixed(*value, BOX_DECIMALS))
        .collect();
    Some(fields?.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_format_reads_as_xywh() {
        let boxes = parse_boxes("367,101,408,117\n", Path::new("r.txt"), BoxFormat::Corners);

        assert_eq!(
            boxes.unwrap(),
            vec![BoundingBox::new(367.0, 101.0, 41.0, 16.0)]
        );
    }

    #[test]
    fn invalid_boxes_are_kept() {
        let boxes = parse_boxes(
            "nan,nan,nan,nan\n1,2,0,-4\n",
            Path::new("r.txt"),
            BoxFormat::Xywh,
        );
        let boxes = boxes.unwrap();

        assert!(boxes[0].x.is_nan());
        assert_eq!(boxes[1], BoundingBox::new(1.0, 2.0, 0.0, -4.0));
    }

    #[test]
    fn box_line_has_three_decimals() {
        let line = format_box_line(&BoundingBox::new(1.0, 2.5, 3.21256, 40.0));

        assert_eq!(line.as_deref(), Some("1.000,2.500,3.213,40.000"));
    }

    #[test]
    fn box_line_of_nan_is_none() {
        assert_eq!(format_box_line(&BoundingBox::missing()), None);
    }
}
