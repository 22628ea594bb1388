//! The shipped pre-commit hooks, run by the real `pre-commit` (from PyPI; `.ci/run` installs it),
//! and the GitHub Action and README workflows validated by the real `check-jsonschema` against
//! the GitHub Actions and workflow schemas. In CI (`CI=true`) a missing tool is a failure;
//! elsewhere these tests print a loud SKIPPED.
//!
//! The hooks come from a snapshot of this checkout (the files the build needs and
//! `.pre-commit-hooks.yaml`, committed with fixed dates, so the same sources give the same
//! revision and pre-commit builds it once and then reuses it). pre-commit builds it as a user's
//! would, with `cargo install` (`language: rust`); two things keep that cheap: a shared
//! `CARGO_TARGET_DIR` (`target/pre-commit`, kept between runs) and a release profile without
//! LTO and optimisation, set through cargo's environment, for this test only.

use assert_cmd::Command as BinCommand;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The tool on PATH, or why the test cannot run: a failure in CI, a loud skip elsewhere.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !ci,
            "{name} is not installed; .ci/run installs it (pip install {name}==…)"
        );
        eprintln!(
            "\n*** SKIPPED: {name} is not installed (pip install {name}); this test runs in CI ***\n"
        );
    }
    found
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=poolstack tests",
            "-c",
            "user.email=tests@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy_tree(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
    }
}

/// Where pre-commit's caches live for these tests: under the target directory, kept between
/// runs, shared by every test of this file.
fn target() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root().join(p) })
        .unwrap_or_else(|| root().join("target"))
}

/// This checkout as a hook repository: a git repository of what `cargo install` needs and the
/// hook definitions. Returns its path and revision.
fn hook_repo() -> &'static (PathBuf, String) {
    static REPO: OnceLock<(PathBuf, String)> = OnceLock::new();
    REPO.get_or_init(|| {
        let repo = target().join("pre-commit/hook-repo");
        let _ = std::fs::remove_dir_all(&repo);
        for part in [
            "Cargo.toml",
            "Cargo.lock",
            ".pre-commit-hooks.yaml",
            "src",
            "templates",
            "fixtures/mt5/stack.toml",
        ] {
            copy_tree(&root().join(part), &repo.join(part));
        }
        git(&repo, &["init", "-q"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "poolstack under test"]);
        let rev = String::from_utf8(git(&repo, &["rev-parse", "HEAD"]).stdout).unwrap();
        let rev = rev.trim().to_string();
        // pre-commit keeps one clone and environment per revision: drop those of older sources.
        let last = target().join("pre-commit/rev");
        if std::fs::read_to_string(&last).ok().as_deref() != Some(rev.as_str()) {
            let _ = std::fs::remove_dir_all(target().join("pre-commit/home"));
            std::fs::write(&last, &rev).unwrap();
        }
        (repo, rev)
    })
}

/// A team's repository with `files` (path in the repository, fixture to copy) and a
/// `.pre-commit-config.yaml` using `hook` from this checkout with `args`.
fn team_repo(files: &[(&str, &Path)], hook: &str, args: &[&str]) -> tempfile::TempDir {
    let (repo, rev) = hook_repo();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    git(t, &["init", "-q"]);
    for (path, from) in files {
        copy_tree(from, &t.join(path));
    }
    let args = args
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        t.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n        args: [{args}]\n",
            repo.display()
        ),
    )
    .unwrap();
    git(t, &["add", "-A"]);
    tmp
}

