//! `cargo xtask bench`: our benchmarks and a PyTorch baseline on the same
//! machine, thread count and shapes, with the ratio of each pair.
//!
//! Our side runs the workspace's `cargo bench` targets (`tracking_fps`,
//! `train_step`, `sample_rate`) once per backend. The PyTorch side runs
//! `xtask/scripts/bench_torch.py` (tracking, training) and, given a checkout of
//! the reference, `xtask/scripts/bench_reference_data.py` (sample preparation).
//! Every program prints lines `result <bench> <case> [<path>] <value>`, each
//! value a rate (frames, steps or samples per second), which this task pairs up.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::paths::{sample_data_folder, workspace_root};
use crate::pipeline::describe_command;

/// The packages of our benchmarks.
const BENCH_PACKAGES: [&str; 3] = ["mixformer-tracker", "mixformer-trainer", "mixformer-data"];

/// Environment variable naming the Python interpreter that has `torch`.
const PYTHON_ENV: &str = "MIXFORMER_TORCH_PYTHON";

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Threads for every side: rayon, OpenMP and `torch.set_num_threads`;
    /// defaults to the number of cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Our backends: `flex` (pure Rust) and `libtorch` (the `tch` feature;
    /// needs `LIBTORCH`). Defaults to flex, plus libtorch when `LIBTORCH` is set.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub backends: Vec<Backend>,

    /// Benchmarks to run (default: all).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub only: Vec<Suite>,

    /// Rounds of tracking and training, ours then PyTorch in each, so that a
    /// slow spell of the machine is less likely to hit one side only. The
    /// table shows medians.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: u64,

    /// Timed tracking frames per model and path.
    #[arg(long, default_value_t = 30, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub frames: u64,

    /// Training cases: `tiny` (batch 4) and `base` (12-block student and
    /// ViT-B teacher, batch 2, seconds per step, so minutes a round).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "tiny",
        value_name = "NAME,..."
    )]
    pub train: Vec<TrainCase>,

    /// Timed samples of the sample-preparation benchmark.
    #[arg(long, default_value_t = 300, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub samples: u64,

    /// Python interpreter with torch, numpy and opencv, by default
    /// `MIXFORMER_TORCH_PYTHON`, else `python3`. Without them the PyTorch side
    /// is skipped with a message.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// A checkout of MCG-NJU/MixFormerV2, for the reference's own data
    /// pipeline. Without it that comparison is skipped.
    #[arg(long, value_name = "DIR")]
    pub reference: Option<PathBuf>,

    /// The sample data folder, by default `MIXFORMER_SAMPLE_DATA` or `../shared/data`.
    #[arg(long, value_name = "DIR")]
    pub sample_data: Option<PathBuf>,

    /// Target folder of the libtorch build, kept apart so that the two
    /// feature sets do not rebuild each other (default `target/libtorch`).
    #[arg(long, value_name = "DIR")]
    pub libtorch_target_dir: Option<PathBuf>,

    /// Also write the table as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// One of our backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Backend {
    /// burn's pure-Rust CPU backend.
    Flex,
    /// libtorch through burn-tch.
    Libtorch,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Libtorch => "libtorch",
        }
    }
}

/// A training case of the `train_step` benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrainCase {
    /// The tiny experiments at batch 4.
    Tiny,
    /// The 12-block student and the ViT-B teacher at batch 2.
    Base,
}

impl TrainCase {
    fn name(self) -> &'static str {
        match self {
            TrainCase::Tiny => "tiny",
            TrainCase::Base => "base",
        }
    }
}

/// A group of benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// Tracking frames per second, MixFormerV2-B and -S.
    Tracking,
    /// Stage-1 training steps per second.
    Train,
    /// Stage-1 samples per second.
    Data,
}

/// One `result` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// `tracking`, `train_step`, `sample_rate`, `forward`.
    pub bench: String,
    /// The model, training case or sampling mode.
    pub case: String,
    /// `cached` or `full` for tracking, empty otherwise.
    pub path: String,
    /// A rate: higher is faster.
    pub value: f64,
}

/// Parses `result <bench> <case> [<path>] <value>`, returning `None` for other lines.
pub fn parse_result_line(line: &str) -> Option<Measurement> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (bench, case, path, value) = match fields.as_slice() {
        ["result", bench, case, value] => (bench, case, "", value),
        ["result", bench, case, path, value] => (bench, case, *path, value),
        _ => return None,
    };
    let value: f64 = value.parse().ok().filter(|value: &f64| value.is_finite())?;
    Some(Measurement {
        bench: bench.to_string(),
        case: case.to_string(),
        path: path.to_string(),
        value,
    })
}

