//! `databases.NAME.KEY`, `users.NAME.KEY`, `apps.NAME.KEY`, `clients.NAME.KEY`: a key of one entry
//! of an array table, named by the entry's `name` (which may itself hold dots).

use super::{Cx, Found};
use crate::diag::InputError;
use crate::manifest::{PasswordSource, PrepareThreshold, Recycle};
use crate::stack::{Origin, PgbOption, Setting};

/// Split `NAME.KEY` against the entry names: the longest name that is followed by a dot.
fn split(rest: &str, names: impl Iterator<Item = String>) -> Option<(String, &str)> {
    names
        .filter(|n| {
            rest.len() > n.len() + 1
                && rest.starts_with(n.as_str())
                && rest[n.len()..].starts_with('.')
        })
        .max_by_key(String::len)
        .map(|n| {
            let key = &rest[n.len() + 1..];
            (n, key)
        })
}

fn no_entry(table: &str, rest: &str, names: Vec<String>) -> InputError {
    let help = match names.is_empty() {
        true => format!("the manifest has no [[{table}]] entry"),
        false => format!("its [[{table}]] entries are: {}", names.join(", ")),
    };
    InputError::new(format!(
        "`{table}.{rest}` names no [[{table}]] entry and key"
    ))
    .with_help(format!("write {table}.NAME.KEY; {help}"))
}

fn no_key(table: &str, entry: &str, key: &str, keys: &[&str]) -> InputError {
    InputError::new(format!(
        "`{key}` is not a key of the [[{table}]] entry `{entry}`"
    ))
    .with_help(format!("its keys are: {}", keys.join(", ")))
}

