//! `[pgbouncer]`, `[[databases]]` and `[[users]]` of an imported manifest.
//!
//! Where poolstack's default differs from PgBouncer's and the file is silent, PgBouncer's value
//! is written (`pool_mode = "session"`, `auth_type = "md5"`, `listen_addr = ""`,
//! `auth_file = ""`): rendering the manifest must not change what PgBouncer does.

use super::values;
use crate::catalog::pgbouncer::Section;
use crate::manifest::UserlistHash;
use crate::manifest::write::Table;
use crate::stack::files::pgbouncer_ini::IniSettings;
use crate::stack::{Pgbouncer, Setting, Stack};

/// `[pgbouncer]` and `[pgbouncer.settings]`; `app_target` is where the apps' URLs point.
pub(super) fn tables(
    pgb: &Pgbouncer,
    stack: &Stack,
    ini: Option<&IniSettings>,
    app_target: Option<(String, u16)>,
    notes: &mut Vec<String>,
) -> (Table, Table) {
    let mut t = Table::new("pgbouncer");
    if let Some(v) = &pgb.version {
        t.set("version", v.value.to_string());
    }
    // Where the apps' DATABASE_URLs reach PgBouncer.
    if let Some((host, port)) = app_target {
        t.set("host", host);
        if port != pgb.listen_port.value {
            t.set("client_port", i64::from(port));
        }
    }
    if let Some(hash) = userlist_hash(stack) {
        t.set(
            "userlist_hash",
            match hash {
                UserlistHash::Md5 => "md5",
                UserlistHash::ScramSha256 => "scram-sha-256",
                UserlistHash::Plain => "plain",
                UserlistHash::Auto => "auto",
            },
        );
    }
    // Always written: poolstack's defaults differ from PgBouncer's for each of these.
    t.set("listen_addr", pgb.listen_addr.value.clone());
    if pgb.listen_port.origin.is_explicit() {
        t.set("listen_port", i64::from(pgb.listen_port.value));
    }
    t.set("pool_mode", pgb.pool_mode.value.as_str());
    t.set("auth_type", pgb.auth_type.value.as_str());
    t.set("auth_file", pgb.auth_file.value.clone());
    for (key, s) in [
        ("logfile", &pgb.logfile),
        ("pidfile", &pgb.pidfile),
        ("unix_socket_dir", &pgb.unix_socket_dir),
    ] {
        if let Some(s) = s {
            t.set(key, s.value.clone());
        }
    }
    let socket_off = ini
        .and_then(|i| i.option("unix_socket_dir"))
        .is_some_and(|o| o.value.normalized.is_empty());
    if socket_off {
        let note = "unix_socket_dir = (empty, no unix socket): the manifest cannot switch the socket off; rendered pgbouncer.ini uses PgBouncer's default";
        notes.push(note.to_string());
    }
    for (key, s) in [
        ("max_client_conn", &pgb.max_client_conn),
        ("default_pool_size", &pgb.default_pool_size),
        ("min_pool_size", &pgb.min_pool_size),
        ("reserve_pool_size", &pgb.reserve_pool_size),
        ("max_db_connections", &pgb.max_db_connections),
        ("max_user_connections", &pgb.max_user_connections),
    ] {
        if s.origin.is_explicit() {
            t.set(key, i64::from(s.value));
        }
    }
    if let Some(s) = pgb
        .max_prepared_statements
        .as_ref()
        .filter(|s| s.origin.is_explicit())
    {
        t.set("max_prepared_statements", i64::from(s.value));
    }
    let mut settings = Table::new("pgbouncer.settings");
    for o in pgb.options.iter().filter(|o| o.origin.is_explicit()) {
        settings.set(
            &o.name,
            values::pgbouncer(Section::Pgbouncer, &o.name, &o.ini_text, o.number),
        );
    }
    (t, settings)
}

/// The imported userlist's secret type, when every entry has the same: render then writes
/// secrets of that type rather than the role storage's.
fn userlist_hash(stack: &Stack) -> Option<UserlistHash> {
    let first = stack.users.first()?.userlist_secret.value;
    if stack.users.iter().any(|u| u.userlist_secret.value != first) {
        return None;
    }
    Some(match first {
        crate::auth::SecretKind::Md5 => UserlistHash::Md5,
        crate::auth::SecretKind::ScramSha256 => UserlistHash::ScramSha256,
        crate::auth::SecretKind::Plain => UserlistHash::Plain,
    })
}

/// Each `[databases]` entry. `pg_port` is the `[postgres] port` the manifest declares, which
/// an entry without `port=` would otherwise inherit.
pub(super) fn databases(
    stack: &Stack,
    pgb: &Pgbouncer,
    pg_port: Option<u16>,
    notes: &mut Vec<String>,
) -> Vec<Table> {
    let mut out = Vec::new();
    for db in &stack.databases {
        if let Some(note) = super::users::left_out("database", &db.name, stack) {
            notes.push(note);
            continue;
        }
        let name = &db.name.value;
        let mut t = Table::array("databases");
        t.set("name", name.clone());
        if db.dbname.origin.is_explicit() {
            t.set("dbname", db.dbname.value.clone());
        }
        // No host= is the unix socket; the manifest's default would be postgres.host.
        t.set("host", db.host.value.clone());
        if db.port.origin.is_explicit() || pg_port.is_some_and(|p| p != db.port.value) {
            t.set("port", i64::from(db.port.value));
        }
        if let Some(u) = &db.forced_user {
            t.set("user", u.value.clone());
        }
        let own = |s: &Setting<u32>, global: &Setting<u32>| s.origin != global.origin;
        if own(&db.pool_size, &pgb.default_pool_size) {
            t.set("pool_size", i64::from(db.pool_size.value));
        }
        if own(&db.reserve_pool_size, &pgb.reserve_pool_size) {
            t.set("reserve_pool_size", i64::from(db.reserve_pool_size.value));
        }
        if own(&db.max_db_connections, &pgb.max_db_connections) {
            t.set("max_db_connections", i64::from(db.max_db_connections.value));
        }
        if db.pool_mode.origin != pgb.pool_mode.origin {
            t.set("pool_mode", db.pool_mode.value.as_str());
        }
        let mut settings = toml::Table::new();
        for o in &db.options {
            if o.name == "password" {
                let note = format!(
                    "password= of [databases] entry `{name}`: a secret is never written; give the server login its password in the userlist instead"
                );
                notes.push(note);
                continue;
            }
            settings.insert(
                o.name.clone(),
                values::pgbouncer(Section::Databases, &o.name, &o.ini_text, o.number),
            );
        }
        if !settings.is_empty() {
            t.set("settings", toml::Value::Table(settings));
        }
        out.push(t);
    }
    out
}
