//! The resolved [`Stack`] of hand-written files → the manifest that renders the same
//! effective settings.

use super::users::{self, Users};
use super::{pgbouncer, values};
use crate::manifest::write::{Document, Table};
use crate::manifest::{PasswordEncryption, PrepareThreshold, Recycle};
use crate::stack::files::pgbouncer_ini::IniSettings;
use crate::stack::{App, SqlAlchemyApp, Stack};
use std::path::Path;

/// First-class `[postgres]` keys; every other parameter goes to `[postgres.settings]`.
const PG_FIRST_CLASS: &[&str] = &[
    "port",
    "max_connections",
    "superuser_reserved_connections",
    "password_encryption",
];

/// What import writes, and what it has to tell the user.
pub struct Draft {
    pub document: Document,
    /// The environment variables the manifest's password references name.
    pub env_vars: Vec<String>,
    /// Values the manifest cannot express, each with the reason.
    pub not_imported: Vec<String>,
    pub databases: usize,
    pub users: usize,
    pub apps: usize,
}

/// `files` are the imported paths as shown; `manifest_dir` is where the manifest goes (env
/// files are written relative to it); `notes` are what the caller already found inexpressible.
pub fn draft(
    stack: &Stack,
    ini: Option<&IniSettings>,
    name: &str,
    files: &[String],
    manifest_dir: &Path,
    mut notes: Vec<String>,
) -> Draft {
    let mut tables = Vec::new();
    let mut st = Table::new("stack");
    st.set("name", name);
    tables.push(st);

    let (pg, pg_settings, pg_port) = postgres(stack);
    if let Some(note) = several_servers(stack) {
        notes.push(note);
    }
    tables.push(pg);
    if !pg_settings.is_empty() {
        tables.push(pg_settings);
    }
    let mut databases = Vec::new();
    if let Some(pgb) = &stack.pgbouncer {
        let target = app_target(stack, true);
        let (t, settings) = pgbouncer::tables(pgb, stack, ini, target, &mut notes);
        tables.push(t);
        if !settings.is_empty() {
            tables.push(settings);
        }
        databases = pgbouncer::databases(stack, pgb, pg_port, &mut notes);
    }
    if stack.pgbouncer.is_none() && stack.apps.iter().any(|a| a.url.via_pgbouncer) {
        notes.push(
            "PgBouncer between the apps and PostgreSQL: no pgbouncer.ini was imported, so the manifest has no [pgbouncer] and render points the apps at PostgreSQL; import pgbouncer.ini with them"
                .to_string(),
        );
    }
    let users = users::users(stack, ini, manifest_dir, &mut notes);
    // Every file import read (includes too): render must never write over one of them.
    let read: Vec<std::path::PathBuf> = stack
        .sources
        .files()
        .map(|(_, f)| crate::fsutil::absolute(&f.path))
        .collect();
    let apps = apps(stack, &users, manifest_dir, &read, &mut notes);
    if let Some(t) = outputs_apart(manifest_dir, &read) {
        tables.push(t);
    }
    let counts = (databases.len(), users.tables.len(), apps.len());
    let env_vars: Vec<String> = users.vars.iter().map(|(_, v)| v.clone()).collect();
    tables.extend(databases);
    tables.extend(users.tables);
    tables.extend(apps);

    let mut header = vec![
        format!("Imported by `poolstack import` from {}.", files.join(", ")),
        "Rendering it writes the same effective settings as those files; where poolstack's"
            .to_string(),
        "default differs from the server's and the files were silent, the server's value is written."
            .to_string(),
    ];
    if !env_vars.is_empty() {
        header.push(String::new());
        header.push(
            "Passwords are environment references, never values: set these before `poolstack render`:"
                .to_string(),
        );
        header.push(format!("  {}", env_vars.join(" ")));
        header.extend(users.remarks);
    }
    if !stack.postgres.described {
        header.push(String::new());
        header.push(if stack.postgres.params.is_empty() {
            "No postgresql.conf was imported: [postgres] holds only the version.".to_string()
        } else {
            "No whole postgresql.conf was imported: [postgres] holds only what the files set."
                .to_string()
        });
    }
    if !notes.is_empty() {
        header.push(String::new());
        for n in &notes {
            header.push(format!("not imported: {n}"));
        }
    }
    Draft {
        document: Document { header, tables },
        env_vars,
        not_imported: notes,
        databases: counts.0,
        users: counts.1,
        apps: counts.2,
    }
}

