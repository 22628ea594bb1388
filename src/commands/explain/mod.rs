//! `poolstack explain SETTING [MANIFEST]`: a setting's effective value and where it comes from —
//! a PostgreSQL parameter, a `[pgbouncer]` option, or any key a manifest can hold, written as a
//! dotted path (`pgbouncer.userlist_hash`, `apps.api.prepare_threshold`,
//! `databases.app.settings.connect_query`, `lint.fail_on`).

mod apps;
mod deploy;
mod entries;
mod keys;
mod monitoring;

use crate::catalog::pgbouncer::{self as pgbcat, Section};
use crate::catalog::postgres::PgCatalog;
use crate::diag::InputError;
use crate::manifest::LoadedManifest;
use crate::outcome::Outcome;
use crate::source::Loc;
use crate::stack::{Origin, Setting, Stack};
use std::io::Write;
use std::path::Path;

/// One effective value: its name, its text (`None`: not set, and nothing stands in for it), and
/// its origin.
struct Found {
    name: String,
    value: Option<String>,
    origin: Origin,
    /// Overrides a default's (or an unset key's) reason, when it is not a fixed text.
    default_note: Option<String>,
    /// Further lines: what a value means for the stack (per-user secret types, …).
    notes: Vec<String>,
}

impl Found {
    fn new(name: &str, value: impl Into<String>, origin: Origin) -> Found {
        Found {
            name: name.to_string(),
            value: Some(value.into()),
            origin,
            default_note: None,
            notes: Vec::new(),
        }
    }

    fn of<T: std::fmt::Display>(name: &str, s: &Setting<T>) -> Found {
        Found::new(name, s.value.to_string(), s.origin.clone())
    }

    /// A key the manifest leaves out and nothing stands in for; `why` says what that means.
    fn unset(name: &str, why: impl Into<String>) -> Found {
        Found {
            name: name.to_string(),
            value: None,
            origin: Origin::Default("not set"),
            default_note: Some(why.into()),
            notes: Vec::new(),
        }
    }
}

/// What explain needs: the resolved stack, and the manifest for keys the stack has no setting of
/// their own for (`pgbouncer.enabled`, list keys) — only their places are read from it.
struct Cx<'a> {
    stack: &'a Stack,
    m: &'a LoadedManifest,
}

impl Cx<'_> {
    /// The manifest's own origin of a key: its place where written.
    fn written(&self, parts: &[&str]) -> Option<Origin> {
        self.m
            .loc(&crate::manifest::path(parts))
            .map(Origin::Manifest)
    }
}

impl Cx<'_> {
    /// A free-form `settings` table as a whole: each of its keys with its effective value.
    fn settings_table(
        &self,
        name: &str,
        parts: &[&str],
        table: Option<&crate::manifest::SettingsTable>,
        each: impl Fn(&str) -> Option<Found>,
    ) -> Found {
        let (Some(origin), Some(table)) = (self.written(parts), table) else {
            return Found::unset(name, "no further options are written");
        };
        let text = table
            .keys()
            .map(|k| match each(k).and_then(|f| f.value) {
                Some(v) => format!("{k} = {v}"),
                None => k.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        Found::new(name, text, origin)
    }
}

pub fn explain_setting(
    target: &str,
    manifest: Option<&Path>,
    out: &mut dyn Write,
) -> Result<Outcome, InputError> {
    let path = manifest.unwrap_or(Path::new("stack.toml"));
    let loaded = crate::manifest::load(path)?;
    let stack = crate::stack::resolve::resolve(&loaded, None)?;
    let cx = Cx {
        stack: &stack,
        m: &loaded,
    };
    let found = keys::lookup(&cx, target)?;
    let _ = out.write_all(page(&stack, &found).as_bytes());
    Ok(Outcome::Success)
}

/// `stack.toml:12:1`.
fn place(stack: &Stack, l: &Loc) -> String {
    let file = stack.sources.get(l.file);
    let lc = file.line_col(l.span.start);
    format!("{}:{}:{}", file.display, lc.line, lc.column)
}

/// The source line a place is on, trimmed (`memory = "28GB"`).
fn line_text(stack: &Stack, l: &Loc) -> String {
    let file = stack.sources.get(l.file);
    let line = file.line_col(l.span.start).line;
    file.text
        .lines()
        .nth(line.saturating_sub(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn page(stack: &Stack, f: &Found) -> String {
    let mut text = match &f.value {
        Some(v) => format!("{} = {}\n", f.name, v),
        None => format!("{} is not set\n", f.name),
    };
    match &f.origin {
        Origin::Manifest(l) => text.push_str(&format!("set in {}\n", place(stack, l))),
        Origin::Imported(l) => text.push_str(&format!("read from {}\n", place(stack, l))),
        Origin::Default(why) => {
            let why = f.default_note.as_deref().unwrap_or(why);
            match f.value {
                Some(_) => text.push_str(&format!("default: {why}\n")),
                None => text.push_str(&format!("{why}\n")),
            }
        }
        Origin::Derived { formula, inputs } => {
            text.push_str(&format!("derived: {formula}\n"));
            for l in inputs {
                text.push_str(&format!(
                    "  from {}: {}\n",
                    place(stack, l),
                    line_text(stack, l)
                ));
            }
        }
    }
    for n in &f.notes {
        text.push_str(&format!("{n}\n"));
    }
    text
}

fn unknown(stack: &Stack, target: &str) -> InputError {
    let mut names: Vec<&str> = Vec::new();
    if let Some(c) = stack.postgres.major().and_then(PgCatalog::for_major) {
        names.extend(c.params().map(|p| p.name));
    }
    names.extend(pgbcat::options(Section::Pgbouncer).map(|o| o.name));
    names.extend(keys::MANIFEST_KEYS.iter().copied());
    let bare = target.rsplit('.').next().unwrap_or(target);
    let help = match crate::catalog::closest(bare, names) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "name a PostgreSQL parameter, a [pgbouncer] option, a rule code, or a manifest key such as pgbouncer.auth_type or apps.NAME.pool_size".to_string(),
    };
    InputError::new(format!(
        "`{target}` is neither a rule nor a setting this stack knows"
    ))
    .with_help(help)
}
