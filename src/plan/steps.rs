//! Ordering the changes into steps that never break the stack midway:
//!
//! 1. PostgreSQL (restart if any changed parameter needs it, else reload) — first, so that a
//!    raised `max_connections` is in effect before PgBouncer's pools grow into it; last instead
//!    when `max_connections` goes down, after PgBouncer's pools have shrunk;
//! 2. roles.sql — a changed password is in PostgreSQL before PgBouncer presents it;
//! 3. PgBouncer (restart if any changed option is one RELOAD ignores, else RELOAD);
//! 4. RECONNECT on PgBouncer's console when a PostgreSQL parameter reaches only new sessions and
//!    neither server restarted (pooled server connections keep the old value);
//! 5. each app whose env file changed — last, once everything it connects to is ready.

use super::classify::{self, OnlineRestart, Reach};
use super::commands::{
    client_port, console, ini_path, pending_check, pg_psql, pg_reload, pgb_reload, sh,
};
use super::{Action, Change, Component};
use crate::source::display_path;
use crate::stack::Stack;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepAction {
    Start,
    Restart,
    Reload,
    ApplySql,
    Reconnect,
    StartApp,
    RestartApp,
}

impl StepAction {
    pub fn as_str(self) -> &'static str {
        match self {
            StepAction::Start => "start",
            StepAction::Restart => "restart",
            StepAction::Reload => "reload",
            StepAction::ApplySql => "apply-sql",
            StepAction::Reconnect => "reconnect",
            StepAction::StartApp => "start-app",
            StepAction::RestartApp => "restart-app",
        }
    }
}

/// One thing to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub component: Component,
    pub action: StepAction,
    /// The app, for app steps.
    pub app: Option<String>,
    pub title: String,
    /// Commands to run, in order (placeholders like `$PGDATA` are the operator's).
    pub commands: Vec<String>,
    pub notes: Vec<String>,
    /// The settings this step applies.
    pub settings: Vec<String>,
}

impl Step {
    pub(super) fn new(component: Component, action: StepAction, title: String) -> Step {
        Step {
            component,
            action,
            app: None,
            title,
            commands: Vec::new(),
            notes: Vec::new(),
            settings: Vec::new(),
        }
    }
}

