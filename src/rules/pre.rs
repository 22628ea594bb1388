//! PRE — prepared statements and pool-mode semantics.

use super::{Context, Rule};
use crate::catalog::pgbouncer::PgbVersion;
use crate::diag::{Diagnostic, Severity};
use crate::manifest::{Driver, PoolMode, PrepareThreshold};
use crate::source::Loc;
use crate::stack::{App, Origin, Pgbouncer, Setting, SqlAlchemyApp, Stack};

pub const RULES: &[Rule] = &[
    Rule {
        code: "PRE001",
        name: "prepared-statements-through-transaction-pool",
        severity: Severity::Error,
        summary: "An app's driver prepares named statements that PgBouncer's transaction pooling cannot carry",
        doc: PRE001_DOC,
        check: Some(prepared_statements_through_pool),
    },
    Rule {
        code: "PRE002",
        name: "prepare-threshold-zero",
        severity: Severity::Warning,
        summary: "psycopg prepare_threshold = 0 prepares every query; \"none\" is what disables",
        doc: PRE002_DOC,
        check: Some(prepare_threshold_zero),
    },
    Rule {
        code: "PRE003",
        name: "reset-query-ignored",
        severity: Severity::Warning,
        summary: "server_reset_query is set but never runs, because no pool uses session pooling",
        doc: PRE003_DOC,
        check: Some(reset_query_ignored),
    },
    Rule {
        code: "PRE004",
        name: "statement-mode-with-transactions",
        severity: Severity::Error,
        summary: "A SQLAlchemy app goes through statement pooling, which refuses its transactions",
        doc: PRE004_DOC,
        check: Some(statement_mode_with_transactions),
    },
    Rule {
        code: "PRE005",
        name: "startup-options-through-pgbouncer",
        severity: Severity::Warning,
        summary: "An app URL passes `options=-c …` through PgBouncer: refused or silently dropped",
        doc: PRE005_DOC,
        check: Some(startup_options_through_pgbouncer),
    },
];

const PRE001_DOC: &str = "\
What it checks: for every app whose connections go through PgBouncer in transaction or statement
pooling (the pool mode of the app's user, else of its database, else the global pool_mode), that
its driver does not prepare named server-side statements PgBouncer cannot carry:
- psycopg 3 with prepare_threshold other than \"none\" needs PgBouncer 1.22 or later, with an
  effective max_prepared_statements above 0 (PgBouncer's default is 0 before 1.24 and 200 from
  1.24), and a client libpq 17 or later. When the app does not declare `libpq`, the finding says
  that it assumes an older one.
- asyncpg with statement_cache_size above 0 needs PgBouncer 1.21 or later with
  max_prepared_statements above 0.
psycopg2 never prepares statements and is never reported.

Why it matters: in transaction pooling, consecutive transactions of one client run on different
server connections. A statement prepared on one is missing on the next, and the app fails at
random with `prepared statement \"_pg3_0\" does not exist` (psycopg) or
`prepared statement \"__asyncpg_stmt_1__\" does not exist` / `already exists` (asyncpg).
PgBouncer 1.21 added protocol-level prepared statements (max_prepared_statements); psycopg relies
on 1.22's DEALLOCATE ALL support and on libpq 17's close-prepared call to use them.

How to fix: disable the driver's prepares — `prepare_threshold = \"none\"` (psycopg; in code,
`connect_args={\"prepare_threshold\": None}`) or `statement_cache_size = 0` (asyncpg, together with
SQLAlchemy's `prepared_statement_cache_size=0`) — or run a PgBouncer that carries them (1.22+
for psycopg, 1.21+ for asyncpg) with `max_prepared_statements` above 0, and declare the app's
`libpq`.

Facts: reference/sqlalchemy/facts.md §4 (psycopg prepare_threshold, the PgBouncer 1.22 / libpq 17
requirements), §5 (asyncpg statement_cache_size), §7 rules 1–2; reference/pgbouncer/facts.md §7
item 1 (the most reported PgBouncer pain point).";

const PRE002_DOC: &str = "\
What it checks: a psycopg app with prepare_threshold = 0 — in the manifest, or as
`DB_PREPARE_THRESHOLD=0` in a hand-written .env.

