//! `[monitoring]` → `monitoring/`: Prometheus alerting rules whose thresholds come from the
//! stack, promtool unit tests for them, the exporter's config with a scrape snippet, and a
//! Grafana dashboard. Reads only the resolved [`Stack`]; which alerts exist and their thresholds
//! are the stack's ([`crate::stack::monitoring::alerts`]), the series names the exporter's.

pub mod dashboard;
pub mod exporter;
pub mod promql;
pub mod rules;
pub mod series;
pub mod tests;

use crate::formats::header::CommentStyle;
use crate::stack::Stack;
use crate::stack::monitoring::alerts;

pub const RULES_FILE: &str = "prometheus-rules.yml";
pub const TESTS_FILE: &str = "prometheus-rules.test.yml";
pub const SCRAPE_FILE: &str = "prometheus-scrape.yml";
pub const DASHBOARD_FILE: &str = "grafana-dashboard.json";

/// One file under `monitoring/`.
#[derive(Debug, Clone)]
pub struct MonitoringFile {
    /// The file's name inside `monitoring/`.
    pub name: String,
    pub body: String,
    pub header: Header,
}

/// How the generated-by header is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    Comment(CommentStyle),
    /// JSON: a `__poolstack` field ([`dashboard::with_header`]).
    JsonField,
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
            header: Header::Comment(CommentStyle::Hash),
        },
        MonitoringFile {
            name: TESTS_FILE.into(),
            body: tests::file(&rules, &mon.checkout_buckets.value),
            header: Header::Comment(CommentStyle::Hash),
        },
    ];
    if let Some((name, body)) = exporter::config(stack, mon) {
        files.push(MonitoringFile {
            name: name.into(),
            body,
            header: Header::Comment(CommentStyle::Hash),
        });
    }
    files.push(MonitoringFile {
        name: SCRAPE_FILE.into(),
        body: exporter::scrape(stack, mon),
        header: Header::Comment(CommentStyle::Hash),
    });
    files.push(MonitoringFile {
        name: DASHBOARD_FILE.into(),
        body: dashboard::body(stack, mon),
        header: Header::JsonField,
    });
    files.retain(|f| !f.body.is_empty());
    files
}
