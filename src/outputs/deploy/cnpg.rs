//! `deploy/cnpg/pooler.yaml`: a CloudNativePG `Pooler` for the declared operator release. Every
//! parameter is inside that release's allowlist and written as a string; `poolMode` is session or
//! transaction. What the operator manages itself (listen port, auth, admin console, one process
//! per pod) or cannot hold (per-database entries, per-user settings) is a loss.

use super::yaml::{Yaml, map, s};
use super::{DeployFile, Loss, LossKind, loss};
use crate::diag::InputError;
use crate::manifest::PoolMode;
use crate::manifest::deploy::DeployTarget;
use crate::stack::Stack;
use crate::stack::deploy::CnpgVersion;
use std::path::PathBuf;

const T: DeployTarget = DeployTarget::Cnpg;
const ALLOWLIST: &str = include_str!("cnpg_allowlist.tsv");
/// The port every Pooler listens on (its Service is `<pooler-name>:5432`).
pub const PORT: u16 = 5432;

/// Is `key` accepted in `spec.pgbouncer.parameters` by operator release `v`?
pub fn allowed(key: &str, v: CnpgVersion) -> bool {
    ALLOWLIST
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .filter(|(k, _)| *k == key)
        .any(|(_, since)| accepted_since(since, v))
}

/// A key first accepted at each listed tag (one per release line) is accepted from that tag on
/// in its line and in every line after the newest listed one.
fn accepted_since(since: &str, v: CnpgVersion) -> bool {
    let tags: Vec<CnpgVersion> = since
        .split_whitespace()
        .filter_map(CnpgVersion::parse)
        .collect();
    let Some(newest) = tags.iter().max() else {
        return false;
    };
    (v.major, v.minor) > (newest.major, newest.minor)
        || tags
            .iter()
            .any(|t| (t.major, t.minor) == (v.major, v.minor) && v.patch >= t.patch)
}

/// Keys the operator writes itself: what runs instead.
fn managed(key: &str) -> Option<&'static str> {
    Some(match key {
        "listen_addr" => "the operator's listen_addr (all addresses of the pod)",
        "listen_port" => {
            "port 5432, the Pooler Service's port: clients connect to <pooler-name>:5432"
        }
        "unix_socket_dir" => "the operator's socket directory",
        "auth_file" => {
            "no userlist: the operator authenticates clients through auth_query (its cnpg_pooler_pgbouncer user); userlist.txt is not used"
        }
        "admin_users" => {
            "admin_users = pgbouncer, the operator's own user: the admin console is not open to the stack's users"
        }
        "stats_users" => {
            "the operator's own stats user; the stack's stats users cannot read SHOW STATS"
        }
        "logfile" => "PgBouncer logs to the pod's stderr",
        "pidfile" => "the operator's pidfile",
        "so_reuseport" => "one PgBouncer process per pod: scale with instances instead",
        "auth_hba_file" | "auth_query" | "auth_user" => "the operator's authentication settings",
        "pool_mode" => "spec.pgbouncer.poolMode",
        _ => return None,
    })
}

