//! The apply plan: what `render` changes on disk, setting by setting, and how each change takes
//! effect — old files (read with the readers `check` uses) against the files rendered from the
//! resolved [`Stack`] → [`Change`]s → ordered [`Step`]s. How a setting takes effect comes from the
//! catalogs ([`classify`]); this module only compares and orders.

pub mod classify;
mod commands;
pub mod read;
pub mod show;
mod start;
pub mod steps;

use crate::auth::SecretKind;
use crate::catalog::pgbouncer::Section;
use crate::render::existing::secret_types;
use crate::render::{FileKind, RenderPlan};
use crate::source::display_path;
use crate::stack::Stack;
use classify::{PgEffect, PgbEffect, Reach};
use read::{Entry, Settings};
use std::path::Path;
pub use steps::{Step, StepAction};

/// Which part of the stack a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Component {
    Postgres,
    Roles,
    Pgbouncer,
    App,
}

impl Component {
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Postgres => "postgres",
            Component::Roles => "roles",
            Component::Pgbouncer => "pgbouncer",
            Component::App => "app",
        }
    }
}

/// What one change needs to take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Restart,
    Reload,
    ApplySql,
    RestartApp,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Restart => "restart",
            Action::Reload => "reload",
            Action::ApplySql => "apply-sql",
            Action::RestartApp => "restart-app",
        }
    }
}

/// One setting that differs between the file on disk and the rendered one.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub component: Component,
    /// The file, as the user should read its path.
    pub file: String,
    /// `[databases]` / `[users]` / `[peers]` for those pgbouncer.ini entries.
    pub section: Option<Section>,
    /// The parameter or option as the server knows it; an entry's or user's name; for an env
    /// file, the app's name (the variable is in `variable`).
    pub setting: String,
    pub variable: Option<String>,
    /// Values as written; `None` when absent. A secret's value is never kept: it reads "changed".
    pub old: Option<String>,
    pub new: Option<String>,
    pub secret: bool,
    pub action: Action,
    /// Why this action (`context postmaster`, `RELOAD ignores it in PgBouncer 1.18`).
    pub reason: String,
    /// PostgreSQL reload-only changes: which sessions see the new value.
    pub reach: Option<Reach>,
    /// PgBouncer restart-only changes that move where it listens.
    pub moves_listener: bool,
}

/// The value shown for a secret setting.
pub const SECRET: &str = "changed";

/// Every change, and the steps that apply them in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Nothing was on disk: the steps are the start order.
    pub first_render: bool,
    pub changes: Vec<Change>,
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.steps.is_empty()
    }
}

/// Compare what is on disk with `rendered` (call it before anything is written).
pub fn build(stack: &Stack, rendered: &RenderPlan) -> Plan {
    let unbuilt = rendered.unbuilt_secrets.entries();
    let on_disk = rendered.files.iter().any(|f| f.path.exists())
        || unbuilt
            .iter()
            .any(|(_, e)| e.as_ref().is_some_and(|(p, _)| p.exists()));
    if !on_disk {
        return Plan {
            first_render: true,
            changes: Vec::new(),
            steps: start::start_order(stack, rendered),
        };
    }
    let mut changes = Vec::new();
    for file in &rendered.files {
        // Monitoring files change no server: Prometheus and Grafana load them (README).
        // Deploy files take effect through their own tools (docker compose, kubectl).
        if matches!(
            file.kind,
            FileKind::Monitoring { .. } | FileKind::Deploy { .. }
        ) {
            continue;
        }
        let old = crate::fsutil::read_bounded(&file.path, crate::formats::text::MAX_FILE_BYTES)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        if old.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        changes.extend(diff(
            stack,
            &file.kind,
            &file.path,
            old.as_deref(),
            &file.contents,
        ));
    }
    for (kind, expected) in unbuilt {
        if let Some((path, users)) = expected {
            changes.extend(diff_unbuilt(stack, &kind, path, users));
        }
    }
    // PostgreSQL, roles, PgBouncer, apps: the order the steps run in (stable within a file).
    changes.sort_by_key(|c| c.component);
    let steps = steps::order(stack, &changes);
    Plan {
        first_render: false,
        changes,
        steps,
    }
}

