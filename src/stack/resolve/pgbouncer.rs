//! `[pgbouncer]`: the declared release, first-class options and catalog-checked
//! `[pgbouncer.settings]`; and the pool names PgBouncer's ini parser must be able to read.

use super::Ctx;
use crate::catalog::pgbouncer::{PgbVersion, Section};
use crate::defaults as d;
use crate::diag::{Diagnostic, InputError, Severity};
use crate::manifest::{AuthType, PoolMode, path};
use crate::stack::settings;
use crate::stack::{Database, Origin, PgbOption, Pgbouncer, Setting, User};

/// `[pgbouncer]` options the manifest (and the [`Pgbouncer`] model) hold in keys of their own.
pub(crate) const PGB_FIRST_CLASS: &[&str] = &[
    "listen_addr",
    "listen_port",
    "pool_mode",
    "auth_type",
    "auth_file",
    "logfile",
    "pidfile",
    "unix_socket_dir",
    "max_client_conn",
    "default_pool_size",
    "min_pool_size",
    "reserve_pool_size",
    "max_db_connections",
    "max_user_connections",
    "max_prepared_statements",
    "admin_users",
    "stats_users",
];

/// The release a manifest's `[pgbouncer]` declares (resolution always sets it; only stacks read
/// from hand-written files can lack one).
pub(super) fn declared(b: &Pgbouncer) -> PgbVersion {
    b.release().unwrap_or(PgbVersion::MAX_SUPPORTED)
}

