//! Rails / ActiveRecord on the pg adapter: database.yml or `DATABASE_URL?key=value`
//! (facts: apps/facts.md §2).

use super::{
    AppKind, Dflt, EnvLine, FwSettings, IdleKeep, KeyDef, NamedStatements, PerProcess,
    SessionLocks, SessionState, SettingsFile, Ty, Val,
};
use crate::stack::{App, Origin, Setting};
use crate::units::Duration;
use std::borrow::Cow;

#[derive(Debug)]
pub struct Rails;

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "version",
        env: "",
        ty: Ty::Text,
        default: Dflt::Own(Val::Text(Cow::Borrowed("8.1")), "Rails' latest release"),
        doc: "Rails' major.minor version (8.1 renames pool to max_connections and frees statements with protocol Close)",
    },
    KeyDef {
        name: "max_connections",
        env: "RAILS_MAX_THREADS",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "connections per process (`pool` before 8.1); generated apps read RAILS_MAX_THREADS, default 5",
    },
    KeyDef {
        name: "pool",
        env: "",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "the name of max_connections before Rails 8.1",
    },
    KeyDef {
        name: "min_connections",
        env: "DATABASE_URL",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(0), "Rails' own"),
        doc: "connections opened and kept (8.1)",
    },
    KeyDef {
        name: "checkout_timeout",
        env: "DATABASE_URL",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(5_000_000)), "Rails' own"),
        doc: "seconds before `ActiveRecord::ConnectionTimeoutError`",
    },
    KeyDef {
        name: "idle_timeout",
        env: "DATABASE_URL",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(300_000_000)), "Rails' own"),
        doc: "seconds after which the reaper closes an idle connection (0 = never)",
    },
    KeyDef {
        name: "keepalive",
        env: "DATABASE_URL",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(600_000_000)), "Rails 8.1's own"),
        doc: "seconds after which an idle connection is pinged (8.1)",
    },
    KeyDef {
        name: "prepared_statements",
        env: "DATABASE_URL",
        ty: Ty::Bool,
        default: Dflt::Safe {
            own: Val::Bool(true),
            safe: Val::Bool(false),
            why: "Rails' own true names statements `a1`, `a2`…, which do not survive a change of server connection",
        },
        doc: "false keeps statements unnamed",
    },
    KeyDef {
        name: "advisory_locks",
        env: "DATABASE_URL",
        ty: Ty::Bool,
        default: Dflt::Safe {
            own: Val::Bool(true),
            safe: Val::Bool(false),
            why: "Rails' own true makes migrations take a session advisory lock that another server connection cannot release",
        },
        doc: "false: migrations take no session advisory lock",
    },
    KeyDef {
        name: "variables",
        env: "",
        ty: Ty::Table,
        default: Dflt::Derived,
        doc: "`SET SESSION` after connect (leaks behind transaction pooling)",
    },
];

