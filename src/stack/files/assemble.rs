//! The checked settings of hand-written files → the [`Stack`] every rule reads.
//!
//! Values not written anywhere take the *servers'* defaults (PgBouncer's `auth_type = md5`,
//! `pool_mode = session`; PostgreSQL's built-ins), never poolstack's own: the files are what the
//! servers read.

use super::apps;
use super::pgbouncer_ini::{FileOption, IniSettings};
use super::postgresql_conf::ConfSettings;
use super::{Input, Read, Versions};
use crate::auth::SecretKind;
use crate::catalog::pgbouncer::{self as pgbcat, PgbVersion, Section};
use crate::diag::Diagnostic;
use crate::manifest::{AuthType, FailOn, PasswordEncryption, PoolMode};
use crate::source::Loc;
use crate::stack::handwritten::HandUserlist;
use crate::stack::{
    Coverage, Database, LintConfig, Origin, Outputs, PgParam, PgbOption, Pgbouncer, Postgres,
    Setting, Stack, User,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub(super) fn stack(read: Read, versions: Versions, inputs: &[Input], cwd: &Path) -> Stack {
    let mut findings: Vec<Diagnostic> = Vec::new();
    let sources = &read.sources;
    let ini = read
        .ini
        .as_ref()
        .map(|doc| super::pgbouncer_ini::check(doc, versions.pgbouncer, sources));
    let conf = (!read.confs.is_empty()).then(|| {
        let docs: Vec<_> = read.confs.iter().collect();
        super::postgresql_conf::check_all(&docs, versions.postgres, sources)
    });
    if let Some(i) = &ini {
        findings.extend(i.findings.iter().cloned());
    }
    if let Some(c) = &conf {
        findings.extend(c.findings.iter().cloned());
    }
    let userlist_file = read
        .userlist
        .as_ref()
        .map(|(file, parsed)| HandUserlist::from_parsed(*file, parsed, &sources.get(*file).text));

    let postgres = postgres(
        conf.as_ref(),
        read.postgres_described,
        versions.postgres,
        version_origin(&read, true),
    );
    // Where findings about unset options point: the [pgbouncer] header, else the file's start.
    let section = read.ini.as_ref().and_then(|doc| {
        doc.sections
            .iter()
            .find(|s| s.section == Some(Section::Pgbouncer))
            .map(|s| s.loc.clone())
            .or_else(|| doc.files.first().map(|&file| Loc { file, span: 0..0 }))
    });
    let pgbouncer = ini
        .as_ref()
        .map(|i| pgbouncer(i, section, versions.pgbouncer, version_origin(&read, false)));

    let stored = stored_secret(&postgres);
    let users = users(
        userlist_file.as_ref(),
        ini.as_ref(),
        pgbouncer.as_ref(),
        stored.as_ref(),
    );
    let databases = match (&ini, &pgbouncer) {
        (Some(i), Some(b)) => databases(i, b, &users),
        _ => Vec::new(),
    };
    let listen_port = pgbouncer.as_ref().map(|b| b.listen_port.value);
    let mut apps = Vec::new();
    for (file, env) in &read.envs {
        findings.extend(env.findings.iter().cloned());
        if let Some(a) = apps::app(*file, env, sources, listen_port, &mut findings) {
            apps.push(a);
        }
    }
    // Two `.env` files with the same name in different directories: name the apps by path.
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for app in &apps {
        *seen.entry(app.name.value.clone()).or_default() += 1;
    }
    for app in &mut apps {
        if seen.get(&app.name.value).is_some_and(|&n| n > 1) {
            app.name.value = crate::source::display_path(&app.env_file.value);
        }
    }
    let comments = read
        .directives
        .iter()
        .flat_map(|d| d.suppressions.iter().cloned())
        .collect();
    let default_path = |p: &str| {
        Setting::new(
            cwd.join(p),
            Origin::Default("hand-written files are not rendered"),
        )
    };
    let coverage = Coverage {
        hosts: false,
        users: userlist_file.is_some(),
        roles: false,
    };
    let name = inputs
        .first()
        .map(|i| crate::source::display_path(&i.path))
        .unwrap_or_default();
    Stack {
        sources: read.sources.clone(),
        manifest_path: None,
        name: Setting::new(name, Origin::Default("the first file checked")),
        outputs: Outputs {
            base: cwd.to_path_buf(),
            pgbouncer_ini: default_path(crate::defaults::OUT_PGBOUNCER_INI),
            userlist: default_path(crate::defaults::OUT_USERLIST),
            postgresql_conf: default_path(crate::defaults::OUT_POSTGRESQL_CONF),
            roles_sql: default_path(crate::defaults::OUT_ROLES_SQL),
            templates: None,
        },
        postgres,
        pgbouncer,
        databases,
        users,
        apps,
        clients: Vec::new(),
        lint: LintConfig {
            ignore: Vec::new(),
            comments,
            fail_on: Setting::new(FailOn::Error, Origin::Default("poolstack's default")),
            severity: BTreeMap::new(),
        },
        findings,
        userlist_file,
        coverage,
    }
}

/// Where a version came from: the `poolstack:` comment that declared it, else the flag.
fn version_origin(read: &Read, postgres: bool) -> Origin {
    let declared = read.directives.iter().find_map(|d| {
        if postgres {
            d.postgres_version.as_ref().map(|v| v.loc.clone())
        } else {
            d.pgbouncer_version.as_ref().map(|v| v.loc.clone())
        }
    });
    match declared {
        Some(loc) => Origin::Imported(loc),
        None if postgres => Origin::Default("given with --pg-version"),
        None => Origin::Default("given with --pgbouncer-version"),
    }
}

fn imported(loc: &Loc) -> Origin {
    Origin::Imported(loc.clone())
}

fn postgres(
    conf: Option<&ConfSettings>,
    described: bool,
    major: Option<u32>,
    version_origin: Origin,
) -> Postgres {
    let params: Vec<PgParam> = conf
        .map(|c| {
            c.params
                .iter()
                .map(|p| PgParam {
                    name: p.name.clone(),
                    conf_text: p.conf_text.clone(),
                    base: p.value.as_ref().and_then(|v| v.base),
                    unit: p.unit,
                    origin: imported(&p.value_loc),
                    rendered: true,
                })
                .collect()
        })
        .unwrap_or_default();
    let find = |name: &str| params.iter().find(|p| p.name.eq_ignore_ascii_case(name));
    let count = |name: &str, default: u32, why: &'static str| match find(name) {
        Some(p) => Setting::new(p.base.unwrap_or(0.0).max(0.0) as u32, p.origin.clone()),
        None => Setting::new(default, Origin::Default(why)),
    };
    // As the server reads it: on PostgreSQL 13 and before, `on` (and `true`…) mean md5.
    let encryption = conf.and_then(|c| {
        c.params
            .iter()
            .rev()
            .find(|p| p.name.eq_ignore_ascii_case("password_encryption"))
    });
    let password_encryption = match encryption {
        Some(p) => Setting::new(
            match p.value.as_ref().map(|v| v.normalized.as_str()) {
                Some("md5") => PasswordEncryption::Md5,
                _ => PasswordEncryption::ScramSha256,
            },
            imported(&p.value_loc),
        ),
        None => match major {
            Some(v) if v < 14 => Setting::new(
                PasswordEncryption::Md5,
                Origin::Default("not set: md5 is the default before PostgreSQL 14"),
            ),
            _ => Setting::new(
                PasswordEncryption::ScramSha256,
                Origin::Default("not set: scram-sha-256 is the default from PostgreSQL 14"),
            ),
        },
    };
    let port = match find("port") {
        Some(p) => Setting::new(p.base.unwrap_or(5432.0) as u16, p.origin.clone()),
        None => Setting::new(
            crate::defaults::POSTGRES_PORT,
            Origin::Default("PostgreSQL's default port"),
        ),
    };
    Postgres {
        version: major.map(|v| Setting::new(v, version_origin)),
        described,
        host: Setting::new(
            String::new(),
            Origin::Default("hand-written files do not say which host reaches PostgreSQL"),
        ),
        port,
        memory: None,
        cpus: None,
        storage: None,
        workload: None,
        data_size: None,
        os: None,
        max_connections: count(
            "max_connections",
            100,
            "not set: PostgreSQL's built-in default",
        ),
        superuser_reserved_connections: count(
            "superuser_reserved_connections",
            3,
            "not set: PostgreSQL's built-in default",
        ),
        reserved_connections: count(
            "reserved_connections",
            0,
            "not set: PostgreSQL's built-in default (the parameter exists from 16)",
        ),
        password_encryption,
        hba_method: None,
        params,
    }
}

