//! Passwords and verifiers never reach output (docs/product.md): `--format human` draws source
//! lines, so the secrets in a userlist.txt and a `.env`'s URL are shown as `*`, while every
//! finding is still reported at the same line and column.

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

const PLAIN: &str = "hunter2";
const MD5: &str = "md5a3556571e93b0d20722ba62be61e8c2d";
const SCRAM: &str = "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0c2FsdA==$U1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1NTU1M=:S0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0tLS0s=";
const URL_PASSWORD: &str = "s3cretPW";

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("poolstack")
        .unwrap()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `CODE at file:line:col` of every finding, from the JSON report (which prints no source text).
fn places(dir: &Path, files: &[&str]) -> Vec<String> {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(files);
    let (_, stdout, stderr) = run(dir, &args);
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}] at {}:{}:{}",
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"]
            )
        })
        .collect()
}

fn stack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "pgbouncer.ini",
        "[databases]\napp = host=db dbname=app\n[pgbouncer]\nlisten_port = 6432\n\
         auth_type = scram-sha-256\nauth_file = userlist.txt\n",
    );
    write(
        "userlist.txt",
        &format!("\"admin\" \"{PLAIN}\"\n\"legacy\" \"{MD5}\"\n\"app\" \"{SCRAM}\"\n"),
    );
    write(
        ".env",
        &format!(
            "DATABASE_URL=postgresql+psycopg://app:{URL_PASSWORD}@localhost:6432/app\
             ?options=-c%20statement_timeout%3D5s\nDB_POOL_SIZE=5\n"
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(dir.path().join("userlist.txt"), mode.clone()).unwrap();
        std::fs::set_permissions(dir.path().join(".env"), mode).unwrap();
    }
    dir
}

fn assert_no_secret(out: &str) {
    for secret in [
        PLAIN,
        MD5,
        &MD5[3..],
        SCRAM,
        "c2FsdHNhbHRzYWx0c2FsdA==",
        URL_PASSWORD,
    ] {
        assert!(!out.contains(secret), "`{secret}` is shown:\n{out}");
    }
}

