//! Prisma: v6 and earlier read the pool from DATABASE_URL keys (connection_limit, pool_timeout,
//! pgbouncer); v7 uses a driver adapter (`new PrismaPg({ connectionString, max, … })`) with
//! node-postgres' pool (facts: apps/facts.md §3).

use super::{
    AppKind, Dflt, EnvLine, FwSettings, IdleKeep, KeyDef, KindCx, PerProcess, PgbouncerFlag, Ty,
    Val,
};
use crate::stack::{App, Origin, Setting};
use std::borrow::Cow;

#[derive(Debug)]
pub struct Prisma;

/// Keys only Prisma 6 and earlier read (from the URL).
const V6_KEYS: &[&str] = &[
    "connection_limit",
    "pool_timeout",
    "pgbouncer",
    "statement_cache_size",
];
/// Keys only the v7 adapter reads.
const V7_KEYS: &[&str] = &["max", "idleTimeoutMillis"];

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "version",
        env: "",
        ty: Ty::Text,
        default: Dflt::Own(Val::Text(Cow::Borrowed("7")), "Prisma's latest release"),
        doc: "Prisma's major version: 7 uses the pg driver adapter, 6 and earlier the URL's pool keys",
    },
    KeyDef {
        name: "cpus",
        env: "",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(2), "poolstack's default"),
        doc: "physical CPUs the process sees (v6's connection_limit defaults to 2 × cpus + 1)",
    },
    KeyDef {
        name: "clients",
        env: "",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(1), "one PrismaClient per process"),
        doc: "PrismaClient instances per process (each has its own pool)",
    },
    KeyDef {
        name: "connection_limit",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "v6: connections per PrismaClient (2 × cpus + 1; always written)",
    },
    KeyDef {
        name: "pool_timeout",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10), "Prisma's own"),
        doc: "v6: seconds to wait for a connection before P2024",
    },
    KeyDef {
        name: "pgbouncer",
        env: "DATABASE_URL",
        ty: Ty::Bool,
        default: Dflt::Derived,
        doc: "v6: true disables named statements (for PgBouncer without statement tracking); breaks 1.21.x with tracking",
    },
    KeyDef {
        name: "statement_cache_size",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(100), "Prisma's own"),
        doc: "v6: named statements `s0`, `s1`… per connection (0 with pgbouncer = true)",
    },
    KeyDef {
        name: "max",
        env: "DB_POOL_MAX",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10), "node-postgres' own (v7 adapter)"),
        doc: "v7: connections per PrismaClient (PrismaPg max)",
    },
    KeyDef {
        name: "idleTimeoutMillis",
        env: "DB_POOL_IDLE_TIMEOUT_MILLIS",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10_000), "node-postgres' own (v7 adapter)"),
        doc: "v7: milliseconds an idle connection is kept (0 = forever)",
    },
];

fn major(s: &FwSettings) -> Option<u32> {
    let Val::Text(t) = &s.req("version").value else {
        return None;
    };
    t.split('.').next()?.trim().parse().ok()
}

fn s_major(app: &App) -> String {
    major(app.fw()).map_or_else(|| "?".into(), |m| m.to_string())
}

fn v7(app: &App) -> bool {
    major(app.fw()).is_none_or(|m| m >= 7)
}

impl Prisma {
    /// Prisma 7's driver adapter is node-postgres: its URL keys that become startup parameters.
    fn adapter_startup_params<'a>(app: &'a App) -> Vec<super::StartupParam<'a>> {
        if !v7(app) {
            return Vec::new();
        }
        super::url_startup_keys(
            app,
            "Prisma 7's adapter (node-postgres)",
            super::node_postgres::STARTUP,
        )
    }
}

