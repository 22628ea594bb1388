//! A reader that goes away ends any command's output quietly — no panic, no "Broken pipe"
//! message, the command's usual exit code — on standard output and standard error alike; and
//! `poolstack man [COMMAND]` gives one page per command.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("poolstack")
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

enum Closed {
    Stdout,
    Stderr,
}

fn run(args: &[&str], dir: &Path, closed: Option<Closed>) -> Output {
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("POSTGRES_PASSWORD", "secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match closed {
        Some(Closed::Stdout) => c.stdout(closed_pipe()),
        Some(Closed::Stderr) => c.stderr(closed_pipe()),
        None => &mut c,
    };
    c.output().unwrap()
}

/// Every command that prints, on success, on findings and on input errors.
fn cases() -> Vec<Vec<String>> {
    let mt5 = root().join("fixtures/mt5/stack.toml").display().to_string();
    let ini = root()
        .join("fixtures/handwritten/mt5/pgbouncer.ini")
        .display()
        .to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        s(&["completions", "bash"]),
        s(&["completions", "zsh"]),
        s(&["man"]),
        s(&["man", "check"]),
        s(&["man", "nosuch"]),
        s(&["rules"]),
        s(&["schema"]),
        s(&["--help"]),
        s(&["check", "--help"]),
        s(&["--version"]),
        s(&["--bogus"]),
        s(&["explain", "CAT001"]),
        s(&["explain", "shared_buffers", &mt5]),
        s(&["explain", "nosuch", &mt5]),
        s(&["check", &mt5]),
        s(&["check", "--format", "json", &mt5]),
        s(&["check", "--format", "sarif", &mt5]),
        s(&["check", "--format", "github", &mt5]),
        s(&["check", &ini]),
        s(&["check", "--format", "json", &ini]),
        s(&["check", "missing.toml"]),
        s(&[
            "tune",
            "--memory",
            "16GB",
            "--workload",
            "web",
            "--pg-version",
            "16",
        ]),
        s(&["render", &mt5, "--out", "out"]),
        s(&["render", "--check", &mt5, "--out", "out"]),
        s(&[
            "userlist",
            "--batch",
            "batch.tsv",
            "--hash",
            "md5",
            "-o",
            "u.txt",
        ]),
        s(&["import", &ini, "-o", "imported.toml"]),
        s(&["init", "--yes", "-o", "init.toml"]),
    ]
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    for closed in [Closed::Stdout, Closed::Stderr] {
        // Each case runs in a fresh folder, first with open pipes, then with one closed.
        for args in cases() {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let open_dir = tempfile::tempdir().unwrap();
            let closed_dir = tempfile::tempdir().unwrap();
            for d in [open_dir.path(), closed_dir.path()] {
                std::fs::write(d.join("batch.tsv"), "alice\tone\nbob\ttwo\n").unwrap();
            }
            let open = run(&args, open_dir.path(), None);
            let which = match closed {
                Closed::Stdout => "stdout",
                Closed::Stderr => "stderr",
            };
            let shut = run(
                &args,
                closed_dir.path(),
                Some(match closed {
                    Closed::Stdout => Closed::Stdout,
                    Closed::Stderr => Closed::Stderr,
                }),
            );
            assert_ne!(open.status.code(), Some(101), "{args:?} panics anyway");
            assert_eq!(
                shut.status.code(),
                open.status.code(),
                "{args:?} with {which} closed: {}",
                String::from_utf8_lossy(&shut.stderr)
            );
            // What still has a reader is exactly what it would have been.
            let (kept_open, kept_shut) = match closed {
                Closed::Stdout => (&open.stderr, &shut.stderr),
                Closed::Stderr => (&open.stdout, &shut.stdout),
            };
            let strip = |b: &[u8]| {
                String::from_utf8_lossy(b)
                    .replace(&open_dir.path().display().to_string(), "DIR")
                    .replace(&closed_dir.path().display().to_string(), "DIR")
            };
            assert_eq!(
                strip(kept_shut),
                strip(kept_open),
                "{args:?} with {which} closed"
            );
        }
    }
}

#[test]
fn every_command_has_its_own_man_page() {
    let out = Command::new(bin()).arg("man").output().unwrap();
    assert!(out.status.success());
    let main = String::from_utf8(out.stdout).unwrap();
    assert!(
        main.starts_with(".ie") || main.contains(".TH poolstack 1"),
        "{main}"
    );
    assert!(main.contains("Exit status:"), "{main}");
    let subcommands: Vec<String> = main
        .lines()
        .filter_map(|l| l.strip_prefix("poolstack\\-"))
        .filter_map(|l| l.strip_suffix("(1)"))
        .map(str::to_string)
        .collect();
    assert!(subcommands.len() >= 12, "{subcommands:?}");
    for sub in &subcommands {
        let out = Command::new(bin()).args(["man", sub]).output().unwrap();
        assert!(out.status.success(), "man {sub}");
        let page = String::from_utf8(out.stdout).unwrap();
        assert!(page.contains(&format!(".TH poolstack-{sub} 1")), "{page}");
        assert!(page.contains(&format!("\\fBpoolstack {sub}\\fR")), "{page}");
        // Every option is documented, not just listed.
        let lines: Vec<&str> = page.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if l.starts_with("\\fB\\-") {
                let doc = lines.get(i + 1).unwrap_or(&"");
                assert!(
                    !doc.is_empty() && !doc.starts_with('.'),
                    "man {sub}: {l} has no text"
                );
            }
        }
    }
    // The render page documents its options.
    let out = Command::new(bin())
        .args(["man", "render"])
        .output()
        .unwrap();
    let page = String::from_utf8(out.stdout).unwrap();
    for opt in ["\\-\\-out", "\\-\\-check", "\\-\\-force"] {
        assert!(page.contains(opt), "{page}");
    }

    // --dir installs them all, each referred to by poolstack(1).
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("poolstack.1").is_file());
    for sub in &subcommands {
        assert!(
            dir.path().join(format!("poolstack-{sub}.1")).is_file(),
            "{sub}"
        );
    }

    let out = Command::new(bin()).args(["man", "rendr"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `render`?"), "{err}");
}
