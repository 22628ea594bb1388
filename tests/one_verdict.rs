//! One verdict (issue 12): what `check` says about a manifest is what `render`, `import` and the
//! servers do. Each case runs the real binary on a manifest in a temporary directory.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("poolstack")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("APP_PASSWORD", "s3cret-pw")
        .env_remove("POSTGRES_PASSWORD")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A small stack: one app through PgBouncer; `extra` is inserted into the named table.
fn manifest(pg: &str, pgb: &str, rest: &str) -> String {
    format!(
        r#"[stack]
name = "verdict"

[postgres]
version = 15
{pg}

[pgbouncer]
version = "1.18"
{pgb}

[[databases]]
name = "app"

[[users]]
name = "app"
password = {{ env = "APP_PASSWORD" }}

[[apps]]
name = "api"
database = "app"
user = "app"
pool_size = 5
max_overflow = 0
{rest}"#
    )
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("stack.toml"), text).unwrap();
}

fn check_json(dir: &Path) -> (Option<i32>, Value) {
    let r = run_in(dir, &["check", "--format", "json"]);
    let json = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", r.stdout, r.stderr));
    (r.code, json)
}

/// (code, line) of each finding in the manifest.
fn findings(report: &Value) -> Vec<(String, String, i64)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

fn line_of(text: &str, needle: &str) -> i64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as i64 + 1
}

#[test]
fn check_reports_what_render_refuses_at_the_manifest_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest("max_connections = 300000", "", "");
    write(dir.path(), &text);
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    let found = findings(&report);
    assert!(
        found.contains(&(
            "CAT002".into(),
            "stack.toml".into(),
            line_of(&text, "max_connections")
        )),
        "{found:?}"
    );
    let r = run_in(dir.path(), &["render"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let at = format!("stack.toml:{}", line_of(&text, "max_connections"));
    assert!(
        r.stderr.contains("CAT002") && r.stderr.contains(&at),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("pgbouncer").exists(), "nothing is written");
}

#[test]
fn a_derived_value_out_of_range_points_at_its_inputs_with_the_formula() {
    let dir = tempfile::tempdir().unwrap();
    // pool_size 2000000000 per pool: the derived max_connections exceeds PostgreSQL's 262143.
    let text = manifest("", "", "").replace(
        "name = \"app\"\n\n[[users]]",
        "name = \"app\"\npool_size = 2000000000\n\n[[users]]",
    );
    write(dir.path(), &text);
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    let derived = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "CAT002" && d["message"].as_str().unwrap().contains("derived"))
        .unwrap_or_else(|| panic!("no derived CAT002: {report}"));
    assert_eq!(derived["file"], "stack.toml");
    assert_eq!(derived["line"], line_of(&text, "pool_size = 2000000000"));
    assert!(
        derived["message"]
            .as_str()
            .unwrap()
            .contains("max_connections"),
        "{derived}"
    );
    assert_eq!(run_in(dir.path(), &["render"]).code, Some(1));
}

#[test]
fn a_pgbouncer_integer_that_would_wrap_is_cat002_in_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest(
        "",
        "default_pool_size = 3000000000\nmax_db_connections = 10",
        "",
    );
    write(dir.path(), &text);
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    let d = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "CAT002")
        .unwrap_or_else(|| panic!("no CAT002: {report}"));
    assert_eq!(d["line"], line_of(&text, "default_pool_size"));
    assert!(
        d["message"].as_str().unwrap().contains("-1294967296"),
        "{d}"
    );
    let r = run_in(dir.path(), &["render"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    // A settings-table value too.
    let text = manifest("", "[pgbouncer.settings]\ntcp_keepcnt = 4294967297", "");
    write(dir.path(), &text);
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    assert!(
        findings(&report).contains(&(
            "CAT002".into(),
            "stack.toml".into(),
            line_of(&text, "tcp_keepcnt")
        )),
        "{report}"
    );
}

#[test]
fn the_same_value_in_a_hand_written_file_is_a_cat005_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "; poolstack: pgbouncer 1.18\n[databases]\napp = host=127.0.0.1 dbname=app\n[pgbouncer]\nlisten_port = 6432\ndefault_pool_size = 3000000000\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["check", "--format", "json", "pgbouncer.ini"]);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let found = findings(&report);
    assert!(
        found.contains(&("CAT005".into(), "pgbouncer.ini".into(), 6)),
        "{found:?}"
    );
    assert!(!found.iter().any(|f| f.0 == "CAT002"), "{found:?}");
}

#[test]
fn a_first_class_postgres_setting_in_the_settings_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for key in ["port", "Port", "max_connections", "password_encryption"] {
        let value = if key == "password_encryption" {
            "\"md5\"".to_string()
        } else {
            "6000".to_string()
        };
        let text = manifest("port = 55432\n\n[postgres.settings]", "", "").replace(
            "[postgres.settings]",
            &format!("[postgres.settings]\n{key} = {value}"),
        );
        write(dir.path(), &text);
        for cmd in [&["check"][..], &["render", "--check"][..]] {
            let r = run_in(dir.path(), cmd);
            assert_eq!(r.code, Some(2), "{key} {cmd:?}: {}{}", r.stdout, r.stderr);
            let wanted = format!("use [postgres] {}", key.to_ascii_lowercase());
            assert!(r.stderr.contains(&wanted), "{key}: {}", r.stderr);
        }
    }
}

