//! One verdict (issue 12): what `check` says about a manifest is what `render`, `import` and the
//! servers do. Each case runs the real binary on a manifest in a temporary directory.
//!
//! `manifest`: items about a manifest (check, render, tune); `files`: hand-written files and
//! import.

mod files;
mod manifest;

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("poolstack")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("APP_PASSWORD", "s3cret-pw")
        .env_remove("POSTGRES_PASSWORD")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A small stack: one app through PgBouncer; `extra` is inserted into the named table.
pub fn manifest(pg: &str, pgb: &str, rest: &str) -> String {
    format!(
        r#"[stack]
name = "verdict"

[postgres]
version = 15
{pg}

[pgbouncer]
version = "1.18"
{pgb}

[[databases]]
name = "app"

[[users]]
name = "app"
password = {{ env = "APP_PASSWORD" }}

[[apps]]
name = "api"
database = "app"
user = "app"
pool_size = 5
max_overflow = 0
{rest}"#
    )
}

pub fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("stack.toml"), text).unwrap();
}

pub fn check_json(dir: &Path) -> (Option<i32>, Value) {
    let r = run_in(dir, &["check", "--format", "json"]);
    let json = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", r.stdout, r.stderr));
    (r.code, json)
}

/// (code, line) of each finding in the manifest.
pub fn findings(report: &Value) -> Vec<(String, String, i64)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

pub fn line_of(text: &str, needle: &str) -> i64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as i64 + 1
}
