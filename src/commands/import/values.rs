//! Values read from hand-written files → the TOML values a manifest holds for them, chosen so
//! that resolution converts them back to the same effective value: integers as integers,
//! PostgreSQL values with units as strings ("7GB"), PgBouncer times as numbers of seconds.

use crate::catalog::pgbouncer::{self as pgbcat, PgbType, Section};
use crate::catalog::postgres::{self as pgcat, PgCatalog, PgType};
use crate::units::Duration;

/// A PgBouncer option (`[pgbouncer]`, a connection-string or a `[users]` key) as written in
/// the file (`raw`, unquoted) with its number in the option's own unit.
pub fn pgbouncer(section: Section, name: &str, raw: &str, number: Option<f64>) -> toml::Value {
    let string = || toml::Value::String(raw.to_string());
    let Some(opt) = pgbcat::get(section, name) else {
        return string();
    };
    let integer = |n: f64| {
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            toml::Value::Integer(n as i64)
        } else {
            string()
        }
    };
    match (opt.ty, number) {
        (PgbType::Bool, Some(n)) => toml::Value::Boolean(n != 0.0),
        (PgbType::Time, Some(n)) if n.fract() == 0.0 => integer(n),
        (PgbType::Time, Some(n)) => toml::Value::Float(n),
        (PgbType::IntSeconds | PgbType::Millis, Some(n)) => integer(n),
        // `0777` is octal to PgBouncer (unix_socket_mode): kept as written, which the manifest
        // passes through as PgBouncer reads it.
        (PgbType::Int | PgbType::Uint, Some(_))
            if raw.trim().starts_with('0') && raw.trim().len() > 1 =>
        {
            string()
        }
        (PgbType::Int | PgbType::Uint, Some(n)) => integer(n),
        _ => string(),
    }
}

/// Why a PgBouncer option's number cannot be carried into a manifest, if it cannot: times
/// beyond PgBouncer's own 64-bit microsecond clock (which it would overflow), integers beyond
/// what a TOML integer holds.
pub fn pgbouncer_out_of_range(section: Section, name: &str, number: Option<f64>) -> Option<String> {
    let n = number?;
    let opt = pgbcat::get(section, name)?;
    let max_secs = i64::MAX as f64 / 1e6;
    let too_big = match opt.ty {
        PgbType::Time | PgbType::IntSeconds => n.abs() > max_secs,
        PgbType::Millis => n.abs() / 1e3 > max_secs,
        PgbType::Int | PgbType::Uint => n.abs() > 9.0e15,
        _ => false,
    };
    too_big.then(|| match opt.ty {
        PgbType::Int | PgbType::Uint => {
            "is out of range: no PgBouncer integer option holds it".to_string()
        }
        _ => format!(
            "is out of range: PgBouncer keeps times as 64-bit microseconds (at most {} seconds) and would overflow",
            i64::MAX / 1_000_000
        ),
    })
}

/// A PostgreSQL parameter written as `conf_text` in postgresql.conf.
pub fn postgres(major: u32, name: &str, conf_text: &str) -> toml::Value {
    let raw = received(conf_text);
    let string = || toml::Value::String(raw.clone());
    let Some(param) = PgCatalog::for_major(major).and_then(|c| c.get(name)) else {
        return string();
    };
    match param.ty {
        PgType::Bool => match pgcat::parse_value(param, &raw) {
            Ok(v) => toml::Value::Boolean(v.normalized == "on"),
            Err(_) => string(),
        },
        PgType::Integer | PgType::Real => {
            let t = raw.trim();
            if let Ok(i) = t.parse::<i64>()
                && !(t.len() > 1 && t.starts_with('0'))
            {
                toml::Value::Integer(i)
            } else {
                string()
            }
        }
        PgType::String | PgType::Enum => string(),
    }
}

/// The value PostgreSQL receives for a value written as `conf_text` (quoted where needed, as
/// [`crate::formats::postgresql_conf::conf_value`] writes it): a quoted one de-escaped by the
/// reader's own function.
fn received(conf_text: &str) -> String {
    let t = conf_text.trim();
    match t.len() >= 2 && t.starts_with('\'') {
        true => crate::formats::postgresql_conf::deescape(t),
        false => t.to_string(),
    }
}

/// A duration of poolstack's own keys: whole seconds as an integer, else a number of seconds.
pub fn seconds(d: Duration) -> toml::Value {
    match d.whole_secs().and_then(|s| i64::try_from(s).ok()) {
        Some(s) => toml::Value::Integer(s),
        None => toml::Value::Float(d.0 as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgbouncer_values_take_toml_types() {
        use toml::Value as V;
        let p = |name, raw, n| pgbouncer(Section::Pgbouncer, name, raw, n);
        assert_eq!(p("server_lifetime", "3600", Some(3600.0)), V::Integer(3600));
        assert_eq!(p("query_wait_timeout", "0.5", Some(0.5)), V::Float(0.5));
        assert_eq!(
            p("tcp_user_timeout", "30000", Some(30000.0)),
            V::Integer(30000)
        );
        assert_eq!(p("so_reuseport", "1", Some(1.0)), V::Boolean(true));
        assert_eq!(
            p("unix_socket_mode", "0777", Some(511.0)),
            V::String("0777".into())
        );
        assert_eq!(
            p("ignore_startup_parameters", "extra_float_digits", None),
            V::String("extra_float_digits".into())
        );
        assert_eq!(
            pgbouncer(Section::Databases, "pool_size", "7", Some(7.0)),
            V::Integer(7)
        );
    }

    #[test]
    fn postgres_values_keep_units_as_strings() {
        use toml::Value as V;
        assert_eq!(
            postgres(16, "shared_buffers", "7GB"),
            V::String("7GB".into())
        );
        assert_eq!(postgres(16, "work_mem", "4096"), V::Integer(4096));
        assert_eq!(
            postgres(16, "idle_in_transaction_session_timeout", "'10min'"),
            V::String("10min".into())
        );
        assert_eq!(postgres(16, "fsync", "off"), V::Boolean(false));
        assert_eq!(
            postgres(16, "random_page_cost", "1.1"),
            V::String("1.1".into())
        );
        assert_eq!(
            postgres(16, "log_line_prefix", "'%m [%p] it''s'"),
            V::String("%m [%p] it's".into())
        );
        assert_eq!(
            postgres(16, "pg_stat_statements.max", "10000"),
            V::String("10000".into())
        );
    }

    #[test]
    fn received_values_invert_postgresql_quoting() {
        for raw in ["plain", "it's", "back\\slash", "", "a, b", "tab\\t"] {
            let quoted = crate::formats::postgresql_conf::quote(raw);
            assert_eq!(received(&quoted), raw);
            let written = crate::formats::postgresql_conf::conf_value(raw);
            assert_eq!(received(&written), raw, "{written}");
        }
        assert_eq!(received("100"), "100");
    }
}
