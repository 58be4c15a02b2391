//! The tracker: initialisation on the first frame, then one box per frame.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use mixformer_data::{BBox, CropWindow, RgbImage, crop_around_box};
use mixformer_model_vit::{MixFormer, TemplateCache};

use crate::TrackerError;
use crate::geometry::next_state;
use crate::params::{ForwardMode, TrackerParams};
use crate::schedule::{TemplateSource, UpdateSchedule};

/// The box of one tracked frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackResult {
    /// `(x, y, w, h)` in image pixels, inside the image and at least
    /// `min_box_side` wide and high, except where the network's output was
    /// unusable and the previous box was kept.
    pub bbox: BBox,
    /// `sigmoid` of the score head's logit, `None` for a model without a score head.
    pub score: Option<f32>,
}

/// A single-object tracker around one MixFormer network.
///
/// One tracker follows one target at a time. Build one per thread to track
/// several sequences at once. The network runs at batch 1 on the device given
/// to [`Tracker::new`].
pub struct Tracker {
    model: MixFormer,
    params: TrackerParams,
    device: Device,
    target: Option<Target>,
}

/// The state of the target being tracked.
struct Target {
    /// The box of the last frame.
    state: BBox,
    /// The normalised template crop of the first frame, `[1, 3, T, T]`.
    template: Tensor<4>,
    /// The online template in use, `[1, 3, T, T]`.
    online_template: Tensor<4>,
    /// Template keys and values of the cached path, `None` in full-forward mode.
    cache: Option<TemplateCache>,
    /// Normalised pixels of the candidate online template, kept on the host
    /// so that only a replacement uploads it.
    candidate: Option<Vec<f32>>,
    /// `None` for a model without a score head, which never updates its template.
    schedule: Option<UpdateSchedule>,
    /// Frames tracked since initialisation.
    frame: usize,
    /// Online-template replacements since initialisation.
    replacements: usize,
}

impl Tracker {
    /// Builds a tracker around `model`, switched to inference mode.
    ///
    /// Fails when a parameter is out of range or a crop size does not match the
    /// token grids the model was built for.
    pub fn new(
        model: MixFormer,
        params: TrackerParams,
        device: Device,
    ) -> Result<Self, TrackerError> {
        params.validate()?;
        check_crop_sizes(&model, &params)?;
        Ok(Self {
            model: model.valid(),
            params,
            device,
            target: None,
        })
    }

    /// Starts tracking the target in `bbox` (`(x, y, w, h)` in pixels) on `frame`.
    ///
    /// The template crop at `TEMPLATE_FACTOR` is also the first online template.
    /// Calling it again starts over with a new target.
    pub fn initialize(&mut self, frame: &RgbImage, bbox: BBox) -> Result<(), TrackerError> {
        check_frame(frame)?;
        if !is_finite_box(bbox) || bbox.w <= 0.0 || bbox.h <= 0.0 {
            return Err(TrackerError::InvalidInitialBox { bbox });
        }

        let (pixels, _) = self.crop(frame, bbox, CropKind::Template)?;
        let template = self.upload(pixels, self.params.template_size);
        let cache = match self.params.mode {
            ForwardMode::Cached => Some(
                self.model
                    .encode_templates(template.clone(), template.clone()),
            ),
            ForwardMode::FullForward => None,
        };
        let schedule = self.model.score_head.is_some().then(|| {
            UpdateSchedule::new(
                self.params.update_interval,
                self.params.update_score_threshold,
            )
        });

        self.target = Some(Target {
            state: bbox,
            online_template: template.clone(),
            template,
            cache,
            candidate: None,
            schedule,
            frame: 0,
            replacements: 0,
        });
        Ok(())
    }

