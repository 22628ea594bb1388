//! One secret per user everywhere poolstack writes it: the userlist entry and the roles.sql
//! verifier of a user are chosen here, once, for `render` and `userlist --manifest` alike.
//!
//! A verifier is reused when it still accepts the password, in this order: the known stored
//! verifier (`verifier = { userlist = … }`, kept byte for byte), the one roles.sql already sets
//! (what PostgreSQL has after psql ran it), the rendered userlist's entry, and then any other
//! file the caller names (`userlist -o FILE`). Only when none verifies is a fresh salt drawn —
//! once, and shared by both files.

use super::Existing;
use crate::auth::{self, SecretKind};
use crate::diag::InputError;
use crate::formats::userlist::Userlist;
use crate::secrets::Secrets;
use crate::stack::{Stack, User};
use std::path::PathBuf;

/// Iterations poolstack verifies at most (PostgreSQL writes 4096): a hostile file must not make
/// a run spin for minutes.
pub const MAX_VERIFY_ITERATIONS: u32 = auth::MAX_VERIFY_ITERATIONS;

/// A user's secrets as written.
#[derive(Clone)]
pub struct UserSecret {
    pub user: String,
    /// The userlist.txt secret.
    pub userlist: String,
    /// The roles.sql verifier, for `role = true` users whose storage is known.
    pub role: Option<String>,
}

impl std::fmt::Debug for UserSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserSecret")
            .field("user", &self.user)
            .field("secrets", &"<hidden>")
            .finish()
    }
}

/// Every user's secrets, in manifest order, and the users whose known verifier does not accept
/// the password the manifest gives (that verifier is still written: it is what the server
/// stores; AUT010 reports the mismatch).
#[derive(Debug, Default)]
pub struct Chosen {
    pub secrets: Vec<UserSecret>,
    /// (the known-verifier file, user).
    pub rejected: Vec<(PathBuf, String)>,
}

/// Every user's secrets. `also` is one more file whose entries may be reused (the `-o` file of
/// `userlist --manifest`). Every password must be available.
pub fn choose(
    stack: &Stack,
    secrets: &Secrets,
    existing: &Existing,
    also: Option<&Userlist>,
) -> Result<Chosen, InputError> {
    let mut out = Chosen::default();
    for u in &stack.users {
        let (secret, rejected) = one(u, secrets, existing, also)?;
        if let (true, Some(source)) = (rejected, &u.verifier) {
            out.rejected
                .push((source.value.clone(), u.name.value.clone()));
        }
        out.secrets.push(secret);
    }
    Ok(out)
}

/// A user's secrets, and whether the known verifier rejects the password.
fn one(
    u: &User,
    secrets: &Secrets,
    existing: &Existing,
    also: Option<&Userlist>,
) -> Result<(UserSecret, bool), InputError> {
    let name = &u.name.value;
    let Some(pw) = secrets.get(name) else {
        return Err(InputError::new(format!(
            "the password of user `{name}` is not available"
        )));
    };
    let pw = pw.expose();
    let known = secrets.known_verifier(name);
    let rejected = known
        .is_some_and(|k| auth::verifies_within(name, pw, k, MAX_VERIFY_ITERATIONS) == Some(false));
    let role_existing = u
        .role
        .value
        .then(|| existing.role_verifiers.get(name).map(String::as_str))
        .flatten();
    let candidates = [
        known,
        role_existing,
        existing.userlist_secret(name),
        also.and_then(|l| l.get(name)).map(|e| e.secret.as_str()),
    ];
    let err = |what: &str, e: auth::AuthError| {
        InputError::new(format!("cannot compute the {what} of user `{name}`: {e}"))
    };
    // The known verifier is what the server stores: kept byte for byte, even when it rejects
    // the password (a fresh salt would not log in either) or has too many iterations to check.
    let keep = known.filter(|k| auth::classify(k) == u.userlist_secret.value);
    let userlist = match keep {
        Some(k) => Ok(k.to_string()),
        None => pick(u.userlist_secret.value, name, pw, &candidates),
    }
    .map_err(|e| err("userlist secret", e))?;
    let stored = u.stored_secret.as_ref().map(|s| s.value);
    let role = match stored {
        Some(kind) if u.role.value => Some(
            // PgBouncer's SCRAM pass-through needs the two byte-identical.
            if kind != SecretKind::Plain && auth::classify(&userlist) == kind {
                userlist.clone()
            } else {
                pick(kind, name, pw, &candidates).map_err(|e| err("verifier", e))?
            },
        ),
        _ => None,
    };
    Ok((
        UserSecret {
            user: name.clone(),
            userlist,
            role,
        },
        rejected,
    ))
}

/// The first candidate of `kind` that accepts `password`, byte for byte; else a new secret.
fn pick(
    kind: SecretKind,
    user: &str,
    password: &str,
    candidates: &[Option<&str>],
) -> Result<String, auth::AuthError> {
    if password.contains('\0') {
        return Err(auth::AuthError::NulInPassword);
    }
    for c in candidates.iter().flatten() {
        if kind != SecretKind::Plain
            && auth::classify(c) == kind
            && auth::verifies_within(user, password, c, MAX_VERIFY_ITERATIONS) == Some(true)
        {
            return Ok((*c).to_string());
        }
    }
    auth::secret_for(kind, user, password, None)
}
