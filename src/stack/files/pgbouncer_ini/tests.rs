//! Cases named NN mirror facts.md §1a (PgBouncer 1.18 run results).

use super::*;
use crate::formats::pgbouncer_ini::{self, IniDocument};
use proptest::prelude::*;
use std::path::Path;

const V118: Option<PgbVersion> = Some(PgbVersion::new(1, 18));
const V125: Option<PgbVersion> = Some(PgbVersion::new(1, 25));
const HEAD: &str = "[pgbouncer]\nlisten_port = 6432\n";

fn run(text: &str, version: Option<PgbVersion>) -> (IniSettings, SourceMap) {
    let mut sources = SourceMap::default();
    let file = sources.add(Path::new("pgbouncer.ini"), text.to_string());
    let doc = pgbouncer_ini::parse(file, Path::new("/nonexistent-poolstack-cwd"), &mut sources)
        .expect("no input error");
    (check(&doc, version, &sources), sources)
}

/// `[pgbouncer]` with `body` under it.
fn global(body: &str, version: Option<PgbVersion>) -> (IniSettings, SourceMap) {
    run(&format!("{HEAD}{body}\n"), version)
}

/// `[databases]` with `body` under it.
fn dbs(body: &str, version: Option<PgbVersion>) -> (IniSettings, SourceMap) {
    run(&format!("{HEAD}[databases]\n{body}\n"), version)
}

fn codes(s: &IniSettings) -> Vec<&'static str> {
    s.findings.iter().map(|d| d.code).collect()
}

/// The single finding, asserting its code; returns it with the text it points at.
fn one<'a>(s: &'a IniSettings, src: &'a SourceMap, code: &str) -> (&'a Diagnostic, &'a str) {
    assert_eq!(codes(s), [code], "{:#?}", s.findings);
    let d = &s.findings[0];
    let loc = d.primary.as_ref().expect("located");
    (d, &src.get(loc.file).text[loc.span.clone()])
}

fn help(d: &Diagnostic) -> &str {
    d.help.as_deref().unwrap_or("")
}

#[test]
fn clean_file_has_no_findings_and_exposes_its_settings() {
    let text = "[pgbouncer]\nlisten_port = 6432\npool_mode = TRANSACTION\nquery_wait_timeout = 0.25\nserver_idle_timeout = 1.5\n  ; indented comment\n\t# another\nserver_check_query =\n\n[databases]\n* = host=127.0.0.1\nemptydb =\nmy-db.v2 = host = 127.0.0.1  dbname = postgres pool_mode=session pool_size=5\n\n[users]\nalice = pool_mode=transaction max_user_connections=3\n";
    let (s, src) = run(text, V118);
    assert_eq!(codes(&s), Vec::<&str>::new(), "{:#?}", s.findings);
    // 04: enums are case-insensitive; 13: fractional seconds; 26: empty strings.
    let pool_mode = s.option("pool_mode").unwrap();
    assert_eq!(pool_mode.value.normalized, "transaction");
    assert_eq!(
        &src.get(pool_mode.value_loc.file).text[pool_mode.value_loc.span.clone()],
        "TRANSACTION"
    );
    assert_eq!(
        s.option("query_wait_timeout").unwrap().value.number,
        Some(0.25)
    );
    assert_eq!(s.option("server_check_query").unwrap().raw, "");
    assert!(s.option("max_client_conn").is_none());
    // 44, 45, 49, 49d
    let names: Vec<_> = s.databases.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["*", "emptydb", "my-db.v2"]);
    assert!(s.database("emptydb").unwrap().params.is_empty());
    let db = s.database("my-db.v2").unwrap();
    assert_eq!(db.param("host").unwrap().raw, "127.0.0.1");
    assert_eq!(db.param("pool_size").unwrap().value.number, Some(5.0));
    assert_eq!(
        s.user("alice")
            .unwrap()
            .param("max_user_connections")
            .unwrap()
            .raw,
        "3"
    );
}

