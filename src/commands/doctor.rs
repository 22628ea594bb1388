//! `poolstack doctor [MANIFEST] --pgbouncer URL --postgres URL`: connect to the running stack and
//! report, as LIV diagnostics, what differs from the manifest (LIV001), what waits for a restart
//! (LIV002), connection use against the budget (LIV003) and userlist secrets that cannot work
//! with how the roles' passwords are stored (LIV004).
//!
//! Only the simple query protocol is used (PgBouncer's admin console knows nothing else). The
//! servers are read in [`live`]; everything after that is pure comparison ([`findings`]), so the
//! rules are tested without servers.

use super::Io;
use super::check::{Flags, input_error, policy};
use crate::auth::SecretKind;
use crate::cli::DoctorArgs;
use crate::diag::{Diagnostic, InputError, Severity};
use crate::manifest::PasswordSource;
use crate::outcome::Outcome;
use crate::report::{Budget, Report};
use crate::rules;
use crate::source::display_path;
use crate::stack::Stack;
use std::path::PathBuf;
use std::time::Duration;

mod budget;
pub use budget::PoolUse;

/// How long a server may take to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long all the reading together may take; past it doctor gives up instead of hanging on a
/// server that accepted the connection and then stopped answering.
const DEADLINE: Duration = Duration::from_secs(20);

pub fn run(args: &DoctorArgs, io: &mut Io<'_>) -> Outcome {
    let path = match &args.manifest {
        Some(p) if p.is_dir() => p.join("stack.toml"),
        Some(p) => p.clone(),
        None => PathBuf::from("stack.toml"),
    };
    match doctor(args, &path) {
        Ok(done) => {
            let report = Report::new(&done.diags, &done.stack.sources, Some(done.shown))
                .with_budget(done.budget);
            let _ = io
                .out
                .write_all(report.render(args.format, io.color).as_bytes());
            if report.summary.fails(done.fail_on) {
                Outcome::Findings
            } else {
                Outcome::Success
            }
        }
        Err(e) => input_error(&e, Some(&path), args.format, io),
    }
}

struct Done {
    stack: Stack,
    diags: Vec<Diagnostic>,
    budget: Option<Budget>,
    fail_on: Severity,
    shown: String,
}

fn doctor(args: &DoctorArgs, path: &std::path::Path) -> Result<Done, InputError> {
    let loaded = crate::manifest::load(path)?;
    let stack = crate::stack::resolve::resolve(&loaded, None)?;
    let shown = loaded.sources.get(loaded.file).display.clone();
    let flags = Flags {
        select: &[],
        ignore: &[],
        fail_on: None,
    };
    let policy = policy::build(&stack.lint, &stack.sources, &flags)?;
    let pgb = match &args.pgbouncer {
        Some(url) => {
            if stack.pgbouncer.is_none() {
                return Err(InputError::new(format!(
                    "--pgbouncer was given, but {shown} has no [pgbouncer]"
                ))
                .with_help("leave out --pgbouncer, or add [pgbouncer] to the manifest"));
            }
            Some(Target::parse("--pgbouncer", "PgBouncer", url, &stack)?)
        }
        None => None,
    };
    let pg = match &args.postgres {
        Some(url) => Some(Target::parse("--postgres", "PostgreSQL", url, &stack)?),
        None => None,
    };
    if pgb.is_none() && pg.is_none() {
        return Err(
            InputError::new("doctor needs a server to connect to: nothing was given").with_help(
                "pass --postgres postgresql://USER@HOST:PORT/DB and/or --pgbouncer postgresql://ADMIN@HOST:PORT/pgbouncer (password in PGPASSWORD)",
            ),
        );
    }
    // Passwords are asked for before connecting, so that a prompt never races a timeout.
    let pgb = pgb.map(Target::with_password).transpose()?;
    let pg = pg.map(Target::with_password).transpose()?;
    let facts = live::read_with_deadline(pgb, pg)?;
    // Only LIV findings: the manifest's own problems are `check`'s to report.
    let (diags, budget) = findings(&stack, &facts);
    Ok(Done {
        diags: rules::apply(diags, &policy),
        fail_on: policy.fail_on,
        budget,
        stack,
        shown: display_path(path),
    })
}

