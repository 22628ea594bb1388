//! `[deploy]` → [`Deploy`]: the deploy targets and what only each needs, every value with its
//! origin. Self-contained: [`resolve`] takes the loaded manifest and the parts of the stack it
//! derives defaults from (stack name, PostgreSQL version, PgBouncer instances).

use crate::defaults as d;
use crate::diag::InputError;
use crate::manifest::deploy::{DeployTable, DeployTarget, PoolerType};
use crate::manifest::{LoadedManifest, path};
use crate::stack::deploy::{
    CnpgDeploy, CnpgVersion, ComposeDeploy, Deploy, KubernetesDeploy, kube_name_from,
};
use crate::stack::{Origin, Pgbouncer, Setting};

/// The resolved `[deploy]` table; `None` when the manifest has none. Exit-2 errors for values no
/// target could run with (names that are not Kubernetes names, unknown operator releases, targets
/// without PgBouncer).
pub(super) fn resolve(
    m: &LoadedManifest,
    stack_name: &Setting<String>,
    pg_version: u32,
    pgbouncer: Option<&Pgbouncer>,
) -> Result<Option<Deploy>, InputError> {
    let Some(t) = &m.manifest.deploy else {
        return Ok(None);
    };
    let cx = Cx { m };
    let targets = targets(&cx, t)?;
    if let Some(first) = targets.first()
        && pgbouncer.is_none()
    {
        return Err(cx
            .error(
                &["deploy", "targets"],
                format!(
                    "deploy target `{}` runs PgBouncer, but the stack has no (enabled) [pgbouncer]",
                    first.value.as_str()
                ),
            )
            .with_help("add a [pgbouncer] table, or remove the targets"));
    }
    let instances = pgbouncer
        .map(|p| p.instances.clone())
        .unwrap_or(Setting::new(
            d::INSTANCES,
            Origin::Default("poolstack's default"),
        ));
    let from_instances = |value: Option<u32>, parts: &[&str]| match value {
        Some(v) => Setting::new(v, cx.origin(parts)),
        None => Setting::new(
            instances.value,
            Origin::Derived {
                formula: format!("[pgbouncer] instances = {}", instances.value),
                inputs: instances.loc().cloned().into_iter().collect(),
            },
        ),
    };

    let c = t.compose.clone().unwrap_or_default();
    let mut app_images = Vec::new();
    for app in &m.manifest.apps {
        let p = ["deploy", "compose", "app_images", app.name.as_str()];
        let image = cx.text(
            &p,
            c.app_images.get(&app.name).cloned(),
            format!("{}:latest", crate::stack::deploy::kube_name_from(&app.name)),
            "poolstack's default: <app name>:latest",
        )?;
        app_images.push((app.name.clone(), image));
    }
    if let Some(unknown) = c
        .app_images
        .keys()
        .find(|k| !m.manifest.apps.iter().any(|a| &a.name == *k))
    {
        let key = m
            .key_loc(&path(&["deploy", "compose", "app_images", unknown]))
            .map(|loc| {
                InputError::located(
                    format!("`{unknown}` is not an [[apps]] name"),
                    loc,
                    &m.sources,
                )
            })
            .unwrap_or_else(|| {
                InputError::new(format!(
                    "`{unknown}` in [deploy.compose] app_images is not an [[apps]] name"
                ))
            });
        return Err(key.with_help("name one of the [[apps]], or remove the entry"));
    }
    let compose = ComposeDeploy {
        postgres_image: cx.text(
            &["deploy", "compose", "postgres_image"],
            c.postgres_image,
            format!("postgres:{pg_version}"),
            "the official image of [postgres] version",
        )?,
        pgbouncer_image: cx.text(
            &["deploy", "compose", "pgbouncer_image"],
            c.pgbouncer_image,
            d::DEPLOY_PGBOUNCER_IMAGE.to_string(),
            "poolstack's default image",
        )?,
        pgbouncer_host_port: c
            .pgbouncer_host_port
            .map(|p| Setting::new(p, cx.origin(&["deploy", "compose", "pgbouncer_host_port"]))),
        app_images,
    };

    let k = t.kubernetes.clone().unwrap_or_default();
    let kubernetes = KubernetesDeploy {
        namespace: cx.k8s_name_opt(&["deploy", "kubernetes", "namespace"], k.namespace)?,
        name: cx.k8s_name(
            &["deploy", "kubernetes", "name"],
            k.name,
            d::DEPLOY_K8S_NAME.to_string(),
            "poolstack's default",
        )?,
        image: cx.text(
            &["deploy", "kubernetes", "image"],
            k.image,
            d::DEPLOY_PGBOUNCER_IMAGE.to_string(),
            "poolstack's default image",
        )?,
        replicas: from_instances(k.replicas, &["deploy", "kubernetes", "replicas"]),
        cpu_request: cx.quantity(
            &["deploy", "kubernetes", "cpu_request"],
            k.cpu_request,
            d::DEPLOY_K8S_CPU_REQUEST,
        )?,
        memory_request: cx.quantity(
            &["deploy", "kubernetes", "memory_request"],
            k.memory_request,
            d::DEPLOY_K8S_MEMORY,
        )?,
        memory_limit: cx.quantity(
            &["deploy", "kubernetes", "memory_limit"],
            k.memory_limit,
            d::DEPLOY_K8S_MEMORY,
        )?,
    };

    let n = t.cnpg.clone().unwrap_or_default();
    let cluster = match n.cluster {
        Some(c) => cx.k8s_name(&["deploy", "cnpg", "cluster"], Some(c), String::new(), "")?,
        None => {
            let derived = kube_name_from(&stack_name.value);
            let origin = Origin::Derived {
                formula: format!("[stack] name \"{}\" as a Kubernetes name", stack_name.value),
                inputs: stack_name.loc().cloned().into_iter().collect(),
            };
            if derived.is_empty() {
                return Err(cx
                    .error(
                        &["stack", "name"],
                        "the stack name gives no CloudNativePG cluster name".to_string(),
                    )
                    .with_help("add `cluster = \"NAME\"` under [deploy.cnpg]"));
            }
            Setting::new(derived, origin)
        }
    };
    let pooler_type = match n.pooler_type {
        Some(v) => Setting::new(v, cx.origin(&["deploy", "cnpg", "type"])),
        None => Setting::new(PoolerType::Rw, Origin::Default("poolstack's default")),
    };
    let name = match n.name {
        Some(v) => cx.k8s_name(&["deploy", "cnpg", "name"], Some(v), String::new(), "")?,
        None => Setting::new(
            format!("{}-pooler-{}", cluster.value, pooler_type.value.as_str()),
            Origin::Derived {
                formula: "<cluster>-pooler-<type>".to_string(),
                inputs: cluster.loc().cloned().into_iter().collect(),
            },
        ),
    };
    let version = match n.version {
        None => Setting::new(
            CnpgVersion::parse(d::DEPLOY_CNPG_VERSION).unwrap_or(CnpgVersion::MAX_SUPPORTED),
            Origin::Default("the release whose Pooler schema poolstack's facts hold"),
        ),
        Some(text) => {
            let p = ["deploy", "cnpg", "version"];
            let v = CnpgVersion::parse(&text).ok_or_else(|| {
                cx.error(&p, format!("`{text}` is not a CloudNativePG release"))
                    .with_help("write the operator release, e.g. `version = \"1.30.0\"`")
            })?;
            if !(CnpgVersion::MIN_SUPPORTED..=CnpgVersion::MAX_SUPPORTED).contains(&v) {
                return Err(cx
                    .error(
                        &p,
                        format!(
                            "CloudNativePG {v} is not known: poolstack knows the Pooler allowlist of {} to {}",
                            CnpgVersion::MIN_SUPPORTED,
                            CnpgVersion::MAX_SUPPORTED
                        ),
                    )
                    .with_help("write a release from that range (the one whose allowlist your operator enforces is the closest lower one)"));
            }
            Setting::new(v, cx.origin(&p))
        }
    };
    let cnpg = CnpgDeploy {
        namespace: cx.k8s_name_opt(&["deploy", "cnpg", "namespace"], n.namespace)?,
        instances: from_instances(n.instances, &["deploy", "cnpg", "instances"]),
        cluster,
        name,
        version,
        pooler_type,
    };
    Ok(Some(Deploy {
        targets,
        compose,
        kubernetes,
        cnpg,
    }))
}

