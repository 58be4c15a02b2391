//! The fused crop, zero-pad and bilinear resize of a square region around a box.
//!
//! Convention: pixel `i` covers `[i, i + 1)` and its value sits at `i + 0.5`
//! (OpenCV's and PyTorch's `align_corners=False` half-pixel convention). The
//! window is a square of side `ceil(sqrt(w·h) · factor)` centred on the box,
//! at a fractional position, so the box centre lands exactly on the crop
//! centre. Output pixel `u` samples the image at `x0 + (u + 0.5) · side /
//! size`, bilinearly between the two nearest pixel centres; pixels outside
//! the image are zero.
//!
//! This equals `cv2.resize(INTER_LINEAR)` of the zero-padded crop that the
//! reference cuts, with three differences. The reference rounds the window to
//! whole pixels, a shift of up to half a source pixel. It drops the last
//! image row and column when the window reaches past them. When enlarging,
//! OpenCV repeats the crop's outermost pixels where we read the image pixel
//! just outside the window. Values are computed in `f32` and not rounded to
//! 8 bits.

use crate::bbox::BBox;
use crate::error::{DataError, Result};
use crate::frame::RgbImage;
use crate::padding::PaddingMask;

/// The square region of an image that a crop samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CropWindow {
    /// Top-left corner of the window in image pixels.
    pub x0: f32,
    pub y0: f32,
    /// Side of the window in image pixels.
    pub side: f32,
    /// Side of the output crop in pixels.
    pub output_size: usize,
}

impl CropWindow {
    /// Builds the window of side `ceil(sqrt(w·h) · factor)` centred on `bbox`;
    /// `None` when that side is below one pixel or not finite.
    pub fn around(bbox: BBox, factor: f32, output_size: usize) -> Option<Self> {
        let side = ((bbox.w * bbox.h).sqrt() * factor).ceil();
        if !(side.is_finite() && side >= 1.0) || output_size == 0 {
            return None;
        }
        let (cx, cy) = bbox.center();
        Some(Self {
            x0: cx - 0.5 * side,
            y0: cy - 0.5 * side,
            side,
            output_size,
        })
    }

    /// Output pixels per image pixel.
    pub fn resize_factor(&self) -> f32 {
        self.output_size as f32 / self.side
    }

    /// Maps a box from image pixels to crop pixels.
    pub fn box_to_crop(&self, bbox: BBox) -> BBox {
        let scale = self.resize_factor();
        BBox::new(
            (bbox.x - self.x0) * scale,
            (bbox.y - self.y0) * scale,
            bbox.w * scale,
            bbox.h * scale,
        )
    }

    /// Maps a box from crop pixels back to image pixels.
    pub fn box_from_crop(&self, bbox: BBox) -> BBox {
        let scale = self.resize_factor();
        BBox::new(
            self.x0 + bbox.x / scale,
            self.y0 + bbox.y / scale,
            bbox.w / scale,
            bbox.h / scale,
        )
    }
}

/// Whole-frame augmentations, applied while sampling instead of on a copy
/// of the frame: the result equals flipping or graying the frame first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameTransform {
    /// Sample the left-right mirror of the frame.
    pub flip_horizontal: bool,
    /// Replace RGB by the luma `0.299 R + 0.587 G + 0.114 B` in every channel.
    pub grayscale: bool,
}

/// A square crop in channel-major layout `[3, size, size]`, values in `[0, 1]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Crop {
    pub size: usize,
    pub pixels: Vec<f32>,
    pub window: CropWindow,
    pub padding: PaddingMask,
}

/// The two bilinear taps of one output column or row. Taps outside the
/// image get weight zero and a clamped, safe index.
#[derive(Clone, Copy)]
struct Taps {
    low: usize,
    high: usize,
    weight_low: f32,
    weight_high: f32,
    touches_padding: bool,
}

