//! LIV004: every userlist entry PgBouncer logs in to PostgreSQL with, compared with the verifier
//! PostgreSQL stores (`pg_authid`, readable by superusers): a missing role, md5 against SCRAM, a
//! SCRAM verifier with another salt or keys, an md5 hash or plaintext password for another
//! password. Messages name the user, never a secret.

use crate::auth::{self, SecretKind};
use crate::diag::{Diagnostic, Severity};
use crate::formats::userlist::Userlist;
use crate::render::verifiers::MAX_VERIFY_ITERATIONS;
use crate::rules::skipped::Skipped;
use crate::secrets::Password;
use crate::stack::Stack;

/// One pg_authid row. `Debug` never shows the password.
#[derive(Debug, Clone)]
pub struct StoredRole {
    pub name: String,
    pub password: Option<Password>,
}

/// What is wrong between a userlist secret and the stored one, if anything.
fn mismatch(user: &str, entry: &str, stored: &str) -> Option<(&'static str, &'static str)> {
    let entry_kind = auth::classify(entry);
    let stored_kind = auth::classify(stored);
    match (entry_kind, stored_kind) {
        (SecretKind::Md5, SecretKind::ScramSha256) => Some((
            "an md5 entry cannot log in to a role stored as SCRAM (`server login failed: wrong password type`)",
            "copy the stored SCRAM verifier: `poolstack userlist --from-postgres URL --user NAME`",
        )),
        (SecretKind::ScramSha256, SecretKind::Md5) => Some((
            "a SCRAM entry cannot log in to a role stored as md5",
            "copy the stored md5 hash (`poolstack userlist --from-postgres URL --user NAME`), or re-set the role's password as SCRAM",
        )),
        (SecretKind::ScramSha256, SecretKind::ScramSha256) => (entry != stored).then_some((
            "the SCRAM entry has another salt or other keys than the stored verifier: PostgreSQL refuses PgBouncer's proof and every login fails with `password authentication failed`",
            "copy the stored verifier (`poolstack userlist --from-postgres URL --user NAME`, then `verifier = { userlist = \"FILE\" }` on the user), or run the rendered roles.sql so the server stores the userlist's verifier",
        )),
        (SecretKind::Md5, SecretKind::Md5) => (entry != stored).then_some((
            "the md5 entry is the hash of another password than the stored one",
            "render the userlist with the role's current password, or re-set the role's password",
        )),
        (SecretKind::Plain, _) => {
            match auth::verifies_within(user, entry, stored, MAX_VERIFY_ITERATIONS) {
                Some(false) => Some((
                    "the plaintext password in userlist.txt is not the role's password",
                    "render the userlist with the role's current password, or re-set the role's password",
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

/// LIV004 findings. `userlist` is the userlist on disk (the rendered one); without it, only the
/// secret types the manifest asks for are compared. Without read access to pg_authid nothing is
/// compared: the returned [`Skipped`] says so and why, in the report's summary.
pub fn findings(
    stack: &Stack,
    shown: &str,
    authid: &Result<Vec<StoredRole>, String>,
    userlist: Option<&Userlist>,
    out: &mut Vec<Diagnostic>,
) -> Option<Skipped> {
    stack.pgbouncer.as_ref()?;
    let roles = match authid {
        Ok(roles) => roles,
        Err(why) => {
            return Some(Skipped {
                codes: vec!["LIV004"],
                needs: format!(
                    "read access to pg_authid, which {shown} refused this user ({why}): verifiers not compared"
                ),
                enable: "run doctor with --postgres as a superuser (or a role granted SELECT on pg_catalog.pg_authid)".into(),
                lower_bound: None,
            });
        }
    };
    for u in &stack.users {
        let name = &u.name.value;
        if !stack.logs_in_to_postgres(name) {
            continue;
        }
        let at = u.userlist_secret.loc().or(u.name.loc()).cloned();
        let error = |message: String, help: &str| {
            Diagnostic::new("LIV004", Severity::Error, message)
                .at(at.clone())
                .help(help.to_string())
        };
        let Some(role) = roles.iter().find(|r| &r.name == name) else {
            out.push(error(
                format!("user `{name}` has no role in {shown}: PgBouncer's server login fails"),
                "create the role (roles.sql does for role = true), or remove the user",
            ));
            continue;
        };
        let Some(stored) = role.password.as_ref().map(Password::expose) else {
            out.push(error(
                format!(
                    "role `{name}` has no password in {shown}: a login with the userlist's secret fails"
                ),
                "set the role's password (roles.sql does for role = true)",
            ));
            continue;
        };
        let problem = match userlist.and_then(|l| l.get(name)) {
            Some(entry) => mismatch(name, &entry.secret, stored),
            // No file to read: compare the types the manifest asks for.
            None => mismatch_kinds(u.userlist_secret.value, auth::classify(stored)),
        };
        if let Some((why, help)) = problem {
            out.push(error(
                format!(
                    "userlist.txt entry of `{name}` does not match the verifier {shown} stores: {why}"
                ),
                help,
            ));
        }
    }
    None
}

fn mismatch_kinds(entry: SecretKind, stored: SecretKind) -> Option<(&'static str, &'static str)> {
    match (entry, stored) {
        (SecretKind::Md5, SecretKind::ScramSha256) | (SecretKind::ScramSha256, SecretKind::Md5) => {
            mismatch_types(entry)
        }
        _ => None,
    }
}

fn mismatch_types(entry: SecretKind) -> Option<(&'static str, &'static str)> {
    Some(if entry == SecretKind::Md5 {
        (
            "an md5 entry cannot log in to a role stored as SCRAM (`server login failed: wrong password type`)",
            "render the userlist with scram-sha-256 secrets, or copy the stored verifier with `poolstack userlist --from-postgres`",
        )
    } else {
        (
            "a SCRAM entry cannot log in to a role stored as md5",
            "render the userlist with md5 secrets, or re-set the role's password as SCRAM",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{self, HEALTHY};

    const STORED: &str = "SCRAM-SHA-256$4096:4HtJJE5bCQI77HSC1vwXUg==$3ffeut4cospissS7tTZ3oa6FqQaEAzd3vreQFeE+4R0=:dZAG2UOn5qavObXMO6rxQIEjU7aL+gwsAh++3AxE1BQ=";

    fn run(authid: Result<Vec<StoredRole>, String>, userlist: Option<&str>) -> Vec<Diagnostic> {
        let stack = testing::stack(HEALTHY);
        let parsed = userlist.map(Userlist::parse);
        let mut out = Vec::new();
        let skipped = findings(
            &stack,
            "PostgreSQL at x",
            &authid,
            parsed.as_ref(),
            &mut out,
        );
        assert_eq!(skipped.is_some(), authid.is_err());
        out
    }

    fn role(pw: Option<&str>) -> Result<Vec<StoredRole>, String> {
        Ok(vec![StoredRole {
            name: "app".into(),
            password: pw.map(|p| Password::new(p.to_string())),
        }])
    }

    #[test]
    fn same_verifier_is_silent_other_salt_is_an_error() {
        let same = format!("\"app\" \"{STORED}\"\n");
        assert!(run(role(Some(STORED)), Some(&same)).is_empty());
        let other = auth::scram_secret_with_salt("trader123", b"another-salt-16b", 4096);
        let d = run(role(Some(STORED)), Some(&format!("\"app\" \"{other}\"\n")));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!((d[0].code, d[0].severity), ("LIV004", Severity::Error));
        assert!(d[0].message.contains("another salt"), "{}", d[0].message);
        assert!(!d[0].message.contains("SCRAM-SHA-256$"), "{}", d[0].message);
    }

    #[test]
    fn md5_plain_missing_role_and_no_password() {
        let md5 = auth::md5_secret("app", "trader123");
        let wrong_md5 = auth::md5_secret("app", "other");
        assert!(run(role(Some(&md5)), Some(&format!("\"app\" \"{md5}\"\n"))).is_empty());
        assert_eq!(
            run(
                role(Some(&md5)),
                Some(&format!("\"app\" \"{wrong_md5}\"\n"))
            )
            .len(),
            1
        );
        assert_eq!(
            run(role(Some(STORED)), Some(&format!("\"app\" \"{md5}\"\n"))).len(),
            1,
            "md5 vs SCRAM"
        );
        assert!(run(role(Some(STORED)), Some("\"app\" \"trader123\"\n")).is_empty());
        assert_eq!(run(role(Some(STORED)), Some("\"app\" \"nope\"\n")).len(), 1);
        assert_eq!(run(Ok(Vec::new()), Some("\"app\" \"x\"\n")).len(), 1);
        assert_eq!(run(role(None), Some("\"app\" \"x\"\n")).len(), 1);
    }

    #[test]
    fn without_pg_authid_says_why_verifiers_were_not_compared() {
        let stack = testing::stack(HEALTHY);
        let mut out = Vec::new();
        let why: Result<Vec<StoredRole>, String> =
            Err("permission denied for table pg_authid".into());
        let s = findings(&stack, "PostgreSQL at x", &why, None, &mut out)
            .expect("a summary line, not a finding");
        assert!(out.is_empty());
        assert_eq!(s.codes, ["LIV004"]);
        let line = crate::rules::skipped::describe(&s);
        assert!(line.contains("verifiers not compared"), "{line}");
        assert!(line.contains("permission denied"), "{line}");
        assert!(line.contains("as a superuser"), "{line}");
    }
}
