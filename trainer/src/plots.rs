//! PNG charts of a training run: the ROC curves, the AUC per season and the feature
//! importances.
//!
//! Text needs a TrueType font: `PITWALL_FONT`, else a common system font (DejaVu, Liberation).
//! Without one the charts are drawn without text rather than not at all.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;

use crate::error::{Result, TrainError};
use crate::metrics::RocPoint;

const FONT_CANDIDATES: [&str; 5] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
];

/// Registers a font once; `true` when text can be drawn.
fn font_available() -> bool {
    static FONT: OnceLock<bool> = OnceLock::new();
    *FONT.get_or_init(|| {
        let from_env = std::env::var_os("PITWALL_FONT").map(PathBuf::from);
        let candidates = from_env.into_iter().chain(FONT_CANDIDATES.iter().map(PathBuf::from));
        for path in candidates {
            if let Ok(bytes) = std::fs::read(&path) {
                // The plotting library keeps fonts for the life of the process.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return true;
                }
            }
        }
        tracing::warn!("no TrueType font found (set PITWALL_FONT): charts are drawn without text");
        false
    })
}

fn plot_error(name: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Plot { name: name.display().to_string(), reason: e.to_string() }
}

/// The labelled series' legend, in the lower right corner.
fn draw_legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    path: &Path,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_error(path, e))
}

/// ROC curves, one per named set, with the AUC in the legend.
pub fn roc_png(path: &Path, curves: &[(&str, f64, &[RocPoint])]) -> Result<()> {
    let text = font_available();
    let root = BitMapBackend::new(path, (800, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20).x_label_area_size(if text { 40 } else { 5 }).y_label_area_size(if text { 50 } else { 5 });
    if text {
        builder.caption("ROC curve", ("sans-serif", 28));
    }
    let mut chart = builder.build_cartesian_2d(0f64..1f64, 0f64..1f64).map_err(|e| plot_error(path, e))?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("false positive rate").y_desc("true positive rate");
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(|e| plot_error(path, e))?;
    chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3))).map_err(|e| plot_error(path, e))?;
    let colours = [BLUE, RED, GREEN, MAGENTA];
    for (k, (name, auc, points)) in curves.iter().enumerate() {
        let colour = colours[k % colours.len()];
        let series = chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.fpr, p.tpr)), colour.stroke_width(2)))
            .map_err(|e| plot_error(path, e))?;
        if text {
            series
                .label(format!("{name}: AUC {auc:.4}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
    }
    if text {
        draw_legend(&mut chart, path)?;
    }
    root.present().map_err(|e| plot_error(path, e))
}

/// Horizontal bars of the `top` largest importances, largest on top.
pub fn importances_png(path: &Path, importances: &[(String, f64)], top: usize) -> Result<()> {
    let text = font_available();
    let shown: Vec<&(String, f64)> = importances.iter().take(top).collect();
    let n = shown.len().max(1);
    let height = 120 + 22 * n as u32;
    let root = BitMapBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let max = shown.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1e-12);
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20).x_label_area_size(if text { 35 } else { 5 }).y_label_area_size(if text { 280 } else { 5 });
    if text {
        builder.caption("Feature importances", ("sans-serif", 26));
    }
    let mut chart =
        builder.build_cartesian_2d(0f64..max * 1.05, (0..n).into_segmented()).map_err(|e| plot_error(path, e))?;
    let labels: Vec<String> = shown.iter().map(|(name, _)| name.clone()).collect();
    let label_of = |v: &SegmentValue<usize>| match v {
        // The mesh may ask for a label past the last bar.
        SegmentValue::CenterOf(i) => n.checked_sub(1 + *i).and_then(|j| labels.get(j)).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let mut mesh = chart.configure_mesh();
    mesh.disable_y_mesh();
    if text {
        mesh.y_labels(n).y_label_formatter(&label_of);
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(|e| plot_error(path, e))?;
    chart
        .draw_series(shown.iter().enumerate().map(|(k, (_, v))| {
            let slot = n - 1 - k;
            Rectangle::new(
                [(0.0, SegmentValue::Exact(slot)), (*v, SegmentValue::Exact(slot + 1))],
                BLUE.mix(0.7).filled(),
            )
        }))
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))
}

/// The AUC of each season, validation seasons in blue and the test season in red, joined by a
/// line in season order.
pub fn season_auc_png(path: &Path, seasons: &[(i32, f64, &str)]) -> Result<()> {
    let text = font_available();
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let first = seasons.iter().map(|s| s.0).min().unwrap_or(0);
    let last = seasons.iter().map(|s| s.0).max().unwrap_or(0);
    let low = seasons.iter().map(|s| s.1).fold(1.0, f64::min);
    let y_min = ((low - 0.05) * 20.0).floor() / 20.0;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20).x_label_area_size(if text { 40 } else { 5 }).y_label_area_size(if text { 50 } else { 5 });
    if text {
        builder.caption("AUC by season (out of time)", ("sans-serif", 26));
    }
    let mut chart = builder
        .build_cartesian_2d(first - 1..last + 1, y_min.clamp(0.0, 0.95)..1f64)
        .map_err(|e| plot_error(path, e))?;
    let mut mesh = chart.configure_mesh();
    if text {
        mesh.x_desc("season").y_desc("AUC").x_labels(seasons.len() + 2);
    } else {
        mesh.x_labels(0).y_labels(0);
    }
    mesh.draw().map_err(|e| plot_error(path, e))?;
    chart
        .draw_series(LineSeries::new(seasons.iter().map(|s| (s.0, s.1)), BLACK.mix(0.4)))
        .map_err(|e| plot_error(path, e))?;
    for (role, colour) in [("validation", BLUE), ("test", RED)] {
        let points: Vec<(i32, f64)> = seasons.iter().filter(|s| s.2 == role).map(|s| (s.0, s.1)).collect();
        let series = chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 6, colour.filled())))
            .map_err(|e| plot_error(path, e))?;
        if text {
            series.label(role).legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
        }
    }
    if text {
        draw_legend(&mut chart, path)?;
    }
    root.present().map_err(|e| plot_error(path, e))
}