fn taps(start: f32, step: f32, count: usize, extent: usize, mirrored: bool) -> Vec<Taps> {
    let last = extent as i64 - 1;
    (0..count)
        .map(|u| {
            let mut position = start + (u as f32 + 0.5) * step - 0.5;
            if mirrored {
                position = last as f32 - position;
            }
            let floor = position.floor();
            let fraction = position - floor;
            let low = floor as i64;
            let high = low + 1;
            let inside = |index: i64| (0..=last).contains(&index);
            let mut weight_low = 1.0 - fraction;
            let mut weight_high = fraction;
            let mut touches_padding = false;
            if !inside(low) {
                touches_padding |= weight_low > 0.0;
                weight_low = 0.0;
            }
            if !inside(high) {
                touches_padding |= weight_high > 0.0;
                weight_high = 0.0;
            }
            Taps {
                low: low.clamp(0, last.max(0)) as usize,
                high: high.clamp(0, last.max(0)) as usize,
                weight_low,
                weight_high,
                touches_padding,
            }
        })
        .collect()
}

/// Samples `window` of `frame`, after the whole-frame `transform`.
pub fn crop_frame(frame: &RgbImage, window: &CropWindow, transform: FrameTransform) -> Crop {
    let (width, height) = (frame.width() as usize, frame.height() as usize);
    let size = window.output_size;
    if width == 0 || height == 0 {
        return Crop {
            size,
            pixels: vec![0.0; 3 * size * size],
            window: *window,
            padding: PaddingMask {
                columns: vec![true; size],
                rows: vec![true; size],
            },
        };
    }
    let step = window.side / size as f32;

    // A flipped frame is the original read at mirrored columns, and the
    // window is given in the flipped frame's coordinates.
    let columns = taps(window.x0, step, size, width, transform.flip_horizontal);
    let rows = taps(window.y0, step, size, height, false);

    let source = frame.as_raw();
    let mut pixels = vec![0.0f32; 3 * size * size];
    let plane = size * size;
    let stride = 3 * width;
    let (red, rest) = pixels.split_at_mut(plane);
    let (green, blue) = rest.split_at_mut(plane);
    for (v, row) in rows.iter().enumerate() {
        let top = &source[row.low * stride..(row.low + 1) * stride];
        let bottom = &source[row.high * stride..(row.high + 1) * stride];
        // Folding 1/255 into the row weights saves a division per value.
        let weight_top = row.weight_low / 255.0;
        let weight_bottom = row.weight_high / 255.0;
        for (u, column) in columns.iter().enumerate() {
            let (left, right) = (3 * column.low, 3 * column.high);
            let mut rgb = [0.0f32; 3];
            for (channel, value) in rgb.iter_mut().enumerate() {
                let top_value = column.weight_low * f32::from(top[left + channel])
                    + column.weight_high * f32::from(top[right + channel]);
                let bottom_value = column.weight_low * f32::from(bottom[left + channel])
                    + column.weight_high * f32::from(bottom[right + channel]);
                *value = weight_top * top_value + weight_bottom * bottom_value;
            }
            if transform.grayscale {
                let luma = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
                rgb = [luma; 3];
            }
            let offset = v * size + u;
            red[offset] = rgb[0];
            green[offset] = rgb[1];
            blue[offset] = rgb[2];
        }
    }

    let padding = PaddingMask {
        columns: columns.iter().map(|t| t.touches_padding).collect(),
        rows: rows.iter().map(|t| t.touches_padding).collect(),
    };
    Crop {
        size,
        pixels,
        window: *window,
        padding,
    }
}

/// Crops a square of side `ceil(sqrt(w·h) · factor)` around `bbox`, resized
/// to `output_size`, as the tracker does for its template and search region.
/// Map predicted boxes back with `crop.window.box_from_crop`.
pub fn crop_around_box(
    frame: &RgbImage,
    bbox: BBox,
    factor: f32,
    output_size: usize,
) -> Result<Crop> {
    let window = CropWindow::around(bbox, factor, output_size).ok_or_else(|| {
        DataError::InvalidParameter {
            name: "bbox",
            message: format!(
                "cannot crop around {bbox:?} at factor {factor} to {output_size} px: \
                 the crop side would be below one pixel"
            ),
        }
    })?;
    Ok(crop_frame(frame, &window, FrameTransform::default()))
}

impl Crop {
    /// Mirrors the crop left to right, with its padding mask.
    pub fn flip_horizontal(&mut self) {
        for line in self.pixels.chunks_mut(self.size) {
            line.reverse();
        }
        self.padding.flip_horizontal();
    }

    /// Returns the value of `channel` at pixel `(x, y)`.
    pub fn value(&self, channel: usize, x: usize, y: usize) -> f32 {
        self.pixels[(channel * self.size + y) * self.size + x]
    }
}
