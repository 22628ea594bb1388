//! Reader tests. The cases come from conf-syntax.md ("Consequences, all verified on 15.18" and
//! "Includes and precedence").

use super::*;
use proptest::prelude::*;
use std::fs;

fn parse_text(text: &str) -> (SourceMap, ConfDocument) {
    let mut sources = SourceMap::default();
    let file = sources.add(Path::new("/nonexistent/postgresql.conf"), text.to_string());
    let doc = parse(file, &mut sources).expect("no directives to fail");
    (sources, doc)
}

fn at<'a>(sources: &'a SourceMap, loc: &Loc) -> &'a str {
    &sources.get(loc.file).text[loc.span.clone()]
}

fn values(doc: &ConfDocument) -> Vec<(&str, &str)> {
    doc.entries
        .iter()
        .map(|e| (e.name.as_str(), e.value.as_str()))
        .collect()
}

#[test]
fn accepted_lines() {
    let text = "shared_buffers = 7GB\nseq_page_cost = .5\nmax_connections 0x64\n\
                max_connections=0100\nsearch_path = a.b.c\nx = a.b/c\n\
                cluster_name = my-cluster.v1:prod/a\ncluster_name = ''\n\
                SHARED_BUFFERS = 64MB # comment\nmyext.opt = 'on'\n\
                random_page_cost = 1.0e1\nlog_line_prefix = '%m [%p] '\ncluster_name = 'a#b'\n\
                jit = on";
    let (sources, doc) = parse_text(text);
    assert_eq!(doc.findings, []);
    assert_eq!(
        values(&doc),
        [
            ("shared_buffers", "7GB"),
            ("seq_page_cost", ".5"),
            ("max_connections", "0x64"),
            ("max_connections", "0100"),
            ("search_path", "a.b.c"),
            ("x", "a.b/c"),
            ("cluster_name", "my-cluster.v1:prod/a"),
            ("cluster_name", ""),
            ("SHARED_BUFFERS", "64MB"),
            ("myext.opt", "on"),
            ("random_page_cost", "1.0e1"),
            ("log_line_prefix", "%m [%p] "),
            ("cluster_name", "a#b"),
            ("jit", "on"),
        ]
    );
    let tokens: Vec<ValueToken> = doc.entries.iter().map(|e| e.token).collect();
    use ValueToken::*;
    assert_eq!(
        tokens,
        [
            Integer, Real, Integer, Integer, Unquoted, Unquoted, Unquoted, String, Integer, String,
            Real, String, String, Id
        ]
    );
    let last = &doc.entries[9];
    assert_eq!(at(&sources, &last.name_loc), "myext.opt");
    assert_eq!(at(&sources, &last.value_loc), "'on'");
    assert_eq!(last.line, 10);
    assert_eq!(doc.entries[13].line, 14);
}

#[test]
fn strings_and_escapes() {
    let (_, doc) = parse_text("a = 'it''s'\nb = 'it\\'s'\nc = 'x\\ty\\101\\q'\n");
    assert_eq!(doc.findings, []);
    assert_eq!(
        values(&doc),
        [("a", "it's"), ("b", "it's"), ("c", "x\tyAq")]
    );
}

#[test]
fn crlf_and_empty() {
    let (sources, doc) = parse_text("work_mem = 8MB\r\n# c\r\n\r\nshared_buffers = '1GB'\r\n");
    assert_eq!(doc.findings, []);
    assert_eq!(
        values(&doc),
        [("work_mem", "8MB"), ("shared_buffers", "1GB")]
    );
    assert_eq!(at(&sources, &doc.entries[1].value_loc), "'1GB'");
    let (_, doc) = parse_text("");
    assert!(doc.entries.is_empty() && doc.findings.is_empty());
}

