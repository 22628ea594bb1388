//! `[[users]]`: roles, the secret types in the userlist and in PostgreSQL, per-user PgBouncer
//! settings; and the admin/stats users they make.

use super::Ctx;
use super::pgbouncer::declared;
use crate::auth::SecretKind;
use crate::catalog::pgbouncer::Section;
use crate::diag::InputError;
use crate::manifest::{PasswordEncryption, UserlistHash};
use crate::source::Loc;
use crate::stack::settings;
use crate::stack::{Database, Origin, Pgbouncer, Setting, User};

const USER_FIRST_CLASS: &[&str] = &["pool_mode", "max_user_connections"];

/// The `[[users]]` entries; `password_encryption` decides how PostgreSQL stores their secrets.
pub(super) fn users(
    cx: &mut Ctx<'_>,
    password_encryption: &Setting<PasswordEncryption>,
    pgbouncer: Option<&Pgbouncer>,
    databases: &[Database],
) -> Result<Vec<User>, InputError> {
    let man = &cx.m.manifest;
    let forced: Vec<&str> = databases
        .iter()
        .filter_map(|db| db.forced_user.as_ref().map(|u| u.value.as_str()))
        .collect();
    let stored_kind = match password_encryption.value {
        PasswordEncryption::Md5 => SecretKind::Md5,
        PasswordEncryption::ScramSha256 => SecretKind::ScramSha256,
    };
    let pe_inputs: Vec<Loc> = password_encryption.loc().cloned().into_iter().collect();
    let mut users = Vec::new();
    for (i, u) in man.users.iter().enumerate() {
        let i = i.to_string();
        let role = cx.pick(
            &["users", &i, "role"],
            u.role,
            true,
            "poolstack's default: roles.sql manages the role",
        );
        let stored_secret = Setting::new(
            stored_kind,
            Origin::Derived {
                formula: if role.value {
                    format!(
                        "roles.sql sets the password as password_encryption = {}",
                        stored_kind.as_str()
                    )
                } else {
                    format!(
                        "role managed elsewhere; PostgreSQL stores it per password_encryption = {}",
                        stored_kind.as_str()
                    )
                },
                inputs: pe_inputs.clone(),
            },
        );
        let hash = man.pgbouncer.as_ref().and_then(|p| p.userlist_hash);
        let userlist_secret = match hash {
            Some(UserlistHash::Md5) => {
                Setting::new(SecretKind::Md5, cx.origin(&["pgbouncer", "userlist_hash"]))
            }
            Some(UserlistHash::ScramSha256) => Setting::new(
                SecretKind::ScramSha256,
                cx.origin(&["pgbouncer", "userlist_hash"]),
            ),
            Some(UserlistHash::Plain) => Setting::new(
                SecretKind::Plain,
                cx.origin(&["pgbouncer", "userlist_hash"]),
            ),
            Some(UserlistHash::Auto) | None => {
                let mut inputs: Vec<Loc> = cx
                    .loc(&["pgbouncer", "userlist_hash"])
                    .into_iter()
                    .collect();
                if forced.contains(&u.name.as_str()) {
                    inputs.extend(databases.iter().filter_map(|db| {
                        db.forced_user
                            .as_ref()
                            .filter(|f| f.value == u.name)
                            .and_then(|f| f.loc().cloned())
                    }));
                    Setting::new(SecretKind::Plain, Origin::Derived {
                        formula: "userlist_hash = auto: a forced `user=` pool needs a plaintext secret for PgBouncer's server login".to_string(),
                        inputs,
                    })
                } else {
                    inputs.extend(pe_inputs.iter().cloned());
                    Setting::new(
                        stored_kind,
                        Origin::Derived {
                            formula: format!(
                                "userlist_hash = auto: the role storage's type, password_encryption = {}",
                                stored_kind.as_str()
                            ),
                            inputs,
                        },
                    )
                }
            }
        };
        let mut options = Vec::new();
        if let Some(b) = &pgbouncer {
            let raws = cx.raw_settings(
                u.settings.as_ref(),
                &["users", &i, "settings"],
                USER_FIRST_CLASS,
                "the [[users]] entry's",
            )?;
            for raw in &raws {
                match settings::pgbouncer_option(Section::Users, declared(b), raw) {
                    Ok(o) => options.push(o),
                    Err(diag) => cx.findings.push(diag),
                }
            }
        }
        users.push(User {
            name: Setting::new(u.name.clone(), cx.origin(&["users", &i, "name"])),
            password: cx.opt(&["users", &i, "password"], u.password.clone()),
            role,
            admin: cx.pick(
                &["users", &i, "admin"],
                u.admin,
                false,
                "poolstack's default",
            ),
            stats: cx.pick(
                &["users", &i, "stats"],
                u.stats,
                false,
                "poolstack's default",
            ),
            pool_mode: cx.opt(&["users", &i, "pool_mode"], u.pool_mode),
            max_user_connections: cx.opt(
                &["users", &i, "max_user_connections"],
                u.max_user_connections,
            ),
            options,
            userlist_secret,
            stored_secret: Some(stored_secret),
            verifier: cx
                .opt(&["users", &i, "verifier"], u.verifier.as_ref())
                .map(|s| Setting::new(cx.m.dir.join(&s.value.userlist), s.origin)),
        });
    }
    Ok(users)
}

