//! `poolstack userlist`: the generate_userlist.sh replacement, as users run it.

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

#[test]
fn adds_keeps_and_updates_entries_without_printing_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let o = poolstack(dir.path())
        .args([
            "userlist",
            "--user",
            "trader",
            "--password-env",
            "TP",
            "--hash",
            "md5",
        ])
        .env("TP", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let file = dir.path().join("userlist.txt");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "\"trader\" \"md54e8e284407a8e714c4d7c4722e72ac3f\"\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(String::from_utf8_lossy(&o.stdout).contains("added trader (md5)"));
    assert!(!out_err(&o).contains("trader123") && !out_err(&o).contains("md54e8e"));

    // A hand-kept file with a comment and another user: both stay, in order.
    std::fs::write(&file, "; managed by ops\n\"grafana\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n\"trader\" \"md54e8e284407a8e714c4d7c4722e72ac3f\"\n").unwrap();
    let o = poolstack(dir.path())
        .args([
            "userlist",
            "--user",
            "trader",
            "--password-env",
            "TP",
            "--hash",
            "md5",
        ])
        .env("TP", "trader123")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("kept trader"),
        "{}",
        out_err(&o)
    );
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "trader", "--password-env", "TP"])
        .env("TP", "new-password")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("updated trader (scram-sha-256)"),
        "{}",
        out_err(&o)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("; managed by ops\n\"grafana\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n\"trader\" \"SCRAM-SHA-256$4096:"), "{text}");
    let parsed = Userlist::parse(&text);
    assert!(poolstack::auth::verifies(
        "trader",
        "new-password",
        &parsed.get("trader").unwrap().secret
    ));
    // SCRAM entries that still verify are kept byte for byte.
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "trader", "--password-env", "TP"])
        .env("TP", "new-password")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("kept trader"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

#[test]
fn batch_from_stdin_escapes_names_as_pgbouncer_expects() {
    let dir = tempfile::tempdir().unwrap();
    let o = poolstack(dir.path())
        .args([
            "userlist", "--batch", "-", "--hash", "md5", "-o", "list.txt",
        ])
        .write_stdin("alice\tpw-a\nbob \"the\" builder\tpw b\n\n")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let text = std::fs::read_to_string(dir.path().join("list.txt")).unwrap();
    assert!(text.contains("\"bob \"\"the\"\" builder\" \"md5"), "{text}");
    let parsed = Userlist::parse(&text);
    assert!(poolstack::auth::verifies(
        "bob \"the\" builder",
        "pw b",
        &parsed.get("bob \"the\" builder").unwrap().secret
    ));
    assert!(poolstack::auth::verifies(
        "alice",
        "pw-a",
        &parsed.get("alice").unwrap().secret
    ));
    // A line without a tab is located.
    let o = poolstack(dir.path())
        .args(["userlist", "--batch", "-", "-o", "list.txt"])
        .write_stdin("carol pw\n")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        out_err(&o).contains("-:1: expected `user<TAB>password`"),
        "{}",
        out_err(&o)
    );
}

#[test]
fn manifest_users_get_their_own_secret_types() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mt5/stack.toml");
    let o = poolstack(dir.path())
        .args(["userlist", "--manifest"])
        .arg(&manifest)
        .env("POSTGRES_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    // The MT5 manifest says userlist_hash = "md5": the same line generate_userlist.sh wrote.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("userlist.txt")).unwrap(),
        "\"trader\" \"md54e8e284407a8e714c4d7c4722e72ac3f\"\n"
    );
}

#[test]
fn lines_pgbouncer_would_misread_are_reported_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("userlist.txt");
    for text in [
        "\"a\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n# ops users\n\"b\" \"secret\"\n",
        "\"a\" \"md5AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"\n",
    ] {
        std::fs::write(&file, text).unwrap();
        let o = poolstack(dir.path())
            .args(["userlist", "--user", "c", "--password-env", "TP"])
            .env("TP", "x")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", out_err(&o));
        assert!(out_err(&o).contains("AUT007"), "{}", out_err(&o));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            text,
            "the file must not change"
        );
    }
}

#[test]
fn bad_password_sources_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // No terminal and no other source.
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "q"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(out_err(&o).contains("no terminal"), "{}", out_err(&o));
    // Empty password.
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "q", "--password-stdin"])
        .write_stdin("\n")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(out_err(&o).contains("empty"), "{}", out_err(&o));
    // Unreadable password file (a directory in its place: tests run as root).
    std::fs::create_dir(dir.path().join("pw")).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "q", "--password-file", "pw"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        out_err(&o).contains("cannot read the password file pw"),
        "{}",
        out_err(&o)
    );
    // Two user sources.
    let o = poolstack(dir.path())
        .args(["userlist", "--user", "q", "--batch", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("userlist.txt").exists());
}

