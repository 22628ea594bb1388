//! `poolstack explain SETTING [MANIFEST]`: where a setting's effective value comes from — a
//! PostgreSQL parameter, a `[pgbouncer]` option, or a dotted manifest key
//! (`pgbouncer.default_pool_size`, `apps.api.pool_size`, `databases.app.pool_size`).

use crate::catalog::pgbouncer::{self as pgbcat, Section};
use crate::catalog::postgres::PgCatalog;
use crate::diag::InputError;
use crate::outcome::Outcome;
use crate::source::Loc;
use crate::stack::{Origin, Stack};
use std::io::Write;
use std::path::Path;

/// One effective value: its name, its text, and its origin.
struct Found {
    name: String,
    value: String,
    origin: Origin,
    /// For a default: whose default it is, when the origin's text does not say.
    default_note: Option<String>,
}

pub fn explain_setting(
    target: &str,
    manifest: Option<&Path>,
    out: &mut dyn Write,
) -> Result<Outcome, InputError> {
    let path = manifest.unwrap_or(Path::new("stack.toml"));
    let loaded = crate::manifest::load(path)?;
    let stack = crate::stack::resolve::resolve(&loaded, None)?;
    let Some(found) = lookup(&stack, target) else {
        return Err(unknown(&stack, target));
    };
    let _ = out.write_all(page(&stack, &found).as_bytes());
    Ok(Outcome::Success)
}

fn lookup(stack: &Stack, target: &str) -> Option<Found> {
    let (head, rest) = match target.split_once('.') {
        Some((h, r)) => (Some(h.to_ascii_lowercase()), r),
        None => (None, target),
    };
    match head.as_deref() {
        None => postgres(stack, rest).or_else(|| pgbouncer(stack, rest)),
        Some("postgres") => postgres(stack, rest),
        Some("pgbouncer") => pgbouncer(stack, rest),
        Some("apps") => app(stack, rest),
        Some("databases") => database(stack, rest),
        // `pg_stat_statements.max`: a dotted extension parameter.
        Some(_) => postgres(stack, target),
    }
}

fn postgres(stack: &Stack, name: &str) -> Option<Found> {
    let pg = &stack.postgres;
    if name.eq_ignore_ascii_case("memory") {
        let m = pg.memory.as_ref()?;
        return Some(found("memory", m.value.to_string(), &m.origin));
    }
    let p = pg.param_or_default(name)?;
    let default_note = matches!(p.origin, Origin::Default(_)).then(|| {
        format!(
            "{}'s built-in default (neither set in the manifest nor derived{})",
            pg.major()
                .map_or("PostgreSQL".to_string(), |v| format!("PostgreSQL {v}")),
            if pg.memory.is_none() {
                "; declare [postgres] memory to derive memory settings"
            } else {
                ""
            }
        )
    });
    Some(Found {
        name: p.name.clone(),
        value: p.conf_text.clone(),
        origin: p.origin.clone(),
        default_note: match &p.origin {
            // Defaults poolstack chose say why themselves.
            Origin::Default(why) if !why.starts_with("not set") => None,
            _ => default_note,
        },
    })
}

fn found(name: &str, value: String, origin: &Origin) -> Found {
    Found {
        name: name.to_string(),
        value,
        origin: origin.clone(),
        default_note: None,
    }
}

fn pgbouncer(stack: &Stack, name: &str) -> Option<Found> {
    let b = stack.pgbouncer.as_ref()?;
    let n = name.to_ascii_lowercase();
    let num = |s: &crate::stack::Setting<u32>| Some(found(&n, s.value.to_string(), &s.origin));
    let text = |v: String, o: &Origin| Some(found(&n, v, o));
    match n.as_str() {
        "max_client_conn" => num(&b.max_client_conn),
        "default_pool_size" => num(&b.default_pool_size),
        "min_pool_size" => num(&b.min_pool_size),
        "reserve_pool_size" => num(&b.reserve_pool_size),
        "max_db_connections" => num(&b.max_db_connections),
        "max_user_connections" => num(&b.max_user_connections),
        "instances" => num(&b.instances),
        "max_prepared_statements" => num(b.max_prepared_statements.as_ref()?),
        "pool_mode" => text(b.pool_mode.value.as_str().to_string(), &b.pool_mode.origin),
        "listen_port" => text(b.listen_port.value.to_string(), &b.listen_port.origin),
        "listen_addr" => text(b.listen_addr.value.clone(), &b.listen_addr.origin),
        "auth_file" => text(b.auth_file.value.clone(), &b.auth_file.origin),
        "version" => {
            let v = b.version.as_ref()?;
            text(v.value.to_string(), &v.origin)
        }
        _ => b
            .option_or_default(&n)
            .map(|o| found(&o.name, o.ini_text.clone(), &o.origin)),
    }
}

