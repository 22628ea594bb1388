//! What users type: exit codes, messages, files written — run through the real binary.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn poolstack() -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1")
        .env_remove("POSTGRES_PASSWORD")
        .current_dir(root());
    c
}

/// A copy of a fixture directory in a temp dir, so tests can render next to it.
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("fixtures").join(name), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// `poolstack render` in `dir`, with the MT5 fixture's password in the environment.
fn render_in(dir: &Path) -> std::process::Output {
    poolstack()
        .current_dir(dir)
        .env("POSTGRES_PASSWORD", "pw")
        .arg("render")
        .output()
        .unwrap()
}

/// A copy of a fixture whose manifest takes templates from `my-templates/`, holding `name`.
fn with_template(fixture: &str, name: &str, template: &str) -> tempfile::TempDir {
    let dir = copy_fixture(fixture);
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "[stack]\n",
        "[outputs]\ntemplates = \"my-templates\"\n\n[stack]\n",
    );
    std::fs::write(&manifest, text).unwrap();
    std::fs::create_dir_all(dir.path().join("my-templates")).unwrap();
    std::fs::write(dir.path().join("my-templates").join(name), template).unwrap();
    dir
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every class of manifest error: exit 2, file:line:column, a caret, and a help line.
#[test]
fn manifest_errors_are_located_and_exit_2() {
    let cases = [
        ("unknown-key", "did you mean `max_client_conn`?"),
        ("wrong-type", "default_pool_size"),
        ("bad-size-unit", "did you mean \"28GB\"?"),
        ("bad-duration-unit", "did you mean \"s\"?"),
        ("invalid-toml", "invalid-toml.toml:3"),
        ("missing-version", "missing required key `version`"),
        (
            "settings-duplicates-first-class",
            "use [pgbouncer] max_client_conn",
        ),
        ("unsupported-postgres", "PostgreSQL 11 is not supported"),
        ("unsupported-pgbouncer", "`1.12` is not supported"),
        ("duplicate-user", "`app` is defined twice"),
        ("shared-env-file", "would share the env file app.env"),
        ("bad-password-source", "exactly one of env, file or prompt"),
        ("unknown-enum", "unknown value `transactional`"),
        (
            "missing-secret",
            "POOLSTACK_TEST_UNSET_VARIABLE, which is not set",
        ),
        (
            "wrong-driver-key",
            "`prepare_threshold` is a psycopg setting",
        ),
        (
            "key-of-another-kind",
            "`pool_size` is a setting of sqlalchemy apps, but app `a` is of kind asyncpg",
        ),
        ("unknown-kind", "unknown kind `asyncpgg`"),
        (
            "kind-key-typo",
            "unknown key `max_sise` (in app `a`, kind psycopg-pool)",
        ),
        (
            "django-key-on-asyncpg",
            "`CONN_MAX_AGE` is a setting of django apps, but app `a` is of kind asyncpg",
        ),
        (
            "django-pool-persistent",
            "with pool = true Django raises `ImproperlyConfigured",
        ),
        (
            "kind-key-type",
            "`max_size` of app `a` must be a whole number ≥ 0, not \"ten\"",
        ),
    ];
    for (name, needle) in cases {
        let out_dir = tempfile::tempdir().unwrap();
        let manifest = format!("fixtures/bad/{name}.toml");
        let out = poolstack()
            .args(["render", &manifest, "--out"])
            .arg(out_dir.path())
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(
            err.contains(needle),
            "{name}: expected {needle:?} in\n{err}"
        );
        assert!(
            err.contains(&format!("fixtures/bad/{name}.toml:")),
            "{name}: no file:line:col in\n{err}"
        );
        if name != "missing-secret" {
            insta::assert_snapshot!(format!("input_error__{name}"), err);
        }
        assert_eq!(
            std::fs::read_dir(out_dir.path()).unwrap().count(),
            0,
            "{name}: wrote files"
        );
    }
}

#[test]
fn catalog_errors_in_settings_refuse_render_with_exit_1() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = poolstack()
        .args(["render", "fixtures/bad/catalog-errors.toml", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for needle in [
        "CAT003", // max_prepared_statements on 1.18
        "introduced in 1.21",
        "CAT001", // max_client_connections
        "did you mean `max_client_conn`?",
        "CAT004", // wal_keep_segments
        "wal_keep_size",
        "shared_buffers", // suggestion for shard_buffers
        "CAT002",         // 30sec, yes, 4mb, 100us
    ] {
        assert!(err.contains(needle), "expected {needle:?} in\n{err}");
    }
    assert!(err.contains("nothing was written"));
    insta::assert_snapshot!("catalog_errors", err);
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 0);
}

