//! NET — topology.

use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::stack::{App, Setting, Stack};

pub const RULES: &[Rule] = &[
    Rule {
        code: "NET001",
        name: "pgbouncer-target-mismatch",
        severity: Severity::Error,
        summary: "A [databases] entry's host or port does not reach the declared PostgreSQL",
        doc: NET001_DOC,
        check: Some(pgbouncer_target_mismatch),
    },
    Rule {
        code: "NET002",
        name: "app-bypasses-pgbouncer",
        severity: Severity::Error,
        summary: "An app's URL points at PostgreSQL while PgBouncer is on, or at PgBouncer while it is off",
        doc: NET002_DOC,
        check: Some(app_bypasses_pgbouncer),
    },
    Rule {
        code: "NET003",
        name: "unknown-database-or-user",
        severity: Severity::Error,
        summary: "An app uses a database or user that PgBouncer (or the userlist) does not define",
        doc: NET003_DOC,
        check: Some(unknown_database_or_user),
    },
];

const NET001_DOC: &str = "\
What it checks: each PgBouncer [databases] entry's host and port against the declared PostgreSQL
(postgres.host, postgres.port). localhost and loopback addresses count as the same host, and so
does a unix socket directory when PostgreSQL is declared on localhost; the port must match in
every case (it also names the unix socket file, .s.PGSQL.<port>).

Why it matters: every rule of this stack — the connection budget, max_connections, the timeouts —
was computed for the declared server. An entry pointing elsewhere sends the pools to a different
server (an old replica, a staging database), or nowhere: clients then wait and PgBouncer logs
`server login has been failing` / `pgbouncer cannot connect to server`.

How to fix: remove the entry's host/port (it then inherits postgres.host/port), or correct
whichever side is wrong.

Facts: reference/pgbouncer/facts.md §3 ([databases] host, port) and §7 item 8.";

const NET002_DOC: &str = "\
What it checks: where each app's DATABASE_URL points. With PgBouncer enabled, a URL whose host and
port are PostgreSQL's (and not PgBouncer's host and client_port) bypasses the pooler. With
PgBouncer disabled, a URL that goes through a pooler, or that does not point at the declared
PostgreSQL, reaches a server this stack does not describe. A URL written by `poolstack render`
always points at the right place; the rule matters for hand-written .env files.

Why it matters: an app that bypasses PgBouncer opens its own pool_size + max_overflow connections
per process straight to PostgreSQL, outside the budget PgBouncer enforces, and the server runs out
(`sorry, too many clients already`); its transaction-pooling assumptions (PRE rules) no longer hold
either. An app that still points at a PgBouncer that was switched off cannot connect at all.

How to fix: point DATABASE_URL at PgBouncer's host and client_port (or at PostgreSQL when
PgBouncer is off) — `poolstack render` writes it.

Facts: docs/product.md (one .env per app: DATABASE_URL with the PgBouncer host, client_port and
alias when PgBouncer is on); reference/pgbouncer/facts.md §7 item 3.";

const NET003_DOC: &str = "\
What it checks: every app's database and user. With PgBouncer on, the database must be a
[[databases]] name (the name clients use), the user must have a userlist entry (a [[users]] name;
for a hand-written userlist.txt, an entry PgBouncer actually loads), and the user must be among the
database's users, i.e. one of the (database, user) pools (not checked when the database forces a
`user=`). Without PgBouncer, the user must be a [[users]] name when any are declared.

Why it matters: PgBouncer answers an unknown database with `no such database: <name>` and an
unknown user with `password authentication failed`; a user outside the database's users opens a
pool the connection budget did not count (CON002), so the server may run out of connections.

How to fix: use the [[databases]] name (not the PostgreSQL dbname when they differ) and a
[[users]] name in the app, and list the user in the database's `users` (or leave `users` out: it
is then derived from the apps).

Facts: docs/product.md (the pools PgBouncer may open: \"An app whose user is not among its
database's users is NET003\"); reference/pgbouncer/facts.md §4a (client error texts).";

/// Loopback names, normalised to one spelling; unix socket directories count as local too.
fn is_local(host: &str) -> bool {
    let h = host.trim();
    h.eq_ignore_ascii_case("localhost")
        || h == "::1"
        || h.starts_with("127.")
        || h.starts_with('/')
        || h.starts_with('@')
        || h.is_empty()
}

fn same_host(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim()) || (is_local(a) && is_local(b))
}

fn shown<T: std::fmt::Display>(stack: &Stack, name: &str, s: &Setting<T>) -> String {
    format!(
        "{name} = {} ({})",
        s.value,
        s.origin.describe(&stack.sources)
    )
}

