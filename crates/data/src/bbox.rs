//! Axis-aligned boxes in the `[x, y, w, h]` convention of the tracking benchmarks.

/// An axis-aligned box: `(x, y)` is the top-left corner, `w` and `h` the size.
///
/// Coordinates are continuous: pixel `i` covers `[i, i + 1)`, so an image of
/// width `W` spans `[0, W)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl BBox {
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self { x, y, w, h }
    }

    /// Builds a box from its centre and size.
    pub fn from_center(cx: f32, cy: f32, w: f32, h: f32) -> Self {
        Self::new(cx - 0.5 * w, cy - 0.5 * h, w, h)
    }

    /// Builds the tightest axis-aligned box around a polygon given as
    /// `[x1, y1, x2, y2, …]`; `None` for fewer than one point.
    pub fn from_polygon(points: &[f32]) -> Option<Self> {
        if points.len() < 2 {
            return None;
        }
        let xs = points.iter().step_by(2);
        let ys = points.iter().skip(1).step_by(2);
        let x_min = xs.clone().copied().fold(f32::INFINITY, f32::min);
        let x_max = xs.copied().fold(f32::NEG_INFINITY, f32::max);
        let y_min = ys.clone().copied().fold(f32::INFINITY, f32::min);
        let y_max = ys.copied().fold(f32::NEG_INFINITY, f32::max);
        Some(Self::new(x_min, y_min, x_max - x_min, y_max - y_min))
    }

    pub const fn to_array(self) -> [f32; 4] {
        [self.x, self.y, self.w, self.h]
    }

    /// True when the box is finite and has a positive width and height.
    pub fn is_valid(self) -> bool {
        self.w > 0.0 && self.h > 0.0 && self.x.is_finite() && self.y.is_finite()
    }

    pub fn center(self) -> (f32, f32) {
        (self.x + 0.5 * self.w, self.y + 0.5 * self.h)
    }

    /// Mirrors the box in an image of the given width, as a horizontal flip of
    /// the whole image moves it.
    pub fn flip_horizontal(self, image_width: f32) -> Self {
        Self::new(image_width - self.x - self.w, self.y, self.w, self.h)
    }

    /// Divides every coordinate by `scale`, for example to normalise by a crop size.
    pub fn normalized(self, scale: f32) -> Self {
        Self::new(
            self.x / scale,
            self.y / scale,
            self.w / scale,
            self.h / scale,
        )
    }
}

impl From<[f32; 4]> for BBox {
    fn from(values: [f32; 4]) -> Self {
        Self::new(values[0], values[1], values[2], values[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_gives_its_bounding_box() {
        let polygon = [
            334.02, 128.36, 438.19, 188.78, 396.39, 260.83, 292.23, 200.41,
        ];
        let bbox = BBox::from_polygon(&polygon).unwrap();
        assert_eq!(bbox.x, 292.23);
        assert_eq!(bbox.y, 128.36);
        assert!((bbox.w - 145.96).abs() < 1e-3);
        assert!((bbox.h - 132.47).abs() < 1e-3);
    }

    #[test]
    fn validity_needs_positive_size() {
        assert!(BBox::new(0.0, 0.0, 1.0, 1.0).is_valid());
        assert!(!BBox::new(0.0, 0.0, 0.0, 1.0).is_valid());
        assert!(!BBox::new(0.0, 0.0, 1.0, -2.0).is_valid());
        assert!(!BBox::new(f32::NAN, 0.0, 1.0, 1.0).is_valid());
    }

    #[test]
    fn horizontal_flip_mirrors_the_box() {
        let flipped = BBox::new(10.0, 5.0, 20.0, 8.0).flip_horizontal(100.0);
        assert_eq!(flipped, BBox::new(70.0, 5.0, 20.0, 8.0));
    }
}