fn settings(stack: &Stack, kind: &FileKind, path: &Path, text: &str) -> Settings {
    match kind {
        FileKind::PostgresqlConf => read::postgres(path, text, stack.postgres.major()),
        FileKind::PgbouncerIni => read::pgbouncer(
            path,
            text,
            stack.pgbouncer.as_ref().and_then(|b| b.release()),
        ),
        FileKind::Userlist => read::userlist(text),
        FileKind::RolesSql => read::roles(text),
        FileKind::Env { .. } => read::env(path, text),
        FileKind::AppSettings { .. } | FileKind::Monitoring { .. } | FileKind::Deploy { .. } => {
            Settings::default()
        }
    }
}

fn component(kind: &FileKind) -> Component {
    match kind {
        FileKind::PostgresqlConf => Component::Postgres,
        FileKind::PgbouncerIni | FileKind::Userlist => Component::Pgbouncer,
        FileKind::RolesSql => Component::Roles,
        // Not reached: `build` leaves monitoring and deploy files out of the plan.
        FileKind::Env { .. }
        | FileKind::AppSettings { .. }
        | FileKind::Monitoring { .. }
        | FileKind::Deploy { .. } => Component::App,
    }
}

/// The changes between `old` (`None`: no file yet) and `new`, setting by setting.
fn diff(stack: &Stack, kind: &FileKind, path: &Path, old: Option<&str>, new: &str) -> Vec<Change> {
    let before = old
        .map(|t| settings(stack, kind, path, t))
        .unwrap_or_default();
    let after = settings(stack, kind, path, new);
    let mut pairs: Vec<(Option<&Entry>, Option<&Entry>)> = Vec::new();
    for (key, entry) in after.iter() {
        let was = before.get(key);
        if was.is_none_or(|w| w.normalized != entry.normalized) {
            pairs.push((was, Some(entry)));
        }
    }
    for (key, entry) in before.iter() {
        if after.get(key).is_none() {
            pairs.push((Some(entry), None));
        }
    }
    let mut out: Vec<Change> = pairs
        .into_iter()
        .filter_map(|(was, now)| {
            let entry = now.or(was)?;
            let secret = was.is_some_and(|e| e.secret) || now.is_some_and(|e| e.secret);
            let shown = |e: Option<&Entry>| {
                e.map(|e| {
                    if secret {
                        SECRET.to_string()
                    } else {
                        e.value.clone()
                    }
                })
            };
            Some(change(
                stack,
                kind,
                path,
                entry,
                shown(was),
                shown(now),
                secret,
            ))
        })
        .collect();
    // The files differ, but no setting does (the statements around the verifiers, a template's
    // comments): roles.sql still has to run for its statements to be in effect.
    if out.is_empty() && matches!(kind, FileKind::RolesSql) && old.is_some() {
        out.push(Change {
            component: Component::Roles,
            file: display_path(path),
            section: None,
            setting: "roles.sql".into(),
            variable: None,
            old: None,
            new: None,
            secret: false,
            action: Action::ApplySql,
            reason: "its statements changed".into(),
            reach: None,
            moves_listener: false,
        });
    }
    // An app's settings file is read whole by its framework at start.
    if let FileKind::AppSettings { app } = kind {
        out.push(Change {
            component: Component::App,
            file: display_path(path),
            section: None,
            setting: app.clone(),
            variable: path.file_name().map(|n| n.to_string_lossy().into_owned()),
            old: None,
            new: None,
            secret: false,
            action: Action::RestartApp,
            reason: "the framework reads its settings file at start".into(),
            reach: None,
            moves_listener: false,
        });
    }
    out
}

