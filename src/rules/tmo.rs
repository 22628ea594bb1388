//! TMO — timeouts and liveness.
//!
//! PgBouncer times are seconds (fractions allowed), PostgreSQL's are in each parameter's unit;
//! both are compared as [`Duration`]s. A timeout of 0 is disabled, i.e. infinite.

use super::con::relate;
use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::manifest::PoolMode;
use crate::source::Loc;
use crate::stack::{Origin, PgParam, PgbOption, Pgbouncer, Postgres, Setting, User};
use crate::units::Duration;

pub const RULES: &[Rule] = &[
    Rule {
        code: "TMO001",
        name: "recycle-after-idle-close",
        severity: Severity::Warning,
        summary: "An app reuses idle connections the other side has closed (no pre_ping)",
        doc: TMO001_DOC,
        check: Some(recycle_after_idle_close),
    },
    Rule {
        code: "TMO002",
        name: "query-timeout-not-above-statement-timeout",
        severity: Severity::Warning,
        summary: "PgBouncer's query_timeout is not above PostgreSQL's statement_timeout",
        doc: TMO002_DOC,
        check: Some(query_timeout_not_above_statement_timeout),
    },
    Rule {
        code: "TMO003",
        name: "idle-in-transaction-unbounded",
        severity: Severity::Warning,
        summary: "Transaction pooling with no idle-in-transaction timeout on either side",
        doc: TMO003_DOC,
        check: Some(idle_in_transaction_unbounded),
    },
    Rule {
        code: "TMO005",
        name: "server-closes-pooled-connections",
        severity: Severity::Warning,
        summary: "PostgreSQL's idle_session_timeout closes server connections PgBouncer still pools",
        doc: TMO005_DOC,
        check: Some(server_closes_pooled_connections),
    },
];

const TMO001_DOC: &str = "\
Checks every app without pre_ping: its SQLAlchemy pool_recycle against the idle timeout of the
side it connects to — PgBouncer's client_idle_timeout (the app user's own [users]
client_idle_timeout where set) when the app goes through PgBouncer, PostgreSQL's
idle_session_timeout (14+) when it connects directly. It fires when that timeout is set (not 0)
and pool_recycle is not below it; pool_recycle = -1, SQLAlchemy's default, never recycles and
counts as infinite.

Why it matters: SQLAlchemy recycles a connection only at checkout, once it is older than
pool_recycle. A connection idle in the pool longer than the timeout has already been closed by
the other side (PostgreSQL logs `FATAL: terminating connection due to idle-session timeout`),
and without pre_ping the app hands it out anyway: the first statement on it fails with a
disconnect error, usually at the quietest moment of the day.

How to fix: set pre_ping = true (SQLAlchemy then tests each connection at checkout and replaces
dead ones), or set pool_recycle below the timeout (the help gives the bound).

Other kinds of app are checked the same way with their own settings (the README's table of
kinds): asyncpg max_inactive_connection_lifetime, psycopg_pool (min_size connections kept
forever) with check, Django CONN_MAX_AGE with CONN_HEALTH_CHECKS (or its pool), node-postgres and
Prisma 7 idleTimeoutMillis, Rails idle_timeout; pgx and HikariCP check connections before lending
them and never fire.

Facts: ../reference/sqlalchemy/facts.md §2 (pool_recycle, pool_pre_ping) and §7 rule 6;
../reference/postgres/crosscheck-facts.md §2 (idle_session_timeout);
../reference/pgbouncer/facts.md §2 (client_idle_timeout) and §3 ([users] client_idle_timeout).";

const TMO002_DOC: &str = "\
Checks, with PgBouncer, that a query_timeout (the global one, or a user's own [users]
query_timeout) that is set (not 0) is above PostgreSQL's statement_timeout. A statement_timeout
of 0, PostgreSQL's default, is disabled: then PgBouncer's query_timeout is the only limit and
the rule fires too.

