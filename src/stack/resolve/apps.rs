//! `[[apps]]`: each application's driver, pool and connection URL, with the driver-specific
//! keys checked against the driver.

use super::Ctx;
use crate::defaults as d;
use crate::diag::{Diagnostic, InputError, Severity};
use crate::manifest::{Driver, PasswordSource, PoolMode, PrepareThreshold, Recycle, path};
use crate::stack::{App, AppUrl, Database, Origin, Pgbouncer, Setting, User};
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
        let sqla = crate::apps::is_default(kind.value);
        let i = n.to_string();
        let p = |k: &str| cx.origin(&["apps", &i, k]);
        let driver = cx.pick(
            &["apps", &i, "driver"],
            a.driver,
            Driver::Psycopg,
            "poolstack's default",
        );
        if sqla && a.prepare_threshold.is_some() && driver.value != Driver::Psycopg {
            return Err(cx
                .input_error(
                    &["apps", &i, "prepare_threshold"],
                    true,
                    format!(
                        "`prepare_threshold` is a psycopg setting, but app `{}` uses {}",
                        a.name,
                        driver.value.as_str()
                    ),
                )
                .with_help(if driver.value == Driver::Asyncpg {
                    "asyncpg's prepared statements are controlled by `statement_cache_size`"
                } else {
                    "psycopg2 never prepares statements: remove the key"
                }));
        }
        if sqla && a.statement_cache_size.is_some() && driver.value != Driver::Asyncpg {
            return Err(cx
                .input_error(
                    &["apps", &i, "statement_cache_size"],
                    true,
                    format!(
                        "`statement_cache_size` is an asyncpg setting, but app `{}` uses {}",
                        a.name,
                        driver.value.as_str()
                    ),
                )
                .with_help("psycopg's prepared statements are controlled by `prepare_threshold`"));
        }
        let db = databases.iter().find(|d| d.name.value == a.database);
        let pool_mode = pgb.map(|b| {
            db.map(|d| d.pool_mode.clone())
                .unwrap_or_else(|| b.pool_mode.clone())
        });
        let fw = crate::apps::keys::read(cx.m, n, a, kind.value, pool_mode.as_ref(), pgb)?;
        let prepare_threshold = (sqla && driver.value == Driver::Psycopg).then(|| {
            cx.pick(
                &["apps", &i, "prepare_threshold"],
                a.prepare_threshold,
                PrepareThreshold::Disabled,
                "poolstack's default (psycopg's own is 5, which fails behind transaction pooling)",
            )
        });
        let statement_cache_size =
            (sqla && driver.value == Driver::Asyncpg).then(|| match a.statement_cache_size {
                Some(v) => Setting::new(v, p("statement_cache_size")),
                None => match &pool_mode {
                    Some(mode) if mode.value != PoolMode::Session => Setting::new(
                        0,
                        Origin::Derived {
                            formula: format!(
                                "0 behind PgBouncer's {} pooling",
                                mode.value.as_str()
                            ),
                            inputs: mode.loc().cloned().into_iter().collect(),
                        },
                    ),
                    _ => Setting::new(
                        d::ASYNCPG_STATEMENT_CACHE_SIZE,
                        Origin::Default("asyncpg's own"),
                    ),
                },
            });
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
        let settings_file = settings_file(cx, n, a, kind.value, several, &env_file.value, &out)?;
        out.push(App {
            name: Setting::new(a.name.clone(), p("name")),
            kind,
            fw,
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
            driver,
            libpq: cx.opt(&["apps", &i, "libpq"], a.libpq),
            database: Setting::new(a.database.clone(), p("database")),
            user: Setting::new(a.user.clone(), p("user")),
            password_env,
            pool_size: cx.pick(
                &["apps", &i, "pool_size"],
                a.pool_size,
                d::APP_POOL_SIZE,
                "SQLAlchemy's default",
            ),
            max_overflow: cx.pick(
                &["apps", &i, "max_overflow"],
                a.max_overflow,
                d::APP_MAX_OVERFLOW,
                "SQLAlchemy's default",
            ),
            pool_timeout: cx.pick(
                &["apps", &i, "pool_timeout"],
                a.pool_timeout.map(|x| x.0),
                d::APP_POOL_TIMEOUT,
                "SQLAlchemy's default",
            ),
            pool_recycle: cx.pick(
                &["apps", &i, "pool_recycle"],
                a.pool_recycle,
                Recycle::Never,
                "SQLAlchemy's default (never)",
            ),
            pre_ping: cx.pick(
                &["apps", &i, "pre_ping"],
                a.pre_ping,
                d::APP_PRE_PING,
                "SQLAlchemy's default",
            ),
            prepare_threshold,
            statement_cache_size,
            connect_timeout: cx.pick(
                &["apps", &i, "connect_timeout"],
                a.connect_timeout.map(|x| x.0),
                d::APP_CONNECT_TIMEOUT,
                "poolstack's default (libpq's own waits forever)",
            ),
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
            Origin::Default(match def.name {
                "database.yml" => "\"<name>/database.yml\" when there are several apps",
                "database_settings.py" => {
                    "\"<name>/database_settings.py\" when there are several apps"
                }
                _ => "\"<name>/application.properties\" when there are several apps",
            }),
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

/// CAT002 for a connect_timeout libpq cannot take.
pub(super) fn connect_timeouts(cx: &mut Ctx<'_>, apps: &[App]) {
    for app in apps {
        // libpq's connect_timeout is whole seconds: "600ms" would become 0, which waits forever.
        if app.driver.value != Driver::Asyncpg && app.connect_timeout.value.whole_secs().is_none() {
            cx.findings.push(
                Diagnostic::new(
                    "CAT002",
                    Severity::Error,
                    format!(
                        "connect_timeout = {} does not convert to whole seconds, the unit of libpq's connect_timeout ({} uses libpq)",
                        app.connect_timeout.value,
                        app.driver.value.as_str()
                    ),
                )
                .at(app.connect_timeout.loc().cloned())
                .help("write whole seconds, e.g. \"2s\" (libpq truncates, and 0 means wait forever)"),
            );
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
        assert_eq!(a.driver.value, Driver::Psycopg);
        let pt = a.prepare_threshold.as_ref().expect("psycopg has one");
        assert_eq!(pt.value, PrepareThreshold::Disabled);
        assert!(a.statement_cache_size.is_none());
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
        assert_eq!(written(&m, &a.driver), "\"asyncpg\"");
        let scs = a.statement_cache_size.as_ref().expect("asyncpg has one");
        assert_eq!(scs.value, 0);
        assert_eq!(formula(scs), "0 behind PgBouncer's transaction pooling");

        let m = manifest(&format!(
            "{MINIMAL}{PGB}pool_mode = \"session\"\n{}",
            app("driver = \"asyncpg\"\n")
        ));
        let a = &resolved(&m).expect("resolves")[0];
        let scs = a.statement_cache_size.as_ref().expect("asyncpg has one");
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
            connect_timeouts(&mut c, &apps);
            c.findings.iter().map(|d| d.code).collect::<Vec<_>>()
        };
        assert_eq!(findings("psycopg"), ["CAT002"]);
        assert!(findings("asyncpg").is_empty(), "asyncpg takes fractions");
    }
}
