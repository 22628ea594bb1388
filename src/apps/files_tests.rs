//! What the kinds write besides the `.env` variables: settings files, direct migration URLs, and
//! the migration connection the budget counts for them.

use crate::rules::testing;
use crate::stack::Stack;
use std::path::Path;

fn manifest(pgbouncer: &str, apps: &str) -> String {
    format!(
        "[stack]\nname = \"t\"\n[postgres]\nversion = 16\nhost = \"db.internal\"\nport = 5433\nmemory = \"4GB\"\n{pgbouncer}\n\
         [[databases]]\nname = \"app\"\ndbname = \"app_prod\"\n[[users]]\nname = \"app\"\npassword = {{ env = \"APP_PASSWORD\" }}\n{apps}\n"
    )
}

fn app(name: &str, keys: &str) -> String {
    format!("[[apps]]\nname = \"{name}\"\ndatabase = \"app\"\nuser = \"app\"\n{keys}\n")
}

const TX: &str = "[pgbouncer]\nversion = \"1.18\"\npool_mode = \"transaction\"";
const SESSION: &str = "[pgbouncer]\nversion = \"1.18\"\npool_mode = \"session\"";

fn env_var(st: &Stack, i: usize, name: &str) -> Option<String> {
    let a = &st.apps[i];
    a.kind()
        .env(a)
        .into_iter()
        .find(|l| l.name == name)
        .map(|l| l.value)
}