pub(super) fn pgbouncer(
    cx: &mut Ctx<'_>,
    t: &crate::manifest::PgbouncerTable,
) -> Result<Pgbouncer, InputError> {
    let k = |key: &str| ["pgbouncer".to_string(), key.to_string()];
    let o = |cx: &Ctx<'_>, key: &str| {
        let p = k(key);
        cx.origin(&[p[0].as_str(), p[1].as_str()])
    };
    let version_text = t.version.clone().unwrap_or_default();
    let version = PgbVersion::parse(&version_text).ok_or_else(|| {
        cx.input_error(
            &["pgbouncer", "version"],
            false,
            format!("`{version_text}` is not a PgBouncer version"),
        )
    })?;
    let listen_port = cx.pick(
        &["pgbouncer", "listen_port"],
        t.listen_port,
        d::LISTEN_PORT,
        "PgBouncer's default",
    );
    let client_port = match t.client_port {
        Some(p) => Setting::new(p, o(cx, "client_port")),
        None => Setting::new(
            listen_port.value,
            Origin::Derived {
                formula: "client_port = listen_port".to_string(),
                inputs: listen_port.loc().cloned().into_iter().collect(),
            },
        ),
    };
    let instances = cx.pick(
        &["pgbouncer", "instances"],
        t.instances,
        d::INSTANCES,
        "poolstack's default",
    );
    let path_opt = |cx: &Ctx<'_>, key: &str, v: &Option<String>| -> Option<Setting<String>> {
        v.as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| Setting::new(s.clone(), o(cx, key)))
    };
    let max_prepared_statements = match (
        t.max_prepared_statements,
        crate::catalog::pgbouncer::classify(
            Section::Pgbouncer,
            "max_prepared_statements",
            Some(version),
        ),
    ) {
        (_, crate::catalog::pgbouncer::PgbName::Known(opt)) => {
            Some(match t.max_prepared_statements {
                Some(v) => Setting::new(v, o(cx, "max_prepared_statements")),
                None => Setting::new(
                    opt.default_for(version)
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    Origin::Default("PgBouncer's own default for the declared version"),
                ),
            })
        }
        (Some(_), _) => {
            cx.findings.push(
                Diagnostic::new(
                    "CAT003",
                    Severity::Error,
                    format!("`max_prepared_statements` does not exist in PgBouncer {version}: it was introduced in 1.21"),
                )
                .at(cx.m.key_loc(&path(&["pgbouncer", "max_prepared_statements"])))
                .help("remove it, or declare `version = \"1.21\"` or later if you run that version: PgBouncer refuses to start with an unknown option"),
            );
            None
        }
        (None, _) => None,
    };
    let mut options = Vec::new();
    let raws = cx.raw_settings(
        t.settings.as_ref(),
        &["pgbouncer", "settings"],
        PGB_FIRST_CLASS,
        "[pgbouncer]",
    )?;
    for raw in &raws {
        match settings::pgbouncer_option(Section::Pgbouncer, version, raw) {
            Ok(opt) => options.push(opt),
            Err(diag) => cx.findings.push(diag),
        }
    }
    if instances.value > 1 && !options.iter().any(|o| o.name == "so_reuseport") {
        options.push(PgbOption {
            name: "so_reuseport".to_string(),
            ini_text: "1".to_string(),
            number: Some(1.0),
            origin: Origin::Derived {
                formula: format!("instances = {} share one port", instances.value),
                inputs: instances.loc().cloned().into_iter().collect(),
            },
        });
    }
    Ok(Pgbouncer {
        version: Some(Setting::new(version, o(cx, "version"))),
        host: cx.pick(
            &["pgbouncer", "host"],
            t.host.clone(),
            d::PGBOUNCER_HOST.to_string(),
            "poolstack's default",
        ),
        listen_addr: cx.pick(
            &["pgbouncer", "listen_addr"],
            t.listen_addr.clone(),
            d::LISTEN_ADDR.to_string(),
            "poolstack's default",
        ),
        listen_port,
        client_port,
        instances,
        pool_mode: cx.pick(
            &["pgbouncer", "pool_mode"],
            t.pool_mode,
            PoolMode::Transaction,
            "poolstack's default (PgBouncer's own is session)",
        ),
        auth_type: cx.pick(
            &["pgbouncer", "auth_type"],
            t.auth_type,
            AuthType::ScramSha256,
            "poolstack's default (PgBouncer's own is md5)",
        ),
        auth_file: cx.pick(
            &["pgbouncer", "auth_file"],
            t.auth_file.clone(),
            d::AUTH_FILE.to_string(),
            "poolstack's default",
        ),
        logfile: path_opt(cx, "logfile", &t.logfile),
        pidfile: path_opt(cx, "pidfile", &t.pidfile),
        unix_socket_dir: path_opt(cx, "unix_socket_dir", &t.unix_socket_dir),
        max_client_conn: cx.pick(
            &["pgbouncer", "max_client_conn"],
            t.max_client_conn,
            d::MAX_CLIENT_CONN,
            "PgBouncer's default",
        ),
        default_pool_size: cx.pick(
            &["pgbouncer", "default_pool_size"],
            t.default_pool_size,
            d::DEFAULT_POOL_SIZE,
            "PgBouncer's default",
        ),
        min_pool_size: cx.pick(
            &["pgbouncer", "min_pool_size"],
            t.min_pool_size,
            d::MIN_POOL_SIZE,
            "PgBouncer's default",
        ),
        reserve_pool_size: cx.pick(
            &["pgbouncer", "reserve_pool_size"],
            t.reserve_pool_size,
            d::RESERVE_POOL_SIZE,
            "PgBouncer's default",
        ),
        max_db_connections: cx.pick(
            &["pgbouncer", "max_db_connections"],
            t.max_db_connections,
            d::MAX_DB_CONNECTIONS,
            "PgBouncer's default (unlimited)",
        ),
        max_user_connections: cx.pick(
            &["pgbouncer", "max_user_connections"],
            t.max_user_connections,
            d::MAX_USER_CONNECTIONS,
            "PgBouncer's default (unlimited)",
        ),
        max_prepared_statements,
        nofile_limit: cx.opt(&["pgbouncer", "nofile_limit"], t.nofile_limit),
        admin_users: Vec::new(),
        stats_users: Vec::new(),
        options,
    })
}