#[test]
fn human_snippets_show_no_userlist_secret() {
    let dir = stack();
    let files = ["pgbouncer.ini", "userlist.txt"];
    let expected = places(dir.path(), &files);
    // The findings that point at the secrets themselves are there.
    for code in [
        "AUT002] at userlist.txt:2:11",
        "AUT009] at userlist.txt:1:10",
    ] {
        assert!(expected.iter().any(|p| p == code), "{expected:#?}");
    }
    let (code, stdout, stderr) = run(dir.path(), &["check", "pgbouncer.ini", "userlist.txt"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    for place in &expected {
        assert!(
            stdout.contains(place.as_str()),
            "{place} missing:\n{stdout}"
        );
    }
    // The snippet still has the line, with the secret as a fixed-width mask (not its length).
    assert!(stdout.contains("\"admin\" \"********\""), "{stdout}");
}

#[test]
fn human_snippets_show_no_url_password() {
    let dir = stack();
    let files = ["pgbouncer.ini", "userlist.txt", ".env"];
    let expected = places(dir.path(), &files);
    assert!(
        expected.iter().any(|p| p.starts_with("PRE005] at .env:1:")),
        "{expected:#?}"
    );
    let (code, stdout, stderr) = run(
        dir.path(),
        &["check", "pgbouncer.ini", "userlist.txt", ".env"],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    for place in &expected {
        assert!(
            stdout.contains(place.as_str()),
            "{place} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("app:********@localhost"), "{stdout}");
}

/// A password written in stack.toml is AUT001, drawn at its place with the value starred out.
#[test]
fn human_snippets_show_no_manifest_password() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
    )
    .unwrap();
    // The app then names its own variable (it cannot refer to a literal).
    let literal = manifest
        .replace(
            "password = { env = \"POSTGRES_PASSWORD\" }",
            &format!("password = \"{PLAIN}\""),
        )
        .replace(
            "name = \"api\"",
            "name = \"api\"\npassword_env = \"DB_PASSWORD\"",
        );
    assert_ne!(literal, manifest);
    std::fs::write(dir.path().join("stack.toml"), literal).unwrap();
    let expected = places(dir.path(), &["stack.toml"]);
    assert!(
        expected
            .iter()
            .any(|p| p.starts_with("AUT001] at stack.toml:68:")),
        "{expected:#?}"
    );
    let (_, stdout, stderr) = run(dir.path(), &["check", "stack.toml"]);
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    for place in &expected {
        assert!(
            stdout.contains(place.as_str()),
            "{place} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("password = \"********\""), "{stdout}");
}

/// A URL the app could not use is CAT002, and its message quotes the URL: without the password,
/// in every format.
#[test]
fn a_refused_url_is_quoted_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=postgresql://app:{URL_PASSWORD}@db:notaport/app\n"),
    )
    .unwrap();
    assert_eq!(places(dir.path(), &[".env"]), ["CAT002] at .env:1:14"]);
    for format in ["human", "json", "sarif", "github"] {
        let (code, stdout, stderr) = run(dir.path(), &["check", "--format", format, ".env"]);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert_no_secret(&stdout);
        assert_no_secret(&stderr);
        assert!(stdout.contains("app:********@db"), "{format}: {stdout}");
    }
}

/// AUT007 draws the line where PgBouncer stops reading; the secrets on it and after it, which
/// PgBouncer never loads, are starred out too.
#[test]
fn secrets_past_a_broken_line_are_not_shown() {
    let dir = stack();
    std::fs::write(
        dir.path().join("userlist.txt"),
        format!("\"legacy\" \"{MD5}\"\n# \"admin\" \"{PLAIN}\"\n\"app\" \"{URL_PASSWORD}\"\n"),
    )
    .unwrap();
    let files = ["pgbouncer.ini", "userlist.txt"];
    let expected = places(dir.path(), &files);
    assert!(
        expected
            .iter()
            .any(|p| p.starts_with("AUT007] at userlist.txt:2:")),
        "{expected:#?}"
    );
    let (_, stdout, stderr) = run(dir.path(), &["check", "pgbouncer.ini", "userlist.txt"]);
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    for place in &expected {
        assert!(
            stdout.contains(place.as_str()),
            "{place} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("# \"admin\" \"********\""), "{stdout}");
}

/// An input error (exit 2) draws its line too: a bad `poolstack:` comment next to an entry.
#[test]
fn an_input_error_in_a_userlist_shows_no_secret() {
    let dir = stack();
    std::fs::write(
        dir.path().join("userlist.txt"),
        format!("\"admin\" \"{PLAIN}\"\n; poolstack: ignore AUT09 typo\n\"legacy\" \"{MD5}\"\n"),
    )
    .unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["check", "pgbouncer.ini", "userlist.txt"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("userlist.txt:2:"), "{stderr}");
    assert!(stderr.contains("\"admin\" \"********\""), "{stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
}

/// A `[databases]` connection string may carry `password=`: starred out where its line is drawn.
#[test]
fn a_connection_string_password_is_not_shown() {
    let dir = stack();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        format!(
            "[databases]\napp = host=db dbname=app user=app password={URL_PASSWORD} bogus=1\n\
             ops = host=db password='{PLAIN}' bogus=2\n[pgbouncer]\nlisten_port = 6432\n"
        ),
    )
    .unwrap();
    let expected = places(dir.path(), &["pgbouncer.ini"]);
    assert!(
        expected
            .iter()
            .any(|p| p.starts_with("CAT001] at pgbouncer.ini:2:")),
        "{expected:#?}"
    );
    let (_, stdout, stderr) = run(dir.path(), &["check", "pgbouncer.ini"]);
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    for place in &expected {
        assert!(
            stdout.contains(place.as_str()),
            "{place} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("password=******** bogus=1"), "{stdout}");
    assert!(stdout.contains("password='********' bogus=2"), "{stdout}");
}

/// A `.env` may hold secrets outside DATABASE_URL too: variables named like one, and any other
/// URL with a password. A finding drawn next to them shows neither; references stay visible.
#[test]
fn other_env_secrets_are_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "POSTGRES_PASSWORD={URL_PASSWORD}\nDB_POOL_SIZE=five\nADMIN_URL=postgresql://admin:{PLAIN}@db/x\nAPP_PASSWORD=${{FROM_VAULT}}\n"
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["check", ".env"]);
    // DB_POOL_SIZE=five is CAT002, drawn with the lines around it: both secrets' lines.
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("CAT002] at .env:2:"), "{stdout}");
    assert!(stdout.contains("POSTGRES_PASSWORD=********"), "{stdout}");
    assert!(
        stdout.contains("ADMIN_URL=postgresql://admin:********@db/x"),
        "{stdout}"
    );
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
}

fn mt5_manifest() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"))
        .unwrap()
}

/// A manifest that does not parse (a syntax error, an unknown key, a wrong type, a duplicate
/// key, an unterminated string) next to a literal password: the password is starred out of
/// the snippet before the first report is drawn.
#[test]
fn manifest_input_errors_near_a_password_do_not_show_it() {
    let with_pw = mt5_manifest().replace(
        "password = { env = \"POSTGRES_PASSWORD\" }",
        &format!("password = \"{PLAIN}\""),
    );
    // Each on the line right after the password, so the snippet draws the password's line.
    let pw_line = format!("password = \"{PLAIN}\"");
    let breakages = [
        format!("{pw_line}\nrolee = true"),     // unknown key
        format!("{pw_line}\npool_mode = 5"),    // wrong type
        format!("{pw_line}\n= false"),          // syntax error
        format!("{pw_line}\nname = \"again\""), // duplicate key
    ];
    let dir = tempfile::tempdir().unwrap();
    for to in &breakages {
        let text = with_pw.replace(&pw_line, to);
        assert_ne!(text, with_pw);
        std::fs::write(dir.path().join("stack.toml"), text).unwrap();
        for format in ["human", "json"] {
            let (code, stdout, stderr) =
                run(dir.path(), &["check", "--format", format, "stack.toml"]);
            assert_eq!(code, Some(2), "{to}: {stdout}{stderr}");
            assert_no_secret(&stdout);
            assert_no_secret(&stderr);
            let all = format!("{stdout}{stderr}");
            assert!(
                all.contains("stack.toml:") || all.contains("\"file\": \"stack.toml\""),
                "{to}: not located\n{all}"
            );
        }
    }
    // An unterminated string: the password runs to the end of its line.
    let text = mt5_manifest().replace(
        "password = { env = \"POSTGRES_PASSWORD\" }",
        &format!("password = \"{PLAIN}"),
    );
    std::fs::write(dir.path().join("stack.toml"), text).unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["check", "stack.toml"]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert_no_secret(&stdout);
    assert_no_secret(&stderr);
    assert!(stderr.contains("stack.toml:"), "{stderr}");
}

/// `password="…"` in a connection string keeps its double quotes (CAT005): the message says so
/// without quoting the password, in every format.
#[test]
fn a_double_quoted_connection_string_password_is_not_quoted_in_messages() {
    let dir = stack();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        format!("[databases]\napp = host=db dbname=app password=\"{PLAIN}\"\n[pgbouncer]\nlisten_port = 6432\n"),
    )
    .unwrap();
    assert!(
        places(dir.path(), &["pgbouncer.ini"])
            .iter()
            .any(|p| p.starts_with("CAT005] at pgbouncer.ini:2:"))
    );
    for format in ["human", "json", "sarif", "github"] {
        let (_, stdout, stderr) = run(dir.path(), &["check", "--format", format, "pgbouncer.ini"]);
        assert_no_secret(&stdout);
        assert_no_secret(&stderr);
        assert!(stdout.contains("CAT005"), "{format}: {stdout}");
    }
}

