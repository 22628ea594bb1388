//! How a changed setting takes effect, from the catalogs: a PostgreSQL parameter by its
//! `pg_settings.context` in the declared major, a PgBouncer option by whether RELOAD applies it
//! in the declared release. Nothing here is a list of names: the facts are the catalogs'.

use crate::catalog::pgbouncer::{self as pgb, PgbVersion, Section};
use crate::catalog::postgres::{PgCatalog, PgName, SUPPORTED_MAJORS};

/// `pg_settings.context`, as PostgreSQL documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgContext {
    /// Fixed at initdb or compile time: cannot be set in a configuration file.
    Internal,
    /// Read at server start only.
    Postmaster,
    /// Applied to every session on reload.
    Sighup,
    /// Fixed for a session when it starts (`log_connections`, …); reload reaches new sessions.
    SuperuserBackend,
    Backend,
    /// Changeable in a session (`SET`); a reload reaches every session that did not set it.
    Superuser,
    User,
}

impl PgContext {
    /// The context named as in `pg_settings.context`; `None` for a name PostgreSQL does not use.
    pub fn parse(s: &str) -> Option<PgContext> {
        Some(match s {
            "internal" => PgContext::Internal,
            "postmaster" => PgContext::Postmaster,
            "sighup" => PgContext::Sighup,
            "superuser-backend" => PgContext::SuperuserBackend,
            "backend" => PgContext::Backend,
            "superuser" => PgContext::Superuser,
            "user" => PgContext::User,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PgContext::Internal => "internal",
            PgContext::Postmaster => "postmaster",
            PgContext::Sighup => "sighup",
            PgContext::SuperuserBackend => "superuser-backend",
            PgContext::Backend => "backend",
            PgContext::Superuser => "superuser",
            PgContext::User => "user",
        }
    }
}

/// What a reload of PostgreSQL does for a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every session takes the new value.
    AllSessions,
    /// Every session that did not `SET` it (or get it from `ALTER ROLE/DATABASE … SET`).
    UnlessSetInSession,
    /// Only sessions that start afterwards: pooled server connections keep the old value.
    NewSessionsOnly,
}

/// How one PostgreSQL parameter change takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgEffect {
    Restart {
        context: PgContext,
    },
    Reload {
        context: PgContext,
        reach: Reach,
    },
    /// `internal`: no configuration file can change it (render never writes one: CAT refuses it).
    NotSettable,
    /// A `prefix.name` parameter of an extension: its context is the extension's, not in the
    /// catalog. A restart applies it whatever the context is.
    Extension,
}

impl PgEffect {
    pub fn from_context(context: PgContext) -> PgEffect {
        match context {
            PgContext::Internal => PgEffect::NotSettable,
            PgContext::Postmaster => PgEffect::Restart { context },
            PgContext::Sighup => PgEffect::Reload {
                context,
                reach: Reach::AllSessions,
            },
            PgContext::SuperuserBackend | PgContext::Backend => PgEffect::Reload {
                context,
                reach: Reach::NewSessionsOnly,
            },
            PgContext::Superuser | PgContext::User => PgEffect::Reload {
                context,
                reach: Reach::UnlessSetInSession,
            },
        }
    }

    pub fn needs_restart(&self) -> bool {
        matches!(
            self,
            PgEffect::Restart { .. } | PgEffect::Extension | PgEffect::NotSettable
        )
    }

    /// Why, in a few words (`context postmaster`).
    pub fn reason(&self) -> String {
        match self {
            PgEffect::Restart { context } | PgEffect::Reload { context, .. } => {
                format!("context {}", context.as_str())
            }
            PgEffect::NotSettable => "context internal: no configuration file changes it".into(),
            PgEffect::Extension => {
                "an extension's parameter: its context is not in poolstack's catalog, and a restart applies any context".into()
            }
        }
    }
}

/// How a change of `name` takes effect in PostgreSQL `major` (`None`: the strictest answer of
/// every supported major). `None` when no supported major knows the name — which the catalog
/// checks report before anything is rendered.
pub fn postgres(major: Option<u32>, name: &str) -> Option<PgEffect> {
    let majors: Vec<u32> = match major {
        Some(m) => vec![m],
        None => SUPPORTED_MAJORS.collect(),
    };
    let mut found: Option<PgEffect> = None;
    for m in majors {
        let catalog = PgCatalog::for_major(m)?;
        let effect = match catalog.classify(name) {
            PgName::Known(p) | PgName::Alias { param: p, .. } => {
                PgEffect::from_context(PgContext::parse(p.context)?)
            }
            PgName::Extension => PgEffect::Extension,
            _ => continue,
        };
        // Without a declared major, a restart anywhere means a restart.
        found = match found {
            Some(f) if f.needs_restart() => Some(f),
            _ => Some(effect),
        };
    }
    found
}

