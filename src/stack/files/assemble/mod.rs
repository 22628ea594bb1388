//! The checked settings of hand-written files → the [`Stack`] every rule reads.
//!
//! Values not written anywhere take the *servers'* defaults (PgBouncer's `auth_type = md5`,
//! `pool_mode = session`; PostgreSQL's built-ins), never poolstack's own: the files are what the
//! servers read.

mod pgbouncer;
mod pools;
mod postgres;
#[cfg(test)]
mod tests;

use super::apps;
use super::{Input, Read, Versions};
use crate::catalog::pgbouncer::Section;
use crate::diag::Diagnostic;
use crate::manifest::FailOn;
use crate::source::Loc;
use crate::stack::handwritten::HandUserlist;
use crate::stack::{Coverage, LintConfig, Origin, Outputs, Setting, Stack};
use pgbouncer::pgbouncer;
use pools::{databases, users};
use postgres::{postgres, stored_secret};
use std::collections::BTreeMap;
use std::path::Path;

/// `versions` are the ones in force; `flags` the command line's (which win over comments).
pub(super) fn stack(
    mut read: Read,
    versions: Versions,
    flags: &Versions,
    inputs: &[Input],
    cwd: &Path,
) -> Stack {
    let mut findings: Vec<Diagnostic> = Vec::new();
    let sources = &read.sources;
    let ini = read
        .ini
        .as_ref()
        .map(|doc| super::pgbouncer_ini::check(doc, versions.pgbouncer, sources));
    let conf = (!read.confs.is_empty()).then(|| {
        let docs: Vec<_> = read.confs.iter().collect();
        super::postgresql_conf::check_all(&docs, versions.postgres, sources)
    });
    if let Some(i) = &ini {
        findings.extend(i.findings.iter().cloned());
    }
    if let Some(c) = &conf {
        findings.extend(c.findings.iter().cloned());
    }
    let userlist_file = read
        .userlist
        .as_ref()
        .map(|(file, parsed)| HandUserlist::from_parsed(*file, parsed, &sources.get(*file).text));

    let postgres = postgres(
        conf.as_ref(),
        read.postgres_described,
        versions.postgres,
        version_origin(&read, flags.postgres.is_some(), true),
    );
    // Where findings about unset options point: the [pgbouncer] header, else the file's start.
    let section = read.ini.as_ref().and_then(|doc| {
        doc.sections
            .iter()
            .find(|s| s.section == Some(Section::Pgbouncer))
            .map(|s| s.loc.clone())
            .or_else(|| doc.files.first().map(|&file| Loc { file, span: 0..0 }))
    });
    let pgbouncer = ini.as_ref().map(|i| {
        pgbouncer(
            i,
            section,
            versions.pgbouncer,
            version_origin(&read, flags.pgbouncer.is_some(), false),
        )
    });

    let stored = stored_secret(&postgres);
    let users = users(
        userlist_file.as_ref(),
        ini.as_ref(),
        pgbouncer.as_ref(),
        stored.as_ref(),
    );
    let databases = match (&ini, &pgbouncer) {
        (Some(i), Some(b)) => databases(i, b, &users),
        _ => Vec::new(),
    };
    let listen_port = pgbouncer.as_ref().map(|b| b.listen_port.value);
    let mut apps = Vec::new();
    for (file, env) in &read.envs {
        findings.extend(env.findings.iter().cloned());
        if let Some(a) = apps::app(*file, env, sources, listen_port, &mut findings) {
            apps.push(a);
        }
    }
    for app in &mut apps {
        target_without_url(app, &databases, &users);
    }
    // Two `.env` files with the same name in different directories: name the apps by path.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for app in &apps {
        *seen.entry(app.name.value.clone()).or_default() += 1;
    }
    for app in &mut apps {
        if seen.get(&app.name.value).is_some_and(|&n| n > 1) {
            app.name.value = crate::source::display_path(&app.env_file.value);
        }
    }
    let comments = read
        .directives
        .iter()
        .flat_map(|d| d.suppressions.iter().cloned())
        .collect();
    let default_path = |p: &str| {
        Setting::new(
            cwd.join(p),
            Origin::Default("hand-written files are not rendered"),
        )
    };
    let coverage = Coverage {
        hosts: false,
        users: userlist_file.is_some(),
        roles: false,
    };
    let name = inputs
        .first()
        .map(|i| crate::source::display_path(&i.path))
        .unwrap_or_default();
    // The texts move into the stack (a copy of a 10,000-line userlist costs as much as a rule).
    let sources = std::mem::take(&mut read.sources);
    let stack = Stack {
        sources,
        manifest_path: None,
        name: Setting::new(name, Origin::Default("the first file checked")),
        outputs: Outputs {
            base: cwd.to_path_buf(),
            pgbouncer_ini: default_path(crate::defaults::OUT_PGBOUNCER_INI),
            userlist: default_path(crate::defaults::OUT_USERLIST),
            postgresql_conf: default_path(crate::defaults::OUT_POSTGRESQL_CONF),
            roles_sql: default_path(crate::defaults::OUT_ROLES_SQL),
            templates: None,
        },
        postgres,
        pgbouncer,
        databases,
        users,
        apps,
        clients: Vec::new(),
        lint: LintConfig {
            ignore: Vec::new(),
            comments,
            fail_on: Setting::new(FailOn::Error, Origin::Default("poolstack's default")),
            severity: BTreeMap::new(),
        },
        findings,
        userlist_file,
        coverage,
        monitoring: None,
        deploy: None,
    };
    // What was read only to build the stack goes when the process ends: freeing 5,000
    // [databases] entries one by one would cost more than the checks on them.
    std::mem::forget(ini);
    std::mem::forget(read);
    stack
}

