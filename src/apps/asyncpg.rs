//! asyncpg without SQLAlchemy: `asyncpg.create_pool(dsn, …)` (facts: apps/facts.md §7).

use super::{
    AppKind, Dflt, EnvLine, IdleKeep, KeyDef, NamedStatements, PerProcess, StartupParam, Ty, Val,
};
use crate::stack::App;
use crate::units::Duration;

#[derive(Debug)]
pub struct Asyncpg;

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "min_size",
        env: "DB_POOL_MIN_SIZE",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10), "asyncpg's own (opened when the pool starts)"),
        doc: "create_pool min_size: connections opened at start",
    },
    KeyDef {
        name: "max_size",
        env: "DB_POOL_MAX_SIZE",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10), "asyncpg's own"),
        doc: "create_pool max_size: connections per pool (per process)",
    },
    KeyDef {
        name: "max_queries",
        env: "DB_POOL_MAX_QUERIES",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(50_000), "asyncpg's own"),
        doc: "queries after which a connection is replaced",
    },
    KeyDef {
        name: "max_inactive_connection_lifetime",
        env: "DB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(300_000_000)), "asyncpg's own"),
        doc: "seconds an idle connection is kept (0 = forever)",
    },
    KeyDef {
        name: "statement_cache_size",
        env: "DB_STATEMENT_CACHE_SIZE",
        ty: Ty::Count,
        default: Dflt::Safe {
            own: Val::Int(100),
            safe: Val::Int(0),
            why: "asyncpg's own 100 names its statements `__asyncpg_stmt_N__`, which do not survive a change of server connection; 0 keeps them unnamed",
        },
        doc: "prepared-statement cache per connection; 0 = unnamed statements",
    },
    KeyDef {
        name: "timeout",
        env: "DB_CONNECT_TIMEOUT",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(60_000_000)), "asyncpg's own"),
        doc: "seconds to wait for a new connection",
    },
];

impl AppKind for Asyncpg {
    fn name(&self) -> &'static str {
        "asyncpg"
    }

    fn formula(&self) -> &'static str {
        "max_size (min_size opened at start)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE010 (statement_cache_size > 0); NET004 (DSN keys asyncpg does not read, in a hand-written .env); TMO001 (max_inactive_connection_lifetime, no checkout check)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let max = app.fw().req("max_size");
        let n = max.value.int().unwrap_or(0);
        PerProcess {
            connections: Some(n),
            arithmetic: n.to_string(),
            formula: "max_size",
            inputs: vec![("max_size", n.to_string(), &max.origin)],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        let s = app.fw().req("max_inactive_connection_lifetime");
        let keep = s.value.secs().filter(|d| d.0 > 0);
        IdleKeep {
            keep,
            keep_loc: s.loc(),
            summary: format!(
                "keeps idle connections for {} and cannot check them before handing them out (asyncpg has no such check)",
                match keep {
                    Some(d) => format!("max_inactive_connection_lifetime {d}{}", s.origin.note()),
                    None => format!(
                        "ever (max_inactive_connection_lifetime 0{})",
                        s.origin.note()
                    ),
                }
            ),
            checked: false,
            check_related: String::new(),
            check_loc: None,
            keep_key: Some((
                "max_inactive_connection_lifetime",
                "DB_POOL_MAX_INACTIVE_CONNECTION_LIFETIME",
            )),
            check_key: None,
        }
    }

    fn named_statements<'a>(&self, app: &'a App) -> Option<NamedStatements<'a>> {
        let s = app.fw().req("statement_cache_size");
        let n = s.value.int().filter(|n| *n > 0)?;
        Some(NamedStatements {
            code: "PRE010",
            frees_with_sql: None,
            setting: format!("asyncpg, statement_cache_size = {n}"),
            setting_loc: s.loc(),
            min_pgbouncer: (1, 21),
            libpq: None,
            symptom: "`asyncpg.exceptions.InvalidSQLStatementNameError: prepared statement \"__asyncpg_stmt_35__\" does not exist` or `DuplicatePreparedStatementError: prepared statement \"__asyncpg_stmt_1__\" already exists`",
            fix: format!(
                "set statement_cache_size = 0 for `{}` (create_pool(…, statement_cache_size=0))",
                app.name.value
            ),
            fix_env: "write DB_STATEMENT_CACHE_SIZE=0 (passed as create_pool(…, statement_cache_size=0), never as a URL key)".into(),
        })
    }

    fn startup_params<'a>(&self, app: &'a App) -> Vec<StartupParam<'a>> {
        // The DSN keys asyncpg reads itself (connect_utils.py); any other becomes server_settings.
        const KNOWN: &[&str] = &[
            "host",
            "port",
            "user",
            "password",
            "passfile",
            "database",
            "dbname",
            "sslmode",
            "sslcert",
            "sslkey",
            "sslrootcert",
            "sslcrl",
            "sslpassword",
            "ssl_min_protocol_version",
            "ssl_max_protocol_version",
            "target_session_attrs",
            "krbsrvname",
            "gsslib",
            "service",
            "servicefile",
        ];
        super::unknown_url_keys(app, "asyncpg", KNOWN)
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let mut out = vec![EnvLine {
            name: "DATABASE_URL".into(),
            value: super::plain_url(app),
            comments: vec![
                "asyncpg.create_pool(DATABASE_URL, min_size=…, max_size=…, max_queries=…, max_inactive_connection_lifetime=…, statement_cache_size=…, timeout=…) from the DB_* variables below".into(),
                "keep them out of the URL: asyncpg sends unknown URL keys to the server as startup parameters, which PgBouncer rejects".into(),
            ],
        }];
        out.extend(super::env_lines(self, app));
        out
    }
}
