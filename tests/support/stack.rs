//! A rendered stack on a real PostgreSQL and a real PgBouncer: a manifest written from a
//! [`Spec`], rendered by the binary, and both servers started with what it rendered ([`start`]).
//! Shared by tests/real_servers.rs and tests/doctor.rs.

#![allow(dead_code)]

use super::servers::{self, Binaries, Pgbouncer, Postgres};
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Running {
    pub pg: Postgres,
    pub pgb: Pgbouncer,
    pub dir: PathBuf,
    pub bins: Binaries,
    pub _base: tempfile::TempDir,
}

/// What varies between the stacks these tests prove.
pub struct Spec<'a> {
    pub auth_type: &'a str,
    pub password_encryption: &'a str,
    pub userlist_hash: &'a str,
    pub hba: &'a str,
    pub extra_pgbouncer: &'a str,
    pub extra_postgres: &'a str,
    /// The [[databases]], [[users]] and [[apps]] part of the manifest.
    pub entries: &'a str,
}

pub const ONE_USER: &str = r#"
[[databases]]
name = "appdb"

[[users]]
name = "app_user"
password = { env = "IT_APP_PASSWORD" }
admin = true

[[apps]]
name = "api"
database = "appdb"
user = "app_user"
pool_size = 5
max_overflow = 5
"#;

/// appdb forces the server user app_user; clients log in as client_user.
pub const FORCED_USER: &str = r#"
[[databases]]
name = "appdb"
user = "app_user"
users = ["client_user"]

[[users]]
name = "app_user"
password = { env = "IT_APP_PASSWORD" }
admin = true

[[users]]
name = "client_user"
password = { env = "IT_APP_PASSWORD" }

[[apps]]
name = "api"
database = "appdb"
user = "client_user"
pool_size = 5
max_overflow = 5
"#;

pub const PASSWORD: &str = "It's-a-s3cret pass";

pub fn manifest(spec: &Spec<'_>, pg_port: u16, pgb_port: u16, dir: &Path) -> String {
    format!(
        r#"[stack]
name = "it"

[postgres]
version = 15
host = "127.0.0.1"
port = {pg_port}
password_encryption = "{pe}"
hba_method = "{hba}"

[postgres.settings]
work_mem = "8MB"
statement_timeout = "30s"
idle_in_transaction_session_timeout = "5min"
log_line_prefix = "%m [%p] %q%u@%d "
random_page_cost = 1.1
{extra_pg}

[pgbouncer]
version = "1.18"
host = "127.0.0.1"
listen_addr = "127.0.0.1"
listen_port = {pgb_port}
auth_type = "{auth}"
auth_file = "{dir}/pgbouncer/userlist.txt"
unix_socket_dir = "{dir}/pgbouncer"
userlist_hash = "{hash}"
pool_mode = "transaction"
max_client_conn = 200
default_pool_size = 5
reserve_pool_size = 1
max_db_connections = 10

[pgbouncer.settings]
server_idle_timeout = "10min"
server_lifetime = "1h"
query_wait_timeout = "30s"
ignore_startup_parameters = "extra_float_digits"
log_connections = true
unix_socket_mode = "0777"
{extra_pgb}

{entries}
"#,
        pe = spec.password_encryption,
        hba = spec.hba,
        auth = spec.auth_type,
        hash = spec.userlist_hash,
        dir = dir.display(),
        extra_pg = spec.extra_postgres,
        extra_pgb = spec.extra_pgbouncer,
        entries = spec.entries,
    )
}

pub fn render(manifest_path: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .arg("render")
        .arg(manifest_path)
        .env("IT_APP_PASSWORD", PASSWORD)
        .env("NO_COLOR", "1")
        .output()
        .expect("run poolstack");
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Render the stack, start PostgreSQL with the fragment, apply roles.sql, start PgBouncer.
pub fn start(spec: &Spec<'_>) -> Option<Running> {
    start_edited(spec, |m| m)
}

/// [`start`] with the manifest changed by `edit` first (e.g. without one of the harness's own
/// settings).
pub fn start_edited(spec: &Spec<'_>, edit: impl Fn(String) -> String) -> Option<Running> {
    let bins = servers::binaries()?;
    let base = servers::temp_base();
    let dir = servers::server_dir(base.path(), "stack");
    let pg_port = servers::free_port();
    let pgb_port = servers::free_port();
    let manifest_path = dir.join("stack.toml");
    std::fs::write(
        &manifest_path,
        edit(manifest(spec, pg_port, pgb_port, &dir)),
    )
    .unwrap();
    render(&manifest_path);
    // The test harness picks PostgreSQL's port itself (its line wins over the fragment's).
    let fragment = dir.join("postgres/conf.d/50-poolstack.conf");
    let mut pg = Postgres::start(&bins, base.path(), spec.hba, Some(&fragment));
    assert_ne!(pg.port, 0);
    // Our manifest named pg_port as PostgreSQL's port for PgBouncer: re-render against the real one.
    if pg.port != pg_port {
        std::fs::write(
            &manifest_path,
            edit(manifest(spec, pg.port, pgb_port, &dir)),
        )
        .unwrap();
        render(&manifest_path);
    }
    let roles = dir.join("postgres/initdb.d/10-roles.sql");
    if roles.exists() {
        pg.run_file("postgres", &roles);
    }
    pg.query("postgres", "CREATE DATABASE appdb OWNER app_user");
    for f in [
        "pgbouncer",
        "pgbouncer/pgbouncer.ini",
        "pgbouncer/userlist.txt",
    ] {
        servers::give_to_server_user(&dir.join(f));
    }
    let pgb = Pgbouncer::start(
        &bins,
        &dir.join("pgbouncer/pgbouncer.ini"),
        pgb_port,
        &dir.join("pgbouncer.log"),
    );
    let _ = &mut pg;
    Some(Running {
        pg,
        pgb,
        dir,
        bins,
        _base: base,
    })
}

pub fn login(r: &Running, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let out = servers::client(&r.bins.pg_bin, r.pgb.port, "appdb", user, password, sql);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

pub const SCRAM: Spec<'static> = Spec {
    auth_type: "scram-sha-256",
    password_encryption: "scram-sha-256",
    userlist_hash: "auto",
    hba: "scram-sha-256",
    extra_pgbouncer: "",
    extra_postgres: "",
    entries: ONE_USER,
};
