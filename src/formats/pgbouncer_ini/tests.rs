use super::*;
use crate::formats::text;
use proptest::prelude::*;
use std::fs;

/// A working directory that holds no files (includes in these tests are missing unless a
/// test makes a temp dir).
const NO_CWD: &str = "/nonexistent-poolstack-cwd";

fn doc_in(text: &str, cwd: &Path) -> (IniDocument, SourceMap) {
    let mut sources = SourceMap::default();
    let file = sources.add(Path::new("test-pgbouncer.ini"), text.to_string());
    let doc = parse(file, cwd, &mut sources).expect("no input error");
    (doc, sources)
}

fn doc(text: &str) -> (IniDocument, SourceMap) {
    doc_in(text, Path::new(NO_CWD))
}

fn at<'s>(sources: &'s SourceMap, loc: &Loc) -> &'s str {
    &sources.get(loc.file).text[loc.span.clone()]
}

fn codes(doc: &IniDocument) -> Vec<&'static str> {
    doc.findings.iter().map(|d| d.code).collect()
}

fn keys(doc: &IniDocument) -> Vec<(&str, &str)> {
    doc.entries
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect()
}

#[test]
fn sections_entries_and_positions() {
    let text = "; comment\n[pgbouncer]\nlisten_port = 6432\n  # indented comment\n\t; tab comment\nmax_client_conn=55\n\n[databases]\nfoodb = host=127.0.0.1 dbname=foo\n";
    let (d, s) = doc(text);
    assert_eq!(codes(&d), Vec::<&str>::new());
    assert!(d.main_section_found);
    assert_eq!(
        keys(&d),
        [
            ("listen_port", "6432"),
            ("max_client_conn", "55"),
            ("foodb", "host=127.0.0.1 dbname=foo")
        ]
    );
    let names: Vec<_> = d
        .sections
        .iter()
        .map(|h| (h.name.as_str(), h.section))
        .collect();
    assert_eq!(
        names,
        [
            ("pgbouncer", Some(Section::Pgbouncer)),
            ("databases", Some(Section::Databases))
        ]
    );
    assert_eq!(at(&s, &d.sections[1].loc), "[databases]");
    let e = &d.entries[1];
    assert_eq!((e.line, e.section), (6, Section::Pgbouncer));
    assert_eq!(at(&s, &e.key_loc), "max_client_conn");
    assert_eq!(at(&s, &e.value_loc), "55");
    assert_eq!(s.describe(&e.value_loc), "test-pgbouncer.ini:6:17");
    assert_eq!(d.entries[2].section, Section::Databases);
    assert_eq!(d.files.len(), 1);
    assert_eq!(d.directives.len(), 1);
    assert_eq!(d.entries_in(Section::Databases).count(), 1);
}

#[test]
fn no_inline_comments_and_trailing_blanks_trimmed() {
    // facts.md §1a 15/16: the rest of the line is the value, comment included.
    let (d, s) = doc(
        "[pgbouncer]\npool_mode = transaction ; inline comment   \nserver_reset_query = DISCARD ALL # comment\t\n",
    );
    assert_eq!(d.entries[0].value, "transaction ; inline comment");
    assert_eq!(d.entries[1].value, "DISCARD ALL # comment");
    assert_eq!(at(&s, &d.entries[1].value_loc), "DISCARD ALL # comment");
}

#[test]
fn blanks_around_equals_and_no_blanks() {
    // 25 and 42: both accepted.
    let (d, _) = doc("[pgbouncer]\nmax_client_conn  \t= 88\nmin_pool_size=3\n");
    assert_eq!(
        keys(&d),
        [("max_client_conn", "88"), ("min_pool_size", "3")]
    );
}

