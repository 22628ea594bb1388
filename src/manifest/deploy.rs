//! The `[deploy]` table of `stack.toml`: which deploy targets `render` writes, and what only
//! each target needs. Every per-target key is optional (defaults in `crate::defaults`).

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployTable {
    /// The targets `render` writes under `deploy/` (any subset; none by default).
    #[serde(default)]
    pub targets: Vec<DeployTarget>,
    pub compose: Option<ComposeTable>,
    pub kubernetes: Option<KubernetesTable>,
    pub cnpg: Option<CnpgTable>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeployTarget {
    Compose,
    Kubernetes,
    Cnpg,
}

impl DeployTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            DeployTarget::Compose => "compose",
            DeployTarget::Kubernetes => "kubernetes",
            DeployTarget::Cnpg => "cnpg",
        }
    }
}

/// `[deploy.compose]`: deploy/compose.yaml.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComposeTable {
    /// PostgreSQL image (default `postgres:<postgres.version>`).
    pub postgres_image: Option<String>,
    /// PgBouncer image (default `edoburu/pgbouncer:v1.25.2-p0`).
    pub pgbouncer_image: Option<String>,
    /// Host port PgBouncer is published on (default: not published).
    pub pgbouncer_host_port: Option<u16>,
    /// Each app's image, by `[[apps]] name` (default `<name>:latest`). App services run under
    /// the compose profile `apps` (`docker compose --profile apps up`), with the app's rendered
    /// env file.
    #[serde(default)]
    pub app_images: std::collections::BTreeMap<String, String>,
}

/// `[deploy.kubernetes]`: deploy/kubernetes/.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KubernetesTable {
    /// Namespace of every object (default: none written, kubectl's current one).
    pub namespace: Option<String>,
    /// Name of the objects and their `app.kubernetes.io/name` label (default `pgbouncer`).
    pub name: Option<String>,
    /// PgBouncer image (default `edoburu/pgbouncer:v1.25.2-p0`).
    pub image: Option<String>,
    /// Deployment replicas (default: `[pgbouncer] instances`).
    pub replicas: Option<u32>,
    /// Container resource requests/limits, Kubernetes quantities (defaults: cpu request "100m",
    /// memory request and limit "64Mi").
    pub cpu_request: Option<String>,
    pub memory_request: Option<String>,
    pub memory_limit: Option<String>,
}

/// `[deploy.cnpg]`: deploy/cnpg/pooler.yaml, a CloudNativePG `Pooler`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CnpgTable {
    /// The CNPG `Cluster` the pooler serves (default: the stack name, `_` → `-`).
    pub cluster: Option<String>,
    /// The Pooler's name (default `<cluster>-pooler-<type>`).
    pub name: Option<String>,
    /// The operator release whose allowlist applies, "1.30" or "1.30.0" (default "1.30.0").
    pub version: Option<String>,
    /// Pooler `instances` (default: `[pgbouncer] instances`).
    pub instances: Option<u32>,
    /// Which cluster service it pools: rw (default), ro or r.
    #[serde(rename = "type")]
    pub pooler_type: Option<PoolerType>,
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolerType {
    Rw,
    Ro,
    R,
}

impl PoolerType {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolerType::Rw => "rw",
            PoolerType::Ro => "ro",
            PoolerType::R => "r",
        }
    }
}
