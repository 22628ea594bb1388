//! Manifest → [`Stack`]: defaults applied, values derived, `*.settings` checked against the
//! catalogs, and every effective value tagged with where it came from.

use super::budget::ServerConnectionBudget;
use super::settings::{self, RawSetting};
use super::*;
use crate::auth::SecretKind;
use crate::catalog::pgbouncer::{PgbVersion, Section};
use crate::catalog::postgres::{PgCatalog, PgUnit};
use crate::defaults as d;
use crate::diag::{InputError, Severity};
use crate::manifest::{LoadedManifest, Seg, UserlistHash, path};
use std::path::Path;

/// First-class keys that a `*.settings` table may not repeat (product.md: exit 2).
const PG_FIRST_CLASS: &[&str] = &[
    "max_connections",
    "superuser_reserved_connections",
    "password_encryption",
];
/// `[pgbouncer]` options the manifest (and the [`Pgbouncer`] model) hold in keys of their own.
pub(crate) const PGB_FIRST_CLASS: &[&str] = &[
    "listen_addr",
    "listen_port",
    "pool_mode",
    "auth_type",
    "auth_file",
    "logfile",
    "pidfile",
    "unix_socket_dir",
    "max_client_conn",
    "default_pool_size",
    "min_pool_size",
    "reserve_pool_size",
    "max_db_connections",
    "max_user_connections",
    "max_prepared_statements",
    "admin_users",
    "stats_users",
];
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
const USER_FIRST_CLASS: &[&str] = &["pool_mode", "max_user_connections"];

struct Ctx<'a> {
    m: &'a LoadedManifest,
    findings: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn origin(&self, parts: &[&str]) -> Origin {
        match self.m.loc(&path(parts)) {
            Some(loc) => Origin::Manifest(loc),
            None => Origin::Default("written without a place"),
        }
    }

    fn loc(&self, parts: &[&str]) -> Option<Loc> {
        self.m.loc(&path(parts))
    }

    /// The manifest's value with its place, or the default.
    fn pick<T>(
        &self,
        parts: &[&str],
        value: Option<T>,
        default: T,
        why: &'static str,
    ) -> Setting<T> {
        match value {
            Some(v) => Setting::new(v, self.origin(parts)),
            None => Setting::new(default, Origin::Default(why)),
        }
    }

    fn opt<T>(&self, parts: &[&str], value: Option<T>) -> Option<Setting<T>> {
        value.map(|v| Setting::new(v, self.origin(parts)))
    }

    fn input_error(&self, parts: &[&str], key: bool, message: String) -> InputError {
        let p = path(parts);
        let loc = if key {
            self.m.key_loc(&p)
        } else {
            self.m.loc(&p)
        };
        match loc {
            Some(loc) => InputError::located(message, loc, &self.m.sources),
            None => InputError::new(message),
        }
    }

    /// The entries of a `*.settings` table, refusing first-class keys (exit 2).
    fn raw_settings<'t>(
        &self,
        table: Option<&'t toml::Table>,
        prefix: &[&str],
        first_class: &[&'static str],
        first_class_home: &str,
    ) -> Result<Vec<RawSetting<'t>>, InputError> {
        let Some(table) = table else {
            return Ok(Vec::new());
        };
        let mut flat = Vec::new();
        settings::flatten(table, &[], &mut flat);
        let mut out = Vec::new();
        for (name, segs, value) in flat {
            let mut parts: Vec<String> = prefix.iter().map(|s| s.to_string()).collect();
            parts.extend(segs);
            let p: Vec<Seg> = parts.iter().map(|s| Seg::Key(s.clone())).collect();
            // array indices in the prefix
            let p: Vec<Seg> = p
                .into_iter()
                .map(|s| match s {
                    Seg::Key(k) => match k.parse::<usize>() {
                        Ok(i) => Seg::Index(i),
                        Err(_) => Seg::Key(k),
                    },
                    other => other,
                })
                .collect();
            let key_loc = self.m.key_loc(&p);
            let value_loc = self.m.loc(&p);
            if let Some(first) = first_class.iter().find(|f| **f == name) {
                let msg = format!(
                    "`{name}` is a first-class key here: use {first_class_home} {first} instead of the settings table"
                );
                let err = match key_loc {
                    Some(loc) => InputError::located(msg, loc, &self.m.sources),
                    None => InputError::new(msg),
                };
                return Err(
                    err.with_help(format!("move it: `{first} = …` under {first_class_home}"))
                );
            }
            out.push(RawSetting {
                name,
                value,
                key_loc,
                value_loc,
            });
        }
        Ok(out)
    }
}

