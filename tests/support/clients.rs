//! What the real-client tests (tests/real_clients*.rs) share: the one-app manifest, the budget
//! poolstack computes for it, whether a client is installed, and how many server connections of
//! the app's user PostgreSQL saw at once while a workload ran.

#![allow(dead_code)]

use super::stack::{Running, Spec};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The `[[databases]]`, `[[users]]` and one `[[apps]]` entry (`api`, of app_user on appdb) with
/// `kind_keys` added to the app.
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

/// A SCRAM stack (transaction pooling, as support::stack::manifest writes it) with `entries`.
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

/// The server connections poolstack's budget (CON002) allows the running stack, and the codes of
/// the rules that fire on its manifest.
pub fn budget(r: &Running) -> (u64, Vec<&'static str>) {
    let loaded = poolstack::manifest::load(&r.dir.join("stack.toml")).unwrap();
    let stack = poolstack::stack::resolve::resolve(&loaded, None).unwrap();
    let cx = poolstack::rules::Context {
        stack: &stack,
        budget: poolstack::stack::budget::ServerConnectionBudget::of(&stack),
        files: &[],
    };
    let codes = poolstack::rules::run(&cx).iter().map(|d| d.code).collect();
    (cx.budget.total.unwrap(), codes)
}

/// Whether a client is installed (`probe` ran and succeeded). In CI (`CI=true`) its absence is a
/// failure; elsewhere the test is skipped loudly, saying how to install it.
pub fn client_installed(probe: &mut Command, what: &str, install: &str) -> bool {
    let ok = probe.output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is not installed: .ci/run installs it ({install})"
        );
        eprintln!("SKIPPED: {what} is not installed ({install}, see .ci/run)");
    }
    ok
}

/// A variable of the rendered .env, as written (a `${VAR}` reference stays one).
pub fn env_value(r: &Running, name: &str) -> String {
    let text = std::fs::read_to_string(r.dir.join(".env")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in the rendered .env:\n{text}"))
        .to_string()
}

/// The connections poolstack's formula (CON001's replicas × processes × per process) gives the
/// manifest's first app: the most client connections it may open to PgBouncer.
pub fn app_connections(r: &Running) -> u64 {
    let loaded = poolstack::manifest::load(&r.dir.join("stack.toml")).unwrap();
    let stack = poolstack::stack::resolve::resolve(&loaded, None).unwrap();
    poolstack::apps::max_connections(&stack.apps[0]).unwrap()
}

/// The most connections of app_user seen at once while a workload ran.
#[derive(Debug, Clone, Copy)]
pub struct Peaks {
    /// Client backends PostgreSQL saw (pg_stat_activity).
    pub server: u64,
    /// Clients PgBouncer had on appdb (`SHOW CLIENTS` on its admin console).
    pub clients: u64,
}

/// Run `cmd` to its end while sampling every 20 ms: its output, and the [`Peaks`].
pub fn run_sampling(r: &Running, cmd: &mut Command) -> (Output, Peaks) {
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let (socket, port, pgb_port, psql) = (
            r.pg.socket_dir.clone(),
            r.pg.port,
            r.pgb.port,
            r.bins.pg_bin.join("psql"),
        );
        std::thread::spawn(move || {
            let mut peaks = Peaks {
                server: 0,
                clients: 0,
            };
            while !stop.load(Ordering::Relaxed) {
                let out = Command::new(&psql)
                    .args(["-X", "-A", "-t", "-h"])
                    .arg(&socket)
                    .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
                    .arg("select count(*) from pg_stat_activity where usename = 'app_user' and backend_type = 'client backend'")
                    .output();
                if let Ok(o) = out
                    && let Ok(n) = String::from_utf8_lossy(&o.stdout).trim().parse::<u64>()
                {
                    peaks.server = peaks.server.max(n);
                }
                // The harness's manifest makes app_user one of PgBouncer's admin_users.
                let out = Command::new(&psql)
                    .args(["-X", "-A", "-t", "-F", "|"])
                    .arg(format!(
                        "host=127.0.0.1 port={pgb_port} dbname=pgbouncer user=app_user connect_timeout=5"
                    ))
                    .args(["-c", "SHOW CLIENTS"])
                    .env("PGPASSWORD", super::stack::PASSWORD)
                    .output();
                if let Ok(o) = out
                    && o.status.success()
                {
                    let n = String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .filter(|l| {
                            let f: Vec<&str> = l.split('|').collect();
                            f.get(1) == Some(&"app_user") && f.get(2) == Some(&"appdb")
                        })
                        .count() as u64;
                    peaks.clients = peaks.clients.max(n);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            peaks
        })
    };
    let out = cmd.output();
    stop.store(true, Ordering::Relaxed);
    let peaks = sampler.join().unwrap();
    (out.expect("run the workload"), peaks)
}
