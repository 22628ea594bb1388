//! `monitoring.KEY`: the `[monitoring]` table's effective values and where each came from.

use super::{Cx, Found};
use crate::manifest::AppMetrics;

/// `monitoring.KEY`; `None` for a key the table does not have.
pub(super) fn key(cx: &Cx<'_>, key: &str) -> Option<Found> {
    let name = format!("monitoring.{key}");
    let n = name.as_str();
    let Some(m) = &cx.stack.monitoring else {
        return Some(Found::unset(
            n,
            "no [monitoring] table: render writes no monitoring files",
        ));
    };
    Some(match key {
        "exporter" => Found::new(n, m.exporter.value.as_str(), m.exporter.origin.clone()),
        "exporter_version" => match &m.exporter_version {
            Some(v) => Found::of(n, v),
            None => Found::unset(
                n,
                "not set: the rules use the series names of the exporter's current releases",
            ),
        },
        "job" => Found::of(n, &m.job),
        "pool_utilization" => Found::of(n, &m.pool_utilization),
        "saturation" => Found::of(n, &m.saturation),
        "maxwait" => Found::of(n, &m.maxwait),
        "checkout_p99" => Found::of(n, &m.checkout_p99),
        "app_metrics" => Found::new(
            n,
            match m.app_metrics.value {
                AppMetrics::Seed => "seed",
                AppMetrics::None => "none",
            },
            m.app_metrics.origin.clone(),
        ),
        "checkout_buckets" => Found::new(
            n,
            m.checkout_buckets
                .value
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            m.checkout_buckets.origin.clone(),
        ),
        _ => return None,
    })
}

/// `apps.NAME.metrics_pool_name`: the `pool_name` label the app's series carry.
pub(super) fn pool_name(cx: &Cx<'_>, name: &str, app: &str) -> Found {
    match cx
        .stack
        .monitoring
        .as_ref()
        .and_then(|m| m.pool_names.get(app))
    {
        Some(s) => Found::of(name, s),
        None => Found::unset(
            name,
            "not used: no [monitoring] table, so no alert selects this app's series",
        ),
    }
}
