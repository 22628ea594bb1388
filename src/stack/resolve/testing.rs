//! Helpers for the table resolvers' unit tests: a manifest from text, a fresh context over it,
//! and the manifest text a value or an error points at.

use super::Ctx;
use crate::diag::InputError;
use crate::manifest::{LoadedManifest, parse};
use crate::source::Loc;
use crate::stack::{Origin, Setting};
use std::path::Path;

/// The smallest manifest that loads: `[stack]` and `[postgres]` only.
pub(super) const MINIMAL: &str = "[stack]\nname = \"t\"\n\n[postgres]\nversion = 16\n";

/// `toml` loaded as if read from `stack.toml`; panics when it does not load (tests only).
pub(super) fn manifest(toml: &str) -> LoadedManifest {
    match parse(Path::new("stack.toml"), toml.to_string()) {
        Ok(m) => m,
        Err(e) => panic!("test manifest does not load: {e}"),
    }
}

/// A context with no findings yet.
pub(super) fn cx(m: &LoadedManifest) -> Ctx<'_> {
    Ctx {
        m,
        findings: Vec::new(),
    }
}

/// The manifest text at `loc`.
pub(super) fn text<'m>(m: &'m LoadedManifest, loc: &Loc) -> &'m str {
    &m.sources.get(loc.file).text[loc.span.clone()]
}

/// The manifest text a setting was read from; panics unless it was written in the manifest.
pub(super) fn written<'m, T>(m: &'m LoadedManifest, s: &Setting<T>) -> &'m str {
    match &s.origin {
        Origin::Manifest(loc) => text(m, loc),
        other => panic!("not written in the manifest: {other:?}"),
    }
}

/// The default's text; panics unless the setting is a default.
pub(super) fn default_text<T>(s: &Setting<T>) -> &'static str {
    match &s.origin {
        Origin::Default(why) => why,
        other => panic!("not a default: {other:?}"),
    }
}

/// The formula of a derived setting; panics unless it is derived.
pub(super) fn formula<T>(s: &Setting<T>) -> &str {
    match &s.origin {
        Origin::Derived { formula, .. } => formula,
        other => panic!("not derived: {other:?}"),
    }
}

/// `(line, text)` an input error points at; panics when it has no place.
pub(super) fn error_place<'m>(m: &'m LoadedManifest, err: &InputError) -> (usize, &'m str) {
    let Some(loc) = &err.loc else {
        panic!("the error has no place: {err}")
    };
    let line = m.sources.get(loc.file).text[..loc.span.start]
        .matches('\n')
        .count()
        + 1;
    (line, text(m, loc))
}
