//! Go pgx v5 with pgxpool: `pgxpool.New(ctx, DATABASE_URL)`, every setting a DSN key
//! (facts: apps/facts.md §5).

use super::{
    AppKind, Dflt, EnvLine, FwSettings, IdleKeep, KeyDef, NamedStatements, PerProcess,
    StartupParam, Ty, Val,
};
use crate::stack::{App, Origin, Setting};
use crate::units::Duration;
use std::borrow::Cow;

#[derive(Debug)]
pub struct Pgx;

const MODES: &[&str] = &[
    "cache_statement",
    "cache_describe",
    "describe_exec",
    "exec",
    "simple_protocol",
];

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "cpus",
        env: "",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(2), "poolstack's default"),
        doc: "CPUs the process sees (runtime.NumCPU): pool_max_conns defaults to max(4, cpus)",
    },
    KeyDef {
        name: "pool_max_conns",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "connections per pool (per process); always written, since pgx's default follows the host",
    },
    KeyDef {
        name: "pool_min_conns",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(0), "pgxpool's own"),
        doc: "connections kept open",
    },
    KeyDef {
        name: "pool_max_conn_lifetime",
        env: "DATABASE_URL",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(3_600_000_000)), "pgxpool's own"),
        doc: "age after which a connection is closed",
    },
    KeyDef {
        name: "pool_max_conn_idle_time",
        env: "DATABASE_URL",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(1_800_000_000)), "pgxpool's own"),
        doc: "idle time after which a connection is closed",
    },
    KeyDef {
        name: "pool_health_check_period",
        env: "DATABASE_URL",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(60_000_000)), "pgxpool's own"),
        doc: "how often idle connections are checked",
    },
    KeyDef {
        name: "default_query_exec_mode",
        env: "DATABASE_URL",
        ty: Ty::Choice(MODES),
        default: Dflt::Safe {
            own: Val::Text(Cow::Borrowed("cache_statement")),
            safe: Val::Text(Cow::Borrowed("exec")),
            why: "pgx's own cache_statement names statements `stmtcache_…`, which do not survive a change of server connection",
        },
        doc: "how queries run: exec keeps statements unnamed; cache_statement prepares named ones",
    },
    KeyDef {
        name: "statement_cache_capacity",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(512), "pgx's own"),
        doc: "named statements kept per connection in cache_statement mode (evicted with the protocol's Close)",
    },
    KeyDef {
        name: "description_cache_capacity",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(512), "pgx's own"),
        doc: "statement descriptions kept per connection in cache_describe mode",
    },
];

