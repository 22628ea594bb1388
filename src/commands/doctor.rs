//! `poolstack doctor [MANIFEST] --pgbouncer URL --postgres URL`: connect to the running stack and
//! report, as LIV diagnostics, what differs from the manifest (LIV001), what waits for a restart
//! (LIV002), connection use against the budget (LIV003) and userlist secrets that cannot work
//! with how the roles' passwords are stored (LIV004).
//!
//! Only the simple query protocol is used (PgBouncer's admin console knows nothing else). The
//! servers are read in [`live`]; everything after that is pure comparison ([`findings`]), so the
//! rules are tested without servers.

mod verifiers;

use super::Io;
use super::check::{Flags, input_error, policy};
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
            for n in &done.notes {
                let _ = writeln!(io.err, "poolstack: {n}");
            }
            let report = Report::new(&done.diags, &done.stack.sources, Some(done.shown))
                .with_budget(done.budget)
                .with_skipped(&done.skipped);
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
    /// Said on stderr: e.g. a password file libpq would ignore.
    notes: Vec<String>,
    diags: Vec<Diagnostic>,
    budget: Option<Budget>,
    /// What could not be checked (verifiers without pg_authid), for the summary.
    skipped: Vec<crate::rules::skipped::Skipped>,
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
            Some(Target::parse(
                "--pgbouncer",
                "PgBouncer",
                url,
                args.pgbouncer_password_env.as_ref(),
                &stack,
            )?)
        }
        None => None,
    };
    let pg = match &args.postgres {
        Some(url) => Some(Target::parse(
            "--postgres",
            "PostgreSQL",
            url,
            args.postgres_password_env.as_ref(),
            &stack,
        )?),
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
    let mut notes = Vec::new();
    let pgb = pgb.map(|t| t.with_password(&mut notes)).transpose()?;
    let pg = pg.map(|t| t.with_password(&mut notes)).transpose()?;
    let mut facts = live::read_with_deadline(pgb, pg)?;
    // The rendered userlist, whose entries are compared with the stored verifiers.
    facts.userlist = crate::fsutil::read_bounded(
        &stack.outputs.userlist.value,
        crate::formats::text::MAX_FILE_BYTES,
    )
    .ok()
    .map(|b| crate::formats::userlist::Userlist::parse_bytes(&b));
    // Only LIV findings: the manifest's own problems are `check`'s to report.
    let (diags, budget, skipped) = findings(&stack, &facts);
    Ok(Done {
        notes,
        diags: rules::apply(diags, &policy),
        fail_on: policy.fail_on,
        budget,
        skipped,
        stack,
        shown: display_path(path),
    })
}

/// A server to connect to (never with a password from the URL) and where else its password may
/// come from.
struct Target {
    server: crate::pgconn::Server,
    /// The variable named for this server (`--postgres-password-env`), tried first.
    own_env: Option<String>,
    /// The manifest user's `password = { env }`, tried after PGPASSWORD.
    user_env: Option<String>,
}

impl Target {
    fn parse(
        flag: &'static str,
        what: &'static str,
        url: &str,
        own_env: Option<&String>,
        stack: &Stack,
    ) -> Result<Target, InputError> {
        let (example, default_db) = if what == "PgBouncer" {
            (
                "postgresql://ADMIN_USER@HOST:PORT/pgbouncer",
                Some("pgbouncer"),
            )
        } else {
            ("postgresql://USER@HOST:PORT/DBNAME", None)
        };
        let server = crate::pgconn::Server::parse(flag, what, url, example, default_db)?;
        let user_env = stack
            .user(&server.user)
            .and_then(|u| u.password.as_ref())
            .and_then(|p| match &p.value {
                PasswordSource::Env { env } => Some(env.clone()),
                _ => None,
            });
        Ok(Target {
            server,
            own_env: own_env.cloned(),
            user_env,
        })
    }

    /// The server's own variable, PGPASSWORD, the manifest user's variable, PGPASSFILE or
    /// ~/.pgpass (as libpq reads it), else a no-echo prompt on a terminal; else none (a server
    /// that wants one then says so, and the message says what to do).
    fn with_password(mut self, notes: &mut Vec<String>) -> Result<Target, InputError> {
        let mut vars: Vec<&str> = Vec::new();
        if let Some(v) = &self.own_env {
            if std::env::var_os(v).is_none() {
                return Err(InputError::new(format!(
                    "${v} (the password for {}) is not set",
                    self.server.shown
                ))
                .with_help(format!(
                    "set it for this command, e.g. `{v}=… poolstack doctor …`"
                )));
            }
            vars.push(v);
        }
        vars.push("PGPASSWORD");
        if let Some(v) = &self.user_env {
            vars.push(v);
        }
        self.server.find_password(&vars, true, notes)?;
        Ok(self)
    }
}