Why it matters: PostgreSQL's statement_timeout cancels the statement cleanly (`ERROR:
canceling statement due to statement timeout`) and the session, its transaction state and the
server connection survive. PgBouncer's query_timeout is a blunt instrument: it drops the server
connection, so the client loses its connection and PgBouncer has to open a new one. PgBouncer's
own documentation lists it under \"dangerous timeouts\" and says to use it only with a slightly
smaller server-side statement_timeout, to catch network problems.

How to fix: set statement_timeout below query_timeout — for the roles behind PgBouncer with
ALTER ROLE … SET statement_timeout, or in [postgres.settings] — or raise query_timeout above it,
or set query_timeout = 0. A statement_timeout set with ALTER ROLE is not visible to poolstack.

Facts: ../reference/postgres/crosscheck-facts.md §2 (statement_timeout, setting timeouts behind
PgBouncer); ../reference/pgbouncer/facts.md §2 (query_timeout) and §3 ([users] query_timeout).";

const TMO003_DOC: &str = "\
Checks, for PgBouncer pools in transaction mode (the user's pool_mode where set, else the
database's), that something bounds how long a client may sit idle inside a transaction:
PostgreSQL's idle_in_transaction_session_timeout, or PgBouncer's idle_transaction_timeout (or
the user's own [users] idle_transaction_timeout). Both default to 0, disabled.

Why it matters: in transaction mode a server connection belongs to one client from BEGIN to
COMMIT. A client that stops in between — a crashed worker, a debugger, a request that awaits an
HTTP call inside a transaction — pins that connection forever, and a few of them drain the
pool; the open transaction also holds back VACUUM (\"an open transaction prevents vacuuming away
recently-dead tuples\"). With a timeout PostgreSQL ends such a session (`FATAL: terminating
connection due to idle-in-transaction timeout`) or PgBouncer disconnects the client.

How to fix: set idle_in_transaction_session_timeout in [postgres.settings], or
idle_transaction_timeout in [pgbouncer.settings], above the longest legitimate pause inside a
transaction.

Facts: ../reference/postgres/crosscheck-facts.md §2 (idle_in_transaction_session_timeout);
../reference/pgbouncer/facts.md §2 (idle_transaction_timeout), §3 and §7 item 10.";

const TMO005_DOC: &str = "\
Checks, with PgBouncer, that PostgreSQL's idle_session_timeout (14+), when set (not 0), is above
both PgBouncer's server_idle_timeout and server_lifetime (600 and 3600 seconds when not set).
server_idle_timeout = 0 disables PgBouncer's idle close, so any idle_session_timeout is below it;
server_lifetime = 0 closes a server connection after each use, so it never idles that long.

Why it matters: PgBouncer keeps server connections idle in its pools until server_idle_timeout
or server_lifetime closes them. A shorter idle_session_timeout makes PostgreSQL terminate them
first (`FATAL: terminating connection due to idle-session timeout`): PgBouncer sees pooled
connections die, reconnects, and a client handed one at the wrong moment gets an error.
PostgreSQL's documentation: \"Be wary of enforcing this timeout on connections made through
connection-pooling software or other middleware\".

How to fix: set idle_session_timeout = 0 for PgBouncer's login role (ALTER ROLE … SET
idle_session_timeout = 0) or globally, or above both PgBouncer timeouts; or lower
server_idle_timeout and server_lifetime below it.

Facts: ../reference/postgres/crosscheck-facts.md §2 (idle_session_timeout and its lint);
../reference/pgbouncer/facts.md §2 (server_idle_timeout, server_lifetime).";

/// A timeout with where it came from; `None` duration = disabled (0).
#[derive(Clone)]
struct Timeout {
    name: String,
    value: Option<Duration>,
    /// `300s (PgBouncer's default)` or `5min`.
    shown: String,
    loc: Option<Loc>,
}

impl Timeout {
    /// A `[pgbouncer]` option or `[users]` key in seconds.
    fn pgbouncer(opt: &PgbOption, label: String) -> Timeout {
        let secs = opt.number.unwrap_or(0.0).max(0.0);
        let value = (secs > 0.0).then(|| Duration((secs * 1_000_000.0).round() as u64));
        let note = match &opt.origin {
            Origin::Default(_) => " (not set: PgBouncer's default)".to_string(),
            other => other.note(),
        };
        Timeout {
            name: label,
            value,
            shown: shown(value.map(|_| format!("{}s", opt.ini_text)), &note),
            loc: opt.origin.loc().cloned(),
        }
    }

