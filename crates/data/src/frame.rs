//! Decoding frames from disk.

use std::path::Path;

pub use image::RgbImage;

use crate::error::{DataError, Result};

/// Decodes an image file (JPEG or PNG) to 8-bit RGB.
///
/// Grayscale files are expanded to three equal channels. A missing file is
/// an [`DataError::Io`] error and a corrupt one an [`DataError::ImageDecode`]
/// error, both naming the path.
pub fn load_frame(path: &Path) -> Result<RgbImage> {
    let reader = image::ImageReader::open(path)
        .map_err(|source| DataError::io(path, source))?
        .with_guessed_format()
        .map_err(|source| DataError::io(path, source))?;
    let decoded = reader.decode().map_err(|source| DataError::ImageDecode {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(decoded.into_rgb8())
}
