//! PRE006–PRE011: each fires on its kind's unsafe setting and not on poolstack's defaults.
use crate::diag::Severity;
use crate::rules::testing;

fn stack(pgbouncer: &str, app: &str) -> String {
    format!(
        "[stack]\nname = \"t\"\n[postgres]\nversion = 16\n[pgbouncer]\n{pgbouncer}\npool_mode = \"transaction\"\n\
         [[databases]]\nname = \"app\"\n[[users]]\nname = \"app\"\npassword = {{ env = \"APP_PASSWORD\" }}\n\
         [[apps]]\nname = \"api\"\ndatabase = \"app\"\nuser = \"app\"\n{app}\n"
    )
}

#[test]
fn pre010_fires_on_asyncpg_statement_cache_behind_pgbouncer_1_18() {
    let toml = stack(
        "version = \"1.18\"",
        "kind = \"asyncpg\"\nstatement_cache_size = 100",
    );
    let st = testing::stack(&toml);
    let d = testing::run_with_files("PRE010", &st, &[]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].severity, Severity::Error);
    assert_eq!(testing::pointed_text(&st, &d[0]), "100");
    let m = &d[0].message;
    assert!(m.contains("asyncpg, statement_cache_size = 100"), "{m}");
    assert!(m.contains("PgBouncer 1.18 (stack.toml:"), "{m}");
    assert!(
        m.contains("prepared statement \"__asyncpg_stmt_35__\" does not exist"),
        "{m}"
    );
    assert!(
        d[0].help
            .as_deref()
            .unwrap_or("")
            .contains("statement_cache_size = 0")
    );
}

#[test]
fn pre010_is_silent_on_the_safe_default_and_on_a_capable_pgbouncer() {
    // Given only the kind, asyncpg's cache is 0 behind transaction pooling.
    assert!(testing::run("PRE010", &stack("version = \"1.18\"", "kind = \"asyncpg\"")).is_empty());
    // PgBouncer 1.22 with statement tracking carries asyncpg's named statements.
    let capable = stack(
        "version = \"1.22\"\nmax_prepared_statements = 100",
        "kind = \"asyncpg\"\nstatement_cache_size = 100",
    );
    assert!(testing::run("PRE010", &capable).is_empty());
    // SQLAlchemy apps are PRE001's.
    let sqla = stack(
        "version = \"1.18\"",
        "driver = \"asyncpg\"\nstatement_cache_size = 100",
    );
    assert!(testing::run("PRE010", &sqla).is_empty());
}

#[test]
fn pre006_fires_when_django_keeps_server_side_cursors() {
    let toml = stack(
        "version = \"1.18\"",
        "kind = \"django\"\nDISABLE_SERVER_SIDE_CURSORS = false",
    );
    let st = testing::stack(&toml);
    let d = testing::run_with_files("PRE006", &st, &[]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].severity, Severity::Error);
    assert_eq!(testing::pointed_text(&st, &d[0]), "false");
    assert!(
        d[0].message
            .contains("cursor \"_django_curs_140027036677888_1\" does not exist"),
        "{}",
        d[0].message
    );
    // poolstack's default behind transaction pooling is true.
    assert!(testing::run("PRE006", &stack("version = \"1.18\"", "kind = \"django\"")).is_empty());
    // Session pooling keeps the cursor on its connection.
    let session = toml.replace("pool_mode = \"transaction\"", "pool_mode = \"session\"");
    assert!(testing::run("PRE006", &session).is_empty());
}