Why it matters: psycopg's prepare_threshold is the number of executions before a query is
prepared. 0 does not disable anything: it prepares **every** query on its first execution, the
most prepared setting there is. `None` is what disables prepared statements. Behind PgBouncer's
transaction pooling this turns every query into a candidate for
`prepared statement \"_pg3_0\" does not exist` (see PRE001). The MT5 seed document makes exactly
this mistake: its `.env` says `DB_PREPARE_THRESHOLD=0  # Disable prepared statements`.

How to fix: `prepare_threshold = \"none\"` in the manifest; in a .env, `DB_PREPARE_THRESHOLD=none`,
turned into `connect_args={\"prepare_threshold\": None}` by the app (a URL cannot express None,
and `?prepare_threshold=…` arrives as a string and fails with a TypeError).

Facts: reference/sqlalchemy/facts.md §4 (\"None vs 0 are opposites\", verified table of prepares
per execution).";

const PRE003_DOC: &str = "\
What it checks: server_reset_query set explicitly while every pool uses transaction (or
statement) pooling and server_reset_query_always is 0.

Why it matters: PgBouncer runs server_reset_query only when a server connection is released in
session pooling. In transaction pooling it is skipped unless server_reset_query_always = 1, so the
session cleanup the setting promises (`DISCARD ALL`: temporary tables, SET values, advisory locks,
prepared statements) never happens, and session state leaks from one client to the next.

How to fix: remove server_reset_query if the clients keep no session state (they must not, in
transaction pooling); or set server_reset_query_always = 1 if the reset must run after every
transaction (it costs a round trip each time).

Facts: reference/pgbouncer/facts.md §7 item 7 (session state in transaction mode,
`server_reset_query` not run) and §2 (server_reset_query, server_reset_query_always).";

const PRE004_DOC: &str = "\
What it checks: a SQLAlchemy app (every app of the manifest is one) whose connections go through
PgBouncer in statement pooling.

Why it matters: statement pooling returns the server connection after every statement and refuses
multi-statement transactions. SQLAlchemy always begins a transaction (autobegin) before its first
statement, so PgBouncer drops the connection with `Long transactions not allowed`.

How to fix: use pool_mode = \"transaction\" for that database (or user).

Facts: reference/pgbouncer/facts.md §2 (pool_mode), PgBouncer's server.c (statement mode
disconnects a server that reports an open transaction: \"Long transactions not allowed\").";

const PRE005_DOC: &str = "\
What it checks: an app URL that passes the `options` startup parameter (`options=-c name=value`)
to PgBouncer.

Why it matters: PgBouncer does not forward arbitrary startup parameters. Before 1.20 it refuses
`options` itself (`unsupported startup parameter: options`); from 1.20 it accepts only the
parameters it tracks (client_encoding, DateStyle, TimeZone, standard_conforming_strings,
application_name and track_extra_parameters) and disconnects with
`unsupported startup parameter in options: statement_timeout` for any other. A parameter listed in
ignore_startup_parameters is silently dropped instead — the connection works, and the setting is
never applied. track_extra_parameters cannot help for timeouts: it only works for parameters the
server reports (GUC_REPORT), and no timeout is one.

How to fix: remove `options` from the URL and set the parameters on the role or database:
`ALTER ROLE app SET statement_timeout = '5s'`.

Facts: reference/sqlalchemy/facts.md §1 (\"Passing options=-c … through PgBouncer\") and §7
rule 7; reference/postgres/guc-versions.md (GUC_REPORT parameters); reference/pgbouncer/facts.md §7
item 6.";

/// The first location among the candidates.
fn first_loc(candidates: &[Option<&Loc>]) -> Option<Loc> {
    candidates.iter().flatten().next().map(|l| (*l).clone())
}

/// `name = value (where it comes from)`.
fn shown<T: std::fmt::Display>(stack: &Stack, name: &str, s: &Setting<T>) -> String {
    format!(
        "{name} = {} ({})",
        s.value,
        s.origin.describe(&stack.sources)
    )
}

/// The pool mode an app's connections meet, when they go through PgBouncer.
fn app_pool_mode<'s>(stack: &'s Stack, app: &App) -> Option<&'s Setting<PoolMode>> {
    if !app.url.via_pgbouncer {
        return None;
    }
    stack.pool_mode_for(&app.database.value, &app.user.value)
}

