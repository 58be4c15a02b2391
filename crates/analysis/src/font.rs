//! The font compiled into the crate for plot text.
//!
//! plotters' `ab_glyph` backend draws text only with fonts registered at run
//! time, so the crate ships a Latin subset of DejaVu Sans (`fonts/`, with
//! its licence) instead of loading system fonts through fontconfig.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::error::AnalysisError;

/// Font family name the plots ask for.
pub(crate) const FONT_FAMILY: &str = "sans-serif";

static FONT_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans-Latin.ttf");

/// Registers the built-in font once per process.
///
/// The font is registered as plotters' `sans-serif` family, so it also
/// serves any other plotters chart drawn in the same process.
pub(crate) fn ensure_font() -> Result<(), AnalysisError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered =
        REGISTERED.get_or_init(|| register_font(FONT_FAMILY, FontStyle::Normal, FONT_DATA).is_ok());
    if *registered {
        Ok(())
    } else {
        Err(AnalysisError::Font)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_font_registers() {
        assert!(ensure_font().is_ok());
    }
}
