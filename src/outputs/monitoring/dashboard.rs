//! `grafana-dashboard.json`: the seed's panels (app pool utilization with the alert's line,
//! waiting clients, checkout percentiles, PgBouncer maxwait, pool statistics, invalidations),
//! in the chosen exporter's series, importable by Grafana (Dashboards → New → Import).

use super::promql::selector;
use super::series::{self, Aggregate, Measure};
use crate::formats::header::checksum;
use crate::manifest::{AppMetrics, Exporter};
use crate::stack::Stack;
use crate::stack::monitoring::Monitoring;
use serde_json::{Value, json};

const DS: &str = "${datasource}";

fn panel(
    id: u32,
    title: &str,
    unit: &str,
    targets: Vec<(String, String)>,
    line: Option<f64>,
) -> Value {
    let x = ((id - 1) % 2) * 12;
    let y = ((id - 1) / 2) * 8;
    let mut field = json!({
        "unit": unit,
        "custom": {"thresholdsStyle": {"mode": "off"}},
        "thresholds": {"mode": "absolute", "steps": [{"color": "green", "value": null}]},
    });
    if let Some(t) = line {
        field["custom"]["thresholdsStyle"]["mode"] = json!("line");
        field["thresholds"]["steps"] = json!([
            {"color": "green", "value": null},
            {"color": "red", "value": t},
        ]);
    }
    json!({
        "id": id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": DS},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": field, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": targets.into_iter().enumerate().map(|(i, (expr, legend))| json!({
            "refId": ((b'A' + i as u8) as char).to_string(),
            "datasource": {"type": "prometheus", "uid": DS},
            "expr": expr,
            "legendFormat": legend,
        })).collect::<Vec<_>>(),
    })
}

fn sum_expr(m: &Measure, job: &str) -> String {
    let inner = m
        .terms
        .iter()
        .map(|(n, d)| {
            let s = selector(n, Some(job), &m.select);
            if *d == 1.0 { s } else { format!("{s} / {d}") }
        })
        .collect::<Vec<_>>()
        .join(" + ");
    match m.aggregate {
        Aggregate::None => inner,
        Aggregate::WithoutPool => format!("sum without (database, user) ({inner})"),
        Aggregate::By(l) => format!("sum by (job, instance, {l}) ({inner})"),
    }
}

/// The dashboard body (without the poolstack header field, which [`with_header`] adds).
pub fn body(stack: &Stack, mon: &Monitoring) -> String {
    let job = mon.job.value.as_str();
    let ex = mon.exporter.value;
    // The seed's app metrics are SQLAlchemy's pool metrics: only its apps export them.
    let seed = mon.app_metrics.value == AppMetrics::Seed
        && stack.apps.iter().any(|a| a.sqlalchemy().is_some());
    let mut panels = Vec::new();
    let mut id = 0;
    let mut next = || {
        id += 1;
        id
    };
    if seed {
        let util: Vec<(String, String)> = stack
            .apps
            .iter()
            // The seed's metrics are SQLAlchemy's; an unbounded pool has no capacity to divide by.
            .filter_map(|a| Some((a, a.sqlalchemy()?.capacity()?)))
            .map(|(a, cap)| {
                let sel = selector(
                    "sqlalchemy_pool_checked_out",
                    None,
                    &[("pool_name", mon.pool_name(&a.name.value).to_string())],
                );
                (
                    format!("100 * {sel} / {cap}"),
                    format!("{} {{{{instance}}}}", a.name.value),
                )
            })
            .collect();
        panels.push(panel(
            next(),
            "App pool utilization (checked out ÷ pool_size + max_overflow)",
            "percent",
            util,
            Some(mon.pool_utilization.value * 100.0),
        ));
    }
    let waiting = match ex {
        Exporter::Cnpg => "cnpg_pgbouncer_pools_cl_waiting",
        _ => "pgbouncer_pools_client_waiting_connections",
    };
    let mut wait_targets = vec![(
        selector(waiting, Some(job), &[]),
        "PgBouncer {{database}}/{{user}} {{instance}}".to_string(),
    )];
    if seed {
        wait_targets.push((
            "sqlalchemy_pool_waiters".to_string(),
            "app {{pool_name}} {{instance}}".to_string(),
        ));
    }
    panels.push(panel(
        next(),
        "Connections waiting",
        "short",
        wait_targets,
        None,
    ));
    if seed {
        let q = |p: f64| {
            (
                format!(
                    "histogram_quantile({p}, sum by (pool_name, le) (rate(sqlalchemy_pool_checkout_duration_seconds_bucket[5m])))"
                ),
                format!("p{} {{{{pool_name}}}}", (p * 100.0).round()),
            )
        };
        panels.push(panel(
            next(),
            "Checkout time percentiles",
            "s",
            vec![q(0.5), q(0.95), q(0.99)],
            Some(mon.checkout_p99.value.micros() as f64 / 1e6),
        ));
    }
    let maxwait = match ex {
        Exporter::Cnpg => format!(
            "{} + {} / 1000000",
            selector("cnpg_pgbouncer_pools_maxwait", Some(job), &[]),
            selector("cnpg_pgbouncer_pools_maxwait_us", Some(job), &[])
        ),
        _ => selector("pgbouncer_pools_client_maxwait_seconds", Some(job), &[]),
    };
    panels.push(panel(
        next(),
        "PgBouncer maxwait (oldest waiting client)",
        "s",
        vec![(maxwait, "{{database}}/{{user}} {{instance}}".into())],
        Some(mon.maxwait.value.micros() as f64 / 1e6),
    ));
    let servers = Measure {
        terms: series::server_terms(stack, mon),
        select: vec![],
        aggregate: Aggregate::None,
    };
    let clients = match ex {
        Exporter::Cnpg => "cnpg_pgbouncer_pools_cl_active",
        _ => "pgbouncer_pools_client_active_connections",
    };
    panels.push(panel(
        next(),
        "PgBouncer pools: server and client connections",
        "short",
        vec![
            (
                sum_expr(&servers, job),
                "servers {{database}}/{{user}} {{instance}}".into(),
            ),
            (
                selector(clients, Some(job), &[]),
                "clients {{database}}/{{user}} {{instance}}".into(),
            ),
        ],
        None,
    ));
    // Time clients spent waiting for a server, per second: the stats counters, whose names
    // depend on the exporter (and on prometheus-community's version: `_totals_` from 0.11.0).
    let wait_rate = match ex {
        Exporter::PrometheusCommunity if mon.legacy_stats_names() => format!(
            "rate({}[5m])",
            selector("pgbouncer_stats_client_wait_seconds_total", Some(job), &[])
        ),
        Exporter::PrometheusCommunity => format!(
            "rate({}[5m])",
            selector(
                "pgbouncer_stats_totals_client_wait_seconds_total",
                Some(job),
                &[]
            )
        ),
        Exporter::Spreaker => format!(
            "rate({}[5m]) / 1000000",
            selector(
                "pgbouncer_stats_waiting_duration_microseconds_total",
                Some(job),
                &[]
            )
        ),
        Exporter::Cnpg => format!(
            "rate({}[5m]) / 1000000",
            selector("cnpg_pgbouncer_stats_total_wait_time", Some(job), &[])
        ),
    };
    panels.push(panel(
        next(),
        "PgBouncer client wait time (seconds waited per second)",
        "s",
        vec![(wait_rate, "{{database}} {{instance}}".into())],
        None,
    ));
    if seed {
        panels.push(panel(
            next(),
            "App pool invalidations",
            "ops",
            vec![(
                "rate(sqlalchemy_pool_invalidations_total[5m])".into(),
                "{{pool_name}} {{instance}}".into(),
            )],
            None,
        ));
    }
    let dashboard = json!({
        "title": format!("poolstack {}", stack.name.value),
        "uid": uid(&stack.name.value),
        "tags": ["poolstack", "pgbouncer"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": true,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": [{
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        }]},
        "annotations": {"list": []},
        "panels": panels,
    });
    let mut text = serde_json::to_string_pretty(&dashboard).unwrap_or_default();
    text.push('\n');
    text
}

