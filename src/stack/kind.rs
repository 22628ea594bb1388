//! An app's kind together with the settings only that kind has: SQLAlchemy's typed pool and
//! driver settings, or another framework's keys as it names them. Which settings an app carries
//! follows from its kind, so a rule asks "is this a SQLAlchemy app" by matching
//! [`KindSettings::SqlAlchemy`] (or [`super::App::sqlalchemy`]), never by name.

use super::Setting;
use crate::apps::{AppKind, Framework, FwSettings};
use crate::manifest::{Driver, PrepareThreshold, Recycle};
use crate::units::Duration;

/// The kind of an app and its own settings.
#[derive(Debug, Clone)]
pub enum KindSettings {
    /// `kind = "sqlalchemy"` (the default).
    SqlAlchemy(Box<SqlAlchemyApp>),
    /// Any other kind, with its keys as the framework names them (`crate::apps`).
    Framework {
        kind: &'static dyn Framework,
        settings: FwSettings,
    },
}

impl KindSettings {
    /// The kind.
    pub fn kind(&self) -> &'static dyn AppKind {
        match self {
            KindSettings::SqlAlchemy(_) => &crate::apps::sqlalchemy::SqlAlchemy,
            KindSettings::Framework { kind, .. } => *kind,
        }
    }

    /// The SQLAlchemy settings, when the app is a SQLAlchemy app.
    pub fn sqlalchemy(&self) -> Option<&SqlAlchemyApp> {
        match self {
            KindSettings::SqlAlchemy(s) => Some(s.as_ref()),
            KindSettings::Framework { .. } => None,
        }
    }

    /// The framework keys of a kind other than SQLAlchemy; none for a SQLAlchemy app.
    pub fn fw(&self) -> &FwSettings {
        static NONE: FwSettings = FwSettings(Vec::new());
        match self {
            KindSettings::SqlAlchemy(_) => &NONE,
            KindSettings::Framework { settings, .. } => settings,
        }
    }
}

/// `create_engine` with QueuePool on psycopg, psycopg2 or asyncpg: the settings of a
/// `kind = "sqlalchemy"` app (`crate::apps::sqlalchemy` answers the rules' questions from them).
#[derive(Debug, Clone)]
pub struct SqlAlchemyApp {
    pub driver: Setting<Driver>,
    /// The client's libpq major version, where declared (PRE003).
    pub libpq: Option<Setting<u32>>,
    pub pool_size: Setting<u32>,
    pub max_overflow: Setting<i32>,
    pub pool_timeout: Setting<Duration>,
    pub pool_recycle: Setting<Recycle>,
    pub pre_ping: Setting<bool>,
    /// psycopg only.
    pub prepare_threshold: Option<Setting<PrepareThreshold>>,
    /// asyncpg only.
    pub statement_cache_size: Option<Setting<u32>>,
    pub connect_timeout: Setting<Duration>,
}

impl SqlAlchemyApp {
    /// Connections one process may hold (pool_size + max_overflow); `None` when QueuePool is
    /// unbounded (pool_size = 0 or max_overflow = -1).
    pub fn capacity(&self) -> Option<u64> {
        (self.max_overflow.value >= 0 && self.pool_size.value > 0).then(|| {
            u64::from(self.pool_size.value) + u64::from(self.max_overflow.value.unsigned_abs())
        })
    }
}