/// PgBouncer's admin_users and stats_users: the users marked `admin` or `stats`.
pub(super) fn console_users(pgbouncer: &mut Option<Pgbouncer>, users: &[User]) {
    if let Some(b) = pgbouncer {
        for u in users {
            if u.admin.value {
                b.admin_users
                    .push(Setting::new(u.name.value.clone(), u.admin.origin.clone()));
            }
            if u.stats.value {
                b.stats_users
                    .push(Setting::new(u.name.value.clone(), u.stats.origin.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        MINIMAL, cx, default_text, error_place, formula, manifest, written,
    };
    use super::*;
    use crate::manifest::LoadedManifest;

    const PGB: &str = "\n[pgbouncer]\nversion = \"1.22\"\n";

    /// The users of `m` and its `[pgbouncer]` (admin and stats users filled in).
    fn resolved(m: &LoadedManifest) -> Result<(Vec<User>, Option<Pgbouncer>), InputError> {
        let mut c = cx(m);
        let pg = super::super::postgres::postgres(&mut c).expect("[postgres] resolves");
        let mut pgb =
            m.manifest.pgbouncer.as_ref().map(|t| {
                super::super::pgbouncer::pgbouncer(&mut c, t).expect("[pgbouncer] resolves")
            });
        let dbs = super::super::databases::databases(&mut c, pgb.as_ref())?;
        let users = users(&mut c, &pg.password_encryption, pgb.as_ref(), &dbs)?;
        console_users(&mut pgb, &users);
        Ok((users, pgb))
    }

    #[test]
    fn defaults_follow_password_encryption() {
        let m = manifest(&format!("{MINIMAL}{PGB}\n[[users]]\nname = \"app\"\n"));
        let (users, _) = resolved(&m).expect("resolves");
        let u = &users[0];
        assert!(u.role.value);
        assert!(default_text(&u.role).contains("roles.sql manages the role"));
        assert_eq!(u.userlist_secret.value, SecretKind::ScramSha256);
        assert!(formula(&u.userlist_secret).starts_with("userlist_hash = auto"));
        let stored = u.stored_secret.as_ref().expect("set from the manifest");
        assert_eq!(stored.value, SecretKind::ScramSha256);
    }

    #[test]
    fn a_forced_user_needs_a_plain_secret_and_a_written_hash_wins() {
        let m = manifest(&format!(
            "{MINIMAL}{PGB}\n[[databases]]\nname = \"app\"\nuser = \"app\"\n\n[[users]]\nname = \"app\"\n"
        ));
        let (users, _) = resolved(&m).expect("resolves");
        assert_eq!(users[0].userlist_secret.value, SecretKind::Plain);
        assert!(formula(&users[0].userlist_secret).contains("forced `user=` pool"));

        let m = manifest(&format!(
            "{MINIMAL}{PGB}userlist_hash = \"md5\"\n\n[[users]]\nname = \"app\"\n"
        ));
        let (users, _) = resolved(&m).expect("resolves");
        assert_eq!(users[0].userlist_secret.value, SecretKind::Md5);
        assert_eq!(written(&m, &users[0].userlist_secret), "\"md5\"");
    }

    #[test]
    fn admin_and_stats_users_reach_pgbouncer() {
        let m = manifest(&format!(
            "{MINIMAL}{PGB}\n[[users]]\nname = \"ops\"\nadmin = true\n\n[[users]]\nname = \"mon\"\nstats = true\n"
        ));
        let (_, pgb) = resolved(&m).expect("resolves");
        let pgb = pgb.expect("[pgbouncer]");
        let admins: Vec<&str> = pgb.admin_users.iter().map(|s| s.value.as_str()).collect();
        let stats: Vec<&str> = pgb.stats_users.iter().map(|s| s.value.as_str()).collect();
        assert_eq!((admins, stats), (vec!["ops"], vec!["mon"]));
        assert_eq!(written(&m, &pgb.admin_users[0]), "true");
    }

    #[test]
    fn a_first_class_key_in_settings_is_an_error_at_the_key() {
        let m = manifest(&format!(
            "{MINIMAL}{PGB}\n[[users]]\nname = \"app\"\n\n[users.settings]\nmax_user_connections = 3\n"
        ));
        let err = resolved(&m).expect_err("max_user_connections has a key of its own");
        assert!(err.message.contains("first-class key"), "{}", err.message);
        assert_eq!(error_place(&m, &err), (14, "max_user_connections"));
    }
}