/// An app whose `.env` has no DATABASE_URL (the seed's config.py builds it) connects to the
/// database and as the user the files name, when they name exactly one of each: the only
/// `[databases]` entry (not the `*` fallback) and the only user (userlist.txt, or the entry's
/// forced `user=`). Otherwise both stay unknown and the rules that need them stay silent.
fn target_without_url(
    app: &mut crate::stack::App,
    databases: &[crate::stack::Database],
    users: &[crate::stack::User],
) {
    if !app.url.database.value.is_empty() || !app.user.value.is_empty() {
        return;
    }
    let [db] = databases else { return };
    if db.name.value == "*" {
        return;
    }
    let user = match (&db.forced_user, users) {
        (Some(u), _) => u,
        (None, [u]) => &u.name,
        _ => return,
    };
    let derived = |what: &str, from: &Setting<String>| {
        Setting::new(
            from.value.clone(),
            Origin::Derived {
                formula: format!("no DATABASE_URL: the files' only {what}"),
                inputs: from.loc().cloned().into_iter().collect(),
            },
        )
    };
    app.url.database = derived("[databases] entry", &db.name);
    app.database = app.url.database.clone();
    app.user = derived("user", user);
}

/// Where a version came from: the `poolstack:` comment that declared it, else the flag.
fn version_origin(read: &Read, flag: bool, postgres: bool) -> Origin {
    if flag {
        return Origin::Default(if postgres {
            "given with --pg-version"
        } else {
            "given with --pgbouncer-version"
        });
    }
    let declared = read.directives.iter().find_map(|d| {
        if postgres {
            d.postgres_version.as_ref().map(|v| v.loc.clone())
        } else {
            d.pgbouncer_version.as_ref().map(|v| v.loc.clone())
        }
    });
    match declared {
        Some(loc) => Origin::Imported(loc),
        None if postgres => Origin::Default("given with --pg-version"),
        None => Origin::Default("given with --pgbouncer-version"),
    }
}

fn imported(loc: &Loc) -> Origin {
    Origin::Imported(loc.clone())
}
