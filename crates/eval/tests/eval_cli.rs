//! The `eval` binary end to end on the sample data, with a tiny random model
//! of `experiments/mixformer2_vit_online/tiny_depth2_score.yaml` saved as
//! safetensors and as a `torch.save` checkpoint.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::tensor::Device;
use mixformer_config::{ExperimentConfig, Script};
use mixformer_layer_surgery::{Dict, Value, write_pth};
use mixformer_model_vit::{MixFormer, VitConfig, save_safetensors, to_state_dict};
use tempfile::TempDir;

const TRACKER: &str = "tiny_depth2_score";
const PLOTS: [&str; 3] = [
    "success_plot.png",
    "precision_plot.png",
    "norm_precision_plot.png",
];

fn sample_data_root() -> PathBuf {
    let root = match std::env::var_os("MIXFORMER_SAMPLE_DATA") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        root.join("sot").is_dir(),
        "sample data not found: expected sot/ under {}; set MIXFORMER_SAMPLE_DATA to the \
         sample data folder",
        root.display()
    );
    root
}

fn experiment_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments/mixformer2_vit_online/tiny_depth2_score.yaml")
}

/// A temporary folder with the tiny model's checkpoints in both formats.
struct Fixture {
    folder: TempDir,
    safetensors: PathBuf,
    pth: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let config = ExperimentConfig::load(Script::Mixformer2VitOnline, experiment_file())
            .expect("the tiny experiment loads");
        let model = MixFormer::new(&VitConfig::from(&config.architecture()), &Device::flex())
            .expect("the tiny architecture is valid");
        let folder = tempfile::tempdir().expect("temporary folder");

        let safetensors = folder.path().join("tiny.safetensors");
        save_safetensors(&model, &safetensors).expect("safetensors written");
        let pth = folder.path().join("MixFormerOnline_ep0004.pth.tar");
        let checkpoint = Dict::new().with("net", to_state_dict(&model).expect("export").to_value());
        write_pth(&pth, &Value::Dict(checkpoint)).expect("checkpoint written");

        Self {
            folder,
            safetensors,
            pth,
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.folder.path().join(relative)
    }

    fn results(&self) -> PathBuf {
        self.path("results")
    }

    /// Runs `eval run` on a dataset with the safetensors checkpoint.
    fn run(&self, dataset: &str, root: &Path, extra: &[&str]) -> Output {
        self.run_with(&self.safetensors, dataset, root, extra)
    }

    fn run_with(&self, checkpoint: &Path, dataset: &str, root: &Path, extra: &[&str]) -> Output {
        let mut command = eval();
        command
            .arg("run")
            .args(["--script", "mixformer2_vit_online", "--config"])
            .arg(experiment_file())
            .arg("--checkpoint")
            .arg(checkpoint)
            .args(["--dataset", dataset, "--root"])
            .arg(root)
            .arg("--output")
            .arg(self.results())
            .args(extra);
        command.output().expect("eval runs")
    }

    fn analyse(&self, dataset: &str, root: &Path, results: &[PathBuf], extra: &[&str]) -> Output {
        let mut command = eval();
        command
            .arg("analyse")
            .arg("--results")
            .args(results)
            .args(["--dataset", dataset, "--root"])
            .arg(root)
            .arg("--report")
            .arg(self.path(&format!("report-{dataset}")))
            .args(extra);
        command.output().expect("eval runs")
    }
}

/// Builds a command for the binary, isolated from the local settings of the machine.
fn eval() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eval"));
    command.env("MIXFORMER_LOCAL_SETTINGS", "no-such-settings.yaml");
    command.env("RUST_LOG", "warn");
    command
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "eval failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Reads an `x,y,w,h` result file.
fn read_boxes(path: &Path) -> Vec<[f64; 4]> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .map(|line| {
            let values: Vec<f64> = line
                .split(',')
                .map(|value| {
                    value
                        .parse()
                        .unwrap_or_else(|_| panic!("bad line {line:?}"))
                })
                .collect();
            assert_eq!(values.len(), 4, "line {line:?} of {}", path.display());
            [values[0], values[1], values[2], values[3]]
        })
        .collect()
}

/// Reads a time file: one non-negative number of seconds per line.
fn read_times(path: &Path) -> Vec<f64> {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    text.lines()
        .map(|line| {
            let seconds: f64 = line.parse().unwrap_or_else(|_| panic!("bad time {line:?}"));
            assert!(seconds >= 0.0, "negative time {seconds}");
            seconds
        })
        .collect()
}