/// How a change of a `[pgbouncer]` option takes effect in `version` (`None`: every supported
/// release must reload it for RELOAD to be enough). `None` when the option does not exist there.
pub fn pgbouncer(version: Option<PgbVersion>, name: &str) -> Option<PgbEffect> {
    let option = pgb::get(Section::Pgbouncer, name)?;
    let reloadable = match version {
        Some(v) => {
            if !option.exists_in(v) {
                return None;
            }
            option.reloadable_in(v)
        }
        None => supported_releases()
            .filter(|v| option.exists_in(*v))
            .all(|v| option.reloadable_in(v)),
    };
    Some(if reloadable {
        PgbEffect::Reload
    } else if LISTENING.contains(&option.name) {
        PgbEffect::RestartListening
    } else {
        PgbEffect::Restart
    })
}

/// Options that decide where PgBouncer listens: a restart moves the endpoint, so clients must
/// follow (an online or rolling restart keeps serving the old address).
const LISTENING: &[&str] = &[
    "listen_addr",
    "listen_port",
    "unix_socket_dir",
    "so_reuseport",
];

/// How one PgBouncer option change takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgbEffect {
    /// `RELOAD` on the admin console (or SIGHUP) applies it.
    Reload,
    /// RELOAD silently ignores it: PgBouncer must restart.
    Restart,
    /// RELOAD ignores it and it moves where PgBouncer listens.
    RestartListening,
}

impl PgbEffect {
    pub fn needs_restart(self) -> bool {
        !matches!(self, PgbEffect::Reload)
    }
}

/// Whether `pgbouncer -R` (online restart: the new process takes over the old one's sockets)
/// is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlineRestart {
    Supported,
    /// Deprecated in 1.20 (pgbouncer/pgbouncer#894: it drops TLS connections, loses buffered
    /// data); rolling restarts with so_reuseport replace it.
    Deprecated,
    /// Removed after 1.25 (pgbouncer/pgbouncer#1581).
    Removed,
}

/// How PgBouncer `version` restarts without dropping clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartMethods {
    pub online_restart: OnlineRestart,
    /// From 1.23 SIGTERM waits for every client to disconnect before the process exits, so
    /// instances sharing a port with so_reuseport can restart one by one (pgbouncer/pgbouncer#902).
    pub sigterm_waits: bool,
}

/// The restart methods of `version` (`None`: what every supported release allows).
pub fn pgbouncer_restart(version: Option<PgbVersion>) -> RestartMethods {
    let Some(v) = version else {
        return RestartMethods {
            online_restart: OnlineRestart::Deprecated,
            sigterm_waits: false,
        };
    };
    RestartMethods {
        online_restart: if v >= PgbVersion::UNRELEASED {
            OnlineRestart::Removed
        } else if v >= PgbVersion::new(1, 20) {
            OnlineRestart::Deprecated
        } else {
            OnlineRestart::Supported
        },
        sigterm_waits: v >= PgbVersion::new(1, 23),
    }
}

