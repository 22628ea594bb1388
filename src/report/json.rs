//! JSON report, stable (product.md "Exit codes and output"): `version` 1, every key always
//! present, `null` where a value is unknown, positions 1-based.

use super::stacks::Stacks;
use super::{Position, Report};
use serde::Serialize;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary<'a>,
}

/// `check` over stacks: the same document, with every stack's diagnostics and a `stacks` array.
#[derive(Serialize)]
struct JsonStacksReport<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary<'a>,
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
struct JsonSummary<'a> {
    errors: usize,
    warnings: usize,
    infos: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    budget: Option<JsonBudget>,
    /// Rules the input did not let run; only where there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<JsonSkipped<'a>>,
}

#[derive(Serialize)]
struct JsonSkipped<'a> {
    rules: &'a [&'static str],
    needs: &'a str,
    enable: &'a str,
    lower_bound: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonBudget {
    used: u64,
    active: u64,
    idle: u64,
    capacity: u64,
}

pub fn report(r: &Report<'_>) -> String {
    finish(&document(r))
}

/// The report as a JSON value, for a command that adds its own keys (render's refusal).
pub fn value(r: &Report<'_>) -> serde_json::Value {
    serde_json::to_value(document(r)).unwrap_or_default()
}

fn document<'a>(r: &'a Report<'a>) -> JsonReport<'a> {
    JsonReport {
        version: 1,
        diagnostics: diagnostics(r),
        summary: JsonSummary {
            errors: r.summary.errors,
            warnings: r.summary.warnings,
            infos: r.summary.infos,
            budget: r.budget.map(|b| JsonBudget {
                used: b.used,
                active: b.active,
                idle: b.idle,
                capacity: b.capacity,
            }),
            skipped: skipped(r),
        },
    }
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
            skipped: s.stacks.iter().flat_map(|st| skipped(&st.report)).collect(),
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

fn skipped<'a>(r: &Report<'a>) -> Vec<JsonSkipped<'a>> {
    r.skipped
        .iter()
        .map(|s| JsonSkipped {
            rules: &s.codes,
            needs: &s.needs,
            enable: &s.enable,
            lower_bound: s.lower_bound.as_deref(),
        })
        .collect()
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