/// The `[databases]` entries reach more than one PostgreSQL (host and port): `[postgres]`
/// describes one server, so NET001 will point at the entries that reach another.
fn several_servers(stack: &Stack) -> Option<String> {
    let mut targets: Vec<String> = Vec::new();
    for db in &stack.databases {
        let host = if db.host.value.is_empty() {
            "the unix socket"
        } else {
            db.host.value.as_str()
        };
        let t = format!("{host} port {}", db.port.value);
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    (targets.len() > 1).then(|| {
        format!(
            "[databases] entries reach more than one PostgreSQL ({}): the manifest's [postgres] describes one server, so NET001 points at the entries that reach another",
            targets.join(", ")
        )
    })
}

/// `[postgres]` and `[postgres.settings]`, and the port `[postgres]` says (the `[databases]`
/// entries on it need not repeat it).
fn postgres(stack: &Stack) -> (Table, Table, Option<u16>) {
    let pg = &stack.postgres;
    let major = pg.major().unwrap_or_default();
    let mut t = Table::new("postgres");
    t.set("version", i64::from(major));
    // How PgBouncer and direct clients reach the server: where the files say they do.
    // Host and port together, from the same place: a host without its port would point the
    // manifest's [databases] entries elsewhere (NET001).
    let target = app_target(stack, false)
        .map(|(host, port)| (host, Some(port)))
        .or_else(|| database_target(stack));
    let mut port = None;
    if let Some((host, p)) = target {
        t.set("host", host);
        port = p;
    }
    if pg.port.origin.is_explicit() {
        // The server's own setting wins: where it listens.
        port = Some(pg.port.value);
    }
    if let Some(p) = port {
        // Where PgBouncer and clients reach it, and (rendered into the fragment) where it listens.
        t.set("port", i64::from(p));
    }
    // Whatever the files are called (pg.conf, a fragment, an initdb config whose include_dir
    // sets them), a first-class value they set goes to its [postgres] key: [postgres.settings]
    // may not hold it, and dropping it would let the server fall back to its default.
    if pg.described || pg.max_connections.origin.is_explicit() {
        // Unset in a whole configuration, the manifest would derive max_connections from the
        // pools: pin the server's value.
        t.set("max_connections", i64::from(pg.max_connections.value));
    }
    if pg.superuser_reserved_connections.origin.is_explicit() {
        t.set(
            "superuser_reserved_connections",
            i64::from(pg.superuser_reserved_connections.value),
        );
    }
    if pg.password_encryption.origin.is_explicit() {
        t.set(
            "password_encryption",
            match pg.password_encryption.value {
                PasswordEncryption::Md5 => "md5",
                PasswordEncryption::ScramSha256 => "scram-sha-256",
            },
        );
    }
    let mut settings = Table::new("postgres.settings");
    for p in pg.params.iter().filter(|p| p.origin.is_explicit()) {
        if PG_FIRST_CLASS
            .iter()
            .any(|f| p.name.eq_ignore_ascii_case(f))
        {
            continue;
        }
        settings.set_dotted(&p.name, values::postgres(major, &p.name, &p.conf_text));
    }
    (t, settings, port)
}

/// Where the apps' DATABASE_URLs point, when every app going through PgBouncer
/// (`via_pgbouncer`) or straight to PostgreSQL agrees: the manifest's `host` and port there.
fn app_target(stack: &Stack, via_pgbouncer: bool) -> Option<(String, u16)> {
    let mut targets = stack
        .apps
        .iter()
        .filter(|a| a.url.via_pgbouncer == via_pgbouncer && a.url.host.origin.is_explicit())
        .map(|a| (a.url.host.value.clone(), a.url.port.value));
    let first = targets.next()?;
    targets.all(|t| t == first).then_some(first)
}

/// The host every `[databases]` entry names, when they agree, with the port when they agree on
/// that too.
fn database_target(stack: &Stack) -> Option<(String, Option<u16>)> {
    let mut hosts = stack.databases.iter().map(|d| &d.host.value);
    let first = hosts.next().filter(|h| !h.is_empty())?;
    if !hosts.all(|h| h == first) {
        return None;
    }
    let mut ports = stack.databases.iter().map(|d| d.port.value);
    let port = ports.next()?;
    Some((first.clone(), ports.all(|p| p == port).then_some(port)))
}

/// `[[apps]]` from the .env files; `users` says which variable each user's password is read from.
/// `[outputs]` for each default output path that is one of the files import read (e.g.
/// `import pgbouncer/pgbouncer.ini` with the manifest beside `pgbouncer/`): render writes those
/// under `rendered/` instead, so the hand-written originals are never overwritten.
fn outputs_apart(manifest_dir: &Path, read: &[std::path::PathBuf]) -> Option<Table> {
    use crate::defaults as d;
    let mut t = Table::new("outputs");
    let mut any = false;
    for (key, default) in [
        ("pgbouncer_ini", d::OUT_PGBOUNCER_INI),
        ("userlist", d::OUT_USERLIST),
        ("postgresql_conf", d::OUT_POSTGRESQL_CONF),
        ("roles_sql", d::OUT_ROLES_SQL),
    ] {
        let path = crate::fsutil::absolute(&manifest_dir.join(default));
        if read.contains(&path) {
            t.set(key, format!("rendered/{default}"));
            any = true;
        }
    }
    if any {
        t.comments.push(
            "render's default paths are files this manifest was imported from: rendered files go under rendered/ instead"
                .to_string(),
        );
    }
    any.then_some(t)
}

/// The env file render writes for app `name`: `<name>.env` beside the manifest, never one of the
/// files import read (nor another app's).
fn env_file_name(
    name: &str,
    manifest_dir: &Path,
    read: &[std::path::PathBuf],
    taken: &[String],
) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    let stem = if stem.is_empty() { "app" } else { stem };
    let free = |candidate: &String| {
        !taken.contains(candidate)
            && !read.contains(&crate::fsutil::absolute(&manifest_dir.join(candidate)))
    };
    std::iter::once(format!("{stem}.env"))
        .chain((1..).map(|n| match n {
            1 => format!("{stem}.poolstack.env"),
            n => format!("{stem}.poolstack-{n}.env"),
        }))
        .find(free)
        .unwrap_or_else(|| format!("{stem}.env"))
}

