//! Real application clients through a rendered stack ([`super::stack`]): the one-app manifest
//! they share, whether a client is installed, and a workload run while PostgreSQL's server
//! connections and PgBouncer's client connections are sampled. Shared by tests/real_clients.rs,
//! tests/real_clients_prisma.rs, tests/real_clients_rails.rs and tests/real_clients_jvm.rs.

#![allow(dead_code)]

use super::servers;
use super::stack::{PASSWORD, Running, Spec};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

/// One database, one user (app_user, a PgBouncer admin), one app `api` with `kind_keys`.
pub fn entries(kind_keys: &str) -> String {
    format!(
        r#"
[[databases]]
name = "appdb"

[[users]]
name = "app_user"
password = {{ env = "IT_APP_PASSWORD" }}
admin = true

[[apps]]
name = "api"
database = "appdb"
user = "app_user"
{kind_keys}
"#
    )
}

/// SCRAM everywhere, PgBouncer 1.18 in transaction pooling (tests/support/stack.rs).
pub fn spec(entries: &str) -> Spec<'_> {
    Spec {
        auth_type: "scram-sha-256",
        password_encryption: "scram-sha-256",
        userlist_hash: "scram-sha-256",
        hba: "scram-sha-256",
        extra_pgbouncer: "",
        extra_postgres: "",
        entries,
    }
}

/// `tests/clients`: the workloads, and each npm client's directory with its lockfile.
pub fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// Whether a client is installed: in CI (`CI=true`) its absence fails the test; elsewhere the
/// test is skipped loudly with `how` to install it.
pub fn installed(ok: bool, what: &str, how: &str) -> bool {
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what}: .ci/run installs it ({how})"
        );
        eprintln!("SKIPPED: {what} ({how})");
    }
    ok
}

/// Whether `python3` imports `module`.
pub fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    installed(
        ok,
        &format!("python3 cannot import {module}"),
        "pip install it, see .ci/run",
    )
}

/// Whether `node`, started in `dir`, runs `script` (e.g. `require('pg')`).
pub fn node_runs(dir: &Path, script: &str) -> bool {
    Command::new("node")
        .current_dir(dir)
        .args(["-e", script])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[derive(Debug)]
pub struct Outcome {
    pub ok: u64,
    pub errors: u64,
    pub first_error: String,
    /// The most server connections of app_user PostgreSQL saw at once.
    pub peak: u64,
    /// The most client connections to appdb PgBouncer saw at once.
    pub peak_clients: u64,
    /// Everything the workload printed (for what a kind's workload reports beyond the counts).
    pub json: serde_json::Value,
    /// The workload's stderr (the server's notices and warnings reach it through libpq).
    pub stderr: String,
}

/// The number of rows of `show clients` on database appdb (PgBouncer's admin console, as
/// app_user), or `None` when the console did not answer.
fn pgbouncer_clients(r: &Running) -> Option<u64> {
    let out = servers::client(
        &r.bins.pg_bin,
        r.pgb.port,
        "pgbouncer",
        "app_user",
        PASSWORD,
        "show clients",
    );
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.split('|').nth(2) == Some("appdb"))
            .count() as u64
    })
}

/// Run a workload `cmd` that prints `{"ok": n, "errors": n, "first_error": "..."}` against the
/// running stack (the password in IT_APP_PASSWORD), sampling connections while it runs.
pub fn run_workload(r: &Running, mut cmd: Command) -> Outcome {
    let stop = AtomicBool::new(false);
    let (out, (peak, peak_clients)) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let (mut peak, mut peak_clients) = (0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let out = Command::new(r.bins.pg_bin.join("psql"))
                    .args(["-X", "-A", "-t", "-h"])
                    .arg(&r.pg.socket_dir)
                    .args(["-p", &r.pg.port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
                    .arg("select count(*) from pg_stat_activity where usename = 'app_user' and backend_type = 'client backend'")
                    .output();
                if let Ok(o) = out
                    && let Ok(n) = String::from_utf8_lossy(&o.stdout).trim().parse::<u64>()
                {
                    peak = peak.max(n);
                }
                if let Some(n) = pgbouncer_clients(r) {
                    peak_clients = peak_clients.max(n);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            (peak, peak_clients)
        });
        let out = cmd.env("IT_APP_PASSWORD", PASSWORD).output();
        stop.store(true, Ordering::Relaxed);
        (out, sampler.join().unwrap())
    });
    let out = out.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "workload failed: {stderr}\n{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    Outcome {
        ok: json["ok"].as_u64().unwrap_or(0),
        errors: json["errors"].as_u64().unwrap_or(0),
        first_error: json["first_error"].as_str().unwrap_or("").to_string(),
        peak,
        peak_clients,
        json,
        stderr,
    }
}

/// A variable of the rendered .env, as written (a `${VAR}` reference stays one).
pub fn env_value(r: &Running, name: &str) -> String {
    let text = std::fs::read_to_string(r.dir.join(".env")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in the rendered .env:\n{text}"))
        .to_string()
}

/// The stack's server-connection budget (CON002's total) and the rule codes that fire.
pub fn budget(r: &Running) -> (u64, Vec<&'static str>) {
    let stack = resolved(r);
    let cx = poolstack::rules::Context {
        stack: &stack,
        budget: poolstack::stack::budget::ServerConnectionBudget::of(&stack),
        files: &[],
    };
    let codes = poolstack::rules::run(&cx).iter().map(|d| d.code).collect();
    (cx.budget.total.unwrap(), codes)
}

/// The connections app `api` may open (CON001's term for it: replicas × processes × its kind's
/// per-process formula).
pub fn app_connections(r: &Running) -> u64 {
    let stack = resolved(r);
    let app = stack.apps.iter().find(|a| a.name.value == "api").unwrap();
    app.max_connections().unwrap()
}

fn resolved(r: &Running) -> poolstack::stack::Stack {
    let loaded = poolstack::manifest::load(&r.dir.join("stack.toml")).unwrap();
    poolstack::stack::resolve::resolve(&loaded, None).unwrap()
}
