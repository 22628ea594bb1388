//! `poolstack explain apps.NAME.KEY`: an app's keys, common or of its kind.

use super::entries::{no_entry, no_key, split};
use super::{Cx, Found};
use crate::diag::InputError;
use crate::manifest::{PrepareThreshold, Recycle};
use crate::stack::{App, SqlAlchemyApp};

/// The keys of a SQLAlchemy app (and `metrics_pool_name`, which [monitoring] derives).
const APP_KEYS: &[&str] = &[
    "name",
    "replicas",
    "processes",
    "driver",
    "libpq",
    "database",
    "user",
    "password_env",
    "pool_size",
    "max_overflow",
    "pool_timeout",
    "pool_recycle",
    "pre_ping",
    "prepare_threshold",
    "statement_cache_size",
    "connect_timeout",
    "env_file",
    "settings_file",
    "metrics_pool_name",
];

pub(super) fn app(cx: &Cx<'_>, rest: &str) -> Result<Found, InputError> {
    let names = || cx.stack.apps.iter().map(|a| a.name.value.clone());
    let Some((entry, key)) = split(rest, names()) else {
        return Err(no_entry("apps", rest, names().collect()));
    };
    let Some(a) = cx.stack.apps.iter().find(|a| a.name.value == entry) else {
        return Err(no_entry("apps", rest, names().collect()));
    };
    let name = format!("apps.{entry}.{key}");
    let n = name.as_str();
    // A kind's own settings (`crate::apps`), as the framework names them.
    if let Some(s) = a.fw().get(key) {
        return Ok(Found::new(n, s.value.to_string(), s.origin.clone()));
    }
    if key == "kind" {
        return Ok(Found::new(n, a.kind().name(), a.kind.origin.clone()));
    }
    if let Some(found) = common(cx, a, n, &entry, key) {
        return Ok(found);
    }
    match a.sqlalchemy() {
        Some(s) => sqlalchemy(s, n, &entry, key),
        None => {
            // A key of the kind with no default, left out: the framework's own behaviour applies.
            if let Some(def) = a.kind().keys().iter().find(|k| k.name == key) {
                return Ok(Found::unset(
                    n,
                    format!(
                        "not set: {} (left to the {} app itself)",
                        def.doc.trim_end_matches('.'),
                        a.kind().name()
                    ),
                ));
            }
            // SQLAlchemy's own keys mean nothing for another kind.
            let mut keys: Vec<&str> = crate::apps::COMMON_KEYS
                .iter()
                .copied()
                .filter(|k| *k != "kind")
                .collect();
            keys.extend(["metrics_pool_name", "kind"]);
            keys.extend(a.kind().keys().iter().map(|k| k.name));
            Err(no_key("apps", &entry, key, &keys))
        }
    }
}

/// A key every app has.
fn common(cx: &Cx<'_>, a: &App, n: &str, entry: &str, key: &str) -> Option<Found> {
    Some(match key {
        "name" => Found::of(n, &a.name),
        "replicas" => Found::of(n, &a.replicas),
        "processes" => Found::of(n, &a.processes),
        "database" => Found::of(n, &a.database),
        "user" => Found::of(n, &a.user),
        "password_env" => Found::of(n, &a.password_env),
        "env_file" => Found::new(
            n,
            a.env_file.value.display().to_string(),
            a.env_file.origin.clone(),
        ),
        "settings_file" => match &a.settings_file {
            Some(f) => Found::new(n, f.value.display().to_string(), f.origin.clone()),
            _ => Found::unset(
                n,
                format!(
                    "none: a {} app reads its settings from the environment (env_file) only",
                    a.kind().name()
                ),
            ),
        },
        "metrics_pool_name" => super::monitoring::pool_name(cx, n, entry),
        _ => return None,
    })
}

/// A key of a SQLAlchemy app.
fn sqlalchemy(s: &SqlAlchemyApp, n: &str, entry: &str, key: &str) -> Result<Found, InputError> {
    let driver = s.driver.value.as_str();
    Ok(match key {
        "driver" => Found::new(n, driver, s.driver.origin.clone()),
        "libpq" => match &s.libpq {
            Some(v) => Found::of(n, v),
            None => Found::unset(
                n,
                "not declared: rules that depend on the client's libpq version stay silent",
            ),
        },
        "pool_size" => Found::of(n, &s.pool_size),
        "max_overflow" => Found::of(n, &s.max_overflow),
        "pool_timeout" => Found::of(n, &s.pool_timeout),
        "connect_timeout" => Found::of(n, &s.connect_timeout),
        "pool_recycle" => Found::new(
            n,
            match s.pool_recycle.value {
                Recycle::Never => "-1 (never)".to_string(),
                Recycle::After(d) => d.to_string(),
            },
            s.pool_recycle.origin.clone(),
        ),
        "pre_ping" => Found::of(n, &s.pre_ping),
        "prepare_threshold" => match &s.prepare_threshold {
            Some(p) => Found::new(
                n,
                match p.value {
                    PrepareThreshold::Disabled => "none".to_string(),
                    PrepareThreshold::After(k) => k.to_string(),
                },
                p.origin.clone(),
            ),
            None => Found::unset(
                n,
                format!("not used: a psycopg setting, and the app uses {driver}"),
            ),
        },
        "statement_cache_size" => match &s.statement_cache_size {
            Some(c) => Found::of(n, c),
            None => Found::unset(
                n,
                format!("not used: an asyncpg setting, and the app uses {driver}"),
            ),
        },
        _ => return Err(no_key("apps", entry, key, APP_KEYS)),
    })
}
