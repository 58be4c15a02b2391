//! Sampler and loader behaviour on the real sample sequences.

mod common;

use std::sync::Arc;

use mixformer_data::{
    AugmentationParams, Batch, Coco, CropParams, DataError, DataLoader, InMemoryDataset,
    LoaderParams, Normalization, ProcessingParams, SamplerMode, SamplerParams, Sequence,
    TrackingDataset, TrackingSampler, Uav123, crop_around_box, load_frame, read_otb_sequence,
    read_vot_sequence,
};

fn video_sequences() -> Vec<Sequence> {
    let data = common::sample_data();
    let uav = Uav123::open(&data.join("sot/uav123"), "UAV123_10fps").unwrap();
    vec![
        read_otb_sequence(&common::crossing_dir()).unwrap(),
        read_vot_sequence(&data.join("sot/vot/bag")).unwrap(),
        uav.sequence(0).unwrap().as_ref().clone(),
    ]
}

fn datasets() -> Vec<Arc<dyn TrackingDataset>> {
    let coco = Coco::open(&common::sample_data().join("coco"), "val2017").unwrap();
    vec![
        Arc::new(InMemoryDataset::new("SOT", video_sequences()).unwrap()),
        Arc::new(coco),
    ]
}

/// Small crops keep the tests fast; the search jitter is the reference's.
fn processing(augmentation: Option<AugmentationParams>) -> ProcessingParams {
    ProcessingParams {
        template: CropParams {
            size: 32,
            factor: 2.0,
            center_jitter: 0.0,
            scale_jitter: 0.0,
        },
        search: CropParams {
            size: 64,
            factor: 5.0,
            center_jitter: 4.5,
            scale_jitter: 0.5,
        },
        normalization: Normalization::default(),
        augmentation,
        token_stride: 16,
    }
}

fn causal_sampler(seed: u64) -> Arc<TrackingSampler> {
    let params = SamplerParams::new(SamplerMode::Causal, vec![200], 2, vec![1.0, 1.0], seed);
    let sampler = TrackingSampler::new(
        datasets(),
        params,
        processing(Some(AugmentationParams::default())),
    );
    Arc::new(sampler.unwrap())
}

fn epoch_batches(sampler: &Arc<TrackingSampler>, workers: usize, epoch: u64) -> Vec<Batch> {
    let params = LoaderParams {
        batch_size: 4,
        samples_per_epoch: 10,
        num_workers: workers,
        prefetch_batches: 2,
    };
    let loader = DataLoader::new(Arc::clone(sampler), params).unwrap();
    assert_eq!(loader.batches_per_epoch(), 2);
    loader.epoch(epoch).collect::<Result<Vec<_>, _>>().unwrap()
}

#[test]
fn batches_have_frame_major_shapes() {
    let batches = epoch_batches(&causal_sampler(0), 2, 0);
    assert_eq!(batches.len(), 2);
    let batch = &batches[0];
    assert_eq!(batch.template_images.shape, [2, 4, 3, 32, 32]);
    assert_eq!(batch.template_images.data.len(), 2 * 4 * 3 * 32 * 32);
    assert_eq!(batch.search_images.shape, [1, 4, 3, 64, 64]);
    assert_eq!(batch.template_anno.shape, [2, 4, 4]);
    assert_eq!(batch.search_anno.shape, [1, 4, 4]);
    assert_eq!(batch.search_anno.data.len(), 16);
    assert!(batch.label.is_none());
    assert_eq!(batch.batch_size(), 4);
    // Unjittered templates put the target at the crop centre (up to a crop flip).
    for sample in 0..4 {
        let anno = &batch.template_anno.data[4 * sample..4 * sample + 4];
        assert!((anno[0] + anno[2] / 2.0 - 0.5).abs() < 1e-4, "{anno:?}");
        assert!((anno[1] + anno[3] / 2.0 - 0.5).abs() < 1e-4, "{anno:?}");
    }
}

#[test]
fn same_seed_same_batches_any_thread_count() {
    let sampler = causal_sampler(7);
    let one_thread = epoch_batches(&sampler, 1, 3);
    let two_threads = epoch_batches(&causal_sampler(7), 2, 3);
    assert_eq!(one_thread.len(), two_threads.len());
    for (a, b) in one_thread.iter().zip(&two_threads) {
        assert_eq!(a.sources, b.sources);
        assert!(a.template_images.data == b.template_images.data);
        assert!(a.search_images.data == b.search_images.data);
        assert_eq!(a.search_anno, b.search_anno);
    }
}

#[test]
fn different_seeds_and_epochs_differ() {
    let sampler = causal_sampler(1);
    let first = sampler.sample(0, 0).unwrap();
    assert_eq!(first, sampler.sample(0, 0).unwrap());
    let other_seed = causal_sampler(2).sample(0, 0).unwrap();
    let other_epoch = sampler.sample(1, 0).unwrap();
    assert_ne!(first.search[0].pixels, other_seed.search[0].pixels);
    assert_ne!(first.search[0].pixels, other_epoch.search[0].pixels);
}

