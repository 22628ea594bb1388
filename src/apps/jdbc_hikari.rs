//! Java: pgjdbc behind HikariCP (Spring Boot's default pool): JDBC URL `?key=value` for the
//! driver, `spring.datasource.hikari.*` for the pool (facts: apps/facts.md §6).

use super::{
    AppKind, Dflt, EnvLine, FwSettings, IdleKeep, KeyDef, NamedStatements, PerProcess,
    SettingsFile, StartupParam, Ty, Val,
};
use crate::stack::{App, Origin, Setting};
use crate::units::Duration;
use std::borrow::Cow;

#[derive(Debug)]
pub struct JdbcHikari;

static KEYS: &[KeyDef] = &[
    KeyDef {
        name: "pgjdbc_version",
        env: "",
        ty: Ty::Text,
        default: Dflt::Own(
            Val::Text(Cow::Borrowed("42.7.8")),
            "pgjdbc's latest release",
        ),
        doc: "pgjdbc's version (42.7.4 and older send extra_float_digits as a startup parameter: poolstack lists it in PgBouncer's ignore_startup_parameters unless `[pgbouncer.settings]` sets that list)",
    },
    KeyDef {
        name: "hikaricp_version",
        env: "",
        ty: Ty::Text,
        default: Dflt::Own(
            Val::Text(Cow::Borrowed(keepalive::LATEST)),
            "HikariCP's latest release",
        ),
        doc: "HikariCP's version, or \"latest\" (its latest release): keepaliveTime exists from 4.0.0",
    },
    KeyDef {
        name: "maximumPoolSize",
        env: "SPRING_DATASOURCE_HIKARI_MAXIMUMPOOLSIZE",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(10), "HikariCP's own"),
        doc: "connections per DataSource",
    },
    KeyDef {
        name: "minimumIdle",
        env: "SPRING_DATASOURCE_HIKARI_MINIMUMIDLE",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "idle connections kept; HikariCP's default is maximumPoolSize (a fixed pool, filled at start)",
    },
    KeyDef {
        name: "dataSources",
        env: "",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(1), "one DataSource per process"),
        doc: "HikariCP DataSources per process",
    },
    KeyDef {
        name: "maxLifetime",
        env: "SPRING_DATASOURCE_HIKARI_MAXLIFETIME",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(1_800_000), "HikariCP's own (30 min)"),
        doc: "milliseconds after which a connection is retired (0 = never)",
    },
    KeyDef {
        name: "idleTimeout",
        env: "SPRING_DATASOURCE_HIKARI_IDLETIMEOUT",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(600_000), "HikariCP's own (10 min)"),
        doc: "milliseconds an idle connection is kept (only when minimumIdle < maximumPoolSize)",
    },
    KeyDef {
        name: "keepaliveTime",
        env: "SPRING_DATASOURCE_HIKARI_KEEPALIVETIME",
        ty: Ty::Count,
        default: Dflt::Derived,
        doc: "milliseconds between pings of an idle connection (0 = none; else ≥ 30000 and below maxLifetime); HikariCP's own is 0 up to 6.0.0 and 120000 (2 min) later, so poolstack always writes it",
    },
    KeyDef {
        name: "connectionTimeout",
        env: "SPRING_DATASOURCE_HIKARI_CONNECTIONTIMEOUT",
        ty: Ty::Count,
        default: Dflt::Own(Val::Int(30_000), "HikariCP's own"),
        doc: "milliseconds before `Connection is not available, request timed out`",
    },
    KeyDef {
        name: "prepareThreshold",
        env: "SPRING_DATASOURCE_URL",
        ty: Ty::Count,
        default: Dflt::Safe {
            own: Val::Int(5),
            safe: Val::Int(0),
            why: "pgjdbc's own 5 names statements `S_N` from the 5th run; in pgjdbc 0 disables them (the opposite of psycopg)",
        },
        doc: "JDBC URL key: 0 never server-prepares",
    },
];

/// `42.7.4` as numbers.
fn pgjdbc(s: &FwSettings) -> Option<Vec<u32>> {
    let Val::Text(t) = &s.req("pgjdbc_version").value else {
        return None;
    };
    t.split('.').map(|p| p.trim().parse().ok()).collect()
}