    /// Tracks the target into `frame` and returns its box.
    ///
    /// The search region is cropped at `SEARCH_FACTOR` around the previous box.
    /// A NaN or infinite network output keeps the previous box, and its score
    /// then takes no part in the template update.
    pub fn track(&mut self, frame: &RgbImage) -> Result<TrackResult, TrackerError> {
        check_frame(frame)?;
        let previous = self
            .target
            .as_ref()
            .ok_or(TrackerError::NotInitialized)?
            .state;

        // Crop and network
        let (pixels, window) = self.crop(frame, previous, CropKind::Search)?;
        let search = self.upload(pixels, self.params.search_size);
        let (output, score) = self.run_network(search)?;

        // Box in the image
        let crop_side = self.params.search_size as f32 / window.resize_factor();
        let image_size = (frame.width() as f32, frame.height() as f32);
        let state = next_state(
            previous,
            output,
            crop_side,
            image_size,
            self.params.min_box_side,
        );
        if state.is_none() {
            tracing::debug!(
                ?output,
                "non-finite network output; keeping the previous box"
            );
        }
        let bbox = state.unwrap_or(previous);

        // Online template
        let usable_score = state.and(score);
        self.update_online_template(frame, bbox, usable_score)?;

        let target = self.target.as_mut().ok_or(TrackerError::NotInitialized)?;
        target.state = bbox;
        Ok(TrackResult { bbox, score })
    }

    /// Returns the box of the last frame, `None` before initialisation.
    pub fn state(&self) -> Option<BBox> {
        self.target.as_ref().map(|target| target.state)
    }

    /// Returns the number of frames tracked since initialisation (0 right after it).
    pub fn frame(&self) -> usize {
        self.target.as_ref().map_or(0, |target| target.frame)
    }

    /// Returns the origin of the online template in use, `None` before initialisation.
    pub fn online_template_source(&self) -> Option<TemplateSource> {
        let target = self.target.as_ref()?;
        Some(match &target.schedule {
            Some(schedule) => schedule.online(),
            None => TemplateSource::Initial,
        })
    }

    /// Returns the number of online-template replacements since initialisation.
    pub fn template_replacements(&self) -> usize {
        self.target.as_ref().map_or(0, |target| target.replacements)
    }

    /// Returns the tracking parameters.
    pub fn params(&self) -> &TrackerParams {
        &self.params
    }

    /// Runs the network on one search crop and reads back the normalised
    /// `(cx, cy, w, h)` box and the score in a single transfer.
    fn run_network(&self, search: Tensor<4>) -> Result<([f32; 4], Option<f32>), TrackerError> {
        let target = self.target.as_ref().ok_or(TrackerError::NotInitialized)?;
        let (boxes, scores) = match (&target.cache, self.params.mode) {
            (Some(cache), ForwardMode::Cached) => {
                let output = self.model.track(search, cache);
                (output.boxes, output.scores)
            }
            _ => {
                let output = self.model.forward(
                    target.template.clone(),
                    target.online_template.clone(),
                    search,
                    None,
                );
                (output.boxes_cxcywh(), output.score_logits.map(sigmoid))
            }
        };

        // [1, 4] and [1, 1] -> [1, 5]
        let has_score = scores.is_some();
        let combined = match scores {
            Some(scores) => Tensor::cat(vec![boxes, scores], 1),
            None => boxes,
        };
        let values = combined
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|error| TrackerError::Readback {
                message: error.to_string(),
            })?;
        let expected = if has_score { 5 } else { 4 };
        if values.len() != expected {
            return Err(TrackerError::Readback {
                message: format!("expected {expected} values, found {}", values.len()),
            });
        }
        let output = [values[0], values[1], values[2], values[3]];
        Ok((output, has_score.then(|| values[4])))
    }

    /// Advances the update schedule and replaces the online template when the schedule requests it.
    fn update_online_template(
        &mut self,
        frame: &RgbImage,
        bbox: BBox,
        score: Option<f32>,
    ) -> Result<(), TrackerError> {
        let target = self.target.as_mut().ok_or(TrackerError::NotInitialized)?;
        target.frame += 1;
        let Some(schedule) = target.schedule.as_mut() else {
            return Ok(());
        };
        let update = schedule.step(score);

        if update.remember {
            let (pixels, _) = crop_normalized(frame, bbox, CropKind::Template, &self.params)?;
            target.candidate = Some(pixels);
        }
        let Some(source) = update.replace else {
            return Ok(());
        };

        let online = match (source, target.candidate.take()) {
            (TemplateSource::Frame(_), Some(pixels)) => {
                upload(pixels, self.params.template_size, &self.device)
            }
            // The schedule replaces with a frame only after a `remember` of that
            // frame, so its pixels are present. The first template is the fallback.
            _ => target.template.clone(),
        };
        if target.cache.is_some() {
            target.cache = Some(
                self.model
                    .encode_templates(target.template.clone(), online.clone()),
            );
        }
        target.online_template = online;
        target.replacements += 1;
        tracing::debug!(
            frame = target.frame,
            ?source,
            "replaced the online template"
        );
        Ok(())
    }

    fn crop(
        &self,
        frame: &RgbImage,
        bbox: BBox,
        kind: CropKind,
    ) -> Result<(Vec<f32>, CropWindow), TrackerError> {
        crop_normalized(frame, bbox, kind, &self.params)
    }

    fn upload(&self, pixels: Vec<f32>, size: usize) -> Tensor<4> {
        upload(pixels, size, &self.device)
    }
}

