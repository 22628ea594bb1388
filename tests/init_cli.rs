//! `poolstack init`: the interview through a real pseudo-terminal, and the `--yes` path.

use assert_cmd::Command;
use std::path::Path;

fn resolves_clean(path: &Path) -> poolstack::stack::Stack {
    let loaded = poolstack::manifest::load(path).expect("the written manifest loads");
    let stack = poolstack::stack::resolve::resolve(&loaded, None).expect("and resolves");
    assert!(stack.findings.is_empty(), "{:?}", stack.findings);
    stack
}

#[test]
fn yes_takes_every_default_without_a_terminal() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("shop");
    std::fs::create_dir(&dir).unwrap();
    let o = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(&dir)
        .args(["init", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    insta::assert_snapshot!("init_yes_manifest", text);
    let stack = resolves_clean(&dir.join("stack.toml"));
    assert_eq!(stack.name.value, "shop");
    assert!(
        stack.postgres.memory.is_none(),
        "--yes leaves memory unset without --detect"
    );
    assert!(
        !text.contains("password = \""),
        "never a plaintext password"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("poolstack render"));

    // An existing manifest is not overwritten.
    let o = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(&dir)
        .args(["init", "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.join("stack.toml")).unwrap(),
        text
    );
}

#[test]
fn without_a_terminal_and_without_yes_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .arg("init")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no terminal"));
    assert!(!dir.path().join("stack.toml").exists());
}

#[test]
fn interview_through_a_pseudo_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_poolstack"));
    cmd.current_dir(dir.path())
        .args(["init", "-o", "stack.toml"])
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_with_options(
        cmd,
        rexpect::reader::Options::new()
            .timeout_ms(Some(15_000))
            .strip_ansi_escape_codes(true),
    )
    .expect("spawn in a pty");
    let steps: &[(&str, &str)] = &[
        ("Stack name", "shop"),
        ("PostgreSQL major version", ""),
        ("reach PostgreSQL", "db"),
        ("PostgreSQL port", ""),
        ("run on this machine", "n"),
        ("RAM available", "16GB"),
        ("Storage", ""),
        ("Workload", ""),
        ("PgBouncer in front", "y"),
        ("PgBouncer version", ""),
        ("reach PgBouncer", "pgbouncer"),
        ("PgBouncer port", ""),
        ("Pool mode", ""),
        ("Database name", ""),
        ("Database user", "trader"),
        ("password come from", ""),
        ("Environment variable", ""),
        ("App name", ""),
        ("Replicas", "3"),
        ("Worker processes", "2"),
        ("Framework", ""),
        ("SQLAlchemy driver", ""),
        ("Add another app", "n"),
    ];
    for (prompt, answer) in steps {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        // Let the prompt finish drawing before typing.
        std::thread::sleep(std::time::Duration::from_millis(100));
        p.send_line(answer).unwrap();
    }
    p.exp_string("wrote stack.toml")
        .expect("init reports the file");
    p.exp_eof().ok();
    let stack = resolves_clean(&dir.path().join("stack.toml"));
    assert_eq!(stack.name.value, "shop");
    assert_eq!(stack.postgres.host.value, "db");
    assert_eq!(
        stack.postgres.memory.as_ref().map(|m| m.value.0),
        Some(16 << 30)
    );
    assert_eq!(stack.users[0].name.value, "trader");
    assert_eq!(stack.apps[0].replicas.value, 3);
    assert_eq!(stack.apps[0].processes.value, 2);
    assert_eq!(
        stack.pgbouncer.as_ref().map(|p| p.host.value.as_str()),
        Some("pgbouncer")
    );
    let text = std::fs::read_to_string(dir.path().join("stack.toml")).unwrap();
    assert!(
        text.contains("password = { env = \"TRADER_PASSWORD\" }"),
        "{text}"
    );
}
