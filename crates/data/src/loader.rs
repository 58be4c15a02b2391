//! Parallel batch loading: samples are built on a rayon pool and whole
//! batches wait in a bounded queue for the training loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, bounded};
use rayon::prelude::*;

use crate::batch::Batch;
use crate::error::{DataError, Result};
use crate::sampler::TrackingSampler;

/// Batch shape and threading of a loader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoaderParams {
    /// Samples per batch (`TRAIN.BATCH_SIZE`).
    pub batch_size: usize,
    /// Samples per epoch (`DATA.TRAIN.SAMPLE_PER_EPOCH`); the last partial
    /// batch is dropped.
    pub samples_per_epoch: usize,
    /// Threads building samples (`TRAIN.NUM_WORKER`).
    pub num_workers: usize,
    /// Finished batches that may wait in the queue.
    pub prefetch_batches: usize,
}

/// Yields the batches of an epoch; results do not depend on `num_workers`.
pub struct DataLoader {
    sampler: Arc<TrackingSampler>,
    params: LoaderParams,
    pool: Arc<rayon::ThreadPool>,
}

impl DataLoader {
    pub fn new(sampler: Arc<TrackingSampler>, params: LoaderParams) -> Result<Self> {
        let invalid = |name, message: &str| DataError::InvalidParameter {
            name,
            message: message.into(),
        };
        if params.batch_size == 0 {
            return Err(invalid("BATCH_SIZE", "must be at least 1"));
        }
        if params.samples_per_epoch < params.batch_size {
            return Err(invalid(
                "SAMPLE_PER_EPOCH",
                "must be at least BATCH_SIZE, or an epoch has no batch",
            ));
        }
        if params.num_workers == 0 {
            return Err(invalid("NUM_WORKER", "must be at least 1"));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(params.num_workers)
            .thread_name(|index| format!("mixformer-data-{index}"))
            .build()
            .map_err(|error| DataError::LoaderStopped(format!("cannot start workers: {error}")))?;
        Ok(Self {
            sampler,
            params,
            pool: Arc::new(pool),
        })
    }

    pub fn params(&self) -> &LoaderParams {
        &self.params
    }

    /// `SAMPLE_PER_EPOCH / BATCH_SIZE`, rounded down.
    pub fn batches_per_epoch(&self) -> usize {
        self.params.samples_per_epoch / self.params.batch_size
    }

    /// Builds batch `batch_index` of `epoch` now, on the worker pool.
    pub fn batch(&self, epoch: u64, batch_index: usize) -> Result<Batch> {
        build_batch(&self.sampler, &self.pool, &self.params, epoch, batch_index)
    }

    /// Starts loading `epoch` in the background and returns its batches in order.
    pub fn epoch(&self, epoch: u64) -> EpochBatches {
        let (sender, receiver) = bounded(self.params.prefetch_batches.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let batches = self.batches_per_epoch();
        let sampler = Arc::clone(&self.sampler);
        let pool = Arc::clone(&self.pool);
        let params = self.params;
        let stop_flag = Arc::clone(&stop);
        let producer = move || {
            for batch_index in 0..batches {
                if stop_flag.load(Ordering::Relaxed) {
                    return;
                }
                let batch = build_batch(&sampler, &pool, &params, epoch, batch_index);
                let failed = batch.is_err();
                if sender.send(batch).is_err() || failed {
                    return;
                }
            }
        };
        let handle = std::thread::Builder::new()
            .name("mixformer-data-loader".into())
            .spawn(producer);
        let (receiver, handle, start_error) = match handle {
            Ok(handle) => (Some(receiver), Some(handle), None),
            Err(error) => (None, None, Some(error.to_string())),
        };
        EpochBatches {
            receiver,
            stop,
            handle,
            remaining: batches,
            start_error,
        }
    }
}

fn build_batch(
    sampler: &TrackingSampler,
    pool: &rayon::ThreadPool,
    params: &LoaderParams,
    epoch: u64,
    batch_index: usize,
) -> Result<Batch> {
    let first = (batch_index * params.batch_size) as u64;
    let samples = pool.install(|| {
        (first..first + params.batch_size as u64)
            .into_par_iter()
            .map(|index| sampler.sample(epoch, index))
            .collect::<Result<Vec<_>>>()
    })?;
    Batch::collate(&samples).ok_or_else(|| DataError::LoaderStopped("empty batch".into()))
}

/// The batches of one epoch, built ahead in a background thread. Dropping
/// it stops the thread after the batch in progress.
pub struct EpochBatches {
    receiver: Option<Receiver<Result<Batch>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    remaining: usize,
    start_error: Option<String>,
}

impl Iterator for EpochBatches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.start_error.take() {
            self.remaining = 0;
            return Some(Err(DataError::LoaderStopped(error)));
        }
        if self.remaining == 0 {
            return None;
        }
        let received = self.receiver.as_ref()?.recv();
        match received {
            Ok(Ok(batch)) => {
                self.remaining -= 1;
                Some(Ok(batch))
            }
            Ok(Err(error)) => {
                self.remaining = 0;
                Some(Err(error))
            }
            Err(_) => {
                self.remaining = 0;
                Some(Err(DataError::LoaderStopped(
                    "the loading thread ended before the epoch was complete".into(),
                )))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining))
    }
}

impl Drop for EpochBatches {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver makes a blocked send fail, so the thread ends.
        self.receiver = None;
        if let Some(handle) = self.handle.take()
            && handle.join().is_err()
        {
            tracing::error!("the batch loading thread panicked");
        }
    }
}
