//! Real clients of the app kinds against a [`Running`] stack (tests/real_clients*.rs): the
//! manifest entries and [`Spec`] they share, a client workload run while PostgreSQL's server
//! connections of the app user are sampled, and the budget and findings poolstack computed.

#![allow(dead_code)]

use super::stack::{Running, Spec};
use std::process::Command;

/// One database, one user, one app `api` of the kind `kind_keys` describes.
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

/// SCRAM everywhere, the stack's settings as the harness writes them.
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

#[derive(Debug)]
pub struct Outcome {
    pub ok: u64,
    pub errors: u64,
    pub first_error: String,
    /// The most server connections of app_user PostgreSQL saw at once.
    pub peak: u64,
    /// Everything the workload printed (one JSON object).
    pub json: serde_json::Value,
}

/// Run a workload `cmd` (which prints one JSON object with ok, errors and first_error) against
/// the running stack, sampling app_user's server connections in pg_stat_activity meanwhile.
pub fn run_sampled(r: &Running, mut cmd: Command) -> Outcome {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let (socket, port, psql) = (
            r.pg.socket_dir.clone(),
            r.pg.port,
            r.bins.pg_bin.join("psql"),
        );
        std::thread::spawn(move || {
            let mut peak = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let out = Command::new(&psql)
                    .args(["-X", "-A", "-t", "-h"])
                    .arg(&socket)
                    .args(["-p", &port.to_string(), "-U", "postgres", "-d", "postgres", "-c"])
                    .arg("select count(*) from pg_stat_activity where usename = 'app_user' and backend_type = 'client backend'")
                    .output();
                if let Ok(o) = out
                    && let Ok(n) = String::from_utf8_lossy(&o.stdout).trim().parse::<u64>()
                {
                    peak = peak.max(n);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            peak
        })
    };
    let out = cmd.output().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success(),
        "workload failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    Outcome {
        ok: json["ok"].as_u64().unwrap_or(0),
        errors: json["errors"].as_u64().unwrap_or(0),
        first_error: json["first_error"].as_str().unwrap_or("").to_string(),
        peak,
        json,
    }
}

/// The server-connection budget poolstack computed for the running stack's manifest (CON002),
/// and the codes of its findings.
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
