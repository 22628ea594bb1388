//! Agreement with real servers on the corpus of real-world files in
//! `../shared/reference/corpus/`: what PgBouncer 1.18 and PostgreSQL 15 said when loading each
//! one ([RUN] results in `PGBOUNCER_1_18_LOAD_RESULTS.tsv` and `PG15_LOAD_RESULTS.tsv`).
//!
//! - no panic and no exit 2 on any file;
//! - a file the server rejected for a configuration reason gets an error on the same line,
//!   naming the same key where the server named one;
//! - a file rejected only by its environment (a missing include file, an absent locale, a
//!   missing conf.d) is not a configuration error: FIL004 where an include is missing, and no
//!   CAT error for PgBouncer (which reports every line it reads); PostgreSQL logs only its first
//!   failure, so later configuration errors in such a file are neither required nor excluded;
//! - a file the server accepted gets no CAT error;
//! - PostgreSQL's own effective values (shared_buffers, max_connections, work_mem) equal ours.
//!
//! The corpus is third-party data: it is read from `../shared` (or `$POOLSTACK_CORPUS`) and
//! copied only into temp dirs, never into the repository. Outside CI this test skips, loudly,
//! when the corpus is absent; in CI (`CI=true`) it must run.

use assert_cmd::Command;
use poolstack::stack::files::{self, Input, Kind, Versions};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("POOLSTACK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/corpus")
        });
    if dir
        .join("pgbouncer/PGBOUNCER_1_18_LOAD_RESULTS.tsv")
        .is_file()
    {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the corpus is missing at {} and CI=true: this test must run in CI",
        dir.display()
    );
    eprintln!(
        "SKIPPED: corpus agreement test: no corpus at {} (set POOLSTACK_CORPUS)",
        dir.display()
    );
    None
}

fn check(dir: &Path, file: &str, versions: &[&str]) -> (i32, Value) {
    let mut args = vec!["check", "--format", "json", file];
    args.extend_from_slice(versions);
    let out = Command::cargo_bin("poolstack")
        .unwrap()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(&args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "{file}: exit {code}\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{file}: not JSON ({e})"));
    (code, report)
}

