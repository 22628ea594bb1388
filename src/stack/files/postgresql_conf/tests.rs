//! Catalog checks of postgresql.conf. Cases from conf-syntax.md and guc-versions.md.

use super::*;
use crate::formats::postgresql_conf::{parse, read};
use proptest::prelude::*;
use std::path::Path;

fn run(text: &str, major: Option<u32>) -> (SourceMap, ConfSettings) {
    let mut sources = SourceMap::default();
    let file = sources.add(Path::new("/nonexistent/postgresql.conf"), text.to_string());
    let doc = parse(file, &mut sources).expect("parsed");
    let settings = check(&doc, major, &sources);
    (sources, settings)
}

fn at<'a>(sources: &'a SourceMap, loc: &Loc) -> &'a str {
    &sources.get(loc.file).text[loc.span.clone()]
}

/// The one finding of `text`, with the text it points at.
fn only(text: &str, major: Option<u32>) -> (Diagnostic, String) {
    let (sources, s) = run(text, major);
    assert_eq!(s.findings.len(), 1, "{text}: {:?}", s.findings);
    let d = s.findings[0].clone();
    let place = d
        .primary
        .as_ref()
        .map(|l| at(&sources, l).to_string())
        .unwrap_or_default();
    (d, place)
}

fn quiet(text: &str, major: Option<u32>) -> ConfSettings {
    let (_, s) = run(text, major);
    assert_eq!(s.findings, [], "{text}");
    s
}

fn param<'a>(s: &'a ConfSettings, name: &str) -> &'a FileParam {
    s.params.iter().find(|p| p.name == name).expect(name)
}

#[test]
fn cat001_unknown_names() {
    let (d, place) = only("shard_buffers = 1\n", Some(15));
    assert_eq!(
        (d.code, d.severity, place.as_str()),
        ("CAT001", Severity::Error, "shard_buffers")
    );
    assert!(
        d.message
            .contains("unrecognized configuration parameter \"shard_buffers\"")
    );
    assert!(d.help.unwrap_or_default().contains("`shared_buffers`"));
    let (d, _) = only("shard_buffers = 1\n", None);
    assert_eq!(d.code, "CAT001");

    let s = quiet(
        "SHARED_BUFFERS = 64MB\nsort_mem = 8MB\nvacuum_mem = 64MB\nmyext.flag = on\n",
        Some(15),
    );
    assert_eq!(
        param(&s, "shared_buffers")
            .value
            .as_ref()
            .and_then(|v| v.base),
        Some(8192.0)
    );
    assert_eq!(param(&s, "work_mem").raw, "8MB");
    assert_eq!(param(&s, "maintenance_work_mem").raw, "64MB");
    let ext = param(&s, "myext.flag");
    assert_eq!((ext.value.clone(), ext.unit), (None, PgUnit::None));
}

#[test]
fn cat002_invalid_values() {
    let cases = [
        (
            "shared_buffers = '7gb'",
            "invalid value for parameter \"shared_buffers\": \"7gb\"",
            "'7gb'",
            "\"B\", \"kB\", \"MB\", \"GB\", and \"TB\"",
        ),
        ("shared_buffers = 7gb", "\"7gb\"", "7gb", "Valid units"),
        (
            "statement_timeout = '30sec'",
            "\"30sec\"",
            "'30sec'",
            "\"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"",
        ),
        (
            "max_connections = 0",
            "0 is outside the valid range for parameter \"max_connections\" (1 .. 262143)",
            "0",
            "within the range",
        ),
        (
            "max_connections = 08",
            "invalid value for parameter \"max_connections\": \"08\"",
            "08",
            "",
        ),
        (
            "wal_level = foo",
            "\"foo\"",
            "foo",
            "Available values: minimal, replica, logical.",
        ),
        (
            "jit = o",
            "parameter \"jit\" requires a Boolean value",
            "o",
            "on or off",
        ),
        ("random_page_cost = '1.1s'", "\"1.1s\"", "'1.1s'", ""),
        (
            "shared_buffers = '${PG_SHARED_BUFFERS}'",
            "`${PG_SHARED_BUFFERS}` is an unrendered placeholder",
            "'${PG_SHARED_BUFFERS}'",
            "render",
        ),
        ("myext.opt = 'x${A}y'", "`${A}`", "'x${A}y'", "render"),
    ];
    for (line, message, place, help) in cases {
        let (d, p) = only(&format!("{line}\n"), Some(15));
        assert_eq!((d.code, d.severity), ("CAT002", Severity::Error), "{line}");
        assert!(d.message.contains(message), "{line}: {}", d.message);
        assert_eq!(p, place, "{line}");
        assert!(d.help.unwrap_or_default().contains(help), "{line}");
    }
    let (s_sources, s) = run("block_size = 8192\nserver_version = '16'\n", Some(15));
    let found: Vec<_> = s
        .findings
        .iter()
        .map(|d| (d.code, at(&s_sources, d.primary.as_ref().unwrap())))
        .collect();
    assert_eq!(
        found,
        [("CAT002", "block_size"), ("CAT002", "server_version")]
    );
    assert!(
        s.findings[0]
            .message
            .contains("parameter \"block_size\" cannot be changed")
    );
    assert!(s.params.is_empty());

    quiet("wal_level = hot_standby\n", Some(15));
    let s = quiet("wal_level = REPLICA\njit = of\n", Some(15));
    assert_eq!(
        param(&s, "jit")
            .value
            .as_ref()
            .map(|v| v.normalized.as_str()),
        Some("off")
    );
}

