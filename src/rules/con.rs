//! CON — the connection budget.
//!
//! Each check compares a number of connections some layer may open with what the next layer
//! accepts, and its message shows both sums with the settings they come from.

use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::manifest::PoolMode;
use crate::source::Loc;
use crate::stack::budget::ServerConnectionBudget;
use crate::stack::{App, Pgbouncer, Postgres, Setting, Stack};
use std::fmt::Display;

pub const RULES: &[Rule] = &[
    Rule {
        code: "CON001",
        name: "clients-exceed-max-client-conn",
        severity: Severity::Error,
        summary: "Apps may open more client connections than PgBouncer's max_client_conn",
        doc: CON001_DOC,
        check: Some(clients_exceed_max_client_conn),
    },
    Rule {
        code: "CON002",
        name: "pools-exceed-max-connections",
        severity: Severity::Error,
        summary: "PgBouncer's pools and direct clients may exceed PostgreSQL's connection slots",
        doc: CON002_DOC,
        check: Some(pools_exceed_max_connections),
    },
    Rule {
        code: "CON003",
        name: "direct-clients-exceed-max-connections",
        severity: Severity::Error,
        summary: "Apps and clients connecting directly may exceed PostgreSQL's connection slots",
        doc: CON003_DOC,
        check: Some(direct_clients_exceed_max_connections),
    },
    Rule {
        code: "CON004",
        name: "pool-cannot-fill",
        severity: Severity::Warning,
        summary: "A pool can never reach its size (min_pool_size above, max_db_connections below)",
        doc: CON004_DOC,
        check: Some(pool_cannot_fill),
    },
    Rule {
        code: "CON005",
        name: "fd-limit",
        severity: Severity::Warning,
        summary: "nofile_limit is below PgBouncer's own file-descriptor estimate",
        doc: CON005_DOC,
        check: Some(fd_limit),
    },
    Rule {
        code: "CON006",
        name: "app-pool-larger-than-server-pool",
        severity: Severity::Info,
        summary: "One app process's pool is larger than the transaction pool behind it",
        doc: CON006_DOC,
        check: Some(app_pool_larger_than_server_pool),
    },
    Rule {
        code: "CON007",
        name: "server-will-not-start",
        severity: Severity::Error,
        summary: "Reserved connections fill max_connections: PostgreSQL refuses to start",
        doc: CON007_DOC,
        check: Some(server_will_not_start),
    },
];

const CON001_DOC: &str = "\
Checks, when PgBouncer is enabled, the client connections the apps behind it may hold at once:
for every app whose DATABASE_URL points at PgBouncer, replicas × processes × (pool_size +
max_overflow), summed, against what PgBouncer accepts: max_client_conn × instances (each
process sharing the port through so_reuseport has its own max_client_conn). An app whose pool
is unbounded always fires: SQLAlchemy's max_overflow = -1 means no overflow limit, and
pool_size = 0 means no limit at all (QueuePool then forces max_overflow to -1).

Why it matters: once max_client_conn clients are connected, PgBouncer refuses every further
login with `no more connections allowed (max_client_conn)`. The app sees connection errors at
peak load, exactly when its pools grow into their overflow.

How to fix: raise max_client_conn (the help names the smallest value that fits; more clients
also need more file descriptors, see CON005), or lower the apps' pool_size, max_overflow,
replicas or processes, and give every app a bounded pool.

Facts: ../reference/sqlalchemy/facts.md §2 (pool_size, max_overflow, the capacity lint);
../reference/pgbouncer/facts.md §2 (max_client_conn) and §7 item 10.

For apps of other kinds, the per-process pool is the kind's own formula (the README's table of
kinds: asyncpg max_size, Django threads or its pool, Rails max_connections, …).";

const CON002_DOC: &str = "\
Checks, when PgBouncer is enabled, the server connections that may reach PostgreSQL at once
against the connections PostgreSQL accepts from an ordinary role. The count runs over
PgBouncer's pools, one per (database, user) pair — a database's forced user, else each of its
users: pool_size + reserve_pool_size each, capped per database by max_db_connections and per
user by max_user_connections (both caps include the reserve), times the PgBouncer instances,
plus the [[clients]] that connect to PostgreSQL directly. PostgreSQL's capacity is
max_connections − superuser_reserved_connections − reserved_connections (16+). The message
shows both sums.

Why it matters: pools are per (database, user) pair, so adding a user or a database multiplies
the server connections. Past the capacity, new server logins fail with `FATAL: remaining
connection slots are reserved…` and, when every slot is taken, `FATAL: sorry, too many clients
already`; PgBouncer reports its pool as failing and clients wait or error out. When poolstack
derives max_connections itself it sizes it from this very count, so the rule fires only on an
explicit max_connections.

How to fix: raise max_connections to at least the count plus the reserved slots (the help
gives the number; it needs a restart), or lower default_pool_size / the databases' pool_size
(the help gives the largest that fits), reserve_pool_size, or cap databases with
max_db_connections.

Facts: ../reference/postgres/crosscheck-facts.md §1.2 (reserved slots, client capacity) and
§1.3 (the inequality); ../reference/pgbouncer/facts.md §7 item 3 and §8 (pool budget).";

const CON003_DOC: &str = "\
Checks, when PgBouncer is not used, the connections that may reach PostgreSQL at once: for
every app, replicas × processes × (pool_size + max_overflow), plus the [[clients]], against
max_connections − superuser_reserved_connections − reserved_connections (16+). An unbounded
app pool (max_overflow = -1, or pool_size = 0) always fires.

Why it matters: every pooled SQLAlchemy connection is a PostgreSQL backend. Past the capacity,
logins fail with `FATAL: remaining connection slots are reserved…`, and with every slot taken
`FATAL: sorry, too many clients already` — at peak load, when the pools overflow.

How to fix: raise max_connections to at least the count plus the reserved slots (the help
gives the number; it needs a restart and costs memory per backend), lower the apps'
pool_size/max_overflow, or put PgBouncer in front ([pgbouncer] enabled = true) so that many
client connections share few server connections.

Facts: ../reference/sqlalchemy/facts.md §2 (capacity lint: direct connections against the
PostgreSQL capacity); ../reference/postgres/crosscheck-facts.md §1.2 and §1.3.

For apps of other kinds, the per-process pool is the kind's own formula (the README's table of
kinds: asyncpg max_size, Django threads or its pool, Rails max_connections, …).";

const CON004_DOC: &str = "\
Checks every PgBouncer pool for a size it can never reach: a min_pool_size (the global one,
or a database's own min_pool_size) larger than the pool's pool_size (default_pool_size unless
the database sets pool_size), or a database whose max_db_connections (when not 0, unlimited)
is below its pool_size.

Why it matters: PgBouncer never opens more server connections for a pool than pool_size, and
never more for a database than max_db_connections. A min_pool_size above pool_size does not
keep the connections warm that it promises; a max_db_connections below pool_size means the
pool's size (and its reserve) is never available and clients queue for a server connection
although the configuration seems to allow more.

