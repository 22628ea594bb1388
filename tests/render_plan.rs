//! The apply plan `render` and `render --check` print after the diff or summary: what users
//! type, through the real binary, with the plan as insta snapshots.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of a fixture's manifest in a temp dir.
fn fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures").join(name).join("stack.toml"),
        dir.path().join("stack.toml"),
    )
    .unwrap();
    dir
}

fn poolstack(dir: &Path, password: &str) -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1")
        .env("POSTGRES_PASSWORD", password)
        .current_dir(dir);
    c
}

fn run(dir: &Path, password: &str, args: &[&str]) -> (i32, String, String) {
    let out = poolstack(dir, password).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Edit the manifest: each `from` must be there.
fn edit(dir: &Path, edits: &[(&str, &str)]) {
    let path = dir.join("stack.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "manifest has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(path, text).unwrap();
}

/// The plan part of render's human output (after the diff or the summary).
fn plan_part(stdout: &str) -> String {
    let at = stdout
        .find("\nApply plan")
        .or_else(|| stdout.find("\nStart order"))
        .unwrap_or_else(|| panic!("no plan in:\n{stdout}"));
    stdout[at + 1..].to_string()
}

/// MT5 changes of every kind: restart and reload parameters, a PgBouncer restart, a pool size,
/// a [databases] entry, the app's pool, the password.
const MT5_CHANGES: &[(&str, &str)] = &[
    ("max_connections = 200 ", "max_connections = 250 "),
    ("shared_buffers = \"7GB\"", "shared_buffers = \"8GB\""),
    (
        "work_mem = \"32MB\"",
        "work_mem = \"16MB\"\nlog_disconnections = true",
    ),
    ("default_pool_size = 25", "default_pool_size = 30"),
    ("listen_port = 5432 ", "listen_port = 6432 "),
    ("client_port = 5432 ", "client_port = 6432 "),
    (
        "[[databases]]\nname = \"mt5_trading\"\n",
        "[[databases]]\nname = \"mt5_trading\"\npool_mode = \"session\"\n",
    ),
    ("\npool_size = 5\n", "\npool_size = 8\n"),
];

#[test]
fn first_render_prints_the_start_order() {
    let dir = fixture("mt5-fixed");
    let (code, stdout, _) = run(dir.path(), "pw", &["render"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("mt5_first_render", plan_part(&stdout));
    let start = plan_part(&stdout);
    let at = |what: &str| start.find(what).unwrap_or_else(|| panic!("no {what:?}"));
    assert!(at("Start PostgreSQL") < at("apply roles.sql"));
    assert!(at("apply roles.sql") < at("Start PgBouncer"));
    assert!(at("Start PgBouncer") < at("Start app api"));
}

#[test]
fn render_check_and_render_print_the_plan_after_the_diff() {
    let dir = fixture("mt5");
    assert_eq!(run(dir.path(), "pw", &["render"]).0, 0);
    edit(dir.path(), MT5_CHANGES);

    let (code, stdout, _) = run(dir.path(), "new password", &["render", "--check"]);
    assert_eq!(code, 1, "drift");
    let diff_at = stdout.find("+++ ").expect("the diff comes first");
    assert!(diff_at < stdout.find("Apply plan").unwrap());
    insta::assert_snapshot!("mt5_changes_human", plan_part(&stdout));

    // render prints the same plan after its summary, and writes.
    let (code, stdout, _) = run(dir.path(), "new password", &["render"]);
    assert_eq!(code, 0);
    assert!(stdout.find("poolstack: rendered").unwrap() < stdout.find("Apply plan").unwrap());
    // Now nothing differs.
    let (code, stdout, _) = run(dir.path(), "new password", &["render", "--check"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("Apply plan: no setting changed; nothing to reload or restart."),
        "{stdout}"
    );
}

#[test]
fn json_plan_is_stdout_alone_and_never_holds_a_secret() {
    let dir = fixture("mt5");
    assert_eq!(run(dir.path(), "old-Secret-1", &["render"]).0, 0);
    let old_hash = std::fs::read_to_string(dir.path().join("pgbouncer/userlist.txt")).unwrap();
    edit(dir.path(), MT5_CHANGES);
    let (code, stdout, stderr) = run(
        dir.path(),
        "new-Secret-2",
        &["render", "--check", "--format", "json"],
    );
    assert_eq!(code, 1);
    let plan: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON object alone ({e}):\n{stdout}"));
    assert!(stderr.contains("+++ "), "the diff goes to stderr: {stderr}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains("old-Secret-1") && !text.contains("new-Secret-2"));
        for line in old_hash.lines() {
            let secret = line.split('"').nth(3).unwrap_or("");
            assert!(
                secret.len() > 10 && !text.contains(secret),
                "a hash was printed"
            );
        }
    }
    let userlist = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("userlist.txt"))
        })
        .expect("the password change");
    assert_eq!(userlist["setting"], "trader");
    assert_eq!(userlist["old"], "changed");
    assert_eq!(userlist["new"], "changed");
    assert_eq!(userlist["action"], "reload");
    insta::assert_json_snapshot!("mt5_changes_json", plan);

    // `render --format json` writes, and prints the same object.
    let (code, stdout, stderr) = run(dir.path(), "new-Secret-2", &["render", "--format", "json"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("wrote pgbouncer/pgbouncer.ini"), "{stderr}");
    let written: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(written, plan);
}

#[test]
fn session_start_parameters_get_a_reconnect_and_a_smaller_max_connections_goes_last() {
    let dir = fixture("mt5");
    assert_eq!(run(dir.path(), "pw", &["render"]).0, 0);
    edit(
        dir.path(),
        &[
            ("max_connections = 200 ", "max_connections = 150 "),
            ("default_pool_size = 25", "default_pool_size = 20"),
            (
                "work_mem = \"32MB\"",
                "work_mem = \"32MB\"\nlog_disconnections = true",
            ),
        ],
    );
    let (code, stdout, _) = run(dir.path(), "pw", &["render", "--check"]);
    assert_eq!(code, 1);
    let plan = plan_part(&stdout);
    insta::assert_snapshot!("mt5_shrink_human", plan);
    let at = |what: &str| {
        plan.find(what)
            .unwrap_or_else(|| panic!("no {what:?} in {plan}"))
    };
    assert!(at("RELOAD PgBouncer") < at("Restart PostgreSQL"));
    assert!(
        !plan.contains("RECONNECT"),
        "a restart renews every server connection"
    );

    // Without the restart, the session-start parameter needs PgBouncer's server connections renewed.
    edit(
        dir.path(),
        &[("max_connections = 150 ", "max_connections = 200 ")],
    );
    let (_, stdout, _) = run(dir.path(), "pw", &["render", "--check"]);
    let plan = plan_part(&stdout);
    assert!(plan.contains("log_disconnections"), "{plan}");
    assert!(plan.contains("-c \"RECONNECT;\""), "{plan}");
    assert!(plan.contains("server_lifetime (3600 s)"), "{plan}");
}

#[test]
fn the_readme_example_is_what_render_prints() {
    let dir = fixture("mt5");
    assert_eq!(run(dir.path(), "pw", &["render"]).0, 0);
    edit(
        dir.path(),
        &[
            ("max_connections = 200 ", "max_connections = 250 "),
            ("shared_buffers = \"7GB\"", "shared_buffers = \"8GB\""),
            ("work_mem = \"32MB\"", "work_mem = \"16MB\""),
            ("default_pool_size = 25", "default_pool_size = 30"),
            ("\npool_size = 5\n", "\npool_size = 8\n"),
        ],
    );
    let (_, stdout, _) = run(dir.path(), "new-pw", &["render", "--check"]);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let example = format!("```text\n{}```", plan_part(&stdout));
    assert!(
        readme.contains(&example),
        "README's apply plan example is out of date; it should read:\n{example}"
    );
}

#[test]
fn without_the_passwords_secret_files_are_planned_by_users_and_types() {
    let dir = fixture("mt5");
    assert_eq!(run(dir.path(), "pw", &["render"]).0, 0);
    edit(
        dir.path(),
        &[(
            "userlist_hash = \"md5\"",
            "userlist_hash = \"scram-sha-256\"",
        )],
    );
    let out = Command::cargo_bin("poolstack")
        .unwrap()
        .env("NO_COLOR", "1")
        .env_remove("POSTGRES_PASSWORD")
        .current_dir(dir.path())
        .args(["render", "--check", "--format", "json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    let user = changes
        .iter()
        .find(|c| c["setting"] == "trader")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(user["old"], "changed (md5)");
    assert_eq!(user["new"], "changed (scram-sha-256)");
    assert_eq!(user["action"], "reload");
    assert_eq!(user["secret"], true);
}

#[test]
fn a_changed_settings_file_restarts_its_app() {
    let dir = fixture("apps/rails");
    let run_rails = |args: &[&str]| {
        let out = poolstack(dir.path(), "pw")
            .env("APP_PASSWORD", "app-pw")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(run_rails(&["render"]).0, 0);
    assert!(dir.path().join("database.yml").exists());
    // Rails 8.0 names the pool size `pool` (and its URL has no 8.1 keys).
    edit(
        dir.path(),
        &[("kind = \"rails\"", "kind = \"rails\"\nversion = \"8.0\"")],
    );
    let (code, stdout) = run_rails(&["render", "--check"]);
    assert_eq!(code, 1, "{stdout}");
    let plan = plan_part(&stdout);
    let line = plan
        .lines()
        .find(|l| l.contains("api database.yml"))
        .unwrap_or_else(|| panic!("{plan}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        words[..5],
        ["app", "api", "database.yml", "changed", "restart-app"],
        "{plan}"
    );
    assert!(plan.contains("Restart app api"), "{plan}");
}

/// `--format json` keeps stdout one JSON document when render cannot go on: an input error is
/// the `INPUT` diagnostic (exit 2), a refusal says so with what render said (exit 1).
#[test]
fn json_stays_json_on_input_errors_and_refusals() {
    let dir = fixture("mt5");
    let parse = |stdout: &str| -> serde_json::Value {
        serde_json::from_str(stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"))
    };
    // Refused: a hand-edited file.
    assert_eq!(run(dir.path(), "pw", &["render"]).0, 0);
    let env = dir.path().join(".env");
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, text + "EXTRA=1\n").unwrap();
    edit(dir.path(), &[("\npool_size = 5\n", "\npool_size = 8\n")]);
    let (code, stdout, stderr) = run(dir.path(), "pw", &["render", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let doc = parse(&stdout);
    assert_eq!(doc["refused"], true, "{doc}");
    assert_eq!(doc["changes"], serde_json::json!([]));
    let said = doc["messages"].to_string();
    assert!(said.contains("edited by hand"), "{said}");
    assert!(stderr.contains("edited by hand"), "{stderr}");
    // An input error: the manifest has an unknown key.
    edit(dir.path(), &[("[postgres]\n", "[postgres]\nbogus = 1\n")]);
    let (code, stdout, _) = run(dir.path(), "pw", &["render", "--format", "json"]);
    assert_eq!(code, 2);
    let doc = parse(&stdout);
    assert_eq!(doc["diagnostics"][0]["code"], "INPUT", "{doc}");
    assert!(
        doc["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("bogus"),
        "{doc}"
    );
}
