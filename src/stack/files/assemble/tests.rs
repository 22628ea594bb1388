//! Hand-written files, as a user writes them, → the stack the rules read.

use crate::auth::SecretKind;
use crate::catalog::pgbouncer::PgbVersion;
use crate::manifest::{AuthType, PasswordEncryption, PoolMode};
use crate::source::Loc;
use crate::stack::files::{Input, Kind, Versions, build};
use crate::stack::{Database, Origin, Setting, Stack, User};
use std::sync::Arc;
use tempfile::TempDir;

const MD5: &str = "md54e8e284407a8e714c4d7c4722e72ac3f";
const SCRAM: &str = "SCRAM-SHA-256$4096:4HtJJE5bCQI77HSC1vwXUg==$3ffeut4cospissS7tTZ3oa6FqQaEAzd3vreQFeE+4R0=:dZAG2UOn5qavObXMO6rxQIEjU7aL+gwsAh++3AxE1BQ=";

/// `files` (path relative to a fresh directory, text) checked together, as `poolstack lint`
/// checks the files named on its command line. The directory lives as long as the stack is used.
fn stack_with(files: &[(&str, &str)], versions: Versions) -> (TempDir, Stack) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs: Vec<Input> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(&path, text).expect("write");
            let kind = Kind::by_name(&path).expect("test files are named for their kind");
            Input { path, kind }
        })
        .collect();
    let stack = build(&inputs, &versions, dir.path()).expect("the files are readable");
    (dir, stack)
}

fn stack(files: &[(&str, &str)]) -> (TempDir, Stack) {
    stack_with(files, Versions::default())
}

/// The text a place covers.
fn text<'a>(stack: &'a Stack, loc: &Loc) -> &'a str {
    &stack.sources.get(loc.file).text[loc.span.clone()]
}

/// The text a written value was read from; fails for a value not read from a file.
fn imported_text<'a, T>(stack: &'a Stack, setting: &Setting<T>) -> &'a str {
    match &setting.origin {
        Origin::Imported(loc) => text(stack, loc),
        other => panic!("expected a value read from a file, got {other:?}"),
    }
}

/// The place a PgBouncer default was derived from; fails for any other origin.
fn defaulted_at<T>(setting: &Setting<T>) -> &Loc {
    match &setting.origin {
        Origin::Derived { inputs, .. } if inputs.len() == 1 => &inputs[0],
        other => panic!("expected PgBouncer's default placed at a header, got {other:?}"),
    }
}

fn user<'a>(stack: &'a Stack, name: &str) -> &'a User {
    stack.user(name).unwrap_or_else(|| panic!("no user {name}"))
}

fn database<'a>(stack: &'a Stack, name: &str) -> &'a Database {
    stack
        .database(name)
        .unwrap_or_else(|| panic!("no database {name}"))
}

fn names(list: &[Setting<String>]) -> Vec<&str> {
    list.iter().map(|s| s.value.as_str()).collect()
}

fn codes(stack: &Stack) -> Vec<&'static str> {
    stack.findings.iter().map(|d| d.code).collect()
}

#[test]
fn unset_pgbouncer_options_take_pgbouncers_defaults_placed_at_the_header() {
    let (_dir, s) = stack(&[(
        "pgbouncer.ini",
        "[databases]\napp = host=db\n\n[pgbouncer]\nlisten_addr = *\n",
    )]);
    let b = s.pgbouncer.as_ref().expect("a pgbouncer.ini");
    assert_eq!(b.auth_type.value, AuthType::Md5);
    assert_eq!(b.pool_mode.value, PoolMode::Session);
    assert_eq!(b.listen_port.value, 6432);
    assert_eq!(b.client_port.value, 6432);
    assert_eq!(b.max_client_conn.value, 100);
    assert_eq!(b.default_pool_size.value, 20);
    for at in [
        defaulted_at(&b.auth_type),
        defaulted_at(&b.pool_mode),
        defaulted_at(&b.listen_port),
        defaulted_at(&b.max_client_conn),
        defaulted_at(&b.default_pool_size),
    ] {
        assert_eq!(text(&s, at), "[pgbouncer]");
    }
    assert_eq!(imported_text(&s, &b.listen_addr), "*");
}

#[test]
fn without_a_pgbouncer_header_defaults_point_at_the_file_start() {
    let (_dir, s) = stack(&[("pgbouncer.ini", "[databases]\napp = host=db\n")]);
    let b = s.pgbouncer.as_ref().expect("a pgbouncer.ini");
    assert_eq!(b.pool_mode.value, PoolMode::Session);
    let at = defaulted_at(&b.pool_mode);
    assert_eq!(at.span, 0..0);
    assert!(s.sources.get(at.file).path.ends_with("pgbouncer.ini"));
    assert_eq!(defaulted_at(&b.max_client_conn), at);
}

