//! Parsing of ground-truth and flag files.
//!
//! Policy for malformed input, applied to every dataset:
//! - Fields are separated by commas (with optional spaces around them), or by
//!   tabs or spaces. A line that mixes a comma with whitespace inside a field
//!   is an error.
//! - A line with the wrong number of fields, a non-numeric field, an infinite
//!   value or some but not all values NaN is an error naming the file and line.
//! - A line whose values are all NaN marks the target absent, as UAV123 does.
//!   It becomes the box `[0, 0, 0, 0]`, which is not valid.
//! - Negative or zero sizes are kept and make the frame invalid.
//! - Empty lines are allowed only at the end of the file.

use std::fs;
use std::path::Path;

use crate::bbox::BBox;
use crate::error::{DataError, Result};

/// Shape that a ground-truth line may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoxFormat {
    /// `x, y, w, h`.
    Rect,
    /// `x, y, w, h`, or a polygon of four corners `x1, y1, …, x4, y4` that
    /// becomes its axis-aligned bounding box (VOT).
    RectOrPolygon,
}

impl BoxFormat {
    fn expectation(self) -> &'static str {
        match self {
            Self::Rect => "expected 4 numbers separated by commas, tabs or spaces",
            Self::RectOrPolygon => {
                "expected 4 numbers (x, y, w, h) or 8 numbers (polygon) \
                 separated by commas, tabs or spaces"
            }
        }
    }
}

/// Reads a text file, dropping a UTF-8 byte-order mark.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    let text = fs::read_to_string(path).map_err(|source| DataError::io(path, source))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// Reads a ground-truth file with one box per line.
pub fn read_boxes(path: &Path, format: BoxFormat) -> Result<Vec<BBox>> {
    parse_boxes(path, &read_text(path)?, format)
}

/// Parses ground-truth text; `path` is used in error messages only.
pub fn parse_boxes(path: &Path, text: &str, format: BoxFormat) -> Result<Vec<BBox>> {
    let lines = content_lines(path, text)?;
    let mut boxes = Vec::with_capacity(lines.len());
    for (index, line) in lines.into_iter().enumerate() {
        boxes.push(parse_box_line(path, index + 1, line, format)?);
    }
    Ok(boxes)
}

/// Returns the lines up to the last non-empty one, rejecting empty lines before it.
fn content_lines<'a>(path: &Path, text: &'a str) -> Result<Vec<&'a str>> {
    let mut lines: Vec<&str> = text.lines().map(str::trim).collect();
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    if let Some(index) = lines.iter().position(|line| line.is_empty()) {
        return Err(DataError::Annotation {
            file: path.to_path_buf(),
            line: index + 1,
            message: "empty line before the end of the file; remove it or fill in the value".into(),
        });
    }
    Ok(lines)
}

fn parse_box_line(path: &Path, line_number: usize, line: &str, format: BoxFormat) -> Result<BBox> {
    let error = |detail: &str| DataError::Annotation {
        file: path.to_path_buf(),
        line: line_number,
        message: format!("{}, found {line:?}{detail}", format.expectation()),
    };

    if format == BoxFormat::RectOrPolygon && line.starts_with('m') {
        return Err(DataError::Annotation {
            file: path.to_path_buf(),
            line: line_number,
            message: "found a segmentation mask; mask annotations (VOT 2020 and later) \
                      are not supported, use the rectangle ground truth"
                .into(),
        });
    }

    let fields = split_fields(line).ok_or_else(|| error(" (mixed separators)"))?;
    let count_ok = match format {
        BoxFormat::Rect => fields.len() == 4,
        BoxFormat::RectOrPolygon => fields.len() == 4 || fields.len() == 8,
    };
    if !count_ok {
        return Err(error(""));
    }

    let mut values = Vec::with_capacity(fields.len());
    for field in &fields {
        let value: f32 = field
            .parse()
            .map_err(|_| error(&format!(" ({field:?} is not a number)")))?;
        if value.is_infinite() {
            return Err(error(&format!(" ({field:?} is infinite)")));
        }
        values.push(value);
    }

    let nan_count = values.iter().filter(|value| value.is_nan()).count();
    if nan_count == values.len() {
        return Ok(BBox::default());
    }
    if nan_count > 0 {
        return Err(error(
            " (NaN is accepted only when every value of the line is NaN, meaning the target is absent)",
        ));
    }

    Ok(match values.len() {
        4 => BBox::new(values[0], values[1], values[2], values[3]),
        _ => BBox::from_polygon(&values).ok_or_else(|| error(""))?,
    })
}

/// Splits a line on commas, or on whitespace when it has no comma.
/// `None` when a comma-separated field is empty or contains whitespace.
fn split_fields(line: &str) -> Option<Vec<&str>> {
    if !line.contains(',') {
        return Some(line.split_whitespace().collect());
    }
    let mut fields = Vec::new();
    for field in line.split(',') {
        let field = field.trim();
        if field.is_empty() || field.contains(char::is_whitespace) {
            return None;
        }
        fields.push(field);
    }
    Some(fields)
}

/// Reads 0/1 flags, separated by commas or line breaks (LaSOT writes one
/// comma-separated line, GOT-10k one value per line).
pub fn read_flags(path: &Path) -> Result<Vec<bool>> {
    let values = read_integers(path, "0 or 1")?;
    values
        .into_iter()
        .map(|(line, value)| match value {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DataError::Annotation {
                file: path.to_path_buf(),
                line,
                message: format!("expected 0 or 1, found {value}"),
            }),
        })
        .collect()
}

