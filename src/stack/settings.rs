//! `*.settings` tables: each key checked against the declared version's catalog and its value
//! converted to the target's own syntax. Problems become CAT findings (render refuses on errors).

use super::{Origin, PgParam, PgbOption};
use crate::catalog::closest;
use crate::catalog::pgbouncer::{self, PgbName, PgbType, PgbVersion, Section};
use crate::catalog::postgres::{self, PgCatalog, PgName, PgType, PgUnit};
use crate::diag::{Diagnostic, Severity};
use crate::source::Loc;
use crate::units::{Bytes, Duration};

/// A `*.settings` entry as the manifest wrote it, with its places.
pub struct RawSetting<'a> {
    pub name: String,
    pub value: &'a toml::Value,
    pub key_loc: Option<Loc>,
    pub value_loc: Option<Loc>,
}

/// Flatten nested tables (`pg_stat_statements.max = 1` is a table in TOML) into dotted names.
pub fn flatten<'a>(
    table: &'a toml::Table,
    prefix: &[String],
    out: &mut Vec<(String, Vec<String>, &'a toml::Value)>,
) {
    for (k, v) in table {
        let mut path = prefix.to_vec();
        path.push(k.clone());
        match v {
            toml::Value::Table(t) => flatten(t, &path, out),
            _ => out.push((path.join("."), path, v)),
        }
    }
}

fn toml_kind(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
}

fn cat(code: &'static str, sev: Severity, msg: String, loc: Option<Loc>) -> Diagnostic {
    Diagnostic::new(code, sev, msg).at(loc)
}

/// Quote a PostgreSQL string value: single quotes, inner quotes doubled.
pub fn pg_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// Resolve one `[postgres.settings]` entry against the catalog of `catalog.major()`.
pub fn postgres_param(catalog: &PgCatalog, raw: &RawSetting<'_>) -> Result<PgParam, Diagnostic> {
    let major = catalog.major();
    let origin = Origin::Manifest(raw.value_loc.clone().or(raw.key_loc.clone()).ok_or_else(
        || {
            Diagnostic::new(
                "CAT001",
                Severity::Error,
                format!("`{}` has no place in the manifest", raw.name),
            )
        },
    )?);
    let param = match catalog.classify(&raw.name) {
        PgName::Known(p) => p,
        PgName::Alias { alias, param } => {
            let _ = alias;
            param
        }
        PgName::Extension => {
            let conf_text = match raw.value {
                toml::Value::String(s) => pg_quote(s),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => if *b { "on" } else { "off" }.to_string(),
                other => {
                    return Err(cat(
                        "CAT002",
                        Severity::Error,
                        format!("`{}` cannot be {}", raw.name, toml_kind(other)),
                        raw.value_loc.clone(),
                    ));
                }
            };
            return Ok(PgParam {
                name: raw.name.clone(),
                conf_text,
                base: None,
                unit: PgUnit::None,
                origin,
                rendered: true,
            });
        }
        PgName::NotYet { introduced_in } => {
            return Err(cat(
                "CAT003",
                Severity::Error,
                format!("`{}` does not exist in PostgreSQL {major}: it was introduced in PostgreSQL {introduced_in}", raw.name),
                raw.key_loc.clone(),
            )
            .help(format!("remove it, or declare `[postgres] version = {introduced_in}` if the server runs that version")));
        }
        PgName::Removed {
            removed_in,
            replacement,
        } => {
            let d = cat(
                "CAT004",
                Severity::Error,
                match replacement {
                    Some(r) => format!(
                        "`{}` was renamed to `{r}` in PostgreSQL {removed_in}",
                        raw.name
                    ),
                    None => format!("`{}` was removed in PostgreSQL {removed_in}", raw.name),
                },
                raw.key_loc.clone(),
            );
            return Err(match replacement {
                Some(r) => d.help(format!(
                    "use `{r}` (check its unit and meaning: it may differ)"
                )),
                None => {
                    d.help("remove it: PostgreSQL refuses to start with an unrecognized parameter")
                }
            });
        }
        PgName::Unknown { suggestion } => {
            let d = cat(
                "CAT001",
                Severity::Error,
                format!("unknown PostgreSQL parameter `{}`", raw.name),
                raw.key_loc.clone(),
            );
            return Err(match suggestion {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("check the spelling: PostgreSQL refuses to start with an unrecognized parameter"),
            });
        }
    };
    let (text, from_string) = match raw.value {
        toml::Value::String(s) => (s.clone(), true),
        toml::Value::Integer(i) => (i.to_string(), false),
        toml::Value::Float(f) => (f.to_string(), false),
        toml::Value::Boolean(b) => (if *b { "on" } else { "off" }.to_string(), false),
        toml::Value::Array(items) if param.list_input => {
            let parts: Option<Vec<String>> = items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            match parts {
                Some(p) => (p.join(", "), true),
                None => {
                    return Err(cat(
                        "CAT002",
                        Severity::Error,
                        format!("`{}` takes a list of strings", param.name),
                        raw.value_loc.clone(),
                    ));
                }
            }
        }
        other => {
            return Err(cat(
                "CAT002",
                Severity::Error,
                format!("`{}` cannot be {}", param.name, toml_kind(other)),
                raw.value_loc.clone(),
            ));
        }
    };
    let parsed = postgres::parse_value(param, &text).map_err(|e| {
        let d = cat(
            "CAT002",
            Severity::Error,
            format!("PostgreSQL {major} would refuse this: {}", e.message()),
            raw.value_loc.clone(),
        );
        match e.hint() {
            Some(h) => d.help(h),
            None => d,
        }
    })?;
    if !parsed.exact {
        return Err(cat(
            "CAT002",
            Severity::Error,
            format!(
                "`{}` = {:?} does not convert exactly to the parameter's unit ({}): PostgreSQL would round it{}",
                param.name,
                text,
                param.unit.as_str(),
                if parsed.rounded_to_zero { " to 0, which disables it" } else { "" }
            ),
            raw.value_loc.clone(),
        )
        .help("write a value in whole units of the parameter"));
    }
    let conf_text = match param.ty {
        PgType::Bool => parsed.normalized.clone(),
        PgType::Integer | PgType::Real if !from_string || text.trim().parse::<f64>().is_ok() => {
            text.trim().to_string()
        }
        _ => pg_quote(&text),
    };
    Ok(PgParam {
        name: param.name.to_string(),
        conf_text,
        base: parsed.base,
        unit: param.unit,
        origin,
        rendered: true,
    })
}