fn resolve_error(toml: &str) -> String {
    let loaded = crate::manifest::parse(Path::new("stack.toml"), toml.to_string())
        .unwrap_or_else(|e| panic!("test manifest does not load: {e}"));
    match crate::stack::resolve::resolve(&loaded, None) {
        Ok(_) => panic!("resolved, but an input error was expected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn migrations_get_a_direct_url_behind_transaction_pooling_only() {
    let st = testing::stack(&manifest(TX, &app("api", "kind = \"rails\"")));
    assert_eq!(
        env_var(&st, 0, "DIRECT_DATABASE_URL").as_deref(),
        Some("postgresql://app:${APP_PASSWORD}@db.internal:5433/app_prod?advisory_locks=true")
    );
    let st = testing::stack(&manifest(TX, &app("api", "kind = \"django\"")));
    assert_eq!(
        env_var(&st, 0, "DIRECT_DATABASE_URL").as_deref(),
        Some("postgresql://app:${APP_PASSWORD}@db.internal:5433/app_prod")
    );
    let st = testing::stack(&manifest(TX, &app("api", "kind = \"prisma\"")));
    assert!(env_var(&st, 0, "DIRECT_URL").is_some());
    // Session pooling keeps the session migrations need; no PgBouncer: DATABASE_URL is direct.
    for (pgb, kind) in [
        (SESSION, "rails"),
        (SESSION, "django"),
        (SESSION, "prisma"),
        ("", "rails"),
    ] {
        let st = testing::stack(&manifest(pgb, &app("api", &format!("kind = \"{kind}\""))));
        assert_eq!(env_var(&st, 0, "DIRECT_DATABASE_URL"), None, "{kind}");
        assert_eq!(env_var(&st, 0, "DIRECT_URL"), None, "{kind}");
    }
}

#[test]
fn the_budget_counts_the_migration_connections_of_apps_that_migrate_directly() {
    // Rails (6.1+) takes its migration lock on a second connection; Django one; asyncpg none.
    let apps = [
        app("web", "kind = \"rails\""),
        app("admin", "kind = \"django\""),
        app("jobs", "kind = \"asyncpg\""),
    ]
    .concat();
    let st = testing::stack(&manifest(&format!("{TX}\ndefault_pool_size = 20"), &apps));
    let b = crate::stack::budget::ServerConnectionBudget::of(&st);
    assert_eq!(b.migrations, 3);
    assert_eq!(b.total, Some(20 + 3));
    assert!(
        b.arithmetic.ends_with("+ 3 migration connections = 23"),
        "{}",
        b.arithmetic
    );
    let old = app("web", "kind = \"rails\"\nversion = \"6.0\"");
    let st = testing::stack(&manifest(&format!("{TX}\ndefault_pool_size = 20"), &old));
    assert_eq!(
        crate::stack::budget::ServerConnectionBudget::of(&st).migrations,
        1
    );
    let st = testing::stack(&manifest(
        "[pgbouncer]\nversion = \"1.18\"\npool_mode = \"session\"\ndefault_pool_size = 20",
        &apps,
    ));
    assert_eq!(
        crate::stack::budget::ServerConnectionBudget::of(&st).total,
        Some(20)
    );
}

#[test]
fn settings_files_are_named_as_the_framework_names_them() {
    let st = testing::stack(&manifest(TX, &app("api", "kind = \"rails\"")));
    let f = st.apps[0].settings_file.as_ref().map(|f| f.value.clone());
    assert_eq!(f.as_deref(), Some(Path::new("database.yml")));
    let apps = [
        app("web", "kind = \"rails\""),
        app(
            "admin",
            "kind = \"django\"\nsettings_file = \"admin/settings/db.py\"",
        ),
        app("billing", "kind = \"jdbc-hikari\""),
        app("jobs", "kind = \"asyncpg\""),
    ]
    .concat();
    let st = testing::stack(&manifest(TX, &apps));
    let files: Vec<Option<&Path>> = st
        .apps
        .iter()
        .map(|a| a.settings_file.as_ref().map(|f| f.value.as_path()))
        .collect();
    assert_eq!(
        files,
        [
            Some(Path::new("web/database.yml")),
            Some(Path::new("admin/settings/db.py")),
            Some(Path::new("billing/application.properties")),
            None,
        ]
    );
}

#[test]
fn a_settings_file_the_kind_cannot_have_or_write_is_an_input_error() {
    let e = resolve_error(&manifest(TX, &app("api", "settings_file = \"db.py\"")));
    assert!(
        e.contains("kind sqlalchemy, which reads its settings from the environment only"),
        "{e}"
    );
    let e = resolve_error(&manifest(
        TX,
        &app(
            "api",
            "kind = \"rails\"\nsettings_file = \"../config/database.yml\"",
        ),
    ));
    assert!(e.contains("`..` leads out of the output directory"), "{e}");
    let e = resolve_error(&manifest(
        TX,
        &app("api", "kind = \"rails\"\nsettings_file = \".env\""),
    ));
    assert!(e.contains("it is the app's env_file"), "{e}");
    let two = [
        app("a", "kind = \"rails\"\nsettings_file = \"database.yml\""),
        app("b", "kind = \"rails\"\nsettings_file = \"database.yml\""),
    ]
    .concat();
    let e = resolve_error(&manifest(TX, &two));
    assert!(e.contains("app `a` writes the same file"), "{e}");
}

#[test]
fn rails_before_8_1_names_the_pool_size_pool() {
    let st = testing::stack(&manifest(
        TX,
        &app("api", "kind = \"rails\"\nversion = \"6.1\"\npool = 8"),
    ));
    let body = st.apps[0].kind().settings_body(&st.apps[0]);
    assert!(
        body.contains("  pool: <%= ENV.fetch(\"RAILS_MAX_THREADS\") { 8 } %>\n"),
        "{body}"
    );
    let st = testing::stack(&manifest(TX, &app("api", "kind = \"rails\"")));
    let body = st.apps[0].kind().settings_body(&st.apps[0]);
    assert!(body.contains("  max_connections: <%= ENV.fetch(\"RAILS_MAX_THREADS\") { 5 } %>\n"));
}

#[test]
fn django_settings_carry_the_pool_and_the_safe_cursor_setting() {
    let st = testing::stack(&manifest(
        TX,
        &app(
            "api",
            "kind = \"django\"\npool = true\npool_min_size = 2\npool_max_size = 6\nassume_role = \"re\\\"porting\"",
        ),
    ));
    let body = st.apps[0].kind().settings_body(&st.apps[0]);
    assert!(
        body.contains("\"DISABLE_SERVER_SIDE_CURSORS\": True,"),
        "{body}"
    );
    assert!(
        body.contains(
            "\"OPTIONS\": {\"pool\": {\"min_size\": 2, \"max_size\": 6, \"timeout\": 30}, \"assume_role\": \"re\\\"porting\"},"
        ),
        "{body}"
    );
    assert!(
        body.contains("\"PASSWORD\": os.environ[\"APP_PASSWORD\"],"),
        "{body}"
    );
}

#[test]
fn spring_properties_use_spring_boots_kebab_case_names() {
    let st = testing::stack(&manifest(
        TX,
        &app("api", "kind = \"jdbc-hikari\"\nmaximumPoolSize = 7"),
    ));
    let body = st.apps[0].kind().settings_body(&st.apps[0]);
    assert!(
        body.contains("spring.datasource.hikari.maximum-pool-size=7\n"),
        "{body}"
    );
    assert!(
        body.contains("spring.datasource.url=jdbc:postgresql://"),
        "{body}"
    );
    assert!(
        body.contains("spring.datasource.password=${APP_PASSWORD}\n"),
        "{body}"
    );
}

#[test]
fn pgx_writes_a_cache_capacity_only_for_the_mode_that_uses_it() {
    let url = |keys: &str| {
        let st = testing::stack(&manifest(
            TX,
            &app("api", &format!("kind = \"pgx\"\n{keys}")),
        ));
        env_var(&st, 0, "DATABASE_URL").unwrap_or_default()
    };
    let exec = url("");
    assert!(!exec.contains("cache_capacity"), "{exec}");
    let stmt = url("default_query_exec_mode = \"cache_statement\"\nstatement_cache_capacity = 64");
    assert!(stmt.ends_with("&statement_cache_capacity=64"), "{stmt}");
    let desc = url("default_query_exec_mode = \"cache_describe\"");
    assert!(desc.ends_with("&description_cache_capacity=512"), "{desc}");
}
