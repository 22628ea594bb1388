//! `[monitoring]`: what render writes under `monitoring/` is accepted by promtool (rules, unit
//! tests, scrape config) for every fixture that has the table, and every metric name the rules
//! read exists for the chosen exporter.
//!
//! promtool (Debian package `prometheus`) is installed by `.ci/run`: in CI (`CI=true`) these tests
//! fail without it; elsewhere they print SKIPPED. The exporter name tables are read from
//! `../shared/reference/monitoring/` under the same rule.

#[path = "support/promql_names.rs"]
mod promql_names;

use assert_cmd::Command;
use poolstack::render::{self, Existing, FileKind};
use poolstack::secrets::Secrets;
use poolstack::{manifest, stack};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Every fixture manifest with a `[monitoring]` table.
fn monitored_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let path = entry.unwrap().path().join("stack.toml");
        if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("\n[monitoring]")) {
            out.push(path);
        }
    }
    out.sort();
    assert!(
        out.len() >= 3,
        "expected the mt5 and monitoring-* fixtures: {out:?}"
    );
    out
}

/// The monitoring files render writes for `manifest`, by name.
fn monitoring_files(manifest_path: &Path) -> Vec<(String, String)> {
    let loaded = manifest::load(manifest_path).expect("fixture loads");
    let stack = stack::resolve::resolve(&loaded, None).expect("fixture resolves");
    let plan = render::plan(&stack, &Secrets::default(), &Existing::default()).expect("renders");
    plan.files
        .into_iter()
        .filter_map(|f| match f.kind {
            FileKind::Monitoring { file } => Some((file, f.contents)),
            _ => None,
        })
        .collect()
}

fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !in_ci(),
            "promtool is missing and CI=true: .ci/run installs the Debian package `prometheus`"
        );
        eprintln!("SKIPPED: promtool is not installed (apt-get install prometheus)");
    }
    found
}