#[test]
fn cat001_unknown_keys() {
    // 02
    let (s, src) = global("max_client_connections = 100", V118);
    let (d, spot) = one(&s, &src, "CAT001");
    assert_eq!(spot, "max_client_connections");
    assert!(d.message.contains("`max_client_connections`"));
    assert!(
        help(d).contains("did you mean `max_client_conn`?"),
        "{}",
        help(d)
    );
    // 05: case-sensitive
    let (s, src) = global("POOL_MODE = transaction", V118);
    let (d, spot) = one(&s, &src, "CAT001");
    assert_eq!(spot, "POOL_MODE");
    assert!(help(d).contains("`pool_mode`") && help(d).contains("case-sensitive"));
    // connection-string and user keys
    let (s, src) = dbs("bad = host=127.0.0.1 bogus_key=10", V118);
    let (d, spot) = one(&s, &src, "CAT001");
    assert_eq!(spot, "bogus_key");
    assert!(d.message.contains("unrecognized connection parameter"));
    let (s, src) = run(&format!("{HEAD}[users]\nalice = pol_mode=session\n"), V118);
    let (d, spot) = one(&s, &src, "CAT001");
    assert_eq!(spot, "pol_mode");
    assert!(d.message.contains("unrecognized user parameter"));
    assert!(help(d).contains("`pool_mode`"));
    // not firing: the right spelling
    let (s, _) = global("max_client_conn = 100", V118);
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn cat002_invalid_values() {
    let cases = [
        ("pool_mode = foo", "foo", "session"),        // 03
        ("default_pool_size = twenty", "twenty", ""), // 07
        ("default_pool_size = 20 connections", "20 connections", ""), // 08
        ("log_connections = yes", "yes", "1 or 0"),   // 10
        ("server_round_robin = on", "on", "1 or 0"),  // 11
        ("server_idle_timeout = 30s", "30s", "`30`"), // 12
        ("server_idle_timeout = -1", "-1", ""),       // 14
        (
            "pool_mode = transaction ; inline comment",
            "transaction ; inline comment",
            "own line",
        ), // 15
        ("auth_type = password", "password", "md5"),  // 38
    ];
    for (line, spot_want, help_has) in cases {
        let (s, src) = global(line, V118);
        let (d, spot) = one(&s, &src, "CAT002");
        assert_eq!(spot, spot_want, "{line}");
        assert!(
            d.message.contains("PgBouncer 1.18 would refuse this"),
            "{}",
            d.message
        );
        assert!(help(d).contains(help_has), "{line}: {}", help(d));
        let key = line.split(' ').next().unwrap();
        assert!(
            s.option(key).is_none(),
            "{line}: a refused value is not effective"
        );
    }
    let (s, _) = global("pool_mode = transaction ; inline comment", V118);
    assert!(
        s.findings[0].message.contains("comment"),
        "{}",
        s.findings[0].message
    );
    // not firing
    let (s, _) = global(
        "pool_mode = Session\nserver_idle_timeout = 30\nlog_connections = 0",
        V118,
    );
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn cat002_connection_string_values() {
    // 30, 49e, 31
    let (s, src) = dbs("bad = host=127.0.0.1 pool_mode=foo", V118);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "foo");
    assert!(
        d.message.contains("invalid pool mode: foo"),
        "{}",
        d.message
    );
    let (s, src) = dbs("bp = host=127.0.0.1 port=abc", V118);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "abc");
    assert!(d.message.contains("invalid port"));
    let (s, src) = dbs("pgbouncer = host=127.0.0.1", V118);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "pgbouncer");
    assert!(d.message.contains("reserved"));
    // an empty connection-string value
    let (s, src) = dbs("x = host=a port=", V118);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "port=");
    assert!(d.message.contains("empty value"), "{}", d.message);
    // an unterminated quote is a syntax error
    let (s, src) = dbs("x = host=a password='abc", V118);
    let (_, spot) = one(&s, &src, "CAT008");
    assert_eq!(spot, "'abc");
    // not firing: quoted text with ; and # is not a comment (33)
    let (s, _) = dbs("q = host=127.0.0.1 password='a ; b # c' port=5432", V118);
    assert_eq!(codes(&s), Vec::<&str>::new());
    assert_eq!(
        s.database("q").unwrap().param("password").unwrap().raw,
        "a ; b # c"
    );
}

