//! FIL — generated files. The command layer compares files on disk with what the manifest renders
//! and records the outcome in [`FileFact`]s; these rules turn the facts into findings.

use super::{Context, FileFact, FileRole, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::manifest::PasswordSource;
use crate::source::Loc;
use crate::stack::Stack;
use std::path::Path;

pub const RULES: &[Rule] = &[
    Rule {
        code: "FIL001",
        name: "drift",
        severity: Severity::Error,
        summary: "A rendered file on disk differs from what the manifest renders",
        doc: FIL001_DOC,
        check: Some(drift),
    },
    Rule {
        code: "FIL002",
        name: "hand-edited",
        severity: Severity::Warning,
        summary: "A generated file was edited by hand: its body no longer matches its header checksum",
        doc: FIL002_DOC,
        check: Some(hand_edited),
    },
    Rule {
        code: "FIL003",
        name: "secrets-not-verified",
        severity: Severity::Info,
        summary: "userlist.txt / roles.sql were compared by users and secret types only (no passwords)",
        doc: FIL003_DOC,
        check: Some(secrets_not_verified),
    },
    Rule {
        code: "FIL004",
        name: "include-not-found",
        severity: Severity::Warning,
        summary: "A file included by a hand-written config does not exist here, so it was not checked",
        doc: FIL004_DOC,
        // Produced by the readers of hand-written files, which follow includes.
        check: None,
    },
];

const FIL004_DOC: &str = "\
What it checks: an `%include` in pgbouncer.ini, or an `include` / `include_dir` in a PostgreSQL
configuration file, that names a file or directory which does not exist where poolstack runs.
(`include_if_exists` is exempt: a missing file is what it allows.)

Why it matters: poolstack cannot check what it cannot read, so the settings in that file are
missing from every cross-check. Where the servers run, a missing include is fatal: PgBouncer logs
`could not load file \"…\": No such file or directory` and `error processing include file in
configuration (pgbouncer.ini:26), stopping loading`, then `FATAL cannot load config file`;
PostgreSQL logs `could not open configuration file \"…\"` (or `could not open configuration
directory \"…/conf.d\"`) and refuses to start. Often the path only exists on the deployed host
(an absolute path, or a path relative to the directory PgBouncer is started from), which is why
this is a warning and not an error.

How to fix: run `poolstack check` from the directory the server starts in (PgBouncer resolves
`%include` against its working directory; PostgreSQL against the including file's directory), or
pass the included file too. Use `include_if_exists` in PostgreSQL for a file that may be absent.

Facts: ../reference/pgbouncer/facts.md §1 (include), §6 (fly-apps, pooler-bench);
../reference/postgres/conf-syntax.md \"Includes and precedence\".";

const FIL001_DOC: &str = "\
What it checks: every rendered output (pgbouncer.ini, userlist.txt, the PostgreSQL fragment,
roles.sql, the apps' .env files) that exists on disk and differs from what the manifest renders
now. A file that was never rendered is not reported here; `poolstack render --check` reports it.

Why it matters: the manifest is the source of truth, and every other rule checked the manifest —
not the file PgBouncer or PostgreSQL actually reads. A drifted file means the running stack is not
the one that was checked (a pool size raised in the manifest but never rendered, a userlist that
still holds an old user).

How to fix: run `poolstack render` (review the change first with `poolstack render --check`, which
prints a diff; for userlist.txt and roles.sql it names the users and secret types that differ and
never prints a verifier).

Facts: docs/product.md (Rendering, `render --check`).";

const FIL002_DOC: &str = "\
What it checks: a generated file whose body no longer matches the checksum in its own header —
someone edited it by hand. (userlist.txt has no header, since a `#` line would break it; it is
judged by its entries, see FIL001 and FIL003.)

Why it matters: `poolstack render` refuses to overwrite a hand-edited file (it would destroy the
edit) and exits 1, and the edit itself is invisible to every rule that reads the manifest.

How to fix: move the change into the manifest (`[pgbouncer.settings]`, `[postgres.settings]`, …),
then `poolstack render --force` to overwrite the file; or revert the edit.

Facts: docs/product.md (Rendering: header checksum, refusal, `--force`).";

const FIL003_DOC: &str = "\
What it checks: userlist.txt or roles.sql compared with the manifest without the passwords (in
pre-commit hooks and CI the password environment variables are usually absent): only the users and
their secret types were compared, not whether each verifier matches the password.

Why it matters: it is information, not a failure: a verifier computed from an old password would go
unnoticed until a login fails (`password authentication failed`, or
`server login failed: wrong password type` when the types differ — those are still reported).

How to fix: nothing is required. To verify the secrets, make the passwords available (the users'
`env` variables or `file`s) when running `poolstack check` or `render --check`.

Facts: docs/product.md (Rendering: userlist.txt is judged by its entries; FIL003 never exits 2).";

/// How a file is named in messages.
fn role_label(role: FileRole) -> &'static str {
    match role {
        FileRole::PgbouncerIni => "pgbouncer.ini",
        FileRole::Userlist => "userlist.txt",
        FileRole::PostgresqlConf => "the PostgreSQL fragment",
        FileRole::RolesSql => "roles.sql",
        FileRole::Env => "the env file",
        FileRole::PasswordFile => "the password file",
        FileRole::Other => "the file",
    }
}

