//! PRE006, PRE010, PRE011 — what an app's framework does that transaction pooling breaks. The
//! app's kind (`crate::apps`) states the facts (held cursors, named statements, session `SET`s);
//! these rules weigh them against PgBouncer and never look at framework names.

mod split_trips;

use super::{Context, Rule};
use crate::catalog::pgbouncer::PgbVersion;
use crate::diag::{Diagnostic, Severity};
use crate::manifest::PoolMode;

pub const RULES: &[Rule] = &[
    Rule {
        code: "PRE006",
        name: "django-server-side-cursors",
        severity: Severity::Error,
        summary: "A Django app behind transaction pooling opens server-side cursors that outlive the transaction",
        doc: PRE006_DOC,
        check: Some(held_cursors),
    },
    Rule {
        code: "PRE007",
        name: "rails-prepared-statements",
        severity: Severity::Error,
        summary: "A Rails app prepares named statements behind transaction pooling that cannot carry them",
        doc: PRE007_DOC,
        check: Some(orm_prepared_statements),
    },
    Rule {
        code: "PRE008",
        name: "rails-advisory-locks",
        severity: Severity::Warning,
        summary: "A Rails app's migrations take session advisory locks through transaction pooling",
        doc: PRE008_DOC,
        check: Some(session_advisory_locks),
    },
    Rule {
        code: "PRE009",
        name: "prisma-pgbouncer-mode",
        severity: Severity::Error,
        summary: "Prisma's pgbouncer flag does not match what PgBouncer does with prepared statements",
        doc: PRE009_DOC,
        check: Some(pgbouncer_flag),
    },
    Rule {
        code: "PRE010",
        name: "driver-statement-cache",
        severity: Severity::Error,
        summary: "An app's driver names prepared statements that PgBouncer's transaction pooling cannot carry",
        doc: PRE010_DOC,
        check: Some(driver_statement_cache),
    },
    Rule {
        code: "PRE011",
        name: "session-state-leak",
        severity: Severity::Warning,
        summary: "An app applies a session-level SET that leaks to other clients behind transaction pooling",
        doc: PRE011_DOC,
        check: Some(session_state_leak),
    },
];

const PRE006_DOC: &str = "\
Checks every app whose framework opens server-side (named) cursors — Django's `.iterator()` does
unless DISABLE_SERVER_SIDE_CURSORS = True — behind PgBouncer's transaction or statement pooling.

Why it matters: the cursor is held across transactions, and the next fetch may run on another
server connection, where it does not exist: `django.db.utils.ProgrammingError: portal
\"_django_curs_…_sync_1\" does not exist` (psycopg 3, seen through PgBouncer 1.18 by
tests/real_clients.rs) or `OperationalError: cursor \"_django_curs_…\" does not exist`
(psycopg2).

How to fix: set DISABLE_SERVER_SIDE_CURSORS = true (poolstack's default behind transaction
pooling, which it renders), or use session pooling for the app.

Facts: reference/apps/facts.md §1.";

const PRE007_DOC: &str = "\
Checks every Rails app behind PgBouncer's transaction or statement pooling whose
prepared_statements is not false (Rails' own default is true): Rails names its statements `a1`,
`a2`… per connection. PgBouncer carries named statements only from 1.21 with
max_prepared_statements > 0, and even then Rails before 8.1 frees them with SQL `DEALLOCATE`,
which PgBouncer forwards to a server connection that never had them.

Users see
`ActiveRecord::StatementInvalid: PG::DuplicatePstatement: ERROR:  prepared statement \"a1\" already exists`
or `PG::InvalidSqlStatementName: ERROR:  prepared statement \"a1\" does not exist`, and worse, a
query can run another query's `a1` on that server connection (`ActiveRecord::RecordNotFound` for
rows that exist).

How to fix: prepared_statements = false (poolstack's default behind transaction pooling, rendered
into DATABASE_URL), or PgBouncer 1.21+ with max_prepared_statements > 0 and Rails 8.1.

Facts: reference/apps/facts.md §0 and §2.";