impl AppKind for Pgx {
    fn name(&self) -> &'static str {
        "pgx"
    }

    fn formula(&self) -> &'static str {
        "pool_max_conns (pgx's default max(4, CPUs), always written)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE010 (default_query_exec_mode cache_statement, or describe_exec at any PgBouncer version); NET004 (DSN keys pgx does not read, in a hand-written .env); TMO001 never (acquire pings connections idle over 1 s)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn derive(&self, settings: &mut FwSettings, _cx: &super::KindCx<'_>) {
        if settings.get("pool_max_conns").is_none() {
            let cpus = settings.req("cpus");
            let n = cpus.value.int().unwrap_or(2).max(4);
            let derived = Setting::new(
                Val::Int(n),
                Origin::Derived {
                    formula: format!("max(4, cpus {}): pgxpool's default", cpus.value),
                    inputs: cpus.loc().cloned().into_iter().collect(),
                },
            );
            settings.set("pool_max_conns", derived);
        }
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let max = app.fw().req("pool_max_conns");
        let n = max.value.int().unwrap_or(0);
        PerProcess {
            connections: Some(n),
            arithmetic: n.to_string(),
            formula: "pool_max_conns",
            inputs: vec![("pool_max_conns", n.to_string(), &max.origin)],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        let s = app.fw().req("pool_max_conn_idle_time");
        IdleKeep {
            keep: s.value.secs(),
            keep_loc: s.loc(),
            summary: format!(
                "keeps idle connections for pool_max_conn_idle_time {}",
                s.value
            ),
            // pgxpool pings a connection idle for more than 1 s before handing it out.
            checked: true,
            check_related: String::new(),
            check_loc: None,
            keep_key: Some(("pool_max_conn_idle_time", "DATABASE_URL")),
            check_key: None,
        }
    }

    fn named_statements<'a>(&self, app: &'a App) -> Option<NamedStatements<'a>> {
        let s = app.fw().req("default_query_exec_mode");
        if s.value != Val::Text(Cow::Borrowed("cache_statement")) {
            return None;
        }
        Some(NamedStatements {
            code: "PRE010",
            frees_with_sql: None,
            setting: "pgx, default_query_exec_mode = cache_statement".into(),
            setting_loc: s.loc(),
            min_pgbouncer: (1, 21),
            libpq: None,
            symptom: "`ERROR: prepared statement \"stmtcache_…\" does not exist (SQLSTATE 26000)` or `prepared statement name is already in use (SQLSTATE 08P01)`",
            fix: format!(
                "set default_query_exec_mode = \"exec\" for `{}`",
                app.name.value
            ),
            fix_env: "add default_query_exec_mode=exec to DATABASE_URL".into(),
        })
    }

    fn split_round_trips<'a>(&self, app: &'a App) -> Option<super::SplitTrips<'a>> {
        let s = app.fw().req("default_query_exec_mode");
        if s.value != Val::Text(Cow::Borrowed("describe_exec")) {
            return None;
        }
        Some(super::SplitTrips {
            setting: format!(
                "pgx, default_query_exec_mode = describe_exec{}",
                s.origin.note()
            ),
            loc: s.loc(),
            // exec_bind_message's error for an unnamed statement the connection never parsed.
            symptom: "`ERROR: unnamed prepared statement does not exist (SQLSTATE 26000)`",
            fix: format!(
                "set default_query_exec_mode = \"exec\" for `{}` (or cache_describe, which runs each query in one round trip)",
                app.name.value
            ),
            fix_env: "write default_query_exec_mode=exec in DATABASE_URL".into(),
        })
    }

    fn startup_params<'a>(&self, app: &'a App) -> Vec<StartupParam<'a>> {
        // pgxpool's and pgconn's own DSN keys; any other becomes a runtime (startup) parameter.
        const KNOWN: &[&str] = &[
            "pool_max_conns",
            "pool_min_conns",
            "pool_min_idle_conns",
            "pool_max_conn_lifetime",
            "pool_max_conn_lifetime_jitter",
            "pool_max_conn_idle_time",
            "pool_health_check_period",
            "default_query_exec_mode",
            "statement_cache_capacity",
            "description_cache_capacity",
            "host",
            "port",
            "database",
            "dbname",
            "user",
            "password",
            "passfile",
            "connect_timeout",
            "sslmode",
            "sslkey",
            "sslcert",
            "sslrootcert",
            "sslpassword",
            "sslsni",
            "sslnegotiation",
            "krbspn",
            "krbsrvname",
            "target_session_attrs",
            "service",
            "servicefile",
        ];
        super::unknown_url_keys(app, "pgx", KNOWN)
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let q = |k: &str| {
            let v = &app.fw().req(k).value;
            match v {
                // Go's time.ParseDuration.
                Val::Secs(d) => format!("{k}={}s", d.secs_text()),
                other => format!("{k}={}", other.env_text()),
            }
        };
        let mut query = [
            "pool_max_conns",
            "pool_min_conns",
            "pool_max_conn_lifetime",
            "pool_max_conn_idle_time",
            "pool_health_check_period",
            "default_query_exec_mode",
        ]
        .map(q)
        .to_vec();
        // A cache's capacity only where the mode uses that cache.
        let mode = app.fw().req("default_query_exec_mode").value.env_text();
        match mode.as_str() {
            "cache_statement" => query.push(q("statement_cache_capacity")),
            "cache_describe" => query.push(q("description_cache_capacity")),
            _ => {}
        }
        let query = query.join("&");
        vec![EnvLine {
            name: "DATABASE_URL".into(),
            value: format!("{}?{query}", super::plain_url(app)),
            comments: vec![
                "pgxpool.New(ctx, os.ExpandEnv(os.Getenv(\"DATABASE_URL\"))): pgx reads every pool setting from the URL; any other key would be sent to PgBouncer as a startup parameter".into(),
            ],
        }]
    }
}
