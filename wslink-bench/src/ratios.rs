//! From a report (the JSON the tool writes with `--json`) to the chart's panels: each
//! metric's figure of a measured server as a ratio to the raw ceiling, and our servers'
//! figures as a ratio to Python's.

use serde_json::Value;

/// One group of bars: a metric and, for each series of its panel, a ratio (`None` where a
/// figure is missing).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub(crate) label: String,
    pub(crate) ratios: Vec<Option<f64>>,
}

/// One chart panel: grouped bars, one group per metric, one bar per series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    pub(crate) title: String,
    /// What 1× on the ratio axis stands for.
    pub(crate) axis: String,
    pub(crate) series: Vec<String>,
    pub(crate) groups: Vec<Group>,
}

/// The name of the Python reference's column (as the tool names it).
const PYTHON: &str = "python";

/// Which rows a panel shows.
#[derive(Clone, Copy, PartialEq)]
enum Rows {
    /// Rates (`…/s`): higher is better.
    Throughput,
    /// Server CPU, latency, memory: lower is better.
    Costs,
}

impl Rows {
    fn wants(self, unit: &str) -> bool {
        match self {
            Rows::Throughput => unit.contains("/s"),
            Rows::Costs => matches!(unit, "ms" | "µs" | "MiB" | "KiB"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Rows::Throughput => "Throughput",
            Rows::Costs => "Costs (server CPU, latency, memory)",
        }
    }

    fn better(self) -> &'static str {
        match self {
            Rows::Throughput => "higher is better",
            Rows::Costs => "lower is better",
        }
    }
}

/// The columns of a report, sorted by role.
struct Columns<'a> {
    /// The raw baseline with batched writes: the ceiling.
    raw: Option<&'a str>,
    /// Every measured server that is not a baseline (ours and Python).
    measured: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    fn of(report: &'a Value) -> Result<Columns<'a>, String> {
        let columns: Vec<&str> = report["columns"]
            .as_array()
            .ok_or("the report has no \"columns\"")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let baselines: Vec<&str> = match report["baseline_columns"].as_array() {
            Some(list) => list.iter().filter_map(Value::as_str).collect(),
            None => ["raw_column", "raw_one_write_column"]
                .iter()
                .filter_map(|k| report[*k].as_str())
                .collect(),
        };
        Ok(Columns {
            raw: report["raw_column"].as_str(),
            measured: columns
                .into_iter()
                .filter(|c| !baselines.contains(c))
                .collect(),
        })
    }

    fn ours(&self) -> Vec<&'a str> {
        self.measured
            .iter()
            .copied()
            .filter(|c| *c != PYTHON)
            .collect()
    }
}

/// The panels of a report: throughput and costs relative to the raw ceiling, then
/// relative to Python (when the report has both). Panels with nothing to show are left out.
pub(crate) fn panels(report: &Value) -> Result<Vec<Panel>, String> {
    let columns = Columns::of(report)?;
    let rows = report["rows"]
        .as_array()
        .ok_or("the report has no \"rows\"")?;
    let python = columns.measured.contains(&PYTHON).then_some(PYTHON);
    let mut panels = Vec::new();
    for (against, series) in [
        (columns.raw, columns.measured.clone()),
        (python, columns.ours()),
    ] {
        let Some(against) = against else { continue };
        for kind in [Rows::Throughput, Rows::Costs] {
            panels.push(panel(rows, kind, against, &series));
        }
    }
    panels.retain(|p| !p.groups.is_empty() && !p.series.is_empty());
    Ok(panels)
}

fn panel(rows: &[Value], kind: Rows, against: &str, series: &[&str]) -> Panel {
    let groups = rows
        .iter()
        .filter(|row| kind.wants(row["unit"].as_str().unwrap_or("")))
        .map(|row| Group {
            label: label(row),
            ratios: series.iter().map(|s| ratio(row, s, against)).collect(),
        })
        .filter(|g| g.ratios.iter().any(Option::is_some))
        .collect();
    Panel {
        title: format!(
            "{} relative to {against} ({against} = 1×, {})",
            kind.describe(),
            kind.better()
        ),
        axis: format!("figure ÷ {against}'s (log scale)"),
        series: series.iter().map(|s| format!("{s} ÷ {against}")).collect(),
        groups,
    }
}