/// [databases]/[users] names PgBouncer's ini parser cannot read (CAT008): keys are
/// `[A-Za-z0-9_.*-]+`; single-quoted keys exist only from 1.25 and have no escape; `pgbouncer`
/// is the admin console's reserved database name (facts.md §1).
pub(super) fn ini_key_findings(
    version: PgbVersion,
    databases: &[Database],
    users: &[User],
) -> Vec<Diagnostic> {
    let quoting = PgbVersion {
        major: 1,
        minor: 25,
    };
    let mut out = Vec::new();
    let names = databases.iter().map(|d| ("database", &d.name)).chain(
        users
            .iter()
            .filter(|u| {
                u.pool_mode.is_some() || u.max_user_connections.is_some() || !u.options.is_empty()
            })
            .map(|u| ("user", &u.name)),
    );
    for (what, name) in names {
        let n = &name.value;
        let plain = !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.*-".contains(c));
        let problem = if what == "database" && n == "pgbouncer" {
            Some((
                "the database name `pgbouncer` is reserved for PgBouncer's admin console"
                    .to_string(),
                "choose another name; clients reach the console by connecting to `pgbouncer`",
            ))
        } else if plain {
            None
        } else if version < quoting {
            Some((
                format!(
                    "PgBouncer {version} cannot read the {what} name `{n}` as an ini key: it may only contain letters, digits and _ . * - (quoted names need PgBouncer 1.25)"
                ),
                "rename it, or declare PgBouncer 1.25 if you run it",
            ))
        } else if n.contains('\'') {
            Some((
                format!(
                    "the {what} name `{n}` contains a single quote, which a quoted PgBouncer key cannot hold"
                ),
                "rename it",
            ))
        } else {
            None
        };
        if let Some((msg, help)) = problem {
            out.push(
                Diagnostic::new("CAT008", Severity::Error, msg)
                    .at(name.loc().cloned())
                    .help(help),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        MINIMAL, cx, default_text, error_place, formula, manifest, written,
    };
    use super::*;

    fn with_pgbouncer(table: &str) -> String {
        format!("{MINIMAL}\n[pgbouncer]\nversion = \"1.22\"\n{table}")
    }

    fn resolved(
        m: &crate::manifest::LoadedManifest,
    ) -> (Result<Pgbouncer, InputError>, Vec<Diagnostic>) {
        let t = m.manifest.pgbouncer.as_ref().expect("a [pgbouncer] table");
        let mut c = cx(m);
        let b = pgbouncer(&mut c, t);
        (b, c.findings)
    }

    #[test]
    fn defaults_and_a_written_port_that_the_client_port_follows() {
        let m = manifest(&with_pgbouncer("listen_port = 6433\n"));
        let (b, findings) = resolved(&m);
        let b = b.expect("resolves");
        assert!(findings.is_empty());
        assert_eq!(b.pool_mode.value, PoolMode::Transaction);
        assert!(default_text(&b.pool_mode).contains("PgBouncer's own is session"));
        assert_eq!(written(&m, &b.listen_port), "6433");
        assert_eq!(b.client_port.value, 6433);
        assert_eq!(formula(&b.client_port), "client_port = listen_port");
        assert_eq!(
            declared(&b),
            PgbVersion {
                major: 1,
                minor: 22
            }
        );
    }

    #[test]
    fn several_instances_share_the_port() {
        let m = manifest(&with_pgbouncer("instances = 2\n"));
        let b = resolved(&m).0.expect("resolves");
        let reuse = b.options.iter().find(|o| o.name == "so_reuseport");
        assert_eq!(reuse.map(|o| o.ini_text.as_str()), Some("1"));
    }

    #[test]
    fn max_prepared_statements_before_1_21_is_a_finding_at_the_key() {
        let m =
            manifest(&with_pgbouncer("max_prepared_statements = 100\n").replace("1.22", "1.20"));
        let (b, findings) = resolved(&m);
        assert!(b.expect("resolves").max_prepared_statements.is_none());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].code, "CAT003");
        let at = findings[0].primary.as_ref().expect("placed");
        assert_eq!(
            super::super::testing::text(&m, at),
            "max_prepared_statements"
        );
    }

    #[test]
    fn a_first_class_key_in_settings_is_an_error_at_the_key() {
        let m = manifest(&with_pgbouncer(
            "\n[pgbouncer.settings]\npool_mode = \"session\"\n",
        ));
        let err = resolved(&m).0.expect_err("pool_mode has a key of its own");
        assert!(err.message.contains("first-class key"), "{}", err.message);
        assert_eq!(error_place(&m, &err), (11, "pool_mode"));
    }

    fn cat008(version: &str, database: &str) -> Vec<Diagnostic> {
        let toml = with_pgbouncer("").replace("1.22", version)
            + &format!("\n[[databases]]\nname = {database:?}\n");
        let stack = super::super::resolve(&manifest(&toml), None).expect("resolves");
        stack
            .findings
            .into_iter()
            .filter(|d| d.code == "CAT008")
            .collect()
    }

    #[test]
    fn pool_names_the_ini_parser_cannot_read() {
        assert!(cat008("1.22", "app_1.db-x").is_empty());
        let reserved = cat008("1.22", "pgbouncer");
        assert_eq!(reserved.len(), 1);
        assert!(reserved[0].message.contains("reserved"));
        let spaced = cat008("1.22", "my db");
        assert_eq!(spaced.len(), 1);
        assert!(spaced[0].message.contains("1.25"), "{}", spaced[0].message);
        assert!(
            cat008("1.25", "my db").is_empty(),
            "1.25 reads quoted names"
        );
        assert_eq!(cat008("1.25", "it's").len(), 1);
    }
}