How to fix: make min_pool_size at most pool_size; make max_db_connections at least pool_size
(plus reserve_pool_size if the reserve should be usable), or lower pool_size to the cap.

Facts: ../reference/pgbouncer/facts.md §2 (min_pool_size, default_pool_size,
max_db_connections) and §3 (per-database pool_size, min_pool_size, max_db_connections).";

const CON005_DOC: &str = "\
Checks, when [pgbouncer] nofile_limit declares the file-descriptor limit of the PgBouncer
process, that it covers PgBouncer's own estimate of the descriptors it may use, per process:
max_client_conn + 10 + Σ over databases of pool_size × (1 for a database with a forced user,
else the number of its users). Silent when no limit is declared.

Why it matters: each client and each server connection is a file descriptor. PgBouncer only
logs `kernel file descriptor limit: N (hard: H); max_client_conn: M, max expected fd use: F`
at start and never refuses to start; under load, new clients then fail and the log fills with
`accept() failed: Too many open files`.

How to fix: raise the limit (LimitNOFILE= in the systemd unit, `ulimit -n`, or the container's
nofile ulimit) to at least the estimate, and nofile_limit with it; or lower max_client_conn
(the help gives both numbers).

Facts: ../reference/pgbouncer/facts.md §2 (max_client_conn: check_limits' estimate), §7 item 2
and §8 (fd budget).";

const CON006_DOC: &str = "\
Reports, for transaction pooling (the pool mode of the app's user where it sets one, else its
database's), an app whose pool in one process — pool_size + max_overflow, or unbounded — is
larger than the PgBouncer pool of its database (pool_size).

Why it matters: in transaction mode a server connection is lent for one transaction only, so
the extra client connections do not add concurrency: when more transactions run at once than
the pool has server connections, they queue inside PgBouncer (up to query_wait_timeout) instead
of failing fast on the app's pool_timeout. This is informational: it is often deliberate, but
the app's pool then does not describe the real concurrency.

How to fix: size the app's pool_size + max_overflow to the server pool, or raise the
database's pool_size (and check CON002).

Facts: ../reference/sqlalchemy/facts.md §2 (pool capacity per process);
../reference/pgbouncer/facts.md §2 (default_pool_size: server connections per pool, pool_mode).

For apps of other kinds, the per-process pool is the kind's own formula (the README's table of
kinds: asyncpg max_size, Django threads or its pool, Rails max_connections, …).";

const CON007_DOC: &str = "\
Checks that superuser_reserved_connections + reserved_connections (PostgreSQL 16+) is below
max_connections.

Why it matters: PostgreSQL refuses to start otherwise. It prints, on ≤ 15, `postgres:
superuser_reserved_connections (5) must be less than max_connections (5)`; on 16, `postgres:
superuser_reserved_connections (3) plus reserved_connections (2) must be less than
max_connections (5)` (18 writes the names in double quotes) and exits with status 1. `postgres
-C` does not run this check; only a real start does, so the mistake surfaces at deploy time.

How to fix: raise max_connections above the reserved slots plus the connections the stack
needs (CON002/CON003), or lower superuser_reserved_connections / reserved_connections.

Facts: ../reference/postgres/crosscheck-facts.md §1.2 (reserved slots, startup check).";

/// Add a related place unless the diagnostic already shows it (inherited settings share one).
/// At most this many related places per finding: a hand-written stack of thousands of
/// databases would otherwise list every one.
const MAX_RELATED: usize = 12;

pub(super) fn relate(d: Diagnostic, loc: Option<&Loc>, message: impl Into<String>) -> Diagnostic {
    match loc {
        Some(l)
            if d.related.len() < MAX_RELATED
                && d.primary.as_ref() != Some(l)
                && !d.related.iter().any(|r| &r.loc == l) =>
        {
            d.related(Some(l.clone()), message)
        }
        _ => d,
    }
}

/// Values that were not written anywhere, for a message's tail: `reserve_pool_size 0 (PgBouncer's default)`.
#[derive(Default)]
struct Unwritten(Vec<String>);

impl Unwritten {
    fn add<T: Display>(&mut self, name: &str, s: &Setting<T>) {
        self.add_text(name, &s.value.to_string(), &s.origin);
    }

    fn add_text(&mut self, name: &str, value: &str, origin: &crate::stack::Origin) {
        let note = origin.note();
        if !note.is_empty() {
            let text = format!("{name} {value}{note}");
            if !self.0.contains(&text) {
                self.0.push(text);
            }
        }
    }

    /// `; not in the manifest: …`, or nothing.
    fn tail(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!("; not in the manifest: {}", self.0.join(", "))
        }
    }
}

/// `1 replica`, `2 replicas`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `100 max_connections − 3 superuser_reserved_connections = 97`.
fn capacity_arithmetic(pg: &Postgres) -> String {
    let mut s = format!(
        "{} max_connections − {} superuser_reserved_connections",
        pg.max_connections.value, pg.superuser_reserved_connections.value
    );
    if pg.reserved_connections.value > 0 {
        s.push_str(&format!(
            " − {} reserved_connections",
            pg.reserved_connections.value
        ));
    }
    format!("{s} = {}", pg.client_capacity())
}

/// Related places and unwritten values of PostgreSQL's capacity.
fn with_capacity_sources(d: Diagnostic, pg: &Postgres, notes: &mut Unwritten) -> Diagnostic {
    notes.add("max_connections", &pg.max_connections);
    notes.add(
        "superuser_reserved_connections",
        &pg.superuser_reserved_connections,
    );
    let mut d = relate(
        d,
        pg.max_connections.loc(),
        format!("max_connections = {}", pg.max_connections.value),
    );
    d = relate(
        d,
        pg.superuser_reserved_connections.loc(),
        format!(
            "superuser_reserved_connections = {}",
            pg.superuser_reserved_connections.value
        ),
    );
    if pg.reserved_connections.value > 0 {
        d = relate(
            d,
            pg.reserved_connections.loc(),
            format!("reserved_connections = {}", pg.reserved_connections.value),
        );
    }
    d
}

/// The place of an unbounded app pool, and why it is unbounded (in the kind's terms).
fn unbounded_reason(app: &App) -> (Option<&Loc>, String) {
    app.kind()
        .per_process(app)
        .unbounded
        .unwrap_or((app.name.loc(), "an unbounded pool".to_string()))
}

/// `2 replicas × 2 processes × (5 + 10)` for one app.
fn app_term(app: &App) -> String {
    format!(
        "`{}` {} × {} × ({})",
        app.name.value,
        count(u64::from(app.replicas.value), "replica", "replicas"),
        count(u64::from(app.processes.value), "process", "processes"),
        app.kind().per_process(app).arithmetic
    )
}

