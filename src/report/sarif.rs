//! SARIF 2.1.0 as GitHub code scanning accepts it (`../reference/sarif-min.json`): every rule of
//! the registry in `tool.driver.rules`, one result per diagnostic with a relative, forward-slash
//! artifact URI and a 1-based region. Info findings are `note`s.

use super::{Position, Report};
use crate::diag::{Diagnostic, Severity};
use crate::rules::{self, Rule};
use serde_json::{Value, json};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the tool is documented; follows `repository` in Cargo.toml once it is set.
const INFORMATION_URI: &str = if env!("CARGO_PKG_REPOSITORY").is_empty() {
    "https://example.invalid/poolstack"
} else {
    env!("CARGO_PKG_REPOSITORY")
};

pub fn report(r: &Report<'_>) -> String {
    document(&[r])
}

/// Many stacks (`check PATH...`): one run holding every stack's results, each placeless one
/// anchored at its own stack's subject.
pub fn stacks(s: &super::stacks::Stacks<'_>) -> String {
    let reports: Vec<&Report<'_>> = s.stacks.iter().map(|st| &st.report).collect();
    document(&reports)
}

fn document(reports: &[&Report<'_>]) -> String {
    let mut ids: Vec<&str> = rules::registry().map(|rule| rule.code).collect();
    let mut descriptors: Vec<Value> = rules::registry().map(rule_descriptor).collect();
    // Codes that are not rules (INPUT) still need a descriptor: GitHub requires every ruleId to be listed.
    for d in reports.iter().flat_map(|r| r.diagnostics) {
        if !ids.contains(&d.code) {
            ids.push(d.code);
            descriptors.push(extra_descriptor(d));
        }
    }
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| {
            r.diagnostics
                .iter()
                .map(|d| result(r, d, ids.iter().position(|id| *id == d.code)))
                .collect::<Vec<_>>()
        })
        .collect();
    let budget = reports.iter().find_map(|r| r.budget);
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "poolstack",
                    "informationUri": INFORMATION_URI,
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": descriptors,
                }
            },
            // Columns count characters, as editors do.
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut doc = doc;
    // doctor: connection use against the budget, as a run property (SARIF's place for extras).
    if let (Some(b), Some(run)) = (budget, doc["runs"].get_mut(0)) {
        run["properties"] = json!({ "budget": { "used": b.used, "active": b.active, "idle": b.idle, "capacity": b.capacity } });
    }
    // Rules that could not run (no version declared for hand-written files): SARIF's place for
    // what the tool says about its own run.
    let skipped: Vec<Value> = reports
        .iter()
        .flat_map(|r| r.skipped)
        .map(|s| {
            json!({
                "level": "note",
                "message": { "text": crate::rules::skipped::describe(s) },
            })
        })
        .collect();
    if let (false, Some(run)) = (skipped.is_empty(), doc["runs"].get_mut(0)) {
        run["invocations"] = json!([{
            "executionSuccessful": true,
            "toolExecutionNotifications": skipped,
        }]);
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_descriptor(rule: &Rule) -> Value {
    let short = non_empty(rule.summary, rule.name);
    let full = non_empty(rule.doc.split("\n\n").next().unwrap_or(""), short);
    // The documentation is wrapped for terminals; GitHub wraps paragraphs itself.
    let help = format!(
        "{}\n\n`poolstack explain {}` prints this.",
        unwrap_paragraphs(non_empty(rule.doc, short)),
        rule.code
    );
    json!({
        "id": rule.code,
        "name": rule.name,
        "shortDescription": { "text": short },
        "fullDescription": { "text": unwrap_paragraphs(full) },
        "help": { "text": help, "markdown": help },
        "defaultConfiguration": { "level": level(rule.severity) },
    })
}

fn extra_descriptor(d: &Diagnostic) -> Value {
    let (name, text) = match d.code {
        "INPUT" => (
            "unusable-input",
            "The input could not be used at all (unreadable file, invalid TOML, unknown key or unit, bad flag); nothing was checked",
        ),
        _ => ("finding", "A poolstack finding"),
    };
    json!({
        "id": d.code,
        "name": name,
        "shortDescription": { "text": text },
        "fullDescription": { "text": text },
        "help": { "text": text },
        "defaultConfiguration": { "level": "error" },
    })
}

fn result(r: &Report<'_>, d: &Diagnostic, index: Option<usize>) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let mut out = json!({
        "ruleId": d.code,
        "level": level(d.severity),
        "message": { "text": text },
    });
    if let Some(i) = index {
        out["ruleIndex"] = json!(i);
    }
    let location = match &d.primary {
        Some(loc) => Some(physical(&Position::of(loc, r.sources))),
        // GitHub rejects the whole file when one result has no location: anchor it at the top
        // of the file the command ran on.
        None => r.subject.as_deref().map(|file| {
            json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri(file) },
                    "region": { "startLine": 1 }
                }
            })
        }),
    };
    if let Some(location) = location {
        out["locations"] = json!([location]);
    }
    if !d.related.is_empty() {
        let related: Vec<Value> = d
            .related
            .iter()
            .enumerate()
            .map(|(i, rel)| {
                let mut loc = physical(&Position::of(&rel.loc, r.sources));
                loc["id"] = json!(i + 1);
                loc["message"] = json!({ "text": rel.message });
                loc
            })
            .collect();
        out["relatedLocations"] = json!(related);
    }
    out
}

fn physical(p: &Position) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&p.file) },
            "region": {
                "startLine": p.line,
                "startColumn": p.column,
                "endLine": p.end_line,
                "endColumn": p.end_column,
            }
        }
    })
}

fn non_empty<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.trim().is_empty() {
        fallback
    } else {
        text
    }
}

/// Each paragraph (separated by a blank line) as one line.
fn unwrap_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A path as a URI reference: relative paths stay relative (GitHub resolves them against the
/// repository root), absolute ones become `file://` URIs; reserved bytes are percent-encoded.
fn uri(path: &str) -> String {
    let mut rel = path;
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    let mut out = String::new();
    if rel.starts_with('/') {
        out.push_str("file://");
    }
    for b in rel.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(b as char),
            b'-' | b'.' | b'_' | b'~' | b'/' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            // `:` stays encoded: in a first segment it would read as a scheme.
            b'*' | b'+' | b',' | b';' | b'=' | b'@' => out.push(b as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(uri("./stack.toml"), "stack.toml");
        assert_eq!(uri("deploy/my stack.toml"), "deploy/my%20stack.toml");
        assert_eq!(uri("/srv/a#b.toml"), "file:///srv/a%23b.toml");
        assert_eq!(uri("conf/ü.conf"), "conf/%C3%BC.conf");
    }
}
