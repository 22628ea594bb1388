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

use std::process::Command;
use support::clients::*;
use support::stack::{Running, start};

/// The app: Rails 6.1 in two Puma workers of 4 threads, with timeouts other than Rails' own (so
/// the workload shows ActiveRecord read them from the rendered `.env`); prepared_statements and
/// advisory_locks as poolstack fills them in.
const RAILS_APP: &str = "kind = \"rails\"\nversion = \"6.1\"\nprocesses = 2\npool = 4\ncheckout_timeout = 7\nidle_timeout = 120";

fn rails_installed() -> bool {
    let ok = Command::new("ruby")
        .args([
            "-e",
            "require 'active_record'; require 'pg'; exit(ActiveRecord::VERSION::STRING.start_with?('6.1') ? 0 : 1)",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    installed(
        ok,
        "ruby cannot load ActiveRecord 6.1 and the pg gem",
        "apt-get install ruby ruby-activerecord ruby-pg, see .ci/run",
    )
}

/// What the Ruby workload reports beyond [`Outcome`]'s counts.
#[derive(Debug)]
struct Rails {
    /// Distinct error messages.
    errors_seen: Vec<String>,
    /// What ActiveRecord's adapter made of the configuration.
    prepared_statements: bool,
    advisory_locks: bool,
    pool: u64,
    /// Seconds.
    checkout_timeout: f64,
    idle_timeout: Option<f64>,
}

impl Rails {
    fn of(o: &Outcome) -> Rails {
        let j = &o.json;
        let field = |k: &str| j.get(k).unwrap_or_else(|| panic!("no {k}: {o:?}"));
        Rails {
            errors_seen: field("errors_seen")
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            prepared_statements: field("prepared_statements").as_bool().unwrap(),
            advisory_locks: field("advisory_locks").as_bool().unwrap(),
            pool: field("pool").as_u64().unwrap(),
            checkout_timeout: field("checkout_timeout").as_f64().unwrap(),
            idle_timeout: field("idle_timeout").as_f64(),
        }
    }
}

/// Run the Ruby workload (`queries` or `migrate`) with the stack's rendered `.env` and
/// `overrides` (see workload.rb), sampling connections.
fn workload(r: &Running, mode: &str, overrides: &[&str]) -> (Outcome, Rails) {
    let mut cmd = Command::new("ruby");
    cmd.arg(clients_dir().join("ruby/workload.rb"))
        .arg(mode)
        .arg(r.dir.join(".env"))
        .args(overrides);
    let o = run_workload(r, cmd);
    let rails = Rails::of(&o);
    (o, rails)
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
    let (bad, rails) = workload(&r, "queries", &["prepared_statements=true"]);
    eprintln!("unsafe: {bad:?}");
    assert!(rails.prepared_statements, "{rails:?}");
    assert!(bad.errors > 0, "{bad:?}");
    let seen = "ActiveRecord::StatementInvalid: PG::DuplicatePstatement: ERROR:  prepared statement \"a1\" already exists";
    assert!(rails.errors_seen.iter().any(|m| m == seen), "{rails:?}");
    // The rule quotes exactly that.
    let message = message_for(&r, "prepared_statements = true", "PRE007");
    assert!(
        message.contains(&format!("`{seen}`")),
        "PRE007 does not quote what ActiveRecord 6.1 raises:\n{message}"
    );

    // What poolstack renders: ActiveRecord's adapter reads the URL's prepared_statements=false as
    // false (6.1 leaves it the string "false" in the config and casts it there), RAILS_MAX_THREADS
    // as the pool, the timeouts as seconds; 0 errors, within the budget and the formula.
    let (good, rails) = workload(&r, "queries", &[]);
    eprintln!("rendered: {good:?}");
    assert!(
        !rails.prepared_statements && !rails.advisory_locks,
        "{rails:?}"
    );
    assert_eq!(rails.pool, 4, "{rails:?}");
    assert_eq!(
        (rails.checkout_timeout, rails.idle_timeout),
        (7.0, Some(120.0)),
        "{rails:?}"
    );
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 2 * 4 * 60, "{good:?}");
    assert!(
        good.peak > 0 && good.peak <= budget,
        "{good:?} budget {budget}"
    );
    assert!(
        good.peak_clients > 0 && good.peak_clients <= formula,
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
    let (bad, rails) = workload(&r, "migrate", &["advisory_locks=true"]);
    eprintln!("unsafe: {bad:?}");
    assert!(rails.advisory_locks, "{rails:?}");
    assert_eq!((bad.ok, bad.errors), (0, 1), "{bad:?}");
    let error = "ActiveRecord::ConcurrentMigrationError: Failed to release advisory lock";
    assert_eq!(bad.first_error, error, "{bad:?}");
    let warning = "WARNING:  you don't own a lock of type ExclusiveLock";
    assert!(bad.stderr.contains(warning), "{bad:?}");
    // The lock stays with a server connection PgBouncer keeps open: even the next `db:migrate`
    // over the direct URL is refused as concurrent.
    assert_eq!(advisory_locks_held(&r), 1);
    let direct = direct_database_url(&r);
    let (blocked, _) = workload(&r, "migrate", &[&direct]);
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
    let (good, rails) = workload(&r, "migrate", &[]);
    eprintln!("rendered: {good:?}");
    assert!(!rails.advisory_locks, "{rails:?}");
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
    let (migrated, rails) = workload(&r, "migrate", &[&direct]);
    eprintln!("direct: {migrated:?}");
    assert!(rails.advisory_locks, "{rails:?}");
    assert_eq!((migrated.ok, migrated.errors), (1, 0), "{migrated:?}");
    assert!(!migrated.stderr.contains("WARNING"), "{migrated:?}");
    assert_eq!(advisory_locks_held(&r), 0);
}