const PRE008_DOC: &str = "\
Checks every Rails app behind PgBouncer's transaction or statement pooling whose advisory_locks is
not false (Rails' own default is true): migrations take a session-level `pg_advisory_lock` and
release it later, possibly from another server connection.

Users see `WARNING:  you don't own a lock of type ExclusiveLock` and
`ActiveRecord::ConcurrentMigrationError: Failed to release advisory lock`. The lock stays with a
server connection PgBouncer keeps open, so later migrations fail with
`Cannot run migrations because another migration process is currently running.`

How to fix: advisory_locks = false (poolstack's default behind transaction pooling; the Rails
guide says so for PgBouncer), or run migrations over a direct connection.

Facts: reference/apps/facts.md §2.";

const PRE009_DOC: &str = "\
Checks every app with a client-side PgBouncer mode (Prisma 6's `pgbouncer=true`) behind
PgBouncer's transaction or statement pooling. Off, Prisma names its statements `s0`, `s1`…, which
only a PgBouncer that tracks them (1.21+ with max_prepared_statements > 0) carries. On, Prisma
prepares nothing by name but sends `DEALLOCATE ALL` at each transaction start, which PgBouncer
1.21 forwards to the server, wiping the statements it tracks for other clients (1.22 answers it
itself).

Users see `prepared statement \"s0\" already exists` (off, untracked) or `prepared statement
\"PGBOUNCER_3\" does not exist` (on, 1.21 with tracking).

How to fix: let poolstack choose (its default is true exactly when PgBouncer cannot track
statements), or upgrade PgBouncer to 1.22 or later. Prisma 7's driver adapter prepares nothing
by name and has no flag.

Facts: reference/apps/facts.md §0 and §3.";

const PRE011_DOC: &str = "\
Checks every app whose framework applies a setting with a session-level `SET` after connecting
(Django's OPTIONS assume_role runs `SET ROLE`) behind PgBouncer's transaction or statement pooling.

Why it matters: PgBouncer hands the server connection to other clients after each transaction,
with the role (or variable) still set: other apps run as that role, and this app's later
transactions may run without it. Only the parameters PgBouncer tracks (client_encoding, DateStyle,
TimeZone, standard_conforming_strings, application_name) are restored per client.

How to fix: log in as the role itself (a [[users]] entry), set the parameter on the role or the
database (`ALTER ROLE … SET …`), or use session pooling for the app.

Facts: reference/apps/facts.md §0 (startup packet, tracked parameters), §1 (assume_role).";

const PRE010_DOC: &str = "\
Checks every app of a kind other than sqlalchemy that reaches PostgreSQL through PgBouncer in
transaction or statement pooling: if its driver names prepared statements (asyncpg's
statement_cache_size > 0 — asyncpg's own default is 100; psycopg_pool's prepare_threshold set to
a number — psycopg's own default is 5, and 0 prepares every query), PgBouncer must carry them:
1.21 or later with max_prepared_statements > 0 (1.22 for psycopg, which also needs libpq 17 or
later, because an older libpq frees statements with SQL `DEALLOCATE` that PgBouncer forwards).

Why it matters: the next transaction of the same client may run on another server connection,
where the named statement does not exist or another client's statement holds the name. Users see
`InvalidSQLStatementNameError: prepared statement \"__asyncpg_stmt_35__\" does not exist` or
`DuplicatePreparedStatementError: prepared statement \"__asyncpg_stmt_1__\" already exists`
(asyncpg), `prepared statement \"_pg3_0\" already exists` (psycopg).

How to fix: keep poolstack's defaults (statement_cache_size = 0, prepare_threshold = \"none\"
behind transaction pooling), or run PgBouncer 1.21+ (1.22+ with libpq 17 for psycopg) with
max_prepared_statements > 0.

It also fires for pgx's default_query_exec_mode = describe_exec, whatever the PgBouncer: each
query takes two round trips on the unnamed statement, and PgBouncer may give the second to another
server connection (`unnamed prepared statement does not exist`); no version carries it.

Facts: reference/apps/facts.md §0 (max_prepared_statements), §7 (asyncpg), §8 (psycopg_pool);
reference/sqlalchemy/facts.md §4.";

/// The transaction/statement pool mode an app meets through PgBouncer, if it does.
fn transaction_mode<'s>(
    stack: &'s crate::stack::Stack,
    app: &crate::stack::App,
) -> Option<&'s crate::stack::Setting<PoolMode>> {
    if !app.url.via_pgbouncer {
        return None;
    }
    stack
        .pool_mode_for(&app.database.value, &app.user.value)
        .filter(|m| m.value != PoolMode::Session)
}

