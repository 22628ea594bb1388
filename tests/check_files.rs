//! `poolstack check pgbouncer.ini postgresql.conf .env userlist.txt`: hand-written files linted
//! together as one stack, through the real binary. Files are copied into a temp dir first (git
//! keeps no file modes, and the repository is a git work tree), so AUT004/AUT008 depend only on
//! what each test sets up.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn poolstack(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1").current_dir(dir);
    c
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = poolstack(dir).args(args).output().unwrap();
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

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// (code, file, line) of every diagnostic.
fn places(report: &Value) -> Vec<(String, String, u64)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The hand-written MT5 files in a temp dir, userlist.txt at 0600.
fn mt5() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["pgbouncer.ini", "userlist.txt", ".env", "postgresql.conf"] {
        std::fs::copy(
            root().join("fixtures/handwritten/mt5").join(name),
            dir.path().join(name),
        )
        .unwrap();
    }
    set_mode(&dir.path().join("userlist.txt"), 0o600);
    dir
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

const MT5_FILES: [&str; 4] = ["pgbouncer.ini", "userlist.txt", ".env", "postgresql.conf"];

/// The seed's stack, written by hand: the same mistakes the manifest version shows (PRE001,
/// PRE002, AUT002, AUT003), found across files — PRE001 needs the .env and the pgbouncer.ini
/// together, AUT002 the userlist and postgresql.conf's version.
#[test]
fn the_hand_written_mt5_stack() {
    let dir = mt5();
    let (code, report) = json(dir.path(), &MT5_FILES);
    assert_eq!(code, Some(1));
    assert_eq!(
        places(&report),
        [
            ("pgbouncer.ini".to_string(), 9),
            ("userlist.txt".to_string(), 1),
            ("userlist.txt".to_string(), 1),
            (".env".to_string(), 13),
            (".env".to_string(), 13),
        ]
        .iter()
        .zip(["AUT003", "AUT002", "AUT003", "PRE001", "PRE002"])
        .map(|((f, l), c)| (c.to_string(), f.clone(), *l))
        .collect::<Vec<_>>()
    );
    let human = run(
        dir.path(),
        &["check"].into_iter().chain(MT5_FILES).collect::<Vec<_>>(),
    );
    assert_eq!(human.code, Some(1));
    insta::assert_snapshot!("handwritten_mt5_human", human.stdout);
}

/// Every diagnostic points into a file, 1-based, at the key or value to change.
#[test]
fn findings_point_at_the_offending_key_or_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "[databases]\napp = host=db pool_size=abc\n\n[pgbouncer]\nPOOL_MODE = transaction\nserver_idle_timeout = 30s\nlisten_port = 6432\nlisten_port = 6433\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("postgresql.conf"),
        "shared_buffers = 1.5GB\nwork_mem = '4gb'\nshard_buffers = 1\n",
    )
    .unwrap();
    let (code, report) = json(
        dir.path(),
        &[
            "pgbouncer.ini",
            "postgresql.conf",
            "--pgbouncer-version",
            "1.18",
            "--pg-version",
            "15",
        ],
    );
    assert_eq!(code, Some(1));
    let mut got = places(&report);
    got.sort();
    let mut want: Vec<(String, String, u64)> = [
        ("CAT005", "pgbouncer.ini", 2),
        // auth_type is not set: PgBouncer's md5, pointed at [pgbouncer].
        ("AUT003", "pgbouncer.ini", 4),
        ("CAT001", "pgbouncer.ini", 5),
        ("CAT002", "pgbouncer.ini", 6),
        ("CAT006", "pgbouncer.ini", 7),
        ("CAT002", "postgresql.conf", 1),
        ("CAT002", "postgresql.conf", 2),
        ("CAT001", "postgresql.conf", 3),
    ]
    .iter()
    .map(|(c, f, l)| (c.to_string(), f.to_string(), *l))
    .collect();
    want.sort();
    assert_eq!(got, want, "{report:#}");
    for d in report["diagnostics"].as_array().unwrap() {
        assert!(d["column"].as_u64().unwrap() >= 1, "{d}");
        assert!(d["help"].as_str().is_some_and(|h| !h.is_empty()), "{d}");
    }
    let by_code = |c: &str| {
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == c && d["file"] == "pgbouncer.ini")
            .cloned()
            .unwrap()
    };
    assert!(
        by_code("CAT001")["help"]
            .as_str()
            .unwrap()
            .contains("pool_mode")
    );
    assert_eq!(by_code("CAT002")["column"], 23);
}