#[test]
fn pgbouncer_options_set_in_the_file_are_read_at_their_value() {
    let (_dir, s) = stack(&[(
        "pgbouncer.ini",
        "[pgbouncer]\nauth_type = scram-sha-256\npool_mode = transaction\nlisten_port = 6543\n\
         max_client_conn = 500\ndefault_pool_size = 25\n",
    )]);
    let b = s.pgbouncer.as_ref().expect("a pgbouncer.ini");
    assert_eq!(b.auth_type.value, AuthType::ScramSha256);
    assert_eq!(imported_text(&s, &b.auth_type), "scram-sha-256");
    assert_eq!(b.pool_mode.value, PoolMode::Transaction);
    assert_eq!(imported_text(&s, &b.pool_mode), "transaction");
    assert_eq!(b.listen_port.value, 6543);
    assert_eq!(imported_text(&s, &b.listen_port), "6543");
    assert_eq!(b.client_port.value, 6543);
    assert_eq!(b.max_client_conn.value, 500);
    assert_eq!(imported_text(&s, &b.max_client_conn), "500");
    assert_eq!(b.default_pool_size.value, 25);
    assert_eq!(imported_text(&s, &b.default_pool_size), "25");
}

#[test]
fn max_prepared_statements_is_the_files_the_releases_default_or_unknown() {
    let get = |ini: &str, versions: Versions| {
        let (_dir, s) = stack_with(&[("pgbouncer.ini", ini)], versions);
        let b = s.pgbouncer.expect("a pgbouncer.ini");
        (b.max_prepared_statements, b.version)
    };
    let (set, _) = get(
        "; poolstack: pgbouncer 1.24\n[pgbouncer]\nmax_prepared_statements = 50\n",
        Versions::default(),
    );
    let set = set.expect("set in the file");
    assert_eq!(set.value, 50);
    assert!(set.origin.is_explicit());

    // Declared in the file: 0 was the default until 1.24.
    let (old, version) = get(
        "; poolstack: pgbouncer 1.21\n[pgbouncer]\n",
        Versions::default(),
    );
    assert_eq!(old.map(|m| m.value), Some(0));
    let version = version.expect("declared");
    assert_eq!(version.value, PgbVersion::new(1, 21));
    assert!(version.origin.is_explicit(), "the `poolstack:` comment");

    // Given on the command line: 200 from 1.24.
    let (new, version) = get(
        "[pgbouncer]\n",
        Versions {
            postgres: None,
            pgbouncer: Some(PgbVersion::new(1, 24)),
        },
    );
    let new = new.expect("the release's default");
    assert_eq!(new.value, 200);
    assert!(!new.origin.is_explicit());
    assert_eq!(
        version.map(|v| v.origin),
        Some(Origin::Default("given with --pgbouncer-version"))
    );

    // No release: the default changed in 1.24, so it is not guessed.
    let (unknown, version) = get("[pgbouncer]\n", Versions::default());
    assert_eq!(unknown, None);
    assert_eq!(version, None);
}

#[test]
fn a_user_listed_twice_keeps_the_last_secret_in_the_first_place() {
    let userlist = format!("\"alice\" \"{MD5}\"\n\"bob\" \"{MD5}\"\n\"alice\" \"{SCRAM}\"\n");
    let (_dir, s) = stack(&[("userlist.txt", &userlist)]);
    let listed: Vec<&str> = s.users.iter().map(|u| u.name.value.as_str()).collect();
    assert_eq!(listed, ["alice", "bob"]);
    let alice = user(&s, "alice");
    assert_eq!(alice.userlist_secret.value, SecretKind::ScramSha256);
    let secret_at = alice.userlist_secret.loc().expect("read from the userlist");
    assert_eq!(
        s.sources
            .get(secret_at.file)
            .line_col(secret_at.span.start)
            .line,
        3
    );
    // The place is the secret's, which reports show starred out.
    assert_eq!(text(&s, secret_at), "*".repeat(SCRAM.len()));
    assert_eq!(user(&s, "bob").userlist_secret.value, SecretKind::Md5);
}

