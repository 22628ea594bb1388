//! GitHub Actions workflow commands: `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=CODE::message`.
//! Warnings are `::warning`, infos `::notice`. Escaping follows the runner's rules: in the message
//! `%`, `\r`, `\n`; in property values also `:` and `,`.

use super::{Position, Report};
use crate::diag::{Diagnostic, Severity};

pub fn report(r: &Report<'_>) -> String {
    let mut out = r
        .diagnostics
        .iter()
        .map(|d| line(r, d))
        .collect::<Vec<_>>()
        .concat();
    // Rules that could not run, as notices (a job log shows them; no annotation is made).
    for s in r.skipped {
        out.push_str(&format!(
            "::notice title=not checked::{}\n",
            escape_data(&crate::rules::skipped::describe(s))
        ));
    }
    // doctor: connection use against the budget, as one notice.
    if let Some(b) = r.budget {
        out.push_str(&format!(
            "::notice title=budget::used {} of {} server connections ({} active, {} idle in the pools)\n",
            b.used, b.capacity, b.active, b.idle
        ));
    }
    out
}

fn line(r: &Report<'_>, d: &Diagnostic) -> String {
    let command = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let Some(loc) = &d.primary {
        let p = Position::of(loc, r.sources);
        props.push(format!("file={}", escape_property(&p.file)));
        props.push(format!("line={}", p.line));
        props.push(format!("col={}", p.column));
        props.push(format!("endLine={}", p.end_line));
        props.push(format!("endColumn={}", p.end_column));
    }
    props.push(format!("title={}", escape_property(d.code)));
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    for rel in &d.related {
        message.push_str(&format!(
            "\n{}: {}",
            r.sources.describe(&rel.loc),
            rel.message
        ));
    }
    format!(
        "::{command} {}::{}\n",
        props.join(","),
        escape_data(&message)
    )
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