/// Does a connection-string value need quoting? (PgBouncer splits on spaces; quotes use '' escapes.)
pub fn connstr_value(s: &str) -> String {
    if s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '=')
    {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

/// PgBouncer options that take a size in bytes (a manifest may write "4kB").
const BYTE_OPTIONS: &[&str] = &["pkt_buf", "max_packet_size", "tcp_socket_buffer"];

/// Convert a TOML value to PgBouncer's syntax for `opt`: base unit, no suffix, 0/1 booleans.
fn pgbouncer_text(opt: &pgbouncer::PgbOption, value: &toml::Value) -> Result<String, String> {
    let name = opt.name;
    let as_duration = |s: &str| Duration::parse(s).map_err(|e| format!("`{name}`: {e}"));
    match (opt.ty, value) {
        (PgbType::Bool, toml::Value::Boolean(b)) => Ok(if *b { "1" } else { "0" }.to_string()),
        (PgbType::Bool, toml::Value::Integer(i @ (0 | 1))) => Ok(i.to_string()),
        (PgbType::Bool, other) => Err(format!(
            "`{name}` is a PgBouncer 0/1 option: write true/false or 0/1, not {}",
            describe(other)
        )),
        (PgbType::Time, toml::Value::Integer(i)) if *i >= 0 => Ok(i.to_string()),
        (PgbType::Time, toml::Value::Float(f)) if *f >= 0.0 => Ok(f.to_string()),
        (PgbType::Time, toml::Value::String(s)) => Ok(as_duration(s)?.secs_text()),
        (PgbType::IntSeconds, toml::Value::Integer(i)) => Ok(i.to_string()),
        (PgbType::IntSeconds, toml::Value::String(s)) => as_duration(s)?
            .whole_secs()
            .map(|n| n.to_string())
            .ok_or_else(|| {
                format!("`{name}` = \"{s}\" does not convert exactly to whole seconds, its unit")
            }),
        (PgbType::Millis, toml::Value::Integer(i)) => Ok(i.to_string()),
        (PgbType::Millis, toml::Value::String(s)) => as_duration(s)?
            .whole_millis()
            .map(|n| n.to_string())
            .ok_or_else(|| {
                format!(
                    "`{name}` = \"{s}\" does not convert exactly to whole milliseconds, its unit"
                )
            }),
        (PgbType::Int | PgbType::Uint, toml::Value::Integer(i)) => Ok(i.to_string()),
        (PgbType::Int | PgbType::Uint, toml::Value::String(s)) if BYTE_OPTIONS.contains(&name) => {
            Bytes::parse(s)
                .map(|b| b.0.to_string())
                .map_err(|e| format!("`{name}`: {e}"))
        }
        // Integer text as PgBouncer reads it (strtol base 0: `0777` is octal, as unix_socket_mode wants).
        (PgbType::Int | PgbType::Uint, toml::Value::String(s))
            if !s.is_empty()
                && s.trim_start_matches("0x")
                    .chars()
                    .all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(s.clone())
        }
        (PgbType::Enum, toml::Value::String(s)) => Ok(s.clone()),
        (PgbType::String | PgbType::Path, toml::Value::String(s)) => {
            if s.contains('\n') || s.contains('\r') {
                Err(format!("`{name}` cannot contain a line break"))
            } else {
                Ok(s.clone())
            }
        }
        (PgbType::String | PgbType::Path, toml::Value::Integer(i)) => Ok(i.to_string()),
        (PgbType::List, toml::Value::String(s)) => Ok(s.clone()),
        (PgbType::List, toml::Value::Array(items)) => {
            let parts: Option<Vec<&str>> = items.iter().map(|v| v.as_str()).collect();
            parts
                .map(|p| p.join(","))
                .ok_or_else(|| format!("`{name}` takes a list of strings"))
        }
        (_, other) => Err(format!("`{name}` cannot be {}", describe(other))),
    }
}

