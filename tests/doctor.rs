//! `poolstack doctor` against a real PostgreSQL and a real PgBouncer started from a rendered stack
//! (tests/support/stack.rs). In CI (`CI=true`) these must run; elsewhere the ones that need the
//! servers skip loudly when they are not installed.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::servers;
use support::stack::*;

fn doctor(
    manifest: &Path,
    pgbouncer: Option<String>,
    postgres: Option<String>,
    password: &str,
    format: &str,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_poolstack"));
    cmd.arg("doctor").arg(manifest).args(["--format", format]);
    if let Some(u) = pgbouncer {
        cmd.args(["--pgbouncer", &u]);
    }
    if let Some(u) = postgres {
        cmd.args(["--postgres", &u]);
    }
    cmd.env_remove("PGPASSWORD")
        .env("NO_COLOR", "1")
        .env("IT_APP_PASSWORD", PASSWORD);
    if !password.is_empty() {
        cmd.env("PGPASSWORD", password);
    }
    cmd.output().expect("run poolstack doctor")
}

/// The stack with a superuser password doctor can log in with (the same as app_user's, since
/// both logins take PGPASSWORD).
fn started() -> Option<Running> {
    let r = start(&SCRAM)?;
    let quoted = PASSWORD.replace('\'', "''");
    r.pg.query(
        "postgres",
        &format!("ALTER ROLE postgres PASSWORD '{quoted}'"),
    );
    Some(r)
}

