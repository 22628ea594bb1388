//! Manifest → [`Stack`]: defaults applied, values derived, `*.settings` checked against the
//! catalogs, and every effective value tagged with where it came from.
//!
//! One resolver per manifest table, called in order by [`resolve`]; they share [`Ctx`] (the
//! manifest and the findings so far).

mod apps;
mod clients;
mod databases;
mod deploy;
mod lint;
mod monitoring;
mod outputs;
mod pgbouncer;
mod postgres;
mod sqlalchemy;
mod startup;
#[cfg(test)]
mod testing;
mod users;

use super::settings::{self, RawSetting};
use super::*;
use crate::diag::InputError;
use crate::manifest::{LoadedManifest, Seg, path};
use std::path::Path;

pub(crate) use pgbouncer::PGB_FIRST_CLASS;
pub use pgbouncer::ini_name_problem;

struct Ctx<'a> {
    m: &'a LoadedManifest,
    findings: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn origin(&self, parts: &[&str]) -> Origin {
        match self.m.loc(&path(parts)) {
            Some(loc) => Origin::Manifest(loc),
            None => Origin::Default("written without a place"),
        }
    }

    fn loc(&self, parts: &[&str]) -> Option<Loc> {
        self.m.loc(&path(parts))
    }

    /// The manifest's value with its place, or the default.
    fn pick<T>(
        &self,
        parts: &[&str],
        value: Option<T>,
        default: T,
        why: &'static str,
    ) -> Setting<T> {
        match value {
            Some(v) => Setting::new(v, self.origin(parts)),
            None => Setting::new(default, Origin::Default(why)),
        }
    }

    fn opt<T>(&self, parts: &[&str], value: Option<T>) -> Option<Setting<T>> {
        value.map(|v| Setting::new(v, self.origin(parts)))
    }

    fn input_error(&self, parts: &[&str], key: bool, message: String) -> InputError {
        let p = path(parts);
        let loc = if key {
            self.m.key_loc(&p)
        } else {
            self.m.loc(&p)
        };
        match loc {
            Some(loc) => InputError::located(message, loc, &self.m.sources),
            None => InputError::new(message),
        }
    }

    /// The entries of a `*.settings` table, refusing first-class keys (exit 2).
    fn raw_settings<'t>(
        &self,
        table: Option<&'t toml::Table>,
        prefix: &[&str],
        first_class: &[&'static str],
        first_class_home: &str,
    ) -> Result<Vec<RawSetting<'t>>, InputError> {
        let Some(table) = table else {
            return Ok(Vec::new());
        };
        let mut flat = Vec::new();
        settings::flatten(table, &[], &mut flat);
        let mut out = Vec::new();
        for (name, segs, value) in flat {
            let mut parts: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
            parts.extend(segs);
            let p: Vec<Seg> = parts.iter().map(|s| Seg::Key(s.clone())).collect();
            // array indices in the prefix
            let p: Vec<Seg> = p
                .into_iter()
                .map(|s| match s {
                    Seg::Key(k) => match k.parse::<usize>() {
                        Ok(i) => Seg::Index(i),
                        Err(_) => Seg::Key(k),
                    },
                    other => other,
                })
                .collect();
            let key_loc = self.m.key_loc(&p);
            let value_loc = self.m.loc(&p);
            // PostgreSQL names are case-insensitive (`Port` is `port`); PgBouncer's are not.
            let same = |f: &str| {
                if prefix.first() == Some(&"postgres") {
                    f.eq_ignore_ascii_case(&name)
                } else {
                    f == name
                }
            };
            if let Some(first) = first_class.iter().find(|f| same(f)) {
                let msg = format!(
                    "`{name}` is a first-class key here: use {first_class_home} {first} instead of the settings table"
                );
                let err = match key_loc {
                    Some(loc) => InputError::located(msg, loc, &self.m.sources),
                    None => InputError::new(msg),
                };
                return Err(
                    err.with_help(format!("move it: `{first} = …` under {first_class_home}"))
                );
            }
            out.push(RawSetting {
                name,
                value,
                key_loc,
                value_loc,
            });
        }
        Ok(out)
    }
}

/// Resolve a loaded manifest. `out_dir` replaces the manifest's directory as the base of outputs.
pub fn resolve(m: &LoadedManifest, out_dir: Option<&Path>) -> Result<Stack, InputError> {
    let mut cx = Ctx {
        m,
        findings: Vec::new(),
    };
    let man = &m.manifest;

    let name = Setting::new(man.stack.name.clone(), cx.origin(&["stack", "name"]));
    let outputs = outputs::outputs(&cx, out_dir);
    outputs::check_paths(&cx)?;
    let postgres = postgres::postgres(&mut cx)?;
    // ---- PgBouncer
    let pgb_enabled = man
        .pgbouncer
        .as_ref()
        .is_some_and(|p| p.enabled != Some(false));
    let pgbouncer = match (&man.pgbouncer, pgb_enabled) {
        (Some(t), true) => Some(pgbouncer::pgbouncer(&mut cx, t)?),
        _ => None,
    };
    let databases = databases::databases(&mut cx, pgbouncer.as_ref())?;
    let users = users::users(
        &mut cx,
        &postgres.password_encryption,
        pgbouncer.as_ref(),
        &databases,
    )?;
    let mut pgbouncer = pgbouncer;
    users::console_users(&mut pgbouncer, &users);
    let apps = apps::apps(&cx, pgbouncer.as_ref(), &databases, &users)?;
    startup::ignore_startup_parameters(pgbouncer.as_mut(), &apps);
    let clients = clients::clients(&cx);
    let lint = lint::lint(&cx);

    if let Some(b) = &pgbouncer {
        cx.findings.extend(pgbouncer::ini_key_findings(
            pgbouncer::declared(b),
            &databases,
            &users,
        ));
    }
    sqlalchemy::connect_timeouts(&mut cx, &apps);
    let deploy = deploy::resolve(m, &name, man.postgres.version, pgbouncer.as_ref())?;
    let mut stack = Stack {
        sources: m.sources.clone(),
        manifest_path: Some(m.path.clone()),
        name,
        outputs,
        coverage: super::Coverage::FULL,
        postgres,
        pgbouncer,
        databases,
        users,
        apps,
        clients,
        lint,
        findings: Vec::new(),
        userlist_file: None,
        monitoring: monitoring::resolve_monitoring(m)?,
        deploy,
    };
    stack.postgres.max_connections = postgres::max_connections(&cx, &stack);
    postgres::first_class_params(&cx, &mut stack);
    super::derive::derive(&mut stack);
    let mut findings = cx.findings;
    findings.sort_by_key(|d| d.primary.as_ref().map(|l| (l.file, l.span.start)));
    stack.findings = findings;
    Ok(stack)
}