#[test]
fn quoted_forms_postgres_accepts() {
    // conf-syntax.md: '1.5GB' and '7 GB' work, '1.5s' is 1500 ms, '1e1' and 1.0e1 are 10,
    // 0x64 is 100, .5 is 0.5.
    let s = quiet(
        "shared_buffers = '1.5GB'\nwork_mem = '7 MB'\nstatement_timeout = '1.5s'\n\
         random_page_cost = '1e1'\nseq_page_cost = 1.0e1\ncpu_tuple_cost = .5\n\
         cluster_name = ''\nsearch_path = '\"$user\", public'\nssl_ecdh_curve = 'prime256v1'\n",
        Some(18),
    );
    let base = |name: &str| param(&s, name).value.as_ref().and_then(|v| v.base);
    assert_eq!(base("shared_buffers"), Some(196_608.0));
    assert_eq!(base("work_mem"), Some(7168.0));
    assert_eq!(base("statement_timeout"), Some(1500.0));
    assert_eq!(base("random_page_cost"), Some(10.0));
    assert_eq!(base("seq_page_cost"), Some(10.0));
    assert_eq!(base("cpu_tuple_cost"), Some(0.5));
    assert_eq!(param(&s, "cluster_name").raw, "");
    assert_eq!(param(&s, "search_path").raw, "\"$user\", public");
    // PG18 maps the old name to ssl_groups.
    assert_eq!(param(&s, "ssl_groups").raw, "prime256v1");
    let (d, _) = only("shared_buffers = '10s'\n", Some(15));
    assert_eq!(d.code, "CAT002");
    assert!(d.help.unwrap_or_default().contains("\"kB\""));
    let (d, _) = only("checkpoint_timeout = '30ms'\n", Some(15));
    assert!(
        d.message
            .contains("outside the valid range for parameter \"checkpoint_timeout\" (30 .. 86400)"),
        "{}",
        d.message
    );
}

#[test]
fn cat003_and_cat004_with_a_major() {
    let (d, place) = only("reserved_connections = 3\n", Some(15));
    assert_eq!(
        (d.code, d.severity, place.as_str()),
        ("CAT003", Severity::Error, "reserved_connections")
    );
    assert!(
        d.message.contains("introduced in PostgreSQL 16"),
        "{}",
        d.message
    );
    quiet("reserved_connections = 3\n", Some(16));

    let (d, place) = only("wal_keep_segments = 8\n", Some(13));
    assert_eq!((d.code, place.as_str()), ("CAT004", "wal_keep_segments"));
    assert_eq!(
        d.message,
        "`wal_keep_segments` was renamed to `wal_keep_size` in PostgreSQL 13"
    );
    let (d, _) = only("stats_temp_directory = 'x'\n", Some(15));
    assert_eq!(
        d.message,
        "`stats_temp_directory` was removed in PostgreSQL 15"
    );
    quiet("wal_keep_segments = 8\n", Some(12));
}

#[test]
fn a_directive_declares_the_major() {
    let (d, _) = only("# poolstack: postgres 15\nreserved_connections = 3\n", None);
    assert_eq!((d.code, d.severity), ("CAT003", Severity::Error));
    // The caller's major wins over the file's.
    quiet(
        "# poolstack: postgres 15\nreserved_connections = 3\n",
        Some(16),
    );
}