#[test]
fn causal_frames_keep_their_order() {
    let sampler = causal_sampler(3);
    for index in 0..12 {
        let sample = sampler.sample(0, index).unwrap();
        let source = &sample.source;
        if source.dataset == "COCO17" {
            assert_eq!(source.template_frames, [0, 0]);
            assert_eq!(source.search_frames, [0]);
            continue;
        }
        let (base, online) = (source.template_frames[0], source.template_frames[1]);
        assert!(online < base, "{source:?}");
        assert!(source.search_frames[0] > base, "{source:?}");
        assert_eq!(source.search_sequence, source.sequence);
    }
}

#[test]
fn score_stage_draws_labelled_negatives() {
    let mut crossing = read_otb_sequence(&common::crossing_dir()).unwrap();
    for frame in 40..60 {
        crossing.visible[frame] = false;
    }
    let datasets: Vec<Arc<dyn TrackingDataset>> = vec![Arc::new(
        InMemoryDataset::new("OTB", vec![crossing.clone()]).unwrap(),
    )];
    let mut params = SamplerParams::new(SamplerMode::TridentPro, vec![200], 2, vec![1.0], 5);
    params.positive_probability = Some(0.5);
    let sampler = TrackingSampler::new(
        datasets,
        params,
        processing(Some(AugmentationParams::default())),
    )
    .unwrap();

    let samples: Vec<_> = (0..24).map(|i| sampler.sample(0, i).unwrap()).collect();
    let positives = samples.iter().filter(|s| s.label == Some(1.0)).count();
    let negatives = samples.iter().filter(|s| s.label == Some(0.0)).count();
    assert_eq!(positives + negatives, 24);
    assert!(
        positives > 0 && negatives > 0,
        "{positives} positives, {negatives} negatives"
    );
    for sample in &samples {
        let search_frame = sample.source.search_frames[0];
        if sample.label == Some(0.0) {
            assert!(!crossing.visible[search_frame], "{:?}", sample.source);
        } else {
            assert!(crossing.visible[search_frame], "{:?}", sample.source);
            assert!(crossing.visible[sample.source.template_frames[0]]);
        }
    }
    let batch = Batch::collate(&samples[..4]).unwrap();
    let label = batch.label.unwrap();
    assert_eq!(label.shape, [4]);
    assert_eq!(
        label.data,
        samples[..4]
            .iter()
            .map(|s| s.label.unwrap())
            .collect::<Vec<_>>()
    );
}

#[test]
fn validation_only_normalises() {
    let params = SamplerParams::new(SamplerMode::Causal, vec![200], 2, vec![1.0, 1.0], 0);
    let sampler = TrackingSampler::new(datasets(), params, processing(None)).unwrap();
    let sequences = video_sequences();
    for index in 0..6 {
        let sample = sampler.sample(0, index).unwrap();
        if sample.source.dataset != "SOT" {
            continue;
        }
        let sequence = sequences
            .iter()
            .find(|s| s.name == sample.source.sequence)
            .unwrap();
        let frame_id = sample.source.template_frames[0];
        let frame = load_frame(&sequence.frame_path(frame_id).unwrap()).unwrap();
        let crop = crop_around_box(&frame, sequence.boxes[frame_id], 2.0, 32).unwrap();
        let mut expected = crop.pixels;
        Normalization::default().apply(&mut expected);
        assert_eq!(sample.templates[0].pixels, expected, "{:?}", sample.source);
    }
    let training = causal_sampler(0).sample(0, 0).unwrap();
    let validation = sampler.sample(0, 0).unwrap();
    assert_ne!(training.source, validation.source);
}

#[test]
fn short_sequences_are_an_error_naming_the_dataset() {
    let mut crossing = read_otb_sequence(&common::crossing_dir()).unwrap();
    crossing.boxes.truncate(15);
    crossing.valid.truncate(15);
    crossing.visible.truncate(15);
    let datasets: Vec<Arc<dyn TrackingDataset>> = vec![Arc::new(
        InMemoryDataset::new("TINY", vec![crossing]).unwrap(),
    )];
    let params = SamplerParams::new(SamplerMode::Causal, vec![200], 2, vec![1.0], 0);
    let sampler = TrackingSampler::new(datasets, params, processing(None)).unwrap();
    let error = sampler.sample(0, 0).unwrap_err();
    assert!(
        matches!(error, DataError::NoEligibleSequence { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("dataset TINY: none of its 1 sequences"),
        "{message}"
    );
    assert!(message.contains("at least 20 frames"), "{message}");
}

#[test]
fn dropping_an_epoch_early_stops_loading() {
    let params = LoaderParams {
        batch_size: 2,
        samples_per_epoch: 40,
        num_workers: 1,
        prefetch_batches: 1,
    };
    let loader = DataLoader::new(causal_sampler(0), params).unwrap();
    let mut epoch = loader.epoch(0);
    let first = epoch.next().unwrap().unwrap();
    drop(epoch);
    assert_eq!(first, loader.batch(0, 0).unwrap());
}