fn pgbouncer_target_mismatch(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if !cx.stack.coverage.hosts {
        return;
    }
    // Hand-written files without a PostgreSQL configuration: nothing to compare against.
    if !cx.stack.postgres.described {
        return;
    }
    let stack = cx.stack;
    if stack.pgbouncer.is_none() {
        return;
    }
    let pg = &stack.postgres;
    for db in &stack.databases {
        let host_ok = same_host(&db.host.value, &pg.host.value);
        let port_ok = db.port.value == pg.port.value;
        if host_ok && port_ok {
            continue;
        }
        let mut wrong = Vec::new();
        if !host_ok {
            wrong.push(format!(
                "{} but PostgreSQL is declared at {}",
                shown(stack, "host", &db.host),
                shown(stack, "postgres.host", &pg.host)
            ));
        }
        if !port_ok {
            wrong.push(format!(
                "{} but PostgreSQL is declared on {}",
                shown(stack, "port", &db.port),
                shown(stack, "postgres.port", &pg.port)
            ));
        }
        let primary = if host_ok {
            db.port.loc()
        } else {
            db.host.loc()
        };
        let mut d = Diagnostic::new(
            "NET001",
            Severity::Error,
            format!(
                "PgBouncer's [databases] entry `{}` does not reach the declared PostgreSQL: {}",
                db.name.value,
                wrong.join("; ")
            ),
        )
        .at(primary.or(db.name.loc()).cloned())
        .help(format!(
            "remove host/port from database `{}` (it then uses postgres.host and postgres.port), or correct postgres.host/port if they are the wrong side",
            db.name.value
        ));
        if !host_ok {
            d = d.related(pg.host.loc().cloned(), "postgres.host declared here");
        }
        if !port_ok {
            if !host_ok && d.primary.as_ref() != db.port.loc() {
                d = d.related(db.port.loc().cloned(), "the entry's port");
            }
            d = d.related(pg.port.loc().cloned(), "postgres.port declared here");
        }
        out.push(d);
    }
}

fn url_text(stack: &Stack, app: &App) -> String {
    format!(
        "{}:{} ({})",
        app.url.host.value,
        app.url.port.value,
        app.url.host.origin.describe(&stack.sources)
    )
}

fn app_bypasses_pgbouncer(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if !cx.stack.coverage.hosts {
        return;
    }
    let stack = cx.stack;
    let pg = &stack.postgres;
    for app in &stack.apps {
        let url = &app.url;
        let at_postgres =
            same_host(&url.host.value, &pg.host.value) && url.port.value == pg.port.value;
        let primary = url.host.loc().or(url.port.loc()).cloned();
        match &stack.pgbouncer {
            Some(pgb) => {
                let at_pgbouncer = same_host(&url.host.value, &pgb.host.value)
                    && url.port.value == pgb.client_port.value;
                // Bypassing: at PostgreSQL, or marked as not going through PgBouncer.
                let bypasses = at_postgres || !url.via_pgbouncer;
                if at_pgbouncer || !bypasses {
                    continue;
                }
                let target = if at_postgres {
                    "PostgreSQL itself"
                } else {
                    "a place other than PgBouncer"
                };
                out.push(
                    Diagnostic::new(
                        "NET002",
                        Severity::Error,
                        format!(
                            "app `{}` connects to {} — {target}, not PgBouncer at {}:{} ({}): its connections bypass the pooler and the budget it enforces",
                            app.name.value,
                            url_text(stack, app),
                            pgb.host.value,
                            pgb.client_port.value,
                            pgb.client_port.origin.describe(&stack.sources)
                        ),
                    )
                    .at(primary)
                    .help(format!(
                        "point DATABASE_URL at {}:{} (`poolstack render` writes it)",
                        pgb.host.value, pgb.client_port.value
                    ))
                    .related(pgb.host.loc().cloned(), "PgBouncer's host"),
                );
            }
            None => {
                if at_postgres && !url.via_pgbouncer {
                    continue;
                }
                let what = if url.via_pgbouncer {
                    "a PgBouncer, but PgBouncer is disabled in this stack".to_string()
                } else {
                    format!(
                        "neither the declared PostgreSQL at {}:{} ({}) nor a declared PgBouncer",
                        pg.host.value,
                        pg.port.value,
                        pg.host.origin.describe(&stack.sources)
                    )
                };
                out.push(
                    Diagnostic::new(
                        "NET002",
                        Severity::Error,
                        format!(
                            "app `{}` connects to {}, which is {what}",
                            app.name.value,
                            url_text(stack, app)
                        ),
                    )
                    .at(primary)
                    .help(format!(
                        "point DATABASE_URL at PostgreSQL, {}:{} (`poolstack render` writes it)",
                        pg.host.value, pg.port.value
                    ))
                    .related(pg.host.loc().cloned(), "postgres.host declared here"),
                );
            }
        }
    }
}

