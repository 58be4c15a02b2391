//! The online MixFormer tracker: one target per [`Tracker`], initialised with a
//! box on the first frame and asked for the box on every later frame.
//!
//! Each frame the tracker crops a search region around the previous box and
//! runs the network on the cached template keys and values. For comparison it
//! can run the full forward over template, online template and search region
//! instead. It then maps the predicted box back into the image and clips it. A model with a score
//! head replaces its online template at a fixed frame interval by the crop of
//! the most confident frame since the last replacement.
//!
//! The crate uses `mixformer-model-vit` for the network, `mixformer-data` for
//! frames, boxes and crops, and `mixformer-config` for the tracking parameters
//! of an experiment. Result files and metrics belong to `mixformer-analysis`.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use mixformer_config::{ExperimentConfig, Script};
//! use mixformer_data::{BBox, load_frame};
//! use mixformer_model_vit::{MixFormer, VitConfig};
//! use mixformer_tracker::{Tracker, TrackerParams};
//!
//! let config = ExperimentConfig::load(
//!     Script::Mixformer2VitOnline,
//!     "experiments/mixformer2_vit_online/288_depth8_score.yaml",
//! )?;
//! let device = Device::flex();
//! let model = MixFormer::new(&VitConfig::from(&config.architecture()), &device)?;
//! let params = TrackerParams::from_config(&config, "LASOT");
//! let mut tracker = Tracker::new(model, params, device)?;
//!
//! let first = load_frame("frames/0001.jpg".as_ref())?;
//! tracker.initialize(&first, BBox::new(205.0, 151.0, 17.0, 50.0))?;
//! let next = load_frame("frames/0002.jpg".as_ref())?;
//! let result = tracker.track(&next)?;
//! println!("{:?} with score {:?}", result.bbox, result.score);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod geometry;
mod params;
mod schedule;
mod tracker;

pub use error::TrackerError;
pub use geometry::{clip_box, map_box_back, next_state};
pub use params::{ForwardMode, TrackerParams};
pub use schedule::{TemplateSource, TemplateUpdate, UpdateSchedule, template_replacements};
pub use tracker::{TrackResult, Tracker};
