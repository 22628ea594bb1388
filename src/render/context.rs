//! Template contexts: the stack spelled in each target's syntax.

use super::verifiers::UserSecret;
use crate::manifest::PasswordEncryption;
use crate::stack::settings::connstr_value;
use crate::stack::{App, Origin, Setting, Stack};
use minijinja::Value;
use serde::Serialize;

#[derive(Serialize)]
struct Line {
    name: String,
    value: String,
    comments: Vec<String>,
}

fn comments(origin: &Origin) -> Vec<String> {
    match origin {
        Origin::Derived { formula, .. } => vec![format!("derived: {formula}")],
        _ => Vec::new(),
    }
}

#[derive(Serialize)]
struct Entry {
    name: String,
    connstr: String,
    comments: Vec<String>,
}

/// A [databases]/[users] key: bare when PgBouncer's key syntax allows it, else single-quoted (1.25+;
/// older versions cannot express it, which resolution reports as CAT008).
fn ini_key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.*-".contains(c))
    {
        name.to_string()
    } else {
        format!("'{name}'")
    }
}

pub fn pgbouncer_ini(stack: &Stack) -> Value {
    let Some(pgb) = &stack.pgbouncer else {
        return Value::UNDEFINED;
    };
    // A manifest always declares the release; only hand-written files may not.
    let v = pgb
        .release()
        .unwrap_or(crate::catalog::pgbouncer::PgbVersion::MAX_SUPPORTED);
    let reserve_key = if v
        >= (crate::catalog::pgbouncer::PgbVersion {
            major: 1,
            minor: 24,
        }) {
        "reserve_pool_size"
    } else {
        "reserve_pool"
    };
    let databases: Vec<Entry> = stack
        .databases
        .iter()
        .map(|db| {
            let mut parts = Vec::new();
            // No host= is the unix socket (an imported entry without a host).
            if !db.host.value.is_empty() {
                parts.push(format!("host={}", connstr_value(&db.host.value)));
            }
            parts.push(format!("port={}", db.port.value));
            // The autodb entry `*` without a dbname connects to the database the client asked
            // for; `dbname=*` would be a database literally named `*`.
            if db.name.value != "*" || db.dbname.origin.is_explicit() {
                parts.push(format!("dbname={}", connstr_value(&db.dbname.value)));
            }
            if let Some(u) = &db.forced_user {
                parts.push(format!("user={}", connstr_value(&u.value)));
            }
            // Per-database values are written only when the entry sets them; the rest inherit [pgbouncer].
            let own = |s: &Setting<u32>, global: &Setting<u32>| s.origin != global.origin;
            if own(&db.pool_size, &pgb.default_pool_size) {
                parts.push(format!("pool_size={}", db.pool_size.value));
            }
            if own(&db.reserve_pool_size, &pgb.reserve_pool_size) {
                parts.push(format!("{reserve_key}={}", db.reserve_pool_size.value));
            }
            if own(&db.max_db_connections, &pgb.max_db_connections) {
                parts.push(format!(
                    "max_db_connections={}",
                    db.max_db_connections.value
                ));
            }
            if db.pool_mode.origin != pgb.pool_mode.origin {
                parts.push(format!("pool_mode={}", db.pool_mode.value.as_str()));
            }
            for o in &db.options {
                parts.push(format!("{}={}", o.name, o.ini_text));
            }
            Entry {
                name: ini_key(&db.name.value),
                connstr: parts.join(" "),
                comments: Vec::new(),
            }
        })
        .collect();
    let users: Vec<Entry> = stack
        .users
        .iter()
        .filter_map(|u| {
            let mut parts = Vec::new();
            if let Some(m) = &u.pool_mode {
                parts.push(format!("pool_mode={}", m.value.as_str()));
            }
            if let Some(m) = &u.max_user_connections {
                parts.push(format!("max_user_connections={}", m.value));
            }
            for o in &u.options {
                parts.push(format!("{}={}", o.name, o.ini_text));
            }
            (!parts.is_empty()).then(|| Entry {
                name: ini_key(&u.name.value),
                connstr: parts.join(" "),
                comments: Vec::new(),
            })
        })
        .collect();
    let options: Vec<Line> = pgbouncer_options(pgb)
        .into_iter()
        .map(|o| Line {
            comments: if matches!(o.name.as_str(), "admin_users" | "stats_users") {
                Vec::new()
            } else {
                comments(&o.origin)
            },
            name: o.name,
            value: o.value,
        })
        .collect();
    Value::from_serialize(serde_json::json!({
        "stack": stack.name.value,
        "version": v.to_string(),
        "databases": databases,
        "users": users,
        "options": options,
    }))
}

/// A `[pgbouncer]` line of the rendered pgbouncer.ini: the key, the value exactly as written, and
/// where the value comes from. `doctor` compares these with `SHOW CONFIG`.
#[derive(Debug, Clone)]
pub struct RenderedOption {
    pub name: String,
    pub value: String,
    pub origin: Origin,
}

fn opt<T: ToString>(name: &str, s: &Setting<T>) -> RenderedOption {
    RenderedOption {
        name: name.to_string(),
        value: s.value.to_string(),
        origin: s.origin.clone(),
    }
}

/// A list option's origin: its first entry's (every entry is written in the same place).
fn list_origin(v: &[Setting<String>]) -> Origin {
    v.first()
        .map(|s| s.origin.clone())
        .unwrap_or(Origin::Default("not set"))
}