/// Userlist lines PgBouncer or poolstack cannot read as entries still hold secrets: everything
/// after the user name is starred — in `check` and when `userlist -o` refuses the file.
#[test]
fn malformed_userlist_lines_show_only_the_user_name() {
    let dir = stack();
    for (line, user) in [
        (format!("\"admin\" {PLAIN}\n"), "\"admin\""), // unquoted secret
        (format!("\"admin\" \"{PLAIN}\n"), "\"admin\""), // unterminated quote
        (format!("\"admin\" '{PLAIN}'\n"), "\"admin\""), // single quotes
    ] {
        std::fs::write(
            dir.path().join("userlist.txt"),
            format!("\"legacy\" \"{MD5}\"\n{line}\"app\" \"{URL_PASSWORD}\"\n"),
        )
        .unwrap();
        let (_, stdout, stderr) = run(dir.path(), &["check", "pgbouncer.ini", "userlist.txt"]);
        assert_no_secret(&stdout);
        assert_no_secret(&stderr);
        assert!(
            stdout.contains(user),
            "{line}: the user name is not shown\n{stdout}"
        );
        let out = Command::cargo_bin("poolstack")
            .unwrap()
            .env("NO_COLOR", "1")
            .env("TP", "another-password")
            .current_dir(dir.path())
            .args([
                "userlist",
                "--user",
                "app",
                "--password-env",
                "TP",
                "-o",
                "userlist.txt",
            ])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_secret(&all);
    }
}