fn assert_report(folder: &Path, sequences: &[(&str, usize)], trackers: &[&str]) {
    for name in [
        "comparison.md",
        "comparison.txt",
        "sequences.md",
        "issues.txt",
    ] {
        assert!(
            folder.join(name).is_file(),
            "{name} missing in {}",
            folder.display()
        );
    }
    for plot in PLOTS {
        let path = folder.join(plot);
        let (width, height) = image::image_dimensions(&path)
            .unwrap_or_else(|error| panic!("{} is not an image: {error}", path.display()));
        assert_eq!((width, height), (1000, 750), "{plot}");
    }

    let comparison = fs::read_to_string(folder.join("comparison.txt")).unwrap();
    for tracker in trackers {
        assert!(
            comparison.contains(tracker),
            "{tracker} missing:\n{comparison}"
        );
    }
    for header in ["AUC", "OP50", "Prec@20", "NormPrec@0.20", "FPS"] {
        assert!(
            comparison.contains(header),
            "{header} missing:\n{comparison}"
        );
    }
    let per_sequence = fs::read_to_string(folder.join("sequences.md")).unwrap();
    for (sequence, frames) in sequences {
        let row = per_sequence
            .lines()
            .find(|line| line.starts_with(&format!("| {sequence} ")))
            .unwrap_or_else(|| panic!("no row for {sequence}:\n{per_sequence}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(
            cells[2],
            frames.to_string(),
            "frame count of {sequence}: {row}"
        );
    }
}

#[test]
fn sample_sequences_are_tracked_and_analysed() {
    let fixture = Fixture::new();
    let sample = sample_data_root();
    let cases = [
        ("otb", "sot/otb", "Crossing", 120, &fixture.safetensors),
        ("vot", "sot/vot", "bag", 196, &fixture.pth),
        (
            "uav123",
            "sot/uav123",
            "wakeboard7",
            67,
            &fixture.safetensors,
        ),
    ];

    for (dataset, root, sequence, frames, checkpoint) in cases {
        let root = sample.join(root);
        let output = fixture.run_with(checkpoint, dataset, &root, &["--threads", "2"]);
        assert_success(&output);
        assert!(
            stdout(&output).starts_with(&format!("tracked 1 sequence(s), {frames} frames")),
            "{}",
            stdout(&output)
        );

        let folder = fixture.results().join(TRACKER).join(dataset);
        let boxes = read_boxes(&folder.join(format!("{sequence}.txt")));
        assert_eq!(boxes.len(), frames, "{dataset} {sequence}");
        assert!(
            boxes.iter().skip(1).all(|b| b[2] >= 10.0 && b[3] >= 10.0),
            "{dataset}"
        );
        let times = read_times(&folder.join(format!("{sequence}_time.txt")));
        assert_eq!(times.len(), frames, "{dataset} {sequence}");

        let output = fixture.analyse(dataset, &root, &[folder], &[]);
        assert_success(&output);
        assert!(stdout(&output).contains(TRACKER), "{}", stdout(&output));
        let report = fixture.path(&format!("report-{dataset}"));
        assert_report(&report, &[(sequence, frames)], &[TRACKER]);
        let issues = fs::read_to_string(report.join("issues.txt")).unwrap();
        assert_eq!(issues, "No problems found in the result files.\n");
    }

    // The first line is the initial box of OTB Crossing (205, 151, 17, 50).
    let crossing = read_boxes(&fixture.results().join(TRACKER).join("otb/Crossing.txt"));
    assert_eq!(crossing[0], [205.0, 151.0, 17.0, 50.0]);
}

#[test]
fn full_forward_matches_cached_results() {
    let fixture = Fixture::new();
    let root = sample_data_root().join("sot/otb");
    assert_success(&fixture.run("otb", &root, &["--sequence", "Crossing"]));
    assert_success(&fixture.run("otb", &root, &["--full-forward"]));

    let cached_folder = fixture.results().join(TRACKER).join("otb");
    let full_folder = fixture
        .results()
        .join(format!("{TRACKER}-full"))
        .join("otb");
    let cached = read_boxes(&cached_folder.join("Crossing.txt"));
    let full = read_boxes(&full_folder.join("Crossing.txt"));
    assert_eq!(cached.len(), full.len());
    for (index, (a, b)) in cached.iter().zip(&full).enumerate() {
        for (x, y) in a.iter().zip(b) {
            // Files hold 3 decimals, so equal boxes may round 1e-3 apart.
            assert!((x - y).abs() <= 2e-3, "frame {index}: {a:?} vs {b:?}");
        }
    }

    let output = fixture.analyse("otb", &root, &[cached_folder, full_folder], &[]);
    assert_success(&output);
    let report = fixture.path("report-otb");
    assert_report(
        &report,
        &[("Crossing", 120)],
        &[TRACKER, &format!("{TRACKER}-full")],
    );
}

/// Builds a GOT-10k `val` split of two 12-frame sequences from OTB Crossing.
fn got10k_val(fixture: &Fixture) -> PathBuf {
    let crossing = sample_data_root().join("sot/otb/Crossing");
    let ground_truth = fs::read_to_string(crossing.join("groundtruth_rect.txt")).unwrap();
    let lines: Vec<String> = ground_truth
        .lines()
        .take(12)
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(","))
        .collect();

    let root = fixture.path("got10k");
    let split = root.join("val");
    let names = ["GOT-10k_Val_000001", "GOT-10k_Val_000002"];
    for name in names {
        let dir = split.join(name);
        fs::create_dir_all(&dir).unwrap();
        for frame in 1..=12 {
            fs::copy(
                crossing.join(format!("img/{frame:04}.jpg")),
                dir.join(format!("{frame:08}.jpg")),
            )
            .unwrap();
        }
        fs::write(dir.join("groundtruth.txt"), lines.join("\n") + "\n").unwrap();
        fs::write(dir.join("absence.label"), "0\n".repeat(12)).unwrap();
        fs::write(dir.join("cover.label"), "8\n".repeat(12)).unwrap();
    }
    fs::write(split.join("list.txt"), names.join("\n") + "\n").unwrap();
    root
}

