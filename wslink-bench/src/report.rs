//! One table (markdown, and the same as JSON), the placement of client and servers, and
//! the verdicts of the performance targets.

use std::fmt::Write as _;

use crate::phases::{Kind, Results, Target};

/// What the run looked like.
pub(crate) struct Env {
    pub(crate) nofile: u64,
    pub(crate) pin_client: Option<String>,
    pub(crate) pin_server: Option<String>,
    pub(crate) client_allowed: String,
    pub(crate) quick: bool,
    pub(crate) secs: f64,
    pub(crate) notes: Vec<String>,
}

struct Line {
    key: String,
    label: String,
    unit: &'static str,
    values: Vec<Option<f64>>,
}

pub(crate) struct Table {
    columns: Vec<String>,
    /// The raw baseline with batched writes (the ceiling for most rows).
    raw: Option<usize>,
    /// The raw baseline writing (flushing) once per message.
    raw_1w: Option<usize>,
    rust: Option<usize>,
    python: Option<usize>,
    /// The names of every raw baseline column (any backend).
    baselines: Vec<String>,
    lines: Vec<Line>,
    placement: Vec<String>,
    notes: Vec<String>,
    verdicts: Vec<(String, Option<bool>, String)>,
    header: String,
}

/// A figure with three significant digits or so ("–" for NaN), as every table prints.
pub(crate) fn fmt(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{:.0}", v)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl Table {
    pub(crate) fn build(results: &[(Target, Results)], env: &Env) -> Table {
        let columns: Vec<String> = results.iter().map(|(t, _)| t.name.clone()).collect();
        let raw = results
            .iter()
            .position(|(t, _)| t.kind == Kind::Raw && t.only.is_none());
        let raw_1w = results
            .iter()
            .position(|(t, _)| t.kind == Kind::Raw && t.only.is_some());
        let rust = results
            .iter()
            .position(|(t, _)| t.kind == Kind::Wslink && t.name != "python");
        let python = results.iter().position(|(t, _)| t.name == "python");
        let baselines = results
            .iter()
            .filter(|(t, _)| t.kind == Kind::Raw)
            .map(|(t, _)| t.name.clone())
            .collect();
        let mut lines: Vec<Line> = Vec::new();
        for (_, r) in results {
            for row in &r.rows {
                if !lines.iter().any(|l| l.key == row.key) {
                    lines.push(Line {
                        key: row.key.clone(),
                        label: row.label.clone(),
                        unit: row.unit,
                        values: results.iter().map(|(_, r)| r.get(&row.key)).collect(),
                    });
                }
            }
        }
        let mut placement = vec![format!(
            "client (this process, pid {}): allowed CPUs {}{}; threads seen on {} (sampled during the 64-in-flight phase of each server)",
            std::process::id(),
            env.client_allowed,
            env.pin_client.as_ref().map(|p| format!(" (pinned: {p})")).unwrap_or_default(),
            results
                .iter()
                .map(|(t, r)| format!("[{}: {}]", t.name, r.client_placement.describe()))
                .collect::<Vec<_>>()
                .join(" ")
        )];
        for (t, r) in results {
            placement.push(format!(
                "server {} (pid {}): allowed CPUs {}{}; threads seen on {}",
                t.name,
                t.pid.map_or("?".into(), |p| p.to_string()),
                if r.server_allowed.is_empty() {
                    "?"
                } else {
                    &r.server_allowed
                },
                env.pin_server
                    .as_ref()
                    .map(|p| format!(" (pinned: {p})"))
                    .unwrap_or_default(),
                r.server_placement.describe()
            ));
        }
        let mut notes = env.notes.clone();
        for (t, r) in results {
            notes.extend(r.notes.iter().map(|n| format!("{}: {n}", t.name)));
        }
        let header = format!(
            "wslink-bench: {} mode, {} s per phase, open-file limit {}, {} CPUs usable by the client",
            if env.quick { "quick" } else { "full" },
            env.secs,
            env.nofile,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        let mut table = Table {
            columns,
            raw,
            raw_1w,
            rust,
            python,
            baselines,
            lines,
            placement,
            notes,
            verdicts: Vec::new(),
            header,
        };
        // The targets, for each of our servers (one per WebSocket backend measured).
        let ours: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| t.kind == Kind::Wslink && t.name != "python")
            .map(|(i, _)| i)
            .collect();
        let several = ours.len() > 1;
        table.verdicts = ours
            .into_iter()
            .flat_map(|i| {
                let name = table.columns[i].clone();
                table
                    .judge(Some(i))
                    .into_iter()
                    .map(move |(what, ok, detail)| {
                        let what = if several {
                            format!("{name}: {what}")
                        } else {
                            what
                        };
                        (what, ok, detail)
                    })
            })
            .collect();
        table
    }

    fn value(&self, key: &str, col: Option<usize>) -> Option<f64> {
        let col = col?;
        self.lines
            .iter()
            .find(|l| l.key == key)
            .and_then(|l| l.values[col])
            .filter(|v| v.is_finite())
    }

    /// The targets of the performance issue.
    fn judge(&self, rust: Option<usize>) -> Vec<(String, Option<bool>, String)> {
        let (raw, raw_1w, py) = (self.raw, self.raw_1w, self.python);
        let mut v = Vec::new();
        let mut ratio = |name: &str,
                         a: Option<f64>,
                         b: Option<f64>,
                         ok: &dyn Fn(f64) -> bool,
                         show: &dyn Fn(f64) -> String| {
            match (a, b) {
                (Some(a), Some(b)) if b != 0.0 => {
                    let x = a / b;
                    v.push((name.to_owned(), Some(ok(x)), show(x)));
                }
                _ => v.push((name.to_owned(), None, "not measured".into())),
            }
        };
        let pct = |x: f64| format!("{:.0} %", x * 100.0);
        let times = |x: f64| format!("{x:.2}×");
        let big = self
            .lines
            .iter()
            .filter(|l| l.key.starts_with("bin.down.") && !l.key.ends_with(".mem"))
            .filter_map(|l| l.key["bin.down.".len()..].parse::<u64>().ok())
            .max();
        ratio(
            "sequential calls/s ≥ 85 % of raw round trips/s",
            self.value("seq.rate", rust),
            self.value("seq.rate", raw),
            &|x| x >= 0.85,
            &pct,
        );
        ratio(
            "sequential p99 ≤ 2× raw p99",
            self.value("seq.p99", rust),
            self.value("seq.p99", raw),
            &|x| x <= 2.0,
            &times,
        );
        ratio(
            "pipelined (64 in flight) ≥ 60 % of raw with one write per message",
            self.value("pipe64.rate", rust),
            self.value("pipe64.rate", raw_1w),
            &|x| x >= 0.6,
            &pct,
        );
        ratio(
            "pipelined (64 in flight) ≥ 30 % of raw with batched writes",
            self.value("pipe64.rate", rust),
            self.value("pipe64.rate", raw),
            &|x| x >= 0.3,
            &pct,
        );
        ratio(
            "pipelined (64) ≥ 10× Python",
            self.value("pipe64.rate", rust),
            self.value("pipe64.rate", py),
            &|x| x >= 10.0,
            &times,
        );
        ratio(
            "sequential ≥ 10× Python",
            self.value("seq.rate", rust),
            self.value("seq.rate", py),
            &|x| x >= 10.0,
            &times,
        );
        ratio(
            "server CPU per call ≤ 1/15 of Python (64 in flight)",
            self.value("pipe64.cpu", py),
            self.value("pipe64.cpu", rust),
            &|x| x >= 15.0,
            &|x| format!("Python uses {x:.1}× as much"),
        );
        ratio(
            "publications to 1 subscriber ≥ 50 % of raw push with one write per message",
            self.value("pub1x100.rate", rust),
            self.value("pub1x100.rate", raw_1w),
            &|x| x >= 0.5,
            &pct,
        );
        ratio(
            "publications to 1 subscriber ≥ 1 million/s (batched writes)",
            self.value("pub1x100.rate", rust),
            Some(1e6),
            &|x| x >= 1.0,
            &|x| format!("{:.0} /s", x * 1e6),
        );
        if let Some(big) = big {
            let key = format!("bin.down.{big}");
            ratio(
                &format!(
                    "binary result {} ≥ 50 % of raw bulk",
                    crate::phases::size_label(big as usize)
                ),
                self.value(&key, rust),
                self.value(&key, raw),
                &|x| x >= 0.5,
                &pct,
            );
            for (dir, what) in [("down", "result"), ("up", "upload")] {
                ratio(
                    &format!(
                        "server peak memory during a {} {what} ≤ 2× payload",
                        crate::phases::size_label(big as usize)
                    ),
                    self.value(&format!("bin.{dir}.{big}.mem"), rust),
                    Some(big as f64 / (1 << 20) as f64),
                    &|x| x <= 2.0,
                    &|x| format!("{x:.2}× payload"),
                );
            }
        }
        ratio(
            "idle connection ≤ 16 KiB of server memory",
            self.value("idle.mem", rust),
            Some(16.0),
            &|x| x <= 1.0,
            &|x| format!("{:.1} KiB", x * 16.0),
        );
        v
    }

    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n{}\n", self.header);
        let mut head = vec!["metric".to_owned(), "unit".to_owned()];
        let raws: Vec<usize> = [self.raw, self.raw_1w].into_iter().flatten().collect();
        let percents = |i: usize| !raws.contains(&i);
        for (i, c) in self.columns.iter().enumerate() {
            head.push(c.clone());
            if percents(i) {
                for &r in &raws {
                    head.push(format!("{c} % {}", self.columns[r]));
                }
            }
        }
        let ratio = self.rust.is_some() && self.python.is_some();
        if ratio {
            head.push("rust / python".into());
        }
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
        for l in &self.lines {
            let mut cells = vec![l.label.clone(), l.unit.to_owned()];
            for (i, v) in l.values.iter().enumerate() {
                cells.push(v.map_or("–".into(), fmt));
                if percents(i) {
                    for &r in &raws {
                        cells.push(match (v, l.values[r]) {
                            (Some(v), Some(r)) if r != 0.0 && r.is_finite() => {
                                format!("{:.0} %", v / r * 100.0)
                            }
                            _ => "–".into(),
                        });
                    }
                }
            }
            if ratio {
                let (a, b) = (
                    l.values[self.rust.unwrap_or(0)],
                    l.values[self.python.unwrap_or(0)],
                );
                cells.push(match (a, b) {
                    (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
                    _ => "–".into(),
                });
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(out, "\nPlacement:");
        for p in &self.placement {
            let _ = writeln!(out, "- {p}");
        }
        if !self.verdicts.is_empty() {
            let _ = writeln!(out, "\nTargets:");
            for (name, ok, detail) in &self.verdicts {
                let mark = match ok {
                    Some(true) => "MET",
                    Some(false) => "MISSED",
                    None => "n/a",
                };
                let _ = writeln!(out, "- [{mark}] {name}: {detail}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes:");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }

    /// The table as JSON (what `--json` writes and `--chart-from` reads).
    pub(crate) fn json(&self) -> serde_json::Value {
        use serde_json::{json, Value};
        let mut parent: Option<&str> = None;
        let rows: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                // An indented label details the unindented one above it.
                let detail = l.label.starts_with(' ');
                if !detail {
                    parent = Some(l.label.as_str());
                }
                let values: serde_json::Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(&l.values)
                    .map(|(c, v)| {
                        (
                            c.clone(),
                            v.filter(|x| x.is_finite())
                                .map_or(Value::Null, |x| json!(x)),
                        )
                    })
                    .collect();
                let mut row = json!({ "key": l.key, "metric": l.label.trim(), "unit": l.unit, "values": values });
                if let (true, Some(parent)) = (detail, parent) {
                    row["parent"] = json!(parent);
                }
                row
            })
            .collect();
        let verdicts: Vec<Value> = self
            .verdicts
            .iter()
            .map(|(n, ok, d)| json!({ "target": n, "met": ok, "detail": d }))
            .collect();
        json!({
            "header": self.header,
            "columns": self.columns,
            "raw_column": self.raw.map(|i| self.columns[i].clone()),
            "raw_one_write_column": self.raw_1w.map(|i| self.columns[i].clone()),
            "baseline_columns": self.baselines,
            "rows": rows,
            "placement": self.placement,
            "targets": verdicts,
            "notes": self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phases::Row;

    fn target(name: &str, kind: Kind) -> Target {
        Target {
            name: name.into(),
            kind,
            url: String::new(),
            secret: String::new(),
            pid: None,
            only: None,
        }
    }

    fn results(rows: &[(&str, &str, f64)]) -> Results {
        let rows = rows.iter().map(|&(key, label, value)| Row {
            key: key.into(),
            label: label.into(),
            unit: if key.ends_with("rate") {
                "calls/s"
            } else {
                "µs"
            },
            value,
        });
        Results {
            rows: rows.collect(),
            ..Results::default()
        }
    }

    fn env() -> Env {
        Env {
            nofile: 1024,
            pin_client: None,
            pin_server: None,
            client_allowed: "0-1".into(),
            quick: true,
            secs: 0.25,
            notes: Vec::new(),
        }
    }

    #[test]
    fn the_json_names_the_baselines_and_the_parent_of_a_detail_row() {
        let rows = [
            ("seq.rate", "sequential echo", 2.0),
            ("seq.p99", "  latency p99", 3.0),
        ];
        let measured = vec![
            (target("rust", Kind::Wslink), results(&rows)),
            (target("raw", Kind::Raw), results(&rows)),
        ];
        let json = Table::build(&measured, &env()).json();
        assert_eq!(json["baseline_columns"], serde_json::json!(["raw"]));
        assert_eq!(json["rows"][0]["metric"], "sequential echo");
        assert!(json["rows"][0].get("parent").is_none());
        assert_eq!(json["rows"][1]["metric"], "latency p99");
        assert_eq!(json["rows"][1]["parent"], "sequential echo");
        assert_eq!(json["rows"][1]["values"]["raw"], 3.0);
    }

    #[test]
    fn the_json_is_what_the_chart_reads() {
        let measured = vec![
            (
                target("rust", Kind::Wslink),
                results(&[("seq.rate", "s", 1.0)]),
            ),
            (target("raw", Kind::Raw), results(&[("seq.rate", "s", 4.0)])),
        ];
        let json = Table::build(&measured, &env()).json();
        let panels = crate::ratios::panels(&json).unwrap();
        assert_eq!(panels.len(), 1);
        assert_eq!(panels[0].series, ["rust ÷ raw"]);
        assert_eq!(panels[0].groups[0].ratios, [Some(0.25)]);
    }
}
