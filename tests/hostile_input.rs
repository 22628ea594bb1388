//! Hostile input (issue 18): no panic, bounded time and memory, every input error located.
//! Each test is a reproducer the fuzzer found; each would hang, run out of memory or exit 101
//! before its fix.

use assert_cmd::Command;
use std::path::Path;

fn poolstack(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1").current_dir(dir);
    c
}

struct Run {
    code: Option<i32>,
    all: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = poolstack(dir).args(args).output().unwrap();
    Run {
        code: out.status.code(),
        all: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn findings_past_column_65535_are_drawn_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let pad = " ".repeat(70_000);
    let files = [
        ("p.conf", format!("max_connections = {pad}x\n")),
        (
            "pgbouncer.ini",
            format!("[databases]\n[pgbouncer]\nlisten_port = {pad}y\n"),
        ),
        (".env", format!("DB_POOL_SIZE={pad}z\n")),
        (
            "stack.toml",
            format!("[stack]\nname = \"x\"\n[postgres]\nversion = 16\nport = {pad}\"a\"\n"),
        ),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
        let r = if *name == "stack.toml" {
            run(dir.path(), &["check", name])
        } else {
            run(
                dir.path(),
                &[
                    "check",
                    "--pg-version",
                    "16",
                    "--pgbouncer-version",
                    "1.21",
                    name,
                ],
            )
        };
        assert!(
            matches!(r.code, Some(1 | 2)),
            "{name}: {:?}\n{}",
            r.code,
            r.all
        );
        assert!(
            r.all.contains(&format!("{name}:")),
            "{name}: not located\n{}",
            r.all
        );
        assert!(
            r.all.lines().all(|l| l.len() < 1000),
            "{name}: a line of the report is huge"
        );
    }
    let r = run(
        dir.path(),
        &["import", "--pg-version", "16", "p.conf", "-o", "out.toml"],
    );
    assert!(matches!(r.code, Some(1 | 2)), "{:?}\n{}", r.code, r.all);
    assert!(r.all.contains("p.conf:1:"), "{}", r.all);
}

/// 10 files, each including the next 6 times, within both servers' depth limits: 6^9 reads if
/// each include were followed.
#[test]
fn include_fan_out_reads_each_file_once_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let name = |i: usize, ext: &str| match i {
        0 if ext == "ini" => "pgbouncer.ini".to_string(),
        0 => "postgresql.conf".to_string(),
        _ => format!("f{i}.{ext}"),
    };
    for i in 0..9 {
        let ini: String = (0..6)
            .map(|_| format!("%include {}\n", name(i + 1, "ini")))
            .collect();
        let conf: String = (0..6)
            .map(|_| format!("include '{}'\n", name(i + 1, "conf")))
            .collect();
        std::fs::write(dir.path().join(name(i, "ini")), ini).unwrap();
        std::fs::write(dir.path().join(name(i, "conf")), conf).unwrap();
    }
    std::fs::write(
        dir.path().join(name(9, "ini")),
        "[databases]\n[pgbouncer]\nlisten_port = 6432\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(name(9, "conf")), "max_connections = 100\n").unwrap();
    for file in ["pgbouncer.ini", "postgresql.conf"] {
        let r = run(
            dir.path(),
            &[
                "check",
                "--pg-version",
                "16",
                "--pgbouncer-version",
                "1.21",
                file,
            ],
        );
        assert!(
            r.code.is_some_and(|c| c < 2),
            "{file}: {:?}\n{}",
            r.code,
            r.all
        );
        assert!(
            r.all.contains("CAT006"),
            "{file}: the repeated includes are not reported\n{}",
            r.all
        );
        assert!(r.all.contains("reads each file once"), "{}", r.all);
    }
}

#[cfg(target_os = "linux")]
#[test]
fn devices_are_never_read_as_files() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.ini")).unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "[databases]\n[pgbouncer]\nlisten_port = 6432\n%include zero.ini\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("postgresql.conf"), "include '/dev/zero'\n").unwrap();
    for file in ["pgbouncer.ini", "postgresql.conf"] {
        let r = run(
            dir.path(),
            &[
                "check",
                "--pg-version",
                "16",
                "--pgbouncer-version",
                "1.21",
                file,
            ],
        );
        assert!(
            r.code.is_some_and(|c| c < 2),
            "{file}: {:?}\n{}",
            r.code,
            r.all
        );
        assert!(r.all.contains("not a regular file"), "{file}: {}", r.all);
    }
    let r = run(dir.path(), &["check", "/dev/zero"]);
    assert_eq!(r.code, Some(2), "{}", r.all);
    // A password file that is a device.
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
    )
    .unwrap()
    .replace(
        "password = { env = \"POSTGRES_PASSWORD\" }",
        "password = { file = \"/dev/zero\" }",
    )
    .replace(
        "name = \"api\"",
        "name = \"api\"\npassword_env = \"TRADER_PW\"",
    );
    std::fs::write(dir.path().join("stack.toml"), manifest).unwrap();
    let r = run(dir.path(), &["render"]);
    assert_eq!(r.code, Some(2), "{}", r.all);
    assert!(r.all.contains("not a regular file"), "{}", r.all);
    assert!(r.all.contains("stack.toml:"), "not located: {}", r.all);
}