/// A server to connect to: its connection settings (never with a password from the URL) and how
/// messages name it.
struct Target {
    flag: &'static str,
    what: &'static str,
    config: postgres::Config,
    /// `PostgreSQL at postgres@127.0.0.1:5432/postgres (--postgres)`: no password, ever.
    shown: String,
    /// Where a password may come from besides PGPASSWORD: the manifest user's `password = { env }`.
    user_env: Option<String>,
}

impl Target {
    fn parse(
        flag: &'static str,
        what: &'static str,
        url: &str,
        stack: &Stack,
    ) -> Result<Target, InputError> {
        use std::str::FromStr;
        let example = if what == "PgBouncer" {
            "postgresql://ADMIN_USER@HOST:PORT/pgbouncer"
        } else {
            "postgresql://USER@HOST:PORT/DBNAME"
        };
        // The parser's own message may quote the URL, password included: not shown.
        let mut config = postgres::Config::from_str(url).map_err(|_| {
            InputError::new(format!("{flag} is not a connection URL {what} accepts"))
                .with_help(format!("write it as {example}"))
        })?;
        if config.get_password().is_some() {
            return Err(InputError::new(format!(
                "the {flag} URL contains a password, which would show in the process list and shell history"
            ))
            .with_help(format!(
                "remove it from the URL and put it in PGPASSWORD (or type it at the prompt): {example}"
            )));
        }
        let Some(user) = config.get_user().map(str::to_string) else {
            return Err(InputError::new(format!("the {flag} URL names no user"))
                .with_help(format!("write it as {example}")));
        };
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => {
                return Err(InputError::new(format!("the {flag} URL names no host"))
                    .with_help(format!("write it as {example}")));
            }
        };
        if config.get_ports().is_empty() {
            config.port(5432);
        }
        let port = config.get_ports().first().copied().unwrap_or(5432);
        if config.get_dbname().is_none() {
            let db = if what == "PgBouncer" {
                "pgbouncer".to_string()
            } else {
                user.clone()
            };
            config.dbname(&db);
        }
        let db = config.get_dbname().unwrap_or_default().to_string();
        config.connect_timeout(CONNECT_TIMEOUT);
        config.ssl_mode(postgres::config::SslMode::Disable);
        let user_env = stack
            .user(&user)
            .and_then(|u| u.password.as_ref())
            .and_then(|p| match &p.value {
                PasswordSource::Env { env } => Some(env.clone()),
                _ => None,
            });
        Ok(Target {
            flag,
            what,
            config,
            shown: format!("{what} at {user}@{host}:{port}/{db} ({flag})"),
            user_env,
        })
    }

    /// PGPASSWORD, else the manifest user's own environment variable, else a no-echo prompt on a
    /// terminal; else none (a server that wants one then says so, and the message says what to do).
    fn with_password(mut self) -> Result<Target, InputError> {
        let from_env = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
        let password = from_env("PGPASSWORD")
            .or_else(|| self.user_env.as_deref().and_then(from_env))
            .map(Ok)
            .or_else(|| {
                use std::io::IsTerminal;
                std::io::stdin().is_terminal().then(|| {
                    rpassword::prompt_password(format!("Password for {}: ", self.shown)).map_err(
                        |e| {
                            InputError::new(format!(
                                "cannot read the password for {}: {e}",
                                self.shown
                            ))
                        },
                    )
                })
            })
            .transpose()?;
        if let Some(p) = password {
            self.config.password(p);
        }
        Ok(self)
    }
}

/// What the running servers said.
#[derive(Debug, Default)]
pub struct Facts {
    pub pgbouncer: Option<PgbFacts>,
    pub postgres: Option<PgFacts>,
}

#[derive(Debug, Default)]
pub struct PgbFacts {
    pub shown: String,
    /// SHOW CONFIG: key, value, changeable.
    pub config: Vec<(String, String, bool)>,
    /// SHOW POOLS, where the user may read it.
    pub pools: Option<PoolUse>,
}

#[derive(Debug)]
pub struct PgFacts {
    pub shown: String,
    pub settings: Vec<PgSetting>,
    /// Client backends other than doctor's own.
    pub connections: u64,
    /// Of those, the ones not `idle` (running a query, or inside a transaction).
    pub active: u64,
    /// Role name and the first three characters of its stored password (`md5`, `SCR`), or why
    /// pg_authid could not be read.
    pub authid: Result<Vec<(String, Option<String>)>, String>,
}