    /// A PostgreSQL time parameter.
    fn postgres(p: &PgParam, pg: &Postgres) -> Timeout {
        let value = p.duration().filter(|d| d.0 > 0);
        let note = match &p.origin {
            Origin::Default(_) => {
                format!(
                    " (not set: {}'s built-in default)",
                    pg.major()
                        .map_or("PostgreSQL".to_string(), |v| format!("PostgreSQL {v}"))
                )
            }
            other => other.note(),
        };
        Timeout {
            name: p.name.clone(),
            value,
            shown: shown(value.map(|d| d.to_string()), &note),
            loc: p.origin.loc().cloned(),
        }
    }

    fn described(&self) -> String {
        format!("{} {}", self.name, self.shown)
    }
}

/// `300s (not set: PgBouncer's default)`, or for a disabled timeout `0 (disabled; not set: …)`.
fn shown(value: Option<String>, note: &str) -> String {
    match value {
        Some(v) => format!("{v}{note}"),
        None => match note.strip_prefix(" (") {
            Some(rest) => format!("0 (disabled; {rest}"),
            None => "0 (disabled)".to_string(),
        },
    }
}

/// A `[users]` override of a PgBouncer timeout for `user`, else the global option (or its default).
fn pgbouncer_timeout(pgb: &Pgbouncer, user: Option<&User>, name: &str) -> Option<Timeout> {
    if let Some((u, o)) =
        user.and_then(|u| u.options.iter().find(|o| o.name == name).map(|o| (u, o)))
    {
        return Some(Timeout::pgbouncer(
            o,
            format!("{name} of user `{}`", u.name.value),
        ));
    }
    pgb.option_or_default(name)
        .map(|o| Timeout::pgbouncer(&o, name.to_string()))
}

fn recycle_after_idle_close(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let pg = &stack.postgres;
    for app in &stack.apps {
        // The kind says how long the app keeps idle connections and whether it checks them.
        let idle = app.kind().idle_keep(app);
        if idle.checked {
            continue;
        }
        let (timeout, closer) = match (&stack.pgbouncer, app.url.via_pgbouncer) {
            (Some(pgb), true) => (
                pgbouncer_timeout(pgb, stack.user(&app.user.value), "client_idle_timeout"),
                "PgBouncer closes client connections idle for",
            ),
            _ => (
                pg.param_or_default("idle_session_timeout")
                    .map(|p| Timeout::postgres(&p, pg)),
                "PostgreSQL terminates sessions idle for",
            ),
        };
        let Some(timeout) = timeout else {
            continue;
        };
        let Some(limit) = timeout.value else {
            continue;
        };
        if idle.keep.is_some_and(|keep| keep < limit) {
            continue;
        }
        let name = &app.name.value;
        let primary = idle.keep_loc.or(idle.check_loc).or(app.name.loc());
        let (manifest_fix, env_fix) = match (idle.check_key, idle.keep_key) {
            (Some((c, ce)), Some((k, ke))) => (
                format!("set {c} = true for `{name}`, or {k} below {limit}"),
                format!("set {ce}=true, or {ke} below {limit}"),
            ),
            (Some((c, ce)), None) => (
                format!("set {c} = true for `{name}`"),
                format!("set {ce}=true"),
            ),
            (None, Some((k, ke))) => (
                format!("set {k} below {limit} for `{name}`"),
                format!("set {ke} below {limit}"),
            ),
            (None, None) => (
                format!(
                    "lower {closer_key} or set it to 0",
                    closer_key = timeout.name
                ),
                format!("lower {} or set it to 0", timeout.name),
            ),
        };
        let d = Diagnostic::new(
            "TMO001",
            Severity::Warning,
            format!(
                "app `{name}` {}, but {closer} {}: the app will hand out connections the other side already closed, and their first statement fails",
                idle.summary,
                timeout.described()
            ),
        )
        .at(primary.cloned())
        .help(if stack.manifest_path.is_some() {
            manifest_fix
        } else {
            env_fix
        });
        let d = relate(
            d,
            timeout.loc.as_ref(),
            format!("{} = {}", timeout.name, timeout.shown),
        );
        out.push(relate(d, idle.check_loc, idle.check_related.clone()));
    }
}