/// A row's label, with the metric it details (`parent`) in front.
fn label(row: &Value) -> String {
    let metric = row["metric"].as_str().unwrap_or("?");
    match row["parent"].as_str() {
        Some(parent) => format!("{parent} · {metric}"),
        None => metric.to_owned(),
    }
}

fn ratio(row: &Value, column: &str, against: &str) -> Option<f64> {
    let value = row["values"][column].as_f64()?;
    let base = row["values"][against].as_f64()?;
    let r = value / base;
    (r.is_finite() && r > 0.0).then_some(r)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small report in the tool's JSON shape: our server, the two raw baselines and
    /// Python, two rates and one cost.
    pub(crate) fn fixture() -> Value {
        serde_json::json!({
            "header": "wslink-bench: fixture",
            "columns": ["rust", "raw", "raw-1w", "python"],
            "raw_column": "raw",
            "raw_one_write_column": "raw-1w",
            "baseline_columns": ["raw", "raw-1w"],
            "rows": [
                { "key": "seq.rate", "metric": "sequential echo", "unit": "calls/s",
                  "values": { "rust": 90.0, "raw": 100.0, "raw-1w": null, "python": 45.0 } },
                { "key": "seq.p99", "metric": "latency p99", "unit": "µs",
                  "parent": "sequential echo",
                  "values": { "rust": 20.0, "raw": 10.0, "raw-1w": null, "python": 40.0 } },
                { "key": "pipe64.rate", "metric": "pipelined, 64 in flight", "unit": "calls/s",
                  "values": { "rust": 300.0, "raw": 600.0, "raw-1w": 150.0, "python": null } },
                { "key": "idle.count", "metric": "idle connections held", "unit": "conns",
                  "values": { "rust": 5.0, "raw": 5.0, "raw-1w": null, "python": 5.0 } }
            ]
        })
    }

    #[test]
    fn four_panels_against_raw_then_python() {
        let panels = panels(&fixture()).unwrap();
        let titles: Vec<&str> = panels.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles.len(), 4, "{titles:?}");
        assert!(titles[0].starts_with("Throughput relative to raw"));
        assert!(titles[1].starts_with("Costs (server CPU, latency, memory) relative to raw"));
        assert!(titles[2].starts_with("Throughput relative to python"));
        assert!(titles[3].starts_with("Costs (server CPU, latency, memory) relative to python"));
        assert_eq!(panels[0].series, ["rust ÷ raw", "python ÷ raw"]);
        assert_eq!(panels[2].series, ["rust ÷ python"]);
    }

    #[test]
    fn ratios_of_the_fixture_and_missing_figures() {
        let panels = panels(&fixture()).unwrap();
        let throughput = &panels[0].groups;
        assert_eq!(throughput[0].label, "sequential echo");
        assert_eq!(throughput[0].ratios, [Some(0.9), Some(0.45)]);
        // No Python figure for the pipelined phase: that bar is missing, the group stays.
        assert_eq!(throughput[1].ratios, [Some(0.5), None]);
        // A count (`conns`) is neither a rate nor a cost.
        assert_eq!(throughput.len(), 2);
        assert_eq!(panels[1].groups[0].label, "sequential echo · latency p99");
        assert_eq!(panels[1].groups[0].ratios, [Some(2.0), Some(4.0)]);
        // Against Python, the pipelined phase has nothing to show and is left out.
        assert_eq!(panels[2].groups.len(), 1);
        assert_eq!(panels[2].groups[0].ratios, [Some(2.0)]);
    }

    #[test]
    fn without_python_only_the_raw_panels() {
        let mut report = fixture();
        report["columns"] = serde_json::json!(["rust", "raw", "raw-1w"]);
        let panels = panels(&report).unwrap();
        assert_eq!(panels.len(), 2);
        assert!(panels.iter().all(|p| p.series == ["rust ÷ raw"]));
    }

    #[test]
    fn a_report_without_columns_is_an_error() {
        assert!(panels(&serde_json::json!({ "rows": [] })).is_err());
    }
}
