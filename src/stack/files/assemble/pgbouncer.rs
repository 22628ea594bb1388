//! `[pgbouncer]`: each option as set in the file, else PgBouncer's own default for the release.

use super::imported;
use crate::catalog::pgbouncer::{self as pgbcat, PgbVersion, Section};
use crate::manifest::{AuthType, PoolMode};
use crate::source::Loc;
use crate::stack::files::pgbouncer_ini::{FileOption, IniSettings};
use crate::stack::{Origin, PgbOption, Pgbouncer, Setting};

/// The `[pgbouncer]` options as the file sets them, and what fills in the rest.
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

    /// An option as set in the file, or PgBouncer's own default for the release (every
    /// release's, when none is declared); `None` when neither is known.
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

pub(super) fn pgbouncer(
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