/// Passwords in other places a line is drawn from: postgresql.conf's primary_conninfo, an
/// unterminated connection-string quote, a URL whose password holds an unencoded `/`, a
/// `PGPASS=` variable.
#[test]
fn passwords_in_other_syntaxes_are_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("postgresql.conf"),
        format!(
            "primary_conninfo = 'host=primary user=rep password={PLAIN}'\nmax_connections = lots\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        format!("[databases]\napp = host=db password='{PLAIN} dbname=app\n[pgbouncer]\nlisten_port = 6432\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "DATABASE_URL=postgresql://app:ab/{URL_PASSWORD}@db:notaport/app\nPGPASS={PLAIN} DB_POOL_SIZE=x\n"
        ),
    )
    .unwrap();
    for file in ["postgresql.conf", "pgbouncer.ini", ".env"] {
        for format in ["human", "json", "github"] {
            let (code, stdout, stderr) = run(
                dir.path(),
                &[
                    "check",
                    "--format",
                    format,
                    "--pg-version",
                    "16",
                    "--pgbouncer-version",
                    "1.21",
                    file,
                ],
            );
            assert!(matches!(code, Some(1 | 2)), "{file}: {stdout}{stderr}");
            assert_no_secret(&stdout);
            assert_no_secret(&stderr);
        }
    }
}

/// Known verifiers (`verifier = { userlist }`), AUT010, import of a verifier, `userlist
/// --manifest` and `userlist --user`: no password, md5 hash or SCRAM verifier in any output, in
/// any format.
#[test]
fn verifier_provenance_and_aut010_never_show_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "stored.txt",
        &format!("\"app\" \"{SCRAM}\"\n\"legacy\" \"{MD5}\"\n"),
    );
    write(
        "stack.toml",
        r#"[stack]
name = "s"

[postgres]
version = 15
host = "db"
memory = "4GB"

[pgbouncer]
version = "1.18"

[[databases]]
name = "app"
users = ["app", "legacy", "fresh"]

[[users]]
name = "app"
password = { env = "APP_PW" }
role = false
verifier = { userlist = "stored.txt" }

[[users]]
name = "legacy"
password = { env = "APP_PW" }
role = false
verifier = { userlist = "stored.txt" }

[[users]]
name = "fresh"
password = { env = "APP_PW" }
role = false
"#,
    );
    let with_pw = |args: &[&str]| {
        let out = Command::cargo_bin("poolstack")
            .unwrap()
            .env("NO_COLOR", "1")
            .env("APP_PW", PLAIN)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    for format in ["human", "json", "sarif", "github"] {
        let out = with_pw(&["check", "--format", format]);
        assert!(out.contains("AUT010"), "{format}: {out}");
        assert_no_secret(&out);
    }
    for args in [
        &["render"][..],
        &["render", "--check"],
        &["render"],
        &["userlist", "--manifest", "stack.toml", "-o", "u.txt"],
        &[
            "userlist",
            "--user",
            "x",
            "--password-env",
            "APP_PW",
            "-o",
            "u2.txt",
        ],
        &["explain", "AUT010"],
    ] {
        let out = with_pw(args);
        assert_no_secret(&out);
    }
    // import of a userlist holding verifiers: the manifest and the output name the file only.
    write(
        "pgbouncer.ini",
        "[databases]\napp = host=db dbname=app\n[pgbouncer]\nauth_type = scram-sha-256\nauth_file = stored.txt\n",
    );
    let out = with_pw(&[
        "import",
        "pgbouncer.ini",
        "stored.txt",
        "--pg-version",
        "15",
        "--pgbouncer-version",
        "1.18",
        "-o",
        "imported.toml",
    ]);
    assert_no_secret(&out);
    let manifest = std::fs::read_to_string(dir.path().join("imported.toml")).unwrap();
    assert_no_secret(&manifest);
    assert!(
        manifest.contains("verifier = { userlist = \"stored.txt\" }"),
        "{manifest}"
    );
}

/// Found by tests/hostile_props.rs: a duplicate `[databases]` entry's message quotes the
/// winning connection string; text glued to a quoted password's closing quote is part of it.
#[test]
fn a_duplicate_database_message_quotes_no_password() {
    let dir = stack();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        format!(
            "[databases]\napp = host=db dbname=app\napp = host=db password='x'{PLAIN} dbname=app\n[pgbouncer]\nlisten_port = 6432\n"
        ),
    )
    .unwrap();
    for format in ["human", "json"] {
        let (_, stdout, stderr) = run(
            dir.path(),
            &[
                "check",
                "--format",
                format,
                "--pgbouncer-version",
                "1.21",
                "pgbouncer.ini",
            ],
        );
        assert!(stdout.contains("CAT006"), "{stdout}");
        assert_no_secret(&stdout);
        assert_no_secret(&stderr);
    }
}
