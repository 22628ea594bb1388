//! An app's `.env` (the seed's `api/config.py` convention, as `render` writes it) → an [`App`].

use crate::diag::{Diagnostic, Severity};
use crate::formats::dotenv::{EnvEntry, EnvFile};
use crate::manifest::{Driver, PrepareThreshold, Recycle};
use crate::source::{FileId, Loc, SourceMap};
use crate::stack::{App, AppUrl, KindSettings, Origin, Setting, SqlAlchemyApp};
use crate::units::Duration;
use std::path::Path;

/// The variables of the convention; a file with none of them describes no app.
const VARS: &[&str] = &[
    "DATABASE_URL",
    "USE_PGBOUNCER",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "DB_POOL_TIMEOUT",
    "DB_POOL_RECYCLE",
    "DB_POOL_PRE_PING",
    "DB_PREPARE_THRESHOLD",
    "DB_STATEMENT_CACHE_SIZE",
    "DB_CONNECT_TIMEOUT",
];

/// The app a `.env` describes; `None` when it has none of the convention's variables. Values
/// the app's code could not use are CAT002 in `findings`.
/// `listen_port` is PgBouncer's, when a pgbouncer.ini is part of the run: without
/// `USE_PGBOUNCER`, a URL on that port is taken to go through PgBouncer.
pub fn app(
    file: FileId,
    env: &EnvFile,
    sources: &SourceMap,
    listen_port: Option<u16>,
    findings: &mut Vec<Diagnostic>,
) -> Option<App> {
    if !VARS.iter().any(|v| env.get(v).is_some()) {
        return None;
    }
    let path = &sources.get(file).path;
    let here = |e: &EnvEntry| Origin::Imported(e.value_loc.clone());
    let file_default = Origin::Default("not set in the .env file: SQLAlchemy's default");
    let url = env.get("DATABASE_URL").map(|e| (e, parse_url(&e.value)));
    let mut bad = |e: &EnvEntry, what: &str, help: &str| {
        findings.push(
            Diagnostic::new(
                "CAT002",
                Severity::Error,
                format!("{}={} is not {what}", e.key, shown_value(e)),
            )
            .at(Some(e.value_loc.clone()))
            .help(help.to_string()),
        );
    };
    let int = |key: &str, bad: &mut dyn FnMut(&EnvEntry, &str, &str)| -> Option<(i64, &EnvEntry)> {
        let e = env.get(key)?;
        match e.value.trim().parse::<i64>() {
            Ok(n) => Some((n, e)),
            Err(_) => {
                bad(e, "an integer", "write a whole number");
                None
            }
        }
    };
    let seconds =
        |key: &str, bad: &mut dyn FnMut(&EnvEntry, &str, &str)| -> Option<(f64, &EnvEntry)> {
            let e = env.get(key)?;
            match e.value.trim().parse::<f64>() {
                Ok(n) => Some((n, e)),
                Err(_) => {
                    bad(
                        e,
                        "a number of seconds",
                        "write seconds as a number, e.g. 30",
                    );
                    None
                }
            }
        };
    let driver = match &url {
        Some((e, Some(u))) => Setting::new(u.driver, here(e)),
        _ => driver_without_url(env),
    };
    let pool_size = match int("DB_POOL_SIZE", &mut bad) {
        Some((n, e)) => Setting::new(n.max(0) as u32, here(e)),
        None => Setting::new(crate::defaults::APP_POOL_SIZE, file_default.clone()),
    };
    let max_overflow = match int("DB_MAX_OVERFLOW", &mut bad) {
        Some((n, e)) => Setting::new(n.clamp(-1, i64::from(i32::MAX)) as i32, here(e)),
        None => Setting::new(crate::defaults::APP_MAX_OVERFLOW, file_default.clone()),
    };
    let pool_timeout = match seconds("DB_POOL_TIMEOUT", &mut bad) {
        Some((s, e)) => Setting::new(secs(s), here(e)),
        None => Setting::new(crate::defaults::APP_POOL_TIMEOUT, file_default.clone()),
    };
    let pool_recycle = match seconds("DB_POOL_RECYCLE", &mut bad) {
        Some((s, e)) if s < 0.0 => Setting::new(Recycle::Never, here(e)),
        Some((s, e)) => Setting::new(Recycle::After(secs(s)), here(e)),
        None => Setting::new(Recycle::Never, file_default.clone()),
    };
    let pre_ping = match env.get("DB_POOL_PRE_PING") {
        Some(e) => match truth(&e.value) {
            Some(b) => Setting::new(b, here(e)),
            None => {
                bad(e, "true or false", "write true or false");
                Setting::new(crate::defaults::APP_PRE_PING, file_default.clone())
            }
        },
        None => Setting::new(crate::defaults::APP_PRE_PING, file_default.clone()),
    };
    // Absent: the app's code decides (it may pass prepare_threshold itself), so nothing is assumed.
    let prepare_threshold = match env.get("DB_PREPARE_THRESHOLD") {
        Some(e) if driver.value == Driver::Psycopg => {
            let v = e.value.trim();
            if v.is_empty() || v.eq_ignore_ascii_case("none") {
                Some(Setting::new(PrepareThreshold::Disabled, here(e)))
            } else if let Ok(n) = v.parse::<u32>() {
                Some(Setting::new(PrepareThreshold::After(n), here(e)))
            } else {
                bad(
                    e,
                    "a prepare_threshold",
                    "write none (disables) or a whole number",
                );
                None
            }
        }
        _ => None,
    };
    let statement_cache_size = match int("DB_STATEMENT_CACHE_SIZE", &mut bad) {
        Some((n, e)) if driver.value == Driver::Asyncpg => {
            Some(Setting::new(n.max(0) as u32, here(e)))
        }
        _ => None,
    };
    let connect_timeout = match seconds("DB_CONNECT_TIMEOUT", &mut bad) {
        Some((s, e)) => Setting::new(secs(s), here(e)),
        None => Setting::new(
            crate::defaults::APP_CONNECT_TIMEOUT,
            Origin::Default("not set in the .env file"),
        ),
    };
    let unknown = |what: &'static str| Origin::Default(what);
    // The URL's query keys with their places (drivers that send unknown ones as startup
    // parameters: crate::apps, NET004).
    let query_keys: Vec<Setting<String>> = match &url {
        Some((e, Some(u))) => u
            .query_keys
            .iter()
            .map(|(k, span)| {
                let base = e.value_loc.span.start + quote_offset(e, sources);
                Setting::new(
                    k.clone(),
                    Origin::Imported(Loc {
                        file,
                        span: base + span.start..base + span.end,
                    }),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let (host, port, database, user, options, password_env, holds_password) = match &url {
        Some((e, Some(u))) => {
            let at = |span: Option<std::ops::Range<usize>>| match span {
                Some(s) => Origin::Imported(Loc {
                    file,
                    span: e.value_loc.span.start + quote_offset(e, sources) + s.start
                        ..e.value_loc.span.start + quote_offset(e, sources) + s.end,
                }),
                None => here(e),
            };
            (
                Setting::new(u.host.clone(), at(u.host_span.clone())),
                Setting::new(u.port, at(u.port_span.clone())),
                Setting::new(u.database.clone(), at(u.database_span.clone())),
                Setting::new(u.user.clone(), at(u.user_span.clone())),
                u.options
                    .as_ref()
                    .map(|(o, span)| Setting::new(o.clone(), at(Some(span.clone())))),
                Setting::new(
                    u.password_var.clone().unwrap_or_default(),
                    at(u.user_span.clone()),
                ),
                u.password_literal,
            )
        }
        Some((e, None)) => {
            bad(
                e,
                "a database URL",
                "write postgresql+psycopg://USER:${PASSWORD_VAR}@HOST:PORT/DATABASE",
            );
            return None;
        }
        None => (
            Setting::new(String::new(), unknown("no DATABASE_URL")),
            Setting::new(5432, unknown("no DATABASE_URL")),
            Setting::new(String::new(), unknown("no DATABASE_URL")),
            Setting::new(String::new(), unknown("no DATABASE_URL")),
            None,
            Setting::new(String::new(), unknown("no DATABASE_URL")),
            false,
        ),
    };
    let via_pgbouncer = match env.get("USE_PGBOUNCER").and_then(|e| truth(&e.value)) {
        Some(b) => b,
        None => listen_port.is_some_and(|p| p == port.value),
    };
    let name = app_name(path);
    // A file that follows another framework's conventions (crate::apps::dotenv) is that kind;
    // the SQLAlchemy variables above were still checked (CAT002), as the file holds them.
    let kind = match crate::apps::dotenv::detect(env) {
        Some(k) => Setting::new(
            KindSettings::Framework {
                kind: k,
                settings: crate::apps::dotenv::settings(k, env, findings),
            },
            Origin::Derived {
                formula: format!("{}: the file's variables follow its conventions", k.name()),
                inputs: env
                    .entries
                    .first()
                    .map(|e| e.key_loc.clone())
                    .into_iter()
                    .collect(),
            },
        ),
        None => Setting::new(
            KindSettings::SqlAlchemy(Box::new(SqlAlchemyApp {
                driver,
                libpq: None,
                pool_size,
                max_overflow,
                pool_timeout,
                pool_recycle,
                pre_ping,
                prepare_threshold,
                statement_cache_size,
                connect_timeout,
            })),
            Origin::Default("a .env file with DB_POOL_* variables is read as SQLAlchemy's"),
        ),
    };
    Some(App {
        name: Setting::new(name, Origin::Default("the .env file's name")),
        kind,
        replicas: Setting::new(
            1,
            Origin::Default("a .env file describes one process: counts are per process"),
        ),
        processes: Setting::new(
            1,
            Origin::Default("a .env file describes one process: counts are per process"),
        ),
        database: database.clone(),
        user,
        password_env,
        env_file: Setting::new(path.clone(), Origin::Default("the .env file itself")),
        settings_file: None,
        url: AppUrl {
            host,
            port,
            database,
            via_pgbouncer,
            options,
            password_in_file: holds_password,
            direct: None,
            query_keys,
        },
    })
}

/// The driver of an app whose `.env` has no DATABASE_URL: the seed's `api/config.py` builds the
/// URL from its own settings as `postgresql+psycopg://…`, and a driver-specific variable says
/// which driver reads the file (DB_PREPARE_THRESHOLD is psycopg's, DB_STATEMENT_CACHE_SIZE
/// asyncpg's).
fn driver_without_url(env: &EnvFile) -> Setting<Driver> {
    let derived = |driver: Driver, e: &EnvEntry, why: &str| {
        Setting::new(
            driver,
            Origin::Derived {
                formula: format!("no DATABASE_URL: {} is {why}", e.key),
                inputs: vec![e.key_loc.clone()],
            },
        )
    };
    match (
        env.get("DB_PREPARE_THRESHOLD"),
        env.get("DB_STATEMENT_CACHE_SIZE"),
    ) {
        (Some(e), _) => derived(Driver::Psycopg, e, "psycopg's setting"),
        (None, Some(e)) => derived(Driver::Asyncpg, e, "asyncpg's setting"),
        (None, None) => Setting::new(
            Driver::Psycopg,
            Origin::Default(
                "no DATABASE_URL: the seed's api/config.py builds a postgresql+psycopg:// URL",
            ),
        ),
    }
}

/// `.env` → `app`, `api.env` → `api`, `.env.production` → `production`.
fn app_name(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("app");
    if name == ".env" {
        "app".to_string()
    } else if let Some(rest) = name.strip_prefix(".env.") {
        rest.to_string()
    } else {
        name.strip_suffix(".env").unwrap_or(name).to_string()
    }
}

/// Where in the file a literal secret is, if the entry holds one: the password of any
/// `scheme://user:password@…` URL, or the whole value of a variable named like a secret
/// (`POSTGRES_PASSWORD=…`, `API_TOKEN=…`) unless it is a `$VAR` reference. When the value's text
/// is not the URL as written (an escape inside quotes), the whole value.
pub fn literal_password(e: &EnvEntry, sources: &SourceMap) -> Option<Loc> {
    let key = e.key.to_ascii_uppercase();
    let secret_name = ["PASSWORD", "PASSWD", "SECRET", "TOKEN"]
        .iter()
        .any(|w| key.contains(w))
        || key.ends_with("_PWD")
        || key.ends_with("_PASS");
    if secret_name {
        let value = e.value.trim();
        return (!value.is_empty() && !value.starts_with('$')).then(|| e.value_loc.clone());
    }
    if !e.value.contains("://") {
        return None;
    }
    let span = literal_password_span(&e.value)?;
    let at = e.value_loc.span.start + quote_offset(e, sources);
    let written = at + span.start..at + span.end;
    let as_written = sources.get(e.value_loc.file).text.get(written.clone()) == e.value.get(span);
    Some(Loc {
        file: e.value_loc.file,
        span: if as_written {
            written
        } else {
            e.value_loc.span.clone()
        },
    })
}

/// Offset of the value's text inside its token (1 when it is quoted).
fn quote_offset(e: &EnvEntry, sources: &SourceMap) -> usize {
    let token = &sources.get(e.value_loc.file).text[e.value_loc.span.clone()];
    usize::from(token.starts_with(['\'', '"']))
}

fn truth(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn secs(s: f64) -> Duration {
    Duration((s.max(0.0) * 1_000_000.0).round() as u64)
}

/// A SQLAlchemy URL, with the places of its parts in the URL text.
#[derive(Debug, Clone, PartialEq)]
pub struct DbUrl {
    pub driver: Driver,
    pub user: String,
    pub user_span: Option<std::ops::Range<usize>>,
    /// `${VAR}` (or `$VAR`) in the password position.
    pub password_var: Option<String>,
    /// A password written as a value.
    pub password_literal: bool,
    /// Where that literal password is in the URL text (never shown: it is redacted).
    pub password_span: Option<std::ops::Range<usize>>,
    pub host: String,
    pub host_span: Option<std::ops::Range<usize>>,
    pub port: u16,
    pub port_span: Option<std::ops::Range<usize>>,
    pub database: String,
    pub database_span: Option<std::ops::Range<usize>>,
    /// The `options=` query parameter, decoded.
    pub options: Option<(String, std::ops::Range<usize>)>,
    /// Every query key, with the span of the key.
    pub query_keys: Vec<(String, std::ops::Range<usize>)>,
}

/// `postgresql+psycopg://user:${PW}@host:6432/db?options=...`; `None` when it is not one.
pub fn parse_url(url: &str) -> Option<DbUrl> {
    let (scheme, rest) = url.split_once("://")?;
    let driver = match scheme {
        "postgresql+psycopg" => Driver::Psycopg,
        "postgresql+asyncpg" => Driver::Asyncpg,
        "postgresql" | "postgres" | "postgresql+psycopg2" => Driver::Psycopg2,
        _ => return None,
    };
    let base = scheme.len() + 3;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostport, hp_at) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..], base + i + 1),
        None => (None, authority, base),
    };
    let (user, user_span, password_var, password_literal) = match userinfo {
        Some(ui) => {
            let (u, pw) = match ui.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (ui, None),
            };
            let var = pw.and_then(|p| {
                p.strip_prefix("${")
                    .and_then(|v| v.strip_suffix('}'))
                    .or_else(|| p.strip_prefix('$'))
                    .map(str::to_string)
            });
            let literal = pw.is_some_and(|p| !p.is_empty()) && var.is_none();
            (percent_decode(u), Some(base..base + u.len()), var, literal)
        }
        None => (String::new(), None, None, false),
    };
    let (host, port_text) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (h, Some(p)),
        _ => (hostport, None),
    };
    let port = match port_text {
        Some(p) => p.parse::<u16>().ok()?,
        None => 5432,
    };
    let port_span = port_text.map(|p| {
        let at = hp_at + host.len() + 1;
        at..at + p.len()
    });
    let path_at = base + authority.len() + 1;
    let (db, query) = match path.split_once('?') {
        Some((d, q)) => (d, Some(q)),
        None => (path, None),
    };
    let options = query.and_then(|q| {
        let mut at = path_at + db.len() + 1;
        for pair in q.split('&') {
            if let Some(v) = pair.strip_prefix("options=") {
                let start = at + "options=".len();
                return Some((percent_decode(v), start..start + v.len()));
            }
            at += pair.len() + 1;
        }
        None
    });
    let query_keys = query
        .map(|q| {
            let mut at = path_at + db.len() + 1;
            let mut keys = Vec::new();
            for pair in q.split('&') {
                let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                if !key.is_empty() {
                    keys.push((percent_decode(key), at..at + key.len()));
                }
                at += pair.len() + 1;
            }
            keys
        })
        .unwrap_or_default();
    Some(DbUrl {
        driver,
        query_keys,
        user,
        user_span,
        password_var,
        password_literal,
        password_span: literal_password_span(url),
        host: host.trim_matches(['[', ']']).to_string(),
        host_span: (!host.is_empty()).then(|| hp_at..hp_at + host.len()),
        port,
        port_span,
        database: percent_decode(db),
        database_span: (!db.is_empty()).then(|| path_at..path_at + db.len()),
        options,
    })
}