/// `pool_mode = transaction, stack.toml:40` (written inside parentheses).
fn mode_text(stack: &Stack, mode: &Setting<PoolMode>) -> String {
    format!(
        "pool_mode = {}, {}",
        mode.value.as_str(),
        mode.origin.describe(&stack.sources)
    )
}

/// What a driver needs from PgBouncer to keep its prepared statements.
struct PrepareNeeds {
    /// e.g. `psycopg, prepare_threshold = 5 (stack.toml:40)`
    setting: String,
    setting_loc: Option<Loc>,
    min_version: PgbVersion,
    /// psycopg: libpq 17 or later.
    needs_libpq: bool,
    fix: &'static str,
}

fn prepare_needs(stack: &Stack, app: &SqlAlchemyApp) -> Option<PrepareNeeds> {
    match app.driver.value {
        Driver::Psycopg => {
            let t = app.prepare_threshold.as_ref()?;
            let PrepareThreshold::After(n) = t.value else {
                return None;
            };
            Some(PrepareNeeds {
                setting: format!(
                    "psycopg, prepare_threshold = {n}, {}",
                    t.origin.describe(&stack.sources)
                ),
                setting_loc: t.loc().cloned(),
                min_version: PgbVersion::new(1, 22),
                needs_libpq: true,
                fix: "set prepare_threshold = \"none\" for the app (in code: connect_args={\"prepare_threshold\": None})",
            })
        }
        Driver::Asyncpg => {
            let s = app.statement_cache_size.as_ref()?;
            (s.value > 0).then(|| PrepareNeeds {
                setting: format!(
                    "asyncpg, statement_cache_size = {}, {}",
                    s.value,
                    s.origin.describe(&stack.sources)
                ),
                setting_loc: s.loc().cloned(),
                min_version: PgbVersion::new(1, 21),
                needs_libpq: false,
                fix: "set statement_cache_size = 0 for the app (with SQLAlchemy's prepared_statement_cache_size=0 in the URL)",
            })
        }
        Driver::Psycopg2 => None,
    }
}