#[test]
fn render_writes_the_mt5_stack_with_secret_modes() {
    let dir = copy_fixture("mt5");
    let out = poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "Sup3r-Secret-Value")
        .args(["render"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("wrote pgbouncer/pgbouncer.ini"), "{stdout}");
    let userlist = dir.path().join("pgbouncer/userlist.txt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&userlist).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let ini = dir.path().join("pgbouncer/pgbouncer.ini");
        assert_eq!(
            std::fs::metadata(&ini).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
    // The password never reaches any output, and the .env holds a reference, not the value.
    assert!(
        !stdout.contains("Sup3r-Secret-Value") && !stderr_of(&out).contains("Sup3r-Secret-Value")
    );
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(env.contains("DATABASE_URL=postgresql+psycopg://trader:${POSTGRES_PASSWORD}@pgbouncer:5432/mt5_trading"), "{env}");
    assert!(!env.contains("Sup3r-Secret-Value"));
    // Rendering again changes nothing, and --check agrees.
    let before = std::fs::read(&userlist).unwrap();
    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "Sup3r-Secret-Value")
        .arg("render")
        .assert()
        .success();
    assert_eq!(std::fs::read(&userlist).unwrap(), before);
    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "Sup3r-Secret-Value")
        .args(["render", "--check"])
        .assert()
        .success();
}

