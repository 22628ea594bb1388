//! Logins that work, on a real PostgreSQL 15 and PgBouncer 1.18 (tests/support/servers.rs): the
//! SCRAM salt PgBouncer answers with must be the one PostgreSQL stores. Each story is asserted
//! both ways: the broken flow cannot log in and `check` or `doctor` says so; the fixed flow logs
//! in (psql and pgbench) and neither reports anything about it. In CI (`CI=true`) these must run.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::servers::{self, Binaries, Pgbouncer, Postgres};
use support::stack::{Spec, manifest};

const SUPERUSER_PW: &str = "super-secret";

fn poolstack(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_poolstack"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE");
    c
}

fn shown(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A PostgreSQL whose superuser logs in over TCP with [`SUPERUSER_PW`].
fn postgres(bins: &Binaries, base: &Path) -> Postgres {
    let pg = Postgres::start(bins, base, "scram-sha-256", None);
    pg.query(
        "postgres",
        &format!("ALTER ROLE postgres PASSWORD '{SUPERUSER_PW}'"),
    );
    pg
}

fn superuser_url(pg: &Postgres) -> String {
    format!("postgresql://postgres@127.0.0.1:{}/postgres", pg.port)
}

/// What PostgreSQL stores for `role`.
fn stored(pg: &Postgres, role: &str) -> String {
    pg.query_exact(
        "postgres",
        &format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'"),
    )
}

fn start_pgbouncer(bins: &Binaries, dir: &Path, ini: &Path, port: u16) -> Pgbouncer {
    for f in walk(dir) {
        servers::give_to_server_user(&f);
    }
    Pgbouncer::start(bins, ini, port, &dir.join("pgbouncer.log"))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// psql through PgBouncer.
fn login(bins: &Binaries, port: u16, db: &str, user: &str, pw: &str) -> Result<String, String> {
    let out = servers::client(&bins.pg_bin, port, db, user, pw, "SELECT current_user");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// pgbench through PgBouncer (a custom script: no pgbench tables needed).
fn pgbench(bins: &Binaries, dir: &Path, port: u16, db: &str, user: &str, pw: &str) {
    let script = dir.join("select.sql");
    std::fs::write(&script, "SELECT 1;\n").unwrap();
    let out = Command::new(bins.pg_bin.join("pgbench"))
        .args(["-n", "-c", "4", "-j", "2", "-t", "20", "-f"])
        .arg(&script)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", user, db])
        .env("PGPASSWORD", pw)
        .output()
        .unwrap();
    assert!(out.status.success(), "pgbench: {}", shown(&out));
}

/// doctor --postgres as the superuser (password from PGPASSWORD), JSON: the codes and severities.
fn doctor(dir: &Path, pg: &Postgres) -> (Option<i32>, Vec<(String, String, String)>) {
    let out = poolstack(dir)
        .args(["doctor", "stack.toml", "--format", "json", "--postgres"])
        .arg(superuser_url(pg))
        .env("PGPASSWORD", SUPERUSER_PW)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", shown(&out)));
    let diags = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["severity"].as_str().unwrap_or("").to_string(),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (out.status.code(), diags)
}

fn liv004_errors(diags: &[(String, String, String)]) -> Vec<String> {
    diags
        .iter()
        .filter(|(c, s, _)| c == "LIV004" && s == "error")
        .map(|(_, _, m)| m.clone())
        .collect()
}

fn check_codes(dir: &Path, env: &[(&str, &str)]) -> String {
    let mut c = poolstack(dir);
    c.args(["check", "stack.toml"]);
    for (k, v) in env {
        c.env(k, v);
    }
    shown(&c.output().unwrap())
}

const ALICE: &str = r#"
[[databases]]
name = "appdb"

[[users]]
name = "alice"
password = { env = "ALICE_PW" }
role = false                       # created by the database image
"#;

/// The manifest of a stack with `entries`, PostgreSQL on `pg_port`, PgBouncer on `pgb_port`.
fn alice_manifest(pg_port: u16, pgb_port: u16, dir: &Path, entries: &str, hash: &str) -> String {
    let spec = Spec {
        auth_type: "scram-sha-256",
        password_encryption: "scram-sha-256",
        userlist_hash: hash,
        hba: "scram-sha-256",
        extra_pgbouncer: "",
        extra_postgres: "",
        entries,
    };
    manifest(&spec, pg_port, pgb_port, dir)
}

/// Story 2: a role the database image created. A userlist with a salt poolstack drew cannot log
/// in (AUT010 before deploy, LIV004 after); copying the stored verifier (`--from-postgres` +
/// `verifier`), `role = true` and `userlist_hash = "plain"` all log in, and nothing is reported.
#[test]
fn a_role_that_already_exists_logs_in_only_with_its_own_verifier() {
    let Some(bins) = servers::binaries() else {
        return;
    };
    let base = servers::temp_base();
    let pg = postgres(&bins, base.path());
    pg.query("postgres", "CREATE ROLE alice LOGIN PASSWORD 'alicepw'");
    pg.query("postgres", "CREATE DATABASE appdb OWNER alice");
    let dir = servers::server_dir(base.path(), "stack");
    let pgb_port = servers::free_port();
    let write = |entries: &str| {
        let text = alice_manifest(pg.port, pgb_port, &dir, entries, "auto");
        std::fs::write(dir.join("stack.toml"), text).unwrap();
    };
    let alice = [("ALICE_PW", "alicepw")];
    let render = || {
        let o = poolstack(&dir)
            .args(["render", "stack.toml", "--force"])
            .env("ALICE_PW", "alicepw")
            .output()
            .unwrap();
        assert!(o.status.success(), "render: {}", shown(&o));
        shown(&o)
    };

    // Broken: role = false, SCRAM, salt unknown.
    write(ALICE);
    let checked = check_codes(&dir, &alice);
    assert!(checked.contains("AUT010"), "{checked}");
    let rendered = render();
    assert!(
        rendered.contains("error"),
        "render counts AUT010: {rendered}"
    );
    let ini = dir.join("pgbouncer/pgbouncer.ini");
    let pgb = start_pgbouncer(&bins, &dir, &ini, pgb_port);
    let err = login(&bins, pgb_port, "appdb", "alice", "alicepw").unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    let (code, diags) = doctor(&dir, &pg);
    assert_eq!(code, Some(1), "{diags:?}");
    let errors = liv004_errors(&diags);
    assert_eq!(errors.len(), 1, "{diags:?}");
    assert!(
        errors[0].contains("`alice`") && errors[0].contains("another salt"),
        "{errors:?}"
    );
    drop(pgb);

    // Fix 1: copy the stored verifier and say where it is known from.
    let o = poolstack(&dir)
        .args([
            "userlist",
            "--from-postgres",
            &superuser_url(&pg),
            "--user",
            "alice",
            "-o",
            "stored.txt",
        ])
        .env("PGPASSWORD", SUPERUSER_PW)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", shown(&o));
    assert!(!shown(&o).contains("SCRAM-SHA-256$"), "{}", shown(&o));
    write(&ALICE.replace(
        "role = false",
        "role = false\nverifier = { userlist = \"stored.txt\" }",
    ));
    let checked = check_codes(&dir, &alice);
    assert!(!checked.contains("AUT010"), "{checked}");
    render();
    let rendered_entry = std::fs::read_to_string(dir.join("pgbouncer/userlist.txt")).unwrap();
    assert!(rendered_entry.contains(&stored(&pg, "alice")));
    let pgb = start_pgbouncer(&bins, &dir, &ini, pgb_port);
    assert_eq!(
        login(&bins, pgb_port, "appdb", "alice", "alicepw"),
        Ok("alice".to_string())
    );
    pgbench(&bins, &dir, pgb_port, "appdb", "alice", "alicepw");
    let (code, diags) = doctor(&dir, &pg);
    assert!(liv004_errors(&diags).is_empty(), "{diags:?}");
    assert_eq!(code, Some(0), "{diags:?}");
    drop(pgb);

    // Fix 2: role = true — roles.sql sets exactly the userlist's verifier.
    write(&ALICE.replace("role = false", "role = true"));
    assert!(!check_codes(&dir, &alice).contains("AUT010"));
    render();
    pg.run_file("postgres", &dir.join("postgres/initdb.d/10-roles.sql"));
    let pgb = start_pgbouncer(&bins, &dir, &ini, pgb_port);
    assert_eq!(
        login(&bins, pgb_port, "appdb", "alice", "alicepw"),
        Ok("alice".to_string())
    );
    let (_, diags) = doctor(&dir, &pg);
    assert!(liv004_errors(&diags).is_empty(), "{diags:?}");
    drop(pgb);

    // Fix 3: a plaintext entry — PgBouncer computes the proof from the password itself.
    pg.query("postgres", "ALTER ROLE alice PASSWORD 'alicepw'");
    let plain = alice_manifest(pg.port, pgb_port, &dir, ALICE, "plain");
    std::fs::write(dir.join("stack.toml"), plain).unwrap();
    assert!(!check_codes(&dir, &alice).contains("AUT010"));
    render();
    let pgb = start_pgbouncer(&bins, &dir, &ini, pgb_port);
    assert_eq!(
        login(&bins, pgb_port, "appdb", "alice", "alicepw"),
        Ok("alice".to_string())
    );
    let (_, diags) = doctor(&dir, &pg);
    assert!(liv004_errors(&diags).is_empty(), "{diags:?}");
    drop(pgb);

    // The `userlist --user` one-liner for a role that exists: it says the salt is new.
    let o = poolstack(&dir)
        .args([
            "userlist",
            "--user",
            "alice",
            "--password-env",
            "ALICE_PW",
            "-o",
            "one.txt",
        ])
        .env("ALICE_PW", "alicepw")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", shown(&o));
    assert!(shown(&o).contains("--from-postgres"), "{}", shown(&o));
}

/// Story 1: import → render of a hand-written stack whose userlist holds the role's real SCRAM
/// verifier logs in through the rendered PgBouncer, exactly as the README runs it; the same
/// manifest without the verifier's provenance is AUT010, and its render fails at the server
/// (LIV004).
#[test]
fn import_then_render_keeps_the_stored_verifier_and_logs_in() {
    let Some(bins) = servers::binaries() else {
        return;
    };
    let base = servers::temp_base();
    let pg = postgres(&bins, base.path());
    pg.query("postgres", "CREATE ROLE trader LOGIN PASSWORD 'trader123'");
    pg.query("postgres", "CREATE DATABASE mt5_trading OWNER trader");
    let dir = servers::server_dir(base.path(), "seed");
    let pgb_port = servers::free_port();
    let verifier = stored(&pg, "trader");
    std::fs::write(
        dir.join("pgbouncer.ini"),
        format!(
            "[databases]\nmt5_trading = host=127.0.0.1 port={} dbname=mt5_trading\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {pgb_port}\nunix_socket_dir = {d}/pgbouncer\nauth_type = scram-sha-256\nauth_file = {d}/pgbouncer/userlist.txt\npool_mode = transaction\nadmin_users = trader\n",
            pg.port,
            d = dir.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("userlist.txt"),
        format!("\"trader\" \"{verifier}\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join(".env"),
        format!(
            "DATABASE_URL=postgresql://trader:${{POSTGRES_PASSWORD}}@127.0.0.1:{pgb_port}/mt5_trading\nDB_POOL_SIZE=5\n"
        ),
    )
    .unwrap();
    let originals: Vec<(PathBuf, Vec<u8>)> = ["pgbouncer.ini", "userlist.txt", ".env"]
        .iter()
        .map(|f| (dir.join(f), std::fs::read(dir.join(f)).unwrap()))
        .collect();

    let o = poolstack(&dir)
        .args([
            "import",
            "pgbouncer.ini",
            "userlist.txt",
            ".env",
            "-o",
            "stack.toml",
            "--pg-version",
            "15",
            "--pgbouncer-version",
            "1.18",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "import: {}", shown(&o));
    let imported = std::fs::read_to_string(dir.join("stack.toml")).unwrap();
    assert!(
        !imported.contains(&verifier),
        "the verifier leaked into the manifest"
    );
    let o = poolstack(&dir)
        .arg("render")
        .env("POSTGRES_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "render: {}", shown(&o));
    for (path, bytes) in &originals {
        assert_eq!(
            &std::fs::read(path).unwrap(),
            bytes,
            "{} was changed",
            path.display()
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("pgbouncer/userlist.txt")).unwrap(),
        format!("\"trader\" \"{verifier}\"\n"),
        "the imported verifier, byte for byte"
    );
    let checked = check_codes(&dir, &[("POSTGRES_PASSWORD", "trader123")]);
    assert!(!checked.contains("AUT010"), "{checked}");
    let ini = dir.join("pgbouncer/pgbouncer.ini");
    let pgb = start_pgbouncer(&bins, &dir, &ini, pgb_port);
    assert_eq!(
        login(&bins, pgb_port, "mt5_trading", "trader", "trader123"),
        Ok("trader".to_string())
    );
    pgbench(&bins, &dir, pgb_port, "mt5_trading", "trader", "trader123");
    let (_, diags) = doctor(&dir, &pg);
    assert!(liv004_errors(&diags).is_empty(), "{diags:?}");
    drop(pgb);

    // Without the provenance (what import wrote before): AUT010, a new salt, a failed login.
    let unknown: String = imported
        .lines()
        .filter(|l| !l.starts_with("verifier"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("stack.toml"), unknown).unwrap();
    std::fs::remove_file(dir.join("pgbouncer/userlist.txt")).unwrap();
    let checked = check_codes(&dir, &[("POSTGRES_PASSWORD", "trader123")]);
    assert!(checked.contains("AUT010"), "{checked}");
    let o = poolstack(&dir)
        .arg("render")
        .env("POSTGRES_PASSWORD", "trader123")
        .output()
        .unwrap();
    assert!(o.status.success(), "render: {}", shown(&o));
    let pgb = start_pgbouncer(&bins, &dir, &ini, pgb_port);
    let err = login(&bins, pgb_port, "mt5_trading", "trader", "trader123").unwrap_err();
    assert!(err.contains("password authentication failed"), "{err}");
    let (_, diags) = doctor(&dir, &pg);
    assert_eq!(liv004_errors(&diags).len(), 1, "{diags:?}");
    drop(pgb);
}

/// `userlist --from-postgres`: SCRAM and md5 roles copied byte for byte, roles without a password
/// or with an expired one skipped (and said), merged into an existing file, never printing a
/// secret; a non-superuser gets a clear error; the password comes from PGPASSWORD or a
/// .pgpass file (PGPASSFILE), which libpq's rules ignore when others may read it.
#[test]
fn userlist_from_postgres_copies_what_the_server_stores() {
    let Some(bins) = servers::binaries() else {
        return;
    };
    let base = servers::temp_base();
    let pg = postgres(&bins, base.path());
    pg.query(
        "postgres",
        "SET password_encryption = 'scram-sha-256'; CREATE ROLE sam LOGIN PASSWORD 'sampw'; \
         SET password_encryption = 'md5'; CREATE ROLE mo LOGIN PASSWORD 'mopw'; \
         CREATE ROLE nopw LOGIN; \
         SET password_encryption = 'scram-sha-256'; \
         CREATE ROLE old LOGIN PASSWORD 'oldpw' VALID UNTIL '2001-01-01'; \
         CREATE ROLE plainuser LOGIN PASSWORD 'pp'",
    );
    let dir = tempfile::tempdir().unwrap();
    let url = superuser_url(&pg);
    let existing = "; managed by hand\n\"zed\" \"zedpw\"\n\"sam\" \"stale\"\n";
    std::fs::write(dir.path().join("userlist.txt"), existing).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--from-postgres", &url])
        .args([
            "--user", "sam", "--user", "mo", "--user", "nopw", "--user", "old", "--user", "ghost",
        ])
        .env("PGPASSWORD", SUPERUSER_PW)
        .output()
        .unwrap();
    let out = shown(&o);
    assert!(o.status.success(), "{out}");
    let sam = stored(&pg, "sam");
    let mo = stored(&pg, "mo");
    assert!(sam.starts_with("SCRAM-SHA-256$") && mo.starts_with("md5"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("userlist.txt")).unwrap(),
        format!("; managed by hand\n\"zed\" \"zedpw\"\n\"sam\" \"{sam}\"\n\"mo\" \"{mo}\"\n")
    );
    for (who, why) in [
        ("nopw", "no password"),
        ("old", "expired"),
        ("ghost", "no such role"),
    ] {
        assert!(
            out.contains(&format!("skipped `{who}`")) && out.contains(why),
            "{who}: {out}"
        );
    }
    for secret in [&sam, &mo, "zedpw", SUPERUSER_PW] {
        assert!(!out.contains(secret), "a secret was printed: {out}");
    }
    assert!(
        out.contains("updated sam") && out.contains("added mo"),
        "{out}"
    );

    // Every login role with a password, into a new file (0600); through a .pgpass file.
    let pgpass = dir.path().join("pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "# comment\n127.0.0.1:{}:*:postgres:{SUPERUSER_PW}\n",
            pg.port
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--from-postgres", &url, "-o", "all.txt"])
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", shown(&o));
    let all = std::fs::read_to_string(dir.path().join("all.txt")).unwrap();
    let users: Vec<String> = poolstack::formats::userlist::Userlist::parse(&all)
        .entries
        .iter()
        .map(|e| e.user.clone())
        .collect();
    assert_eq!(
        users,
        ["mo", "plainuser", "postgres", "sam"],
        "{}",
        shown(&o)
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("all.txt"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    // A .pgpass others may read is ignored, as libpq does: no password, and the message says so.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = poolstack(dir.path())
        .args(["userlist", "--from-postgres", &url, "-o", "x.txt"])
        .env("PGPASSFILE", &pgpass)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(shown(&o).contains("group or world access"), "{}", shown(&o));
    assert!(!shown(&o).contains(SUPERUSER_PW), "{}", shown(&o));

    // A role that cannot read pg_authid: a clear error, nothing written.
    let o = poolstack(dir.path())
        .args(["userlist", "--from-postgres"])
        .arg(format!(
            "postgresql://plainuser@127.0.0.1:{}/postgres",
            pg.port
        ))
        .args(["-o", "denied.txt"])
        .env("PGPASSWORD", "pp")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(
        shown(&o).contains("pg_authid") && shown(&o).contains("superuser"),
        "{}",
        shown(&o)
    );
    assert!(!dir.path().join("denied.txt").exists());

    // A wrong password names the server and where the password came from.
    let o = poolstack(dir.path())
        .args(["userlist", "--from-postgres", &url, "-o", "y.txt"])
        .env("PGPASSWORD", "wrong")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let err = shown(&o);
    assert!(
        err.contains("password authentication failed") && err.contains("$PGPASSWORD"),
        "{err}"
    );
    assert!(
        err.contains(&format!("127.0.0.1:{}", pg.port)) && !err.contains("wrong"),
        "{err}"
    );
}

/// doctor's credentials as libpq users expect: a per-server variable, a .pgpass per server, and
/// a refusal that says which server refused the password from where.
#[test]
fn doctor_takes_per_server_credentials() {
    let Some(bins) = servers::binaries() else {
        return;
    };
    let base = servers::temp_base();
    let pg = postgres(&bins, base.path());
    let dir = servers::server_dir(base.path(), "stack");
    let text = alice_manifest(pg.port, servers::free_port(), &dir, ALICE, "auto");
    std::fs::write(dir.join("stack.toml"), text).unwrap();
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut c = poolstack(&dir);
        c.args(["doctor", "stack.toml", "--postgres", &superuser_url(&pg)])
            .args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let o = run(
        &[("PG_SUPER", SUPERUSER_PW), ("PGPASSWORD", "wrong")],
        &["--postgres-password-env", "PG_SUPER"],
    );
    assert_ne!(o.status.code(), Some(2), "{}", shown(&o));
    let o = run(
        &[("PG_SUPER", "wrong")],
        &["--postgres-password-env", "PG_SUPER"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let err = shown(&o);
    assert!(
        err.contains("PostgreSQL refused the password from $PG_SUPER"),
        "{err}"
    );
    let pgpass = dir.join("pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:postgres:postgres:{SUPERUSER_PW}\n", pg.port),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run(&[("PGPASSFILE", pgpass.to_str().unwrap())], &[]);
    assert_ne!(o.status.code(), Some(2), "{}", shown(&o));
}

/// `[[databases]] create = true`: roles.sql creates the database, owned by its user, and psql
/// applies it twice without error; then the app logs in through PgBouncer.
#[test]
fn roles_sql_creates_the_database_and_runs_twice() {
    let Some(bins) = servers::binaries() else {
        return;
    };
    let base = servers::temp_base();
    let pg = postgres(&bins, base.path());
    let dir = servers::server_dir(base.path(), "stack");
    let pgb_port = servers::free_port();
    let entries = r#"
[[databases]]
name = "mt5"
dbname = "mt5_trading"
create = true
owner = "trader"

[[users]]
name = "trader"
password = { env = "TP" }
"#;
    std::fs::write(
        dir.join("stack.toml"),
        alice_manifest(pg.port, pgb_port, &dir, entries, "auto"),
    )
    .unwrap();
    let o = poolstack(&dir)
        .args(["render", "stack.toml"])
        .env("TP", "tp-secret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", shown(&o));
    let roles = dir.join("postgres/initdb.d/10-roles.sql");
    pg.run_file("postgres", &roles);
    pg.run_file("postgres", &roles);
    assert_eq!(
        pg.query(
            "postgres",
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'mt5_trading'"
        ),
        "trader"
    );
    let pgb = start_pgbouncer(&bins, &dir, &dir.join("pgbouncer/pgbouncer.ini"), pgb_port);
    assert_eq!(
        login(&bins, pgb_port, "mt5", "trader", "tp-secret"),
        Ok("trader".to_string())
    );
    drop(pgb);
}
