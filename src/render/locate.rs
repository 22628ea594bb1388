//! Where a value in a built file comes from. `render` reads back what it built with the readers
//! `check` uses on hand-written files; a finding there is about a value the stack decided, so it
//! is moved to the place that decided it: the manifest line, or for a derived value the first of
//! its inputs, with the formula in the message. `check` and `render` then report the same finding
//! at the same place.

use crate::catalog::pgbouncer::Section;
use crate::diag::Diagnostic;
use crate::formats::pgbouncer_ini::{IniDocument, parse_connstr};
use crate::formats::postgresql_conf::ConfDocument;
use crate::source::Loc;
use crate::stack::{Origin, Setting, Stack};

/// A stretch of a built file (a whole `key = value`, or one `key=value` of a connection string)
/// and the origin of the value written there.
pub struct Written {
    pub at: Loc,
    pub origin: Origin,
}

fn span(from: &Loc, to: &Loc) -> Loc {
    Loc {
        file: from.file,
        span: from.span.start..to.span.end.max(from.span.end),
    }
}

/// The origin of each setting pgbouncer.ini holds.
pub fn ini(stack: &Stack, doc: &IniDocument) -> Vec<Written> {
    let Some(pgb) = &stack.pgbouncer else {
        return Vec::new();
    };
    let rendered = super::context::pgbouncer_options(pgb);
    let mut out = Vec::new();
    for entry in &doc.entries {
        let whole = span(&entry.key_loc, &entry.value_loc);
        match entry.section {
            Section::Pgbouncer => {
                if let Some(o) = rendered.iter().find(|o| o.name == entry.key) {
                    out.push(Written {
                        at: whole,
                        origin: o.origin.clone(),
                    });
                }
            }
            Section::Databases | Section::Users => {
                let (name_origin, entry_key): (Option<Origin>, EntryKey<'_>) =
                    if entry.section == Section::Databases {
                        let db = stack.database(&entry.key);
                        (db.map(|d| d.name.origin.clone()), EntryKey::Database(db))
                    } else {
                        let user = stack.user(&entry.key);
                        (user.map(|u| u.name.origin.clone()), EntryKey::User(user))
                    };
                if let Some(origin) = name_origin {
                    out.push(Written { at: whole, origin });
                }
                for pair in parse_connstr(&entry.value, &entry.value_loc).unwrap_or_default() {
                    if let Some(origin) = entry_key.origin(&pair.key) {
                        out.push(Written {
                            at: span(&pair.key_loc, &pair.value_loc),
                            origin,
                        });
                    }
                }
            }
            Section::Peers => {}
        }
    }
    out
}

/// The `[databases]` or `[users]` entry of the stack a connection string belongs to.
enum EntryKey<'a> {
    Database(Option<&'a crate::stack::Database>),
    User(Option<&'a crate::stack::User>),
}

impl EntryKey<'_> {
    fn origin(&self, key: &str) -> Option<Origin> {
        match self {
            EntryKey::Database(db) => db.and_then(|d| database_key(d, key)),
            EntryKey::User(u) => u.and_then(|u| user_key(u, key)),
        }
    }
}

fn database_key(db: &crate::stack::Database, key: &str) -> Option<Origin> {
    let o = |s: &Setting<u32>| Some(s.origin.clone());
    match key {
        "host" => Some(db.host.origin.clone()),
        "port" => Some(db.port.origin.clone()),
        "dbname" => Some(db.dbname.origin.clone()),
        "user" => db.forced_user.as_ref().map(|u| u.origin.clone()),
        "pool_size" => o(&db.pool_size),
        "reserve_pool" | "reserve_pool_size" => o(&db.reserve_pool_size),
        "max_db_connections" => o(&db.max_db_connections),
        "pool_mode" => Some(db.pool_mode.origin.clone()),
        other => db
            .options
            .iter()
            .find(|x| x.name == other)
            .map(|x| x.origin.clone()),
    }
}

fn user_key(user: &crate::stack::User, key: &str) -> Option<Origin> {
    match key {
        "pool_mode" => user.pool_mode.as_ref().map(|s| s.origin.clone()),
        "max_user_connections" => user.max_user_connections.as_ref().map(|s| s.origin.clone()),
        other => user
            .options
            .iter()
            .find(|x| x.name == other)
            .map(|x| x.origin.clone()),
    }
}

/// The origin of each parameter the PostgreSQL fragment holds.
pub fn conf(stack: &Stack, doc: &ConfDocument) -> Vec<Written> {
    doc.entries
        .iter()
        .filter_map(|e| {
            let p = stack.postgres.param(&e.name)?;
            Some(Written {
                at: span(&e.name_loc, &e.value_loc),
                origin: p.origin.clone(),
            })
        })
        .collect()
}

/// Move `d` from the built file to where its value comes from: the narrowest written stretch
/// holding its place decides. Values with no place in the manifest (defaults, or text a template
/// override added) stay where they are in the built file.
pub fn relocate(mut d: Diagnostic, written: &[Written]) -> Diagnostic {
    let Some(at) = d.primary.clone() else {
        return d;
    };
    let holder = written
        .iter()
        .filter(|w| {
            w.at.file == at.file && w.at.span.start <= at.span.start && at.span.end <= w.at.span.end
        })
        .min_by_key(|w| w.at.span.len());
    let Some(w) = holder else {
        return d;
    };
    match &w.origin {
        Origin::Manifest(loc) | Origin::Imported(loc) => {
            d.related.push(crate::diag::Related {
                loc: at,
                message: "written here in the built file".to_string(),
            });
            d.primary = Some(loc.clone());
        }
        Origin::Derived { formula, inputs } if !inputs.is_empty() => {
            d.message = format!("{} (derived: {formula})", d.message);
            d.primary = inputs.first().cloned();
            for input in inputs.iter().skip(1) {
                d.related.push(crate::diag::Related {
                    loc: input.clone(),
                    message: "an input of the derivation".to_string(),
                });
            }
        }
        Origin::Derived { .. } | Origin::Default(_) => {}
    }
    d
}
