//! Issue 12 item 14 on a real PgBouncer 1.18 running as `postgres`: the userlist installed as
//! Debian does (postgres:postgres 0640) keeps its owner, group and mode when render rewrites it,
//! so PgBouncer can still read it on RELOAD and the new password logs in. (Before, render made it
//! root:root 0600 and the reload failed with `could not open auth_file … Permission denied`.) In
//! CI (`CI=true`) this must run; elsewhere it skips loudly when the servers are not installed.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Command;
use support::stack::*;

const NEW_PASSWORD: &str = "an0ther-s3cret";

#[test]
fn a_rerendered_userlist_stays_readable_by_pgbouncer() {
    let Some(r) = start(&SCRAM) else { return };
    let userlist = r.dir.join("pgbouncer/userlist.txt");
    std::fs::set_permissions(&userlist, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = std::fs::metadata(&userlist).unwrap();
    assert_eq!(
        login(&r, "app_user", PASSWORD, "select 1").as_deref(),
        Ok("1")
    );

    // A new password: render rewrites the userlist and roles.sql.
    let out = Command::new(env!("CARGO_BIN_EXE_poolstack"))
        .args(["render", "stack.toml"])
        .current_dir(&r.dir)
        .env("IT_APP_PASSWORD", NEW_PASSWORD)
        .env("NO_COLOR", "1")
        .output()
        .expect("run poolstack");
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::metadata(&userlist).unwrap();
    assert_ne!(after.ino(), before.ino(), "the userlist was not rewritten");
    assert_eq!(
        (after.uid(), after.gid(), after.mode() & 0o777),
        (before.uid(), before.gid(), 0o640),
        "owner, group or mode changed"
    );

    r.pg.run_file("postgres", &r.dir.join("postgres/initdb.d/10-roles.sql"));
    let reload = Command::new(r.bins.pg_bin.join("psql"))
        .args(["-X", "-q", "-c", "RELOAD"])
        .arg(format!(
            "host=127.0.0.1 port={} dbname=pgbouncer user=app_user connect_timeout=10",
            r.pgb.port
        ))
        .env("PGPASSWORD", PASSWORD)
        .output()
        .expect("run psql");
    assert!(
        reload.status.success(),
        "RELOAD: {}",
        String::from_utf8_lossy(&reload.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = r.pgb.log_text();
    assert!(!log.contains("Permission denied"), "{log}");
    assert_eq!(
        login(&r, "app_user", NEW_PASSWORD, "select current_user").as_deref(),
        Ok("app_user"),
        "{log}"
    );
}
