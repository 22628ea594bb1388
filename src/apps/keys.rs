//! A kind's keys: their types and defaults, read from an `[[apps]]` entry with their places, and
//! the per-kind key check (a key of another kind is an input error with a did-you-mean).

use super::{AppKind, COMMON_KEYS};
use crate::diag::InputError;
use crate::manifest::{AppEntry, LoadedManifest, PoolMode, PrepareThreshold, path};
use crate::stack::{Origin, Setting};
use crate::units::Duration;
use std::borrow::Cow;

/// A key's type, as the framework reads it.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// A whole number ≥ 0.
    Count,
    Bool,
    /// Seconds as a number, or a duration with a unit (`"30s"`, `"5min"`).
    Secs,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A count, or "none" (psycopg's prepare_threshold, Django's CONN_MAX_AGE).
    CountOrNone,
    /// Any text (a role name, a version).
    Text,
    /// A table of parameter = value (Rails' `variables:`), kept as `name = value, …`.
    Table,
}

impl Ty {
    fn describe(self) -> String {
        match self {
            Ty::Count => "a whole number ≥ 0".into(),
            Ty::Bool => "true or false".into(),
            Ty::Secs => "seconds, or a duration with a unit such as \"30s\"".into(),
            Ty::Choice(c) => format!(
                "one of {}",
                c.iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Ty::CountOrNone => "a whole number ≥ 0, or \"none\"".into(),
            Ty::Text => "a string".into(),
            Ty::Table => "a table of parameter = value".into(),
        }
    }
}

/// A framework setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Int(u64),
    Bool(bool),
    Secs(Duration),
    Text(Cow<'static, str>),
    /// Unset / none (psycopg's prepare_threshold = None).
    Nothing,
}

impl Val {
    pub fn int(&self) -> Option<u64> {
        match self {
            Val::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn secs(&self) -> Option<Duration> {
        match self {
            Val::Secs(d) => Some(*d),
            _ => None,
        }
    }

    /// As written in a `.env` file: durations in seconds (`0.5`, `300`), booleans as words.
    pub fn env_text(&self) -> String {
        match self {
            Val::Int(n) => n.to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Secs(d) => d.secs_text(),
            Val::Text(t) => t.to_string(),
            Val::Nothing => "none".to_string(),
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Secs(d) => write!(f, "{d}"),
            other => f.write_str(&other.env_text()),
        }
    }
}

/// A key's default.
#[derive(Debug, Clone)]
pub enum Dflt {
    /// The framework's own default; the text says whose.
    Own(Val, &'static str),
    /// The framework's default is unsafe behind transaction/statement pooling: poolstack's
    /// default there is `safe` (`why` says why), and the framework's own elsewhere.
    Safe {
        own: Val,
        safe: Val,
        why: &'static str,
    },
    /// Derived by the kind from other settings ([`AppKind::derive`]).
    Derived,
}

/// One key of a kind.
#[derive(Debug, Clone)]
pub struct KeyDef {
    pub name: &'static str,
    pub ty: Ty,
    pub default: Dflt,
    /// The variable the rendered `.env` gives it in.
    pub env: &'static str,
    /// One line for the README and the schema.
    pub doc: &'static str,
}

/// One resolved framework setting.
#[derive(Debug, Clone)]
pub struct FwSetting {
    pub key: &'static str,
    pub value: Setting<Val>,
}

/// A kind's resolved settings, in the kind's key order.
#[derive(Debug, Clone, Default)]
pub struct FwSettings(pub Vec<FwSetting>);

impl FwSettings {
    pub fn get(&self, key: &str) -> Option<&Setting<Val>> {
        self.0.iter().find(|s| s.key == key).map(|s| &s.value)
    }

    /// A key the kind declares; a missing one reads as [`Val::Nothing`] with no place.
    pub fn req(&self, key: &str) -> &Setting<Val> {
        static NOTHING: std::sync::OnceLock<Setting<Val>> = std::sync::OnceLock::new();
        self.get(key).unwrap_or_else(|| {
            NOTHING.get_or_init(|| Setting::new(Val::Nothing, Origin::Default("not set")))
        })
    }

    pub fn set(&mut self, key: &'static str, value: Setting<Val>) {
        match self.0.iter_mut().find(|s| s.key == key) {
            Some(s) => s.value = value,
            None => self.0.push(FwSetting { key, value }),
        }
    }
}

/// The keys an entry writes, typed or not.
fn written_keys(a: &AppEntry) -> Vec<&str> {
    let typed: [(&str, bool); 10] = [
        ("driver", a.driver.is_some()),
        ("libpq", a.libpq.is_some()),
        ("pool_size", a.pool_size.is_some()),
        ("max_overflow", a.max_overflow.is_some()),
        ("pool_timeout", a.pool_timeout.is_some()),
        ("pool_recycle", a.pool_recycle.is_some()),
        ("pre_ping", a.pre_ping.is_some()),
        ("prepare_threshold", a.prepare_threshold.is_some()),
        ("statement_cache_size", a.statement_cache_size.is_some()),
        ("connect_timeout", a.connect_timeout.is_some()),
    ];
    typed
        .iter()
        .filter(|(_, set)| *set)
        .map(|(k, _)| *k)
        .chain(a.other.keys().map(String::as_str))
        .collect()
}

fn key_error(m: &LoadedManifest, i: usize, key: &str, message: String) -> InputError {
    let p = path(&["apps", &i.to_string(), key]);
    match m.key_loc(&p).or_else(|| m.loc(&p)) {
        Some(loc) => InputError::located(message, loc, &m.sources),
        None => InputError::new(message),
    }
}

fn value_error(m: &LoadedManifest, i: usize, key: &str, message: String) -> InputError {
    let p = path(&["apps", &i.to_string(), key]);
    match m.loc(&p) {
        Some(loc) => InputError::located(message, loc, &m.sources),
        None => InputError::new(message),
    }
}

/// The entry's kind: its `kind` value, or the default.
pub fn kind_of(
    m: &LoadedManifest,
    i: usize,
    a: &AppEntry,
) -> Result<Setting<&'static dyn AppKind>, InputError> {
    let Some(name) = &a.kind else {
        return Ok(Setting::new(
            super::default_kind(),
            Origin::Default("sqlalchemy, poolstack's default kind"),
        ));
    };
    match super::kind(name) {
        Some(k) => Ok(Setting::new(
            k,
            match m.loc(&path(&["apps", &i.to_string(), "kind"])) {
                Some(l) => Origin::Manifest(l),
                None => Origin::Default("written without a place"),
            },
        )),
        None => {
            let names = super::names();
            let err = value_error(
                m,
                i,
                "kind",
                format!("app `{}`: unknown kind `{name}`", a.name),
            );
            Err(match crate::catalog::closest(name, names.iter().copied()) {
                Some(c) => err.with_help(format!("did you mean `{c}`?")),
                None => err.with_help(format!("kind is one of: {}", names.join(", "))),
            })
        }
    }
}

/// Refuse keys that are not the kind's: a did-you-mean among its keys, or the kinds that have it.
pub fn check_keys(
    m: &LoadedManifest,
    i: usize,
    a: &AppEntry,
    kind: &dyn AppKind,
) -> Result<(), InputError> {
    for key in written_keys(a) {
        if COMMON_KEYS.contains(&key) || kind.keys().iter().any(|d| d.name == key) {
            continue;
        }
        let candidates = COMMON_KEYS
            .iter()
            .copied()
            .chain(kind.keys().iter().map(|d| d.name));
        let others = super::kinds_with_key(key);
        let message = if others.is_empty() {
            format!(
                "unknown key `{key}` (in app `{}`, kind {})",
                a.name,
                kind.name()
            )
        } else {
            format!(
                "`{key}` is a setting of {} apps, but app `{}` is of kind {}",
                others.join("/"),
                a.name,
                kind.name()
            )
        };
        let err = key_error(m, i, key, message);
        return Err(match crate::catalog::closest(key, candidates) {
            Some(c) if c != key => err.with_help(format!("did you mean `{c}`?")),
            _ => err.with_help(format!(
                "the keys of kind {} are: {}",
                kind.name(),
                kind.keys()
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        });
    }
    Ok(())
}

/// The raw value of `key` as written: the typed fields shared with SQLAlchemy apps, or the rest.
fn raw(a: &AppEntry, key: &str) -> Option<serde_json::Value> {
    match key {
        "prepare_threshold" => a.prepare_threshold.map(|t| match t {
            PrepareThreshold::Disabled => serde_json::Value::String("none".into()),
            PrepareThreshold::After(n) => serde_json::Value::from(n),
        }),
        "statement_cache_size" => a.statement_cache_size.map(serde_json::Value::from),
        "libpq" => a.libpq.map(serde_json::Value::from),
        _ => a.other.get(key).cloned(),
    }
}

fn parse(ty: Ty, v: &serde_json::Value) -> Option<Val> {
    use serde_json::Value as J;
    match (ty, v) {
        (Ty::Count | Ty::CountOrNone, J::Number(n)) => n.as_u64().map(Val::Int),
        (Ty::CountOrNone, J::String(s)) if s == "none" => Some(Val::Nothing),
        (Ty::Bool, J::Bool(b)) => Some(Val::Bool(*b)),
        (Ty::Secs, J::Number(n)) => {
            let f = n.as_f64()?;
            (f >= 0.0 && f.is_finite())
                .then(|| Duration::parse(&format!("{f}s")).ok())
                .flatten()
        }
        .map(Val::Secs),
        (Ty::Secs, J::String(s)) => Duration::parse(s).ok().map(Val::Secs),
        (Ty::Choice(words), J::String(s)) => words
            .iter()
            .find(|w| **w == s)
            .map(|w| Val::Text(Cow::Borrowed(w))),
        (Ty::Text, J::String(s)) => Some(Val::Text(Cow::Owned(s.clone()))),
        (Ty::Table, J::Object(map)) => {
            let mut parts = Vec::new();
            for (k, v) in map {
                let v = match v {
                    J::String(s) => s.clone(),
                    J::Number(n) => n.to_string(),
                    J::Bool(b) => b.to_string(),
                    _ => return None,
                };
                parts.push(format!("{k} = {v}"));
            }
            Some(Val::Text(Cow::Owned(parts.join(", "))))
        }
        _ => None,
    }
}

/// Read the kind's keys from the entry, filling defaults (the safe one behind transaction or
/// statement pooling) and then the kind's derived settings.
pub fn read(
    m: &LoadedManifest,
    i: usize,
    a: &AppEntry,
    kind: &dyn AppKind,
    pool_mode: Option<&Setting<PoolMode>>,
    pgbouncer: Option<&crate::stack::Pgbouncer>,
) -> Result<FwSettings, InputError> {
    let mut out = FwSettings::default();
    let unsafe_mode = pool_mode.filter(|p| p.value != PoolMode::Session);
    for def in kind.keys() {
        let value = match raw(a, def.name) {
            Some(v) => {
                let Some(val) = parse(def.ty, &v) else {
                    return Err(value_error(
                        m,
                        i,
                        def.name,
                        format!(
                            "`{}` of app `{}` must be {}, not {v}",
                            def.name,
                            a.name,
                            def.ty.describe()
                        ),
                    ));
                };
                let p = path(&["apps", &i.to_string(), def.name]);
                Setting::new(
                    val,
                    match m.loc(&p) {
                        Some(l) => Origin::Manifest(l),
                        None => Origin::Default("written without a place"),
                    },
                )
            }
            None => match &def.default {
                Dflt::Own(v, why) => Setting::new(v.clone(), Origin::Default(why)),
                Dflt::Safe { own, safe, why } => match unsafe_mode {
                    Some(mode) => Setting::new(
                        safe.clone(),
                        Origin::Derived {
                            formula: format!(
                                "{safe} behind PgBouncer's {} pooling: {why}",
                                mode.value.as_str()
                            ),
                            inputs: mode.loc().cloned().into_iter().collect(),
                        },
                    ),
                    None => Setting::new(
                        own.clone(),
                        Origin::Default("the framework's own default (session pooling or direct)"),
                    ),
                },
                Dflt::Derived => continue,
            },
        };
        out.set(def.name, value);
    }
    let cx = super::KindCx {
        pool_mode,
        pgbouncer: pgbouncer.map(|b| (b.release(), b.max_prepared_statements.as_ref())),
    };
    kind.derive(&mut out, &cx);
    if let Err((key, message, help)) = kind.check(&out) {
        return Err(value_error(m, i, key, format!("app `{}`: {message}", a.name)).with_help(help));
    }
    Ok(out)
}
