//! The rendered monitoring against a real stack: real PostgreSQL 15 + PgBouncer 1.18 (the
//! harness), the real spreaker exporter 2.1.2 started with the config render wrote, and the
//! rendered alert expressions evaluated by promtool on what it scraped. A small pool (size 3,
//! reserve 1) saturated by six `pg_sleep` clients makes the waiting, saturation and maxwait alerts
//! fire; at idle nothing fires. Every metric name the rules read is in the live scrape.
//!
//! Needs promtool (Debian `prometheus`) and the exporter (`.ci/run` installs it in
//! /opt/poolstack-spreaker, or set POOLSTACK_SPREAKER_EXPORTER): in CI (`CI=true`) this test
//! fails without them; elsewhere it skips loudly.

#[path = "support/promql_names.rs"]
mod promql_names;
mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::servers;
use support::stack::*;

fn need(what: &str, found: Option<PathBuf>) -> Option<PathBuf> {
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{what} is missing and CI=true: .ci/run installs it"
        );
        eprintln!("SKIPPED: live monitoring test: {what} is not installed");
    }
    found
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|p| p.join(name))
        .find(|p| p.is_file())
}

/// The exporter process, stopped by its PID when the test ends.
struct Exporter(Child);

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scrape(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// `pgbouncer_*` samples of a scrape as promtool input series of job `job`.
fn series(scrape: &str, job: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in scrape.lines() {
        if line.starts_with('#') || !line.starts_with("pgbouncer_") {
            continue;
        }
        let Some((sel, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(v) = value.parse::<f64>() else {
            continue;
        };
        let ours = format!("job=\"{job}\",instance=\"live:9127\"");
        let sel = match sel.split_once('{') {
            Some((name, "}")) => format!("{name}{{{ours}}}"),
            Some((name, rest)) => format!("{name}{{{ours},{rest}"),
            None => format!("{sel}{{{ours}}}"),
        };
        out.push((sel, format!("{v}x10")));
    }
    out.push((
        format!("up{{job=\"{job}\",instance=\"live:9127\"}}"),
        "1x10".into(),
    ));
    out
}

/// Rules file → (alert name, expr).
fn alerts(rules: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for l in rules.lines() {
        let l = l.trim();
        if let Some(n) = l.strip_prefix("- alert: ") {
            name = n.to_string();
        } else if let Some(e) = l.strip_prefix("expr: ") {
            out.push((name.clone(), serde_json::from_str::<String>(e).unwrap()));
        }
    }
    out
}

/// promtool: each alert's expression, evaluated on `input`, returns series exactly for `firing`.
fn assert_firing(
    promtool: &Path,
    dir: &Path,
    input: &[(String, String)],
    rules: &[(String, String)],
    firing: &[&str],
    when: &str,
) {
    let mut t =
        String::from("evaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n");
    for (s, v) in input {
        t.push_str(&format!(
            "      - series: {}\n        values: \"{v}\"\n",
            serde_json::to_string(s).unwrap()
        ));
    }
    t.push_str("    promql_expr_test:\n");
    for (name, expr) in rules {
        if name.starts_with("SQLAlchemy") {
            continue;
        }
        t.push_str(&format!(
            "      - expr: {}\n        eval_time: 5m\n",
            serde_json::to_string(&format!("count({expr})")).unwrap()
        ));
        if firing.contains(&name.as_str()) {
            t.push_str("        exp_samples:\n          - labels: \"{}\"\n            value: 1\n");
        } else {
            t.push_str("        exp_samples: []\n");
        }
    }
    let file = dir.join(format!("live-{when}.test.yml"));
    std::fs::write(&file, t).unwrap();
    let out = Command::new(promtool)
        .args(["test", "rules"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{when}: the rendered alerts did not fire as expected on the scraped values:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const ENTRIES: &str = r#"
[[databases]]
name = "appdb"
pool_size = 3

[[users]]
name = "app_user"
password = { env = "IT_APP_PASSWORD" }
admin = true

[[apps]]
name = "api"
database = "appdb"
user = "app_user"
pool_size = 2
max_overflow = 1

[monitoring]
exporter = "spreaker"
maxwait = "3s"
"#;

#[test]
fn saturated_pool_fires_waiting_saturation_and_maxwait_alerts_and_idle_fires_none() {
    let Some(promtool) = need("promtool", on_path("promtool")) else {
        return;
    };
    let exporter_bin = std::env::var_os("POOLSTACK_SPREAKER_EXPORTER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/poolstack-spreaker/bin/pgbouncer-exporter"));
    let Some(exporter_bin) = need(
        "the spreaker exporter",
        exporter_bin.is_file().then_some(exporter_bin),
    ) else {
        return;
    };
    let spec = Spec {
        auth_type: "scram-sha-256",
        password_encryption: "scram-sha-256",
        userlist_hash: "scram-sha-256",
        hba: "scram-sha-256",
        extra_pgbouncer: "",
        extra_postgres: "",
        entries: ENTRIES,
    };
    let Some(r) = start(&spec) else { return };
    let mon = r.dir.join("monitoring");
    let rules_text = std::fs::read_to_string(mon.join("prometheus-rules.yml")).unwrap();
    let rules = alerts(&rules_text);
    // The rendered exporter config, on a free port (tests run side by side).
    let port = servers::free_port();
    let config = std::fs::read_to_string(mon.join("pgbouncer-exporter.yml"))
        .unwrap()
        .replace("exporter_port: 9127", &format!("exporter_port: {port}"))
        .replace("exporter_host: 0.0.0.0", "exporter_host: 127.0.0.1");
    assert!(
        !config.contains(PASSWORD),
        "the exporter config holds the password"
    );
    let config_path = mon.join("live-exporter.yml");
    std::fs::write(&config_path, config).unwrap();
    let _exporter = Exporter(
        Command::new(&exporter_bin)
            .arg("--config")
            .arg(&config_path)
            .env("PGPASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let wait_for = |pred: &dyn Fn(&str) -> bool| -> String {
        let start = Instant::now();
        loop {
            if let Some(s) = scrape(port)
                && pred(&s)
            {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no usable scrape from the exporter"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    // Idle: one client opened the pool (its row appears at the first login), then left.
    login(&r, "app_user", PASSWORD, "select 1").unwrap();
    let idle = wait_for(&|s| {
        s.contains("pgbouncer_up 1.0") && s.contains("pgbouncer_pools_server_idle_connections{")
    });
    let live_names: std::collections::BTreeSet<&str> = idle
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();
    for (name, expr) in &rules {
        for metric in promql_names::metric_names(expr) {
            if metric == "up" || metric.starts_with("sqlalchemy_pool_") {
                continue;
            }
            assert!(
                live_names.contains(metric.as_str()),
                "{name}: {metric} is not in the live scrape"
            );
        }
    }
    assert_firing(
        &promtool,
        &mon,
        &series(&idle, "pgbouncer"),
        &rules,
        &[],
        "idle",
    );

    // Load: six clients on a pool of 3 + reserve 1; past reserve_pool_timeout (5 s) four hold
    // server connections and two wait.
    let clients: Vec<_> = (0..6)
        .map(|_| {
            let (bin, port) = (r.bins.pg_bin.clone(), r.pgb.port);
            std::thread::spawn(move || {
                servers::client(
                    &bin,
                    port,
                    "appdb",
                    "app_user",
                    PASSWORD,
                    "select pg_sleep(14)",
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(8));
    let loaded = wait_for(&|s| {
        s.contains("pgbouncer_pools_client_waiting_connections{") && !s.contains("pgbouncer_pools_client_waiting_connections{database=\"appdb\",user=\"app_user\"} 0.0")
    });
    assert_firing(
        &promtool,
        &mon,
        &series(&loaded, "pgbouncer"),
        &rules,
        &[
            "PgBouncerClientsWaiting",
            "PgBouncerMaxWaitHigh",
            "PgBouncerPoolSaturated",
        ],
        "loaded",
    );
    for c in clients {
        let _ = c.join();
    }
}
