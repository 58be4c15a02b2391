//! `eval analyse`: metrics, tables and plots from trackers' result folders, and
//! `eval pack`: zip archives for the benchmark servers.

use std::path::{Path, PathBuf};

use mixformer_analysis::{
    BenchmarkEvaluation, BoundingBox, EvaluationOptions, GroundTruth, ImageSize, InvalidBoxPolicy,
    LengthPolicy, Metric, MissingSequencePolicy, TrackerSource, comparison_table,
    evaluate_trackers, pack_submission, plot_all_curves, sequence_comparison_table, sequence_table,
    write_atomic,
};
use mixformer_data::Sequence;

use crate::cli::{AnalyseArgs, PackArgs};
use crate::dataset::{EvalDataset, open_sequences, sequence_names};
use crate::error::EvalError;

/// The table and files that `eval analyse` wrote.
#[derive(Debug, Clone)]
pub struct AnalysisReport {
    /// The comparison table as aligned text.
    pub table: String,
    /// Every file written, tables first, then plots.
    pub files: Vec<PathBuf>,
    /// Problems found in the result files (also in `issues.txt`).
    pub issues: usize,
}

/// Runs `eval analyse`.
pub fn analyse(args: &AnalyseArgs) -> Result<AnalysisReport, EvalError> {
    let dataset = args.dataset.dataset;
    if !dataset.has_ground_truth() {
        return Err(EvalError::NoGroundTruth {
            dataset: dataset.to_string(),
        });
    }
    let names = tracker_names(args, dataset)?;

    let sequences = open_sequences(&args.dataset)?;
    let ground_truth = sequences
        .iter()
        .map(|sequence| ground_truth(sequence, dataset))
        .collect::<Result<Vec<_>, _>>()?;

    let benchmark = dataset.benchmark();
    let trackers: Vec<TrackerSource> = names
        .into_iter()
        .zip(&args.results)
        .map(|(name, directory)| TrackerSource::new(name, directory, benchmark))
        .collect();
    let mut options = EvaluationOptions::for_benchmark(benchmark);
    if args.lenient_lengths {
        options.lengths = LengthPolicy::Lenient;
    }
    if args.skip_missing {
        options.missing_sequences = MissingSequencePolicy::Skip;
    }
    if args.reject_invalid_boxes {
        options.invalid_boxes = InvalidBoxPolicy::Reject;
    }
    let evaluation = evaluate_trackers(&trackers, &ground_truth, &options)?;

    write_report(&evaluation, dataset, &args.report)
}

/// Runs `eval pack` and returns the number of sequences archived.
pub fn pack(args: &PackArgs) -> Result<usize, EvalError> {
    let names = sequence_names(&args.dataset)?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let layout = args.dataset.dataset.benchmark().result_layout();
    Ok(pack_submission(
        &args.results,
        layout,
        &names,
        &args.output,
    )?)
}

/// Returns one name per `--results` folder, taken from `--names` or from the
/// `<tracker>` part of `<output>/<tracker>/<dataset>`.
fn tracker_names(args: &AnalyseArgs, dataset: EvalDataset) -> Result<Vec<String>, EvalError> {
    if !args.names.is_empty() {
        if args.names.len() != args.results.len() {
            return Err(EvalError::NameCount {
                names: args.names.len(),
                folders: args.results.len(),
            });
        }
        return Ok(args.names.clone());
    }
    Ok(args
        .results
        .iter()
        .map(|folder| tracker_name(folder, dataset))
        .collect())
}

fn tracker_name(folder: &Path, dataset: EvalDataset) -> String {
    let last = folder
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    let parent = folder
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned());
    match (last, parent) {
        (Some(last), Some(parent)) if last == dataset.key() => parent,
        (Some(last), _) => last,
        _ => folder.display().to_string(),
    }
}

