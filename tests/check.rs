//! `poolstack check`, `rules`, `explain`: exit codes, every output format, suppressions — run
//! through the real binary from the repository root, so every path in the output is relative.
//!
//! Hand-written files (`check pgbouncer.ini …`) have their own suite: tests/check_files.rs.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn poolstack() -> Command {
    let mut c = Command::cargo_bin("poolstack").unwrap();
    c.env("NO_COLOR", "1")
        .env_remove("POSTGRES_PASSWORD")
        .env_remove("APP_PASSWORD")
        .current_dir(root());
    c
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = poolstack().args(args).output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn check_json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(&all);
    let json = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", r.stdout, r.stderr));
    (r.code, json)
}

fn codes(report: &Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

const MT5: &str = "fixtures/mt5/stack.toml";
const FINDINGS: &str = "fixtures/check/findings/stack.toml";

/// A SARIF report with `driver.rules` cut to the first descriptor and the ids of the others: the
/// rules' documentation is guarded by `rules`/`explain` tests, and would churn these snapshots.
fn sarif_for_snapshot(text: &str) -> String {
    let mut sarif: Value = serde_json::from_str(text).unwrap();
    let rules = &mut sarif["runs"][0]["tool"]["driver"]["rules"];
    let list = rules.as_array().unwrap();
    let mut cut = vec![list[0].clone()];
    cut.extend(list[1..].iter().map(|r| r["id"].clone()));
    *rules = Value::Array(cut);
    serde_json::to_string_pretty(&sarif).unwrap()
}

/// `check MANIFEST` in every format, as snapshots `{prefix}_{format}`; returns the exit codes.
fn snapshot_every_format(manifest: &str, prefix: &str) -> Vec<Option<i32>> {
    let mut codes = Vec::new();
    for format in ["human", "json", "sarif", "github"] {
        let r = run(&["check", manifest, "--format", format]);
        assert_eq!(r.stderr, "", "{format}");
        let shown = if format == "sarif" {
            sarif_for_snapshot(&r.stdout)
        } else {
            r.stdout
        };
        insta::assert_snapshot!(format!("{prefix}_{format}"), shown);
        codes.push(r.code);
    }
    codes
}

#[test]
fn every_format_of_the_mt5_stack() {
    // 0 today; 1 once the rules that catch the seed document's mistakes land.
    for code in snapshot_every_format(MT5, "mt5") {
        assert!(matches!(code, Some(0 | 1)), "{code:?}");
    }
}

#[test]
fn every_format_of_findings_with_related_places() {
    assert_eq!(snapshot_every_format(FINDINGS, "findings"), [Some(1); 4]);
}

#[test]
fn json_report_has_every_key_with_one_based_positions() {
    let (code, report) = check_json(&[FINDINGS]);
    assert_eq!(code, Some(1));
    assert_eq!(report["version"], 1);
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    for d in diags {
        for key in [
            "code",
            "severity",
            "message",
            "help",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "related",
        ] {
            assert!(d.get(key).is_some(), "missing {key} in {d}");
        }
    }
    // The CAT001 finding points at `shard_buffers` on line 20.
    let unknown = diags.iter().find(|d| d["code"] == "CAT001").unwrap();
    assert_eq!(unknown["file"], FINDINGS);
    assert_eq!(unknown["line"], 20);
    assert_eq!(unknown["column"], 1);
    assert_eq!(unknown["end_line"], 20);
    assert_eq!(unknown["end_column"], 14);
    // The duplicate names the first place in `related`.
    let dup = diags.iter().find(|d| d["code"] == "CAT006").unwrap();
    let related = dup["related"].as_array().unwrap();
    assert_eq!(related[0]["file"], FINDINGS);
    assert_eq!(related[0]["line"], 16);
    let s = &report["summary"];
    let count = |sev: &str| diags.iter().filter(|d| d["severity"] == sev).count();
    assert_eq!(s["errors"], count("error"));
    assert_eq!(s["warnings"], count("warning"));
    assert_eq!(s["infos"], count("info"));
}

/// What GitHub code scanning requires of an upload (../shared/reference/sarif-min.json).
fn assert_github_accepts(sarif: &Value) {
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &sarif["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "poolstack");
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    assert!(!driver["version"].as_str().unwrap().is_empty());
    let rules = driver["rules"].as_array().unwrap();
    let mut ids = BTreeSet::new();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        assert!(ids.insert(id.to_string()), "rule {id} listed twice");
        assert!(!rule["name"].as_str().unwrap().is_empty(), "{id}");
        for text in ["shortDescription", "fullDescription", "help"] {
            assert!(
                !rule[text]["text"].as_str().unwrap().is_empty(),
                "{id}: {text}"
            );
        }
        assert!(
            ["error", "warning", "note"]
                .contains(&rule["defaultConfiguration"]["level"].as_str().unwrap()),
            "{id}"
        );
    }
    for code in poolstack::rules::registry().map(|r| r.code) {
        assert!(ids.contains(code), "{code} missing from driver.rules");
    }
    for result in run["results"].as_array().unwrap() {
        let id = result["ruleId"].as_str().unwrap();
        assert!(
            ids.contains(id),
            "result's ruleId {id} is not in driver.rules"
        );
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        // GitHub rejects the whole upload when one result has no location.
        let locations = result["locations"].as_array().unwrap();
        assert!(!locations.is_empty(), "{result}");
        for loc in locations
            .iter()
            .chain(result["relatedLocations"].as_array().into_iter().flatten())
        {
            let physical = &loc["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                !uri.starts_with('/') && !uri.contains('\\') && !uri.starts_with("./"),
                "{uri}"
            );
            let region = &physical["region"];
            assert!(region["startLine"].as_u64().unwrap() >= 1);
            if let Some(col) = region["startColumn"].as_u64() {
                assert!(col >= 1);
                assert!(
                    region["endLine"].as_u64().unwrap() >= region["startLine"].as_u64().unwrap()
                );
                assert!(region["endColumn"].as_u64().unwrap() >= 1);
            }
        }
    }
}

#[test]
fn sarif_has_everything_github_code_scanning_requires() {
    for manifest in [MT5, FINDINGS, "fixtures/bad/unknown-key.toml"] {
        let r = run(&["check", manifest, "--format", "sarif"]);
        let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_github_accepts(&sarif);
    }
    let r = run(&["check", FINDINGS, "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let dup = results.iter().find(|r| r["ruleId"] == "CAT006").unwrap();
    assert_eq!(dup["level"], "warning");
    assert_eq!(
        dup["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        FINDINGS
    );
}

#[test]
fn exit_codes_0_1_2() {
    let r = run(&["check", "fixtures/check/healthy/stack.toml"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(
        r.stdout.ends_with("0 errors, 0 warnings, 0 infos\n"),
        "{}",
        r.stdout
    );

    let r = run(&["check", "fixtures/bad/catalog-errors.toml"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.contains("error[CAT001]"), "{}", r.stdout);

    let r = run(&["check", "fixtures/bad/unknown-key.toml"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .contains("error[INPUT] at fixtures/bad/unknown-key.toml:9:1")
    );
    assert_eq!(r.stdout, "");

    // No path: ./stack.toml.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/check/healthy/stack.toml"),
        dir.path().join("stack.toml"),
    )
    .unwrap();
    let out = poolstack()
        .current_dir(dir.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let out = poolstack()
        .current_dir(dir.path().parent().unwrap())
        .arg("check")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a directory means its stack.toml"
    );
}

#[test]
fn input_errors_are_printed_in_the_chosen_format() {
    let bad = "fixtures/bad/unknown-key.toml";
    let (code, report) = check_json(&[bad]);
    assert_eq!(code, Some(2));
    let d = &report["diagnostics"][0];
    assert_eq!(d["code"], "INPUT");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], bad);
    assert_eq!(d["line"], 9);
    assert_eq!(d["help"], "did you mean `max_client_conn`?");
    assert_eq!(report["summary"]["errors"], 1);

    let r = run(&["check", bad, "--format", "sarif"]);
    assert_eq!(r.code, Some(2));
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "INPUT");

    let r = run(&["check", bad, "--format", "github"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stdout.starts_with(
            "::error file=fixtures/bad/unknown-key.toml,line=9,col=1,endLine=9,endColumn=23,title=INPUT::unknown key `max_client_connections`"
        ),
        "{}",
        r.stdout
    );

    // An unreadable path has no place: JSON nulls, a github line without file=, SARIF anchored
    // at the path given.
    let (code, report) = check_json(&["fixtures/nope/stack.toml"]);
    assert_eq!(code, Some(2));
    let d = &report["diagnostics"][0];
    for key in ["file", "line", "column", "end_line", "end_column"] {
        assert!(d[key].is_null(), "{key}: {d}");
    }
    assert_eq!(d["related"], serde_json::json!([]));
    let r = run(&["check", "fixtures/nope/stack.toml", "--format", "github"]);
    assert!(
        r.stdout
            .starts_with("::error title=INPUT::cannot read manifest"),
        "{}",
        r.stdout
    );
    let r = run(&["check", "fixtures/nope/stack.toml", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_github_accepts(&sarif);
}

#[test]
fn bad_flags_are_input_errors_in_the_chosen_format() {
    let (code, report) = check_json(&[FINDINGS, "--fail-on", "eror"]);
    assert_eq!(code, Some(2));
    let d = &report["diagnostics"][0];
    assert_eq!(d["code"], "INPUT");
    assert!(d["message"].as_str().unwrap().contains("'eror'"), "{d}");
    assert!(
        d["help"].as_str().unwrap().contains("error, warning"),
        "{d}"
    );

    let r = run(&["check", "--format=sarif", "--bogus"]);
    assert_eq!(r.code, Some(2));
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "INPUT");

    let r = run(&["check", "--bogus"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--bogus"), "{}", r.stderr);
    assert_eq!(r.stdout, "");

    let r = run(&["check", "--help"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("--fail-on"));
}

#[test]
fn missing_config_files_are_input_errors_and_versions_belong_to_files() {
    for format in ["human", "json"] {
        let r = run(&[
            "check",
            "nowhere/pgbouncer.ini",
            "nowhere/postgresql.conf",
            "--format",
            format,
        ]);
        assert_eq!(r.code, Some(2));
        let shown = if format == "human" {
            &r.stderr
        } else {
            &r.stdout
        };
        assert!(
            shown.contains("cannot read nowhere/pgbouncer.ini: no such file"),
            "{shown}"
        );
    }
    // The version flags describe hand-written files; a manifest declares its own.
    let r = run(&["check", MT5, "--pg-version", "15"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr
            .contains("--pg-version is for hand-written config files"),
        "{}",
        r.stderr
    );
}

#[test]
fn select_ignore_and_fail_on() {
    let (_, all) = check_json(&[FINDINGS]);
    let all = codes(&all);
    assert!(all.contains(&"CAT001".to_string()) && all.contains(&"CAT006".to_string()));

    let (code, only) = check_json(&[FINDINGS, "--select", "CAT006"]);
    assert_eq!(codes(&only), ["CAT006"]);
    assert_eq!(code, Some(0), "a warning alone does not fail");

    let (_, rest) = check_json(&[FINDINGS, "--ignore", "CAT001,CAT002", "--ignore", "cat006"]);
    let rest = codes(&rest);
    assert!(
        !rest
            .iter()
            .any(|c| ["CAT001", "CAT002", "CAT006"].contains(&c.as_str())),
        "{rest:?}"
    );

    let warnings = "fixtures/check/warnings/stack.toml";
    assert_eq!(run(&["check", warnings]).code, Some(0));
    assert_eq!(
        run(&["check", warnings, "--fail-on", "warning"]).code,
        Some(1)
    );
    assert_eq!(
        run(&[
            "check",
            warnings,
            "--fail-on",
            "warning",
            "--ignore",
            "CAT006"
        ])
        .code,
        Some(0)
    );

    let r = run(&["check", FINDINGS, "--select", "CON02"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("there is no rule `CON02`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `CON002`?"), "{}", r.stderr);
}

#[test]
fn a_lint_ignore_entry_that_suppresses_nothing_is_lnt001_at_its_line() {
    let manifest = "fixtures/check/lint-ignore/stack.toml";
    let (code, report) = check_json(&[manifest]);
    assert_eq!(code, Some(0), "{report}");
    let diags = report["diagnostics"].as_array().unwrap();
    assert!(
        !codes(&report).contains(&"CAT006".to_string()),
        "used entry suppresses"
    );
    let unused: Vec<&Value> = diags.iter().filter(|d| d["code"] == "LNT001").collect();
    assert_eq!(unused.len(), 1, "{report}");
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let line = text.lines().position(|l| l.contains("\"LIV001\"")).unwrap() + 1;
    assert_eq!(unused[0]["file"], manifest);
    assert_eq!(unused[0]["line"], line);
    assert_eq!(unused[0]["column"], 3);
    assert!(unused[0]["message"].as_str().unwrap().contains("LIV001"));

    // --select that leaves LNT001 out shows no LNT001, and the used entry still counts as used.
    let (_, report) = check_json(&[manifest, "--select", "CAT001"]);
    assert_eq!(codes(&report), Vec::<String>::new());
}

#[test]
fn render_counts_findings_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/check/warnings/stack.toml"),
        dir.path().join("stack.toml"),
    )
    .unwrap();
    let out = poolstack()
        .current_dir(dir.path())
        .env("APP_PASSWORD", "pw")
        .arg("render")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "findings do not change render's exit"
    );
    assert!(
        stdout.contains("poolstack: rendered with 1 warning; run `poolstack check` for details"),
        "{stdout}"
    );
}

#[test]
fn rules_lists_every_rule() {
    let r = run(&["rules"]);
    assert_eq!(r.code, Some(0));
    insta::assert_snapshot!("rules", r.stdout);
    let lines: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(lines.len(), poolstack::rules::registry().count());
    for rule in poolstack::rules::registry() {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(rule.code) && l.contains(rule.name)),
            "{} missing",
            rule.code
        );
    }
}

#[test]
fn rule_codes_are_unique_and_well_formed() {
    let mut seen = BTreeSet::new();
    for rule in poolstack::rules::registry() {
        let c = rule.code.as_bytes();
        assert!(
            c.len() == 6
                && c[..3].iter().all(u8::is_ascii_uppercase)
                && c[3..].iter().all(u8::is_ascii_digit),
            "{} does not match ^[A-Z]{{3}}\\d{{3}}$",
            rule.code
        );
        assert!(seen.insert(rule.code), "{} is registered twice", rule.code);
        assert!(
            rule.name
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-'),
            "{}: name {} is not kebab-case",
            rule.code,
            rule.name
        );
    }
}

#[test]
fn explain_a_rule() {
    let r = run(&["explain", "CAT001"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.starts_with("CAT001 unknown-setting (error)\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("ERROR unknown parameter: pgbouncer/max_client_connections")
    );
    assert!(r.stdout.contains("How to fix:"));
    // Lower case and the rule's name work too.
    let r = run(&["explain", "liv004"]);
    assert!(r.stdout.starts_with("LIV004 live-secret-mismatch (error)"));
    let r = run(&["explain", "duplicate-setting"]);
    assert!(r.stdout.starts_with("CAT006"));

    let r = run(&["explain", "CAT01"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("there is no rule `CAT01`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `CAT001`?"), "{}", r.stderr);
}

#[test]
fn explain_a_setting_set_in_the_manifest() {
    let r = run(&["explain", "Shared_Buffers", MT5]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "shared_buffers = '7GB'\nset in fixtures/mt5/stack.toml:28:18\n"
    );
    let r = run(&["explain", "pgbouncer.default_pool_size", MT5]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.ends_with("set in fixtures/mt5/stack.toml:43:21\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn explain_a_derived_setting() {
    // MT5 declares memory = "28GB" and cpus = 8 but no effective_io_concurrency.
    let r = run(&["explain", "effective_io_concurrency", MT5]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.starts_with(
            "effective_io_concurrency = 200\nderived: ssd storage on Linux: hdd 2, ssd 200, san 300, nvme 1000\n  from fixtures/mt5/stack.toml:18:10: memory = \"28GB\"\n"
        ),
        "{}",
        r.stdout
    );
    let r = run(&[
        "explain",
        "shared_buffers",
        "fixtures/no-pgbouncer/stack.toml",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(r.stdout.contains("derived: 25% of"), "{}", r.stdout);
    assert!(r.stdout.contains(": memory = "), "{}", r.stdout);
}

#[test]
fn explain_a_default() {
    let r = run(&["explain", "statement_timeout", MT5]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "statement_timeout = 0\ndefault: PostgreSQL 16's built-in default (neither set in the manifest nor derived)\n"
    );
    let r = run(&["explain", "server_check_delay", MT5]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout.contains("default: not set: PgBouncer's default"),
        "{}",
        r.stdout
    );
    let r = run(&["explain", "apps.api.replicas", MT5]);
    assert_eq!(
        r.stdout,
        "apps.api.replicas = 1\nset in fixtures/mt5/stack.toml:74:12\n"
    );
}

#[test]
fn explain_an_unknown_name() {
    let r = run(&["explain", "shared_bufers", MT5]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains("did you mean `shared_buffers`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn cat_and_liv_rules_are_documented() {
    for rule in poolstack::rules::registry()
        .filter(|r| r.code.starts_with("CAT") || r.code.starts_with("LIV"))
    {
        assert!(!rule.summary.is_empty(), "{}", rule.code);
        for part in ["Why it matters:", "How to fix:"] {
            assert!(rule.doc.contains(part), "{}: no {part:?}", rule.code);
        }
    }
}

#[test]
fn pre_commit_hooks_name_both_commands() {
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    for needle in [
        "id: poolstack-check",
        "entry: poolstack check",
        "id: poolstack-render-check",
        "entry: poolstack render --check",
        "pass_filenames: false",
    ] {
        assert!(hooks.contains(needle), "{needle}");
    }
    assert!(Path::new(&root().join("scripts/bench-check")).exists());
}

/// check builds the monitoring files only when their directory exists (nothing else reads them),
/// and then still reports one edited by hand.
#[test]
fn rendered_monitoring_files_are_compared_when_they_are_there() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/mt5/stack.toml"),
        dir.path().join("stack.toml"),
    )
    .unwrap();
    let manifest = dir.path().join("stack.toml");
    let manifest = manifest.to_str().unwrap();
    let rendered = poolstack()
        .env("POSTGRES_PASSWORD", "pw")
        .args(["render", manifest])
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    let rules = dir.path().join("monitoring/prometheus-rules.yml");
    let text = std::fs::read_to_string(&rules).unwrap();
    let (_, before) = check_json(&[manifest]);
    assert!(!codes(&before).contains(&"FIL002".to_string()), "{before}");
    std::fs::write(&rules, text.replacen("for: ", "for:  ", 1)).unwrap();
    let (_, after) = check_json(&[manifest]);
    let edited: Vec<&Value> = after["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "FIL002" || d["code"] == "FIL001")
        .collect();
    assert!(
        edited.iter().any(|d| d["message"]
            .as_str()
            .unwrap_or("")
            .contains("prometheus-rules.yml")),
        "{after}"
    );
    // Without the directory, nothing about monitoring files.
    std::fs::remove_dir_all(dir.path().join("monitoring")).unwrap();
    let (_, gone) = check_json(&[manifest]);
    assert!(!gone.to_string().contains("prometheus-rules.yml"), "{gone}");
}