#[test]
fn without_a_major_findings_are_conditional() {
    let (sources, s) = run(
        "reserved_connections = 3\nwal_keep_segments = 8\nforce_parallel_mode = on\n",
        None,
    );
    let found: Vec<_> = s
        .findings
        .iter()
        .map(|d| {
            (
                d.code,
                d.severity,
                d.message.as_str(),
                at(&sources, d.primary.as_ref().unwrap()),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "CAT003",
                Severity::Info,
                "`reserved_connections` needs PostgreSQL ≥ 16: older servers refuse to start with it",
                "reserved_connections"
            ),
            (
                "CAT004",
                Severity::Error,
                "`wal_keep_segments` was renamed to `wal_keep_size` in PostgreSQL 13: every supported version (PostgreSQL 13 to 18) refuses to start with it",
                "wal_keep_segments"
            ),
            (
                "CAT004",
                Severity::Info,
                "`force_parallel_mode` exists only up to PostgreSQL 15; renamed to `debug_parallel_query` in 16",
                "force_parallel_mode"
            ),
        ]
    );
    assert!(
        s.findings
            .iter()
            .filter(|d| d.severity == Severity::Info)
            .all(|d| {
                d.help
                    .as_deref()
                    .unwrap_or_default()
                    .contains("declare the version")
            })
    );
    // Still parsed, with the newest major that has the parameter.
    assert_eq!(
        param(&s, "reserved_connections")
            .value
            .as_ref()
            .and_then(|v| v.base),
        Some(3.0)
    );
    quiet(
        "shared_buffers = 128MB\nssl_ecdh_curve = 'prime256v1'\n",
        None,
    );
}

#[test]
fn cat005_parse_traps() {
    let cases = [
        ("max_connections = 0100", "octal", "0100", "64"),
        ("max_connections = '0100'", "octal", "'0100'", "64"),
        ("max_connections = 0x64", "hexadecimal", "0x64", "100"),
        (
            "statement_timeout = '100us'",
            "rounds it to 0",
            "'100us'",
            "1ms",
        ),
        (
            "max_connections = 100.6",
            "rounds it to 101",
            "100.6",
            "101",
        ),
    ];
    for (line, message, place, help) in cases {
        let (d, p) = only(&format!("{line}\n"), Some(15));
        assert_eq!(
            (d.code, d.severity),
            ("CAT005", Severity::Warning),
            "{line}"
        );
        assert!(d.message.contains(message), "{line}: {}", d.message);
        assert_eq!(p, place, "{line}");
        assert!(d.help.unwrap_or_default().contains(help), "{line}");
    }
    let s = quiet(
        "max_connections = 100\nstatement_timeout = '1ms'\nwork_mem = 64\n",
        Some(15),
    );
    assert_eq!(
        param(&s, "max_connections")
            .value
            .as_ref()
            .and_then(|v| v.base),
        Some(100.0)
    );
}

#[test]
fn cat006_last_one_wins_across_includes() {
    // The pg_file_settings example of conf-syntax.md.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("conf.d")).expect("mkdir");
    std::fs::write(
        dir.path().join("postgresql.conf"),
        "shared_buffers = 128MB\nshared_buffers = 32MB\ninclude_dir = 'conf.d'\nwork_mem = 8MB\nwork_mem = 9MB\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("conf.d/10-a.conf"),
        "shared_buffers = 40MB\n",
    )
    .expect("write");
    let mut sources = SourceMap::default();
    let doc = read(&dir.path().join("postgresql.conf"), &mut sources).expect("read");
    let s = check(&doc, Some(15), &sources);
    let found: Vec<_> = s
        .findings
        .iter()
        .map(|d| {
            let primary = d.primary.as_ref().unwrap();
            let winner = &d.related[0].loc;
            (
                d.code,
                sources.get(primary.file).line_col(primary.span.start).line,
                sources.describe(winner),
            )
        })
        .collect();
    assert_eq!(found.len(), 3);
    assert_eq!((found[0].0, found[0].1), ("CAT006", 1));
    assert!(found[0].2.ends_with("10-a.conf:1:1"), "{}", found[0].2);
    assert_eq!(found[1].1, 2);
    assert!(
        found[2].2.ends_with("postgresql.conf:5:1"),
        "{}",
        found[2].2
    );
    assert!(s.findings[0].message.contains("shared_buffers = 40MB"));
    let sb = param(&s, "shared_buffers");
    assert_eq!(sb.value.as_ref().and_then(|v| v.base), Some(5120.0));
    assert!(sources.describe(&sb.value_loc).ends_with("10-a.conf:1:18"));
    assert_eq!(param(&s, "work_mem").raw, "9MB");
    assert_eq!(s.params.len(), 2);
}

#[test]
fn cat006_names_compare_like_postgres() {
    let (sources, s) = run(
        "sort_mem = 1MB\nWORK_MEM = 2MB\nmyext.A = 1\nMYEXT.a = 2\n",
        Some(15),
    );
    let found: Vec<_> = s
        .findings
        .iter()
        .map(|d| (d.code, at(&sources, d.primary.as_ref().unwrap())))
        .collect();
    assert_eq!(found, [("CAT006", "sort_mem"), ("CAT006", "myext.A")]);
    assert_eq!(param(&s, "work_mem").raw, "2MB");
    quiet("work_mem = 1MB\nmaintenance_work_mem = 2MB\n", Some(15));
    // An overridden value is never applied, so the server never judges it.
    let (d, _) = only("max_connections = lots\nmax_connections = 10\n", Some(15));
    assert_eq!(d.code, "CAT006");
}

