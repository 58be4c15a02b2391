//! Lines of numbers as the toolkits write them: fields separated by commas,
//! tabs or spaces.
//!
//! A separator is any run of tabs and spaces containing at most one comma,
//! so `1,2,3,4`, `1, 2, 3, 4`, `1\t2\t3\t4` and `1 2 3 4` all read the same.
//! Two commas in a row, or a comma at either end of a line, leave a field
//! empty and are rejected. Values parse as Rust `f64`, which accepts `nan`,
//! `NaN`, `inf` and exponents. Blank lines at the end of a file are ignored,
//! but a blank line before the last number line is an error because it would
//! shift every later frame.

use std::path::Path;

use crate::error::AnalysisError;

/// How many values each line must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldCount {
    Exactly(usize),
    AtLeastOne,
}

/// One parsed line with its 1-based line number in the file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NumberLine {
    pub line: usize,
    pub values: Vec<f64>,
}

/// Maximum length, in characters, of a bad line quoted in an error message.
const QUOTE_LIMIT: usize = 80;

pub(crate) fn read_text(path: &Path) -> Result<String, AnalysisError> {
    std::fs::read_to_string(path).map_err(|source| AnalysisError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses every line of `text` into numbers; `path` names the file in errors.
pub(crate) fn parse_number_lines(
    text: &str,
    path: &Path,
    count: FieldCount,
) -> Result<Vec<NumberLine>, AnalysisError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().collect();
    let last_content = lines.iter().rposition(|line| !is_blank(line));
    let Some(last_content) = last_content else {
        return Ok(Vec::new());
    };

    let mut parsed = Vec::with_capacity(last_content + 1);
    for (index, line) in lines[..=last_content].iter().enumerate() {
        let line_number = index + 1;
        if is_blank(line) {
            return Err(AnalysisError::EmptyLine {
                path: path.to_path_buf(),
                line: line_number,
            });
        }
        let values = parse_line(line, path, line_number, count)?;
        parsed.push(NumberLine {
            line: line_number,
            values,
        });
    }
    Ok(parsed)
}

fn parse_line(
    line: &str,
    path: &Path,
    line_number: usize,
    count: FieldCount,
) -> Result<Vec<f64>, AnalysisError> {
    let parse_error = |detail: String| AnalysisError::Parse {
        path: path.to_path_buf(),
        line: line_number,
        expected: format!("{}{detail}", describe(count)),
        found: quote(line),
    };

    let fields = split_fields(line)
        .ok_or_else(|| parse_error(" (a value between two separators is empty)".into()))?;

    let count_matches = match count {
        FieldCount::Exactly(expected) => fields.len() == expected,
        FieldCount::AtLeastOne => !fields.is_empty(),
    };
    if !count_matches {
        return Err(parse_error(String::new()));
    }

    fields
        .iter()
        .map(|field| {
            field
                .parse::<f64>()
                .map_err(|_| parse_error(format!(" (\"{}\" is not a number)", quote(field))))
        })
        .collect()
}

/// Splits a line into fields, or returns `None` when a field is empty.
pub(crate) fn split_fields(line: &str) -> Option<Vec<&str>> {
    let mut rest = line.trim_matches(is_blank_char);
    let mut fields = Vec::new();

    while !rest.is_empty() {
        let field_end = rest.find(is_separator).unwrap_or(rest.len());
        if field_end == 0 {
            return None;
        }
        fields.push(&rest[..field_end]);
        rest = &rest[field_end..];

        let separator_end = rest.find(|c| !is_separator(c)).unwrap_or(rest.len());
        let separator = &rest[..separator_end];
        if separator.matches(',').count() > 1 {
            return None;
        }
        rest = &rest[separator_end..];
        // The line was trimmed of blanks, so a separator at its end contains a comma.
        if rest.is_empty() && !separator.is_empty() {
            return None;
        }
    }
    Some(fields)
}

/// Formats a value with a fixed number of decimals, or fails on a non-finite value.
pub(crate) fn format_fixed(value: f64, decimals: usize) -> Option<String> {
    value.is_finite().then(|| format!("{value:.decimals$}"))
}

fn describe(count: FieldCount) -> String {
    match count {
        FieldCount::Exactly(1) => "1 number".to_string(),
        FieldCount::Exactly(n) => format!("{n} numbers separated by commas, tabs or spaces"),
        FieldCount::AtLeastOne => {
            "one or more numbers separated by commas, tabs or spaces".to_string()
        }
    }
}

fn quote(text: &str) -> String {
    let text = text.trim_end_matches(['\r', '\n']);
    if text.chars().count() <= QUOTE_LIMIT {
        return text.to_string();
    }
    let mut excerpt: String = text.chars().take(QUOTE_LIMIT).collect();
    excerpt.push('…');
    excerpt
}

fn is_separator(c: char) -> bool {
    c == ',' || is_blank_char(c)
}

fn is_blank_char(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\r'
}

fn is_blank(line: &str) -> bool {
    line.chars().all(is_blank_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, count: FieldCount) -> Result<Vec<NumberLine>, AnalysisError> {
        parse_number_lines(text, Path::new("boxes.txt"), count)
    }

    #[test]
    fn separators_commas_tabs_spaces() {
        for line in [
            "1,2,3,4",
            "1, 2, 3, 4",
            "1\t2\t3\t4",
            "1 2  3 4",
            " 1 ,\t2,3 ,4 \r",
        ] {
            let fields = split_fields(line);

            assert_eq!(fields, Some(vec!["1", "2", "3", "4"]), "{line:?}");
        }
    }

    #[test]
    fn empty_fields_are_rejected() {
        for line in ["1,,2,3", ",1,2,3", "1,2,3,", "1, ,2"] {
            assert_eq!(split_fields(line), None, "{line:?}");
        }
    }

    #[test]
    fn lines_parse_with_their_numbers() {
        let lines = parse("1,2,3,4\n5\t6\t7\t8\n\n\n", FieldCount::Exactly(4)).unwrap();

        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].line, 2);
        assert_eq!(lines[1].values, vec![5.0, 6.0, 7.0, 8.0]);
    }

    #[test]
    fn nan_and_exponents_parse() {
        let lines = parse("NaN,nan,1e2,-inf\n", FieldCount::Exactly(4)).unwrap();
        let values = &lines[0].values;

        assert!(values[0].is_nan());
        assert!(values[1].is_nan());
        assert_eq!(values[2], 100.0);
        assert_eq!(values[3], f64::NEG_INFINITY);
    }

    #[test]
    fn wrong_count_names_line_and_text() {
        let error = parse("1,2,3,4\n1,2,3\n", FieldCount::Exactly(4)).unwrap_err();

        assert_eq!(
            error.to_string(),
            "boxes.txt line 2: expected 4 numbers separated by commas, tabs or spaces, \
             found \"1,2,3\""
        );
    }

    #[test]
    fn non_numeric_text_names_the_field() {
        let error = parse("1,2,3,4\n1,2,x3,4\n", FieldCount::Exactly(4)).unwrap_err();

        assert_eq!(
            error.to_string(),
            "boxes.txt line 2: expected 4 numbers separated by commas, tabs or spaces \
             (\"x3\" is not a number), found \"1,2,x3,4\""
        );
    }

    #[test]
    fn blank_line_inside_file_is_rejected() {
        let error = parse("1,2,3,4\n\n1,2,3,4\n", FieldCount::Exactly(4)).unwrap_err();

        assert!(
            matches!(error, AnalysisError::EmptyLine { line: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let lines = parse("\u{feff}0.5\n", FieldCount::AtLeastOne).unwrap();

        assert_eq!(lines[0].values, vec![0.5]);
    }

    #[test]
    fn empty_text_has_no_lines() {
        assert!(parse("", FieldCount::AtLeastOne).unwrap().is_empty());
        assert!(parse("\n \n", FieldCount::AtLeastOne).unwrap().is_empty());
    }

    #[test]
    fn long_lines_are_shortened_in_errors() {
        let long = vec!["1"; 100].join(",");

        let error = parse(&long, FieldCount::Exactly(4)).unwrap_err();

        assert!(error.to_string().ends_with("1,…\""), "{error}");
    }

    #[test]
    fn fixed_format_rejects_non_finite() {
        assert_eq!(format_fixed(1.23456, 3).as_deref(), Some("1.235"));
        assert_eq!(format_fixed(f64::NAN, 3), None);
    }
}