#[test]
fn cat002_unrendered_placeholders() {
    let (s, src) = global("listen_addr = ${LISTEN_ADDR}", V118);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "${LISTEN_ADDR}");
    assert!(d.message.contains("`${LISTEN_ADDR}`"));
    let (s, src) = dbs("app = host=$DB_HOST port=5432", V118);
    let (_, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "$DB_HOST");
    // a whole connection string left as a placeholder is a placeholder, not a syntax error
    let (s, src) = dbs("app = ${DATABASE_URL}", V118);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "${DATABASE_URL}");
    assert!(d.message.contains("placeholder"));
    // auth_dbname may not name the admin console (1.19+)
    let (s, src) = global("auth_dbname = pgbouncer", Some(PgbVersion::new(1, 19)));
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "pgbouncer");
    assert!(d.message.contains("reserved"));
    // a placeholder as a database name is a syntax error, with a template hint
    let (s, _) = dbs("${DB_NAME} = host=a", V118);
    assert_eq!(codes(&s), ["CAT008"]);
    assert!(
        help(&s.findings[0]).contains("template"),
        "{}",
        help(&s.findings[0])
    );
    // not firing: SQL parameters and lower-case dollars
    let (s, _) = global(
        "auth_query = SELECT usename, passwd FROM pg_shadow WHERE usename=$1\nadmin_users = a$b",
        V118,
    );
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn cat003_not_in_version() {
    // 01
    let (s, src) = global("max_prepared_statements = 100", V118);
    let (d, spot) = one(&s, &src, "CAT003");
    assert_eq!(spot, "max_prepared_statements");
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.message
            .contains("does not exist in PgBouncer 1.18 ([pgbouncer]): it was introduced in 1.21"),
        "{}",
        d.message
    );
    assert!(s.option("max_prepared_statements").is_none());
    // 35: reserve_pool_size in a connection string exists from 1.24
    let (s, src) = dbs("n = host=127.0.0.1 reserve_pool_size=2", V118);
    let (d, spot) = one(&s, &src, "CAT003");
    assert_eq!(spot, "reserve_pool_size");
    assert!(d.message.contains("introduced in 1.24"), "{}", d.message);
    // 37: [users] pool_size exists from 1.23
    let (s, src) = run(&format!("{HEAD}[users]\nalice = pool_size=3\n"), V118);
    let (_, spot) = one(&s, &src, "CAT003");
    assert_eq!(spot, "pool_size");
    // 40: [peers] before 1.19, reported once at the header
    let peers = format!("{HEAD}[peers]\n1 = host=a port=1\n");
    let (s, src) = run(&peers, V118);
    let (d, spot) = one(&s, &src, "CAT003");
    assert_eq!(spot, "[peers]");
    assert!(d.message.contains("introduced in 1.19"));
    // peer ids are numbers from 1 to 65535
    let (s, src) = run(&format!("{HEAD}[peers]\nnode-a = host=a\n"), V125);
    let (d, spot) = one(&s, &src, "CAT002");
    assert_eq!(spot, "node-a");
    assert!(d.message.contains("peer id"));
    let (s, _) = run(
        &format!("{HEAD}[peers]\n65535 = host=a port=6432 pool_size=3\n"),
        V125,
    );
    assert_eq!(codes(&s), Vec::<&str>::new());
    // master-only keys
    let (s, src) = global("pool_idle_timeout = 5", V125);
    let (d, _) = one(&s, &src, "CAT003");
    assert!(
        d.message.contains("not in any PgBouncer release yet"),
        "{}",
        d.message
    );
    // not firing
    let (s, _) = global(
        "max_prepared_statements = 100",
        Some(PgbVersion::new(1, 21)),
    );
    assert_eq!(codes(&s), Vec::<&str>::new());
    assert_eq!(
        s.option("max_prepared_statements").unwrap().value.number,
        Some(100.0)
    );
    let (s, _) = run(&peers, Some(PgbVersion::new(1, 19)));
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn without_a_version_findings_are_conditional() {
    let (s, src) = global("max_prepared_statements = 100", None);
    let (d, spot) = one(&s, &src, "CAT003");
    assert_eq!(spot, "max_prepared_statements");
    assert_eq!(d.severity, Severity::Info);
    assert!(
        d.message
            .contains("needs PgBouncer ≥ 1.21: older versions refuse to start with it"),
        "{}",
        d.message
    );
    assert!(help(d).contains("; poolstack: pgbouncer 1.18"));
    assert!(s.option("max_prepared_statements").is_some());
    let (s, src) = run(&format!("{HEAD}[peers]\n1 = host=a\n"), None);
    let (d, _) = one(&s, &src, "CAT003");
    assert_eq!(d.severity, Severity::Info);
    let (s, src) = dbs("'my db' = host=a", None);
    let (d, _) = one(&s, &src, "CAT008");
    assert_eq!(d.severity, Severity::Info);
    // Errors stay errors.
    let (s, src) = global("pool_mode = foo", None);
    let (d, _) = one(&s, &src, "CAT002");
    assert_eq!(d.severity, Severity::Error);
    assert!(d.message.starts_with("PgBouncer would refuse"));
    // An old key says nothing.
    let (s, _) = global("max_client_conn = 100", None);
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn cat005_traps() {
    // 06, 09, 16, 24, 49c, 49f
    let cases: [(&str, &str, &str); 6] = [
        ("default_pool_size = -1", "-1", "negative"),
        ("default_pool_size = 0x10", "0x10", "hexadecimal"),
        ("max_client_conn = 010", "010", "octal"),
        (
            "server_reset_query = DISCARD ALL # comment",
            "DISCARD ALL # comment",
            "no inline comments",
        ),
        ("admin_users = \"admin\"", "\"admin\"", "keeps the quotes"),
        ("max_client_conn = 99999999999", "99999999999", "1215752191"),
    ];
    for (line, spot_want, msg_has) in cases {
        let (s, src) = global(line, V118);
        let (d, spot) = one(&s, &src, "CAT005");
        assert_eq!(spot, spot_want, "{line}");
        assert_eq!(d.severity, Severity::Warning);
        assert!(d.message.contains(msg_has), "{line}: {}", d.message);
        assert!(!help(d).is_empty());
    }
    let (s, _) = global("default_pool_size = 0x10\nmax_client_conn = 010", V118);
    assert_eq!(
        s.option("default_pool_size").unwrap().value.number,
        Some(16.0)
    );
    assert_eq!(s.option("max_client_conn").unwrap().value.number, Some(8.0));
    let (s, src) = dbs("dq = host=127.0.0.1 dbname=\"postgres\"", V118);
    let (d, spot) = one(&s, &src, "CAT005");
    assert_eq!(spot, "\"postgres\"");
    assert!(d.message.contains("double quotes"));
    let (s, src) = dbs("ps = host=127.0.0.1 pool_size=abc", V118);
    let (d, spot) = one(&s, &src, "CAT005");
    assert_eq!(spot, "abc");
    assert!(d.message.contains("atoi"));
    assert_eq!(
        s.database("ps")
            .unwrap()
            .param("pool_size")
            .unwrap()
            .value
            .number,
        Some(0.0)
    );
    // not firing: unix_socket_mode is octal on purpose (43); a quoted connstr value.
    let (s, _) = global("unix_socket_mode = 0700", V118);
    assert_eq!(codes(&s), Vec::<&str>::new());
    let (s, _) = dbs("q = host=127.0.0.1 dbname='postgres'", V118);
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn cat006_duplicates_point_at_the_ignored_one() {
    // 18
    let (s, src) = global("max_client_conn = 100\nmax_client_conn = 222", V118);
    let (d, spot) = one(&s, &src, "CAT006");
    assert_eq!(spot, "max_client_conn");
    assert_eq!(
        d.primary.as_ref().unwrap().span.start,
        src.get(FileIdForTest(0))
            .text
            .find("max_client_conn")
            .unwrap()
    );
    assert!(
        d.message
            .contains("(100) is ignored, the later one (222) wins"),
        "{}",
        d.message
    );
    assert!(d.message.contains("pgbouncer.ini:4:1"), "{}", d.message);
    assert_eq!(d.related[0].message, "this one wins");
    assert_eq!(s.option("max_client_conn").unwrap().raw, "222");
    // 19: a database twice; the last one wins
    let (s, src) = dbs(
        "dup = host=127.0.0.1 dbname=a\ndup = host=127.0.0.1 dbname=b pool_size=7",
        V118,
    );
    let (d, _) = one(&s, &src, "CAT006");
    assert!(d.message.contains("database `dup`"));
    assert_eq!(s.databases.len(), 1);
    assert_eq!(s.database("dup").unwrap().param("dbname").unwrap().raw, "b");
    // a key twice in one connection string
    let (s, src) = dbs("x = host=a host=b", V118);
    let (d, spot) = one(&s, &src, "CAT006");
    assert_eq!(spot, "host");
    assert!(
        d.message
            .contains("`host=a` is ignored, the later `host=b` wins"),
        "{}",
        d.message
    );
    assert_eq!(s.database("x").unwrap().param("host").unwrap().raw, "b");
    // not firing: the same key in different sections
    let (s, _) = run(
        &format!("{HEAD}[databases]\nalice = host=a\n[users]\nalice = pool_mode=session\n"),
        V118,
    );
    assert_eq!(codes(&s), Vec::<&str>::new());
}

use crate::source::FileId as FileIdForTest;

#[test]
fn cat006_across_includes() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("extra.ini"), "max_client_conn = 333\n").unwrap();
    let main = tmp.path().join("main.ini");
    std::fs::write(
        &main,
        "[pgbouncer]\nmax_client_conn = 100\n%include extra.ini\n",
    )
    .unwrap();
    let mut sources = SourceMap::default();
    let doc: IniDocument = pgbouncer_ini::read(&main, tmp.path(), &mut sources).unwrap();
    let s = check(&doc, V118, &sources);
    assert_eq!(codes(&s), ["CAT006"]);
    let d = &s.findings[0];
    assert_eq!(d.primary.as_ref().unwrap().file, doc.files[0]);
    assert_eq!(d.related[0].loc.file, doc.files[1]);
    assert!(d.message.contains("extra.ini:1:1"), "{}", d.message);
    assert_eq!(s.option("max_client_conn").unwrap().raw, "333");
}

