//! Option checks of `train` that stop before any model is built.

use std::process::Command;

fn train(args: &[&str]) -> (bool, String) {
    let settings = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(settings.path(), "save_dir: out\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .arg("--settings")
        .arg(settings.path())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn distill_without_teacher_options_fails() {
    let (ok, stderr) = train(&[
        "--script",
        "mixformer2_vit",
        "--config",
        "student_tiny_depth4",
        "--distill",
        "1",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains(
            "--distill 1 needs --script-teacher, --config-teacher and --checkpoint-teacher-path"
        ),
        "{stderr}"
    );
}

#[test]
fn distill_stage_without_distill_fails() {
    let (ok, stderr) = train(&[
        "--script",
        "mixformer2_vit",
        "--config",
        "student_tiny_depth4",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("distils from a mixformer_vit teacher: pass --distill 1"),
        "{stderr}"
    );
}

#[test]
fn reference_spellings_are_accepted() {
    let (ok, stderr) = train(&[
        "--script",
        "mixformer2_vit",
        "--config",
        "student_tiny_depth4",
        "--save_dir",
        ".",
        "--distill",
        "1",
        "--script_teacher",
        "mixformer_vit",
        "--config_teacher",
        "teacher_tiny",
        "--checkpoint_teacher_path",
        "missing/teacher.pth.tar",
        "--mode",
        "multiple",
        "--nproc_per_node",
        "1",
    ]);
    assert!(!ok);
    // Every option parsed; the run stops at the missing checkpoint.
    assert!(
        stderr.contains("the teacher's checkpoint missing/teacher.pth.tar does not exist"),
        "{stderr}"
    );
}

#[test]
fn score_stage_rejects_distill() {
    let (ok, stderr) = train(&[
        "--script",
        "mixformer2_vit_online",
        "--config",
        "tiny_depth2_score",
        "--distill",
        "1",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("trains without a teacher; leave out --distill 1"),
        "{stderr}"
    );
}

#[test]
fn too_many_devices_fails_with_count() {
    let (ok, stderr) = train(&[
        "--script",
        "mixformer_vit",
        "--config",
        "teacher_tiny",
        "--nproc-per-node",
        "8",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("--nproc-per-node 8: this machine has 1 device(s)"),
        "{stderr}"
    );
}

#[test]
fn unknown_device_lists_the_accepted_names() {
    let (ok, stderr) = train(&[
        "--script",
        "mixformer_vit",
        "--config",
        "teacher_tiny",
        "--device",
        "tpu:0",
    ]);
    assert!(!ok);
    assert!(stderr.contains("--device: "), "{stderr}");
    assert!(stderr.contains("unknown device \"tpu:0\""), "{stderr}");
}

#[test]
fn unknown_script_is_named() {
    let (ok, stderr) = train(&["--script", "mixformer_cvt", "--config", "baseline"]);
    assert!(!ok);
    assert!(stderr.contains("mixformer_cvt"), "{stderr}");
}