/// The version comes from the flag, else from a `poolstack:` comment; without one, a finding
/// that depends on it is stated conditionally (info) and fails nothing.
#[test]
fn versions_from_flags_comments_or_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let ini = "[databases]\napp = host=db\n\n[pgbouncer]\nmax_prepared_statements = 100\n";
    std::fs::write(dir.path().join("pgbouncer.ini"), ini).unwrap();
    let (code, report) = json(dir.path(), &["pgbouncer.ini"]);
    assert_eq!(code, Some(0), "{report:#}");
    let d = &report["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["severity"].as_str()),
        (Some("CAT003"), Some("info"))
    );
    assert!(d["message"].as_str().unwrap().contains("1.21"), "{d}");

    let (code, report) = json(
        dir.path(),
        &["pgbouncer.ini", "--pgbouncer-version", "1.18"],
    );
    assert_eq!(
        (code, codes(&report)),
        (Some(1), vec!["CAT003".to_string()])
    );
    let (code, report) = json(
        dir.path(),
        &["pgbouncer.ini", "--pgbouncer-version", "1.21"],
    );
    assert_eq!((code, codes(&report)), (Some(0), Vec::<String>::new()));

    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        format!("; poolstack: pgbouncer 1.18\n{ini}"),
    )
    .unwrap();
    let (code, report) = json(dir.path(), &["pgbouncer.ini"]);
    assert_eq!(
        (code, codes(&report)),
        (Some(1), vec!["CAT003".to_string()])
    );
    // The flag wins over the comment.
    let (code, _) = json(
        dir.path(),
        &["pgbouncer.ini", "--pgbouncer-version", "1.24"],
    );
    assert_eq!(code, Some(0));
    // A version poolstack does not know is an input error.
    let r = run(
        dir.path(),
        &["check", "pgbouncer.ini", "--pgbouncer-version", "2.0"],
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
}

