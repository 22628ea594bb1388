//! `databases.NAME.KEY`, `users.NAME.KEY`, `apps.NAME.KEY`, `clients.NAME.KEY`: a key of one entry
//! of an array table, named by the entry's `name` (which may itself hold dots).

use super::{Cx, Found};
use crate::diag::InputError;
use crate::manifest::PasswordSource;
use crate::stack::{Origin, PgbOption, Setting};

/// Split `NAME.KEY` against the entry names: the longest name that is followed by a dot.
pub(super) fn split(rest: &str, names: impl Iterator<Item = String>) -> Option<(String, &str)> {
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

pub(super) fn no_entry(table: &str, rest: &str, names: Vec<String>) -> InputError {
    let help = match names.is_empty() {
        true => format!("the manifest has no [[{table}]] entry"),
        false => format!("its [[{table}]] entries are: {}", names.join(", ")),
    };
    InputError::new(format!(
        "`{table}.{rest}` names no [[{table}]] entry and key"
    ))
    .with_help(format!("write {table}.NAME.KEY; {help}"))
}

pub(super) fn no_key(table: &str, entry: &str, key: &str, keys: &[&str]) -> InputError {
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
