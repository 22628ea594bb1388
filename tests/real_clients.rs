//! Real clients of each kind through a rendered stack on real PgBouncer 1.18 (transaction
//! pooling) and PostgreSQL: the workload a rule says breaks really fails with the quoted error,
//! the configuration poolstack renders for the kind runs it with 0 errors, and PostgreSQL never
//! sees more server connections than the budget (CON002) computed.
//!
//! The Python clients are installed by `.ci/run` (pinned pip installs), node-postgres by `npm ci`
//! (tests/clients/node); the shared harness is tests/support/clients.rs. In CI (`CI=true`) a missing
//! client fails the test; elsewhere it is skipped loudly.

mod support;

use std::process::Command;
use support::clients::*;
use support::stack::{Running, start};

/// Run the workload for `kind` (the Python one, or node-postgres') against the running stack.
fn workload(r: &Running, kind: &str, overrides: &[&str]) -> Outcome {
    let clients = clients_dir();
    let mut cmd = if kind == "node-postgres" {
        let mut c = Command::new("node");
        c.arg(clients.join("node/workload.js"));
        c
    } else {
        let mut c = Command::new("python3");
        c.arg(clients.join("python_workload.py")).arg(kind);
        c
    };
    cmd.arg(r.dir.join(".env")).args(overrides);
    run_workload(r, cmd)
}