fn app(stack: &Stack, rest: &str) -> Option<Found> {
    let (name, key) = rest.rsplit_once('.')?;
    let a = stack.apps.iter().find(|a| a.name.value == name)?;
    let full = format!("apps.{name}.{key}");
    let f = |v: String, o: &Origin| Some(found(&full, v, o));
    // A kind's own settings (`crate::apps`), as the framework names them.
    if let Some(s) = a.fw.get(key) {
        return f(s.value.to_string(), &s.origin);
    }
    if key == "kind" {
        return f(a.kind().name().to_string(), &a.kind.origin);
    }
    let common = ["replicas", "processes", "database", "user", "password_env"];
    if !crate::apps::is_default(a.kind()) && !common.contains(&key) {
        return None;
    }
    match key {
        "pool_size" => f(a.pool_size.value.to_string(), &a.pool_size.origin),
        "max_overflow" => f(a.max_overflow.value.to_string(), &a.max_overflow.origin),
        "replicas" => f(a.replicas.value.to_string(), &a.replicas.origin),
        "processes" => f(a.processes.value.to_string(), &a.processes.origin),
        "pool_timeout" => f(a.pool_timeout.value.to_string(), &a.pool_timeout.origin),
        "connect_timeout" => f(
            a.connect_timeout.value.to_string(),
            &a.connect_timeout.origin,
        ),
        "pre_ping" => f(a.pre_ping.value.to_string(), &a.pre_ping.origin),
        "database" => f(a.database.value.clone(), &a.database.origin),
        "user" => f(a.user.value.clone(), &a.user.origin),
        "password_env" => f(a.password_env.value.clone(), &a.password_env.origin),
        _ => None,
    }
}

fn database(stack: &Stack, rest: &str) -> Option<Found> {
    let (name, key) = rest.rsplit_once('.')?;
    let d = stack.database(name)?;
    let full = format!("databases.{name}.{key}");
    let f = |v: String, o: &Origin| Some(found(&full, v, o));
    match key {
        "pool_size" => f(d.pool_size.value.to_string(), &d.pool_size.origin),
        "reserve_pool_size" => f(
            d.reserve_pool_size.value.to_string(),
            &d.reserve_pool_size.origin,
        ),
        "max_db_connections" => f(
            d.max_db_connections.value.to_string(),
            &d.max_db_connections.origin,
        ),
        "pool_mode" => f(d.pool_mode.value.as_str().to_string(), &d.pool_mode.origin),
        "dbname" => f(d.dbname.value.clone(), &d.dbname.origin),
        _ => None,
    }
}

/// `stack.toml:12:1`.
fn place(stack: &Stack, l: &Loc) -> String {
    let file = stack.sources.get(l.file);
    let lc = file.line_col(l.span.start);
    format!("{}:{}:{}", file.display, lc.line, lc.column)
}

/// The source line a place is on, trimmed (`memory = "28GB"`).
fn line_text(stack: &Stack, l: &Loc) -> String {
    let file = stack.sources.get(l.file);
    let line = file.line_col(l.span.start).line;
    file.text
        .lines()
        .nth(line.saturating_sub(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn page(stack: &Stack, f: &Found) -> String {
    let mut text = format!("{} = {}\n", f.name, f.value);
    match &f.origin {
        Origin::Manifest(l) => text.push_str(&format!("set in {}\n", place(stack, l))),
        Origin::Imported(l) => text.push_str(&format!("read from {}\n", place(stack, l))),
        Origin::Default(why) => match &f.default_note {
            Some(note) => text.push_str(&format!("default: {note}\n")),
            None => text.push_str(&format!("default: {why}\n")),
        },
        Origin::Derived { formula, inputs } => {
            text.push_str(&format!("derived: {formula}\n"));
            for l in inputs {
                text.push_str(&format!(
                    "  from {}: {}\n",
                    place(stack, l),
                    line_text(stack, l)
                ));
            }
        }
    }
    text
}

fn unknown(stack: &Stack, target: &str) -> InputError {
    let mut names: Vec<&str> = Vec::new();
    if let Some(c) = stack.postgres.major().and_then(PgCatalog::for_major) {
        names.extend(c.params().map(|p| p.name));
    }
    names.extend(pgbcat::options(Section::Pgbouncer).map(|o| o.name));
    let bare = target.rsplit('.').next().unwrap_or(target);
    let help = match crate::catalog::closest(bare, names) {
        Some(near) => format!("did you mean `{near}`?"),
        None => "name a PostgreSQL parameter, a [pgbouncer] option, a rule code, or a key such as apps.NAME.pool_size".to_string(),
    };
    InputError::new(format!(
        "`{target}` is neither a rule nor a setting this stack knows"
    ))
    .with_help(help)
}