#[test]
fn the_fragment_and_pgbouncer_ini_name_the_same_port() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &manifest("port = 55432", "", ""));
    let r = run_in(dir.path(), &["render"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let fragment =
        std::fs::read_to_string(dir.path().join("postgres/conf.d/50-poolstack.conf")).unwrap();
    let ini = std::fs::read_to_string(dir.path().join("pgbouncer/pgbouncer.ini")).unwrap();
    assert!(fragment.lines().any(|l| l == "port = 55432"), "{fragment}");
    assert!(ini.contains("port=55432"), "{ini}");
}

#[test]
fn every_command_supports_the_same_versions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "[databases]\napp = host=127.0.0.1 dbname=app\n[pgbouncer]\nlisten_port = 6432\n",
    )
    .unwrap();
    for (major, ok) in [(12, false), (13, true), (18, true), (19, false)] {
        let m = major.to_string();
        let runs = [
            run_in(dir.path(), &["check", "--pg-version", &m, "pgbouncer.ini"]),
            run_in(
                dir.path(),
                &[
                    "import",
                    "--pg-version",
                    &m,
                    "--pgbouncer-version",
                    "1.18",
                    "pgbouncer.ini",
                    "-o",
                    "imported.toml",
                    "--force",
                ],
            ),
            run_in(
                dir.path(),
                &[
                    "tune",
                    "--memory",
                    "4GB",
                    "--workload",
                    "web",
                    "--pg-version",
                    &m,
                ],
            ),
            {
                write(
                    dir.path(),
                    &manifest("", "", "").replace("version = 15", &format!("version = {major}")),
                );
                run_in(dir.path(), &["check"])
            },
        ];
        for r in runs {
            if ok {
                assert_ne!(r.code, Some(2), "{major}: {}{}", r.stdout, r.stderr);
            } else {
                assert_eq!(r.code, Some(2), "{major}: {}{}", r.stdout, r.stderr);
                assert!(
                    r.stderr.contains("PostgreSQL 13 to 18"),
                    "{major}: {}",
                    r.stderr
                );
            }
        }
    }
}

#[test]
fn a_literal_password_is_aut001_and_the_env_refers_to_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    let text = manifest("", "", "").replace(
        "password = { env = \"APP_PASSWORD\" }",
        "password = \"hunter2\"",
    );
    write(dir.path(), &text);
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    assert!(
        findings(&report).contains(&(
            "AUT001".into(),
            "stack.toml".into(),
            line_of(&text, "hunter2")
        )),
        "{report}"
    );
    assert!(!report.to_string().contains("hunter2"));
    let r = run_in(dir.path(), &["render"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(env.contains("app:${APP_PASSWORD}@"), "{env}");
    assert!(!env.contains("hunter2") && !r.stdout.contains("hunter2"));
    // A file or prompt source gets the same default name.
    write(
        dir.path(),
        &text.replace("password = \"hunter2\"", "password = { prompt = true }"),
    );
    let r = run_in(dir.path(), &["check"]);
    assert_ne!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
}

#[test]
fn tune_and_derivation_cap_values_beyond_the_versions_range() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &[
            "tune",
            "--memory",
            "64TB",
            "--workload",
            "oltp",
            "--pg-version",
            "15",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(json["settings"]["shared_buffers"], "8191GB", "{json}");
    assert!(
        json["reasons"]["shared_buffers"]
            .as_str()
            .unwrap()
            .contains("capped at 8191GB"),
        "{json}"
    );
    // The manifest derives the same, and check and render agree on it.
    write(dir.path(), &manifest("memory = \"64TB\"", "", ""));
    let r = run_in(dir.path(), &["explain", "shared_buffers"]);
    assert!(r.stdout.contains("'8191GB'"), "{}{}", r.stdout, r.stderr);
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(run_in(dir.path(), &["render"]).code, Some(0));
}

#[test]
fn a_template_override_with_an_inline_comment_is_refused_by_render_and_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("templates")).unwrap();
    let builtin = include_str!("../templates/pgbouncer.ini.j2");
    let over = builtin.replace(
        "{{ opt.name }} = {{ opt.value }}",
        "{{ opt.name }} = {{ opt.value }}{% if opt.name == \"listen_addr\" %} ; managed{% endif %}",
    );
    assert_ne!(over, builtin, "the template changed: adjust the override");
    std::fs::write(dir.path().join("templates/pgbouncer.ini.j2"), over).unwrap();
    write(
        dir.path(),
        &format!(
            "{}\n[outputs]\ntemplates = \"templates\"\n",
            manifest("", "", "")
        ),
    );
    let r = run_in(dir.path(), &["render"]);
    assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("CAT002") && r.stderr.contains("listen_addr"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join("pgbouncer/pgbouncer.ini").exists());
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report["diagnostics"].as_array().unwrap().iter().any(
            |d| d["code"] == "CAT002" && d["message"].as_str().unwrap().contains("listen_addr")
        ),
        "{report}"
    );
}

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
