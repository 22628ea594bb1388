//! `userlist --from-postgres URL [--user NAME]…`: the roles' stored verifiers, copied from
//! `pg_authid` as PgBouncer's mkauth.py copies them — the only SCRAM entries that can log in
//! through PgBouncer to a role poolstack did not create.

use super::Wanted;
use crate::auth;
use crate::cli::UserlistArgs;
use crate::diag::InputError;
use crate::formats::userlist;
use crate::pgconn::{self, Server};
use postgres::{NoTls, SimpleQueryMessage};

/// One pg_authid row: name, stored password, can log in, password expired.
struct Role {
    name: String,
    password: Option<String>,
    login: bool,
    expired: bool,
}

/// The entries to write, one per role copied; what was skipped, and why, goes to `notes`.
pub(super) fn wanted(
    args: &UserlistArgs,
    url: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<Wanted>, InputError> {
    let mut server = Server::parse(
        "--from-postgres",
        "PostgreSQL",
        url,
        "postgresql://SUPERUSER@HOST:PORT/postgres",
        Some("postgres"),
    )?;
    server.find_password(&["PGPASSWORD"], true, notes)?;
    let roles = read_roles(&server)?;
    let mut wanted = Vec::new();
    let named = !args.user.is_empty();
    let chosen: Vec<&Role> = if named {
        let mut out = Vec::new();
        for name in &args.user {
            match roles.iter().find(|r| &r.name == name) {
                Some(r) => out.push(r),
                None => notes.push(format!(
                    "skipped `{name}`: {} has no such role",
                    server.shown
                )),
            }
        }
        out
    } else {
        roles.iter().filter(|r| r.login).collect()
    };
    for role in chosen {
        let name = &role.name;
        let Some(secret) = role.password.as_deref().filter(|p| !p.is_empty()) else {
            notes.push(format!(
                "skipped `{name}`: the role has no password in pg_authid, so it cannot log in with one"
            ));
            continue;
        };
        if role.expired {
            notes.push(format!(
                "skipped `{name}`: its password has expired (rolvaliduntil is in the past), so PostgreSQL refuses it"
            ));
            continue;
        }
        if named && !role.login {
            notes.push(format!(
                "note: `{name}` cannot log in (NOLOGIN); its verifier is copied anyway"
            ));
        }
        if let Err(p) = userlist::check_entry(name, secret) {
            notes.push(format!(
                "skipped `{}`: userlist.txt cannot hold it ({p})",
                name.escape_debug()
            ));
            continue;
        }
        wanted.push(Wanted {
            user: name.clone(),
            password: None,
            kind: auth::classify(secret),
            chosen: Some(secret.to_string()),
            salt_unknown: false,
        });
    }
    if wanted.is_empty() {
        return Err(
            InputError::new(format!("no verifier to copy from {}", server.shown)).with_help(
                "name roles that have a password with --user NAME (see the notes above)",
            ),
        );
    }
    Ok(wanted)
}

/// How long connecting and reading may take together: past it the server accepted the
/// connection and then stopped answering.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// [`query_roles`] in a thread, waiting at most [`DEADLINE`].
fn read_roles(server: &Server) -> Result<Vec<Role>, InputError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let copy = server.clone();
    std::thread::spawn(move || {
        let _ = tx.send(query_roles(&copy));
    });
    rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
        Err(InputError::new(format!(
            "no answer within {} s from {}",
            DEADLINE.as_secs(),
            server.shown
        ))
        .with_help(
            "check that the server is up and not overloaded, and that HOST:PORT is the server's",
        ))
    })
}

fn query_roles(server: &Server) -> Result<Vec<Role>, InputError> {
    let mut client = server
        .config
        .connect(NoTls)
        .map_err(|e| pgconn::connect_error(server, &e))?;
    let sql = "SELECT rolname, rolpassword, rolcanlogin, \
               coalesce(rolvaliduntil < pg_catalog.now(), false) \
               FROM pg_catalog.pg_authid ORDER BY rolname";
    let messages = client.simple_query(sql).map_err(|e| {
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        InputError::new(format!(
            "cannot read the stored verifiers: {} refused to let `{}` read pg_authid ({detail})",
            server.shown, server.user
        ))
        .with_help(format!(
            "connect as a superuser (pg_authid and pg_shadow are readable by superusers only), or have one run `GRANT SELECT ON pg_catalog.pg_authid TO \"{}\"`",
            server.user
        ))
    })?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(Role {
                name: r.get(0)?.to_string(),
                password: r.get(1).map(str::to_string),
                login: r.get(2) == Some("t"),
                expired: r.get(3) == Some("t"),
            }),
            _ => None,
        })
        .collect())
}