#[derive(Debug, Clone, Default)]
pub struct PgSetting {
    pub name: String,
    pub setting: String,
    pub unit: Option<String>,
    pub vartype: String,
    pub pending_restart: bool,
}

mod live {
    use super::*;
    use postgres::{Client, NoTls, SimpleQueryMessage};
    use std::sync::mpsc;

    /// Read both servers in a thread and wait at most [`DEADLINE`] for it.
    pub(super) fn read_with_deadline(
        pgb: Option<Target>,
        pg: Option<Target>,
    ) -> Result<Facts, InputError> {
        let names: Vec<String> = pgb
            .iter()
            .chain(pg.iter())
            .map(|t| t.shown.clone())
            .collect();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let result = (|| {
                let pgbouncer = pgb.as_ref().map(read_pgbouncer).transpose()?;
                let postgres = pg.as_ref().map(read_postgres).transpose()?;
                Ok(Facts {
                    pgbouncer,
                    postgres,
                })
            })();
            let _ = tx.send(result);
        });
        match rx.recv_timeout(DEADLINE) {
            Ok(r) => r,
            Err(_) => Err(InputError::new(format!(
                "no answer within {} s from {}",
                DEADLINE.as_secs(),
                names.join(" or ")
            ))
            .with_help("check that the server is up and not overloaded, and that HOST:PORT is the server's")),
        }
    }

    fn connect(t: &Target) -> Result<Client, InputError> {
        t.config.connect(NoTls).map_err(|e| connect_error(t, &e))
    }

    fn connect_error(t: &Target, e: &postgres::Error) -> InputError {
        use std::error::Error;
        let (detail, code) = match e.as_db_error() {
            Some(db) => (
                format!("{}: {}", db.severity(), db.message()),
                Some(db.code().code().to_string()),
            ),
            None => match e.source() {
                Some(src) => (format!("{e}: {src}"), None),
                None => (e.to_string(), None),
            },
        };
        let lower = detail.to_lowercase();
        let help = if code.as_deref() == Some("28P01")
            || lower.contains("password authentication failed")
        {
            format!(
                "check the password in PGPASSWORD{}",
                t.user_env
                    .as_deref()
                    .map(|v| format!(" (or {v}, the manifest's source for this user)"))
                    .unwrap_or_default()
            )
        } else if lower.contains("password missing") || lower.contains("no password") {
            "the server wants a password: put it in PGPASSWORD, or run doctor on a terminal to be asked".to_string()
        } else if lower.contains("refused") {
            format!(
                "is {} running and listening there? Check HOST:PORT in {}",
                t.what, t.flag
            )
        } else if lower.contains("timed out") || lower.contains("timeout") {
            format!(
                "no answer within {} s: check HOST:PORT in {} and any firewall in between",
                CONNECT_TIMEOUT.as_secs(),
                t.flag
            )
        } else if t.what == "PgBouncer" {
            "log in to the admin console (database pgbouncer) as one of admin_users or stats_users"
                .to_string()
        } else {
            "check the user, the database and pg_hba.conf for this client address".to_string()
        };
        InputError::new(format!("cannot connect to {}: {detail}", t.shown)).with_help(help)
    }

    fn query_error(t: &Target, sql: &str, e: &postgres::Error) -> InputError {
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        InputError::new(format!("{} refused `{sql}`: {detail}", t.shown))
    }

    fn rows(
        client: &mut Client,
        t: &Target,
        sql: &str,
    ) -> Result<Vec<Vec<Option<String>>>, InputError> {
        let messages = client
            .simple_query(sql)
            .map_err(|e| query_error(t, sql, &e))?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .collect())
    }

    fn read_pgbouncer(t: &Target) -> Result<PgbFacts, InputError> {
        let mut client = connect(t)?;
        let config = rows(&mut client, t, "SHOW CONFIG")?
            .into_iter()
            .filter_map(|r| {
                let key = r.first()?.clone()?;
                let value = r.get(1).cloned().flatten().unwrap_or_default();
                // key | value | default | changeable (1.18 and later).
                let changeable = r.last().cloned().flatten().is_none_or(|c| c != "no");
                Some((key, value, changeable))
            })
            .collect();
        let pools = budget::show_pools(&mut client).ok();
        Ok(PgbFacts {
            shown: t.shown.clone(),
            config,
            pools,
        })
    }

    fn read_postgres(t: &Target) -> Result<PgFacts, InputError> {
        let mut client = connect(t)?;
        let settings = rows(
            &mut client,
            t,
            "SELECT name, setting, unit, vartype, pending_restart FROM pg_catalog.pg_settings",
        )?
        .into_iter()
        .map(|r| {
            let col = |i: usize| r.get(i).cloned().flatten();
            PgSetting {
                name: col(0).unwrap_or_default(),
                setting: col(1).unwrap_or_default(),
                unit: col(2),
                vartype: col(3).unwrap_or_default(),
                pending_restart: col(4).as_deref() == Some("t"),
            }
        })
        .collect();
        let counts = rows(
            &mut client,
            t,
            "SELECT count(*), count(*) FILTER (WHERE state IS DISTINCT FROM 'idle') FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid()",
        )?;
        let count = |i: usize| -> u64 {
            counts
                .first()
                .and_then(|r| r.get(i).cloned().flatten())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        let (connections, active) = (count(0), count(1));
        let authid = match client
            .simple_query("SELECT rolname, left(rolpassword, 3) FROM pg_catalog.pg_authid")
        {
            Ok(messages) => Ok(messages
                .iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(r) => {
                        Some((r.get(0)?.to_string(), r.get(1).map(str::to_string)))
                    }
                    _ => None,
                })
                .collect()),
            Err(e) => Err(e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| e.to_string())),
        };
        Ok(PgFacts {
            shown: t.shown.clone(),
            settings,
            connections,
            active,
            authid,
        })
    }
}

