//! Which effective value a name means: PostgreSQL parameters, `[pgbouncer]` options and every key
//! of the manifest's single tables (`[stack]`, `[outputs]`, `[postgres]`, `[pgbouncer]`, `[lint]`,
//! `[monitoring]`, `[deploy]`).
//! Array tables (`databases.NAME.KEY`, …) are in [`super::entries`].

use super::{Cx, Found, entries};
use crate::diag::InputError;
use crate::manifest::{DataSize, PasswordEncryption, UserlistHash};
use crate::stack::{Origin, Pgbouncer, Setting};

/// Every key of the single tables, for "did you mean" help.
pub(super) const MANIFEST_KEYS: &[&str] = &[
    "name",
    "pgbouncer_ini",
    "userlist",
    "postgresql_conf",
    "roles_sql",
    "templates",
    "version",
    "host",
    "port",
    "memory",
    "cpus",
    "storage",
    "workload",
    "data_size",
    "os",
    "hba_method",
    "enabled",
    "client_port",
    "instances",
    "userlist_hash",
    "nofile_limit",
    "ignore",
    "fail_on",
    "severity",
];

pub(super) fn lookup(cx: &Cx<'_>, target: &str) -> Result<Found, InputError> {
    let unknown = || super::unknown(cx.stack, target);
    let (head, rest) = match target.split_once('.') {
        Some((h, r)) => (Some(h.to_ascii_lowercase()), r),
        None => (None, target),
    };
    let found = match head.as_deref() {
        None => postgres_param(cx, rest)
            .or_else(|| pgb_option(cx, rest))
            .or_else(|| pgbouncer_key(cx, rest))
            .or_else(|| postgres_key(cx, rest)),
        Some("stack") if rest == "name" => Some(Found::of("stack.name", &cx.stack.name)),
        Some("outputs") => outputs(cx, rest),
        Some("postgres") if rest == "settings" => Some(cx.settings_table(
            "postgres.settings",
            &["postgres", "settings"],
            cx.m.manifest.postgres.settings.as_ref(),
            |k| postgres_param(cx, k),
        )),
        Some("postgres") => postgres_key(cx, rest).or_else(|| {
            let name = rest.strip_prefix("settings.").unwrap_or(rest);
            postgres_param(cx, name)
        }),
        Some("pgbouncer") => return pgbouncer(cx, rest).ok_or_else(unknown),
        Some("databases") => return entries::database(cx, rest),
        Some("users") => return entries::user(cx, rest),
        Some("apps") => return super::apps::app(cx, rest),
        Some("clients") => return entries::client(cx, rest),
        Some("lint") => lint(cx, rest),
        Some("monitoring") => super::monitoring::key(cx, rest),
        Some("deploy") => super::deploy::key(cx, rest),
        // `pg_stat_statements.max`: a dotted extension parameter.
        Some(_) => postgres_param(cx, target),
    };
    found.ok_or_else(unknown)
}

/// `pgbouncer.KEY`: a manifest key, or an option (`pgbouncer.settings.KEY` or `pgbouncer.KEY`).
fn pgbouncer(cx: &Cx<'_>, rest: &str) -> Option<Found> {
    if rest.eq_ignore_ascii_case("enabled") {
        return Some(enabled(cx));
    }
    let name = rest.strip_prefix("settings.").unwrap_or(rest);
    if cx.stack.pgbouncer.is_some() && rest == "settings" {
        return Some(
            cx.settings_table(
                "pgbouncer.settings",
                &["pgbouncer", "settings"],
                cx.m.manifest
                    .pgbouncer
                    .as_ref()
                    .and_then(|p| p.settings.as_ref()),
                |k| pgb_option(cx, k),
            ),
        );
    }
    if cx.stack.pgbouncer.is_none() {
        // Disabled: say so rather than "unknown", for any name the table could hold.
        return Some(Found::unset(
            &format!("pgbouncer.{name}"),
            "not used: this stack has no PgBouncer (see `poolstack explain pgbouncer.enabled`)",
        ));
    }
    pgbouncer_key(cx, name)
        .or_else(|| pgb_option(cx, name))
        .map(|mut f| {
            f.name = format!("pgbouncer.{}", f.name);
            f
        })
}

fn enabled(cx: &Cx<'_>) -> Found {
    let name = "pgbouncer.enabled";
    let on = cx.stack.pgbouncer.is_some();
    match cx.written(&["pgbouncer", "enabled"]) {
        Some(o) => Found::new(name, on.to_string(), o),
        None if cx.m.manifest.pgbouncer.is_some() => Found::new(
            name,
            "true",
            Origin::Default(
                "poolstack's default: a [pgbouncer] table is used unless it says enabled = false",
            ),
        ),
        None => Found::new(
            name,
            "false",
            Origin::Default(
                "the manifest has no [pgbouncer] table: apps connect to PostgreSQL directly",
            ),
        ),
    }
}

