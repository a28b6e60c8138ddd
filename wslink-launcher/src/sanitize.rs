//! `sanitize`: checks applied to the values a client sends in its POST body.
//!
//! A client's fields end up inside command lines (`"--data", "${dataset}"`), so the
//! operator can constrain each one by name:
//!
//! ```json
//! "sanitize": {
//!   "dataset": { "type": "regexp", "regexp": "^[\\w.-]+$", "default": "demo" },
//!   "quality": { "type": "inList", "list": ["low", "high"], "default": "low" }
//! }
//! ```
//!
//! * `inList`: the value must equal one of `list`;
//! * `regexp`: the value must be a string that the expression matches **from its
//!   start** (like Python's `re.match`; add `$` to also pin the end).
//!
//! A value that fails is replaced by `default` (and the replacement is logged); with no
//! `default`, the field is dropped. Fields the client did not send are left alone. The
//! command is never run through a shell, so a value can only ever become (part of) one
//! argument.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A rule as written in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum RawRule {
    /// The value must be one of `list`.
    #[serde(rename = "inList")]
    InList {
        /// Allowed values.
        list: Vec<Value>,
        /// Replacement for a value not in the list.
        #[serde(default)]
        default: Option<Value>,
    },
    /// The value must match `regexp` from its start.
    #[serde(rename = "regexp")]
    Regexp {
        /// The expression (Rust `regex` syntax, close to Python's for common patterns).
        regexp: String,
        /// Replacement for a value that does not match.
        #[serde(default)]
        default: Option<Value>,
    },
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub enum Rule {
    /// The value must be one of these.
    InList {
        /// Allowed values.
        list: Vec<Value>,
        /// Replacement.
        default: Option<Value>,
    },
    /// The value must match (anchored at its start).
    Regexp {
        /// The expression, anchored at the start.
        regex: Regex,
        /// Replacement.
        default: Option<Value>,
    },
}

impl Rule {
    /// Compiles a rule; the error is a message for the config error.
    pub fn compile(raw: RawRule) -> Result<Rule, String> {
        Ok(match raw {
            RawRule::InList { list, default } => Rule::InList { list, default },
            RawRule::Regexp { regexp, default } => Rule::Regexp {
                regex: Regex::new(&format!(r"\A(?:{regexp})")).map_err(|e| e.to_string())?,
                default,
            },
        })
    }

    /// Whether `value` passes.
    pub fn accepts(&self, value: &Value) -> bool {
        match self {
            Rule::InList { list, .. } => list.contains(value),
            Rule::Regexp { regex, .. } => value.as_str().is_some_and(|s| regex.is_match(s)),
        }
    }

    fn default(&self) -> Option<&Value> {
        match self {
            Rule::InList { default, .. } | Rule::Regexp { default, .. } => default.as_ref(),
        }
    }
}

/// All the rules of a config, by field name.
#[derive(Debug, Clone, Default)]
pub struct Sanitizer {
    rules: BTreeMap<String, Rule>,
}

impl Sanitizer {
    /// Rules by field name.
    pub fn new(rules: BTreeMap<String, Rule>) -> Sanitizer {
        Sanitizer { rules }
    }

    /// Whether a rule exists for `name`.
    pub fn covers(&self, name: &str) -> bool {
        self.rules.contains_key(name)
    }

    /// Replaces (or drops) every field of `fields` that fails its rule.
    pub fn apply(&self, fields: &mut Map<String, Value>) {
        for (name, rule) in &self.rules {
            let Some(value) = fields.get(name) else {
                continue;
            };
            if rule.accepts(value) {
                continue;
            }
            match rule.default() {
                Some(default) => {
                    tracing::warn!(field = %name, rejected = %value, replacement = %default, "sanitize: value replaced");
                    fields.insert(name.clone(), default.clone());
                }
                None => {
                    tracing::warn!(field = %name, rejected = %value, "sanitize: value dropped");
                    fields.remove(name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sanitizer(rules: Value) -> Sanitizer {
        let raw: BTreeMap<String, RawRule> = serde_json::from_value(rules).unwrap();
        Sanitizer::new(
            raw.into_iter()
                .map(|(k, r)| (k, Rule::compile(r).unwrap()))
                .collect(),
        )
    }

    #[test]
    fn regexp_matches_from_the_start_only() {
        let s = sanitizer(json!({
            "a": {"type": "regexp", "regexp": "[a-z]+", "default": "x"},
            "b": {"type": "regexp", "regexp": "^[a-z]+$", "default": "y"},
            "c": {"type": "regexp", "regexp": "[a-z]+", "default": "z"},
        }));
        let mut f = json!({"a": "abc;rm -rf", "b": "abc;rm", "c": ";abc", "d": "free"})
            .as_object()
            .unwrap()
            .clone();
        s.apply(&mut f);
        assert_eq!(
            f["a"], "abc;rm -rf",
            "a prefix match is enough, as in re.match"
        );
        assert_eq!(f["b"], "y");
        assert_eq!(f["c"], "z", "must match at the start");
        assert_eq!(f["d"], "free", "no rule, untouched");
    }

    #[test]
    fn in_list_and_missing_default() {
        let s = sanitizer(json!({
            "q": {"type": "inList", "list": ["low", "high", 3], "default": "low"},
            "n": {"type": "inList", "list": [1, 2]},
            "r": {"type": "regexp", "regexp": "\\d+"},
        }));
        let mut f = json!({"q": "ultra", "n": 5, "r": 12})
            .as_object()
            .unwrap()
            .clone();
        s.apply(&mut f);
        assert_eq!(f["q"], "low");
        assert!(!f.contains_key("n"), "no default: dropped");
        assert!(!f.contains_key("r"), "non-strings never match a regexp");
        let mut f = json!({"q": 3}).as_object().unwrap().clone();
        s.apply(&mut f);
        assert_eq!(f["q"], 3);
        assert!(s.covers("q") && !s.covers("zz"));
    }
}