#[test]
fn empty_value_points_right_after_equals() {
    // 26: `server_check_query =` is an empty string.
    let (d, s) = doc("[pgbouncer]\nserver_check_query =   \nfoodb=\n");
    let e = &d.entries[0];
    assert_eq!(e.value, "");
    assert!(e.value_loc.span.is_empty());
    assert_eq!(
        e.value_loc.span.start,
        s.get(e.key_loc.file).text.find('=').unwrap() + 1
    );
    assert_eq!(d.entries[1].value, "");
}

#[test]
fn crlf_is_fine() {
    let (d, s) = doc("[pgbouncer]\r\nlisten_port = 6432\r\n\r\n[databases]\r\nx = host=a\r\n");
    assert_eq!(codes(&d), Vec::<&str>::new());
    assert_eq!(keys(&d), [("listen_port", "6432"), ("x", "host=a")]);
    assert_eq!(at(&s, &d.entries[1].value_loc), "host=a");
    assert_eq!(d.entries[1].line, 5);
}

#[test]
fn empty_file_only_misses_the_main_section() {
    // 23: `main section missing from config file`, at 1:1.
    for text in ["", "\n\n; only comments\n", "[databases]\nx = host=a\n"] {
        let (d, s) = doc(text);
        assert_eq!(codes(&d), ["CAT008"], "{text:?}");
        let f = d.main_section_missing().expect("recognisable");
        assert_eq!(f.message, MAIN_SECTION_MISSING);
        assert_eq!(
            s.describe(f.primary.as_ref().unwrap()),
            "test-pgbouncer.ini:1:1"
        );
    }
}

#[test]
fn unknown_section_is_reported_and_its_lines_skipped() {
    // 21 and 41: names are case-sensitive.
    let (d, s) = doc(
        "[pgbouncer]\nlisten_port = 1\n[foo]\nbar = 1\n[Databases]\nx = host=a\n[users]\nalice = pool_mode=session\n",
    );
    assert_eq!(codes(&d), ["CAT008", "CAT008"]);
    assert!(d.findings[0].message.contains("invalid section \"foo\""));
    assert_eq!(at(&s, d.findings[0].primary.as_ref().unwrap()), "[foo]");
    assert_eq!(
        at(&s, d.findings[1].primary.as_ref().unwrap()),
        "[Databases]"
    );
    assert!(
        d.findings[1]
            .help
            .as_deref()
            .unwrap()
            .contains("`[databases]`")
    );
    assert_eq!(
        keys(&d),
        [("listen_port", "1"), ("alice", "pool_mode=session")]
    );
    assert_eq!(d.sections[1].section, None);
}

#[test]
fn value_without_section() {
    // 22
    let (d, s) = doc("max_client_conn = 10\n[pgbouncer]\nlisten_port = 1\n");
    assert_eq!(codes(&d), ["CAT008"]);
    assert!(d.findings[0].message.contains("value without section"));
    assert_eq!(
        at(&s, d.findings[0].primary.as_ref().unwrap()),
        "max_client_conn"
    );
    assert_eq!(keys(&d), [("listen_port", "1")]);
}

