//! Mapping the network's box from the search crop back into the image.
//!
//! Boxes are `(x, y, w, h)` in image pixels with continuous coordinates: pixel
//! `i` covers `[i, i + 1)`, so an image of width `W` spans `[0, W)`.

use mixformer_data::BBox;

/// Moves a predicted `(cx, cy, w, h)` box, already scaled from the unit crop to
/// image pixels, from crop coordinates into image coordinates.
///
/// The search crop of side `crop_side` is centred on the previous box, so the
/// crop's origin lies half a side up and left of the previous centre. This is
/// the reference tracker's `map_box_back`. The reference rounds the crop window
/// to whole pixels and this mapping ignores that rounding, a shift of up to half
/// a pixel. Our crops sit at the exact fractional position, so here the mapping
/// is exact.
pub fn map_box_back(previous: BBox, predicted: [f32; 4], crop_side: f32) -> BBox {
    let (previous_cx, previous_cy) = previous.center();
    let [cx, cy, w, h] = predicted;
    let half_side = 0.5 * crop_side;
    let cx = cx + (previous_cx - half_side);
    let cy = cy + (previous_cy - half_side);
    BBox::from_center(cx, cy, w, h)
}

/// Clips a box into a `width` x `height` image while keeping at least `margin`
/// pixels of width and height, as the reference's `clip_box` does.
///
/// The left and top edges are clamped to `[0, W - margin]` and `[0, H - margin]`,
/// the right and bottom edges to `[margin, W]` and `[margin, H]`, and a side that
/// comes out below `margin` is widened to `margin` from its left or top edge. A
/// box entirely left of the image therefore becomes `[0, margin)`, and one
/// entirely right of it becomes `[W - margin, W)`. In an image narrower than
/// `margin` the width still becomes `margin`, so such a box extends past the
/// image.
pub fn clip_box(bbox: BBox, width: f32, height: f32, margin: f32) -> BBox {
    let (x1, x2) = clip_interval(bbox.x, bbox.x + bbox.w, width, margin);
    let (y1, y2) = clip_interval(bbox.y, bbox.y + bbox.h, height, margin);
    BBox::new(x1, y1, (x2 - x1).max(margin), (y2 - y1).max(margin))
}

/// Clamps the two edges of one axis; `f32::max` and `f32::min` follow the
/// reference's `max(0, x)` and `min(x, W)` order.
fn clip_interval(start: f32, end: f32, extent: f32, margin: f32) -> (f32, f32) {
    let start = start.max(0.0).min(extent - margin);
    let end = end.max(margin).min(extent);
    (start, end)
}

