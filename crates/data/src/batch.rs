//! Batches as plain `f32` arrays with shapes, laid out frame-major as the
//! MixFormer actors expect them.

use crate::sampler::{Sample, SampleSource};

/// A dense row-major `f32` array.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    pub data: Vec<f32>,
    pub shape: Vec<usize>,
}

impl Array {
    fn with_capacity(shape: Vec<usize>) -> Self {
        Self {
            data: Vec::with_capacity(shape.iter().product()),
            shape,
        }
    }
}

/// A batch of `B` samples with `T` templates and `S` search frames each.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// `[T, B, 3, H_t, W_t]`, normalised.
    pub template_images: Array,
    /// `[T, B, 4]`: `(x, y, w, h)` in the template crop, divided by its size.
    pub template_anno: Array,
    /// `[S, B, 3, H_s, W_s]`, normalised.
    pub search_images: Array,
    /// `[S, B, 4]`: `(x, y, w, h)` in the search crop, divided by its size.
    pub search_anno: Array,
    /// `[B]` score-stage labels (1 target, 0 negative), when requested.
    pub label: Option<Array>,
    /// Origin of each sample's frames, in batch order.
    pub sources: Vec<SampleSource>,
}

impl Batch {
    pub fn batch_size(&self) -> usize {
        self.sources.len()
    }

    /// Stacks samples along the batch axis. All samples must come from one
    /// sampler, so that their shapes agree; `None` for an empty list.
    pub fn collate(samples: &[Sample]) -> Option<Self> {
        let first = samples.first()?;
        let batch = samples.len();
        let image_shape = |frames: usize, size: usize| vec![frames, batch, 3, size, size];
        let templates = first.templates.len();
        let search = first.search.len();
        let mut template_images =
            Array::with_capacity(image_shape(templates, first.templates[0].size));
        let mut search_images = Array::with_capacity(image_shape(search, first.search[0].size));
        let mut template_anno = Array::with_capacity(vec![templates, batch, 4]);
        let mut search_anno = Array::with_capacity(vec![search, batch, 4]);

        for t in 0..templates {
            for sample in samples {
                template_images
                    .data
                    .extend_from_slice(&sample.templates[t].pixels);
                template_anno
                    .data
                    .extend(sample.templates[t].bbox.to_array());
            }
        }
        for s in 0..search {
            for sample in samples {
                search_images
                    .data
                    .extend_from_slice(&sample.search[s].pixels);
                search_anno.data.extend(sample.search[s].bbox.to_array());
            }
        }
        let label = first.label.map(|_| Array {
            data: samples.iter().map(|s| s.label.unwrap_or(0.0)).collect(),
            shape: vec![batch],
        });
        Some(Self {
            template_images,
            template_anno,
            search_images,
            search_anno,
            label,
            sources: samples.iter().map(|s| s.source.clone()).collect(),
        })
    }
}
