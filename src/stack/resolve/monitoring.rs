//! `[monitoring]` → [`Monitoring`]: defaults applied, values checked (exit 2 with the place),
//! every value tagged with where it came from. Self-contained: it reads only the loaded manifest.

use crate::defaults as d;
use crate::diag::InputError;
use crate::manifest::{AppMetrics, Exporter, LoadedManifest, path};
use crate::stack::monitoring::{ExporterVersion, Monitoring};
use crate::stack::{Origin, Setting};
use std::collections::BTreeMap;

fn origin(m: &LoadedManifest, parts: &[&str]) -> Origin {
    match m.loc(&path(parts)) {
        Some(loc) => Origin::Manifest(loc),
        None => Origin::Default("written without a place"),
    }
}

fn pick<T>(
    m: &LoadedManifest,
    key: &str,
    value: Option<T>,
    default: T,
    why: &'static str,
) -> Setting<T> {
    match value {
        Some(v) => Setting::new(v, origin(m, &["monitoring", key])),
        None => Setting::new(default, Origin::Default(why)),
    }
}

fn error(m: &LoadedManifest, parts: &[&str], message: String, help: &str) -> InputError {
    let err = match m.loc(&path(parts)) {
        Some(loc) => InputError::located(message, loc, &m.sources),
        None => InputError::new(message),
    };
    err.with_help(help.to_string())
}

/// The resolved `[monitoring]` table; `None` when the manifest has none (nothing is rendered).
pub(super) fn resolve_monitoring(m: &LoadedManifest) -> Result<Option<Monitoring>, InputError> {
    let Some(t) = &m.manifest.monitoring else {
        return Ok(None);
    };
    let exporter = pick(
        m,
        "exporter",
        t.exporter,
        Exporter::PrometheusCommunity,
        "poolstack's default exporter",
    );
    let exporter_version = match &t.exporter_version {
        None => None,
        Some(text) => {
            let at = ["monitoring", "exporter_version"];
            if exporter.value != Exporter::PrometheusCommunity {
                return Err(error(
                    m,
                    &at,
                    format!(
                        "exporter_version applies to the prometheus-community exporter, not {}",
                        exporter.value.as_str()
                    ),
                    "remove exporter_version, or set exporter = \"prometheus-community\"",
                ));
            }
            let v = ExporterVersion::parse(text).ok_or_else(|| {
                error(
                    m,
                    &at,
                    format!("exporter_version {text:?} is not a version"),
                    "write the exporter's release, e.g. \"0.12.1\"",
                )
            })?;
            if v < ExporterVersion(0, 4, 0) {
                return Err(error(
                    m,
                    &at,
                    format!(
                        "exporter_version {v}: poolstack's rules need 0.4.0 or later (SHOW LISTS series)"
                    ),
                    "upgrade the exporter, or write the version you run if it is newer",
                ));
            }
            Some(Setting::new(v, origin(m, &at)))
        }
    };
    let job = pick(
        m,
        "job",
        t.job.clone(),
        d::MONITORING_JOB.to_string(),
        "poolstack's default job",
    );
    if job.value.trim().is_empty() {
        return Err(error(
            m,
            &["monitoring", "job"],
            "job is empty: rules select PgBouncer's series by job".into(),
            "write the job_name of the Prometheus scrape config, e.g. \"pgbouncer\"",
        ));
    }
    let ratio = |key: &str, v: Option<f64>, default: f64| -> Result<Setting<f64>, InputError> {
        if let Some(x) = v
            && !(x.is_finite() && x >= 0.0)
        {
            return Err(error(
                m,
                &["monitoring", key],
                format!("{key} = {x} is not a share: it is a number from 0 to 1"),
                "write e.g. 0.9 for 90 %",
            ));
        }
        Ok(pick(m, key, v, default, "the seed's threshold"))
    };
    let pool_utilization = ratio(
        "pool_utilization",
        t.pool_utilization,
        d::MONITORING_POOL_UTILIZATION,
    )?;
    let saturation = ratio("saturation", t.saturation, d::MONITORING_SATURATION)?;
    let buckets = match &t.checkout_buckets {
        None => Setting::new(
            d::MONITORING_CHECKOUT_BUCKETS.to_vec(),
            Origin::Default("prometheus_client's default buckets"),
        ),
        Some(b) => {
            let ok = !b.is_empty()
                && b.iter().all(|x| x.is_finite() && *x > 0.0)
                && b.windows(2).all(|w| w[0] < w[1]);
            if !ok {
                return Err(error(
                    m,
                    &["monitoring", "checkout_buckets"],
                    "checkout_buckets must be positive numbers of seconds in ascending order"
                        .into(),
                    "copy the `buckets` of the apps' checkout-duration histogram, e.g. [0.1, 0.5, 1, 5]",
                ));
            }
            Setting::new(b.clone(), origin(m, &["monitoring", "checkout_buckets"]))
        }
    };
    let mut pool_names = BTreeMap::new();
    for (i, app) in m.manifest.apps.iter().enumerate() {
        let idx = i.to_string();
        let at = ["apps", idx.as_str(), "metrics_pool_name"];
        let setting = match &app.metrics_pool_name {
            Some(n) if n.trim().is_empty() => {
                return Err(error(
                    m,
                    &at,
                    "metrics_pool_name is empty".into(),
                    "write the pool_name label the app's metrics carry, or leave it out",
                ));
            }
            Some(n) => Setting::new(n.clone(), origin(m, &at)),
            None => Setting::new(app.name.clone(), Origin::Default("the app's name")),
        };
        pool_names.insert(app.name.clone(), setting);
    }
    Ok(Some(Monitoring {
        exporter,
        exporter_version,
        job,
        pool_utilization,
        saturation,
        maxwait: pick(
            m,
            "maxwait",
            t.maxwait.map(|x| x.0),
            d::MONITORING_MAXWAIT,
            "the seed's threshold",
        ),
        checkout_p99: pick(
            m,
            "checkout_p99",
            t.checkout_p99.map(|x| x.0),
            d::MONITORING_CHECKOUT_P99,
            "the seed's threshold",
        ),
        app_metrics: pick(
            m,
            "app_metrics",
            t.app_metrics,
            AppMetrics::Seed,
            "the seed's metric names",
        ),
        checkout_buckets: buckets,
        pool_names,
        loc: m
            .key_loc(&path(&["monitoring"]))
            .or_else(|| m.loc(&path(&["monitoring"]))),
    }))
}