fn query_timeout_not_above_statement_timeout(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Hand-written files without a PostgreSQL configuration: nothing to compare against.
    if !cx.stack.postgres.described {
        return;
    }
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let pg = &stack.postgres;
    let Some(statement) = pg
        .param_or_default("statement_timeout")
        .map(|p| Timeout::postgres(&p, pg))
    else {
        return;
    };
    // The global query_timeout, and each user's own where it overrides it.
    let mut timeouts: Vec<Timeout> = pgb
        .option_or_default("query_timeout")
        .map(|o| Timeout::pgbouncer(&o, "query_timeout".to_string()))
        .into_iter()
        .collect();
    let index = stack.user_index();
    for name in stack.pool_users() {
        if let Some(t) = index
            .get(name)
            .copied()
            .filter(|u| u.options.iter().any(|o| o.name == "query_timeout"))
            .and_then(|u| pgbouncer_timeout(pgb, Some(u), "query_timeout"))
        {
            timeouts.push(t);
        }
    }
    for query in timeouts {
        let Some(q) = query.value else {
            continue;
        };
        let not_above = match statement.value {
            None => true,
            Some(s) => q <= s,
        };
        if !not_above {
            continue;
        }
        let (why, help) = match statement.value {
            None => (
                format!(
                    "{}: the server never cancels a statement itself (a per-role ALTER ROLE … SET is not visible here)",
                    statement.described()
                ),
                format!(
                    "set statement_timeout slightly below {q} for the roles behind PgBouncer (ALTER ROLE … SET, or [postgres.settings]), or set {} = 0",
                    query.name
                ),
            ),
            Some(s) => (
                format!("{} ≥ {}", statement.described(), query.described()),
                format!(
                    "raise {} above {s}, or lower statement_timeout below {q}",
                    query.name
                ),
            ),
        };
        let d = Diagnostic::new(
            "TMO002",
            Severity::Warning,
            format!(
                "PgBouncer {} is not above PostgreSQL's statement_timeout: {why}; PgBouncer drops the server connection before the server would cancel the statement cleanly",
                query.described()
            ),
        )
        .at(query.loc.clone().or(statement.loc.clone()))
        .help(help);
        out.push(relate(
            d,
            statement.loc.as_ref(),
            format!("statement_timeout = {}", statement.shown),
        ));
    }
}

/// A user without an idle_transaction_timeout of its own: name, its own pool_mode (if any),
/// and the timeout that applies (unset or 0).
type UnboundedUser<'a> = (&'a str, Option<&'a Setting<PoolMode>>, Option<Timeout>);

