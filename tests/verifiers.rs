//! One salt per user everywhere poolstack writes it (render, roles.sql, `userlist --manifest`),
//! and known verifiers (`verifier = { userlist = … }`) kept byte for byte. Without servers: the
//! logins themselves are proven in tests/logins.rs.

use assert_cmd::Command;
use poolstack::formats::userlist::Userlist;
use std::path::Path;

fn poolstack(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

fn out_err(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn entry(path: &Path, user: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Userlist::parse(&text)
        .get(user)
        .map(|e| e.secret.clone())
        .unwrap_or_default()
}

fn role_verifier(path: &Path, user: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    poolstack::render::existing::role_verifiers(&text)
        .remove(user)
        .unwrap_or_default()
}

/// PostgreSQL 15's verifier for "trader123" (SELECT rolpassword FROM pg_authid).
const STORED: &str = "SCRAM-SHA-256$4096:4HtJJE5bCQI77HSC1vwXUg==$3ffeut4cospissS7tTZ3oa6FqQaEAzd3vreQFeE+4R0=:dZAG2UOn5qavObXMO6rxQIEjU7aL+gwsAh++3AxE1BQ=";

const STACK: &str = r#"
[stack]
name = "salts"

[postgres]
version = 15
host = "db"
memory = "4GB"
password_encryption = "scram-sha-256"

[pgbouncer]
version = "1.18"
host = "pgbouncer"

[[databases]]
name = "app"

[[users]]
name = "app"
password = { env = "APP_PASSWORD" }

[[apps]]
name = "api"
database = "app"
user = "app"
"#;

#[test]
fn render_without_pgbouncer_is_stable_then_check_finds_no_drift() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/no-pgbouncer/stack.toml");
    std::fs::copy(&fixture, dir.path().join("stack.toml")).unwrap();
    let roles = dir.path().join("postgres/initdb.d/10-roles.sql");
    let o = poolstack(dir.path())
        .args(["render"])
        .env("REPORTER_PASSWORD", "pw-1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let first = role_verifier(&roles, "reporter");
    assert!(first.starts_with("SCRAM-SHA-256$4096:"), "{first:.20}");
    let o = poolstack(dir.path())
        .args(["render", "--check"])
        .env("REPORTER_PASSWORD", "pw-1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let o = poolstack(dir.path())
        .args(["render"])
        .env("REPORTER_PASSWORD", "pw-1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert_eq!(
        role_verifier(&roles, "reporter"),
        first,
        "the salt was kept"
    );
    // A new password is a new verifier.
    let o = poolstack(dir.path())
        .args(["render", "--check"])
        .env("REPORTER_PASSWORD", "pw-2")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out_err(&o));
}

#[test]
fn render_userlist_manifest_and_roles_sql_share_one_salt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let userlist = entry(&dir.path().join("pgbouncer/userlist.txt"), "app");
    let role = role_verifier(&dir.path().join("postgres/initdb.d/10-roles.sql"), "app");
    assert!(userlist.starts_with("SCRAM-SHA-256$"), "{userlist:.20}");
    assert_eq!(userlist, role, "render: userlist.txt and roles.sql");
    // A new file named by -o is no reason for a new salt.
    let o = poolstack(dir.path())
        .args([
            "userlist",
            "--manifest",
            "stack.toml",
            "-o",
            "elsewhere.txt",
        ])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert_eq!(entry(&dir.path().join("elsewhere.txt"), "app"), userlist);
    assert!(!out_err(&o).contains("SCRAM-SHA-256$"), "{}", out_err(&o));
}

#[test]
fn userlist_manifest_then_render_share_one_salt() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--manifest", "stack.toml", "-o", "mine.txt"])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let mine = entry(&dir.path().join("mine.txt"), "app");
    // render of the same manifest reuses that file's salt? No: it is not one of the manifest's
    // files. But once render wrote its files, `userlist --manifest` follows them.
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let rendered = entry(&dir.path().join("pgbouncer/userlist.txt"), "app");
    let o = poolstack(dir.path())
        .args(["userlist", "--manifest", "stack.toml", "-o", "mine.txt"])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let after = entry(&dir.path().join("mine.txt"), "app");
    assert_eq!(after, rendered, "the rendered verifier wins");
    if mine != rendered {
        assert!(out_err(&o).contains("updated app"), "{}", out_err(&o));
    }
}