/// Our measurements per backend, and the baseline's.
#[derive(Debug, Default)]
pub struct Results {
    /// Keyed by backend name. The data benchmark, which has no backend, uses `cpu`.
    pub ours: BTreeMap<String, Vec<Measurement>>,
    /// The PyTorch side.
    pub baseline: Vec<Measurement>,
    /// Reasons for the parts that were skipped.
    pub notes: Vec<String>,
}

/// Runs `cargo xtask bench`.
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let workspace = workspace_root();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |count| count.get()));
    let suites = if args.only.is_empty() {
        vec![Suite::Tracking, Suite::Train, Suite::Data]
    } else {
        args.only.clone()
    };
    let sample_data = sample_data_folder(args.sample_data.as_deref());
    if !sample_data.join("sot/otb/Crossing").is_dir() {
        return Err(format!(
            "sample data not found at {}: pass --sample-data DIR or set MIXFORMER_SAMPLE_DATA",
            sample_data.display()
        ));
    }
    let libtorch = std::env::var_os("LIBTORCH").map(PathBuf::from);
    let backends = choose_backends(&args.backends, libtorch.is_some())?;
    let cargo = CargoBench {
        libtorch_target: args
            .libtorch_target_dir
            .clone()
            .unwrap_or_else(|| workspace.join("target/libtorch")),
        workspace: workspace.clone(),
        libtorch,
    };
    let mut results = Results::default();

    let python = python_with_torch(args, &mut results);
    for round in 1..=args.rounds {
        println!("== round {round}: ours, {threads} threads");
        for &backend in &backends {
            let mut runs = Vec::new();
            if suites.contains(&Suite::Tracking) {
                runs.push(("tracking_fps", vec![]));
            }
            if suites.contains(&Suite::Train) {
                let extra = if args.train.contains(&TrainCase::Base) {
                    vec!["base".to_string()]
                } else {
                    vec![]
                };
                runs.push(("train_step", extra));
            }
            for (bench, extra) in runs {
                let mut command = cargo.command(bench, &extra, Some(backend));
                configure_threads(&mut command, threads);
                command.env("BENCH_FRAMES", args.frames.to_string());
                command.env("MIXFORMER_SAMPLE_DATA", &sample_data);
                let measured = run_and_collect(&mut command)?;
                let requested = measured
                    .into_iter()
                    .filter(|m| is_requested(m, &args.train));
                results
                    .ours
                    .entry(backend.name().to_string())
                    .or_default()
                    .extend(requested);
            }
        }
        if let Some(python) = &python {
            println!("== round {round}: PyTorch, {threads} threads");
            run_torch(
                args,
                python,
                &workspace,
                &sample_data,
                threads,
                &suites,
                &mut results,
            );
        }
    }
    if suites.contains(&Suite::Data) {
        let extra = vec!["--samples".to_string(), args.samples.to_string()];
        let mut command = cargo.command("sample_rate", &extra, None);
        configure_threads(&mut command, threads);
        command.env("MIXFORMER_SAMPLE_DATA", &sample_data);
        let measured = run_and_collect(&mut command)?;
        results
            .ours
            .entry("cpu".to_string())
            .or_default()
            .extend(measured);
        if let Some(python) = &python {
            run_reference_data(
                args,
                python,
                &workspace,
                &sample_data,
                threads,
                &mut results,
            );
        }
    }

    let table = render_table(&results);
    println!("\n{table}");
    for note in &results.notes {
        println!("note: {note}");
    }
    if let Some(path) = &args.markdown {
        let mut text = table;
        for note in &results.notes {
            let _ = writeln!(text, "\nNote: {note}");
        }
        std::fs::write(path, text)
            .map_err(|error| format!("failed to write {}: {error}", path.display()))?;
        println!("table written to {}", path.display());
    }
    Ok(())
}

/// Returns the requested backends, or flex plus libtorch when `LIBTORCH` is set.
fn choose_backends(requested: &[Backend], has_libtorch: bool) -> Result<Vec<Backend>, String> {
    if requested.is_empty() {
        let mut backends = vec![Backend::Flex];
        if has_libtorch {
            backends.push(Backend::Libtorch);
        }
        return Ok(backends);
    }
    if requested.contains(&Backend::Libtorch) && !has_libtorch {
        return Err(
            "the libtorch backend needs LIBTORCH set to a libtorch 2.9.0 folder (see docs/performance.md)"
                .into(),
        );
    }
    let mut backends = requested.to_vec();
    backends.sort();
    backends.dedup();
    Ok(backends)
}

