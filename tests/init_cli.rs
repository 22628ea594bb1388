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
        ("CPUs available", "8"),
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
        ("PgBouncer admin user", ""),
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
    assert_eq!(stack.postgres.cpus.as_ref().map(|c| c.value), Some(8));
    // An admin user, so that `poolstack doctor` can read SHOW POOLS.
    let admins: Vec<&str> = stack
        .pgbouncer
        .as_ref()
        .unwrap()
        .admin_users
        .iter()
        .map(|u| u.value.as_str())
        .collect();
    assert_eq!(admins, ["pgbouncer_admin"]);
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

/// Wrong answers are refused where they are given, with the reason, and asked again: the
/// interview goes on with every earlier answer kept.
#[test]
fn each_answer_is_checked_where_it_is_given() {
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
    // (prompt, answer, refusal the answer gets, corrected answer)
    type Step<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);
    let steps: &[Step] = &[
        ("Stack name", "shop", None),
        ("PostgreSQL major version", "", None),
        ("reach PostgreSQL", "", None),
        ("PostgreSQL port", "", None),
        ("run on this machine", "n", None),
        ("RAM available", "16 gigs", Some(("unit", "16GB"))),
        ("CPUs available", "0", Some(("at least 1", "4"))),
        ("Storage", "", None),
        ("Workload", "", None),
        ("PgBouncer in front", "y", None),
        ("PgBouncer version", "", None),
        ("reach PgBouncer", "", None),
        (
            "PgBouncer port",
            "99999",
            Some(("99999 is not a port", "6433")),
        ),
        ("Pool mode", "", None),
        (
            "Database name",
            "trading db",
            Some(("cannot read the database name", "trading")),
        ),
        ("Database user", "", None),
        ("password come from", "", None),
        ("Environment variable", "", None),
        ("PgBouncer admin user", "app", None),
        ("App name", "", None),
        ("Replicas", "", None),
        ("Worker processes", "", None),
        ("Framework", "", None),
        ("SQLAlchemy driver", "", None),
        ("Add another app", "y", None),
        (
            "App name",
            "api",
            Some(("already an app named `api`", "worker")),
        ),
        ("Replicas", "", None),
        ("Worker processes", "", None),
        ("Framework", "", None),
        ("SQLAlchemy driver", "", None),
        ("Add another app", "n", None),
    ];
    for (prompt, answer, refusal) in steps {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        std::thread::sleep(std::time::Duration::from_millis(100));
        // Clear the default the prompt may show, then type.
        if !answer.is_empty() && refusal.is_some() {
            p.send(&"\x7f".repeat(12)).unwrap();
        }
        p.send_line(answer).unwrap();
        if let Some((why, fixed)) = refusal {
            p.exp_string(why).unwrap_or_else(|e| {
                panic!("{prompt:?} = {answer:?} is not refused with {why:?}: {e}")
            });
            std::thread::sleep(std::time::Duration::from_millis(100));
            p.send(&"\x7f".repeat(answer.len() + 2)).unwrap();
            p.send_line(fixed).unwrap();
        }
    }
    p.exp_string("wrote stack.toml")
        .expect("init reports the file");
    p.exp_eof().ok();
    let stack = resolves_clean(&dir.path().join("stack.toml"));
    assert_eq!(stack.pgbouncer.as_ref().unwrap().listen_port.value, 6433);
    assert_eq!(stack.databases[0].name.value, "trading");
    assert_eq!(stack.postgres.cpus.as_ref().map(|c| c.value), Some(4));
    let apps: Vec<&str> = stack.apps.iter().map(|a| a.name.value.as_str()).collect();
    assert_eq!(apps, ["api", "worker"]);
    // The database user is the admin: no second user.
    assert_eq!(stack.users.len(), 1);
    assert!(stack.users[0].admin.value);
}

/// `init` and `import` refuse an existing manifest alike: exit 1, nothing written.
#[test]
fn init_and_import_refuse_an_existing_manifest_with_the_same_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), "# mine\n").unwrap();
    let ini = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/handwritten/mt5/pgbouncer.ini");
    let init = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .args(["init", "--yes"])
        .output()
        .unwrap();
    let import = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .arg("import")
        .arg(&ini)
        .args(["--pg-version", "16"])
        .output()
        .unwrap();
    assert_eq!(init.status.code(), Some(1));
    assert_eq!(import.status.code(), init.status.code());
    for o in [&init, &import] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("stack.toml already exists; nothing was written"),
            "{err}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("stack.toml")).unwrap(),
        "# mine\n"
    );
}