/// Every release from the oldest supported to the newest, by minor.
pub fn supported_releases() -> impl Iterator<Item = PgbVersion> {
    (PgbVersion::MIN_SUPPORTED.minor..=PgbVersion::MAX_SUPPORTED.minor)
        .map(|minor| PgbVersion::new(PgbVersion::MIN_SUPPORTED.major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::pgbouncer::options;

    #[test]
    fn every_postgres_parameter_of_every_major_has_a_known_context() {
        let mut seen = 0;
        for major in SUPPORTED_MAJORS {
            let catalog = PgCatalog::for_major(major).expect("supported major");
            for p in catalog.params() {
                let context = PgContext::parse(p.context).unwrap_or_else(|| {
                    panic!("{} in {major}: unknown context {:?}", p.name, p.context)
                });
                assert_eq!(context.as_str(), p.context);
                let effect = postgres(Some(major), p.name)
                    .unwrap_or_else(|| panic!("{} in {major} does not classify", p.name));
                assert_eq!(effect, PgEffect::from_context(context), "{}", p.name);
                assert_eq!(
                    effect.needs_restart(),
                    p.needs_restart() || p.is_read_only()
                );
                seen += 1;
            }
        }
        assert!(seen > 7 * 300, "only {seen} parameters classified");
    }

    #[test]
    fn postgres_facts() {
        let restart = |name| postgres(Some(15), name).is_some_and(|e| e.needs_restart());
        assert!(restart("shared_buffers"));
        assert!(restart("max_connections"));
        assert!(!restart("work_mem"));
        assert!(!restart("statement_timeout"));
        assert_eq!(
            postgres(Some(15), "work_mem"),
            Some(PgEffect::Reload {
                context: PgContext::User,
                reach: Reach::UnlessSetInSession
            })
        );
        assert_eq!(
            postgres(Some(15), "log_connections"),
            Some(PgEffect::Reload {
                context: PgContext::SuperuserBackend,
                reach: Reach::NewSessionsOnly
            })
        );
        assert_eq!(
            postgres(Some(15), "checkpoint_timeout"),
            Some(PgEffect::Reload {
                context: PgContext::Sighup,
                reach: Reach::AllSessions
            })
        );
        // An alias classifies as its target; an extension's parameter restarts.
        assert_eq!(
            postgres(Some(15), "sort_mem"),
            postgres(Some(15), "work_mem")
        );
        assert_eq!(
            postgres(Some(15), "pg_stat_statements.max"),
            Some(PgEffect::Extension)
        );
        assert_eq!(postgres(Some(15), "no_such_parameter"), None);
        assert_eq!(
            postgres(None, "shared_buffers").map(|e| e.needs_restart()),
            Some(true)
        );
    }

    #[test]
    fn every_pgbouncer_option_of_every_release_classifies() {
        let mut seen = 0;
        let releases: Vec<PgbVersion> = supported_releases().collect();
        assert_eq!(releases.first(), Some(&PgbVersion::MIN_SUPPORTED));
        assert_eq!(releases.last(), Some(&PgbVersion::MAX_SUPPORTED));
        for option in options(Section::Pgbouncer) {
            for &v in &releases {
                let effect = pgbouncer(Some(v), option.name);
                if !option.exists_in(v) {
                    assert_eq!(effect, None, "{} does not exist in {v}", option.name);
                    continue;
                }
                let effect = effect.unwrap_or_else(|| panic!("{} in {v}", option.name));
                assert_eq!(effect.needs_restart(), !option.reloadable_in(v));
                seen += 1;
            }
            if !option.is_unreleased() {
                assert!(pgbouncer(None, option.name).is_some(), "{}", option.name);
            }
        }
        assert!(seen > 11 * 80, "only {seen} options classified");
        // Connection-string and [users] keys: every one of them is reloadable (RELOAD re-reads
        // [databases] and [users]); the plan relies on it.
        for section in [Section::Databases, Section::Users] {
            for option in options(section) {
                assert!(option.reloadable, "{section} {}", option.name);
            }
        }
    }

    #[test]
    fn pgbouncer_restart_methods_by_release() {
        let at = |minor| pgbouncer_restart(Some(PgbVersion::new(1, minor)));
        assert_eq!(at(18).online_restart, OnlineRestart::Supported);
        assert_eq!(at(20).online_restart, OnlineRestart::Deprecated);
        assert!(!at(22).sigterm_waits && at(23).sigterm_waits);
        assert_eq!(
            pgbouncer_restart(Some(PgbVersion::UNRELEASED)).online_restart,
            OnlineRestart::Removed
        );
    }

    #[test]
    fn pgbouncer_facts() {
        let v118 = Some(PgbVersion::new(1, 18));
        assert_eq!(
            pgbouncer(v118, "listen_port"),
            Some(PgbEffect::RestartListening)
        );
        assert_eq!(pgbouncer(v118, "pkt_buf"), Some(PgbEffect::Restart));
        assert_eq!(
            pgbouncer(v118, "default_pool_size"),
            Some(PgbEffect::Reload)
        );
        // TLS files became reloadable in 1.16.
        assert_eq!(
            pgbouncer(Some(PgbVersion::new(1, 15)), "client_tls_key_file"),
            Some(PgbEffect::Restart)
        );
        assert_eq!(
            pgbouncer(Some(PgbVersion::new(1, 16)), "client_tls_key_file"),
            Some(PgbEffect::Reload)
        );
        assert_eq!(
            pgbouncer(None, "client_tls_key_file"),
            Some(PgbEffect::Restart)
        );
        assert_eq!(pgbouncer(v118, "max_prepared_statements"), None);
        assert_eq!(pgbouncer(v118, "pool_size"), None);
    }
}
