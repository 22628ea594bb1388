//! Every registered rule on the seed's MT5 stack (fixtures/mt5) and on its corrected version
//! (fixtures/mt5-fixed). Only the PRE, AUT, NET, FIL and LNT families are asserted here: the
//! other families have tests of their own.

use poolstack::diag::Diagnostic;
use poolstack::rules::{self, Context, Policy};
use poolstack::stack::Stack;
use poolstack::stack::budget::ServerConnectionBudget;
use poolstack::{manifest, stack};
use std::path::Path;

const FAMILIES: &[&str] = &["PRE", "AUT", "NET", "FIL", "LNT"];

fn load(fixture: &str) -> Stack {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture)
        .join("stack.toml");
    let loaded = manifest::load(&path).expect("fixture loads");
    stack::resolve::resolve(&loaded, None).expect("fixture resolves")
}

/// (code, line, message) of every finding of our families, after the default policy.
fn findings(stack: &Stack) -> Vec<(&'static str, usize, String)> {
    let cx = Context {
        stack,
        budget: ServerConnectionBudget::of(stack),
        files: &[],
    };
    let diags: Vec<Diagnostic> = rules::apply(rules::run(&cx), &Policy::default());
    diags
        .into_iter()
        .filter(|d| FAMILIES.iter().any(|f| d.code.starts_with(f)))
        .map(|d| {
            let line = d
                .primary
                .as_ref()
                .map(|l| stack.sources.get(l.file).line_col(l.span.start).line)
                .unwrap_or(0);
            (d.code, line, d.message)
        })
        .collect()
}

/// 1-based line of the first line starting with `key` in the fixture.
fn line_of(stack: &Stack, key: &str) -> usize {
    let (_, file) = stack
        .sources
        .files()
        .next()
        .expect("the manifest is a source");
    file.text
        .lines()
        .position(|l| l.starts_with(key))
        .map(|i| i + 1)
        .expect("key in fixture")
}

#[test]
fn mt5_reports_the_documents_mistakes() {
    let stack = load("mt5");
    let found = findings(&stack);
    let mut got: Vec<(&str, usize)> = found.iter().map(|(c, l, _)| (*c, *l)).collect();
    got.sort();
    let threshold = line_of(&stack, "prepare_threshold");
    let auth_type = line_of(&stack, "auth_type");
    let userlist_hash = line_of(&stack, "userlist_hash");
    let mut want = vec![
        // psycopg prepares (threshold 0) through PgBouncer 1.21 with max_prepared_statements = 0.
        ("PRE001", threshold),
        // DB_PREPARE_THRESHOLD=0 does not disable: it prepares every query.
        ("PRE002", threshold),
        // md5 userlist in front of a role PostgreSQL 16 stores as SCRAM (role = false).
        ("AUT002", userlist_hash),
        // md5 auth_type and md5 userlist on PostgreSQL 16.
        ("AUT003", auth_type),
        ("AUT003", userlist_hash),
    ];
    want.sort();
    assert_eq!(got, want, "{found:#?}");

    let message = |code: &str| {
        found
            .iter()
            .find(|(c, ..)| *c == code)
            .map(|(.., m)| m.as_str())
            .unwrap_or("")
    };
    let manifest_line = |key: &str| format!("stack.toml:{})", line_of(&stack, key));
    assert!(message("PRE001").contains(&format!(
        "PgBouncer 1.21 (fixtures/mt5/{}",
        manifest_line("version = \"1.21\"")
    )));
    assert!(message("PRE001").contains(&format!(
        "max_prepared_statements = 0 (fixtures/mt5/{}",
        manifest_line("max_prepared_statements")
    )));
    assert!(message("PRE001").contains("\"_pg3_0\" does not exist"));
    assert!(message("AUT002").contains("server login failed: wrong password type"));
    assert!(message("AUT002").contains("role managed elsewhere"));
}

#[test]
fn mt5_fixed_has_no_findings_of_these_families() {
    let stack = load("mt5-fixed");
    assert!(stack.findings.is_empty(), "{:?}", stack.findings);
    let found = findings(&stack);
    assert!(found.is_empty(), "{found:#?}");
}