/// (line, the token PostgreSQL names, the text the finding points at, a help fragment)
const SYNTAX_ERRORS: &[(&str, &str, &str, &str)] = &[
    (
        "shared_buffers = 1.5GB",
        "near token \"GB\"",
        "GB",
        "quote it: '1.5GB'",
    ),
    (
        "shared_buffers = 7 GB",
        "near token \"GB\"",
        "GB",
        "quote it: '7 GB'",
    ),
    (
        "statement_timeout = 1.5s",
        "near token \"s\"",
        "s",
        "quote it: '1.5s'",
    ),
    (
        "random_page_cost = 1e1",
        "near token \"1\"",
        "1",
        "quote it: '1e1'",
    ),
    (
        "log_line_prefix = %m [%p] # x",
        "near token \"%\"",
        "%",
        "'%m [%p]'",
    ),
    (
        "search_path = \"$user\", public",
        "near token \"\"\"",
        "\"",
        "'\"$user\", public'",
    ),
    (
        "default_text_search_config = pg_catalog.english",
        "near token \"pg_catalog.english\"",
        "pg_catalog.english",
        "quote it: 'pg_catalog.english'",
    ),
    (
        "include_dir conf.d",
        "near token \"conf.d\"",
        "conf.d",
        "quote it: 'conf.d'",
    ),
    ("cluster_name = a.b", "near token \"a.b\"", "a.b", "'a.b'"),
    (
        "shared_buffers = 64MB 128MB",
        "near token \"128MB\"",
        "128MB",
        "own line",
    ),
    (
        "work_mem = 8MB max_connections = 10",
        "near token \"max_connections\"",
        "max_connections",
        "own line",
    ),
    ("cluster_name =", "near end of line", "cluster_name", "''"),
    ("cluster_name", "near end of line", "cluster_name", "''"),
    (
        "my-app.flag = 1",
        "near token \"my-app.flag\"",
        "my-app.flag",
        "at most one dot",
    ),
    (
        "a.b.c = 1",
        "near token \"a.b.c\"",
        "a.b.c",
        "at most one dot",
    ),
    (
        "cluster_name = 'abc",
        "near token \"'\"",
        "'",
        "close the quote",
    ),
    ("= 1", "near token \"=\"", "=", "name = value"),
    (
        "shared_buffers = ${PG_SB}",
        "near token \"$\"",
        "$",
        "render the file",
    ),
];

#[test]
fn syntax_errors_like_postgres() {
    for (line, near, token, help) in SYNTAX_ERRORS {
        let (sources, doc) = parse_text(&format!("{line}\nwork_mem = 4MB\n"));
        assert_eq!(doc.findings.len(), 1, "{line}: {:?}", doc.findings);
        let d = &doc.findings[0];
        // An unquoted fractional size is CAT002 (docs/rules.md); every other case CAT008.
        let fractional_size = line.ends_with("1.5GB") || line.ends_with("1.5s");
        assert_eq!(
            d.code,
            if fractional_size { "CAT002" } else { "CAT008" },
            "{line}"
        );
        assert!(d.message.contains(near), "{line}: {}", d.message);
        assert!(d.message.starts_with("syntax error"), "{line}");
        assert_eq!(at(&sources, d.primary.as_ref().unwrap()), *token, "{line}");
        let h = d.help.as_deref().unwrap_or_default();
        assert!(h.contains(help), "{line}: {h}");
        // The bad line is skipped; the next one is read.
        assert_eq!(values(&doc), [("work_mem", "4MB")], "{line}");
    }
}

#[test]
fn every_bad_line_is_reported() {
    let (sources, doc) = parse_text("a = 1.5GB\nb = 2\nc = %x\nd = 'x\n");
    let places: Vec<_> = doc
        .findings
        .iter()
        .map(|d| sources.describe(d.primary.as_ref().unwrap()))
        .collect();
    assert_eq!(
        places,
        [
            "/nonexistent/postgresql.conf:1:8",
            "/nonexistent/postgresql.conf:3:5",
            "/nonexistent/postgresql.conf:4:5"
        ]
    );
    assert_eq!(values(&doc), [("b", "2")]);
}

#[test]
fn abandons_a_file_after_100_syntax_errors() {
    let text = format!("{}work_mem = 4MB\n", "x = %\n".repeat(120));
    let (_, doc) = parse_text(&text);
    assert_eq!(doc.findings.len(), 101);
    assert!(doc.findings[100].message.contains("too many syntax errors"));
    assert!(doc.entries.is_empty());
}

#[test]
fn a_bom_is_named() {
    let (sources, doc) = parse_text("\u{feff}shared_buffers = 64MB\nwork_mem = 4MB\n");
    assert_eq!(doc.findings.len(), 1);
    let d = &doc.findings[0];
    assert_eq!(d.code, "CAT008");
    assert!(d.message.contains("UTF-8 byte-order mark"), "{}", d.message);
    assert_eq!(at(&sources, d.primary.as_ref().unwrap()), "\u{feff}");
    assert_eq!(values(&doc), [("work_mem", "4MB")]);
}