/// Keeps training results of the requested cases only.
fn is_requested(measurement: &Measurement, train: &[TrainCase]) -> bool {
    measurement.bench != "train_step" || train.iter().any(|case| case.name() == measurement.case)
}

/// Builds `cargo bench` commands for one of our backends.
struct CargoBench {
    workspace: PathBuf,
    libtorch: Option<PathBuf>,
    libtorch_target: PathBuf,
}

impl CargoBench {
    /// Builds `cargo bench -p <every bench package> --bench <bench> [-- extra]`,
    /// with the `tch` features, their own target folder and the libtorch
    /// library path for [`Backend::Libtorch`].
    fn command(&self, bench: &str, extra: &[String], backend: Option<Backend>) -> Command {
        let mut command = Command::new(env!("CARGO"));
        command.current_dir(&self.workspace).arg("bench");
        // The same packages and features for every benchmark, so that
        // switching benchmarks never rebuilds anything.
        for package in BENCH_PACKAGES {
            command.args(["-p", package]);
        }
        if let Some(backend) = backend {
            command.env("MIXFORMER_DEVICE", backend.name());
        }
        if backend == Some(Backend::Libtorch) {
            command
                .args(["--features", "mixformer-tracker/tch,mixformer-trainer/tch"])
                .env("CARGO_TARGET_DIR", &self.libtorch_target);
            if let Some(libtorch) = &self.libtorch {
                command.env("LD_LIBRARY_PATH", library_path(libtorch));
                // Lets the benchmark binaries find libtorch without
                // LD_LIBRARY_PATH, unless the caller chose other flags.
                if !rustflags_set() {
                    command.env(
                        "RUSTFLAGS",
                        format!("-C link-arg=-Wl,-rpath,{}", libtorch.join("lib").display()),
                    );
                }
            }
        }
        command.args(["--bench", bench]);
        if !extra.is_empty() {
            command.arg("--").args(extra);
        }
        command
    }
}

/// Returns whether the caller set rustc flags through the environment.
fn rustflags_set() -> bool {
    std::env::vars_os().any(|(key, _)| {
        let key = key.to_string_lossy();
        key == "RUSTFLAGS"
            || key == "CARGO_ENCODED_RUSTFLAGS"
            || (key.starts_with("CARGO_TARGET_") && key.ends_with("_RUSTFLAGS"))
    })
}

/// Returns `LD_LIBRARY_PATH` with libtorch's `lib` folder in front.
fn library_path(libtorch: &Path) -> std::ffi::OsString {
    let mut path = libtorch.join("lib").into_os_string();
    if let Some(existing) = std::env::var_os("LD_LIBRARY_PATH").filter(|value| !value.is_empty()) {
        path.push(":");
        path.push(existing);
    }
    path
}

fn configure_threads(command: &mut Command, threads: usize) {
    let threads = threads.to_string();
    for variable in ["RAYON_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"] {
        command.env(variable, &threads);
    }
}

/// Runs a command, echoing its standard output, and returns its `result` lines.
fn run_and_collect(command: &mut Command) -> Result<Vec<Measurement>, String> {
    println!("$ {}", describe_command(command));
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("failed to start {}: {error}", describe_command(command)))?;
    let mut measurements = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line =
                line.map_err(|error| format!("failed to read the benchmark output: {error}"))?;
            match parse_result_line(&line) {
                Some(measurement) => measurements.push(measurement),
                None => println!("{line}"),
            }
        }
    }
    let status = child
        .wait()
        .map_err(|error| format!("waiting for {}: {error}", describe_command(command)))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", describe_command(command)));
    }
    Ok(measurements)
}