/// `userlist.txt /etc/pgbouncer/userlist.txt`, or just the path when its name already says
/// what the file is (`userlist.txt`, not `userlist.txt userlist.txt`).
pub(super) fn file_label(fact: &FileFact) -> String {
    let label = role_label(fact.role);
    if fact.path.file_name().is_some_and(|n| n == label) {
        fact.path.display().to_string()
    } else {
        format!("{label} {}", fact.path.display())
    }
}

/// The same file, allowing one path to be relative to the other's directory.
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || (a.is_relative() && b.ends_with(a)) || (b.is_relative() && a.ends_with(b))
}

/// Where a finding about a file points: the file itself when it is one of the stack's sources
/// (a hand-written input), else the manifest entry that names it (an output path, an app's
/// env_file, a user's password file), else nowhere.
pub(super) fn file_place(stack: &Stack, fact: &FileFact) -> Option<Loc> {
    if let Some((file, _)) = stack
        .sources
        .files()
        .find(|(_, f)| same_file(&f.path, &fact.path))
    {
        return Some(Loc { file, span: 0..0 });
    }
    let outputs = &stack.outputs;
    let output = match fact.role {
        FileRole::PgbouncerIni => Some(&outputs.pgbouncer_ini),
        FileRole::Userlist => Some(&outputs.userlist),
        FileRole::PostgresqlConf => Some(&outputs.postgresql_conf),
        FileRole::RolesSql => Some(&outputs.roles_sql),
        _ => None,
    };
    if let Some(o) = output {
        return o.loc().cloned();
    }
    match fact.role {
        FileRole::Env => stack
            .apps
            .iter()
            .find(|a| same_file(&outputs.base.join(&a.env_file.value), &fact.path))
            .and_then(|a| a.env_file.loc().or(a.name.loc()).cloned()),
        FileRole::PasswordFile => stack.users.iter().find_map(|u| {
            let pw = u.password.as_ref()?;
            match &pw.value {
                PasswordSource::File { file } if same_file(Path::new(file), &fact.path) => {
                    pw.loc().cloned()
                }
                _ => None,
            }
        }),
        _ => None,
    }
}

fn drift(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for fact in cx.files.iter().filter(|f| f.drifted) {
        let secret = matches!(fact.role, FileRole::Userlist | FileRole::RolesSql);
        out.push(
            Diagnostic::new(
                "FIL001",
                Severity::Error,
                format!(
                    "{} differs from what the manifest renders: the stack that was checked is not the one on disk",
                    file_label(fact)
                ),
            )
            .at(file_place(cx.stack, fact))
            .help(if secret {
                "run `poolstack render` (`poolstack render --check` names the users and secret types that differ)"
            } else {
                "run `poolstack render` (`poolstack render --check` shows the diff first)"
            }),
        );
    }
}

fn hand_edited(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for fact in cx.files.iter().filter(|f| f.hand_edited) {
        out.push(
            Diagnostic::new(
                "FIL002",
                Severity::Warning,
                format!(
                    "{} was edited by hand: its body no longer matches its header checksum, so `poolstack render` refuses to overwrite it",
                    file_label(fact)
                ),
            )
            .at(file_place(cx.stack, fact))
            .help("move the change into the manifest and run `poolstack render --force`, or revert the edit"),
        );
    }
}

