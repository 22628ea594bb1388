//! Hand-written `.env` files of the app kinds: which framework's conventions a file follows
//! (the variables a kind's [`KeyDef::env`] names, and the DATABASE_URL query keys of the kinds
//! that read their settings from the URL), and its settings with their places.

use super::{AppKind, Dflt, FRAMEWORKS, Framework, FwSettings, KeyDef, KindCx, Ty, Val};
use crate::diag::{Diagnostic, Severity};
use crate::formats::dotenv::{EnvEntry, EnvFile};
use crate::stack::{Origin, Setting};
use crate::units::Duration;
use std::borrow::Cow;

/// Whether a kind's key lives in the query of a URL variable (DATABASE_URL, or the JDBC URL in
/// SPRING_DATASOURCE_URL) rather than in a variable of its own.
fn in_url(var: &str) -> bool {
    var == "DATABASE_URL" || var.ends_with("_URL")
}

/// The query of the URL in `var` as (key, value) pairs.
fn query(env: &EnvFile, var: &str) -> Vec<(String, String)> {
    let Some(url) = env.get(var) else {
        return Vec::new();
    };
    let Some((_, q)) = url.value.split_once('?') else {
        return Vec::new();
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Where a key's value comes from in the file: its own variable, or the URL's query.
fn source<'e>(def: &KeyDef, env: &'e EnvFile) -> Option<(String, &'e EnvEntry)> {
    if in_url(def.env) {
        let url = env.get(def.env)?;
        query(env, def.env)
            .into_iter()
            .find(|(k, _)| k == def.name)
            .map(|(_, v)| (v, url))
    } else if !def.env.is_empty() {
        env.get(def.env).map(|e| (e.value.clone(), e))
    } else {
        None
    }
}

/// The variables and URL keys of the default kind (SQLAlchemy), which tell no kind apart.
fn shared(name: &str) -> bool {
    super::default_kind().keys().iter().any(|d| d.env == name)
        || ["DATABASE_URL", "USE_PGBOUNCER"].contains(&name)
}

/// The kind whose conventions the file follows most (its own variables and URL keys present),
/// when one does beyond SQLAlchemy's.
pub fn detect(env: &EnvFile) -> Option<&'static dyn Framework> {
    let mut best: Option<(usize, &'static dyn Framework)> = None;
    for kind in FRAMEWORKS.iter().copied() {
        let score = kind
            .keys()
            .iter()
            .filter(|d| d.env == "DATABASE_URL" || !shared(d.env))
            .filter(|d| source(d, env).is_some())
            .count();
        if score > 0 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, kind));
        }
    }
    best.map(|(_, k)| k)
}

fn parse(ty: Ty, text: &str) -> Option<Val> {
    let t = text.trim();
    match ty {
        Ty::Count => t.parse().ok().map(Val::Int),
        Ty::CountOrNone if t.eq_ignore_ascii_case("none") => Some(Val::Nothing),
        Ty::CountOrNone => t.parse().ok().map(Val::Int),
        Ty::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(Val::Bool(true)),
            "false" | "0" | "no" => Some(Val::Bool(false)),
            _ => None,
        },
        Ty::Secs => t
            .parse::<f64>()
            .ok()
            .filter(|f| *f >= 0.0 && f.is_finite())
            .and_then(|f| Duration::parse(&format!("{f}s")).ok())
            .or_else(|| Duration::parse(t).ok())
            .map(Val::Secs),
        Ty::Choice(words) => words
            .iter()
            .find(|w| **w == t)
            .map(|w| Val::Text(Cow::Borrowed(w))),
        Ty::Text | Ty::Table => Some(Val::Text(Cow::Owned(t.to_string()))),
    }
}

/// The kind's settings as the file gives them (placed at the variable's value, or at
/// DATABASE_URL for a URL key); what it leaves out is the framework's own default, since that is
/// what the app runs with. A value the framework cannot read is CAT002.
pub fn settings(kind: &dyn AppKind, env: &EnvFile, findings: &mut Vec<Diagnostic>) -> FwSettings {
    let mut out = FwSettings::default();
    for def in kind.keys() {
        let value = match source(def, env) {
            Some((text, e)) => match parse(def.ty, &text) {
                Some(v) => Setting::new(v, Origin::Imported(e.value_loc.clone())),
                None => {
                    findings.push(
                        Diagnostic::new(
                            "CAT002",
                            Severity::Error,
                            format!(
                                "{} `{}` = {text} is not a value {} reads for {}",
                                e.key,
                                def.name,
                                kind.name(),
                                def.name
                            ),
                        )
                        .at(Some(e.value_loc.clone())),
                    );
                    continue;
                }
            },
            None => match &def.default {
                Dflt::Own(v, why) => Setting::new(v.clone(), Origin::Default(why)),
                Dflt::Safe { own, .. } => Setting::new(
                    own.clone(),
                    Origin::Default("not set in the .env file: the framework's own default"),
                ),
                Dflt::Derived => continue,
            },
        };
        out.set(def.name, value);
    }
    kind.derive(
        &mut out,
        &KindCx {
            pool_mode: None,
            pgbouncer: None,
        },
    );
    // A combination the framework refuses at start (Django's pool with CONN_MAX_AGE, Rails'
    // pool and max_connections apart): the same check a manifest gets, as a finding.
    if let Err((key, message, help)) = kind.check(&out) {
        let at = out
            .get(key)
            .and_then(|s| s.loc().cloned())
            .or_else(|| env.get("DATABASE_URL").map(|e| e.value_loc.clone()));
        findings.push(
            Diagnostic::new(
                "CAT002",
                Severity::Error,
                format!("{} refuses this .env: {message}", kind.name()),
            )
            .at(at)
            .help(help),
        );
    }
    out
}
