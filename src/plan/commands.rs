//! The commands a step shows: psql on PostgreSQL as a superuser, PgBouncer's admin console for the
//! stack's admin user, each word quoted for the shell where it needs it.

use crate::source::display_path;
use crate::stack::Stack;

/// A word for the shell: bare when safe, else single-quoted.
pub(super) fn sh(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:@=+,%".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `psql` as a superuser on PostgreSQL.
pub(super) fn pg_psql(stack: &Stack) -> String {
    format!(
        "psql -h {} -p {} -U postgres -d postgres",
        sh(&stack.postgres.host.value),
        stack.postgres.port.value
    )
}

pub(super) fn pg_reload(stack: &Stack) -> String {
    format!("{} -c \"SELECT pg_reload_conf();\"", pg_psql(stack))
}

pub(super) fn pending_check(stack: &Stack) -> String {
    format!(
        "check: `{} -Atc \"SELECT name FROM pg_settings WHERE pending_restart\"` prints nothing",
        pg_psql(stack)
    )
}

/// A command on PgBouncer's admin console (`port`: where it listens at that moment).
pub(super) fn console(stack: &Stack, port: u16, command: &str) -> Option<String> {
    let pgb = stack.pgbouncer.as_ref()?;
    let admin = pgb.admin_users.first()?;
    Some(format!(
        "psql -h {} -p {port} -U {} -d pgbouncer -c \"{command};\"",
        sh(&pgb.host.value),
        sh(&admin.value)
    ))
}

/// RELOAD on the console, or SIGHUP where no admin user is declared.
pub(super) fn pgb_reload(stack: &Stack, port: u16) -> (Vec<String>, Vec<String>) {
    match console(stack, port, "RELOAD") {
        Some(c) => (
            vec![c],
            vec!["a bad line makes PgBouncer keep the lines before it: look for `config file loading failed` in its log".into()],
        ),
        None => {
            let pid = stack
                .pgbouncer
                .as_ref()
                .and_then(|b| b.pidfile.as_ref())
                .map_or("<pgbouncer pid>".to_string(), |p| format!("$(cat {})", sh(&p.value)));
            (
                vec![format!("kill -HUP {pid}")],
                vec!["no admin_users in the manifest (set `admin = true` on a user) to RELOAD on the console".into()],
            )
        }
    }
}

pub(super) fn client_port(stack: &Stack) -> u16 {
    stack.pgbouncer.as_ref().map_or(0, |b| b.client_port.value)
}

pub(super) fn ini_path(stack: &Stack) -> String {
    sh(&display_path(&stack.outputs.pgbouncer_ini.value))
}