fn secrets_not_verified(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for fact in cx.files.iter().filter(|f| f.secrets_unverified) {
        out.push(
            Diagnostic::new(
                "FIL003",
                Severity::Info,
                format!(
                    "{} was compared by users and secret types only: the passwords were not available, so the secrets were not verified",
                    file_label(fact)
                ),
            )
            .at(file_place(cx.stack, fact))
            .help("make the users' passwords available (their env variables or files) to verify each secret"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{self, HEALTHY};
    use std::path::PathBuf;

    const WITH_OUTPUTS: &str = "[outputs]\nuserlist = \"pgbouncer/userlist.txt\"\npgbouncer_ini = \"pgbouncer/pgbouncer.ini\"\n";

    fn stack() -> Stack {
        testing::stack(&format!("{WITH_OUTPUTS}{HEALTHY}"))
    }

    fn fact(role: FileRole, path: &Path) -> FileFact {
        FileFact {
            path: path.to_path_buf(),
            role,
            mode: Some(0o600),
            ..FileFact::default()
        }
    }

    #[test]
    fn healthy_is_silent() {
        let stack = stack();
        let clean = [fact(
            FileRole::PgbouncerIni,
            &stack.outputs.pgbouncer_ini.value,
        )];
        for code in ["FIL001", "FIL002", "FIL003"] {
            assert!(testing::run(code, HEALTHY).is_empty(), "{code} fired");
            assert!(
                testing::run_with_files(code, &stack, &clean).is_empty(),
                "{code} fired on a clean file"
            );
        }
    }

    #[test]
    fn fil001_drift_points_at_the_output_entry() {
        let stack = stack();
        let f = FileFact {
            drifted: true,
            ..fact(FileRole::PgbouncerIni, &stack.outputs.pgbouncer_ini.value)
        };
        let d = testing::run_with_files("FIL001", &stack, &[f]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].code, "FIL001");
        assert_eq!(d[0].severity, Severity::Error);
        assert_eq!(
            testing::pointed_text(&stack, &d[0]),
            "\"pgbouncer/pgbouncer.ini\""
        );
        assert!(d[0].message.contains("pgbouncer/pgbouncer.ini differs"));
    }

    #[test]
    fn fil002_hand_edited() {
        let stack = stack();
        let f = FileFact {
            hand_edited: true,
            ..fact(FileRole::PgbouncerIni, &stack.outputs.pgbouncer_ini.value)
        };
        let d = testing::run_with_files("FIL002", &stack, &[f]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(testing::line(&stack, &d[0]), 3);
        assert!(d[0].message.contains("header checksum"));
        assert!(d[0].help.as_deref().unwrap_or("").contains("--force"));
    }

    #[test]
    fn fil003_secrets_not_verified() {
        let stack = stack();
        let f = FileFact {
            secrets_unverified: true,
            ..fact(FileRole::Userlist, &stack.outputs.userlist.value)
        };
        let d = testing::run_with_files("FIL003", &stack, &[f]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, Severity::Info);
        assert_eq!(
            testing::pointed_text(&stack, &d[0]),
            "\"pgbouncer/userlist.txt\""
        );
        assert!(d[0].message.contains("userlist.txt"));
        assert!(d[0].message.contains("not verified"));
    }

    #[test]
    fn env_and_password_files_point_at_their_entries() {
        let toml = HEALTHY
            .replacen(
                "password = { env = \"APP_PASSWORD\" }",
                "password = { file = \"secrets/app\" }",
                1,
            )
            .replacen(
                "pre_ping = true",
                "pre_ping = true\nenv_file = \"api.env\"\npassword_env = \"APP_PASSWORD\"",
                1,
            );
        let stack = testing::stack(&toml);
        let env = FileFact {
            drifted: true,
            ..fact(FileRole::Env, &stack.outputs.base.join("api.env"))
        };
        let pw = fact(FileRole::PasswordFile, &PathBuf::from("secrets/app"));
        assert_eq!(
            file_place(&stack, &env).and_then(|l| stack
                .sources
                .get(l.file)
                .text
                .get(l.span)
                .map(str::to_string)),
            Some("\"api.env\"".to_string())
        );
        assert_eq!(
            file_place(&stack, &pw).and_then(|l| stack
                .sources
                .get(l.file)
                .text
                .get(l.span)
                .map(str::to_string)),
            Some("{ file = \"secrets/app\" }".to_string())
        );
    }
}
