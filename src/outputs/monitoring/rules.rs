//! `prometheus-rules.yml`: one alerting rule per [`Alert`], in the exporter's series.

use super::promql::{self, quoted};
use super::series::{self, Probe};
use crate::diag::Severity;
use crate::stack::Stack;
use crate::stack::monitoring::Monitoring;
use crate::stack::monitoring::alerts::{Alert, Watch};

/// An alert with everything the rules file and its tests need.
#[derive(Debug, Clone)]
pub struct Rule<'a> {
    pub alert: &'a Alert,
    pub probe: Probe,
    pub expr: String,
    /// The `job` its series carry (`None`: app series, selected by pool_name).
    pub job: Option<String>,
    pub summary: String,
    pub description: String,
}

pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

const INSTANCE: &str = "{{ $labels.instance }}";

fn summary(w: &Watch) -> String {
    match w {
        Watch::Down => format!("PgBouncer cannot be scraped on {INSTANCE}"),
        Watch::ClientsWaiting => format!(
            "Clients wait for a server connection in pool {{{{ $labels.database }}}}/{{{{ $labels.user }}}} on {INSTANCE}"
        ),
        Watch::MaxWait { .. } => format!(
            "A client of pool {{{{ $labels.database }}}}/{{{{ $labels.user }}}} has waited too long on {INSTANCE}"
        ),
        Watch::PoolSaturated { database, user, .. } => {
            format!("PgBouncer pool {database}/{user} is near its size on {INSTANCE}")
        }
        Watch::DatabaseNearLimit { database, .. } => {
            format!("Database {database} is near max_db_connections on {INSTANCE}")
        }
        Watch::UserNearLimit { user, .. } => {
            format!("User {user} is near max_user_connections on {INSTANCE}")
        }
        Watch::ClientsNearLimit { .. } => {
            format!("PgBouncer is near max_client_conn on {INSTANCE}")
        }
        Watch::AppUtilization { pool_name, .. } => {
            format!("App pool {pool_name} is nearly all checked out on {INSTANCE}")
        }
        Watch::AppWaiters { pool_name } => {
            format!("Threads wait for a connection of app pool {pool_name} on {INSTANCE}")
        }
        Watch::AppCheckoutSlow { pool_name, .. } => {
            format!("Checkouts from app pool {pool_name} are slow on {INSTANCE}")
        }
    }
}

fn advice(w: &Watch) -> &'static str {
    match w {
        Watch::Down => {
            "Check that PgBouncer and its exporter run and that the exporter can log in to the admin console."
        }
        Watch::ClientsWaiting | Watch::MaxWait { .. } => {
            "Clients queue when every server connection of the pool is busy: look for long transactions, or raise the pool size within the connection budget."
        }
        Watch::PoolSaturated { .. } => {
            "The reserve opens only after a client has waited reserve_pool_timeout; beyond it clients queue."
        }
        Watch::DatabaseNearLimit { .. } | Watch::UserNearLimit { .. } => {
            "Past the limit, every pool of it queues, whatever its own size."
        }
        Watch::ClientsNearLimit { .. } => {
            "At the limit PgBouncer refuses new clients with `no more connections allowed (max_client_conn)`."
        }
        Watch::AppUtilization { .. } | Watch::AppWaiters { .. } => {
            "When the app pool is exhausted, requests wait up to pool_timeout and then fail."
        }
        Watch::AppCheckoutSlow { .. } => {
            "Slow checkouts mean the app pool or PgBouncer makes requests wait."
        }
    }
}

pub fn rules<'a>(stack: &Stack, mon: &Monitoring, alerts: &'a [Alert]) -> Vec<Rule<'a>> {
    alerts
        .iter()
        .map(|a| {
            let probe = series::probe(stack, mon, &a.watch);
            let job = (!series::is_app(&a.watch)).then(|| mon.job.value.clone());
            Rule {
                expr: promql::expr(&probe, job.as_deref()),
                probe,
                job,
                summary: summary(&a.watch),
                description: format!("Threshold: {}. {}", a.threshold, advice(&a.watch)),
                alert: a,
            }
        })
        .collect()
}

/// The rules file body (the header is the caller's).
pub fn file(stack_name: &str, rules: &[Rule<'_>]) -> String {
    let mut out = String::from("groups:\n");
    for (group, app) in [("pgbouncer", false), ("apps", true)] {
        let members: Vec<&Rule<'_>> = rules.iter().filter(|r| r.job.is_none() == app).collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  - name: {}\n    rules:\n",
            quoted(&format!("poolstack {stack_name} {group}"))
        ));
        for r in members {
            // The selected labels again as rule labels (same values as the series'): rules of
            // one name stay distinct for `promtool check rules`' duplicate lint.
            let selected: String = super::promql::alert_labels(&r.probe, "", "")
                .into_iter()
                .filter(|(k, _)| k != "job" && k != "instance")
                .map(|(k, v)| format!("          {k}: {}\n", quoted(&v)))
                .collect();
            out.push_str(&format!(
                "      - alert: {}\n        expr: {}\n        for: {}m\n        labels:\n          severity: {}\n{selected}        annotations:\n          summary: {}\n          description: {}\n",
                r.alert.name,
                quoted(&r.expr),
                r.alert.for_minutes,
                severity(r.alert.severity),
                quoted(&r.summary),
                quoted(&r.description),
            ));
        }
    }
    out
}
