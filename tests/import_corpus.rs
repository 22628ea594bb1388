//! Round trip over the third-party corpus: every pgbouncer.ini PgBouncer 1.18 accepted and every
//! postgresql.conf PostgreSQL 15 loaded is imported, rendered and read back, and must keep its
//! effective settings. Files are copied into a temporary directory (the corpus is third-party
//! data and never enters the repository). Files that cannot round-trip for a real reason are
//! listed in [`ALLOWED`] with the reason; an allowed file that starts passing fails the test, so
//! the list stays true.
//!
//! The corpus is `../shared/reference/corpus` next to the repository, or `$POOLSTACK_CORPUS`.
//! Without it the test fails in CI (`CI=true`) and is skipped loudly elsewhere.

mod support;

use poolstack::catalog::pgbouncer::PgbVersion;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::roundtrip;

/// Why a corpus file cannot round-trip, and the mark every difference it causes carries (a
/// difference without it fails the test: an allowed file may not hide another problem).
struct Reason {
    why: &'static str,
    differs: &'static str,
}

/// A `[databases]` entry with `password=`: import never writes a secret, and a manifest's
/// connection-string settings have no env reference to hold one.
const PASSWORD: Reason = Reason {
    why: "a [databases] password= is a secret: import never writes it, and [[databases]] settings cannot refer to one",
    differs: ": password: ",
};
/// `unix_socket_dir =` (empty) switches PgBouncer's unix socket off; the manifest's
/// `unix_socket_dir = ""` means "not set" (PgBouncer's /tmp), and `[pgbouncer.settings]` may not
/// repeat a first-class key.
const NO_SOCKET: Reason = Reason {
    why: "unix_socket_dir = (empty: no unix socket) cannot be expressed: the manifest's empty unix_socket_dir means not set",
    differs: "[pgbouncer] unix_socket_dir: ",
};

/// Corpus files that cannot round-trip, with the reasons.
const ALLOWED: &[(&str, &[Reason])] = &[
    (
        "pgbouncer/DaniilSokolyuk__pgbouncer-options__pgbouncer.ini",
        &[PASSWORD, NO_SOCKET],
    ),
    (
        "pgbouncer/Dhiraj123-star__flask-pgbouncer__pgbouncer_pgbouncer.ini",
        &[PASSWORD],
    ),
    (
        "pgbouncer/HassanAbass__docker-pg-bouncer__pgbouncer.ini",
        &[NO_SOCKET],
    ),
    (
        "pgbouncer/alpha-strike-space__PostgreSQL-Configuration__pool_pgbouncer.ini",
        &[PASSWORD],
    ),
    (
        "pgbouncer/edoburu__docker-pgbouncer__examples_kubernetes_multiuser_pgbouncer.ini",
        &[NO_SOCKET],
    ),
    (
        "pgbouncer/pgbouncer__pgbouncer__test_ctest7000.ini",
        &[PASSWORD],
    ),
    (
        "pgbouncer/pgbouncer__pgbouncer__test_test__at_1.18.0.ini",
        &[PASSWORD],
    ),
];

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("POOLSTACK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/corpus")
        });
    if dir.join("pgbouncer").is_dir() && dir.join("postgresql").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the corpus is not at {}: set POOLSTACK_CORPUS",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: import corpus round trip: no corpus at {} (set POOLSTACK_CORPUS)",
        dir.display()
    );
    None
}

/// The files of a load-results table whose second column is `ok`.
fn listed(table: &Path, ok: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(table).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let file = cols.next()?;
            (cols.next()? == ok).then(|| file.to_string())
        })
        .collect()
}

/// Copy one corpus file into a fresh temporary directory under `name` and round-trip it.
fn one(source: &Path, name: &str, flags: &[&str], pgb: Option<PgbVersion>) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::copy(source, tmp.path().join(name)).map_err(|e| e.to_string())?;
    roundtrip::round_trip(tmp.path(), &[name], flags, pgb, 15).map(|_| ())
}

#[test]
fn accepted_corpus_files_round_trip() {
    let Some(corpus) = corpus() else {
        return;
    };
    let v118 = PgbVersion::parse("1.18");
    let mut results: BTreeMap<String, Result<(), String>> = BTreeMap::new();
    let pgb_dir = corpus.join("pgbouncer");
    for file in listed(&pgb_dir.join("PGBOUNCER_1_18_LOAD_RESULTS.tsv"), "ACCEPTED") {
        let flags = ["--pgbouncer-version", "1.18", "--pg-version", "15"];
        let r = one(&pgb_dir.join(&file), "pgbouncer.ini", &flags, v118);
        results.insert(format!("pgbouncer/{file}"), r);
    }
    let pg_dir = corpus.join("postgresql");
    for file in listed(&pg_dir.join("PG15_LOAD_RESULTS.tsv"), "0") {
        let r = one(
            &pg_dir.join(&file),
            "postgresql.conf",
            &["--pg-version", "15"],
            None,
        );
        results.insert(format!("postgresql/{file}"), r);
    }
    assert!(
        results.len() >= 30,
        "the corpus lists {} files",
        results.len()
    );

    let mut problems = Vec::new();
    for (file, result) in &results {
        let allowed = ALLOWED.iter().find(|(f, _)| f == file).map(|(_, r)| *r);
        match (result, allowed) {
            (Ok(()), None) => eprintln!("round trip ok: {file}"),
            (Ok(()), Some(_)) => {
                problems.push(format!("{file} round-trips now: remove it from ALLOWED"))
            }
            (Err(why), Some(reasons)) => {
                let unexplained: Vec<&str> = why
                    .lines()
                    .filter(|l| !reasons.iter().any(|r| l.contains(r.differs)))
                    .collect();
                if unexplained.is_empty() {
                    for r in reasons {
                        eprintln!("allowed: {file}: {}", r.why);
                    }
                } else {
                    problems.push(format!(
                        "{file} (allowed for another reason):\n  {}",
                        unexplained.join("\n  ")
                    ));
                }
            }
            (Err(why), None) => problems.push(format!("{file}:\n  {}", why.replace('\n', "\n  "))),
        }
    }
    for (file, _) in ALLOWED {
        assert!(
            results.contains_key(*file),
            "ALLOWED names {file}, which the corpus does not list"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