#[test]
fn auto_conf_wins_through_check_all() {
    let mut sources = SourceMap::default();
    let conf = sources.add(
        Path::new("/x/postgresql.conf"),
        "shared_buffers = 64MB\n".into(),
    );
    let auto = sources.add(
        Path::new("/x/postgresql.auto.conf"),
        "shared_buffers = '48MB'\n".into(),
    );
    let conf = parse(conf, &mut sources).expect("conf");
    let auto = parse(auto, &mut sources).expect("auto");
    let s = check_all(&[&conf, &auto], Some(15), &sources);
    assert_eq!(
        param(&s, "shared_buffers")
            .value
            .as_ref()
            .and_then(|v| v.base),
        Some(6144.0)
    );
    assert_eq!(s.findings.len(), 1);
    assert_eq!(s.findings[0].code, "CAT006");
    assert_eq!(
        sources.describe(s.findings[0].primary.as_ref().unwrap()),
        "/x/postgresql.conf:1:1"
    );
}

#[test]
fn reader_findings_come_first() {
    let (_, s) = run("shared_buffers = 7 GB\nshard_buffers = 1\n", Some(15));
    let codes: Vec<_> = s.findings.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["CAT008", "CAT001"]);
}

#[test]
fn conf_text_quotes_where_postgres_needs_it() {
    let s = quiet(
        "default_text_search_config = 'pg_catalog.english'\nshared_buffers = 7GB\n\
         log_line_prefix = '%m [%p] '\nwork_mem = '1.5MB'\nsearch_path = '\"$user\", public'\n\
         cluster_name = 'it''s'\nwal_level = replica\nseq_page_cost = .5\n",
        Some(15),
    );
    let texts: Vec<_> = s.params.iter().map(|p| p.conf_text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "'pg_catalog.english'",
            "7GB",
            "'%m [%p] '",
            "'1.5MB'",
            "'\"$user\", public'",
            "'it''s'",
            "replica",
            ".5",
        ]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(text) = crate::formats::text::decode(&bytes) {
            for major in [None, Some(12), Some(18)] {
                let (sources, s) = run(&text, major);
                let locs = s.findings.iter().flat_map(|d| d.primary.iter().chain(d.related.iter().map(|r| &r.loc)))
                    .chain(s.params.iter().flat_map(|p| [&p.key_loc, &p.value_loc]));
                for loc in locs {
                    let t = &sources.get(loc.file).text;
                    prop_assert!(loc.span.end <= t.len() && loc.span.start <= loc.span.end);
                    prop_assert!(t.is_char_boundary(loc.span.start) && t.is_char_boundary(loc.span.end));
                }
            }
        }
    }

    #[test]
    fn setting_like_lines_never_panic(
        name in "(shared_buffers|max_connections|jit|wal_level|statement_timeout|x\\.y|sort_mem)",
        value in "[0-9a-zA-Z.'x${} %-]{0,12}",
    ) {
        let (_, s) = run(&format!("{name} = {value}\n{name} = {value}\n"), Some(15));
        prop_assert!(s.params.len() <= 1);
    }
}

/// A stock initdb postgresql.conf sets max_connections and shared_buffers; the rendered fragment
/// that include_dir loads after it sets them again, on purpose: an info. A hand-written fragment
/// doing the same is still a warning.
#[test]
fn cat006_is_an_info_where_poolstacks_own_fragment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("postgresql.conf"),
        "max_connections = 100\nshared_buffers = 128MB\ninclude_dir = 'conf.d'\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    let fragment = crate::formats::header::with_header(
        crate::formats::header::CommentStyle::Hash,
        "../stack.toml",
        "app",
        "max_connections = 200\nshared_buffers = '7GB'\n",
    );
    std::fs::write(dir.path().join("conf.d/50-poolstack.conf"), &fragment).unwrap();
    let findings = |dir: &Path| {
        let mut sources = SourceMap::default();
        let doc = read(&dir.join("postgresql.conf"), &mut sources).expect("read");
        let s = check(&doc, Some(16), &sources);
        s.findings
            .iter()
            .map(|d| (d.code, d.severity))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        findings(dir.path()),
        [("CAT006", Severity::Info), ("CAT006", Severity::Info)]
    );
    // Without poolstack's header, the same lines are a hand-written duplicate.
    std::fs::write(
        dir.path().join("conf.d/50-poolstack.conf"),
        "max_connections = 200\nshared_buffers = '7GB'\n",
    )
    .unwrap();
    assert_eq!(
        findings(dir.path()),
        [("CAT006", Severity::Warning), ("CAT006", Severity::Warning)]
    );
}