impl AppKind for Prisma {
    fn name(&self) -> &'static str {
        "prisma"
    }

    fn formula(&self) -> &'static str {
        "v7: max × clients (PrismaClient instances); v6: connection_limit × clients (2 × cpus + 1, always written)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE009 (pgbouncer flag against PgBouncer's statement tracking); NET004 (v7: statement_timeout, lock_timeout, idle_in_transaction_session_timeout, options in DATABASE_URL); TMO001 (v7 idleTimeoutMillis)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn derive(&self, settings: &mut FwSettings, cx: &KindCx<'_>) {
        // A hand-written .env with Prisma 6's URL keys is Prisma 6, whatever is latest.
        if matches!(settings.req("version").origin, Origin::Default(_))
            && let Some(key) = V6_KEYS.iter().find(|k| {
                settings
                    .get(k)
                    .is_some_and(|s| matches!(s.origin, Origin::Imported(_)))
            })
        {
            let at = settings.req(key).loc().cloned();
            settings.set(
                "version",
                Setting::new(
                    Val::Text(Cow::Borrowed("6")),
                    Origin::Derived {
                        formula: format!(
                            "6: DATABASE_URL has `{key}`, which only Prisma 6 and earlier read"
                        ),
                        inputs: at.into_iter().collect(),
                    },
                ),
            );
        }
        if settings.get("connection_limit").is_none() {
            let cpus = settings.req("cpus");
            let n = cpus.value.int().unwrap_or(2) * 2 + 1;
            let derived = Setting::new(
                Val::Int(n),
                Origin::Derived {
                    formula: format!("2 × cpus {} + 1: Prisma's default", cpus.value),
                    inputs: cpus.loc().cloned().into_iter().collect(),
                },
            );
            settings.set("connection_limit", derived);
        }
        if settings.get("pgbouncer").is_none() {
            let needed = cx.transaction_pooling() && !cx.tracks_statements();
            let value = Setting::new(
                Val::Bool(needed),
                Origin::Derived {
                    formula: if needed {
                        "true: PgBouncer in transaction pooling does not track prepared statements (before 1.21, or max_prepared_statements = 0)".into()
                    } else {
                        "false: PgBouncer tracks prepared statements, or pools by session".into()
                    },
                    inputs: cx
                        .pool_mode
                        .and_then(|m| m.loc())
                        .cloned()
                        .into_iter()
                        .collect(),
                },
            );
            settings.set("pgbouncer", value);
        }
    }

    fn check(&self, s: &FwSettings) -> Result<(), (&'static str, String, String)> {
        let Some(m) = major(s) else {
            return Err((
                "version",
                format!(
                    "Prisma version `{}` is not a version",
                    s.req("version").value
                ),
                "write the major version, e.g. \"6\"".into(),
            ));
        };
        let (wrong, right) = if m >= 7 {
            (V6_KEYS, "6")
        } else {
            (V7_KEYS, "7")
        };
        for key in wrong {
            if s.get(key)
                .is_some_and(|v| matches!(v.origin, Origin::Manifest(_)))
            {
                return Err((
                    key,
                    format!(
                        "`{key}` is read by Prisma {right} only, and this app declares Prisma {m}"
                    ),
                    format!("remove `{key}`, or declare version = \"{right}\""),
                ));
            }
        }
        Ok(())
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let key = if v7(app) { "max" } else { "connection_limit" };
        let max = app.fw().req(key);
        let clients = app.fw().req("clients");
        let (m, c) = (
            max.value.int().unwrap_or(0),
            clients.value.int().unwrap_or(1),
        );
        PerProcess {
            connections: Some(m * c),
            arithmetic: if c == 1 {
                m.to_string()
            } else {
                format!("{m} × {c}")
            },
            formula: if v7(app) {
                "max × clients"
            } else {
                "connection_limit × clients"
            },
            inputs: vec![
                (key, m.to_string(), &max.origin),
                ("clients", c.to_string(), &clients.origin),
            ],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        if !v7(app) {
            // v6's max_idle_connection_lifetime (300 s) is not a key here: report nothing.
            return IdleKeep {
                keep: Some(crate::units::Duration::from_secs(300)),
                keep_loc: None,
                summary:
                    "keeps idle connections for max_idle_connection_lifetime 300 s (Prisma 6's own)"
                        .into(),
                checked: false,
                check_related: String::new(),
                check_loc: None,
                keep_key: None,
                check_key: None,
            };
        }
        let s = app.fw().req("idleTimeoutMillis");
        let ms = s.value.int().unwrap_or(0);
        IdleKeep {
            keep: (ms > 0).then(|| crate::units::Duration(ms * 1000)),
            keep_loc: s.loc(),
            summary: format!(
                "keeps idle connections for idleTimeoutMillis {ms}{} and cannot check them before handing them out",
                s.origin.note()
            ),
            checked: false,
            check_related: String::new(),
            check_loc: None,
            keep_key: Some(("idleTimeoutMillis", "DB_POOL_IDLE_TIMEOUT_MILLIS")),
            check_key: None,
        }
    }

    fn pgbouncer_flag<'a>(&self, app: &'a App) -> Option<PgbouncerFlag<'a>> {
        if v7(app) {
            return None;
        }
        let s = app.fw().req("pgbouncer");
        Some(PgbouncerFlag {
            on: s.value == Val::Bool(true),
            setting: format!(
                "Prisma {}, pgbouncer = {}{}",
                s_major(app),
                s.value,
                s.origin.note()
            ),
            loc: s.loc(),
            statements: "`s0`, `s1`…",
            fix_on: format!(
                "remove pgbouncer = true from `{}` (PgBouncer tracks Prisma's statements), or upgrade PgBouncer to 1.22 or later",
                app.name.value
            ),
            fix_off: format!(
                "set pgbouncer = true for `{}`, or enable PgBouncer's max_prepared_statements (1.21 or later)",
                app.name.value
            ),
        })
    }

    fn startup_params<'a>(&self, app: &'a App) -> Vec<super::StartupParam<'a>> {
        Self::adapter_startup_params(app)
    }

    fn migration_connections(&self, _app: &App) -> u64 {
        1
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let v = |k: &str| app.fw().req(k).value.env_text();
        let direct = direct_url(app);
        if v7(app) {
            let mut out = vec![EnvLine {
                name: "DATABASE_URL".into(),
                value: super::plain_url(app),
                comments: vec!["new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX), idleTimeoutMillis: Number(process.env.DB_POOL_IDLE_TIMEOUT_MILLIS) }) })".into()],
            }];
            out.extend(super::env_lines(self, app));
            out.extend(direct);
            return out;
        }
        let mut query = format!(
            "connection_limit={}&pool_timeout={}",
            v("connection_limit"),
            v("pool_timeout")
        );
        if app.fw().req("pgbouncer").value == Val::Bool(true) {
            query.push_str("&pgbouncer=true");
        } else {
            query.push_str(&format!(
                "&statement_cache_size={}",
                v("statement_cache_size")
            ));
        }
        let mut out = vec![EnvLine {
            name: "DATABASE_URL".into(),
            value: format!("{}?{query}", super::plain_url(app)),
            comments: super::origin_comments(&app.fw().req("pgbouncer").origin),
        }];
        out.extend(direct);
        out
    }
}

/// `DIRECT_URL` for `prisma migrate` (schema.prisma `directUrl`, or prisma.config.ts in v7):
/// migrations through transaction pooling fail with `prepared statement "s0" already exists`.
fn direct_url(app: &App) -> Option<EnvLine> {
    Some(EnvLine {
        name: "DIRECT_URL".into(),
        value: super::direct_url(app, "")?,
        comments: vec!["prisma migrate connects here, past PgBouncer (datasource directUrl = env(\"DIRECT_URL\"))".into()],
    })
}
