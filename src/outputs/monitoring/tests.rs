//! `prometheus-rules.test.yml`: promtool unit tests for the rendered rules — each alert fires
//! just above its threshold and stays silent just below (or at) it. The input series are built
//! from the same [`Probe`] as the rule, so a test feeds exactly the series the rule reads.

use super::RULES_FILE;
use super::promql::{alert_labels, num, quoted, selector};
use super::rules::{Rule, severity};
use super::series::Probe;

const INSTANCE: &str = "poolstack-test:9127";
const APP_JOB: &str = "app";
/// Samples per series (one a minute): enough for a 10m `for:` and a 5m rate window.
const MINUTES: u32 = 20;

/// (series, values) fed to promtool.
type Input = Vec<(String, String)>;

fn constant(v: f64) -> String {
    format!("{}x{MINUTES}", num(v))
}

fn counter(per_minute: f64) -> String {
    format!("0+{}x{MINUTES}", num(per_minute))
}

fn with_instance(select: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut all = vec![("instance", INSTANCE.to_string())];
    all.extend(select.iter().cloned());
    all
}

/// Inputs that put the probe's value at `level`: "above" (fires) or "below" (silent). `None`
/// when no input can make it fire (a threshold beyond what the series can show; MON001).
fn inputs(p: &Probe, job: &str, fire: bool, buckets: &[f64]) -> Option<Input> {
    let sel = |name: &str, select: &[(&'static str, String)]| {
        selector(name, Some(job), &with_instance(select))
    };
    match p {
        Probe::Down { metric, down } => {
            let up_value = if *down == 0.0 { 1.0 } else { 0.0 };
            Some(vec![
                (
                    sel(metric, &[]),
                    constant(if fire { *down } else { up_value }),
                ),
                (sel("up", &[]), constant(1.0)),
            ])
        }
        Probe::Compare {
            measure,
            op,
            threshold,
        } => {
            let t = *threshold;
            let value = match (*op, fire) {
                (">=", true) => t,
                (">=", false) => t - 1.0,
                (_, true) => t.floor() + 1.0,
                (_, false) => t,
            };
            if value < 0.0 {
                return None;
            }
            // The first term carries the whole value (scaled back by its divisor); the rest are 0.
            let mut out = Vec::new();
            for (i, (name, divisor)) in measure.terms.iter().enumerate() {
                let v = if i == 0 { value * divisor } else { 0.0 };
                out.push((sel(name, &measure.select), constant(v)));
            }
            Some(out)
        }
        Probe::Ratio {
            measure,
            capacity,
            ratio,
        } => {
            let above = (ratio * *capacity as f64).floor() + 1.0;
            let v = if fire { above } else { above - 1.0 };
            Some(
                measure
                    .terms
                    .iter()
                    .map(|(name, _)| (sel(name, &measure.select), constant(v)))
                    .collect(),
            )
        }
        Probe::Quantile {
            histogram,
            select,
            seconds,
        } => {
            let t = *seconds;
            // Observations all in one bucket (lo, hi] give p99 = lo + 0.99 (hi − lo).
            let (lo, hi): (f64, Option<f64>) = if fire {
                let mut pick = None;
                for w in buckets.windows(2) {
                    if w[0] >= t {
                        pick = Some((w[0], Some(w[1])));
                        break;
                    }
                }
                match pick {
                    Some(p) => p,
                    // Above the top finite bucket the quantile is that bucket's bound.
                    None => match buckets.last() {
                        Some(&top) if top > t => (top, None),
                        _ => return None,
                    },
                }
            } else {
                match buckets.iter().rposition(|&b| b <= t) {
                    Some(i) => (if i == 0 { 0.0 } else { buckets[i - 1] }, Some(buckets[i])),
                    // No bucket below the threshold: no observations at all (no p99).
                    None => (f64::INFINITY, None),
                }
            };
            let mut out = Vec::new();
            let bounds: Vec<Option<f64>> = buckets
                .iter()
                .map(|b| Some(*b))
                .chain(std::iter::once(None))
                .collect();
            for b in bounds {
                let filled = match (b, hi) {
                    (None, _) => lo.is_finite(),
                    (Some(b), Some(h)) => b >= h,
                    (Some(_), None) => false,
                };
                let le = b.map_or("+Inf".to_string(), num);
                let mut labels = select.clone();
                labels.push(("le", le));
                out.push((
                    sel(histogram, &labels),
                    if filled { counter(60.0) } else { counter(0.0) },
                ));
            }
            Some(out)
        }
    }
}

/// `{{ $labels.x }}` expanded as Prometheus would for an alert with `labels`.
fn expand(template: &str, labels: &[(String, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    // A label the alert does not have expands to nothing.
    while let Some(start) = out.find("{{ $labels.") {
        match out[start..].find("}}") {
            Some(end) => out.replace_range(start..start + end + 2, ""),
            None => break,
        }
    }
    out
}

fn case(r: &Rule<'_>, fire: bool, buckets: &[f64]) -> Option<String> {
    let job = r.job.as_deref().unwrap_or(APP_JOB);
    let series = inputs(&r.probe, job, fire, buckets)?;
    let eval = r.alert.for_minutes + 5;
    let name = format!(
        "{} {} {}",
        r.alert.name,
        if fire {
            "fires above"
        } else {
            "stays silent at or below"
        },
        r.alert.threshold
    );
    let mut out = format!(
        "  - name: {}\n    interval: 1m\n    input_series:\n",
        quoted(&name)
    );
    for (s, v) in &series {
        out.push_str(&format!(
            "      - series: {}\n        values: {}\n",
            quoted(s),
            quoted(v)
        ));
    }
    out.push_str(&format!(
        "    alert_rule_test:\n      - eval_time: {eval}m\n        alertname: {}\n",
        r.alert.name
    ));
    if !fire {
        out.push_str("        exp_alerts: []\n");
        return Some(out);
    }
    let labels = alert_labels(&r.probe, job, INSTANCE);
    out.push_str("        exp_alerts:\n          - exp_labels:\n");
    let mut all = labels.clone();
    all.push(("severity".into(), severity(r.alert.severity).into()));
    all.sort();
    for (k, v) in &all {
        out.push_str(&format!("              {k}: {}\n", quoted(v)));
    }
    out.push_str(&format!(
        "            exp_annotations:\n              summary: {}\n              description: {}\n",
        quoted(&expand(&r.summary, &labels)),
        quoted(&expand(&r.description, &labels)),
    ));
    Some(out)
}

/// The test file body; empty when there are no rules.
pub fn file(rules: &[Rule<'_>], buckets: &[f64]) -> String {
    if rules.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "# Run: promtool test rules {}\nrule_files:\n  - {RULES_FILE}\nevaluation_interval: 1m\ntests:\n",
        super::TESTS_FILE
    );
    for r in rules {
        for fire in [true, false] {
            if let Some(c) = case(r, fire, buckets) {
                out.push_str(&c);
            }
        }
    }
    out
}