/// `pre-commit run` on what is staged, as a commit would run it.
fn pre_commit(pre_commit: &Path, repo: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let cache = target().join("pre-commit");
    let out = Command::new(pre_commit)
        .arg("run")
        .args(extra)
        .current_dir(repo)
        .env("PRE_COMMIT_HOME", cache.join("home"))
        .env("CARGO_TARGET_DIR", cache.join("cargo-target"))
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("NO_COLOR", "1")
        .env_remove("POSTGRES_PASSWORD")
        .output()
        .expect("pre-commit runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// The seed's hand-written MT5 files in its layout: `.env` and `postgresql.conf` on top,
/// `pgbouncer/pgbouncer.ini` and `pgbouncer/userlist.txt`.
fn seed_files() -> Vec<(&'static str, PathBuf)> {
    let hw = root().join("fixtures/handwritten/mt5");
    vec![
        (".env", hw.join(".env")),
        ("postgresql.conf", hw.join("postgresql.conf")),
        ("pgbouncer/pgbouncer.ini", hw.join("pgbouncer.ini")),
        ("pgbouncer/userlist.txt", hw.join("userlist.txt")),
    ]
}

const VERSIONS: [&str; 4] = ["--pg-version", "16", "--pgbouncer-version", "1.21"];

#[test]
fn the_lint_hook_runs_under_the_real_pre_commit() {
    let Some(bin) = tool("pre-commit") else {
        return;
    };
    // 1. The seed's hand-written files: PRE001 and PRE002.
    let files = seed_files();
    let named: Vec<(&str, &Path)> = files.iter().map(|(p, f)| (*p, f.as_path())).collect();
    let seed = team_repo(&named, "poolstack-lint", &VERSIONS);
    let started = std::time::Instant::now();
    let (code, out) = pre_commit(&bin, seed.path(), &[]);
    eprintln!(
        "pre-commit run (hook environment built or reused): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("PRE001") && out.contains("PRE002"), "{out}");
    assert!(
        out.contains("poolstack lint (hand-written configs)"),
        "{out}"
    );

    // 2. A commit touching only .env: the stack's other files are found beside it.
    git(seed.path(), &["commit", "-q", "--no-verify", "-m", "seed"]);
    let env = seed.path().join(".env");
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, format!("{text}# touched\n")).unwrap();
    git(seed.path(), &["add", ".env"]);
    let (code, out) = pre_commit(&bin, seed.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("PRE001"), "{out}");
    assert!(
        out.contains(
            "also read, as files of the same stack: pgbouncer/pgbouncer.ini, pgbouncer/userlist.txt, postgresql.conf"
        ),
        "{out}"
    );

    // 3. The files fixtures/mt5-fixed renders, as hand-written files in the same layout: clean.
    let rendered = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/mt5-fixed/stack.toml"),
        rendered.path().join("stack.toml"),
    )
    .unwrap();
    BinCommand::cargo_bin("poolstack")
        .unwrap()
        .current_dir(rendered.path())
        .env("POSTGRES_PASSWORD", "demo")
        .arg("render")
        .assert()
        .success();
    let r = rendered.path();
    let fixed = team_repo(
        &[
            (".env", &r.join(".env")),
            (
                "pgbouncer/pgbouncer.ini",
                &r.join("pgbouncer/pgbouncer.ini"),
            ),
            ("pgbouncer/userlist.txt", &r.join("pgbouncer/userlist.txt")),
            (
                "postgres/conf.d/50-poolstack.conf",
                &r.join("postgres/conf.d/50-poolstack.conf"),
            ),
        ],
        "poolstack-lint",
        &VERSIONS,
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let userlist = fixed.path().join("pgbouncer/userlist.txt");
        std::fs::set_permissions(userlist, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let (code, out) = pre_commit(&bin, fixed.path(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Passed"), "{out}");
}

#[test]
fn the_check_hook_passes_every_changed_manifest() {
    let Some(bin) = tool("pre-commit") else {
        return;
    };
    let repo = team_repo(
        &[
            ("a/stack.toml", &root().join("fixtures/mt5/stack.toml")),
            (
                "b/stack.toml",
                &root().join("fixtures/mt5-fixed/stack.toml"),
            ),
        ],
        "poolstack-check",
        &[],
    );
    let (code, out) = pre_commit(&bin, repo.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("==> a/stack.toml <=="), "{out}");
    assert!(out.contains("b/stack.toml: 0 errors"), "{out}");
    assert!(out.contains("failed: a/stack.toml"), "{out}");
}

/// `action.yml` against the GitHub Actions schema, and every workflow in the README (each
/// ```yaml block with `jobs:`) against the workflow schema.
#[test]
fn the_action_and_the_readme_workflows_are_valid() {
    let Some(bin) = tool("check-jsonschema") else {
        return;
    };
    let validate = |schema: &str, file: &Path| {
        let out = Command::new(&bin)
            .args(["--builtin-schema", schema])
            .arg(file)
            .output()
            .expect("check-jsonschema runs");
        assert!(
            out.status.success(),
            "{} is not a valid {schema}:\n{}{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    validate("vendor.github-actions", &root().join("action.yml"));
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut workflows = 0;
    for block in readme.split("```yaml\n").skip(1) {
        let body = block.split("\n```").next().unwrap_or("");
        if !body.lines().any(|l| l.starts_with("jobs:")) {
            continue;
        }
        workflows += 1;
        let file = tmp.path().join(format!("workflow-{workflows}.yml"));
        std::fs::write(&file, body).unwrap();
        validate("vendor.github-workflows", &file);
        assert!(
            body.contains("uses: OWNER/poolstack@"),
            "the README's workflows use the Action:\n{body}"
        );
    }
    assert!(workflows >= 2, "{workflows} workflows in the README");
}
