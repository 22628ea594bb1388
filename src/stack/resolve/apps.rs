//! `[[apps]]`: each application's kind and its settings (SQLAlchemy's in [`super::sqlalchemy`],
//! the other kinds' by `crate::apps`), password variable, env file and connection URL.

use super::Ctx;
use crate::defaults as d;
use crate::diag::InputError;
use crate::manifest::{PasswordSource, PoolMode, path};
use crate::stack::{App, AppUrl, Database, KindSettings, Origin, Pgbouncer, Setting, User};
use std::path::PathBuf;

pub(super) fn apps(
    cx: &Ctx<'_>,
    pgb: Option<&Pgbouncer>,
    databases: &[Database],
    users: &[User],
) -> Result<Vec<App>, InputError> {
    let man = &cx.m.manifest;
    let several = man.apps.len() > 1;
    let mut out: Vec<App> = Vec::new();
    for (n, a) in man.apps.iter().enumerate() {
        // The kind (crate::apps) checks its keys; SQLAlchemy's typed keys are resolved here.
        let kind = crate::apps::keys::kind_of(cx.m, n, a)?;
        crate::apps::keys::check_keys(cx.m, n, a, kind.value)?;
        let i = n.to_string();
        let p = |k: &str| cx.origin(&["apps", &i, k]);
        let db = databases.iter().find(|d| d.name.value == a.database);
        let pool_mode = pgb.map(|b| {
            db.map(|d| d.pool_mode.clone())
                .unwrap_or_else(|| b.pool_mode.clone())
        });
        let settings = match crate::apps::framework(kind.value) {
            Some(fw) => KindSettings::Framework {
                kind: fw,
                settings: crate::apps::keys::read(cx.m, n, a, fw, pool_mode.as_ref(), pgb)?,
            },
            None => KindSettings::SqlAlchemy(Box::new(super::sqlalchemy::settings(
                cx,
                n,
                a,
                pool_mode.as_ref(),
            )?)),
        };
        let kind = Setting::new(settings, kind.origin);
        let user = users.iter().find(|u| u.name.value == a.user);
        let password_env = match (&a.password_env, user.and_then(|u| u.password.as_ref())) {
            (Some(v), _) => Setting::new(v.clone(), p("password_env")),
            (
                None,
                Some(Setting {
                    value: PasswordSource::Env { env },
                    origin,
                }),
            ) => Setting::new(
                env.clone(),
                Origin::Derived {
                    formula: format!("the env source of user `{}`", a.user),
                    inputs: origin.loc().cloned().into_iter().collect(),
                },
            ),
            (None, _) => Setting::new(
                format!(
                    "{}_PASSWORD",
                    a.user
                        .to_uppercase()
                        .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                ),
                Origin::Default("<USER>_PASSWORD, as the user has no env source"),
            ),
        };
        let env_file = match &a.env_file {
            Some(f) => Setting::new(PathBuf::from(f), p("env_file")),
            None if several => Setting::new(
                PathBuf::from(format!("{}.env", a.name)),
                Origin::Default("\"<name>.env\" when there are several apps"),
            ),
            None => Setting::new(
                PathBuf::from(".env"),
                Origin::Default("\".env\" for the only app"),
            ),
        };
        if let Some(problem) = crate::fsutil::output_path_problem(&env_file.value) {
            let (msg, key) = if a.env_file.is_some() {
                (
                    format!(
                        "app `{}`: env_file must be a path inside the output directory: {problem}",
                        a.name
                    ),
                    "env_file",
                )
            } else {
                (
                    format!(
                        "app `{}`: its name makes the env file name {}, which would not stay inside the output directory: {problem}",
                        a.name.escape_debug(),
                        env_file.value.display()
                    ),
                    "name",
                )
            };
            return Err(cx
                .input_error(&["apps", &i, key], false, msg)
                .with_help("name the app with letters, digits, `_` and `-` only, or give it an `env_file` inside the output directory"));
        }
        if let Some(other) = out.iter().find(|o| o.env_file.value == env_file.value) {
            let msg = format!(
                "apps `{}` and `{}` would share the env file {}",
                other.name.value,
                a.name,
                env_file.value.display()
            );
            let loc =
                cx.m.loc(&path(&["apps", &i, "env_file"]))
                    .or_else(|| cx.m.loc(&path(&["apps", &i, "name"])));
            let err = match loc {
                Some(l) => InputError::located(msg, l, &cx.m.sources),
                None => InputError::new(msg),
            };
            return Err(err.with_help("give each app its own `env_file`"));
        }
        let url = match pgb {
            Some(b) => AppUrl {
                host: b.host.clone(),
                port: b.client_port.clone(),
                database: Setting::new(a.database.clone(), p("database")),
                via_pgbouncer: true,
                password_in_file: false,
                options: None,
                query_keys: Vec::new(),
                // Migrations that need a session (advisory locks, prepared statements) go
                // past transaction or statement pooling.
                direct: pool_mode
                    .as_ref()
                    .is_some_and(|m| m.value != PoolMode::Session)
                    .then(|| {
                        (
                            cx.m.manifest
                                .postgres
                                .host
                                .clone()
                                .unwrap_or_else(|| d::POSTGRES_HOST.to_string()),
                            cx.m.manifest.postgres.port.unwrap_or(d::POSTGRES_PORT),
                            db.map_or_else(|| a.database.clone(), |d| d.dbname.value.clone()),
                        )
                    }),
            },
            None => {
                let pg = &cx.m.manifest.postgres;
                AppUrl {
                    host: cx.pick(
                        &["postgres", "host"],
                        pg.host.clone(),
                        d::POSTGRES_HOST.to_string(),
                        "poolstack's default",
                    ),
                    port: cx.pick(
                        &["postgres", "port"],
                        pg.port,
                        d::POSTGRES_PORT,
                        "PostgreSQL's default port",
                    ),
                    database: match db {
                        Some(d) => d.dbname.clone(),
                        None => Setting::new(a.database.clone(), p("database")),
                    },
                    via_pgbouncer: false,
                    password_in_file: false,
                    options: None,
                    direct: None,
                    query_keys: Vec::new(),
                }
            }
        };
        let settings_file =
            settings_file(cx, n, a, kind.value.kind(), several, &env_file.value, &out)?;
        out.push(App {
            name: Setting::new(a.name.clone(), p("name")),
            kind,
            replicas: cx.pick(
                &["apps", &i, "replicas"],
                a.replicas,
                d::APP_REPLICAS,
                "poolstack's default",
            ),
            processes: cx.pick(
                &["apps", &i, "processes"],
                a.processes,
                d::APP_PROCESSES,
                "poolstack's default",
            ),
            database: Setting::new(a.database.clone(), p("database")),
            user: Setting::new(a.user.clone(), p("user")),
            password_env,
            settings_file,
            env_file,
            url,
        });
    }
    Ok(out)
}

