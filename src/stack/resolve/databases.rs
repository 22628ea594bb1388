//! `[[databases]]`: one PgBouncer pool target each; pool settings inherited from `[pgbouncer]`,
//! users derived from the apps when not listed.

use super::Ctx;
use super::pgbouncer::declared;
use crate::catalog::pgbouncer::Section;
use crate::defaults as d;
use crate::diag::InputError;
use crate::manifest::PoolMode;
use crate::stack::settings;
use crate::stack::{Database, Origin, Pgbouncer, Setting};

const DB_FIRST_CLASS: &[&str] = &[
    "dbname",
    "host",
    "port",
    "user",
    "pool_size",
    "reserve_pool_size",
    "reserve_pool",
    "max_db_connections",
    "pool_mode",
];

/// The `[[databases]]` entries (users derived from apps when not listed).
pub(super) fn databases(
    cx: &mut Ctx<'_>,
    pgbouncer: Option<&Pgbouncer>,
) -> Result<Vec<Database>, InputError> {
    let man = &cx.m.manifest;
    let pg = &man.postgres;
    let mut databases = Vec::new();
    for (i, db) in man.databases.iter().enumerate() {
        let i = i.to_string();
        let mut options = Vec::new();
        if let Some(b) = &pgbouncer {
            let raws = cx.raw_settings(
                db.settings.as_ref(),
                &["databases", &i, "settings"],
                DB_FIRST_CLASS,
                "the [[databases]] entry's",
            )?;
            for raw in &raws {
                match settings::pgbouncer_option(Section::Databases, declared(b), raw) {
                    Ok(o) => options.push(o),
                    Err(diag) => cx.findings.push(diag),
                }
            }
        }
        let p = |k: &str| vec!["databases".to_string(), i.clone(), k.to_string()];
        let pp = |k: &str| -> Origin {
            let v = p(k);
            let refs: Vec<&str> = v.iter().map(String::as_str).collect();
            cx.origin(&refs)
        };
        let users: Vec<Setting<String>> = match &db.users {
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(j, u)| {
                    Setting::new(
                        u.clone(),
                        cx.origin(&["databases", &i, "users", &j.to_string()]),
                    )
                })
                .collect(),
            None => {
                let mut seen: Vec<Setting<String>> = Vec::new();
                for (j, app) in man.apps.iter().enumerate() {
                    if app.database == db.name && !seen.iter().any(|s| s.value == app.user) {
                        let inputs = cx
                            .loc(&["apps", &j.to_string(), "user"])
                            .into_iter()
                            .collect();
                        seen.push(Setting::new(
                            app.user.clone(),
                            Origin::Derived {
                                formula: format!(
                                    "app `{}` connects to `{}` as `{}`",
                                    app.name, db.name, app.user
                                ),
                                inputs,
                            },
                        ));
                    }
                }
                seen
            }
        };
        let (g_pool, g_reserve, g_maxdb, g_mode) = match &pgbouncer {
            Some(b) => (
                b.default_pool_size.clone(),
                b.reserve_pool_size.clone(),
                b.max_db_connections.clone(),
                b.pool_mode.clone(),
            ),
            None => (
                Setting::new(
                    d::DEFAULT_POOL_SIZE,
                    Origin::Default("PgBouncer's default_pool_size"),
                ),
                Setting::new(
                    d::RESERVE_POOL_SIZE,
                    Origin::Default("PgBouncer's reserve_pool_size"),
                ),
                Setting::new(
                    d::MAX_DB_CONNECTIONS,
                    Origin::Default("PgBouncer's max_db_connections"),
                ),
                Setting::new(
                    PoolMode::Transaction,
                    Origin::Default("poolstack's pool_mode"),
                ),
            ),
        };
        let inherit = |v: Option<u32>, k: &str, g: &Setting<u32>| match v {
            Some(v) => Setting::new(v, pp(k)),
            None => g.clone(),
        };
        let create_owner = create_owner(cx, man, db, &i, &users)?;
        databases.push(Database {
            create_owner,
            name: Setting::new(db.name.clone(), pp("name")),
            dbname: match &db.dbname {
                Some(n) => Setting::new(n.clone(), pp("dbname")),
                None => Setting::new(db.name.clone(), Origin::Default("the entry's name")),
            },
            host: match &db.host {
                Some(h) => Setting::new(h.clone(), pp("host")),
                None => Setting::new(
                    pg.host
                        .clone()
                        .unwrap_or_else(|| d::POSTGRES_HOST.to_string()),
                    inherit_origin(cx, &["postgres", "host"], "postgres.host"),
                ),
            },
            port: match db.port {
                Some(v) => Setting::new(v, pp("port")),
                None => Setting::new(
                    pg.port.unwrap_or(d::POSTGRES_PORT),
                    inherit_origin(cx, &["postgres", "port"], "postgres.port"),
                ),
            },
            users: users.into(),
            forced_user: db
                .user
                .as_ref()
                .map(|u| Setting::new(u.clone(), pp("user"))),
            pool_size: inherit(db.pool_size, "pool_size", &g_pool),
            reserve_pool_size: inherit(db.reserve_pool_size, "reserve_pool_size", &g_reserve),
            max_db_connections: inherit(db.max_db_connections, "max_db_connections", &g_maxdb),
            pool_mode: match db.pool_mode {
                Some(v) => Setting::new(v, pp("pool_mode")),
                None => g_mode,
            },
            options,
        });
    }
    Ok(databases)
}