fn prepared_statements_through_pool(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    for app in &stack.apps {
        // Other kinds' drivers are PRE010's (crate::apps::NamedStatements).
        let Some(sqla) = app.sqlalchemy() else {
            continue;
        };
        let Some(mode) = app_pool_mode(stack, app) else {
            continue;
        };
        if mode.value == PoolMode::Session {
            continue;
        }
        let Some(needs) = prepare_needs(stack, sqla) else {
            continue;
        };
        let mut lacks: Vec<String> = Vec::new();
        let mut related: Vec<(Option<Loc>, String)> =
            vec![(mode.loc().cloned(), mode_text(stack, mode))];
        match &pgb.version {
            Some(v) if v.value < needs.min_version => {
                lacks.push(format!(
                    "PgBouncer {} ({}) is older than {}",
                    v.value,
                    v.origin.describe(&stack.sources),
                    needs.min_version
                ));
                related.push((
                    v.loc().cloned(),
                    format!("PgBouncer {} declared here", v.value),
                ));
            }
            Some(_) => {}
            // Hand-written files without a version: stated conditionally, never assumed.
            None => {
                lacks.push(format!(
                    "it needs PgBouncer ≥ {}, and no version is declared",
                    needs.min_version
                ));
                if pgb.max_prepared_statements.is_none() {
                    lacks.push(
                        "max_prepared_statements is not set (PgBouncer's default is 0 before 1.24)"
                            .to_string(),
                    );
                }
            }
        }
        if let Some(mps) = &pgb.max_prepared_statements
            && mps.value == 0
        {
            lacks.push(shown(stack, "max_prepared_statements", mps));
            related.push((
                mps.loc().cloned(),
                "max_prepared_statements = 0 disables PgBouncer's prepared-statement support"
                    .to_string(),
            ));
        }
        let mut libpq_unknown = false;
        if needs.needs_libpq {
            match &sqla.libpq {
                Some(l) if l.value < 17 => {
                    lacks.push(format!(
                        "libpq {} ({}) is older than 17",
                        l.value,
                        l.origin.describe(&stack.sources)
                    ));
                    related.push((l.loc().cloned(), format!("libpq {} declared here", l.value)));
                }
                Some(_) => {}
                None => libpq_unknown = true,
            }
        }
        if lacks.is_empty() && !libpq_unknown {
            continue;
        }
        let symptom = match sqla.driver.value {
            Driver::Asyncpg => "`prepared statement \"__asyncpg_stmt_1__\" does not exist`",
            _ => "`prepared statement \"_pg3_0\" does not exist`",
        };
        let message = if lacks.is_empty() {
            format!(
                "app `{}` ({}) relies on PgBouncer's prepared-statement support in {} pooling ({}), which psycopg uses only with libpq 17 or later; the app declares no `libpq`, so this assumes an older one: clients would get {symptom}",
                app.name.value,
                needs.setting,
                mode.value.as_str(),
                mode_text(stack, mode),
            )
        } else {
            let libpq_note = if libpq_unknown {
                "; psycopg also needs libpq 17 or later, and the app declares no `libpq`"
            } else {
                ""
            };
            format!(
                "app `{}` ({}) prepares named server-side statements, but PgBouncer cannot carry them in {} pooling ({}): {}{libpq_note}. Clients get {symptom}",
                app.name.value,
                needs.setting,
                mode.value.as_str(),
                mode_text(stack, mode),
                lacks.join("; "),
            )
        };
        let files = stack.manifest_path.is_none();
        let help = if files {
            // A .env cannot declare libpq or versions: the fix is the variable, or a suppression.
            format!(
                "write {}; or, if PgBouncer is 1.22 or later with max_prepared_statements > 0 and the app's libpq is 17 or later, suppress this with `# poolstack: ignore PRE001 <why>` above the line",
                if sqla.driver.value == Driver::Asyncpg {
                    "DB_STATEMENT_CACHE_SIZE=0 (and prepared_statement_cache_size=0 in the URL)"
                } else {
                    "DB_PREPARE_THRESHOLD=none (the app passes connect_args={\"prepare_threshold\": None})"
                }
            )
        } else if lacks.is_empty() {
            format!(
                "declare `libpq = 17` (or later) for app `{}` if its libpq is that new; otherwise {}",
                app.name.value, needs.fix
            )
        } else {
            let requirement = if needs.needs_libpq {
                "PgBouncer 1.22 or later with max_prepared_statements > 0, and libpq 17 or later (declare it with `libpq`)"
            } else {
                "PgBouncer 1.21 or later with max_prepared_statements > 0"
            };
            format!("{}; or run {requirement}", needs.fix)
        };
        let mut d = Diagnostic::new("PRE001", Severity::Error, message)
            .at(first_loc(&[needs.setting_loc.as_ref(), mode.loc()]))
            .help(help);
        for (loc, msg) in related {
            if loc.is_some() && loc != d.primary {
                d = d.related(loc, msg);
            }
        }
        out.push(d);
    }
}

fn prepare_threshold_zero(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        let Some(t) = app.sqlalchemy().and_then(|s| s.prepare_threshold.as_ref()) else {
            continue;
        };
        if t.value != PrepareThreshold::After(0) {
            continue;
        }
        let from_env = matches!(t.origin, Origin::Imported(_));
        let (written, help) = if from_env {
            (
                "DB_PREPARE_THRESHOLD=0",
                "write DB_PREPARE_THRESHOLD=none, and have the app pass connect_args={\"prepare_threshold\": None}",
            )
        } else {
            (
                "prepare_threshold = 0",
                "set prepare_threshold = \"none\" to disable prepared statements",
            )
        };
        out.push(
            Diagnostic::new(
                "PRE002",
                Severity::Warning,
                format!(
                    "app `{}`: {written} ({}) makes psycopg prepare every query on its first execution — the opposite of disabling prepared statements, which is prepare_threshold = None",
                    app.name.value,
                    t.origin.describe(&stack.sources)
                ),
            )
            .at(t.loc().cloned())
            .help(help),
        );
    }
}