pub(super) fn postgres_param(cx: &Cx<'_>, name: &str) -> Option<Found> {
    let pg = &cx.stack.postgres;
    let p = pg.param_or_default(name)?;
    let builtin = format!(
        "{}'s built-in default (neither set in the manifest nor derived{})",
        pg.major()
            .map_or("PostgreSQL".to_string(), |v| format!("PostgreSQL {v}")),
        if pg.memory.is_none() {
            "; declare [postgres] memory to derive memory settings"
        } else {
            ""
        }
    );
    let mut f = Found::new(&p.name, p.conf_text.clone(), p.origin.clone());
    // Defaults poolstack chose say why themselves.
    if matches!(&p.origin, Origin::Default(why) if why.starts_with("not set")) {
        f.default_note = Some(builtin);
    }
    Some(f)
}

/// A `[pgbouncer]` option as pgbouncer.ini gets it (first-class keys included), else the
/// version's default.
pub(super) fn pgb_option(cx: &Cx<'_>, name: &str) -> Option<Found> {
    let b = cx.stack.pgbouncer.as_ref()?;
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "admin_users" => return Some(user_list(&n, &b.admin_users, "admin")),
        "stats_users" => return Some(user_list(&n, &b.stats_users, "stats")),
        "max_prepared_statements" => {
            return Some(match &b.max_prepared_statements {
                Some(s) => Found::of(&n, s),
                None => Found::unset(
                    &n,
                    "not used: the declared PgBouncer version has no max_prepared_statements (from 1.21)",
                ),
            });
        }
        _ => {}
    }
    let rendered = crate::render::context::pgbouncer_options(b);
    if let Some(o) = rendered.into_iter().find(|o| o.name == n) {
        return Some(Found::new(&n, o.value, o.origin));
    }
    if matches!(n.as_str(), "logfile" | "pidfile" | "unix_socket_dir") {
        let default = b
            .option_or_default(&n)
            .map(|o| o.ini_text)
            .filter(|t| !t.is_empty());
        return Some(Found::unset(
            &n,
            match default {
                Some(d) => {
                    format!("not written to pgbouncer.ini: PgBouncer's default ({d}) applies")
                }
                None => {
                    "not written to pgbouncer.ini: PgBouncer's default (none) applies".to_string()
                }
            },
        ));
    }
    b.option_or_default(&n)
        .map(|o| Found::new(&o.name, o.ini_text, o.origin))
}

/// admin_users / stats_users: the `[[users]]` with admin / stats = true.
fn user_list(name: &str, list: &[Setting<String>], flag: &str) -> Found {
    if list.is_empty() {
        return Found::unset(
            name,
            format!("no [[users]] entry has {flag} = true, so pgbouncer.ini has no {name}"),
        );
    }
    Found::new(
        name,
        list.iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>()
            .join(","),
        Origin::Derived {
            formula: format!("the [[users]] entries with {flag} = true"),
            inputs: list.iter().filter_map(|s| s.loc().cloned()).collect(),
        },
    )
}

/// Keys of `[pgbouncer]` that are not pgbouncer.ini options.
fn pgbouncer_key(cx: &Cx<'_>, name: &str) -> Option<Found> {
    let b: &Pgbouncer = cx.stack.pgbouncer.as_ref()?;
    let n = name.to_ascii_lowercase();
    Some(match n.as_str() {
        "enabled" => enabled(cx),
        "version" => match &b.version {
            Some(v) => Found::of(&n, v),
            None => Found::unset(&n, "not declared"),
        },
        "host" => Found::of(&n, &b.host),
        "client_port" => Found::of(&n, &b.client_port),
        "instances" => Found::of(&n, &b.instances),
        "nofile_limit" => match &b.nofile_limit {
            Some(s) => Found::of(&n, s),
            None => Found::unset(
                &n,
                "not declared: CON007 cannot compare PgBouncer's file-descriptor limit with its estimate",
            ),
        },
        "userlist_hash" => userlist_hash(cx, &n),
        _ => return None,
    })
}

fn userlist_hash(cx: &Cx<'_>, n: &str) -> Found {
    let written =
        cx.m.manifest
            .pgbouncer
            .as_ref()
            .and_then(|p| p.userlist_hash);
    let text = match written {
        Some(UserlistHash::Md5) => "md5",
        Some(UserlistHash::ScramSha256) => "scram-sha-256",
        Some(UserlistHash::Plain) => "plain",
        Some(UserlistHash::Auto) | None => "auto",
    };
    let origin = cx
        .written(&["pgbouncer", "userlist_hash"])
        .unwrap_or(Origin::Default(
            "poolstack's default: each user's secret is the type PostgreSQL stores",
        ));
    let mut f = Found::new(n, text, origin);
    f.notes = cx
        .stack
        .users
        .iter()
        .map(|u| {
            format!(
                "  user {}: {}{}",
                u.name.value,
                u.userlist_secret.value,
                u.userlist_secret.origin.note()
            )
        })
        .collect();
    f
}

