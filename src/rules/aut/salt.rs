//! AUT010: a SCRAM userlist entry whose salt cannot be the one PostgreSQL stores.

use super::super::Context;
use crate::auth::SecretKind;
use crate::diag::{Diagnostic, Severity};

pub const AUT010_DOC: &str = "\
What it checks: a SCRAM-SHA-256 userlist entry (in a manifest) for a user whose stored verifier
poolstack neither creates nor knows: `role = false` (the role is made by the database image, by
hand, or by another tool) and no `verifier = { userlist = \"…\" }` saying where the server's
verifier was copied from.

Why it matters: a SCRAM verifier carries a random salt. PgBouncer answers the client with the
userlist's salt, then forwards the client's proof to PostgreSQL, which checks it against its own
stored salt. A verifier poolstack drew itself verifies against the password, yet differs from
PostgreSQL's, and every login fails with `password authentication failed for user \"…\"` while
the password is right.

How to fix, one of:
- copy the server's verifier: `poolstack userlist --from-postgres postgresql://ADMIN@HOST/postgres
  --user NAME -o pgbouncer/stored.txt`, then `verifier = { userlist = \"pgbouncer/stored.txt\" }`
  on the user (render keeps that entry byte for byte);
- `role = true`: roles.sql then sets exactly the verifier userlist.txt holds (run it with psql);
- `userlist_hash = \"plain\"`: PgBouncer then computes the proof from the password itself.

Facts: reference/pgbouncer/facts.md §4a (SCRAM pass-through needs the stored verifier,
byte-identical).";

pub fn scram_salt_unknown(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let stack = cx.stack;
    if stack.pgbouncer.is_none() || stack.manifest_path.is_none() {
        return;
    }
    let forced = |user: &str| {
        stack
            .databases
            .iter()
            .any(|db| db.forced_user.as_ref().is_some_and(|f| f.value == user))
    };
    // Only a user PgBouncer logs in to PostgreSQL as needs the stored salt; a console-only user
    // (admin_users, stats_users) logs in to PgBouncer alone, which checks its own userlist.
    let pooled = |user: &str| stack.logs_in_to_postgres(user);
    for fact in cx.files {
        for name in &fact.lacks_verifier_of {
            let Some(u) = stack.user(name) else { continue };
            let file = crate::source::display_path(&fact.path);
            let what = if fact.mode.is_some() {
                format!("{file} has no entry for `{name}`")
            } else {
                format!("{file} cannot be read")
            };
            out.push(
                Diagnostic::new(
                    "AUT010",
                    Severity::Error,
                    format!(
                        "the stored verifier of `{name}` is said to be known from {file}, but {what}: render cannot write the entry PostgreSQL would accept"
                    ),
                )
                .at(u.verifier.as_ref().and_then(|v| v.loc()).cloned())
                .help(format!(
                    "copy it: `poolstack userlist --from-postgres URL --user {name} -o {file}`"
                )),
            );
        }
        for name in &fact.rejects_password_of {
            let Some(u) = stack.user(name) else { continue };
            out.push(
                Diagnostic::new(
                    "AUT010",
                    Severity::Error,
                    format!(
                        "the verifier of `{name}` that PostgreSQL stores ({}) does not accept the password the manifest gives: every login as `{name}` with it fails with `password authentication failed`",
                        crate::source::display_path(&fact.path)
                    ),
                )
                .at(u.verifier.as_ref().and_then(|v| v.loc()).cloned())
                .help("give the role's current password, or copy its current verifier again (`poolstack userlist --from-postgres URL --user NAME -o FILE`)"),
            );
        }
    }
    for u in &stack.users {
        let name = &u.name.value;
        if !pooled(name)
            || u.role.value
            || u.userlist_secret.value != SecretKind::ScramSha256
            || u.verifier.is_some()
            || u.stored_secret.is_none()
            || forced(name)
        {
            continue;
        }
        let at = if u.role.origin.is_explicit() {
            u.role.loc()
        } else {
            u.name.loc()
        };
        out.push(
            Diagnostic::new(
                "AUT010",
                Severity::Error,
                format!(
                    "userlist.txt gets a SCRAM verifier for `{name}` with a salt poolstack draws itself, but the role is managed elsewhere (role = false) and its stored verifier is not known: PostgreSQL checks PgBouncer's proof against its own salt, and every login as `{name}` fails with `password authentication failed`"
                ),
            )
            .at(at.cloned())
            .help(format!(
                "copy the stored verifier (`poolstack userlist --from-postgres URL --user {name} -o FILE`, then `verifier = {{ userlist = \"FILE\" }}` on the user), or set `role = true` (roles.sql then sets exactly this verifier), or `userlist_hash = \"plain\"`"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{self, HEALTHY, healthy_with, line_of};

    #[test]
    fn aut010_fires_for_a_role_managed_elsewhere() {
        let toml = healthy_with(
            "password = { env = \"APP_PASSWORD\" }",
            "password = { env = \"APP_PASSWORD\" }\nrole = false",
        );
        let (stack, d) = testing::only("AUT010", &toml);
        assert_eq!(testing::line(&stack, &d), line_of(&toml, "role = false"));
        assert!(d.message.contains("`app`"), "{}", d.message);
        let help = d.help.unwrap_or_default();
        for way in [
            "--from-postgres",
            "role = true",
            "userlist_hash = \"plain\"",
        ] {
            assert!(help.contains(way), "{help}");
        }
    }

    #[test]
    fn aut010_silent_when_known_created_or_plain() {
        assert!(testing::run("AUT010", HEALTHY).is_empty(), "role = true");
        let known = healthy_with(
            "password = { env = \"APP_PASSWORD\" }",
            "password = { env = \"APP_PASSWORD\" }\nrole = false\nverifier = { userlist = \"stored.txt\" }",
        );
        assert!(testing::run("AUT010", &known).is_empty(), "known verifier");
        let plain = healthy_with(
            "password = { env = \"APP_PASSWORD\" }",
            "password = { env = \"APP_PASSWORD\" }\nrole = false",
        )
        .replacen(
            "max_db_connections = 40",
            "max_db_connections = 40\nuserlist_hash = \"plain\"",
            1,
        );
        assert!(testing::run("AUT010", &plain).is_empty(), "plaintext entry");
        let md5 = healthy_with(
            "password = { env = \"APP_PASSWORD\" }",
            "password = { env = \"APP_PASSWORD\" }\nrole = false",
        )
        .replacen(
            "max_connections = 100",
            "max_connections = 100\npassword_encryption = \"md5\"",
            1,
        );
        assert!(testing::run("AUT010", &md5).is_empty(), "md5 needs no salt");
        let console_only = HEALTHY.replacen(
            "[[apps]]",
            "[[users]]\nname = \"ops\"\npassword = { env = \"OPS_PASSWORD\" }\nrole = false\nadmin = true\n\n[[apps]]",
            1,
        );
        assert!(
            testing::run("AUT010", &console_only).is_empty(),
            "an admin console user never logs in to PostgreSQL through PgBouncer"
        );
    }
}