/// A stable dashboard uid from the stack name (Grafana: at most 40 characters).
fn uid(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(30)
        .collect();
    format!("poolstack-{slug}")
}

/// JSON has no comments: the generated-by line and checksum go in a `__poolstack` field on the
/// second line, over the text after it, so `render --check` notices hand edits as in other files.
pub fn with_header(manifest: &str, stack: &str, body: &str) -> String {
    let rest = body.strip_prefix("{\n").unwrap_or(body);
    let note = format!(
        "Generated by poolstack from {manifest} (stack \"{stack}\"). Do not edit: change the manifest and run `poolstack render`. poolstack-checksum: sha256:{}",
        checksum(rest)
    );
    let note = serde_json::to_string(&note).unwrap_or_default();
    format!("{{\n  \"__poolstack\": {note},\n{rest}")
}

#[cfg(test)]
mod tests {
    use crate::formats::header::{HeaderState, inspect};

    #[test]
    fn the_json_header_field_detects_hand_edits() {
        let body = "{\n  \"title\": \"x\",\n  \"panels\": []\n}\n";
        let text = super::with_header("../stack.toml", "s", body);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            parsed["__poolstack"]
                .as_str()
                .unwrap()
                .contains("../stack.toml")
        );
        assert_eq!(inspect(&text), HeaderState::Intact);
        assert_eq!(
            inspect(&text.replace("\"x\"", "\"y\"")),
            HeaderState::Edited
        );
    }

    #[test]
    fn app_panels_only_for_sqlalchemy_apps() {
        let sqla = format!("{}\n[monitoring]\n", crate::rules::testing::HEALTHY);
        let body = |toml: &str| {
            let stack = crate::rules::testing::stack(toml);
            let mon = stack.monitoring.as_ref().expect("[monitoring]");
            super::body(&stack, mon)
        };
        let with_app = body(&sqla);
        assert!(
            with_app.contains("sqlalchemy_pool_checked_out"),
            "{with_app}"
        );
        assert!(with_app.contains("100 * "), "{with_app}");
        // A Django app exports none of the seed's SQLAlchemy metrics: no panel divides by a
        // SQLAlchemy pool it does not have.
        let django = sqla.replace(
            "pool_size = 5\nmax_overflow = 5\npre_ping = true\n",
            "kind = \"django\"\n",
        );
        assert!(django.contains("kind = \"django\""));
        let without = body(&django);
        assert!(!without.contains("sqlalchemy_pool"), "{without}");
    }
}