fn unknown_database_or_user(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    for app in &stack.apps {
        // An app that goes straight to PostgreSQL is checked against PgBouncer's databases and
        // userlist only when it goes through PgBouncer; straight to PostgreSQL, against the
        // roles, where the input knows them.
        let pgb_on = stack.pgbouncer.is_some() && app.url.via_pgbouncer;
        if !pgb_on && !stack.coverage.roles {
            continue;
        }
        // A URL that names no database or user (libpq then uses its defaults): nothing to check.
        if app.database.value.is_empty() || app.user.value.is_empty() {
            continue;
        }
        // `*` is PgBouncer's fallback entry: it serves every database name.
        let db = stack
            .database(&app.database.value)
            .or_else(|| stack.database("*"));
        if pgb_on && db.is_none() {
            let names: Vec<String> = stack
                .databases
                .iter()
                .map(|d| format!("`{}`", d.name.value))
                .collect();
            let by_dbname = stack
                .databases
                .iter()
                .find(|d| d.dbname.value == app.database.value);
            let entry = if stack.manifest_path.is_some() {
                "[[databases]]"
            } else {
                "[databases]"
            };
            let help = match by_dbname {
                Some(d) => format!(
                    "use the {entry} name `{}` (its dbname is `{}`)",
                    d.name.value, d.dbname.value
                ),
                None => format!(
                    "add a {entry} entry named `{}`, or use one of: {}",
                    app.database.value,
                    if names.is_empty() {
                        "(none declared)".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            };
            out.push(
                Diagnostic::new(
                    "NET003",
                    Severity::Error,
                    format!(
                        "app `{}` uses database `{}` ({}), which PgBouncer does not define: clients get `no such database: {}`",
                        app.name.value,
                        app.database.value,
                        app.database.origin.describe(&stack.sources),
                        app.database.value
                    ),
                )
                .at(app.database.loc().cloned())
                .help(help),
            );
        }
        let user = &app.user.value;
        let (known, lost) = match (&stack.userlist_file, pgb_on) {
            _ if !stack.coverage.users => (true, false),
            (Some(file), true) => (
                file.get(user).is_some(),
                file.broken
                    .as_ref()
                    .is_some_and(|b| b.users_lost.contains(user)),
            ),
            _ => (
                stack.user(user).is_some() || (!pgb_on && stack.users.is_empty()),
                false,
            ),
        };
        if !known {
            let where_ = if lost {
                "is listed in userlist.txt only after the line where PgBouncer stops reading (AUT007)"
            } else if pgb_on {
                "has no userlist entry"
            } else {
                "is not a [[users]] name"
            };
            out.push(
                Diagnostic::new(
                    "NET003",
                    Severity::Error,
                    format!(
                        "app `{}` connects as user `{user}` ({}), which {where_}: logins fail with `password authentication failed`",
                        app.name.value,
                        app.user.origin.describe(&stack.sources)
                    ),
                )
                .at(app.user.loc().cloned())
                .help(if stack.manifest_path.is_some() {
                    format!("add a [[users]] entry named `{user}`, or use a declared user")
                } else {
                    format!("add a userlist.txt entry for `{user}`, or connect as a listed user")
                }),
            );
            continue;
        }
        let Some(db) = db.filter(|_| pgb_on) else {
            continue;
        };
        // Without a userlist, who uses the database is unknown.
        if !stack.coverage.users {
            continue;
        }
        if db.forced_user.is_some() || db.users.iter().any(|u| &u.value == user) {
            continue;
        }
        let listed: Vec<String> = db.users.iter().map(|u| format!("`{}`", u.value)).collect();
        out.push(
            Diagnostic::new(
                "NET003",
                Severity::Error,
                format!(
                    "app `{}` connects to database `{}` as `{user}` ({}), but the database's users are {}: the (`{}`, `{user}`) pool is outside the connection budget",
                    app.name.value,
                    db.name.value,
                    app.user.origin.describe(&stack.sources),
                    if listed.is_empty() { "none".to_string() } else { listed.join(", ") },
                    db.name.value
                ),
            )
            .at(app.user.loc().cloned())
            .help(format!(
                "add \"{user}\" to the users of database `{}` (or leave `users` out: it is then derived from the apps)",
                db.name.value
            ))
            .related(
                db.users.first().and_then(|u| u.loc()).cloned(),
                format!("users of database `{}`", db.name.value),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{self, HEALTHY, healthy_with};
    use crate::source::Loc;
    use crate::stack::Origin;
    use std::path::Path;

    #[test]
    fn healthy_is_silent() {
        for code in ["NET001", "NET002", "NET003"] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code} fired");
        }
    }

    #[test]
    fn net001_database_on_another_host() {
        let toml = healthy_with(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nhost = \"db-old\"\n\n[[users]]",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("NET001", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"db-old\"");
        assert!(
            d[0].message.contains("host = db-old (stack.toml:"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("postgres.host = db (stack.toml:"));
        assert_eq!(d[0].related.len(), 1);
    }

    #[test]
    fn net001_database_on_another_port() {
        let toml = healthy_with(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nport = 5433\n\n[[users]]",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("NET001", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "5433");
        assert!(
            d[0].message
                .contains("postgres.port = 5432 (PostgreSQL's default port)"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn net001_loopback_spellings_match() {
        let toml = healthy_with("host = \"db\"", "host = \"localhost\"").replacen(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nhost = \"127.0.0.1\"\n\n[[users]]",
            1,
        );
        assert!(testing::run("NET001", &toml).is_empty());
    }

    /// HEALTHY with app `api`'s URL read from a hand-written .env at host:port.
    fn with_env_url(host: &str, port: u16) -> Stack {
        let mut stack = testing::stack(HEALTHY);
        let text =
            format!("DATABASE_URL=postgresql+psycopg://app:${{APP_PASSWORD}}@{host}:{port}/app\n");
        let at = text.find('@').map_or(0, |i| i + 1);
        let file = stack.sources.add(Path::new(".env"), text);
        let loc = Loc {
            file,
            span: at..at + host.len(),
        };
        stack.apps[0].url.host = Setting::new(host.to_string(), Origin::Imported(loc.clone()));
        stack.apps[0].url.port = Setting::new(port, Origin::Imported(loc));
        stack
    }

    #[test]
    fn net002_url_at_postgres_while_pgbouncer_is_on() {
        let stack = with_env_url("db", 5432);
        let d = testing::run_with_files("NET002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "db");
        assert!(
            d[0].message.contains("db:5432 (.env:1)"),
            "{}",
            d[0].message
        );
        assert!(d[0].message.contains("PgBouncer at pgbouncer:6432"));
    }

    #[test]
    fn net002_url_at_pgbouncer_while_it_is_off() {
        let toml = healthy_with("[pgbouncer]", "[pgbouncer]\nenabled = false");
        let mut stack = testing::stack(&toml);
        let text = "DATABASE_URL=postgresql+psycopg://app:${APP_PASSWORD}@pgbouncer:6432/app\nUSE_PGBOUNCER=true\n".to_string();
        let file = stack.sources.add(Path::new(".env"), text);
        let at = "DATABASE_URL=postgresql+psycopg://app:${APP_PASSWORD}@".len();
        let loc = Loc {
            file,
            span: at..at + "pgbouncer".len(),
        };
        stack.apps[0].url.host =
            Setting::new("pgbouncer".to_string(), Origin::Imported(loc.clone()));
        stack.apps[0].url.port = Setting::new(6432, Origin::Imported(loc));
        stack.apps[0].url.via_pgbouncer = true;
        let d = testing::run_with_files("NET002", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "pgbouncer");
        assert!(
            d[0].message.contains("PgBouncer is disabled"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn net002_silent_at_pgbouncer() {
        let stack = with_env_url("pgbouncer", 6432);
        assert!(testing::run_with_files("NET002", &stack, &[]).is_empty());
    }

    #[test]
    fn net003_unknown_database() {
        let toml = healthy_with("database = \"app\"", "database = \"app_db\"");
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("NET003", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"app_db\"");
        assert!(
            d[0].message.contains("no such database: app_db"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn net003_unknown_user() {
        let toml = healthy_with("user = \"app\"", "user = \"reporting\"");
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("NET003", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"reporting\"");
        assert!(
            d[0].message.contains("user `reporting`"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn net003_user_not_among_the_databases_users() {
        let toml = healthy_with(
            "name = \"app\"\n\n[[users]]",
            "name = \"app\"\nusers = [\"admin\"]\n\n[[users]]\nname = \"admin\"\npassword = { env = \"ADMIN_PASSWORD\" }\n\n[[users]]",
        );
        let stack = testing::stack(&toml);
        let d = testing::run_with_files("NET003", &stack, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&stack, &d[0]), "\"app\"");
        assert!(
            d[0].message.contains("database's users are `admin`"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].related.len(), 1);
    }
}
