//! Padding masks: the pixels of a crop sampled (partly) from the zero padding.

/// Padding flags of a square crop.
///
/// Bilinear sampling is separable, so a pixel touches the padding exactly
/// when its column or its row does: two vectors describe the whole mask.
/// A pixel counts as padding when any sample outside the image has a
/// non-zero weight in it, as the reference's `bool(resize(mask))` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaddingMask {
    /// One flag per output column.
    pub columns: Vec<bool>,
    /// One flag per output row.
    pub rows: Vec<bool>,
}

impl PaddingMask {
    /// True when pixel `(x, y)` of the crop touches the padding.
    pub fn is_padding(&self, x: usize, y: usize) -> bool {
        self.columns[x] || self.rows[y]
    }

    /// True when every pixel touches the padding: all columns or all rows do.
    pub fn is_all_padding(&self) -> bool {
        self.columns.iter().all(|c| *c) || self.rows.iter().all(|r| *r)
    }

    /// True when every cell of a `grid × grid` nearest-neighbour
    /// down-sampling of the mask touches the padding.
    ///
    /// Cell `i` reads pixel `floor(i · size / grid)`, which is what
    /// PyTorch's `interpolate(mode="nearest")` picks; the reference uses it
    /// with `grid = size / 16`, one cell per backbone token.
    pub fn is_all_padding_on_grid(&self, grid: usize) -> bool {
        let on_grid = |flags: &[bool]| {
            let scale = flags.len() as f32 / grid as f32;
            (0..grid).all(|i| {
                let source = ((i as f32 * scale).floor() as usize).min(flags.len() - 1);
                flags[source]
            })
        };
        grid > 0 && (on_grid(&self.columns) || on_grid(&self.rows))
    }

    /// Mirrors the mask left to right, as a horizontal flip of the crop does.
    pub fn flip_horizontal(&mut self) {
        self.columns.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_padding_needs_full_rows_or_columns() {
        let mut mask = PaddingMask {
            columns: vec![true, true, false, false],
            rows: vec![false; 4],
        };
        assert!(!mask.is_all_padding());
        assert!(mask.is_padding(0, 3));
        assert!(!mask.is_padding(2, 3));
        mask.rows = vec![true; 4];
        assert!(mask.is_all_padding());
    }

    #[test]
    fn grid_check_reads_cell_corners() {
        // 32 px, grid 2: cells read pixels 0 and 16.
        let mut columns = vec![true; 32];
        columns[17] = false;
        let mask = PaddingMask {
            columns,
            rows: vec![false; 32],
        };
        assert!(!mask.is_all_padding());
        assert!(mask.is_all_padding_on_grid(2));

        let mut columns = vec![true; 32];
        columns[16] = false;
        let mask = PaddingMask {
            columns,
            rows: vec![false; 32],
        };
        assert!(!mask.is_all_padding_on_grid(2));
    }

    #[test]
    fn flip_reverses_columns() {
        let mut mask = PaddingMask {
            columns: vec![true, false, false],
            rows: vec![false; 3],
        };
        mask.flip_horizontal();
        assert_eq!(mask.columns, [false, false, true]);
    }
}
