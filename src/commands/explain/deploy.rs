//! `deploy.targets`, `deploy.TARGET` (the target's table as a whole) and `deploy.TARGET.KEY`: the
//! `[deploy]` table's effective values and where each came from.

use super::{Cx, Found};
use crate::stack::deploy::Deploy;
use crate::stack::{Origin, Setting};

/// One key of a target's table: its effective value (or `None` when not set) and its origin.
type Row = (&'static str, Option<String>, Origin);

fn row<T: std::fmt::Display>(key: &'static str, s: &Setting<T>) -> Row {
    (key, Some(s.value.to_string()), s.origin.clone())
}

fn opt_row<T: std::fmt::Display>(
    key: &'static str,
    s: &Option<Setting<T>>,
    unset: &'static str,
) -> Row {
    match s {
        Some(s) => row(key, s),
        None => (key, None, Origin::Default(unset)),
    }
}

fn rows(d: &Deploy, target: &str) -> Option<Vec<Row>> {
    Some(match target {
        "compose" => {
            let c = &d.compose;
            let apps = c
                .app_images
                .iter()
                .map(|(app, image)| format!("{app} = {}", image.value))
                .collect::<Vec<_>>()
                .join(", ");
            let apps_origin = c
                .app_images
                .iter()
                .map(|(_, i)| i.origin.clone())
                .find(|o| matches!(o, Origin::Manifest(_)))
                .unwrap_or(Origin::Default("\"<app name>:latest\" for each app"));
            vec![
                row("postgres_image", &c.postgres_image),
                row("pgbouncer_image", &c.pgbouncer_image),
                opt_row(
                    "pgbouncer_host_port",
                    &c.pgbouncer_host_port,
                    "not set: PgBouncer is not published on the host",
                ),
                (
                    "app_images",
                    (!apps.is_empty()).then_some(apps),
                    apps_origin,
                ),
            ]
        }
        "kubernetes" => {
            let k = &d.kubernetes;
            vec![
                opt_row(
                    "namespace",
                    &k.namespace,
                    "not set: kubectl's current namespace",
                ),
                row("name", &k.name),
                row("image", &k.image),
                row("replicas", &k.replicas),
                row("cpu_request", &k.cpu_request),
                row("memory_request", &k.memory_request),
                row("memory_limit", &k.memory_limit),
            ]
        }
        "cnpg" => {
            let c = &d.cnpg;
            vec![
                row("cluster", &c.cluster),
                row("name", &c.name),
                row("version", &c.version),
                row("instances", &c.instances),
                (
                    "type",
                    Some(c.pooler_type.value.as_str().to_string()),
                    c.pooler_type.origin.clone(),
                ),
                opt_row(
                    "namespace",
                    &c.namespace,
                    "not set: kubectl's current namespace",
                ),
            ]
        }
        _ => return None,
    })
}

/// `deploy.KEY`; `None` for a key the table does not have.
pub(super) fn key(cx: &Cx<'_>, rest: &str) -> Option<Found> {
    let name = format!("deploy.{rest}");
    let n = name.as_str();
    let Some(d) = &cx.stack.deploy else {
        return Some(Found::unset(
            n,
            "no [deploy] table: render writes no deploy target",
        ));
    };
    if rest == "targets" {
        let text = d
            .targets
            .iter()
            .map(|t| t.value.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return Some(match cx.written(&["deploy", "targets"]) {
            Some(o) => Found::new(n, text, o),
            None => Found::unset(n, "no deploy target: render writes nothing under deploy/"),
        });
    }
    let (target, key) = match rest.split_once('.') {
        Some((t, k)) => (t, Some(k)),
        None => (rest, None),
    };
    let rows = rows(d, target)?;
    match key {
        // The whole table: each key with its effective value.
        None => {
            let text = rows
                .iter()
                .map(|(k, v, _)| format!("{k} = {}", v.as_deref().unwrap_or("(not set)")))
                .collect::<Vec<_>>()
                .join(", ");
            let origin = cx
                .written(&["deploy", target])
                .unwrap_or(Origin::Default("poolstack's defaults for this target"));
            Some(Found::new(n, text, origin))
        }
        Some(key) => {
            let (_, value, origin) = rows.into_iter().find(|(k, _, _)| *k == key)?;
            Some(match value {
                Some(v) => Found::new(n, v, origin),
                None => Found::unset(
                    n,
                    match origin {
                        Origin::Default(why) => why,
                        _ => "not set",
                    },
                ),
            })
        }
    }
}
