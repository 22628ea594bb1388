//! The apply plan on a real PostgreSQL 15 and PgBouncer 1.18: render a stack, start it, change
//! settings of every kind, render again and carry out only the plan's steps — then every new
//! value is live and nothing waits for a restart. In CI (`CI=true`) this must run; elsewhere it
//! skips loudly when the servers are not installed.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use support::servers::{self, Pgbouncer};
use support::stack::*;

const NEW_PASSWORD: &str = "n3w 'pass' word";

/// `poolstack render --format json` in `dir` with `password`: the plan's JSON object.
fn render_plan(dir: &Path, password: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .args(["render", "stack.toml", "--format", "json"])
        .current_dir(dir)
        .env("IT_APP_PASSWORD", password)
        .env("NO_COLOR", "1")
        .output()
        .expect("run poolstack");
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(password) && !String::from_utf8_lossy(&out.stderr).contains(password),
        "a password was printed"
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{stdout}"))
}

/// psql on PgBouncer's admin console, with the header line: rows as column → value maps.
fn console(r: &Running, port: u16, password: &str, command: &str) -> Vec<BTreeMap<String, String>> {
    let out = Command::new(r.bins.pg_bin.join("psql"))
        .args(["-X", "-q", "-A", "-P", "footer=off"])
        .arg(format!(
            "host=127.0.0.1 port={port} dbname=pgbouncer user=app_user connect_timeout=10"
        ))
        .args(["-c", command])
        .env("PGPASSWORD", password)
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split('|')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('|').map(str::to_string))
                .collect()
        })
        .collect()
}

fn setting(r: &Running, name: &str) -> (String, String) {
    let row = r.pg.query(
        "postgres",
        &format!("select current_setting('{name}') || '|' || pending_restart from pg_settings where name = '{name}'"),
    );
    let (value, pending) = row.split_once('|').unwrap_or((&row, ""));
    (value.to_string(), pending.to_string())
}