/// A `[pgbouncer]` option as set in the file, or PgBouncer's own default for the release
/// (every release's, when none is declared); `None` when neither is known.
struct Options<'a> {
    set: &'a IniSettings,
    release: Option<PgbVersion>,
    /// The `[pgbouncer]` header: where a finding about an option left unset points.
    section: Option<Loc>,
}

impl Options<'_> {
    /// PgBouncer's default for an option the file does not set, placed at `[pgbouncer]`.
    fn unset(&self) -> Origin {
        match &self.section {
            Some(loc) => Origin::Derived {
                formula: "PgBouncer's default: [pgbouncer] does not set it".to_string(),
                inputs: vec![loc.clone()],
            },
            None => Origin::Default("not set: PgBouncer's default"),
        }
    }

    fn get(&self, name: &str) -> Option<&FileOption> {
        self.set.options.iter().rev().find(|o| o.name == name)
    }

    fn text(&self, name: &str) -> Option<(String, Origin)> {
        if let Some(o) = self.get(name) {
            return Some((o.value.normalized.clone(), imported(&o.value_loc)));
        }
        let opt = pgbcat::get(Section::Pgbouncer, name)?;
        let text = match self.release {
            Some(v) => opt.default_for(v)?,
            None => opt.default_in_every_release()?,
        };
        Some((text.to_string(), self.unset()))
    }

    fn count(&self, name: &str, fallback: u32) -> Setting<u32> {
        match self.get(name) {
            Some(o) => Setting::new(
                o.value
                    .number
                    .unwrap_or(0.0)
                    .clamp(0.0, f64::from(u32::MAX)) as u32,
                imported(&o.value_loc),
            ),
            None => Setting::new(fallback, self.unset()),
        }
    }

    fn path(&self, name: &str) -> Option<Setting<String>> {
        let o = self.get(name)?;
        (!o.value.normalized.is_empty())
            .then(|| Setting::new(o.value.normalized.clone(), imported(&o.value_loc)))
    }

    fn list(&self, name: &str) -> Vec<Setting<String>> {
        let Some(o) = self.get(name) else {
            return Vec::new();
        };
        o.value
            .normalized
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Setting::new(s.to_string(), imported(&o.value_loc)))
            .collect()
    }
}

