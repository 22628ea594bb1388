//! The alerts a stack implies: one per thing worth waking someone for, each threshold taken from
//! the stack's own limits (per pool: its effective pool size + reserve; per database:
//! max_db_connections; per instance: max_client_conn; per app: pool_size + max_overflow) and
//! worded with the setting it came from. No ratio over a limit that can be 0: an alert whose
//! limit is 0 (unlimited) or unknown is left out, and says why ([`Omitted`], MON002).

use super::Monitoring;
use super::thresholds::pct;
pub use super::thresholds::{at_least, pool_size, sourced};
use crate::diag::Severity;
use crate::manifest::AppMetrics;
use crate::source::Loc;
use crate::stack::Stack;

/// What an alert compares, exporter-neutral. The renderer spells each for the chosen exporter.
#[derive(Debug, Clone, PartialEq)]
pub enum Watch {
    /// The exporter cannot reach PgBouncer, or Prometheus cannot reach the exporter.
    Down,
    /// Any client of any pool waits for a server connection (> 0).
    ClientsWaiting,
    /// The oldest waiting client has waited more than `seconds`.
    MaxWait { seconds: f64 },
    /// Server connections of one (database, user) pool ≥ `at_least`.
    PoolSaturated {
        database: String,
        user: String,
        at_least: u64,
    },
    /// Server connections of one database (all users) ≥ `at_least`.
    DatabaseNearLimit { database: String, at_least: u64 },
    /// Server connections of one user (all databases) ≥ `at_least`.
    UserNearLimit { user: String, at_least: u64 },
    /// Client connections of one PgBouncer process ≥ `at_least`.
    ClientsNearLimit { at_least: u64 },
    /// An app pool's checked-out connections ÷ `capacity` > `ratio`.
    AppUtilization {
        pool_name: String,
        capacity: u64,
        ratio: f64,
    },
    /// Any thread of the app waits for a pooled connection.
    AppWaiters { pool_name: String },
    /// The app's p99 checkout time is above `seconds`.
    AppCheckoutSlow { pool_name: String, seconds: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub name: &'static str,
    pub watch: Watch,
    pub severity: Severity,
    /// The `for:` duration in minutes (at most 10).
    pub for_minutes: u32,
    /// What the threshold is and where it came from, for the annotations.
    pub threshold: String,
    /// Where a finding about this alert should point.
    pub loc: Option<Loc>,
}

/// An alert the stack cannot give a threshold to.
#[derive(Debug, Clone, PartialEq)]
pub struct Omitted {
    pub name: &'static str,
    pub why: String,
    pub loc: Option<Loc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub alerts: Vec<Alert>,
    pub omitted: Vec<Omitted>,
}

/// The alerts `stack` implies under `mon`.
pub fn plan(stack: &Stack, mon: &Monitoring) -> Plan {
    let mut p = Plan::default();
    let sat = mon.saturation.value;
    let mon_loc = mon.saturation.loc().cloned();
    if let Some(pgb) = &stack.pgbouncer {
        p.alerts.push(Alert {
            name: "PgBouncerDown",
            watch: Watch::Down,
            severity: Severity::Error,
            for_minutes: 1,
            threshold: format!(
                "the exporter of job {} reports PgBouncer down, or Prometheus cannot scrape it",
                mon.job.value
            ),
            loc: mon.job.loc().cloned(),
        });
        p.alerts.push(Alert {
            name: "PgBouncerClientsWaiting",
            watch: Watch::ClientsWaiting,
            severity: Severity::Warning,
            for_minutes: 2,
            threshold: "more than 0 waiting clients (the seed's alert)".into(),
            loc: None,
        });
        p.alerts.push(Alert {
            name: "PgBouncerMaxWaitHigh",
            watch: Watch::MaxWait {
                seconds: mon.maxwait.value.micros() as f64 / 1e6,
            },
            severity: Severity::Warning,
            for_minutes: 1,
            threshold: format!("more than {}", sourced(stack, "maxwait", &mon.maxwait)),
            loc: mon.maxwait.loc().cloned(),
        });
        for pool in stack.pools() {
            let db = pool.database;
            if db.name.value == "*" {
                p.omitted.push(Omitted {
                    name: "PgBouncerPoolSaturated",
                    why: format!("the fallback database `*` (user {}) has no fixed name to select its pools by", pool.user),
                    loc: db.name.loc().cloned(),
                });
                continue;
            }
            let (size, size_text) = pool_size(stack, db, pool.user);
            let reserve = db.reserve_pool_size.value;
            let limit = u64::from(size) + u64::from(reserve);
            if limit == 0 {
                p.omitted.push(Omitted {
                    name: "PgBouncerPoolSaturated",
                    why: format!(
                        "pool {}/{} has pool size 0 ({size_text})",
                        db.name.value, pool.user
                    ),
                    loc: db.pool_size.loc().cloned(),
                });
                continue;
            }
            let reserve_label = if db.reserve_pool_size.origin == pgb.reserve_pool_size.origin {
                "reserve_pool_size".to_string()
            } else {
                format!("reserve_pool_size of database {}", db.name.value)
            };
            let n = at_least(sat, limit);
            p.alerts.push(Alert {
                name: "PgBouncerPoolSaturated",
                watch: Watch::PoolSaturated {
                    database: db.name.value.clone(),
                    user: pool.user.to_string(),
                    at_least: n,
                },
                severity: Severity::Warning,
                for_minutes: 5,
                threshold: format!(
                    "{n} server connections = {}% of {size_text} + {}",
                    pct(sat),
                    sourced(stack, &reserve_label, &db.reserve_pool_size),
                ),
                loc: db.pool_size.loc().cloned().or(mon_loc.clone()),
            });
        }
        let mut unlimited_dbs = Vec::new();
        for db in &stack.databases {
            if db.name.value == "*" {
                continue;
            }
            let limit = db.max_db_connections.value;
            if limit == 0 {
                unlimited_dbs.push(db.name.value.clone());
                continue;
            }
            let n = at_least(sat, u64::from(limit));
            let label = if db.max_db_connections.origin == pgb.max_db_connections.origin {
                "max_db_connections".to_string()
            } else {
                format!("max_db_connections of database {}", db.name.value)
            };
            p.alerts.push(Alert {
                name: "PgBouncerDatabaseConnectionsNearLimit",
                watch: Watch::DatabaseNearLimit {
                    database: db.name.value.clone(),
                    at_least: n,
                },
                severity: Severity::Warning,
                for_minutes: 5,
                threshold: format!(
                    "{n} server connections = {}% of {}",
                    pct(sat),
                    sourced(stack, &label, &db.max_db_connections)
                ),
                loc: db.max_db_connections.loc().cloned().or(mon_loc.clone()),
            });
        }
        if !unlimited_dbs.is_empty() {
            p.omitted.push(Omitted {
                name: "PgBouncerDatabaseConnectionsNearLimit",
                why: format!(
                    "max_db_connections is 0 (unlimited) for {}: there is no limit to near",
                    unlimited_dbs.join(", ")
                ),
                loc: pgb.max_db_connections.loc().cloned(),
            });
        }
        let index = stack.user_index();
        for user in stack.pool_users() {
            let own = index
                .get(user)
                .and_then(|u| u.max_user_connections.as_ref());
            let (setting, label) = match own {
                Some(s) => (s, format!("max_user_connections of user {user}")),
                None => (
                    &pgb.max_user_connections,
                    "max_user_connections".to_string(),
                ),
            };
            if setting.value == 0 {
                continue;
            }
            let n = at_least(sat, u64::from(setting.value));
            p.alerts.push(Alert {
                name: "PgBouncerUserConnectionsNearLimit",
                watch: Watch::UserNearLimit {
                    user: user.to_string(),
                    at_least: n,
                },
                severity: Severity::Warning,
                for_minutes: 5,
                threshold: format!(
                    "{n} server connections = {}% of {}",
                    pct(sat),
                    sourced(stack, &label, setting)
                ),
                loc: setting.loc().cloned().or(mon_loc.clone()),
            });
        }
        if pgb.max_client_conn.value == 0 {
            p.omitted.push(Omitted {
                name: "PgBouncerClientConnectionsNearLimit",
                why: "max_client_conn is 0: PgBouncer refuses every client".into(),
                loc: pgb.max_client_conn.loc().cloned(),
            });
        } else {
            let n = at_least(sat, u64::from(pgb.max_client_conn.value));
            p.alerts.push(Alert {
                name: "PgBouncerClientConnectionsNearLimit",
                watch: Watch::ClientsNearLimit { at_least: n },
                severity: Severity::Error,
                for_minutes: 5,
                threshold: format!(
                    "{n} client connections = {}% of {}",
                    pct(sat),
                    sourced(stack, "max_client_conn", &pgb.max_client_conn)
                ),
                loc: pgb.max_client_conn.loc().cloned().or(mon_loc.clone()),
            });
        }
    } else {
        p.omitted.push(Omitted {
            name: "PgBouncerDown",
            why: "the stack has no PgBouncer: no PgBouncer alerts".into(),
            loc: None,
        });
    }
    if mon.app_metrics.value == AppMetrics::None {
        if !stack.apps.is_empty() {
            p.omitted.push(Omitted {
                name: "SQLAlchemyPoolUtilizationHigh",
                why: "app_metrics = \"none\": the apps export no pool metrics to alert on".into(),
                loc: mon.app_metrics.loc().cloned(),
            });
        }
        return p;
    }
    for app in &stack.apps {
        // The seed's metrics are SQLAlchemy's pool metrics: other kinds export none of them.
        let Some(sqla) = app.sqlalchemy() else {
            p.omitted.push(Omitted {
                name: "SQLAlchemyPoolUtilizationHigh",
                why: format!(
                    "app {} is a {} app, which exports none of the seed's sqlalchemy_pool_* metrics (nor are SQLAlchemyPoolWaiters and SQLAlchemyCheckoutSlow rendered for it)",
                    app.name.value,
                    app.kind().name()
                ),
                loc: app.kind.loc().cloned(),
            });
            continue;
        };
        let pool_name = mon.pool_name(&app.name.value).to_string();
        if let Some(capacity) = sqla.capacity() {
            p.alerts.push(Alert {
                name: "SQLAlchemyPoolUtilizationHigh",
                watch: Watch::AppUtilization {
                    pool_name: pool_name.clone(),
                    capacity,
                    ratio: mon.pool_utilization.value,
                },
                severity: Severity::Warning,
                for_minutes: 5,
                threshold: format!(
                    "more than {}% of {capacity} = {} + {} of app {}",
                    pct(mon.pool_utilization.value),
                    sourced(stack, "pool_size", &sqla.pool_size),
                    sourced(stack, "max_overflow", &sqla.max_overflow),
                    app.name.value
                ),
                loc: mon.pool_utilization.loc().cloned(),
            });
        } else {
            p.omitted.push(Omitted {
                name: "SQLAlchemyPoolUtilizationHigh",
                why: format!(
                    "app {} has no pool capacity to divide by (pool_size {}, max_overflow {})",
                    app.name.value, sqla.pool_size.value, sqla.max_overflow.value
                ),
                loc: sqla.max_overflow.loc().cloned(),
            });
        }
        p.alerts.push(Alert {
            name: "SQLAlchemyPoolWaiters",
            watch: Watch::AppWaiters {
                pool_name: pool_name.clone(),
            },
            severity: Severity::Warning,
            for_minutes: 2,
            threshold: format!(
                "more than 0 threads waiting for a connection of app {} (the seed's alert)",
                app.name.value
            ),
            loc: None,
        });
        p.alerts.push(Alert {
            name: "SQLAlchemyCheckoutSlow",
            watch: Watch::AppCheckoutSlow {
                pool_name,
                seconds: mon.checkout_p99.value.micros() as f64 / 1e6,
            },
            severity: Severity::Warning,
            for_minutes: 5,
            threshold: format!(
                "p99 checkout above {} for app {}",
                sourced(stack, "checkout_p99", &mon.checkout_p99),
                app.name.value
            ),
            loc: mon.checkout_p99.loc().cloned(),
        });
    }
    p
}
