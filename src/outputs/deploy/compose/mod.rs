//! `deploy/compose.yaml`: PostgreSQL and PgBouncer services that mount the rendered files
//! read-only (directories, so a re-rendered file is seen after RELOAD), a config-checksum label so
//! `docker compose up -d` recreates PgBouncer when its ini changes (compose hashes the service
//! definition, not mounted files), a healthcheck that logs in through PgBouncer to PostgreSQL, and
//! passwords only through `secrets:`.

use super::yaml::{Yaml, map, s, seq};
use super::{DeployFile, HostFiles, Loss, LossKind, loss, sha256_hex};
use crate::diag::InputError;
use crate::manifest::PasswordSource;
use crate::manifest::deploy::DeployTarget;
use crate::stack::Stack;
use std::path::{Path, PathBuf};

mod postgres;
pub use postgres::postgres_wrapper;

const T: DeployTarget = DeployTarget::Compose;
pub const LABEL: &str = "io.poolstack.config-sha256";
const HEALTH_SECRET: &str = "pgbouncer_healthcheck_password";

/// A compose service name for a host name, when the host is one (not loopback or an address).
fn service_name(host: &str, fallback: &str) -> (String, bool) {
    let ok = !host.is_empty()
        && host != "localhost"
        && host.parse::<std::net::IpAddr>().is_err()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && host
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        (host.to_string(), true)
    } else {
        (fallback.to_string(), false)
    }
}

/// Who the healthcheck logs in as: the first app's user and database, else the first pool.
fn health_login(stack: &Stack) -> Option<(String, String)> {
    if let Some(app) = stack.apps.first() {
        return Some((app.user.value.clone(), app.url.database.value.clone()));
    }
    stack
        .pools()
        .find(|p| p.database.name.value != "*")
        .map(|p| (p.user.to_string(), p.database.name.value.clone()))
}

/// Where the healthcheck's password comes from, as a compose secret source.
pub(super) fn secret_source(stack: &Stack, user: &str, compose_dir: &Path) -> Option<Yaml> {
    match stack.user(user)?.password.as_ref()?.value.clone() {
        PasswordSource::Env { env } => Some(map([("environment", s(env))])),
        PasswordSource::File { file } => {
            let base = stack.manifest_path.as_ref()?.parent()?.join(file);
            Some(map([(
                "file",
                s(crate::fsutil::relative(compose_dir, &base)),
            )]))
        }
        PasswordSource::Literal(_) | PasswordSource::Prompt { .. } => None,
    }
}

pub fn cannot_express(stack: &Stack) -> Vec<Loss> {
    let Some(pgb) = &stack.pgbouncer else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (_, pg_is_service) = service_name(&stack.postgres.host.value, "postgres");
    if !pg_is_service {
        out.push(loss(
            T,
            LossKind::CannotExpress,
            format!("[postgres] host = \"{}\"", stack.postgres.host.value),
            "in compose that host is not the PostgreSQL service: the service is named `postgres`, and the mounted pgbouncer.ini reaches it only once host = \"postgres\"",
            stack.postgres.host.loc(),
        ));
    }
    let (_, pgb_is_service) = service_name(&pgb.host.value, "pgbouncer");
    if !pgb_is_service
        && pgb.client_port.value > 0
        && stack.apps.iter().any(|a| a.url.via_pgbouncer)
    {
        out.push(loss(
            T,
            LossKind::CannotExpress,
            format!("[pgbouncer] host = \"{}\"", pgb.host.value),
            "in compose that host is not the PgBouncer service: the service is named `pgbouncer`, and the apps' DATABASE_URL reaches it only once host = \"pgbouncer\"",
            pgb.host.loc(),
        ));
    }
    match health_login(stack) {
        None => out.push(loss(
            T,
            LossKind::CannotExpress,
            "PgBouncer healthcheck",
            "no app or pool names a user and database to log in with: the healthcheck only proves PgBouncer listens (pg_isready), not that it reaches PostgreSQL",
            None,
        )),
        Some((user, _)) => {
            let usable = stack.user(&user).and_then(|u| u.password.as_ref()).map(|p| {
                matches!(
                    p.value,
                    PasswordSource::Env { .. } | PasswordSource::File { .. }
                )
            });
            if usable != Some(true) {
                out.push(loss(
                    T,
                    LossKind::CannotExpress,
                    format!("password of user `{user}`"),
                    "it is not an { env } or { file } source, so no compose secret can hold it: the healthcheck only proves PgBouncer listens (pg_isready)",
                    stack.user(&user).and_then(|u| u.name.loc()),
                ));
            }
        }
    }
    let _ = pgb;
    out
}

