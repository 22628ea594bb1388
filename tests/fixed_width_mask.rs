//! A secret in a report snippet is one fixed-width mask, whatever its length: the number of stars
//! never tells how long a password is (AUT007 points right at it).

use assert_cmd::Command;

#[test]
fn aut007_snippets_do_not_tell_the_secrets_length() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("userlist.txt"),
        "\"a\" \"0123456789abcdef0123456789abcdef\"\n\"b\" \"MD5ABCDEF0123456789ABCDEF0123456789\"\n\"c\" \"p\"\n\"d\" \"a-rather-long-plaintext-password\"\n# the rest is lost\n\"e\" \"xy\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "; poolstack: pgbouncer 1.21\n[databases]\ndb = host=x\n[pgbouncer]\nauth_type = md5\nauth_file = userlist.txt\n",
    )
    .unwrap();
    let o = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["check", "pgbouncer.ini", "userlist.txt"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("AUT007"), "{out}");
    for secret in [
        "0123456789",
        "MD5ABCDEF",
        "a-rather-long",
        "\"p\"",
        "\"xy\"",
    ] {
        assert!(!out.contains(secret), "{secret} shown:\n{out}");
    }
    // Every secret drawn is the same eight stars: no run of any other length.
    for line in out.lines().filter(|l| l.contains('*')) {
        for run in line.split(|c| c != '*').filter(|r| !r.is_empty()) {
            assert_eq!(run.len(), 8, "{line}\n{out}");
        }
    }
    assert!(out.contains("\"a\" \"********\""), "{out}");
    assert!(out.contains("\"c\" \"********\""), "{out}");
}

/// A line too long for a full snippet (over 400 bytes) is drawn as an excerpt around the finding:
/// its secrets are the same fixed-width mask.
#[test]
fn long_line_excerpts_do_not_tell_the_secrets_length_either() {
    let dir = tempfile::tempdir().unwrap();
    let password = format!("a-long-plaintext-password-{}", "p".repeat(450));
    std::fs::write(
        dir.path().join("userlist.txt"),
        format!("\"short\" \"{password}\"\n\"u\" \"pw\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "; poolstack: pgbouncer 1.21\n[databases]\ndb = host=x\n[pgbouncer]\nauth_type = md5\nauth_file = userlist.txt\n",
    )
    .unwrap();
    let o = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["check", "pgbouncer.ini", "userlist.txt"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("AUT009"), "{out}");
    assert!(out.contains('…'), "drawn as an excerpt: {out}");
    assert!(!out.contains("a-long-plaintext"), "{out}");
    assert!(out.contains("\"short\" \"********"), "{out}");
    for line in out.lines().filter(|l| l.contains('*')) {
        for run in line.split(|c| c != '*').filter(|r| !r.is_empty()) {
            assert_eq!(run.len(), 8, "{line}\n{out}");
        }
    }
}
