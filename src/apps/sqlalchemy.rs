//! SQLAlchemy (`create_engine` with QueuePool) on psycopg, psycopg2 or asyncpg: the default kind.
//! Its keys are typed in the manifest (`crate::manifest::AppEntry`) and resolved with the rest
//! of the stack into [`SqlAlchemyApp`]; this module holds what the rules and the renderer ask of it.

use super::{AppKind, Dflt, EnvLine, Framework, IdleKeep, KeyDef, PerProcess, Ty, url_part};
use crate::manifest::{Driver, PrepareThreshold, Recycle};
use crate::stack::{App, KindSettings, Origin, Setting, SqlAlchemyApp};

#[derive(Debug)]
pub struct SqlAlchemy;

const DRIVERS: &[&str] = &["psycopg", "psycopg2", "asyncpg"];

/// Documentation only: these keys are read as typed manifest fields (`Dflt::Derived` keeps the
/// generic reader away from them).
static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "driver",
        env: "DATABASE_URL",
        ty: Ty::Choice(DRIVERS),
        default: Dflt::Derived,
        doc: "the DBAPI driver: psycopg (default), psycopg2 or asyncpg",
    },
    KeyDef {
        name: "libpq",
        env: "",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "the client's libpq major version, where known (PRE003)",
    },
    KeyDef {
        name: "pool_size",
        env: "DB_POOL_SIZE",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "QueuePool pool_size (SQLAlchemy's default 5; 0 = no limit)",
    },
    KeyDef {
        name: "max_overflow",
        env: "DB_MAX_OVERFLOW",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "QueuePool max_overflow (10; -1 = no overflow limit)",
    },
    KeyDef {
        name: "pool_timeout",
        env: "DB_POOL_TIMEOUT",
        ty: Ty::Secs,
        default: Dflt::Derived,
        doc: "seconds to wait for a pooled connection (30)",
    },
    KeyDef {
        name: "pool_recycle",
        env: "DB_POOL_RECYCLE",
        ty: Ty::Secs,
        default: Dflt::Derived,
        doc: "replace connections older than this (-1 = never, the default)",
    },
    KeyDef {
        name: "pre_ping",
        env: "DB_POOL_PRE_PING",
        ty: Ty::Bool,
        default: Dflt::Derived,
        doc: "test connections at checkout (false)",
    },
    KeyDef {
        name: "prepare_threshold",
        env: "DB_PREPARE_THRESHOLD",
        ty: Ty::CountOrNone,
        default: Dflt::Derived,
        doc: "psycopg: \"none\" (poolstack's default) disables prepared statements",
    },
    KeyDef {
        name: "statement_cache_size",
        env: "DB_STATEMENT_CACHE_SIZE",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "asyncpg: 0 behind transaction pooling (poolstack's default there)",
    },
    KeyDef {
        name: "connect_timeout",
        env: "DB_CONNECT_TIMEOUT",
        ty: Ty::Secs,
        default: Dflt::Derived,
        doc: "seconds to wait for a new connection",
    },
];

fn comments(origin: &Origin) -> Vec<String> {
    match origin {
        Origin::Derived { formula, .. } => vec![format!("derived: {formula}")],
        _ => Vec::new(),
    }
}

fn line<T: ToString>(name: &str, s: &Setting<T>) -> EnvLine {
    EnvLine {
        name: name.to_string(),
        value: s.value.to_string(),
        comments: comments(&s.origin),
    }
}

/// The SQLAlchemy settings of `app`, or the kind that answers for it instead. [`App::kind`] is
/// SQLAlchemy exactly when the app carries SQLAlchemy settings; the second case is only for a
/// caller that asks this kind about an app of another kind, which its own kind answers for.
fn own(app: &App) -> Result<&SqlAlchemyApp, &'static dyn Framework> {
    match &app.kind.value {
        KindSettings::SqlAlchemy(s) => Ok(s),
        KindSettings::Framework { kind, .. } => Err(*kind),
    }
}

impl AppKind for SqlAlchemy {
    fn name(&self) -> &'static str {
        "sqlalchemy"
    }

    fn formula(&self) -> &'static str {
        "pool_size + max_overflow (unbounded when pool_size = 0 or max_overflow = -1)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE001–PRE005; TMO001 (pool_recycle, pre_ping)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        match own(app) {
            Ok(s) => per_process(s),
            Err(kind) => kind.per_process(app),
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        match own(app) {
            Ok(s) => idle_keep(s),
            Err(kind) => kind.idle_keep(app),
        }
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        match own(app) {
            Ok(s) => env(app, s),
            Err(kind) => kind.env(app),
        }
    }
}