#[test]
fn asyncpg_statement_cache_breaks_and_the_rendered_env_does_not() {
    if !python_has("asyncpg") {
        return;
    }
    let e = entries("kind = \"asyncpg\"\nmin_size = 2\nmax_size = 5");
    let Some(r) = start(&spec(&e)) else { return };
    let (budget, codes) = budget(&r);
    assert!(!codes.contains(&"PRE010"), "{codes:?}");
    // What PRE010 says breaks: asyncpg's own statement cache through transaction pooling.
    let bad = workload(&r, "asyncpg", &["DB_STATEMENT_CACHE_SIZE=100"]);
    eprintln!("unsafe: {bad:?}");
    assert!(bad.errors > 0, "{bad:?}");
    assert!(
        bad.first_error
            .contains("prepared statement \"__asyncpg_stmt_"),
        "{bad:?}"
    );
    // What poolstack renders: 0 errors, within the budget.
    let good = workload(&r, "asyncpg", &[]);
    eprintln!("rendered: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 40 * 30);
    assert!(
        good.peak > 0 && good.peak <= budget,
        "{good:?} budget {budget}"
    );
}

#[test]
fn psycopg_pool_prepare_threshold_breaks_and_the_rendered_env_does_not() {
    if !python_has("psycopg_pool") {
        return;
    }
    let e = entries("kind = \"psycopg-pool\"\nmin_size = 2\nmax_size = 5");
    let Some(r) = start(&spec(&e)) else { return };
    let (budget, codes) = budget(&r);
    assert!(!codes.contains(&"PRE010"), "{codes:?}");
    // psycopg's 0 prepares every query: `_pg3_N` statements through transaction pooling.
    let bad = workload(&r, "psycopg-pool", &["DB_PREPARE_THRESHOLD=0"]);
    eprintln!("unsafe: {bad:?}");
    assert!(bad.errors > 0, "{bad:?}");
    assert!(bad.first_error.contains("_pg3_"), "{bad:?}");
    let good = workload(&r, "psycopg-pool", &[]);
    eprintln!("rendered: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 40 * 30);
    assert!(
        good.peak > 0 && good.peak <= budget,
        "{good:?} budget {budget}"
    );
}

#[test]
fn django_server_side_cursors_break_and_the_rendered_env_does_not() {
    if !python_has("django") || !python_has("psycopg") {
        return;
    }
    let e = entries("kind = \"django\"\nthreads = 8");
    let Some(r) = start(&spec(&e)) else { return };
    let (budget, codes) = budget(&r);
    assert!(!codes.contains(&"PRE006"), "{codes:?}");
    // What PRE006 says breaks: Django's own DISABLE_SERVER_SIDE_CURSORS = False.
    let bad = workload(&r, "django", &["DB_DISABLE_SERVER_SIDE_CURSORS=false"]);
    eprintln!("unsafe: {bad:?}");
    assert!(bad.errors > 0, "{bad:?}");
    assert!(
        bad.first_error.contains("\"_django_curs_") && bad.first_error.contains("does not exist"),
        "{bad:?}"
    );
    let good = workload(&r, "django", &[]);
    eprintln!("rendered: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 8 * 10);
    assert!(
        good.peak > 0 && good.peak <= budget,
        "{good:?} budget {budget}"
    );
    // The rendered DIRECT_DATABASE_URL reaches PostgreSQL itself, where sessions last: the
    // server-side cursors that break through PgBouncer work, and migrations run. One
    // connection, as a migration takes (the budget counts one per app).
    let direct = env_value(&r, "DIRECT_DATABASE_URL");
    assert!(
        direct.ends_with(&format!(":{}/appdb", r.pg.port)),
        "{direct}"
    );
    let url = format!("DATABASE_URL={direct}");
    let session = workload(
        &r,
        "django",
        &[&url, "DB_DISABLE_SERVER_SIDE_CURSORS=false", "THREADS=1"],
    );
    assert_eq!((session.ok, session.errors), (10, 0), "{session:?}");
    // What CAT002 says Django refuses (in a hand-written .env; an input error in a manifest): its
    // pool with persistent connections. Django really raises the quoted error.
    let refused = workload(
        &r,
        "django",
        &["DB_POOL=true", "DB_CONN_MAX_AGE=600", "THREADS=1"],
    );
    assert_eq!(refused.ok, 0, "{refused:?}");
    assert!(
        refused
            .first_error
            .contains("Pooling doesn't support persistent connections."),
        "{refused:?}"
    );
    let hand = tempfile::tempdir().unwrap();
    std::fs::write(
        hand.path().join(".env"),
        format!(
            "DATABASE_URL={}\nDB_DISABLE_SERVER_SIDE_CURSORS=true\nDB_POOL=true\nDB_CONN_MAX_AGE=600\n",
            env_value(&r, "DATABASE_URL")
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .args(["check", "--format", "json"])
        .arg(r.dir.join("pgbouncer/pgbouncer.ini"))
        .arg(hand.path().join(".env"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("CAT002")
            && report.contains("Pooling doesn't support persistent connections."),
        "{report}"
    );
    let migrated = workload(&r, "django", &[&url, "MIGRATE=true"]);
    assert_eq!((migrated.ok, migrated.errors), (1, 0), "{migrated:?}");
    let tables = r.pg.query(
        "appdb",
        "select count(*) from pg_tables where tablename = 'django_migrations'",
    );
    assert_eq!(tables.trim(), "1", "{tables}");
}

/// Whether tests/clients/node has its locked node-postgres installed (`npm ci`).
fn node_has_pg() -> bool {
    installed(
        node_runs(&clients_dir().join("node"), "require('pg')"),
        "node cannot load pg",
        "run `npm ci` in tests/clients/node",
    )
}

#[test]
fn node_postgres_statement_timeout_is_refused_and_the_rendered_env_runs() {
    if !node_has_pg() {
        return;
    }
    let e = entries("kind = \"node-postgres\"\nmax = 5");
    let Some(r) = start(&spec(&e)) else { return };
    let (budget, codes) = budget(&r);
    assert!(!codes.contains(&"NET004"), "{codes:?}");
    // What NET004 says breaks: statement_timeout as a Pool option is a startup parameter.
    let bad = workload(&r, "node-postgres", &["statement_timeout=5000"]);
    eprintln!("unsafe: {bad:?}");
    assert_eq!(bad.ok, 0, "{bad:?}");
    assert!(
        bad.first_error
            .contains("unsupported startup parameter: statement_timeout"),
        "{bad:?}"
    );
    // The same key in DATABASE_URL: node-postgres sends it too, and `check` of such a .env says so.
    let bad_url = workload(&r, "node-postgres", &["?statement_timeout=5000"]);
    assert_eq!(bad_url.ok, 0, "{bad_url:?}");
    assert!(
        bad_url
            .first_error
            .contains("unsupported startup parameter: statement_timeout"),
        "{bad_url:?}"
    );
    let env = std::fs::read_to_string(r.dir.join(".env")).unwrap();
    let hand = tempfile::tempdir().unwrap();
    std::fs::write(
        hand.path().join(".env"),
        env.replace("/appdb\n", "/appdb?statement_timeout=5000\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .args(["check", "--format", "json"])
        .arg(r.dir.join("pgbouncer/pgbouncer.ini"))
        .arg(hand.path().join(".env"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("NET004")
            && report.contains("unsupported startup parameter: statement_timeout"),
        "{report}"
    );
    let good = workload(&r, "node-postgres", &[]);
    eprintln!("rendered: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 40 * 30);
    assert!(
        good.peak > 0 && good.peak <= budget,
        "{good:?} budget {budget}"
    );
}