/// A secret file whose passwords are not available: users and secret types only.
fn diff_unbuilt(
    stack: &Stack,
    kind: &FileKind,
    path: &Path,
    expected: &[(String, SecretKind)],
) -> Vec<Change> {
    let on_disk = crate::fsutil::read_bounded(path, crate::formats::text::MAX_FILE_BYTES)
        .map(|b| secret_types(kind, &String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    let mut out = Vec::new();
    let entry = |user: &str| Entry {
        section: None,
        name: user.to_string(),
        value: String::new(),
        normalized: String::new(),
        secret: true,
    };
    let secret = |k: &SecretKind| Some(format!("{SECRET} ({})", k.as_str()));
    for (user, k) in expected {
        match on_disk.get(user) {
            Some(was) if was == k => {}
            was => out.push(change(
                stack,
                kind,
                path,
                &entry(user),
                was.and_then(secret),
                secret(k),
                true,
            )),
        }
    }
    for (user, k) in &on_disk {
        if !expected.iter().any(|(u, _)| u == user) {
            out.push(change(
                stack,
                kind,
                path,
                &entry(user),
                secret(k),
                None,
                true,
            ));
        }
    }
    out
}

fn change(
    stack: &Stack,
    kind: &FileKind,
    path: &Path,
    entry: &Entry,
    old: Option<String>,
    new: Option<String>,
    secret: bool,
) -> Change {
    let mut c = Change {
        component: component(kind),
        file: display_path(path),
        section: entry.section,
        setting: entry.name.clone(),
        variable: None,
        old,
        new,
        secret,
        action: Action::Reload,
        reason: String::new(),
        reach: None,
        moves_listener: false,
    };
    match kind {
        FileKind::PostgresqlConf => {
            let major = stack.postgres.major();
            match classify::postgres(major, &entry.name) {
                Some(effect) => {
                    c.reason = effect.reason();
                    if let PgEffect::Reload { reach, .. } = effect {
                        c.reach = Some(reach);
                    } else {
                        c.action = Action::Restart;
                    }
                }
                None => {
                    c.action = Action::Restart;
                    c.reason = format!(
                        "not a parameter of PostgreSQL {}: a restart is the only sure way",
                        major.map_or("(any supported major)".into(), |m| m.to_string())
                    );
                }
            }
        }
        FileKind::PgbouncerIni => {
            let version = stack.pgbouncer.as_ref().and_then(|b| b.release());
            let release =
                version.map_or("any supported release".into(), |v| format!("PgBouncer {v}"));
            match entry.section {
                Some(section) => {
                    c.reason = format!("RELOAD re-reads {section}");
                }
                None => match classify::pgbouncer(version, &entry.name) {
                    Some(PgbEffect::Reload) => c.reason = format!("RELOAD applies it in {release}"),
                    Some(effect) => {
                        c.action = Action::Restart;
                        c.moves_listener = effect == PgbEffect::RestartListening;
                        c.reason = format!("RELOAD ignores it in {release}");
                    }
                    None => {
                        c.action = Action::Restart;
                        c.reason =
                            format!("not an option of {release}: a restart is the only sure way");
                    }
                },
            }
        }
        FileKind::Userlist => c.reason = "RELOAD re-reads auth_file".into(),
        FileKind::RolesSql => {
            c.action = Action::ApplySql;
            c.reason = "roles.sql runs with psql".into();
        }
        FileKind::Env { app } => {
            c.action = Action::RestartApp;
            c.variable = Some(entry.name.clone());
            c.setting = app.clone();
            c.reason = "the app reads its environment at start".into();
        }
        FileKind::Monitoring { .. } => {
            c.reason = "Prometheus reads rule files on reload (SIGHUP or /-/reload)".into();
        }
        // Built whole in `diff`.
        FileKind::AppSettings { .. } => {}
        // Not planned (filtered out in `build`).
        FileKind::Deploy { .. } => {}
    }
    c
}
