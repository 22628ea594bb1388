//! Helpers for rule tests: build a stack from manifest text and run one rule on it.

use super::{Context, FileFact};
use crate::diag::Diagnostic;
use crate::stack::Stack;
use crate::stack::budget::ServerConnectionBudget;
use std::path::Path;

/// Resolve manifest text (as if read from `stack.toml`); panics on input errors (tests only).
pub fn stack(toml: &str) -> Stack {
    let loaded = match crate::manifest::parse(Path::new("stack.toml"), toml.to_string()) {
        Ok(l) => l,
        Err(e) => panic!("test manifest does not load: {e}"),
    };
    match crate::stack::resolve::resolve(&loaded, None) {
        Ok(s) => s,
        Err(e) => panic!("test manifest does not resolve: {e}"),
    }
}

/// Findings of rule `code` on `stack`, with the given file facts.
pub fn run_with_files(code: &str, stack: &Stack, files: &[FileFact]) -> Vec<Diagnostic> {
    let cx = Context {
        stack,
        budget: ServerConnectionBudget::of(stack),
        files,
    };
    let Some(rule) = super::find(code) else {
        panic!("no rule {code}")
    };
    let Some(check) = rule.check else {
        panic!("{code} has no check function")
    };
    let mut out = Vec::new();
    check(&cx, &mut out);
    out
}

/// Findings of rule `code` on the stack described by `toml`.
pub fn run(code: &str, toml: &str) -> Vec<Diagnostic> {
    run_with_files(code, &stack(toml), &[])
}

/// 1-based line of a diagnostic's primary location (0 when it has none).
pub fn line(stack: &Stack, d: &Diagnostic) -> usize {
    d.primary
        .as_ref()
        .map(|l| stack.sources.get(l.file).line_col(l.span.start).line)
        .unwrap_or(0)
}

/// The text a diagnostic's primary location points at.
pub fn pointed_text<'a>(stack: &'a Stack, d: &Diagnostic) -> &'a str {
    d.primary
        .as_ref()
        .and_then(|l| stack.sources.get(l.file).text.get(l.span.clone()))
        .unwrap_or("")
}

/// A small healthy stack (PgBouncer 1.22 transaction pooling, SCRAM, one psycopg app) on which
/// every rule must stay silent; tests modify it to make one rule fire.
pub const HEALTHY: &str = r#"
[stack]
name = "healthy"

[postgres]
version = 16
host = "db"
memory = "16GB"
cpus = 4
max_connections = 100

[postgres.settings]
shared_buffers = "4GB"
effective_cache_size = "12GB"
work_mem = "16MB"
maintenance_work_mem = "1GB"
idle_in_transaction_session_timeout = "5min"

[pgbouncer]
version = "1.22"
host = "pgbouncer"
pool_mode = "transaction"
max_client_conn = 200
default_pool_size = 20
reserve_pool_size = 5
max_db_connections = 40

[[databases]]
name = "app"

[[users]]
name = "app"
password = { env = "APP_PASSWORD" }

[[apps]]
name = "api"
replicas = 2
processes = 2
database = "app"
user = "app"
pool_size = 5
max_overflow = 5
pre_ping = true
"#;

/// Codes of the rules of `families` (code prefixes such as "CON") that report anything on the
/// stack described by `toml`, in registry order; rules without a check function are skipped.
pub fn firing(families: &[&str], toml: &str) -> Vec<&'static str> {
    let stack = stack(toml);
    super::registry()
        .filter(|r| r.check.is_some() && families.iter().any(|f| r.code.starts_with(f)))
        .filter(|r| !run_with_files(r.code, &stack, &[]).is_empty())
        .map(|r| r.code)
        .collect()
}

/// 1-based number of the first line of `toml` that contains `needle` (panics when none does).
pub fn line_of(toml: &str, needle: &str) -> usize {
    match toml.lines().position(|l| l.contains(needle)) {
        Some(i) => i + 1,
        None => panic!("no line contains {needle:?}"),
    }
}

/// HEALTHY with the first `from` replaced by `to` (panics when HEALTHY has no `from`).
pub fn healthy_with(from: &str, to: &str) -> String {
    assert!(HEALTHY.contains(from), "HEALTHY has no `{from}`");
    HEALTHY.replacen(from, to, 1)
}

/// The only finding of `code` on `toml`, with its stack (panics unless there is exactly one).
pub fn only(code: &str, toml: &str) -> (Stack, Diagnostic) {
    let stack = stack(toml);
    let mut found = run_with_files(code, &stack, &[]);
    assert_eq!(found.len(), 1, "{code}: {found:#?}");
    let d = found.remove(0);
    assert_eq!(d.code, code);
    (stack, d)
}