fn apps(
    stack: &Stack,
    users: &Users,
    manifest_dir: &Path,
    read: &[std::path::PathBuf],
    notes: &mut Vec<String>,
) -> Vec<Table> {
    let mut names: Vec<String> = Vec::new();
    stack
        .apps
        .iter()
        .filter_map(|app| app_table(app, users, manifest_dir, read, &mut names, notes))
        .collect()
}

fn app_table(
    app: &App,
    users: &Users,
    manifest_dir: &Path,
    read: &[std::path::PathBuf],
    names: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Option<Table> {
    let env_path = app.env_file.value.as_path();
    let shown = crate::source::display_path(env_path);
    // Without DATABASE_URL, the database and user come from the other files when they name
    // exactly one of each (stack::files); the pool settings are imported either way.
    if !app.url.database.origin.is_explicit()
        && (app.url.database.value.is_empty() || app.user.value.is_empty())
    {
        notes.push(format!(
            "{shown}: no DATABASE_URL, and the other files name more than one database or user (or none), so no app: the manifest's [[apps]] needs a database and a user"
        ));
        return None;
    }
    for (what, name) in [
        ("user", &app.user.value),
        ("database", &app.url.database.value),
    ] {
        if let Some(why) = users::unusable(name) {
            notes.push(format!(
                "{shown}: DATABASE_URL's {what} \"{}\": {why}, so no app",
                name.escape_default()
            ));
            return None;
        }
    }
    let mut name = app.name.value.clone();
    let mut n = 2;
    while names.contains(&name) {
        name = format!("{}-{n}", app.name.value);
        n += 1;
    }
    names.push(name.clone());
    let mut t = Table::array("apps");
    t.set("name", name.clone());
    let sqla = app.sqlalchemy();
    match sqla {
        Some(s) => t.set("driver", s.driver.value.as_str()),
        None => t.set("kind", app.kind().name()),
    }
    t.set("database", app.url.database.value.clone());
    t.set("user", app.user.value.clone());
    if app.url.password_in_file {
        let var = users.var_of(&app.user.value).map_or_else(
            || crate::manifest::write::password_env(&app.user.value),
            str::to_string,
        );
        notes.push(format!(
            "{shown}: DATABASE_URL holds a password value, which is never imported; the manifest refers to ${{{var}}} instead"
        ));
        t.set("password_env", var);
    } else if !app.password_env.value.is_empty() {
        t.set("password_env", app.password_env.value.clone());
    }
    // Another framework's settings, as its .env conventions gave them (crate::apps::dotenv).
    for s in app.fw().0.iter().filter(|s| s.value.origin.is_explicit()) {
        use crate::apps::Val;
        match &s.value.value {
            Val::Int(n) => t.set(s.key, i64::try_from(*n).unwrap_or(i64::MAX)),
            Val::Bool(b) => t.set(s.key, *b),
            Val::Secs(d) => t.set(s.key, values::seconds(*d)),
            Val::Text(x) => t.set(s.key, x.to_string()),
            Val::Nothing => t.set(s.key, "none"),
        }
    }
    if let Some(s) = sqla {
        sqlalchemy_keys(&mut t, s);
    }
    // Never the file it was read from: render would refuse it (not written by poolstack) or,
    // forced, replace the user's own file.
    let taken: Vec<String> = names
        .iter()
        .filter(|n| **n != name)
        .map(|n| format!("{n}.env"))
        .collect();
    let env_file = env_file_name(&name, manifest_dir, read, &taken);
    t.comments.push(format!(
        "settings read from {shown}; render writes them to {env_file} (never over the file they were read from)"
    ));
    t.set("env_file", env_file);
    Some(t)
}

/// A SQLAlchemy app's settings the .env file wrote (not SQLAlchemy's defaults).
fn sqlalchemy_keys(t: &mut Table, s: &SqlAlchemyApp) {
    if s.pool_size.origin.is_explicit() {
        t.set("pool_size", i64::from(s.pool_size.value));
    }
    if s.max_overflow.origin.is_explicit() {
        t.set("max_overflow", i64::from(s.max_overflow.value));
    }
    if s.pool_timeout.origin.is_explicit() {
        t.set("pool_timeout", values::seconds(s.pool_timeout.value));
    }
    if s.pool_recycle.origin.is_explicit() {
        t.set(
            "pool_recycle",
            match s.pool_recycle.value {
                Recycle::Never => toml::Value::Integer(-1),
                Recycle::After(d) => values::seconds(d),
            },
        );
    }
    if s.pre_ping.origin.is_explicit() {
        t.set("pre_ping", s.pre_ping.value);
    }
    if let Some(p) = &s.prepare_threshold {
        match p.value {
            PrepareThreshold::Disabled => t.set("prepare_threshold", "none"),
            PrepareThreshold::After(n) => t.set("prepare_threshold", i64::from(n)),
        }
    }
    if let Some(c) = &s.statement_cache_size {
        t.set("statement_cache_size", i64::from(c.value));
    }
    if s.connect_timeout.origin.is_explicit() {
        t.set("connect_timeout", values::seconds(s.connect_timeout.value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::pgbouncer::PgbVersion;
    use crate::stack::files::{self, Input, Kind, Versions};

    /// The manifest imported from `ini` (and `conf`, when given), parsed back.
    fn imported(ini: &str, conf: Option<&str>) -> toml::Table {
        let tmp = tempfile::tempdir().unwrap();
        let mut inputs = vec![Input {
            path: tmp.path().join("pgbouncer.ini"),
            kind: Kind::PgbouncerIni,
        }];
        std::fs::write(&inputs[0].path, ini).unwrap();
        if let Some(conf) = conf {
            let path = tmp.path().join("postgresql.conf");
            std::fs::write(&path, conf).unwrap();
            inputs.push(Input {
                path,
                kind: Kind::PostgresqlConf,
            });
        }
        let versions = Versions {
            postgres: Some(16),
            pgbouncer: PgbVersion::parse("1.21"),
        };
        let stack = files::build(&inputs, &versions, tmp.path()).unwrap();
        let files = ["pgbouncer.ini".to_string()];
        let d = draft(&stack, None, "t", &files, tmp.path(), Vec::new());
        toml::from_str(&d.document.to_toml()).unwrap()
    }

    #[test]
    fn pgbouncer_defaults_are_pinned_where_poolstacks_differ() {
        let m = imported("[databases]\napp = host=db\n", None);
        let b = &m["pgbouncer"];
        assert_eq!(b["pool_mode"].as_str(), Some("session"));
        assert_eq!(b["auth_type"].as_str(), Some("md5"));
        assert_eq!(b["listen_addr"].as_str(), Some(""));
        assert_eq!(b["auth_file"].as_str(), Some(""));
        // Where both agree, nothing is written.
        assert!(b.get("max_client_conn").is_none() && b.get("listen_port").is_none());
    }

    #[test]
    fn written_values_win_over_pins() {
        let m = imported(
            "[databases]\napp = host=db pool_mode=statement\n[pgbouncer]\npool_mode = transaction\nauth_type = scram-sha-256\nlisten_addr = 127.0.0.1\n",
            None,
        );
        let b = &m["pgbouncer"];
        assert_eq!(b["pool_mode"].as_str(), Some("transaction"));
        assert_eq!(b["auth_type"].as_str(), Some("scram-sha-256"));
        assert_eq!(b["listen_addr"].as_str(), Some("127.0.0.1"));
        let db = &m["databases"][0];
        assert_eq!(db["pool_mode"].as_str(), Some("statement"));
        assert!(
            db.get("pool_size").is_none(),
            "inherited values stay inherited"
        );
    }

    #[test]
    fn postgres_max_connections_is_pinned_and_settings_keep_units() {
        let m = imported(
            "[databases]\n* = port=5433\n",
            Some("shared_buffers = 1GB\nport = 5433\nfsync = off\n"),
        );
        let pg = &m["postgres"];
        // Unset, a manifest would derive it from the pools.
        assert_eq!(pg["max_connections"].as_integer(), Some(100));
        assert!(pg.get("superuser_reserved_connections").is_none());
        assert_eq!(pg["port"].as_integer(), Some(5433));
        let s = &pg["settings"];
        assert_eq!(s["shared_buffers"].as_str(), Some("1GB"));
        assert!(
            s.get("port").is_none(),
            "a first-class value is written once"
        );
        assert_eq!(s["fsync"].as_bool(), Some(false));
        // The autodb entry: the unix socket, no dbname (the client's).
        let db = &m["databases"][0];
        assert_eq!(db["name"].as_str(), Some("*"));
        assert_eq!(db["host"].as_str(), Some(""));
        assert!(db.get("dbname").is_none());
    }
}
