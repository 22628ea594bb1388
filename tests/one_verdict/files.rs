//! One verdict on hand-written files: what check sees in them, and what import keeps.

use crate::*;
use serde_json::Value;
use std::path::Path;

/// The seed's hand-written files, with its own `.env` (no DATABASE_URL: its config.py builds it).
fn seed_without_url(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handwritten/mt5");
    for f in ["pgbouncer.ini", "userlist.txt", "postgresql.conf", ".env"] {
        let text = std::fs::read_to_string(src.join(f)).unwrap();
        let text = if f == ".env" {
            text.lines()
                .filter(|l| !l.starts_with("DATABASE_URL"))
                .map(|l| format!("{l}\n"))
                .collect()
        } else {
            text
        };
        std::fs::write(dir.join(f), text).unwrap();
    }
}

#[test]
fn a_seed_env_without_database_url_is_still_an_app_pre002_included() {
    let dir = tempfile::tempdir().unwrap();
    seed_without_url(dir.path());
    let r = run_in(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--pg-version",
            "15",
            "pgbouncer.ini",
            ".env",
            "userlist.txt",
            "postgresql.conf",
        ],
    );
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(
        findings(&report).contains(&(
            "PRE002".into(),
            ".env".into(),
            line_of(&env, "DB_PREPARE_THRESHOLD")
        )),
        "{report}"
    );
    let r = run_in(
        dir.path(),
        &[
            "import",
            "--pg-version",
            "15",
            "pgbouncer.ini",
            ".env",
            "userlist.txt",
            "postgresql.conf",
            "-o",
            "stack.toml",
        ],
    );
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let m: toml::Table = std::fs::read_to_string(dir.path().join("stack.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let app = &m["apps"].as_array().expect("the app is imported")[0];
    assert_eq!(app["database"].as_str(), Some("mt5_trading"));
    assert_eq!(app["user"].as_str(), Some("trader"));
    assert_eq!(app["driver"].as_str(), Some("psycopg"));
    assert_eq!(app["pool_size"].as_integer(), Some(5));
    assert_eq!(app["pool_recycle"].as_integer(), Some(1800));
    assert_eq!(app["prepare_threshold"].as_integer(), Some(0));
}

#[test]
fn checking_files_without_versions_names_what_was_skipped_and_the_lower_bounds() {
    let dir = tempfile::tempdir().unwrap();
    seed_without_url(dir.path());
    let strip = |f: &str, marker: &str, extra: &str| {
        let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.contains(marker))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(dir.path().join(f), format!("{kept}{extra}")).unwrap();
    };
    strip("pgbouncer.ini", "poolstack: pgbouncer", "");
    strip(
        "postgresql.conf",
        "poolstack: postgres",
        "reserved_connections = 3\n",
    );
    let files = ["pgbouncer.ini", ".env", "userlist.txt", "postgresql.conf"];
    let mut args = vec!["check"];
    args.extend(files);
    let r = run_in(dir.path(), &args);
    assert!(
        r.stdout.contains(
            "not checked: AUT002, AUT003 need the PostgreSQL version: pass --pg-version N"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("PostgreSQL ≥ 16 (`reserved_connections`)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("--pgbouncer-version"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("PgBouncer ≥ 1.21 (`max_prepared_statements`)"),
        "{}",
        r.stdout
    );
    let mut args = vec!["check", "--format", "json"];
    args.extend(files);
    let json: Value = serde_json::from_str(&run_in(dir.path(), &args).stdout).unwrap();
    assert_eq!(
        json["summary"]["skipped"][0]["rules"][0], "AUT002",
        "{json}"
    );
    // SARIF says it as a tool notification, the github format as a notice.
    let mut args = vec!["check", "--format", "sarif"];
    args.extend(files);
    let sarif: Value = serde_json::from_str(&run_in(dir.path(), &args).stdout).unwrap();
    let note = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "note", "{sarif}");
    assert!(
        note["message"]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("not checked: AUT002, AUT003 need the PostgreSQL version"),
        "{sarif}"
    );
    let mut args = vec!["check", "--format", "github"];
    args.extend(files);
    let gh = run_in(dir.path(), &args).stdout;
    assert!(
        gh.contains(
            "::notice title=not checked::not checked: AUT002, AUT003 need the PostgreSQL version"
        ),
        "{gh}"
    );
    // With the versions given, nothing is skipped, and AUT002/AUT003 speak.
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--pg-version",
        "16",
        "--pgbouncer-version",
        "1.21",
    ];
    args.extend(files);
    let json: Value = serde_json::from_str(&run_in(dir.path(), &args).stdout).unwrap();
    assert!(json["summary"].get("skipped").is_none(), "{json}");
    let codes = findings(&json);
    assert!(codes.iter().any(|c| c.0 == "AUT002") && codes.iter().any(|c| c.0 == "AUT003"));
}

fn import_manifest(dir: &Path, args: &[&str]) -> toml::Table {
    let mut all = vec!["import", "-o", "stack.toml", "--force"];
    all.extend(args);
    let r = run_in(dir, &all);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    std::fs::read_to_string(dir.join("stack.toml"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_full_server_config_of_any_name_keeps_its_connection_limits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("pg.conf"),
        "max_connections = 300\nsuperuser_reserved_connections = 7\nshared_buffers = 1GB\n",
    )
    .unwrap();
    let m = import_manifest(d, &["--pg-version", "15", "pg.conf"]);
    assert_eq!(
        m["postgres"]["max_connections"].as_integer(),
        Some(300),
        "{m}"
    );
    assert_eq!(
        m["postgres"]["superuser_reserved_connections"].as_integer(),
        Some(7)
    );
    assert!(m["postgres"]["settings"].get("max_connections").is_none());
    // An initdb configuration whose include_dir sets them.
    std::fs::create_dir(d.join("conf.d")).unwrap();
    std::fs::write(d.join("conf.d/10-limits.conf"), "max_connections = 250\n").unwrap();
    std::fs::write(
        d.join("main.conf"),
        "shared_buffers = 128MB\ninclude_dir = 'conf.d'\n",
    )
    .unwrap();
    let m = import_manifest(d, &["--pg-version", "15", "main.conf"]);
    assert_eq!(
        m["postgres"]["max_connections"].as_integer(),
        Some(250),
        "{m}"
    );
}

#[test]
fn an_imported_pgbouncer_ini_keeps_host_and_port_together() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("pgbouncer.ini"),
        "[databases]\napp = host=db port=5433 dbname=app\n[pgbouncer]\nlisten_port = 6432\nauth_type = scram-sha-256\n",
    )
    .unwrap();
    let m = import_manifest(
        d,
        &[
            "--pg-version",
            "15",
            "--pgbouncer-version",
            "1.18",
            "pgbouncer.ini",
        ],
    );
    assert_eq!(m["postgres"]["host"].as_str(), Some("db"), "{m}");
    assert_eq!(m["postgres"]["port"].as_integer(), Some(5433), "{m}");
    let (_, report) = check_json(d);
    assert!(
        !findings(&report).iter().any(|f| f.0 == "NET001"),
        "{report}"
    );
}