fn describe(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("\"{s}\""),
        toml::Value::Integer(i) => i.to_string(),
        other => toml_kind(other).to_string(),
    }
}

/// Resolve one `[pgbouncer.settings]` / `[[databases]].settings` / `[[users]].settings` entry.
pub fn pgbouncer_option(
    section: Section,
    version: PgbVersion,
    raw: &RawSetting<'_>,
) -> Result<PgbOption, Diagnostic> {
    let where_ = match section {
        Section::Pgbouncer => "[pgbouncer]",
        Section::Databases => "a [databases] connection string",
        Section::Users => "a [users] entry",
        Section::Peers => "[peers]",
    };
    let opt = match pgbouncer::classify(section, &raw.name, Some(version)) {
        PgbName::Known(o) => o,
        PgbName::NotYet { introduced_in, .. } => {
            return Err(cat(
                "CAT003",
                Severity::Error,
                format!("`{}` does not exist in PgBouncer {version} ({where_}): it was introduced in {introduced_in}", raw.name),
                raw.key_loc.clone(),
            )
            .help(format!("remove it, or declare `[pgbouncer] version = \"{introduced_in}\"` if you run that version: PgBouncer {version} refuses to start with it")));
        }
        PgbName::WrongSection { belongs_to } => {
            let target = match belongs_to {
                Section::Pgbouncer => "[pgbouncer.settings]",
                Section::Databases => "a [[databases]] entry's settings",
                Section::Users => "a [[users]] entry's settings",
                Section::Peers => "[peers]",
            };
            return Err(cat(
                "CAT007",
                Severity::Error,
                format!("`{}` is not valid in {where_}", raw.name),
                raw.key_loc.clone(),
            )
            .help(format!("move it to {target}")));
        }
        PgbName::Unknown { suggestion } => {
            let d = cat(
                "CAT001",
                Severity::Error,
                format!("unknown PgBouncer option `{}` in {where_}", raw.name),
                raw.key_loc.clone(),
            );
            return Err(match suggestion {
                Some(s) => d.help(format!(
                    "did you mean `{s}`? (PgBouncer names are case-sensitive)"
                )),
                None => d.help("PgBouncer refuses to start with an unknown option"),
            });
        }
    };
    let text = pgbouncer_text(opt, raw.value)
        .map_err(|m| cat("CAT002", Severity::Error, m, raw.value_loc.clone()))?;
    let parsed = pgbouncer::parse_value_in(opt, &text, Some(version)).map_err(|e| {
        cat(
            "CAT002",
            Severity::Error,
            format!("PgBouncer {version} would refuse this: {e}"),
            raw.value_loc.clone(),
        )
    })?;
    let ini_text = if section == Section::Pgbouncer {
        text
    } else {
        connstr_value(&text)
    };
    Ok(PgbOption {
        name: opt.name.to_string(),
        ini_text,
        number: parsed.number,
        origin: Origin::Manifest(raw.value_loc.clone().or(raw.key_loc.clone()).ok_or_else(
            || {
                Diagnostic::new(
                    "CAT001",
                    Severity::Error,
                    format!("`{}` has no place in the manifest", raw.name),
                )
            },
        )?),
    })
}

/// Closest name among a fixed list (for the "duplicates a first-class key" input error).
pub fn suggest(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    closest(name, candidates.iter().copied())
}
