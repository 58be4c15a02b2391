//! Tracking frames per second on a real sequence.
//!
//! Run with `cargo bench -p mixformer-tracker --bench tracking_fps`. Tracks the
//! frames of OTB Crossing from the sample data with MixFormerV2-B (depth 8,
//! 288 px search) and MixFormerV2-S (depth 4, MLP ratio 1, 224 px search),
//! both with random weights, on the cached-template path and on the full
//! forward. A frame's time covers the search crop, its normalisation, the
//! network and the box mapping; frames are decoded before timing starts.
//!
//! `MIXFORMER_DEVICE` picks the backend: `cpu`, `flex` or `libtorch` (see
//! `mixformer_model_vit::device`). `BENCH_FRAMES` sets the number of timed frames (default 30), after 3
//! warm-up frames. FPS is one over the median frame time. The sample data is read from `../shared/data` beside the
//! workspace, or from `MIXFORMER_SAMPLE_DATA`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use mixformer_data::{BBox, Normalization, RgbImage, load_frame, read_otb_sequence};
use mixformer_model_vit::device::{backend_label, device_from_env};
use mixformer_model_vit::{MixFormer, VitConfig};
use mixformer_tracker::{ForwardMode, Tracker, TrackerParams};

const WARM_UP_FRAMES: usize = 3;

fn main() {
    let timed_frames: usize = std::env::var("BENCH_FRAMES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(30)
        .max(1);
    let (frames, init_box) = load_crossing(WARM_UP_FRAMES + timed_frames + 1);
    let (device_name, device) = device_from_env().unwrap_or_else(|error| panic!("{error}"));
    let threads = std::thread::available_parallelism().map_or(1, |count| count.get());

    println!(
        "backend: {} ({threads} cores), OTB Crossing {}x{}, {timed_frames} timed frames \
         after {WARM_UP_FRAMES} warm-up frames, random weights; FPS = 1 / median frame time",
        backend_label(&device_name),
        frames[0].width(),
        frames[0].height()
    );
    println!(
        "{:<16} {:>14} {:>14} {:>10}",
        "model", "cached (FPS)", "full (FPS)", "speed-up"
    );
    for (name, config) in [
        ("MixFormerV2-B", VitConfig::student_base()),
        ("MixFormerV2-S", VitConfig::student_small()),
    ] {
        let (cached, full) = measure(&config, &frames, init_box, &device);
        println!(
            "{name:<16} {:>14.2} {:>14.2} {:>9.2}x",
            1.0 / cached.as_secs_f64(),
            1.0 / full.as_secs_f64(),
            full.as_secs_f64() / cached.as_secs_f64()
        );
        // Machine-readable lines for `cargo xtask bench`.
        println!(
            "result tracking {name} cached {:.4}",
            1.0 / cached.as_secs_f64()
        );
        println!(
            "result tracking {name} full {:.4}",
            1.0 / full.as_secs_f64()
        );
    }
}

/// Measures the median frame time of the cached path and of the full forward.
///
/// Both trackers start on frame 0 and then track every frame in turn, one
/// after the other, so that a burst of load from other processes slows both
/// paths alike rather than one of them.
fn measure(
    config: &VitConfig,
    frames: &[RgbImage],
    init_box: BBox,
    device: &Device,
) -> (Duration, Duration) {
    let model = MixFormer::new(config, device).expect("the preset configs are valid");
    let params = TrackerParams {
        template_factor: 2.0,
        template_size: config.template_size,
        search_factor: 4.5,
        search_size: config.search_size,
        normalization: Normalization::default(),
        // LaSOT's interval: no replacement falls inside the timed frames.
        update_interval: 200,
        update_score_threshold: 0.5,
        min_box_side: 10.0,
        mode: ForwardMode::Cached,
    };
    let mut cached =
        Tracker::new(model.clone(), params.clone(), device.clone()).expect("the sizes match");
    let mut full = Tracker::new(
        model,
        params.with_mode(ForwardMode::FullForward),
        device.clone(),
    )
    .expect("the sizes match");
    for tracker in [&mut cached, &mut full] {
        tracker
            .initialize(&frames[0], init_box)
            .expect("the first ground-truth box is valid");
    }

    let (warm_up, timed) = frames[1..].split_at(WARM_UP_FRAMES);
    let mut cached_times = Vec::with_capacity(timed.len());
    let mut full_times = Vec::with_capacity(timed.len());
    for (index, frame) in warm_up.iter().chain(timed).enumerate() {
        let cached_time = time_frame(&mut cached, frame);
        let full_time = time_frame(&mut full, frame);
        if index >= WARM_UP_FRAMES {
            cached_times.push(cached_time);
            full_times.push(full_time);
        }
    }
    (median(cached_times), median(full_times))
}

fn time_frame(tracker: &mut Tracker, frame: &RgbImage) -> Duration {
    let start = Instant::now();
    tracker.track(frame).expect("tracking a decoded frame");
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Decodes the first `count` frames of OTB Crossing and its first box.
fn load_crossing(count: usize) -> (Vec<RgbImage>, BBox) {
    let root = sample_data_root();
    let sequence_dir = root.join("sot/otb/Crossing");
    let sequence = read_otb_sequence(&sequence_dir).unwrap_or_else(|error| {
        panic!(
            "cannot read OTB Crossing at {}: {error}",
            sequence_dir.display()
        )
    });
    if sequence.frame_count() < count {
        panic!(
            "OTB Crossing has {} frames, the benchmark needs {count}; lower BENCH_FRAMES",
            sequence.frame_count()
        );
    }
    let frames = (0..count)
        .map(|index| {
            let path = sequence
                .frame_path(index)
                .expect("index below the frame count");
            load_frame(&path).unwrap_or_else(|error| panic!("{error}"))
        })
        .collect();
    let init_box = sequence
        .init_box()
        .expect("OTB sequences have ground truth");
    (frames, init_box)
}

fn sample_data_root() -> PathBuf {
    let root = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if !root.is_dir() {
        panic!(
            "sample data not found at {}; set MIXFORMER_SAMPLE_DATA to the folder that \
             contains sot/otb/Crossing",
            root.display()
        );
    }
    root
}
