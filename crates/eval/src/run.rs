//! `eval run`: tracks a dataset's sequences with a checkpoint and writes the
//! results in the layout of the benchmark's toolkit.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mixformer_analysis::{BoundingBox, ResultLayout, is_sequence_finished, write_sequence_results};
use mixformer_config::ExperimentConfig;
use mixformer_data::{BBox, Sequence, load_frame};
use mixformer_model_vit::{LoadPolicy, MixFormer, VitConfig, device_from_name, load_weights_file};
use mixformer_tracker::{ForwardMode, Tracker, TrackerParams};
use tracing::{error, info};

use crate::cli::RunArgs;
use crate::dataset::{load_settings, open_sequences};
use crate::error::EvalError;

/// The outcome of one `eval run`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Folder the results were written to.
    pub directory: PathBuf,
    /// Sequences tracked by this run.
    pub tracked: usize,
    /// Sequences skipped because their results were already complete.
    pub skipped: usize,
    /// Frames tracked by this run.
    pub frames: usize,
    /// Seconds spent in the tracker on those frames.
    pub seconds: f64,
}

/// Frames and tracker time of one sequence.
struct SequenceRun {
    frames: usize,
    seconds: f64,
}

/// Runs `eval run`.
pub fn run(args: &RunArgs) -> Result<RunSummary, EvalError> {
    let config_path = experiment_path(args)?;
    let config = ExperimentConfig::load(args.script, &config_path)?;
    let dataset = args.dataset.dataset;

    let mode = if args.full_forward {
        ForwardMode::FullForward
    } else {
        ForwardMode::Cached
    };
    let mut params =
        TrackerParams::from_config(&config, &dataset.update_interval_key()).with_mode(mode);
    if let Some(interval) = args.update_interval {
        params = params.with_update_interval(interval);
    }
    params.validate()?;
    let device = device_from_name(&args.device)?;

    let name = args.name.clone().unwrap_or_else(|| match mode {
        ForwardMode::Cached => config.name.clone(),
        ForwardMode::FullForward => format!("{}-full", config.name),
    });
    let directory = output_root(args)?.join(&name).join(dataset.key());
    let layout = dataset.benchmark().result_layout();

    // Resume
    let sequences = open_sequences(&args.dataset)?;
    let total = sequences.len();
    let pending: Vec<Arc<Sequence>> = sequences
        .into_iter()
        .filter(|sequence| !is_sequence_finished(&directory, layout, &sequence.name))
        .collect();
    let skipped = total - pending.len();
    if skipped > 0 {
        info!(
            skipped,
            "skipping sequences whose box file exists; delete a box file to track its sequence again"
        );
    }
    info!(
        experiment = %config.experiment_name(),
        dataset = %dataset,
        sequences = pending.len(),
        update_interval = params.update_interval,
        mode = ?mode,
        output = %directory.display(),
        "tracking"
    );
    if pending.is_empty() {
        return Ok(RunSummary {
            directory,
            tracked: 0,
            skipped,
            frames: 0,
            seconds: 0.0,
        });
    }

    let model = load_model(&config, &args.checkpoint, &device)?;
    let runs = track_in_parallel(
        &pending,
        args.threads,
        &model,
        &params,
        &device,
        &directory,
        layout,
    )?;

    let mut failures = Vec::new();
    let (mut frames, mut seconds) = (0, 0.0);
    for result in runs {
        match result {
            Ok(run) => {
                frames += run.frames;
                seconds += run.seconds;
            }
            // Every error of `track_sequence` names its sequence.
            Err(failure) => failures.push(failure.to_string()),
        }
    }
    if !failures.is_empty() {
        return Err(EvalError::SequencesFailed {
            total: pending.len(),
            failures,
        });
    }
    Ok(RunSummary {
        directory,
        tracked: pending.len(),
        skipped,
        frames,
        seconds,
    })
}

/// Resolves `--config`: an existing file, or `experiments/<script>/<name>.yaml`.
fn experiment_path(args: &RunArgs) -> Result<PathBuf, EvalError> {
    let config_argument = Path::new(&args.config);
    if config_argument.is_file() {
        return Ok(config_argument.to_path_buf());
    }
    let path = Path::new("experiments")
        .join(args.script.name())
        .join(format!("{}.yaml", args.config));
    if path.is_file() {
        Ok(path)
    } else {
        Err(EvalError::ExperimentNotFound { path })
    }
}

/// Returns `--output`, or `results_dir` from the local settings.
fn output_root(args: &RunArgs) -> Result<PathBuf, EvalError> {
    if let Some(output) = &args.output {
        return Ok(output.clone());
    }
    let settings_error = |source| EvalError::Settings {
        source,
        flag: "--output DIR",
    };
    let settings = load_settings(args.dataset.settings.as_deref()).map_err(settings_error)?;
    Ok(settings.results_dir().map_err(settings_error)?.to_owned())
}

/// Builds the experiment's network and loads the checkpoint into it.
fn load_model(
    config: &ExperimentConfig,
    checkpoint: &Path,
    device: &Device,
) -> Result<MixFormer, EvalError> {
    let architecture = VitConfig::from(&config.architecture());
    let model = MixFormer::new(&architecture, device)?;
    let policy = LoadPolicy::strict().with_classification_leftovers();
    let (model, report) = load_weights_file(model, checkpoint, &policy)?;
    info!(
        checkpoint = %checkpoint.display(),
        tensors = report.loaded.len(),
        "loaded weights"
    );
    Ok(model)
}