/// Returns the interpreter for the PyTorch side, or `None` after recording
/// a note that explains why that side is skipped.
fn python_with_torch(args: &BenchArgs, results: &mut Results) -> Option<PathBuf> {
    let python = args
        .python
        .clone()
        .or_else(|| std::env::var_os(PYTHON_ENV).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"));
    match probe_python(&python) {
        Ok(()) => Some(python),
        Err(reason) => {
            results.notes.push(format!(
                "PyTorch baseline skipped: {reason}. Install torch==2.9.0, numpy and \
                 opencv-python-headless, then pass --python or set {PYTHON_ENV}."
            ));
            None
        }
    }
}

/// Runs `bench_torch.py` for the tracking and training suites.
fn run_torch(
    args: &BenchArgs,
    python: &Path,
    workspace: &Path,
    sample_data: &Path,
    threads: usize,
    suites: &[Suite],
    results: &mut Results,
) {
    let mut torch = Command::new(python);
    torch
        .arg(workspace.join("xtask/scripts/bench_torch.py"))
        .args(["--threads", &threads.to_string()]);
    let mut wanted = false;
    if suites.contains(&Suite::Tracking) {
        torch
            .arg("--frames")
            .arg(sample_data.join("sot/otb/Crossing"))
            .args(["--timed-frames", &args.frames.to_string()]);
        wanted = true;
    }
    if suites.contains(&Suite::Train) && !args.train.is_empty() {
        torch
            .arg("--train")
            .args(args.train.iter().map(|case| case.name()));
        wanted = true;
    }
    if !wanted {
        return;
    }
    configure_threads(&mut torch, threads);
    match run_and_collect(&mut torch) {
        Ok(measured) => results.baseline.extend(measured),
        Err(error) => results
            .notes
            .push(format!("PyTorch baseline failed: {error}")),
    }
}

/// Runs the reference's own data pipeline, given a checkout of it.
fn run_reference_data(
    args: &BenchArgs,
    python: &Path,
    workspace: &Path,
    sample_data: &Path,
    threads: usize,
    results: &mut Results,
) {
    let Some(reference) = &args.reference else {
        results.notes.push(
            "the reference's data pipeline needs a checkout of MCG-NJU/MixFormerV2 \
             (--reference DIR); sample preparation has no baseline in this run"
                .into(),
        );
        return;
    };
    let mut data = Command::new(python);
    data.arg(workspace.join("xtask/scripts/bench_reference_data.py"))
        .arg("--reference")
        .arg(reference)
        .arg("--data")
        .arg(sample_data)
        .args(["--samples", &args.samples.to_string()]);
    configure_threads(&mut data, threads);
    match run_and_collect(&mut data) {
        Ok(measured) => results.baseline.extend(measured),
        Err(error) => results
            .notes
            .push(format!("reference data pipeline failed: {error}")),
    }
}

/// Checks that `python` imports torch, numpy and cv2.
fn probe_python(python: &Path) -> Result<(), String> {
    let output = Command::new(python)
        .args(["-c", "import torch, numpy, cv2"])
        .output()
        .map_err(|error| format!("failed to run {}: {error}", python.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or("import failed").trim();
    Err(format!(
        "{} cannot import torch, numpy and cv2 ({last})",
        python.display()
    ))
}

/// Renders the Markdown table of every measurement of ours beside its baseline.
///
/// Tracking rows compare both of our paths with the baseline's full forward,
/// which is what the reference tracker runs on every frame.
pub fn render_table(results: &Results) -> String {
    let mut text = String::from(
        "| benchmark | case | ours: backend, path | ours | PyTorch | ours / PyTorch |\n\
         |---|---|---|---|---|---|\n",
    );
    for (backend, measurements) in &results.ours {
        for (bench, case, path, value) in medians(measurements) {
            if bench == "forward" {
                continue;
            }
            let baseline = medians(&results.baseline)
                .into_iter()
                .find(|(b, c, p, _)| {
                    *b == bench && *c == case && (*p == path || bench == "tracking")
                })
                .map(|(_, _, _, value)| value);
            let unit = match bench.as_str() {
                "tracking" => "FPS",
                "train_step" => "steps/s",
                _ => "samples/s",
            };
            let label = if path.is_empty() {
                backend.clone()
            } else {
                format!("{backend}, {path}")
            };
            let (base_text, ratio) = match baseline {
                Some(base) if base > 0.0 => (
                    format!("{} {unit}", format_rate(base)),
                    format!("{:.2}x", value / base),
                ),
                _ => ("skipped".to_string(), "n/a".to_string()),
            };
            let _ = writeln!(
                text,
                "| {bench} | {case} | {label} | {} {unit} | {base_text} | {ratio} |",
                format_rate(value)
            );
        }
    }
    text
}

/// Returns the median value of each `(bench, case, path)`, in order of first appearance.
fn medians(measurements: &[Measurement]) -> Vec<(String, String, String, f64)> {
    let mut groups: Vec<((String, String, String), Vec<f64>)> = Vec::new();
    for m in measurements {
        let key = (m.bench.clone(), m.case.clone(), m.path.clone());
        match groups.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, values)) => values.push(m.value),
            None => groups.push((key, vec![m.value])),
        }
    }
    groups
        .into_iter()
        .map(|((bench, case, path), mut values)| {
            values.sort_by(f64::total_cmp);
            let middle = values.len() / 2;
            let median = if values.len() % 2 == 0 {
                (values[middle - 1] + values[middle]) / 2.0
            } else {
                values[middle]
            };
            (bench, case, path, median)
        })
        .collect()
}

