//! `[[apps]]` of kind sqlalchemy: the typed keys (driver, pool, prepared statements), each
//! checked against the driver.

use super::Ctx;
use crate::defaults as d;
use crate::diag::{Diagnostic, InputError, Severity};
use crate::manifest::{AppEntry, Driver, PoolMode, PrepareThreshold, Recycle};
use crate::stack::{App, Origin, Setting, SqlAlchemyApp};

/// The typed settings of a SQLAlchemy app, with the driver-specific keys checked against the
/// driver.
pub(super) fn settings(
    cx: &Ctx<'_>,
    n: usize,
    a: &AppEntry,
    pool_mode: Option<&Setting<PoolMode>>,
) -> Result<SqlAlchemyApp, InputError> {
    let i = n.to_string();
    let p = |k: &str| cx.origin(&["apps", &i, k]);
    let driver = cx.pick(
        &["apps", &i, "driver"],
        a.driver,
        Driver::Psycopg,
        "poolstack's default",
    );
    if a.prepare_threshold.is_some() && driver.value != Driver::Psycopg {
        return Err(cx
            .input_error(
                &["apps", &i, "prepare_threshold"],
                true,
                format!(
                    "`prepare_threshold` is a psycopg setting, but app `{}` uses {}",
                    a.name,
                    driver.value.as_str()
                ),
            )
            .with_help(if driver.value == Driver::Asyncpg {
                "asyncpg's prepared statements are controlled by `statement_cache_size`"
            } else {
                "psycopg2 never prepares statements: remove the key"
            }));
    }
    if a.statement_cache_size.is_some() && driver.value != Driver::Asyncpg {
        return Err(cx
            .input_error(
                &["apps", &i, "statement_cache_size"],
                true,
                format!(
                    "`statement_cache_size` is an asyncpg setting, but app `{}` uses {}",
                    a.name,
                    driver.value.as_str()
                ),
            )
            .with_help("psycopg's prepared statements are controlled by `prepare_threshold`"));
    }
    let prepare_threshold = (driver.value == Driver::Psycopg).then(|| {
        cx.pick(
            &["apps", &i, "prepare_threshold"],
            a.prepare_threshold,
            PrepareThreshold::Disabled,
            "poolstack's default (psycopg's own is 5, which fails behind transaction pooling)",
        )
    });
    let statement_cache_size =
        (driver.value == Driver::Asyncpg).then(|| match a.statement_cache_size {
            Some(v) => Setting::new(v, p("statement_cache_size")),
            None => match pool_mode {
                Some(mode) if mode.value != PoolMode::Session => Setting::new(
                    0,
                    Origin::Derived {
                        formula: format!("0 behind PgBouncer's {} pooling", mode.value.as_str()),
                        inputs: mode.loc().cloned().into_iter().collect(),
                    },
                ),
                _ => Setting::new(
                    d::ASYNCPG_STATEMENT_CACHE_SIZE,
                    Origin::Default("asyncpg's own"),
                ),
            },
        });
    Ok(SqlAlchemyApp {
        driver,
        libpq: cx.opt(&["apps", &i, "libpq"], a.libpq),
        pool_size: cx.pick(
            &["apps", &i, "pool_size"],
            a.pool_size,
            d::APP_POOL_SIZE,
            "SQLAlchemy's default",
        ),
        max_overflow: cx.pick(
            &["apps", &i, "max_overflow"],
            a.max_overflow,
            d::APP_MAX_OVERFLOW,
            "SQLAlchemy's default",
        ),
        pool_timeout: cx.pick(
            &["apps", &i, "pool_timeout"],
            a.pool_timeout.map(|x| x.0),
            d::APP_POOL_TIMEOUT,
            "SQLAlchemy's default",
        ),
        pool_recycle: cx.pick(
            &["apps", &i, "pool_recycle"],
            a.pool_recycle,
            Recycle::Never,
            "SQLAlchemy's default (never)",
        ),
        pre_ping: cx.pick(
            &["apps", &i, "pre_ping"],
            a.pre_ping,
            d::APP_PRE_PING,
            "SQLAlchemy's default",
        ),
        prepare_threshold,
        statement_cache_size,
        connect_timeout: cx.pick(
            &["apps", &i, "connect_timeout"],
            a.connect_timeout.map(|x| x.0),
            d::APP_CONNECT_TIMEOUT,
            "poolstack's default (libpq's own waits forever)",
        ),
    })
}

/// CAT002 for a connect_timeout libpq cannot take.
pub(super) fn connect_timeouts(cx: &mut Ctx<'_>, apps: &[App]) {
    for app in apps.iter().filter_map(App::sqlalchemy) {
        // libpq's connect_timeout is whole seconds: "600ms" would become 0, which waits forever.
        if app.driver.value != Driver::Asyncpg && app.connect_timeout.value.whole_secs().is_none() {
            cx.findings.push(
                Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    format!(
                        "connect_timeout = {} does not convert to whole seconds, the unit of libpq's connect_timeout ({} uses libpq)",
                        app.connect_timeout.value,
                        app.driver.value.as_str()
                    ),
                )
                .at(app.connect_timeout.loc().cloned())
                .help("write whole seconds, e.g. \"2s\" (libpq truncates, and 0 means wait forever)"),
            );
        }
    }
}