/// Resolve a loaded manifest. `out_dir` replaces the manifest's directory as the base of outputs.
pub fn resolve(m: &LoadedManifest, out_dir: Option<&Path>) -> Result<Stack, InputError> {
    let mut cx = Ctx {
        m,
        findings: Vec::new(),
    };
    let man = &m.manifest;

    let name = Setting::new(man.stack.name.clone(), cx.origin(&["stack", "name"]));
    let outputs = outputs(&cx, out_dir);

    // ---- PostgreSQL basics
    let pg = &man.postgres;
    let version = Setting::new(pg.version, cx.origin(&["postgres", "version"]));
    let catalog = PgCatalog::for_major(pg.version).ok_or_else(|| {
        cx.input_error(
            &["postgres", "version"],
            false,
            format!("no settings catalog for PostgreSQL {}", pg.version),
        )
    })?;
    let password_encryption = cx.pick(
        &["postgres", "password_encryption"],
        pg.password_encryption,
        if pg.version >= 14 {
            PasswordEncryption::ScramSha256
        } else {
            PasswordEncryption::Md5
        },
        "the PostgreSQL version's default (scram-sha-256 from 14, md5 before)",
    );

    let mut params: Vec<PgParam> = Vec::new();
    let pg_settings = cx.raw_settings(
        pg.settings.as_ref(),
        &["postgres", "settings"],
        PG_FIRST_CLASS,
        "[postgres]",
    )?;
    for raw in &pg_settings {
        match settings::postgres_param(catalog, raw) {
            Ok(p) => {
                if let Some(prev) = params
                    .iter()
                    .position(|q| q.name.eq_ignore_ascii_case(&p.name))
                {
                    // `sort_mem` and `work_mem` both written: the later one wins, as in PostgreSQL.
                    cx.findings.push(
                        Diagnostic::new(
                            "CAT006",
                            Severity::Warning,
                            format!(
                                "`{}` is set twice (once through an alias): the later one wins",
                                p.name
                            ),
                        )
                        .at(raw.key_loc.clone())
                        .related(params[prev].origin.loc().cloned(), "first set here"),
                    );
                    params.remove(prev);
                }
                params.push(p)
            }
            Err(diag) => cx.findings.push(diag),
        }
    }
    let reserved_connections = match params.iter().find(|p| p.name == "reserved_connections") {
        Some(p) => Setting::new(p.base.unwrap_or(0.0).max(0.0) as u32, p.origin.clone()),
        None => Setting::new(
            0,
            Origin::Default("PostgreSQL's own (0; the parameter exists from 16)"),
        ),
    };
    let superuser_reserved_connections = cx.pick(
        &["postgres", "superuser_reserved_connections"],
        pg.superuser_reserved_connections,
        d::SUPERUSER_RESERVED_CONNECTIONS,
        "PostgreSQL's own",
    );

    // ---- PgBouncer
    let pgb_enabled = man
        .pgbouncer
        .as_ref()
        .is_some_and(|p| p.enabled != Some(false));
    let pgbouncer = match (&man.pgbouncer, pgb_enabled) {
        (Some(t), true) => Some(pgbouncer(&mut cx, t)?),
        _ => None,
    };

    // ---- databases (users derived from apps when not listed)
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
        let create_owner = create_owner(&cx, man, db, &i, &users)?;
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
                    inherit_origin(&cx, &["postgres", "host"], "postgres.host"),
                ),
            },
            port: match db.port {
                Some(v) => Setting::new(v, pp("port")),
                None => Setting::new(
                    pg.port.unwrap_or(d::POSTGRES_PORT),
                    inherit_origin(&cx, &["postgres", "port"], "postgres.port"),
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

    // ---- users
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
    let mut pgbouncer = pgbouncer;
    if let Some(b) = &mut pgbouncer {
        for u in &users {
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

    // ---- apps
    let apps = apps(&cx, pgbouncer.as_ref(), &databases, &users)?;
    let clients = man
        .clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let i = i.to_string();
            Client {
                name: Setting::new(c.name.clone(), cx.origin(&["clients", &i, "name"])),
                connections: Setting::new(
                    c.connections,
                    cx.origin(&["clients", &i, "connections"]),
                ),
            }
        })
        .collect();

    let lint = LintConfig {
        comments: Vec::new(),
        ignore: man
            .lint
            .ignore
            .iter()
            .enumerate()
            .map(|(i, c)| Setting::new(c.clone(), cx.origin(&["lint", "ignore", &i.to_string()])))
            .collect(),
        fail_on: cx.pick(
            &["lint", "fail_on"],
            man.lint.fail_on,
            FailOn::Error,
            "poolstack's default",
        ),
        severity: man
            .lint
            .severity
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    Setting::new(*v, cx.origin(&["lint", "severity", k])),
                )
            })
            .collect(),
    };

    if let Some(b) = &pgbouncer {
        cx.findings
            .extend(ini_key_findings(declared(b), &databases, &users));
    }
    for app in &apps {
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
    let placeholder_max = Setting::new(0, Origin::Default("not yet derived"));
    let mut stack = Stack {
        sources: m.sources.clone(),
        manifest_path: Some(m.path.clone()),
        name,
        outputs,
        coverage: super::Coverage::FULL,
        postgres: Postgres {
            version: Some(version),
            described: true,
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
            memory: cx.opt(&["postgres", "memory"], pg.memory.map(|s| s.0)),
            cpus: cx.opt(&["postgres", "cpus"], pg.cpus),
            storage: cx.opt(&["postgres", "storage"], pg.storage),
            workload: cx.opt(&["postgres", "workload"], pg.workload),
            data_size: cx.opt(&["postgres", "data_size"], pg.data_size),
            os: cx.opt(&["postgres", "os"], pg.os),
            max_connections: placeholder_max,
            superuser_reserved_connections,
            reserved_connections,
            password_encryption,
            hba_method: cx.opt(&["postgres", "hba_method"], pg.hba_method.clone()),
            params,
        },
        pgbouncer,
        databases,
        users,
        apps,
        clients,
        lint,
        findings: Vec::new(),
        userlist_file: None,
    };
    stack.postgres.max_connections = max_connections(&cx, &stack);
    first_class_params(&cx, &mut stack);
    super::derive::derive(&mut stack);
    let mut findings = cx.findings;
    findings.sort_by_key(|d| d.primary.as_ref().map(|l| (l.file, l.span.start)));
    stack.findings = findings;
    Ok(stack)
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

fn outputs(cx: &Ctx<'_>, out_dir: Option<&Path>) -> Outputs {
    let o = &cx.m.manifest.outputs;
    let base = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cx.m.dir.clone());
    let file = |key: &str, v: &Option<String>, default: &'static str| -> Setting<PathBuf> {
        match v {
            Some(p) => Setting::new(base.join(p), cx.origin(&["outputs", key])),
            None => Setting::new(
                base.join(default),
                Origin::Default("poolstack's default output path"),
            ),
        }
    };
    Outputs {
        pgbouncer_ini: file("pgbouncer_ini", &o.pgbouncer_ini, d::OUT_PGBOUNCER_INI),
        userlist: file("userlist", &o.userlist, d::OUT_USERLIST),
        postgresql_conf: file(
            "postgresql_conf",
            &o.postgresql_conf,
            d::OUT_POSTGRESQL_CONF,
        ),
        roles_sql: file("roles_sql", &o.roles_sql, d::OUT_ROLES_SQL),
        // Templates are part of the project, next to the manifest, whatever --out says.
        templates: o
            .templates
            .as_ref()
            .map(|t| Setting::new(cx.m.dir.join(t), cx.origin(&["outputs", "templates"]))),
        base,
    }
}