#[test]
fn syntax_errors_stop_loading() {
    // facts.md §6 corpus rejections and 49b: PgBouncer stops at the line.
    let cases = [
        (
            "--/etc/pgbouncer/pgbouncer.ini\r\n[pgbouncer]\r\nlisten_port = 1\r\n",
            "--/etc/pgbouncer/pgbouncer.ini",
        ),
        (
            "[pgbouncer]\n*CONNECTION POOL SETTINGS*\nlisten_port = 1\n",
            "*CONNECTION POOL SETTINGS*",
        ),
        (
            "[pgbouncer]\n[databases]\nmy db = host=a\nok = host=b\n",
            "my db = host=a",
        ),
        (
            "[pgbouncer]\n[databases]\ncafé = host=a\nok = host=b\n",
            "café = host=a",
        ),
        (
            "[pgbouncer]\n[databases]\n\"my db\" = host=a\n",
            "\"my db\" = host=a",
        ),
        ("[pgbouncer]\n= 5\n", "="),
        ("[pgbouncer]\nlisten_port\n", "listen_port"),
        ("[pgbouncer]\n[databases\n", "[databases"),
        ("[pgbouncer]\n%includefoo.ini\n", "%includefoo.ini"),
        ("[pgbouncer]\n'unterminated = 1\n", "'unterminated = 1"),
        ("[pgbouncer]\n'' = 1\n", "'' = 1"),
    ];
    for (text, bad) in cases {
        let (d, s) = doc(text);
        assert_eq!(codes(&d), ["CAT008"], "{text:?}");
        let f = &d.findings[0];
        assert!(f.message.starts_with("syntax error"), "{}", f.message);
        assert_eq!(at(&s, f.primary.as_ref().unwrap()), bad, "{text:?}");
        assert_eq!(d.stopped_at, f.primary);
        assert!(
            d.entries
                .iter()
                .all(|e| e.key != "ok" && e.key != "listen_port"),
            "{text:?}"
        );
    }
}

#[test]
fn section_header_ends_at_the_bracket() {
    // cfparser continues right after `]`: a comment may follow, a key may even follow.
    let (d, _) = doc("[pgbouncer] ; main\n[databases] x = host=a\n");
    assert_eq!(codes(&d), Vec::<&str>::new());
    assert_eq!(keys(&d), [("x", "host=a")]);
}

#[test]
fn names_with_dash_dot_star() {
    // 44 and 49: `*` and `my-db.v2` are plain keys.
    let (d, _) = doc("[pgbouncer]\n[databases]\n* = host=a\nmy-db.v2 = host=b\nemptydb =\n");
    assert_eq!(codes(&d), Vec::<&str>::new());
    assert_eq!(
        keys(&d),
        [("*", "host=a"), ("my-db.v2", "host=b"), ("emptydb", "")]
    );
}

#[test]
fn quoted_keys_are_recorded_as_quoted() {
    // 1.25 reads 'my db'; the checker decides per version.
    let (d, s) = doc("[pgbouncer]\n[databases]\n'my db' = host=a\nplain = host=b\n");
    assert_eq!(codes(&d), Vec::<&str>::new());
    let e = &d.entries[0];
    assert_eq!((e.key.as_str(), e.key_quoted), ("my db", true));
    assert_eq!(at(&s, &e.key_loc), "'my db'");
    assert!(!d.entries[1].key_quoted);
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn include_is_relative_to_the_working_directory() {
    // 27: PgBouncer resolves against its cwd, not the including file's directory.
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("run");
    write(&cwd, "extra.ini", "max_client_conn = 333\n");
    write(tmp.path(), "conf/extra.ini", "max_client_conn = 1\n");
    let main = write(
        tmp.path(),
        "conf/pgbouncer.ini",
        "[pgbouncer]\n  %include extra.ini  \nlisten_port = 1\n",
    );
    let mut sources = SourceMap::default();
    let d = read(&main, &cwd, &mut sources).unwrap();
    assert_eq!(codes(&d), Vec::<&str>::new());
    assert_eq!(keys(&d), [("max_client_conn", "333"), ("listen_port", "1")]);
    assert_eq!(d.files.len(), 2);
    assert_eq!(d.directives.len(), 2);
    let inc = &d.entries[0];
    assert_eq!(inc.key_loc.file, d.files[1]);
    assert_eq!(at(&sources, &inc.value_loc), "333");
    assert!(sources.get(d.files[1]).path.starts_with(&cwd));
}

#[test]
fn missing_include_is_a_warning_and_reading_goes_on() {
    // 28: FIL004 at the path; the rest of the file is still checked.
    let tmp = tempfile::tempdir().unwrap();
    let (d, s) = doc_in(
        "[pgbouncer]\n%include nope.ini\nlisten_port = 1\n",
        tmp.path(),
    );
    assert_eq!(codes(&d), ["FIL004"]);
    let f = &d.findings[0];
    assert_eq!(f.severity, Severity::Warning);
    assert!(
        f.message.contains("could not load file \"nope.ini\""),
        "{}",
        f.message
    );
    assert_eq!(at(&s, f.primary.as_ref().unwrap()), "nope.ini");
    assert_eq!(keys(&d), [("listen_port", "1")]);
    assert_eq!(d.stopped_at, None);
}

#[test]
fn missing_include_may_hold_the_main_section() {
    // pooler-bench: the include comes first and holds [pgbouncer]; nothing else is claimed.
    let tmp = tempfile::tempdir().unwrap();
    let (d, _) = doc_in(
        "%include configs/shared.ini
unix_socket_dir = /tmp/a
",
        tmp.path(),
    );
    assert_eq!(codes(&d), ["FIL004"]);
    assert!(d.entries.is_empty());
}

#[test]
fn unreadable_include_is_reported_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("bin.ini"), b"\x1f\x8b\0\0").unwrap();
    fs::create_dir(tmp.path().join("adir")).unwrap();
    let (d, _) = doc_in(
        "[pgbouncer]\n%include bin.ini\n%include adir\n%include \t \nx = 1\n",
        tmp.path(),
    );
    assert_eq!(codes(&d), ["FIL004", "FIL004", "CAT008"]);
    assert!(d.findings[0].message.contains("not a text file"));
    assert!(d.findings[1].message.contains("directory"));
    assert!(d.findings[2].message.contains("names no file"));
}

