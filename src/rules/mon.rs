//! MON — the rendered monitoring (`[monitoring]`): alerts that cannot fire or always fire, and
//! alerts left out because the stack does not say what they need.

use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::manifest::AppMetrics;
use crate::stack::Origin;
use crate::stack::monitoring::alerts::{self, sourced};

pub const RULES: &[Rule] = &[
    Rule {
        code: "MON001",
        name: "alert-cannot-fire",
        severity: Severity::Warning,
        summary: "A rendered alert's threshold can never be reached, or is always exceeded, by the stack's own settings",
        doc: MON001_DOC,
        check: Some(alert_cannot_fire),
    },
    Rule {
        code: "MON002",
        name: "alert-input-unknown",
        severity: Severity::Info,
        summary: "An alert left out because the stack does not say what it needs",
        doc: MON002_DOC,
        check: Some(alert_input_unknown),
    },
];

const MON001_DOC: &str = "\
Checks each threshold of `[monitoring]` against the stack setting that decides whether it can be
reached: `maxwait` against PgBouncer's `query_wait_timeout` (a waiting client is dropped with
`FATAL: query_wait_timeout` when it expires, and maxwait falls back to 0, so a threshold at or
above it never fires); `checkout_p99` against each app's `pool_timeout` (SQLAlchemy gives up and
raises at pool_timeout, so no checkout takes longer) and against the largest finite bucket of the
checkout histogram (`histogram_quantile` never returns more than that bound); `saturation` of 0
(every threshold becomes the first connection: the alerts always fire) or above 1 (no pool, database
or client count reaches it, except briefly through queued cancels); `pool_utilization` of 1 or more
(checked-out connections never exceed the pool's capacity).

Why it matters: an alert that cannot fire is worse than none — the dashboard looks green while
clients are dropped; one that always fires is muted within a week.

How to fix: lower the threshold below the setting that wins (the message names it and where it
is set), or raise that setting. The published PgBouncer mixin's saturation rule, which divides by
`max_user_connections` (0 = unlimited by default), fires at the first connection for this reason.

Facts: ../reference/monitoring/facts.md §5 (published rules), §7 (wait, SQLAlchemy).";

const MON002_DOC: &str = "\
Reports each alert `render` leaves out of `monitoring/prometheus-rules.yml` because the stack
gives it no threshold: `PgBouncerDatabaseConnectionsNearLimit` where `max_db_connections` is 0
(unlimited), `PgBouncerPoolSaturated` for the fallback database `*` or a pool of size 0,
`SQLAlchemyPoolUtilizationHigh` for an app with `max_overflow = -1` or `pool_size = 0` (no
capacity to divide by), for an app of another kind than sqlalchemy (the seed's app metrics are
SQLAlchemy's pool metrics) or with `app_metrics = \"none\"`, every PgBouncer alert when the stack
has no PgBouncer.

Why it matters: poolstack never divides by a limit that can be 0 and never invents one; this says
which alerts you do not have, so that their absence is a decision.

How to fix: set the limit (e.g. `max_db_connections`) if you want the alert, or suppress MON002
for this stack with `[lint] ignore = [\"MON002\"]`.

Facts: ../reference/monitoring/facts.md §7 (0 = unlimited ⇒ emit no ratio rule).";

fn alert_cannot_fire(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(mon) = &stack.monitoring else {
        return;
    };
    let here = |s: Option<&crate::source::Loc>| s.cloned().or(mon.loc.clone());
    if let Some(pgb) = &stack.pgbouncer
        && let Some(qwt) = pgb.option_or_default("query_wait_timeout")
        && let Some(secs) = qwt.number.filter(|n| *n > 0.0)
    {
        let maxwait = mon.maxwait.value.micros() as f64 / 1e6;
        if maxwait >= secs {
            out.push(
                Diagnostic::new(
                    "MON001",
                    Severity::Warning,
                    format!(
                        "PgBouncerMaxWaitHigh can never fire: {} is not below query_wait_timeout {}s{}, which drops a waiting client first",
                        sourced(stack, "maxwait", &mon.maxwait),
                        qwt.ini_text,
                        qwt.origin.note()
                    ),
                )
                .at(here(mon.maxwait.loc()))
                .related(qwt.origin.loc().cloned(), "query_wait_timeout is set here")
                .help(format!("set maxwait below {}s, e.g. half of it", qwt.ini_text)),
            );
        }
    }
    if mon.app_metrics.value == AppMetrics::Seed {
        let p99 = mon.checkout_p99.value;
        // The seed's checkout histogram is SQLAlchemy's: other kinds export none.
        for (app, sqla) in stack
            .apps
            .iter()
            .filter_map(|a| a.sqlalchemy().map(|s| (a, s)))
        {
            if p99 >= sqla.pool_timeout.value {
                out.push(
                    Diagnostic::new(
                        "MON001",
                        Severity::Warning,
                        format!(
                            "SQLAlchemyCheckoutSlow of app {} can never fire: {} is not below its pool_timeout {}{}, when SQLAlchemy gives up the checkout",
                            app.name.value,
                            sourced(stack, "checkout_p99", &mon.checkout_p99),
                            sqla.pool_timeout.value,
                            sqla.pool_timeout.origin.note()
                        ),
                    )
                    .at(here(mon.checkout_p99.loc()))
                    .related(sqla.pool_timeout.loc().cloned(), "pool_timeout is set here")
                    .help("set checkout_p99 well below pool_timeout"),
                );
            }
        }
        let top = mon.checkout_buckets.value.last().copied().unwrap_or(0.0);
        let any_sqlalchemy = stack.apps.iter().any(|a| a.sqlalchemy().is_some());
        if any_sqlalchemy && p99.micros() as f64 / 1e6 >= top {
            out.push(
                Diagnostic::new(
                    "MON001",
                    Severity::Warning,
                    format!(
                        "SQLAlchemyCheckoutSlow can never fire: {} is not below the histogram's largest finite bucket, {}s ({}), the most histogram_quantile returns",
                        sourced(stack, "checkout_p99", &mon.checkout_p99),
                        top,
                        match &mon.checkout_buckets.origin {
                            Origin::Default(why) => (*why).to_string(),
                            o => format!("checkout_buckets at {}", o.describe(&stack.sources)),
                        }
                    ),
                )
                .at(here(mon.checkout_p99.loc()))
                .help("lower checkout_p99, or add larger buckets to the apps' histogram and list them in checkout_buckets"),
            );
        }
        if mon.pool_utilization.value >= 1.0 && !stack.apps.is_empty() {
            out.push(
                Diagnostic::new(
                    "MON001",
                    Severity::Warning,
                    format!(
                        "SQLAlchemyPoolUtilizationHigh can never fire: {} — checked-out connections never exceed pool_size + max_overflow",
                        sourced(stack, "pool_utilization", &mon.pool_utilization)
                    ),
                )
                .at(here(mon.pool_utilization.loc()))
                .help("write a share below 1, e.g. 0.75"),
            );
        }
    }
    if stack.pgbouncer.is_some() {
        let sat = mon.saturation.value;
        let problem = if sat == 0.0 {
            Some("always fire: a threshold of 0 connections is rounded up to the first connection")
        } else if sat > 1.0 {
            Some("never fire: their thresholds are above the limits PgBouncer enforces")
        } else {
            None
        };
        if let Some(problem) = problem {
            out.push(
                Diagnostic::new(
                    "MON001",
                    Severity::Warning,
                    format!(
                        "the saturation alerts (PgBouncerPoolSaturated, …NearLimit) {problem} ({})",
                        sourced(stack, "saturation", &mon.saturation)
                    ),
                )
                .at(here(mon.saturation.loc()))
                .help("write a share between 0 and 1, e.g. 0.9"),
            );
        }
    }
}

fn alert_input_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(mon) = &cx.stack.monitoring else {
        return;
    };
    let plan = alerts::plan(cx.stack, mon);
    for o in plan.omitted {
        out.push(
            Diagnostic::new(
                "MON002",
                Severity::Info,
                format!("{} is left out of the rendered rules: {}", o.name, o.why),
            )
            .at(o.loc.or(mon.loc.clone()))
            .help("set the limit it needs if you want the alert; otherwise nothing to do"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{healthy_with, only, run};

    const MON: &str = "\n[monitoring]\n";

    fn with(extra: &str) -> String {
        format!("{}{MON}{extra}", super::super::testing::HEALTHY)
    }

    #[test]
    fn silent_on_a_sound_monitoring_table() {
        assert!(run("MON001", &with("")).is_empty());
        assert!(run("MON002", &with("")).is_empty());
    }

    #[test]
    fn silent_without_monitoring() {
        assert!(run("MON001", super::super::testing::HEALTHY).is_empty());
        assert!(run("MON002", &healthy_with("max_db_connections = 40", "")).is_empty());
    }

    #[test]
    fn maxwait_at_or_above_query_wait_timeout_cannot_fire() {
        let toml = format!(
            "{}{MON}maxwait = \"2min\"\n",
            healthy_with(
                "max_db_connections = 40",
                "max_db_connections = 40\n[pgbouncer.settings]\nquery_wait_timeout = 60"
            )
        );
        let (_, d) = only("MON001", &toml);
        assert!(
            d.message.contains("query_wait_timeout 60s"),
            "{}",
            d.message
        );
        let below = toml.replace("maxwait = \"2min\"", "maxwait = \"30s\"");
        assert!(run("MON001", &below).is_empty());
    }

    #[test]
    fn checkout_threshold_beyond_pool_timeout_or_top_bucket_cannot_fire() {
        let found = run("MON001", &with("checkout_p99 = \"40s\"\n"));
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].message.contains("pool_timeout 30s"));
        assert!(found[1].message.contains("largest finite bucket, 10s"));
        assert!(run("MON001", &with("checkout_p99 = \"9s\"\n")).is_empty());
        let (_, d) = only(
            "MON001",
            &with("checkout_p99 = \"2s\"\ncheckout_buckets = [0.5, 1]\n"),
        );
        assert!(d.message.contains("1s"), "{}", d.message);
    }

    #[test]
    fn saturation_of_zero_or_above_one_and_full_utilization() {
        let (_, d) = only("MON001", &with("saturation = 0\n"));
        assert!(d.message.contains("always fire"));
        let (_, d) = only("MON001", &with("saturation = 1.2\n"));
        assert!(d.message.contains("never fire"));
        let (_, d) = only("MON001", &with("pool_utilization = 1\n"));
        assert!(d.message.contains("SQLAlchemyPoolUtilizationHigh"));
        assert!(run("MON001", &with("saturation = 1\npool_utilization = 0.99\n")).is_empty());
    }

    #[test]
    fn unlimited_database_and_unbounded_app_are_reported() {
        let toml = format!(
            "{}{MON}",
            healthy_with("max_db_connections = 40", "")
                .replace("max_overflow = 5", "max_overflow = -1")
        );
        let found = run("MON002", &toml);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0]
                .message
                .contains("PgBouncerDatabaseConnectionsNearLimit")
        );
        assert!(found[0].message.contains("unlimited"));
        assert!(found[1].message.contains("SQLAlchemyPoolUtilizationHigh"));
        let (_, d) = only("MON002", &with("app_metrics = \"none\"\n"));
        assert!(d.message.contains("app_metrics"));
    }

    /// HEALTHY with its app as a Django app: SQLAlchemy's keys give way to Django's.
    fn django(monitoring: &str) -> String {
        with(monitoring).replace(
            "pool_size = 5\nmax_overflow = 5\npre_ping = true\n",
            "kind = \"django\"\n",
        )
    }

    #[test]
    fn the_seed_metrics_are_sqlalchemys_only() {
        // A Django app exports no sqlalchemy_pool_* metrics: no alert on SQLAlchemy's
        // pool_timeout (it has none), and MON002 says its SQLAlchemy alerts are left out.
        let toml = django("checkout_p99 = \"40s\"\n");
        assert!(toml.contains("kind = \"django\""), "{toml}");
        let found = run("MON001", &toml);
        assert!(found.is_empty(), "{found:#?}");
        let (_, d) = only("MON002", &django(""));
        assert!(
            d.message.contains(
                "SQLAlchemyPoolUtilizationHigh is left out of the rendered rules: app api is a django app"
            ),
            "{}",
            d.message
        );
        // The same checkout_p99 on the SQLAlchemy app does fire (pool_timeout and top bucket).
        assert_eq!(run("MON001", &with("checkout_p99 = \"40s\"\n")).len(), 2);
    }
}
