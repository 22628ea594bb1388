//! Who connects to what: the userlist's users and the `[databases]` entries, the two sides of
//! every PgBouncer pool.

use super::imported;
use crate::auth::SecretKind;
use crate::manifest::PoolMode;
use crate::stack::files::pgbouncer_ini::IniSettings;
use crate::stack::handwritten::HandUserlist;
use crate::stack::{Database, Origin, PgbOption, Pgbouncer, Setting, User};
use std::sync::Arc;

/// The users PgBouncer knows: the userlist's entries (the last of a repeated name), with
/// their `[users]` settings.
pub(super) fn users(
    userlist: Option<&HandUserlist>,
    ini: Option<&IniSettings>,
    pgb: Option<&Pgbouncer>,
    stored: Option<&Setting<SecretKind>>,
) -> Vec<User> {
    let Some(list) = userlist else {
        return Vec::new();
    };
    // A user listed twice: PgBouncer keeps the last entry, in the place of the first.
    let mut out: Vec<User> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for entry in &list.entries {
        let section = ini.and_then(|i| i.users.iter().rev().find(|u| u.name == entry.user));
        let param = |key: &str| section.and_then(|s| s.params.iter().rev().find(|p| p.name == key));
        let listed = |names: &[Setting<String>]| {
            let hit = names.iter().find(|n| n.value == entry.user);
            Setting::new(
                hit.is_some(),
                hit.map_or(Origin::Default("not listed"), |n| n.origin.clone()),
            )
        };
        let user = User {
            name: Setting::new(entry.user.clone(), imported(&entry.user_loc)),
            password: None,
            role: Setting::new(
                false,
                Origin::Default("roles are managed outside these files"),
            ),
            admin: pgb.map_or(
                Setting::new(false, Origin::Default("no pgbouncer.ini")),
                |b| listed(&b.admin_users),
            ),
            stats: pgb.map_or(
                Setting::new(false, Origin::Default("no pgbouncer.ini")),
                |b| listed(&b.stats_users),
            ),
            pool_mode: param("pool_mode").and_then(|p| {
                Some(Setting::new(
                    PoolMode::from_pgbouncer(&p.value.normalized)?,
                    imported(&p.value_loc),
                ))
            }),
            max_user_connections: param("max_user_connections").map(|p| {
                Setting::new(
                    p.value.number.unwrap_or(0.0).max(0.0) as u32,
                    imported(&p.value_loc),
                )
            }),
            options: section
                .map(|s| {
                    s.params
                        .iter()
                        .filter(|p| !matches!(p.name, "pool_mode" | "max_user_connections"))
                        .map(|p| PgbOption {
                            name: p.name.to_string(),
                            ini_text: p.raw.clone(),
                            number: p.value.number,
                            origin: imported(&p.value_loc),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            userlist_secret: Setting::new(entry.kind, imported(&entry.secret_loc)),
            stored_secret: stored.cloned(),
            verifier: None,
        };
        match at.get(entry.user.as_str()) {
            Some(&i) => out[i] = user,
            None => {
                at.insert(entry.user.as_str(), out.len());
                out.push(user);
            }
        }
    }
    out
}

/// `[databases]` entries; each is used by its forced user, else by every userlist user
/// (PgBouncer's own file-descriptor estimate counts pools the same way).
pub(super) fn databases(set: &IniSettings, pgb: &Pgbouncer, users: &[User]) -> Vec<Database> {
    // One list, shared by every entry without a forced user.
    let everyone: Arc<[Setting<String>]> = users
        .iter()
        .map(|u| Setting::new(u.name.value.clone(), u.name.origin.clone()))
        .collect();
    let nobody: Arc<[Setting<String>]> = Arc::new([]);
    set.databases
        .iter()
        .map(|db| {
            let param = |key: &str| db.params.iter().rev().find(|p| p.name == key);
            let text = |key: &str, fallback: &str, why: &'static str| match param(key) {
                Some(p) => Setting::new(p.value.normalized.clone(), imported(&p.value_loc)),
                None => Setting::new(fallback.to_string(), Origin::Default(why)),
            };
            // Of several spellings (`reserve_pool`, `reserve_pool_size`), the one written last
            // wins, as PgBouncer reads the connection string left to right.
            let count = |keys: &[&str], global: &Setting<u32>| match db
                .params
                .iter()
                .rev()
                .find(|p| keys.contains(&p.name))
            {
                Some(p) => Setting::new(
                    p.value.number.unwrap_or(0.0).max(0.0) as u32,
                    imported(&p.value_loc),
                ),
                None => global.clone(),
            };
            let forced_user = param("user")
                .map(|p| Setting::new(p.value.normalized.clone(), imported(&p.value_loc)));
            Database {
                create_owner: None,
                name: Setting::new(db.name.clone(), imported(&db.name_loc)),
                dbname: text("dbname", &db.name, "not set: the entry's name"),
                host: text("host", "", "not set: the unix socket"),
                port: match param("port") {
                    Some(p) => Setting::new(
                        p.value.number.unwrap_or(5432.0).clamp(0.0, 65535.0) as u16,
                        imported(&p.value_loc),
                    ),
                    None => Setting::new(5432, Origin::Default("not set: PgBouncer's default")),
                },
                users: if forced_user.is_some() {
                    nobody.clone()
                } else {
                    everyone.clone()
                },
                forced_user,
                pool_size: count(&["pool_size"], &pgb.default_pool_size),
                // `reserve_pool` before 1.24, `reserve_pool_size` from 1.24.
                reserve_pool_size: count(
                    &["reserve_pool_size", "reserve_pool"],
                    &pgb.reserve_pool_size,
                ),
                max_db_connections: count(&["max_db_connections"], &pgb.max_db_connections),
                pool_mode: param("pool_mode")
                    .and_then(|p| {
                        Some(Setting::new(
                            PoolMode::from_pgbouncer(&p.value.normalized)?,
                            imported(&p.value_loc),
                        ))
                    })
                    .unwrap_or_else(|| pgb.pool_mode.clone()),
                options: db
                    .params
                    .iter()
                    .filter(|p| {
                        !matches!(
                            p.name,
                            "dbname"
                                | "host"
                                | "port"
                                | "user"
                                | "pool_size"
                                | "reserve_pool"
                                | "reserve_pool_size"
                                | "max_db_connections"
                                | "pool_mode"
                        )
                    })
                    .map(|p| PgbOption {
                        name: p.name.to_string(),
                        ini_text: p.raw.clone(),
                        number: p.value.number,
                        origin: imported(&p.value_loc),
                    })
                    .collect(),
            }
        })
        .collect()
}