#[test]
fn cat007_wrong_section() {
    for (line, key) in [
        ("pool_size = 10", "pool_size"),
        ("timezone = UTC", "timezone"),
        ("client_encoding = UTF8", "client_encoding"),
    ] {
        let (s, src) = global(line, V118);
        let (d, spot) = one(&s, &src, "CAT007");
        assert_eq!(spot, key);
        assert!(d.message.contains("[databases] key"), "{}", d.message);
        assert!(help(d).contains("connection string"), "{}", help(d));
    }
    let (s, src) = dbs("x = host=a server_tls_sslmode=verify-full", V118);
    let (d, spot) = one(&s, &src, "CAT007");
    assert_eq!(spot, "server_tls_sslmode");
    assert!(help(d).contains("[pgbouncer]"));
    // 29: a [pgbouncer] key in a connection string
    let (s, src) = dbs("bad = host=127.0.0.1 max_prepared_statements=10", V118);
    let (_, spot) = one(&s, &src, "CAT007");
    assert_eq!(spot, "max_prepared_statements");
    // not firing
    let (s, _) = dbs(
        "x = host=a pool_size=10 timezone=UTC client_encoding=UTF8",
        V118,
    );
    assert_eq!(codes(&s), Vec::<&str>::new());
}

#[test]
fn cat008_reader_findings_and_quoted_names() {
    // 32/47: quoted names before 1.25
    let (s, src) = dbs("'my db' = host=a", V118);
    let (d, spot) = one(&s, &src, "CAT008");
    assert_eq!(spot, "'my db'");
    assert!(d.message.contains("1.25"));
    let (s, _) = dbs("'my db' = host=a", V125);
    assert_eq!(codes(&s), Vec::<&str>::new());
    assert!(s.database("my db").is_some());
    // 48, 49b: the reader's syntax errors pass through
    for body in ["\"my db\" = host=a", "café = host=a"] {
        let (s, _) = dbs(body, V125);
        assert_eq!(codes(&s), ["CAT008"], "{body}");
    }
    // 21, 22, 23
    let (s, _) = run("[pgbouncer]\n[foo]\nx = 1\n", V118);
    assert_eq!(codes(&s), ["CAT008"]);
    let (s, _) = run("max_client_conn = 10\n[pgbouncer]\n", V118);
    assert_eq!(codes(&s), ["CAT008"]);
    let (s, _) = run("[databases]\nx = host=a\n", V118);
    assert_eq!(codes(&s), ["CAT008"]);
    assert_eq!(s.findings[0].message, pgbouncer_ini::MAIN_SECTION_MISSING);
}

