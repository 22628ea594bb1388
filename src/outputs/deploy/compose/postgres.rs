//! The compose target's PostgreSQL service: the official image with the rendered fragment
//! included after the image's own configuration, roles.sql as an init script, the password
//! through a secret.

use super::{bind, secret_source};
use crate::outputs::deploy::yaml::{Yaml, map, s, seq};
use crate::stack::Stack;
use std::path::Path;

const PG_SECRET: &str = "postgres_password";

/// The service, and the secret it reads its password from (name, compose source).
pub(super) fn service(
    stack: &Stack,
    image: &str,
    compose_dir: &Path,
    major: u32,
) -> (Yaml, (String, Yaml)) {
    let rel = |p: &Path| crate::fsutil::relative(compose_dir, p);
    let (_, volume_at) = pgdata(major);
    // PostgreSQL: the superuser the image creates is the first user roles.sql does not manage.
    let initial = stack.users.iter().find(|u| !u.role.value);
    let pg_user = initial
        .map(|u| u.name.value.clone())
        .unwrap_or_else(|| "postgres".to_string());
    let pg_db = stack
        .databases
        .iter()
        .find(|d| d.name.value != "*")
        .map(|d| d.dbname.value.clone())
        .unwrap_or_else(|| pg_user.clone());
    let pg_secret = initial
        .and_then(|u| secret_source(stack, &u.name.value, compose_dir))
        .unwrap_or_else(|| map([("environment", s("POSTGRES_PASSWORD"))]));

    let mut pg_volumes = vec![
        map([
            ("type", s("volume")),
            ("source", s("pgdata")),
            ("target", s(volume_at)),
        ]),
        bind(
            "./compose/postgresql.conf",
            "/etc/postgresql/postgresql.conf",
        ),
        bind(
            &rel(stack
                .outputs
                .postgresql_conf
                .value
                .parent()
                .unwrap_or(Path::new("."))),
            "/etc/postgresql/conf.d",
        ),
    ];
    if stack.users.iter().any(|u| u.role.value)
        || stack.databases.iter().any(|d| d.create_owner.is_some())
    {
        pg_volumes.push(bind(
            &rel(stack
                .outputs
                .roles_sql
                .value
                .parent()
                .unwrap_or(Path::new("."))),
            "/docker-entrypoint-initdb.d",
        ));
    }
    let postgres = map([
        ("image", s(image)),
        (
            "command",
            seq([
                s("postgres"),
                s("-c"),
                s("config_file=/etc/postgresql/postgresql.conf"),
            ]),
        ),
        (
            "environment",
            map([
                ("POSTGRES_USER", s(&pg_user)),
                ("POSTGRES_DB", s(&pg_db)),
                (
                    "POSTGRES_PASSWORD_FILE",
                    s(format!("/run/secrets/{PG_SECRET}")),
                ),
            ]),
        ),
        ("secrets", seq([s(PG_SECRET)])),
        ("volumes", Yaml::Seq(pg_volumes)),
        ("stop_signal", s("SIGINT")),
        (
            "healthcheck",
            map([
                (
                    "test",
                    seq([
                        s("CMD"),
                        s("pg_isready"),
                        s("-U"),
                        s(&pg_user),
                        s("-d"),
                        s(&pg_db),
                    ]),
                ),
                ("interval", s("10s")),
                ("timeout", s("5s")),
                ("retries", Yaml::Int(5)),
            ]),
        ),
        ("restart", s("unless-stopped")),
    ]);

    (postgres, (PG_SECRET.to_string(), pg_secret))
}

/// PGDATA of the official image, and the volume mount that holds it.
fn pgdata(major: u32) -> (String, &'static str) {
    if major >= 18 {
        (
            format!("/var/lib/postgresql/{major}/docker"),
            "/var/lib/postgresql",
        )
    } else {
        (
            "/var/lib/postgresql/data".to_string(),
            "/var/lib/postgresql/data",
        )
    }
}

/// The wrapper config_file: the image's own postgresql.conf (listen_addresses = '*'), then the
/// rendered fragment, reloadable (a `-c` value would beat reload).
pub fn postgres_wrapper(major: u32) -> String {
    let (data, _) = pgdata(major);
    format!(
        "# PostgreSQL's config_file in the compose target: the image's own configuration, then\n# poolstack's fragment (both reloadable with SELECT pg_reload_conf()).\ninclude '{data}/postgresql.conf'\ninclude_dir '/etc/postgresql/conf.d'\n"
    )
}
