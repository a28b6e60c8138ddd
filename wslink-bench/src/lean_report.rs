//! The table of the npm-like, Node and mixed phases: one column per server, our
//! server's figures also as a ratio to the bare server's ("ours ÷ bare") and to
//! Python's, and the verdicts of the targets that are ratios to the bare server.

use std::fmt::Write as _;

use crate::phases::{Results, Target};
use crate::report::fmt;

/// The bare server's column.
pub(crate) const BARE: &str = "bare";
const PYTHON: &str = "python";

/// The measured figures, by server.
pub(crate) struct LeanTable<'a> {
    results: &'a [(Target, Results)],
}

/// (target, met, detail).
type Verdict = (String, Option<bool>, String);

impl<'a> LeanTable<'a> {
    pub(crate) fn new(results: &'a [(Target, Results)]) -> LeanTable<'a> {
        LeanTable { results }
    }

    /// Our server's column: the first that is neither the bare server nor Python.
    fn ours(&self) -> &str {
        self.results
            .iter()
            .map(|(t, _)| t.name.as_str())
            .find(|n| *n != BARE && *n != PYTHON)
            .unwrap_or("rust")
    }

    fn value(&self, column: &str, key: &str) -> Option<f64> {
        self.results
            .iter()
            .find(|(t, _)| t.name == column)
            .and_then(|(_, r)| r.get(key))
            .filter(|v| v.is_finite())
    }

    /// Every row key, in the order first measured, with its label and unit.
    fn keys(&self) -> Vec<(String, String, &'static str)> {
        let mut keys: Vec<(String, String, &'static str)> = Vec::new();
        for (_, r) in self.results {
            for row in &r.rows {
                if !keys.iter().any(|(k, _, _)| *k == row.key) {
                    keys.push((row.key.clone(), row.label.clone(), row.unit));
                }
            }
        }
        keys
    }

    fn columns(&self) -> Vec<&str> {
        self.results.iter().map(|(t, _)| t.name.as_str()).collect()
    }

    /// The verdicts of the targets against the bare server (npm-like client).
    pub(crate) fn verdicts(&self) -> Vec<Verdict> {
        let ours = self.ours();
        let ratio = |key: &str| Some(self.value(ours, key)? / self.value(BARE, key)?);
        let mut v: Vec<Verdict> = [
            (
                "sequential echo, server CPU per call ≤ 1.2× bare",
                "npm.seq.cpu",
                1.2,
            ),
            (
                "pipelined echo, server CPU per call ≤ 1.1× bare",
                "npm.pipe.cpu",
                1.1,
            ),
            (
                "publication to one client, server CPU ≤ 1.5× bare",
                "npm.pub.cpu",
                1.5,
            ),
            (
                "connect + hello + close, server CPU ≤ 1.3× bare",
                "npm.conn.cpu",
                1.3,
            ),
        ]
        .into_iter()
        .map(|(name, key, max)| match ratio(key) {
            Some(x) => (name.to_owned(), Some(x <= max), format!("{x:.2}×")),
            None => (name.to_owned(), None, "not measured".to_owned()),
        })
        .collect();
        v.push((
            "fan-out: at least as many deliveries per second as before".to_owned(),
            None,
            self.value(ours, "npm.fanout.rate")
                .map_or("not measured".into(), |r| {
                    format!("{r:.0} /s now; compare with a run of the previous version")
                }),
        ));
        v
    }

    pub(crate) fn markdown(&self) -> String {
        let columns = self.columns();
        let ours = self.ours();
        let has = |c: &str| columns.contains(&c);
        let mut head: Vec<String> = vec!["metric".into(), "unit".into()];
        head.extend(columns.iter().map(|c| c.to_string()));
        for other in [BARE, PYTHON] {
            if has(ours) && has(other) {
                head.push(format!("{ours} ÷ {other}"));
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nnpm-like client (one message per write), the npm client in Node, mixed load: medians over rounds\n"
        );
        let _ = writeln!(out, "| {} |", head.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
        for (key, label, unit) in self.keys() {
            let mut cells = vec![label, unit.to_owned()];
            cells.extend(
                columns
                    .iter()
                    .map(|c| self.value(c, &key).map_or("–".into(), fmt)),
            );
            for other in [BARE, PYTHON] {
                if has(ours) && has(other) {
                    cells.push(match (self.value(ours, &key), self.value(other, &key)) {
                        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}×", a / b),
                        _ => "–".into(),
                    });
                }
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(
            out,
            "\nTargets (npm-like client, ratios to the bare server):"
        );
        for (name, ok, detail) in self.verdicts() {
            let mark = match ok {
                Some(true) => "MET",
                Some(false) => "MISSED",
                None => "n/a",
            };
            let _ = writeln!(out, "- [{mark}] {name}: {detail}");
        }
        let notes: Vec<String> = self
            .results
            .iter()
            .flat_map(|(t, r)| r.notes.iter().map(move |n| format!("{}: {n}", t.name)))
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(out, "\nNotes:");
            for n in notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }

    /// The same as JSON (the `npm_like` key of `--json`).
    pub(crate) fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let columns = self.columns();
        let rows: Vec<serde_json::Value> = self
            .keys()
            .into_iter()
            .map(|(key, label, unit)| {
                let values: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .map(|c| {
                        (
                            c.to_string(),
                            self.value(c, &key).map_or(json!(null), |v| json!(v)),
                        )
                    })
                    .collect();
                json!({ "key": key, "metric": label.trim(), "unit": unit, "values": values })
            })
            .collect();
        let targets: Vec<serde_json::Value> = self
            .verdicts()
            .into_iter()
            .map(|(n, ok, d)| json!({ "target": n, "met": ok, "detail": d }))
            .collect();
        json!({ "columns": columns, "rows": rows, "targets": targets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phases::Kind;

    fn column(name: &str, rows: &[(&str, f64)]) -> (Target, Results) {
        let mut r = Results::default();
        for &(key, v) in rows {
            r.put(key, key, "µs", v);
        }
        let t = Target {
            name: name.into(),
            kind: Kind::Wslink,
            url: String::new(),
            secret: String::new(),
            pid: None,
            only: None,
        };
        (t, r)
    }

    #[test]
    fn ratios_to_bare_and_verdicts() {
        let results = vec![
            column("rust", &[("npm.seq.cpu", 30.0), ("npm.pub.cpu", 1.0)]),
            column("bare", &[("npm.seq.cpu", 20.0), ("npm.pub.cpu", 1.0)]),
        ];
        let table = LeanTable::new(&results);
        let md = table.markdown();
        assert!(
            md.contains("| npm.seq.cpu | µs | 30.0 | 20.0 | 1.50× |"),
            "{md}"
        );
        let v = table.verdicts();
        assert_eq!(v[0].1, Some(false));
        assert_eq!(v[0].2, "1.50×");
        assert_eq!(v[2].1, Some(true));
        assert_eq!(v[3].1, None);
        assert_eq!(table.json()["rows"][0]["values"]["bare"], 20.0);
    }
}