fn with_app_sources(mut d: Diagnostic, app: &App, notes: &mut Unwritten) -> Diagnostic {
    let name = &app.name.value;
    let per = app.kind().per_process(app);
    let mut related = vec![
        (
            "replicas",
            app.replicas.loc(),
            app.replicas.value.to_string(),
        ),
        (
            "processes",
            app.processes.loc(),
            app.processes.value.to_string(),
        ),
    ];
    related.extend(per.inputs.iter().map(|(k, v, o)| (*k, o.loc(), v.clone())));
    for (key, loc, value) in related {
        d = relate(d, loc, format!("{key} = {value} (app `{name}`)"));
    }
    notes.add(&format!("`{name}` replicas"), &app.replicas);
    notes.add(&format!("`{name}` processes"), &app.processes);
    for (key, value, origin) in &per.inputs {
        notes.add_text(&format!("`{name}` {key}"), value, origin);
    }
    d
}

fn clients_exceed_max_client_conn(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(pgb) = &cx.stack.pgbouncer else {
        return;
    };
    let apps: Vec<&App> = cx
        .stack
        .apps
        .iter()
        .filter(|a| a.url.via_pgbouncer)
        .collect();
    let instances = u64::from(pgb.instances.value.max(1));
    let per_instance = u64::from(pgb.max_client_conn.value);
    let accepted = per_instance * instances;
    let accepted_text = if instances > 1 {
        format!("max_client_conn {per_instance} × {instances} instances = {accepted}")
    } else {
        format!("max_client_conn {per_instance}")
    };
    let unbounded: Vec<&App> = apps
        .iter()
        .copied()
        .filter(|a| a.max_connections().is_none())
        .collect();
    for app in &unbounded {
        let (loc, why) = unbounded_reason(app);
        let mut notes = Unwritten::default();
        notes.add("max_client_conn", &pgb.max_client_conn);
        let d = Diagnostic::new(
            "CON001",
            Severity::Error,
            format!(
                "app `{}` has an unbounded pool ({why}): under load it may open more client connections than PgBouncer accepts ({accepted_text}), which then refuses them with `no more connections allowed (max_client_conn)`{}",
                app.name.value,
                notes.tail()
            ),
        )
        .at(loc.or(app.name.loc()).cloned())
        .help(format!(
            "bound the pool of `{}`: pool_size > 0 and max_overflow ≥ 0, with replicas × processes × (pool_size + max_overflow) of all apps within {accepted}",
            app.name.value
        ));
        let d = relate(
            d,
            pgb.max_client_conn.loc(),
            format!("max_client_conn = {per_instance}"),
        );
        out.push(relate(
            d,
            pgb.instances.loc(),
            format!("instances = {instances}"),
        ));
    }
    if !unbounded.is_empty() {
        return;
    }
    let total: u64 = apps.iter().filter_map(|a| a.max_connections()).sum();
    if total <= accepted {
        return;
    }
    let mut notes = Unwritten::default();
    notes.add("max_client_conn", &pgb.max_client_conn);
    let terms: Vec<String> = apps.iter().map(|a| app_term(a)).collect();
    let primary = pgb
        .max_client_conn
        .loc()
        .or_else(|| apps.first().and_then(|a| a.kind().per_process(a).primary()));
    let mut d = Diagnostic::new("CON001", Severity::Error, String::new()).at(primary.cloned());
    for app in &apps {
        d = with_app_sources(d, app, &mut notes);
    }
    d = relate(
        d,
        pgb.max_client_conn.loc(),
        format!("max_client_conn = {per_instance}"),
    );
    d = relate(d, pgb.instances.loc(), format!("instances = {instances}"));
    d.message = format!(
        "the apps may open {} = {total} client connections ({}) > {accepted_text}: PgBouncer refuses the rest with `no more connections allowed (max_client_conn)`{}",
        terms.join(" + "),
        crate::apps::formula_text(apps.iter().copied()),
        notes.tail()
    );
    let needed = total.div_ceil(instances);
    out.push(d.help(format!(
        "raise max_client_conn to at least {needed}{}, or shrink the apps' pools by {} connections in total",
        if instances > 1 {
            format!(" (per instance; {total} over {instances})")
        } else {
            String::new()
        },
        total - accepted
    )));
}

/// The name the help and related entries use for a database's pool_size: the global
/// default_pool_size when the database inherits it.
fn pool_size_name(pgb: &Pgbouncer, db: &crate::stack::Database) -> String {
    if db.pool_size.origin == pgb.default_pool_size.origin {
        "default_pool_size".to_string()
    } else {
        format!("pool_size of `{}`", db.name.value)
    }
}

