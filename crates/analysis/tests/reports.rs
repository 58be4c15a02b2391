//! Comparison and per-sequence tables, and the PNG plots.

mod common;

use common::{square, still_sequence};
use mixformer_analysis::{
    Benchmark, BenchmarkEvaluation, CurveKind, EvaluationOptions, Metric, ResultLayout,
    TrackerSource, comparison_table, evaluate_trackers, plot_all_curves, plot_curves,
    sequence_comparison_table, sequence_table, write_sequence_results,
};

/// Evaluates two trackers on two 4-frame sequences of a 10x10 target at the
/// origin. "perfect" copies the ground truth at 100 FPS. "shifted" runs at
/// 50 FPS and is 5 px off after frame 0 on sequence `a` (IoU 1/3, normalised
/// error 0.5) and exact on `b`.
fn two_trackers(root: &std::path::Path, benchmark: Benchmark) -> BenchmarkEvaluation {
    let layout = benchmark.result_layout();
    let perfect = root.join("perfect");
    let shifted = root.join("shifted");
    for name in ["a", "b"] {
        write_sequence_results(&perfect, layout, name, &[square(0.0); 4], Some(&[0.01; 4]))
            .unwrap();
    }
    let off = [square(0.0), square(5.0), square(5.0), square(5.0)];
    write_sequence_results(&shifted, layout, "a", &off, Some(&[0.02; 4])).unwrap();
    write_sequence_results(&shifted, layout, "b", &[square(0.0); 4], Some(&[0.02; 4])).unwrap();

    let trackers = [
        TrackerSource::new("perfect", &perfect, benchmark),
        TrackerSource::new("shifted", &shifted, benchmark),
    ];
    let ground_truth = [still_sequence("a", 4), still_sequence("b", 4)];
    evaluate_trackers(
        &trackers,
        &ground_truth,
        &EvaluationOptions::for_benchmark(benchmark),
    )
    .unwrap()
}

#[test]
fn comparison_table_as_text() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(folder.path(), Benchmark::Lasot);

    // shifted, sequence a: frame 0 passes all 20 thresholds below 1, frames
    // 1-3 pass the 7 thresholds up to 0.30: (20 + 21) / 84 = 0.4881;
    // sequence b: 20/21. Mean AUC 72.02.
    assert_eq!(
        comparison_table(&evaluation).to_text(),
        "Tracker    AUC    OP50    OP75  Prec@20  NormPrec@0.20    FPS\n\
         -------  -----  ------  ------  -------  -------------  -----\n\
         perfect  95.24  100.00  100.00   100.00         100.00  100.0\n\
         shifted  72.02   62.50   62.50   100.00          62.50   50.0\n"
    );
}

#[test]
fn comparison_table_as_markdown_with_got10k_columns() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(folder.path(), Benchmark::Got10k);

    // shifted, GOT-10k pool: frames 1-3 of a at IoU 1/3 and of b at IoU 1.
    assert_eq!(
        comparison_table(&evaluation).to_markdown(),
        "| Tracker | AUC | OP50 | OP75 | Prec@20 | NormPrec@0.20 | FPS | AO | SR0.5 | SR0.75 |\n\
         | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n\
         | perfect | 95.24 | 100.00 | 100.00 | 100.00 | 100.00 | 100.0 | 100.00 | 100.00 | 100.00 |\n\
         | shifted | 72.02 | 62.50 | 62.50 | 100.00 | 62.50 | 50.0 | 66.67 | 50.00 | 50.00 |\n"
    );
}

#[test]
fn sequence_table_lists_frames_and_metrics() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(folder.path(), Benchmark::Lasot);

    let table = sequence_table(&evaluation.trackers[1]);

    assert_eq!(
        table.to_text(),
        "Sequence  Frames  Valid    AUC    OP50    OP75  Prec@20  NormPrec@0.20   FPS\n\
         --------  ------  -----  -----  ------  ------  -------  -------------  ----\n\
         a              4      4  48.81   25.00   25.00   100.00          25.00  50.0\n\
         b              4      4  95.24  100.00  100.00   100.00         100.00  50.0\n"
    );
}

#[test]
fn sequence_comparison_has_tracker_columns() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(folder.path(), Benchmark::Lasot);

    let table = sequence_comparison_table(&evaluation, Metric::Auc);

    assert_eq!(
        table.to_markdown(),
        "| Sequence (AUC) | perfect | shifted |\n\
         | :--- | ---: | ---: |\n\
         | a | 95.24 | 48.81 |\n\
         | b | 95.24 | 95.24 |\n"
    );
}

#[test]
fn success_plot_decodes_and_shows_curves() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(&folder.path().join("results"), Benchmark::Lasot);
    let path = folder.path().join("plots/success.png");

    plot_curves(
        &evaluation,
        CurveKind::Success,
        "Success plot on test",
        (800, 600),
        &path,
    )
    .unwrap();

    let image = image::open(&path).unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (800, 600));
    let white = image
        .pixels()
        .filter(|pixel| pixel.0 == [255, 255, 255])
        .count();
    let total = (800 * 600) as usize;
    assert!(
        white < total * 98 / 100,
        "only {} of {total} pixels are not white",
        total - white
    );
    // The first two colours of the palette draw the two curves.
    for colour in [[31, 119, 180], [255, 127, 14]] {
        let count = image.pixels().filter(|pixel| pixel.0 == colour).count();
        assert!(count > 200, "colour {colour:?} covers only {count} pixels");
    }
    // Text is drawn in black: axis labels, title and legend.
    let black = image.pixels().filter(|pixel| pixel.0 == [0, 0, 0]).count();
    assert!(black > 1000, "only {black} black pixels");
}

#[test]
fn all_plots_are_written_under_pytracking_names() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(&folder.path().join("results"), Benchmark::Lasot);

    let written = plot_all_curves(&evaluation, "test", &folder.path().join("plots")).unwrap();

    let names: Vec<String> = written
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec![
            "success_plot.png",
            "precision_plot.png",
            "norm_precision_plot.png"
        ]
    );
    for path in &written {
        let image = image::open(path).unwrap();
        assert_eq!((image.width(), image.height()), (1000, 750));
    }
}

#[test]
fn tiny_plot_size_is_rejected() {
    let folder = tempfile::tempdir().unwrap();
    let evaluation = two_trackers(&folder.path().join("results"), Benchmark::Lasot);
    let path = folder.path().join("tiny.png");

    let error =
        plot_curves(&evaluation, CurveKind::Precision, "tiny", (100, 80), &path).unwrap_err();

    assert!(
        error.to_string().contains("below the minimum of 320x240"),
        "{error}"
    );
    assert!(!path.exists());
}

#[test]
fn layouts_differ_by_benchmark() {
    assert_eq!(Benchmark::Got10k.result_layout(), ResultLayout::Got10k);
    assert_eq!(
        Benchmark::TrackingNet.result_layout(),
        ResultLayout::SequenceFile
    );
}
