//! `deploy/kubernetes/`: a ConfigMap (pgbouncer.ini), a Secret (userlist.txt), a Deployment and a
//! Service. Both are mounted as directories (no `subPath`), so kubelet refreshes them and a
//! RELOAD sees the new files; the pod template's `checksum/config` is the sha256 of the ini as
//! stored in the ConfigMap, so a changed ini rolls the Deployment.

use super::yaml::{Yaml, map, s, seq};
use super::{DeployFile, HostFiles, Loss, LossKind, loss, sha256_hex};
use crate::diag::InputError;
use crate::manifest::deploy::DeployTarget;
use crate::stack::{Origin, Setting, Stack};
use std::path::PathBuf;

const T: DeployTarget = DeployTarget::Kubernetes;
/// Where the ConfigMap is mounted (the image's CMD reads pgbouncer.ini from here).
pub const CONFIG_DIR: &str = "/etc/pgbouncer";
/// Where the Secret is mounted: the ini's `auth_file` points here.
pub const USERLIST_DIR: &str = "/etc/pgbouncer-auth";
pub const PORT_NAME: &str = "pgbouncer";
/// The Secret's file, relative to the output base.
pub const SECRET_REL: &str = "deploy/kubernetes/secret.yaml";

/// Settings the Kubernetes bundle runs differently.
pub fn cannot_express(stack: &Stack) -> Vec<Loss> {
    let Some(pgb) = &stack.pgbouncer else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(f) = &pgb.logfile {
        out.push(loss(
            T,
            LossKind::CannotExpress,
            format!("logfile = \"{}\"", f.value),
            "the ConfigMap's pgbouncer.ini has no logfile: PgBouncer logs to the container's stderr (kubectl logs)",
            f.loc(),
        ));
    }
    if let Some(f) = &pgb.pidfile {
        out.push(loss(
            T,
            LossKind::CannotExpress,
            format!("pidfile = \"{}\"", f.value),
            "the ConfigMap's pgbouncer.ini has no pidfile: the container runs PgBouncer in the foreground",
            f.loc(),
        ));
    }
    if !listens_on_pod_ip(&pgb.listen_addr.value) {
        out.push(loss(
            T,
            LossKind::CannotExpress,
            format!("listen_addr = \"{}\"", pgb.listen_addr.value),
            "the ConfigMap's pgbouncer.ini listens on * so that the Service reaches the pod",
            pgb.listen_addr.loc(),
        ));
    }
    out
}

fn listens_on_pod_ip(addr: &str) -> bool {
    addr.split(',')
        .any(|a| matches!(a.trim(), "*" | "0.0.0.0" | "::"))
}

/// The stack as the pod runs it: userlist in the Secret's mount, no log or pid file, reachable.
pub fn pod_stack(stack: &Stack) -> Stack {
    let mut adapted = stack.clone();
    if let Some(pgb) = &mut adapted.pgbouncer {
        let why = Origin::Default("Kubernetes target: the userlist Secret's mount");
        pgb.auth_file = Setting::new(format!("{USERLIST_DIR}/userlist.txt"), why);
        pgb.logfile = None;
        pgb.pidfile = None;
        if !listens_on_pod_ip(&pgb.listen_addr.value) {
            pgb.listen_addr = Setting::new(
                "*".to_string(),
                Origin::Default("Kubernetes target: reachable through the Service"),
            );
        }
    }
    adapted
}

pub struct Names {
    pub app: String,
    pub config: String,
    pub secret: String,
}

pub fn names(stack: &Stack) -> Option<Names> {
    let k = &stack.deploy.as_ref()?.kubernetes;
    let app = k.name.value.clone();
    Some(Names {
        config: format!("{app}-config"),
        secret: format!("{app}-userlist"),
        app,
    })
}

fn metadata(stack: &Stack, name: &str, labels: &Yaml) -> Yaml {
    let mut m = vec![("name".to_string(), s(name))];
    if let Some(ns) = stack
        .deploy
        .as_ref()
        .and_then(|d| d.kubernetes.namespace.as_ref())
    {
        m.push(("namespace".to_string(), s(&ns.value)));
    }
    m.push(("labels".to_string(), labels.clone()));
    Yaml::Map(m)
}

