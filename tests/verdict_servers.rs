//! One verdict (issue 12) on the real servers: what `check` predicts about a value is what
//! PgBouncer 1.18 and PostgreSQL do with it. In CI (`CI=true`) these must run; elsewhere they
//! skip loudly when the servers are not installed.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::servers::{self, Binaries, Pgbouncer};

fn poolstack(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run poolstack")
}

/// `check --format json` of one hand-written file: (code, message) of each finding on `line`.
fn findings_on_line(dir: &Path, file: &str, line: i64) -> Vec<(String, String)> {
    let out = poolstack(dir, &["check", "--format", "json", file]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["line"] == line)
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A pgbouncer.ini for PgBouncer 1.18 with trust logins for `admin`, and `extra` in [pgbouncer].
fn ini(dir: &Path, port: u16, listen_addr: &str, extra: &str) -> String {
    format!(
        "; poolstack: pgbouncer 1.18\n[databases]\napp = host=127.0.0.1 port=1 dbname=app\n[pgbouncer]\nlisten_addr = {listen_addr}\nlisten_port = {port}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\nadmin_users = admin\n{extra}",
        dir.join("userlist.txt").display()
    )
}

/// Write the ini and its userlist where the server user can read them; the ini's path.
fn put(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("userlist.txt"), "\"admin\" \"x\"\n").unwrap();
    servers::give_to_server_user(&dir.join("userlist.txt"));
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    servers::give_to_server_user(&path);
    path
}

fn setup() -> Option<(Binaries, tempfile::TempDir, std::path::PathBuf)> {
    let bins = servers::binaries()?;
    let base = servers::temp_base();
    let dir = servers::server_dir(base.path(), "pgb");
    Some((bins, base, dir))
}

#[test]
fn pgbouncer_wraps_an_integer_beyond_its_c_type_as_check_predicts() {
    let Some((bins, _base, dir)) = setup() else {
        return;
    };
    let port = servers::free_port();
    let text = ini(
        &dir,
        port,
        "127.0.0.1",
        "default_pool_size = 3000000000\nmax_db_connections = 10\n",
    );
    let path = put(&dir, "pgbouncer.ini", &text);
    let pgb = Pgbouncer::start(&bins, &path, port, &dir.join("pgbouncer.log"));
    let out = servers::client(
        &bins.pg_bin,
        pgb.port,
        "pgbouncer",
        "admin",
        "x",
        "SHOW CONFIG",
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("default_pool_size|-1294967296|")),
        "PgBouncer's own value: {shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // check says the same about the hand-written file: a warning with the wrapped value.
    let line = text
        .lines()
        .position(|l| l.starts_with("default_pool_size"))
        .unwrap() as i64
        + 1;
    let found = findings_on_line(&dir, "pgbouncer.ini", line);
    assert!(
        found
            .iter()
            .any(|(code, msg)| code == "CAT005" && msg.contains("-1294967296")),
        "{found:?}"
    );
}

#[test]
fn an_inline_comment_in_listen_addr_stops_pgbouncer_as_check_predicts() {
    let Some((bins, _base, dir)) = setup() else {
        return;
    };
    // Control: the same file without the comment starts.
    let port = servers::free_port();
    let good = put(&dir, "good.ini", &ini(&dir, port, "127.0.0.1", ""));
    drop(Pgbouncer::start(&bins, &good, port, &dir.join("good.log")));
    let port = servers::free_port();
    let text = ini(&dir, port, "127.0.0.1 ; managed", "");
    let bad = put(&dir, "pgbouncer.ini", &text);
    let started = Pgbouncer::try_start(&bins, &bad, port, &dir.join("bad.log"));
    assert!(
        started.is_err(),
        "PgBouncer started with an inline comment in listen_addr"
    );
    let found = findings_on_line(&dir, "pgbouncer.ini", 5);
    assert!(
        found.iter().any(|(code, _)| code == "CAT002"),
        "check must call it an error: {found:?}"
    );
}

/// The installed PostgreSQL major (its bin directory is /usr/lib/postgresql/N/bin).
fn installed_major(bins: &Binaries) -> String {
    bins.pg_bin
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .filter(|n| n.parse::<u32>().is_ok())
        .unwrap_or("15")
        .to_string()
}

/// `postgres -C shared_buffers` on a fresh cluster whose postgresql.conf includes `tuned`.
fn postgres_reads(bins: &Binaries, root: &Path, tuned: &str) -> Output {
    let data = root.join("data");
    if !data.exists() {
        let out = servers::as_server_user(&bins.pg_bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth-local=trust", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        conf.push_str("\ninclude 'tuned.conf'\n");
        std::fs::write(data.join("postgresql.conf"), conf).unwrap();
    }
    std::fs::write(data.join("tuned.conf"), tuned).unwrap();
    servers::give_to_server_user(&data.join("tuned.conf"));
    servers::as_server_user(&bins.pg_bin.join("postgres"))
        .args(["-C", "shared_buffers", "-D"])
        .arg(&data)
        .output()
        .expect("run postgres -C")
}

#[test]
fn postgresql_accepts_what_tune_writes_for_64tb_and_refuses_pgtunes_own_value() {
    let Some((bins, base, _dir)) = setup() else {
        return;
    };
    let root = servers::server_dir(base.path(), "pg");
    let major = installed_major(&bins);
    let out = poolstack(
        &root,
        &[
            "tune",
            "--memory",
            "64TB",
            "--workload",
            "oltp",
            "--pg-version",
            &major,
            "--format",
            "conf",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tuned = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(tuned.contains("shared_buffers = 8191GB"), "{tuned}");
    let read = postgres_reads(&bins, &root, &tuned);
    assert!(
        read.status.success(),
        "PostgreSQL {major} refused tune's output: {}\n{tuned}",
        String::from_utf8_lossy(&read.stderr)
    );
    // Control: PgTune's uncapped value is what the server refuses.
    let refused = postgres_reads(&bins, &root, "shared_buffers = 16384GB\n");
    assert!(!refused.status.success(), "16384GB was accepted");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("shared_buffers"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