fn urls(r: &Running) -> (Option<String>, Option<String>) {
    (
        Some(format!(
            "postgresql://app_user@127.0.0.1:{}/pgbouncer",
            r.pgb.port
        )),
        Some(format!(
            "postgresql://postgres@127.0.0.1:{}/postgres",
            r.pg.port
        )),
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// The 1-based line of `needle` in the manifest.
fn line_of(manifest: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(manifest).unwrap();
    text.lines().position(|l| l.contains(needle)).expect(needle) as u64 + 1
}

#[test]
fn a_clean_stack_has_no_differences_and_reports_its_budget() {
    let Some(r) = started() else { return };
    let (pgb, pg) = urls(&r);
    let out = doctor(&r.dir.join("stack.toml"), pgb, pg, PASSWORD, "json");
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let codes = codes(&report);
    assert!(!codes.contains(&"LIV001".to_string()), "{report:#}");
    assert!(!codes.contains(&"LIV004".to_string()), "{report:#}");
    let budget = &report["summary"]["budget"];
    assert!(budget["used"].is_u64(), "{report:#}");
    // One pool of 5 + 1 reserve.
    assert_eq!(budget["capacity"], 6, "{report:#}");

    let human = doctor(
        &r.dir.join("stack.toml"),
        urls(&r).0,
        urls(&r).1,
        PASSWORD,
        "human",
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("budget: used "), "{text}");
    assert!(!text.contains(PASSWORD) && !String::from_utf8_lossy(&human.stderr).contains(PASSWORD));

    let github = doctor(
        &r.dir.join("stack.toml"),
        urls(&r).0,
        urls(&r).1,
        PASSWORD,
        "github",
    );
    let text = String::from_utf8_lossy(&github.stdout);
    assert!(text.contains("::notice title=budget::used "), "{text}");
}

#[test]
fn a_value_changed_in_the_manifest_after_deploying_points_at_its_line() {
    let Some(r) = started() else { return };
    let manifest = r.dir.join("stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let drifted = text
        .replace("max_client_conn = 200", "max_client_conn = 300")
        .replace("work_mem = \"8MB\"", "work_mem = \"16MB\"");
    assert_ne!(text, drifted);
    std::fs::write(&manifest, drifted).unwrap();
    let (pgb, pg) = urls(&r);
    let out = doctor(&manifest, pgb, pg, PASSWORD, "json");
    let report = json(&out);
    let liv001: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "LIV001")
        .collect();
    assert_eq!(liv001.len(), 2, "{report:#}");
    let at = |needle: &str| {
        liv001
            .iter()
            .find(|d| d["message"].as_str().unwrap().starts_with(needle))
            .unwrap_or_else(|| panic!("no LIV001 for {needle}: {report:#}"))
    };
    let mcc = at("max_client_conn");
    assert_eq!(mcc["line"], line_of(&manifest, "max_client_conn = 300"));
    assert!(mcc["message"].as_str().unwrap().contains("`200`"), "{mcc}");
    assert!(mcc["message"].as_str().unwrap().contains("`300`"), "{mcc}");
    let wm = at("work_mem");
    assert_eq!(wm["line"], line_of(&manifest, "work_mem = \"16MB\""));
    assert!(wm["message"].as_str().unwrap().contains("8192 kB"), "{wm}");
    assert!(wm["message"].as_str().unwrap().contains("16384 kB"), "{wm}");
    // Warnings: exit 0 under the default fail_on = error.
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let (pgb, pg) = urls(&r);
    let human = doctor(&manifest, pgb, pg, PASSWORD, "human");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("LIV001") && text.contains("max_client_conn"),
        "{text}"
    );
    println!("{text}");
}

#[test]
fn a_setting_waiting_for_a_restart_is_liv002() {
    let Some(r) = started() else { return };
    r.pg.query("postgres", "ALTER SYSTEM SET shared_buffers = '256MB'");
    r.pg.query("postgres", "SELECT pg_reload_conf()");
    let deadline = Instant::now() + Duration::from_secs(10);
    while r.pg.query(
        "postgres",
        "SELECT pending_restart FROM pg_settings WHERE name = 'shared_buffers'",
    ) != "t"
    {
        assert!(
            Instant::now() < deadline,
            "PostgreSQL never marked the restart pending"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (pgb, pg) = urls(&r);
    let out = doctor(&r.dir.join("stack.toml"), pgb, pg, PASSWORD, "json");
    let report = json(&out);
    let liv002 = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "LIV002")
        .unwrap_or_else(|| panic!("no LIV002: {report:#}"));
    assert!(
        liv002["message"]
            .as_str()
            .unwrap()
            .contains("shared_buffers"),
        "{liv002}"
    );
    assert_eq!(liv002["severity"], "info");
}

#[test]
fn without_a_superuser_the_summary_says_verifiers_were_not_compared_and_sarif_carries_the_budget() {
    let Some(r) = started() else { return };
    let pg = Some(format!(
        "postgresql://app_user@127.0.0.1:{}/appdb",
        r.pg.port
    ));
    let out = doctor(
        &r.dir.join("stack.toml"),
        None,
        pg.clone(),
        PASSWORD,
        "json",
    );
    let report = json(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    // Not a finding: the summary says the verifiers were not compared, and why.
    assert!(
        !report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "LIV004"),
        "{report:#}"
    );
    let skipped = &report["summary"]["skipped"][0];
    assert_eq!(skipped["rules"][0], "LIV004", "{report:#}");
    assert!(
        skipped["needs"].as_str().unwrap().contains("pg_authid"),
        "{skipped}"
    );
    let human = doctor(
        &r.dir.join("stack.toml"),
        None,
        pg.clone(),
        PASSWORD,
        "human",
    );
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("not checked: LIV004 needs read access to pg_authid"),
        "{text}"
    );
    let sarif = doctor(&r.dir.join("stack.toml"), None, pg, PASSWORD, "sarif");
    let sarif = json(&sarif);
    assert_eq!(
        sarif["runs"][0]["properties"]["budget"]["capacity"], 6,
        "{sarif:#}"
    );
}

#[test]
fn an_md5_userlist_in_front_of_scram_storage_is_liv004() {
    let spec = Spec {
        auth_type: "md5",
        hba: "md5",
        userlist_hash: "md5",
        ..SCRAM
    };
    let Some(r) = start(&spec) else { return };
    let quoted = PASSWORD.replace('\'', "''");
    r.pg.query(
        "postgres",
        &format!("ALTER ROLE postgres PASSWORD '{quoted}'"),
    );
    let pg = Some(format!(
        "postgresql://postgres@127.0.0.1:{}/postgres",
        r.pg.port
    ));
    let manifest = r.dir.join("stack.toml");
    let out = doctor(&manifest, None, pg, PASSWORD, "json");
    let report = json(&out);
    let liv004 = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "LIV004")
        .unwrap_or_else(|| panic!("no LIV004: {report:#}"));
    assert_eq!(liv004["severity"], "error", "{liv004}");
    let message = liv004["message"].as_str().unwrap();
    assert!(
        message.contains("`app_user`") && message.contains("an md5 entry cannot log in"),
        "{liv004}"
    );
    assert_eq!(
        liv004["line"],
        line_of(&manifest, "userlist_hash"),
        "{liv004}"
    );
    assert_eq!(out.status.code(), Some(1), "{report:#}");
}

