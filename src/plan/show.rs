//! The plan as people read it (after render's diff or summary) and as JSON (`--format json`).
//! Secret values never reach here: a [`Change`] holds "changed" in their place.

use super::{Change, Plan};
use serde_json::{Value, json};

/// A value for the table: absent values as `(none)`.
fn shown(v: Option<&String>) -> String {
    v.cloned().unwrap_or_else(|| "(none)".into())
}

/// Two long values with their common start elided (`…@pgbouncer:5432/db → …@pgbouncer:6432/db`).
fn elide(old: &str, new: &str) -> (String, String) {
    const LONG: usize = 32;
    const KEEP: usize = 12;
    if old.chars().count() <= LONG && new.chars().count() <= LONG {
        return (old.to_string(), new.to_string());
    }
    let common = old
        .chars()
        .zip(new.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let skip = common.saturating_sub(KEEP);
    let cut = |s: &str| {
        if skip == 0 {
            s.to_string()
        } else {
            format!("…{}", s.chars().skip(skip).collect::<String>())
        }
    };
    (cut(old), cut(new))
}

/// A connection string's change as the keys that differ (`pool_mode: (none) → session`).
fn connstr_delta(old: &str, new: &str) -> Option<String> {
    let pairs = |s: &str| -> Option<Vec<(String, String)>> {
        let loc = crate::source::Loc {
            file: crate::source::FileId(0),
            span: 0..s.len(),
        };
        let parsed = crate::formats::pgbouncer_ini::parse_connstr(s, &loc).ok()?;
        Some(parsed.into_iter().map(|p| (p.key, p.value)).collect())
    };
    let (before, after) = (pairs(old)?, pairs(new)?);
    let get = |list: &[(String, String)], k: &str| {
        list.iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let mut keys: Vec<&String> = after.iter().chain(before.iter()).map(|(k, _)| k).collect();
    keys.dedup();
    let mut seen = Vec::new();
    let mut parts = Vec::new();
    for k in keys {
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        let (a, b) = (get(&before, k), get(&after, k));
        if a != b {
            parts.push(format!(
                "{k}: {} → {}",
                shown(a.as_ref()),
                shown(b.as_ref())
            ));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn label(c: &Change) -> String {
    match (&c.section, &c.variable) {
        (Some(section), _) => format!("{section} {}", c.setting),
        (None, Some(var)) => format!("{} {var}", c.setting),
        _ if c.file.ends_with("userlist.txt") => format!("userlist {}", c.setting),
        _ => c.setting.clone(),
    }
}

fn what(c: &Change) -> String {
    match (&c.old, &c.new) {
        (Some(o), Some(n)) if c.secret && o == n => o.clone(),
        (None, Some(n)) if c.secret => n.replacen(super::SECRET, "added", 1),
        (Some(_), None) if c.secret => "removed".into(),
        (Some(o), Some(n)) => match c.section.and_then(|_| connstr_delta(o, n)) {
            Some(delta) => delta,
            None => {
                let (o, n) = elide(o, n);
                format!("{o} → {n}")
            }
        },
        // A file taken whole (roles.sql's statements, an app's settings file).
        (None, None) => "changed".into(),
        (o, n) => format!("{} → {}", shown(o.as_ref()), shown(n.as_ref())),
    }
}

/// Human text: the changes as a table, then the numbered steps.
pub fn human(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.first_render {
        out.push_str("Start order (nothing was on disk):\n");
    } else if plan.changes.is_empty() {
        out.push_str("Apply plan: no setting changed; nothing to reload or restart.\n");
        return out;
    } else {
        out.push_str("Apply plan — how each change takes effect:\n");
        let rows: Vec<[String; 5]> = plan
            .changes
            .iter()
            .map(|c| {
                [
                    c.component.as_str().to_string(),
                    label(c),
                    what(c),
                    c.action.as_str().to_string(),
                    c.reason.clone(),
                ]
            })
            .collect();
        let mut width = [0usize; 4];
        for r in &rows {
            for (w, cell) in width.iter_mut().zip(r.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for r in &rows {
            let mut line = String::from(" ");
            for (cell, w) in r.iter().zip(width.iter()) {
                line.push_str(&format!(" {cell:<w$} "));
            }
            line.push_str(&format!(" ({})", r[4]));
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str("\nSteps, in this order:\n");
    }
    for (i, s) in plan.steps.iter().enumerate() {
        out.push_str(&format!("  {}. {}\n", i + 1, s.title));
        for c in &s.commands {
            out.push_str(&format!("       $ {c}\n"));
        }
        for n in &s.notes {
            out.push_str(&format!("       - {n}\n"));
        }
    }
    out
}

/// The JSON object `render --format json` prints (version 1).
pub fn json(plan: &Plan) -> Value {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            let mut v = json!({
                "component": c.component.as_str(),
                "file": c.file,
                "setting": c.setting,
                "old": c.old,
                "new": c.new,
                "action": c.action.as_str(),
                "reason": c.reason,
            });
            if let Some(section) = c.section {
                v["section"] = json!(section.name());
            }
            if let Some(var) = &c.variable {
                v["variable"] = json!(var);
            }
            if c.secret {
                v["secret"] = json!(true);
            }
            v
        })
        .collect();
    let steps: Vec<Value> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = json!({
                "order": i + 1,
                "component": s.component.as_str(),
                "action": s.action.as_str(),
                "title": s.title,
                "commands": s.commands,
                "notes": s.notes,
                "settings": s.settings,
            });
            if let Some(app) = &s.app {
                v["app"] = json!(app);
            }
            v
        })
        .collect();
    json!({
        "version": 1,
        "first_render": plan.first_render,
        "changes": changes,
        "steps": steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Component};

    fn change(old: Option<&str>, new: Option<&str>, secret: bool) -> Change {
        Change {
            component: Component::Pgbouncer,
            file: "pgbouncer/userlist.txt".into(),
            section: None,
            setting: "app".into(),
            variable: None,
            old: old.map(str::to_string),
            new: new.map(str::to_string),
            secret,
            action: Action::Reload,
            reason: "RELOAD re-reads auth_file".into(),
            reach: None,
            moves_listener: false,
        }
    }

    #[test]
    fn secrets_read_changed_added_or_removed() {
        assert_eq!(
            what(&change(Some("changed"), Some("changed"), true)),
            "changed"
        );
        assert_eq!(what(&change(None, Some("changed"), true)), "added");
        assert_eq!(
            what(&change(None, Some("changed (md5)"), true)),
            "added (md5)"
        );
        assert_eq!(what(&change(Some("changed"), None, true)), "removed");
    }

    #[test]
    fn connection_strings_show_the_keys_that_differ_and_long_values_their_ends() {
        assert_eq!(
            connstr_delta(
                "host=db port=5432 dbname=app",
                "host=db2 port=5432 dbname=app pool_size=4"
            )
            .as_deref(),
            Some("host: db → db2, pool_size: (none) → 4")
        );
        assert_eq!(connstr_delta("host=db", "host=db"), None);
        let (a, b) = elide(
            "postgresql+psycopg://trader:${POSTGRES_PASSWORD}@pgbouncer:5432/mt5",
            "postgresql+psycopg://trader:${POSTGRES_PASSWORD}@pgbouncer:6432/mt5",
        );
        assert_eq!(
            (a.as_str(), b.as_str()),
            ("…}@pgbouncer:5432/mt5", "…}@pgbouncer:6432/mt5")
        );
        assert_eq!(elide("7GB", "8GB"), ("7GB".into(), "8GB".into()));
    }

    #[test]
    fn json_has_the_issue_fields_and_no_secret() {
        let plan = Plan {
            first_render: false,
            changes: vec![change(Some("changed"), Some("changed"), true)],
            steps: Vec::new(),
        };
        let v = json(&plan);
        assert_eq!(v["version"], 1);
        let c = &v["changes"][0];
        for key in ["component", "file", "setting", "old", "new", "action"] {
            assert!(!c[key].is_null(), "{key} missing in {c}");
        }
        assert_eq!(c["secret"], true);
        assert_eq!(human(&plan).matches("changed").count(), 1);
    }
}
