//! A small table rendered as aligned plain text or as Markdown.

/// Horizontal alignment of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alignment {
    Left,
    Right,
}

/// A table of text cells with one header row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub alignments: Vec<Alignment>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: Vec<(String, Alignment)>) -> Self {
        let (header, alignments) = columns.into_iter().unzip();
        Self {
            header,
            alignments,
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells are left empty and extra cells dropped,
    /// so every row has one cell per column.
    pub fn push_row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.header.len(), String::new());
        self.rows.push(cells);
    }

    /// Renders columns padded to equal width and separated by two spaces,
    /// with a dashed rule under the header.
    pub fn to_text(&self) -> String {
        let widths = self.column_widths();
        let rule: Vec<String> = widths.iter().map(|&width| "-".repeat(width)).collect();

        let mut text = String::new();
        for row in std::iter::once(&self.header)
            .chain(std::iter::once(&rule))
            .chain(&self.rows)
        {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .zip(&self.alignments)
                .map(|((cell, &width), alignment)| pad(cell, width, *alignment))
                .collect();
            text.push_str(cells.join("  ").trim_end());
            text.push('\n');
        }
        text
    }

    /// Renders a GitHub-flavoured Markdown table; `|` in cells is escaped.
    pub fn to_markdown(&self) -> String {
        let markers: Vec<String> = self
            .alignments
            .iter()
            .map(|alignment| match alignment {
                Alignment::Left => ":---".to_string(),
                Alignment::Right => "---:".to_string(),
            })
            .collect();

        let mut text = markdown_row(&self.header);
        text.push_str(&format!("| {} |\n", markers.join(" | ")));
        for row in &self.rows {
            text.push_str(&markdown_row(row));
        }
        text
    }

    fn column_widths(&self) -> Vec<usize> {
        self.header
            .iter()
            .enumerate()
            .map(|(column, title)| {
                self.rows
                    .iter()
                    .map(|row| row.get(column).map_or(0, |cell| cell.chars().count()))
                    .chain(std::iter::once(title.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }
}

fn pad(cell: &str, width: usize, alignment: Alignment) -> String {
    match alignment {
        Alignment::Left => format!("{cell:<width$}"),
        Alignment::Right => format!("{cell:>width$}"),
    }
}

fn markdown_row(cells: &[String]) -> String {
    let escaped: Vec<String> = cells.iter().map(|cell| cell.replace('|', "\\|")).collect();
    format!("| {} |\n", escaped.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut table = Table::new(vec![
            ("Tracker".into(), Alignment::Left),
            ("AUC".into(), Alignment::Right),
        ]);
        table.push_row(vec!["MixFormerV2-B".into(), "70.60".into()]);
        table.push_row(vec!["small".into(), "5.00".into()]);
        table
    }

    #[test]
    fn text_columns_are_aligned() {
        assert_eq!(
            sample().to_text(),
            "Tracker          AUC\n\
             -------------  -----\n\
             MixFormerV2-B  70.60\n\
             small           5.00\n"
        );
    }

    #[test]
    fn markdown_has_alignment_row() {
        assert_eq!(
            sample().to_markdown(),
            "| Tracker | AUC |\n\
             | :--- | ---: |\n\
             | MixFormerV2-B | 70.60 |\n\
             | small | 5.00 |\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes() {
        let mut table = Table::new(vec![("Name".into(), Alignment::Left)]);
        table.push_row(vec!["a|b".into()]);

        assert!(table.to_markdown().ends_with("| a\\|b |\n"));
    }

    #[test]
    fn short_rows_are_padded() {
        let mut table = sample();
        table.push_row(vec!["only-name".into()]);

        assert_eq!(table.rows[2], vec!["only-name".to_string(), String::new()]);
        assert!(table.to_text().ends_with("only-name\n"));
    }
}
