//! One verdict, as a property (issue 12): over generated manifests, `render --check` never
//! refuses what `check` passes. The values range over what the schema accepts, including ones
//! the servers refuse (out of PostgreSQL's ranges, beyond PgBouncer's C integers, derived values
//! that grow past them).

use clap::Parser;
use poolstack::cli::Cli;
use poolstack::outcome::Outcome;
use proptest::prelude::*;
use std::path::Path;

fn run(args: &[&str]) -> (Outcome, String) {
    let cli = Cli::try_parse_from(args).expect("arguments parse");
    let mut out = Vec::new();
    let mut err = Vec::new();
    let outcome = poolstack::run(cli, &mut out, &mut err);
    (
        outcome,
        format!(
            "{}{}",
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&err)
        ),
    )
}

/// A count: small, near a server's limit, or near the C integer limits.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..400,
        1 => 200_000u64..300_000,
        1 => prop::sample::select(vec![
            262_143u64,
            262_144,
            2_147_483_647,
            2_147_483_648,
            3_000_000_000,
            4_294_967_295,
        ]),
    ]
}

fn maybe<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.5, s)
}

fn pg_setting() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "shared_buffers = \"128MB\"",
        "shared_buffers = \"20000GB\"",
        "work_mem = \"64kB\"",
        "work_mem = \"3000GB\"",
        "statement_timeout = \"30s\"",
        "statement_timeout = 2147483648",
        "max_wal_size = \"2GB\"",
        "tcp_keepalives_idle = 60",
        "tcp_keepalives_idle = 2147483648",
        "effective_cache_size = \"8GB\"",
    ])
    .prop_map(str::to_string)
}

fn pgb_setting() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "tcp_keepcnt = 5",
        "tcp_keepcnt = 4294967297",
        "server_idle_timeout = \"10min\"",
        "server_lifetime = 3600",
        "max_packet_size = 4294967295",
        "max_packet_size = 4294967296",
        "tcp_user_timeout = 30000",
        "stats_period = 2147483648",
        "listen_backlog = -5",
    ])
    .prop_map(str::to_string)
}

#[derive(Debug, Clone)]
struct Gen {
    pg_version: u32,
    pgb_version: &'static str,
    memory: Option<&'static str>,
    max_connections: Option<u64>,
    superuser_reserved: Option<u64>,
    default_pool_size: Option<u64>,
    max_db_connections: Option<u64>,
    max_client_conn: Option<u64>,
    reserve_pool_size: Option<u64>,
    db_pool_size: Option<u64>,
    pg_settings: Vec<String>,
    pgb_settings: Vec<String>,
    app_pool: u64,
    replicas: u64,
    /// `[lint]` that tries to silence CAT002: check must still fail where render refuses.
    lint: bool,
}

fn gen_manifest() -> impl Strategy<Value = Gen> {
    (
        (
            13u32..=18,
            prop::sample::select(vec!["1.18", "1.21", "1.24"]),
            maybe(prop::sample::select(vec!["1GB", "16GB", "64TB", "512MB"])),
            maybe(count()),
            maybe(0u64..20),
            maybe(count()),
            maybe(count()),
        ),
        (
            maybe(count()),
            maybe(0u64..50),
            maybe(count()),
            prop::collection::vec(pg_setting(), 0..3),
            prop::collection::vec(pgb_setting(), 0..3),
            0u64..50,
            1u64..5,
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (pg_version, pgb_version, memory, max_connections, superuser_reserved, dps, mdb),
                (mcc, rps, db_pool, pg_settings, pgb_settings, app_pool, replicas, lint),
            )| Gen {
                pg_version,
                pgb_version,
                memory,
                max_connections,
                superuser_reserved,
                default_pool_size: dps,
                max_db_connections: mdb,
                max_client_conn: mcc,
                reserve_pool_size: rps,
                db_pool_size: db_pool,
                pg_settings,
                pgb_settings,
                app_pool,
                replicas,
                lint,
            },
        )
}

