//! The server-connection budget: how many connections may reach PostgreSQL at once. CON002 and
//! CON003 compare it with the server's capacity, and max_connections is derived from it.
//!
//! With PgBouncer: over the (database, user) pools, pool_size + reserve each, capped per database
//! by max_db_connections and per user by max_user_connections (the caps include the reserve),
//! times the number of PgBouncer processes, plus the `[[clients]]` that connect directly. When both
//! kinds of cap apply, the result is the smaller of the two cut totals — an upper bound of what
//! PgBouncer can open, which is what a budget must be. Totals are computed per database, never by
//! listing every pair, so hand-written files with thousands of entries stay cheap.

use super::Stack;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConnectionBudget {
    /// Number of (database, user) pools.
    pub pools: u64,
    /// Server connections one PgBouncer process may open.
    pub per_instance: u64,
    pub instances: u64,
    /// Connections of `[[clients]]` straight to PostgreSQL.
    pub clients: u64,
    /// Connections of the apps' migrations straight to PostgreSQL past transaction pooling
    /// (DIRECT_URL, DIRECT_DATABASE_URL; Rails takes two): they run while the app is serving.
    pub migrations: u64,
    /// Connections of apps straight to PostgreSQL (PgBouncer disabled); `None` when unbounded.
    pub direct_apps: Option<u64>,
    /// Everything together; `None` when an unbounded app pool makes it infinite.
    pub total: Option<u64>,
    /// The arithmetic, e.g. `2 pools × (25 + 5) × 2 instances + 3 clients = 123`.
    pub arithmetic: String,
}

/// For a database with `n` pools: one pool's size with its reserve, all of them, and all of
/// them under max_db_connections.
fn shares(db: &super::Database, n: u64) -> (u64, u64, u64) {
    let each = u64::from(db.pool_size.value) + u64::from(db.reserve_pool_size.value);
    let raw = n * each;
    let cap = u64::from(db.max_db_connections.value);
    let capped = if cap > 0 { raw.min(cap) } else { raw };
    (each, raw, capped)
}

/// The terms of a sum, readable however many databases there are: equal terms are counted
/// (`5000 × (10000 pools × (2 + 0))`), and past a few kinds the rest is one number.
fn summed(terms: Vec<(String, u64, u64)>) -> Vec<String> {
    const SHOWN: usize = 6;
    // Kinds that read the same (a capped and an uncapped kind never do) count together.
    let mut kinds: Vec<(String, u64, u64)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (text, value, count) in terms {
        match at.get(&text) {
            Some(&i) => kinds[i].2 += count,
            None => {
                at.insert(text.clone(), kinds.len());
                kinds.push((text, value, count));
            }
        }
    }
    let mut out: Vec<String> = kinds
        .iter()
        .take(SHOWN)
        .map(|(text, _, n)| {
            if *n > 1 {
                format!("{n} × ({text})")
            } else {
                text.clone()
            }
        })
        .collect();
    if kinds.len() > SHOWN {
        let rest = &kinds[SHOWN..];
        let databases: u64 = rest.iter().map(|k| k.2).sum();
        let sum: u64 = rest.iter().map(|k| k.1 * k.2).sum();
        out.push(format!("{sum} ({databases} more databases)"));
    }
    out
}

