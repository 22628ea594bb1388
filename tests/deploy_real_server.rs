//! The deploy targets' pgbouncer.ini on a real PgBouncer 1.18: the ini extracted from the
//! Kubernetes ConfigMap (with the userlist from the Secret) and the one the compose file mounts
//! are each started with only the listen port changed (and, for the pod, auth_file read from where
//! the test put the Secret's file instead of the pod's mount); SHOW CONFIG must report every
//! option as the manifest rendered it, and a client logs in through each. In CI (`CI=true`) this
//! must run; elsewhere it skips loudly when the servers or PyYAML are missing.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::servers::{self, Pgbouncer};
use support::stack::*;

/// The tests here start PgBouncers on ports picked free a moment before: one at a time, so that
/// one test's PgBouncer never answers the readiness probe of another's (a refused port).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const ENTRIES: &str = r#"
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

[deploy]
targets = ["compose", "kubernetes"]
"#;

fn options(ini: &str) -> BTreeMap<String, String> {
    let mut in_pgb = false;
    let mut out = BTreeMap::new();
    for line in ini.lines().map(str::trim) {
        if line.starts_with(';') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            in_pgb = line == "[pgbouncer]";
            continue;
        }
        if in_pgb && let Some((k, v)) = line.split_once('=') {
            out.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

fn with_option(ini: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key} = ");
    assert!(
        ini.lines().any(|l| l.starts_with(&prefix)),
        "no {key} in the ini"
    );
    ini.lines()
        .map(|l| {
            if l.starts_with(&prefix) {
                format!("{prefix}{value}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn same_value(rendered: &str, shown: &str) -> bool {
    if rendered == shown {
        return true;
    }
    if let Some(oct) = rendered.strip_prefix('0')
        && let Ok(v) = i64::from_str_radix(oct, 8)
        && shown.parse::<i64>().ok() == Some(v)
    {
        return true;
    }
    matches!((rendered.parse::<f64>(), shown.parse::<f64>()), (Ok(a), Ok(b)) if (a - b).abs() < 1e-9)
}

/// Start PgBouncer with `ini` on a new port; SHOW CONFIG must equal `expected` except `skip`.
fn run_and_compare(
    r: &Running,
    name: &str,
    ini: &str,
    expected: &BTreeMap<String, String>,
    skip: &[&str],
) {
    let dir = servers::server_dir(&r.dir, name);
    let port = servers::free_port();
    let ini = with_option(ini, "listen_port", &port.to_string());
    let path = dir.join("pgbouncer.ini");
    std::fs::write(&path, ini).unwrap();
    servers::give_to_server_user(&path);
    let pgb = Pgbouncer::start(&r.bins, &path, port, &dir.join("pgbouncer.log"));
    let out = servers::client(
        &r.bins.pg_bin,
        pgb.port,
        "pgbouncer",
        "app_user",
        PASSWORD,
        "SHOW CONFIG",
    );
    assert!(
        out.status.success(),
        "{name}: SHOW CONFIG: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split('|');
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .collect();
    assert!(expected.len() >= 15, "{expected:?}");
    for (k, v) in expected.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
        let shown = live
            .get(k)
            .unwrap_or_else(|| panic!("{name}: SHOW CONFIG has no {k}"));
        assert!(
            same_value(v, shown),
            "{name}: {k}: manifest renders {v:?}, PgBouncer reports {shown:?}"
        );
    }
    let login = servers::client(
        &r.bins.pg_bin,
        pgb.port,
        "appdb",
        "app_user",
        PASSWORD,
        "select 1",
    );
    assert!(
        login.status.success(),
        "{name}: login through PgBouncer: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&login.stdout).trim(), "1");
}

#[test]
fn pgbouncer_runs_the_ini_of_the_configmap_and_of_the_compose_mounts() {
    let _serial = one_at_a_time();
    let spec = Spec {
        entries: ENTRIES,
        ..SCRAM
    };
    let Some(r) = start(&spec) else { return };
    let host_ini = std::fs::read_to_string(r.dir.join("pgbouncer/pgbouncer.ini")).unwrap();
    let manifest = options(&host_ini);

    // Kubernetes: the ConfigMap's ini, the Secret's userlist.
    let k8s = r.dir.join("deploy/kubernetes");
    let (Some(cm), Some(secret)) = (
        support::deploy::one_doc(&k8s.join("configmap.yaml")),
        support::deploy::one_doc(&k8s.join("secret.yaml")),
    ) else {
        return;
    };
    let pod_ini = cm["data"]["pgbouncer.ini"].as_str().unwrap().to_string();
    let secret_dir = servers::server_dir(&r.dir, "k8s-secret");
    let userlist = secret_dir.join("userlist.txt");
    std::fs::write(
        &userlist,
        secret["stringData"]["userlist.txt"].as_str().unwrap(),
    )
    .unwrap();
    servers::give_to_server_user(&userlist);
    std::fs::set_permissions(
        &userlist,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let pod = options(&pod_ini);
    // What the pod runs differently is exactly what DEP001 reports (listen_addr) and the mount.
    for (k, v) in &manifest {
        match k.as_str() {
            "listen_addr" => assert_eq!(pod[k], "*"),
            "auth_file" => assert_eq!(pod[k], "/etc/pgbouncer-auth/userlist.txt"),
            _ => assert_eq!(pod.get(k), Some(v), "the pod's ini changes {k}"),
        }
    }
    let pod_ini = with_option(&pod_ini, "auth_file", &userlist.display().to_string());
    // listen_addr "*" on a test machine: restrict to loopback like the host's file.
    let pod_ini = with_option(&pod_ini, "listen_addr", "127.0.0.1");
    run_and_compare(
        &r,
        "k8s",
        &pod_ini,
        &manifest,
        &["listen_port", "auth_file"],
    );

    // Compose: the ini the pgbouncer service's command names, through its mounts.
    let Some(compose) = support::deploy::one_doc(&r.dir.join("deploy/compose.yaml")) else {
        return;
    };
    let svc = compose["services"]
        .as_object()
        .unwrap()
        .values()
        .find(|s| s["image"].as_str().is_some_and(|i| i.contains("pgbouncer")))
        .unwrap()
        .clone();
    let ini_path = host_path(
        &r.dir.join("deploy"),
        &svc,
        svc["command"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_str()
            .unwrap(),
    );
    let compose_ini = std::fs::read_to_string(&ini_path).unwrap();
    assert_eq!(compose_ini, host_ini);
    // auth_file is the container path: the mounts must put the rendered userlist there.
    let auth = &manifest["auth_file"];
    assert_eq!(
        std::fs::read(host_path(&r.dir.join("deploy"), &svc, auth)).unwrap(),
        std::fs::read(r.dir.join("pgbouncer/userlist.txt")).unwrap()
    );
    run_and_compare(&r, "compose", &compose_ini, &manifest, &["listen_port"]);
}

/// The compose healthcheck of PgBouncer, run as written (compose's `$$` → `$`, the secret file
/// where the test put it): it passes while PostgreSQL is up and fails once PostgreSQL is down,
/// while `pg_isready` against PgBouncer still says "ready".
#[test]
fn the_compose_healthcheck_fails_when_postgres_is_down() {
    let _serial = one_at_a_time();
    let spec = Spec {
        entries: ENTRIES,
        ..SCRAM
    };
    let Some(mut r) = start(&spec) else { return };
    let Some(compose) = support::deploy::one_doc(&r.dir.join("deploy/compose.yaml")) else {
        return;
    };
    // [pgbouncer] host 127.0.0.1 is no service name: the service is `pgbouncer`.
    let svc = &compose["services"]["pgbouncer"];
    let test = svc["healthcheck"]["test"].as_array().unwrap();
    assert_eq!(test[0], "CMD-SHELL");
    let secret_name = svc["secrets"][0].as_str().unwrap();
    let secret = r.dir.join("healthcheck-secret");
    std::fs::write(&secret, PASSWORD).unwrap();
    let command = test[1].as_str().unwrap().replace("$$", "$").replace(
        &format!("/run/secrets/{secret_name}"),
        &secret.display().to_string(),
    );
    let path = format!("{}:/usr/bin:/bin", r.bins.pg_bin.display());
    let health = || {
        // Compose kills a check after its `timeout` (5s); PgBouncer holds a query waiting for
        // a server up to query_wait_timeout.
        std::process::Command::new("timeout")
            .args(["8", "sh", "-c", &command])
            .env("PATH", &path)
            .env_remove("PGPASSWORD")
            .status()
            .unwrap()
            .success()
    };
    assert!(
        health(),
        "the healthcheck fails on a working stack: {command}"
    );
    r.pg.stop();
    assert!(!health(), "the healthcheck passes with PostgreSQL down");
    let ready = std::process::Command::new(r.bins.pg_bin.join("pg_isready"))
        .args(["-h", "127.0.0.1", "-p", &r.pgb.port.to_string()])
        .status()
        .unwrap();
    assert!(
        ready.success(),
        "pg_isready against PgBouncer says ready regardless (why it is not the healthcheck)"
    );
}

/// The host file behind `container_path` in a compose service's bind mounts (longest target).
fn host_path(compose_dir: &Path, svc: &Value, container_path: &str) -> PathBuf {
    let (src, rest) = svc["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| {
            let target = v["target"].as_str()?;
            let rest = container_path.strip_prefix(target)?;
            let source = v["source"].as_str()?.to_string();
            (rest.is_empty() || rest.starts_with('/')).then(|| {
                (
                    target.len(),
                    source,
                    rest.trim_start_matches('/').to_string(),
                )
            })
        })
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, s, r)| (s, r))
        .unwrap_or_else(|| panic!("{container_path} is not mounted"));
    let p = compose_dir.join(src);
    if rest.is_empty() { p } else { p.join(rest) }
}

/// The Kubernetes preStop hook sends SIGINT because Kubernetes' SIGTERM shuts PgBouncer before
/// 1.23 down at once: on the real PgBouncer 1.18, a transaction in flight survives SIGINT (the
/// safe shutdown, after which PgBouncer exits) and is cut by SIGTERM.
#[test]
fn sigint_lets_a_transaction_in_flight_finish_and_sigterm_does_not() {
    let _serial = one_at_a_time();
    let Some(r) = start(&Spec {
        entries: ENTRIES,
        ..SCRAM
    }) else {
        return;
    };
    let pre_stop =
        std::fs::read_to_string(r.dir.join("deploy/kubernetes/deployment.yaml")).unwrap();
    assert!(pre_stop.contains("kill -INT 1"), "{pre_stop}");
    for (signal, survives) in [("-INT", true), ("-TERM", false)] {
        let dir = servers::server_dir(&r.dir, &format!("shutdown{signal}"));
        let port = servers::free_port();
        let ini = std::fs::read_to_string(r.dir.join("pgbouncer/pgbouncer.ini")).unwrap();
        let path = dir.join("pgbouncer.ini");
        std::fs::write(&path, with_option(&ini, "listen_port", &port.to_string())).unwrap();
        servers::give_to_server_user(&path);
        let mut pgb = Pgbouncer::start(&r.bins, &path, port, &dir.join("pgbouncer.log"));
        // A transaction that is still running when the signal comes.
        let client = {
            let (pg_bin, password) = (r.bins.pg_bin.clone(), PASSWORD);
            std::thread::spawn(move || {
                servers::client(
                    &pg_bin,
                    port,
                    "appdb",
                    "app_user",
                    password,
                    "begin; select pg_sleep(3); select 42; commit;",
                )
            })
        };
        // Signal only once the server runs it (a loaded machine may take a while to connect).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while r.pg.query(
            "postgres",
            "select count(*) from pg_stat_activity where query like 'begin; select pg_sleep(3)%'",
        ) == "0"
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the transaction never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let exited = pgb.signal_and_wait(signal, std::time::Duration::from_secs(15));
        let out = client.join().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            exited,
            "PgBouncer did not exit on {signal}:\n{}",
            pgb.log_text()
        );
        assert_eq!(out.status.success(), survives, "{signal}: {said}");
        if survives {
            assert!(said.contains("42"), "{said}");
        }
    }
}
