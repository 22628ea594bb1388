//! Thresholds and their wording: whole-connection thresholds from a share of a limit, a pool's
//! effective size by PgBouncer's precedence, and "setting value in stack.toml:LINE".

use crate::source::Loc;
use crate::stack::{Origin, Setting, Stack};

/// `setting value in stack.toml:LINE`, or `setting value (why)` for a default.
pub fn sourced<T: std::fmt::Display>(stack: &Stack, label: &str, s: &Setting<T>) -> String {
    match &s.origin {
        Origin::Manifest(l) | Origin::Imported(l) => {
            format!("{label} {} in {}", s.value, at(stack, l))
        }
        Origin::Default(why) => format!("{label} {} ({why})", s.value),
        Origin::Derived { formula, .. } => format!("{label} {} ({formula})", s.value),
    }
}

/// `stack.toml:12`: the file's name (not its path, so rendered files do not depend on where
/// poolstack ran) and the line.
fn at(stack: &Stack, l: &Loc) -> String {
    let file = stack.sources.get(l.file);
    let name = std::path::Path::new(&file.display)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display.clone());
    format!("{name}:{}", file.line_col(l.span.start).line)
}

/// The smallest whole count ≥ `share` × `limit`, at least 1 (a threshold of 0 would always fire).
pub fn at_least(share: f64, limit: u64) -> u64 {
    let raw = (share * limit as f64 - 1e-9).ceil();
    if raw < 1.0 { 1 } else { raw as u64 }
}

pub fn pct(share: f64) -> String {
    format!("{}", (share * 1000.0).round() / 10.0)
}

/// The effective pool size of (database, user) and where it came from: the database's own
/// `pool_size`, else the user's (PgBouncer ≥ 1.23 `[users] pool_size`), else default_pool_size —
/// PgBouncer's own precedence.
pub fn pool_size(stack: &Stack, db: &crate::stack::Database, user: &str) -> (u32, String) {
    let global = stack.pgbouncer.as_ref().map(|b| &b.default_pool_size);
    let explicit = global.is_none_or(|g| g.origin != db.pool_size.origin);
    if explicit {
        return (
            db.pool_size.value,
            sourced(
                stack,
                &format!("pool_size of database {}", db.name.value),
                &db.pool_size,
            ),
        );
    }
    if let Some(u) = stack.user(user)
        && let Some(o) = u.options.iter().find(|o| o.name == "pool_size")
        && let Some(n) = o.number.filter(|n| *n >= 0.0)
    {
        let s = Setting::new(n as u32, o.origin.clone());
        return (
            n as u32,
            sourced(stack, &format!("pool_size of user {user}"), &s),
        );
    }
    (
        db.pool_size.value,
        sourced(stack, "default_pool_size", &db.pool_size),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_round_up_to_whole_connections_and_never_reach_zero() {
        assert_eq!(at_least(0.9, 25), 23);
        assert_eq!(at_least(0.9, 10), 9);
        assert_eq!(at_least(0.9, 4), 4);
        assert_eq!(at_least(0.0, 20), 1);
        assert_eq!(at_least(1.5, 20), 30);
    }
}