/// A DNS-1123 label (what Kubernetes names and namespaces must be).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A Kubernetes resource quantity: a decimal number with an optional suffix.
pub fn is_quantity(s: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let digits_end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(digits_end);
    !num.is_empty()
        && num.chars().filter(|c| *c == '.').count() <= 1
        && num != "."
        && SUFFIXES.contains(&suffix)
}

fn targets(cx: &Cx<'_>, t: &DeployTable) -> Result<Vec<Setting<DeployTarget>>, InputError> {
    let mut out: Vec<Setting<DeployTarget>> = Vec::new();
    for (i, target) in t.targets.iter().enumerate() {
        let idx = i.to_string();
        if out.iter().any(|s| s.value == *target) {
            return Err(cx
                .error(
                    &["deploy", "targets", &idx],
                    format!("deploy target `{}` is listed twice", target.as_str()),
                )
                .with_help("list each target once"));
        }
        out.push(Setting::new(
            *target,
            cx.origin(&["deploy", "targets", &idx]),
        ));
    }
    Ok(out)
}

struct Cx<'a> {
    m: &'a LoadedManifest,
}

impl Cx<'_> {
    fn origin(&self, parts: &[&str]) -> Origin {
        match self.m.loc(&path(parts)) {
            Some(loc) => Origin::Manifest(loc),
            None => Origin::Default("written without a place"),
        }
    }

    fn error(&self, parts: &[&str], message: String) -> InputError {
        match self.m.loc(&path(parts)) {
            Some(loc) => InputError::located(message, loc, &self.m.sources),
            None => InputError::new(message),
        }
    }

    /// A free-text value that ends up in YAML: one line, not empty.
    fn text(
        &self,
        parts: &[&str],
        value: Option<String>,
        default: String,
        why: &'static str,
    ) -> Result<Setting<String>, InputError> {
        match value {
            None => Ok(Setting::new(default, Origin::Default(why))),
            Some(v) if v.trim().is_empty() || v.chars().any(char::is_control) => Err(self
                .error(
                    parts,
                    format!("`{}` must be one non-empty line", parts.join(".")),
                )
                .with_help("write an image reference, e.g. \"edoburu/pgbouncer:v1.25.2-p0\"")),
            Some(v) => Ok(Setting::new(v, self.origin(parts))),
        }
    }

    fn k8s_name(
        &self,
        parts: &[&str],
        value: Option<String>,
        default: String,
        why: &'static str,
    ) -> Result<Setting<String>, InputError> {
        match value {
            None => Ok(Setting::new(default, Origin::Default(why))),
            Some(v) if is_dns_label(&v) => Ok(Setting::new(v, self.origin(parts))),
            Some(v) => Err(self
                .error(
                    parts,
                    format!("`{v}` is not a Kubernetes name: lowercase letters, digits and `-`, at most 63, starting and ending with a letter or digit"),
                )
                .with_help(format!("e.g. \"{}\"", {
                    let s = kube_name_from(&v);
                    if s.is_empty() { "pgbouncer".to_string() } else { s }
                }))),
        }
    }

    fn k8s_name_opt(
        &self,
        parts: &[&str],
        value: Option<String>,
    ) -> Result<Option<Setting<String>>, InputError> {
        match value {
            None => Ok(None),
            v => self.k8s_name(parts, v, String::new(), "").map(Some),
        }
    }

    fn quantity(
        &self,
        parts: &[&str],
        value: Option<String>,
        default: &'static str,
    ) -> Result<Setting<String>, InputError> {
        match value {
            None => Ok(Setting::new(default.to_string(), Origin::Default("poolstack's default"))),
            Some(v) if is_quantity(&v) => Ok(Setting::new(v, self.origin(parts))),
            Some(v) => Err(self
                .error(parts, format!("`{v}` is not a Kubernetes quantity"))
                .with_help("write a number with an optional suffix, e.g. \"100m\" (CPU) or \"64Mi\" (memory)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quantities() {
        assert_eq!(kube_name_from("mt5_trading"), "mt5-trading");
        assert_eq!(kube_name_from("_A b_"), "a-b");
        assert!(is_dns_label("mt5-trading"));
        assert!(!is_dns_label("mt5_trading"));
        assert!(!is_dns_label("-a"));
        assert!(is_quantity("100m") && is_quantity("64Mi") && is_quantity("0.5"));
        assert!(!is_quantity("100mm") && !is_quantity("Mi") && !is_quantity("1.2.3"));
    }

    #[test]
    fn cnpg_versions() {
        assert_eq!(CnpgVersion::parse("1.30"), Some(CnpgVersion::new(1, 30, 0)));
        assert_eq!(
            CnpgVersion::parse("v1.25.4"),
            Some(CnpgVersion::new(1, 25, 4))
        );
        assert_eq!(CnpgVersion::parse("1.x"), None);
        assert_eq!(CnpgVersion::parse("1.2.3.4"), None);
    }
}
