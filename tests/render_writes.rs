//! How `render` writes (issue 18, issue 12 items 14–16): all or nothing, never outside its output
//! directory, unchanged files untouched, secret files' owner and mode kept less world access.

use assert_cmd::Command;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn poolstack() -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1")
        .env("POSTGRES_PASSWORD", "Sup3r-Secret-Value");
    c
}

/// The MT5 manifest in a temp dir, with `extra` appended.
fn stack(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("fixtures/mt5/stack.toml")).unwrap();
    std::fs::write(dir.path().join("stack.toml"), format!("{text}\n{extra}")).unwrap();
    dir
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn render(dir: &Path, args: &[&str]) -> Run {
    let out = poolstack()
        .current_dir(dir)
        .arg("render")
        .args(args)
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !r.stdout.contains("Sup3r-Secret-Value") && !r.stderr.contains("Sup3r-Secret-Value"),
        "a password was printed"
    );
    r
}

/// Every file under `dir` except the manifest, with its content.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.retain(|(p, _)| !p.ends_with("stack.toml"));
    out.sort();
    out
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for e in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            walk(&e.path(), out);
        } else if t.is_file() {
            out.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
}

const SECOND_APP: &str = r#"
[[apps]]
name = "worker"
database = "mt5_trading"
user = "trader"
pool_size = 2
"#;

#[test]
fn an_app_name_that_leaves_the_output_directory_is_an_input_error() {
    let dir = stack(&SECOND_APP.replace("\"worker\"", "\"../escape\""));
    let out = dir.path().join("out");
    let r = render(dir.path(), &["--out", out.to_str().unwrap()]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("stack.toml:"),
        "not located: {}",
        r.stderr
    );
    assert!(r.stderr.contains("output directory"), "{}", r.stderr);
    assert!(!dir.path().join("escape.env").exists());
    assert!(!out.exists());
}

#[test]
fn an_env_file_name_past_the_file_name_limit_is_an_input_error_and_nothing_is_written() {
    let long = "a".repeat(300);
    let dir = stack(&SECOND_APP.replace("worker", &long));
    let r = render(dir.path(), &[]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("file-name limit"), "{}", r.stderr);
    assert!(r.stderr.contains("stack.toml:"), "{}", r.stderr);
    assert!(snapshot(dir.path()).is_empty());
}

#[test]
fn a_later_target_that_cannot_be_written_changes_nothing() {
    let dir = stack(SECOND_APP);
    let first = render(dir.path(), &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    // Change the manifest so every file changes, and make the last app's env file a directory.
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("max_client_conn = 1000", "max_client_conn = 900"),
    )
    .unwrap();
    let before = snapshot(dir.path());
    std::fs::remove_file(dir.path().join("worker.env")).unwrap();
    std::fs::create_dir(dir.path().join("worker.env")).unwrap();
    let before: Vec<_> = before
        .into_iter()
        .filter(|(p, _)| !p.ends_with("worker.env"))
        .collect();
    let r = render(dir.path(), &["--force"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert_eq!(snapshot(dir.path()), before, "a file changed");
}

#[test]
fn render_never_writes_through_a_symlink_out_of_its_output_directory() {
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("pgbouncer.ini");
    std::fs::write(&victim, "precious\n").unwrap();
    let dangling = outside.path().join("nowhere");
    let device = PathBuf::from("/dev/zero"); // read before writing (the apply plan): never whole
    for (target, force) in [
        (&victim, false),
        (&victim, true),
        (&dangling, true),
        (&device, true),
    ] {
        let dir = stack("");
        std::fs::create_dir(dir.path().join("pgbouncer")).unwrap();
        std::os::unix::fs::symlink(target, dir.path().join("pgbouncer/pgbouncer.ini")).unwrap();
        let args: &[&str] = if force { &["--force"] } else { &[] };
        let r = render(dir.path(), args);
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert!(r.stderr.contains("symlink"), "{}", r.stderr);
        assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
        assert!(snapshot(dir.path()).is_empty(), "something was written");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(!dangling.exists());
    }
}

#[test]
fn the_next_render_removes_temp_files_a_killed_run_left() {
    let dir = stack("");
    std::fs::create_dir(dir.path().join("pgbouncer")).unwrap();
    // A run killed between writing and renaming leaves these (its process is gone).
    let stale = [
        dir.path().join(".poolstack-4000000000-AbC123.tmp"),
        dir.path()
            .join("pgbouncer/.poolstack-4000000001-XyZ789.tmp"),
        dir.path().join("pgbouncer/.poolstack-Q1w2E3.tmp"),
    ];
    for s in &stale {
        std::fs::write(s, "half").unwrap();
    }
    let r = render(dir.path(), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    for s in &stale {
        assert!(!s.exists(), "{} is still there", s.display());
    }
}

#[test]
fn unchanged_files_are_left_untouched_and_reported_as_such() {
    let dir = stack("");
    let r = render(dir.path(), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("wrote pgbouncer/userlist.txt (new, mode 0600)"),
        "{}",
        r.stdout
    );
    let files: Vec<PathBuf> = snapshot(dir.path()).into_iter().map(|(p, _)| p).collect();
    let meta = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.ino(), m.mtime(), m.mtime_nsec())
    };
    let before: Vec<_> = files.iter().map(|p| meta(p)).collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let r = render(dir.path(), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout.contains("wrote "), "{}", r.stdout);
    assert!(
        r.stdout.contains("unchanged pgbouncer/pgbouncer.ini"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("unchanged pgbouncer/userlist.txt"),
        "{}",
        r.stdout
    );
    let after: Vec<_> = files.iter().map(|p| meta(p)).collect();
    assert_eq!(before, after, "a file was rewritten");
}

#[test]
fn render_keeps_the_userlists_owner_group_and_mode_less_world_access() {
    let dir = stack("");
    assert_eq!(render(dir.path(), &[]).code, Some(0));
    let userlist = dir.path().join("pgbouncer/userlist.txt");
    let root = std::fs::metadata(dir.path()).unwrap().uid() == 0;
    // As Debian installs it: postgres:postgres 0640 (any owner other than us will do).
    if root {
        std::os::unix::fs::chown(&userlist, Some(4321), Some(4322)).unwrap();
    }
    set_mode(&userlist, 0o644);
    // Unchanged content: only a chmod, with a note.
    let ino = std::fs::metadata(&userlist).unwrap().ino();
    let r = render(dir.path(), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains("removed access for others (mode 0644 → 0640)"),
        "{}",
        r.stdout
    );
    let m = std::fs::metadata(&userlist).unwrap();
    assert_eq!((m.ino(), m.mode() & 0o777), (ino, 0o640));
    // Changed content (a new password): rewritten, owner, group and 0640 kept.
    let r = poolstack()
        .current_dir(dir.path())
        .env("POSTGRES_PASSWORD", "another-Secret-Value")
        .arg("render")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0));
    let m = std::fs::metadata(&userlist).unwrap();
    assert_ne!(m.ino(), ino, "the content changed, so the file is replaced");
    assert_eq!(m.mode() & 0o777, 0o640);
    if root {
        assert_eq!((m.uid(), m.gid()), (4321, 4322));
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}
