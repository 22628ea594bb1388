//! Rendered stacks on a real PostgreSQL and a real PgBouncer (127.0.0.1, temporary directories,
//! non-default ports, stopped by PID). In CI (`CI=true`) these must run; elsewhere they skip loudly
//! when the servers are not installed.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use support::servers;
use support::stack::*;

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