/// `; poolstack: ignore CODE reason` on the line above a setting suppresses that code there
/// only; one that suppresses nothing is LNT001 at its place.
#[test]
fn suppression_comments() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "; poolstack: pgbouncer 1.18\n[databases]\napp = host=db\n\n[pgbouncer]\n; poolstack: ignore CAT005 hex on purpose\ndefault_pool_size = 0x10\nmax_client_conn = 010\n; poolstack: ignore CAT001 nothing to hide here\nlisten_port = 6432\n",
    )
    .unwrap();
    let (code, report) = json(dir.path(), &["pgbouncer.ini"]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(
        places(&report),
        [
            ("CAT005".to_string(), "pgbouncer.ini".to_string(), 8),
            ("LNT001".to_string(), "pgbouncer.ini".to_string(), 9)
        ]
    );
    // A typo in a suppression is an input error at its place.
    std::fs::write(
        dir.path().join("pgbouncer.ini"),
        "[pgbouncer]\n; poolstack: ignore CAT05 typo\nlisten_port = 6432\n",
    )
    .unwrap();
    let r = run(dir.path(), &["check", "pgbouncer.ini"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("pgbouncer.ini:2:"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `CAT005`?"), "{}", r.stderr);
}

/// Files whose names say nothing are recognised by content.
#[test]
fn files_are_recognised_by_content() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bouncer.cfg"),
        "[databases]\napp = host=db\n[pgbouncer]\nauth_type = plain\nadmin_users = ops\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("users"), "\"app\" \"secret\"\n").unwrap();
    set_mode(&dir.path().join("users"), 0o600);
    let (code, report) = json(dir.path(), &["bouncer.cfg", "users"]);
    // AUT005: `ops` is not in the userlist; AUT009: a plaintext entry.
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(codes(&report), ["AUT005", "AUT009"]);
    std::fs::write(dir.path().join("README"), "- notes about the pool\n").unwrap();
    let r = run(dir.path(), &["check", "README"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("cannot tell what README is"),
        "{}",
        r.stderr
    );
}

/// Bad input never panics: each is an exit 2 or a located finding.
#[test]
fn bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // Binary: exit 2.
    std::fs::write(p.join("pgbouncer.ini"), b"\x1f\x8b\x08\x00\x00binary").unwrap();
    let r = run(p, &["check", "pgbouncer.ini"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("not a text file"), "{}", r.stderr);
    // Empty: PgBouncer refuses a file without [pgbouncer].
    std::fs::write(p.join("pgbouncer.ini"), "").unwrap();
    let (code, report) = json(p, &["pgbouncer.ini"]);
    assert_eq!(
        (code, codes(&report)),
        (Some(1), vec!["CAT008".to_string()])
    );
    // An empty postgresql.conf is fine.
    std::fs::write(p.join("postgresql.conf"), "").unwrap();
    let (code, report) = json(p, &["postgresql.conf"]);
    assert_eq!((code, codes(&report)), (Some(0), Vec::<String>::new()));
    // CRLF: the same findings as LF.
    let lf = "[pgbouncer]\npool_mode = transaction ; comment\n";
    std::fs::write(p.join("pgbouncer.ini"), lf).unwrap();
    let (_, a) = json(p, &["pgbouncer.ini"]);
    std::fs::write(p.join("pgbouncer.ini"), lf.replace('\n', "\r\n")).unwrap();
    let (_, b) = json(p, &["pgbouncer.ini"]);
    assert_eq!(places(&a), places(&b));
    assert_eq!(codes(&a), ["CAT002"]);
    // Invalid UTF-8: read, located, no panic.
    std::fs::write(
        p.join("postgresql.conf"),
        b"cluster_name = 'caf\xe9'\nwork_mem = 4gb\n",
    )
    .unwrap();
    let (code, report) = json(p, &["postgresql.conf"]);
    assert_eq!(
        (code, places(&report)),
        (
            Some(1),
            vec![("CAT002".to_string(), "postgresql.conf".to_string(), 2)]
        )
    );
    // An include cycle ends with one finding.
    std::fs::write(p.join("a.conf"), "include 'b.conf'\n").unwrap();
    std::fs::write(p.join("b.conf"), "include 'a.conf'\n").unwrap();
    let (code, report) = json(p, &["a.conf"]);
    assert_eq!(code, Some(1));
    assert_eq!(codes(&report), ["CAT008"], "{report:#}");
    // A missing include is a warning: it may exist where the server runs.
    std::fs::write(
        p.join("pgbouncer.ini"),
        "[pgbouncer]\n%include /nonexistent/db.ini\n",
    )
    .unwrap();
    let (code, report) = json(p, &["pgbouncer.ini"]);
    assert_eq!(
        (code, codes(&report)),
        (Some(0), vec!["FIL004".to_string()])
    );
    // 10 MB of [databases]: read whole, no panic.
    let mut big = String::from("[pgbouncer]\nlisten_port = 6432\n[databases]\n");
    let mut i = 0;
    while big.len() < 10 * 1024 * 1024 {
        big.push_str(&format!(
            "db{i} = host=10.0.0.1 port=5432 dbname=db{i} pool_size=5\n"
        ));
        i += 1;
    }
    std::fs::write(p.join("pgbouncer.ini"), &big).unwrap();
    let (code, _) = json(p, &["pgbouncer.ini"]);
    assert_eq!(code, Some(0));
    // Two pgbouncer.ini files cannot be one stack.
    std::fs::write(p.join("other.ini"), "[pgbouncer]\n").unwrap();
    let r = run(p, &["check", "pgbouncer.ini", "other.ini"]);
    assert_eq!(r.code, Some(2));
}

/// Every output format works for hand-written files, with file positions.
#[test]
fn every_format() {
    let dir = mt5();
    for format in ["sarif", "github"] {
        let mut args = vec!["check", "--format", format];
        args.extend(MT5_FILES);
        let r = run(dir.path(), &args);
        assert_eq!(r.code, Some(1), "{}", r.stderr);
        assert!(r.stdout.contains(".env"), "{}", r.stdout);
    }
    let r = run(
        dir.path(),
        &["check", "--format", "github", ".env", "pgbouncer.ini"],
    );
    assert!(
        r.stdout
            .contains("::warning file=.env,line=13,col=22,endLine=13,endColumn=23,title=PRE002::"),
        "{}",
        r.stdout
    );
}

/// `.env` files of other frameworks (crate::apps::dotenv): read as that kind, with each
/// finding at the variable (or DATABASE_URL) that asks for the unsafe value.
#[test]
fn framework_env_files_are_read_with_their_conventions() {
    let dir = mt5();
    // asyncpg's conventions: its own statement cache of 100 behind transaction pooling.
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading\nDB_POOL_MIN_SIZE=2\nDB_POOL_MAX_SIZE=5\nDB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME=300\nDB_STATEMENT_CACHE_SIZE=100\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    let p = places(&report);
    assert!(
        p.contains(&("PRE010".to_string(), ".env".to_string(), 5)),
        "{p:?}"
    );
    assert!(!codes(&report).contains(&"PRE001".to_string()), "{p:?}");
    // The same file with the safe value is clean of PRE010.
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading\nDB_POOL_MIN_SIZE=2\nDB_POOL_MAX_SIZE=5\nDB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME=300\nDB_STATEMENT_CACHE_SIZE=0\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    assert!(!codes(&report).contains(&"PRE010".to_string()));
    // Prisma 6's URL keys: connection_limit without pgbouncer=true in front of max_prepared_statements = 0.
    std::fs::write(
        dir.path().join(".env"),
        "# prisma\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?connection_limit=5&pool_timeout=10\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    assert!(codes(&report).contains(&"PRE009".to_string()), "{report}");
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?connection_limit=5&pgbouncer=true\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    assert!(!codes(&report).contains(&"PRE009".to_string()), "{report}");
    // Rails: prepared_statements=true in DATABASE_URL, RAILS_MAX_THREADS for the pool.
    std::fs::write(
        dir.path().join(".env"),
        "RAILS_MAX_THREADS=5\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?prepared_statements=true&advisory_locks=false\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    let p = places(&report);
    assert!(
        p.contains(&("PRE007".to_string(), ".env".to_string(), 2)),
        "{p:?}"
    );
    assert!(!codes(&report).contains(&"PRE008".to_string()), "{p:?}");
}

/// A combination the framework refuses at start, in a hand-written .env: the check a manifest
/// gets (an input error there) is a CAT002 finding at the variable.
#[test]
fn framework_refused_combinations_in_env_files_are_cat002() {
    let dir = mt5();
    // Django's pool with persistent connections: `ImproperlyConfigured: Pooling doesn't support
    // persistent connections.`
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading\nDB_DISABLE_SERVER_SIDE_CURSORS=true\nDB_POOL=true\nDB_CONN_MAX_AGE=600\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    let p = places(&report);
    assert!(
        p.contains(&("CAT002".to_string(), ".env".to_string(), 4)),
        "{p:?}"
    );
    assert!(
        report
            .to_string()
            .contains("Pooling doesn't support persistent connections"),
        "{report}"
    );
    // CONN_MAX_AGE = 0 with the pool is what Django takes.
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading\nDB_DISABLE_SERVER_SIDE_CURSORS=true\nDB_POOL=true\nDB_CONN_MAX_AGE=0\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    assert!(!codes(&report).contains(&"CAT002".to_string()), "{report}");
}

/// NET004 on a hand-written asyncpg .env: a DSN key asyncpg does not read is sent to the server
/// as a startup parameter; the finding points at the key inside DATABASE_URL.
#[test]
fn unknown_driver_url_keys_are_startup_parameters() {
    let dir = mt5();
    std::fs::write(
        dir.path().join(".env"),
        "DB_POOL_MAX_SIZE=5\nDB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME=300\nDB_STATEMENT_CACHE_SIZE=0\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?sslmode=disable&statement_cache_size=0\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    let net: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "NET004")
        .collect();
    assert_eq!(net.len(), 1, "{report}");
    assert_eq!(net[0]["line"], 4);
    assert!(
        net[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("`unsupported startup parameter: statement_cache_size`"),
        "{report}"
    );
    // sslmode is asyncpg's own: only statement_cache_size is reported; without it, nothing.
    std::fs::write(
        dir.path().join(".env"),
        "DB_POOL_MAX_SIZE=5\nDB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME=300\nDB_STATEMENT_CACHE_SIZE=0\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?sslmode=disable\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    assert!(!codes(&report).contains(&"NET004".to_string()), "{report}");
}

/// node-postgres (and Prisma 7's adapter, which is node-postgres) sends statement_timeout,
/// lock_timeout, idle_in_transaction_session_timeout and options from DATABASE_URL as startup
/// parameters: NET004 at the key (seen on PgBouncer 1.18: `P2039 … unsupported startup
/// parameter: statement_timeout` from Prisma 7).
#[test]
fn node_postgres_url_timeouts_are_startup_parameters() {
    let dir = mt5();
    for env in [
        "DB_POOL_MAX=4\nDB_POOL_IDLE_TIMEOUT_MILLIS=10000\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?statement_timeout=5000\n",
        "DB_POOL_MAX=4\nDB_POOL_IDLE_TIMEOUT_MILLIS=10000\nDIRECT_URL=postgresql://trader:${TRADER_PASSWORD}@db:5432/mt5_trading\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading?statement_timeout=5000\n",
    ] {
        std::fs::write(dir.path().join(".env"), env).unwrap();
        let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
        let net: Vec<&Value> = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"] == "NET004")
            .collect();
        assert_eq!(net.len(), 1, "{report}");
        assert!(
            net[0]["message"]
                .as_str()
                .unwrap_or("")
                .contains("unsupported startup parameter: statement_timeout"),
            "{report}"
        );
    }
    std::fs::write(
        dir.path().join(".env"),
        "DB_POOL_MAX=4\nDB_POOL_IDLE_TIMEOUT_MILLIS=10000\nDATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:5432/mt5_trading\n",
    )
    .unwrap();
    let (_, report) = json(dir.path(), &["pgbouncer.ini", ".env"]);
    assert!(!codes(&report).contains(&"NET004".to_string()), "{report}");
}