fn names(changes: &[&Change]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in changes {
        let name = match (&c.section, &c.variable) {
            (Some(section), _) => format!("{section} {}", c.setting),
            (None, Some(var)) => var.clone(),
            _ if c.file.ends_with("userlist.txt") => format!("userlist {}", c.setting),
            _ => c.setting.clone(),
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn number(s: Option<&String>) -> Option<f64> {
    s?.trim().trim_matches('\'').parse().ok()
}

/// The steps that apply `changes`.
pub fn order(stack: &Stack, changes: &[Change]) -> Vec<Step> {
    let of =
        |c: Component| -> Vec<&Change> { changes.iter().filter(|x| x.component == c).collect() };
    let created = |c: Component| {
        let list = of(c);
        !list.is_empty() && list.iter().all(|x| x.old.is_none()) && {
            // A new file, not one new setting in an existing file: every setting of it is new.
            let files: Vec<&str> = list.iter().map(|x| x.file.as_str()).collect();
            files.iter().all(|f| !std::path::Path::new(f).exists())
        }
    };
    let mut steps = Vec::new();

    let pg = of(Component::Postgres);
    let pg_restart = pg.iter().any(|c| c.action == Action::Restart);
    let pg_step = (!pg.is_empty())
        .then(|| postgres_step(stack, &pg, pg_restart, created(Component::Postgres)));
    let shrinking = pg.iter().any(|c| {
        c.setting == "max_connections"
            && matches!((number(c.old.as_ref()), number(c.new.as_ref())), (Some(a), Some(b)) if b < a)
    });
    let pgb = of(Component::Pgbouncer);
    let pgb_restart = pgb.iter().any(|c| c.action == Action::Restart);

    if !shrinking {
        steps.extend(pg_step.clone());
    }
    let roles = of(Component::Roles);
    if !roles.is_empty() {
        let mut s = Step::new(
            Component::Roles,
            StepAction::ApplySql,
            "Apply roles.sql on PostgreSQL (as a superuser)".into(),
        );
        s.commands.push(format!(
            "{} -v ON_ERROR_STOP=1 -f {}",
            pg_psql(stack),
            sh(&display_path(&stack.outputs.roles_sql.value))
        ));
        if pgb.iter().any(|c| c.secret) {
            s.notes.push("before PgBouncer reloads the userlist: the new password must be in PostgreSQL first".into());
        }
        s.settings = names(&roles);
        steps.push(s);
    }
    if !pgb.is_empty() {
        let mut s = pgbouncer_step(stack, &pgb, pgb_restart, created(Component::Pgbouncer));
        // A new secret for a role poolstack does not manage: PostgreSQL must have it first.
        let unmanaged: Vec<&str> = pgb
            .iter()
            .filter(|c| c.secret && c.section.is_none() && c.file.ends_with("userlist.txt"))
            .filter(|c| stack.user(&c.setting).is_some_and(|u| !u.role.value))
            .map(|c| c.setting.as_str())
            .collect();
        if !unmanaged.is_empty() {
            s.notes.insert(
                0,
                format!(
                    "first change the password of {} in PostgreSQL (ALTER ROLE … PASSWORD): role = false, so roles.sql does not",
                    unmanaged.join(", ")
                ),
            );
        }
        steps.push(s);
    }
    if let Some(mut s) = pg_step.filter(|_| shrinking) {
        s.notes.insert(
            0,
            "last: max_connections goes down, so PgBouncer's pools shrink first".into(),
        );
        steps.push(s);
    }
    let new_sessions: Vec<&Change> = pg
        .iter()
        .copied()
        .filter(|c| c.reach == Some(Reach::NewSessionsOnly))
        .collect();
    if !new_sessions.is_empty() && !pg_restart && !pgb_restart && stack.pgbouncer.is_some() {
        let mut s = Step::new(
            Component::Pgbouncer,
            StepAction::Reconnect,
            "Renew PgBouncer's server connections (the new values reach new sessions only)".into(),
        );
        s.commands
            .extend(console(stack, client_port(stack), "RECONNECT"));
        let lifetime = stack
            .pgbouncer
            .as_ref()
            .and_then(|b| b.option_or_default("server_lifetime"))
            .map(|o| o.ini_text);
        s.notes.push(format!(
            "or wait: server_lifetime{} closes each server connection once it is that old",
            lifetime.map_or(String::new(), |l| format!(" ({l} s)"))
        ));
        s.settings = names(&new_sessions);
        steps.push(s);
    }
    for app in &stack.apps {
        let name = &app.name.value;
        let list: Vec<&Change> = changes
            .iter()
            .filter(|c| c.component == Component::App && &c.setting == name)
            .collect();
        if list.is_empty() {
            continue;
        }
        let new = list.iter().all(|c| c.old.is_none())
            && !stack.outputs.base.join(&app.env_file.value).exists();
        let (action, verb) = if new {
            (StepAction::StartApp, "Start")
        } else {
            (StepAction::RestartApp, "Restart")
        };
        let mut s = Step::new(
            Component::App,
            action,
            format!(
                "{verb} app {name} (its pool reads {} at start)",
                display_path(&stack.outputs.base.join(&app.env_file.value))
            ),
        );
        s.app = Some(name.clone());
        s.notes
            .push("replicas one at a time keep it serving".into());
        s.settings = names(&list);
        steps.push(s);
    }
    steps
}

fn postgres_step(stack: &Stack, pg: &[&Change], restart: bool, created: bool) -> Step {
    let fragment = display_path(&stack.outputs.postgresql_conf.value);
    let mut s = if created {
        let mut s = Step::new(
            Component::Postgres,
            StepAction::Restart,
            format!("Include {fragment} in PostgreSQL's configuration and restart it"),
        );
        s.commands
            .push("pg_ctl restart -D \"$PGDATA\" -m fast".into());
        s.notes.push(pending_check(stack));
        s
    } else if restart {
        let needs: Vec<&Change> = pg
            .iter()
            .copied()
            .filter(|c| c.action == Action::Restart)
            .collect();
        let mut s = Step::new(
            Component::Postgres,
            StepAction::Restart,
            format!(
                "Restart PostgreSQL ({} need{} it; a reload would leave {} pending)",
                names(&needs).join(", "),
                if needs.len() == 1 { "s" } else { "" },
                if needs.len() == 1 { "it" } else { "them" }
            ),
        );
        s.commands
            .push("pg_ctl restart -D \"$PGDATA\" -m fast".into());
        s.notes.push("or restart its service (systemctl, docker compose restart …); open transactions are cut, PgBouncer reconnects".into());
        s.notes.push(pending_check(stack));
        s
    } else {
        let mut s = Step::new(
            Component::Postgres,
            StepAction::Reload,
            "Reload PostgreSQL (no restart needed)".into(),
        );
        s.commands.push(pg_reload(stack));
        s.notes.push("or: pg_ctl reload -D \"$PGDATA\"".into());
        let unless_set: Vec<&Change> = pg
            .iter()
            .copied()
            .filter(|c| c.reach == Some(Reach::UnlessSetInSession))
            .collect();
        let new_only: Vec<&Change> = pg
            .iter()
            .copied()
            .filter(|c| c.reach == Some(Reach::NewSessionsOnly))
            .collect();
        if !new_only.is_empty() && stack.pgbouncer.is_none() {
            s.notes.push(format!(
                "{}: only new sessions take it; the apps' pooled connections keep the old value until their pool recycles them (pool_recycle) or the app restarts",
                names(&new_only).join(", ")
            ));
        }
        if !unless_set.is_empty() {
            s.notes.push(format!(
                "{}: running sessions take the new value too, except where a session, role or database sets its own (SET, ALTER ROLE … SET)",
                names(&unless_set).join(", ")
            ));
        }
        s
    };
    s.settings = names(pg);
    s
}

fn pgbouncer_step(stack: &Stack, pgb: &[&Change], restart: bool, created: bool) -> Step {
    let port = client_port(stack);
    let mut s = if created {
        let mut s = Step::new(
            Component::Pgbouncer,
            StepAction::Start,
            "Start PgBouncer".into(),
        );
        s.commands.push(format!("pgbouncer -d {}", ini_path(stack)));
        s
    } else if restart {
        let needs: Vec<&Change> = pgb
            .iter()
            .copied()
            .filter(|c| c.action == Action::Restart)
            .collect();
        let mut s = Step::new(
            Component::Pgbouncer,
            StepAction::Restart,
            format!(
                "Restart PgBouncer (RELOAD ignores {})",
                names(&needs).join(", ")
            ),
        );
        let moves = needs.iter().any(|c| c.moves_listener);
        let old_port = pgb
            .iter()
            .find(|c| c.setting == "listen_port" && c.section.is_none())
            .and_then(|c| c.old.as_ref()?.trim().parse::<u16>().ok())
            .unwrap_or(port);
        let instances = stack.pgbouncer.as_ref().map_or(1, |b| b.instances.value);
        if moves {
            s.commands.extend(console(stack, old_port, "SHUTDOWN"));
            s.commands.push(format!("pgbouncer -d {}", ini_path(stack)));
            s.notes.push("it moves where PgBouncer listens, so a rolling or online restart cannot keep the old address: clients reconnect to the new one".into());
        } else {
            let version = stack.pgbouncer.as_ref().and_then(|b| b.release());
            let how = classify::pgbouncer_restart(version);
            if instances > 1 {
                s.notes.push(format!(
                    "restart the {instances} instances one at a time: with so_reuseport the others keep serving port {port}"
                ));
                if how.sigterm_waits {
                    s.notes.push(
                        "stop each with SIGTERM: it waits for its clients to leave first".into(),
                    );
                }
            } else if how.online_restart == OnlineRestart::Supported {
                s.commands
                    .push(format!("pgbouncer -R -d {}", ini_path(stack)));
                s.notes.push("an online restart: the new process takes over the running one's connections (Unix; TLS connections are dropped); or stop and start it".into());
            } else {
                s.commands.extend(console(stack, port, "SHUTDOWN"));
                s.commands.push(format!("pgbouncer -d {}", ini_path(stack)));
                s.notes.push(format!(
                    "clients reconnect; to restart without dropping them, run several instances with so_reuseport (`instances = 2` in the manifest) and restart them one at a time{}",
                    match how.online_restart {
                        OnlineRestart::Deprecated => " (the online restart `-R` is deprecated since 1.20)",
                        _ => " (this release has no online restart `-R`)",
                    }
                ));
            }
        }
        s.notes.push(
            "or restart its service (systemctl restart pgbouncer, docker compose restart …)".into(),
        );
        s
    } else {
        let (commands, notes) = pgb_reload(stack, port);
        let mut s = Step::new(
            Component::Pgbouncer,
            StepAction::Reload,
            "RELOAD PgBouncer (no restart needed: clients stay connected)".into(),
        );
        s.commands = commands;
        s.notes = notes;
        s
    };
    s.settings = names(pgb);
    s
}

#[cfg(test)]
mod tests;
