//! How each [`Watch`] is measured with the chosen exporter's series (facts.md §1, §2, §4): the
//! metric names, the labels to select by, and the aggregation. The PromQL and the promtool test
//! inputs are both built from this one description, so a test can only feed series the rule reads.

use crate::manifest::Exporter;
use crate::stack::Stack;
use crate::stack::monitoring::Monitoring;
use crate::stack::monitoring::alerts::Watch;

/// A sum of gauges (each divided by its `divisor`), selected by job plus `select`, optionally
/// aggregated.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    pub terms: Vec<(String, f64)>,
    pub select: Vec<(&'static str, String)>,
    pub aggregate: Aggregate,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Aggregate {
    None,
    /// `sum without (database, user)`: one value per scraped PgBouncer.
    WithoutPool,
    /// `sum by (job, instance, <label>)`.
    By(&'static str),
}

/// A Watch as the exporter sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// `<measure> <op> <threshold>`.
    Compare {
        measure: Measure,
        op: &'static str,
        threshold: f64,
    },
    /// `<up metric> == <down value> or up == 0`.
    Down { metric: &'static str, down: f64 },
    /// `sqlalchemy_pool_checked_out / capacity > ratio`.
    Ratio {
        measure: Measure,
        capacity: u64,
        ratio: f64,
    },
    /// p99 of a histogram over 5m above `seconds`.
    Quantile {
        histogram: &'static str,
        select: Vec<(&'static str, String)>,
        seconds: f64,
    },
}

fn g(name: &str) -> (String, f64) {
    (name.to_string(), 1.0)
}

/// Server connections counted against a pool's size: every state PgBouncer counts
/// (facts.md §0: active+idle+used+tested+login+active_cancel+being_canceled), as far as the
/// exporter exports them.
pub fn server_terms(stack: &Stack, mon: &Monitoring) -> Vec<(String, f64)> {
    match mon.exporter.value {
        Exporter::PrometheusCommunity => {
            let mut t: Vec<_> = ["active", "idle", "used", "testing", "login"]
                .iter()
                .map(|s| g(&format!("pgbouncer_pools_server_{s}_connections")))
                .collect();
            // The cancel states exist from exporter 0.8.0 on PgBouncer ≥ 1.18; a term whose
            // series is absent would empty the whole sum.
            let exporter_ok = mon
                .exporter_version
                .as_ref()
                .is_none_or(|v| v.value >= crate::stack::monitoring::ExporterVersion(0, 8, 0));
            let pgb_ok = stack
                .pgbouncer
                .as_ref()
                .and_then(|b| b.release())
                .is_some_and(|r| r >= crate::catalog::pgbouncer::PgbVersion::new(1, 18));
            if exporter_ok && pgb_ok {
                t.push(g("pgbouncer_pools_server_active_cancel_connections"));
                t.push(g("pgbouncer_pools_server_being_canceled_connections"));
            }
            t
        }
        Exporter::Spreaker => ["active", "idle", "used", "testing", "login"]
            .iter()
            .map(|s| g(&format!("pgbouncer_pools_server_{s}_connections")))
            .collect(),
        Exporter::Cnpg => [
            "sv_active",
            "sv_active_cancel",
            "sv_wait_cancels",
            "sv_idle",
            "sv_used",
            "sv_tested",
            "sv_login",
        ]
        .iter()
        .map(|s| g(&format!("cnpg_pgbouncer_pools_{s}")))
        .collect(),
    }
}

fn pools(name: &str, exporter: Exporter) -> String {
    match exporter {
        Exporter::Cnpg => format!("cnpg_pgbouncer_pools_{name}"),
        _ => format!("pgbouncer_pools_{name}"),
    }
}

pub fn probe(stack: &Stack, mon: &Monitoring, watch: &Watch) -> Probe {
    let ex = mon.exporter.value;
    let measure =
        |terms: Vec<(String, f64)>, select: Vec<(&'static str, String)>, aggregate| Measure {
            terms,
            select,
            aggregate,
        };
    let cmp = |measure, op, threshold| Probe::Compare {
        measure,
        op,
        threshold,
    };
    match watch {
        Watch::Down => match ex {
            Exporter::Cnpg => Probe::Down {
                metric: "cnpg_pgbouncer_last_collection_error",
                down: 1.0,
            },
            _ => Probe::Down {
                metric: "pgbouncer_up",
                down: 0.0,
            },
        },
        Watch::ClientsWaiting => {
            let name = match ex {
                Exporter::Cnpg => pools("cl_waiting", ex),
                _ => pools("client_waiting_connections", ex),
            };
            cmp(measure(vec![g(&name)], vec![], Aggregate::None), ">", 0.0)
        }
        Watch::MaxWait { seconds } => {
            let terms = match ex {
                Exporter::Cnpg => vec![g(&pools("maxwait", ex)), (pools("maxwait_us", ex), 1e6)],
                _ => vec![g("pgbouncer_pools_client_maxwait_seconds")],
            };
            cmp(measure(terms, vec![], Aggregate::None), ">", *seconds)
        }
        Watch::PoolSaturated {
            database,
            user,
            at_least,
        } => cmp(
            measure(
                server_terms(stack, mon),
                vec![("database", database.clone()), ("user", user.clone())],
                Aggregate::None,
            ),
            ">=",
            *at_least as f64,
        ),
        Watch::DatabaseNearLimit { database, at_least } => {
            let m = match ex {
                // Go: `database` is the backend dbname; `name` is PgBouncer's (facts.md §1).
                Exporter::PrometheusCommunity => measure(
                    vec![g("pgbouncer_databases_current_connections")],
                    vec![("name", database.clone())],
                    Aggregate::None,
                ),
                Exporter::Spreaker => measure(
                    vec![g("pgbouncer_databases_database_current_connections")],
                    vec![("database", database.clone())],
                    Aggregate::None,
                ),
                // CNPG exports no SHOW DATABASES: count the database's pools.
                Exporter::Cnpg => measure(
                    server_terms(stack, mon),
                    vec![("database", database.clone())],
                    Aggregate::By("database"),
                ),
            };
            cmp(m, ">=", *at_least as f64)
        }
        Watch::UserNearLimit { user, at_least } => cmp(
            measure(
                server_terms(stack, mon),
                vec![("user", user.clone())],
                Aggregate::By("user"),
            ),
            ">=",
            *at_least as f64,
        ),
        Watch::ClientsNearLimit { at_least } => {
            let m = match ex {
                Exporter::PrometheusCommunity => {
                    measure(vec![g("pgbouncer_used_clients")], vec![], Aggregate::None)
                }
                Exporter::Spreaker => measure(
                    vec![
                        g("pgbouncer_pools_client_active_connections"),
                        g("pgbouncer_pools_client_waiting_connections"),
                    ],
                    vec![],
                    Aggregate::WithoutPool,
                ),
                Exporter::Cnpg => measure(
                    vec![g("cnpg_pgbouncer_lists_used_clients")],
                    vec![],
                    Aggregate::None,
                ),
            };
            cmp(m, ">=", *at_least as f64)
        }
        Watch::AppUtilization {
            pool_name,
            capacity,
            ratio,
        } => Probe::Ratio {
            measure: measure(
                vec![g("sqlalchemy_pool_checked_out")],
                vec![("pool_name", pool_name.clone())],
                Aggregate::None,
            ),
            capacity: *capacity,
            ratio: *ratio,
        },
        Watch::AppWaiters { pool_name } => cmp(
            measure(
                vec![g("sqlalchemy_pool_waiters")],
                vec![("pool_name", pool_name.clone())],
                Aggregate::None,
            ),
            ">",
            0.0,
        ),
        Watch::AppCheckoutSlow { pool_name, seconds } => Probe::Quantile {
            histogram: "sqlalchemy_pool_checkout_duration_seconds_bucket",
            select: vec![("pool_name", pool_name.clone())],
            seconds: *seconds,
        },
    }
}

/// Is this watch about the apps (selected by pool_name, not by the PgBouncer job)?
pub fn is_app(watch: &Watch) -> bool {
    matches!(
        watch,
        Watch::AppUtilization { .. } | Watch::AppWaiters { .. } | Watch::AppCheckoutSlow { .. }
    )
}
