//! Django's `DATABASES` on psycopg 3, with or without its connection pool (5.1+)
//! (facts: apps/facts.md §1, and §8 for the pool).

use super::{
    AppKind, Dflt, EnvLine, FwSettings, HeldCursors, IdleKeep, KeyDef, NamedStatements, PerProcess,
    SessionState, SettingsFile, Ty, Val,
};
use crate::stack::{App, Origin, Setting};
use crate::units::Duration;
use std::borrow::Cow;

#[derive(Debug)]
pub struct Django;

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "version",
        env: "",
        ty: Ty::Text,
        default: Dflt::Own(Val::Text(Cow::Borrowed("5.2")), "Django's latest release"),
        doc: "Django's major.minor version (the pool needs 5.1)",
    },
    KeyDef {
        name: "threads",
        env: "",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(1), "a sync worker serves one request at a time"),
        doc: "threads serving requests per process: one connection each without the pool",
    },
    KeyDef {
        name: "CONN_MAX_AGE",
        env: "DB_CONN_MAX_AGE",
        ty: Ty::CountOrNone,
        default: Dflt::Own(
            Val::Int(0),
            "Django's own: close at the end of each request",
        ),
        doc: "seconds a connection is kept between requests; \"none\" = forever (must be 0 with the pool)",
    },
    KeyDef {
        name: "CONN_HEALTH_CHECKS",
        env: "DB_CONN_HEALTH_CHECKS",
        ty: Ty::Bool,
        default: Dflt::Own(Val::Bool(false), "Django's own"),
        doc: "check a reused connection once per request (4.1+)",
    },
    KeyDef {
        name: "DISABLE_SERVER_SIDE_CURSORS",
        env: "DB_DISABLE_SERVER_SIDE_CURSORS",
        ty: Ty::Bool,
        default: Dflt::Safe {
            own: Val::Bool(false),
            safe: Val::Bool(true),
            why: "Django's own false makes `.iterator()` hold a named cursor across transactions (`cursor \"_django_curs_…\" does not exist`)",
        },
        doc: "true keeps `.iterator()` from opening server-side cursors",
    },
    KeyDef {
        name: "pool",
        env: "DB_POOL",
        ty: Ty::Bool,
        default: Dflt::Own(Val::Bool(false), "Django's own (no pool)"),
        doc: "OPTIONS[\"pool\"]: psycopg_pool, one pool per process (5.1+)",
    },
    KeyDef {
        name: "pool_min_size",
        env: "DB_POOL_MIN_SIZE",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(4), "psycopg_pool's own"),
        doc: "OPTIONS[\"pool\"][\"min_size\"] (with pool = true)",
    },
    KeyDef {
        name: "pool_max_size",
        env: "DB_POOL_MAX_SIZE",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "OPTIONS[\"pool\"][\"max_size\"]; psycopg_pool's default is min_size",
    },
    KeyDef {
        name: "pool_timeout",
        env: "DB_POOL_TIMEOUT",
        ty: Ty::Secs,
        default: Dflt::Own(Val::Secs(Duration(30_000_000)), "psycopg_pool's own"),
        doc: "OPTIONS[\"pool\"][\"timeout\"]: seconds before PoolTimeout",
    },
    KeyDef {
        name: "prepare_threshold",
        env: "DB_PREPARE_THRESHOLD",
        ty: Ty::CountOrNone,
        default: Dflt::Own(
            Val::Nothing,
            "Django's own: None, forced \"to keep connection poolers working\"",
        ),
        doc: "OPTIONS[\"prepare_threshold\"]: a number re-enables prepared statements",
    },
    KeyDef {
        name: "assume_role",
        env: "",
        ty: Ty::Text,
        default: Dflt::Derived,
        doc: "OPTIONS[\"assume_role\"]: `SET ROLE` on each new connection (leaks behind transaction pooling)",
    },
    KeyDef {
        name: "libpq",
        env: "",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "the client's libpq major version, where known",
    },
];

fn pooled(app: &App) -> bool {
    app.fw().req("pool").value.bool().unwrap_or(false)
}