/// An entry's list (`users = [...]`): the places come from the manifest, the names from the stack.
fn list(name: &str, items: &[Setting<String>], written: Option<Origin>, unset: &str) -> Found {
    let text = items
        .iter()
        .map(|s| s.value.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match written {
        Some(o) => Found::new(name, text, o),
        None if items.is_empty() => Found::unset(name, unset),
        None => Found::new(
            name,
            text,
            Origin::Derived {
                formula: items
                    .iter()
                    .filter_map(|s| match &s.origin {
                        Origin::Derived { formula, .. } => Some(formula.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                inputs: items.iter().filter_map(|s| s.loc().cloned()).collect(),
            },
        ),
    }
}

/// A connection-string or [users] key of `settings`, or the catalog's word on one left out.
fn option(
    name: &str,
    key: &str,
    options: &[PgbOption],
    section: crate::catalog::pgbouncer::Section,
) -> Option<Found> {
    let key = key.strip_prefix("settings.").unwrap_or(key);
    if let Some(o) = options.iter().find(|o| o.name == key) {
        return Some(Found::new(name, o.ini_text.clone(), o.origin.clone()));
    }
    crate::catalog::pgbouncer::get(section, key)?;
    Some(Found::unset(name, "not set: PgBouncer's default applies"))
}

/// Where a setting falls back to another (a database's pool_size to default_pool_size): the
/// other's value, as derived from it.
fn inherited<T: std::fmt::Display>(name: &str, from: &str, s: &Setting<T>) -> Found {
    match &s.origin {
        Origin::Manifest(l) | Origin::Imported(l) => Found::new(
            name,
            s.value.to_string(),
            Origin::Derived {
                formula: format!("inherited from {from}"),
                inputs: vec![l.clone()],
            },
        ),
        _ => {
            let mut f = Found::new(name, s.value.to_string(), s.origin.clone());
            f.notes.push(format!("inherited from {from}"));
            f
        }
    }
}

fn index_of(index: &str) -> usize {
    index.parse().unwrap_or(0)
}

const DB_KEYS: &[&str] = &[
    "name",
    "dbname",
    "host",
    "port",
    "users",
    "user",
    "pool_size",
    "reserve_pool_size",
    "max_db_connections",
    "pool_mode",
    "create",
    "owner",
    "settings.KEY",
];

pub(super) fn database(cx: &Cx<'_>, rest: &str) -> Result<Found, InputError> {
    let names = || cx.stack.databases.iter().map(|d| d.name.value.clone());
    let Some((entry, key)) = split(rest, names()) else {
        return Err(no_entry("databases", rest, names().collect()));
    };
    let Some(d) = cx.stack.database(&entry) else {
        return Err(no_entry("databases", rest, names().collect()));
    };
    let index =
        cx.m.manifest
            .databases
            .iter()
            .position(|e| e.name == entry)
            .unwrap_or(0)
            .to_string();
    let name = format!("databases.{entry}.{key}");
    let n = name.as_str();
    Ok(match key {
        "name" => Found::of(n, &d.name),
        "dbname" => Found::of(n, &d.dbname),
        "host" => Found::of(n, &d.host),
        "port" => Found::of(n, &d.port),
        "users" => list(
            n,
            &d.users,
            cx.written(&["databases", &index, "users"]),
            "no app connects to it and it lists no users: PgBouncer opens no pool for it",
        ),
        "user" => match &d.forced_user {
            Some(u) => Found::of(n, u),
            None => Found::unset(
                n,
                "no forced server user: each client's own user logs in to PostgreSQL",
            ),
        },
        "pool_size" => Found::of(n, &d.pool_size),
        "reserve_pool_size" | "reserve_pool" => Found::of(n, &d.reserve_pool_size),
        "max_db_connections" => Found::of(n, &d.max_db_connections),
        "pool_mode" => Found::new(n, d.pool_mode.value.as_str(), d.pool_mode.origin.clone()),
        "create" => match cx.written(&["databases", &index, "create"]) {
            Some(o) => Found::new(n, d.create_owner.is_some().to_string(), o),
            None => Found::new(
                n,
                "false",
                Origin::Default("poolstack's: roles.sql creates no database"),
            ),
        },
        "owner" => match &d.create_owner {
            Some(o) => Found::of(n, o),
            None => Found::unset(
                n,
                "not used: roles.sql creates this database only with `create = true`",
            ),
        },
        "settings" => cx.settings_table(
            n,
            &["databases", &index, "settings"],
            cx.m.manifest
                .databases
                .get(index_of(&index))
                .and_then(|e| e.settings.as_ref()),
            |k| {
                option(
                    n,
                    k,
                    &d.options,
                    crate::catalog::pgbouncer::Section::Databases,
                )
            },
        ),
        _ => option(
            n,
            key,
            &d.options,
            crate::catalog::pgbouncer::Section::Databases,
        )
        .ok_or_else(|| no_key("databases", &entry, key, DB_KEYS))?,
    })
}

const USER_KEYS: &[&str] = &[
    "name",
    "password",
    "role",
    "admin",
    "stats",
    "pool_mode",
    "max_user_connections",
    "verifier",
    "settings.KEY",
];

pub(super) fn user(cx: &Cx<'_>, rest: &str) -> Result<Found, InputError> {
    let names = || cx.stack.users.iter().map(|u| u.name.value.clone());
    let Some((entry, key)) = split(rest, names()) else {
        return Err(no_entry("users", rest, names().collect()));
    };
    let Some(u) = cx.stack.user(&entry) else {
        return Err(no_entry("users", rest, names().collect()));
    };
    let index =
        cx.m.manifest
            .users
            .iter()
            .position(|e| e.name == entry)
            .unwrap_or(0)
            .to_string();
    let name = format!("users.{entry}.{key}");
    let n = name.as_str();
    Ok(match key {
        "name" => Found::of(n, &u.name),
        // Never the secret itself: only where it comes from.
        "password" => match &u.password {
            Some(p) => Found::new(
                n,
                match &p.value {
                    PasswordSource::Literal(_) => {
                        "a plaintext password written in the manifest (hidden; AUT001)".to_string()
                    }
                    PasswordSource::Env { env } => format!("{{ env = \"{env}\" }}"),
                    PasswordSource::File { file } => format!("{{ file = \"{file}\" }}"),
                    PasswordSource::Prompt { .. } => "{ prompt = true }".to_string(),
                },
                p.origin.clone(),
            ),
            None => Found::unset(
                n,
                "no password source: render and userlist cannot write this user's secret",
            ),
        },
        "role" => Found::of(n, &u.role),
        "verifier" => match &u.verifier {
            Some(v) => Found::new(
                n,
                format!("{{ userlist = \"{}\" }}", v.value.display()),
                v.origin.clone(),
            ),
            None => Found::unset(
                n,
                "not set: the verifier PostgreSQL stores is known only where roles.sql sets it (role = true)",
            ),
        },
        "admin" => Found::of(n, &u.admin),
        "stats" => Found::of(n, &u.stats),
        "pool_mode" => match &u.pool_mode {
            Some(m) => Found::new(n, m.value.as_str(), m.origin.clone()),
            None => Found::unset(
                n,
                "not set: this user's pools take each database's pool_mode, else [pgbouncer] pool_mode",
            ),
        },
        "max_user_connections" => match (&u.max_user_connections, &cx.stack.pgbouncer) {
            (Some(m), _) => Found::of(n, m),
            (None, Some(b)) => {
                inherited(n, "pgbouncer.max_user_connections", &b.max_user_connections)
            }
            (None, None) => Found::unset(n, "not used: this stack has no PgBouncer"),
        },
        "settings" => cx.settings_table(
            n,
            &["users", &index, "settings"],
            cx.m.manifest
                .users
                .get(index_of(&index))
                .and_then(|e| e.settings.as_ref()),
            |k| option(n, k, &u.options, crate::catalog::pgbouncer::Section::Users),
        ),
        _ => option(
            n,
            key,
            &u.options,
            crate::catalog::pgbouncer::Section::Users,
        )
        .ok_or_else(|| no_key("users", &entry, key, USER_KEYS))?,
    })
}

const APP_KEYS: &[&str] = &[
    "name",
    "replicas",
    "processes",
    "driver",
    "libpq",
    "database",
    "user",
    "password_env",
    "pool_size",
    "max_overflow",
    "pool_timeout",
    "pool_recycle",
    "pre_ping",
    "prepare_threshold",
    "statement_cache_size",
    "connect_timeout",
    "env_file",
    "settings_file",
    "metrics_pool_name",
];

pub(super) fn app(cx: &Cx<'_>, rest: &str) -> Result<Found, InputError> {
    let names = || cx.stack.apps.iter().map(|a| a.name.value.clone());
    let Some((entry, key)) = split(rest, names()) else {
        return Err(no_entry("apps", rest, names().collect()));
    };
    let Some(a) = cx.stack.apps.iter().find(|a| a.name.value == entry) else {
        return Err(no_entry("apps", rest, names().collect()));
    };
    let name = format!("apps.{entry}.{key}");
    let n = name.as_str();
    // A kind's own settings (`crate::apps`), as the framework names them.
    if let Some(s) = a.fw.get(key) {
        return Ok(Found::new(n, s.value.to_string(), s.origin.clone()));
    }
    if key == "kind" {
        return Ok(Found::new(n, a.kind().name(), a.kind.origin.clone()));
    }
    // A key of the kind with no default, left out: the framework's own behaviour applies.
    // (SQLAlchemy's own keys are the typed fields below.)
    let own = a.kind().keys().iter().find(|k| k.name == key);
    if let Some(def) = own.filter(|_| !crate::apps::is_default(a.kind())) {
        return Ok(Found::unset(
            n,
            format!(
                "not set: {} (left to the {} app itself)",
                def.doc.trim_end_matches('.'),
                a.kind().name()
            ),
        ));
    }
    // SQLAlchemy's own keys mean nothing for another kind.
    const COMMON: &[&str] = &[
        "name",
        "replicas",
        "processes",
        "database",
        "user",
        "password_env",
        "env_file",
        "settings_file",
        "metrics_pool_name",
    ];
    if !crate::apps::is_default(a.kind()) && !COMMON.contains(&key) {
        let mut keys: Vec<&str> = COMMON.to_vec();
        keys.push("kind");
        keys.extend(a.kind().keys().iter().map(|k| k.name));
        return Err(no_key("apps", &entry, key, &keys));
    }
    let driver = a.driver.value.as_str();
    Ok(match key {
        "name" => Found::of(n, &a.name),
        "replicas" => Found::of(n, &a.replicas),
        "processes" => Found::of(n, &a.processes),
        "driver" => Found::new(n, driver, a.driver.origin.clone()),
        "libpq" => match &a.libpq {
            Some(v) => Found::of(n, v),
            None => Found::unset(
                n,
                "not declared: rules that depend on the client's libpq version stay silent",
            ),
        },
        "database" => Found::of(n, &a.database),
        "user" => Found::of(n, &a.user),
        "password_env" => Found::of(n, &a.password_env),
        "pool_size" => Found::of(n, &a.pool_size),
        "max_overflow" => Found::of(n, &a.max_overflow),
        "pool_timeout" => Found::of(n, &a.pool_timeout),
        "connect_timeout" => Found::of(n, &a.connect_timeout),
        "pool_recycle" => Found::new(
            n,
            match a.pool_recycle.value {
                Recycle::Never => "-1 (never)".to_string(),
                Recycle::After(d) => d.to_string(),
            },
            a.pool_recycle.origin.clone(),
        ),
        "pre_ping" => Found::of(n, &a.pre_ping),
        "prepare_threshold" => match &a.prepare_threshold {
            Some(p) => Found::new(
                n,
                match p.value {
                    PrepareThreshold::Disabled => "none".to_string(),
                    PrepareThreshold::After(k) => k.to_string(),
                },
                p.origin.clone(),
            ),
            None => Found::unset(
                n,
                format!("not used: a psycopg setting, and the app uses {driver}"),
            ),
        },
        "statement_cache_size" => match &a.statement_cache_size {
            Some(s) => Found::of(n, s),
            None => Found::unset(
                n,
                format!("not used: an asyncpg setting, and the app uses {driver}"),
            ),
        },
        "env_file" => Found::new(
            n,
            a.env_file.value.display().to_string(),
            a.env_file.origin.clone(),
        ),
        "settings_file" => match &a.settings_file {
            Some(f) => Found::new(n, f.value.display().to_string(), f.origin.clone()),
            _ => Found::unset(
                n,
                format!(
                    "none: a {} app reads its settings from the environment (env_file) only",
                    a.kind().name()
                ),
            ),
        },
        "metrics_pool_name" => super::monitoring::pool_name(cx, n, &entry),
        _ => return Err(no_key("apps", &entry, key, APP_KEYS)),
    })
}

pub(super) fn client(cx: &Cx<'_>, rest: &str) -> Result<Found, InputError> {
    let names = || cx.stack.clients.iter().map(|c| c.name.value.clone());
    let Some((entry, key)) = split(rest, names()) else {
        return Err(no_entry("clients", rest, names().collect()));
    };
    let Some(c) = cx.stack.clients.iter().find(|c| c.name.value == entry) else {
        return Err(no_entry("clients", rest, names().collect()));
    };
    let name = format!("clients.{entry}.{key}");
    Ok(match key {
        "name" => Found::of(&name, &c.name),
        "connections" => Found::of(&name, &c.connections),
        _ => return Err(no_key("clients", &entry, key, &["name", "connections"])),
    })
}
