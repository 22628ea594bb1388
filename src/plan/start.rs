//! A first render: nothing is on disk, so the plan is the order to start the stack in.

use super::Component;
use super::commands::{ini_path, pg_psql, sh};
use super::steps::{Step, StepAction};
use crate::render::{FileKind, RenderPlan};
use crate::source::display_path;
use crate::stack::Stack;

/// Nothing on disk yet: the order to start the stack in.
pub fn start_order(stack: &Stack, rendered: &RenderPlan) -> Vec<Step> {
    let mut steps = Vec::new();
    let fragment = display_path(&stack.outputs.postgresql_conf.value);
    let mut s = Step::new(
        Component::Postgres,
        StepAction::Start,
        "Start PostgreSQL with the fragment included".into(),
    );
    s.notes.push(format!(
        "copy {fragment} into the directory postgresql.conf names in `include_dir` (e.g. `include_dir = 'conf.d'`)"
    ));
    s.commands.push("pg_ctl start -D \"$PGDATA\"".into());
    steps.push(s);
    let roles = rendered.files.iter().any(|f| f.kind == FileKind::RolesSql)
        || rendered.expected_secrets.roles.is_some();
    if roles {
        let mut s = Step::new(
            Component::Roles,
            StepAction::ApplySql,
            "Create the roles: apply roles.sql (as a superuser)".into(),
        );
        s.commands.push(format!(
            "{} -v ON_ERROR_STOP=1 -f {}",
            pg_psql(stack),
            sh(&display_path(&stack.outputs.roles_sql.value))
        ));
        steps.push(s);
    }
    if stack.pgbouncer.is_some() {
        let mut s = Step::new(
            Component::Pgbouncer,
            StepAction::Start,
            "Start PgBouncer".into(),
        );
        s.commands.push(format!("pgbouncer -d {}", ini_path(stack)));
        s.notes.push(format!(
            "it reads {} (keep it readable only by PgBouncer's user)",
            display_path(&stack.outputs.userlist.value)
        ));
        steps.push(s);
    }
    for app in &stack.apps {
        let mut s = Step::new(
            Component::App,
            StepAction::StartApp,
            format!(
                "Start app {} with {}",
                app.name.value,
                display_path(&stack.outputs.base.join(&app.env_file.value))
            ),
        );
        s.app = Some(app.name.value.clone());
        steps.push(s);
    }
    steps
}
