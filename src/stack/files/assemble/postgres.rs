//! PostgreSQL as its configuration files describe it, and how it stores a password set now.

use super::imported;
use crate::auth::SecretKind;
use crate::manifest::PasswordEncryption;
use crate::stack::files::postgresql_conf::ConfSettings;
use crate::stack::{Origin, PgParam, Postgres, Setting};

pub(super) fn postgres(
    conf: Option<&ConfSettings>,
    described: bool,
    major: Option<u32>,
    version_origin: Origin,
) -> Postgres {
    let params: Vec<PgParam> = conf
        .map(|c| {
            c.params
                .iter()
                .map(|p| PgParam {
                    name: p.name.clone(),
                    conf_text: p.conf_text.clone(),
                    base: p.value.as_ref().and_then(|v| v.base),
                    unit: p.unit,
                    origin: imported(&p.value_loc),
                    rendered: true,
                })
                .collect()
        })
        .unwrap_or_default();
    let find = |name: &str| params.iter().find(|p| p.name.eq_ignore_ascii_case(name));
    let count = |name: &str, default: u32, why: &'static str| match find(name) {
        Some(p) => Setting::new(p.base.unwrap_or(0.0).max(0.0) as u32, p.origin.clone()),
        None => Setting::new(default, Origin::Default(why)),
    };
    // As the server reads it: on PostgreSQL 13 and before, `on` (and `true`…) mean md5.
    let encryption = conf.and_then(|c| {
        c.params
            .iter()
            .rev()
            .find(|p| p.name.eq_ignore_ascii_case("password_encryption"))
    });
    let password_encryption = match encryption {
        Some(p) => Setting::new(
            match p.value.as_ref().map(|v| v.normalized.as_str()) {
                Some("md5") => PasswordEncryption::Md5,
                _ => PasswordEncryption::ScramSha256,
            },
            imported(&p.value_loc),
        ),
        None => match major {
            Some(v) if v < 14 => Setting::new(
                PasswordEncryption::Md5,
                Origin::Default("not set: md5 is the default before PostgreSQL 14"),
            ),
            _ => Setting::new(
                PasswordEncryption::ScramSha256,
                Origin::Default("not set: scram-sha-256 is the default from PostgreSQL 14"),
            ),
        },
    };
    let port = match find("port") {
        Some(p) => Setting::new(p.base.unwrap_or(5432.0) as u16, p.origin.clone()),
        None => Setting::new(
            crate::defaults::POSTGRES_PORT,
            Origin::Default("PostgreSQL's default port"),
        ),
    };
    Postgres {
        version: major.map(|v| Setting::new(v, version_origin)),
        described,
        host: Setting::new(
            String::new(),
            Origin::Default("hand-written files do not say which host reaches PostgreSQL"),
        ),
        port,
        memory: None,
        cpus: None,
        storage: None,
        workload: None,
        data_size: None,
        os: None,
        max_connections: count(
            "max_connections",
            100,
            "not set: PostgreSQL's built-in default",
        ),
        superuser_reserved_connections: count(
            "superuser_reserved_connections",
            3,
            "not set: PostgreSQL's built-in default",
        ),
        reserved_connections: count(
            "reserved_connections",
            0,
            "not set: PostgreSQL's built-in default (the parameter exists from 16)",
        ),
        password_encryption,
        hba_method: None,
        params,
    }
}

/// How PostgreSQL stores a password set today: per password_encryption, when a PostgreSQL
/// configuration is part of the run and either sets it or declares the version (whose default
/// it is). Otherwise unknown, and the rules comparing with it stay silent.
pub(super) fn stored_secret(pg: &Postgres) -> Option<Setting<SecretKind>> {
    let pe = &pg.password_encryption;
    // Set in a file, or the version's default where a whole configuration leaves it unset.
    if !(pe.origin.is_explicit() || (pg.described && pg.version.is_some())) {
        return None;
    }
    let kind = match pe.value {
        PasswordEncryption::Md5 => SecretKind::Md5,
        PasswordEncryption::ScramSha256 => SecretKind::ScramSha256,
    };
    Some(Setting::new(
        kind,
        Origin::Derived {
            formula: format!(
                "PostgreSQL stores a password set now per password_encryption = {}",
                kind.as_str()
            ),
            inputs: pe.loc().cloned().into_iter().collect(),
        },
    ))
}