#[derive(Debug, Clone, Copy)]
enum CropKind {
    Template,
    Search,
}

/// Cuts the template or search crop around `bbox` and normalises it in place.
fn crop_normalized(
    frame: &RgbImage,
    bbox: BBox,
    kind: CropKind,
    params: &TrackerParams,
) -> Result<(Vec<f32>, CropWindow), TrackerError> {
    let (factor, size, region) = match kind {
        CropKind::Template => (params.template_factor, params.template_size, "template"),
        CropKind::Search => (params.search_factor, params.search_size, "search"),
    };
    let crop = crop_around_box(frame, bbox, factor, size)
        .map_err(|source| TrackerError::Crop { region, source })?;
    let mut pixels = crop.pixels;
    params.normalization.apply(&mut pixels);
    Ok((pixels, crop.window))
}

/// Moves channel-major `[3, size, size]` pixels to the device as `[1, 3, size, size]`.
fn upload(pixels: Vec<f32>, size: usize, device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(pixels, [1, 3, size, size]), device)
}

fn check_frame(frame: &RgbImage) -> Result<(), TrackerError> {
    if frame.width() == 0 || frame.height() == 0 {
        return Err(TrackerError::EmptyFrame {
            width: frame.width(),
            height: frame.height(),
        });
    }
    Ok(())
}

fn is_finite_box(bbox: BBox) -> bool {
    bbox.to_array().iter().all(|value| value.is_finite())
}

/// Checks the crop sizes against the model's positional tables, which fix
/// the token grids, so that a mismatch is an error rather than a shape panic.
fn check_crop_sizes(model: &MixFormer, params: &TrackerParams) -> Result<(), TrackerError> {
    let backbone = &model.backbone;
    let patch = backbone.patch_embed.proj.kernel_size[0];
    let checks = [
        (
            "template",
            "TEMPLATE_SIZE",
            params.template_size,
            backbone.pos_embed_t.val().dims()[1],
        ),
        (
            "search",
            "SEARCH_SIZE",
            params.search_size,
            backbone.pos_embed_s.val().dims()[1],
        ),
    ];
    for (region, key, size, tokens) in checks {
        let grid = (tokens as f64).sqrt().round() as usize;
        let expected = grid * patch;
        if size != expected {
            return Err(TrackerError::CropSizeMismatch {
                region,
                key,
                params: size,
                model: expected,
                grid,
                patch,
            });
        }
    }
    Ok(())
}