/// `8.0` < `8.1`.
fn version(s: &FwSettings) -> Option<(u32, u32)> {
    let Val::Text(t) = &s.req("version").value else {
        return None;
    };
    let (a, b) = t.split_once('.').unwrap_or((t, "0"));
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

impl AppKind for Rails {
    fn name(&self) -> &'static str {
        "rails"
    }

    fn formula(&self) -> &'static str {
        "max_connections (`pool` before 8.1; processes = Puma workers, WEB_CONCURRENCY)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE007 (prepared_statements); PRE008 (advisory_locks); PRE011 (variables); TMO001 (idle_timeout; 8.1 keepalive pings)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn derive(&self, settings: &mut FwSettings, _cx: &super::KindCx<'_>) {
        if settings.get("max_connections").is_none() {
            let value = match settings.get("pool") {
                Some(p) => Setting::new(
                    p.value.clone(),
                    Origin::Derived {
                        formula: format!("pool {}", p.value),
                        inputs: p.loc().cloned().into_iter().collect(),
                    },
                ),
                None => Setting::new(
                    Val::Int(5),
                    Origin::Default("Rails' own (a generated app: RAILS_MAX_THREADS, else 5)"),
                ),
            };
            settings.set("max_connections", value);
        }
    }

    fn check(&self, s: &FwSettings) -> Result<(), (&'static str, String, String)> {
        let Some(v) = version(s) else {
            return Err((
                "version",
                format!(
                    "Rails version `{}` is not major.minor",
                    s.req("version").value
                ),
                "write it as \"8.1\"".into(),
            ));
        };
        if let (Some(pool), Some(max)) = (s.get("pool"), s.get("max_connections"))
            && pool.value != max.value
            && pool.loc().is_some()
        {
            return Err((
                "max_connections",
                format!(
                    "pool = {} and max_connections = {}: Rails raises \"Ambiguous configuration\"",
                    pool.value, max.value
                ),
                "keep one of them (max_connections from Rails 8.1)".into(),
            ));
        }
        if v < (8, 1) && s.req("max_connections").loc().is_some() && s.get("pool").is_none() {
            return Err((
                "max_connections",
                format!("Rails {}.{} has no max_connections (new in 8.1)", v.0, v.1),
                "write `pool` instead, or declare version = \"8.1\"".into(),
            ));
        }
        Ok(())
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let max = app.fw().req("max_connections");
        let n = max.value.int().unwrap_or(0);
        PerProcess {
            connections: Some(n),
            arithmetic: n.to_string(),
            formula: "max_connections",
            inputs: vec![("max_connections", n.to_string(), &max.origin)],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        let s = app.fw().req("idle_timeout");
        let idle = s.value.secs().filter(|d| d.0 > 0);
        // 8.1 pings a connection idle for keepalive, so it is never idle longer than that.
        let ping = app.fw().req("keepalive");
        let pinged = version(app.fw())
            .is_some_and(|v| v >= (8, 1))
            .then(|| ping.value.secs())
            .flatten()
            .filter(|d| d.0 > 0);
        let (keep, loc, text) = match (idle, pinged) {
            (Some(i), Some(p)) if p < i => (
                Some(p),
                ping.loc(),
                format!("keepalive {p}{}", ping.origin.note()),
            ),
            (None, Some(p)) => (
                Some(p),
                ping.loc(),
                format!("keepalive {p}{}", ping.origin.note()),
            ),
            (i, _) => (
                i,
                s.loc(),
                format!(
                    "idle_timeout {}{}",
                    i.map_or_else(|| "0 (never)".to_string(), |d| d.to_string()),
                    s.origin.note()
                ),
            ),
        };
        IdleKeep {
            keep,
            keep_loc: loc,
            summary: format!(
                "lets connections sit idle for up to {text} and hands them out unchecked"
            ),
            checked: false,
            check_related: String::new(),
            check_loc: None,
            keep_key: Some(("idle_timeout", "DATABASE_URL")),
            check_key: None,
        }
    }

    fn named_statements<'a>(&self, app: &'a App) -> Option<NamedStatements<'a>> {
        let s = app.fw().req("prepared_statements");
        if !s.value.bool().unwrap_or(true) {
            return None;
        }
        let v = version(app.fw()).unwrap_or((8, 1));
        Some(NamedStatements {
            code: "PRE007",
            setting: format!("Rails {}.{}, prepared_statements = true{}", v.0, v.1, s.origin.note()),
            setting_loc: s.loc(),
            min_pgbouncer: (1, 21),
            libpq: None,
            frees_with_sql: (v < (8, 1)).then(|| {
                format!(
                    "Rails {}.{} frees statements with SQL `DEALLOCATE`, which PgBouncer forwards to a server connection that never had them (8.1 uses the protocol's Close)",
                    v.0, v.1
                )
            }),
            // Observed with ActiveRecord 6.1 through PgBouncer 1.18 (tests/real_clients_rails.rs).
            symptom: "`ActiveRecord::StatementInvalid: PG::DuplicatePstatement: ERROR:  prepared statement \"a1\" already exists` or `PG::InvalidSqlStatementName: ERROR:  prepared statement \"a1\" does not exist`, and a query can run another query's `a1` on that server connection (`ActiveRecord::RecordNotFound` for rows that exist)",
            fix: format!("set prepared_statements = false for `{}`", app.name.value),
            fix_env: "add prepared_statements=false to DATABASE_URL".into(),
        })
    }

    fn session_locks<'a>(&self, app: &'a App) -> Option<SessionLocks<'a>> {
        let s = app.fw().req("advisory_locks");
        if !s.value.bool().unwrap_or(true) {
            return None;
        }
        Some(SessionLocks {
            setting: format!("advisory_locks = true{}", s.origin.note()),
            loc: s.loc(),
            // Observed with ActiveRecord 6.1 through PgBouncer 1.18 (tests/real_clients_rails.rs).
            symptom: "`WARNING:  you don't own a lock of type ExclusiveLock` then `ActiveRecord::ConcurrentMigrationError: Failed to release advisory lock`; the lock stays held, so later migrations fail with `ActiveRecord::ConcurrentMigrationError: Cannot run migrations because another migration process is currently running.`",
            fix: format!(
                "set advisory_locks = false for `{}` (the Rails guide says so for PgBouncer)",
                app.name.value
            ),
        })
    }

    fn session_state<'a>(&self, app: &'a App) -> Vec<SessionState<'a>> {
        let Some(vars) = app.fw().get("variables") else {
            return Vec::new();
        };
        vec![SessionState {
            setting: format!("variables: {}", vars.value),
            statement: format!("SET SESSION {}", vars.value),
            loc: vars.loc(),
            fix: format!(
                "remove `variables` from `{}` and set them on the role or database (`ALTER ROLE … SET …`)",
                app.name.value
            ),
        }]
    }

    fn migration_connections(&self, app: &App) -> u64 {
        // From 6.1 the migrator takes its advisory lock on a connection of its own (seen on
        // ActiveRecord 6.1: two backends during `db:migrate`).
        if version(app.fw()).is_none_or(|v| v >= (6, 1)) {
            2
        } else {
            1
        }
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let v = |k: &str| app.fw().req(k).value.env_text();
        let before_8_1 = version(app.fw()).is_some_and(|v| v < (8, 1));
        let query = format!(
            "prepared_statements={}&advisory_locks={}{}&checkout_timeout={}&idle_timeout={}",
            v("prepared_statements"),
            v("advisory_locks"),
            if before_8_1 {
                String::new()
            } else {
                format!(
                    "&min_connections={}&keepalive={}",
                    v("min_connections"),
                    v("keepalive")
                )
            },
            v("checkout_timeout"),
            v("idle_timeout"),
        );

        vec![
            EnvLine {
                name: "DATABASE_URL".into(),
                value: format!("{}?{query}", super::plain_url(app)),
                comments: vec![
                    format!(
                        "Rails merges these URL keys into config/database.yml's entry (poolstack writes it as {}; \"false\" → false, digits → integers)",
                        app.settings_file
                            .as_ref()
                            .map_or_else(|| "database.yml".into(), |f| f.value.display().to_string())
                    ),
                ],
            },
            EnvLine {
                name: "RAILS_MAX_THREADS".into(),
                value: v("max_connections"),
                comments: super::origin_comments(&app.fw().req("max_connections").origin),
            },
            EnvLine {
                name: "WEB_CONCURRENCY".into(),
                value: app.processes.value.to_string(),
                comments: vec!["Puma workers: the app's processes".into()],
            },
        ]
        .into_iter()
        .chain(super::direct_url(app, "advisory_locks=true").map(|value| EnvLine {
            name: "DIRECT_DATABASE_URL".into(),
            value,
            comments: vec![
                "migrations past PgBouncer, whose transaction pooling breaks their session advisory lock:".into(),
                "DATABASE_URL=\"$DIRECT_DATABASE_URL\" bin/rails db:migrate".into(),
            ],
        }))
        .collect()
    }

    fn settings_file(&self) -> Option<SettingsFile> {
        Some(SettingsFile {
            name: "database.yml",
            several: "\"<name>/database.yml\" when there are several apps",
            read_as: "Rails' config/database.yml",
        })
    }

    fn settings_body(&self, app: &App) -> String {
        let pool_key = if version(app.fw()).is_some_and(|v| v < (8, 1)) {
            "pool"
        } else {
            "max_connections"
        };
        format!(
            "# Rails reads this as config/database.yml. The connection and the keys that keep it safe\n\
             # behind PgBouncer (prepared_statements, advisory_locks, timeouts) are in DATABASE_URL, from\n\
             # the app's .env: Rails merges the URL's keys over this entry, so DATABASE_URL=\"$DIRECT_DATABASE_URL\"\n\
             # (migrations) brings its own.\n\
             default: &default\n  adapter: postgresql\n  url: <%= ENV.fetch(\"DATABASE_URL\") %>\n  \
             {pool_key}: <%= ENV.fetch(\"RAILS_MAX_THREADS\") {{ {} }} %>\n\n\
             production:\n  <<: *default\n",
            app.fw().req("max_connections").value.env_text()
        )
    }
}