#[test]
fn many_databases_stay_fast() {
    let mut text = String::from(HEAD);
    text.push_str("[databases]\n");
    for i in 0..5000 {
        text.push_str(&format!(
            "db{i} = host=10.0.0.1 port=5432 dbname=app{i} pool_size=20\n"
        ));
    }
    let (s, _) = run(&text, V118);
    assert_eq!(codes(&s), Vec::<&str>::new());
    assert_eq!(s.databases.len(), 5000);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn check_never_panics_and_locs_are_valid(bytes in proptest::collection::vec(
        prop_oneof![
            Just(b"[pgbouncer]\n".to_vec()), Just(b"[databases]\n".to_vec()), Just(b"[users]\n".to_vec()),
            Just(b"[peers]\n".to_vec()), Just(b"pool_mode".to_vec()), Just(b" = ".to_vec()), Just(b"=".to_vec()),
            Just(b"host=".to_vec()), Just(b"'".to_vec()), Just(b"\"".to_vec()), Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()), Just(b";".to_vec()), Just(b"#".to_vec()), Just(b" ".to_vec()),
            Just(b"0x1".to_vec()), Just(b"${X}".to_vec()), Just(b"\xc3\xa9".to_vec()), Just(b"\xff".to_vec()),
            Just(b"pool_size".to_vec()), Just(b"max_client_conn".to_vec()), Just(b"db".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..4),
        ], 0..40)) {
        let bytes: Vec<u8> = bytes.concat();
        if let Ok(text) = crate::formats::text::decode(&bytes) {
            for version in [None, V118, V125] {
                let mut sources = SourceMap::default();
                let file = sources.add(Path::new("prop.ini"), text.clone());
                let Ok(doc) = pgbouncer_ini::parse(file, Path::new("/nonexistent-poolstack-cwd"), &mut sources) else {
                    continue;
                };
                let s = check(&doc, version, &sources);
                let mut locs: Vec<&Loc> = Vec::new();
                for d in &s.findings {
                    locs.extend(d.primary.iter());
                    locs.extend(d.related.iter().map(|r| &r.loc));
                }
                for o in s.options.iter().chain(s.databases.iter().flat_map(|d| &d.params)).chain(s.users.iter().flat_map(|u| &u.params)) {
                    locs.push(&o.key_loc);
                    locs.push(&o.value_loc);
                }
                for loc in locs {
                    let text = &sources.get(loc.file).text;
                    prop_assert!(text.get(loc.span.clone()).is_some(), "{:?}", loc);
                }
            }
        }
    }
}