/// The release a manifest's `[pgbouncer]` declares (resolution always sets it; only stacks read
/// from hand-written files can lack one).
fn declared(b: &Pgbouncer) -> PgbVersion {
    b.release().unwrap_or(PgbVersion::MAX_SUPPORTED)
}

fn pgbouncer(
    cx: &mut Ctx<'_>,
    t: &crate::manifest::PgbouncerTable,
) -> Result<Pgbouncer, InputError> {
    let k = |key: &str| ["pgbouncer".to_string(), key.to_string()];
    let o = |cx: &Ctx<'_>, key: &str| {
        let p = k(key);
        cx.origin(&[p[0].as_str(), p[1].as_str()])
    };
    let version_text = t.version.clone().unwrap_or_default();
    let version = PgbVersion::parse(&version_text).ok_or_else(|| {
        cx.input_error(
            &["pgbouncer", "version"],
            false,
            format!("`{version_text}` is not a PgBouncer version"),
        )
    })?;
    let listen_port = cx.pick(
        &["pgbouncer", "listen_port"],
        t.listen_port,
        d::LISTEN_PORT,
        "PgBouncer's default",
    );
    let client_port = match t.client_port {
        Some(p) => Setting::new(p, o(cx, "client_port")),
        None => Setting::new(
            listen_port.value,
            Origin::Derived {
                formula: "client_port = listen_port".to_string(),
                inputs: listen_port.loc().cloned().into_iter().collect(),
            },
        ),
    };
    let instances = cx.pick(
        &["pgbouncer", "instances"],
        t.instances,
        d::INSTANCES,
        "poolstack's default",
    );
    let path_opt = |cx: &Ctx<'_>, key: &str, v: &Option<String>| -> Option<Setting<String>> {
        v.as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| Setting::new(s.clone(), o(cx, key)))
    };
    let max_prepared_statements = match (
        t.max_prepared_statements,
        crate::catalog::pgbouncer::classify(
            Section::Pgbouncer,
            "max_prepared_statements",
            Some(version),
        ),
    ) {
        (_, crate::catalog::pgbouncer::PgbName::Known(opt)) => {
            Some(match t.max_prepared_statements {
                Some(v) => Setting::new(v, o(cx, "max_prepared_statements")),
                None => Setting::new(
                    opt.default_for(version)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    Origin::Default("PgBouncer's own default for the declared version"),
                ),
            })
        }
        (Some(_), _) => {
            cx.findings.push(
                Diagnostic::new(
                    "CAT003",
                    Severity::Error,
                    format!("`max_prepared_statements` does not exist in PgBouncer {version}: it was introduced in 1.21"),
                )
                .at(cx.m.key_loc(&path(&["pgbouncer", "max_prepared_statements"])))
                .help("remove it, or declare `version = \"1.21\"` or later if you run that version: PgBouncer refuses to start with an unknown option"),
            );
            None
        }
        (None, _) => None,
    };
    let mut options = Vec::new();
    let raws = cx.raw_settings(
        t.settings.as_ref(),
        &["pgbouncer", "settings"],
        PGB_FIRST_CLASS,
        "[pgbouncer]",
    )?;
    for raw in &raws {
        match settings::pgbouncer_option(Section::Pgbouncer, version, raw) {
            Ok(opt) => options.push(opt),
            Err(diag) => cx.findings.push(diag),
        }
    }
    if instances.value > 1 && !options.iter().any(|o| o.name == "so_reuseport") {
        options.push(PgbOption {
            name: "so_reuseport".to_string(),
            ini_text: "1".to_string(),
            number: Some(1.0),
            origin: Origin::Derived {
                formula: format!("instances = {} share one port", instances.value),
                inputs: instances.loc().cloned().into_iter().collect(),
            },
        });
    }
    Ok(Pgbouncer {
        version: Some(Setting::new(version, o(cx, "version"))),
        host: cx.pick(
            &["pgbouncer", "host"],
            t.host.clone(),
            d::PGBOUNCER_HOST.to_string(),
            "poolstack's default",
        ),
        listen_addr: cx.pick(
            &["pgbouncer", "listen_addr"],
            t.listen_addr.clone(),
            d::LISTEN_ADDR.to_string(),
            "poolstack's default",
        ),
        listen_port,
        client_port,
        instances,
        pool_mode: cx.pick(
            &["pgbouncer", "pool_mode"],
            t.pool_mode,
            PoolMode::Transaction,
            "poolstack's default (PgBouncer's own is session)",
        ),
        auth_type: cx.pick(
            &["pgbouncer", "auth_type"],
            t.auth_type,
            AuthType::ScramSha256,
            "poolstack's default (PgBouncer's own is md5)",
        ),
        auth_file: cx.pick(
            &["pgbouncer", "auth_file"],
            t.auth_file.clone(),
            d::AUTH_FILE.to_string(),
            "poolstack's default",
        ),
        logfile: path_opt(cx, "logfile", &t.logfile),
        pidfile: path_opt(cx, "pidfile", &t.pidfile),
        unix_socket_dir: path_opt(cx, "unix_socket_dir", &t.unix_socket_dir),
        max_client_conn: cx.pick(
            &["pgbouncer", "max_client_conn"],
            t.max_client_conn,
            d::MAX_CLIENT_CONN,
            "PgBouncer's default",
        ),
        default_pool_size: cx.pick(
            &["pgbouncer", "default_pool_size"],
            t.default_pool_size,
            d::DEFAULT_POOL_SIZE,
            "PgBouncer's default",
        ),
        min_pool_size: cx.pick(
            &["pgbouncer", "min_pool_size"],
            t.min_pool_size,
            d::MIN_POOL_SIZE,
            "PgBouncer's default",
        ),
        reserve_pool_size: cx.pick(
            &["pgbouncer", "reserve_pool_size"],
            t.reserve_pool_size,
            d::RESERVE_POOL_SIZE,
            "PgBouncer's default",
        ),
        max_db_connections: cx.pick(
            &["pgbouncer", "max_db_connections"],
            t.max_db_connections,
            d::MAX_DB_CONNECTIONS,
            "PgBouncer's default (unlimited)",
        ),
        max_user_connections: cx.pick(
            &["pgbouncer", "max_user_connections"],
            t.max_user_connections,
            d::MAX_USER_CONNECTIONS,
            "PgBouncer's default (unlimited)",
        ),
        max_prepared_statements,
        nofile_limit: cx.opt(&["pgbouncer", "nofile_limit"], t.nofile_limit),
        admin_users: Vec::new(),
        stats_users: Vec::new(),
        options,
    })
}

