/// An axis-aligned box `(x, y, w, h)` in pixels: top-left corner, width and height.
///
/// This is the layout of every benchmark's ground truth and of the result
/// files the toolkits read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoundingBox {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl BoundingBox {
    pub const fn new(x: f64, y: f64, width: f64, height: f64) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// Builds a box from its corners `(x1, y1, x2, y2)`, so the width is `x2 - x1`.
    pub fn from_corners(x1: f64, y1: f64, x2: f64, y2: f64) -> Self {
        Self::new(x1, y1, x2 - x1, y2 - y1)
    }

    /// Returns a box whose every coordinate is NaN, which marks a frame without a usable prediction.
    pub const fn missing() -> Self {
        Self::new(f64::NAN, f64::NAN, f64::NAN, f64::NAN)
    }

    pub fn to_array(self) -> [f64; 4] {
        [self.x, self.y, self.width, self.height]
    }

    pub fn is_finite(&self) -> bool {
        self.to_array().iter().all(|value| value.is_finite())
    }

    /// Checks that every coordinate is finite and both sides are positive.
    ///
    /// Ground truth that fails this check marks a frame without a target, and a
    /// prediction that fails it cannot overlap anything.
    pub fn is_valid(&self) -> bool {
        self.is_finite() && self.width > 0.0 && self.height > 0.0
    }

    /// Returns the centre `(x + w/2, y + h/2)`.
    ///
    /// pytracking uses `x + (w - 1)/2`; the offset is the same for both boxes
    /// of a frame, so centre errors do not change.
    pub fn center(&self) -> (f64, f64) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    pub fn area(&self) -> f64 {
        self.width * self.height
    }
}

/// Image width and height in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageSize {
    pub width: f64,
    pub height: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_convert_to_width_and_height() {
        let corners = BoundingBox::from_corners(367.0, 101.0, 408.0, 117.0);

        assert_eq!(corners, BoundingBox::new(367.0, 101.0, 41.0, 16.0));
    }

    #[test]
    fn validity_needs_finite_positive_size() {
        assert!(BoundingBox::new(0.0, 0.0, 1.0, 1.0).is_valid());
        assert!(!BoundingBox::new(0.0, 0.0, 0.0, 1.0).is_valid());
        assert!(!BoundingBox::new(0.0, 0.0, 1.0, -1.0).is_valid());
        assert!(!BoundingBox::new(f64::NAN, 0.0, 1.0, 1.0).is_valid());
        assert!(!BoundingBox::new(0.0, 0.0, f64::INFINITY, 1.0).is_valid());
        assert!(!BoundingBox::missing().is_valid());
    }

    #[test]
    fn center_is_midpoint() {
        assert_eq!(
            BoundingBox::new(10.0, 20.0, 4.0, 6.0).center(),
            (12.0, 23.0)
        );
    }
}
