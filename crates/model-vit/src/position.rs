//! Fixed 2-D sine-cosine positional tables (the MAE convention).

use burn::tensor::{Device, Tensor, TensorData};

/// Builds the `[1, grid * grid, dim]` table for a square token grid.
///
/// The first `dim / 2` channels encode the column index x and the last `dim / 2`
/// the row index y. Each half is `[sin(p * w_k), cos(p * w_k)]` for
/// `w_k = 10000^(-k / (dim / 4))`, `k = 0 .. dim / 4`. Values are computed in
/// `f64` and rounded once, as NumPy does before PyTorch casts them to `f32`.
/// `dim` must be a multiple of 4, which [`crate::VitConfig::validate`] does not
/// require, so the caller checks it.
pub fn sincos_table(grid: usize, dim: usize, device: &Device) -> Tensor<3> {
    let values = sincos_values(grid, dim);
    Tensor::from_data(TensorData::new(values, [1, grid * grid, dim]), device)
}

/// Computes the table of [`sincos_table`] as row-major `f32` values.
pub fn sincos_values(grid: usize, dim: usize) -> Vec<f32> {
    let quarter = dim / 4;
    let frequencies: Vec<f64> = (0..quarter)
        .map(|k| 1.0 / 10000f64.powf(k as f64 / quarter as f64))
        .collect();

    let mut values = Vec::with_capacity(grid * grid * dim);
    for row in 0..grid {
        for column in 0..grid {
            for position in [column, row] {
                let p = position as f64;
                values.extend(frequencies.iter().map(|w| (p * w).sin() as f32));
                values.extend(frequencies.iter().map(|w| (p * w).cos() as f32));
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_half_encodes_the_column_and_second_half_the_row() {
        let dim = 8;
        let table = sincos_values(3, dim);
        // Token 1 is row 0, column 1: sin(1 * w_0) = sin(1) in channel 0, and the
        // row half starts with sin(0) = 0 and cos(0) = 1.
        let token = &table[dim..2 * dim];
        assert!((token[0] - 1f32.sin()).abs() < 1e-7);
        assert_eq!(token[4], 0.0);
        assert_eq!(token[6], 1.0);
        // Token 3 is row 1, column 0.
        let token = &table[3 * dim..4 * dim];
        assert_eq!(token[0], 0.0);
        assert!((token[4] - 1f32.sin()).abs() < 1e-7);
    }

    #[test]
    fn frequencies_fall_geometrically() {
        let dim = 16;
        let table = sincos_values(2, dim);
        // Column 1, channel k < dim / 4 is sin(10000^(-k / 4)).
        let token = &table[dim..2 * dim];
        for (k, value) in token.iter().take(4).enumerate() {
            let expected = (10000f64.powf(-(k as f64) / 4.0)).sin() as f32;
            assert!((value - expected).abs() < 1e-7, "channel {k}");
        }
    }
}
