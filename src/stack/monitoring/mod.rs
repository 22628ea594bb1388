//! The resolved `[monitoring]` table, and the alerts the stack implies ([`alerts::plan`]): which
//! alert watches what, with a threshold taken from the stack's own limits and the setting it
//! came from. Renderers spell these for an exporter; rules (MON) judge them.

pub mod alerts;
pub mod thresholds;

use super::Setting;
use crate::manifest::{AppMetrics, Exporter};
use crate::units::Duration;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Monitoring {
    pub exporter: Setting<Exporter>,
    /// prometheus-community's declared version, where given.
    pub exporter_version: Option<Setting<ExporterVersion>>,
    pub job: Setting<String>,
    pub pool_utilization: Setting<f64>,
    pub saturation: Setting<f64>,
    pub maxwait: Setting<Duration>,
    pub checkout_p99: Setting<Duration>,
    pub app_metrics: Setting<AppMetrics>,
    /// Upper bounds in seconds, ascending.
    pub checkout_buckets: Setting<Vec<f64>>,
    /// Each app's `pool_name` label, by app name.
    pub pool_names: BTreeMap<String, Setting<String>>,
    /// The `[monitoring]` table itself, for findings about defaults.
    pub loc: Option<crate::source::Loc>,
}

/// A prometheus-community exporter version (major.minor.patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExporterVersion(pub u32, pub u32, pub u32);

impl ExporterVersion {
    pub fn parse(text: &str) -> Option<ExporterVersion> {
        let t = text.trim().trim_start_matches('v');
        let mut parts = t.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(ExporterVersion(major, minor, patch))
    }
}

impl std::fmt::Display for ExporterVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Monitoring {
    /// prometheus-community before 0.11.0 names its stats `pgbouncer_stats_*` (not `_totals_`).
    pub fn legacy_stats_names(&self) -> bool {
        self.exporter.value == Exporter::PrometheusCommunity
            && self
                .exporter_version
                .as_ref()
                .is_some_and(|v| v.value < ExporterVersion(0, 11, 0))
    }

    /// The `pool_name` label of an app's metrics.
    pub fn pool_name<'a>(&'a self, app: &'a str) -> &'a str {
        self.pool_names
            .get(app)
            .map(|s| s.value.as_str())
            .unwrap_or(app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exporter_versions_parse_and_order() {
        assert_eq!(
            ExporterVersion::parse("v0.10.2"),
            Some(ExporterVersion(0, 10, 2))
        );
        assert_eq!(
            ExporterVersion::parse("0.11"),
            Some(ExporterVersion(0, 11, 0))
        );
        assert_eq!(ExporterVersion::parse("0.x"), None);
        assert_eq!(ExporterVersion::parse("1.2.3.4"), None);
        assert!(ExporterVersion(0, 10, 2) < ExporterVersion(0, 11, 0));
    }
}