#[test]
fn a_user_given_twice_in_a_batch_is_an_input_error_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("batch.tsv"),
        "alice\tpw-first\nbob\ttwo\n\nalice\tpw-again\n",
    )
    .unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--batch", "batch.tsv", "--hash", "md5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", out_err(&o));
    let text = out_err(&o);
    assert!(
        text.contains("batch.tsv:4: user `alice` is given twice, on lines 1 and 4"),
        "{text}"
    );
    assert!(
        !text.contains("pw-first") && !text.contains("pw-again"),
        "{text}"
    );
    assert!(!dir.path().join("userlist.txt").exists());
    // From standard input too.
    let o = poolstack(dir.path())
        .args(["userlist", "--batch", "-", "--hash", "md5"])
        .write_stdin("bob\tx\nbob\ty\n")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        out_err(&o).contains("standard input:2: user `bob` is given twice, on lines 1 and 2"),
        "{}",
        out_err(&o)
    );
}

#[test]
fn many_users_get_a_summary_and_verbose_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let batch: String = (0..50).map(|i| format!("user{i}\tpw{i}\n")).collect();
    std::fs::write(dir.path().join("batch.tsv"), &batch).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--batch", "batch.tsv", "--hash", "md5"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout,
        "poolstack: userlist.txt (created, mode 0600): 50 added, 0 updated, 0 kept\n"
    );
    let o = poolstack(dir.path())
        .args([
            "userlist",
            "--batch",
            "batch.tsv",
            "--hash",
            "md5",
            "--verbose",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(stdout.lines().count(), 51, "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("kept") && l.contains("user7")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 added, 0 updated, 50 kept\n"),
        "{stdout}"
    );
    // A handful are listed without asking.
    let o = poolstack(dir.path())
        .args(["userlist", "--batch", "-", "--hash", "md5", "-o", "few.txt"])
        .write_stdin("a\t1\nb\t2\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
}

/// `userlist --user trader` with an md5 secret, in `dir`, writing `-o out`.
fn add_trader(dir: &Path, out: &str) -> std::process::Output {
    poolstack(dir)
        .args([
            "userlist",
            "--user",
            "trader",
            "--password-env",
            "TP",
            "--hash",
            "md5",
            "-o",
            out,
        ])
        .env("TP", "trader123")
        .output()
        .unwrap()
}

#[test]
fn lines_it_does_not_change_are_kept_byte_for_byte_whatever_their_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("userlist.txt");
    let latin1: &[u8] = b"\"jos\xe9\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n; caf\xe9 \xff\n";
    std::fs::write(&file, latin1).unwrap();
    let o = add_trader(dir.path(), "userlist.txt");
    assert!(o.status.success(), "{}", out_err(&o));
    let after = std::fs::read(&file).unwrap();
    assert!(
        after.starts_with(latin1),
        "{:?}",
        String::from_utf8_lossy(&after)
    );
    assert!(after.ends_with(b"\"trader\" \"md54e8e284407a8e714c4d7c4722e72ac3f\"\n"));
}

#[test]
fn an_output_that_is_a_symlink_is_written_through_keeping_owner_and_mode() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let etc = tempfile::tempdir().unwrap();
    let target = etc.path().join("userlist.txt");
    std::fs::write(
        &target,
        "\"grafana\" \"md5aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let root = std::fs::metadata(etc.path()).unwrap().uid() == 0;
    if root {
        std::os::unix::fs::chown(&target, Some(4321), Some(4322)).unwrap();
    }
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = add_trader(dir.path(), "link.txt");
    assert!(o.status.success(), "{}", out_err(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("written through the symlink"), "{stdout}");
    assert!(
        stdout.contains("removed access for others (mode 0644 → 0640)"),
        "{stdout}"
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(
        text.contains("grafana") && text.contains("trader"),
        "{text}"
    );
    let m = std::fs::metadata(&target).unwrap();
    assert_eq!(m.mode() & 0o777, 0o640);
    if root {
        assert_eq!((m.uid(), m.gid()), (4321, 4322));
    }
    // The temp file went to the target's directory, and none is left anywhere.
    for d in [dir.path(), etc.path()] {
        let tmp = std::fs::read_dir(d)
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with(".poolstack-"));
        assert!(!tmp, "temp file left in {}", d.display());
    }
    // Nothing to change: the file is left alone and said to be unchanged.
    let ino = m.ino();
    let o = add_trader(dir.path(), "link.txt");
    assert!(o.status.success(), "{}", out_err(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("(unchanged, mode 0640)"),
        "{}",
        out_err(&o)
    );
    assert_eq!(std::fs::metadata(&target).unwrap().ino(), ino);
}

/// Many new SCRAM entries get one note about their fresh salts, not one per user.
#[test]
fn many_fresh_scram_salts_get_one_note() {
    let dir = tempfile::tempdir().unwrap();
    let batch: String = (0..20).map(|i| format!("user{i}\tpw{i}\n")).collect();
    std::fs::write(dir.path().join("batch.tsv"), &batch).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--batch", "batch.tsv"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out_err(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("poolstack: note:").count(), 1, "{stderr}");
    assert!(
        stderr.contains("20 users got SCRAM verifiers with new salts"),
        "{stderr}"
    );
    let o = poolstack(dir.path())
        .args([
            "userlist",
            "--batch",
            "batch.tsv",
            "--verbose",
            "-o",
            "v.txt",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr
            .matches("got a SCRAM verifier with a new salt")
            .count(),
        20,
        "{stderr}"
    );
}