/// Tracks the sequences on a pool of worker threads, each with its own
/// tracker and model, and returns one result per sequence in input order.
///
/// The pool has at least as many threads as the machine has cores: `threads`
/// of them pull sequences from a shared counter, and the others only help with
/// the parallel work inside the backend's tensor operations.
fn track_in_parallel(
    sequences: &[Arc<Sequence>],
    threads: usize,
    model: &MixFormer,
    params: &TrackerParams,
    device: &Device,
    directory: &Path,
    layout: ResultLayout,
) -> Result<Vec<Result<SequenceRun, EvalError>>, EvalError> {
    let workers = threads.clamp(1, sequences.len());
    let trackers = (0..workers)
        .map(|_| Tracker::new(model.clone(), params.clone(), device.clone()).map(Mutex::new))
        .collect::<Result<Vec<_>, _>>()?;
    let cores = std::thread::available_parallelism().map_or(1, |count| count.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(workers.max(cores))
        .thread_name(|index| format!("eval-{index}"))
        .build()
        .map_err(|error| EvalError::ThreadPool {
            threads: workers,
            message: error.to_string(),
        })?;

    let total_frames = sequences
        .iter()
        .map(|sequence| sequence.frame_count() as u64)
        .sum();
    let progress = progress_bar(total_frames);
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<SequenceRun, EvalError>>>> =
        sequences.iter().map(|_| Mutex::new(None)).collect();

    // Broadcast runs the closure once on every thread of the pool, so each
    // tracker stays on one thread and a worker never picks up another
    // worker's loop while it waits inside a tensor operation.
    pool.broadcast(|context| {
        let Some(tracker) = trackers.get(context.index()) else {
            return;
        };
        let mut tracker = tracker.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(sequence) = sequences.get(index) else {
                break;
            };
            let result = track_sequence(&mut tracker, sequence, directory, layout, &progress);
            match &result {
                Ok(run) => progress.suspend(|| {
                    let fps = run.frames as f64 / run.seconds.max(f64::MIN_POSITIVE);
                    info!(sequence = %sequence.name, frames = run.frames, fps = %format!("{fps:.1}"), "finished")
                }),
                Err(failure) => progress.suspend(|| error!(sequence = %sequence.name, "{failure}")),
            }
            let mut slot = results[index].lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *slot = Some(result);
        }
    });
    progress.finish_and_clear();

    Ok(results
        .into_iter()
        .map(|slot| {
            let result = slot
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            result.unwrap_or_else(|| {
                Err(EvalError::ThreadPool {
                    threads: workers,
                    message: "a worker thread stopped before tracking its sequence".to_owned(),
                })
            })
        })
        .collect())
}

/// Tracks one sequence from its first box and writes its boxes and
/// per-frame times.
///
/// A frame's time covers the tracker call (crop, normalisation, network and
/// box mapping, and on the first frame the template encoding), not the decoding of
/// the image, as pytracking times its trackers.
fn track_sequence(
    tracker: &mut Tracker,
    sequence: &Sequence,
    directory: &Path,
    layout: ResultLayout,
    progress: &ProgressBar,
) -> Result<SequenceRun, EvalError> {
    let name = &sequence.name;
    let init_box = sequence
        .init_box()
        .unwrap_or(BBox::new(f32::NAN, f32::NAN, 0.0, 0.0));
    if !init_box.is_valid() || !init_box.w.is_finite() || !init_box.h.is_finite() {
        return Err(EvalError::InvalidInitialBox {
            sequence: name.clone(),
            bbox: init_box,
        });
    }

    let frame_count = sequence.frame_count();
    if frame_count == 0 {
        return Err(EvalError::EmptySequence {
            sequence: name.clone(),
        });
    }
    let mut boxes = Vec::with_capacity(frame_count);
    let mut times = Vec::with_capacity(frame_count);
    for index in 0..frame_count {
        let in_frame = |source: EvalError| EvalError::TrackingFailed {
            sequence: name.clone(),
            frame: index + 1,
            source: Box::new(source),
        };
        let path = sequence.frame_path(index).ok_or_else(|| {
            in_frame(EvalError::Io {
                path: PathBuf::from(format!("frame {index}")),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
        })?;
        let frame = load_frame(&path).map_err(|error| in_frame(error.into()))?;

        let start = Instant::now();
        let bbox = if index == 0 {
            tracker
                .initialize(&frame, init_box)
                .map_err(|error| in_frame(error.into()))?;
            init_box
        } else {
            tracker
                .track(&frame)
                .map_err(|error| in_frame(error.into()))?
                .bbox
        };
        times.push(start.elapsed().as_secs_f64());
        boxes.push(to_result_box(bbox));
        progress.inc(1);
    }

    write_sequence_results(directory, layout, name, &boxes, Some(&times)).map_err(|source| {
        EvalError::WriteResults {
            sequence: name.clone(),
            source: Box::new(source),
        }
    })?;
    Ok(SequenceRun {
        frames: frame_count,
        seconds: times.iter().sum(),
    })
}

fn to_result_box(bbox: BBox) -> BoundingBox {
    BoundingBox::new(
        f64::from(bbox.x),
        f64::from(bbox.y),
        f64::from(bbox.w),
        f64::from(bbox.h),
    )
}

fn progress_bar(total_frames: u64) -> ProgressBar {
    let progress = ProgressBar::with_draw_target(Some(total_frames), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:40}] {pos}/{len} frames ({per_sec}, eta {eta})",
    ) {
        progress.set_style(style.progress_chars("=> "));
    }
    progress
}
