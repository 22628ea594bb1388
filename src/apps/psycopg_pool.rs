//! psycopg 3 with psycopg_pool: `ConnectionPool(conninfo, …)` / `AsyncConnectionPool`
//! (facts: apps/facts.md §8, sqlalchemy/facts.md §4 for prepare_threshold).

use super::{AppKind, Dflt, EnvLine, IdleKeep, KeyDef, NamedStatements, PerProcess, Ty, Val};
use crate::stack::{App, Origin, Setting};
use crate::units::Duration;

#[derive(Debug)]
pub struct PsycopgPool;

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "min_size",
        env: "DB_POOL_MIN_SIZE",
        ty: Ty::Count,
        default: Dflt::Own(
            Val::Int(4),
            "psycopg_pool's own (opened at open(), never closed for idleness)",
        ),
        doc: "connections opened at open() and kept",
    },
    KeyDef {
        name: "max_size",
        env: "DB_POOL_MAX_SIZE",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "connections per pool (per process); psycopg_pool's default is min_size",
    },
    KeyDef {
        name: "timeout",
        env: "DB_POOL_TIMEOUT",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(30_000_000)), "psycopg_pool's own"),
        doc: "seconds getconn() waits before PoolTimeout",
    },
    KeyDef {
        name: "max_lifetime",
        env: "DB_POOL_MAX_LIFETIME",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(3_600_000_000)), "psycopg_pool's own"),
        doc: "seconds after which a returned connection is replaced",
    },
    KeyDef {
        name: "max_idle",
        env: "DB_POOL_MAX_IDLE",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(600_000_000)), "psycopg_pool's own"),
        doc: "seconds an idle connection above min_size is kept",
    },
    KeyDef {
        name: "check",
        env: "DB_POOL_CHECK",
        ty: Ty::Bool,
        default: Dflt::Own(Val::Bool(false), "psycopg_pool's own (check=None)"),
        doc: "check=ConnectionPool.check_connection: ping at getconn (psycopg_pool 3.2+)",
    },
    KeyDef {
        name: "prepare_threshold",
        env: "DB_PREPARE_THRESHOLD",
        ty: Ty::CountOrNone,
        default: Dflt::Safe {
            own: Val::Int(5),
            safe: Val::Nothing,
            why: "psycopg's own 5 prepares `_pg3_N` statements, which do not survive a change of server connection; none disables them",
        },
        doc: "kwargs={\"prepare_threshold\": …}: none disables prepared statements, 0 prepares every query",
    },
    KeyDef {
        name: "libpq",
        env: "",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "the client's libpq major version, where known (psycopg needs 17+ to keep prepared statements behind PgBouncer)",
    },
];

impl AppKind for PsycopgPool {
    fn name(&self) -> &'static str {
        "psycopg-pool"
    }

    fn formula(&self) -> &'static str {
        "max_size (defaults to min_size; min_size opened at open())"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE010 (prepare_threshold a number, libpq < 17); TMO001 (min_size connections kept forever unless check = true)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn derive(&self, settings: &mut super::FwSettings, _cx: &super::KindCx<'_>) {
        if settings.get("max_size").is_none() {
            let min = settings.req("min_size");
            let derived = Setting::new(
                min.value.clone(),
                Origin::Derived {
                    formula: format!("min_size {}: psycopg_pool's max_size=None", min.value),
                    inputs: min.loc().cloned().into_iter().collect(),
                },
            );
            settings.set("max_size", derived);
        }
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
        let min = app.fw().req("min_size");
        let check = app.fw().req("check");
        IdleKeep {
            keep: None,
            keep_loc: min.loc(),
            summary: format!(
                "keeps its min_size {} connections open however long they are idle (max_idle applies only above min_size) and does not check them at getconn (check = false{})",
                min.value,
                check.origin.note()
            ),
            checked: check.value.bool().unwrap_or(false),
            check_related: "check = false".into(),
            check_loc: check.loc(),
            keep_key: None,
            check_key: Some(("check", "DB_POOL_CHECK")),
        }
    }

    fn named_statements<'a>(&self, app: &'a App) -> Option<NamedStatements<'a>> {
        super::psycopg::named_statements(
            app,
            "psycopg_pool",
            "ConnectionPool(…, kwargs={\"prepare_threshold\": None})",
        )
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let mut out = vec![EnvLine {
            name: "DATABASE_URL".into(),
            value: super::plain_url(app),
            comments: vec![
                "ConnectionPool(DATABASE_URL, min_size=…, max_size=…, timeout=…, max_lifetime=…, max_idle=…, kwargs={\"prepare_threshold\": None if DB_PREPARE_THRESHOLD == \"none\" else int(…)}, check=ConnectionPool.check_connection if DB_POOL_CHECK)".into(),
            ],
        }];
        out.extend(super::env_lines(self, app));
        out
    }
}