#[test]
fn a_wrong_password_is_exit_2_naming_the_server() {
    let Some(r) = started() else { return };
    let (_, pg) = urls(&r);
    let out = doctor(
        &r.dir.join("stack.toml"),
        None,
        pg,
        "not the password",
        "human",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{}", r.pg.port)), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(err.contains("PGPASSWORD"), "{err}");
}

/// A manifest that is never started: for the errors that need no server.
fn unstarted() -> (tempfile::TempDir, std::path::PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let port = servers::free_port();
    let manifest = base.path().join("stack.toml");
    std::fs::write(&manifest, manifest_text(port, base.path())).unwrap();
    (base, manifest)
}

fn manifest_text(port: u16, dir: &Path) -> String {
    manifest(&SCRAM, port, port, dir)
}

#[test]
fn a_server_that_is_down_is_exit_2_quickly_naming_it() {
    let (_base, manifest) = unstarted();
    let port = servers::free_port();
    let url = format!("postgresql://postgres@127.0.0.1:{port}/postgres");
    let started = Instant::now();
    let out = doctor(&manifest, None, Some(url.clone()), "x", "human");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("--postgres"), "{err}");
    // A machine format still gets a report: one INPUT diagnostic on stdout.
    let out = doctor(
        &manifest,
        Some(url.replace("/postgres", "/pgbouncer")),
        None,
        "x",
        "json",
    );
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(codes(&report), ["INPUT"]);
    assert!(
        report["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("PgBouncer")
    );
}

#[test]
fn a_password_in_the_url_is_refused_and_never_printed() {
    let (_base, manifest) = unstarted();
    let url = "postgresql://postgres:hunter2-secret@127.0.0.1:1/postgres".to_string();
    let out = doctor(&manifest, None, Some(url), "", "human");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("put it in PGPASSWORD"), "{err}");
    assert!(!err.contains("hunter2") && !String::from_utf8_lossy(&out.stdout).contains("hunter2"));
}

#[test]
fn no_server_given_is_exit_2() {
    let (_base, manifest) = unstarted();
    let out = doctor(&manifest, None, None, "", "human");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--postgres"));
}