#[test]
fn include_cycle_terminates_with_one_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(
        tmp.path(),
        "a.ini",
        "[pgbouncer]\n%include b.ini\nafter_a = 1\n",
    );
    write(tmp.path(), "b.ini", "listen_port = 1\n%include a.ini\n");
    let mut sources = SourceMap::default();
    let d = read(&a, tmp.path(), &mut sources).unwrap();
    assert_eq!(codes(&d), ["CAT008"]);
    let f = &d.findings[0];
    assert!(f.message.contains("include cycle: "), "{}", f.message);
    assert!(
        f.message.contains("a.ini includes itself via ") && f.message.contains("b.ini"),
        "{}",
        f.message
    );
    assert_eq!(at(&sources, f.primary.as_ref().unwrap()), "a.ini");
    assert_eq!(keys(&d), [("listen_port", "1")]);

    let own = write(tmp.path(), "self.ini", "[pgbouncer]\n%include self.ini\n");
    let d = read(&own, tmp.path(), &mut sources).unwrap();
    assert_eq!(codes(&d), ["CAT008"]);
    assert!(
        d.findings[0].message.contains("self.ini includes itself:"),
        "{}",
        d.findings[0].message
    );
}

#[test]
fn include_nesting_stops_at_ten() {
    // f0 includes f1 … : a file at depth 10 may not include another (cfparser MAX_INCLUDE).
    let tmp = tempfile::tempdir().unwrap();
    let chain = |n: usize| {
        for i in 0..=n {
            let next = if i < n {
                format!("%include f{}.ini\n", i + 1)
            } else {
                String::new()
            };
            let head = if i == 0 { "[pgbouncer]\n" } else { "" };
            write(
                tmp.path(),
                &format!("f{i}.ini"),
                &format!("{head}k{i} = {i}\n{next}"),
            );
        }
    };
    chain(10);
    let mut sources = SourceMap::default();
    let d = read(&tmp.path().join("f0.ini"), tmp.path(), &mut sources).unwrap();
    assert_eq!(codes(&d), Vec::<&str>::new());
    assert_eq!(d.files.len(), 11);

    chain(11);
    let d = read(&tmp.path().join("f0.ini"), tmp.path(), &mut sources).unwrap();
    assert_eq!(codes(&d), ["CAT008"]);
    let f = &d.findings[0];
    assert!(f.message.contains("deeper than 10"), "{}", f.message);
    assert_eq!(at(&sources, f.primary.as_ref().unwrap()), "f11.ini");
    assert_eq!(d.entries.len(), 11);
}