/// The mounts of PgBouncer's rendered files: (host dir or file, container path).
fn pgbouncer_mounts(stack: &Stack, compose_dir: &Path) -> Vec<(String, String)> {
    let Some(pgb) = &stack.pgbouncer else {
        return Vec::new();
    };
    let rel = |p: &Path| crate::fsutil::relative(compose_dir, p);
    let ini = &stack.outputs.pgbouncer_ini.value;
    let userlist = &stack.outputs.userlist.value;
    let ini_dir = ini.parent().unwrap_or(Path::new("."));
    let mut mounts = vec![(rel(ini_dir), "/etc/pgbouncer".to_string())];
    let auth = Path::new(&pgb.auth_file.value);
    if pgb.auth_file.value.is_empty() {
        return mounts;
    }
    let auth_dir = auth.parent().unwrap_or(Path::new("/"));
    let same_name = auth.file_name() == userlist.file_name();
    if auth_dir == Path::new("/etc/pgbouncer") {
        if !(same_name && userlist.parent() == Some(ini_dir)) {
            // A single-file mount: a re-rendered userlist is seen after the container is recreated.
            mounts.push((rel(userlist), pgb.auth_file.value.clone()));
        }
    } else if same_name && auth_dir.is_absolute() && auth_dir.components().count() >= 3 {
        // A directory of its own (`/etc/pgbouncer-auth`), never a system one such as /etc.
        mounts.push((
            rel(userlist.parent().unwrap_or(Path::new("."))),
            auth_dir.display().to_string(),
        ));
    } else {
        mounts.push((rel(userlist), pgb.auth_file.value.clone()));
    }
    mounts
}

/// A relative path as compose reads one (`./x`, `../x`).
fn dot_relative(path: &str) -> String {
    if path.starts_with('.') || path.starts_with('/') {
        path.to_string()
    } else {
        format!("./{path}")
    }
}

pub(super) fn bind(source: &str, target: &str) -> Yaml {
    let source = dot_relative(source);
    map([
        ("type", s("bind")),
        ("source", s(source)),
        ("target", s(target)),
        ("read_only", Yaml::Bool(true)),
    ])
}

