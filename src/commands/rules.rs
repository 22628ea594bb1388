//! `poolstack rules` (every rule, one line each) and `poolstack explain CODE` (a rule's documentation).

use crate::cli::ExplainArgs;
use crate::diag::InputError;
use crate::outcome::Outcome;
use crate::rules::{self, Rule};
use std::io::Write;

/// A table of every rule: code, name, severity, summary.
pub fn list(out: &mut dyn Write) -> Outcome {
    let _ = out.write_all(table().as_bytes());
    Outcome::Success
}

fn table() -> String {
    let name_width = rules::registry()
        .map(|r| r.name.len())
        .chain(["NAME".len()])
        .max()
        .unwrap_or(0);
    let mut text = format!(
        "{:<6}  {:<name_width$}  {:<8}  SUMMARY\n",
        "CODE", "NAME", "SEVERITY"
    );
    for r in rules::registry() {
        let line = format!(
            "{:<6}  {:<name_width$}  {:<8}  {}",
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary
        );
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// `explain CODE`: the rule's code, name, severity and documentation; `explain SETTING
/// [MANIFEST]`: where a setting's effective value comes from (see [`super::explain`]).
pub fn explain(args: &ExplainArgs, out: &mut dyn Write) -> Result<Outcome, InputError> {
    let target = args.target.trim();
    if let Some(rule) = rules::find(target).or_else(|| by_name(target)) {
        let _ = out.write_all(page(rule).as_bytes());
        return Ok(Outcome::Success);
    }
    if looks_like_code(target) {
        let help = match crate::catalog::closest(
            &target.to_ascii_uppercase(),
            rules::registry().map(|r| r.code),
        ) {
            Some(near) => format!("did you mean `{near}`? `poolstack rules` lists every code"),
            None => "`poolstack rules` lists every code".to_string(),
        };
        return Err(InputError::new(format!("there is no rule `{target}`")).with_help(help));
    }
    super::explain::explain_setting(target, args.manifest.as_deref(), out)
}

fn by_name(name: &str) -> Option<&'static Rule> {
    rules::registry().find(|r| r.name.eq_ignore_ascii_case(name))
}

/// Three letters and digits (CON002, con2): meant as a code, even when it names none.
fn looks_like_code(s: &str) -> bool {
    match (s.get(..3), s.get(3..)) {
        (Some(letters), Some(digits)) => {
            letters.chars().all(|c| c.is_ascii_alphabetic())
                && !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

fn page(rule: &Rule) -> String {
    let mut text = format!("{} {} ({})\n", rule.code, rule.name, rule.severity);
    if !rule.summary.is_empty() {
        text.push_str(&format!("\n{}\n", rule.summary));
    }
    let doc = rule.doc.trim();
    if doc.is_empty() {
        text.push_str("\nNo further documentation yet.\n");
    } else {
        text.push_str(&format!("\n{doc}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_told_apart_from_settings() {
        assert!(looks_like_code("CON002"));
        assert!(looks_like_code("con02"));
        assert!(!looks_like_code("max_connections"));
        assert!(!looks_like_code("CON"));
        assert!(!looks_like_code("ÄBC123"));
        assert!(!looks_like_code("ÄÄ1"));
        assert_eq!(by_name("drift").map(|r| r.code), Some("FIL001"));
    }
}
