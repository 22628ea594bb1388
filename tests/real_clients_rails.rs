//! A real Rails client — ActiveRecord 6.1 on the pg gem (Debian's ruby-activerecord and ruby-pg,
//! installed by `.ci/run`) — through a rendered `kind = "rails"` stack on real PgBouncer 1.18
//! in transaction pooling: what PRE007 and PRE008 say breaks really fails with the errors they
//! quote, the `.env` poolstack renders runs the same traffic with 0 errors inside the budget, and
//! migrations through the direct URL keep their advisory lock.
//!
//! The workload (tests/clients/ruby/workload.rb) configures ActiveRecord the way a Rails app does
//! from what poolstack renders: the `.env` in its environment and the rendered `database.yml` as
//! config/database.yml (DATABASE_URL's keys merged over it, RAILS_MAX_THREADS as the pool),
//! WEB_CONCURRENCY workers. The stacks declare `version = "6.1"`: that is the client.
//! In CI (`CI=true`) a missing ruby or ActiveRecord fails the test; elsewhere it is skipped loudly.

mod support;

use std::path::Path;
use std::process::Command;
use support::clients::*;
use support::stack::*;

/// The app: Rails 6.1 in two Puma workers of 4 threads, with timeouts other than Rails' own (so
/// the workload shows ActiveRecord read them from the rendered `.env`); prepared_statements and
/// advisory_locks as poolstack fills them in.
const RAILS_APP: &str = "kind = \"rails\"\nversion = \"6.1\"\nprocesses = 2\npool = 4\ncheckout_timeout = 7\nidle_timeout = 120";

fn rails_installed() -> bool {
    client_installed(
        Command::new("ruby").args([
            "-e",
            "require 'active_record'; require 'pg'; exit(ActiveRecord::VERSION::STRING.start_with?('6.1') ? 0 : 1)",
        ]),
        "ruby with ActiveRecord 6.1 and the pg gem",
        "apt-get install ruby ruby-activerecord ruby-pg",
    )
}

#[derive(Debug)]
struct Outcome {
    ok: u64,
    errors: u64,
    first_error: String,
    /// Distinct error messages.
    errors_seen: Vec<String>,
    /// What ActiveRecord's adapter made of the configuration.
    prepared_statements: bool,
    advisory_locks: bool,
    pool: u64,
    /// Seconds.
    checkout_timeout: f64,
    idle_timeout: Option<f64>,
    /// The workload's stderr (the server's WARNINGs reach it through libpq).
    stderr: String,
    peaks: Peaks,
}

/// Run the Ruby workload (`queries` or `migrate`) with the stack's rendered `.env` and
/// `overrides` (see workload.rb), sampling connections.
fn workload(r: &Running, mode: &str, overrides: &[&str]) -> Outcome {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/ruby/workload.rb");
    let (out, peaks) = run_sampling(
        r,
        Command::new("ruby")
            .arg(script)
            .arg(mode)
            .arg(r.dir.join(".env"))
            .args(overrides)
            .env("IT_APP_PASSWORD", PASSWORD),
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "workload failed: {stderr}\n{text}");
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}\n{stderr}"));
    Outcome {
        ok: json["ok"].as_u64().unwrap(),
        errors: json["errors"].as_u64().unwrap(),
        first_error: json["first_error"].as_str().unwrap().to_string(),
        errors_seen: json["errors_seen"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        prepared_statements: json["prepared_statements"].as_bool().unwrap(),
        advisory_locks: json["advisory_locks"].as_bool().unwrap(),
        pool: json["pool"].as_u64().unwrap(),
        checkout_timeout: json["checkout_timeout"].as_f64().unwrap(),
        idle_timeout: json["idle_timeout"].as_f64(),
        stderr,
        peaks,
    }
}

/// The message of rule `code` on the running stack's manifest with `key` added to the app: what
/// poolstack tells a user who asks for the unsafe value.
fn message_for(r: &Running, key: &str, code: &str) -> String {
    let manifest = std::fs::read_to_string(r.dir.join("stack.toml")).unwrap();
    let unsafe_manifest =
        manifest.replace("kind = \"rails\"\n", &format!("kind = \"rails\"\n{key}\n"));
    assert_ne!(manifest, unsafe_manifest);
    let path = r.dir.join("unsafe.toml");
    std::fs::write(&path, unsafe_manifest).unwrap();
    let loaded = poolstack::manifest::load(&path).unwrap();
    let stack = poolstack::stack::resolve::resolve(&loaded, None).unwrap();
    let cx = poolstack::rules::Context {
        stack: &stack,
        budget: poolstack::stack::budget::ServerConnectionBudget::of(&stack),
        files: &[],
    };
    let diagnostics = poolstack::rules::run(&cx);
    let found: Vec<_> = diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "{code} on {key}: {diagnostics:?}");
    found[0].message.clone()
}

/// Advisory locks PostgreSQL holds for anyone (a migration's lock that was never released).
fn advisory_locks_held(r: &Running) -> u64 {
    r.pg.query(
        "appdb",
        "select count(*) from pg_locks where locktype = 'advisory' and granted",
    )
    .parse()
    .unwrap()
}