pub fn files(stack: &Stack, host: &HostFiles<'_>) -> Result<Vec<DeployFile>, InputError> {
    let (Some(pgb), Some(deploy)) = (&stack.pgbouncer, &stack.deploy) else {
        return Ok(Vec::new());
    };
    let c = &deploy.compose;
    let base = &stack.outputs.base;
    let compose_dir = base.join(crate::defaults::OUT_DEPLOY);
    let rel = |p: &Path| crate::fsutil::relative(&compose_dir, p);
    let major = stack.postgres.major().unwrap_or(16);
    let (pg_service, _) = service_name(&stack.postgres.host.value, "postgres");
    let (pgb_service, _) = service_name(&pgb.host.value, "pgbouncer");
    let pgb_service = if pgb_service == pg_service {
        "pgbouncer".to_string()
    } else {
        pgb_service
    };

    let mut secrets: Vec<(String, Yaml)> = Vec::new();
    let (postgres, pg_secret) =
        postgres::service(stack, &c.postgres_image.value, &compose_dir, major);
    secrets.push(pg_secret);

    // PgBouncer.
    let ini_name = stack
        .outputs
        .pgbouncer_ini
        .value
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pgbouncer.ini".into());
    let port = pgb.listen_port.value;
    let health = health_login(stack).and_then(|(user, db)| {
        let source = secret_source(stack, &user, &compose_dir)?;
        Some((user, db, source))
    });
    let test = match &health {
        Some((user, db, source)) => {
            secrets.push((HEALTH_SECRET.to_string(), source.clone()));
            // The password reaches psql through its environment, read from the secret file at
            // run time (`$` becomes compose's `$$` with every other one, below).
            seq([
                s("CMD-SHELL"),
                s(format!(
                    "PGPASSWORD=\"$(cat /run/secrets/{HEALTH_SECRET})\" psql -h 127.0.0.1 -p {port} -U {} -d {} -tAc 'select 1' | grep -qx 1",
                    shell_word(user),
                    shell_word(db)
                )),
            ])
        }
        None => seq([
            s("CMD"),
            s("pg_isready"),
            s("-h"),
            s("127.0.0.1"),
            s("-p"),
            s(port.to_string()),
        ]),
    };
    let mut pgb_service_def = vec![
        ("image".to_string(), s(&c.pgbouncer_image.value)),
        (
            "command".to_string(),
            seq([s("pgbouncer"), s(format!("/etc/pgbouncer/{ini_name}"))]),
        ),
        (
            "labels".to_string(),
            map([(LABEL, s(sha256_hex(host.pgbouncer_ini)))]),
        ),
        (
            "volumes".to_string(),
            Yaml::Seq(
                pgbouncer_mounts(stack, &compose_dir)
                    .iter()
                    .map(|(src, dst)| bind(src, dst))
                    .collect(),
            ),
        ),
    ];
    if health.is_some() {
        pgb_service_def.push(("secrets".into(), seq([s(HEALTH_SECRET)])));
    }
    if let Some(hp) = &c.pgbouncer_host_port {
        pgb_service_def.push(("ports".into(), seq([s(format!("{}:{port}", hp.value))])));
    }
    pgb_service_def.extend([
        (
            "depends_on".to_string(),
            map([(
                pg_service.as_str(),
                map([("condition", s("service_healthy"))]),
            )]),
        ),
        // SIGINT: PgBouncer's safe shutdown (SIGTERM waits for every client from 1.23).
        ("stop_signal".to_string(), s("SIGINT")),
        ("stop_grace_period".to_string(), s("60s")),
        (
            "healthcheck".to_string(),
            map([
                ("test", test),
                ("interval", s("10s")),
                ("timeout", s("5s")),
                ("retries", Yaml::Int(5)),
            ]),
        ),
        ("restart".to_string(), s("unless-stopped")),
    ]);

    let mut services = vec![
        (pg_service.clone(), postgres),
        (pgb_service.clone(), Yaml::Map(pgb_service_def)),
    ];
    // The apps: their rendered env file, started with `--profile apps`.
    for app in &stack.apps {
        let mut name = crate::stack::deploy::kube_name_from(&app.name.value);
        if name.is_empty() || services.iter().any(|(n, _)| *n == name) {
            name = format!("app-{}", services.len());
        }
        let image = c
            .app_images
            .iter()
            .find(|(n, _)| *n == app.name.value)
            .map(|(_, i)| i.value.clone())
            .unwrap_or_else(|| format!("{name}:latest"));
        let upstream = if app.url.via_pgbouncer {
            &pgb_service
        } else {
            &pg_service
        };
        let env_file = stack.outputs.base.join(&app.env_file.value);
        services.push((
            name,
            map([
                ("image", s(image)),
                ("profiles", seq([s("apps")])),
                ("env_file", seq([s(dot_relative(&rel(&env_file)))])),
                (
                    "depends_on",
                    map([(
                        upstream.as_str(),
                        map([("condition", s("service_healthy"))]),
                    )]),
                ),
                ("restart", s("unless-stopped")),
            ]),
        ));
    }
    let doc = map([
        (
            "name",
            s(crate::stack::deploy::kube_name_from(&stack.name.value)),
        ),
        ("services", Yaml::Map(services)),
        ("volumes", map([("pgdata", map::<String>([]))])),
        ("secrets", Yaml::Map(secrets)),
    ]);
    let dir = PathBuf::from(crate::defaults::OUT_DEPLOY);
    Ok(vec![
        DeployFile {
            target: T,
            rel: dir.join("compose.yaml"),
            contents: literal_dollars(doc).to_document(),
            secret: false,
        },
        DeployFile {
            target: T,
            rel: dir.join("compose").join("postgresql.conf"),
            contents: postgres_wrapper(major),
            secret: false,
        },
    ])
}

/// A user or database name as one shell word.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Compose interpolates `${VAR}` and `$VAR` in every value: each `$` of a name, path or command
/// poolstack writes is a literal one, so it becomes `$$`.
fn literal_dollars(y: Yaml) -> Yaml {
    match y {
        Yaml::Str(t) => Yaml::Str(t.replace('$', "$$")),
        Yaml::Seq(items) => Yaml::Seq(items.into_iter().map(literal_dollars).collect()),
        Yaml::Map(entries) => Yaml::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.replace('$', "$$"), literal_dollars(v)))
                .collect(),
        ),
        other => other,
    }
}
