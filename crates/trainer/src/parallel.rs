//! Data-parallel steps: each device runs the forward and backward pass on its
//! share of the batch, and the gradients are summed on the first device.
//!
//! This is the scheme of burn-train's multi-device strategy with the
//! optimiser on the main device: burn moves the gradients
//! (`GradientsParams::to_device`) and sums them (`GradientsAccumulator`), so
//! no collective operation is needed and every backend can take part. Each
//! share's loss is weighted by its share of the batch, so the summed gradient
//! equals the gradient of the whole batch's mean loss.

use std::time::{Duration, Instant};

use burn::module::{Module, ParamId};
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::Device;
use mixformer_distill::{Actor, TrainBatch};
use mixformer_model_vit::MixFormer;

use crate::TrainError;

/// The gradients and statistics one device computed for its share of a batch.
pub(crate) struct ShareResult {
    /// Gradients of the weighted loss, on the main device.
    pub grads: GradientsParams,
    /// The actor's statistics, averaged over the shares by their size.
    pub stats: Vec<(String, f64)>,
    /// Time of the backward pass on the main device.
    pub backward: Duration,
}

/// A loss that is not finite, with the actor's statistics.
pub(crate) struct NonFinite {
    pub loss: f64,
    pub stats: Vec<(String, f64)>,
}

/// The result of the forward and backward passes of one step.
pub(crate) type StepOutcome = Result<ShareResult, NonFinite>;

/// Runs the actor on `batch` and back-propagates `weight` times its loss,
/// unless the loss is not finite.
pub(crate) fn local_step(
    student: &MixFormer,
    actor: &dyn Actor,
    batch: &TrainBatch,
    epoch: usize,
    step: usize,
    weight: f64,
    ids: &[ParamId],
) -> Result<StepOutcome, TrainError> {
    let output = actor
        .forward(student, batch, epoch)
        .map_err(|source| TrainError::Actor {
            epoch,
            phase: "train",
            step,
            source: Box::new(source),
        })?;
    let loss: f64 = output.loss.clone().into_scalar::<f64>();
    if !loss.is_finite() {
        return Ok(Err(NonFinite {
            loss,
            stats: output.stats,
        }));
    }
    let weighted = if weight == 1.0 {
        output.loss
    } else {
        output.loss.mul_scalar(weight)
    };
    let started = Instant::now();
    let mut gradients = weighted.backward();
    let grads = GradientsParams::from_params(&mut gradients, student, ids);
    Ok(Ok(ShareResult {
        grads,
        stats: output.stats,
        backward: started.elapsed(),
    }))
}

/// Splits `batch` over `main` and the replicas' devices, runs each share on
/// its own thread and sums the gradients on `main`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn parallel_step(
    student: &MixFormer,
    actor: &dyn Actor,
    main: &Device,
    replicas: &[(Device, Box<dyn Actor>)],
    batch: &TrainBatch,
    epoch: usize,
    step: usize,
    ids: &[ParamId],
) -> Result<StepOutcome, TrainError> {
    let size = batch.search.dims()[0];
    let shares = share_bounds(size, replicas.len() + 1);
    if shares.iter().any(|&(_, len)| len == 0) {
        return Err(TrainError::InvalidSetting {
            name: "batch size",
            message: format!(
                "a batch of {size} cannot be split over {} devices; use a batch of at least \
                 one sample per device",
                replicas.len() + 1
            ),
        });
    }
    let weight = |len: usize| len as f64 / size as f64;

    let outcomes: Vec<Result<StepOutcome, TrainError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = replicas
            .iter()
            .zip(&shares[1..])
            .map(|((device, replica), &(start, len))| {
                scope.spawn(move || {
                    let share = share_of(batch, start, len, device);
                    let copy = student.clone().fork(device);
                    let outcome = local_step(
                        &copy,
                        replica.as_ref(),
                        &share,
                        epoch,
                        step,
                        weight(len),
                        ids,
                    )?;
                    Ok(outcome.map(|mut result| {
                        result.grads = result.grads.to_device(main, &copy);
                        result
                    }))
                })
            })
            .collect();
        let (start, len) = shares[0];
        let share = share_of(batch, start, len, main);
        let first = local_step(student, actor, &share, epoch, step, weight(len), ids);
        std::iter::once(first)
            .chain(handles.into_iter().map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }))
            .collect()
    });

    let mut accumulator = GradientsAccumulator::<MixFormer>::new();
    let mut stats: Vec<(String, f64)> = Vec::new();
    let mut backward = None;
    for (outcome, &(_, len)) in outcomes.into_iter().zip(&shares) {
        let result = match outcome? {
            Ok(result) => result,
            Err(non_finite) => return Ok(Err(non_finite)),
        };
        accumulator.accumulate(student, result.grads);
        add_weighted(&mut stats, &result.stats, weight(len));
        backward.get_or_insert(result.backward);
    }
    Ok(Ok(ShareResult {
        grads: accumulator.grads(),
        stats,
        backward: backward.unwrap_or_default(),
    }))
}

/// Returns `(start, length)` of `parts` consecutive shares of `size` samples, the
/// first `size % parts` one sample longer.
pub(crate) fn share_bounds(size: usize, parts: usize) -> Vec<(usize, usize)> {
    let base = size / parts;
    let longer = size % parts;
    let mut start = 0;
    (0..parts)
        .map(|index| {
            let len = base + usize::from(index < longer);
            let bounds = (start, len);
            start += len;
            bounds
        })
        .collect()
}

/// Returns samples `start..start + len` of `batch`, on `device`.
fn share_of(batch: &TrainBatch, start: usize, len: usize, device: &Device) -> TrainBatch {
    TrainBatch {
        template: batch
            .template
            .clone()
            .narrow(0, start, len)
            .to_device(device),
        online_template: batch
            .online_template
            .clone()
            .narrow(0, start, len)
            .to_device(device),
        search: batch.search.clone().narrow(0, start, len).to_device(device),
        search_anno: batch
            .search_anno
            .clone()
            .narrow(0, start, len)
            .to_device(device),
        label: batch
            .label
            .clone()
            .map(|label| label.narrow(0, start, len).to_device(device)),
    }
}

/// Adds `weight` times each statistic to `total`, keeping the first share's order.
fn add_weighted(total: &mut Vec<(String, f64)>, stats: &[(String, f64)], weight: f64) {
    for (name, value) in stats {
        match total.iter_mut().find(|(existing, _)| existing == name) {
            Some((_, sum)) => *sum += weight * value,
            None => total.push((name.clone(), weight * value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_batch_evenly() {
        assert_eq!(share_bounds(4, 2), vec![(0, 2), (2, 2)]);
        assert_eq!(share_bounds(5, 2), vec![(0, 3), (3, 2)]);
        assert_eq!(share_bounds(7, 3), vec![(0, 3), (3, 2), (5, 2)]);
        assert_eq!(share_bounds(1, 2), vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn statistics_are_averaged_by_share() {
        let mut total = Vec::new();
        add_weighted(
            &mut total,
            &[("IoU".into(), 0.4), ("Loss/l1".into(), 2.0)],
            0.75,
        );
        add_weighted(
            &mut total,
            &[("IoU".into(), 0.8), ("Loss/l1".into(), 1.0)],
            0.25,
        );
        assert_eq!(total[0].0, "IoU");
        assert!((total[0].1 - 0.5).abs() < 1e-12);
        assert!((total[1].1 - 1.75).abs() < 1e-12);
    }
}
