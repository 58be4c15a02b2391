//! The tracker on real frames of OTB Crossing with the tiny random model of
//! `experiments/mixformer2_vit_online/tiny_depth2_score.yaml`.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Device, Tensor};
use mixformer_config::{ExperimentConfig, Script};
use mixformer_data::{BBox, RgbImage, load_frame, read_otb_sequence};
use mixformer_model_vit::{MixFormer, VitConfig};
use mixformer_tracker::{ForwardMode, TemplateSource, Tracker, TrackerError, TrackerParams};

/// Largest difference in pixels between the cached and the full-forward boxes.
const PATH_TOLERANCE_PX: f32 = 1e-3;

fn sample_data_root() -> PathBuf {
    let root = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        root.join("sot/otb/Crossing").is_dir(),
        "sample data not found: expected sot/otb/Crossing under {}; set MIXFORMER_SAMPLE_DATA \
         to the sample data folder",
        root.display()
    );
    root
}

fn tiny_config() -> ExperimentConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments/mixformer2_vit_online/tiny_depth2_score.yaml");
    ExperimentConfig::load(Script::Mixformer2VitOnline, &path)
        .unwrap_or_else(|error| panic!("cannot load {}: {error}", path.display()))
}

fn tiny_model(config: &ExperimentConfig, score_head: bool) -> MixFormer {
    let architecture = VitConfig {
        score_head,
        ..VitConfig::from(&config.architecture())
    };
    MixFormer::new(&architecture, &Device::flex()).expect("the tiny architecture is valid")
}

/// Loads the first `count` frames of OTB Crossing and the box on its first frame.
fn crossing(count: usize) -> (Vec<RgbImage>, BBox) {
    let sequence = read_otb_sequence(&sample_data_root().join("sot/otb/Crossing"))
        .expect("OTB Crossing reads");
    let frames = (0..count)
        .map(|index| {
            let path = sequence.frame_path(index).expect("Crossing has 120 frames");
            load_frame(&path).expect("sample frames decode")
        })
        .collect();
    (frames, sequence.init_box().expect("Crossing is annotated"))
}

fn tracker(model: MixFormer, params: TrackerParams) -> Tracker {
    Tracker::new(model, params, Device::flex()).expect("the tiny model fits its own config")
}

/// Sets every weight to NaN, so the network's output is NaN.
struct FillWithNan;

impl ModuleMapper for FillWithNan {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|tensor| tensor.mul_scalar(f32::NAN))
    }
}

#[test]
fn params_follow_experiment_intervals() {
    let config = tiny_config();
    let otb = TrackerParams::from_config(&config, "otb");
    assert_eq!(otb.update_interval, 10);
    assert_eq!(otb.template_size, 64);
    assert_eq!(otb.search_size, 128);
    assert_eq!(otb.search_factor, 4.5);
    assert_eq!(otb.template_factor, 2.0);
    assert_eq!(otb.mode, ForwardMode::Cached);

    // Datasets the file leaves out keep the script's defaults.
    let from_defaults = TrackerParams::from_config(&config, "VOT22STB");
    assert_eq!(from_defaults.update_interval, 10);

    let unnamed = TrackerParams::from_config(&config, "NFS");
    assert_eq!(unnamed.update_interval, config.data.max_sample_interval);
    assert_eq!(unnamed.update_interval, 200);
}

#[test]
fn cached_and_full_forward_give_same_boxes() {
    let config = tiny_config();
    let model = tiny_model(&config, true);
    // Every score passes a threshold of 0, so the online template is replaced
    // at frames 5, 10 and 15 and both paths recompute their templates.
    let params = TrackerParams {
        update_interval: 5,
        update_score_threshold: 0.0,
        ..TrackerParams::from_config(&config, "OTB")
    };
    let mut cached = tracker(model.clone(), params.clone().with_mode(ForwardMode::Cached));
    let mut full = tracker(model, params.with_mode(ForwardMode::FullForward));

    let (frames, init_box) = crossing(20);
    cached.initialize(&frames[0], init_box).unwrap();
    full.initialize(&frames[0], init_box).unwrap();
    for (index, frame) in frames.iter().enumerate().skip(1) {
        let a = cached.track(frame).unwrap();
        let b = full.track(frame).unwrap();
        for (x, y) in a.bbox.to_array().into_iter().zip(b.bbox.to_array()) {
            assert!(
                (x - y).abs() <= PATH_TOLERANCE_PX,
                "frame {index}: cached {:?}, full forward {:?}",
                a.bbox,
                b.bbox
            );
        }
        let (score_a, score_b) = (a.score.unwrap(), b.score.unwrap());
        assert!(
            (score_a - score_b).abs() < 1e-4,
            "frame {index}: {score_a} vs {score_b}"
        );
    }
    assert_eq!(cached.template_replacements(), 3);
    assert_eq!(full.template_replacements(), 3);
    assert_eq!(
        cached.online_template_source(),
        full.online_template_source()
    );
}

