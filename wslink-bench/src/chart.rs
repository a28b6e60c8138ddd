//! The results as a picture: for each panel of [`crate::ratios`], horizontal grouped bars
//! (one group per metric, one bar per series) on a logarithmic ratio axis with a line at
//! 1×, written as SVG by plotters.
//!
//! The SVG backend writes text as `<text>` elements and plotters estimates text sizes
//! without font files, so drawing needs no fonts on the machine; the viewer's sans-serif
//! font renders the labels.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;

use crate::ratios::{self, Panel};

const WIDTH: u32 = 1200;
/// Pixels per bar.
const BAR: u32 = 12;
/// Pixels between two groups of bars.
const GROUP_GAP: u32 = 10;
/// Caption, ratio axis, legend and margins of a panel.
const PANEL_CHROME: u32 = 110 + LEGEND;
/// The legend's row under a panel.
const LEGEND: u32 = 30;
const TITLE: u32 = 40;
/// Estimated pixels per character of a label (plotters' own estimate is 0.7 em of the
/// 11 px its 14 pt labels come out as).
const CHAR: u32 = 7;
const FONT: &str = "sans-serif";
/// The height of a group in the chart's vertical coordinates (integers: plotters labels
/// integer key points without a formatter of its own).
const GROUP: i32 = 1000;
/// One colour per series, in order.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

/// Draws the chart of `report` (the tool's JSON) into `path`.
pub(crate) fn write(report: &Value, path: &Path) -> Result<(), String> {
    let title = report["header"].as_str().unwrap_or("wslink-bench");
    let svg = svg(title, &ratios::panels(report)?)?;
    std::fs::write(path, svg).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a report written with `--json` from `input` and draws its chart into `output`.
pub(crate) fn from_file(input: &Path, output: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let report: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", input.display()))?;
    write(&report, output)
}

/// The SVG document of `panels`, one below the other, under `title`.
pub(crate) fn svg(title: &str, panels: &[Panel]) -> Result<String, String> {
    if panels.is_empty() {
        return Err("nothing to chart: the report has no ratio to the raw baseline".into());
    }
    let heights: Vec<u32> = panels.iter().map(panel_height).collect();
    let mut out = String::new();
    {
        let size = (WIDTH, TITLE + heights.iter().sum::<u32>());
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        let (head, mut rest) = root.split_vertically(TITLE);
        head.titled(title, (FONT, 20)).map_err(chart_error)?;
        let labels = label_width(panels);
        for (panel, height) in panels.iter().zip(heights) {
            let (area, below) = rest.split_vertically(height);
            draw_panel(&area, panel, labels)?;
            rest = below;
        }
        root.present().map_err(chart_error)?;
    }
    Ok(out)
}

fn chart_error(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// The width of the metrics' labels: the same in every panel, so that their axes line up.
fn label_width(panels: &[Panel]) -> u32 {
    let labels = panels.iter().flat_map(|p| &p.groups);
    let widest = labels.map(|g| g.label.chars().count()).max();
    widest.unwrap_or(10) as u32 * CHAR + 10
}

fn panel_height(panel: &Panel) -> u32 {
    let group = panel.series.len() as u32 * BAR + GROUP_GAP;
    PANEL_CHROME + panel.groups.len() as u32 * group
}

/// The ratio axis: from below the smallest ratio to well above the largest (room for the
/// bars' labels), always with 1× inside.
fn x_range(panel: &Panel) -> (f64, f64) {
    let all = panel.groups.iter().flat_map(|g| g.ratios.iter().flatten());
    let (lo, hi) = all.fold((1.0f64, 1.0f64), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    (lo / 2.0, hi * 2.5)
}

/// Ticks at 1, 2 and 5 times the powers of ten within `lo..hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    (-4..=5)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
        .filter(|t| (lo..=hi).contains(t))
        .collect()
}

/// A ratio with two significant digits below 1 (two decimals up to 10, none above),
/// without trailing zeros: `28×`, `1.5×`, `0.97×`, `0.012×`.
fn times(x: f64) -> String {
    let decimals = if x >= 10.0 {
        0
    } else {
        (1 - x.log10().floor() as i32).max(2) as usize
    };
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text}×")
}

/// The bars of series `j`: (top, bottom, ratio) in chart coordinates, where group `i`
/// spans `i * GROUP..(i + 1) * GROUP` from the top.
fn bars(panel: &Panel, j: usize) -> Vec<(i32, i32, f64)> {
    let height = GROUP * 8 / 10 / panel.series.len() as i32;
    panel
        .groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let top = i as i32 * GROUP + GROUP / 10 + j as i32 * height;
            g.ratios[j].map(|r| (top, top + height, r))
        })
        .collect()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    label_width: u32,
) -> Result<(), String> {
    let n = panel.groups.len() as i32 * GROUP;
    let (lo, hi) = x_range(panel);
    let centres = (0..panel.groups.len() as i32)
        .map(|i| i * GROUP + GROUP / 2)
        .collect();
    let (plot, legend) = area.split_vertically(area.dim_in_pixel().1.saturating_sub(LEGEND));
    draw_legend(&legend, panel, label_width)?;
    let mut chart = ChartBuilder::on(&plot)
        .caption(&panel.title, (FONT, 18))
        .margin(10)
        .margin_right(30)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(ticks(lo, hi)),
            (n..0).with_key_points(centres),
        )
        .map_err(chart_error)?;
    let group_label = |y: &i32| {
        let group = panel.groups.get((*y / GROUP) as usize);
        group.map_or_else(String::new, |g| g.label.clone())
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_label_formatter(&|x| times(*x))
        .y_label_formatter(&group_label)
        .x_desc(panel.axis.as_str())
        .label_style((FONT, 14))
        .draw()
        .map_err(chart_error)?;
    let parity = PathElement::new(vec![(1.0, 0), (1.0, n)], BLACK.stroke_width(2));
    chart
        .draw_series(std::iter::once(parity))
        .map_err(chart_error)?;
    for (j, colour) in PALETTE.iter().cycle().take(panel.series.len()).enumerate() {
        let bars = bars(panel, j);
        let rects = bars
            .iter()
            .map(|&(top, bottom, r)| Rectangle::new([(lo, top), (r, bottom)], colour.filled()));
        chart.draw_series(rects).map_err(chart_error)?;
        let values = bars
            .iter()
            .map(|&(top, _, r)| Text::new(times(r), (r * 1.03, top), (FONT, 13)));
        chart.draw_series(values).map_err(chart_error)?;
    }
    Ok(())
}

