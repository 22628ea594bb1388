//! CAT006 across a whole file set: PgBouncer silently keeps the last of a key or a name.

use crate::catalog::pgbouncer::Section;
use crate::diag::{Diagnostic, Severity};
use crate::formats::pgbouncer_ini::{IniDocument, IniEntry};
use crate::source::SourceMap;
use std::collections::HashMap;

/// CAT006: a `[pgbouncer]` key or a `[databases]`/`[users]` name given twice (includes
/// count); found at the ignored occurrence, related to the one that wins.
pub(super) fn findings(doc: &IniDocument, sources: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut last: HashMap<(Section, &str), &IniEntry> = HashMap::new();
    for entry in &doc.entries {
        last.insert((entry.section, entry.key.as_str()), entry);
    }
    for entry in &doc.entries {
        let Some(winner) = last.get(&(entry.section, entry.key.as_str())) else {
            continue;
        };
        if std::ptr::eq(*winner, entry) {
            continue;
        }
        let what = match entry.section {
            Section::Pgbouncer => "option",
            Section::Databases => "database",
            Section::Users => "user",
            Section::Peers => "peer",
        };
        let there = sources.describe(&winner.key_loc);
        out.push(
            Diagnostic::new(
                "CAT006",
                Severity::Warning,
                format!(
                    "the {what} `{}` is set again at {there}: this value ({}) is ignored, the later one ({}) wins",
                    entry.key, entry.value, winner.value
                ),
            )
            .at(Some(entry.key_loc.clone()))
            .related(Some(winner.key_loc.clone()), "this one wins")
            .help("remove one of them: PgBouncer silently uses the last"),
        );
    }
    out
}
