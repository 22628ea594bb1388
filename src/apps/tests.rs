//! The kinds through the rules: budgets (CON001/CON003/CON006), TMO001, and resolution.

use crate::rules::testing;

fn stack(pgbouncer: &str, app: &str) -> String {
    format!(
        "[stack]\nname = \"t\"\n[postgres]\nversion = 16\nmemory = \"4GB\"\n{pgbouncer}\n\
         [[databases]]\nname = \"app\"\n[[users]]\nname = \"app\"\npassword = {{ env = \"APP_PASSWORD\" }}\n\
         [[apps]]\nname = \"api\"\ndatabase = \"app\"\nuser = \"app\"\n{app}\n"
    )
}

const PGB: &str =
    "[pgbouncer]\nversion = \"1.18\"\npool_mode = \"transaction\"\ndefault_pool_size = 20";

#[test]
fn every_kind_has_a_unique_name_and_its_keys_are_not_common_keys() {
    let mut names = super::names();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), super::KINDS.len());
    for k in super::KINDS {
        for d in k.keys() {
            assert!(
                !super::COMMON_KEYS.contains(&d.name),
                "{}: {}",
                k.name(),
                d.name
            );
        }
    }
}

#[test]
fn con001_counts_asyncpg_max_size_per_process() {
    // 12 processes × asyncpg's max_size 10 = 120 > PgBouncer's max_client_conn 100.
    let toml = stack(PGB, "kind = \"asyncpg\"\nprocesses = 12");
    let d = testing::run("CON001", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    let m = &d[0].message;
    assert!(
        m.contains("`api` 1 replica × 12 processes × (10) = 120"),
        "{m}"
    );
    assert!(m.contains("(replicas × processes × (max_size))"), "{m}");
    assert!(m.contains("`api` max_size 10 (asyncpg's own)"), "{m}");
    // max_size 8: 96 fits.
    let fits = stack(PGB, "kind = \"asyncpg\"\nprocesses = 12\nmax_size = 8");
    assert!(testing::run("CON001", &fits).is_empty());
}

#[test]
fn psycopg_pool_max_size_defaults_to_min_size_in_the_budget() {
    // No PgBouncer: 30 processes × max_size (= min_size 4) = 120 > 100 − 3 reserved.
    let pg = "max_connections = 100";
    let toml = stack(pg, "kind = \"psycopg-pool\"\nprocesses = 30");
    let d = testing::run("CON003", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("1 × 30 × (4)"), "{}", d[0].message);
    assert!(
        d[0].message
            .contains("replicas × processes × (max_size) per app"),
        "{}",
        d[0].message
    );
    let small = stack(
        pg,
        "kind = \"psycopg-pool\"\nprocesses = 30\nmin_size = 1\nmax_size = 2",
    );
    assert!(testing::run("CON003", &small).is_empty());
}

#[test]
fn con006_uses_the_kinds_pool() {
    let toml = stack(PGB, "kind = \"asyncpg\"\nmax_size = 25");
    let st = testing::stack(&toml);
    let d = testing::run_with_files("CON006", &st, &[]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(testing::pointed_text(&st, &d[0]), "25");
    assert!(
        d[0].message.contains("may hold 25 connections"),
        "{}",
        d[0].message
    );
    assert!(testing::run("CON006", &stack(PGB, "kind = \"asyncpg\"")).is_empty());
}

#[test]
fn tmo001_asks_the_kind_for_its_idle_keep_time() {
    let pgb = format!("{PGB}\n[pgbouncer.settings]\nclient_idle_timeout = 120");
    // asyncpg keeps idle connections 300 s by default and never checks them.
    let d = testing::run("TMO001", &stack(&pgb, "kind = \"asyncpg\""));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("max_inactive_connection_lifetime 5min (asyncpg's own)"),
        "{}",
        d[0].message
    );
    assert!(
        d[0].help
            .as_deref()
            .unwrap_or("")
            .contains("set max_inactive_connection_lifetime below 2min")
    );
    let shorter = stack(
        &pgb,
        "kind = \"asyncpg\"\nmax_inactive_connection_lifetime = 60",
    );
    assert!(testing::run("TMO001", &shorter).is_empty());
    // psycopg_pool keeps min_size connections forever; check = true makes that safe.
    let d = testing::run("TMO001", &stack(&pgb, "kind = \"psycopg-pool\""));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].help
            .as_deref()
            .unwrap_or("")
            .contains("set check = true")
    );
    let checked = stack(&pgb, "kind = \"psycopg-pool\"\ncheck = true");
    assert!(testing::run("TMO001", &checked).is_empty());
}

