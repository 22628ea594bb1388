//! The resolved `[deploy]` part of a [`super::Stack`]: which targets render writes and what each
//! needs, every value with its origin. Built by `stack::resolve::deploy`.

use super::Setting;
use crate::manifest::deploy::{DeployTarget, PoolerType};

#[derive(Debug, Clone)]
pub struct Deploy {
    /// In manifest order, each once.
    pub targets: Vec<Setting<DeployTarget>>,
    pub compose: ComposeDeploy,
    pub kubernetes: KubernetesDeploy,
    pub cnpg: CnpgDeploy,
}

impl Deploy {
    pub fn wants(&self, target: DeployTarget) -> bool {
        self.targets.iter().any(|t| t.value == target)
    }
}

#[derive(Debug, Clone)]
pub struct ComposeDeploy {
    pub postgres_image: Setting<String>,
    pub pgbouncer_image: Setting<String>,
    pub pgbouncer_host_port: Option<Setting<u16>>,
    /// Per `[[apps]]` name, in the apps' order: the app's image.
    pub app_images: Vec<(String, Setting<String>)>,
}

#[derive(Debug, Clone)]
pub struct KubernetesDeploy {
    pub namespace: Option<Setting<String>>,
    pub name: Setting<String>,
    pub image: Setting<String>,
    pub replicas: Setting<u32>,
    pub cpu_request: Setting<String>,
    pub memory_request: Setting<String>,
    pub memory_limit: Setting<String>,
}

#[derive(Debug, Clone)]
pub struct CnpgDeploy {
    pub cluster: Setting<String>,
    pub name: Setting<String>,
    pub version: Setting<CnpgVersion>,
    pub instances: Setting<u32>,
    pub pooler_type: Setting<PoolerType>,
    pub namespace: Option<Setting<String>>,
}

/// A CloudNativePG operator release, `1.30.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CnpgVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl CnpgVersion {
    /// The releases whose Pooler allowlist poolstack knows (v1.10.0 … v1.30.0).
    pub const MIN_SUPPORTED: CnpgVersion = CnpgVersion::new(1, 10, 0);
    pub const MAX_SUPPORTED: CnpgVersion = CnpgVersion::new(1, 30, 0);

    pub const fn new(major: u32, minor: u32, patch: u32) -> CnpgVersion {
        CnpgVersion {
            major,
            minor,
            patch,
        }
    }

    /// "1.30", "1.30.0" or "v1.30.0"; a missing patch is .0 (the release's first tag).
    pub fn parse(text: &str) -> Option<CnpgVersion> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = match parts.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(CnpgVersion::new(major, minor, patch))
    }
}

impl std::fmt::Display for CnpgVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A Kubernetes object name from free text: lowercase, `_`/spaces → `-`, other characters dropped.
pub fn kube_name_from(text: &str) -> String {
    let mapped: String = text
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '_' | '-' | ' ' | '.' => Some('-'),
            _ => None,
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    trimmed
        .chars()
        .take(63)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}
