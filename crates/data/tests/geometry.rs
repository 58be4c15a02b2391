//! Geometry of crops and box mappings.

mod common;

use mixformer_data::{
    AugmentationParams, BBox, CropParams, CropWindow, FrameTransform, Normalization,
    ProcessingParams, RgbImage, crop_around_box, crop_frame, load_frame, process_group,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn image_from(width: u32, height: u32, pixels: &[u8]) -> RgbImage {
    RgbImage::from_raw(
        width,
        height,
        pixels[..(3 * width * height) as usize].to_vec(),
    )
    .unwrap()
}

fn mirrored(image: &RgbImage) -> RgbImage {
    let mut flipped = image.clone();
    for (x, y, pixel) in flipped.enumerate_pixels_mut() {
        *pixel = *image.get_pixel(image.width() - 1 - x, y);
    }
    flipped
}

fn close(a: f32, b: f32, tolerance: f32) -> bool {
    (a - b).abs() <= tolerance * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn box_into_crop_and_back_is_unchanged(
        x0 in -500.0f32..500.0, y0 in -500.0f32..500.0, side in 1.0f32..2000.0,
        size in 16usize..400,
        x in -200.0f32..800.0, y in -200.0f32..800.0, w in 0.5f32..300.0, h in 0.5f32..300.0,
    ) {
        let window = CropWindow { x0, y0, side, output_size: size };
        let bbox = BBox::new(x, y, w, h);
        let back = window.box_from_crop(window.box_to_crop(bbox));
        for (a, b) in back.to_array().iter().zip(bbox.to_array()) {
            prop_assert!(close(*a, b, 1e-4), "{back:?} != {bbox:?}");
        }
    }

    #[test]
    fn unjittered_target_sits_at_crop_centre(
        x in 0.0f32..600.0, y in 0.0f32..400.0, w in 2.0f32..200.0, h in 2.0f32..200.0,
        factor in 1.5f32..6.0, size in 32usize..320,
    ) {
        let bbox = BBox::new(x, y, w, h);
        let window = CropWindow::around(bbox, factor, size).unwrap();
        let expected_side = ((w * h).sqrt() * factor).ceil();
        prop_assert_eq!(window.side, expected_side);
        let mapped = window.box_to_crop(bbox);
        let (cx, cy) = mapped.center();
        let half = size as f32 / 2.0;
        prop_assert!(close(cx, half, 1e-4), "centre x {cx}");
        prop_assert!(close(cy, half, 1e-4), "centre y {cy}");
        prop_assert!(close(mapped.w, w * size as f32 / expected_side, 1e-5));
        prop_assert!(close(mapped.h, h * size as f32 / expected_side, 1e-5));
    }

    #[test]
    fn crop_flipped_twice_is_the_original(
        width in 1u32..24, height in 1u32..24,
        pixels in proptest::collection::vec(any::<u8>(), 3 * 24 * 24),
        x0 in -10.0f32..20.0, y0 in -10.0f32..20.0, side in 1.0f32..40.0, size in 1usize..24,
    ) {
        let image = image_from(width, height, &pixels);
        let window = CropWindow { x0, y0, side, output_size: size };
        let original = crop_frame(&image, &window, FrameTransform::default());
        let mut twice = original.clone();
        twice.flip_horizontal();
        twice.flip_horizontal();
        prop_assert_eq!(&twice, &original);
        let bbox = BBox::new(x0, y0, side, side);
        prop_assert!(close(bbox.flip_horizontal(9.0).flip_horizontal(9.0).x, bbox.x, 1e-5));
    }

    #[test]
    fn fused_frame_flip_equals_flipping_the_frame(
        width in 1u32..24, height in 1u32..24,
        pixels in proptest::collection::vec(any::<u8>(), 3 * 24 * 24),
        x0 in -10.0f32..20.0, y0 in -10.0f32..20.0, side in 1.0f32..40.0, size in 1usize..24,
    ) {
        let image = image_from(width, height, &pixels);
        let window = CropWindow { x0, y0, side, output_size: size };
        let flip = FrameTransform { flip_horizontal: true, grayscale: false };
        let fused = crop_frame(&image, &window, flip);
        let explicit = crop_frame(&mirrored(&image), &window, FrameTransform::default());
        prop_assert_eq!(&fused.padding, &explicit.padding);
        for (a, b) in fused.pixels.iter().zip(&explicit.pixels) {
            prop_assert!((a - b).abs() < 1e-5, "{a} != {b}");
        }
    }
}

#[test]
fn crop_follows_half_pixel_convention() {
    // A horizontal ramp: pixel x has value x in every channel.
    let width = 16;
    let pixels: Vec<u8> = (0..4 * width)
        .flat_map(|i| [(i % width) as u8; 3])
        .collect();
    let image = image_from(width, 4, &pixels);

    // Halving: output u reads x = 2u + 0.5, the mean of pixels 2u and 2u + 1,
    // as cv2.resize(INTER_LINEAR) does.
    let window = CropWindow {
        x0: 0.0,
        y0: 0.0,
        side: 16.0,
        output_size: 8,
    };
    let crop = crop_frame(&image, &window, FrameTransform::default());
    for u in 0..8 {
        let expected = (2 * u) as f32 + 0.5;
        assert!(
            (crop.value(0, u, 1) * 255.0 - expected).abs() < 1e-3,
            "column {u}"
        );
    }
    assert!(crop.padding.columns.iter().all(|padded| !padded));

    // A window reaching one pixel past the left edge: output 0 reads
    // x = -0.5, half padding, half pixel 0.
    let window = CropWindow {
        x0: -1.0,
        y0: 0.0,
        side: 4.0,
        output_size: 4,
    };
    let crop = crop_frame(&image, &window, FrameTransform::default());
    assert!(crop.padding.columns[0]);
    assert!(!crop.padding.columns[1]);
    assert!((crop.value(0, 1, 1) * 255.0 - 0.0).abs() < 1e-4);
    assert!((crop.value(0, 2, 1) * 255.0 - 1.0).abs() < 1e-4);
}

#[test]
fn tracker_crop_maps_prediction_back() {
    let frame = load_frame(&common::crossing_dir().join("img/0001.jpg")).unwrap();
    let target = BBox::new(205.0, 151.0, 17.0, 50.0);
    let crop = crop_around_box(&frame, target, 4.5, 288).unwrap();
    assert_eq!(crop.pixels.len(), 3 * 288 * 288);
    assert_eq!(crop.window.side, ((17.0f32 * 50.0).sqrt() * 4.5).ceil());
    assert!((crop.window.resize_factor() - 288.0 / 132.0).abs() < 1e-6);
    let in_crop = crop.window.box_to_crop(target);
    let back = crop.window.box_from_crop(in_crop);
    assert!((back.x - target.x).abs() < 1e-3);
    assert!((back.h - target.h).abs() < 1e-3);
    assert!(crop_around_box(&frame, BBox::new(0.0, 0.0, 0.0, 5.0), 4.5, 288).is_err());
}

#[test]
fn unjittered_processing_centres_the_target() {
    let frame = load_frame(&common::crossing_dir().join("img/0001.jpg")).unwrap();
    let target = BBox::new(205.0, 151.0, 17.0, 50.0);
    let crop = CropParams {
        size: 64,
        factor: 2.0,
        center_jitter: 0.0,
        scale_jitter: 0.0,
    };
    let params = ProcessingParams {
        template: crop,
        search: crop,
        normalization: Normalization::default(),
        augmentation: None,
        token_stride: 16,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let processed = process_group(
        &[&frame],
        &[target],
        &crop,
        FrameTransform::default(),
        &params,
        &mut rng,
    )
    .unwrap();
    let (cx, cy) = processed[0].bbox.center();
    assert!((cx - 0.5).abs() < 1e-5);
    assert!((cy - 0.5).abs() < 1e-5);
    let side = ((17.0f32 * 50.0).sqrt() * 2.0).ceil();
    assert!((processed[0].bbox.w - 17.0 / side).abs() < 1e-5);

    // Without augmentation the pixels are the normalised tracker crop.
    let mut expected = crop_around_box(&frame, target, 2.0, 64).unwrap().pixels;
    Normalization::default().apply(&mut expected);
    assert_eq!(processed[0].pixels, expected);
}

#[test]
fn crop_flip_mirrors_normalised_box() {
    let frame = load_frame(&common::crossing_dir().join("img/0001.jpg")).unwrap();
    let target = BBox::new(190.0, 151.0, 17.0, 50.0);
    let crop = CropParams {
        size: 32,
        factor: 2.0,
        center_jitter: 0.0,
        scale_jitter: 0.0,
    };

    let always_flip = AugmentationParams {
        grayscale_probability: 0.0,
        frame_flip_probability: 0.0,
        brightness_jitter: 0.0,
        crop_flip_probability: 1.0,
    };
    let params = ProcessingParams {
        template: crop,
        search: crop,
        normalization: Normalization::default(),
        augmentation: Some(always_flip),
        token_stride: 16,
    };

    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let flipped = process_group(
        &[&frame],
        &[target],
        &crop,
        FrameTransform::default(),
        &params,
        &mut rng,
    )
    .unwrap();

    // The box and the pixels are those of the plain crop, mirrored.
    let plain = crop_around_box(&frame, target, 2.0, 32).unwrap();
    let bbox = flipped[0].bbox;
    let unflipped = plain.window.box_to_crop(target).normalized(32.0);
    assert!((bbox.x - (1.0 - unflipped.x - unflipped.w)).abs() < 1e-6);
    assert_eq!(bbox.y, unflipped.y);

    let mut expected = plain.clone();
    expected.flip_horizontal();
    Normalization::default().apply(&mut expected.pixels);
    assert_eq!(flipped[0].pixels, expected.pixels);
}