fn idle_in_transaction_unbounded(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Hand-written files without a PostgreSQL configuration: nothing to compare against.
    if !cx.stack.postgres.described {
        return;
    }
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let pg = &stack.postgres;
    let server_side = pg
        .param_or_default("idle_in_transaction_session_timeout")
        .map(|p| Timeout::postgres(&p, pg));
    if server_side.as_ref().is_some_and(|t| t.value.is_some()) {
        return;
    }
    let mut unbounded: Vec<String> = Vec::new();
    let mut mode_loc: Option<&Loc> = None;
    let mut bouncer_side: Option<Timeout> = None;
    let mut count = 0usize;
    let index = stack.user_index();
    // Per group of databases sharing their users: each user's own mode and timeout once, then
    // each database's pools counted, never listing every pair (hand-written files may have
    // thousands of entries × thousands of users).
    for group in stack.pool_groups() {
        let users: Vec<UnboundedUser<'_>> = group
            .users
            .names()
            .filter_map(|name| {
                let user = index.get(name).copied();
                let timeout = pgbouncer_timeout(pgb, user, "idle_transaction_timeout");
                timeout
                    .as_ref()
                    .is_none_or(|t| t.value.is_none())
                    .then(|| (name, user.and_then(|u| u.pool_mode.as_ref()), timeout))
            })
            .collect();
        let own_transaction = users
            .iter()
            .filter(|(_, own, _)| own.is_some_and(|m| m.value == PoolMode::Transaction))
            .count();
        let inheriting = users.iter().filter(|(_, own, _)| own.is_none()).count();
        for db in &group.databases {
            let inherits_transaction = db.pool_mode.value == PoolMode::Transaction;
            let n = own_transaction + if inherits_transaction { inheriting } else { 0 };
            if n == 0 {
                continue;
            }
            let first = count == 0;
            count += n;
            if unbounded.len() >= 5 && !first {
                continue;
            }
            // Names for the message (the first five) and the first places.
            for (name, own, timeout) in &users {
                let mode = own.unwrap_or(&db.pool_mode);
                if mode.value != PoolMode::Transaction {
                    continue;
                }
                if unbounded.len() < 5 {
                    unbounded.push(format!("{}/{}", db.name.value, name));
                }
                mode_loc = mode_loc.or(mode.loc());
                if bouncer_side.is_none() {
                    bouncer_side = timeout.clone();
                }
                if unbounded.len() >= 5 {
                    break;
                }
            }
        }
    }
    if unbounded.is_empty() {
        return;
    }
    let shown = unbounded;
    let more = if count > shown.len() {
        format!(" and {} more", count - shown.len())
    } else {
        String::new()
    };
    let pg_text = server_side
        .map(|t| t.described())
        .unwrap_or_else(|| "idle_in_transaction_session_timeout not set".to_string());
    let pgb_text = bouncer_side
        .map(|t| t.described())
        .unwrap_or_else(|| "idle_transaction_timeout not set".to_string());
    let primary = mode_loc
        .or(pgb.pool_mode.loc())
        .or(pgb.version.as_ref().and_then(|v| v.loc()));
    let d = Diagnostic::new(
        "TMO003",
        Severity::Warning,
        format!(
            "transaction pooling ({}{more}) with no bound on idle transactions on either side (PostgreSQL's {pg_text}; PgBouncer's {pgb_text}): one client stuck inside a transaction pins a server connection forever and holds back VACUUM",
            shown.join(", ")
        ),
    )
    .at(primary.cloned())
    .help(if stack.manifest_path.is_some() {
        "set idle_in_transaction_session_timeout in [postgres.settings] or idle_transaction_timeout in [pgbouncer.settings], above the longest legitimate pause inside a transaction"
    } else {
        "set idle_in_transaction_session_timeout in postgresql.conf or idle_transaction_timeout in pgbouncer.ini's [pgbouncer], above the longest legitimate pause inside a transaction"
    });
    out.push(d);
}

