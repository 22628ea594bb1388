//! Rendered stacks on a real PostgreSQL and a real PgBouncer (127.0.0.1, temporary directories,
//! non-default ports, stopped by PID). In CI (`CI=true`) these must run; elsewhere they skip loudly
//! when the servers are not installed.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::servers::{self, Binaries, Pgbouncer, Postgres};

struct Running {
    pg: Postgres,
    pgb: Pgbouncer,
    dir: PathBuf,
    bins: Binaries,
    _base: tempfile::TempDir,
}

/// What varies between the stacks these tests prove.
struct Spec<'a> {
    auth_type: &'a str,
    password_encryption: &'a str,
    userlist_hash: &'a str,
    hba: &'a str,
    extra_pgbouncer: &'a str,
    extra_postgres: &'a str,
    /// The [[databases]], [[users]] and [[apps]] part of the manifest.
    entries: &'a str,
}

const ONE_USER: &str = r#"
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
const FORCED_USER: &str = r#"
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

const PASSWORD: &str = "It's-a-s3cret pass";

fn manifest(spec: &Spec<'_>, pg_port: u16, pgb_port: u16, dir: &Path) -> String {
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

fn render(manifest_path: &Path) {
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
fn start(spec: &Spec<'_>) -> Option<Running> {
    let bins = servers::binaries()?;
    let base = servers::temp_base();
    let dir = servers::server_dir(base.path(), "stack");
    let pg_port = servers::free_port();
    let pgb_port = servers::free_port();
    let manifest_path = dir.join("stack.toml");
    std::fs::write(&manifest_path, manifest(spec, pg_port, pgb_port, &dir)).unwrap();
    render(&manifest_path);
    // The test harness picks PostgreSQL's port itself; the rendered fragment sets no port.
    let fragment = dir.join("postgres/conf.d/50-poolstack.conf");
    let mut pg = Postgres::start(&bins, base.path(), spec.hba, Some(&fragment));
    assert_ne!(pg.port, 0);
    // Our manifest named pg_port as PostgreSQL's port for PgBouncer: re-render against the real one.
    if pg.port != pg_port {
        std::fs::write(&manifest_path, manifest(spec, pg.port, pgb_port, &dir)).unwrap();
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

fn login(r: &Running, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let out = servers::client(&r.bins.pg_bin, r.pgb.port, "appdb", user, password, sql);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

const SCRAM: Spec<'static> = Spec {
    auth_type: "scram-sha-256",
    password_encryption: "scram-sha-256",
    userlist_hash: "auto",
    hba: "scram-sha-256",
    extra_pgbouncer: "",
    extra_postgres: "",
    entries: ONE_USER,
};

#[test]
fn scram_stack_logs_in_through_pgbouncer() {
    let Some(r) = start(&SCRAM) else { return };
    assert_eq!(
        login(&r, "app_user", PASSWORD, "select current_user").as_deref(),
        Ok("app_user")
    );
    assert!(
        login(&r, "app_user", "wrong", "select 1").is_err(),
        "a wrong password must fail"
    );
}

#[test]
fn md5_stack_logs_in_through_pgbouncer() {
    let spec = Spec {
        auth_type: "md5",
        password_encryption: "md5",
        hba: "md5",
        ..SCRAM
    };
    let Some(r) = start(&spec) else { return };
    assert_eq!(
        login(&r, "app_user", PASSWORD, "select current_user").as_deref(),
        Ok("app_user")
    );
    let stored = r.pg.query(
        "postgres",
        "select left(rolpassword, 3) from pg_authid where rolname = 'app_user'",
    );
    assert_eq!(stored, "md5");
}

#[test]
fn md5_auth_type_in_front_of_scram_storage_logs_in() {
    // facts.md §4a: auth_type md5 with a SCRAM secret identical to PostgreSQL's works (the client is
    // switched to SCRAM and PgBouncer passes the keys through).
    let spec = Spec {
        auth_type: "md5",
        hba: "md5",
        ..SCRAM
    };
    let Some(r) = start(&spec) else { return };
    assert_eq!(
        login(&r, "app_user", PASSWORD, "select 1").as_deref(),
        Ok("1")
    );
}

#[test]
fn plaintext_userlist_logs_in_under_scram() {
    let spec = Spec {
        userlist_hash: "plain",
        ..SCRAM
    };
    let Some(r) = start(&spec) else { return };
    assert_eq!(
        login(&r, "app_user", PASSWORD, "select 1").as_deref(),
        Ok("1")
    );
}

/// Our own reading of the rendered [pgbouncer] section (test-only: key = value lines).
fn rendered_options(ini: &str) -> BTreeMap<String, String> {
    let mut section = "";
    let mut out = BTreeMap::new();
    for line in ini.lines() {
        let t = line.trim();
        if t.starts_with(';') || t.starts_with('#') || t.is_empty() {
            continue;
        }
        if t.starts_with('[') {
            section = if t == "[pgbouncer]" { "pgbouncer" } else { "" };
            continue;
        }
        if section == "pgbouncer"
            && let Some((k, v)) = t.split_once('=')
        {
            out.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

fn same_value(rendered: &str, shown: &str) -> bool {
    if rendered == shown {
        return true;
    }
    // Integers PgBouncer parses with strtol base 0 (0777) are shown in decimal.
    if let Some(oct) = rendered.strip_prefix('0')
        && let Ok(v) = i64::from_str_radix(oct, 8)
        && shown.parse::<i64>().ok() == Some(v)
    {
        return true;
    }
    matches!((rendered.parse::<f64>(), shown.parse::<f64>()), (Ok(a), Ok(b)) if (a - b).abs() < 1e-9)
}

#[test]
fn pgbouncer_reports_every_rendered_option_and_postgres_every_rendered_parameter() {
    let Some(r) = start(&SCRAM) else { return };
    // The admin console answers SHOW CONFIG (key|value|default|changeable on 1.18).
    let show = login(&r, "app_user", PASSWORD, "SHOW CONFIG");
    let out = servers::client(
        &r.bins.pg_bin,
        r.pgb.port,
        "pgbouncer",
        "app_user",
        PASSWORD,
        "SHOW CONFIG",
    );
    assert!(
        out.status.success(),
        "SHOW CONFIG failed: {} / {show:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: BTreeMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split('|');
            Some((f.next()?.to_string(), f.next()?.to_string()))
        })
        .collect();
    let ini = std::fs::read_to_string(r.dir.join("pgbouncer/pgbouncer.ini")).unwrap();
    let rendered = rendered_options(&ini);
    assert!(rendered.len() >= 15, "{rendered:?}");
    for (k, v) in &rendered {
        let shown = live
            .get(k)
            .unwrap_or_else(|| panic!("SHOW CONFIG has no {k}"));
        assert!(
            same_value(v, shown),
            "{k}: rendered {v:?}, PgBouncer reports {shown:?}"
        );
    }

    // PostgreSQL: every rendered parameter, normalised to the parameter's unit.
    let frag = std::fs::read_to_string(r.dir.join("postgres/conf.d/50-poolstack.conf")).unwrap();
    let catalog = poolstack::catalog::postgres::PgCatalog::for_major(15).unwrap();
    let mut checked = 0;
    for line in frag
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
    {
        let (name, value) = line.split_once('=').unwrap();
        let (name, value) = (name.trim(), value.trim());
        let unquoted = value.trim_matches('\'').replace("''", "'");
        let live = r.pg.query_exact(
            "postgres",
            &format!("select setting from pg_settings where name = '{name}'"),
        );
        let param = catalog
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in catalog"));
        let expected = poolstack::catalog::postgres::parse_value(param, &unquoted).unwrap();
        let same = match expected.base {
            Some(b) => live
                .parse::<f64>()
                .map(|l| (l - b).abs() < 1e-9)
                .unwrap_or(false),
            None => live == expected.normalized || live == unquoted,
        };
        assert!(same, "{name}: rendered {value}, pg_settings says {live}");
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} parameters checked");
}

#[test]
fn under_load_every_transaction_succeeds_within_the_connection_budget() {
    let Some(r) = start(&SCRAM) else { return };
    // What CON002 counts for this stack: 1 pool × (5 + 1) = 6.
    let loaded = poolstack::manifest::load(&r.dir.join("stack.toml")).unwrap();
    let stack = poolstack::stack::resolve::resolve(&loaded, None).unwrap();
    let budget = poolstack::stack::budget::ServerConnectionBudget::of(&stack)
        .total
        .unwrap();
    assert_eq!(budget, 6);

    let bench = r.bins.pg_bin.join("pgbench");
    let init = Command::new(&bench)
        .args(["-i", "-q", "-s", "1", "-h"])
        .arg(&r.pg.socket_dir)
        .args(["-p", &r.pg.port.to_string(), "-U", "postgres", "appdb"])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    r.pg.query(
        "appdb",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app_user",
    );

    // Sample the server connections PostgreSQL sees, every 50 ms, while 50 clients hammer a pool of 5.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        let (socket, port, psql) = (
            r.pg.socket_dir.clone(),
            r.pg.port,
            r.bins.pg_bin.join("psql"),
        );
        std::thread::spawn(move || {
            let mut samples = Vec::new();
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
                    samples.push(n);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            samples
        })
    };
    let run = Command::new(&bench)
        .args([
            "-n",
            "-S",
            "-c",
            "50",
            "-j",
            "2",
            "-T",
            "5",
            "-h",
            "127.0.0.1",
            "-p",
            &r.pgb.port.to_string(),
            "-U",
            "app_user",
            "appdb",
        ])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "pgbench failed: {}\n{report}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        report.contains("number of failed transactions: 0"),
        "{report}"
    );
    let processed: u64 = report
        .lines()
        .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
        .and_then(|v| v.split('/').next()?.trim().parse().ok())
        .unwrap_or(0);
    assert!(processed > 100, "too few transactions: {report}");
    assert!(samples.len() >= 20, "too few samples: {samples:?}");
    let peak = samples.iter().copied().max().unwrap_or(0);
    assert!(peak > 0, "never saw a server connection: {samples:?}");
    assert!(
        peak <= budget,
        "PostgreSQL saw {peak} server connections, more than the budget {budget}: {samples:?}"
    );
}

/// The codes poolstack's rules report on the manifest a running stack was rendered from.
fn rule_codes(r: &Running) -> Vec<&'static str> {
    let loaded = poolstack::manifest::load(&r.dir.join("stack.toml")).unwrap();
    let stack = poolstack::stack::resolve::resolve(&loaded, None).unwrap();
    let cx = poolstack::rules::Context {
        stack: &stack,
        budget: poolstack::stack::budget::ServerConnectionBudget::of(&stack),
        files: &[],
    };
    poolstack::rules::run(&cx).iter().map(|d| d.code).collect()
}

/// Every AUT002 case that PgBouncer 1.18 and PostgreSQL 15 can show: the rule fires, and the
/// servers refuse the login — case by case (facts.md §4a).
#[test]
fn aut002_and_the_servers_agree_case_by_case() {
    let cases: &[(&str, Spec<'static>, &str)] = &[
        (
            "md5 entry with auth_type scram-sha-256",
            Spec {
                userlist_hash: "md5",
                ..SCRAM
            },
            "app_user",
        ),
        (
            "md5 entry for a role stored as SCRAM",
            Spec {
                auth_type: "md5",
                userlist_hash: "md5",
                hba: "md5",
                ..SCRAM
            },
            "app_user",
        ),
        (
            "SCRAM entry for a role stored as md5",
            Spec {
                auth_type: "md5",
                password_encryption: "md5",
                userlist_hash: "scram-sha-256",
                hba: "md5",
                ..SCRAM
            },
            "app_user",
        ),
        (
            "SCRAM entry for a forced user= pool (fresh PgBouncer)",
            Spec {
                userlist_hash: "scram-sha-256",
                entries: FORCED_USER,
                ..SCRAM
            },
            "client_user",
        ),
        (
            "SCRAM entry with auth_type plain",
            Spec {
                auth_type: "plain",
                userlist_hash: "scram-sha-256",
                ..SCRAM
            },
            "app_user",
        ),
        (
            "md5 storage under an hba method of scram-sha-256",
            Spec {
                auth_type: "md5",
                password_encryption: "md5",
                userlist_hash: "md5",
                hba: "scram-sha-256",
                ..SCRAM
            },
            "app_user",
        ),
    ];
    for (name, spec, login_as) in cases {
        let Some(r) = start(spec) else { return };
        let codes = rule_codes(&r);
        assert!(
            codes.contains(&"AUT002"),
            "{name}: AUT002 did not fire ({codes:?})"
        );
        let result = login(&r, login_as, PASSWORD, "select 1");
        assert!(result.is_err(), "{name}: AUT002 fired but the login worked");
    }
}

/// The combinations that work: the rule stays silent and the login succeeds.
#[test]
fn aut002_stays_silent_where_the_servers_accept_the_login() {
    let cases: &[(&str, Spec<'static>, &str)] = &[
        ("SCRAM everywhere", SCRAM, "app_user"),
        (
            "md5 everywhere",
            Spec {
                auth_type: "md5",
                password_encryption: "md5",
                userlist_hash: "auto",
                hba: "md5",
                ..SCRAM
            },
            "app_user",
        ),
        (
            "forced user with the derived plaintext secret",
            Spec {
                entries: FORCED_USER,
                ..SCRAM
            },
            "client_user",
        ),
    ];
    for (name, spec, login_as) in cases {
        let Some(r) = start(spec) else { return };
        let codes = rule_codes(&r);
        assert!(
            !codes.contains(&"AUT002"),
            "{name}: AUT002 fired on a working stack"
        );
        assert_eq!(
            login(&r, login_as, PASSWORD, "select 1").as_deref(),
            Ok("1"),
            "{name}"
        );
    }
}
