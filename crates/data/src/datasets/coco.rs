//! COCO 2017 (`annotations/instances_<split>.json`, images in
//! `images/<split>/` or `<split>/`): every non-crowd box is a one-frame sequence.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::TrackingDataset;
use crate::annotation::read_text;
use crate::bbox::BBox;
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, FramePaths, Sequence};

#[derive(Deserialize)]
struct InstancesFile {
    images: Vec<ImageEntry>,
    annotations: Vec<AnnotationEntry>,
    #[serde(default)]
    categories: Vec<CategoryEntry>,
}

#[derive(Deserialize)]
struct ImageEntry {
    id: u64,
    file_name: String,
}

#[derive(Deserialize)]
struct AnnotationEntry {
    id: u64,
    image_id: u64,
    category_id: u64,
    bbox: [f32; 4],
    iscrowd: u8,
}

#[derive(Deserialize)]
struct CategoryEntry {
    id: u64,
    name: String,
}

/// One non-crowd instance.
struct Instance {
    image: usize,
    bbox: BBox,
    category: Option<usize>,
}

/// The boxes of one COCO split, each a one-frame sequence.
///
/// Visibility equals validity: the MixFormer reference marks boxes of 50 px
/// or less per side as not visible, but its sampler never consults
/// visibility for still images, so the rule is not applied here.
pub struct Coco {
    name: String,
    image_paths: Vec<PathBuf>,
    categories: Vec<String>,
    instances: Vec<Instance>,
    sequence_names: Vec<String>,
}

impl Coco {
    /// Reads `annotations/instances_<split>.json` under `root`, for any split
    /// name (`train2017`, `val2017`, …).
    pub fn open(root: &Path, split: &str) -> Result<Self> {
        let json_path = root
            .join("annotations")
            .join(format!("instances_{split}.json"));
        let image_dir = [root.join("images").join(split), root.join(split)]
            .into_iter()
            .find(|dir| dir.is_dir())
            .ok_or_else(|| DataError::MissingFile {
                what: "COCO image folder",
                path: root.join("images").join(split),
                hint: "images are read from images/<split>/ or <split>/ under the COCO root",
            })?;
        if !json_path.is_file() {
            return Err(DataError::MissingFile {
                what: "COCO annotation file",
                path: json_path,
                hint: "expected annotations/instances_<split>.json under the COCO root",
            });
        }
        let parsed: InstancesFile =
            serde_json::from_str(&read_text(&json_path)?).map_err(|error| DataError::Coco {
                path: json_path.clone(),
                message: format!("invalid instances file: {error}"),
            })?;
        Self::from_instances(&json_path, &image_dir, split, parsed)
    }

    fn from_instances(
        json_path: &Path,
        image_dir: &Path,
        split: &str,
        parsed: InstancesFile,
    ) -> Result<Self> {
        let image_index: HashMap<u64, usize> = parsed
            .images
            .iter()
            .enumerate()
            .map(|(index, image)| (image.id, index))
            .collect();
        let category_index: HashMap<u64, usize> = parsed
            .categories
            .iter()
            .enumerate()
            .map(|(index, category)| (category.id, index))
            .collect();

        let mut instances = Vec::new();
        let mut sequence_names = Vec::new();
        for annotation in parsed.annotations.iter().filter(|a| a.iscrowd == 0) {
            let image = *image_index
                .get(&annotation.image_id)
                .ok_or_else(|| DataError::Coco {
                    path: json_path.to_path_buf(),
                    message: format!(
                        "annotation {} refers to image {}, which is not listed in \"images\"",
                        annotation.id, annotation.image_id
                    ),
                })?;
            let [x, y, w, h] = annotation.bbox;
            instances.push(Instance {
                image,
                bbox: BBox::new(x, y, w, h),
                category: category_index.get(&annotation.category_id).copied(),
            });
            sequence_names.push(format!(
                "{}#{}",
                parsed.images[image].file_name, annotation.id
            ));
        }
        if instances.is_empty() {
            return Err(DataError::EmptyDataset {
                dataset: format!("COCO {split}"),
                root: json_path.to_path_buf(),
                expected: "at least one annotation with iscrowd 0",
            });
        }
        tracing::info!(split, boxes = instances.len(), "indexed COCO");
        Ok(Self {
            name: "COCO17".into(),
            image_paths: parsed
                .images
                .iter()
                .map(|image| image_dir.join(&image.file_name))
                .collect(),
            categories: parsed.categories.into_iter().map(|c| c.name).collect(),
            instances,
            sequence_names,
        })
    }
}

impl TrackingDataset for Coco {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> DatasetKind {
        DatasetKind::Coco
    }

    fn is_video(&self) -> bool {
        false
    }

    fn len(&self) -> usize {
        self.instances.len()
    }

    fn sequence_name(&self, index: usize) -> &str {
        &self.sequence_names[index]
    }

    /// Builds the one-frame sequence; cheap enough that it is not cached.
    fn sequence(&self, index: usize) -> Result<Arc<Sequence>> {
        let instance = &self.instances[index];
        let frames = FramePaths::List(vec![self.image_paths[instance.image].clone()]);
        let class = instance.category.map(|c| self.categories[c].clone());
        let sequence = Sequence::new(
            self.sequence_names[index].clone(),
            DatasetKind::Coco,
            frames,
            vec![instance.bbox],
            None,
        );
        Ok(Arc::new(sequence.with_class(class)))
    }
}