/// Formats a rate with three significant digits and at most three decimals.
fn format_rate(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(bench: &str, case: &str, path: &str, value: f64) -> Measurement {
        Measurement {
            bench: bench.into(),
            case: case.into(),
            path: path.into(),
            value,
        }
    }

    #[test]
    fn result_lines_parse_with_optional_path() {
        assert_eq!(
            parse_result_line("result tracking MixFormerV2-S cached 17.25"),
            Some(measurement("tracking", "MixFormerV2-S", "cached", 17.25))
        );
        assert_eq!(
            parse_result_line("result train_step tiny 25.8"),
            Some(measurement("train_step", "tiny", "", 25.8))
        );
    }

    #[test]
    fn other_lines_are_not_results() {
        for line in [
            "MixFormerV2-S  17.25  12.4",
            "result tracking",
            "result tracking S cached fast",
            "result tracking S cached NaN",
            "result a b c d e",
            "",
        ] {
            assert_eq!(parse_result_line(line), None, "{line:?}");
        }
    }

    #[test]
    fn table_divides_ours_by_baseline() {
        let mut results = Results::default();
        results.ours.insert(
            "flex".into(),
            vec![
                measurement("tracking", "MixFormerV2-S", "cached", 30.0),
                measurement("tracking", "MixFormerV2-S", "full", 10.0),
                measurement("train_step", "tiny", "", 8.0),
            ],
        );
        results.baseline = vec![
            measurement("tracking", "MixFormerV2-S", "full", 20.0),
            measurement("train_step", "tiny", "", 4.0),
        ];
        let table = render_table(&results);
        assert!(
            table.contains("| flex, cached | 30.0 FPS | 20.0 FPS | 1.50x |"),
            "{table}"
        );
        assert!(
            table.contains("| flex, full | 10.0 FPS | 20.0 FPS | 0.50x |"),
            "{table}"
        );
        assert!(
            table.contains("| tiny | flex | 8.00 steps/s | 4.00 steps/s | 2.00x |"),
            "{table}"
        );
    }

    #[test]
    fn repeated_rounds_are_reduced_to_medians() {
        let mut results = Results::default();
        results.ours.insert(
            "libtorch".into(),
            vec![
                measurement("tracking", "MixFormerV2-B", "cached", 4.0),
                measurement("tracking", "MixFormerV2-B", "cached", 3.0),
                measurement("tracking", "MixFormerV2-B", "cached", 9.0),
            ],
        );
        results.baseline = vec![
            measurement("tracking", "MixFormerV2-B", "full", 2.0),
            measurement("tracking", "MixFormerV2-B", "full", 3.0),
        ];
        let table = render_table(&results);
        assert!(
            table.contains("| libtorch, cached | 4.00 FPS | 2.50 FPS | 1.60x |"),
            "{table}"
        );
        assert_eq!(table.lines().count(), 3, "{table}");
    }

    #[test]
    fn missing_baseline_is_marked_skipped() {
        let mut results = Results::default();
        results.ours.insert(
            "cpu".into(),
            vec![measurement("sample_rate", "one_thread", "", 215.0)],
        );
        let table = render_table(&results);
        assert!(
            table.contains("| 215 samples/s | skipped | n/a |"),
            "{table}"
        );
    }

    #[test]
    fn libtorch_needs_libtorch_folder() {
        assert_eq!(choose_backends(&[], false), Ok(vec![Backend::Flex]));
        assert_eq!(
            choose_backends(&[], true),
            Ok(vec![Backend::Flex, Backend::Libtorch])
        );
        assert!(choose_backends(&[Backend::Libtorch], false).is_err());
        assert_eq!(
            choose_backends(&[Backend::Libtorch, Backend::Flex, Backend::Flex], true),
            Ok(vec![Backend::Flex, Backend::Libtorch])
        );
    }

    #[test]
    fn missing_interpreter_is_reported() {
        let error = probe_python(Path::new("/nonexistent/python")).expect_err("no such program");
        assert!(error.contains("/nonexistent/python"), "{error}");
    }
}