#[test]
fn safe_defaults_follow_the_pool_mode() {
    let tx = testing::stack(&stack(PGB, "kind = \"asyncpg\""));
    let s = tx.apps[0].fw().get("statement_cache_size").unwrap();
    assert_eq!(s.value, super::Val::Int(0));
    let session = testing::stack(&stack(
        &PGB.replace("transaction", "session"),
        "kind = \"asyncpg\"",
    ));
    let s = session.apps[0].fw().get("statement_cache_size").unwrap();
    assert_eq!(s.value, super::Val::Int(100));
    let pp = testing::stack(&stack(PGB, "kind = \"psycopg-pool\"\nmin_size = 2"));
    let max = pp.apps[0].fw().get("max_size").unwrap();
    assert_eq!(max.value, super::Val::Int(2));
    assert!(matches!(max.origin, crate::stack::Origin::Derived { .. }));
}

#[test]
fn readme_has_the_table_of_kinds() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_default();
    assert!(
        readme.contains(&super::markdown_table()),
        "README's table of kinds differs from src/apps; it should hold:\n{}",
        super::markdown_table()
    );
}

#[test]
fn django_counts_threads_or_its_pool() {
    let toml = stack(PGB, "kind = \"django\"\nprocesses = 13\nthreads = 8");
    let d = testing::run("CON001", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("× (8) = 104"), "{}", d[0].message);
    assert!(d[0].message.contains("(replicas × processes × (threads))"));
    // With Django's pool, the pool's size counts, not the threads.
    let pooled = stack(
        PGB,
        "kind = \"django\"\nprocesses = 13\nthreads = 8\npool = true\npool_min_size = 2",
    );
    assert!(testing::run("CON001", &pooled).is_empty());
    let st = testing::stack(&pooled);
    assert_eq!(st.apps[0].max_connections(), Some(26));
}

#[test]
fn tmo001_reads_django_conn_max_age_and_health_checks() {
    let pgb = format!("{PGB}\n[pgbouncer.settings]\nclient_idle_timeout = 300");
    let forever = stack(&pgb, "kind = \"django\"\nCONN_MAX_AGE = \"none\"");
    let d = testing::run("TMO001", &forever);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("CONN_MAX_AGE none (forever)"),
        "{}",
        d[0].message
    );
    let checked = stack(
        &pgb,
        "kind = \"django\"\nCONN_MAX_AGE = \"none\"\nCONN_HEALTH_CHECKS = true",
    );
    assert!(testing::run("TMO001", &checked).is_empty());
    // Django's own CONN_MAX_AGE 0 closes the connection after each request.
    assert!(testing::run("TMO001", &stack(&pgb, "kind = \"django\"")).is_empty());
}

#[test]
fn node_postgres_counts_max_times_pool_objects() {
    let toml = stack(
        PGB,
        "kind = \"node-postgres\"\nprocesses = 6\nmax = 10\npools = 2",
    );
    let d = testing::run("CON001", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("6 processes × (10 × 2) = 120"),
        "{}",
        d[0].message
    );
    let one = stack(PGB, "kind = \"node-postgres\"\nprocesses = 6");
    assert!(testing::run("CON001", &one).is_empty());
    // TMO001: idleTimeoutMillis 10000 is below a 60 s client_idle_timeout; 0 (forever) is not.
    let pgb = format!("{PGB}\n[pgbouncer.settings]\nclient_idle_timeout = 60");
    assert!(testing::run("TMO001", &stack(&pgb, "kind = \"node-postgres\"")).is_empty());
    let forever = stack(&pgb, "kind = \"node-postgres\"\nidleTimeoutMillis = 0");
    assert_eq!(testing::run("TMO001", &forever).len(), 1);
}

#[test]
fn pgx_pool_size_follows_the_declared_cpus_and_its_exec_mode_is_safe() {
    let st = testing::stack(&stack(PGB, "kind = \"pgx\"\ncpus = 8"));
    assert_eq!(st.apps[0].max_connections(), Some(8));
    let st = testing::stack(&stack(PGB, "kind = \"pgx\""));
    assert_eq!(st.apps[0].max_connections(), Some(4));
    assert!(testing::run("PRE010", &stack(PGB, "kind = \"pgx\"")).is_empty());
    let cached = stack(
        PGB,
        "kind = \"pgx\"\ndefault_query_exec_mode = \"cache_statement\"",
    );
    let d = testing::run("PRE010", &cached);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("\"stmtcache_…\" does not exist (SQLSTATE 26000)")
    );
}