#[test]
fn liv001_help_follows_the_apply_plan_and_a_restart_only_option_is_liv002_alone() {
    let Some(r) = started() else { return };
    let manifest = r.dir.join("stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let port = r.pgb.port;
    let drifted = text
        .replacen(&format!("listen_port = {port}"), "listen_port = 1", 1)
        .replacen(
            "work_mem = \"8MB\"",
            "work_mem = \"16MB\"\nshared_buffers = \"64MB\"",
            1,
        );
    assert_ne!(text, drifted);
    std::fs::write(&manifest, drifted).unwrap();
    let (pgb, pg) = urls(&r);
    let report = json(&doctor(&manifest, pgb, pg, PASSWORD, "json"));
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let about = |code: &str, name: &str| -> Vec<&serde_json::Value> {
        diagnostics
            .iter()
            .filter(|d| d["code"] == code && d["message"].as_str().unwrap().starts_with(name))
            .collect()
    };
    // listen_port: RELOAD ignores it, so one finding, LIV002, that says restart.
    assert!(about("LIV001", "listen_port").is_empty(), "{report:#}");
    let lp = about("LIV002", "listen_port");
    assert_eq!(lp.len(), 1, "{report:#}");
    assert!(
        lp[0]["help"]
            .as_str()
            .unwrap()
            .contains("restart PgBouncer")
    );
    // shared_buffers (postmaster) says restart, work_mem (user) says reload.
    let sb = about("LIV001", "shared_buffers");
    assert_eq!(sb.len(), 1, "{report:#}");
    assert!(
        sb[0]["help"]
            .as_str()
            .unwrap()
            .contains("restart PostgreSQL (context postmaster"),
        "{}",
        sb[0]
    );
    let wm = about("LIV001", "work_mem");
    assert_eq!(wm.len(), 1, "{report:#}");
    let help = wm[0]["help"].as_str().unwrap();
    assert!(
        help.contains("pg_reload_conf()") && !help.contains("restart PostgreSQL"),
        "{help}"
    );
}

/// `n` clients through PgBouncer, each running `sql` at once; returns when all are done.
fn burst(r: &Running, n: usize, sql: &str) {
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| login(r, "app_user", PASSWORD, sql).expect("a client of the burst"));
        }
    });
}

fn liv003(report: &serde_json::Value) -> Option<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "LIV003")
        .map(|d| d["message"].as_str().unwrap().to_string())
}

/// After a burst PgBouncer keeps its server connections open, idle: that is not load (the
/// budget is 6, five are open). Five clients inside queries at once are, read from PostgreSQL
/// and from SHOW POOLS alike.
#[test]
fn idle_pooled_connections_are_not_load_and_active_ones_warn() {
    let Some(r) = started() else { return };
    let manifest = r.dir.join("stack.toml");
    let (pgb, pg) = urls(&r);
    burst(&r, 5, "SELECT pg_sleep(0.5)");
    for (pgb, pg) in [(None, pg.clone()), (pgb.clone(), None)] {
        let out = doctor(&manifest, pgb, pg, PASSWORD, "json");
        let report = json(&out);
        assert_eq!(liv003(&report), None, "{report:#}");
        let budget = &report["summary"]["budget"];
        assert_eq!(budget["active"], 0, "{report:#}");
        assert!(budget["idle"].as_u64() >= Some(5), "{report:#}");
        assert_eq!(budget["used"], budget["idle"], "{report:#}");
    }
    let human = doctor(&manifest, None, pg.clone(), PASSWORD, "human");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains(" server connections (0 active, "), "{text}");

    std::thread::scope(|s| {
        for _ in 0..5 {
            s.spawn(|| login(&r, "app_user", PASSWORD, "SELECT pg_sleep(8)"));
        }
        // Wait until the five are inside their queries.
        let started = Instant::now();
        let active = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND query LIKE 'SELECT pg_sleep(8)%' AND state = 'active'";
        while r.pg.query("postgres", active).trim() != "5" {
            assert!(
                started.elapsed() < Duration::from_secs(6),
                "the clients never got busy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        for (pgb, pg) in [(None, pg.clone()), (pgb.clone(), None)] {
            let out = doctor(&manifest, pgb, pg, PASSWORD, "json");
            let report = json(&out);
            let message = liv003(&report).unwrap_or_else(|| panic!("no LIV003: {report:#}"));
            assert!(
                message.starts_with("5 server connections active on "),
                "{message}"
            );
            assert!(
                message.contains("83 % of the connection budget ("),
                "{message}"
            );
            assert_eq!(report["summary"]["budget"]["active"], 5, "{report:#}");
        }
    });
}
