//! Success, precision and normalised-precision plots as PNG files, one curve
//! per tracker, with the tracker's score in the legend as pytracking shows it.

use std::path::{Path, PathBuf};

use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use plotters::prelude::*;

use crate::curves::{
    OpeCurves, center_error_thresholds, normalized_center_error_thresholds, overlap_thresholds,
};
use crate::error::AnalysisError;
use crate::evaluation::BenchmarkEvaluation;
use crate::font::{FONT_FAMILY, ensure_font};
use crate::result_files::write_atomic;

/// Smallest plot size in pixels that leaves room for the axes and legend.
pub const MIN_PLOT_SIZE: (u32, u32) = (320, 240);
/// Default plot size in pixels.
pub const DEFAULT_PLOT_SIZE: (u32, u32) = (1000, 750);

/// Matplotlib's ten default colours ("tab10"); trackers after the tenth
/// reuse them with dashed lines.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// OPE curve shown by a plot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurveKind {
    Success,
    Precision,
    NormalizedPrecision,
}

impl CurveKind {
    pub const ALL: [CurveKind; 3] = [Self::Success, Self::Precision, Self::NormalizedPrecision];

    /// File name pytracking gives this plot, with a `.png` extension.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Success => "success_plot.png",
            Self::Precision => "precision_plot.png",
            Self::NormalizedPrecision => "norm_precision_plot.png",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Success => "Success plot",
            Self::Precision => "Precision plot",
            Self::NormalizedPrecision => "Normalised precision plot",
        }
    }

    fn x_label(self) -> &'static str {
        match self {
            Self::Success => "Overlap threshold",
            Self::Precision => "Location error threshold [pixels]",
            Self::NormalizedPrecision => "Normalised location error threshold",
        }
    }

    fn y_label(self) -> &'static str {
        match self {
            Self::Success => "Overlap precision [%]",
            Self::Precision | Self::NormalizedPrecision => "Distance precision [%]",
        }
    }

    fn x_label_decimals(self) -> usize {
        match self {
            Self::Success => 1,
            Self::Precision => 0,
            Self::NormalizedPrecision => 2,
        }
    }

    fn thresholds(self) -> Vec<f64> {
        match self {
            Self::Success => overlap_thresholds(),
            Self::Precision => center_error_thresholds(),
            Self::NormalizedPrecision => normalized_center_error_thresholds(),
        }
    }

    fn values(self, curves: &OpeCurves) -> &[f64] {
        match self {
            Self::Success => &curves.success,
            Self::Precision => &curves.precision,
            Self::NormalizedPrecision => &curves.normalized_precision,
        }
    }

    /// Returns the legend score: AUC, precision at 20 px or normalised precision at 0.20.
    fn score(self, curves: &OpeCurves) -> f64 {
        match self {
            Self::Success => curves.auc(),
            Self::Precision => curves.precision_at_20px(),
            Self::NormalizedPrecision => curves.normalized_precision_at_0_20(),
        }
    }

    fn legend_position(self) -> SeriesLabelPosition {
        match self {
            Self::Success => SeriesLabelPosition::LowerLeft,
            Self::Precision | Self::NormalizedPrecision => SeriesLabelPosition::LowerRight,
        }
    }
}

/// One tracker's curve as it is drawn.
struct PlotCurve {
    label: String,
    points: Vec<(f64, f64)>,
}

