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