#[test]
fn pre011_fires_on_django_assume_role() {
    let toml = stack(
        "version = \"1.18\"",
        "kind = \"django\"\nassume_role = \"reporting\"",
    );
    let st = testing::stack(&toml);
    let d = testing::run_with_files("PRE011", &st, &[]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(testing::pointed_text(&st, &d[0]), "\"reporting\"");
    assert!(
        d[0].message.contains("runs `SET ROLE reporting`"),
        "{}",
        d[0].message
    );
    assert!(testing::run("PRE011", &stack("version = \"1.18\"", "kind = \"django\"")).is_empty());
}

#[test]
fn pre007_fires_on_rails_prepared_statements_unless_pgbouncer_and_rails_carry_them() {
    let toml = stack(
        "version = \"1.18\"",
        "kind = \"rails\"\nprepared_statements = true",
    );
    let st = testing::stack(&toml);
    let d = testing::run_with_files("PRE007", &st, &[]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(testing::pointed_text(&st, &d[0]), "true");
    assert!(
        d[0].message
            .contains("PG::DuplicatePstatement: ERROR:  prepared statement \"a1\" already exists"),
        "{}",
        d[0].message
    );
    assert!(testing::run("PRE010", &toml).is_empty());
    // Rails 8.1 behind PgBouncer 1.22 with statement tracking: carried.
    let capable = stack(
        "version = \"1.22\"\nmax_prepared_statements = 100",
        "kind = \"rails\"\nprepared_statements = true",
    );
    assert!(testing::run("PRE007", &capable).is_empty());
    // Rails 8.0 frees them with SQL DEALLOCATE: still broken.
    let old = capable.replace("kind = \"rails\"", "kind = \"rails\"\nversion = \"8.0\"");
    let d = testing::run("PRE007", &old);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("SQL `DEALLOCATE`"),
        "{}",
        d[0].message
    );
    // poolstack's default behind transaction pooling is false.
    assert!(testing::run("PRE007", &stack("version = \"1.18\"", "kind = \"rails\"")).is_empty());
}

#[test]
fn pre008_fires_on_rails_advisory_locks() {
    let toml = stack(
        "version = \"1.18\"",
        "kind = \"rails\"\nadvisory_locks = true",
    );
    let d = testing::run("PRE008", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].severity, Severity::Warning);
    assert!(
        d[0].message
            .contains("ConcurrentMigrationError: Failed to release advisory lock")
    );
    assert!(testing::run("PRE008", &stack("version = \"1.18\"", "kind = \"rails\"")).is_empty());
}

#[test]
fn pre011_fires_on_rails_variables() {
    let toml = stack(
        "version = \"1.18\"",
        "kind = \"rails\"\nvariables = { statement_timeout = \"5s\" }",
    );
    let d = testing::run("PRE011", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("SET SESSION statement_timeout = 5s"),
        "{}",
        d[0].message
    );
}

#[test]
fn pre009_prisma_flag_against_pgbouncer() {
    // Prisma 6 without pgbouncer=true in front of PgBouncer 1.18.
    let off = stack(
        "version = \"1.18\"",
        "kind = \"prisma\"\nversion = \"6\"\npgbouncer = false",
    );
    let st = testing::stack(&off);
    let d = testing::run_with_files("PRE009", &st, &[]);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(testing::pointed_text(&st, &d[0]), "false");
    assert!(
        d[0].message
            .contains("prepared statement \"s0\" already exists")
    );
    // poolstack's default there is true.
    let dflt = stack("version = \"1.18\"", "kind = \"prisma\"\nversion = \"6\"");
    assert!(testing::run("PRE009", &dflt).is_empty());
    // pgbouncer=true in front of 1.21 with statement tracking.
    let on = stack(
        "version = \"1.21\"\nmax_prepared_statements = 100",
        "kind = \"prisma\"\nversion = \"6\"\npgbouncer = true",
    );
    let d = testing::run("PRE009", &on);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("\"PGBOUNCER_3\" does not exist"));
    // There poolstack's default is false; and Prisma 7 has no flag.
    let dflt = stack(
        "version = \"1.21\"\nmax_prepared_statements = 100",
        "kind = \"prisma\"\nversion = \"6\"",
    );
    assert!(testing::run("PRE009", &dflt).is_empty());
    assert!(testing::run("PRE009", &stack("version = \"1.18\"", "kind = \"prisma\"")).is_empty());
}

