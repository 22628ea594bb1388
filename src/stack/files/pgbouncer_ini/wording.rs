//! Values that do not say what PgBouncer will read: template placeholders, and the wording of
//! each parse trap (CAT005).

use crate::catalog::pgbouncer::PgbTrap;

/// A `${VAR}` or `$VAR` left by a template (`$VAR` only as an upper-case name, and not in SQL
/// or passwords, where `$1` and `$tag$` are legitimate).
pub(super) fn placeholder<'r>(key: &str, raw: &'r str) -> Option<&'r str> {
    if let Some(start) = raw.find("${") {
        let end = raw[start..].find('}').map_or(raw.len(), |i| start + i + 1);
        return Some(&raw[start..end]);
    }
    if key.contains("query") || key == "password" {
        return None;
    }
    let bytes = raw.as_bytes();
    for (i, _) in raw.match_indices('$') {
        let name_len = bytes[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        let starts_well = bytes
            .get(i + 1)
            .is_some_and(|b| b.is_ascii_uppercase() || *b == b'_');
        if starts_well && name_len >= 2 {
            return Some(&raw[i..i + 1 + name_len]);
        }
    }
    None
}

/// Message and help for a value PgBouncer accepts but reads differently than it looks.
pub(super) fn trap_text(
    name: &str,
    raw: &str,
    trap: PgbTrap,
    in_connstr: bool,
) -> (String, String) {
    // A password's value is never quoted in a message, whatever is wrong with it.
    let shown = if crate::redact::is_secret_key(name) {
        format!("`{name}` = `{}`", crate::redact::mask(raw))
    } else {
        format!("`{name}` = `{raw}`")
    };
    match trap {
        PgbTrap::Octal => (
            format!("{shown} starts with 0, so PgBouncer reads it as octal"),
            "drop the leading zeros (or keep them only if you mean octal)".to_string(),
        ),
        PgbTrap::Hex => (
            format!("{shown} is hexadecimal to PgBouncer"),
            "write the number in decimal".to_string(),
        ),
        PgbTrap::Negative => (
            format!("{shown} is negative: PgBouncer accepts it without a range check"),
            "use 0 or a positive number".to_string(),
        ),
        PgbTrap::Overflow { wrapped_to } => (
            format!("{shown} is outside the range of the C integer PgBouncer stores it in: it silently stores {wrapped_to}"),
            "use a value within the option's C type: up to 2147483647 (4294967295 for max_packet_size)".to_string(),
        ),
        PgbTrap::AtoiZero => (
            format!("{shown} is not a number: PgBouncer's atoi() makes it 0 and starts anyway"),
            "write a whole number".to_string(),
        ),
        PgbTrap::AtoiTruncated { to } => (
            format!("{shown} is read by atoi() as {to}: the rest is ignored"),
            format!("write the whole number PgBouncer uses: {to}"),
        ),
        PgbTrap::QuotedString if in_connstr => (
            format!("{shown} holds double quotes, which PgBouncer keeps as part of the value"),
            "remove the double quotes; quote a connection-string value with single quotes"
                .to_string(),
        ),
        PgbTrap::QuotedString => (
            format!(
                "{shown}: PgBouncer keeps the quotes, so the value includes the quote characters"
            ),
            "remove the quotes: PgBouncer values are never quoted".to_string(),
        ),
        PgbTrap::InlineComment => (
            format!(
                "{shown}: PgBouncer has no inline comments, so the `;`/`#` text is part of the value"
            ),
            "move the comment to its own line starting with `;`".to_string(),
        ),
    }
}
