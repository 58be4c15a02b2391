//! Forward time of the student models at batch 1.
//!
//! Run with `cargo bench -p mixformer-model-vit --bench forward`. Prints, for
//! MixFormerV2-B (288 px search, depth 8) and MixFormerV2-S (224 px, depth 4,
//! MLP ratio 1), the full forward over template, online template and search,
//! and one step of the cached-template tracking path. `BENCH_ITERATIONS`
//! sets the number of timed runs (default 20). `MIXFORMER_DEVICE` picks the
//! backend: `cpu`, `flex` or `libtorch` (see `mixformer_model_vit::device`).

use std::time::{Duration, Instant};

use burn::tensor::{Device, Distribution, Tensor};
use mixformer_model_vit::device::{backend_label, device_from_env};
use mixformer_model_vit::{MixFormer, VitConfig};

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20);
    let (device_name, device) = device_from_env().unwrap_or_else(|error| panic!("{error}"));
    println!(
        "backend: {}, batch 1, {iterations} timed runs after 3 warm-up runs",
        backend_label(&device_name)
    );
    println!(
        "{:<16} {:>18} {:>18}",
        "model", "full forward (ms)", "cached step (ms)"
    );
    for (name, config) in [
        ("MixFormerV2-B", VitConfig::student_base()),
        ("MixFormerV2-S", VitConfig::student_small()),
    ] {
        let (full, cached) = measure(&config, &device, iterations);
        println!("{name:<16} {full:>18.2} {cached:>18.2}");
        println!("result forward {name} full {full:.3}");
        println!("result forward {name} cached {cached:.3}");
    }
}

/// Median milliseconds of the full forward and of one cached tracking step.
fn measure(config: &VitConfig, device: &Device, iterations: usize) -> (f64, f64) {
    let model = MixFormer::new(config, device).expect("preset configs are valid");
    let image = |size: usize| {
        Tensor::<4>::random([1, 3, size, size], Distribution::Normal(0.0, 1.0), device)
    };
    let template = image(config.template_size);
    let online = image(config.template_size);
    let search = image(config.search_size);

    let full = median(iterations, || {
        let out = model.forward(template.clone(), online.clone(), search.clone(), None);
        out.boxes().into_data();
    });

    let cache = model.encode_templates(template.clone(), online.clone());
    let cached = median(iterations, || {
        let out = model.track(search.clone(), &cache);
        out.boxes.into_data();
    });
    (full, cached)
}

fn median(iterations: usize, mut run: impl FnMut()) -> f64 {
    for _ in 0..3 {
        run();
    }
    let mut times: Vec<Duration> = (0..iterations.max(1))
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}