fn per_process(app: &SqlAlchemyApp) -> PerProcess<'_> {
    let unbounded = if app.pool_size.value == 0 {
        Some((
            app.pool_size.loc(),
            "pool_size = 0, which SQLAlchemy takes as no limit".to_string(),
        ))
    } else if app.max_overflow.value < 0 {
        Some((
            app.max_overflow.loc(),
            format!(
                "max_overflow = {}, which SQLAlchemy takes as no overflow limit",
                app.max_overflow.value
            ),
        ))
    } else {
        None
    };
    PerProcess {
        connections: unbounded.is_none().then(|| {
            u64::from(app.pool_size.value) + u64::from(app.max_overflow.value.unsigned_abs())
        }),
        arithmetic: format!("{} + {}", app.pool_size.value, app.max_overflow.value),
        formula: "pool_size + max_overflow",
        inputs: vec![
            (
                "pool_size",
                app.pool_size.value.to_string(),
                &app.pool_size.origin,
            ),
            (
                "max_overflow",
                app.max_overflow.value.to_string(),
                &app.max_overflow.origin,
            ),
        ],
        unbounded,
    }
}

fn idle_keep(app: &SqlAlchemyApp) -> IdleKeep<'_> {
    let keep_text = match (app.pool_recycle.value, &app.pool_recycle.origin) {
        (Recycle::Never, Origin::Default(_)) => {
            "pool_recycle -1 (never: SQLAlchemy's default)".to_string()
        }
        (Recycle::Never, origin) => format!("pool_recycle -1 (never){}", origin.note()),
        (Recycle::After(d), origin) => format!("pool_recycle {d}{}", origin.note()),
    };
    IdleKeep {
        keep: match app.pool_recycle.value {
            Recycle::Never => None,
            Recycle::After(d) => Some(d),
        },
        keep_loc: app.pool_recycle.loc(),
        summary: format!(
            "recycles pooled connections only after {keep_text} and does not pre-ping them (pre_ping = false{})",
            app.pre_ping.origin.note()
        ),
        checked: app.pre_ping.value,
        check_related: "pre_ping = false".into(),
        check_loc: app.pre_ping.loc(),
        keep_key: Some(("pool_recycle", "DB_POOL_RECYCLE")),
        check_key: Some(("pre_ping", "DB_POOL_PRE_PING")),
    }
}

fn env(app: &App, s: &SqlAlchemyApp) -> Vec<EnvLine> {
    let url = format!(
        "postgresql+{}://{}:${{{}}}@{}:{}/{}",
        s.driver.value.as_str(),
        url_part(&app.user.value),
        app.password_env.value,
        app.url.host.value,
        app.url.port.value,
        url_part(&app.url.database.value),
    );
    let secs = |d: crate::units::Duration| d.secs_text();
    let mut vars = vec![
        EnvLine {
            name: "DATABASE_URL".into(),
            value: url,
            comments: Vec::new(),
        },
        line("DB_POOL_SIZE", &s.pool_size),
        line("DB_MAX_OVERFLOW", &s.max_overflow),
        EnvLine {
            name: "DB_POOL_TIMEOUT".into(),
            value: secs(s.pool_timeout.value),
            comments: Vec::new(),
        },
        EnvLine {
            name: "DB_POOL_RECYCLE".into(),
            value: match s.pool_recycle.value {
                Recycle::Never => "-1".to_string(),
                Recycle::After(d) => secs(d),
            },
            comments: Vec::new(),
        },
        line("DB_POOL_PRE_PING", &s.pre_ping),
    ];
    if let Some(t) = &s.prepare_threshold {
        vars.push(EnvLine {
                name: "DB_PREPARE_THRESHOLD".into(),
                value: match t.value {
                    PrepareThreshold::Disabled => "none".to_string(),
                    PrepareThreshold::After(n) => n.to_string(),
                },
                comments: vec!["psycopg: none disables prepared statements (connect_args prepare_threshold=None); 0 prepares every query".into()],
            });
    }
    if let Some(c) = &s.statement_cache_size {
        vars.push(EnvLine {
            name: "DB_STATEMENT_CACHE_SIZE".into(),
            value: c.value.to_string(),
            comments: comments(&c.origin),
        });
    }
    let timeout = s.connect_timeout.value;
    vars.push(EnvLine {
        name: "DB_CONNECT_TIMEOUT".into(),
        value: match s.driver.value {
            // libpq's connect_timeout is whole seconds (a fraction is CAT002 at resolution).
            Driver::Psycopg | Driver::Psycopg2 => timeout
                .whole_secs()
                .map_or_else(|| secs(timeout), |s| s.to_string()),
            Driver::Asyncpg => secs(timeout),
        },
        comments: Vec::new(),
    });
    vars
}
