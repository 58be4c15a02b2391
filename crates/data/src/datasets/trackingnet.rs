//! TrackingNet: `TRAIN_<k>/{anno/<video>.txt, frames/<video>/<i>.jpg}` with
//! frames numbered from 0 without padding. The target is visible wherever
//! its box is valid.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::frames::{check_numbered_frames, list_numbered_frames};
use super::{SequenceCache, TrackingDataset};
use crate::annotation::{BoxFormat, read_boxes};
use crate::error::{DataError, Result};
use crate::sequence::{DatasetKind, FramePaths, Sequence};

/// TrackingNet chunks (`TRAIN_0` … `TRAIN_11`, or `TEST`).
pub struct TrackingNet {
    root: PathBuf,
    /// `(chunk folder, video)` pairs.
    sequences: Vec<(String, String)>,
    evaluation: bool,
    cache: SequenceCache,
}

impl TrackingNet {
    /// Indexes the training chunks of `root`: the given chunk numbers, or every
    /// `TRAIN_<k>` folder found.
    pub fn open(root: &Path, chunks: Option<&[u32]>) -> Result<Self> {
        let chunk_names = match chunks {
            Some(numbers) => numbers.iter().map(|k| format!("TRAIN_{k}")).collect(),
            None => list_train_chunks(root)?,
        };
        Self::index(root, chunk_names, false)
    }

    /// Indexes the `TEST` chunk for evaluation; only the first frame's box is known.
    pub fn open_test(root: &Path) -> Result<Self> {
        Self::index(root, vec!["TEST".into()], true)
    }

    fn index(root: &Path, chunk_names: Vec<String>, evaluation: bool) -> Result<Self> {
        let mut sequences = Vec::new();
        for chunk in chunk_names {
            let anno_dir = root.join(&chunk).join("anno");
            let entries =
                fs::read_dir(&anno_dir).map_err(|source| DataError::io(&anno_dir, source))?;
            let mut videos = Vec::new();
            for entry in entries {
                let path = entry
                    .map_err(|source| DataError::io(&anno_dir, source))?
                    .path();
                if path.extension().is_some_and(|ext| ext == "txt")
                    && let Some(video) = path.file_stem().and_then(|stem| stem.to_str())
                {
                    videos.push(video.to_owned());
                }
            }
            videos.sort();
            sequences.extend(videos.into_iter().map(|video| (chunk.clone(), video)));
        }
        if sequences.is_empty() {
            return Err(DataError::EmptyDataset {
                dataset: "TRACKINGNET".into(),
                root: root.to_path_buf(),
                expected: "TRAIN_<k>/anno/<video>.txt files",
            });
        }
        tracing::info!(sequences = sequences.len(), "indexed TrackingNet");
        Ok(Self {
            root: root.to_path_buf(),
            cache: SequenceCache::new(sequences.len()),
            sequences,
            evaluation,
        })
    }

    fn load(&self, index: usize) -> Result<Sequence> {
        let (chunk, video) = &self.sequences[index];
        let chunk_dir = self.root.join(chunk);
        let boxes = read_boxes(
            &chunk_dir.join("anno").join(format!("{video}.txt")),
            BoxFormat::Rect,
        )?;
        let frame_dir = chunk_dir.join("frames").join(video);
        let frames = if self.evaluation {
            list_numbered_frames(&frame_dir)?.frames_for(
                "TRACKINGNET",
                video,
                0,
                boxes.len(),
                true,
            )?
        } else {
            let frames = FramePaths::Numbered {
                dir: frame_dir,
                first: 0,
                digits: 0,
                extension: "jpg".into(),
                count: boxes.len(),
            };
            check_numbered_frames("TRACKINGNET", video, &frames)?;
            frames
        };
        Ok(Sequence::new(
            video,
            DatasetKind::TrackingNet,
            frames,
            boxes,
            None,
        ))
    }
}

impl TrackingDataset for TrackingNet {
    fn name(&self) -> &str {
        "TRACKINGNET"
    }

    fn kind(&self) -> DatasetKind {
        DatasetKind::TrackingNet
    }

    fn len(&self) -> usize {
        self.sequences.len()
    }

    fn sequence_name(&self, index: usize) -> &str {
        &self.sequences[index].1
    }

    fn sequence(&self, index: usize) -> Result<Arc<Sequence>> {
        self.cache.get_or_load(index, || self.load(index))
    }
}

/// Lists `TRAIN_<k>` folders sorted by `k`.
fn list_train_chunks(root: &Path) -> Result<Vec<String>> {
    let entries = fs::read_dir(root).map_err(|source| DataError::io(root, source))?;
    let mut chunks = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| DataError::io(root, source))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(number) = name
            .strip_prefix("TRAIN_")
            .and_then(|k| k.parse::<u32>().ok())
        {
            chunks.push((number, name));
        }
    }
    chunks.sort();
    Ok(chunks.into_iter().map(|(_, name)| name).collect())
}
