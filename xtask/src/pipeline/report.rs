//! The markdown report at the end of a pipeline run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use mixformer_layer_surgery::read_weights;

use super::plan::{Plan, StageAction, TrainStage};

/// Writes `<output>/report/README.md` and returns its path.
pub fn write(plan: &Plan) -> Result<PathBuf, String> {
    let folder = plan.output.join("report");
    std::fs::create_dir_all(&folder)
        .map_err(|error| format!("failed to create {}: {error}", folder.display()))?;

    let mut text = format!(
        "# MixFormerV2 pipeline report ({} preset)\n\n",
        match plan.preset {
            super::plan::Preset::Tiny => "tiny",
            super::plan::Preset::Base => "base",
        }
    );
    text.push_str("## Training stages\n\n");
    text.push_str("| stage | experiment | last training line | last validation line | parameters | checkpoint size |\n");
    text.push_str("|---|---|---|---|---|---|\n");
    for action in &plan.actions {
        if let StageAction::Train(stage) = action {
            let _ = writeln!(text, "{}", stage_row(stage));
        }
    }

    for action in &plan.actions {
        if let StageAction::Evaluate(step) = action {
            let _ = writeln!(
                text,
                "\n## Evaluation on {} (`{}`)\n\nTracked by the `eval` binary with the score-stage checkpoint; \
                 the numbers below are its own output.\n",
                step.dataset, step.tracker
            );
            text.push_str(&evaluation_section(&step.report, &folder));
        }
    }

    let path = folder.join("README.md");
    std::fs::write(&path, text)
        .map_err(|error| format!("failed to write {}: {error}", path.display()))?;
    Ok(path)
}

fn stage_row(stage: &TrainStage) -> String {
    let (train_line, val_line) = last_log_lines(&stage.log);
    let (parameters, size) = match (
        read_weights(&stage.final_checkpoint),
        std::fs::metadata(&stage.final_checkpoint),
    ) {
        (Ok(weights), Ok(metadata)) => (
            format_count(weights.state_dict.parameter_count()),
            format!("{:.1} MB", metadata.len() as f64 / 1e6),
        ),
        _ => ("-".to_string(), "-".to_string()),
    };
    format!(
        "| {} | `{}/{}` | {} | {} | {} | {} |",
        stage.title,
        stage.script.name(),
        stage.config,
        train_line.map_or("-".to_string(), |line| format!("`{line}`")),
        val_line.map_or("-".to_string(), |line| format!("`{line}`")),
        parameters,
        size
    )
}

/// Finds the last `[train: ...]` and `[val: ...]` lines of a training log, with
/// `|` replaced so that they fit in a markdown table.
fn last_log_lines(log: &Path) -> (Option<String>, Option<String>) {
    let Ok(text) = std::fs::read_to_string(log) else {
        return (None, None);
    };
    let last = |prefix: &str| {
        text.lines()
            .rev()
            .find(|line| line.starts_with(prefix))
            .map(|line| line.replace('|', "/").trim().to_string())
    };
    (last("[train"), last("[val"))
}

fn format_count(count: usize) -> String {
    if count >= 1_000_000 {
        format!("{:.2} M", count as f64 / 1e6)
    } else {
        format!("{:.1} k", count as f64 / 1e3)
    }
}

/// Collects the analysis tables written by `eval analyse` and links to its plots.
fn evaluation_section(report: &Path, base: &Path) -> String {
    let mut text = String::new();
    let Ok(entries) = std::fs::read_dir(report) else {
        return format!("No evaluation report at {}.\n", report.display());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        if let Ok(content) = std::fs::read_to_string(path) {
            text.push_str(&content);
            text.push('\n');
        }
    }
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
    {
        let relative = path.strip_prefix(base).unwrap_or(path);
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(text, "![{name}]({})\n", relative.display());
    }
    text
}