#[test]
fn users_take_admin_stats_and_pool_mode_from_pgbouncer_ini() {
    let userlist = format!("\"alice\" \"{MD5}\"\n\"bob\" \"{MD5}\"\n\"carol\" \"{MD5}\"\n");
    let (_dir, s) = stack(&[
        (
            "pgbouncer.ini",
            "[pgbouncer]\nadmin_users = alice\nstats_users = bob, alice\n\
             [users]\nbob = pool_mode=transaction\n",
        ),
        ("userlist.txt", &userlist),
    ]);
    let (alice, bob, carol) = (user(&s, "alice"), user(&s, "bob"), user(&s, "carol"));
    assert!(alice.admin.value);
    assert_eq!(imported_text(&s, &alice.admin), "alice");
    assert!(alice.stats.value);
    assert!(!bob.admin.value);
    assert!(bob.stats.value);
    assert!(!carol.admin.value && !carol.stats.value);
    assert!(!carol.admin.origin.is_explicit());
    let mode = bob.pool_mode.as_ref().expect("set in [users]");
    assert_eq!(mode.value, PoolMode::Transaction);
    assert_eq!(imported_text(&s, mode), "transaction");
    assert_eq!(alice.pool_mode, None);
}

#[test]
fn databases_without_a_forced_user_share_one_list_of_every_user() {
    let userlist = format!("\"alice\" \"{MD5}\"\n\"bob\" \"{MD5}\"\n");
    let (_dir, s) = stack(&[
        (
            "pgbouncer.ini",
            "[databases]\napp = host=db dbname=appdb\nreports = host=db\n\
             admin = host=db user=alice\n[pgbouncer]\n",
        ),
        ("userlist.txt", &userlist),
    ]);
    let (app, reports, admin) = (
        database(&s, "app"),
        database(&s, "reports"),
        database(&s, "admin"),
    );
    assert_eq!(names(&app.users), ["alice", "bob"]);
    assert!(Arc::ptr_eq(&app.users, &reports.users));
    assert_eq!(app.forced_user, None);
    assert_eq!(app.dbname.value, "appdb");
    assert_eq!(reports.dbname.value, "reports");
    assert!(admin.users.is_empty());
    let forced = admin.forced_user.as_ref().expect("user= forces one");
    assert_eq!(forced.value, "alice");
    assert_eq!(imported_text(&s, forced), "alice");
}

#[test]
fn database_pool_settings_are_the_entrys_else_the_globals() {
    let (_dir, s) = stack(&[(
        "pgbouncer.ini",
        "[databases]\n\
         big = host=db port=6000 pool_size=50 reserve_pool=5 max_db_connections=80 pool_mode=transaction\n\
         newer = host=db reserve_pool_size=7\n\
         small = dbname=x\n\
         [pgbouncer]\ndefault_pool_size = 30\nreserve_pool_size = 2\nmax_db_connections = 60\n\
         pool_mode = statement\n",
    )]);
    let (big, newer, small) = (
        database(&s, "big"),
        database(&s, "newer"),
        database(&s, "small"),
    );
    assert_eq!(big.host.value, "db");
    assert_eq!(big.port.value, 6000);
    assert_eq!(big.pool_size.value, 50);
    assert_eq!(imported_text(&s, &big.pool_size), "50");
    assert_eq!(big.reserve_pool_size.value, 5, "the name before 1.24");
    assert_eq!(big.max_db_connections.value, 80);
    assert_eq!(big.pool_mode.value, PoolMode::Transaction);
    assert_eq!(newer.reserve_pool_size.value, 7, "the name from 1.24");
    assert_eq!(newer.pool_size.value, 30);

    let b = s.pgbouncer.as_ref().expect("a pgbouncer.ini");
    assert_eq!(small.host.value, "", "the unix socket");
    assert_eq!(small.port.value, 5432);
    assert_eq!(small.pool_size, b.default_pool_size);
    assert_eq!(small.reserve_pool_size, b.reserve_pool_size);
    assert_eq!(small.max_db_connections, b.max_db_connections);
    assert_eq!(small.pool_mode, b.pool_mode);
    assert_eq!(imported_text(&s, &small.pool_size), "30");
    assert_eq!(small.pool_mode.value, PoolMode::Statement);
}

#[test]
fn a_whole_postgresql_conf_describes_the_server_a_fragment_does_not() {
    let (_dir, whole) = stack(&[("postgresql.conf", "max_connections = 200\n")]);
    assert!(whole.postgres.described);
    assert_eq!(whole.postgres.max_connections.value, 200);
    let (_dir, fragment) = stack(&[("conf.d/50-x.conf", "max_connections = 200\n")]);
    assert!(!fragment.postgres.described);
    assert_eq!(fragment.postgres.max_connections.value, 200);
}