fn apps(
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
                direct: Some((
                    cx.m.manifest
                        .postgres
                        .host
                        .clone()
                        .unwrap_or_else(|| d::POSTGRES_HOST.to_string()),
                    cx.m.manifest.postgres.port.unwrap_or(d::POSTGRES_PORT),
                    db.map_or_else(|| a.database.clone(), |d| d.dbname.value.clone()),
                )),
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
            env_file,
            url,
        });
    }
    Ok(out)
}

/// max_connections: the manifest's, or derived from the connection budget plus reserved slots and headroom.
fn max_connections(cx: &Ctx<'_>, stack: &Stack) -> Setting<u32> {
    if let Some(v) = cx.m.manifest.postgres.max_connections {
        return Setting::new(v, cx.origin(&["postgres", "max_connections"]));
    }
    let budget = ServerConnectionBudget::of(stack);
    let has_pools = stack.pgbouncer.is_some() && budget.pools > 0
        || stack.pgbouncer.is_none() && !stack.apps.is_empty();
    let pg = &stack.postgres;
    match budget.total {
        Some(total) if has_pools || total > 0 => {
            let headroom = (total.div_ceil(10)).max(u64::from(d::MAX_CONNECTIONS_MIN_HEADROOM));
            let su = u64::from(pg.superuser_reserved_connections.value);
            let rc = u64::from(pg.reserved_connections.value);
            let value = total + su + rc + headroom;
            let mut inputs: Vec<Loc> = Vec::new();
            for db in &stack.databases {
                inputs.extend(db.pool_size.loc().cloned());
            }
            for c in &stack.clients {
                inputs.extend(c.connections.loc().cloned());
            }
            Setting::new(
                u32::try_from(value).unwrap_or(u32::MAX),
                Origin::Derived {
                    formula: format!(
                        "budget {} + superuser_reserved_connections {su} + reserved_connections {rc} + headroom {headroom} (10 % of the budget, at least {}) = {value}",
                        budget.arithmetic,
                        d::MAX_CONNECTIONS_MIN_HEADROOM
                    ),
                    inputs,
                },
            )
        }
        _ => Setting::new(
            d::MAX_CONNECTIONS_WITHOUT_POOLS,
            Origin::Default("PostgreSQL's own (no pools to derive it from)"),
        ),
    }
}