/// The modes the pools use (or the global one when there are no pools): a user's own
/// pool_mode, else the database's. Worked out per group of databases sharing their users, so a
/// hand-written stack of thousands of entries × users stays cheap.
fn pool_modes<'s>(stack: &'s Stack, pgb: &'s Pgbouncer) -> Vec<&'s Setting<PoolMode>> {
    let index = stack.user_index();
    let mut modes: Vec<&Setting<PoolMode>> = Vec::new();
    for group in stack.pool_groups() {
        let mut own: Vec<&Setting<PoolMode>> = Vec::new();
        let mut inherit = false;
        for user in group.users.names() {
            match index.get(user).and_then(|u| u.pool_mode.as_ref()) {
                Some(m) => own.push(m),
                None => inherit = true,
            }
        }
        if inherit {
            modes.extend(group.databases.iter().map(|db| &db.pool_mode));
        }
        if !own.is_empty() {
            modes.extend(own);
        }
    }
    if modes.is_empty() {
        vec![&pgb.pool_mode]
    } else {
        modes
    }
}

fn reset_query_ignored(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let Some(query) = pgb.option("server_reset_query") else {
        return;
    };
    if !query.origin.is_explicit() || query.ini_text.trim().is_empty() {
        return;
    }
    let always = pgb.option("server_reset_query_always");
    if always.and_then(|o| o.number).is_some_and(|n| n != 0.0) {
        return;
    }
    let modes = pool_modes(stack, pgb);
    if modes.iter().any(|m| m.value == PoolMode::Session) {
        return;
    }
    let mode = modes[0];
    let always_text = match always {
        Some(o) => format!(
            "server_reset_query_always = {} ({})",
            o.ini_text,
            o.origin.describe(&stack.sources)
        ),
        None => "server_reset_query_always = 0 (PgBouncer's default)".to_string(),
    };
    let mut d = Diagnostic::new(
        "PRE003",
        Severity::Warning,
        format!(
            "server_reset_query = {} ({}) never runs: PgBouncer runs it only when a session-pooled connection is released, every pool here uses {} pooling ({}), and {always_text}",
            query.ini_text,
            query.origin.describe(&stack.sources),
            mode.value.as_str(),
            mode_text(stack, mode),
        ),
    )
    .at(query.origin.loc().cloned())
    .help("remove server_reset_query (clients must keep no session state in transaction pooling), or set server_reset_query_always = 1 if the reset must run after every transaction")
    .related(mode.loc().cloned(), format!("pool_mode = {} here", mode.value.as_str()));
    if let Some(o) = always {
        d = d.related(
            o.origin.loc().cloned(),
            "server_reset_query_always = 0 here",
        );
    }
    out.push(d);
}

fn statement_mode_with_transactions(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        let Some(mode) = app_pool_mode(stack, app) else {
            continue;
        };
        if mode.value != PoolMode::Statement {
            continue;
        }
        out.push(
            Diagnostic::new(
                "PRE004",
                Severity::Error,
                format!(
                    "app `{}` (SQLAlchemy) reaches database `{}` through statement pooling ({}): SQLAlchemy begins a transaction before its first statement, and PgBouncer refuses it with `Long transactions not allowed`",
                    app.name.value,
                    app.database.value,
                    mode_text(stack, mode),
                ),
            )
            .at(mode.loc().cloned())
            .help(format!(
                "use pool_mode = \"transaction\" for database `{}`",
                app.database.value
            ))
            .related(app.database.loc().cloned(), format!("app `{}` uses it here", app.name.value)),
        );
    }
}

/// Startup parameters PgBouncer (1.20+) tracks itself and therefore accepts inside `options`.
const TRACKED_PARAMETERS: &[&str] = &[
    "client_encoding",
    "datestyle",
    "timezone",
    "standard_conforming_strings",
    "application_name",
];

/// Parameter names set in an `options` value: `-c name=value`, `-cname=value`, `--name=value`.
fn option_parameters(options: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut words = options.split_whitespace();
    while let Some(w) = words.next() {
        let assignment = if w == "-c" {
            words.next()
        } else if let Some(rest) = w.strip_prefix("--") {
            Some(rest)
        } else {
            w.strip_prefix("-c")
        };
        if let Some(name) = assignment.and_then(|a| a.split('=').next())
            && !name.is_empty()
        {
            names.push(name.replace('-', "_"));
        }
    }
    names
}