/// What the running servers said, and the userlist PgBouncer reads (the rendered one on disk).
#[derive(Debug, Default)]
pub struct Facts {
    pub pgbouncer: Option<PgbFacts>,
    pub postgres: Option<PgFacts>,
    pub userlist: Option<crate::formats::userlist::Userlist>,
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
    /// Each role and its stored password (never shown), or why pg_authid could not be read.
    pub authid: Result<Vec<verifiers::StoredRole>, String>,
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
            .map(|t| t.server.shown.clone())
            .collect();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let result = (|| {
                let pgbouncer = pgb.as_ref().map(read_pgbouncer).transpose()?;
                let postgres = pg.as_ref().map(read_postgres).transpose()?;
                Ok(Facts {
                    pgbouncer,
                    postgres,
                    userlist: None,
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
        t.server
            .config
            .connect(NoTls)
            .map_err(|e| crate::pgconn::connect_error(&t.server, &e))
    }

    fn query_error(t: &Target, sql: &str, e: &postgres::Error) -> InputError {
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        InputError::new(format!("{} refused `{sql}`: {detail}", t.server.shown))
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
            shown: t.server.shown.clone(),
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
        let authid =
            match client.simple_query("SELECT rolname, rolpassword FROM pg_catalog.pg_authid") {
                Ok(messages) => Ok(messages
                    .iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(r) => Some(verifiers::StoredRole {
                            name: r.get(0)?.to_string(),
                            password: r
                                .get(1)
                                .map(|p| crate::secrets::Password::new(p.to_string())),
                        }),
                        _ => None,
                    })
                    .collect()),
                Err(e) => Err(e
                    .as_db_error()
                    .map(|d| d.message().to_string())
                    .unwrap_or_else(|| e.to_string())),
            };
        Ok(PgFacts {
            shown: t.server.shown.clone(),
            settings,
            connections,
            active,
            authid,
        })
    }
}

/// Every LIV finding, and connection use against the budget (when PostgreSQL was read).
pub fn findings(
    stack: &Stack,
    facts: &Facts,
) -> (
    Vec<Diagnostic>,
    Option<Budget>,
    Vec<crate::rules::skipped::Skipped>,
) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    if let (Some(pgb), Some(live)) = (&stack.pgbouncer, &facts.pgbouncer) {
        pgbouncer_findings(pgb, live, &mut out);
    }
    if let Some(live) = &facts.postgres {
        postgres_findings(stack, live, &mut out);
        skipped.extend(verifiers::findings(
            stack,
            &live.shown,
            &live.authid,
            facts.userlist.as_ref(),
            &mut out,
        ));
    }
    let budget = budget::finding(stack, facts, &mut out);
    (out, budget, skipped)
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
        // The apply plan's classification (the catalog, for the declared release); SHOW CONFIG's
        // `changeable` only for an option the catalog does not know.
        let restart = crate::plan::classify::pgbouncer(pgb.release(), &o.name)
            .map_or(!changeable, |e| e.needs_restart());
        // A restart-only option is LIV002 alone: one finding per setting.
        if restart {
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
                .help("deploy the rendered pgbouncer.ini and restart PgBouncer (one instance at a time with so_reuseport), or put the live value in the manifest"),
            );
            continue;
        }
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
            .at(loc)
            .help("deploy the rendered pgbouncer.ini and RELOAD (look for `config file loading failed` in PgBouncer's log), or put the live value in the manifest"),
        );
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
                "deploy the rendered PostgreSQL fragment and {}; look for an override with SELECT setting, source, sourcefile FROM pg_settings WHERE name = '{}'; or put the live value in the manifest",
                apply_pg(stack.postgres.major(), &s.name),
                s.name
            )),
        );
    }
}

/// How a changed parameter takes effect, as the apply plan says it (the catalog's context).
fn apply_pg(major: Option<u32>, name: &str) -> String {
    use crate::plan::classify::{self, PgEffect};
    match classify::postgres(major, name) {
        Some(PgEffect::Reload { context, .. }) => format!(
            "reload (SELECT pg_reload_conf(); context {}: no restart needed)",
            context.as_str()
        ),
        Some(effect) => format!(
            "restart PostgreSQL ({}: a reload does not apply it)",
            effect.reason()
        ),
        None => "reload, or restart if pg_settings.pending_restart says so".to_string(),
    }
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
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

    #[test]
    fn liv001_help_says_restart_or_reload_as_the_plan_classifies() {
        let s = stack(HEALTHY);
        let setting = |name: &str, value: &str| PgSetting {
            name: name.into(),
            setting: value.into(),
            unit: Some("kB".into()),
            vartype: "integer".into(),
            pending_restart: false,
        };
        let live = PgFacts {
            shown: "PostgreSQL".into(),
            settings: vec![
                setting("shared_buffers", "1024"),
                setting("work_mem", "1024"),
            ],
            connections: 0,
            active: 0,
            authid: Ok(Vec::new()),
        };
        let mut out = Vec::new();
        postgres_findings(&s, &live, &mut out);
        let help = |name: &str| {
            out.iter()
                .find(|d| d.code == "LIV001" && d.message.starts_with(name))
                .and_then(|d| d.help.clone())
                .unwrap_or_else(|| panic!("no LIV001 for {name}: {out:#?}"))
        };
        assert!(
            help("shared_buffers").contains("restart PostgreSQL (context postmaster"),
            "{}",
            help("shared_buffers")
        );
        assert!(help("work_mem").contains("reload (SELECT pg_reload_conf(); context user"));
        assert!(!help("work_mem").contains("restart PostgreSQL"));
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
            [("LIV002", "listen_port"), ("LIV001", "max_client_conn")],
            "{out:#?}"
        );
        assert_eq!(
            line(&s, &out[1]),
            crate::rules::testing::line_of(HEALTHY, "max_client_conn = 200")
        );
    }
}