/// The first-class PostgreSQL keys as parameters, in front of the `[postgres.settings]` ones.
fn first_class_params(cx: &Ctx<'_>, stack: &mut Stack) {
    let pg = &stack.postgres;
    let mut front = vec![PgParam {
        name: "max_connections".to_string(),
        conf_text: pg.max_connections.value.to_string(),
        base: Some(f64::from(pg.max_connections.value)),
        unit: PgUnit::None,
        origin: pg.max_connections.origin.clone(),
        rendered: !matches!(pg.max_connections.origin, Origin::Default(_)),
    }];
    front.push(PgParam {
        name: "superuser_reserved_connections".to_string(),
        conf_text: pg.superuser_reserved_connections.value.to_string(),
        base: Some(f64::from(pg.superuser_reserved_connections.value)),
        unit: PgUnit::None,
        origin: pg.superuser_reserved_connections.origin.clone(),
        rendered: cx
            .m
            .manifest
            .postgres
            .superuser_reserved_connections
            .is_some(),
    });
    front.push(PgParam {
        name: "password_encryption".to_string(),
        conf_text: settings::pg_quote(match pg.password_encryption.value {
            PasswordEncryption::Md5 => "md5",
            PasswordEncryption::ScramSha256 => "scram-sha-256",
        }),
        base: None,
        unit: PgUnit::None,
        origin: pg.password_encryption.origin.clone(),
        rendered: cx.m.manifest.postgres.password_encryption.is_some(),
    });
    let rest = std::mem::take(&mut stack.postgres.params);
    front.extend(rest);
    stack.postgres.params = front;
}