impl AppKind for JdbcHikari {
    fn name(&self) -> &'static str {
        "jdbc-hikari"
    }

    fn formula(&self) -> &'static str {
        "maximumPoolSize × dataSources (a fixed pool by default, all opened at start)"
    }

    fn rules(&self) -> &'static str {
        "CON001, CON003, CON006, MEM003 (budget); PRE010 (prepareThreshold > 0); NET004 (pgjdbc ≤ 42.7.4 extra_float_digits, when a written ignore_startup_parameters lacks it); TMO001 never (HikariCP validates connections idle over 500 ms, and keepaliveTime pings idle ones)"
    }

    fn keys(&self) -> &'static [KeyDef] {
        KEYS
    }

    fn derive(&self, settings: &mut FwSettings, _cx: &super::KindCx<'_>) {
        if settings.get("keepaliveTime").is_none() && keepalive::has_keepalive(settings) {
            let (ms, why) = keepalive::keepalive_default(settings);
            let inputs = ["hikaricp_version", "maxLifetime"]
                .iter()
                .filter_map(|k| settings.req(k).loc().cloned())
                .collect();
            settings.set(
                "keepaliveTime",
                Setting::new(
                    Val::Int(ms),
                    Origin::Derived {
                        formula: why,
                        inputs,
                    },
                ),
            );
        }
        if settings.get("minimumIdle").is_none() {
            let max = settings.req("maximumPoolSize");
            let derived = Setting::new(
                max.value.clone(),
                Origin::Derived {
                    formula: format!("maximumPoolSize {}: HikariCP's default", max.value),
                    inputs: max.loc().cloned().into_iter().collect(),
                },
            );
            settings.set("minimumIdle", derived);
        }
    }

    fn check(&self, s: &FwSettings) -> Result<(), (&'static str, String, String)> {
        if pgjdbc(s).is_none_or(|v| v.is_empty()) {
            return Err((
                "pgjdbc_version",
                format!(
                    "pgjdbc version `{}` is not a version",
                    s.req("pgjdbc_version").value
                ),
                "write it as \"42.7.8\"".into(),
            ));
        }
        if keepalive::hikaricp(s).is_none() {
            return Err((
                "hikaricp_version",
                format!(
                    "HikariCP version `{}` is not a version",
                    s.req("hikaricp_version").value
                ),
                format!(
                    "write it as \"5.1.0\", or \"{}\" for the latest release",
                    keepalive::LATEST
                ),
            ));
        }
        keepalive::check(s)
    }

    fn per_process<'a>(&self, app: &'a App) -> PerProcess<'a> {
        let max = app.fw().req("maximumPoolSize");
        let ds = app.fw().req("dataSources");
        let (m, d) = (max.value.int().unwrap_or(0), ds.value.int().unwrap_or(1));
        PerProcess {
            connections: Some(m * d),
            arithmetic: if d == 1 {
                m.to_string()
            } else {
                format!("{m} × {d}")
            },
            formula: "maximumPoolSize × dataSources",
            inputs: vec![
                ("maximumPoolSize", m.to_string(), &max.origin),
                ("dataSources", d.to_string(), &ds.origin),
            ],
            unbounded: None,
        }
    }

    fn idle_keep<'a>(&self, app: &'a App) -> IdleKeep<'a> {
        let life = app.fw().req("maxLifetime");
        let life_ms = life.value.int().unwrap_or(0);
        let keepalive = app.fw().get("keepaliveTime");
        let ka_ms = keepalive.and_then(|k| k.value.int()).unwrap_or(0);
        // A keepalive ping is traffic on an idle connection: it bounds the idle time the other
        // side sees, where it comes before maxLifetime retires the connection.
        let pings = keepalive.filter(|_| ka_ms > 0 && (life_ms == 0 || ka_ms < life_ms));
        let (ms, loc, key) = match pings {
            Some(k) => (
                ka_ms,
                k.loc(),
                ("keepaliveTime", "SPRING_DATASOURCE_HIKARI_KEEPALIVETIME"),
            ),
            None => (
                life_ms,
                life.loc(),
                ("maxLifetime", "SPRING_DATASOURCE_HIKARI_MAXLIFETIME"),
            ),
        };
        let summary = match pings {
            Some(_) => format!(
                "keeps connections for maxLifetime {life_ms} ms and pings idle ones every keepaliveTime {ka_ms} ms"
            ),
            None => format!("keeps connections for maxLifetime {life_ms} ms"),
        };
        IdleKeep {
            keep: (ms > 0).then(|| Duration(ms * 1000)),
            keep_loc: loc,
            summary,
            // HikariCP validates a connection idle for more than 500 ms before lending it.
            checked: true,
            check_related: String::new(),
            check_loc: None,
            keep_key: Some(key),
            check_key: None,
        }
    }

    fn named_statements<'a>(&self, app: &'a App) -> Option<NamedStatements<'a>> {
        let s = app.fw().req("prepareThreshold");
        let n = s.value.int().filter(|n| *n > 0)?;
        Some(NamedStatements {
            code: "PRE010",
            frees_with_sql: None,
            setting: format!("pgjdbc, prepareThreshold = {n}"),
            setting_loc: s.loc(),
            min_pgbouncer: (1, 21),
            libpq: None,
            // pgjdbc 42.5.5 through PgBouncer 1.18 (tests/real_clients_jvm.rs) fails first with
            // `already exists`: every client names its statements S_1, S_2, … from 1, so one may
            // also execute another client's S_1 and get its results.
            symptom: "`ERROR: prepared statement \"S_1\" already exists` or `ERROR: prepared statement \"S_1\" does not exist`, and some silently run another client's statement of the same name (wrong results)",
            fix: format!(
                "set prepareThreshold = 0 for `{}` (in pgjdbc 0 disables server-side prepares)",
                app.name.value
            ),
            fix_env: "add prepareThreshold=0 to the JDBC URL".into(),
        })
    }

    fn startup_params<'a>(&self, app: &'a App) -> Vec<StartupParam<'a>> {
        let s = app.fw().req("pgjdbc_version");
        if pgjdbc(app.fw()).is_none_or(|v| v > vec![42, 7, 4]) {
            return Vec::new();
        }
        vec![StartupParam {
            name: "extra_float_digits".into(),
            setting: format!("extra_float_digits (pgjdbc {}{})", s.value, s.origin.note()),
            loc: s.loc(),
            symptom: "`unsupported startup parameter: extra_float_digits`".into(),
            fix: "upgrade pgjdbc to 42.7.5 or later, or add extra_float_digits to PgBouncer's ignore_startup_parameters".into(),
        }]
    }

    fn env(&self, app: &App) -> Vec<EnvLine> {
        let url = jdbc_url(app);
        let mut out = vec![
            EnvLine {
                name: "SPRING_DATASOURCE_URL".into(),
                value: url,
                comments: vec![
                    "Spring Boot binds these to spring.datasource.* and spring.datasource.hikari.*"
                        .into(),
                ],
            },
            EnvLine {
                name: "SPRING_DATASOURCE_USERNAME".into(),
                value: app.user.value.clone(),
                comments: Vec::new(),
            },
            EnvLine {
                name: "SPRING_DATASOURCE_PASSWORD".into(),
                value: format!("${{{}}}", app.password_env.value),
                comments: Vec::new(),
            },
        ];
        out.extend(
            super::env_lines(self, app)
                .into_iter()
                .filter(|l| l.name != "SPRING_DATASOURCE_URL"),
        );
        out
    }

    fn settings_file(&self) -> Option<SettingsFile> {
        Some(SettingsFile {
            name: "application.properties",
            several: "\"<name>/application.properties\" when there are several apps",
            read_as: "Spring Boot's application.properties (from the working directory, or `spring.config.import`)",
        })
    }

    fn settings_body(&self, app: &App) -> String {
        let mut out = String::from(
            "# Spring Boot reads this as application.properties. The SPRING_DATASOURCE_* variables of the\n\
             # app's .env say the same (and win over it); the password comes from the environment.\n",
        );
        out.push_str(&format!("spring.datasource.url={}\n", jdbc_url(app)));
        out.push_str(&format!("spring.datasource.username={}\n", app.user.value));
        out.push_str(&format!(
            "spring.datasource.password=${{{}}}\n",
            app.password_env.value
        ));
        for d in KEYS
            .iter()
            .filter(|d| d.env.starts_with("SPRING_DATASOURCE_HIKARI_"))
        {
            if let Some(s) = app.fw().get(d.name) {
                for c in super::origin_comments(&s.origin) {
                    out.push_str(&format!("# {c}\n"));
                }
                out.push_str(&format!(
                    "spring.datasource.hikari.{}={}\n",
                    kebab(d.name),
                    s.value.env_text()
                ));
            }
        }
        out
    }
}

/// `jdbc:postgresql://host:port/db?prepareThreshold=N`.
fn jdbc_url(app: &App) -> String {
    format!(
        "jdbc:postgresql://{}:{}/{}?prepareThreshold={}",
        app.url.host.value,
        app.url.port.value,
        super::url_part(&app.url.database.value),
        app.fw().req("prepareThreshold").value.env_text()
    )
}

/// `maximumPoolSize` → `maximum-pool-size`, Spring Boot's canonical property form.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[path = "jdbc_hikari_keepalive.rs"]
mod keepalive;

#[cfg(test)]
#[path = "jdbc_hikari_tests.rs"]
mod tests;