#[test]
fn invalid_utf8_and_a_large_file() {
    let text = crate::formats::text::decode(b"cluster_name = '\xff\xfe'\nwork_\xffmem = 1\n")
        .expect("text");
    let (sources, doc) = parse_text(&text);
    assert_eq!(doc.entries[0].value, "\u{fffd}\u{fffd}");
    assert_eq!(at(&sources, &doc.entries[1].name_loc), "work_\u{fffd}mem");

    // A line of unterminated escaped quotes is the lexer's worst case: it must stay linear.
    let (_, doc) = parse_text(&format!("a = '{}\n", "\\'".repeat(1_000_000)));
    assert_eq!(doc.findings.len(), 1);

    let line = "shared_buffers = '128MB' # a comment\n";
    let big = line.repeat(10 * 1024 * 1024 / line.len());
    let (_, doc) = parse_text(&big);
    assert_eq!(doc.entries.len(), big.len() / line.len());
    assert_eq!(doc.entries.last().map(|e| e.line), Some(doc.entries.len()));
}

struct Tree(tempfile::TempDir);

impl Tree {
    fn new(files: &[(&str, &str)]) -> Tree {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        }
        Tree(dir)
    }

    fn read(&self, name: &str) -> (SourceMap, ConfDocument) {
        let mut sources = SourceMap::default();
        let doc = read(&self.0.path().join(name), &mut sources).expect("readable");
        (sources, doc)
    }
}