#[test]
fn non_finite_output_keeps_previous_box() {
    let config = tiny_config();
    let model = tiny_model(&config, true).map(&mut FillWithNan);
    let params = TrackerParams {
        update_interval: 2,
        update_score_threshold: 0.0,
        ..TrackerParams::from_config(&config, "OTB")
    };
    let mut tracker = tracker(model, params);

    let (frames, init_box) = crossing(6);
    tracker.initialize(&frames[0], init_box).unwrap();
    for frame in &frames[1..] {
        let result = tracker.track(frame).unwrap();
        assert_eq!(result.bbox, init_box);
        assert!(result.score.is_some_and(f32::is_nan), "{:?}", result.score);
    }
    assert_eq!(tracker.state(), Some(init_box));
    assert_eq!(tracker.frame(), 5);
    assert_eq!(tracker.template_replacements(), 0);
    assert_eq!(
        tracker.online_template_source(),
        Some(TemplateSource::Initial)
    );
}

#[test]
fn tracked_boxes_stay_inside_image() {
    let config = tiny_config();
    let mut tracker = tracker(
        tiny_model(&config, true),
        TrackerParams::from_config(&config, "OTB"),
    );

    let (frames, _) = crossing(12);
    let (width, height) = (frames[0].width() as f32, frames[0].height() as f32);
    // A 4x4 box in the bottom-right corner, half outside the image.
    let init_box = BBox::new(width - 2.0, height - 2.0, 4.0, 4.0);
    tracker.initialize(&frames[0], init_box).unwrap();
    for (index, frame) in frames.iter().enumerate().skip(1) {
        let bbox = tracker.track(frame).unwrap().bbox;
        assert!(bbox.w >= 10.0, "frame {index}: width of {bbox:?}");
        assert!(bbox.h >= 10.0, "frame {index}: height of {bbox:?}");
        assert!(bbox.x >= 0.0, "frame {index}: {bbox:?}");
        assert!(bbox.y >= 0.0, "frame {index}: {bbox:?}");
        assert!(bbox.x + bbox.w <= width + 1e-3, "frame {index}: {bbox:?}");
        assert!(bbox.y + bbox.h <= height + 1e-3, "frame {index}: {bbox:?}");
    }
}

#[test]
fn online_template_is_replaced_every_interval() {
    let config = tiny_config();
    let params = TrackerParams {
        update_interval: 3,
        update_score_threshold: 0.0,
        ..TrackerParams::from_config(&config, "OTB")
    };
    let mut tracker = tracker(tiny_model(&config, true), params);

    let (frames, init_box) = crossing(10);
    tracker.initialize(&frames[0], init_box).unwrap();
    let mut replacements = Vec::new();
    for frame in &frames[1..] {
        tracker.track(frame).unwrap();
        replacements.push(tracker.template_replacements());
    }
    assert_eq!(replacements, [0, 0, 1, 1, 1, 2, 2, 2, 3]);
    let Some(TemplateSource::Frame(source)) = tracker.online_template_source() else {
        panic!(
            "expected a frame's crop, found {:?}",
            tracker.online_template_source()
        );
    };
    assert!(
        (7..=9).contains(&source),
        "online template from frame {source}"
    );
}

#[test]
fn model_without_score_head_never_updates() {
    let config = tiny_config();
    let params = TrackerParams {
        update_interval: 2,
        update_score_threshold: 0.0,
        ..TrackerParams::from_config(&config, "OTB")
    };
    let mut tracker = tracker(tiny_model(&config, false), params);

    let (frames, init_box) = crossing(8);
    tracker.initialize(&frames[0], init_box).unwrap();
    for frame in &frames[1..] {
        let result = tracker.track(frame).unwrap();
        assert_eq!(result.score, None);
    }
    assert_eq!(tracker.template_replacements(), 0);
    assert_eq!(
        tracker.online_template_source(),
        Some(TemplateSource::Initial)
    );
}

#[test]
fn track_before_initialize_is_an_error() {
    let config = tiny_config();
    let mut tracker = tracker(
        tiny_model(&config, true),
        TrackerParams::from_config(&config, "OTB"),
    );
    let (frames, _) = crossing(1);
    assert!(matches!(
        tracker.track(&frames[0]),
        Err(TrackerError::NotInitialized)
    ));
}

#[test]
fn invalid_initial_box_is_rejected() {
    let config = tiny_config();
    let mut tracker = tracker(
        tiny_model(&config, true),
        TrackerParams::from_config(&config, "OTB"),
    );
    let (frames, _) = crossing(1);
    for bbox in [
        BBox::new(10.0, 10.0, 0.0, 5.0),
        BBox::new(10.0, 10.0, 5.0, -1.0),
        BBox::new(f32::NAN, 10.0, 5.0, 5.0),
        BBox::new(10.0, 10.0, f32::INFINITY, 5.0),
    ] {
        let error = tracker.initialize(&frames[0], bbox).unwrap_err();
        assert!(
            matches!(error, TrackerError::InvalidInitialBox { .. }),
            "{error}"
        );
    }
    assert_eq!(tracker.state(), None);
}

#[test]
fn search_size_must_fit_model() {
    let config = tiny_config();
    let params = TrackerParams {
        search_size: 144,
        ..TrackerParams::from_config(&config, "OTB")
    };
    let error = Tracker::new(tiny_model(&config, true), params, Device::flex())
        .err()
        .expect("a 144 px search crop does not fit a model built for 128 px");
    assert_eq!(
        error.to_string(),
        "search size 144 px does not fit the model, which expects 128 px (8x8 patches of 16 px); \
         set TEST.SEARCH_SIZE to 128 in the experiment file or load the checkpoint with the \
         matching experiment"
    );
}
