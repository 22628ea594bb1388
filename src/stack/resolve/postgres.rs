//! `[postgres]`: the server's version, catalog-checked `[postgres.settings]`, and the
//! first-class keys — max_connections derived from the connection budget when not written.

use super::Ctx;
use crate::catalog::postgres::{PgCatalog, PgUnit};
use crate::defaults as d;
use crate::diag::{Diagnostic, InputError, Severity};
use crate::manifest::PasswordEncryption;
use crate::source::Loc;
use crate::stack::budget::ServerConnectionBudget;
use crate::stack::settings;
use crate::stack::{Origin, PgParam, Postgres, Setting, Stack};

/// First-class keys that a `*.settings` table may not repeat (product.md: exit 2).
const PG_FIRST_CLASS: &[&str] = &[
    "max_connections",
    "superuser_reserved_connections",
    "password_encryption",
];

/// `[postgres]`; max_connections is a placeholder until the rest of the stack is resolved
/// ([`max_connections`]).
pub(super) fn postgres(cx: &mut Ctx<'_>) -> Result<Postgres, InputError> {
    let man = &cx.m.manifest;
    let pg = &man.postgres;
    let version = Setting::new(pg.version, cx.origin(&["postgres", "version"]));
    let catalog = PgCatalog::for_major(pg.version).ok_or_else(|| {
        cx.input_error(
            &["postgres", "version"],
            false,
            format!("no settings catalog for PostgreSQL {}", pg.version),
        )
    })?;
    let password_encryption = cx.pick(
        &["postgres", "password_encryption"],
        pg.password_encryption,
        if pg.version >= 14 {
            PasswordEncryption::ScramSha256
        } else {
            PasswordEncryption::Md5
        },
        "the PostgreSQL version's default (scram-sha-256 from 14, md5 before)",
    );

    let mut params: Vec<PgParam> = Vec::new();
    let pg_settings = cx.raw_settings(
        pg.settings.as_ref(),
        &["postgres", "settings"],
        PG_FIRST_CLASS,
        "[postgres]",
    )?;
    for raw in &pg_settings {
        match settings::postgres_param(catalog, raw) {
            Ok(p) => {
                if let Some(prev) = params
                    .iter()
                    .position(|q| q.name.eq_ignore_ascii_case(&p.name))
                {
                    // `sort_mem` and `work_mem` both written: the later one wins, as in PostgreSQL.
                    cx.findings.push(
                        Diagnostic::new(
                            "CAT006",
                            Severity::Warning,
                            format!(
                                "`{}` is set twice (once through an alias): the later one wins",
                                p.name
                            ),
                        )
                        .at(raw.key_loc.clone())
                        .related(params[prev].origin.loc().cloned(), "first set here"),
                    );
                    params.remove(prev);
                }
                params.push(p)
            }
            Err(diag) => cx.findings.push(diag),
        }
    }
    let reserved_connections = match params.iter().find(|p| p.name == "reserved_connections") {
        Some(p) => Setting::new(p.base.unwrap_or(0.0).max(0.0) as u32, p.origin.clone()),
        None => Setting::new(
            0,
            Origin::Default("PostgreSQL's own (0; the parameter exists from 16)"),
        ),
    };
    let superuser_reserved_connections = cx.pick(
        &["postgres", "superuser_reserved_connections"],
        pg.superuser_reserved_connections,
        d::SUPERUSER_RESERVED_CONNECTIONS,
        "PostgreSQL's own",
    );

    let placeholder_max = Setting::new(0, Origin::Default("not yet derived"));
    Ok(Postgres {
        version: Some(version),
        described: true,
        host: cx.pick(
            &["postgres", "host"],
            pg.host.clone(),
            d::POSTGRES_HOST.to_string(),
            "poolstack's default",
        ),
        port: cx.pick(
            &["postgres", "port"],
            pg.port,
            d::POSTGRES_PORT,
            "PostgreSQL's default port",
        ),
        memory: cx.opt(&["postgres", "memory"], pg.memory.map(|s| s.0)),
        cpus: cx.opt(&["postgres", "cpus"], pg.cpus),
        storage: cx.opt(&["postgres", "storage"], pg.storage),
        workload: cx.opt(&["postgres", "workload"], pg.workload),
        data_size: cx.opt(&["postgres", "data_size"], pg.data_size),
        os: cx.opt(&["postgres", "os"], pg.os),
        max_connections: placeholder_max,
        superuser_reserved_connections,
        reserved_connections,
        password_encryption,
        hba_method: cx.opt(&["postgres", "hba_method"], pg.hba_method.clone()),
        params,
    })
}

