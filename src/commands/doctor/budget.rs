//! LIV003: server connections against the budget, active and idle apart. A pooled server
//! connection that waits idle for its next client is the pool working, not load: after a burst,
//! PgBouncer keeps its servers open (server_idle_timeout), and PostgreSQL lists them as `idle`.
//! Only active connections (running a query, or held by a transaction) warn; the summary shows
//! both.

use super::{Facts, PgFacts, PgbFacts};
use crate::diag::{Diagnostic, Severity};
use crate::report::Budget;
use crate::stack::Stack;
use crate::stack::budget::ServerConnectionBudget;

/// Server connections of PgBouncer's pools (SHOW POOLS), summed over every (database, user).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUse {
    /// sv_active + sv_active_cancel + sv_being_canceled: linked to a client.
    pub active: u64,
    /// sv_idle + sv_used + sv_tested + sv_login: open, waiting for a client.
    pub idle: u64,
}

/// SHOW POOLS, columns read by name (they vary by release); the admin console's own `pgbouncer`
/// pseudo-database is left out.
pub(super) fn show_pools(client: &mut postgres::Client) -> Result<PoolUse, postgres::Error> {
    let mut sum = PoolUse::default();
    for m in client.simple_query("SHOW POOLS")? {
        let postgres::SimpleQueryMessage::Row(r) = m else {
            continue;
        };
        if r.try_get("database").ok().flatten() == Some("pgbouncer") {
            continue;
        }
        let n = |col: &str| -> u64 {
            r.try_get(col)
                .ok()
                .flatten()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        sum.active += n("sv_active") + n("sv_active_cancel") + n("sv_being_canceled");
        sum.idle += n("sv_idle") + n("sv_used") + n("sv_tested") + n("sv_login");
    }
    Ok(sum)
}

/// Where the figures come from: PostgreSQL's pg_stat_activity when read (it also sees direct
/// connections, which the budget covers too), else PgBouncer's SHOW POOLS.
fn usage(facts: &Facts) -> Option<(u64, u64, &str)> {
    if let Some(pg) = &facts.postgres {
        let PgFacts {
            connections,
            active,
            shown,
            ..
        } = pg;
        return Some((*active, connections.saturating_sub(*active), shown));
    }
    let PgbFacts { pools, shown, .. } = facts.pgbouncer.as_ref()?;
    pools.map(|p| (p.active, p.idle, shown.as_str()))
}

/// The budget line of the summary, and LIV003 when active use reaches 75 % of it.
pub(super) fn finding(stack: &Stack, facts: &Facts, out: &mut Vec<Diagnostic>) -> Option<Budget> {
    let (active, idle, shown) = usage(facts)?;
    let b = ServerConnectionBudget::of(stack);
    let (capacity, what) = match b.total {
        Some(total) => (total, format!("the connection budget ({})", b.arithmetic)),
        None => (
            stack.postgres.client_capacity().max(0) as u64,
            "PostgreSQL's client capacity (max_connections − reserved; the budget is unbounded)"
                .to_string(),
        ),
    };
    if capacity > 0 && active * 4 >= capacity * 3 {
        out.push(
            Diagnostic::new(
                "LIV003",
                Severity::Warning,
                format!(
                    "{active} server connections active on {shown}, {} % of {what}; {idle} more open but idle in the pools",
                    active * 100 / capacity
                ),
            )
            .help("find who holds them (SELECT usename, state, count(*) FROM pg_stat_activity GROUP BY 1, 2: `idle in transaction` is an app that does not end its transactions), lower the apps' pool sizes, or raise the budget and max_connections together"),
        );
    }
    Some(Budget {
        used: active + idle,
        active,
        idle,
        capacity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{HEALTHY, stack};

    fn pg(connections: u64, active: u64) -> Facts {
        Facts {
            pgbouncer: None,
            postgres: Some(PgFacts {
                shown: "PostgreSQL at postgres@db:5432/postgres (--postgres)".into(),
                settings: Vec::new(),
                connections,
                active,
                authid: Ok(Vec::new()),
            }),
            userlist: None,
        }
    }

    fn pools(active: u64, idle: u64) -> Facts {
        Facts {
            pgbouncer: Some(PgbFacts {
                shown: "PgBouncer at admin@pgbouncer:6432/pgbouncer (--pgbouncer)".into(),
                config: Vec::new(),
                pools: Some(PoolUse { active, idle }),
            }),
            postgres: None,
            userlist: None,
        }
    }

    fn capacity() -> u64 {
        let c = ServerConnectionBudget::of(&stack(HEALTHY))
            .total
            .unwrap_or(0);
        assert!(c > 0);
        c
    }

    #[test]
    fn liv003_fires_when_active_use_reaches_three_quarters() {
        let s = stack(HEALTHY);
        let capacity = capacity();
        let busy = (capacity * 3).div_ceil(4);
        let mut out = Vec::new();
        let b = finding(&s, &pg(busy, busy), &mut out).unwrap();
        assert_eq!(
            (b.used, b.active, b.idle, b.capacity),
            (busy, busy, 0, capacity)
        );
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].code, "LIV003");
        let m = &out[0].message;
        assert!(
            m.contains(&format!("{busy} server connections active")),
            "{m}"
        );
        assert!(m.contains("of the connection budget ("), "{m}");
        // No stray figure after the arithmetic.
        assert!(m.ends_with("0 more open but idle in the pools"), "{m}");
    }

    #[test]
    fn idle_pooled_connections_are_not_load() {
        // After a burst: every server connection open, none active (SHOW POOLS sv_active 0).
        let s = stack(HEALTHY);
        let capacity = capacity();
        let mut out = Vec::new();
        let b = finding(&s, &pg(capacity, 0), &mut out).unwrap();
        assert!(out.is_empty(), "{out:#?}");
        assert_eq!((b.used, b.active, b.idle), (capacity, 0, capacity));
        let b = finding(&s, &pools(0, capacity), &mut out).unwrap();
        assert!(out.is_empty(), "{out:#?}");
        assert_eq!((b.active, b.idle), (0, capacity));
        // SHOW POOLS alone warns on its active servers.
        finding(&s, &pools(capacity, 0), &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("PgBouncer at"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn nothing_read_is_no_budget() {
        let facts = Facts {
            pgbouncer: Some(PgbFacts::default()),
            postgres: None,
            userlist: None,
        };
        assert!(finding(&stack(HEALTHY), &facts, &mut Vec::new()).is_none());
    }
}