#[test]
fn promtool_accepts_the_rules_their_tests_and_the_scrape_config_of_every_fixture() {
    let Some(promtool) = promtool() else { return };
    for manifest_path in monitored_fixtures() {
        let dir = tempfile::tempdir().unwrap();
        let files = monitoring_files(&manifest_path);
        for (name, contents) in &files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        for required in [
            "prometheus-rules.yml",
            "prometheus-rules.test.yml",
            "prometheus-scrape.yml",
            "grafana-dashboard.json",
        ] {
            assert!(
                names.contains(&required),
                "{}: no {required}",
                manifest_path.display()
            );
        }
        for args in [
            &[
                "check",
                "rules",
                "--lint=all",
                "--lint-fatal",
                "prometheus-rules.yml",
            ][..],
            &["test", "rules", "prometheus-rules.test.yml"][..],
            &["check", "config", "prometheus-scrape.yml"][..],
        ] {
            let out = std::process::Command::new(&promtool)
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: promtool {args:?} failed:\n{}\n{}",
                manifest_path.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // The dashboard is JSON Grafana imports: panels with Prometheus targets.
        let dashboard: serde_json::Value = serde_json::from_str(
            &files
                .iter()
                .find(|(n, _)| n == "grafana-dashboard.json")
                .unwrap()
                .1,
        )
        .unwrap();
        assert!(dashboard["panels"].as_array().is_some_and(|p| p.len() >= 3));
    }
}

/// A promtool unit test that cannot fail is a defect: break a threshold and promtool must
/// notice (the tests fire just above and stay silent just below).
#[test]
fn the_rendered_promtool_tests_catch_a_changed_threshold() {
    let Some(promtool) = promtool() else { return };
    let manifest_path = root().join("fixtures/mt5/stack.toml");
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in monitoring_files(&manifest_path) {
        let contents = if name == "prometheus-rules.yml" {
            assert!(contents.contains(">= 27\""), "{contents}");
            contents.replace(">= 27\"", ">= 28\"")
        } else {
            contents
        };
        std::fs::write(dir.path().join(name), contents).unwrap();
    }
    let out = std::process::Command::new(&promtool)
        .args(["test", "rules", "prometheus-rules.test.yml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a raised threshold went unnoticed");
}

/// The `expr:` of every rule in a rendered rules file (YAML double-quoted strings).
fn exprs(rules_yml: &str) -> Vec<String> {
    rules_yml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr: "))
        .map(|q| serde_json::from_str::<String>(q).expect("expr is a double-quoted string"))
        .collect()
}

fn reference(file: &str) -> Option<String> {
    let path = root().join("../shared/reference/monitoring").join(file);
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(_) => {
            assert!(
                !in_ci(),
                "{} is missing and CI=true: this test must run in CI",
                path.display()
            );
            eprintln!("SKIPPED: exporter name check: no {}", path.display());
            None
        }
    }
}

/// Metric names in a Prometheus text exposition.
fn scraped_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split(|c: char| c == '{' || c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

const LABELS: &[&str] = &[
    "database",
    "user",
    "version",
    "name",
    "host",
    "port",
    "force_user",
    "pool_mode",
    "application_name",
    "state",
    "backend_database",
];

/// `a_{x,y}_b` → a_x_b, a_y_b; a trailing `{database,user}` label set is dropped.
fn expand(s: &str) -> Vec<String> {
    let Some(open) = s.find('{') else {
        return vec![s.to_string()];
    };
    let Some(close) = s[open..].find('}').map(|c| c + open) else {
        return vec![s.to_string()];
    };
    let items: Vec<&str> = s[open + 1..close].split(',').map(str::trim).collect();
    let (prefix, suffix) = (&s[..open], &s[close + 1..]);
    if suffix.is_empty() && items.iter().all(|i| LABELS.contains(i)) {
        return expand(prefix);
    }
    items
        .iter()
        .flat_map(|i| expand(&format!("{prefix}{i}{suffix}")))
        .collect()
}

/// The names facts.md gives an exporter in `section` (e.g. "## 1."), brace lists expanded.
fn fact_names(facts: &str, section: &str, prefix: &str) -> BTreeSet<String> {
    let start = facts.find(section).expect("section");
    let end = facts[start + 3..]
        .find("\n## ")
        .map_or(facts.len(), |e| e + start + 3);
    let text = &facts[start..end];
    let lists: String = facts
        .lines()
        .find(|l| l.starts_with("- SHOW LISTS:"))
        .and_then(|l| l.split(':').nth(1))
        .map(|l| l.split('·').next().unwrap_or("").trim().replace(' ', ","))
        .unwrap_or_default();
    let mut out = BTreeSet::new();
    let mut candidates: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(cell) = line.strip_prefix("| ") {
            candidates.extend(cell.split(" |").next().map(str::to_string));
        }
        candidates.extend(line.split('`').skip(1).step_by(2).map(str::to_string));
    }
    for c in candidates {
        let c = c.replace("<12 LISTS names>", &format!("{{{lists}}}"));
        for part in c.split([';', ' ']) {
            let mut part = part.trim().to_string();
            while let Some(p) = part.find("(=") {
                match part[p..].find(')') {
                    Some(e) => part.replace_range(p..p + e + 1, ""),
                    None => break,
                }
            }
            if part.starts_with(prefix) {
                out.extend(expand(&part));
            }
        }
    }
    out
}

#[test]
fn every_metric_the_rules_read_exists_for_the_chosen_exporter() {
    let Some(facts) = reference("facts.md") else {
        return;
    };
    let Some(scrape) = reference("scrape-spreaker-2.1.2-pgbouncer-1.18.prom") else {
        return;
    };
    let spreaker = scraped_names(&scrape);
    let go = fact_names(&facts, "## 1.", "pgbouncer_");
    let cnpg = fact_names(&facts, "## 4.", "cnpg_pgbouncer_");
    assert!(
        go.contains("pgbouncer_used_clients")
            && cnpg.contains("cnpg_pgbouncer_pools_sv_wait_cancels")
    );
    assert!(spreaker.contains("pgbouncer_pools_client_waiting_connections"));
    for manifest_path in monitored_fixtures() {
        let text = std::fs::read_to_string(&manifest_path).unwrap();
        let known = if text.contains("exporter = \"spreaker\"") {
            &spreaker
        } else if text.contains("exporter = \"cnpg\"") {
            &cnpg
        } else {
            &go
        };
        let files = monitoring_files(&manifest_path);
        let rules = &files
            .iter()
            .find(|(n, _)| n == "prometheus-rules.yml")
            .unwrap()
            .1;
        let mut checked = 0;
        for expr in exprs(rules) {
            for name in promql_names::metric_names(&expr) {
                // The seed's app series are the app's own; `up` is Prometheus's.
                if name.starts_with("sqlalchemy_pool_") || name == "up" {
                    continue;
                }
                assert!(
                    known.contains(&name),
                    "{}: {name} (in `{expr}`) is not a series of the exporter",
                    manifest_path.display()
                );
                checked += 1;
            }
        }
        assert!(
            checked > 5,
            "{}: too few names checked",
            manifest_path.display()
        );
    }
}

#[test]
fn no_password_appears_in_any_monitoring_file() {
    for manifest_path in monitored_fixtures() {
        for (name, contents) in monitoring_files(&manifest_path) {
            let lower = contents.to_ascii_lowercase();
            assert!(!lower.contains("password="), "{name}");
            assert!(
                !contents.contains(":x@") && !contents.contains("PASSWORD}"),
                "{name}"
            );
        }
    }
}

#[test]
fn without_monitoring_nothing_is_rendered() {
    let files = monitoring_files(&root().join("fixtures/mt5-fixed/stack.toml"));
    assert!(files.is_empty());
}

fn check_manifest(extra: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(root().join("fixtures/mt5-fixed/stack.toml")).unwrap();
    text.push_str(extra);
    let path = dir.path().join("stack.toml");
    std::fs::write(&path, text).unwrap();
    Command::cargo_bin("poolstack")
        .unwrap()
        .args(["check", path.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn check_refuses_a_bad_monitoring_table_with_its_place() {
    for (extra, says) in [
        (
            "\n[monitoring]\nsaturation = -0.5\n",
            "saturation = -0.5 is not a share",
        ),
        ("\n[monitoring]\nexporter = \"datadog\"\n", "datadog"),
        (
            "\n[monitoring]\nexporter = \"spreaker\"\nexporter_version = \"0.12\"\n",
            "applies to the prometheus-community exporter",
        ),
        (
            "\n[monitoring]\nexporter_version = \"0.3.0\"\n",
            "0.4.0 or later",
        ),
        ("\n[monitoring]\ncheckout_buckets = [1, 0.5]\n", "ascending"),
        ("\n[monitoring]\nmaxwait = \"soon\"\n", "maxwait"),
        ("\n[monitoring]\nalerts = true\n", "alerts"),
    ] {
        let out = check_manifest(extra);
        let err = String::from_utf8_lossy(&out.stderr);
        let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(out.status.code(), Some(2), "{extra}: {all}");
        assert!(all.contains(says), "{extra}: {all}");
        assert!(all.contains("stack.toml:"), "{extra}: not located: {all}");
    }
    let ok = check_manifest("\n[monitoring]\nexporter = \"spreaker\"\n");
    assert_ne!(
        ok.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