/// Draws one curve per tracker into a PNG of `size` pixels, best score first
/// in the legend; `title` goes above the plot. The file is written atomically.
pub fn plot_curves(
    evaluation: &BenchmarkEvaluation,
    kind: CurveKind,
    title: &str,
    size: (u32, u32),
    path: &Path,
) -> Result<(), AnalysisError> {
    if evaluation.trackers.is_empty() {
        return Err(AnalysisError::EmptyPlot {
            what: path.display().to_string(),
        });
    }
    if size.0 < MIN_PLOT_SIZE.0 || size.1 < MIN_PLOT_SIZE.1 {
        return Err(AnalysisError::Plot {
            path: path.to_path_buf(),
            message: format!(
                "the size {}x{} is below the minimum of {}x{} pixels",
                size.0, size.1, MIN_PLOT_SIZE.0, MIN_PLOT_SIZE.1
            ),
        });
    }
    ensure_font()?;

    let mut ranked: Vec<(f64, &str, &OpeCurves)> = evaluation
        .trackers
        .iter()
        .map(|tracker| {
            let curves = &tracker.summary.curves;
            (kind.score(curves), tracker.tracker.as_str(), curves)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));

    let thresholds = kind.thresholds();
    let curves: Vec<PlotCurve> = ranked
        .into_iter()
        .map(|(score, name, curves)| PlotCurve {
            label: format!("{name} [{:.1}]", score * 100.0),
            points: thresholds
                .iter()
                .zip(kind.values(curves))
                .map(|(&threshold, &value)| (threshold, value * 100.0))
                .collect(),
        })
        .collect();

    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    draw(&mut pixels, size, kind, title, &curves).map_err(|message| AnalysisError::Plot {
        path: path.to_path_buf(),
        message,
    })?;

    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(&pixels, size.0, size.1, image::ExtendedColorType::Rgb8)
        .map_err(|error| AnalysisError::Plot {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
    write_atomic(path, &png)
}

/// Draws the success, precision and normalised precision plots into
/// `folder` under pytracking's file names, titled with the dataset name.
pub fn plot_all_curves(
    evaluation: &BenchmarkEvaluation,
    dataset: &str,
    folder: &Path,
) -> Result<Vec<PathBuf>, AnalysisError> {
    let mut written = Vec::with_capacity(CurveKind::ALL.len());
    for kind in CurveKind::ALL {
        let path = folder.join(kind.file_name());
        let title = format!("{} on {dataset}", kind.title());
        plot_curves(evaluation, kind, &title, DEFAULT_PLOT_SIZE, &path)?;
        written.push(path);
    }
    Ok(written)
}

fn draw(
    pixels: &mut [u8],
    size: (u32, u32),
    kind: CurveKind,
    title: &str,
    curves: &[PlotCurve],
) -> Result<(), String> {
    let root = BitMapBackend::with_buffer(pixels, size).into_drawing_area();
    root.fill(&WHITE).map_err(|error| error.to_string())?;

    let thresholds = kind.thresholds();
    let x_max = thresholds.last().copied().unwrap_or(1.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT_FAMILY, 30))
        .margin(24)
        .x_label_area_size(64)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..x_max, 0.0..100.0)
        .map_err(|error| error.to_string())?;

    let x_decimals = kind.x_label_decimals();
    let format_x = move |value: &f64| format!("{value:.x_decimals$}");
    let format_y = |value: &f64| format!("{value:.0}");
    chart
        .configure_mesh()
        .x_labels(11)
        .y_labels(11)
        .x_label_formatter(&format_x)
        .y_label_formatter(&format_y)
        .max_light_lines(1)
        .x_desc(kind.x_label())
        .y_desc(kind.y_label())
        .axis_desc_style((FONT_FAMILY, 22))
        .label_style((FONT_FAMILY, 18))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(|error| error.to_string())?;

    for (index, curve) in curves.iter().enumerate() {
        let style = PALETTE[index % PALETTE.len()].stroke_width(3);
        let points = curve.points.iter().copied();
        let annotation = if index < PALETTE.len() {
            chart.draw_series(LineSeries::new(points, style))
        } else {
            chart.draw_series(DashedLineSeries::new(points, 12, 8, style))
        }
        .map_err(|error| error.to_string())?;
        annotation
            .label(curve.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 28, y)], style));
    }

    chart
        .configure_series_labels()
        .position(kind.legend_position())
        .margin(16)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT_FAMILY, 20))
        .draw()
        .map_err(|error| error.to_string())?;

    root.present().map_err(|error| error.to_string())
}