pub fn cannot_express(stack: &Stack) -> Vec<Loss> {
    let (Some(pgb), Some(deploy)) = (&stack.pgbouncer, &stack.deploy) else {
        return Vec::new();
    };
    let v = deploy.cnpg.version.value;
    let mut out = Vec::new();
    if pgb.pool_mode.value == PoolMode::Statement {
        out.push(loss(
            T,
            LossKind::Refuses,
            "pool_mode = \"statement\"",
            "a Pooler's poolMode is session or transaction: the operator rejects statement pooling at admission",
            pgb.pool_mode.loc(),
        ));
    }
    for o in crate::render::context::pgbouncer_options(pgb) {
        let name = o.name.as_str();
        if name == "pool_mode" {
            continue;
        }
        if let Some(instead) = managed(name) {
            let forced_same = match name {
                "listen_port" => o.value == PORT.to_string(),
                "listen_addr" => o.value == "*" || o.value == "0.0.0.0",
                _ => false,
            };
            if !forced_same {
                out.push(loss(
                    T,
                    LossKind::CannotExpress,
                    format!("{name} = {}", o.value),
                    instead,
                    o.origin.loc(),
                ));
            }
            continue;
        }
        if name == "ignore_startup_parameters" && !o.value.split(',').any(|p| p.trim() == "options")
        {
            out.push(loss(
                T,
                LossKind::CannotExpress,
                format!("ignore_startup_parameters = {}", o.value),
                "the operator appends `extra_float_digits,options`: a client's `options` startup parameter (e.g. -c search_path) is silently ignored instead of refused",
                o.origin.loc(),
            ));
        }
        if allowed(name, v) {
            continue;
        }
        if o.origin.is_explicit() || matches!(o.origin, crate::stack::Origin::Derived { .. }) {
            out.push(loss(
                T,
                LossKind::Refuses,
                format!("{name} = {}", o.value),
                format!("`{name}` is outside CloudNativePG {v}'s parameter allowlist: the operator rejects the Pooler (\"Invalid or reserved parameter\")"),
                o.origin.loc(),
            ));
        } else {
            out.push(loss(
                T,
                LossKind::CannotExpress,
                format!("{name} = {}", o.value),
                format!("outside CloudNativePG {v}'s allowlist: the operator's PgBouncer uses its own default"),
                None,
            ));
        }
    }
    if pgb.client_port.value != PORT && pgb.client_port.origin.is_explicit() {
        out.push(loss(
            T,
            LossKind::CannotExpress,
            format!("client_port = {}", pgb.client_port.value),
            "apps reach the Pooler Service on port 5432; their .env files still name the client_port",
            pgb.client_port.loc(),
        ));
    }
    let cluster = &deploy.cnpg.cluster.value;
    let target = format!("{cluster}-{}", deploy.cnpg.pooler_type.value.as_str());
    for db in &stack.databases {
        // Per-entry values (not the [pgbouncer] ones every entry inherits).
        let own = |o: &crate::stack::Origin, global: &crate::stack::Origin| {
            o.is_explicit() && o != global
        };
        let per_db = [
            own(&db.pool_size.origin, &pgb.default_pool_size.origin),
            own(&db.reserve_pool_size.origin, &pgb.reserve_pool_size.origin),
            own(
                &db.max_db_connections.origin,
                &pgb.max_db_connections.origin,
            ),
            own(&db.pool_mode.origin, &pgb.pool_mode.origin),
            db.forced_user.is_some(),
            db.host.value != stack.postgres.host.value,
            db.port.value != stack.postgres.port.value,
            db.dbname.value != db.name.value,
            !db.options.is_empty(),
        ];
        if per_db.iter().any(|b| *b) {
            out.push(loss(
                T,
                LossKind::CannotExpress,
                format!("[[databases]] `{}`", db.name.value),
                format!("the Pooler routes every database as `* = host={target}`: the entry's own host, dbname, user and pool settings are not used"),
                db.name.loc(),
            ));
        }
    }
    for u in &stack.users {
        if u.pool_mode.is_some() || u.max_user_connections.is_some() || !u.options.is_empty() {
            out.push(loss(
                T,
                LossKind::CannotExpress,
                format!("[[users]] `{}` settings", u.name.value),
                "a Pooler has no [users] section: the user's pool_mode and limits are not used",
                u.name.loc(),
            ));
        }
    }
    out
}

pub fn files(stack: &Stack) -> Result<Vec<DeployFile>, InputError> {
    let (Some(pgb), Some(deploy)) = (&stack.pgbouncer, &stack.deploy) else {
        return Ok(Vec::new());
    };
    let n = &deploy.cnpg;
    let v = n.version.value;
    let mut params: Vec<(String, Yaml)> = Vec::new();
    for o in crate::render::context::pgbouncer_options(pgb) {
        if managed(&o.name).is_none() && allowed(&o.name, v) {
            params.push((o.name.clone(), s(o.value.clone())));
        }
    }
    let mut metadata = vec![("name".to_string(), s(&n.name.value))];
    if let Some(ns) = &n.namespace {
        metadata.push(("namespace".to_string(), s(&ns.value)));
    }
    let pool_mode = match pgb.pool_mode.value {
        PoolMode::Session => "session",
        _ => "transaction",
    };
    let doc = map([
        ("apiVersion", s("postgresql.cnpg.io/v1")),
        ("kind", s("Pooler")),
        ("metadata", Yaml::Map(metadata)),
        (
            "spec",
            map([
                ("cluster", map([("name", s(&n.cluster.value))])),
                ("instances", Yaml::Int(i64::from(n.instances.value))),
                ("type", s(n.pooler_type.value.as_str())),
                (
                    "pgbouncer",
                    map([
                        ("poolMode", s(pool_mode)),
                        ("parameters", Yaml::Map(params)),
                    ]),
                ),
            ]),
        ),
    ]);
    Ok(vec![DeployFile {
        target: T,
        rel: PathBuf::from(crate::defaults::OUT_DEPLOY)
            .join("cnpg")
            .join("pooler.yaml"),
        contents: doc.to_document(),
        secret: false,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_by_release_line() {
        let v = |t: &str| CnpgVersion::parse(t).unwrap();
        assert!(allowed("default_pool_size", v("1.10.0")));
        assert!(!allowed("so_reuseport", v("1.30.0")));
        assert!(!allowed("auth_file", v("1.30.0")));
        // auth_type: v1.25.4, backported to v1.26.2 and v1.27.1, all from v1.28.
        assert!(!allowed("auth_type", v("1.25.3")));
        assert!(allowed("auth_type", v("1.25.4")));
        assert!(!allowed("auth_type", v("1.26.1")));
        assert!(allowed("auth_type", v("1.26.2")));
        assert!(allowed("auth_type", v("1.28.0")));
        assert!(!allowed("pkt_buf", v("1.24.9")));
        assert!(allowed("pkt_buf", v("1.25.0")));
        assert!(!allowed("auth_user", v("1.30.0")));
    }
}
