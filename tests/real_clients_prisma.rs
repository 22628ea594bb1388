//! Real Prisma 7 (its pg driver adapter) through a rendered stack on real PgBouncer 1.18
//! (transaction pooling) and PostgreSQL, as tests/real_clients.rs does for the other kinds.
//!
//! Prisma is installed by `.ci/run` in tests/clients/prisma: `npm ci --ignore-scripts` from the
//! committed lockfile, then `npm run generate` (the client from prisma/schema.prisma). In CI
//! (`CI=true`) a missing client fails the test; elsewhere it is skipped loudly.
//!
//! What cannot run here: Prisma 6 (its query engine, a native library, and Prisma's schema engine
//! come only from Prisma's own download server, which no package registry mirrors), so PRE009's
//! `s0` case and `prisma migrate deploy` through DIRECT_URL are not proved by a real client.

mod support;

use std::process::Command;
use support::clients::*;
use support::stack::{PASSWORD, Running, start};

/// Whether tests/clients/prisma has Prisma installed and its client generated.
fn prisma_ready() -> bool {
    let ok = node_runs(
        &clients_dir().join("prisma"),
        "const { Prisma } = require('@prisma/client'); require('@prisma/adapter-pg'); \
         if (!Prisma.ModelName || !Prisma.ModelName.Item) process.exit(1)",
    );
    installed(
        ok,
        "node cannot load a generated Prisma client",
        "run `npm ci --ignore-scripts && npm run generate` in tests/clients/prisma",
    )
}

/// The workload with `args` (`setup`, `DB_…=value`, `statementNames=on`) on the rendered .env.
fn prisma(r: &Running, args: &[&str]) -> Command {
    let mut c = Command::new("node");
    c.arg(clients_dir().join("prisma/workload.js"))
        .arg(r.dir.join(".env"))
        .args(args);
    c
}

#[test]
fn prisma7_rendered_env_runs_within_the_budget_and_named_statements_break() {
    if !prisma_ready() {
        return;
    }
    // Prisma's latest major (7) with a pool smaller than node-postgres' default of 10, so that
    // PgBouncer's count of the app's clients shows the rendered DB_POOL_MAX is what bounds them.
    let e = entries("kind = \"prisma\"\nmax = 4");
    let Some(r) = start(&spec(&e)) else { return };
    let (budget, codes) = budget(&r);
    for code in ["PRE009", "PRE010", "NET004", "CON001", "CON002"] {
        assert!(!codes.contains(&code), "{code} fired: {codes:?}");
    }
    let app_connections = app_connections(&r);
    assert_eq!(app_connections, 4, "max 4 × 1 PrismaClient × 1 process");
    // Prisma 7 has no pgbouncer flag: the URL is plain, the pool size is DB_POOL_MAX.
    let url = env_value(&r, "DATABASE_URL");
    assert!(!url.contains('?'), "{url}");
    assert_eq!(env_value(&r, "DB_POOL_MAX"), "4");
    assert!(
        env_value(&r, "DIRECT_URL").contains(&format!(":{}/appdb", r.pg.port)),
        "DIRECT_URL goes to PostgreSQL itself"
    );

    // The schema through DIRECT_URL, past PgBouncer (what `prisma migrate deploy` does; its
    // schema engine cannot be installed here, so the workload applies the migration itself).
    let out = prisma(&r, &["setup"])
        .env("IT_APP_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("\"errors\":0"),
        "setup: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        r.pg.query("appdb", "select to_regclass('public.\"Item\"') is not null"),
        "t"
    );

    // What poolstack renders: model queries and interactive transactions, 0 errors; PgBouncer
    // sees at most the app's CON001 term, PostgreSQL at most CON002's budget.
    let good = run_workload(&r, prisma(&r, &[]));
    eprintln!("rendered: {good:?}");
    assert_eq!(good.errors, 0, "{good:?}");
    assert_eq!(good.ok, 40 * 30);
    assert!(
        good.peak > 0 && good.peak <= budget,
        "{good:?} budget {budget}"
    );
    assert!(
        good.peak_clients > 0 && good.peak_clients <= app_connections,
        "{good:?} app connections {app_connections}"
    );
    // Interactive transactions committed: 10 rows per worker.
    assert_eq!(
        r.pg.query("appdb", "select count(*) from \"Item\""),
        (40 * 10).to_string()
    );

    // The adapter prepares nothing by name, which is why PRE009 wants no flag for Prisma 7: this
    // workload naming its statements (PrismaPg's statementNameGenerator) breaks on 1.18.
    let bad = run_workload(&r, prisma(&r, &["statementNames=on"]));
    eprintln!("named statements: {bad:?}");
    assert!(bad.errors > 0, "{bad:?}");
    assert!(
        bad.first_error.contains("prepared statement \"s")
            && (bad.first_error.contains("already exists")
                || bad.first_error.contains("does not exist")),
        "{bad:?}"
    );
}