#[test]
fn carrying_out_only_the_plans_steps_puts_every_change_in_effect() {
    let Some(mut r) = start(&SCRAM) else { return };
    let dir = r.dir.clone();
    let old_port = r.pgb.port;
    let new_port = servers::free_port();
    let (old_max, _) = setting(&r, "max_connections");
    assert_ne!(old_max, "120");

    // The same stack with a new value of every kind.
    let before = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    let replace = |text: String, from: &str, to: &str| {
        assert!(text.contains(from), "manifest has no {from:?}");
        text.replacen(from, to, 1)
    };
    let mut after = before.clone();
    after = replace(
        after,
        "hba_method = ",
        "max_connections = 120\nhba_method = ",
    );
    after = replace(
        after,
        "work_mem = \"8MB\"",
        "work_mem = \"16MB\"\nshared_buffers = \"64MB\"",
    );
    after = replace(after, "default_pool_size = 5", "default_pool_size = 7");
    after = replace(
        after,
        &format!("listen_port = {old_port}"),
        &format!("listen_port = {new_port}"),
    );
    after = replace(
        after,
        "name = \"appdb\"\n",
        "name = \"appdb\"\npool_size = 4\n",
    );
    std::fs::write(dir.join("stack.toml"), after).unwrap();

    let plan = render_plan(&dir, NEW_PASSWORD);
    assert_eq!(plan["version"], 1);
    let changes = plan["changes"].as_array().expect("changes");
    let action_of = |component: &str, setting: &str| -> String {
        changes
            .iter()
            .find(|c| c["component"] == component && c["setting"] == setting)
            .unwrap_or_else(|| panic!("no change of {component} {setting} in {changes:#?}"))["action"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(action_of("postgres", "shared_buffers"), "restart");
    assert_eq!(action_of("postgres", "max_connections"), "restart");
    assert_eq!(action_of("postgres", "work_mem"), "reload");
    assert_eq!(action_of("pgbouncer", "default_pool_size"), "reload");
    assert_eq!(action_of("pgbouncer", "listen_port"), "restart");
    assert_eq!(action_of("pgbouncer", "appdb"), "reload");
    assert_eq!(action_of("roles", "app_user"), "apply-sql");
    let secret = changes
        .iter()
        .find(|c| c["component"] == "pgbouncer" && c["setting"] == "app_user")
        .expect("the userlist change");
    assert_eq!(
        (&secret["old"], &secret["new"]),
        (&Value::from("changed"), &Value::from("changed"))
    );

    // Deploy the files where the servers read them (PgBouncer reads them in place).
    let fragment = dir.join("postgres/conf.d/50-poolstack.conf");
    std::fs::copy(&fragment, r.pg.conf_d.join("50-poolstack.conf")).unwrap();
    servers::give_to_server_user(&r.pg.conf_d.join("50-poolstack.conf"));
    for f in ["pgbouncer/pgbouncer.ini", "pgbouncer/userlist.txt"] {
        servers::give_to_server_user(&dir.join(f));
    }

    // A reload alone applies work_mem and leaves the restart-classified parameters pending.
    r.pg.query("postgres", "select pg_reload_conf()");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(setting(&r, "work_mem"), ("16MB".into(), "false".into()));
    assert_eq!(
        setting(&r, "shared_buffers"),
        ("128MB".into(), "true".into())
    );
    assert_eq!(setting(&r, "max_connections"), (old_max, "true".into()));

    // Only the plan's steps, in its order.
    let steps = plan["steps"].as_array().expect("steps");
    let done: Vec<(String, String)> = steps
        .iter()
        .map(|s| {
            (
                s["component"].as_str().unwrap_or("").to_string(),
                s["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (component, action) in &done {
        match (component.as_str(), action.as_str()) {
            ("postgres", "restart") => r.pg.restart(),
            ("postgres", "reload") => {
                r.pg.query("postgres", "select pg_reload_conf()");
            }
            ("roles", "apply-sql") => {
                r.pg.run_file("postgres", &dir.join("postgres/initdb.d/10-roles.sql"))
            }
            ("pgbouncer", "restart") => {
                r.pgb = Pgbouncer::start(
                    &r.bins,
                    &dir.join("pgbouncer/pgbouncer.ini"),
                    new_port,
                    &dir.join("pgbouncer-2.log"),
                );
            }
            ("pgbouncer", "reload") => {
                console(&r, old_port, PASSWORD, "RELOAD");
            }
            ("app", "restart-app") => {} // no app process runs in this test
            other => panic!("unexpected step {other:?}"),
        }
    }
    let order: Vec<(&str, &str)> = done.iter().map(|(c, a)| (c.as_str(), a.as_str())).collect();
    assert_eq!(
        order,
        [
            ("postgres", "restart"),
            ("roles", "apply-sql"),
            ("pgbouncer", "restart"),
            // DATABASE_URL follows PgBouncer to its new port.
            ("app", "restart-app")
        ],
        "{steps:#?}"
    );

    // PostgreSQL: every new value, nothing pending.
    assert_eq!(
        setting(&r, "shared_buffers"),
        ("64MB".into(), "false".into())
    );
    assert_eq!(
        setting(&r, "max_connections"),
        ("120".into(), "false".into())
    );
    assert_eq!(setting(&r, "work_mem"), ("16MB".into(), "false".into()));
    assert_eq!(
        r.pg.query(
            "postgres",
            "select count(*) from pg_settings where pending_restart"
        ),
        "0"
    );

    // PgBouncer: the new port, pool size and [databases] entry; the new password logs in.
    let config = console(&r, new_port, NEW_PASSWORD, "SHOW CONFIG");
    let value = |key: &str| {
        config
            .iter()
            .find(|row| row.get("key").map(String::as_str) == Some(key))
            .and_then(|row| row.get("value").cloned())
            .unwrap_or_default()
    };
    assert_eq!(value("listen_port"), new_port.to_string());
    assert_eq!(value("default_pool_size"), "7");
    let databases = console(&r, new_port, NEW_PASSWORD, "SHOW DATABASES");
    let appdb = databases
        .iter()
        .find(|row| row.get("name").map(String::as_str) == Some("appdb"))
        .expect("appdb in SHOW DATABASES");
    assert_eq!(appdb.get("pool_size").map(String::as_str), Some("4"));
    let login = servers::client(
        &r.bins.pg_bin,
        new_port,
        "appdb",
        "app_user",
        NEW_PASSWORD,
        "select current_user",
    );
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let old = servers::client(
        &r.bins.pg_bin,
        new_port,
        "appdb",
        "app_user",
        PASSWORD,
        "select 1",
    );
    assert!(!old.status.success(), "the old password still logs in");

    // Rendering again plans nothing.
    let again = render_plan(&dir, NEW_PASSWORD);
    assert_eq!(again["changes"], Value::Array(Vec::new()), "{again:#}");
    assert_eq!(again["steps"], Value::Array(Vec::new()));
}

/// Run a command line of the plan as the operator would (`sh -c`), with `password` in PGPASSWORD
/// and the server binaries first on PATH.
fn run_step_command(r: &Running, command: &str, password: &str) {
    let path = format!(
        "{}:{}",
        r.bins.pg_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-c", command])
        .env("PATH", path)
        .env("PGPASSWORD", password)
        .output()
        .expect("run sh");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn without_a_restart_the_plans_own_commands_reload_and_renew_pooled_connections() {
    let Some(mut r) = start(&SCRAM) else { return };
    let dir = r.dir.clone();
    let through_pgbouncer = |r: &Running, password: &str, sql: &str| -> String {
        let out = servers::client(
            &r.bins.pg_bin,
            r.pgb.port,
            "appdb",
            "app_user",
            password,
            sql,
        );
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // A pooled server connection that started with the old value.
    assert_eq!(
        through_pgbouncer(&r, PASSWORD, "show log_disconnections"),
        "off"
    );

    let text = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    let changed = text
        .replacen(
            "work_mem = \"8MB\"",
            "work_mem = \"8MB\"\nlog_disconnections = true",
            1,
        )
        // Not a pool size: that would change the derived max_connections (a restart).
        .replacen("max_client_conn = 200", "max_client_conn = 250", 1);
    assert_ne!(text, changed);
    std::fs::write(dir.join("stack.toml"), changed).unwrap();
    let plan = render_plan(&dir, NEW_PASSWORD);
    let steps = plan["steps"].as_array().expect("steps");
    let order: Vec<(&str, &str)> = steps
        .iter()
        .map(|s| {
            (
                s["component"].as_str().unwrap_or(""),
                s["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("postgres", "reload"),
            ("roles", "apply-sql"),
            ("pgbouncer", "reload"),
            ("pgbouncer", "reconnect")
        ],
        "{plan:#}"
    );

    std::fs::copy(
        dir.join("postgres/conf.d/50-poolstack.conf"),
        r.pg.conf_d.join("50-poolstack.conf"),
    )
    .unwrap();
    servers::give_to_server_user(&r.pg.conf_d.join("50-poolstack.conf"));
    for f in ["pgbouncer/pgbouncer.ini", "pgbouncer/userlist.txt"] {
        servers::give_to_server_user(&dir.join(f));
    }
    // PgBouncer's console checks logins against the userlist it has loaded: the old password
    // until its RELOAD, the new one after.
    let mut console_password = PASSWORD;
    for s in steps {
        let commands: Vec<&str> = s["commands"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        match (
            s["component"].as_str().unwrap(),
            s["action"].as_str().unwrap(),
        ) {
            // The harness's superuser logs in over the socket: the same statements.
            ("postgres", "reload") => {
                assert!(
                    commands[0].ends_with("-c \"SELECT pg_reload_conf();\""),
                    "{s}"
                );
                r.pg.query("postgres", "SELECT pg_reload_conf()");
            }
            ("roles", "apply-sql") => {
                assert!(
                    commands[0].contains("-f postgres/initdb.d/10-roles.sql"),
                    "{s}"
                );
                r.pg.run_file("postgres", &dir.join("postgres/initdb.d/10-roles.sql"));
            }
            // PgBouncer's console: the plan's own command lines.
            ("pgbouncer", "reload") => {
                assert_eq!(commands.len(), 1, "{s}");
                run_step_command(&r, commands[0], console_password);
                console_password = NEW_PASSWORD;
                // The pooled server connection still has the old value.
                std::thread::sleep(std::time::Duration::from_millis(300));
                assert_eq!(
                    through_pgbouncer(&r, NEW_PASSWORD, "show log_disconnections"),
                    "off",
                    "without RECONNECT the pooled server connection keeps the old value"
                );
            }
            ("pgbouncer", "reconnect") => {
                assert_eq!(commands.len(), 1, "{s}");
                run_step_command(&r, commands[0], console_password);
            }
            other => panic!("unexpected step {other:?}"),
        }
    }
    assert_eq!(
        r.pg.query(
            "postgres",
            "select setting from pg_settings where name = 'log_disconnections'"
        ),
        "on"
    );
    assert_eq!(
        through_pgbouncer(&r, NEW_PASSWORD, "show log_disconnections"),
        "on"
    );
    let config = console(&r, r.pgb.port, NEW_PASSWORD, "SHOW CONFIG");
    let pool = config
        .iter()
        .find(|row| row.get("key").map(String::as_str) == Some("max_client_conn"))
        .and_then(|row| row.get("value").cloned());
    assert_eq!(pool.as_deref(), Some("250"));
    let _ = &mut r;
}