#[test]
fn a_known_verifier_is_kept_byte_for_byte_and_checked_against_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = STACK
        .replacen("name = \"app\"\npassword", "name = \"trader\"\npassword", 1)
        .replace("user = \"app\"", "user = \"trader\"")
        .replacen(
            "password = { env = \"APP_PASSWORD\" }",
            "password = { env = \"APP_PASSWORD\" }\nrole = false\nverifier = { userlist = \"stored/userlist.txt\" }",
            1,
        );
    std::fs::write(dir.path().join("stack.toml"), &manifest).unwrap();
    // Without the file: check says render cannot write the stored verifier, render refuses.
    let o = poolstack(dir.path()).args(["check"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out_err(&o));
    assert!(
        out_err(&o).contains("AUT010") && out_err(&o).contains("cannot be read"),
        "{}",
        out_err(&o)
    );
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out_err(&o));
    assert!(
        out_err(&o).contains("stored/userlist.txt"),
        "{}",
        out_err(&o)
    );
    assert!(
        out_err(&o).contains("stack.toml:"),
        "located: {}",
        out_err(&o)
    );

    std::fs::create_dir(dir.path().join("stored")).unwrap();
    std::fs::write(
        dir.path().join("stored/userlist.txt"),
        format!("\"trader\" \"{STORED}\"\n"),
    )
    .unwrap();
    let o = poolstack(dir.path()).args(["check"]).output().unwrap();
    assert!(!out_err(&o).contains("AUT010"), "{}", out_err(&o));
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert_eq!(
        entry(&dir.path().join("pgbouncer/userlist.txt"), "trader"),
        STORED
    );
    // role = false: no roles.sql.
    assert!(!dir.path().join("postgres/initdb.d/10-roles.sql").exists());
    // Another password cannot log in with that verifier: AUT010 at the `verifier` key, in check
    // and counted by render, which still writes the stored verifier; no secret shown.
    let o = poolstack(dir.path())
        .args(["check"])
        .env("APP_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out_err(&o));
    let shown = out_err(&o);
    assert!(
        shown.contains("AUT010") && shown.contains("does not accept the"),
        "{shown}"
    );
    assert!(shown.contains("stack.toml:"), "located: {shown}");
    assert!(
        !shown.contains("SCRAM-SHA-256$") && !shown.contains("not-the-password"),
        "{shown}"
    );
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert!(out_err(&o).contains("1 error"), "{}", out_err(&o));
    assert_eq!(
        entry(&dir.path().join("pgbouncer/userlist.txt"), "trader"),
        STORED
    );
    let o = poolstack(dir.path())
        .args(["userlist", "--manifest", "stack.toml", "-o", "u.txt"])
        .env("APP_PASSWORD", "not-the-password")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out_err(&o));
    assert!(out_err(&o).contains("does not accept"), "{}", out_err(&o));

    // With role = true the same verifier goes to roles.sql too.
    std::fs::write(
        dir.path().join("stack.toml"),
        manifest.replace("role = false", "role = true"),
    )
    .unwrap();
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert_eq!(
        role_verifier(&dir.path().join("postgres/initdb.d/10-roles.sql"), "trader"),
        STORED
    );
}

#[test]
fn userlist_for_one_user_says_a_new_salt_needs_the_same_verifier_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "alice", "--password-env", "PW"])
        .env("PW", "alicepw")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let shown = out_err(&o);
    assert!(
        shown.contains("new salt") && shown.contains("--from-postgres"),
        "{shown}"
    );
    assert!(shown.contains("--hash plain"), "{shown}");
    // Kept entries need no note; plaintext never does.
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "alice", "--password-env", "PW"])
        .env("PW", "alicepw")
        .output()
        .unwrap();
    assert!(!out_err(&o).contains("new salt"), "{}", out_err(&o));
    let o = poolstack(dir.path())
        .args([
            "userlist",
            "--user",
            "bob",
            "--password-env",
            "PW",
            "--hash",
            "plain",
        ])
        .env("PW", "bobpw")
        .output()
        .unwrap();
    assert!(!out_err(&o).contains("new salt"), "{}", out_err(&o));
}