#[test]
fn pre010_psycopg_pool_needs_libpq_17_too() {
    let toml = stack(
        "version = \"1.22\"\nmax_prepared_statements = 100",
        "kind = \"psycopg-pool\"\nprepare_threshold = 5",
    );
    let d = testing::run("PRE010", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("declares no `libpq`"),
        "{}",
        d[0].message
    );
    assert!(d[0].message.contains("\"_pg3_0\" already exists"));
    let ok = toml.replace("prepare_threshold = 5", "prepare_threshold = 5\nlibpq = 17");
    assert!(testing::run("PRE010", &ok).is_empty());
    let none = toml.replace("prepare_threshold = 5", "prepare_threshold = \"none\"");
    assert!(testing::run("PRE010", &none).is_empty());
}

#[test]
fn pre010_fires_on_pgx_describe_exec_whatever_the_pgbouncer() {
    // Even PgBouncer 1.24 with max_prepared_statements > 0 does not carry the unnamed statement
    // between describe_exec's two round trips.
    for pgb in [
        "version = \"1.18\"",
        "version = \"1.24\"\nmax_prepared_statements = 200",
    ] {
        let toml = stack(
            pgb,
            "kind = \"pgx\"\ndefault_query_exec_mode = \"describe_exec\"",
        );
        let st = testing::stack(&toml);
        let d = testing::run_with_files("PRE010", &st, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(testing::pointed_text(&st, &d[0]), "\"describe_exec\"");
        let m = &d[0].message;
        assert!(m.contains("two round trips"), "{m}");
        assert!(
            m.contains("unnamed prepared statement does not exist (SQLSTATE 26000)"),
            "{m}"
        );
    }
    // exec, cache_describe (one round trip) and simple_protocol are silent.
    for mode in ["exec", "cache_describe", "simple_protocol"] {
        let toml = stack(
            "version = \"1.18\"",
            &format!("kind = \"pgx\"\ndefault_query_exec_mode = \"{mode}\""),
        );
        assert!(testing::run("PRE010", &toml).is_empty(), "{mode}");
    }
    // Session pooling keeps the server connection between the round trips.
    let session = "[stack]\nname = \"t\"\n[postgres]\nversion = 16\n[pgbouncer]\nversion = \"1.18\"\npool_mode = \"session\"\n\
         [[databases]]\nname = \"app\"\n[[users]]\nname = \"app\"\npassword = { env = \"APP_PASSWORD\" }\n\
         [[apps]]\nname = \"api\"\ndatabase = \"app\"\nuser = \"app\"\nkind = \"pgx\"\ndefault_query_exec_mode = \"describe_exec\"\n";
    assert!(testing::run("PRE010", session).is_empty());
}

#[test]
fn pre010_django_on_psycopg_says_it_as_psycopg_pool_does() {
    let pgb = "version = \"1.22\"\nmax_prepared_statements = 100";
    let toml = stack(pgb, "kind = \"django\"\nprepare_threshold = 5");
    let d = testing::run("PRE010", &toml);
    assert_eq!(d.len(), 1, "{d:?}");
    let m = &d[0].message;
    assert!(
        m.contains("(Django on psycopg, prepare_threshold = 5)"),
        "{m}"
    );
    assert!(m.contains("\"_pg3_0\" already exists"), "{m}");
    let help = d[0].help.as_deref().unwrap_or_default();
    assert!(
        help.contains("set prepare_threshold = \"none\" for `api` (DATABASES OPTIONS"),
        "{help}"
    );
    // The psycopg-pool app gets the same fact in the same words, with its own way to pass None.
    let pool = stack(pgb, "kind = \"psycopg-pool\"\nprepare_threshold = 5");
    let p = testing::run("PRE010", &pool);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(
        p[0].message.replace("psycopg_pool,", "Django on psycopg,"),
        d[0].message
    );
    // Django's own default (None) and libpq 17 are clean.
    assert!(testing::run("PRE010", &stack(pgb, "kind = \"django\"")).is_empty());
    let libpq = toml.replace("prepare_threshold = 5", "prepare_threshold = 5\nlibpq = 17");
    assert!(testing::run("PRE010", &libpq).is_empty());
}
