//! JSON report, stable (product.md "Exit codes and output"): `version` 1, every key always
//! present, `null` where a value is unknown, positions 1-based.

use super::stacks::Stacks;
use super::{Position, Report};
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
}

/// `check` over stacks: the same document, with every stack's diagnostics and a `stacks` array.
#[derive(Serialize)]
struct JsonStacksReport<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
    stacks: Vec<JsonStack<'a>>,
}

#[derive(Serialize)]
struct JsonStack<'a> {
    path: &'a str,
    kind: &'a str,
    files: &'a [String],
    added: &'a [String],
    exit_code: u8,
    errors: usize,
    warnings: usize,
    infos: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    file: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    errors: usize,
    warnings: usize,
    infos: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<JsonBudget>,
}

#[derive(Serialize)]
struct JsonBudget {
    used: u64,
    capacity: u64,
}

pub fn report(r: &Report<'_>) -> String {
    let doc = JsonReport {
        version: 1,
        diagnostics: diagnostics(r),
        summary: JsonSummary {
            errors: r.summary.errors,
            warnings: r.summary.warnings,
            infos: r.summary.infos,
            budget: r.budget.map(|b| JsonBudget {
                used: b.used,
                capacity: b.capacity,
            }),
        },
    };
    finish(&doc)
}

/// Every stack's diagnostics in one array (each names its file), the total, and per stack its
/// path, kind, files, exit code and counts.
pub fn stacks(s: &Stacks<'_>) -> String {
    let total = s.summary();
    let doc = JsonStacksReport {
        version: 1,
        diagnostics: s
            .stacks
            .iter()
            .flat_map(|st| diagnostics(&st.report))
            .collect(),
        summary: JsonSummary {
            errors: total.errors,
            warnings: total.warnings,
            infos: total.infos,
            budget: None,
        },
        stacks: s
            .stacks
            .iter()
            .map(|st| JsonStack {
                path: &st.path,
                kind: st.kind.as_str(),
                files: &st.files,
                added: &st.added,
                exit_code: st.exit_code,
                errors: st.report.summary.errors,
                warnings: st.report.summary.warnings,
                infos: st.report.summary.infos,
            })
            .collect(),
    };
    finish(&doc)
}

fn finish(doc: &impl Serialize) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    text
}

fn diagnostics<'a>(r: &Report<'a>) -> Vec<JsonDiagnostic<'a>> {
    r.diagnostics
        .iter()
        .map(|d| {
            let at = d.primary.as_ref().map(|l| Position::of(l, r.sources));
            JsonDiagnostic {
                code: d.code,
                severity: d.severity.as_str(),
                message: &d.message,
                help: d.help.as_deref(),
                line: at.as_ref().map(|p| p.line),
                column: at.as_ref().map(|p| p.column),
                end_line: at.as_ref().map(|p| p.end_line),
                end_column: at.as_ref().map(|p| p.end_column),
                file: at.map(|p| p.file),
                related: d
                    .related
                    .iter()
                    .map(|rel| {
                        let p = Position::of(&rel.loc, r.sources);
                        JsonRelated {
                            file: p.file,
                            line: p.line,
                            column: p.column,
                            message: &rel.message,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}