/// max_connections: the manifest's, or derived from the connection budget plus reserved slots and headroom.
pub(super) fn max_connections(cx: &Ctx<'_>, stack: &Stack) -> Setting<u32> {
    if let Some(v) = cx.m.manifest.postgres.max_connections {
        return Setting::new(v, cx.origin(&["postgres", "max_connections"]));
    }
    let budget = ServerConnectionBudget::of(stack);
    let has_pools = stack.pgbouncer.is_some() && budget.pools > 0
        || stack.pgbouncer.is_none() && !stack.apps.is_empty();
    let pg = &stack.postgres;
    match budget.total {
        Some(total) if has_pools || total > 0 => {
            let headroom = (total.div_ceil(10)).max(u64::from(d::MAX_CONNECTIONS_MIN_HEADROOM));
            let su = u64::from(pg.superuser_reserved_connections.value);
            let rc = u64::from(pg.reserved_connections.value);
            let value = total + su + rc + headroom;
            let mut inputs: Vec<Loc> = Vec::new();
            for db in &stack.databases {
                inputs.extend(db.pool_size.loc().cloned());
            }
            for c in &stack.clients {
                inputs.extend(c.connections.loc().cloned());
            }
            Setting::new(
                u32::try_from(value).unwrap_or(u32::MAX),
                Origin::Derived {
                    formula: format!(
                        "budget {} + superuser_reserved_connections {su} + reserved_connections {rc} + headroom {headroom} (10 % of the budget, at least {}) = {value}",
                        budget.arithmetic,
                        d::MAX_CONNECTIONS_MIN_HEADROOM
                    ),
                    inputs,
                },
            )
        }
        _ => Setting::new(
            d::MAX_CONNECTIONS_WITHOUT_POOLS,
            Origin::Default("PostgreSQL's own (no pools to derive it from)"),
        ),
    }
}

/// The first-class PostgreSQL keys as parameters, in front of the `[postgres.settings]` ones.
pub(super) fn first_class_params(cx: &Ctx<'_>, stack: &mut Stack) {
    let pg = &stack.postgres;
    let mut front = vec![PgParam {
        name: "max_connections".to_string(),
        conf_text: pg.max_connections.value.to_string(),
        base: Some(f64::from(pg.max_connections.value)),
        unit: PgUnit::None,
        origin: pg.max_connections.origin.clone(),
        rendered: !matches!(pg.max_connections.origin, Origin::Default(_)),
    }];
    front.push(PgParam {
        name: "superuser_reserved_connections".to_string(),
        conf_text: pg.superuser_reserved_connections.value.to_string(),
        base: Some(f64::from(pg.superuser_reserved_connections.value)),
        unit: PgUnit::None,
        origin: pg.superuser_reserved_connections.origin.clone(),
        rendered: cx
            .m
            .manifest
            .postgres
            .superuser_reserved_connections
            .is_some(),
    });
    front.push(PgParam {
        name: "password_encryption".to_string(),
        conf_text: settings::pg_quote(match pg.password_encryption.value {
            PasswordEncryption::Md5 => "md5",
            PasswordEncryption::ScramSha256 => "scram-sha-256",
        }),
        base: None,
        unit: PgUnit::None,
        origin: pg.password_encryption.origin.clone(),
        rendered: cx.m.manifest.postgres.password_encryption.is_some(),
    });
    let rest = std::mem::take(&mut stack.postgres.params);
    front.extend(rest);
    stack.postgres.params = front;
}

#[cfg(test)]
mod tests {
    use super::super::testing::{
        MINIMAL, cx, default_text, error_place, formula, manifest, text, written,
    };
    use super::*;

