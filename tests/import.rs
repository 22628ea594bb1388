//! `poolstack import`: the seed's hand-written files → a manifest (snapshot) whose render keeps
//! every effective setting, with no secret anywhere; and the refusals (exit 1 and 2).

mod support;

use poolstack::catalog::pgbouncer::PgbVersion;
use std::path::{Path, PathBuf};
use support::roundtrip::{self, poolstack};

/// The md5 verifier in fixtures/handwritten/mt5/userlist.txt: password-equivalent.
const VERIFIER: &str = "md54e8e284407a8e714c4d7c4722e72ac3f";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handwritten/mt5")
}

/// A temporary directory with a folder `name` holding copies of the MT5 hand-written files.
fn mt5_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    for f in ["pgbouncer.ini", "userlist.txt", ".env", "postgresql.conf"] {
        std::fs::copy(fixture().join(f), dir.join(f)).unwrap();
    }
    (tmp, dir)
}

/// A temporary directory holding `files` (name, contents).
fn with_files(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    tmp
}

/// Each of `whats` is named on stderr and in the manifest's header as `not imported: …`.
fn assert_not_imported(whats: &[&str], stderr: &str, manifest: &str) {
    for what in whats {
        let line = format!("not imported: {what}");
        assert!(stderr.contains(&line), "{what}: {stderr}");
        assert!(
            manifest.contains(&format!("# {line}")),
            "{what}: {manifest}"
        );
    }
}

const MT5_FILES: [&str; 4] = ["pgbouncer.ini", "userlist.txt", ".env", "postgresql.conf"];