/// Where a URL's password is (`scheme://user:PASSWORD@host…`) when it is written as a value,
/// not a `${VAR}`/`$VAR` reference. Found even in a URL [`parse_url`] refuses (a bad port, an
/// unknown scheme), because such a URL is still shown back to the user.
pub fn literal_password_span(url: &str) -> Option<std::ops::Range<usize>> {
    let base = url.find("://")? + 3;
    let rest = &url[base..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let colon = userinfo.find(':')?;
    let password = &userinfo[colon + 1..];
    (!password.is_empty() && !password.starts_with('$'))
        .then(|| base + colon + 1..base + userinfo.len())
}

/// A `.env` value as a message may quote it: a URL's literal password starred out.
fn shown_value(e: &EnvEntry) -> String {
    if crate::redact::is_secret_key(&e.key) {
        return crate::redact::mask(&e.value);
    }
    // The URL parser's password, and whatever the raw-text scan calls one (a password with an
    // unencoded `/` or `@` the parser splits elsewhere).
    let mut v = e.value.clone();
    let spans = crate::redact::secret_spans(&e.value)
        .into_iter()
        .chain(literal_password_span(&e.value));
    for span in spans {
        if v.is_char_boundary(span.start) && v.is_char_boundary(span.end) {
            v.replace_range(span.clone(), &"*".repeat(span.len()));
        }
    }
    v
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::dotenv;

    #[test]
    fn urls() {
        let u = parse_url("postgresql+psycopg://trader:${POSTGRES_PASSWORD}@pgbouncer:5432/mt5_trading?options=-c%20statement_timeout%3D5s").unwrap();
        assert_eq!(u.driver, Driver::Psycopg);
        assert_eq!(u.user, "trader");
        assert_eq!(u.password_var.as_deref(), Some("POSTGRES_PASSWORD"));
        assert!(!u.password_literal);
        assert_eq!(u.password_span, None);
        assert_eq!((u.host.as_str(), u.port), ("pgbouncer", 5432));
        assert_eq!(u.database, "mt5_trading");
        assert_eq!(u.options.as_ref().unwrap().0, "-c statement_timeout=5s");
        let text = "postgresql://u:secret@db/app";
        let u = parse_url(text).unwrap();
        assert_eq!(u.password_span.map(|s| &text[s]), Some("secret"));
        // Found even where the URL is refused, and never in a reference.
        let bad = "mysql://u:p@ss:w0rd@h:notaport/db";
        assert_eq!(
            literal_password_span(bad).map(|s| &bad[s]),
            Some("p@ss:w0rd")
        );
        assert_eq!(literal_password_span("postgresql://u:$PW@h/db"), None);
        assert_eq!(literal_password_span("postgresql://u:${PW}@h/db"), None);
        assert_eq!(literal_password_span("postgresql://u@h/db"), None);
        assert_eq!(u.driver, Driver::Psycopg2);
        assert!(u.password_literal);
        assert_eq!(u.port, 5432);
        assert_eq!(&text[u.host_span.unwrap()], "db");
        assert_eq!(&text[u.database_span.unwrap()], "app");
        assert_eq!(parse_url("mysql://x/y"), None);
        assert_eq!(parse_url("postgresql://h:notaport/db"), None);
    }

    #[test]
    fn the_seed_env_describes_a_psycopg_app() {
        let text = "USE_PGBOUNCER=true\nDATABASE_URL=postgresql+psycopg://trader:${POSTGRES_PASSWORD}@pgbouncer:6432/mt5_trading\nDB_POOL_SIZE=5\nDB_MAX_OVERFLOW=10\nDB_POOL_TIMEOUT=10\nDB_POOL_RECYCLE=1800\nDB_POOL_PRE_PING=true\nDB_PREPARE_THRESHOLD=0      # Disable prepared statements\nDB_CONNECT_TIMEOUT=10\n";
        let mut sources = SourceMap::default();
        let file = sources.add(Path::new("api.env"), text.to_string());
        let env = dotenv::parse(file, text);
        let mut findings = Vec::new();
        let a = app(file, &env, &sources, Some(6432), &mut findings).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        let app = a;
        assert_eq!(app.name.value, "api");
        let s = app.sqlalchemy().expect("read as SQLAlchemy's");
        assert_eq!(
            s.prepare_threshold.as_ref().unwrap().value,
            PrepareThreshold::After(0)
        );
        assert_eq!(s.pool_size.value, 5);
        assert_eq!(
            s.pool_recycle.value,
            Recycle::After(Duration(1_800_000_000))
        );
        assert!(app.url.via_pgbouncer && s.pre_ping.value);
        let loc = app.url.port.loc().unwrap();
        assert_eq!(&text[loc.span.clone()], "6432");
        let loc = app.user.loc().unwrap();
        assert_eq!(&text[loc.span.clone()], "trader");
    }

    #[test]
    fn unusable_values_are_cat002() {
        let text = "DB_POOL_SIZE=five\nDB_POOL_PRE_PING=maybe\n";
        let mut sources = SourceMap::default();
        let file = sources.add(Path::new(".env"), text.to_string());
        let env = dotenv::parse(file, text);
        let mut findings = Vec::new();
        let a = app(file, &env, &sources, None, &mut findings).unwrap();
        assert_eq!(a.name.value, "app");
        let codes: Vec<_> = findings.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["CAT002", "CAT002"]);
        // No app at all without the convention's variables.
        let env = dotenv::parse(file, "OTHER=1\n");
        assert!(app(file, &env, &sources, None, &mut findings).is_none());
    }

    #[test]
    fn a_file_of_another_framework_carries_its_settings_and_none_of_sqlalchemys() {
        // asyncpg's conventions (its own DB_POOL_MAX_SIZE), with SQLAlchemy's DB_POOL_RECYCLE
        // variable too: still checked (CAT002 when unusable), but not the app's setting.
        let text = "DATABASE_URL=postgresql://trader:${TRADER_PASSWORD}@pgbouncer:6432/mt5\nDB_POOL_MAX_SIZE=5\nDB_STATEMENT_CACHE_SIZE=100\nDB_POOL_RECYCLE=soon\n";
        let mut sources = SourceMap::default();
        let file = sources.add(Path::new(".env"), text.to_string());
        let env = dotenv::parse(file, text);
        let mut findings = Vec::new();
        let a = app(file, &env, &sources, Some(6432), &mut findings).unwrap();
        assert_eq!(a.kind().name(), "asyncpg");
        assert!(a.sqlalchemy().is_none());
        let max = a.fw().get("max_size").expect("asyncpg's max_size");
        assert_eq!(max.value.int(), Some(5));
        let codes: Vec<_> = findings.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["CAT002"], "{findings:?}");
        // The seed's file is SQLAlchemy's, with no framework keys.
        let text = "DB_POOL_SIZE=5\n";
        let env = dotenv::parse(file, text);
        let a = app(file, &env, &sources, None, &mut findings).unwrap();
        assert_eq!(a.kind().name(), "sqlalchemy");
        assert!(a.fw().0.is_empty());
        assert_eq!(a.sqlalchemy().map(|s| s.pool_size.value), Some(5));
    }
}