fn held_cursors(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        let Some(mode) = transaction_mode(stack, app) else {
            continue;
        };
        let Some(c) = app.kind().held_cursors(app) else {
            continue;
        };
        let d = Diagnostic::new(
            "PRE006",
            Severity::Error,
            format!(
                "app `{}` opens server-side cursors that outlive the transaction ({}), but PgBouncer's {} pooling may run the next fetch on another server connection: users get {}",
                app.name.value,
                c.setting,
                mode.value.as_str(),
                c.symptom
            ),
        )
        .at(c.loc.or(mode.loc()).or(app.name.loc()).cloned())
        .help(if stack.manifest_path.is_some() {
            c.fix.clone()
        } else {
            c.fix_env.clone()
        });
        out.push(if c.loc.is_some() && mode.loc().is_some() {
            d.related(
                mode.loc().cloned(),
                format!("pool_mode = {}", mode.value.as_str()),
            )
        } else {
            d
        });
    }
}

fn pgbouncer_flag(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let tracks = pgb
        .max_prepared_statements
        .as_ref()
        .is_some_and(|m| m.value > 0);
    let v121 = pgb
        .release()
        .is_some_and(|v| v >= PgbVersion::new(1, 21) && v < PgbVersion::new(1, 22));
    for app in &stack.apps {
        let Some(mode) = transaction_mode(stack, app) else {
            continue;
        };
        let Some(f) = app.kind().pgbouncer_flag(app) else {
            continue;
        };
        let (message, fix) = if f.on && tracks && v121 {
            (
                format!(
                    "app `{}` ({}) sends `DEALLOCATE ALL` at each transaction start, and PgBouncer 1.21 forwards it to the server, wiping the statements it tracks (max_prepared_statements > 0) for every client: users get `prepared statement \"PGBOUNCER_3\" does not exist`",
                    app.name.value, f.setting
                ),
                f.fix_on.clone(),
            )
        } else if !f.on && !tracks {
            (
                format!(
                    "app `{}` ({}) names its prepared statements {}, but PgBouncer in {} pooling does not track them (before 1.21, or max_prepared_statements = 0): users get `prepared statement \"s0\" already exists`",
                    app.name.value,
                    f.setting,
                    f.statements,
                    mode.value.as_str()
                ),
                f.fix_off.clone(),
            )
        } else {
            continue;
        };
        out.push(
            Diagnostic::new("PRE009", Severity::Error, message)
                .at(f.loc.or(mode.loc()).or(app.name.loc()).cloned())
                .help(fix),
        );
    }
}

fn session_state_leak(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        let Some(mode) = transaction_mode(stack, app) else {
            continue;
        };
        for s in app.kind().session_state(app) {
            out.push(
                Diagnostic::new(
                    "PRE011",
                    Severity::Warning,
                    format!(
                        "app `{}` runs `{}` on each new connection ({}), but in {} pooling PgBouncer hands that server connection to other clients with it still set, and this app's next transaction may run on a connection without it",
                        app.name.value,
                        s.statement,
                        s.setting,
                        mode.value.as_str()
                    ),
                )
                .at(s.loc.or(app.name.loc()).cloned())
                .help(s.fix.clone()),
            );
        }
    }
}

fn orm_prepared_statements(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    named_statements(cx, out, "PRE007");
}

fn driver_statement_cache(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    named_statements(cx, out, "PRE010");
    split_trips::check(cx, out);
}