impl ServerConnectionBudget {
    pub fn of(stack: &Stack) -> ServerConnectionBudget {
        let clients = stack.client_connections();
        let clients_term = if clients > 0 {
            format!(" + {clients} client{}", if clients == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        match &stack.pgbouncer {
            Some(pgb) => {
                let instances = u64::from(pgb.instances.value.max(1));
                let global_user_cap = u64::from(pgb.max_user_connections.value);
                let mut pools = 0u64;
                let mut db_total = 0u64;
                // Databases alike (same pools, sizes and cap) make one term: 5,000 entries
                // are a handful of kinds, each worded once.
                type Kind = (u64, u32, u32, Option<u64>);
                let mut kinds: Vec<(Kind, u64, u64)> = Vec::new();
                let mut kind_at: HashMap<Kind, usize> = HashMap::new();
                for db in &stack.databases {
                    let n = match &db.forced_user {
                        Some(_) => 1,
                        None => db.users.len() as u64,
                    };
                    if n == 0 {
                        continue;
                    }
                    let (_, raw, capped) = shares(db, n);
                    let cap = u64::from(db.max_db_connections.value);
                    pools += n;
                    db_total += capped;
                    let kind = (
                        n,
                        db.pool_size.value,
                        db.reserve_pool_size.value,
                        (capped < raw).then_some(cap),
                    );
                    match kind_at.get(&kind) {
                        Some(&i) => kinds[i].2 += 1,
                        None => {
                            kind_at.insert(kind, kinds.len());
                            kinds.push((kind, capped, 1));
                        }
                    }
                }
                let mut terms: Vec<(String, u64, u64)> = kinds
                    .into_iter()
                    .map(|((n, pool, reserve, cap), capped, count)| {
                        let pool_word = if n == 1 { "pool" } else { "pools" };
                        let base = format!("{n} {pool_word} × ({pool} + {reserve})");
                        let text = match cap {
                            Some(cap) => format!("min({base}, max_db_connections {cap})"),
                            None => base,
                        };
                        (text, capped, count)
                    })
                    .collect();
                let user_caps: HashMap<&str, u64> = stack
                    .users
                    .iter()
                    .filter_map(|u| {
                        let cap = u
                            .max_user_connections
                            .as_ref()
                            .map(|s| u64::from(s.value))
                            .unwrap_or(global_user_cap);
                        (cap > 0).then_some((u.name.value.as_str(), cap))
                    })
                    .collect();
                let mut per_instance = db_total;
                if !user_caps.is_empty() {
                    // Each pair's share is bounded by its database's cap too. Databases that
                    // share a user list give each of its users the same share: summed per
                    // group, then handed out once per user.
                    let mut per_user: HashMap<&str, u64> = HashMap::new();
                    for group in stack.pool_groups() {
                        let n = group.users.len() as u64;
                        let share: u64 = group
                            .databases
                            .iter()
                            .map(|db| {
                                let (each, _, capped) = shares(db, n);
                                each.min(capped)
                            })
                            .sum();
                        for u in group.users.names() {
                            *per_user.entry(u).or_default() += share;
                        }
                    }
                    let user_total: u64 = per_user
                        .iter()
                        .map(|(u, total)| match user_caps.get(u) {
                            Some(cap) => (*total).min(*cap),
                            None => *total,
                        })
                        .sum();
                    if user_total < db_total {
                        per_instance = user_total;
                        terms = vec![(
                            format!("{user_total} (capped by max_user_connections)"),
                            user_total,
                            1,
                        )];
                    }
                }
                let migrations = stack.migration_connections();
                let migrations_term = if migrations > 0 {
                    format!(
                        " + {migrations} migration connection{}",
                        if migrations == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                };
                let total = per_instance * instances + clients + migrations;
                let terms = summed(terms);
                let mut body = if terms.is_empty() {
                    "0 pools".to_string()
                } else {
                    terms.join(" + ")
                };
                if terms.len() > 1 && instances > 1 {
                    body = format!("({body})");
                }
                let inst = if instances > 1 {
                    format!(" × {instances} instances")
                } else {
                    String::new()
                };
                ServerConnectionBudget {
                    pools,
                    per_instance,
                    instances,
                    clients,
                    migrations,
                    direct_apps: None,
                    total: Some(total),
                    arithmetic: format!("{body}{inst}{clients_term}{migrations_term} = {total}"),
                }
            }
            None => {
                let mut terms = Vec::new();
                let mut sum = Some(0u64);
                for app in &stack.apps {
                    match app.max_connections() {
                        Some(n) => {
                            sum = sum.map(|s| s + n);
                            terms.push(format!(
                                "{} × {} × ({})",
                                app.replicas.value,
                                app.processes.value,
                                app.kind().per_process(app).arithmetic
                            ));
                        }
                        None => {
                            sum = None;
                            terms.push(format!("{} (unbounded)", app.name.value));
                        }
                    }
                }
                let total = sum.map(|s| s + clients);
                let body = if terms.is_empty() {
                    "0 app connections".to_string()
                } else {
                    terms.join(" + ")
                };
                let result = total.map_or("unbounded".to_string(), |t| t.to_string());
                ServerConnectionBudget {
                    pools: 0,
                    per_instance: 0,
                    instances: 0,
                    clients,
                    migrations: 0,
                    direct_apps: sum,
                    total,
                    arithmetic: format!("{body}{clients_term} = {result}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing;

    const BASE: &str = "[stack]\nname = \"b\"\n[postgres]\nversion = 16\nmax_connections = 100\n";

    #[test]
    fn pools_times_pool_plus_reserve_times_instances_plus_clients() {
        let s = testing::stack(&format!(
            "{BASE}[pgbouncer]\nversion = \"1.21\"\ninstances = 2\ndefault_pool_size = 25\nreserve_pool_size = 5\n\
             [[databases]]\nname = \"a\"\nusers = [\"u\", \"v\"]\n[[users]]\nname = \"u\"\n[[users]]\nname = \"v\"\n\
             [[clients]]\nname = \"exporter\"\nconnections = 3\n"
        ));
        let b = ServerConnectionBudget::of(&s);
        assert_eq!(b.pools, 2);
        assert_eq!(b.total, Some(123));
        assert_eq!(
            b.arithmetic,
            "2 pools × (25 + 5) × 2 instances + 3 clients = 123"
        );
    }

    #[test]
    fn database_and_user_caps_bound_the_budget() {
        let s = testing::stack(&format!(
            "{BASE}[pgbouncer]\nversion = \"1.21\"\ndefault_pool_size = 25\nreserve_pool_size = 5\nmax_db_connections = 50\n\
             [[databases]]\nname = \"a\"\nusers = [\"u\", \"v\"]\n[[databases]]\nname = \"b\"\nusers = [\"u\"]\n\
             [[users]]\nname = \"u\"\nmax_user_connections = 20\n[[users]]\nname = \"v\"\n"
        ));
        // per database: a = min(60, 50) = 50, b = 30 → 80; per user: u = min(30 + 30, 20) = 20, v = 30 → 50.
        assert_eq!(ServerConnectionBudget::of(&s).total, Some(50));
    }

    #[test]
    fn forced_user_makes_one_pool() {
        let s = testing::stack(&format!(
            "{BASE}[pgbouncer]\nversion = \"1.21\"\n[[databases]]\nname = \"a\"\nuser = \"svc\"\nusers = [\"x\", \"y\", \"z\"]\npool_size = 7\n[[users]]\nname = \"svc\"\n"
        ));
        let b = ServerConnectionBudget::of(&s);
        assert_eq!((b.pools, b.total), (1, Some(7)));
    }

    #[test]
    fn direct_apps_and_unbounded_pools() {
        let s = testing::stack(&format!(
            "{BASE}[[users]]\nname = \"u\"\n[[apps]]\nname = \"a\"\nreplicas = 2\nprocesses = 3\ndatabase = \"d\"\nuser = \"u\"\npool_size = 5\nmax_overflow = 10\n"
        ));
        assert_eq!(ServerConnectionBudget::of(&s).total, Some(90));
        let s = testing::stack(&format!(
            "{BASE}[[users]]\nname = \"u\"\n[[apps]]\nname = \"a\"\ndatabase = \"d\"\nuser = \"u\"\nmax_overflow = -1\n"
        ));
        assert_eq!(ServerConnectionBudget::of(&s).total, None);
    }

    #[test]
    fn max_connections_is_derived_from_the_budget_when_unset() {
        let s = testing::stack(
            "[stack]\nname = \"b\"\n[postgres]\nversion = 16\n[pgbouncer]\nversion = \"1.21\"\ndefault_pool_size = 20\n\
             [[databases]]\nname = \"a\"\nusers = [\"u\"]\n[[users]]\nname = \"u\"\n",
        );
        // 20 + 3 superuser-reserved + headroom max(5, 2) = 28
        assert_eq!(s.postgres.max_connections.value, 28);
        assert!(matches!(
            s.postgres.max_connections.origin,
            crate::stack::Origin::Derived { .. }
        ));
        let s = testing::stack("[stack]\nname = \"b\"\n[postgres]\nversion = 16\n");
        assert_eq!(s.postgres.max_connections.value, 100);
    }
}