fn pgbouncer(
    set: &IniSettings,
    section: Option<Loc>,
    release: Option<PgbVersion>,
    version_origin: Origin,
) -> Pgbouncer {
    let o = Options {
        set,
        release,
        section,
    };
    let default = |why: &'static str| Origin::Default(why);
    let pool_mode = o
        .text("pool_mode")
        .and_then(|(t, origin)| Some(Setting::new(PoolMode::from_pgbouncer(&t)?, origin)))
        .unwrap_or_else(|| Setting::new(PoolMode::Session, o.unset()));
    let auth_type = o
        .text("auth_type")
        .and_then(|(t, origin)| Some(Setting::new(AuthType::from_pgbouncer(&t)?, origin)))
        .unwrap_or_else(|| Setting::new(AuthType::Md5, o.unset()));
    let listen_port = match o.get("listen_port") {
        Some(p) => Setting::new(
            p.value.number.unwrap_or(6432.0).clamp(0.0, 65535.0) as u16,
            imported(&p.value_loc),
        ),
        None => Setting::new(crate::defaults::LISTEN_PORT, o.unset()),
    };
    // `None` when the release lacks the option, or its default is unknown without a release.
    let max_prepared_statements = match o.get("max_prepared_statements") {
        Some(_) => Some(o.count("max_prepared_statements", 0)),
        None => o
            .text("max_prepared_statements")
            .and_then(|(t, origin)| Some(Setting::new(t.parse::<u32>().ok()?, origin))),
    };
    let options = set
        .options
        .iter()
        .filter(|opt| !crate::stack::resolve::PGB_FIRST_CLASS.contains(&opt.name))
        .map(|opt| PgbOption {
            name: opt.name.to_string(),
            ini_text: opt.raw.clone(),
            number: opt.value.number,
            origin: imported(&opt.value_loc),
        })
        .collect();
    Pgbouncer {
        version: release.map(|v| Setting::new(v, version_origin)),
        host: Setting::new(
            String::new(),
            default("hand-written files do not say which host reaches PgBouncer"),
        ),
        listen_addr: o
            .text("listen_addr")
            .map(|(t, origin)| Setting::new(t, origin))
            .unwrap_or_else(|| Setting::new(String::new(), default("not set: unix socket only"))),
        client_port: Setting::new(
            listen_port.value,
            Origin::Derived {
                formula: "client_port = listen_port".to_string(),
                inputs: listen_port.loc().cloned().into_iter().collect(),
            },
        ),
        listen_port,
        instances: Setting::new(1, default("one process reads this file")),
        pool_mode,
        auth_type,
        auth_file: o
            .path("auth_file")
            .unwrap_or_else(|| Setting::new(String::new(), default("not set"))),
        logfile: o.path("logfile"),
        pidfile: o.path("pidfile"),
        unix_socket_dir: o.path("unix_socket_dir"),
        max_client_conn: o.count("max_client_conn", crate::defaults::MAX_CLIENT_CONN),
        default_pool_size: o.count("default_pool_size", crate::defaults::DEFAULT_POOL_SIZE),
        min_pool_size: o.count("min_pool_size", crate::defaults::MIN_POOL_SIZE),
        reserve_pool_size: o.count("reserve_pool_size", crate::defaults::RESERVE_POOL_SIZE),
        max_db_connections: o.count("max_db_connections", crate::defaults::MAX_DB_CONNECTIONS),
        max_user_connections: o.count(
            "max_user_connections",
            crate::defaults::MAX_USER_CONNECTIONS,
        ),
        max_prepared_statements,
        nofile_limit: None,
        admin_users: o.list("admin_users"),
        stats_users: o.list("stats_users"),
        options,
    }
}