/// Every `[pgbouncer]` line pgbouncer.ini gets, in the order it is written.
pub fn pgbouncer_options(pgb: &crate::stack::Pgbouncer) -> Vec<RenderedOption> {
    let mut options = vec![
        opt("listen_addr", &pgb.listen_addr),
        opt("listen_port", &pgb.listen_port),
    ];
    if let Some(s) = &pgb.unix_socket_dir {
        options.push(opt("unix_socket_dir", s));
    }
    options.push(RenderedOption {
        name: "auth_type".into(),
        value: pgb.auth_type.value.as_str().into(),
        origin: pgb.auth_type.origin.clone(),
    });
    // Empty: not set (PgBouncer then has no auth_file, as an imported file may say).
    if !pgb.auth_file.value.is_empty() {
        options.push(opt("auth_file", &pgb.auth_file));
    }
    let list = |v: &[Setting<String>]| {
        v.iter()
            .map(|s| s.value.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    if !pgb.admin_users.is_empty() {
        options.push(RenderedOption {
            name: "admin_users".into(),
            value: list(&pgb.admin_users),
            origin: list_origin(&pgb.admin_users),
        });
    }
    if !pgb.stats_users.is_empty() {
        options.push(RenderedOption {
            name: "stats_users".into(),
            value: list(&pgb.stats_users),
            origin: list_origin(&pgb.stats_users),
        });
    }
    options.push(RenderedOption {
        name: "pool_mode".into(),
        value: pgb.pool_mode.value.as_str().into(),
        origin: pgb.pool_mode.origin.clone(),
    });
    options.push(opt("max_client_conn", &pgb.max_client_conn));
    options.push(opt("default_pool_size", &pgb.default_pool_size));
    options.push(opt("min_pool_size", &pgb.min_pool_size));
    options.push(opt("reserve_pool_size", &pgb.reserve_pool_size));
    options.push(opt("max_db_connections", &pgb.max_db_connections));
    options.push(opt("max_user_connections", &pgb.max_user_connections));
    if let Some(s) = pgb
        .max_prepared_statements
        .as_ref()
        .filter(|s| s.origin.is_explicit())
    {
        options.push(opt("max_prepared_statements", s));
    }
    for (name, s) in [("logfile", &pgb.logfile), ("pidfile", &pgb.pidfile)] {
        if let Some(s) = s {
            options.push(opt(name, s));
        }
    }
    for o in &pgb.options {
        options.push(RenderedOption {
            name: o.name.clone(),
            value: o.ini_text.clone(),
            origin: o.origin.clone(),
        });
    }
    options
}

pub fn postgresql_conf(stack: &Stack) -> Value {
    let params: Vec<Line> = stack
        .postgres
        .params
        .iter()
        .filter(|p| p.rendered)
        .map(|p| Line {
            name: p.name.clone(),
            value: p.conf_text.clone(),
            comments: comments(&p.origin),
        })
        .collect();
    Value::from_serialize(serde_json::json!({
        "stack": stack.name.value,
        "version": stack.postgres.major(),
        "params": params,
    }))
}

pub fn env_file(stack: &Stack, app: &App) -> Value {
    let mut vars = vec![Line {
        name: "USE_PGBOUNCER".into(),
        value: app.url.via_pgbouncer.to_string(),
        comments: Vec::new(),
    }];
    vars.extend(app.kind().env(app).into_iter().map(|l| Line {
        name: l.name,
        value: l.value,
        comments: l.comments,
    }));
    Value::from_serialize(serde_json::json!({
        "stack": stack.name.value,
        "app": app.name.value,
        "password_env": app.password_env.value,
        "vars": vars,
    }))
}

#[derive(Serialize)]
struct Role {
    ident: String,
    literal: String,
    verifier: String,
}

#[derive(Serialize)]
struct CreatedDatabase {
    name: String,
    literal: String,
    owner_literal: String,
}

/// roles.sql's context: `None` when it has nothing to do (no `role = true` user, no database to
/// create).
pub fn roles_sql(stack: &Stack, chosen: &[UserSecret]) -> Option<Value> {
    let roles: Vec<Role> = chosen
        .iter()
        .filter_map(|s| {
            let verifier = s.role.as_ref()?;
            Some(Role {
                ident: format!("\"{}\"", s.user.replace('"', "\"\"")),
                literal: sql_literal(&s.user),
                verifier: sql_literal(verifier),
            })
        })
        .collect();
    let mut databases: Vec<CreatedDatabase> = Vec::new();
    for db in &stack.databases {
        let Some(owner) = &db.create_owner else {
            continue;
        };
        // Two aliases of one database create it once.
        if databases.iter().any(|d| d.name == db.dbname.value) {
            continue;
        }
        databases.push(CreatedDatabase {
            name: db.dbname.value.clone(),
            literal: sql_literal(&db.dbname.value),
            owner_literal: sql_literal(&owner.value),
        });
    }
    if roles.is_empty() && databases.is_empty() {
        return None;
    }
    Some(Value::from_serialize(serde_json::json!({
        "stack": stack.name.value,
        "encryption": match stack.postgres.password_encryption.value {
            PasswordEncryption::Md5 => "md5",
            PasswordEncryption::ScramSha256 => "scram-sha-256",
        },
        "roles": roles,
        "databases": databases,
    })))
}

/// An SQL string literal (standard_conforming_strings: only quotes are doubled).
fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
