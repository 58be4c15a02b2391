//! Kills a process that saves checkpoints in a loop at pseudo-random moments and checks
//! that resuming always finds a complete checkpoint and never loses an epoch
//! whose save had finished.
//!
//! The test binary plays both parts. Run normally it is the test, and run with
//! `CHILD_FOLDER_VARIABLE` set it is the saving process.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mixformer_layer_surgery::{Checkpoint, CheckpointManager, StateDict, Tensor, Value};

const CHILD_FOLDER_VARIABLE: &str = "MIXFORMER_CRASH_TEST_FOLDER";
const CHILD_START_VARIABLE: &str = "MIXFORMER_CRASH_TEST_START";
const NET_TYPE: &str = "MixFormer";
const KILLS: usize = 50;
/// Elements of the checkpoint's weight, large enough (256 KiB) that kills often
/// land inside a write.
const WEIGHT_NUMEL: usize = 64 * 1024;
/// A saving process left running by a failed test stops on its own after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(20);

fn main() {
    match std::env::var_os(CHILD_FOLDER_VARIABLE) {
        Some(folder) => run_child(Path::new(&folder)),
        None => {
            kill_during_saves_never_loses_an_epoch();
            println!("test crash_safety::kill_during_saves_never_loses_an_epoch ... ok");
        }
    }
}

fn manager(folder: &Path) -> CheckpointManager {
    CheckpointManager::new(folder, "script", "config", NET_TYPE, 1_000_000)
}

fn report_path(folder: &Path) -> PathBuf {
    folder.join("finished.txt")
}

/// Builds a checkpoint whose every weight equals its epoch, so a torn write would show.
fn checkpoint(epoch: u64) -> Checkpoint {
    let weight = Tensor::from_f32(vec![WEIGHT_NUMEL], &vec![epoch as f32; WEIGHT_NUMEL]).unwrap();
    let net: StateDict = [("backbone.blocks.0.mlp.fc1.weight".to_string(), weight)]
        .into_iter()
        .collect();
    Checkpoint {
        epoch,
        net_type: NET_TYPE.into(),
        actor_type: "CrashTestActor".into(),
        net,
        optimizer: Value::None,
        stats: Vec::new(),
        settings: Value::None,
    }
}

/// Saves epochs from the start epoch on and appends each epoch to the report
/// file once its save has returned.
fn run_child(folder: &Path) {
    let start: u64 = std::env::var(CHILD_START_VARIABLE)
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1);
    let manager = manager(folder);
    let mut report = OpenOptions::new()
        .create(true)
        .append(true)
        .open(report_path(folder))
        .unwrap();
    // An earlier process may have been killed inside its last line.
    let previous = fs::read(report_path(folder)).unwrap();
    if previous.last().is_some_and(|&byte| byte != b'\n') {
        report.write_all(b"\n").unwrap();
    }
    let began = Instant::now();
    let mut epoch = start;
    while began.elapsed() < CHILD_LIFETIME {
        manager.save(&checkpoint(epoch)).unwrap();
        // One write call per line, so that a kill cannot split the number.
        report.write_all(format!("{epoch}\n").as_bytes()).unwrap();
        report.sync_data().unwrap();
        epoch += 1;
    }
}

/// Lists the epochs the child reported as saved. A line cut off by the kill is not counted.
fn finished_epochs(folder: &Path) -> Vec<u64> {
    let text = fs::read_to_string(report_path(folder)).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| line.parse().unwrap())
        .collect()
}

/// A small xorshift generator, so that the kill times repeat from run to run.
struct KillTimer(u64);

impl KillTimer {
    fn next_delay(&mut self) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_micros(2_000 + self.0 % 40_000)
    }
}

fn kill_during_saves_never_loses_an_epoch() {
    let folder = tempfile::tempdir().unwrap();
    let manager = manager(folder.path());
    let mut timer = KillTimer(0x9e37_79b9_7f4a_7c15);
    let began = Instant::now();
    let mut temporary_files_removed = 0;

    for kill in 0..KILLS {
        // Resume as a restarted trainer would.
        temporary_files_removed += manager.remove_temporary_files().unwrap().len();
        let finished = finished_epochs(folder.path());
        let last_finished = finished.last().copied().unwrap_or(0);
        let start = match manager.latest().unwrap() {
            Some((epoch, path)) => {
                assert!(
                    epoch >= last_finished,
                    "kill {kill}: latest checkpoint is epoch {epoch}, but epoch {last_finished} had finished"
                );
                let loaded = Checkpoint::read(&path).unwrap();
                assert_eq!(loaded.epoch, epoch);
                let weights = loaded.net.get("backbone.blocks.0.mlp.fc1.weight").unwrap();
                assert!(
                    weights
                        .to_f32_vec()
                        .iter()
                        .all(|&value| value == epoch as f32)
                );
                epoch + 1
            }
            None => {
                assert_eq!(
                    last_finished, 0,
                    "kill {kill}: finished epochs but no checkpoint"
                );
                1
            }
        };

        let mut child = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_FOLDER_VARIABLE, folder.path())
            .env(CHILD_START_VARIABLE, start.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(timer.next_delay());
        child.kill().unwrap();
        let status = child.wait().unwrap();
        // A saving process that failed would exit with a code instead of a signal.
        #[cfg(unix)]
        assert!(
            status.code().is_none(),
            "kill {kill}: the saving process exited with {status}"
        );
        #[cfg(not(unix))]
        let _ = status;
    }

    // Every epoch reported as finished still has a complete checkpoint.
    let finished = finished_epochs(folder.path());
    assert!(
        finished.len() > KILLS / 2,
        "only {} epochs finished",
        finished.len()
    );
    for epoch in &finished {
        let path = manager.path_for(*epoch);
        let loaded = Checkpoint::read(&path)
            .unwrap_or_else(|error| panic!("finished epoch {epoch} does not load: {error}"));
        assert_eq!(loaded.epoch, *epoch);
    }
    println!(
        "{KILLS} kills, {} finished saves, {temporary_files_removed} interrupted saves cleaned up, {:.1} s",
        finished.len(),
        began.elapsed().as_secs_f64()
    );
}