fn session_advisory_locks(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        let Some(mode) = transaction_mode(stack, app) else {
            continue;
        };
        let Some(l) = app.kind().session_locks(app) else {
            continue;
        };
        out.push(
            Diagnostic::new(
                "PRE008",
                Severity::Warning,
                format!(
                    "app `{}` takes session advisory locks in its migrations ({}), but in {} pooling the unlock may run on another server connection: migrations fail with {}",
                    app.name.value,
                    l.setting,
                    mode.value.as_str(),
                    l.symptom
                ),
            )
            .at(l.loc.or(mode.loc()).or(app.name.loc()).cloned())
            .help(l.fix.clone()),
        );
    }
}

/// PRE007 and PRE010: the kind says which of the two its named statements are.
fn named_statements(cx: &Context<'_>, out: &mut Vec<Diagnostic>, code: &'static str) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    for app in stack.apps.iter().filter(|a| a.url.via_pgbouncer) {
        let Some(mode) = stack.pool_mode_for(&app.database.value, &app.user.value) else {
            continue;
        };
        if mode.value == PoolMode::Session {
            continue;
        }
        let Some(needs) = app.kind().named_statements(app).filter(|n| n.code == code) else {
            continue;
        };
        let min = PgbVersion::new(needs.min_pgbouncer.0, needs.min_pgbouncer.1);
        let mut lacks: Vec<String> = Vec::new();
        let mut related = Vec::new();
        match &pgb.version {
            Some(v) if v.value < min => {
                lacks.push(format!(
                    "PgBouncer {} ({}) is older than {min}",
                    v.value,
                    v.origin.describe(&stack.sources)
                ));
                related.push((
                    v.loc().cloned(),
                    format!("PgBouncer {} declared here", v.value),
                ));
            }
            Some(_) => {}
            None => lacks.push(format!(
                "it needs PgBouncer ≥ {min}, and no version is declared"
            )),
        }
        match &pgb.max_prepared_statements {
            Some(mps) if mps.value == 0 => {
                lacks.push(format!(
                    "max_prepared_statements = 0 ({})",
                    mps.origin.describe(&stack.sources)
                ));
                related.push((
                    mps.loc().cloned(),
                    "max_prepared_statements = 0 disables PgBouncer's prepared-statement support"
                        .to_string(),
                ));
            }
            Some(_) => {}
            None if pgb.version.is_none() => lacks.push(
                "max_prepared_statements is not set (PgBouncer's default is 0 before 1.24)".into(),
            ),
            None => {}
        }
        match needs.libpq {
            Some(Some(l)) if l.value.int().is_some_and(|n| n < 17) => {
                lacks.push(format!(
                    "libpq {} ({}) is older than 17",
                    l.value,
                    l.origin.describe(&stack.sources)
                ));
                related.push((l.loc().cloned(), format!("libpq {} declared here", l.value)));
            }
            Some(None) => lacks.push(
                "the driver also needs libpq 17 or later, and the app declares no `libpq`".into(),
            ),
            _ => {}
        }
        if let Some(why) = &needs.frees_with_sql {
            lacks.push(why.clone());
        }
        if lacks.is_empty() {
            continue;
        }
        let mode_text = format!(
            "pool_mode = {}, {}",
            mode.value.as_str(),
            mode.origin.describe(&stack.sources)
        );
        let mut d = Diagnostic::new(
            code,
            Severity::Error,
            format!(
                "app `{}` ({}) names its prepared statements, but PgBouncer cannot carry them in {} pooling ({mode_text}): {}. Clients get {}",
                app.name.value,
                needs.setting,
                mode.value.as_str(),
                lacks.join("; "),
                needs.symptom
            ),
        )
        .at(needs.setting_loc.or(mode.loc()).cloned())
        .help(if stack.manifest_path.is_some() {
            format!(
                "{}; or run PgBouncer {min} or later with max_prepared_statements > 0{}",
                needs.fix,
                if needs.libpq.is_some() {
                    " and libpq 17 or later (declare it with `libpq`)"
                } else {
                    ""
                }
            )
        } else {
            needs.fix_env.clone()
        });
        related.insert(0, (mode.loc().cloned(), mode_text.clone()));
        for (loc, msg) in related {
            if loc.is_some() && loc != d.primary {
                d = d.related(loc, msg);
            }
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests;