fn server_closes_pooled_connections(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // Hand-written files without a PostgreSQL configuration: nothing to compare against.
    if !cx.stack.postgres.described {
        return;
    }
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let pg = &stack.postgres;
    let Some(idle) = pg
        .param_or_default("idle_session_timeout")
        .map(|p| Timeout::postgres(&p, pg))
    else {
        return;
    };
    let Some(idle_value) = idle.value else {
        return;
    };
    let mut reasons: Vec<String> = Vec::new();
    let mut related: Vec<(Option<Loc>, String)> = Vec::new();
    let mut raise_above: Option<Duration> = Some(Duration::ZERO);
    if let Some(t) = pgb
        .option_or_default("server_idle_timeout")
        .map(|o| Timeout::pgbouncer(&o, "server_idle_timeout".to_string()))
    {
        // 0 disables PgBouncer's idle close: connections stay pooled indefinitely.
        match t.value {
            None => {
                reasons.push(format!(
                    "{} (PgBouncer keeps idle server connections indefinitely)",
                    t.described()
                ));
                raise_above = None;
            }
            Some(v) if idle_value <= v => {
                reasons.push(format!("≤ {}", t.described()));
                raise_above = raise_above.map(|r| r.max(v));
            }
            Some(_) => {}
        }
        related.push((t.loc.clone(), format!("server_idle_timeout = {}", t.shown)));
    }
    if let Some(t) = pgb
        .option_or_default("server_lifetime")
        .map(|o| Timeout::pgbouncer(&o, "server_lifetime".to_string()))
    {
        // 0 closes a server connection after each use: it never sits idle for long.
        if let Some(v) = t.value.filter(|v| idle_value <= *v) {
            reasons.push(format!("≤ {}", t.described()));
            raise_above = raise_above.map(|r| r.max(v));
        }
        related.push((t.loc.clone(), format!("server_lifetime = {}", t.shown)));
    }
    if reasons.is_empty() {
        return;
    }
    let help = match raise_above {
        Some(v) => format!(
            "set idle_session_timeout = 0 for PgBouncer's login role (ALTER ROLE … SET idle_session_timeout = 0) or above {v}, or lower server_idle_timeout and server_lifetime below {idle_value}"
        ),
        None => format!(
            "set idle_session_timeout = 0 for PgBouncer's login role (ALTER ROLE … SET idle_session_timeout = 0), or set server_idle_timeout and server_lifetime below {idle_value}"
        ),
    };
    let mut d = Diagnostic::new(
        "TMO005",
        Severity::Warning,
        format!(
            "PostgreSQL {} {}: the server terminates connections PgBouncer still pools (`FATAL: terminating connection due to idle-session timeout`), and a client handed one gets an error",
            idle.described(),
            reasons.join(" and ")
        ),
    )
    .at(idle.loc.clone())
    .help(help);
    for (loc, message) in related {
        d = relate(d, loc.as_ref(), message);
    }
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{self, HEALTHY, healthy_with as healthy, only};
    use crate::diag::Severity;

    const MINE: &[&str] = &["CON", "MEM", "TMO"];

    /// HEALTHY with `[pgbouncer.settings]` lines.
    fn with_pgbouncer_settings(lines: &str) -> String {
        healthy(
            "\n[[databases]]",
            &format!("\n[pgbouncer.settings]\n{lines}\n\n[[databases]]"),
        )
    }

    /// HEALTHY with more `[postgres.settings]` lines.
    fn with_postgres_settings(lines: &str) -> String {
        healthy(
            "idle_in_transaction_session_timeout = \"5min\"\n",
            &format!("idle_in_transaction_session_timeout = \"5min\"\n{lines}\n"),
        )
    }

    #[test]
    fn tmo_rules_are_silent_on_healthy() {
        for code in ["TMO001", "TMO002", "TMO003", "TMO005"] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code}");
        }
    }

    #[test]
    fn tmo001_fires_when_pgbouncer_closes_idle_clients_first() {
        let toml = with_pgbouncer_settings("client_idle_timeout = 300")
            .replace("pre_ping = true", "pre_ping = false");
        assert_eq!(testing::firing(MINE, &toml), ["TMO001"]);
        let (stack, d) = only("TMO001", &toml);
        assert_eq!(d.severity, Severity::Warning);
        // pool_recycle is SQLAlchemy's default (never), so the finding points at pre_ping.
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "pre_ping = false")
        );
        assert!(
            d.message
                .contains("pool_recycle -1 (never: SQLAlchemy's default)")
                && d.message.contains("client_idle_timeout 300s"),
            "{}",
            d.message
        );
        assert_eq!(
            d.help.as_deref(),
            Some("set pre_ping = true for `api`, or pool_recycle below 5min")
        );
        // A recycle below the timeout, or pre_ping, or no client_idle_timeout: silent.
        let recycled = toml.replace(
            "pre_ping = false",
            "pre_ping = false\npool_recycle = \"4min\"",
        );
        assert!(testing::run("TMO001", &recycled).is_empty());
        let no_timeout = healthy("pre_ping = true", "pre_ping = false");
        assert!(testing::run("TMO001", &no_timeout).is_empty());
    }

    #[test]
    fn tmo001_checks_idle_session_timeout_on_direct_connections() {
        let toml = healthy("[pgbouncer]\n", "[pgbouncer]\nenabled = false\n")
            .replace(
                "pre_ping = true",
                "pre_ping = false\npool_recycle = \"30min\"",
            )
            .replace(
                "idle_in_transaction_session_timeout = \"5min\"",
                "idle_in_transaction_session_timeout = \"5min\"\nidle_session_timeout = \"10min\"",
            );
        assert_eq!(testing::firing(MINE, &toml), ["TMO001"]);
        let (stack, d) = only("TMO001", &toml);
        assert_eq!(testing::pointed_text(&stack, &d), "\"30min\"");
        assert!(
            d.message
                .contains("PostgreSQL terminates sessions idle for idle_session_timeout 10min"),
            "{}",
            d.message
        );
    }

    #[test]
    fn tmo002_fires_when_query_timeout_is_not_above_statement_timeout() {
        let toml = with_pgbouncer_settings("query_timeout = 30").replace(
            "work_mem = \"16MB\"",
            "work_mem = \"16MB\"\nstatement_timeout = \"60s\"",
        );
        assert_eq!(testing::firing(MINE, &toml), ["TMO002"]);
        let (stack, d) = only("TMO002", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "query_timeout = 30")
        );
        assert!(
            d.message
                .contains("statement_timeout 1min ≥ query_timeout 30s"),
            "{}",
            d.message
        );
        assert_eq!(
            d.help.as_deref(),
            Some("raise query_timeout above 1min, or lower statement_timeout below 30s")
        );
        let below = toml.replace("statement_timeout = \"60s\"", "statement_timeout = \"20s\"");
        assert!(testing::run("TMO002", &below).is_empty());
    }

    #[test]
    fn tmo002_treats_a_disabled_statement_timeout_as_infinite() {
        let toml = with_pgbouncer_settings("query_timeout = 30");
        let (_, d) = only("TMO002", &toml);
        assert!(
            d.message.contains("statement_timeout 0 (disabled; not set: PostgreSQL 16's built-in default): the server never cancels"),
            "{}",
            d.message
        );
    }

    #[test]
    fn tmo003_fires_on_transaction_pooling_without_idle_transaction_bound() {
        let toml = healthy("idle_in_transaction_session_timeout = \"5min\"\n", "");
        assert_eq!(testing::firing(MINE, &toml), ["TMO003"]);
        let (stack, d) = only("TMO003", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(
            testing::line(&stack, &d),
            testing::line_of(&toml, "pool_mode = \"transaction\"")
        );
        assert!(
            d.message.contains("transaction pooling (app/app) with no bound on idle transactions on either side (PostgreSQL's idle_in_transaction_session_timeout 0 (disabled; not set: PostgreSQL 16's built-in default); PgBouncer's idle_transaction_timeout 0 (disabled; not set: PgBouncer's default))"),
            "{}",
            d.message
        );
        // PgBouncer's own bound is enough.
        let bounded = with_pgbouncer_settings("idle_transaction_timeout = 60")
            .replace("idle_in_transaction_session_timeout = \"5min\"\n", "");
        assert!(testing::run("TMO003", &bounded).is_empty());
        // Session pooling is not affected.
        let session = toml.replace("pool_mode = \"transaction\"", "pool_mode = \"session\"");
        assert!(testing::run("TMO003", &session).is_empty());
    }

    #[test]
    fn tmo005_fires_when_the_server_closes_idle_connections_first() {
        let toml = with_postgres_settings("idle_session_timeout = \"5min\"");
        assert_eq!(testing::firing(MINE, &toml), ["TMO005"]);
        let (stack, d) = only("TMO005", &toml);
        assert_eq!(d.severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d), "\"5min\"");
        assert!(
            d.message.contains(
                "idle_session_timeout 5min ≤ server_idle_timeout 600s (not set: PgBouncer's default) and ≤ server_lifetime 3600s (not set: PgBouncer's default)"
            ),
            "{}",
            d.message
        );
        assert!(d.help.as_deref().is_some_and(|h| h.contains("or above 1h")));
        // Between the two PgBouncer timeouts: server_lifetime still keeps connections longer.
        let between = with_postgres_settings("idle_session_timeout = \"30min\"");
        let (_, d) = only("TMO005", &between);
        assert!(
            !d.message.contains("server_idle_timeout 600s"),
            "{}",
            d.message
        );
        let above = with_postgres_settings("idle_session_timeout = \"2h\"");
        assert!(testing::run("TMO005", &above).is_empty());
        // server_idle_timeout = 0 keeps idle server connections forever.
        let kept = with_postgres_settings("idle_session_timeout = \"2h\"").replace(
            "\n[[databases]]",
            "\n[pgbouncer.settings]\nserver_idle_timeout = 0\n\n[[databases]]",
        );
        let (_, d) = only("TMO005", &kept);
        assert!(
            d.message.contains("server_idle_timeout 0 (disabled)"),
            "{}",
            d.message
        );
    }
}