    #[test]
    fn password_encryption_defaults_by_version() {
        let m = manifest(MINIMAL);
        let pg = postgres(&mut cx(&m)).expect("resolves");
        assert_eq!(
            pg.password_encryption.value,
            PasswordEncryption::ScramSha256
        );
        assert!(default_text(&pg.password_encryption).contains("scram-sha-256 from 14"));
        let m = manifest(&MINIMAL.replace("version = 16", "version = 13"));
        let pg = postgres(&mut cx(&m)).expect("resolves");
        assert_eq!(pg.password_encryption.value, PasswordEncryption::Md5);
    }

    #[test]
    fn a_written_key_keeps_its_place() {
        let m = manifest(&format!("{MINIMAL}superuser_reserved_connections = 5\n"));
        let pg = postgres(&mut cx(&m)).expect("resolves");
        assert_eq!(pg.superuser_reserved_connections.value, 5);
        assert_eq!(written(&m, &pg.superuser_reserved_connections), "5");
        assert_eq!(pg.max_connections.value, 0, "a placeholder until derived");
    }

    #[test]
    fn a_first_class_key_in_settings_is_an_error_at_the_key() {
        let m = manifest(&format!(
            "{MINIMAL}\n[postgres.settings]\nwork_mem = \"8MB\"\nmax_connections = 10\n"
        ));
        let err = postgres(&mut cx(&m)).expect_err("max_connections has a key of its own");
        assert!(err.message.contains("first-class key"), "{}", err.message);
        assert_eq!(error_place(&m, &err), (9, "max_connections"));
    }

    #[test]
    fn an_alias_written_with_its_name_warns_and_the_later_wins() {
        let m = manifest(&format!(
            "{MINIMAL}\n[postgres.settings]\nsort_mem = \"4MB\"\nwork_mem = \"8MB\"\n"
        ));
        let mut c = cx(&m);
        let pg = postgres(&mut c).expect("resolves");
        let codes: Vec<&str> = c.findings.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["CAT006"]);
        let work_mem: Vec<&PgParam> = pg.params.iter().filter(|p| p.name == "work_mem").collect();
        assert_eq!(work_mem.len(), 1);
        let at = work_mem[0].origin.loc().expect("written");
        assert_eq!(text(&m, at), "\"8MB\"");
    }

    #[test]
    fn max_connections_written_default_and_derived() {
        let written_stack = crate::stack::resolve::resolve(
            &manifest(&format!("{MINIMAL}max_connections = 50\n")),
            None,
        )
        .expect("resolves");
        assert_eq!(written_stack.postgres.max_connections.value, 50);

        let m = manifest(MINIMAL);
        let stack = crate::stack::resolve::resolve(&m, None).expect("resolves");
        assert_eq!(
            stack.postgres.max_connections.value,
            d::MAX_CONNECTIONS_WITHOUT_POOLS
        );
        assert!(default_text(&stack.postgres.max_connections).contains("no pools"));

        let m = manifest(&format!(
            "{MINIMAL}\n[pgbouncer]\nversion = \"1.22\"\ndefault_pool_size = 20\n\n[[databases]]\nname = \"app\"\n\n[[apps]]\nname = \"web\"\ndatabase = \"app\"\nuser = \"app\"\n"
        ));
        let stack = crate::stack::resolve::resolve(&m, None).expect("resolves");
        let derived = formula(&stack.postgres.max_connections);
        assert!(derived.starts_with("budget "), "{derived}");
        assert!(
            stack.postgres.max_connections.value > 20,
            "the pool plus reserved slots"
        );
    }

    #[test]
    fn first_class_params_come_first_and_render_only_when_written() {
        let m = manifest(&format!(
            "{MINIMAL}password_encryption = \"md5\"\n\n[postgres.settings]\nwork_mem = \"8MB\"\n"
        ));
        let stack = crate::stack::resolve::resolve(&m, None).expect("resolves");
        let names: Vec<(&str, bool)> = stack
            .postgres
            .params
            .iter()
            .take(4)
            .map(|p| (p.name.as_str(), p.rendered))
            .collect();
        assert_eq!(
            names,
            [
                ("max_connections", false),
                ("superuser_reserved_connections", false),
                ("password_encryption", true),
                ("work_mem", true),
            ]
        );
        assert_eq!(stack.postgres.params[2].conf_text, "'md5'");
    }
}