/// Computes the next tracking state from the network's output, or `None` when
/// the output is not usable and the previous state must be kept.
///
/// `output` is the `(cx, cy, w, h)` box normalised to the search crop, and
/// `crop_side` the crop's side in image pixels (`SEARCH_SIZE / resize_factor`).
/// The box is scaled to image pixels, moved relative to the previous centre
/// ([`map_box_back`]) and clipped ([`clip_box`]). A NaN or infinite value in the
/// output, or in the mapped box before clipping, gives `None`. The check comes
/// before clipping because `f32::max` and `f32::min` return the non-NaN operand
/// and would turn a NaN coordinate into an edge of the image.
pub fn next_state(
    previous: BBox,
    output: [f32; 4],
    crop_side: f32,
    image_size: (f32, f32),
    min_side: f32,
) -> Option<BBox> {
    if output.iter().any(|value| !value.is_finite()) {
        return None;
    }
    let scaled = output.map(|value| value * crop_side);
    let mapped = map_box_back(previous, scaled, crop_side);
    if mapped.to_array().iter().any(|value| !value.is_finite()) {
        return None;
    }
    Some(clip_box(mapped, image_size.0, image_size.1, min_side))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARGIN: f32 = 10.0;

    fn assert_box_eq(actual: BBox, expected: [f32; 4]) {
        let actual = actual.to_array();
        for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a - e).abs() < 1e-4,
                "coordinate {index}: {actual:?} != {expected:?}"
            );
        }
    }

    #[test]
    fn box_inside_image_is_unchanged() {
        let bbox = BBox::new(20.0, 30.0, 40.0, 50.0);
        assert_eq!(clip_box(bbox, 360.0, 240.0, MARGIN), bbox);
    }

    #[test]
    fn box_over_left_and_top_edges_is_cut() {
        let clipped = clip_box(BBox::new(-15.0, -5.0, 40.0, 30.0), 360.0, 240.0, MARGIN);
        assert_box_eq(clipped, [0.0, 0.0, 25.0, 25.0]);
    }

    #[test]
    fn box_over_right_and_bottom_edges_is_cut() {
        let clipped = clip_box(BBox::new(340.0, 230.0, 40.0, 30.0), 360.0, 240.0, MARGIN);
        assert_box_eq(clipped, [340.0, 230.0, 20.0, 10.0]);
    }

    #[test]
    fn box_left_of_image_keeps_ten_pixels() {
        let clipped = clip_box(BBox::new(-80.0, 100.0, 30.0, 40.0), 360.0, 240.0, MARGIN);
        assert_box_eq(clipped, [0.0, 100.0, 10.0, 40.0]);
    }

    #[test]
    fn box_right_of_image_keeps_ten_pixels() {
        let clipped = clip_box(BBox::new(400.0, 100.0, 30.0, 40.0), 360.0, 240.0, MARGIN);
        assert_box_eq(clipped, [350.0, 100.0, 10.0, 40.0]);
    }

    #[test]
    fn tiny_box_grows_to_ten_pixels() {
        let clipped = clip_box(BBox::new(100.0, 100.0, 2.0, 0.5), 360.0, 240.0, MARGIN);
        assert_box_eq(clipped, [100.0, 100.0, 10.0, 10.0]);
    }

    #[test]
    fn box_below_image_keeps_ten_pixels_inside() {
        let clipped = clip_box(BBox::new(50.0, 500.0, 20.0, 20.0), 360.0, 240.0, MARGIN);
        assert_box_eq(clipped, [50.0, 230.0, 20.0, 10.0]);
    }

    #[test]
    fn map_back_centres_crop_on_previous_box() {
        // Previous centre (100, 60), crop side 80: the crop origin is (60, 20).
        let previous = BBox::new(90.0, 50.0, 20.0, 20.0);
        let mapped = map_box_back(previous, [40.0, 40.0, 10.0, 30.0], 80.0);
        assert_box_eq(mapped, [95.0, 45.0, 10.0, 30.0]);

        let moved = map_box_back(previous, [0.0, 80.0, 8.0, 8.0], 80.0);
        assert_box_eq(moved, [56.0, 96.0, 8.0, 8.0]);
    }

    #[test]
    fn next_state_scales_output_by_crop_side() {
        let previous = BBox::new(90.0, 50.0, 20.0, 20.0);
        let state = next_state(
            previous,
            [0.5, 0.25, 0.125, 0.5],
            80.0,
            (360.0, 240.0),
            MARGIN,
        );
        // Centre (60 + 40, 20 + 20), size (10, 40).
        assert_box_eq(state.expect("finite output"), [95.0, 20.0, 10.0, 40.0]);
    }

    #[test]
    fn next_state_rejects_non_finite_output() {
        let previous = BBox::new(90.0, 50.0, 20.0, 20.0);
        for output in [
            [f32::NAN, 0.5, 0.1, 0.1],
            [0.5, f32::INFINITY, 0.1, 0.1],
            [0.5, 0.5, f32::NEG_INFINITY, 0.1],
            [0.5, 0.5, 0.1, f32::NAN],
        ] {
            assert_eq!(
                next_state(previous, output, 80.0, (360.0, 240.0), MARGIN),
                None
            );
        }
    }

    #[test]
    fn next_state_rejects_overflowing_box() {
        let previous = BBox::new(90.0, 50.0, 20.0, 20.0);
        let state = next_state(
            previous,
            [0.5, 0.5, 0.1, 0.1],
            f32::INFINITY,
            (360.0, 240.0),
            MARGIN,
        );
        assert_eq!(state, None);
    }
}