/// Keys of `[postgres]` that are not parameters (those are [`postgres_param`]).
fn postgres_key(cx: &Cx<'_>, name: &str) -> Option<Found> {
    let pg = &cx.stack.postgres;
    let n = name.to_ascii_lowercase();
    let tuned = pg.memory.is_some();
    // A PgTune input left out: PgTune's own form default when memory is derived from, else unused.
    let tune_input = |value: &str| match tuned {
        true => Found::new(
            &n,
            value,
            Origin::Default("PgTune's default, used to derive the memory settings"),
        ),
        false => Found::unset(
            &n,
            "not used: it only feeds derived settings, and nothing is derived without [postgres] memory",
        ),
    };
    Some(match n.as_str() {
        "version" => match &pg.version {
            Some(v) => Found::of(&n, v),
            None => Found::unset(&n, "not declared"),
        },
        "host" => Found::of(&n, &pg.host),
        "port" => Found::of(&n, &pg.port),
        "memory" => match &pg.memory {
            Some(m) => Found::of(&n, m),
            None => Found::unset(
                &n,
                "no memory setting is derived (shared_buffers, work_mem, …): declare it, e.g. memory = \"16GB\"",
            ),
        },
        "cpus" => match &pg.cpus {
            Some(c) => Found::of(&n, c),
            None if tuned => Found::unset(
                &n,
                "parallel-worker settings are not derived: declare the CPUs PostgreSQL has",
            ),
            None => tune_input(""),
        },
        "storage" => match &pg.storage {
            Some(s) => Found::new(&n, debug_name(&s.value), s.origin.clone()),
            None => tune_input("ssd"),
        },
        "workload" => match &pg.workload {
            Some(s) => Found::new(&n, debug_name(&s.value), s.origin.clone()),
            None => tune_input("web"),
        },
        "os" => match &pg.os {
            Some(s) => Found::new(&n, debug_name(&s.value), s.origin.clone()),
            None => tune_input("linux"),
        },
        "data_size" => match &pg.data_size {
            Some(s) => Found::new(&n, data_size(s.value), s.origin.clone()),
            None => tune_input("1-3x-ram"),
        },
        "password_encryption" => Found::new(
            &n,
            match pg.password_encryption.value {
                PasswordEncryption::Md5 => "md5",
                PasswordEncryption::ScramSha256 => "scram-sha-256",
            },
            pg.password_encryption.origin.clone(),
        ),
        "max_connections" => Found::of(&n, &pg.max_connections),
        "superuser_reserved_connections" => Found::of(&n, &pg.superuser_reserved_connections),
        "hba_method" => match &pg.hba_method {
            Some(h) => Found::of(&n, h),
            None => Found::unset(
                &n,
                "not declared: AUT rules do not compare the roles' stored secrets with pg_hba.conf",
            ),
        },
        _ => return None,
    })
    .map(|mut f| {
        f.name = format!("postgres.{}", f.name);
        f
    })
}

fn outputs(cx: &Cx<'_>, key: &str) -> Option<Found> {
    let o = &cx.stack.outputs;
    let name = format!("outputs.{key}");
    let path = |s: &Setting<std::path::PathBuf>| {
        Found::new(&name, s.value.display().to_string(), s.origin.clone())
    };
    Some(match key {
        "pgbouncer_ini" => path(&o.pgbouncer_ini),
        "userlist" => path(&o.userlist),
        "postgresql_conf" => path(&o.postgresql_conf),
        "roles_sql" => path(&o.roles_sql),
        "templates" => match &o.templates {
            Some(t) => path(t),
            None => Found::unset(&name, "the built-in templates are used"),
        },
        _ => return None,
    })
}

fn lint(cx: &Cx<'_>, key: &str) -> Option<Found> {
    let l = &cx.stack.lint;
    let name = format!("lint.{key}");
    if let Some(code) = key.strip_prefix("severity.") {
        let code = code.to_ascii_uppercase();
        let rule = crate::rules::find(&code)?;
        let name = format!("lint.severity.{code}");
        return Some(match l.severity.get(&code) {
            Some(s) => Found::of(&name, s),
            None => Found::new(
                &name,
                rule.severity.to_string(),
                Origin::Default("the rule's own severity"),
            ),
        });
    }
    Some(match key {
        "fail_on" => Found::new(
            &name,
            debug_name(&l.fail_on.value),
            l.fail_on.origin.clone(),
        ),
        "ignore" => match cx.written(&["lint", "ignore"]) {
            Some(o) => Found::new(
                &name,
                l.ignore
                    .iter()
                    .map(|s| s.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                o,
            ),
            None => Found::unset(&name, "no rule is switched off"),
        },
        "severity" => match cx.written(&["lint", "severity"]) {
            Some(o) => Found::new(
                &name,
                l.severity
                    .iter()
                    .map(|(k, v)| format!("{k} = {}", v.value))
                    .collect::<Vec<_>>()
                    .join(", "),
                o,
            ),
            None => Found::unset(&name, "every rule has its own severity"),
        },
        _ => return None,
    })
}

/// A unit-like enum's manifest spelling (`Ssd` → `ssd`).
pub(super) fn debug_name(v: &impl std::fmt::Debug) -> String {
    format!("{v:?}").to_ascii_lowercase()
}

fn data_size(d: DataSize) -> &'static str {
    match d {
        DataSize::LessThanRam => "less-than-ram",
        DataSize::OneToThreeTimesRam => "1-3x-ram",
        DataSize::MoreThanThreeTimesRam => "more-than-3x-ram",
    }
}
