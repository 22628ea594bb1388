//! What `userlist` checks around the entries it writes: exactly one source of users with the
//! flags that go with it, and a warning for every SCRAM entry whose salt PostgreSQL cannot know.

use super::Wanted;
use crate::auth::SecretKind;
use crate::cli::UserlistArgs;
use crate::diag::InputError;
use crate::formats::userlist::Userlist;
use std::io::Write;

/// Exactly one source of users, and flags that go with it.
pub(super) fn check_sources(args: &UserlistArgs) -> Result<(), InputError> {
    let sources = usize::from(args.manifest.is_some())
        + usize::from(args.from_postgres.is_some())
        + usize::from(args.from_postgres.is_none() && !args.user.is_empty())
        + usize::from(args.batch.is_some());
    if sources != 1 {
        return Err(InputError::new("say whose entries to write: exactly one of --manifest FILE, --user NAME, --batch FILE|- or --from-postgres URL")
            .with_help("e.g. `poolstack userlist --user trader --password-env TRADER_PASSWORD -o userlist.txt`"));
    }
    let password_flags = usize::from(args.password_env.is_some())
        + usize::from(args.password_file.is_some())
        + usize::from(args.password_stdin);
    if (args.user.is_empty() || args.from_postgres.is_some()) && password_flags > 0 {
        return Err(InputError::new(
            "--password-env, --password-file and --password-stdin go with --user",
        ));
    }
    if password_flags > 1 {
        return Err(InputError::new(
            "give the password one way: --password-env, --password-file or --password-stdin",
        ));
    }
    if args.from_postgres.is_none() && args.user.len() > 1 {
        return Err(InputError::new("--user is given more than once")
            .with_help("write several users with --batch FILE (`user<TAB>password` lines), or copy them with --from-postgres URL --user A --user B"));
    }
    if args.from_postgres.is_some() && args.hash.is_some() {
        return Err(InputError::new("--hash does not go with --from-postgres")
            .with_help("the verifiers are copied exactly as PostgreSQL stores them"));
    }
    Ok(())
}

/// A SCRAM entry can log in through PgBouncer only when PostgreSQL stores that same verifier.
/// Say so for every entry whose salt poolstack drew (or the manifest cannot vouch for).
pub(super) fn warn_unknown_salts(
    wanted: &[Wanted],
    secrets: &[String],
    existing: &Userlist,
    verbose: bool,
    err: &mut dyn Write,
) {
    let mut fresh_users = Vec::new();
    for (w, secret) in wanted.iter().zip(secrets) {
        let fresh = w.chosen.is_none()
            && w.kind == SecretKind::ScramSha256
            && existing.get(&w.user).map(|e| e.secret.as_str()) != Some(secret.as_str());
        if w.salt_unknown {
            let _ = writeln!(
                err,
                "poolstack: warning: `{}` is role = false with a SCRAM entry whose salt PostgreSQL does not know (AUT010): logins fail unless the server stores this same verifier; copy it with --from-postgres and set `verifier`, or set role = true, or userlist_hash = \"plain\"",
                w.user
            );
        } else if fresh {
            fresh_users.push(w.user.as_str());
        }
    }
    // One note per user for a handful (or --verbose); beyond that one note for all of them.
    if verbose || fresh_users.len() <= super::LIST_UP_TO {
        for user in fresh_users {
            let _ = writeln!(
                err,
                "poolstack: note: `{user}` got a SCRAM verifier with a new salt: it logs in through PgBouncer only if PostgreSQL stores this same verifier (ALTER ROLE … PASSWORD with it, as roles.sql does). For a role that already exists, copy its verifier with `poolstack userlist --from-postgres URL --user {user}`, or use --hash plain"
            );
        }
    } else {
        let _ = writeln!(
            err,
            "poolstack: note: {} users got SCRAM verifiers with new salts (--verbose names them): each logs in through PgBouncer only if PostgreSQL stores that same verifier (ALTER ROLE … PASSWORD with it, as roles.sql does). For roles that already exist, copy their verifiers with `poolstack userlist --from-postgres URL`, or use --hash plain",
            fresh_users.len()
        );
    }
}