fn file_names(sources: &SourceMap, doc: &ConfDocument) -> Vec<String> {
    doc.files
        .iter()
        .map(|f| {
            let p = &sources.get(*f).path;
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn includes_are_read_in_place() {
    let tree = Tree::new(&[
        (
            "postgresql.conf",
            "shared_buffers = 128MB\nINCLUDE_DIR = 'conf.d'\ninclude 'sub/extra.conf'\n\
             include_if_exists 'nope.conf'\nwork_mem = 9MB\n",
        ),
        ("conf.d/20-b.conf", "work_mem = 8MB\n"),
        ("conf.d/10-a.conf", "shared_buffers = 40MB\n"),
        ("conf.d/30-c.conf.bak", "bad = 1\n"),
        ("conf.d/.40-hidden.conf", "bad = 2\n"),
        ("conf.d/Z.CONF", "bad = 3\n"),
        // strcmp order: digits, then uppercase, then lowercase.
        ("conf.d/A.conf", "max_connections = 5\n"),
        ("conf.d/dir.conf/x.conf", "bad = 4\n"),
        ("sub/extra.conf", "include 'more.bak'\n"),
        ("sub/more.bak", "cluster_name = 'x'\n"),
    ]);
    let (sources, doc) = tree.read("postgresql.conf");
    assert_eq!(doc.findings, []);
    assert_eq!(
        file_names(&sources, &doc),
        [
            "postgresql.conf",
            "10-a.conf",
            "20-b.conf",
            "A.conf",
            "extra.conf",
            "more.bak"
        ]
    );
    assert_eq!(
        values(&doc),
        [
            ("shared_buffers", "128MB"),
            ("shared_buffers", "40MB"),
            ("work_mem", "8MB"),
            ("max_connections", "5"),
            ("cluster_name", "x"),
            ("work_mem", "9MB"),
        ]
    );
    assert_eq!(doc.directives.len(), 6);
    let fragment = &doc.entries[1];
    assert_eq!(at(&sources, &fragment.value_loc), "40MB");
    assert!(
        sources
            .describe(&fragment.value_loc)
            .ends_with("10-a.conf:1:18")
    );
}

#[test]
fn an_error_in_a_fragment_points_into_the_fragment() {
    let tree = Tree::new(&[
        ("postgresql.conf", "include_dir = 'conf.d'\n"),
        ("conf.d/50-bad.conf", "# tuned\nshared_buffers = 1.5GB\n"),
    ]);
    let (sources, doc) = tree.read("postgresql.conf");
    assert_eq!(doc.findings.len(), 1);
    let loc = doc.findings[0].primary.as_ref().unwrap();
    assert_eq!(at(&sources, loc), "GB");
    assert!(
        sources.describe(loc).ends_with("50-bad.conf:2:21"),
        "{}",
        sources.describe(loc)
    );
}

#[test]
fn missing_includes() {
    let tree = Tree::new(&[(
        "postgresql.conf",
        "include 'missing.conf'\ninclude_dir 'nope.d'\ninclude_if_exists 'gone.conf'\nwork_mem = 1MB\n",
    )]);
    let (sources, doc) = tree.read("postgresql.conf");
    let found: Vec<_> = doc
        .findings
        .iter()
        .map(|d| {
            (
                d.code,
                d.severity,
                at(&sources, d.primary.as_ref().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("FIL004", crate::diag::Severity::Warning, "'missing.conf'"),
            ("FIL004", crate::diag::Severity::Warning, "'nope.d'"),
        ]
    );
    assert!(
        doc.findings[0]
            .message
            .contains("no such file here; its settings were not checked")
    );
    assert!(doc.findings[1].message.contains("no such directory here"));
    assert_eq!(values(&doc), [("work_mem", "1MB")]);

    let tree = Tree::new(&[
        ("postgresql.conf", "include_dir 'file.conf'\n"),
        ("file.conf", ""),
    ]);
    let (_, doc) = tree.read("postgresql.conf");
    assert_eq!(doc.findings.len(), 1);
    assert_eq!(doc.findings[0].code, "FIL004");
    assert!(
        doc.findings[0]
            .message
            .contains("cannot read the directory `file.conf`")
    );
}

#[test]
fn nesting_deeper_than_ten_is_refused() {
    let mut files: Vec<(String, String)> = (0..=11)
        .map(|i| {
            (
                format!("f{i}.conf"),
                format!("include 'f{}.conf'\nv{i}.x = {i}\n", i + 1),
            )
        })
        .collect();
    files.push(("f12.conf".into(), "v12.x = 12\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let tree = Tree::new(&refs);
    let (sources, doc) = tree.read("f0.conf");
    assert_eq!(doc.files.len(), 11, "f0 (depth 0) to f10 (depth 10)");
    assert_eq!(doc.findings.len(), 1);
    let d = &doc.findings[0];
    assert_eq!(d.code, "CAT008");
    assert!(d.message.contains("maximum nesting depth exceeded"));
    assert_eq!(at(&sources, d.primary.as_ref().unwrap()), "'f11.conf'");
    assert!(
        sources
            .describe(d.primary.as_ref().unwrap())
            .contains("f10.conf:1:")
    );
    assert_eq!(doc.entries.len(), 11);
}

#[test]
fn recursion_terminates() {
    let tree = Tree::new(&[
        ("a.conf", "include 'b.conf'\na.x = 1\n"),
        ("b.conf", "include 'a.conf'\nb.x = 2\n"),
        ("self.conf", "include 'self.conf'\n"),
    ]);
    let (sources, doc) = tree.read("a.conf");
    assert_eq!(doc.findings.len(), 1);
    assert!(
        doc.findings[0]
            .message
            .contains("configuration file recursion")
    );
    assert!(
        sources
            .describe(doc.findings[0].primary.as_ref().unwrap())
            .contains("b.conf:1:9")
    );
    assert_eq!(values(&doc), [("b.x", "2"), ("a.x", "1")]);
    let (_, doc) = tree.read("self.conf");
    assert_eq!(doc.findings.len(), 1);
    assert!(
        doc.findings[0]
            .message
            .contains("configuration file recursion")
    );
}

#[test]
fn unreadable_top_level_is_an_input_error() {
    let mut sources = SourceMap::default();
    assert!(read(Path::new("/nonexistent/postgresql.conf"), &mut sources).is_err());
}

fn check_locs(sources: &SourceMap, doc: &ConfDocument) -> Result<(), TestCaseError> {
    let mut locs: Vec<&Loc> = doc
        .entries
        .iter()
        .flat_map(|e| [&e.name_loc, &e.value_loc])
        .collect();
    for d in &doc.findings {
        locs.extend(d.primary.iter());
        locs.extend(d.related.iter().map(|r| &r.loc));
    }
    for loc in locs {
        let text = &sources.get(loc.file).text;
        prop_assert!(loc.span.start <= loc.span.end && loc.span.end <= text.len());
        prop_assert!(text.is_char_boundary(loc.span.start) && text.is_char_boundary(loc.span.end));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(text) = crate::formats::text::decode(&bytes) {
            let (sources, doc) = parse_text(&text);
            check_locs(&sources, &doc)?;
        }
    }

    #[test]
    fn conf_like_text_never_panics(text in "[a-z_.=' \\\\\"#%0-9x\t\r\n\u{e9}\u{feff}-]{0,80}") {
        let (sources, doc) = parse_text(&text);
        check_locs(&sources, &doc)?;
    }
}