/// Every LIV finding, and connection use against the budget (when PostgreSQL was read).
pub fn findings(stack: &Stack, facts: &Facts) -> (Vec<Diagnostic>, Option<Budget>) {
    let mut out = Vec::new();
    if let (Some(pgb), Some(live)) = (&stack.pgbouncer, &facts.pgbouncer) {
        pgbouncer_findings(pgb, live, &mut out);
    }
    if let Some(live) = &facts.postgres {
        postgres_findings(stack, live, &mut out);
        secret_findings(stack, live, &mut out);
    }
    let budget = budget::finding(stack, facts, &mut out);
    (out, budget)
}

/// A PgBouncer value as PgBouncer reads it: integers with C prefixes (`0777` octal, `0x1f` hex),
/// other numbers as they are (times are seconds on both sides, booleans 0/1).
fn pgb_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return i64::from_str_radix(hex, 16).ok().map(|n| n as f64);
    }
    if s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()) {
        return i64::from_str_radix(&s[1..], 8).ok().map(|n| n as f64);
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn same_number(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn pgb_same(name: &str, manifest: &str, live: &str) -> bool {
    if let (Some(a), Some(b)) = (pgb_number(manifest), pgb_number(live)) {
        return same_number(a, b);
    }
    let list = |s: &str| -> Vec<String> {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    if matches!(name, "pool_mode" | "auth_type") {
        return manifest.trim().eq_ignore_ascii_case(live.trim());
    }
    list(manifest) == list(live)
}

fn pgbouncer_findings(pgb: &crate::stack::Pgbouncer, live: &PgbFacts, out: &mut Vec<Diagnostic>) {
    for o in crate::render::context::pgbouncer_options(pgb) {
        let Some((_, value, changeable)) = live.config.iter().find(|(k, _, _)| *k == o.name) else {
            continue;
        };
        if pgb_same(&o.name, &o.value, value) {
            continue;
        }
        let loc = o.origin.loc().cloned();
        out.push(
            Diagnostic::new(
                "LIV001",
                Severity::Warning,
                format!(
                    "{} is `{value}` on {}, the manifest says `{}`{}",
                    o.name,
                    live.shown,
                    o.value,
                    o.origin.note()
                ),
            )
            .at(loc.clone())
            .help(if *changeable {
                "deploy the rendered pgbouncer.ini and RELOAD (look for `config file loading failed` in PgBouncer's log), or put the live value in the manifest"
            } else {
                "deploy the rendered pgbouncer.ini and restart PgBouncer (RELOAD ignores this option), or put the live value in the manifest"
            }),
        );
        if !changeable {
            out.push(
                Diagnostic::new(
                    "LIV002",
                    Severity::Info,
                    format!(
                        "{} changes only when PgBouncer restarts (RELOAD ignores it): {} still runs with `{value}`, the manifest says `{}`",
                        o.name, live.shown, o.value
                    ),
                )
                .at(loc)
                .help("plan a restart of PgBouncer (one instance at a time with so_reuseport)"),
            );
        }
    }
}

/// The value as postgresql.conf means it, without its quotes.
fn unquote(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        Some(inner) => inner.replace("''", "'"),
        None => t.to_string(),
    }
}

fn pg_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" | "y" => Some(true),
        "off" | "false" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// `4096 kB`, `30000 ms`, `16384 × 8kB`, `100`.
fn with_unit(n: &str, unit: Option<&str>) -> String {
    match unit.filter(|u| !u.is_empty()) {
        Some(u) if u.starts_with(|c: char| c.is_ascii_digit()) => format!("{n} × {u}"),
        Some(u) => format!("{n} {u}"),
        None => n.to_string(),
    }
}

fn postgres_findings(stack: &Stack, live: &PgFacts, out: &mut Vec<Diagnostic>) {
    for s in live.settings.iter().filter(|s| s.pending_restart) {
        let param = stack.postgres.param(&s.name);
        out.push(
            Diagnostic::new(
                "LIV002",
                Severity::Info,
                format!(
                    "{} waits for a restart of {}: it still runs with {}, a changed value is in the configuration files",
                    s.name,
                    live.shown,
                    with_unit(&s.setting, s.unit.as_deref())
                ),
            )
            .at(param.and_then(|p| p.origin.loc().cloned()))
            .help("plan a restart of PostgreSQL; until then cross-checks that assume the new value are wrong"),
        );
    }
    for p in stack.postgres.params.iter().filter(|p| p.rendered) {
        let Some(s) = live
            .settings
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(&p.name))
        else {
            continue;
        };
        let manifest = unquote(&p.conf_text);
        let same = match (p.base, s.setting.trim().parse::<f64>().ok()) {
            (Some(a), Some(b)) => same_number(a, b),
            _ if s.vartype == "bool" => pg_bool(&manifest) == pg_bool(&s.setting),
            _ if s.vartype == "enum" => manifest.eq_ignore_ascii_case(s.setting.trim()),
            _ => manifest == s.setting,
        };
        // A pending restart already says why the value differs.
        if same || s.pending_restart {
            continue;
        }
        let manifest_shown = match p.base {
            Some(b) if s.unit.as_deref().is_some_and(|u| !u.is_empty()) => format!(
                "{} (= {})",
                p.conf_text,
                with_unit(&format_number(b), s.unit.as_deref())
            ),
            _ => p.conf_text.clone(),
        };
        out.push(
            Diagnostic::new(
                "LIV001",
                Severity::Warning,
                format!(
                    "{} is {} on {}, the manifest says {}{}",
                    p.name,
                    with_unit(&s.setting, s.unit.as_deref()),
                    live.shown,
                    manifest_shown,
                    p.origin.note()
                ),
            )
            .at(p.origin.loc().cloned())
            .help(format!(
                "deploy the rendered PostgreSQL fragment and reload (SELECT pg_reload_conf()); look for an override with SELECT setting, source, sourcefile FROM pg_settings WHERE name = '{}'; or put the live value in the manifest",
                s.name
            )),
        );
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn secret_findings(stack: &Stack, live: &PgFacts, out: &mut Vec<Diagnostic>) {
    if stack.pgbouncer.is_none() {
        return;
    }
    let roles = match &live.authid {
        Ok(roles) => roles,
        Err(why) => {
            out.push(
                Diagnostic::new(
                    "LIV004",
                    Severity::Info,
                    format!(
                        "userlist secret types not compared with the stored passwords: {} does not let this user read pg_authid ({why})",
                        live.shown
                    ),
                )
                .help("run doctor with --postgres as a superuser to compare them"),
            );
            return;
        }
    };
    for u in &stack.users {
        let Some((_, Some(prefix))) = roles.iter().find(|(name, _)| *name == u.name.value) else {
            continue;
        };
        let stored = match prefix.as_str() {
            "md5" => SecretKind::Md5,
            "SCR" => SecretKind::ScramSha256,
            _ => continue,
        };
        let userlist = u.userlist_secret.value;
        let problem = match (userlist, stored) {
            (SecretKind::Md5, SecretKind::ScramSha256) => {
                "an md5 entry cannot log in to a role stored as SCRAM (`server login failed: wrong password type`)"
            }
            (SecretKind::ScramSha256, SecretKind::Md5) => {
                "a SCRAM entry cannot log in to a role stored as md5"
            }
            _ => continue,
        };
        out.push(
            Diagnostic::new(
                "LIV004",
                Severity::Error,
                format!(
                    "userlist.txt holds {} secret for {}, but {} stores the role's password as {}: {problem}",
                    userlist.with_article(),
                    u.name.value,
                    live.shown,
                    stored.as_str()
                ),
            )
            .at(u.userlist_secret.loc().cloned())
            .help(format!(
                "render the userlist with {} secrets, or re-set the role's password as {}",
                stored.as_str(),
                userlist.as_str()
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbouncer_values_compare_as_pgbouncer_prints_them() {
        assert!(pgb_same("unix_socket_mode", "0777", "511"));
        assert!(pgb_same("max_client_conn", "0x10", "16"));
        assert!(pgb_same("query_wait_timeout", "0.25", "0.25"));
        assert!(pgb_same("server_lifetime", "3600", "3600"));
        assert!(pgb_same("log_connections", "1", "1"));
        assert!(pgb_same("pool_mode", "transaction", "Transaction"));
        assert!(pgb_same("admin_users", "a, b", "a,b"));
        assert!(!pgb_same("max_client_conn", "200", "100"));
        assert!(!pgb_same("listen_addr", "127.0.0.1", "*"));
    }

    #[test]
    fn postgres_values_are_unquoted_and_shown_with_units() {
        assert_eq!(unquote("'%m [%p] ''x'''"), "%m [%p] 'x'");
        assert_eq!(pg_bool("on"), pg_bool("true"));
        assert_eq!(with_unit("4096", Some("kB")), "4096 kB");
        assert_eq!(with_unit("16384", Some("8kB")), "16384 × 8kB");
        assert_eq!(with_unit("100", None), "100");
        assert_eq!(format_number(8192.0), "8192");
    }

    use crate::rules::testing::{HEALTHY, line, stack};

    fn pg_facts(
        connections: u64,
        authid: Result<Vec<(String, Option<String>)>, String>,
    ) -> PgFacts {
        PgFacts {
            shown: "PostgreSQL at postgres@db:5432/postgres (--postgres)".into(),
            settings: Vec::new(),
            connections,
            active: 0,
            authid,
        }
    }

    #[test]
    fn liv004_compares_userlist_types_with_pg_authid_or_says_why_not() {
        let s = stack(HEALTHY);
        let stored = |prefix: &str| Ok(vec![("app".to_string(), Some(prefix.to_string()))]);
        let userlist = s.user("app").map(|u| u.userlist_secret.value);
        let mut out = Vec::new();
        let other = match userlist {
            Some(SecretKind::Md5) => "SCR",
            _ => "md5",
        };
        secret_findings(&s, &pg_facts(0, stored(other)), &mut out);
        if userlist != Some(SecretKind::Plain) {
            assert_eq!(out.len(), 1, "{out:#?}");
            assert_eq!(out[0].severity, Severity::Error);
        }
        out.clear();
        secret_findings(
            &s,
            &pg_facts(0, Err("permission denied for table pg_authid".into())),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].code, out[0].severity), ("LIV004", Severity::Info));
        assert!(out[0].message.contains("permission denied"));
    }

    #[test]
    fn liv001_points_at_the_manifest_line_and_liv002_marks_options_reload_ignores() {
        let s = stack(HEALTHY);
        let Some(pgb) = &s.pgbouncer else {
            panic!("no pgbouncer")
        };
        let live = PgbFacts {
            shown: "PgBouncer at admin@pgbouncer:6432/pgbouncer (--pgbouncer)".into(),
            config: vec![
                ("max_client_conn".into(), "100".into(), true),
                ("default_pool_size".into(), "20".into(), true),
                ("listen_port".into(), "5432".into(), false),
            ],
            pools: None,
        };
        let mut out = Vec::new();
        pgbouncer_findings(pgb, &live, &mut out);
        let codes: Vec<(&str, &str)> = out
            .iter()
            .map(|d| (d.code, d.message.split(' ').next().unwrap_or("")))
            .collect();
        assert_eq!(
            codes,
            [
                ("LIV001", "listen_port"),
                ("LIV002", "listen_port"),
                ("LIV001", "max_client_conn")
            ],
            "{out:#?}"
        );
        assert_eq!(
            line(&s, &out[2]),
            crate::rules::testing::line_of(HEALTHY, "max_client_conn = 200")
        );
    }
}