pub fn files(stack: &Stack, host: &HostFiles<'_>) -> Result<Vec<DeployFile>, InputError> {
    let (Some(pgb), Some(deploy), Some(n)) = (&stack.pgbouncer, &stack.deploy, names(stack)) else {
        return Ok(Vec::new());
    };
    let k = &deploy.kubernetes;
    let instance = crate::stack::deploy::kube_name_from(&stack.name.value);
    let selector = map([
        ("app.kubernetes.io/name", s(&n.app)),
        ("app.kubernetes.io/instance", s(&instance)),
    ]);
    let labels = {
        let Yaml::Map(mut l) = selector.clone() else {
            unreachable!("built as a map above")
        };
        l.push(("app.kubernetes.io/managed-by".into(), s("poolstack")));
        Yaml::Map(l)
    };
    let ini = (host.render_ini)(&pod_stack(stack))?;
    let checksum = sha256_hex(&ini);

    let configmap = map([
        ("apiVersion", s("v1")),
        ("kind", s("ConfigMap")),
        ("metadata", metadata(stack, &n.config, &labels)),
        ("data", map([("pgbouncer.ini", s(ini))])),
    ]);
    let deployment = map([
        ("apiVersion", s("apps/v1")),
        ("kind", s("Deployment")),
        ("metadata", metadata(stack, &n.app, &labels)),
        (
            "spec",
            map([
                ("replicas", Yaml::Int(i64::from(k.replicas.value))),
                ("selector", map([("matchLabels", selector.clone())])),
                (
                    "template",
                    map([
                        (
                            "metadata",
                            map([
                                ("labels", labels.clone()),
                                ("annotations", map([("checksum/config", s(&checksum))])),
                            ]),
                        ),
                        ("spec", pod_spec(stack, pgb, k, &n)),
                    ]),
                ),
            ]),
        ),
    ]);
    let service = map([
        ("apiVersion", s("v1")),
        ("kind", s("Service")),
        ("metadata", metadata(stack, &n.app, &labels)),
        (
            "spec",
            map([
                ("selector", selector),
                (
                    "ports",
                    seq([map([
                        ("name", s(PORT_NAME)),
                        ("port", Yaml::Int(i64::from(pgb.client_port.value))),
                        ("targetPort", s(PORT_NAME)),
                        ("protocol", s("TCP")),
                    ])]),
                ),
            ]),
        ),
    ]);
    let file = |name: &str, doc: Yaml, secret: bool| DeployFile {
        target: T,
        rel: PathBuf::from(crate::defaults::OUT_DEPLOY)
            .join("kubernetes")
            .join(name),
        contents: doc.to_document(),
        secret,
    };
    let mut out = vec![
        file("configmap.yaml", configmap, false),
        file("deployment.yaml", deployment, false),
        file("service.yaml", service, false),
    ];
    if let Some(userlist) = host.userlist {
        let secret = map([
            ("apiVersion", s("v1")),
            ("kind", s("Secret")),
            ("metadata", metadata(stack, &n.secret, &labels)),
            ("type", s("Opaque")),
            ("stringData", map([("userlist.txt", s(userlist))])),
        ]);
        let mut f = file("secret.yaml", secret, true);
        f.rel = PathBuf::from(SECRET_REL);
        out.push(f);
    }
    Ok(out)
}

fn pod_spec(
    stack: &Stack,
    pgb: &crate::stack::Pgbouncer,
    k: &crate::stack::deploy::KubernetesDeploy,
    n: &Names,
) -> Yaml {
    let _ = stack;
    let probe = |initial: i64, period: i64| {
        map([
            ("tcpSocket", map([("port", s(PORT_NAME))])),
            ("initialDelaySeconds", Yaml::Int(initial)),
            ("periodSeconds", Yaml::Int(period)),
        ])
    };
    map([
        // The preStop hook's safe shutdown (below) and pooled apps' moving take up to a minute.
        ("terminationGracePeriodSeconds", Yaml::Int(60)),
        (
            "containers",
            seq([map([
                ("name", s("pgbouncer")),
                ("image", s(&k.image.value)),
                (
                    "ports",
                    seq([map([
                        ("name", s(PORT_NAME)),
                        ("containerPort", Yaml::Int(i64::from(pgb.listen_port.value))),
                        ("protocol", s("TCP")),
                    ])]),
                ),
                ("readinessProbe", probe(2, 10)),
                ("livenessProbe", probe(10, 20)),
                // Kubernetes sends SIGTERM, which before PgBouncer 1.23 shuts down at once,
                // cutting transactions in flight. SIGINT is the safe shutdown (it waits for
                // the server connections in use); PgBouncer is PID 1 in the images. The pause
                // first lets the Service stop sending new clients to this pod.
                (
                    "lifecycle",
                    map([(
                        "preStop",
                        map([(
                            "exec",
                            map([(
                                "command",
                                seq([s("/bin/sh"), s("-c"), s("sleep 5; kill -INT 1; sleep 50")]),
                            )]),
                        )]),
                    )]),
                ),
                // What PgBouncer never needs; the user and filesystem stay the image's own.
                (
                    "securityContext",
                    map([
                        ("allowPrivilegeEscalation", Yaml::Bool(false)),
                        ("capabilities", map([("drop", seq([s("ALL")]))])),
                        ("seccompProfile", map([("type", s("RuntimeDefault"))])),
                    ]),
                ),
                (
                    "resources",
                    map([
                        (
                            "requests",
                            map([
                                ("cpu", s(&k.cpu_request.value)),
                                ("memory", s(&k.memory_request.value)),
                            ]),
                        ),
                        ("limits", map([("memory", s(&k.memory_limit.value))])),
                    ]),
                ),
                (
                    "volumeMounts",
                    seq([
                        map([
                            ("name", s("config")),
                            ("mountPath", s(CONFIG_DIR)),
                            ("readOnly", Yaml::Bool(true)),
                        ]),
                        map([
                            ("name", s("userlist")),
                            ("mountPath", s(USERLIST_DIR)),
                            ("readOnly", Yaml::Bool(true)),
                        ]),
                    ]),
                ),
            ])]),
        ),
        (
            "volumes",
            seq([
                map([
                    ("name", s("config")),
                    ("configMap", map([("name", s(&n.config))])),
                ]),
                map([
                    ("name", s("userlist")),
                    (
                        "secret",
                        map([
                            ("secretName", s(&n.secret)),
                            // 0444: the image runs PgBouncer as a non-root user.
                            ("defaultMode", Yaml::Int(0o444)),
                        ]),
                    ),
                ]),
            ]),
        ),
    ])
}