#[test]
fn invalid_utf8_and_binary_input() {
    let text =
        text::decode(b"[pgbouncer]\nadmin_users = \xff\xfe\n[databases]\n\xc3 = host=a\n").unwrap();
    let (d, s) = doc(&text);
    assert_eq!(d.entries[0].value, "\u{fffd}\u{fffd}");
    assert_eq!(codes(&d), ["CAT008"]);
    assert_eq!(
        at(&s, d.findings[0].primary.as_ref().unwrap()),
        "\u{fffd} = host=a"
    );
    let tmp = tempfile::tempdir().unwrap();
    let bin = write(tmp.path(), "bin.ini", "a\0b");
    assert!(read(&bin, tmp.path(), &mut SourceMap::default()).is_err());
    assert!(
        read(
            &tmp.path().join("none.ini"),
            tmp.path(),
            &mut SourceMap::default()
        )
        .is_err()
    );
}

#[test]
fn ten_megabytes_read_in_one_pass() {
    let mut text = String::from("[pgbouncer]\nlisten_port = 6432\n[databases]\n");
    let mut n = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!(
            "db{n} = host=10.0.0.1 port=5432 dbname=app{n} pool_size=20\n"
        ));
        n += 1;
    }
    let (d, s) = doc(&text);
    assert_eq!(d.entries.len(), n + 1);
    let last = d.entries.last().unwrap();
    assert_eq!(last.line, n + 3);
    assert_eq!(at(&s, &last.key_loc), format!("db{}", n - 1));
}

#[test]
fn directive_comments_are_scanned_per_file() {
    let (d, _) = doc(
        "; poolstack: pgbouncer 1.18\n[pgbouncer]\n; poolstack: ignore CAT005 octal on purpose\nmax_client_conn = 010\n",
    );
    let dir = &d.directives[0];
    assert_eq!(
        dir.pgbouncer_version.as_ref().map(|v| v.value),
        Some(PgbVersionForTest::new(1, 18))
    );
    assert_eq!(dir.suppressions[0].line, Some(4));
}

use crate::catalog::pgbouncer::PgbVersion as PgbVersionForTest;

fn pairs(value: &str) -> Result<Vec<(String, String, bool)>, ConnstrError> {
    let loc = Loc {
        file: FileId(0),
        span: 10..10 + value.len(),
    };
    parse_connstr(value, &loc).map(|p| p.into_iter().map(|p| (p.key, p.value, p.quoted)).collect())
}

fn p(k: &str, v: &str, q: bool) -> (String, String, bool) {
    (k.to_string(), v.to_string(), q)
}

#[test]
fn connstr_pairs() {
    assert_eq!(pairs("").unwrap(), []);
    assert_eq!(pairs("   ").unwrap(), []);
    assert_eq!(
        pairs("host=127.0.0.1  dbname=app").unwrap(),
        [p("host", "127.0.0.1", false), p("dbname", "app", false)]
    );
    // 49d: blanks around `=`.
    assert_eq!(
        pairs("host = 127.0.0.1 dbname =  app").unwrap(),
        [p("host", "127.0.0.1", false), p("dbname", "app", false)]
    );
    // 33: single quotes, '' escape; ; and # inside quotes are text.
    assert_eq!(
        pairs("password='it''s ; # x' dbname=a").unwrap(),
        [p("password", "it's ; # x", true), p("dbname", "a", false)]
    );
    // 49c: double quotes are literal.
    assert_eq!(
        pairs("dbname=\"postgres\"").unwrap(),
        [p("dbname", "\"postgres\"", false)]
    );
    // cstr_get_value: an unquoted value runs to the next space, `=` included.
    assert_eq!(
        pairs("password= user=bob").unwrap(),
        [p("password", "user=bob", false)]
    );
}