/// Converts a dataset sequence to the analysis crate's ground truth, with its
/// visibility flags and, for GOT-10k, the image size the toolkit bounds boxes to.
fn ground_truth(sequence: &Sequence, dataset: EvalDataset) -> Result<GroundTruth, EvalError> {
    if !sequence.is_fully_annotated() {
        return Err(EvalError::PartialGroundTruth {
            sequence: sequence.name.clone(),
            boxes: sequence.boxes.len(),
            frames: sequence.frame_count(),
        });
    }
    let boxes = sequence
        .boxes
        .iter()
        .map(|bbox| {
            BoundingBox::new(
                f64::from(bbox.x),
                f64::from(bbox.y),
                f64::from(bbox.w),
                f64::from(bbox.h),
            )
        })
        .collect();
    let truth =
        GroundTruth::new(&sequence.name, boxes)?.with_visibility(sequence.visible.clone())?;
    if dataset.benchmark().reports_got10k_metrics() {
        return Ok(truth.with_image_size(image_size(sequence)?));
    }
    Ok(truth)
}

fn image_size(sequence: &Sequence) -> Result<ImageSize, EvalError> {
    let path = sequence
        .frame_path(0)
        .ok_or_else(|| EvalError::PartialGroundTruth {
            sequence: sequence.name.clone(),
            boxes: sequence.boxes.len(),
            frames: 0,
        })?;
    let (width, height) =
        image::image_dimensions(&path).map_err(|source| EvalError::ImageSize { path, source })?;
    Ok(ImageSize {
        width: f64::from(width),
        height: f64::from(height),
    })
}

/// Writes the tables, the list of problems and the plots into `folder`.
fn write_report(
    evaluation: &BenchmarkEvaluation,
    dataset: EvalDataset,
    folder: &Path,
) -> Result<AnalysisReport, EvalError> {
    let comparison = comparison_table(evaluation);
    let mut files = Vec::new();
    let mut write = |name: &str, text: String| -> Result<(), EvalError> {
        let path = folder.join(name);
        write_atomic(&path, text.as_bytes())?;
        files.push(path);
        Ok(())
    };

    let summary = summary_line(evaluation, dataset);
    let note = "Scores are percentages averaged over sequences; FPS is frames over the \
                tracker time recorded in the time files.";
    write(
        "comparison.md",
        format!(
            "# {dataset}\n\n{summary}\n\n{}\n{note}\n",
            comparison.to_markdown()
        ),
    )?;
    write(
        "comparison.txt",
        format!("{dataset}: {summary}\n\n{}", comparison.to_text()),
    )?;

    let mut sequences = format!("# {dataset}, per sequence\n");
    for tracker in &evaluation.trackers {
        sequences.push_str(&format!(
            "\n## {}\n\n{}",
            tracker.tracker,
            sequence_table(tracker).to_markdown()
        ));
    }
    sequences.push_str(&format!(
        "\n## AUC per sequence\n\n{}",
        sequence_comparison_table(evaluation, Metric::Auc).to_markdown()
    ));
    write("sequences.md", sequences)?;

    let issues: Vec<String> = evaluation
        .trackers
        .iter()
        .flat_map(|tracker| tracker.issues.iter().map(ToString::to_string))
        .collect();
    let issue_text = if issues.is_empty() {
        "No problems found in the result files.\n".to_owned()
    } else {
        issues.iter().map(|issue| format!("{issue}\n")).collect()
    };
    write("issues.txt", issue_text)?;

    files.extend(plot_all_curves(evaluation, &dataset.to_string(), folder)?);
    Ok(AnalysisReport {
        table: comparison.to_text(),
        files,
        issues: issues.len(),
    })
}

fn summary_line(evaluation: &BenchmarkEvaluation, dataset: EvalDataset) -> String {
    let mut line = format!(
        "{} sequence(s) of {dataset}, {} tracker(s).",
        evaluation.sequences.len(),
        evaluation.trackers.len()
    );
    if !evaluation.skipped_sequences.is_empty() {
        line.push_str(&format!(
            " Left out because some tracker has no results: {}.",
            evaluation.skipped_sequences.join(", ")
        ));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_name_is_folder_above_dataset() {
        let name = tracker_name(Path::new("results/288_depth8_score/otb"), EvalDataset::Otb);
        assert_eq!(name, "288_depth8_score");
    }

    #[test]
    fn tracker_name_is_folder_without_dataset() {
        let name = tracker_name(Path::new("results/baseline"), EvalDataset::Lasot);
        assert_eq!(name, "baseline");
    }
}