#[test]
fn mt5_imports_checks_and_renders_the_same_effective_settings() {
    let (_tmp, dir) = mt5_copy("mt5");
    let printed = roundtrip::round_trip(&dir, &MT5_FILES, &[], PgbVersion::parse("1.21"), 16)
        .unwrap_or_else(|e| panic!("{e}"));
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    insta::assert_snapshot!("mt5_manifest", manifest);
    for text in [&printed, &manifest] {
        assert!(!text.contains(VERIFIER), "the verifier leaked:\n{text}");
    }
    // The app's DATABASE_URL refers to ${POSTGRES_PASSWORD} as user trader: one variable holds
    // trader's password, for the userlist and the app alike.
    assert!(
        printed.contains("set POSTGRES_PASSWORD before render"),
        "{printed}"
    );
    assert_eq!(
        roundtrip::env_vars(&manifest),
        ["POSTGRES_PASSWORD", "POSTGRES_PASSWORD"]
    );

    // The manifest is usable: check reads it (its findings are the seed's own mistakes).
    let out = poolstack(&dir)
        .env("POSTGRES_PASSWORD", "x")
        .args(["check", "stack.toml", "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_ne!(out.status.code(), Some(2), "{report}");
    assert!(codes.contains(&"PRE001"), "{codes:?}");
    assert!(
        !codes.iter().any(|c| c.starts_with("CAT") || *c == "NET001"),
        "{codes:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains(VERIFIER) && !report.to_string().contains(VERIFIER));
}

#[test]
fn silent_files_pin_the_servers_defaults() {
    let tmp = with_files(&[
        (
            "pgbouncer.ini",
            "[databases]\n* = port=5433\nlocal = dbname=app user=owner\n[users]\nreporter = pool_mode=statement\n[pgbouncer]\nadmin_users = ops\nquery_wait_timeout = 0.5\n",
        ),
        ("userlist.txt", "\"owner\" \"plain-secret\"\n"),
    ]);
    let dir = tmp.path();
    let flags = ["--pg-version", "15", "--pgbouncer-version", "1.18"];
    let printed = roundtrip::round_trip(
        dir,
        &["pgbouncer.ini", "userlist.txt"],
        &flags,
        PgbVersion::parse("1.18"),
        15,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!printed.contains("plain-secret"), "{printed}");
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(!manifest.contains("plain-secret"), "{manifest}");
    for pinned in [
        "pool_mode = \"session\"",
        "auth_type = \"md5\"",
        "listen_addr = \"\"",
        "auth_file = \"\"",
        "userlist_hash = \"plain\"",
        "query_wait_timeout = 0.5",
    ] {
        assert!(manifest.contains(pinned), "{pinned} missing:\n{manifest}");
    }
    // Users named in pgbouncer.ini but not in the userlist are kept, each with its own variable.
    assert_eq!(
        roundtrip::env_vars(&manifest),
        ["OWNER_PASSWORD", "REPORTER_PASSWORD", "OPS_PASSWORD"]
    );
}

fn import(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = poolstack(dir).arg("import").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_existing_manifest_is_not_overwritten_without_force() {
    let (_tmp, dir) = mt5_copy("mt5");
    std::fs::write(dir.join("stack.toml"), "# mine\n").unwrap();
    let (code, _, err) = import(&dir, &MT5_FILES);
    // Refused, as `init` over an existing manifest (tests/init_cli.rs).
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("stack.toml")).unwrap(),
        "# mine\n"
    );
    let mut forced = MT5_FILES.to_vec();
    forced.push("--force");
    let (code, _, err) = import(&dir, &forced);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        std::fs::read_to_string(dir.join("stack.toml"))
            .unwrap()
            .contains("[pgbouncer]")
    );
}

#[test]
fn unknown_versions_are_input_errors_that_name_the_flag() {
    let tmp = with_files(&[("pgbouncer.ini", "[databases]\napp = host=db\n")]);
    let dir = tmp.path();
    let (code, _, err) = import(dir, &["pgbouncer.ini"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--pg-version"), "{err}");
    let (code, _, err) = import(dir, &["pgbouncer.ini", "--pg-version", "16"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--pgbouncer-version"), "{err}");
    assert!(!dir.join("stack.toml").exists());
}

#[test]
fn files_the_servers_would_refuse_are_not_imported_without_force() {
    let tmp = with_files(&[(
        "postgresql.conf",
        "max_connections = 100\nshared_bufers = 1GB\n",
    )]);
    let dir = tmp.path();
    let (code, out, err) = import(dir, &["postgresql.conf", "--pg-version", "16"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("CAT001") && out.contains("shared_bufers"),
        "{out}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert!(!dir.join("stack.toml").exists());
    let (code, _, err) = import(dir, &["postgresql.conf", "--pg-version", "16", "--force"]);
    assert_eq!(code, Some(0), "{err}");
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(manifest.contains("max_connections = 100") && !manifest.contains("shared_bufers"));
}

#[test]
fn what_the_manifest_cannot_express_is_named_not_dropped() {
    let tmp = with_files(&[(
        "pgbouncer.ini",
        "[databases]\napp = host=db password=hunter2\n[peers]\n1 = host=/tmp/pgb1\n[pgbouncer]\nunix_socket_dir =\n",
    )]);
    let dir = tmp.path();
    let flags = [
        "pgbouncer.ini",
        "--pg-version",
        "16",
        "--pgbouncer-version",
        "1.21",
    ];
    let (code, out, err) = import(dir, &flags);
    assert_eq!(code, Some(0), "{err}");
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    for text in [&out, &err, &manifest] {
        assert!(!text.contains("hunter2"), "the password leaked:\n{text}");
    }
    assert_not_imported(
        &[
            "password= of [databases] entry `app`",
            "[peers] 1",
            "unix_socket_dir",
        ],
        &err,
        &manifest,
    );
}

#[test]
fn a_password_in_a_database_url_becomes_a_reference() {
    let tmp = with_files(&[(
        "api.env",
        "DATABASE_URL=postgresql+asyncpg://api:s3cr%40t@db:5432/shop\nDB_POOL_SIZE=7\n",
    )]);
    let dir = tmp.path();
    let (code, out, err) = import(dir, &["api.env", "--pg-version", "16"]);
    assert_eq!(code, Some(0), "{err}");
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    for text in [&out, &err, &manifest] {
        assert!(!text.contains("s3cr"), "the password leaked:\n{text}");
    }
    assert!(err.contains("${API_PASSWORD}"), "{err}");
    let app: toml::Table = toml::from_str(&manifest).unwrap();
    let app = &app["apps"][0];
    assert_eq!(app["password_env"].as_str(), Some("API_PASSWORD"));
    assert_eq!(app["driver"].as_str(), Some("asyncpg"));
    assert_eq!(app["pool_size"].as_integer(), Some(7));
    // Never the file it was read from: render writes its own.
    assert_eq!(app["env_file"].as_str(), Some("api.poolstack.env"));
}

#[test]
fn a_manifest_is_not_an_import_input() {
    let tmp = with_files(&[("stack.toml", "")]);
    let (code, _, err) = import(tmp.path(), &["stack.toml", "-o", "new.toml"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("is a manifest"), "{err}");
}

#[test]
fn names_a_manifest_cannot_hold_are_left_out_and_named() {
    let tmp = with_files(&[
        (
            "userlist.txt",
            "\"\" \"x\"\n\"ok\" \"y\"\n\"a\nb\" \"z\"\n\"q'u\"\"ote\" \"w\"\n",
        ),
        ("api.env", "DATABASE_URL=postgresql://ok@db:5432/\n"),
    ]);
    let dir = tmp.path();
    let (code, out, err) = import(dir, &["userlist.txt", "api.env", "--pg-version", "16"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        !err.contains("bug in import") && !err.contains("SourceMap"),
        "{err}"
    );
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert_not_imported(
        &[
            "userlist.txt:1:2: user \"\": an empty name",
            "userlist.txt:3:2: user \"a\\nb\": a line break",
            "api.env: DATABASE_URL's database \"\": an empty name",
        ],
        &err,
        &manifest,
    );
    // Quotes are kept: userlist.txt and the manifest both hold them.
    let users: Vec<String> = toml::from_str::<toml::Table>(&manifest).unwrap()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(users, ["ok", "q'u\"ote"]);
    assert!(err.contains("0 app(s)"), "{err}");
}

#[test]
fn a_users_password_variable_is_the_one_its_apps_refer_to() {
    let url = |var: &str| format!("DATABASE_URL=postgresql://api:${{{var}}}@db:5432/shop\n");
    let tmp = with_files(&[
        ("userlist.txt", "\"api\" \"x\"\n\"other\" \"y\"\n"),
        ("a.env", &url("DB_PASSWORD")),
        ("b.env", &url("SHOP_SECRET")),
        (
            "c.env",
            "DATABASE_URL=postgresql://api:plain@db:5432/shop\n",
        ),
        (
            "d.env",
            "DATABASE_URL=postgresql://other:${DB_PASSWORD}@db/shop\n",
        ),
    ]);
    let dir = tmp.path();
    let files = [
        "userlist.txt",
        "a.env",
        "b.env",
        "c.env",
        "d.env",
        "--pg-version",
        "16",
    ];
    let (code, out, err) = import(dir, &files);
    assert_eq!(code, Some(0), "{out}{err}");
    let manifest = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(
        !manifest.contains("plain") && !err.contains("plain"),
        "{manifest}"
    );
    let doc: toml::Table = toml::from_str(&manifest).unwrap();
    let user_var = |i: usize| doc["users"][i]["password"]["env"].as_str().unwrap();
    assert_eq!(
        (user_var(0), user_var(1)),
        ("DB_PASSWORD", "OTHER_PASSWORD")
    );
    let app_vars: Vec<&str> = doc["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["password_env"].as_str().unwrap())
        .collect();
    // The app whose URL held a value refers to the user's variable, not a second one.
    assert_eq!(
        app_vars,
        ["DB_PASSWORD", "SHOP_SECRET", "DB_PASSWORD", "DB_PASSWORD"]
    );
    // d.env uses api's variable for `other`, which keeps its own.
    assert!(
        manifest.contains("# ${DB_PASSWORD} is user `api`'s password (as a.env uses it); d.env uses it for user `other`"),
        "{manifest}"
    );
    assert!(
        manifest.contains("# User `api`'s password is read from ${DB_PASSWORD}, which a.env refers to; b.env refers to ${SHOP_SECRET}"),
        "{manifest}"
    );
    assert!(
        err.contains("set DB_PASSWORD, OTHER_PASSWORD before render"),
        "{err}"
    );
}

/// A hand-written .env of another framework imports as that kind with the settings it gives.
#[test]
fn a_framework_env_imports_as_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "RAILS_MAX_THREADS=8\nDATABASE_URL=postgresql://app:${APP_PASSWORD}@db:5432/app?prepared_statements=false\n",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .args(["import", ".env", "--pg-version", "16", "-o", "stack.toml"])
        .output()
        .unwrap();
    let manifest = std::fs::read_to_string(dir.path().join("stack.toml")).unwrap_or_default();
    assert!(
        manifest.contains("kind = \"rails\""),
        "{manifest}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(manifest.contains("max_connections = 8"), "{manifest}");
    assert!(
        manifest.contains("prepared_statements = false"),
        "{manifest}"
    );
    assert!(!manifest.contains("pool_size"), "{manifest}");
    // And it loads: the keys are the kind's own.
    poolstack::manifest::load(&dir.path().join("stack.toml")).expect("imported manifest loads");
}