/// Reads GOT-10k `cover.label`: one visible-area class 0–8 per line.
pub fn read_cover(path: &Path) -> Result<Vec<u8>> {
    let values = read_integers(path, "an integer from 0 to 8")?;
    values
        .into_iter()
        .map(|(line, value)| {
            u8::try_from(value)
                .ok()
                .filter(|cover| *cover <= 8)
                .ok_or_else(|| DataError::Annotation {
                    file: path.to_path_buf(),
                    line,
                    message: format!("expected an integer from 0 to 8, found {value}"),
                })
        })
        .collect()
}

/// Reads non-negative integers separated by commas or line breaks, with the
/// 1-based line number of each.
fn read_integers(path: &Path, expected: &str) -> Result<Vec<(usize, u64)>> {
    let text = read_text(path)?;
    let lines = content_lines(path, &text)?;
    let mut values = Vec::new();
    for (index, line) in lines.into_iter().enumerate() {
        for field in line.split(',') {
            let field = field.trim();
            let value = field.parse().map_err(|_| DataError::Annotation {
                file: path.to_path_buf(),
                line: index + 1,
                message: format!("expected {expected}, found {field:?}"),
            })?;
            values.push((index + 1, value));
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, format: BoxFormat) -> Result<Vec<BBox>> {
        parse_boxes(Path::new("groundtruth.txt"), text, format)
    }

    #[test]
    fn separators_commas_tabs_spaces() {
        let text = "1,2,3,4\n5\t6\t7\t8\n9 10  11 12\n13, 14, 15, 16\n\n";
        let boxes = parse(text, BoxFormat::Rect).unwrap();
        assert_eq!(boxes.len(), 4);
        assert_eq!(boxes[1], BBox::new(5.0, 6.0, 7.0, 8.0));
        assert_eq!(boxes[3], BBox::new(13.0, 14.0, 15.0, 16.0));
    }

    #[test]
    fn wrong_field_count_names_file_and_line() {
        let mut text = "1,2,3,4\n".repeat(16);
        text.push_str("12,34,NaN\n");
        let message = parse(&text, BoxFormat::Rect).unwrap_err().to_string();
        assert_eq!(
            message,
            "groundtruth.txt line 17: expected 4 numbers separated by commas, \
             tabs or spaces, found \"12,34,NaN\""
        );
    }

    #[test]
    fn non_numeric_field_is_an_error() {
        let message = parse("1,2,abc,4", BoxFormat::Rect).unwrap_err().to_string();
        assert!(message.contains("line 1"), "{message}");
        assert!(message.contains("\"abc\" is not a number"), "{message}");
    }

    #[test]
    fn all_nan_line_is_absent_target() {
        let boxes = parse("1,2,3,4\nNaN,NaN,NaN,NaN\n", BoxFormat::Rect).unwrap();
        assert_eq!(boxes[1], BBox::default());
        assert!(!boxes[1].is_valid());
    }

    #[test]
    fn partial_nan_line_is_an_error() {
        let message = parse("1,2,NaN,4", BoxFormat::Rect).unwrap_err().to_string();
        assert!(
            message.contains("every value of the line is NaN"),
            "{message}"
        );
    }

    #[test]
    fn infinite_value_is_an_error() {
        let message = parse("1,2,inf,4", BoxFormat::Rect).unwrap_err().to_string();
        assert!(message.contains("is infinite"), "{message}");
    }

    #[test]
    fn negative_size_is_kept_invalid() {
        let boxes = parse("1,2,-3,4", BoxFormat::Rect).unwrap();
        assert_eq!(boxes[0], BBox::new(1.0, 2.0, -3.0, 4.0));
        assert!(!boxes[0].is_valid());
    }

    #[test]
    fn empty_line_inside_is_an_error() {
        let message = parse("1,2,3,4\n\n5,6,7,8", BoxFormat::Rect)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("groundtruth.txt line 2: empty line"),
            "{message}"
        );
    }

    #[test]
    fn mixed_separators_are_an_error() {
        let message = parse("1 2,3,4", BoxFormat::Rect).unwrap_err().to_string();
        assert!(message.contains("mixed separators"), "{message}");
    }

    #[test]
    fn polygon_allowed_only_for_vot() {
        let line = "0,0,4,0,4,2,0,2";
        assert!(parse(line, BoxFormat::Rect).is_err());
        let boxes = parse(line, BoxFormat::RectOrPolygon).unwrap();
        assert_eq!(boxes[0], BBox::new(0.0, 0.0, 4.0, 2.0));
    }

    #[test]
    fn vot_mask_line_is_rejected() {
        let message = parse("m12,3,4", BoxFormat::RectOrPolygon)
            .unwrap_err()
            .to_string();
        assert!(message.contains("segmentation mask"), "{message}");
    }

    #[test]
    fn flags_read_one_line_and_per_line() {
        let folder = tempfile::tempdir().unwrap();
        let one_line = folder.path().join("full_occlusion.txt");
        fs::write(&one_line, "0,1,0,0\n").unwrap();
        assert_eq!(read_flags(&one_line).unwrap(), [false, true, false, false]);

        let per_line = folder.path().join("absence.label");
        fs::write(&per_line, "0\n0\n1\n").unwrap();
        assert_eq!(read_flags(&per_line).unwrap(), [false, false, true]);

        fs::write(&per_line, "0\n2\n").unwrap();
        let message = read_flags(&per_line).unwrap_err().to_string();
        assert!(
            message.ends_with("line 2: expected 0 or 1, found 2"),
            "{message}"
        );
    }

    #[test]
    fn cover_accepts_zero_to_eight() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("cover.label");
        fs::write(&path, "8\n0\n3\n").unwrap();
        assert_eq!(read_cover(&path).unwrap(), [8, 0, 3]);
        fs::write(&path, "9\n").unwrap();
        assert!(read_cover(&path).is_err());
    }
}