#[test]
fn jdbc_hikari_prepare_threshold_and_old_pgjdbc() {
    let st = testing::stack(&stack(PGB, "kind = \"jdbc-hikari\"\ndataSources = 2"));
    assert_eq!(st.apps[0].max_connections(), Some(20));
    // pgjdbc's 0 disables server-side prepares: poolstack's default behind transaction pooling.
    assert!(testing::run("PRE010", &stack(PGB, "kind = \"jdbc-hikari\"")).is_empty());
    let five = stack(PGB, "kind = \"jdbc-hikari\"\nprepareThreshold = 5");
    let d = testing::run("PRE010", &five);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("prepared statement \"S_1\" does not exist")
    );
    // pgjdbc 42.7.4 sends extra_float_digits in the startup packet: refused by a PgBouncer
    // whose own ignore_startup_parameters lacks it (unset, poolstack lists it itself).
    let old = stack(
        &format!("{PGB}\n[pgbouncer.settings]\nignore_startup_parameters = \"options\""),
        "kind = \"jdbc-hikari\"\npgjdbc_version = \"42.7.4\"",
    );
    let d = testing::run("NET004", &old);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message
            .contains("unsupported startup parameter: extra_float_digits")
    );
    assert!(testing::run("NET004", &stack(PGB, "kind = \"jdbc-hikari\"")).is_empty());
}

#[test]
fn prisma_6_writes_its_pool_into_the_url_and_counts_connection_limit() {
    let st = testing::stack(&stack(
        PGB,
        "kind = \"prisma\"\nversion = \"6\"\ncpus = 4\nclients = 2",
    ));
    let app = &st.apps[0];
    // 2 × 4 + 1 = 9 per PrismaClient, two clients.
    assert_eq!(app.max_connections(), Some(18));
    let url = app
        .kind()
        .env(app)
        .into_iter()
        .find(|l| l.name == "DATABASE_URL")
        .unwrap()
        .value;
    assert!(
        url.ends_with("/app?connection_limit=9&pool_timeout=10&pgbouncer=true"),
        "{url}"
    );
    // Prisma 7 counts the adapter's max.
    let st = testing::stack(&stack(PGB, "kind = \"prisma\""));
    assert_eq!(st.apps[0].max_connections(), Some(10));
}

#[test]
fn tmo001_rails_idle_timeout_and_8_1_keepalive() {
    let pgb = format!("{PGB}\n[pgbouncer.settings]\nclient_idle_timeout = 120");
    // Rails 8.0: the reaper closes idle connections after idle_timeout 300 s ≥ 120 s.
    let d = testing::run(
        "TMO001",
        &stack(&pgb, "kind = \"rails\"\nversion = \"8.0\""),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("idle_timeout 5min"),
        "{}",
        d[0].message
    );
    let short = stack(
        &pgb,
        "kind = \"rails\"\nversion = \"8.0\"\nidle_timeout = 60",
    );
    assert!(testing::run("TMO001", &short).is_empty());
    // Rails 8.1 pings idle connections every keepalive (600 s by default).
    let d = testing::run("TMO001", &stack(&pgb, "kind = \"rails\""));
    assert_eq!(d.len(), 1, "{d:?}");
    let pinged = stack(&pgb, "kind = \"rails\"\nkeepalive = 60");
    assert!(testing::run("TMO001", &pinged).is_empty());
}

#[test]
fn an_app_carries_its_kinds_settings_only() {
    use super::AppKind;
    let st = testing::stack(&stack(PGB, "kind = \"asyncpg\"\nmax_size = 7"));
    let app = &st.apps[0];
    assert_eq!(app.kind().name(), "asyncpg");
    assert!(app.sqlalchemy().is_none());
    assert!(app.fw().get("max_size").is_some());
    // Asked about another kind's app, SQLAlchemy's kind gives that kind's answer, not its own
    // (there are no SQLAlchemy settings to read).
    let per = super::sqlalchemy::SqlAlchemy.per_process(app);
    assert_eq!((per.formula, per.connections), ("max_size", Some(7)));
    let lines = |v: Vec<super::EnvLine>| {
        v.into_iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        lines(super::sqlalchemy::SqlAlchemy.env(app)),
        lines(app.kind().env(app))
    );
    let sqla = testing::stack(&stack(PGB, "pool_size = 3"));
    let app = &sqla.apps[0];
    assert!(app.fw().0.is_empty());
    assert_eq!(app.sqlalchemy().map(|s| s.pool_size.value), Some(3));
    assert_eq!(app.kind().per_process(app).connections, Some(13));
}