fn list_contains(list: Option<&str>, name: &str) -> bool {
    list.is_some_and(|l| {
        l.split(',')
            .any(|item| item.trim().eq_ignore_ascii_case(name))
    })
}

fn startup_options_through_pgbouncer(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let ignore = pgb.option("ignore_startup_parameters");
    let ignored = |name: &str| list_contains(ignore.map(|o| o.ini_text.as_str()), name);
    // Without a declared release, the rule speaks for 1.20+ (where `options` is parsed), and
    // says so.
    let supports_options = pgb.release().is_none_or(|v| v >= PgbVersion::new(1, 20));
    let release = pgb
        .release()
        .map_or("PgBouncer (1.20 or later)".to_string(), |v| {
            format!("PgBouncer {v}")
        });
    let extra = pgb.option("track_extra_parameters");
    let tracked = |name: &str| {
        TRACKED_PARAMETERS
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name))
            || match extra {
                Some(o) => list_contains(Some(&o.ini_text), name),
                // PgBouncer's default track_extra_parameters (1.20+).
                None => name.eq_ignore_ascii_case("IntervalStyle"),
            }
    };
    for app in &stack.apps {
        if !app.url.via_pgbouncer {
            continue;
        }
        let Some(options) = &app.url.options else {
            continue;
        };
        let written = format!(
            "options={} ({})",
            options.value,
            options.origin.describe(&stack.sources)
        );
        let (refused, dropped): (Vec<String>, Vec<String>) = if supports_options {
            let untracked: Vec<String> = option_parameters(&options.value)
                .into_iter()
                .filter(|n| !tracked(n))
                .collect();
            if untracked.is_empty() {
                continue;
            }
            untracked.into_iter().partition(|n| !ignored(n))
        } else if ignored("options") {
            (Vec::new(), vec!["options".to_string()])
        } else {
            (vec!["options".to_string()], Vec::new())
        };
        let mut parts: Vec<String> = Vec::new();
        if !refused.is_empty() {
            parts.push(if supports_options {
                format!(
                    "{release} refuses the connection with `unsupported startup parameter in options: {}`",
                    refused[0]
                )
            } else {
                format!(
                    "{release} (before 1.20) refuses the connection with `unsupported startup parameter: options`"
                )
            });
        }
        if !dropped.is_empty() {
            parts.push(format!(
                "ignore_startup_parameters lists {}, so PgBouncer drops it silently and the setting is never applied",
                dropped.join(", ")
            ));
        }
        let mut d = Diagnostic::new(
            "PRE005",
            Severity::Warning,
            format!(
                "app `{}` passes {written} through PgBouncer: {}",
                app.name.value,
                parts.join("; ")
            ),
        )
        .at(options.loc().cloned())
        .help(
            "remove `options` from the URL and set the parameters on the role instead, e.g. ALTER ROLE app SET statement_timeout = '5s'",
        );
        if !dropped.is_empty()
            && let Some(o) = ignore
        {
            d = d.related(
                o.origin.loc().cloned(),
                "ignore_startup_parameters set here",
            );
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{self, HEALTHY, healthy_with};

    #[test]
    fn healthy_is_silent() {
        for code in ["PRE001", "PRE002", "PRE003", "PRE004", "PRE005"] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code} fired");
        }
    }

    #[test]
    fn pre001_psycopg_prepares_behind_old_pgbouncer() {
        let toml = healthy_with("version = \"1.22\"", "version = \"1.21\"").replacen(
            "pre_ping = true",
            "pre_ping = true\nprepare_threshold = 5",
            1,
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("PRE001", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "PRE001");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "5");
        let m = &d[0].message;
        assert!(m.contains("prepare_threshold = 5, stack.toml:"), "{m}");
        assert!(m.contains("PgBouncer 1.21 (stack.toml:"), "{m}");
        assert!(m.contains("older than 1.22"), "{m}");
        // 1.21's own default for max_prepared_statements is 0.
        assert!(
            m.contains("max_prepared_statements = 0 (PgBouncer's own default"),
            "{m}"
        );
        assert!(m.contains("the app declares no `libpq`"), "{m}");
        assert!(m.contains("\"_pg3_0\" does not exist"), "{m}");
        assert!(d[0].help.as_deref().unwrap_or("").contains("\"none\""));
    }

    #[test]
    fn pre001_libpq_16_is_too_old_even_with_a_capable_pgbouncer() {
        let toml = healthy_with(
            "max_db_connections = 40",
            "max_db_connections = 40\nmax_prepared_statements = 100",
        )
        .replacen(
            "pre_ping = true",
            "pre_ping = true\nprepare_threshold = 5\nlibpq = 16",
            1,
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("PRE001", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("libpq 16 (stack.toml:"),
            "{}",
            d[0].message
        );
        assert!(!d[0].message.contains("older than 1.22"));
    }

    #[test]
    fn pre001_undeclared_libpq_is_stated_conditionally() {
        let toml = healthy_with(
            "max_db_connections = 40",
            "max_db_connections = 40\nmax_prepared_statements = 100",
        )
        .replacen(
            "pre_ping = true",
            "pre_ping = true\nprepare_threshold = 5",
            1,
        );
        let d = testing::run("PRE001", &toml);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].message.contains("assumes an older one"),
            "{}",
            d[0].message
        );
        assert!(d[0].help.as_deref().unwrap_or("").contains("libpq = 17"));
    }

    #[test]
    fn pre001_silent_when_everything_carries_the_prepares() {
        let toml = healthy_with(
            "max_db_connections = 40",
            "max_db_connections = 40\nmax_prepared_statements = 100",
        )
        .replacen(
            "pre_ping = true",
            "pre_ping = true\nprepare_threshold = 5\nlibpq = 17",
            1,
        );
        assert!(testing::run("PRE001", &toml).is_empty());
    }

    #[test]
    fn pre001_silent_in_session_pooling() {
        let toml = healthy_with("pool_mode = \"transaction\"", "pool_mode = \"session\"").replacen(
            "pre_ping = true",
            "pre_ping = true\nprepare_threshold = 5",
            1,
        );
        assert!(testing::run("PRE001", &toml).is_empty());
    }

    #[test]
    fn pre001_asyncpg_statement_cache_without_max_prepared_statements() {
        let toml = healthy_with(
            "pre_ping = true",
            "pre_ping = true\ndriver = \"asyncpg\"\nstatement_cache_size = 100",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("PRE001", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "100");
        let m = &d[0].message;
        assert!(m.contains("statement_cache_size = 100"), "{m}");
        // 1.22 is recent enough for asyncpg; max_prepared_statements is what is missing.
        assert!(!m.contains("older than"), "{m}");
        assert!(m.contains("max_prepared_statements = 0"), "{m}");
        assert!(!m.contains("libpq"), "{m}");
    }

    #[test]
    fn pre001_user_pool_mode_overrides_the_database() {
        let toml = healthy_with("pool_mode = \"transaction\"", "pool_mode = \"session\"")
            .replacen(
                "password = { env = \"APP_PASSWORD\" }",
                "password = { env = \"APP_PASSWORD\" }\npool_mode = \"transaction\"",
                1,
            )
            .replacen(
                "pre_ping = true",
                "pre_ping = true\nprepare_threshold = 5",
                1,
            );
        let d = testing::run("PRE001", &toml);
        assert_eq!(d.len(), 1, "{d:?}");
    }

    #[test]
    fn pre002_fires_on_zero() {
        let toml = healthy_with("pre_ping = true", "pre_ping = true\nprepare_threshold = 0");
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("PRE002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "PRE002");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "0");
        assert!(d[0].message.contains("prepare_threshold = 0 (stack.toml:"));
        assert!(d[0].message.contains("every query"));
    }

    #[test]
    fn pre002_fires_on_a_dotenv_value() {
        let mut stack = testing::stack(HEALTHY);
        let text = "DB_POOL_SIZE=5\nDB_PREPARE_THRESHOLD=0\n".to_string();
        let file = stack.sources.add(std::path::Path::new(".env"), text);
        let at = "DB_POOL_SIZE=5\nDB_PREPARE_THRESHOLD=".len();
        let crate::stack::KindSettings::SqlAlchemy(sqla) = &mut stack.apps[0].kind.value else {
            panic!("HEALTHY's app is a SQLAlchemy app");
        };
        sqla.prepare_threshold = Some(Setting::new(
            PrepareThreshold::After(0),
            Origin::Imported(Loc {
                file,
                span: at..at + 1,
            }),
        ));
        let d = testing::run_with_files("PRE002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::line(&stack, &d[0]), 2);
        assert!(
            d[0].message.contains("DB_PREPARE_THRESHOLD=0 (.env:2)"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].help
                .as_deref()
                .unwrap_or("")
                .contains("DB_PREPARE_THRESHOLD=none")
        );
    }

    #[test]
    fn pre003_reset_query_in_transaction_pooling() {
        let toml = healthy_with(
            "max_db_connections = 40",
            "max_db_connections = 40\n\n[pgbouncer.settings]\nserver_reset_query = \"DISCARD ALL\"",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("PRE003", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"DISCARD ALL\"");
        assert!(
            d[0].message.contains("server_reset_query = DISCARD ALL"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message
                .contains("pool_mode = transaction, stack.toml:")
        );
        assert!(
            d[0].message
                .contains("server_reset_query_always = 0 (PgBouncer's default)")
        );
    }

    #[test]
    fn pre003_silent_with_reset_query_always() {
        let toml = healthy_with(
            "max_db_connections = 40",
            "max_db_connections = 40\n\n[pgbouncer.settings]\nserver_reset_query = \"DISCARD ALL\"\nserver_reset_query_always = true",
        );
        assert!(testing::run("PRE003", &toml).is_empty());
    }

    #[test]
    fn pre004_statement_pooling_with_sqlalchemy() {
        let toml = healthy_with("pool_mode = \"transaction\"", "pool_mode = \"statement\"");
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("PRE004", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"statement\"");
        assert!(d[0].message.contains("Long transactions not allowed"));
        assert!(d[0].message.contains("pool_mode = statement, stack.toml:"));
    }

    fn with_url_options(options: &str) -> Stack {
        let mut stack = testing::stack(HEALTHY);
        let text = format!(
            "DATABASE_URL=postgresql+psycopg://app:${{APP_PASSWORD}}@pgbouncer:6432/app?options={options}\n"
        );
        let at = text
            .find("options=")
            .map(|i| i + "options=".len())
            .unwrap_or(0);
        let file = stack.sources.add(std::path::Path::new(".env"), text);
        stack.apps[0].url.options = Some(Setting::new(
            options.replace("%20", " ").replace("%3D", "="),
            Origin::Imported(Loc {
                file,
                span: at..at + options.len(),
            }),
        ));
        stack
    }

    #[test]
    fn pre005_untracked_parameter_is_refused() {
        let stack = with_url_options("-c%20statement_timeout%3D5000");
        let d = testing::run_with_files("PRE005", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(testing::line(&stack, &d[0]), 1);
        assert_eq!(
            testing::pointed_text(&stack, &d[0]),
            "-c%20statement_timeout%3D5000"
        );
        assert!(
            d[0].message
                .contains("unsupported startup parameter in options: statement_timeout"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn pre005_ignored_parameter_is_dropped() {
        let mut stack = with_url_options("-c%20statement_timeout%3D5000");
        if let Some(b) = stack.pgbouncer.as_mut() {
            b.options.push(crate::stack::PgbOption {
                name: "ignore_startup_parameters".to_string(),
                ini_text: "extra_float_digits,statement_timeout".to_string(),
                number: None,
                origin: Origin::Default("test"),
            });
        }
        let d = testing::run_with_files("PRE005", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].message.contains("never applied"), "{}", d[0].message);
    }

    #[test]
    fn pre005_tracked_parameter_is_fine() {
        let stack = with_url_options("-c%20application_name%3Dapi");
        assert!(testing::run_with_files("PRE005", &stack, &[]).is_empty());
    }

    #[test]
    fn option_parameters_reads_every_spelling() {
        assert_eq!(
            option_parameters("-c statement_timeout=5s -cwork_mem=4MB --lock-timeout=1s"),
            ["statement_timeout", "work_mem", "lock_timeout"]
        );
    }
}