/// The largest pool size every database could be lowered to so that the budget fits `capacity`;
/// `None` when even empty pools do not fit (reserves and clients alone exceed it).
fn largest_fitting_pool_size(stack: &Stack, capacity: i64) -> Option<u32> {
    let current = stack.databases.iter().map(|d| d.pool_size.value).max()?;
    let mut trial = stack.clone();
    let mut fits = |p: u32| {
        for (db, orig) in trial.databases.iter_mut().zip(&stack.databases) {
            db.pool_size.value = orig.pool_size.value.min(p);
        }
        ServerConnectionBudget::of(&trial)
            .total
            .is_some_and(|t| i64::try_from(t).is_ok_and(|t| t <= capacity))
    };
    if !fits(0) {
        return None;
    }
    // Invariant: `lo` fits, `hi` does not (the current sizes do not, or the rule would not fire).
    let (mut lo, mut hi) = (0u32, current);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

fn pools_exceed_max_connections(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Hand-written files without a PostgreSQL configuration: nothing to compare against.
    if !cx.stack.postgres.described {
        return;
    }
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let Some(total) = cx.budget.total else {
        return;
    };
    let pg = &stack.postgres;
    let capacity = pg.client_capacity();
    if i64::try_from(total).is_ok_and(|t| t <= capacity) {
        return;
    }
    let mut notes = Unwritten::default();
    let primary = pg
        .max_connections
        .loc()
        .or_else(|| stack.databases.iter().find_map(|db| db.pool_size.loc()))
        .or_else(|| stack.clients.iter().find_map(|c| c.connections.loc()));
    let mut d = Diagnostic::new("CON002", Severity::Error, String::new()).at(primary.cloned());
    d = with_capacity_sources(d, pg, &mut notes);
    let mut names: Vec<String> = Vec::new();
    for db in stack
        .databases
        .iter()
        .filter(|db| db.forced_user.is_some() || !db.users.is_empty())
    {
        let pool_name = pool_size_name(pgb, db);
        let reserve_name = if db.reserve_pool_size.origin == pgb.reserve_pool_size.origin {
            "reserve_pool_size".to_string()
        } else {
            format!("reserve_pool_size of `{}`", db.name.value)
        };
        notes.add(&pool_name, &db.pool_size);
        notes.add(&reserve_name, &db.reserve_pool_size);
        d = relate(
            d,
            db.pool_size.loc(),
            format!("{pool_name} = {}", db.pool_size.value),
        );
        d = relate(
            d,
            db.reserve_pool_size.loc(),
            format!("{reserve_name} = {}", db.reserve_pool_size.value),
        );
        let users = if db.forced_user.is_some() {
            1
        } else {
            db.users.len() as u64
        };
        let wanted =
            users * (u64::from(db.pool_size.value) + u64::from(db.reserve_pool_size.value));
        if db.max_db_connections.value > 0 && u64::from(db.max_db_connections.value) < wanted {
            d = relate(
                d,
                db.max_db_connections.loc(),
                format!("max_db_connections = {}", db.max_db_connections.value),
            );
        }
        if !names.contains(&pool_name) {
            names.push(pool_name);
        }
    }
    for u in &stack.users {
        if let Some(cap) = u.max_user_connections.as_ref().filter(|c| c.value > 0) {
            d = relate(
                d,
                cap.loc(),
                format!(
                    "max_user_connections = {} (user `{}`)",
                    cap.value, u.name.value
                ),
            );
        }
    }
    if pgb.max_user_connections.value > 0 {
        d = relate(
            d,
            pgb.max_user_connections.loc(),
            format!("max_user_connections = {}", pgb.max_user_connections.value),
        );
    }
    if pgb.instances.value > 1 {
        d = relate(
            d,
            pgb.instances.loc(),
            format!("instances = {}", pgb.instances.value),
        );
    }
    for c in &stack.clients {
        d = relate(
            d,
            c.connections.loc(),
            format!(
                "{} connections of client `{}`",
                c.connections.value, c.name.value
            ),
        );
    }
    d.message = format!(
        "PgBouncer's pools may open more server connections than PostgreSQL accepts: {} > {}; the logins beyond it fail with `FATAL: remaining connection slots are reserved…` or `FATAL: sorry, too many clients already`{}",
        cx.budget.arithmetic,
        capacity_arithmetic(pg),
        notes.tail()
    );
    let needed = total
        + u64::from(pg.superuser_reserved_connections.value)
        + u64::from(pg.reserved_connections.value);
    let mut help = format!("raise max_connections to at least {needed}");
    match largest_fitting_pool_size(stack, capacity) {
        Some(p) if p > 0 => {
            help.push_str(&format!(", or lower {} to {p}", names.join(" and ")));
        }
        _ => help.push_str(
            ", or lower reserve_pool_size or the direct clients: smaller pools alone cannot make it fit",
        ),
    }
    out.push(d.help(help));
}

fn direct_clients_exceed_max_connections(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Hand-written files without a PostgreSQL configuration: nothing to compare against.
    if !cx.stack.postgres.described {
        return;
    }
    let stack = cx.stack;
    if stack.pgbouncer.is_some() {
        return;
    }
    let pg = &stack.postgres;
    let capacity = pg.client_capacity();
    let direct: Vec<&App> = stack.apps.iter().filter(|a| !a.url.via_pgbouncer).collect();
    let unbounded: Vec<&App> = direct
        .iter()
        .copied()
        .filter(|a| a.max_connections().is_none())
        .collect();
    for app in &unbounded {
        let (loc, why) = unbounded_reason(app);
        let mut notes = Unwritten::default();
        let d = Diagnostic::new("CON003", Severity::Error, String::new())
            .at(loc.or(app.name.loc()).cloned());
        let mut d = with_capacity_sources(d, pg, &mut notes);
        d.message = format!(
            "app `{}` connects straight to PostgreSQL with an unbounded pool ({why}): under load it may open more connections than PostgreSQL accepts ({}), and the logins beyond fail with `FATAL: sorry, too many clients already`{}",
            app.name.value,
            capacity_arithmetic(pg),
            notes.tail()
        );
        out.push(d.help(format!(
            "bound the pool of `{}`: pool_size > 0 and max_overflow ≥ 0, or put PgBouncer in front ([pgbouncer] enabled = true)",
            app.name.value
        )));
    }
    if !unbounded.is_empty() {
        return;
    }
    let Some(total) = cx.budget.total else {
        return;
    };
    if i64::try_from(total).is_ok_and(|t| t <= capacity) {
        return;
    }
    let mut notes = Unwritten::default();
    let primary = pg
        .max_connections
        .loc()
        .or_else(|| {
            direct
                .first()
                .and_then(|a| a.kind().per_process(a).primary())
        })
        .or_else(|| stack.clients.iter().find_map(|c| c.connections.loc()));
    let mut d = Diagnostic::new("CON003", Severity::Error, String::new()).at(primary.cloned());
    d = with_capacity_sources(d, pg, &mut notes);
    for app in &direct {
        d = with_app_sources(d, app, &mut notes);
    }
    for c in &stack.clients {
        d = relate(
            d,
            c.connections.loc(),
            format!(
                "{} connections of client `{}`",
                c.connections.value, c.name.value
            ),
        );
    }
    let names: Vec<String> = direct
        .iter()
        .map(|a| format!("`{}`", a.name.value))
        .collect();
    d.message = format!(
        "the apps ({}) and clients may open more connections than PostgreSQL accepts: {} ({} per app) > {}; the logins beyond it fail with `FATAL: remaining connection slots are reserved…` or `FATAL: sorry, too many clients already`{}",
        names.join(", "),
        cx.budget.arithmetic,
        crate::apps::formula_text(direct.iter().copied()),
        capacity_arithmetic(pg),
        notes.tail()
    );
    let needed = total
        + u64::from(pg.superuser_reserved_connections.value)
        + u64::from(pg.reserved_connections.value);
    out.push(d.help(format!(
        "raise max_connections to at least {needed}, shrink the apps' pools by {} connections in total, or put PgBouncer in front ([pgbouncer] enabled = true)",
        total.saturating_sub(u64::try_from(capacity.max(0)).unwrap_or(0))
    )));
}

fn pool_cannot_fill(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(pgb) = &cx.stack.pgbouncer else {
        return;
    };
    let dbs = &cx.stack.databases;
    let inherits_pool =
        |db: &crate::stack::Database| db.pool_size.origin == pgb.default_pool_size.origin;
    // The global pair, once: it governs every database that does not set its own pool_size.
    let global_min = u64::from(pgb.min_pool_size.value);
    if global_min > u64::from(pgb.default_pool_size.value)
        && (dbs.is_empty()
            || dbs.iter().any(|db| {
                inherits_pool(db) && db.options.iter().all(|o| o.name != "min_pool_size")
            }))
    {
        let mut notes = Unwritten::default();
        notes.add("default_pool_size", &pgb.default_pool_size);
        let d = Diagnostic::new(
            "CON004",
            Severity::Warning,
            format!(
                "min_pool_size {global_min} > default_pool_size {}: a pool never holds more than its size, so PgBouncer cannot keep {global_min} server connections open{}",
                pgb.default_pool_size.value,
                notes.tail()
            ),
        )
        .at(pgb.min_pool_size.loc().or(pgb.default_pool_size.loc()).cloned())
        .help(format!(
            "lower min_pool_size to at most {}, or raise default_pool_size to {global_min}",
            pgb.default_pool_size.value
        ));
        out.push(relate(
            d,
            pgb.default_pool_size.loc(),
            format!("default_pool_size = {}", pgb.default_pool_size.value),
        ));
    }
    for db in dbs {
        let name = &db.name.value;
        let pool = u64::from(db.pool_size.value);
        let pool_name = pool_size_name(pgb, db);
        // A database's own min_pool_size, or the global one when it sets its own pool_size.
        let own_min = db
            .options
            .iter()
            .find(|o| o.name == "min_pool_size")
            .and_then(|o| o.number.map(|n| (n.max(0.0) as u64, o.origin.loc())));
        let min = match own_min {
            Some(m) => Some(m),
            None if !inherits_pool(db) => Some((global_min, pgb.min_pool_size.loc())),
            None => None,
        };
        if let Some((min, loc)) = min.filter(|(m, _)| *m > pool) {
            let d = Diagnostic::new(
                "CON004",
                Severity::Warning,
                format!(
                    "database `{name}`: min_pool_size {min} > {pool_name} {pool}: a pool never holds more than its size, so PgBouncer cannot keep {min} server connections open"
                ),
            )
            .at(loc.or(db.pool_size.loc()).cloned())
            .help(format!(
                "lower min_pool_size to at most {pool}, or raise {pool_name} to {min}"
            ));
            out.push(relate(
                d,
                db.pool_size.loc(),
                format!("{pool_name} = {pool}"),
            ));
        }
        let cap = u64::from(db.max_db_connections.value);
        let inherited_pair =
            db.max_db_connections.origin == pgb.max_db_connections.origin && inherits_pool(db);
        if cap > 0 && cap < pool {
            let subject = if inherited_pair {
                String::new()
            } else {
                format!("database `{name}`: ")
            };
            let message = format!(
                "{subject}max_db_connections {cap} < {pool_name} {pool}: PgBouncer opens at most {cap} server connections for the database, so its pool never reaches {pool} (nor its reserve_pool_size {})",
                db.reserve_pool_size.value
            );
            // Databases inheriting both global settings share one finding.
            if out.iter().any(|d| d.message == message) {
                continue;
            }
            let d = Diagnostic::new("CON004", Severity::Warning, message)
                .at(db.max_db_connections.loc().or(db.pool_size.loc()).cloned())
                .help(format!(
                    "raise max_db_connections to at least {pool} ({} with the reserve), or lower {pool_name} to {cap}",
                    pool + u64::from(db.reserve_pool_size.value)
                ));
            out.push(relate(
                d,
                db.pool_size.loc(),
                format!("{pool_name} = {pool}"),
            ));
        }
    }
}

fn fd_limit(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(pgb) = &cx.stack.pgbouncer else {
        return;
    };
    let Some(limit) = &pgb.nofile_limit else {
        return;
    };
    let mut terms: Vec<String> = Vec::new();
    let mut servers = 0u64;
    let mut d =
        Diagnostic::new("CON005", Severity::Warning, String::new()).at(limit.loc().cloned());
    let mut notes = Unwritten::default();
    notes.add("max_client_conn", &pgb.max_client_conn);
    for db in &cx.stack.databases {
        let users = if db.forced_user.is_some() {
            1
        } else {
            db.users.len() as u64
        };
        let pool = u64::from(db.pool_size.value);
        servers += pool * users;
        terms.push(format!("{pool} × {users} [{}]", db.name.value));
        let pool_name = pool_size_name(pgb, db);
        notes.add(&pool_name, &db.pool_size);
        d = relate(d, db.pool_size.loc(), format!("{pool_name} = {pool}"));
    }
    let clients = u64::from(pgb.max_client_conn.value);
    let estimate = clients + 10 + servers;
    if limit.value >= estimate {
        return;
    }
    d = relate(
        d,
        pgb.max_client_conn.loc(),
        format!("max_client_conn = {clients}"),
    );
    let pools = if terms.is_empty() {
        String::new()
    } else {
        format!(" + {}", terms.join(" + "))
    };
    d.message = format!(
        "nofile_limit {} is below PgBouncer's own estimate of the file descriptors one process may use: max_client_conn {clients} + 10{pools} (pool_size × users per database) = {estimate}; under load new clients fail with `accept() failed: Too many open files`{}",
        limit.value,
        notes.tail()
    );
    let mut help = format!(
        "raise the process's file-descriptor limit (LimitNOFILE / ulimit -n) and nofile_limit to at least {estimate}"
    );
    if let Some(fitting) = limit.value.checked_sub(10 + servers).filter(|n| *n > 0) {
        help.push_str(&format!(", or lower max_client_conn to {fitting}"));
    }
    out.push(d.help(help));
}

fn app_pool_larger_than_server_pool(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    if stack.pgbouncer.is_none() {
        return;
    }
    for app in stack.apps.iter().filter(|a| a.url.via_pgbouncer) {
        let Some(db) = stack.database(&app.database.value) else {
            continue;
        };
        let mode = stack
            .user(&app.user.value)
            .and_then(|u| u.pool_mode.as_ref())
            .unwrap_or(&db.pool_mode);
        if mode.value != PoolMode::Transaction {
            continue;
        }
        let server_pool = u64::from(db.pool_size.value);
        let per = app.kind().per_process(app);
        let (shown, too_big) = match per.connections {
            Some(n) if per.inputs.len() > 1 => (
                format!("{} = {n} connections", per.arithmetic),
                n > server_pool,
            ),
            Some(n) => (format!("{n} connections"), n > server_pool),
            None => (
                format!("any number of connections ({})", unbounded_reason(app).1),
                true,
            ),
        };
        if !too_big {
            continue;
        }
        // The first input that alone exceeds the server pool or is 0 (no limit), else the reason
        // it is unbounded, else the last input.
        let primary = match per
            .inputs
            .iter()
            .find(|(_, v, _)| v.parse::<u64>().is_ok_and(|n| n > server_pool || n == 0))
        {
            Some((_, _, o)) => o.loc(),
            None => match &per.unbounded {
                Some((l, _)) => *l,
                None => per.inputs.last().and_then(|(_, _, o)| o.loc()),
            },
        };
        let mut notes = Unwritten::default();
        for (key, value, origin) in &per.inputs {
            notes.add_text(key, value, origin);
        }
        let pgb_name = stack
            .pgbouncer
            .as_ref()
            .map(|p| pool_size_name(p, db))
            .unwrap_or_else(|| "pool_size".to_string());
        notes.add(&pgb_name, &db.pool_size);
        let d = Diagnostic::new(
            "CON006",
            Severity::Info,
            format!(
                "one process of app `{}` may hold {shown}, more than the {server_pool} server connections of PgBouncer's pool for `{}` ({pgb_name}, transaction pooling): the extra connections add no concurrency, their transactions queue inside PgBouncer{}",
                app.name.value,
                db.name.value,
                notes.tail()
            ),
        )
        .at(primary.or(app.name.loc()).cloned())
        .help(format!(
            "keep {} of `{}` at most {server_pool} per process, or raise {pgb_name} (and check CON002)",
            per.formula,
            app.name.value
        ));
        let d = relate(d, db.pool_size.loc(), format!("{pgb_name} = {server_pool}"));
        out.push(relate(
            d,
            mode.loc(),
            format!("pool_mode = {}", mode.value.as_str()),
        ));
    }
}

fn server_will_not_start(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let pg = &cx.stack.postgres;
    if !pg.described {
        return;
    }
    let max = u64::from(pg.max_connections.value);
    let su = u64::from(pg.superuser_reserved_connections.value);
    let rc = u64::from(pg.reserved_connections.value);
    if su + rc < max {
        return;
    }
    // Without a declared major, PostgreSQL 15's wording (the check is the same).
    let version = pg.major();
    let server_says = match version.unwrap_or(15) {
        ..=15 => format!(
            "superuser_reserved_connections ({su}) must be less than max_connections ({max})"
        ),
        16 | 17 => format!(
            "superuser_reserved_connections ({su}) plus reserved_connections ({rc}) must be less than max_connections ({max})"
        ),
        _ => format!(
            "\"superuser_reserved_connections\" ({su}) plus \"reserved_connections\" ({rc}) must be less than \"max_connections\" ({max})"
        ),
    };
    let mut notes = Unwritten::default();
    notes.add("max_connections", &pg.max_connections);
    notes.add(
        "superuser_reserved_connections",
        &pg.superuser_reserved_connections,
    );
    let sum = if version.is_none_or(|v| v >= 16) {
        format!(
            "superuser_reserved_connections {su} + reserved_connections {rc} = {}",
            su + rc
        )
    } else {
        format!("superuser_reserved_connections {su}")
    };
    let primary = pg
        .max_connections
        .loc()
        .or(pg.superuser_reserved_connections.loc())
        .or(pg.reserved_connections.loc());
    let d = Diagnostic::new(
        "CON007",
        Severity::Error,
        format!(
            "{sum} ≥ max_connections {max}: {} refuses to start with `postgres: {server_says}`{}",
            version.map_or("PostgreSQL".to_string(), |v| format!("PostgreSQL {v}")),
            notes.tail()
        ),
    )
    .at(primary.cloned())
    .help(format!(
        "raise max_connections above {} (plus the connections the stack needs), or lower the reserved connections",
        su + rc
    ));
    let d = relate(
        d,
        pg.superuser_reserved_connections.loc(),
        format!("superuser_reserved_connections = {su}"),
    );
    let d = relate(
        d,
        pg.reserved_connections.loc(),
        format!("reserved_connections = {rc}"),
    );
    out.push(relate(
        d,
        pg.max_connections.loc(),
        format!("max_connections = {max}"),
    ));
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, HEALTHY, healthy_with as healthy, only};
    use crate::diag::Severity;

    const MINE: &[&str] = &["CON", "MEM", "TMO"];

    #[test]
    fn healthy_stack_is_silent_for_con_mem_tmo() {
        assert_eq!(testing::firing(MINE, HEALTHY), Vec::<&str>::new());
    }

    #[test]
    fn con_rules_are_silent_on_healthy() {
        for code in [
            "CON001", "CON002", "CON003", "CON004", "CON005", "CON006", "CON007",
        ] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code}");
        }
    }

    #[test]
    fn con001_fires_when_apps_outgrow_max_client_conn() {
        let toml = healthy("max_client_conn = 200", "max_client_conn = 30");
        assert_eq!(testing::firing(MINE, &toml), ["CON001"]);
        let (stack, d) = only("CON001", &toml);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "max_client_conn = 30")
        );
        assert_eq!(testing::pointed_text(&stack, &d), "30");
        assert!(
            d.message
                .contains("`api` 2 replicas × 2 processes × (5 + 5) = 40 client connections"),
            "{}",
            d.message
        );
        assert!(d.message.contains("> max_client_conn 30"), "{}", d.message);
        assert!(
            d.message
                .contains("no more connections allowed (max_client_conn)")
        );
        assert_eq!(
            d.help.as_deref(),
            Some(
                "raise max_client_conn to at least 40, or shrink the apps' pools by 10 connections in total"
            )
        );
        assert!(
            d.related
                .iter()
                .any(|r| r.message == "max_overflow = 5 (app `api`)")
        );
    }

    #[test]
    fn con001_counts_instances_and_fires_on_an_unbounded_app() {
        let toml = healthy("max_overflow = 5", "max_overflow = -1");
        let (stack, d) = only("CON001", &toml);
        assert_eq!(testing::pointed_text(&stack, &d), "-1");
        assert!(
            d.message.contains("unbounded pool (max_overflow = -1"),
            "{}",
            d.message
        );

        // 2 instances accept 2 × 30 = 60 ≥ 40: silent.
        let toml = healthy(
            "max_client_conn = 200",
            "max_client_conn = 30\ninstances = 2",
        );
        assert!(testing::run("CON001", &toml).is_empty());
    }

    #[test]
    fn con002_fires_when_pools_outgrow_max_connections() {
        let toml = healthy("max_connections = 100", "max_connections = 20");
        assert_eq!(testing::firing(MINE, &toml), ["CON002"]);
        let (stack, d) = only("CON002", &toml);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d), "20");
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "max_connections = 20")
        );
        assert!(
            d.message.contains(
                "1 pool × (20 + 5) = 25 > 20 max_connections − 3 superuser_reserved_connections = 17"
            ),
            "{}",
            d.message
        );
        assert!(
            d.message
                .contains("superuser_reserved_connections 3 (PostgreSQL's own)")
        );
        assert_eq!(
            d.help.as_deref(),
            Some("raise max_connections to at least 28, or lower default_pool_size to 12")
        );
        assert!(
            d.related
                .iter()
                .any(|r| r.message == "default_pool_size = 20")
        );
        assert!(
            d.related
                .iter()
                .any(|r| r.message == "reserve_pool_size = 5")
        );
    }

    #[test]
    fn con002_shows_pools_instances_and_clients() {
        let toml = healthy("max_db_connections = 40", "max_db_connections = 0\ninstances = 2")
            .replace("default_pool_size = 20", "default_pool_size = 25")
            .replace("name = \"app\"\n\n[[users]]", "name = \"app\"\nusers = [\"app\", \"ro\"]\n\n[[users]]\nname = \"ro\"\npassword = { env = \"RO_PASSWORD\" }\n\n[[users]]")
            + "\n[[clients]]\nname = \"exporter\"\nconnections = 3\n";
        let (_, d) = only("CON002", &toml);
        assert!(
            d.message.contains(
                "2 pools × (25 + 5) × 2 instances + 3 clients = 123 > 100 max_connections − 3 superuser_reserved_connections = 97"
            ),
            "{}",
            d.message
        );
        // 2 × (22 + 5) × 2 + 3 = 111 > 97; 2 × (19 + 5) × 2 + 3 = 99 > 97; 18 fits: 95.
        assert_eq!(
            d.help.as_deref(),
            Some("raise max_connections to at least 126, or lower default_pool_size to 18")
        );
        assert!(d.related.iter().any(|r| r.message == "instances = 2"));
        assert!(
            d.related
                .iter()
                .any(|r| r.message == "3 connections of client `exporter`")
        );
    }

    #[test]
    fn con003_fires_without_pgbouncer() {
        let direct = healthy("[pgbouncer]\n", "[pgbouncer]\nenabled = false\n");
        assert_eq!(testing::firing(MINE, &direct), Vec::<&str>::new());
        let toml = direct.replace("max_connections = 100", "max_connections = 40");
        assert_eq!(testing::firing(MINE, &toml), ["CON003"]);
        let (stack, d) = only("CON003", &toml);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d), "40");
        assert!(
            d.message.contains(
                "2 × 2 × (5 + 5) = 40 (replicas × processes × (pool_size + max_overflow) per app) > 40 max_connections − 3 superuser_reserved_connections = 37"
            ),
            "{}",
            d.message
        );
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.starts_with("raise max_connections to at least 43"))
        );
        // With PgBouncer, the same numbers are CON001/CON002's business.
        assert!(
            testing::run(
                "CON003",
                &healthy("max_connections = 100", "max_connections = 40")
            )
            .is_empty()
        );
    }

    #[test]
    fn con004_fires_on_min_pool_size_above_pool_size() {
        let toml = healthy(
            "reserve_pool_size = 5",
            "reserve_pool_size = 5\nmin_pool_size = 30",
        );
        assert_eq!(testing::firing(MINE, &toml), ["CON004"]);
        let (stack, d) = only("CON004", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "min_pool_size = 30")
        );
        assert!(
            d.message
                .contains("min_pool_size 30 > default_pool_size 20"),
            "{}",
            d.message
        );
    }

    #[test]
    fn con004_fires_on_max_db_connections_below_pool_size() {
        let toml = healthy("max_db_connections = 40", "max_db_connections = 15");
        assert_eq!(testing::firing(MINE, &toml), ["CON004"]);
        let (stack, d) = only("CON004", &toml);
        assert_eq!(testing::pointed_text(&stack, &d), "15");
        assert!(
            d.message
                .contains("max_db_connections 15 < default_pool_size 20"),
            "{}",
            d.message
        );
        assert_eq!(
            d.help.as_deref(),
            Some(
                "raise max_db_connections to at least 20 (25 with the reserve), or lower default_pool_size to 15"
            )
        );
    }

    #[test]
    fn con005_fires_below_pgbouncers_fd_estimate() {
        let toml = healthy(
            "reserve_pool_size = 5",
            "reserve_pool_size = 5\nnofile_limit = 100",
        );
        assert_eq!(testing::firing(MINE, &toml), ["CON005"]);
        let (stack, d) = only("CON005", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d), "100");
        assert!(
            d.message.contains(
                "max_client_conn 200 + 10 + 20 × 1 [app] (pool_size × users per database) = 230"
            ),
            "{}",
            d.message
        );
        assert!(d.message.contains("accept() failed: Too many open files"));
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.contains("at least 230") && h.contains("max_client_conn to 70"))
        );
        // A limit that covers the estimate is fine.
        let toml = healthy(
            "reserve_pool_size = 5",
            "reserve_pool_size = 5\nnofile_limit = 230",
        );
        assert!(testing::run("CON005", &toml).is_empty());
    }

    #[test]
    fn con006_reports_an_app_pool_larger_than_the_server_pool() {
        let toml = healthy("max_overflow = 5", "max_overflow = 20");
        assert_eq!(testing::firing(MINE, &toml), ["CON006"]);
        let (stack, d) = only("CON006", &toml);
        assert_eq!(d.severity, Severity::Info);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "max_overflow = 20")
        );
        assert!(
            d.message
                .contains("5 + 20 = 25 connections, more than the 20 server connections"),
            "{}",
            d.message
        );
        // Session pooling gives each client its own server connection: nothing to report.
        let session = toml.replace("pool_mode = \"transaction\"", "pool_mode = \"session\"");
        assert!(testing::run("CON006", &session).is_empty());
    }

    #[test]
    fn con007_fires_when_reserved_slots_fill_max_connections() {
        let toml = healthy(
            "max_connections = 100",
            "max_connections = 100\nsuperuser_reserved_connections = 100",
        );
        // No slot is left for anyone else either, so CON002 fires with it.
        assert_eq!(testing::firing(MINE, &toml), ["CON002", "CON007"]);
        let (stack, d) = only("CON007", &toml);
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d), "100");
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "max_connections = 100")
        );
        assert!(
            d.message.contains("superuser_reserved_connections (100) plus reserved_connections (0) must be less than max_connections (100)"),
            "{}",
            d.message
        );
        let pg15 = toml.replace("version = 16", "version = 15");
        let (_, d) = only("CON007", &pg15);
        assert!(d.message.contains("`postgres: superuser_reserved_connections (100) must be less than max_connections (100)`"), "{}", d.message);
    }

    #[test]
    fn mt5_fixture_findings() {
        let mt5 = include_str!("../../fixtures/mt5/stack.toml");
        assert_eq!(testing::firing(MINE, mt5), Vec::<&str>::new());
    }

    mod budget_property {
        use super::super::super::testing;
        use proptest::prelude::*;
        use std::fmt::Write;

        #[derive(Debug, Clone)]
        struct Db {
            pool: u32,
            reserve: u32,
            cap: u32,
            users: Vec<usize>,
            forced: Option<usize>,
        }

        #[derive(Debug, Clone)]
        struct App {
            replicas: u32,
            processes: u32,
            pool: u32,
            overflow: i32,
            db: usize,
        }

        #[derive(Debug, Clone)]
        struct Gen {
            pgbouncer: bool,
            instances: u32,
            max_client_conn: u32,
            global_user_cap: u32,
            user_caps: Vec<Option<u32>>,
            dbs: Vec<Db>,
            apps: Vec<App>,
            clients: Vec<u32>,
            max_connections: u32,
            superuser_reserved: u32,
            reserved: u32,
        }

        const USERS: usize = 3;

        fn db() -> impl Strategy<Value = Db> {
            (
                0u32..=40,
                0u32..=10,
                prop_oneof![Just(0u32), 1u32..=80],
                proptest::collection::vec(any::<bool>(), USERS),
                proptest::option::weighted(0.3, 0..USERS),
            )
                .prop_map(|(pool, reserve, cap, mask, forced)| {
                    let mut users: Vec<usize> = (0..USERS).filter(|i| mask[*i]).collect();
                    if users.is_empty() {
                        users.push(0);
                    }
                    Db {
                        pool,
                        reserve,
                        cap,
                        users,
                        forced,
                    }
                })
        }

        fn app() -> impl Strategy<Value = App> {
            (
                1u32..=4,
                1u32..=4,
                prop_oneof![9 => 1u32..=10, 1 => Just(0u32)],
                prop_oneof![9 => 0i32..=10, 1 => Just(-1i32)],
                0usize..3,
            )
                .prop_map(|(replicas, processes, pool, overflow, db)| App {
                    replicas,
                    processes,
                    pool,
                    overflow,
                    db,
                })
        }

        fn stack() -> impl Strategy<Value = Gen> {
            (
                (
                    any::<bool>(),
                    1u32..=3,
                    1u32..=300,
                    prop_oneof![Just(0u32), 1u32..=60],
                ),
                proptest::collection::vec(
                    proptest::option::of(prop_oneof![Just(0u32), 1u32..=60]),
                    USERS,
                ),
                proptest::collection::vec(db(), 1..=3),
                proptest::collection::vec(app(), 0..=3),
                proptest::collection::vec(0u32..=20, 0..=2),
                (10u32..=300, 0u32..=5, 0u32..=5),
            )
                .prop_map(
                    |(
                        (pgbouncer, instances, max_client_conn, global_user_cap),
                        user_caps,
                        dbs,
                        apps,
                        clients,
                        (max_connections, superuser_reserved, reserved),
                    )| Gen {
                        pgbouncer,
                        instances,
                        max_client_conn,
                        global_user_cap,
                        user_caps,
                        dbs,
                        apps,
                        clients,
                        max_connections,
                        superuser_reserved,
                        reserved,
                    },
                )
        }

        fn manifest(g: &Gen) -> String {
            let mut t = String::new();
            let _ = write!(
                t,
                "[stack]\nname = \"prop\"\n\n[postgres]\nversion = 16\nmax_connections = {}\nsuperuser_reserved_connections = {}\n\n[postgres.settings]\nreserved_connections = {}\n\n[pgbouncer]\nenabled = {}\nversion = \"1.22\"\ninstances = {}\nmax_client_conn = {}\nmax_user_connections = {}\n",
                g.max_connections,
                g.superuser_reserved,
                g.reserved,
                g.pgbouncer,
                g.instances,
                g.max_client_conn,
                g.global_user_cap
            );
            for (i, db) in g.dbs.iter().enumerate() {
                let users: Vec<String> = db.users.iter().map(|u| format!("\"u{u}\"")).collect();
                let _ = write!(
                    t,
                    "\n[[databases]]\nname = \"d{i}\"\nusers = [{}]\npool_size = {}\nreserve_pool_size = {}\nmax_db_connections = {}\n",
                    users.join(", "),
                    db.pool,
                    db.reserve,
                    db.cap
                );
                if let Some(f) = db.forced {
                    let _ = writeln!(t, "user = \"u{f}\"");
                }
            }
            for (j, cap) in g.user_caps.iter().enumerate() {
                let _ = write!(
                    t,
                    "\n[[users]]\nname = \"u{j}\"\npassword = {{ env = \"U{j}_PASSWORD\" }}\n"
                );
                if let Some(c) = cap {
                    let _ = writeln!(t, "max_user_connections = {c}");
                }
            }
            for (k, a) in g.apps.iter().enumerate() {
                let db = &g.dbs[a.db % g.dbs.len()];
                let _ = write!(
                    t,
                    "\n[[apps]]\nname = \"a{k}\"\nreplicas = {}\nprocesses = {}\ndatabase = \"d{}\"\nuser = \"u{}\"\npool_size = {}\nmax_overflow = {}\n",
                    a.replicas,
                    a.processes,
                    a.db % g.dbs.len(),
                    db.users[0],
                    a.pool,
                    a.overflow
                );
            }
            for (m, c) in g.clients.iter().enumerate() {
                let _ = write!(t, "\n[[clients]]\nname = \"c{m}\"\nconnections = {c}\n");
            }
            t
        }

        /// (CON001, CON002, CON003) as the rule catalog defines them, computed from the
        /// generated numbers: over explicit (database, user) pairs, caps applied per database
        /// and per user, the smaller of the two totals.
        fn expected(g: &Gen) -> (bool, bool, bool) {
            let capacity = i64::from(g.max_connections)
                - i64::from(g.superuser_reserved)
                - i64::from(g.reserved);
            let clients: i64 = g.clients.iter().map(|c| i64::from(*c)).sum();
            let unbounded = g.apps.iter().any(|a| a.pool == 0 || a.overflow < 0);
            let app_connections: i64 = g
                .apps
                .iter()
                .map(|a| {
                    i64::from(a.replicas * a.processes)
                        * (i64::from(a.pool) + i64::from(a.overflow))
                })
                .sum();
            if !g.pgbouncer {
                return (
                    false,
                    false,
                    unbounded || app_connections + clients > capacity,
                );
            }
            let con001 = unbounded
                || app_connections > i64::from(g.max_client_conn) * i64::from(g.instances);
            let mut by_database = 0i64;
            let mut by_user = [0i64; USERS];
            for db in &g.dbs {
                let pairs: Vec<usize> = match db.forced {
                    Some(f) => vec![f],
                    None => db.users.clone(),
                };
                let each = i64::from(db.pool + db.reserve);
                let mut db_sum = 0i64;
                for _ in &pairs {
                    db_sum += each;
                }
                let capped = if db.cap > 0 {
                    db_sum.min(i64::from(db.cap))
                } else {
                    db_sum
                };
                by_database += capped;
                for u in pairs {
                    by_user[u] += each.min(capped);
                }
            }
            let mut user_total = 0i64;
            for (u, sum) in by_user.iter().enumerate() {
                let cap = g.user_caps[u].unwrap_or(g.global_user_cap);
                user_total += if cap > 0 {
                    (*sum).min(i64::from(cap))
                } else {
                    *sum
                };
            }
            let servers = by_database.min(user_total) * i64::from(g.instances) + clients;
            (con001, servers > capacity, false)
        }

        proptest! {
            #[test]
            fn con001_to_con003_fire_exactly_when_the_budget_exceeds_capacity(g in stack()) {
                let toml = manifest(&g);
                let (con001, con002, con003) = expected(&g);
                let fired = testing::firing(&["CON001", "CON002", "CON003"], &toml);
                prop_assert_eq!(fired.contains(&"CON001"), con001, "CON001 on\n{}", toml);
                prop_assert_eq!(fired.contains(&"CON002"), con002, "CON002 on\n{}", toml);
                prop_assert_eq!(fired.contains(&"CON003"), con003, "CON003 on\n{}", toml);
            }
        }
    }
}
