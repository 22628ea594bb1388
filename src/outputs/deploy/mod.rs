//! Deploy targets: `[deploy] targets` → files under `deploy/` (compose, Kubernetes, CloudNativePG).
//! Each target reads only the resolved [`Stack`], lays out its files, and lists what it cannot
//! express ([`Loss`]); the DEP rules turn that list into findings, and a target with a loss it
//! refuses (DEP002) is not written. A target never decides policy and never drops a setting
//! silently: whatever it leaves out or forces is in its list.

pub mod cnpg;
pub mod compose;
pub mod kubernetes;
pub mod yaml;

use crate::diag::InputError;
use crate::manifest::deploy::DeployTarget;
use crate::source::Loc;
use crate::stack::Stack;
use std::path::PathBuf;

/// A setting a target cannot express as the stack says.
#[derive(Debug, Clone, PartialEq)]
pub struct Loss {
    pub target: DeployTarget,
    /// The setting, as the manifest names it (`so_reuseport`, `[pgbouncer] pool_mode`).
    pub setting: String,
    pub kind: LossKind,
    /// What happens instead (DEP001) or why the target refuses it (DEP002).
    pub instead: String,
    /// Where the setting was written, if it was.
    pub loc: Option<Loc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossKind {
    /// Dropped or forced to another value: the target still runs (DEP001).
    CannotExpress,
    /// Rejected at admission or start: the target's files are not written (DEP002).
    Refuses,
}

/// One file of a deploy target, relative to the output base.
#[derive(Debug, Clone)]
pub struct DeployFile {
    pub target: DeployTarget,
    /// Relative to the output base, e.g. `deploy/kubernetes/configmap.yaml`.
    pub rel: PathBuf,
    pub contents: String,
    /// Holds verifiers (the Kubernetes Secret): mode 0600, never diffed.
    pub secret: bool,
}

/// What the targets need from the files render builds for the host.
pub struct HostFiles<'a> {
    /// The rendered pgbouncer.ini exactly as written.
    pub pgbouncer_ini: &'a str,
    /// userlist.txt, when every password was available.
    pub userlist: Option<&'a str>,
    /// Render the pgbouncer.ini template (with its header) for a stack the target adapted.
    pub render_ini: &'a dyn Fn(&Stack) -> Result<String, InputError>,
}

/// Every declared target's losses, in target order.
pub fn cannot_express(stack: &Stack) -> Vec<Loss> {
    let Some(deploy) = &stack.deploy else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in &deploy.targets {
        out.extend(match t.value {
            DeployTarget::Compose => compose::cannot_express(stack),
            DeployTarget::Kubernetes => kubernetes::cannot_express(stack),
            DeployTarget::Cnpg => cnpg::cannot_express(stack),
        });
    }
    out
}

/// The files of every declared target that refuses nothing, and the targets left out.
pub fn files(
    stack: &Stack,
    host: &HostFiles<'_>,
) -> Result<(Vec<DeployFile>, Vec<DeployTarget>), InputError> {
    let Some(deploy) = &stack.deploy else {
        return Ok((Vec::new(), Vec::new()));
    };
    let losses = cannot_express(stack);
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for t in &deploy.targets {
        let target = t.value;
        if losses
            .iter()
            .any(|l| l.target == target && l.kind == LossKind::Refuses)
        {
            refused.push(target);
            continue;
        }
        out.extend(match target {
            DeployTarget::Compose => compose::files(stack, host)?,
            DeployTarget::Kubernetes => kubernetes::files(stack, host)?,
            DeployTarget::Cnpg => cnpg::files(stack)?,
        });
    }
    Ok((out, refused))
}

/// sha256 of text, lowercase hex.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A loss of `target` about `setting`, pointing at where the stack got it.
pub(crate) fn loss(
    target: DeployTarget,
    kind: LossKind,
    setting: impl Into<String>,
    instead: impl Into<String>,
    loc: Option<&Loc>,
) -> Loss {
    Loss {
        target,
        setting: setting.into(),
        kind,
        instead: instead.into(),
        loc: loc.cloned(),
    }
}