#[test]
fn render_check_reports_drift_with_a_diff_and_exit_1() {
    let dir = copy_fixture("mt5");
    // Nothing rendered yet: every file is missing.
    let out = poolstack()
        .current_dir(dir.path())
        .args(["render", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pgbouncer/pgbouncer.ini: missing"));
    assert!(
        dir.path().join("pgbouncer").read_dir().is_err(),
        "--check must write nothing"
    );

    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "pw-1")
        .arg("render")
        .assert()
        .success();
    // Without the password (pre-commit, CI): users and secret types compared, FIL003 says so.
    let out = poolstack()
        .current_dir(dir.path())
        .args(["render", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("FIL003"));

    // Change the manifest: the ini drifts and the diff shows it.
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("max_client_conn = 1000", "max_client_conn = 1500");
    std::fs::write(&manifest, text).unwrap();
    let out = poolstack()
        .current_dir(dir.path())
        .args(["render", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("-max_client_conn = 1000") && stdout.contains("+max_client_conn = 1500"),
        "{stdout}"
    );

    // A password change is drift in the userlist, named without showing any secret.
    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "pw-1")
        .arg("render")
        .assert()
        .success();
    let out = poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "pw-2")
        .args(["render", "--check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("trader: the md5 secret no longer matches the password"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("md5") || !stdout.contains("\"md5"),
        "no verifier printed: {stdout}"
    );
}

#[test]
fn hand_edited_files_and_dropped_users_are_refused_unless_forced() {
    let dir = copy_fixture("mt5");
    let render = |force: bool| {
        let mut c = poolstack();
        c.current_dir(dir.path())
            .env("POSTGRES_PASSWORD", "pw")
            .arg("render");
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    assert!(render(false).status.success());
    let ini = dir.path().join("pgbouncer/pgbouncer.ini");
    let edited = std::fs::read_to_string(&ini)
        .unwrap()
        .replace("max_client_conn = 1000", "max_client_conn = 5");
    std::fs::write(&ini, &edited).unwrap();
    let out = render(false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("edited by hand"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&ini).unwrap(),
        edited,
        "refusal must not write"
    );
    assert!(render(true).status.success());
    assert!(
        std::fs::read_to_string(&ini)
            .unwrap()
            .contains("max_client_conn = 1000")
    );

    let userlist = dir.path().join("pgbouncer/userlist.txt");
    let mut text = std::fs::read_to_string(&userlist).unwrap();
    text.push_str("\"legacy_admin\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n");
    std::fs::write(&userlist, &text).unwrap();
    let out = render(false);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("legacy_admin"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(std::fs::read_to_string(&userlist).unwrap(), text);
    assert!(render(true).status.success());
    assert!(
        !std::fs::read_to_string(&userlist)
            .unwrap()
            .contains("legacy_admin")
    );
}

#[test]
fn a_foreign_file_in_the_way_is_not_overwritten() {
    let dir = copy_fixture("mt5");
    std::fs::create_dir_all(dir.path().join("pgbouncer")).unwrap();
    std::fs::write(
        dir.path().join("pgbouncer/pgbouncer.ini"),
        "[pgbouncer]\nlisten_port = 6432\n",
    )
    .unwrap();
    let out = render_in(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("was not written by poolstack"));
}

#[test]
fn no_file_changes_when_writing_fails_midway() {
    let dir = copy_fixture("mt5");
    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "pw")
        .arg("render")
        .assert()
        .success();
    let ini = dir.path().join("pgbouncer/pgbouncer.ini");
    let before = std::fs::read(&ini).unwrap();
    // Change the manifest, and put a regular file where the PostgreSQL fragment's directory must be.
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("max_client_conn = 1000", "max_client_conn = 1500");
    std::fs::write(&manifest, text).unwrap();
    std::fs::remove_dir_all(dir.path().join("postgres")).unwrap();
    std::fs::write(dir.path().join("postgres"), "not a directory").unwrap();
    let out = render_in(dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(
        std::fs::read(&ini).unwrap(),
        before,
        "pgbouncer.ini must not change when another file fails"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("pgbouncer"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn meta_commands_work() {
    let out = poolstack().args(["completions", "bash"]).output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("poolstack"));
    let out = poolstack().arg("man").output().unwrap();
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains(".TH poolstack"));
    let out = poolstack().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "init",
        "render",
        "check",
        "userlist",
        "tune",
        "import",
        "explain",
        "doctor",
        "rules",
        "completions",
        "man",
        "schema",
    ] {
        assert!(help.contains(cmd), "--help lacks {cmd}");
    }
    let out = poolstack()
        .args(["render", "--bogus-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn committed_schema_matches_the_manifest_types() {
    let out = poolstack().arg("schema").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(root().join("schema/stack.schema.json")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        committed,
        "schema/stack.schema.json is stale: run `cargo run -- schema > schema/stack.schema.json`"
    );
}

#[test]
fn readme_defaults_table_matches_the_code() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains(&poolstack::defaults::markdown_table()),
        "README's defaults table differs from src/defaults.rs TABLE"
    );
}

#[test]
fn template_overrides_replace_the_built_in_layout() {
    let dir = with_template(
        "mt5",
        "env.j2",
        "# custom layout for {{ app }}\n{% for v in vars %}export {{ v.name }}={{ v.value }}\n{% endfor %}",
    );
    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "pw")
        .arg("render")
        .assert()
        .success();
    let env = std::fs::read_to_string(dir.path().join(".env")).unwrap();
    assert!(
        env.contains("# custom layout for api\nexport USE_PGBOUNCER=true\n"),
        "{env}"
    );
    // --check uses the same templates: no drift.
    poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "pw")
        .args(["render", "--check"])
        .assert()
        .success();
    // A broken override is an input error that names the template.
    std::fs::write(
        dir.path().join("my-templates/env.j2"),
        "{% for v in vars %}{{ v.name }",
    )
    .unwrap();
    let out = render_in(dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("my-templates/env.j2"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn userlist_users_hidden_after_a_hash_line_are_not_silently_dropped() {
    let dir = copy_fixture("mt5");
    std::fs::create_dir_all(dir.path().join("pgbouncer")).unwrap();
    std::fs::write(
        dir.path().join("pgbouncer/userlist.txt"),
        "\"trader\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n# monitoring\n\"grafana\" \"secret\"\n",
    )
    .unwrap();
    let out = render_in(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("grafana"), "{}", stderr_of(&out));
}

#[test]
fn database_names_pgbouncer_cannot_read_refuse_render() {
    let dir = copy_fixture("mt5");
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "name = \"mt5_trading\"\n\n[[users]]",
        "name = \"mt5 trading\"\ndbname = \"mt5_trading\"\n\n[[users]]",
    );
    std::fs::write(&manifest, text).unwrap();
    let out = render_in(dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("CAT008") && err.contains("quoted names need PgBouncer 1.25"),
        "{err}"
    );
}

#[test]
fn a_fractional_libpq_connect_timeout_is_refused() {
    let dir = copy_fixture("mt5");
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("connect_timeout = \"10s\"", "connect_timeout = \"600ms\"");
    std::fs::write(&manifest, text).unwrap();
    let out = render_in(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("CAT002"), "{}", stderr_of(&out));
}

/// `render` reads back what it built with the same readers and catalog checks `check` uses, and
/// refuses to write a file the server would refuse — here a template override that puts a
/// comment after each value, which PgBouncer would take as part of the value.
#[test]
fn render_refuses_files_its_own_readers_reject() {
    let dir = with_template(
        "mt5-fixed",
        "pgbouncer.ini.j2",
        "[databases]\n{% for db in databases %}{{ db.name }} = {{ db.connstr }}\n{% endfor %}[pgbouncer]\n{% for opt in options %}{{ opt.name }} = {{ opt.value }}    ; set by poolstack\n{% endfor %}",
    );
    for args in [&["render"][..], &["render", "--check"][..]] {
        let out = poolstack()
            .current_dir(dir.path())
            .env("POSTGRES_PASSWORD", "pw")
            .env("APP_PASSWORD", "pw")
            .args(args)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("CAT002"), "{err}");
        assert!(err.contains("pgbouncer/pgbouncer.ini:"), "{err}");
        assert!(err.contains("nothing was written"), "{err}");
    }
    assert!(!dir.path().join("pgbouncer").exists());
}

#[test]
fn explain_shows_a_kinds_setting_with_its_source() {
    let out = poolstack()
        .args([
            "explain",
            "apps.api.statement_cache_size",
            "fixtures/apps/asyncpg/stack.toml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("apps.api.statement_cache_size = 0\n"),
        "{text}"
    );
    assert!(
        text.contains("behind PgBouncer's transaction pooling"),
        "{text}"
    );
    // A SQLAlchemy key is not a setting of an asyncpg app.
    let out = poolstack()
        .args([
            "explain",
            "apps.api.pool_size",
            "fixtures/apps/asyncpg/stack.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
