//! `check PATH...` and `render --check PATH...` over a tree of stacks, through the real binary:
//! each stack gets exactly the findings of a separate run, a `.gitignore`d stack is skipped, an
//! unreadable one makes the exit code 2 while the others are still reported.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("poolstack")
        .unwrap()
        .env("NO_COLOR", "1")
        .env_remove("POSTGRES_PASSWORD")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(dir, &all);
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", r.stdout, r.stderr));
    (r.code, v)
}

fn copy(from: &str, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(root().join(from), to).unwrap();
}

/// A platform repository:
/// - `services/orders/stack.toml` (the MT5 manifest: findings) and, nested below it,
///   `services/orders/replica/stack.toml` (healthy);
/// - `services/billing/stack.toml` (findings of other kinds);
/// - `legacy/`: hand-written MT5 files in the seed's layout (`.env` on top, `pgbouncer/`);
/// - `broken/stack.toml`: invalid TOML (unreadable, exit 2);
/// - `scratch/stack.toml`: broken too, but `.gitignore`d — never read.
fn tree() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    copy(
        "fixtures/mt5/stack.toml",
        &t.join("services/orders/stack.toml"),
    );
    copy(
        "fixtures/mt5-fixed/stack.toml",
        &t.join("services/orders/replica/stack.toml"),
    );
    copy(
        "fixtures/check/findings/stack.toml",
        &t.join("services/billing/stack.toml"),
    );
    let hw = "fixtures/handwritten/mt5";
    copy(&format!("{hw}/.env"), &t.join("legacy/.env"));
    copy(
        &format!("{hw}/pgbouncer.ini"),
        &t.join("legacy/pgbouncer/pgbouncer.ini"),
    );
    copy(
        &format!("{hw}/userlist.txt"),
        &t.join("legacy/pgbouncer/userlist.txt"),
    );
    copy(
        &format!("{hw}/postgresql.conf"),
        &t.join("legacy/postgres/postgresql.conf"),
    );
    for dir in ["broken", "scratch"] {
        std::fs::create_dir_all(t.join(dir)).unwrap();
        std::fs::write(t.join(dir).join("stack.toml"), "[stack\nname = \"x\"\n").unwrap();
    }
    std::fs::write(t.join(".gitignore"), "scratch/\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let userlist = t.join("legacy/pgbouncer/userlist.txt");
        std::fs::set_permissions(&userlist, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    tmp
}

const STACKS: [(&str, &[&str]); 5] = [
    ("broken/stack.toml", &["broken/stack.toml"]),
    (
        "legacy",
        &[
            "legacy/.env",
            "legacy/pgbouncer/pgbouncer.ini",
            "legacy/pgbouncer/userlist.txt",
            "legacy/postgres/postgresql.conf",
        ],
    ),
    (
        "services/billing/stack.toml",
        &["services/billing/stack.toml"],
    ),
    (
        "services/orders/replica/stack.toml",
        &["services/orders/replica/stack.toml"],
    ),
    (
        "services/orders/stack.toml",
        &["services/orders/stack.toml"],
    ),
];

#[test]
fn every_stack_of_a_tree_gets_the_findings_of_its_own_run() {
    let tmp = tree();
    let t = tmp.path();
    let versions = ["--pg-version", "16", "--pgbouncer-version", "1.21"];
    let mut args = vec!["."];
    args.extend(versions);
    let (code, all) = json(t, &args);
    // The worst exit code: one stack could not be read.
    assert_eq!(code, Some(2), "{all:#}");
    let stacks = all["stacks"].as_array().unwrap();
    let paths: Vec<&str> = stacks.iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        STACKS.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        "the .gitignored scratch/ is not read; the nested manifest is"
    );
    let diagnostics = all["diagnostics"].as_array().unwrap();
    let mut at = 0;
    for (stack, (path, files)) in stacks.iter().zip(STACKS) {
        let n = ["errors", "warnings", "infos"]
            .iter()
            .map(|k| stack[k].as_u64().unwrap() as usize)
            .sum::<usize>();
        let mine = &diagnostics[at..at + n];
        at += n;
        // The same stack, checked alone (hand-written files named one by one, versions given).
        let mut alone: Vec<&str> = files.to_vec();
        if stack["kind"] == "files" {
            alone.extend(versions);
        }
        let (alone_code, separate) = json(t, &alone);
        assert_eq!(
            mine,
            separate["diagnostics"].as_array().unwrap().as_slice(),
            "{path}"
        );
        assert_eq!(
            stack["exit_code"].as_i64(),
            alone_code.map(i64::from),
            "{path}"
        );
        assert_eq!(
            stack["files"],
            serde_json::json!(files),
            "{path}: the files read"
        );
    }
    assert_eq!(at, diagnostics.len());
    let codes = |i: usize| -> Vec<i64> {
        stacks
            .iter()
            .filter(|s| s["exit_code"] == i as i64)
            .map(|s| s["exit_code"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(codes(2).len(), 1);
    assert!(!codes(1).is_empty() && !codes(0).is_empty());
    let input = &diagnostics[0];
    assert_eq!(input["code"], "INPUT");
    assert_eq!(input["file"], "broken/stack.toml");
}

#[test]
fn the_human_report_is_grouped_and_names_what_failed() {
    let tmp = tree();
    let r = run(tmp.path(), &["check", "services", "legacy", "broken"]);
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    // Stacks in the order their paths were named, each tree's in path order.
    let out = &r.stdout;
    for header in [
        "==> broken/stack.toml <==\n",
        "==> legacy (.env, pgbouncer/pgbouncer.ini, pgbouncer/userlist.txt, postgres/postgresql.conf) <==\n",
        "==> services/orders/replica/stack.toml <==\nservices/orders/replica/stack.toml: 0 errors, 0 warnings, 0 infos\n",
    ] {
        assert!(out.contains(header), "{header}\n---\n{out}");
    }
    assert!(
        out.contains("broken/stack.toml: could not be read\n"),
        "{out}"
    );
    assert!(
        out.contains("error[INPUT] at broken/stack.toml:1:7"),
        "{out}"
    );
    let tail: Vec<&str> = out.lines().rev().take(3).collect();
    assert_eq!(tail[0], "could not be read: broken/stack.toml", "{out}");
    assert_eq!(
        tail[1], "failed: services/billing/stack.toml, services/orders/stack.toml, legacy",
        "{out}"
    );
    assert!(tail[2].starts_with("5 stacks: "), "{out}");

    // Without the unreadable one, the exit code is that of the findings.
    let r = run(tmp.path(), &["check", "services"]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let r = run(
        tmp.path(),
        &[
            "check",
            "services/orders/replica",
            "services/orders/replica/stack.toml",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(
        r.stdout, "0 errors, 0 warnings, 0 infos\n",
        "named twice: one stack"
    );
}

#[test]
fn sarif_is_one_run_with_every_stack() {
    let tmp = tree();
    let r = run(
        tmp.path(),
        &["check", "--format", "sarif", "services", "broken"],
    );
    assert_eq!(r.code, Some(2));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 1);
    let uris: std::collections::BTreeSet<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains("broken/stack.toml"), "{uris:?}");
    assert!(uris.contains("services/billing/stack.toml"), "{uris:?}");
    assert!(uris.contains("services/orders/stack.toml"), "{uris:?}");
}

/// Issue 12, item 12: a directory of pgbouncer.ini, .env and userlist.txt is linted like the
/// files in it.
#[test]
fn a_directory_of_hand_written_files_is_linted_like_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let hw = "fixtures/handwritten/mt5";
    for name in [".env", "pgbouncer.ini", "userlist.txt"] {
        copy(&format!("{hw}/{name}"), &t.join("seed").join(name));
    }
    let (code, dir) = json(t, &["seed"]);
    let (alone_code, files) = json(t, &["seed/pgbouncer.ini", "seed/.env", "seed/userlist.txt"]);
    assert_eq!(code, alone_code);
    let codes = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{} {}", d["code"], d["file"]))
            .collect();
        c.sort();
        c
    };
    assert_eq!(codes(&dir), codes(&files));
    assert!(
        codes(&dir).iter().any(|c| c.starts_with("\"PRE001\"")),
        "{dir:#}"
    );
}

#[test]
fn render_check_compares_every_manifest_of_a_tree() {
    let tmp = tree();
    let t = tmp.path();
    // The replica rendered (up to date), orders not rendered (drift), broken unreadable.
    let r = Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(t)
        .env("POSTGRES_PASSWORD", "demo")
        .args(["render", "services/orders/replica/stack.toml"])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = run(t, &["render", "--check", "services/orders/replica"]);
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let r = run(t, &["render", "--check", "."]);
    assert_eq!(r.code, Some(2), "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "==> services/orders/replica/stack.toml <==\npoolstack: 5 files up to date\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("services/orders/pgbouncer/pgbouncer.ini: missing"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.ends_with("poolstack: 4 manifests: 1 up to date; drifted: services/orders/stack.toml; refused: services/billing/stack.toml; could not be read: broken/stack.toml\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("error[INPUT] at broken/stack.toml"),
        "{}",
        r.stderr
    );
    // Without the unreadable one: drift is 1. Many manifests need --check.
    let r = run(t, &["render", "--check", "services"]);
    assert_eq!(r.code, Some(1), "{}", r.stdout);
    let r = run(
        t,
        &[
            "render",
            "services/orders/stack.toml",
            "services/billing/stack.toml",
        ],
    );
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("render writes one stack at a time"),
        "{}",
        r.stderr
    );
    // One JSON plan per run: several manifests with --format json are refused, not concatenated.
    let r = run(t, &["render", "--check", "--format", "json", "services"]);
    assert_eq!(r.code, Some(2), "{}", r.stdout);
    // stdout stays one JSON document: the INPUT diagnostic.
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(doc["diagnostics"][0]["code"], "INPUT", "{doc}");
    assert!(
        r.stderr
            .contains("--format json prints the apply plan of one stack"),
        "{}",
        r.stderr
    );
}

/// `--siblings` (the pre-commit hook's): a changed `.env` alone is checked with the files of its
/// stack, found beside and above it, and the report says which were added.
#[test]
fn siblings_complete_the_stack_of_a_changed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    std::fs::create_dir(t.join(".git")).unwrap();
    let hw = "fixtures/handwritten/mt5";
    copy(&format!("{hw}/.env"), &t.join(".env"));
    copy(&format!("{hw}/postgresql.conf"), &t.join("postgresql.conf"));
    copy(
        &format!("{hw}/pgbouncer.ini"),
        &t.join("pgbouncer/pgbouncer.ini"),
    );
    copy(
        &format!("{hw}/userlist.txt"),
        &t.join("pgbouncer/userlist.txt"),
    );
    let versions = ["--pg-version", "16", "--pgbouncer-version", "1.21"];
    let mut args = vec!["--siblings", ".env"];
    args.extend(versions);
    let (code, v) = json(t, &args);
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(
        v["stacks"][0]["added"],
        serde_json::json!([
            "pgbouncer/pgbouncer.ini",
            "pgbouncer/userlist.txt",
            "postgresql.conf"
        ])
    );
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"PRE001") && codes.contains(&"PRE002"),
        "{codes:?}"
    );
    // Without --siblings the .env alone cannot show PRE001.
    let mut alone = vec![".env"];
    alone.extend(versions);
    let (_, v) = json(t, &alone);
    assert!(!v.to_string().contains("PRE001"), "{v:#}");
    // A changed pgbouncer.ini finds the same stack; the human report names what was added.
    let mut args = vec!["check", "--siblings", "pgbouncer/pgbouncer.ini"];
    args.extend(versions);
    let r = run(t, &args);
    assert!(
        r.stdout.starts_with(
            "also read, as files of the same stack: .env, pgbouncer/userlist.txt, postgresql.conf\n"
        ),
        "{}",
        r.stdout
    );
    // Files a manifest renders are checked through their manifest.
    let tree = tree();
    let (code, v) = json(
        tree.path(),
        &["--siblings", "services/orders/pgbouncer/pgbouncer.ini"],
    );
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(v["stacks"][0]["path"], "services/orders/stack.toml");
    assert_eq!(v["stacks"][0]["kind"], "manifest");
}

/// One stack that cannot be read: people get the message alone on stderr, as always; tools get
/// the report with its `stacks` entry.
#[test]
fn one_unreadable_stack_is_exit_2_in_every_format() {
    let tmp = tree();
    let (code, v) = json(tmp.path(), &["broken"]);
    assert_eq!(code, Some(2));
    assert_eq!(v["diagnostics"][0]["code"], "INPUT");
    assert_eq!(v["stacks"][0]["path"], "broken/stack.toml");
    assert_eq!(v["stacks"][0]["exit_code"], 2);
    let r = run(tmp.path(), &["check", "broken"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("error[INPUT] at broken/stack.toml:1:7"),
        "{}",
        r.stderr
    );
}