#[test]
fn rails_prepared_statements_break_and_the_rendered_env_does_not() {
    if !rails_installed() {
        return;
    }
    let e = entries(RAILS_APP);
    let Some(r) = start(&spec(&e)) else { return };
    let (budget, codes) = budget(&r);
    assert!(
        !codes.contains(&"PRE007") && !codes.contains(&"PRE008"),
        "{codes:?}"
    );
    let formula = app_connections(&r);
    assert_eq!(formula, 2 * 4, "2 workers × RAILS_MAX_THREADS 4");

    // What PRE007 says breaks: Rails' own prepared_statements = true. Each of the 8 client
    // connections prepares its first query as `a1`; PgBouncer has at most 6 server connections
    // for the pool (5 + 1 reserve), so some `a1` meets a server connection that already has one.
    let bad = workload(&r, "queries", &["prepared_statements=true"]);
    eprintln!("unsafe: {bad:?}");
    assert!(bad.prepared_statements, "{bad:?}");
    assert!(bad.errors > 0, "{bad:?}");
    let seen = "ActiveRecord::StatementInvalid: PG::DuplicatePstatement: ERROR:  prepared statement \"a1\" already exists";
    assert!(bad.errors_seen.iter().any(|m| m == seen), "{bad:?}");
    // The rule quotes exactly that.
    let message = message_for(&r, "prepared_statements = true", "PRE007");
    assert!(
        message.contains(&format!("`{seen}`")),
        "PRE007 does not quote what ActiveRecord 6.1 raises:\n{message}"
    );

    // What poolstack renders: ActiveRecord's adapter reads the URL's prepared_statements=false as
    // false (6.1 leaves it the string "false" in the config and casts it there), RAILS_MAX_THREADS
    // as the pool, the timeouts as seconds; 0 errors, within the budget and the formula.
    let good = workload(&r, "queries", &[]);
    eprintln!("rendered: {good:?}");
    assert!(
        !good.prepared_statements && !good.advisory_locks,
        "{good:?}"
    );
    assert_eq!(good.pool, 4, "{good:?}");
    assert_eq!(
        (good.checkout_timeout, good.idle_timeout),
        (7.0, Some(120.0)),
        "{good:?}"
    );
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 2 * 4 * 60, "{good:?}");
    assert!(
        good.peaks.server > 0 && good.peaks.server <= budget,
        "{good:?} budget {budget}"
    );
    assert!(
        good.peaks.clients > 0 && good.peaks.clients <= formula,
        "{good:?} formula {formula}"
    );
}

#[test]
fn rails_advisory_locks_fail_migrations_through_pgbouncer_and_the_rendered_env_does_not() {
    if !rails_installed() {
        return;
    }
    let e = entries(RAILS_APP);
    let Some(r) = start(&spec(&e)) else { return };
    // What PRE008 says breaks: Rails' own advisory_locks = true, migrating through PgBouncer
    // while requests are in flight. The migrator locks on one server connection; the requests'
    // open transactions hold that one, so the release runs on another.
    let bad = workload(&r, "migrate", &["advisory_locks=true"]);
    eprintln!("unsafe: {bad:?}");
    assert!(bad.advisory_locks, "{bad:?}");
    assert_eq!((bad.ok, bad.errors), (0, 1), "{bad:?}");
    let error = "ActiveRecord::ConcurrentMigrationError: Failed to release advisory lock";
    assert_eq!(bad.first_error, error, "{bad:?}");
    let warning = "WARNING:  you don't own a lock of type ExclusiveLock";
    assert!(bad.stderr.contains(warning), "{bad:?}");
    // The lock stays with a server connection PgBouncer keeps open: even the next `db:migrate`
    // over the direct URL is refused as concurrent.
    assert_eq!(advisory_locks_held(&r), 1);
    let direct = direct_database_url(&r);
    let blocked = workload(&r, "migrate", &[&direct]);
    eprintln!("direct after the leak: {blocked:?}");
    let refused = "ActiveRecord::ConcurrentMigrationError: Cannot run migrations because another migration process is currently running.";
    assert_eq!(
        (blocked.ok, blocked.first_error.as_str()),
        (0, refused),
        "{blocked:?}"
    );
    let message = message_for(&r, "advisory_locks = true", "PRE008");
    assert!(
        message.contains(&format!("`{warning}` then `{error}`"))
            && message.contains(&format!("`{refused}`")),
        "PRE008 does not quote what ActiveRecord 6.1 does:\n{message}"
    );

    // What poolstack renders: no advisory lock, the migration runs through PgBouncer.
    let good = workload(&r, "migrate", &[]);
    eprintln!("rendered: {good:?}");
    assert!(!good.advisory_locks, "{good:?}");
    assert_eq!((good.ok, good.errors), (1, 0), "{good:?}");
}

/// The rendered DIRECT_DATABASE_URL (migrations around PgBouncer, with the lock Rails' migrator
/// wants), as the override `DATABASE_URL="$DIRECT_DATABASE_URL"`.
fn direct_database_url(r: &Running) -> String {
    let direct = env_value(r, "DIRECT_DATABASE_URL");
    assert!(
        direct.ends_with(&format!(":{}/appdb?advisory_locks=true", r.pg.port)),
        "{direct}"
    );
    format!("DATABASE_URL={direct}")
}

#[test]
fn rails_migrations_through_the_direct_url_keep_their_advisory_lock() {
    if !rails_installed() {
        return;
    }
    let e = entries(RAILS_APP);
    let Some(r) = start(&spec(&e)) else { return };
    // `DATABASE_URL="$DIRECT_DATABASE_URL" bin/rails db:migrate`, requests in flight as above.
    let direct = direct_database_url(&r);
    let migrated = workload(&r, "migrate", &[&direct]);
    eprintln!("direct: {migrated:?}");
    assert!(migrated.advisory_locks, "{migrated:?}");
    assert_eq!((migrated.ok, migrated.errors), (1, 0), "{migrated:?}");
    assert!(!migrated.stderr.contains("WARNING"), "{migrated:?}");
    assert_eq!(advisory_locks_held(&r), 0);
}