/// `5.0` < `5.1`: the version as (major, minor), when it reads as one.
fn version(s: &FwSettings) -> Option<(u32, u32)> {
    let Val::Text(t) = &s.req("version").value else {
        return None;
    };
    let (a, b) = t.split_once('.').unwrap_or((t, "0"));
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

impl AppKind for Django {
    fn name(&self) -> &'static str {
        "django"
    }

    fn formula(&self) -> &'static str {
        "threads (one connection per thread serving requests); with pool = true, pool_max_size (defaults to pool_min_size)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE006 (DISABLE_SERVER_SIDE_CURSORS); PRE010 (prepare_threshold a number); PRE011 (assume_role); TMO001 (CONN_MAX_AGE, CONN_HEALTH_CHECKS)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn derive(&self, settings: &mut FwSettings, _cx: &super::KindCx<'_>) {
        if settings.get("pool_max_size").is_none() {
            let min = settings.req("pool_min_size");
            let derived = Setting::new(
                min.value.clone(),
                Origin::Derived {
                    formula: format!("pool_min_size {}: psycopg_pool's max_size=None", min.value),
                    inputs: min.loc().cloned().into_iter().collect(),
                },
            );
            settings.set("pool_max_size", derived);
        }
    }

    fn check(&self, s: &FwSettings) -> Result<(), (&'static str, String, String)> {
        if version(s).is_none() {
            return Err((
                "version",
                format!(
                    "Django version `{}` is not major.minor",
                    s.req("version").value
                ),
                "write it as \"5.2\"".into(),
            ));
        }
        if !s.req("pool").value.bool().unwrap_or(false) {
            return Ok(());
        }
        if version(s).is_some_and(|v| v < (5, 1)) {
            return Err((
                "pool",
                format!(
                    "Django {} has no connection pool (OPTIONS[\"pool\"] is new in 5.1)",
                    s.req("version").value
                ),
                "remove `pool`, or declare version = \"5.1\" or later".into(),
            ));
        }
        if s.req("CONN_MAX_AGE").value != Val::Int(0) {
            return Err((
                "CONN_MAX_AGE",
                "with pool = true Django raises `ImproperlyConfigured: Pooling doesn't support persistent connections.`".into(),
                "set CONN_MAX_AGE = 0 (the pool keeps the connections)".into(),
            ));
        }
        Ok(())
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let (key, s) = if pooled(app) {
            ("pool_max_size", app.fw().req("pool_max_size"))
        } else {
            ("threads", app.fw().req("threads"))
        };
        let n = s.value.int().unwrap_or(0);
        PerProcess {
            connections: Some(n),
            arithmetic: n.to_string(),
            formula: key,
            inputs: vec![(key, n.to_string(), &s.origin)],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        let checks = app.fw().req("CONN_HEALTH_CHECKS");
        let checked = checks.value.bool().unwrap_or(false);
        let check_note = format!("CONN_HEALTH_CHECKS = false{}", checks.origin.note());
        if pooled(app) {
            let min = app.fw().req("pool_min_size");
            return IdleKeep {
                keep: None,
                keep_loc: min.loc(),
                summary: format!(
                    "keeps its pool_min_size {} pooled connections open however long they are idle and does not check them ({check_note})",
                    min.value
                ),
                checked,
                check_related: "CONN_HEALTH_CHECKS = false".into(),
                check_loc: checks.loc(),
                keep_key: None,
                check_key: Some(("CONN_HEALTH_CHECKS", "DB_CONN_HEALTH_CHECKS")),
            };
        }
        let age = app.fw().req("CONN_MAX_AGE");
        let keep = match age.value {
            Val::Int(n) => Some(Duration::from_secs(n)),
            _ => None,
        };
        IdleKeep {
            keep,
            keep_loc: age.loc(),
            summary: format!(
                "keeps connections between requests for CONN_MAX_AGE {}{} and does not check them ({check_note})",
                match age.value {
                    Val::Int(n) => format!("{n} s"),
                    _ => "none (forever)".into(),
                },
                age.origin.note()
            ),
            checked,
            check_related: "CONN_HEALTH_CHECKS = false".into(),
            check_loc: checks.loc(),
            keep_key: Some(("CONN_MAX_AGE", "DB_CONN_MAX_AGE")),
            check_key: Some(("CONN_HEALTH_CHECKS", "DB_CONN_HEALTH_CHECKS")),
        }
    }

    fn named_statements<'a>(&self, app: &'a App) -> Option<NamedStatements<'a>> {
        super::psycopg::named_statements(
            app,
            "Django on psycopg",
            "DATABASES OPTIONS \"prepare_threshold\": None, Django's own default when left out",
        )
    }

    fn held_cursors<'a>(&self, app: &'a App) -> Option<HeldCursors<'a>> {
        let s = app.fw().req("DISABLE_SERVER_SIDE_CURSORS");
        if s.value.bool().unwrap_or(false) {
            return None;
        }
        Some(HeldCursors {
            setting: format!("DISABLE_SERVER_SIDE_CURSORS = false{}", s.origin.note()),
            loc: s.loc(),
            symptom: "`django.db.utils.ProgrammingError: portal \"_django_curs_139761812813504_sync_1\" does not exist` (psycopg 3, seen through PgBouncer 1.18) or `django.db.utils.OperationalError: cursor \"_django_curs_140027036677888_1\" does not exist` (psycopg2)",
            fix: format!(
                "set DISABLE_SERVER_SIDE_CURSORS = true for `{}`",
                app.name.value
            ),
            fix_env: "write DB_DISABLE_SERVER_SIDE_CURSORS=true".into(),
        })
    }

    fn session_state<'a>(&self, app: &'a App) -> Vec<SessionState<'a>> {
        let Some(role) = app.fw().get("assume_role") else {
            return Vec::new();
        };
        vec![SessionState {
            setting: format!("assume_role = \"{}\"", role.value),
            statement: format!("SET ROLE {}", role.value),
            loc: role.loc(),
            fix: format!(
                "remove assume_role from `{}` and let it log in as the role (a [[users]] entry), or use session pooling for it",
                app.name.value
            ),
        }]
    }

    fn migration_connections(&self, _app: &App) -> u64 {
        1
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let settings = app.settings_file.as_ref().map_or_else(
            || "database_settings.py".into(),
            |f| f.value.display().to_string(),
        );
        let mut out = vec![EnvLine {
            name: "DATABASE_URL".into(),
            value: super::plain_url(app),
            comments: vec![format!(
                "settings.py: `from database_settings import DATABASES` (poolstack writes it as {settings}; it reads DATABASE_URL and ${{{}}}), or read the DB_* variables below",
                app.password_env.value
            )],
        }];
        out.extend(
            super::env_lines(self, app)
                .into_iter()
                .filter(|l| pooled(app) || !l.name.starts_with("DB_POOL_")),
        );
        out.extend(super::direct_url(app, "").map(|value| EnvLine {
            name: "DIRECT_DATABASE_URL".into(),
            value,
            comments: vec![
                "migrations past PgBouncer, whose transaction pooling keeps no session state (SET, advisory locks) between their statements:".into(),
                "DATABASE_URL=\"$DIRECT_DATABASE_URL\" python manage.py migrate".into(),
            ],
        }));
        out
    }

    fn settings_file(&self) -> Option<SettingsFile> {
        Some(SettingsFile {
            name: "database_settings.py",
            several: "\"<name>/database_settings.py\" when there are several apps",
            read_as: "a module settings.py imports: `from database_settings import DATABASES`",
        })
    }

    fn settings_body(&self, app: &App) -> String {
        let v = |k: &str| app.fw().req(k).value.clone();
        let py_bool = |k: &str| {
            if v(k).bool().unwrap_or(false) {
                "True"
            } else {
                "False"
            }
        };
        let mut options = Vec::new();
        if pooled(app) {
            options.push(format!(
                "\"pool\": {{\"min_size\": {}, \"max_size\": {}, \"timeout\": {}}}",
                v("pool_min_size").env_text(),
                v("pool_max_size").env_text(),
                v("pool_timeout").env_text()
            ));
        }
        if let Some(role) = app.fw().get("assume_role") {
            options.push(format!(
                "\"assume_role\": {}",
                py_str(&role.value.env_text())
            ));
        }
        if let Val::Int(n) = v("prepare_threshold") {
            options.push(format!("\"prepare_threshold\": {n}"));
        }
        let age = match v("CONN_MAX_AGE") {
            Val::Int(n) => n.to_string(),
            _ => "None".into(),
        };
        format!(
            "# Django's DATABASES for app {app_name}: settings.py reads it with\n\
             #     from database_settings import DATABASES\n\
             # The connection comes from DATABASE_URL and the password from ${password} (the app's .env);\n\
             # the rest is safe behind the PgBouncer in front. Migrations past PgBouncer:\n\
             #     DATABASE_URL=\"$DIRECT_DATABASE_URL\" python manage.py migrate\n\
             import os\n\
             from urllib.parse import unquote, urlsplit\n\
             \n\
             _url = urlsplit(os.environ[\"DATABASE_URL\"])\n\
             \n\
             DATABASES = {{\n    \"default\": {{\n        \
             \"ENGINE\": \"django.db.backends.postgresql\",\n        \
             \"NAME\": unquote(_url.path.lstrip(\"/\")),\n        \
             \"USER\": unquote(_url.username or \"\"),\n        \
             \"PASSWORD\": os.environ[{password_lit}],\n        \
             \"HOST\": _url.hostname or \"\",\n        \
             \"PORT\": str(_url.port or \"\"),\n        \
             \"CONN_MAX_AGE\": {age},\n        \
             \"CONN_HEALTH_CHECKS\": {checks},\n        \
             \"DISABLE_SERVER_SIDE_CURSORS\": {cursors},\n        \
             \"OPTIONS\": {{{options}}},\n    }},\n}}\n",
            app_name = py_str(&app.name.value),
            password = app.password_env.value,
            password_lit = py_str(&app.password_env.value),
            checks = py_bool("CONN_HEALTH_CHECKS"),
            cursors = py_bool("DISABLE_SERVER_SIDE_CURSORS"),
            options = options.join(", "),
        )
    }
}

/// A Python string literal (JSON's escapes are Python's).
fn py_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}
