//! `[monitoring]` → `monitoring/`: Prometheus alerting rules whose thresholds come from the
//! stack, promtool unit tests for them, the exporter's config with a scrape snippet, and a
//! Grafana dashboard. Reads only the resolved [`Stack`]; which alerts exist and their thresholds
//! are the stack's ([`crate::stack::monitoring::alerts`]), the series names the exporter's.

pub mod promql;
pub mod rules;
pub mod series;
pub mod tests;

use crate::formats::header::CommentStyle;
use crate::stack::Stack;
use crate::stack::monitoring::alerts;

pub const RULES_FILE: &str = "prometheus-rules.yml";
pub const TESTS_FILE: &str = "prometheus-rules.test.yml";

/// One file under `monitoring/`.
#[derive(Debug, Clone)]
pub struct MonitoringFile {
    /// The file's name inside `monitoring/`.
    pub name: String,
    pub body: String,
    /// How the generated-by header is written (`None`: the body carries its own).
    pub header: Option<CommentStyle>,
}

/// Every monitoring file of `stack`; empty without `[monitoring]`.
pub fn render(stack: &Stack) -> Vec<MonitoringFile> {
    let Some(mon) = &stack.monitoring else {
        return Vec::new();
    };
    let plan = alerts::plan(stack, mon);
    let rules = rules::rules(stack, mon, &plan.alerts);
    let mut files = vec![
        MonitoringFile {
            name: RULES_FILE.into(),
            body: rules::file(&stack.name.value, &rules),
            header: Some(CommentStyle::Hash),
        },
        MonitoringFile {
            name: TESTS_FILE.into(),
            body: tests::file(&rules, &mon.checkout_buckets.value),
            header: Some(CommentStyle::Hash),
        },
    ];
    files.retain(|f| !f.body.is_empty());
    files
}