#[test]
fn connstr_positions() {
    let value = "host=a password='x y'";
    let loc = Loc {
        file: FileId(0),
        span: 5..5 + value.len(),
    };
    let text = format!("abcde{value}");
    let got = parse_connstr(value, &loc).unwrap();
    assert_eq!(&text[got[1].key_loc.span.clone()], "password");
    assert_eq!(&text[got[1].value_loc.span.clone()], "'x y'");
    assert_eq!(&text[got[0].value_loc.span.clone()], "a");
}

#[test]
fn connstr_errors() {
    let kind = |v: &str| pairs(v).unwrap_err().kind;
    assert_eq!(kind("host=a port="), ConnstrErrorKind::EmptyValue);
    assert_eq!(kind("host=''"), ConnstrErrorKind::EmptyValue);
    assert_eq!(kind("host='abc"), ConnstrErrorKind::UnterminatedQuote);
    assert_eq!(kind("host=a ; comment"), ConnstrErrorKind::MissingEquals);
    assert_eq!(kind("UTF8"), ConnstrErrorKind::MissingEquals);
    assert_eq!(kind("=x"), ConnstrErrorKind::MissingEquals);
    let loc = Loc {
        file: FileId(0),
        span: 0..13,
    };
    let e = parse_connstr("host=a broken", &loc).unwrap_err();
    assert_eq!(e.loc.span, 7..13);
    assert!(e.message.contains("`broken`"), "{}", e.message);
}

/// Every place a document points at is inside its file and on character boundaries.
fn assert_locs_valid(d: &IniDocument, s: &SourceMap) {
    let mut locs: Vec<&Loc> = Vec::new();
    for e in &d.entries {
        locs.push(&e.key_loc);
        locs.push(&e.value_loc);
        if let Ok(pairs) = parse_connstr(&e.value, &e.value_loc) {
            for p in pairs {
                let text = &s.get(p.key_loc.file).text;
                assert!(text.get(p.key_loc.span.clone()).is_some());
                assert!(text.get(p.value_loc.span.clone()).is_some());
            }
        }
    }
    for h in &d.sections {
        locs.push(&h.loc);
    }
    for f in &d.findings {
        locs.extend(f.primary.iter());
        locs.extend(f.related.iter().map(|r| &r.loc));
    }
    for loc in locs {
        let text = &s.get(loc.file).text;
        assert!(loc.span.start <= loc.span.end, "{loc:?}");
        assert!(text.get(loc.span.clone()).is_some(), "{loc:?} in {text:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(text) = text::decode(&bytes) {
            let mut sources = SourceMap::default();
            let file = sources.add(Path::new("prop.ini"), text);
            if let Ok(d) = parse(file, Path::new(NO_CWD), &mut sources) {
                assert_locs_valid(&d, &sources);
            }
        }
    }

    #[test]
    fn ini_like_text_never_panics(text in "[\\[\\]=;#' \t\r\n%a-z*.\u{e9}\"_]{0,120}") {
        let mut sources = SourceMap::default();
        let file = sources.add(Path::new("prop.ini"), text);
        if let Ok(d) = parse(file, Path::new(NO_CWD), &mut sources) {
            assert_locs_valid(&d, &sources);
        }
    }

    #[test]
    fn connstr_never_panics(value in "[a-z=' \t;#\"\u{e9}]{0,60}") {
        let loc = Loc { file: FileId(0), span: 0..value.len() };
        match parse_connstr(&value, &loc) {
            Ok(pairs) => for p in pairs {
                prop_assert!(value.get(p.key_loc.span.clone()).is_some());
                prop_assert!(value.get(p.value_loc.span.clone()).is_some());
            },
            Err(e) => prop_assert!(value.get(e.loc.span.clone()).is_some()),
        }
    }
}