#[test]
fn userlist_manifest_warns_about_a_role_managed_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = STACK.replacen(
        "password = { env = \"APP_PASSWORD\" }",
        "password = { env = \"APP_PASSWORD\" }\nrole = false",
        1,
    );
    std::fs::write(dir.path().join("stack.toml"), &manifest).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--manifest", "stack.toml", "-o", "u.txt"])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert!(out_err(&o).contains("AUT010"), "{}", out_err(&o));
    let o = poolstack(dir.path()).args(["check"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", out_err(&o));
    assert!(out_err(&o).contains("AUT010"), "{}", out_err(&o));
    // render still writes it, and counts the finding.
    let o = poolstack(dir.path())
        .args(["render"])
        .env("APP_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert!(out_err(&o).contains("1 error"), "{}", out_err(&o));
}

/// The README's import → render two-liner, exactly as written, in the files' directory and from
/// another one: it renders, never touches the files it read, and keeps the userlist's verifier.
#[test]
fn the_readme_import_round_trip_works_as_written_and_keeps_the_users_files() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handwritten/mt5");
    let files = ["pgbouncer.ini", "userlist.txt", ".env", "postgresql.conf"];
    let verifier = entry(&fixture.join("userlist.txt"), "trader");
    assert!(verifier.starts_with("md5"));
    for (cwd_sub, prefix) in [("", ""), ("", "seed2/")] {
        let tmp = tempfile::tempdir().unwrap();
        let seed = tmp.path().join(prefix);
        std::fs::create_dir_all(&seed).unwrap();
        for f in files {
            std::fs::copy(fixture.join(f), seed.join(f)).unwrap();
        }
        let cwd = tmp.path().join(cwd_sub);
        let before: Vec<Vec<u8>> = files
            .iter()
            .map(|f| std::fs::read(seed.join(f)).unwrap())
            .collect();
        // poolstack import pgbouncer.ini userlist.txt .env postgresql.conf -o stack.toml
        let mut import = poolstack(&cwd);
        import.arg("import");
        for f in files {
            import.arg(format!("{prefix}{f}"));
        }
        let o = import.args(["-o", "stack.toml"]).output().unwrap();
        assert!(o.status.success(), "{prefix}: {}", out_err(&o));
        // POSTGRES_PASSWORD=… poolstack render
        for _ in 0..2 {
            let o = poolstack(&cwd)
                .arg("render")
                .env("POSTGRES_PASSWORD", "trader123")
                .output()
                .unwrap();
            assert!(o.status.success(), "{prefix}: {}", out_err(&o));
        }
        let o = poolstack(&cwd)
            .args(["render", "--check"])
            .env("POSTGRES_PASSWORD", "trader123")
            .output()
            .unwrap();
        assert!(o.status.success(), "{prefix}: stable: {}", out_err(&o));
        for (f, bytes) in files.iter().zip(&before) {
            assert_eq!(
                &std::fs::read(seed.join(f)).unwrap(),
                bytes,
                "{prefix}{f} was changed"
            );
        }
        assert_eq!(
            entry(&cwd.join("pgbouncer/userlist.txt"), "trader"),
            verifier
        );
        let manifest = std::fs::read_to_string(cwd.join("stack.toml")).unwrap();
        assert!(!manifest.contains(&verifier), "the verifier leaked");
        assert!(
            manifest.contains(&format!(
                "verifier = {{ userlist = \"{prefix}userlist.txt\" }}"
            )),
            "{manifest}"
        );
    }
}

/// Files imported from where render would write by default (`pgbouncer/userlist.txt` beside the
/// manifest): the manifest's [outputs] move the rendered files aside instead of over them.
#[test]
fn import_from_renders_default_paths_moves_the_outputs_aside() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handwritten/mt5");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("pgbouncer")).unwrap();
    for f in ["pgbouncer.ini", "userlist.txt"] {
        std::fs::copy(fixture.join(f), tmp.path().join("pgbouncer").join(f)).unwrap();
    }
    let before = std::fs::read(tmp.path().join("pgbouncer/userlist.txt")).unwrap();
    let o = poolstack(tmp.path())
        .args([
            "import",
            "pgbouncer/pgbouncer.ini",
            "pgbouncer/userlist.txt",
            "--pg-version",
            "16",
            "-o",
            "stack.toml",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let o = poolstack(tmp.path())
        .arg("render")
        .env("TRADER_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    assert_eq!(
        std::fs::read(tmp.path().join("pgbouncer/userlist.txt")).unwrap(),
        before
    );
    assert!(tmp.path().join("rendered/pgbouncer/pgbouncer.ini").exists());
    assert_eq!(
        std::fs::read(tmp.path().join("rendered/pgbouncer/userlist.txt")).unwrap(),
        before,
        "the same entry, byte for byte"
    );
}

#[test]
fn create_needs_an_owner_among_the_users() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("create = true\nowner = \"nobody\"", "not a [[users]] name"),
        ("owner = \"app\"", "only with `create = true`"),
    ];
    for (keys, says) in cases {
        let manifest = STACK.replacen("name = \"app\"\n", &format!("name = \"app\"\n{keys}\n"), 1);
        std::fs::write(dir.path().join("stack.toml"), manifest).unwrap();
        let o = poolstack(dir.path()).args(["check"]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", out_err(&o));
        assert!(out_err(&o).contains(says), "{}", out_err(&o));
        assert!(out_err(&o).contains("stack.toml:"), "{}", out_err(&o));
    }
    // The default owner: the database's first user.
    let manifest = STACK.replacen("name = \"app\"\n", "name = \"app\"\ncreate = true\n", 1);
    std::fs::write(dir.path().join("stack.toml"), manifest).unwrap();
    let o = poolstack(dir.path())
        .arg("render")
        .env("APP_PASSWORD", "pw")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let sql = std::fs::read_to_string(dir.path().join("postgres/initdb.d/10-roles.sql")).unwrap();
    assert!(
        sql.contains("format('CREATE DATABASE %I OWNER %I', 'app', 'app')"),
        "{sql}"
    );
}