fn inherit_origin(cx: &Ctx<'_>, parts: &[&str], what: &'static str) -> Origin {
    match cx.loc(parts) {
        Some(loc) => Origin::Derived {
            formula: format!("inherited from {what}"),
            inputs: vec![loc],
        },
        None => Origin::Default(what),
    }
}

/// `create = true`: the owner of the database roles.sql creates — `owner`, else the forced
/// `user`, else the first of `users`; it must be a [[users]] name.
fn create_owner(
    cx: &Ctx<'_>,
    man: &crate::manifest::Manifest,
    db: &crate::manifest::DatabaseEntry,
    i: &str,
    users: &[Setting<String>],
) -> Result<Option<Setting<String>>, InputError> {
    if db.create != Some(true) {
        if db.owner.is_some() {
            return Err(cx
                .input_error(
                    &["databases", i, "owner"],
                    true,
                    format!(
                        "`owner` of [[databases]] `{}` is used only with `create = true`",
                        db.name
                    ),
                )
                .with_help(
                    "add `create = true` (roles.sql then creates the database), or remove `owner`",
                ));
        }
        return Ok(None);
    }
    let owner = match (&db.owner, &db.user, users.first()) {
        (Some(o), _, _) => Setting::new(o.clone(), cx.origin(&["databases", i, "owner"])),
        (None, Some(u), _) => Setting::new(u.clone(), cx.origin(&["databases", i, "user"])),
        (None, None, Some(u)) => u.clone(),
        (None, None, None) => {
            return Err(cx
                .input_error(
                    &["databases", i, "create"],
                    true,
                    format!(
                        "[[databases]] `{}` has `create = true` but no owner",
                        db.name
                    ),
                )
                .with_help("add `owner = \"NAME\"` (a [[users]] name)"));
        }
    };
    if !man.users.iter().any(|u| u.name == owner.value) {
        let key = if db.owner.is_some() {
            "owner"
        } else {
            "create"
        };
        return Err(cx
            .input_error(
                &["databases", i, key],
                false,
                format!(
                    "the owner `{}` of the database roles.sql creates is not a [[users]] name",
                    owner.value
                ),
            )
            .with_help("name one of the [[users]] (roles.sql creates roles before databases)"));
    }
    Ok(Some(owner))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        MINIMAL, cx, default_text, error_place, formula, manifest, written,
    };
    use super::*;
    use crate::manifest::LoadedManifest;

    const PGB: &str = "\n[pgbouncer]\nversion = \"1.22\"\ndefault_pool_size = 15\n";

    /// The databases of `toml`, resolved behind its `[pgbouncer]` when it has one.
    fn resolved(m: &LoadedManifest) -> Result<Vec<Database>, InputError> {
        let mut c = cx(m);
        let pgb =
            m.manifest.pgbouncer.as_ref().map(|t| {
                super::super::pgbouncer::pgbouncer(&mut c, t).expect("[pgbouncer] resolves")
            });
        databases(&mut c, pgb.as_ref())
    }

    #[test]
    fn an_entry_inherits_pgbouncer_and_postgres() {
        let m = manifest(&format!(
            "{}host = \"db\"\n{PGB}\n[[databases]]\nname = \"app\"\nusers = [\"u\"]\n",
            MINIMAL
        ));
        let dbs = resolved(&m).expect("resolves");
        let db = &dbs[0];
        assert_eq!(db.pool_size.value, 15);
        assert_eq!(
            written(&m, &db.pool_size),
            "15",
            "pgbouncer's default_pool_size"
        );
        assert_eq!(db.dbname.value, "app");
        assert_eq!(default_text(&db.dbname), "the entry's name");
        assert_eq!(db.host.value, "db");
        assert_eq!(formula(&db.host), "inherited from postgres.host");
        assert_eq!(written(&m, &db.users[0]), "\"u\"");
    }

    #[test]
    fn written_values_win() {
        let m = manifest(&format!(
            "{MINIMAL}{PGB}\n[[databases]]\nname = \"app\"\npool_size = 7\npool_mode = \"session\"\n"
        ));
        let db = &resolved(&m).expect("resolves")[0];
        assert_eq!(written(&m, &db.pool_size), "7");
        assert_eq!(db.pool_mode.value, PoolMode::Session);
        assert_eq!(written(&m, &db.pool_mode), "\"session\"");
    }

    #[test]
    fn users_are_derived_from_the_apps_when_not_listed() {
        let m = manifest(&format!(
            "{MINIMAL}\n[[databases]]\nname = \"app\"\n\n[[apps]]\nname = \"web\"\ndatabase = \"app\"\nuser = \"web_user\"\n"
        ));
        let db = &resolved(&m).expect("resolves")[0];
        assert_eq!(db.users.len(), 1);
        assert_eq!(db.users[0].value, "web_user");
        assert_eq!(
            formula(&db.users[0]),
            "app `web` connects to `app` as `web_user`"
        );
        assert_eq!(
            default_text(&db.pool_mode),
            "poolstack's pool_mode",
            "no PgBouncer"
        );
    }

    #[test]
    fn a_first_class_key_in_settings_is_an_error_at_the_key() {
        let m = manifest(&format!(
            "{MINIMAL}{PGB}\n[[databases]]\nname = \"app\"\n\n[databases.settings]\npool_size = 5\n"
        ));
        let err = resolved(&m).expect_err("pool_size has a key of its own");
        assert!(err.message.contains("first-class key"), "{}", err.message);
        assert_eq!(error_place(&m, &err), (15, "pool_size"));
    }
}