/// [databases]/[users] names PgBouncer's ini parser cannot read (CAT008): keys are
/// `[A-Za-z0-9_.*-]+`; single-quoted keys exist only from 1.25 and have no escape; `pgbouncer`
/// is the admin console's reserved database name (facts.md §1).
fn ini_key_findings(
    version: PgbVersion,
    databases: &[Database],
    users: &[User],
) -> Vec<Diagnostic> {
    let quoting = PgbVersion {
        major: 1,
        minor: 25,
    };
    let mut out = Vec::new();
    let names = databases.iter().map(|d| ("database", &d.name)).chain(
        users
            .iter()
            .filter(|u| {
                u.pool_mode.is_some() || u.max_user_connections.is_some() || !u.options.is_empty()
            })
            .map(|u| ("user", &u.name)),
    );
    for (what, name) in names {
        let n = &name.value;
        let plain = !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.*-".contains(c));
        let problem = if what == "database" && n == "pgbouncer" {
            Some((
                "the database name `pgbouncer` is reserved for PgBouncer's admin console"
                    .to_string(),
                "choose another name; clients reach the console by connecting to `pgbouncer`",
            ))
        } else if plain {
            None
        } else if version < quoting {
            Some((
                format!(
                    "PgBouncer {version} cannot read the {what} name `{n}` as an ini key: it may only contain letters, digits and _ . * - (quoted names need PgBouncer 1.25)"
                ),
                "rename it, or declare PgBouncer 1.25 if you run it",
            ))
        } else if n.contains('\'') {
            Some((
                format!(
                    "the {what} name `{n}` contains a single quote, which a quoted PgBouncer key cannot hold"
                ),
                "rename it",
            ))
        } else {
            None
        };
        if let Some((msg, help)) = problem {
            out.push(
                Diagnostic::new("CAT008", Severity::Error, msg)
                    .at(name.loc().cloned())
                    .help(help),
            );
        }
    }
    out
}