#[test]
fn resume_skips_finished_sequences() {
    let fixture = Fixture::new();
    let root = got10k_val(&fixture);
    let output = fixture.run("got10k_val", &root, &["--threads", "2"]);
    assert_success(&output);
    assert!(
        stdout(&output).starts_with("tracked 2 sequence(s), 24 frames"),
        "{}",
        stdout(&output)
    );

    let folder = fixture.results().join(TRACKER).join("got10k_val");
    let first = folder.join("GOT-10k_Val_000001/GOT-10k_Val_000001_001.txt");
    let second = folder.join("GOT-10k_Val_000002/GOT-10k_Val_000002_001.txt");
    assert_eq!(read_boxes(&first).len(), 12);
    assert_eq!(read_boxes(&second).len(), 12);
    let time_file = folder.join("GOT-10k_Val_000002/GOT-10k_Val_000002_time.txt");
    assert_eq!(read_times(&time_file).len(), 12);

    // The first sequence is finished: a marker in its box file must survive.
    // The second was interrupted: a time file and a temporary file, no box file.
    let marker = "1.000,1.000,10.000,10.000\n".repeat(12);
    fs::write(&first, &marker).unwrap();
    fs::remove_file(&second).unwrap();
    let temporary = second.with_file_name("GOT-10k_Val_000002_001.txt.tmp");
    fs::write(&temporary, "1,2").unwrap();

    let output = fixture.run("got10k_val", &root, &["--threads", "2"]);
    assert_success(&output);
    assert!(
        stdout(&output).starts_with("tracked 1 sequence(s), 12 frames"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("skipped 1 sequence(s)"),
        "{}",
        stdout(&output)
    );
    assert_eq!(fs::read_to_string(&first).unwrap(), marker);
    assert_eq!(read_boxes(&second).len(), 12);
    assert!(!temporary.exists());

    let output = fixture.run("got10k_val", &root, &[]);
    assert_success(&output);
    assert!(
        stdout(&output).starts_with("tracked 0 sequence(s)"),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains("skipped 2 sequence(s)"),
        "{}",
        stdout(&output)
    );

    // GOT-10k results are analysed with AO and SR beside the OPE metrics.
    let output = fixture.analyse("got10k_val", &root, &[folder], &[]);
    assert_success(&output);
    let comparison = fs::read_to_string(fixture.path("report-got10k_val/comparison.txt")).unwrap();
    for header in ["AO", "SR0.5", "SR0.75"] {
        assert!(
            comparison.contains(header),
            "{header} missing:\n{comparison}"
        );
    }
}

#[test]
fn failed_sequence_leaves_others_finished() {
    let fixture = Fixture::new();
    let root = got10k_val(&fixture);
    let broken = root.join("val/GOT-10k_Val_000002/00000005.jpg");
    fs::write(&broken, b"not a jpeg").unwrap();

    let output = fixture.run("got10k_val", &root, &[]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("1 of 2 sequence(s) failed"), "{message}");
    assert!(
        message.contains("sequence GOT-10k_Val_000002, frame 5:"),
        "{message}"
    );
    assert!(message.contains(&broken.display().to_string()), "{message}");

    let folder = fixture.results().join(TRACKER).join("got10k_val");
    let finished = folder.join("GOT-10k_Val_000001/GOT-10k_Val_000001_001.txt");
    assert_eq!(read_boxes(&finished).len(), 12);
    assert!(
        !folder
            .join("GOT-10k_Val_000002/GOT-10k_Val_000002_001.txt")
            .exists()
    );
}

#[test]
fn folder_of_frames_is_tracked() {
    let fixture = Fixture::new();
    let crossing = sample_data_root().join("sot/otb/Crossing/img");
    let frames = fixture.path("walk");
    fs::create_dir_all(&frames).unwrap();
    for frame in 1..=8 {
        let name = format!("{frame:04}.jpg");
        fs::copy(crossing.join(&name), frames.join(&name)).unwrap();
    }

    let output = fixture.run("folder", &frames, &["--init-box", "205,151,17,50"]);
    assert_success(&output);
    let boxes = read_boxes(&fixture.results().join(TRACKER).join("folder/walk.txt"));
    assert_eq!(boxes.len(), 8);
    assert_eq!(boxes[0], [205.0, 151.0, 17.0, 50.0]);

    let output = fixture.run("folder", &frames, &[]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--dataset folder needs --init-box X,Y,W,H"),
        "{}",
        stderr(&output)
    );

    let folder = fixture.results().join(TRACKER).join("folder");
    let output = fixture.analyse(
        "folder",
        &frames,
        &[folder],
        &["--init-box", "205,151,17,50"],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("ground truth for the first frame only"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_result_files_are_reported_by_name() {
    let fixture = Fixture::new();
    let root = sample_data_root().join("sot/otb");
    assert_success(&fixture.run("otb", &root, &[]));
    let good = fixture.results().join(TRACKER).join("otb/Crossing.txt");
    let text = fs::read_to_string(&good).unwrap();

    // A NaN box is scored as a failure and listed with its file and line.
    let with_nan = fixture.path("results/with_nan/otb");
    fs::create_dir_all(&with_nan).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[4] = "nan,nan,nan,nan";
    fs::write(with_nan.join("Crossing.txt"), lines.join("\n") + "\n").unwrap();
    let output = fixture.analyse("otb", &root, std::slice::from_ref(&with_nan), &[]);
    assert_success(&output);
    let issues = fs::read_to_string(fixture.path("report-otb/issues.txt")).unwrap();
    assert!(issues.contains("with_nan"), "{issues}");
    assert!(
        issues.contains(&with_nan.join("Crossing.txt").display().to_string()),
        "{issues}"
    );
    assert!(issues.contains("at line(s) 5"), "{issues}");

    // A short file is an error naming it, unless lengths are lenient.
    let short = fixture.path("results/short/otb");
    fs::create_dir_all(&short).unwrap();
    let lines: Vec<&str> = text.lines().take(100).collect();
    fs::write(short.join("Crossing.txt"), lines.join("\n") + "\n").unwrap();
    let output = fixture.analyse("otb", &root, std::slice::from_ref(&short), &[]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains(&short.join("Crossing.txt").display().to_string()),
        "{message}"
    );
    assert!(message.contains("100"), "{message}");

    let output = fixture.analyse("otb", &root, &[short], &["--lenient-lengths"]);
    assert_success(&output);
    let issues = fs::read_to_string(fixture.path("report-otb/issues.txt")).unwrap();
    assert!(issues.contains("100 lines for 120 frames"), "{issues}");
}

#[test]
fn unknown_sequence_is_named_with_choices() {
    let fixture = Fixture::new();
    let root = sample_data_root().join("sot/otb");
    let output = fixture.run("otb", &root, &["--sequence", "Basketball"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output)
            .contains("dataset OTB has no sequence named Basketball; available: Crossing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unknown_device_lists_the_accepted_names() {
    let fixture = Fixture::new();
    let root = sample_data_root().join("sot/otb");
    let output = fixture.run("otb", &root, &["--device", "tpu:0"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("unknown device \"tpu:0\""), "{message}");
    assert!(message.contains("flex"), "{message}");
}

// With the tch feature the default device is libtorch, whose results differ by rounding.
#[cfg(not(feature = "tch"))]
#[test]
fn flex_device_tracks_like_the_default() {
    let fixture = Fixture::new();
    let root = sample_data_root().join("sot/otb");
    assert_success(&fixture.run("otb", &root, &[]));
    assert_success(&fixture.run("otb", &root, &["--device", "flex", "--name", "on-flex"]));

    // Without the tch feature the default device is flex itself.
    let default = read_boxes(&fixture.results().join(TRACKER).join("otb/Crossing.txt"));
    let flex = read_boxes(&fixture.results().join("on-flex/otb/Crossing.txt"));
    assert_eq!(default.len(), 120);
    assert_eq!(default, flex);
}

#[test]
fn missing_output_names_the_setting() {
    let fixture = Fixture::new();
    let root = sample_data_root().join("sot/otb");
    let output = eval()
        .arg("run")
        .args(["--script", "mixformer2_vit_online", "--config"])
        .arg(experiment_file())
        .arg("--checkpoint")
        .arg(&fixture.safetensors)
        .args(["--dataset", "otb", "--root"])
        .arg(root)
        .output()
        .expect("eval runs");
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("no-such-settings.yaml"), "{message}");
    assert!(message.contains("or pass --output DIR"), "{message}");
}
