//! Stage-1 sampling throughput on one thread and on every thread. Each
//! sample has two 128 px templates and a 288 px search region, drawn by the
//! causal sampler with full training augmentation from the real sample
//! sequences (OTB Crossing, VOT bag, UAV123 wakeboard7) and the COCO photos.
//!
//! `cargo bench -p mixformer-data --bench sample_rate [-- --samples N]`
//! reads the sample data from `../shared/data` or `MIXFORMER_SAMPLE_DATA`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use mixformer_data::{
    AugmentationParams, Coco, CropParams, InMemoryDataset, Normalization, ProcessingParams,
    SamplerMode, SamplerParams, TrackingDataset, TrackingSampler, Uav123, read_otb_sequence,
    read_vot_sequence,
};
use rayon::prelude::*;

fn sample_data() -> PathBuf {
    let dir = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    if !dir.join("sot").is_dir() {
        eprintln!(
            "sample data not found at {}; set MIXFORMER_SAMPLE_DATA",
            dir.display()
        );
        std::process::exit(1);
    }
    dir
}

fn stage1_sampler(data: &Path) -> mixformer_data::Result<TrackingSampler> {
    let uav = Uav123::open(&data.join("sot/uav123"), "UAV123_10fps")?;
    let videos = vec![
        read_otb_sequence(&data.join("sot/otb/Crossing"))?,
        read_vot_sequence(&data.join("sot/vot/bag"))?,
        uav.sequence(0)?.as_ref().clone(),
    ];
    let datasets: Vec<Arc<dyn TrackingDataset>> = vec![
        Arc::new(InMemoryDataset::new("SOT", videos)?),
        Arc::new(Coco::open(&data.join("coco"), "val2017")?),
    ];
    let processing = ProcessingParams {
        template: CropParams {
            size: 128,
            factor: 2.0,
            center_jitter: 0.0,
            scale_jitter: 0.0,
        },
        search: CropParams {
            size: 288,
            factor: 5.0,
            center_jitter: 4.5,
            scale_jitter: 0.5,
        },
        normalization: Normalization::default(),
        augmentation: Some(AugmentationParams::default()),
        token_stride: 16,
    };
    let params = SamplerParams::new(SamplerMode::Causal, vec![200], 2, vec![1.0, 1.0], 0);
    TrackingSampler::new(datasets, params, processing)
}

fn parse_samples() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|arg| arg == "--samples")
        .and_then(|i| args.get(i + 1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(300)
}

/// Returns the CPU time of the calling thread in seconds, where Linux
/// reports it (`/proc/thread-self/schedstat`, nanoseconds on the CPU).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanoseconds * 1e-9)
}

fn exit_on_error<T>(result: mixformer_data::Result<T>) -> T {
    result.unwrap_or_else(|error| {
        eprintln!("sampling failed: {error}");
        std::process::exit(1);
    })
}

fn main() {
    let samples = parse_samples();
    let sampler = exit_on_error(stage1_sampler(&sample_data()));
    let run_sequential = |epoch: u64| -> mixformer_data::Result<()> {
        (0..samples as u64).try_for_each(|index| sampler.sample(epoch, index).map(|_| ()))
    };
    let run_parallel = |epoch: u64| -> mixformer_data::Result<()> {
        (0..samples as u64)
            .into_par_iter()
            .try_for_each(|index| sampler.sample(epoch, index).map(|_| ()))
    };

    // One thread: the calling thread, so that its CPU time can be read too.
    // A warm-up epoch fills the file cache; epoch 1 is timed.
    exit_on_error(run_sequential(0));
    let cpu_start = thread_cpu_seconds();
    let start = Instant::now();
    exit_on_error(run_sequential(1));
    let elapsed = start.elapsed().as_secs_f64();
    let one_thread = samples as f64 / elapsed;
    print!("stage-1 samples/s on  1 thread: {one_thread:8.1} ({samples} samples in {elapsed:.2} s");
    let per_cpu_second = match (cpu_start, thread_cpu_seconds()) {
        (Some(before), Some(after)) => Some(samples as f64 / (after - before)),
        _ => None,
    };
    match per_cpu_second {
        Some(rate) => println!("; {rate:.1} per CPU second)"),
        None => println!(")"),
    }
    // Machine-readable lines for `cargo xtask bench`.
    println!("result sample_rate one_thread {one_thread:.3}");
    if let Some(rate) = per_cpu_second {
        println!("result sample_rate cpu_second {rate:.3}");
    }

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("cannot start {threads} threads: {error}");
            std::process::exit(1);
        }
    };
    exit_on_error(pool.install(|| run_parallel(0)));
    let start = Instant::now();
    exit_on_error(pool.install(|| run_parallel(1)));
    let elapsed = start.elapsed().as_secs_f64();
    let all_threads = samples as f64 / elapsed;
    println!(
        "stage-1 samples/s on {threads:>2} threads: {all_threads:8.1} \
         ({samples} samples in {elapsed:.2} s; {:.2}x one thread)",
        all_threads / one_thread
    );
}
