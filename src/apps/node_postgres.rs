//! node-postgres: `new Pool({ connectionString, … })` from `pg` / `pg-pool`
//! (facts: apps/facts.md §4).

use super::{AppKind, Dflt, EnvLine, IdleKeep, KeyDef, PerProcess, StartupParam, Ty, Val};
use crate::stack::App;

#[derive(Debug)]
pub struct NodePostgres;

/// Pool options node-postgres sends to the server as startup parameters.
/// Settings node-postgres sends as startup parameters, from its config object or its URL.
pub(super) const STARTUP: &[&str] = &[
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
    "options",
];

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "max",
        env: "DB_POOL_MAX",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10), "pg-pool's own"),
        doc: "clients per Pool object",
    },
    KeyDef {
        name: "min",
        env: "DB_POOL_MIN",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(0), "pg-pool's own"),
        doc: "clients kept from idle eviction (pg-pool 3.10+; opens none in advance)",
    },
    KeyDef {
        name: "pools",
        env: "",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(1), "one Pool object per process"),
        doc: "Pool objects per process",
    },
    KeyDef {
        name: "idleTimeoutMillis",
        env: "DB_POOL_IDLE_TIMEOUT_MILLIS",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10_000), "pg-pool's own"),
        doc: "milliseconds an idle client is kept (0 = forever)",
    },
    KeyDef {
        name: "connectionTimeoutMillis",
        env: "DB_POOL_CONNECTION_TIMEOUT_MILLIS",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(0), "pg-pool's own: wait forever"),
        doc: "milliseconds to wait for a client (`timeout exceeded when trying to connect`)",
    },
    KeyDef {
        name: "maxLifetimeSeconds",
        env: "DB_POOL_MAX_LIFETIME_SECONDS",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(0), "pg-pool's own: no limit"),
        doc: "seconds after which a client is replaced (0 = never)",
    },
    KeyDef {
        name: "statement_timeout",
        env: "DB_STATEMENT_TIMEOUT",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "milliseconds; sent as a startup parameter, which PgBouncer rejects (NET004)",
    },
    KeyDef {
        name: "lock_timeout",
        env: "DB_LOCK_TIMEOUT",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "milliseconds; sent as a startup parameter, which PgBouncer rejects (NET004)",
    },
    KeyDef {
        name: "idle_in_transaction_session_timeout",
        env: "DB_IDLE_IN_TRANSACTION_SESSION_TIMEOUT",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "milliseconds; sent as a startup parameter, which PgBouncer rejects (NET004)",
    },
    KeyDef {
        name: "options",
        env: "DB_OPTIONS",
        ty: Ty::Text,
        default: Dflt::Derived,
        doc: "`-c name=value …`; sent as a startup parameter (NET004, PRE005)",
    },
];

impl AppKind for NodePostgres {
    fn name(&self) -> &'static str {
        "node-postgres"
    }

    fn formula(&self) -> &'static str {
        "max × pools (Pool objects per process; clients open on demand)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); NET004 (statement_timeout, lock_timeout, idle_in_transaction_session_timeout, options, as keys or in DATABASE_URL); TMO001 (idleTimeoutMillis, no checkout check)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let max = app.fw().req("max");
        let pools = app.fw().req("pools");
        let (m, p) = (max.value.int().unwrap_or(0), pools.value.int().unwrap_or(1));
        PerProcess {
            connections: Some(m * p),
            arithmetic: if p == 1 {
                m.to_string()
            } else {
                format!("{m} × {p}")
            },
            formula: "max × pools",
            inputs: vec![
                ("max", m.to_string(), &max.origin),
                ("pools", p.to_string(), &pools.origin),
            ],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        let s = app.fw().req("idleTimeoutMillis");
        let ms = s.value.int().unwrap_or(0);
        IdleKeep {
            keep: (ms > 0).then(|| crate::units::Duration(ms * 1000)),
            keep_loc: s.loc(),
            summary: format!(
                "keeps idle clients for idleTimeoutMillis {}{} and cannot check them before handing them out (node-postgres has no such check)",
                if ms == 0 {
                    "0 (forever)".to_string()
                } else {
                    ms.to_string()
                },
                s.origin.note()
            ),
            checked: false,
            check_related: String::new(),
            check_loc: None,
            keep_key: Some(("idleTimeoutMillis", "DB_POOL_IDLE_TIMEOUT_MILLIS")),
            check_key: None,
        }
    }

    fn startup_params<'a>(&self, app: &'a App) -> Vec<StartupParam<'a>> {
        let mut out = super::url_startup_keys(app, "node-postgres", STARTUP);
        out.extend(STARTUP
            .iter()
            .filter_map(|name| {
                let s = app.fw().get(name)?;
                Some(StartupParam {
                    name: (*name).to_string(),
                    setting: format!("{name} = {}", s.value),
                    loc: s.loc(),
                    symptom: format!("`error: unsupported startup parameter: {name}`"),
                    fix: format!(
                        "remove {name} from `{}` and set it on the role or database instead (`ALTER ROLE … SET {name} = …`)",
                        app.name.value
                    ),
                })
            }));
        out
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let mut out = vec![EnvLine {
            name: "DATABASE_URL".into(),
            value: super::plain_url(app),
            comments: vec![
                "new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX), min: …, idleTimeoutMillis: …, connectionTimeoutMillis: …, maxLifetimeSeconds: … }) and pool.on('error', …)".into(),
                "pool options in the URL do nothing, and statement_timeout/options there are startup parameters PgBouncer rejects".into(),
            ],
        }];
        out.extend(super::env_lines(self, app));
        out
    }
}