fn diagnostics(report: &Value) -> Vec<Value> {
    report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn cat_errors(report: &Value) -> Vec<Value> {
    diagnostics(report)
        .into_iter()
        .filter(|d| {
            d["severity"] == "error" && d["code"].as_str().is_some_and(|c| c.starts_with("CAT"))
        })
        .collect()
}

/// The harness's transformation (see the TSV header): logfile/pidfile lines commented out and a
/// safe trailing `[pgbouncer]` block appended. Line numbers are unchanged.
fn as_loaded(text: &str) -> String {
    let mut out: String = text
        .lines()
        .map(|l| {
            let key = l.trim_start();
            if key.starts_with("logfile") || key.starts_with("pidfile") {
                format!(";{l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    out.push_str("\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = 6432\nunix_socket_dir =\n");
    out
}

/// `(file:LINE)` in the server's log, and the key it named.
fn server_said(errors: &str, file: &str) -> (Option<u64>, Option<String>) {
    let marker = format!("({file}:");
    let line = errors.find(&marker).and_then(|i| {
        let rest = &errors[i + marker.len()..];
        rest[..rest.find(')')?].parse().ok()
    });
    let key = [
        "unknown parameter: pgbouncer/",
        "unrecognized connection parameter: ",
        "unrecognized user parameter: ",
    ]
    .iter()
    .find_map(|m| {
        let i = errors.find(m)?;
        let rest = &errors[i + m.len()..];
        Some(rest.split([' ', '|']).next()?.to_string())
    });
    (line, key)
}

#[test]
fn pgbouncer_corpus_agrees_with_pgbouncer_1_18() {
    let Some(corpus) = corpus() else { return };
    let results =
        std::fs::read_to_string(corpus.join("pgbouncer/PGBOUNCER_1_18_LOAD_RESULTS.tsv")).unwrap();
    let mut checked = 0;
    for row in results
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cells: Vec<&str> = row.split('\t').collect();
        let (name, result, errors) = (cells[0], cells[1], cells.get(2).copied().unwrap_or(""));
        let dir = tempfile::tempdir().unwrap();
        let text =
            String::from_utf8_lossy(&std::fs::read(corpus.join("pgbouncer").join(name)).unwrap())
                .into_owned();
        std::fs::write(dir.path().join(name), as_loaded(&text)).unwrap();
        let (_, report) = check(dir.path(), name, &["--pgbouncer-version", "1.18"]);
        let errs = cat_errors(&report);
        let environment_only = errors.contains("could not load file");
        let (line, key) = server_said(errors, name);
        if result == "ACCEPTED" || environment_only {
            assert!(
                errs.is_empty(),
                "{name}: the server loaded it, but: {errs:#?}"
            );
            if environment_only {
                let fil = diagnostics(&report)
                    .into_iter()
                    .any(|d| d["code"] == "FIL004" && d["line"].as_u64() == line);
                assert!(fil, "{name}: no FIL004 at line {line:?}: {report:#}");
            }
        } else {
            let line = line.unwrap_or_else(|| panic!("{name}: no line in {errors}"));
            let at_line: Vec<&Value> = errs
                .iter()
                .filter(|d| d["file"] == name && d["line"].as_u64() == Some(line))
                .collect();
            assert!(
                !at_line.is_empty(),
                "{name}: the server refused line {line} ({errors}), poolstack reported {errs:#?}"
            );
            if let Some(key) = key {
                assert!(
                    at_line
                        .iter()
                        .any(|d| d["message"].as_str().is_some_and(|m| m.contains(&key))),
                    "{name}: the server named `{key}`: {at_line:#?}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 28, "only {checked} files in the results");
}

#[test]
fn postgresql_corpus_agrees_with_postgresql_15() {
    let Some(corpus) = corpus() else { return };
    let results = std::fs::read_to_string(corpus.join("postgresql/PG15_LOAD_RESULTS.tsv")).unwrap();
    let mut checked = 0;
    for row in results.lines().skip(1).filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = row.split('\t').collect();
        let (name, rc, values, first_error) = (
            cells[0],
            cells[1],
            cells.get(2).copied().unwrap_or(""),
            cells.get(3).copied().unwrap_or(""),
        );
        let dir = tempfile::tempdir().unwrap();
        // Under its own name, so that include paths resolve next to it as on the server.
        std::fs::copy(corpus.join("postgresql").join(name), dir.path().join(name)).unwrap();
        let (_, report) = check(dir.path(), name, &["--pg-version", "15"]);
        // Every failure in this corpus is environmental: a locale or a conf.d the test
        // machine lacked.
        let environmental = first_error.contains("invalid value for parameter \"lc_")
            || first_error.contains("could not open configuration directory");
        assert!(
            rc == "0" || environmental,
            "{name}: a configuration failure this test does not know: {first_error}"
        );
        // A file the server loaded has no CAT error. One it refused for its environment may
        // still hold configuration errors the server never got to (it logs the first failure
        // only), so nothing is claimed about those beyond FIL004.
        let errs = cat_errors(&report);
        if rc == "0" {
            assert!(
                errs.is_empty(),
                "{name}: PostgreSQL 15 loaded it, but: {errs:#?}"
            );
        }
        if first_error.contains("could not open configuration directory") {
            assert!(
                diagnostics(&report).iter().any(|d| d["code"] == "FIL004"),
                "{name}: no FIL004 for the missing directory: {report:#}"
            );
        }
        if rc == "0" {
            let stack = files::build(
                &[Input {
                    path: dir.path().join(name),
                    kind: Kind::PostgresqlConf,
                }],
                &Versions {
                    postgres: Some(15),
                    pgbouncer: None,
                },
                dir.path(),
            )
            .unwrap();
            let base = |n: &str| {
                stack
                    .postgres
                    .param_or_default(n)
                    .and_then(|p| p.base)
                    .map(|b| b.round() as i64)
            };
            let ours = format!(
                "{}|{}|{}|",
                base("shared_buffers").unwrap_or(-1),
                base("max_connections").unwrap_or(-1),
                base("work_mem").unwrap_or(-1)
            );
            assert_eq!(
                ours, values,
                "{name}: shared_buffers|max_connections|work_mem"
            );
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} files in the results");
}