fn text(g: &Gen) -> String {
    let opt = |k: &str, v: Option<u64>| v.map(|v| format!("{k} = {v}\n")).unwrap_or_default();
    let mut t = format!(
        "[stack]\nname = \"prop\"\n\n[postgres]\nversion = {}\n",
        g.pg_version
    );
    if let Some(m) = g.memory {
        t.push_str(&format!("memory = \"{m}\"\n"));
    }
    t.push_str(&opt("max_connections", g.max_connections));
    t.push_str(&opt("superuser_reserved_connections", g.superuser_reserved));
    let mut pg_settings = g.pg_settings.clone();
    pg_settings.sort_by_key(|s| s.split(' ').next().unwrap_or("").to_string());
    pg_settings.dedup_by_key(|s| s.split(' ').next().unwrap_or("").to_string());
    if !pg_settings.is_empty() {
        t.push_str("\n[postgres.settings]\n");
        for s in &pg_settings {
            t.push_str(s);
            t.push('\n');
        }
    }
    t.push_str(&format!("\n[pgbouncer]\nversion = \"{}\"\n", g.pgb_version));
    t.push_str(&opt("default_pool_size", g.default_pool_size));
    t.push_str(&opt("max_db_connections", g.max_db_connections));
    t.push_str(&opt("max_client_conn", g.max_client_conn));
    t.push_str(&opt("reserve_pool_size", g.reserve_pool_size));
    let mut pgb_settings = g.pgb_settings.clone();
    pgb_settings.sort_by_key(|s| s.split(' ').next().unwrap_or("").to_string());
    pgb_settings.dedup_by_key(|s| s.split(' ').next().unwrap_or("").to_string());
    if !pgb_settings.is_empty() {
        t.push_str("\n[pgbouncer.settings]\n");
        for s in &pgb_settings {
            t.push_str(s);
            t.push('\n');
        }
    }
    t.push_str("\n[[databases]]\nname = \"app\"\n");
    t.push_str(&opt("pool_size", g.db_pool_size));
    t.push_str("\n[[users]]\nname = \"app\"\npassword = { env = \"VERDICT_PROPS_UNSET\" }\n");
    t.push_str(&format!(
        "\n[[apps]]\nname = \"api\"\ndatabase = \"app\"\nuser = \"app\"\npool_size = {}\nmax_overflow = 0\nreplicas = {}\n",
        g.app_pool, g.replicas
    ));
    if g.lint {
        t.push_str("\n[lint]\nignore = [\"CAT002\", \"CAT005\"]\n");
    }
    t
}

fn verdicts(dir: &Path, manifest: &str) -> ((Outcome, String), (Outcome, String)) {
    let path = dir.join("stack.toml");
    std::fs::write(&path, manifest).unwrap();
    let p = path.to_str().unwrap();
    let check = run(&["poolstack", "check", p]);
    let render = run(&["poolstack", "render", "--check", p]);
    (check, render)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn render_check_never_refuses_what_check_passes(g in gen_manifest()) {
        let dir = tempfile::tempdir().unwrap();
        let manifest = text(&g);
        let ((check, check_out), (render, render_out)) = verdicts(dir.path(), &manifest);
        if check == Outcome::Success {
            prop_assert_ne!(
                render,
                Outcome::Refused,
                "check passed but render --check refused:\n{}\n--- check:\n{}\n--- render:\n{}",
                manifest,
                check_out,
                render_out
            );
        }
        // And the other way round: what render refuses, check fails.
        if render == Outcome::Refused {
            prop_assert_eq!(check, Outcome::Findings, "{}\n{}", manifest, check_out);
        }
        // Both read the same manifest: it is usable for both or for neither.
        prop_assert_eq!(
            check == Outcome::InputError,
            render == Outcome::InputError,
            "{}\n--- check:\n{}\n--- render:\n{}",
            manifest,
            check_out,
            render_out
        );
    }
}

/// A case the property must reject: found before the fix (check passed, render refused).
#[test]
fn a_known_counterexample_is_now_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let g = Gen {
        pg_version: 15,
        pgb_version: "1.18",
        memory: None,
        max_connections: Some(300_000),
        superuser_reserved: None,
        default_pool_size: None,
        max_db_connections: None,
        max_client_conn: None,
        reserve_pool_size: None,
        db_pool_size: None,
        pg_settings: Vec::new(),
        pgb_settings: Vec::new(),
        app_pool: 5,
        replicas: 1,
        lint: true,
    };
    let ((check, _), (render, _)) = verdicts(dir.path(), &text(&g));
    assert_eq!(render, Outcome::Refused);
    assert_eq!(check, Outcome::Findings);
}