/// An existing SCRAM entry claiming 2^31−1 iterations would be minutes of PBKDF2.
#[test]
fn a_scram_verifier_with_huge_iterations_is_not_verified() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("userlist.txt"),
        "\"trader\" \"SCRAM-SHA-256$2147483647:4HtJJE5bCQI77HSC1vwXUg==$3ffeut4cospissS7tTZ3oa6FqQaEAzd3vreQFeE+4R0=:dZAG2UOn5qavObXMO6rxQIEjU7aL+gwsAh++3AxE1BQ=\"\n",
    )
    .unwrap();
    let out = poolstack(dir.path())
        .args(["userlist", "--user", "trader", "--password-env", "TP"])
        .env("TP", "trader123")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("not verified: 2147483647 iterations"), "{all}");
    let text = std::fs::read_to_string(dir.path().join("userlist.txt")).unwrap();
    assert!(text.contains("SCRAM-SHA-256$4096:"), "{text}");
}

#[test]
fn manifest_encoding_errors_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), b"[stack]\nname = \"x\xff\"\n").unwrap();
    let r = run(dir.path(), &["check", "bad.toml"]);
    assert_eq!(r.code, Some(2), "{}", r.all);
    assert!(r.all.contains("bad.toml:2:10"), "{}", r.all);
    std::fs::write(dir.path().join("p.conf"), b"a = 1\nmax_connections = 1\0\n").unwrap();
    let r = run(dir.path(), &["check", "p.conf"]);
    assert_eq!(r.code, Some(2), "{}", r.all);
    assert!(r.all.contains("p.conf:2:20"), "{}", r.all);
}

/// A value no manifest can carry is a located finding of the file, never "a bug in import";
/// with --force it is left out and the rest is imported.
#[test]
fn import_reports_an_out_of_range_value_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "[databases]\napp = host=127.0.0.1 dbname=app\n[pgbouncer]\nlisten_port = 6432\nserver_lifetime = 9223372036854775807\n",
    )
    .unwrap();
    let args = [
        "import",
        "--pg-version",
        "16",
        "--pgbouncer-version",
        "1.21",
        "pgbouncer.ini",
        "-o",
        "stack.toml",
    ];
    let r = run(dir.path(), &args);
    assert_eq!(r.code, Some(1), "{}", r.all);
    assert!(r.all.contains("pgbouncer.ini:5:19"), "{}", r.all);
    assert!(r.all.contains("out of range"), "{}", r.all);
    assert!(!r.all.contains("a bug in import"), "{}", r.all);
    assert!(!dir.path().join("stack.toml").exists());
    let mut forced = args.to_vec();
    forced.push("--force");
    let r = run(dir.path(), &forced);
    assert_eq!(r.code, Some(0), "{}", r.all);
    let manifest = std::fs::read_to_string(dir.path().join("stack.toml")).unwrap();
    assert!(!manifest.contains("server_lifetime"), "{manifest}");
}

/// A password no server can use is an input error at the manifest line of its source.
#[test]
fn a_password_with_a_nul_byte_is_located_at_its_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), b"a\0b").unwrap();
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml"),
    )
    .unwrap()
    .replace(
        "password = { env = \"POSTGRES_PASSWORD\" }",
        "password = { file = \"pw\" }",
    )
    .replace(
        "name = \"api\"",
        "name = \"api\"\npassword_env = \"TRADER_PW\"",
    );
    std::fs::write(dir.path().join("stack.toml"), manifest).unwrap();
    let r = run(dir.path(), &["render"]);
    assert_eq!(r.code, Some(2), "{}", r.all);
    assert!(r.all.contains("stack.toml:68:12"), "{}", r.all);
    assert!(r.all.contains("NUL byte"), "{}", r.all);
}