/// Where the framework's own settings file goes: `settings_file`, else the framework's name for
/// it (in a directory named after the app when there are several apps). An input error for a
/// kind that reads only the environment, or for a path outside the output directory.
fn settings_file(
    cx: &Ctx<'_>,
    n: usize,
    a: &crate::manifest::AppEntry,
    kind: &dyn crate::apps::AppKind,
    several: bool,
    env_file: &std::path::Path,
    before: &[App],
) -> Result<Option<Setting<PathBuf>>, InputError> {
    let i = n.to_string();
    let key = ["apps", i.as_str(), "settings_file"];
    let Some(def) = kind.settings_file() else {
        if a.settings_file.is_some() {
            return Err(cx
                .input_error(
                    &key,
                    true,
                    format!(
                        "app `{}` is of kind {}, which reads its settings from the environment only: there is no settings file to write",
                        a.name,
                        kind.name()
                    ),
                )
                .with_help("remove `settings_file`: the app's .env (env_file) holds all its settings"));
        }
        return Ok(None);
    };
    let file = match &a.settings_file {
        Some(f) => Setting::new(PathBuf::from(f), cx.origin(&key)),
        None if several => Setting::new(
            PathBuf::from(&a.name).join(def.name),
            Origin::Default(def.several),
        ),
        None => Setting::new(
            PathBuf::from(def.name),
            Origin::Default("the framework's own name for it, for the only app"),
        ),
    };
    let problem = crate::fsutil::output_path_problem(&file.value)
        .or_else(|| (file.value == env_file).then(|| "it is the app's env_file".to_string()))
        .or_else(|| {
            before
                .iter()
                .find(|o| {
                    o.env_file.value == file.value
                        || o.settings_file
                            .as_ref()
                            .is_some_and(|s| s.value == file.value)
                })
                .map(|o| format!("app `{}` writes the same file", o.name.value))
        });
    if let Some(problem) = problem {
        let msg = format!(
            "app `{}`: its settings file {} cannot be written: {problem}",
            a.name.escape_debug(),
            file.value.display()
        );
        return Err(if a.settings_file.is_some() {
            cx.input_error(&key, false, msg)
        } else {
            cx.input_error(&["apps", &i, "name"], false, msg)
        }
        .with_help("give the app a `settings_file` of its own, inside the output directory"));
    }
    Ok(Some(file))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        MINIMAL, cx, default_text, error_place, formula, manifest, written,
    };
    use super::*;
    use crate::manifest::{Driver, LoadedManifest, PrepareThreshold};

    const PGB: &str = "\n[pgbouncer]\nversion = \"1.22\"\n";

    /// The apps of `m`, resolved after the tables they read.
    fn resolved(m: &LoadedManifest) -> Result<Vec<App>, InputError> {
        let mut c = cx(m);
        let pg = super::super::postgres::postgres(&mut c).expect("[postgres] resolves");
        let pgb =
            m.manifest.pgbouncer.as_ref().map(|t| {
                super::super::pgbouncer::pgbouncer(&mut c, t).expect("[pgbouncer] resolves")
            });
        let dbs = super::super::databases::databases(&mut c, pgb.as_ref()).expect("databases");
        let users = super::super::users::users(&mut c, &pg.password_encryption, pgb.as_ref(), &dbs)
            .expect("users");
        apps(&c, pgb.as_ref(), &dbs, &users)
    }

    fn app(fields: &str) -> String {
        format!("\n[[apps]]\nname = \"web\"\ndatabase = \"app\"\nuser = \"app\"\n{fields}")
    }

    #[test]
    fn defaults_for_a_single_psycopg_app() {
        let m = manifest(&format!("{MINIMAL}{PGB}{}", app("")));
        let a = &resolved(&m).expect("resolves")[0];
        let s = a.sqlalchemy().expect("the default kind");
        assert_eq!(s.driver.value, Driver::Psycopg);
        let pt = s.prepare_threshold.as_ref().expect("psycopg has one");
        assert_eq!(pt.value, PrepareThreshold::Disabled);
        assert!(s.statement_cache_size.is_none());
        assert_eq!(a.env_file.value, PathBuf::from(".env"));
        assert_eq!(
            default_text(&a.password_env),
            "<USER>_PASSWORD, as the user has no env source"
        );
        assert_eq!(a.password_env.value, "APP_PASSWORD");
        assert!(a.url.via_pgbouncer);
    }

    #[test]
    fn asyncpg_caches_no_statements_behind_transaction_pooling() {
        let m = manifest(&format!("{MINIMAL}{PGB}{}", app("driver = \"asyncpg\"\n")));
        let a = &resolved(&m).expect("resolves")[0];
        let s = a.sqlalchemy().expect("the default kind");
        assert_eq!(written(&m, &s.driver), "\"asyncpg\"");
        let scs = s.statement_cache_size.as_ref().expect("asyncpg has one");
        assert_eq!(scs.value, 0);
        assert_eq!(formula(scs), "0 behind PgBouncer's transaction pooling");

        let m = manifest(&format!(
            "{MINIMAL}{PGB}pool_mode = \"session\"\n{}",
            app("driver = \"asyncpg\"\n")
        ));
        let a = &resolved(&m).expect("resolves")[0];
        let s = a.sqlalchemy().expect("the default kind");
        let scs = s.statement_cache_size.as_ref().expect("asyncpg has one");
        assert_eq!(scs.value, d::ASYNCPG_STATEMENT_CACHE_SIZE);
    }

    #[test]
    fn a_key_of_another_driver_is_an_error_at_the_key() {
        let m = manifest(&format!(
            "{MINIMAL}{PGB}{}",
            app("driver = \"asyncpg\"\nprepare_threshold = 5\n")
        ));
        let err = resolved(&m).expect_err("prepare_threshold is psycopg's");
        assert!(
            err.message.contains("is a psycopg setting"),
            "{}",
            err.message
        );
        assert_eq!(error_place(&m, &err), (15, "prepare_threshold"));
    }

    #[test]
    fn two_apps_get_env_files_of_their_own_or_an_error() {
        let two = format!(
            "{MINIMAL}{PGB}{}{}",
            app(""),
            app("").replace("\"web\"", "\"worker\"")
        );
        let apps = resolved(&manifest(&two)).expect("resolves");
        assert_eq!(apps[1].env_file.value, PathBuf::from("worker.env"));

        let clash = format!(
            "{MINIMAL}{PGB}{}{}",
            app("env_file = \"a.env\"\n"),
            app("env_file = \"a.env\"\n").replace("\"web\"", "\"worker\"")
        );
        let m = manifest(&clash);
        let err = resolved(&m).expect_err("one file for two apps");
        assert!(
            err.message.contains("would share the env file"),
            "{}",
            err.message
        );
        assert_eq!(error_place(&m, &err).1, "\"a.env\"");
    }

    #[test]
    fn without_pgbouncer_the_url_goes_to_postgres() {
        let m = manifest(&format!("{MINIMAL}port = 5433\n{}", app("")));
        let a = &resolved(&m).expect("resolves")[0];
        assert!(!a.url.via_pgbouncer);
        assert_eq!(written(&m, &a.url.port), "5433");
    }

    #[test]
    fn a_connect_timeout_libpq_cannot_take_is_cat002() {
        let findings = |driver: &str| {
            let m = manifest(&format!(
                "{MINIMAL}{PGB}{}",
                app(&format!(
                    "driver = \"{driver}\"\nconnect_timeout = \"600ms\"\n"
                ))
            ));
            let apps = resolved(&m).expect("resolves");
            let mut c = cx(&m);
            super::super::sqlalchemy::connect_timeouts(&mut c, &apps);
            c.findings.iter().map(|d| d.code).collect::<Vec<_>>()
        };
        assert_eq!(findings("psycopg"), ["CAT002"]);
        assert!(findings("asyncpg").is_empty(), "asyncpg takes fractions");
    }
}
