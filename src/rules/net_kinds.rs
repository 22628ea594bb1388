//! NET004 — settings an app's driver sends as startup parameters. The app's kind
//! (`crate::apps`) lists them; this rule weighs them against PgBouncer's
//! ignore_startup_parameters.

use super::{Context, Rule};
use crate::diag::{Diagnostic, Severity};

pub const RULES: &[Rule] = &[Rule {
    code: "NET004",
    name: "startup-parameter-rejected",
    severity: Severity::Error,
    summary: "An app's driver sends a startup parameter PgBouncer rejects",
    doc: NET004_DOC,
    check: Some(startup_parameter_rejected),
}];

const NET004_DOC: &str = "\
Checks every app that connects through PgBouncer for settings its driver sends in the startup
packet (node-postgres statement_timeout, lock_timeout, idle_in_transaction_session_timeout and
options; pgjdbc 42.7.4 and older extra_float_digits). PgBouncer accepts only the parameters it
tracks (client_encoding, DateStyle, TimeZone, standard_conforming_strings, application_name, and
track_extra_parameters) and refuses the login for any other: `error: unsupported startup
parameter: statement_timeout` — unless ignore_startup_parameters lists it, where it is dropped
silently and the setting never applies (then a warning). Dropping extra_float_digits changes
nothing on PostgreSQL 12 and later, so for an app that sends it poolstack lists it in
ignore_startup_parameters itself unless the manifest sets that list, and says nothing once it is
listed.

How to fix: remove the setting from the app and set it on the role or the database
(`ALTER ROLE app SET statement_timeout = '5s'`); for old pgjdbc, upgrade it to 42.7.5 or add
extra_float_digits to ignore_startup_parameters.

Facts: reference/apps/facts.md §0 (startup packet), §4 (node-postgres) and §6 (pgjdbc).";

fn startup_parameter_rejected(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    let Some(pgb) = &stack.pgbouncer else {
        return;
    };
    let ignore = pgb.option("ignore_startup_parameters");
    let ignored = |name: &str| {
        ignore.is_some_and(|o| {
            o.ini_text
                .split([',', ' '])
                .any(|w| w.trim().eq_ignore_ascii_case(name))
        })
    };
    for app in stack.apps.iter().filter(|a| a.url.via_pgbouncer) {
        for p in app.kind().startup_params(app) {
            if ignored(&p.name) && crate::apps::harmless_to_drop(&p.name).is_some() {
                continue;
            }
            let d = if ignored(&p.name) {
                Diagnostic::new(
                    "NET004",
                    Severity::Warning,
                    format!(
                        "app `{}` sends {} as a startup parameter; ignore_startup_parameters lists it, so PgBouncer drops it silently and the setting never applies",
                        app.name.value, p.setting
                    ),
                )
                .related(
                    ignore.and_then(|o| o.origin.loc()).cloned(),
                    "ignore_startup_parameters set here",
                )
            } else {
                Diagnostic::new(
                    "NET004",
                    Severity::Error,
                    format!(
                        "app `{}` sends {} as a startup parameter, which PgBouncer refuses: every login fails with {}",
                        app.name.value, p.setting, p.symptom
                    ),
                )
            };
            out.push(d.at(p.loc.or(app.name.loc()).cloned()).help(p.fix.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use crate::rules::testing;

    fn stack(settings: &str, app: &str) -> String {
        format!(
            "[stack]\nname = \"t\"\n[postgres]\nversion = 16\n[pgbouncer]\nversion = \"1.18\"\npool_mode = \"transaction\"\n{settings}\n\
             [[databases]]\nname = \"app\"\n[[users]]\nname = \"app\"\npassword = {{ env = \"APP_PASSWORD\" }}\n\
             [[apps]]\nname = \"web\"\ndatabase = \"app\"\nuser = \"app\"\n{app}\n"
        )
    }

    #[test]
    fn net004_fires_on_node_postgres_statement_timeout() {
        let toml = stack("", "kind = \"node-postgres\"\nstatement_timeout = 5000");
        let st = testing::stack(&toml);
        let d = testing::run_with_files("NET004", &st, &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(testing::pointed_text(&st, &d[0]), "5000");
        assert!(
            d[0].message
                .contains("`error: unsupported startup parameter: statement_timeout`"),
            "{}",
            d[0].message
        );
        assert!(testing::run("NET004", &stack("", "kind = \"node-postgres\"")).is_empty());
    }

    #[test]
    fn net004_is_a_warning_when_pgbouncer_ignores_the_parameter() {
        let toml = stack(
            "[pgbouncer.settings]\nignore_startup_parameters = \"extra_float_digits,statement_timeout\"",
            "kind = \"node-postgres\"\nstatement_timeout = 5000",
        );
        let d = testing::run("NET004", &toml);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert!(
            d[0].message.contains("drops it silently"),
            "{}",
            d[0].message
        );
    }
}