/// The users PgBouncer knows: the userlist's entries (the last of a repeated name), with
/// their `[users]` settings.
/// How PostgreSQL stores a password set today: per password_encryption, when a PostgreSQL
/// configuration is part of the run and either sets it or declares the version (whose default
/// it is). Otherwise unknown, and the rules comparing with it stay silent.
fn stored_secret(pg: &Postgres) -> Option<Setting<SecretKind>> {
    let pe = &pg.password_encryption;
    // Set in a file, or the version's default where a whole configuration leaves it unset.
    if !(pe.origin.is_explicit() || (pg.described && pg.version.is_some())) {
        return None;
    }
    let kind = match pe.value {
        PasswordEncryption::Md5 => SecretKind::Md5,
        PasswordEncryption::ScramSha256 => SecretKind::ScramSha256,
    };
    Some(Setting::new(
        kind,
        Origin::Derived {
            formula: format!(
                "PostgreSQL stores a password set now per password_encryption = {}",
                kind.as_str()
            ),
            inputs: pe.loc().cloned().into_iter().collect(),
        },
    ))
}

fn users(
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
fn databases(set: &IniSettings, pgb: &Pgbouncer, users: &[User]) -> Vec<Database> {
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
            let count =
                |keys: &[&str], global: &Setting<u32>| match keys.iter().find_map(|k| param(k)) {
                    Some(p) => Setting::new(
                        p.value.number.unwrap_or(0.0).max(0.0) as u32,
                        imported(&p.value_loc),
                    ),
                    None => global.clone(),
                };
            let forced_user = param("user")
                .map(|p| Setting::new(p.value.normalized.clone(), imported(&p.value_loc)));
            Database {
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
