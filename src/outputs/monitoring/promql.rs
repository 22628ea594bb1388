//! [`Probe`] → PromQL text.

use super::series::{Aggregate, Measure, Probe};

/// A number as PromQL and promtool write it (`30`, `0.5`).
pub fn num(x: f64) -> String {
    format!("{x}")
}

/// A label value as a PromQL (and YAML double-quoted) string literal.
pub fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

pub fn selector(metric: &str, job: Option<&str>, select: &[(&str, String)]) -> String {
    let mut labels: Vec<String> = Vec::new();
    if let Some(j) = job {
        labels.push(format!("job={}", quoted(j)));
    }
    labels.extend(select.iter().map(|(k, v)| format!("{k}={}", quoted(v))));
    format!("{metric}{{{}}}", labels.join(","))
}

fn measure(m: &Measure, job: Option<&str>) -> String {
    let inner = m
        .terms
        .iter()
        .map(|(name, divisor)| {
            let s = selector(name, job, &m.select);
            if *divisor == 1.0 {
                s
            } else {
                format!("{s} / {}", num(*divisor))
            }
        })
        .collect::<Vec<_>>()
        .join(" + ");
    match m.aggregate {
        Aggregate::None => inner,
        Aggregate::WithoutPool => format!("sum without (database, user) ({inner})"),
        Aggregate::By(label) => format!("sum by (job, instance, {label}) ({inner})"),
    }
}

/// The alert expression. `job` selects PgBouncer's series (`None` for app series).
pub fn expr(p: &Probe, job: Option<&str>) -> String {
    match p {
        Probe::Compare {
            measure: m,
            op,
            threshold,
        } => format!("{} {op} {}", measure(m, job), num(*threshold)),
        Probe::Down { metric, down } => format!(
            "{} == {} or {} == 0",
            selector(metric, job, &[]),
            num(*down),
            selector("up", job, &[])
        ),
        Probe::Ratio {
            measure: m,
            capacity,
            ratio,
        } => format!("{} / {capacity} > {}", measure(m, job), num(*ratio)),
        Probe::Quantile {
            histogram,
            select,
            seconds,
        } => {
            let labels: Vec<&str> = select.iter().map(|(k, _)| *k).collect();
            format!(
                "histogram_quantile(0.99, sum by (job, instance, {}, le) (rate({}[5m]))) > {}",
                labels.join(", "),
                selector(histogram, job, select),
                num(*seconds)
            )
        }
    }
}

/// The labels an alert of this probe carries (besides its rule labels), given the input
/// series' `job` and `instance`.
pub fn alert_labels(p: &Probe, job: &str, instance: &str) -> Vec<(String, String)> {
    let mut out = vec![
        ("instance".to_string(), instance.to_string()),
        ("job".to_string(), job.to_string()),
    ];
    let select = match p {
        Probe::Compare { measure, .. } | Probe::Ratio { measure, .. } => match measure.aggregate {
            Aggregate::WithoutPool => Vec::new(),
            _ => measure.select.clone(),
        },
        Probe::Down { .. } => Vec::new(),
        Probe::Quantile { select, .. } => select.clone(),
    };
    out.extend(select.into_iter().map(|(k, v)| (k.to_string(), v)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            selector("m", Some("pg\"b"), &[("database", "a\\b".into())]),
            r#"m{job="pg\"b",database="a\\b"}"#
        );
    }

    #[test]
    fn sums_divide_only_scaled_terms() {
        let m = Measure {
            terms: vec![("a".into(), 1.0), ("b".into(), 1e6)],
            select: vec![],
            aggregate: Aggregate::WithoutPool,
        };
        let p = Probe::Compare {
            measure: m,
            op: ">",
            threshold: 30.0,
        };
        assert_eq!(
            expr(&p, Some("j")),
            r#"sum without (database, user) (a{job="j"} + b{job="j"} / 1000000) > 30"#
        );
    }
}
