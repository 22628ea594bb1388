//! One verdict on a manifest: check reports what render refuses, where it comes from.

use crate::*;
use serde_json::Value;

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
    let builtin = include_str!("../../templates/pgbouncer.ini.j2");
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

#[test]
fn what_render_refuses_cannot_be_ignored_away_in_check() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{}\n[lint]\nignore = [\"CAT002\"]\n[lint.severity]\nCAT002 = \"info\"\n",
        manifest("max_connections = 300000", "", "")
    );
    write(dir.path(), &text);
    assert_eq!(run_in(dir.path(), &["render", "--check"]).code, Some(1));
    let (code, report) = check_json(dir.path());
    assert_eq!(code, Some(1), "{report}");
    assert!(
        findings(&report).contains(&(
            "CAT002".into(),
            "stack.toml".into(),
            line_of(&text, "max_connections")
        )),
        "{report}"
    );
    // The command line still narrows a run on purpose.
    let r = run_in(dir.path(), &["check", "--ignore", "CAT002"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
}