#[test]
fn password_encryption_is_read_as_the_declared_server_reads_it() {
    let (_dir, s) = stack(&[(
        "postgresql.conf",
        "# poolstack: postgres 13\npassword_encryption = on\n",
    )]);
    let pe = &s.postgres.password_encryption;
    assert_eq!(pe.value, PasswordEncryption::Md5, "`on` is md5 on 13");
    assert_eq!(imported_text(&s, pe), "on");

    // Unset: the declared version's default, which changed in 14.
    for (version, default) in [
        (13, PasswordEncryption::Md5),
        (16, PasswordEncryption::ScramSha256),
    ] {
        let conf = format!("# poolstack: postgres {version}\nmax_connections = 100\n");
        let (_dir, s) = stack(&[("postgresql.conf", &conf)]);
        let pe = &s.postgres.password_encryption;
        assert_eq!(pe.value, default, "PostgreSQL {version}");
        assert!(matches!(pe.origin, Origin::Default(_)), "{:?}", pe.origin);
    }
}

#[test]
fn users_stored_secret_is_known_only_from_a_setting_or_a_whole_declared_configuration() {
    let userlist = format!("\"alice\" \"{MD5}\"\n");
    let stored = |conf: Option<(&str, &str)>, versions: Versions| {
        let mut files = vec![("userlist.txt", userlist.as_str())];
        files.extend(conf);
        let (_dir, s) = stack_with(&files, versions);
        user(&s, "alice").stored_secret.as_ref().map(|k| k.value)
    };
    let none = Versions::default();
    let pg16 = Versions {
        postgres: Some(16),
        pgbouncer: None,
    };
    // Set: known, wherever it is set.
    assert_eq!(
        stored(
            Some(("conf.d/50-x.conf", "password_encryption = md5\n")),
            none
        ),
        Some(SecretKind::Md5)
    );
    // Unset in a whole configuration of a known version: that version's default.
    assert_eq!(
        stored(
            Some((
                "postgresql.conf",
                "# poolstack: postgres 16\nmax_connections = 100\n"
            )),
            none
        ),
        Some(SecretKind::ScramSha256)
    );
    assert_eq!(
        stored(Some(("postgresql.conf", "max_connections = 100\n")), pg16),
        Some(SecretKind::ScramSha256)
    );
    // Unset, and the version or the rest of the configuration unknown: not guessed.
    assert_eq!(
        stored(Some(("postgresql.conf", "max_connections = 100\n")), none),
        None
    );
    assert_eq!(
        stored(Some(("conf.d/50-x.conf", "max_connections = 100\n")), pg16),
        None
    );
    assert_eq!(stored(None, pg16), None);
}

#[test]
fn coverage_says_users_are_known_only_with_a_userlist() {
    let userlist = format!("\"alice\" \"{MD5}\"\n");
    let ini = "[databases]\napp = host=db\n[pgbouncer]\n";
    let (_dir, with) = stack(&[("pgbouncer.ini", ini), ("userlist.txt", &userlist)]);
    let (_dir, without) = stack(&[("pgbouncer.ini", ini)]);
    for (s, users) in [(&with, true), (&without, false)] {
        assert!(!s.coverage.hosts);
        assert_eq!(s.coverage.users, users);
        assert!(!s.coverage.roles);
    }
    assert!(without.users.is_empty());
}

#[test]
fn env_files_of_the_same_name_give_apps_named_by_path() {
    let env = "DATABASE_URL=postgresql://alice@db:6432/app\n";
    let (_dir, s) = stack(&[
        ("api/.env", env),
        ("worker/.env", env),
        ("jobs/cron.env", env),
    ]);
    let named: Vec<&str> = s.apps.iter().map(|a| a.name.value.as_str()).collect();
    assert_eq!(named.len(), 3);
    assert!(named[0].ends_with("api/.env"), "{named:?}");
    assert!(named[1].ends_with("worker/.env"), "{named:?}");
    assert_eq!(named[2], "cron", "a unique name stays as it is");
}

#[test]
fn reader_and_catalog_findings_reach_the_stack() {
    let (_dir, s) = stack(&[
        (
            "pgbouncer.ini",
            "[pgbouncer]\nno_such_option = 1\n[databases]\napp = host=db\n",
        ),
        (
            "api/.env",
            "DATABASE_URL=postgresql://alice@db/app\nDB_POOL_SIZE=many\n",
        ),
    ]);
    let found = codes(&s);
    assert!(found.contains(&"CAT001"), "{found:?}");
    assert!(found.contains(&"CAT002"), "{found:?}");
    let unknown = s
        .findings
        .iter()
        .find(|d| d.code == "CAT001")
        .and_then(|d| d.primary.as_ref())
        .expect("placed");
    assert_eq!(text(&s, unknown), "no_such_option");
}