/// The series' colours and names, in a row under the panel (not over its bars).
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    left: u32,
) -> Result<(), String> {
    let mut x = left as i32 + 10;
    for (j, name) in panel.series.iter().enumerate() {
        let colour = PALETTE[j % PALETTE.len()];
        let mark = Rectangle::new([(x, 4), (x + 12, 16)], colour.filled());
        area.draw(&mark).map_err(chart_error)?;
        area.draw(&Text::new(name.as_str(), (x + 18, 4), (FONT, 14)))
            .map_err(chart_error)?;
        x += 18 + (name.chars().count() as u32 * CHAR) as i32 + 30;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratios::tests::fixture;

    fn fixture_svg() -> String {
        svg("fixture run", &ratios::panels(&fixture()).unwrap()).unwrap()
    }

    /// The contents of the SVG's `<text>` elements (plotters writes each on its own line).
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
            .map(|t| t.replace("&apos;", "'"))
            .collect()
    }

    /// The `fill` attribute plotters writes for a filled shape of `colour`.
    fn fill(colour: RGBColor) -> String {
        let RGBColor(r, g, b) = colour;
        format!("fill=\"#{r:02X}{g:02X}{b:02X}\"")
    }

    #[test]
    fn the_svg_names_the_series_metrics_and_panels() {
        let svg = fixture_svg();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        let texts = texts(&svg);
        for text in [
            "fixture run",
            "rust ÷ raw",
            "python ÷ raw",
            "rust ÷ python",
            "sequential echo",
            "pipelined, 64 in flight",
            "sequential echo · latency p99",
            "Throughput relative to raw (raw = 1×, higher is better)",
            "figure ÷ raw's (log scale)",
        ] {
            assert!(texts.iter().any(|t| t == text), "no {text:?} in {texts:?}");
        }
        assert!(
            !svg.contains("idle connections held"),
            "a count is not charted"
        );
    }

    #[test]
    fn one_bar_per_ratio_and_one_legend_mark_per_series_and_panel() {
        let svg = fixture_svg();
        let count = |colour| svg.matches(&fill(colour)).count();
        // Series 0 is `rust` in every panel: 2 + 1 + 1 + 1 bars, 4 legend marks.
        assert_eq!(count(PALETTE[0]), 5 + 4);
        // Series 1 is `python ÷ raw`, in the two raw panels: 1 + 1 bars, 2 marks.
        assert_eq!(count(PALETTE[1]), 2 + 2);
    }

    #[test]
    fn the_labels_of_the_bars_are_their_ratios() {
        let texts = texts(&fixture_svg());
        for text in ["0.9×", "0.45×", "0.5×", "2×", "4×"] {
            assert!(texts.iter().any(|t| t == text), "no bar labelled {text:?}");
        }
    }

    #[test]
    fn ticks_and_ratio_labels() {
        assert_eq!(ticks(0.3, 3.0), [0.5, 1.0, 2.0]);
        assert_eq!(times(28.4), "28×");
        assert_eq!(times(1.0), "1×");
        assert_eq!(times(0.97), "0.97×");
        assert_eq!(times(0.5), "0.5×");
        assert_eq!(times(0.012), "0.012×");
        assert_eq!(times(0.02), "0.02×");
        assert_eq!(times(1.5), "1.5×");
        assert_eq!(times(100.0), "100×");
    }

    #[test]
    fn an_empty_report_is_an_error() {
        assert!(svg("t", &[]).is_err());
    }
}
