//! `[deploy]` targets: what the schemas and validators do not check — selectors match template
//! labels, targetPort names a real container port, everything referenced exists in the bundle,
//! the config checksum equals the stored ini, userlist only in the Secret, no password anywhere,
//! deterministic bytes, a one-setting change stays local; DEP002 keeps a target unwritten;
//! manifest errors exit 2 with a location.

mod support;

use serde_json::Value;
use std::path::Path;
use support::deploy::{self as dep, PASSWORD};

const FIXTURE: &str = "mt5-deploy";

fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn rendered() -> tempfile::TempDir {
    let (dir, out) = dep::render(FIXTURE, |t| t);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn labels_match(selector: &Value, labels: &Value) -> bool {
    let (Some(sel), Some(lab)) = (selector.as_object(), labels.as_object()) else {
        return false;
    };
    !sel.is_empty() && sel.iter().all(|(k, v)| lab.get(k) == Some(v))
}

#[test]
fn targets_alone_render_all_three() {
    let dir = rendered();
    for rel in [
        "deploy/compose.yaml",
        "deploy/compose/postgresql.conf",
        "deploy/kubernetes/configmap.yaml",
        "deploy/kubernetes/secret.yaml",
        "deploy/kubernetes/deployment.yaml",
        "deploy/kubernetes/service.yaml",
        "deploy/cnpg/pooler.yaml",
    ] {
        assert!(dir.path().join(rel).is_file(), "{rel} was not written");
    }
    // The Secret holds verifiers: 0600 like userlist.txt.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("deploy/kubernetes/secret.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn rendering_twice_yields_identical_bytes() {
    let dir = rendered();
    let first: Vec<(std::path::PathBuf, Vec<u8>)> = dep::files_under(dir.path())
        .into_iter()
        .map(|p| {
            let b = std::fs::read(dir.path().join(&p)).unwrap();
            (p, b)
        })
        .collect();
    let out = dep::render_in(dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (p, bytes) in &first {
        assert_eq!(
            &std::fs::read(dir.path().join(p)).unwrap(),
            bytes,
            "{}",
            p.display()
        );
    }
    // And in another directory: the same bytes too.
    let other = rendered();
    for (p, bytes) in first.iter().filter(|(p, _)| p.starts_with("deploy")) {
        assert_eq!(
            &std::fs::read(other.path().join(p)).unwrap(),
            bytes,
            "{}",
            p.display()
        );
    }
}

#[test]
fn kubernetes_bundle_refers_only_to_what_it_holds() {
    for fixture in [FIXTURE, "deploy-scaled"] {
        let (dir, out) = dep::render(fixture, |t| t);
        assert!(out.status.success(), "{fixture}");
        kubernetes_bundle_checks(&dir);
    }
}

fn kubernetes_bundle_checks(dir: &tempfile::TempDir) {
    let k = |f: &str| dep::one_doc(&dir.path().join("deploy/kubernetes").join(f));
    let (Some(cm), Some(secret), Some(deploy), Some(svc)) = (
        k("configmap.yaml"),
        k("secret.yaml"),
        k("deployment.yaml"),
        k("service.yaml"),
    ) else {
        return;
    };
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(secret["kind"], "Secret");
    let template = &deploy["spec"]["template"];
    let labels = &template["metadata"]["labels"];
    assert!(labels_match(
        &deploy["spec"]["selector"]["matchLabels"],
        labels
    ));
    assert!(labels_match(&svc["spec"]["selector"], labels));

    let container = &template["spec"]["containers"][0];
    let port_names: Vec<&str> = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for p in svc["spec"]["ports"].as_array().unwrap() {
        let target = p["targetPort"].as_str().expect("targetPort is a port name");
        assert!(
            port_names.contains(&target),
            "targetPort {target} is not a container port"
        );
    }
    for probe in ["readinessProbe", "livenessProbe"] {
        let port = container[probe]["tcpSocket"]["port"].as_str().unwrap();
        assert!(port_names.contains(&port), "{probe} port {port}");
    }
    // A rolling update ends PgBouncer with SIGINT (safe shutdown) inside the grace period.
    let pre_stop = container["lifecycle"]["preStop"]["exec"]["command"].to_string();
    assert!(pre_stop.contains("kill -INT 1"), "{pre_stop}");
    assert_eq!(template["spec"]["terminationGracePeriodSeconds"], 60);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );

    // Volumes name the bundle's ConfigMap and Secret; mounts name volumes; no subPath.
    let volumes = template["spec"]["volumes"].as_array().unwrap();
    let mut mount_dirs = std::collections::BTreeMap::new();
    for m in container["volumeMounts"].as_array().unwrap() {
        assert!(
            m.get("subPath").is_none(),
            "a subPath mount never sees updates: {m}"
        );
        assert_eq!(m["readOnly"], true);
        let v = volumes
            .iter()
            .find(|v| v["name"] == m["name"])
            .expect("mount names a volume");
        if let Some(name) = v["configMap"]["name"].as_str() {
            assert_eq!(name, cm["metadata"]["name"]);
            mount_dirs.insert("configmap", m["mountPath"].as_str().unwrap().to_string());
        } else if let Some(name) = v["secret"]["secretName"].as_str() {
            assert_eq!(name, secret["metadata"]["name"]);
            mount_dirs.insert("secret", m["mountPath"].as_str().unwrap().to_string());
        } else {
            panic!("a volume the bundle does not hold: {v}");
        }
    }

    // checksum/config is the sha256 of the ini exactly as stored in the ConfigMap.
    let ini = cm["data"]["pgbouncer.ini"].as_str().unwrap();
    assert_eq!(
        template["metadata"]["annotations"]["checksum/config"],
        dep::sha256_hex(ini.as_bytes())
    );
    // The ini's auth_file is the Secret's key in the Secret's mount.
    let auth_file = ini
        .lines()
        .find_map(|l| l.strip_prefix("auth_file = "))
        .unwrap();
    assert_eq!(auth_file, format!("{}/userlist.txt", mount_dirs["secret"]));
    // The Secret holds the userlist render wrote, byte for byte; it is never in a ConfigMap.
    let userlist = read(dir.path(), "pgbouncer/userlist.txt");
    assert_eq!(
        secret["stringData"]["userlist.txt"].as_str(),
        Some(userlist.as_str())
    );
    assert_eq!(cm["data"].as_object().unwrap().len(), 1);
    for entry in userlist.lines() {
        assert!(!ini.contains(entry));
    }
    // The ini PgBouncer runs in the pod keeps the pool settings of the host's file.
    let host_ini = read(dir.path(), "pgbouncer/pgbouncer.ini");
    for key in [
        "pool_mode",
        "default_pool_size",
        "max_client_conn",
        "listen_port",
    ] {
        let line = |t: &str| {
            t.lines()
                .find(|l| l.starts_with(&format!("{key} = ")))
                .map(str::to_string)
        };
        assert_eq!(line(ini), line(&host_ini), "{key}");
    }
    // replicas = [pgbouncer] instances (1 unless the manifest says).
    let instances: i64 = read(dir.path(), "stack.toml")
        .lines()
        .find_map(|l| l.strip_prefix("instances = ")?.trim().parse().ok())
        .unwrap_or(1);
    assert_eq!(deploy["spec"]["replicas"], instances);
}

#[test]
fn compose_mounts_the_rendered_files_and_keeps_passwords_out_of_environment() {
    let dir = rendered();
    let Some(compose) = dep::one_doc(&dir.path().join("deploy/compose.yaml")) else {
        return;
    };
    let services = compose["services"].as_object().unwrap();
    let pgb = &services["pgbouncer"];
    let ini = std::fs::read(dir.path().join("pgbouncer/pgbouncer.ini")).unwrap();
    assert_eq!(
        pgb["labels"]["io.poolstack.config-sha256"],
        dep::sha256_hex(&ini),
        "the label forces `docker compose up -d` to recreate PgBouncer on a config change"
    );
    let deploy_dir = dir.path().join("deploy");
    for (name, svc) in services {
        for v in svc["volumes"].as_array().into_iter().flatten() {
            if v["type"] != "bind" {
                continue;
            }
            assert_eq!(v["read_only"], true, "{name}: {v}");
            let source = deploy_dir.join(v["source"].as_str().unwrap());
            assert!(
                source.exists(),
                "{name} mounts {} which render did not write",
                source.display()
            );
        }
        for f in svc["env_file"].as_array().into_iter().flatten() {
            let path = deploy_dir.join(f.as_str().unwrap());
            assert!(
                path.is_file(),
                "{name}'s env_file {} was not rendered",
                path.display()
            );
        }
        if let Some(env) = svc["environment"].as_object() {
            for (k, val) in env {
                assert!(!val.as_str().unwrap_or("").contains(PASSWORD), "{name}.{k}");
                assert!(
                    !k.contains("PASSWORD") || k.ends_with("_FILE"),
                    "{name}.{k} holds a password"
                );
            }
        }
    }
    // The ini PgBouncer reads in the container, and the userlist at its auth_file.
    let mounted = |container_path: &str| -> std::path::PathBuf {
        let vols = pgb["volumes"].as_array().unwrap();
        let (src, rest) = vols
            .iter()
            .filter_map(|v| {
                let t = v["target"].as_str()?;
                let rest = container_path.strip_prefix(t)?;
                Some((
                    v["source"].as_str()?.to_string(),
                    rest.trim_start_matches('/').to_string(),
                ))
            })
            .max_by_key(|(s, _)| s.len())
            .unwrap_or_else(|| panic!("{container_path} is not mounted"));
        deploy_dir.join(src).join(rest)
    };
    let cmd = pgb["command"].as_array().unwrap();
    let ini_in_container = cmd.last().unwrap().as_str().unwrap();
    assert_eq!(std::fs::read(mounted(ini_in_container)).unwrap(), ini);
    let ini_text = String::from_utf8(ini).unwrap();
    let auth_file = ini_text
        .lines()
        .find_map(|l| l.strip_prefix("auth_file = "))
        .unwrap();
    assert_eq!(
        std::fs::read(mounted(auth_file)).unwrap(),
        std::fs::read(dir.path().join("pgbouncer/userlist.txt")).unwrap()
    );
    // The healthcheck logs in through PgBouncer (psql … select 1), not pg_isready alone.
    let test = pgb["healthcheck"]["test"].to_string();
    assert!(
        test.contains("psql") && test.contains("select 1") && test.contains("mt5_trading"),
        "{test}"
    );
    assert!(pgb["secrets"].as_array().is_some_and(|s| !s.is_empty()));
    assert_eq!(pgb["depends_on"]["db"]["condition"], "service_healthy");
    // The app: its rendered .env, behind the healthy PgBouncer, only with `--profile apps`.
    let api = &services["api"];
    assert_eq!(api["env_file"][0], "../.env");
    assert_eq!(
        api["depends_on"]["pgbouncer"]["condition"],
        "service_healthy"
    );
    assert_eq!(api["profiles"][0], "apps");
}

#[test]
fn no_password_in_any_output_and_verifiers_only_in_secret_files() {
    let dir = rendered();
    let userlist = read(dir.path(), "pgbouncer/userlist.txt");
    let verifier = userlist.split('"').nth(3).unwrap().to_string();
    assert!(verifier.starts_with("md5"), "{verifier}");
    for rel in dep::files_under(dir.path()) {
        let text = std::fs::read_to_string(dir.path().join(&rel)).unwrap_or_default();
        assert!(
            !text.contains(PASSWORD),
            "{} holds the password",
            rel.display()
        );
        let secret_file = rel.ends_with("userlist.txt") || rel.ends_with("secret.yaml");
        assert!(
            secret_file || !text.contains(&verifier),
            "{} holds a verifier",
            rel.display()
        );
    }
}

#[test]
fn one_pool_setting_changes_the_checksums_and_that_setting_only() {
    let before = rendered();
    let (after, out) = dep::render(FIXTURE, |t| {
        t.replacen("default_pool_size = 25", "default_pool_size = 30", 1)
    });
    assert!(out.status.success());
    let changed = |rel: &str| -> Vec<(String, String)> {
        let a = read(before.path(), rel);
        let b = read(after.path(), rel);
        a.lines()
            .zip(b.lines())
            .filter(|(x, y)| x != y)
            .map(|(x, y)| (x.to_string(), y.to_string()))
            .collect()
    };
    let is_header = |l: &str| l.contains("poolstack-checksum: sha256:");
    let only = |rel: &str, allowed: &[&str]| {
        let diff = changed(rel);
        assert!(!diff.is_empty(), "{rel} did not change");
        for (x, y) in &diff {
            assert!(
                is_header(x) || allowed.iter().any(|a| x.contains(a) && y.contains(a)),
                "{rel}: unrelated change {x:?} → {y:?}"
            );
        }
    };
    only("deploy/kubernetes/deployment.yaml", &["checksum/config:"]);
    only(
        "deploy/kubernetes/configmap.yaml",
        &["default_pool_size = "],
    );
    only("deploy/compose.yaml", &["io.poolstack.config-sha256:"]);
    only("deploy/cnpg/pooler.yaml", &["default_pool_size:"]);
    assert!(changed("deploy/kubernetes/service.yaml").is_empty());
    assert!(changed("deploy/kubernetes/secret.yaml").is_empty());
    assert!(changed("deploy/compose/postgresql.conf").is_empty());
    // Exactly one real change in the ConfigMap: the setting.
    let cm = changed("deploy/kubernetes/configmap.yaml");
    assert_eq!(cm.iter().filter(|(x, _)| !is_header(x)).count(), 1);
}

#[test]
fn a_target_that_refuses_a_setting_is_not_written_and_the_others_are() {
    let (dir, out) = dep::render(FIXTURE, |t| {
        t.replacen(
            "pool_mode = \"transaction\"",
            "pool_mode = \"statement\"",
            1,
        )
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("deploy target cnpg is not written"),
        "{stderr}"
    );
    assert!(!dir.path().join("deploy/cnpg/pooler.yaml").exists());
    assert!(
        dir.path()
            .join("deploy/kubernetes/deployment.yaml")
            .exists()
    );
    let check = assert_cmd::Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "stack.toml", "--select", "DEP002"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("DEP002") && text.contains("statement"),
        "{text}"
    );
}

fn exit2(extra: &str, needle: &str) {
    let (dir, out) = dep::render(FIXTURE, |t| format!("{t}{extra}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    assert!(stderr.contains("stack.toml:"), "located: {stderr}");
    assert!(!dir.path().join("deploy").exists());
}

#[test]
fn bad_deploy_values_exit_2_with_a_location() {
    exit2(
        "\n[deploy.cnpg]\nversion = \"1.40\"\n",
        "CloudNativePG 1.40.0 is not known",
    );
    exit2(
        "\n[deploy.kubernetes]\nname = \"Pg_Bouncer\"\n",
        "is not a Kubernetes name",
    );
    exit2(
        "\n[deploy.kubernetes]\nmemory_limit = \"64 MB\"\n",
        "is not a Kubernetes quantity",
    );
    exit2("\n[deploy.cnpg]\ntypo = 1\n", "unknown key `typo`");
}

#[test]
fn unknown_target_and_targets_without_pgbouncer_exit_2() {
    let (_, out) = dep::render(FIXTURE, |t| t.replace("\"cnpg\"]", "\"swarm\"]"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("swarm"));
    let (_, out) = dep::render(FIXTURE, |t| {
        t.replacen("[pgbouncer]\n", "[pgbouncer]\nenabled = false\n", 1)
    });
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no (enabled) [pgbouncer]"));
}

#[test]
fn mt5_deploy_files_snapshot() {
    let dir = rendered();
    let mut all = String::new();
    for rel in dep::files_under(&dir.path().join("deploy")) {
        // The Secret holds verifiers: never in a snapshot (its shape is tested above).
        if rel.ends_with("secret.yaml") {
            continue;
        }
        all.push_str(&format!("==> deploy/{} <==\n", rel.display()));
        all.push_str(&read(&dir.path().join("deploy"), &rel.to_string_lossy()));
    }
    insta::assert_snapshot!("mt5_deploy_files", all);
}

#[test]
fn render_check_names_the_secret_users_and_never_prints_a_verifier() {
    let dir = rendered();
    let check = |password: &str| {
        assert_cmd::Command::cargo_bin("poolstack")
            .unwrap()
            .current_dir(dir.path())
            .env("POSTGRES_PASSWORD", password)
            .args(["render", "--check", "stack.toml"])
            .output()
            .unwrap()
    };
    let same = check(PASSWORD);
    assert!(
        same.status.success(),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    let verifier = read(dir.path(), "pgbouncer/userlist.txt");
    let changed = check("another-password");
    let out = String::from_utf8_lossy(&changed.stdout).into_owned();
    assert_eq!(changed.status.code(), Some(1));
    assert!(
        out.contains("deploy/kubernetes/secret.yaml: differs (secrets are not shown)")
            && out.contains("trader: the md5 secret no longer matches the password"),
        "{out}"
    );
    let old_hash = verifier.split('"').nth(3).unwrap();
    assert!(
        !out.contains(old_hash) && !out.contains("another-password"),
        "{out}"
    );
}

#[test]
fn render_check_without_passwords_still_compares_the_secret_by_users_and_types() {
    let dir = rendered();
    let check = || {
        assert_cmd::Command::cargo_bin("poolstack")
            .unwrap()
            .current_dir(dir.path())
            .env_remove("POSTGRES_PASSWORD")
            .args(["render", "--check", "stack.toml"])
            .output()
            .unwrap()
    };
    let same = check();
    let out = String::from_utf8_lossy(&same.stdout).into_owned();
    assert!(
        same.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert!(
        String::from_utf8_lossy(&same.stderr)
            .contains("secret.yaml was compared by users and secret types only")
    );
    std::fs::remove_file(dir.path().join("deploy/kubernetes/secret.yaml")).unwrap();
    let missing = check();
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stdout).contains("deploy/kubernetes/secret.yaml: missing"),
        "{}",
        String::from_utf8_lossy(&missing.stdout)
    );
}

#[test]
fn compose_keys_that_cannot_run_exit_2_with_a_location() {
    for (line, needle) in [
        (
            "app_images = { worker = \"w:1\" }",
            "`worker` is not an [[apps]] name",
        ),
        ("postgres_image = \"\"", "must be one non-empty line"),
    ] {
        let (dir, out) = dep::render(FIXTURE, |t| {
            t.replacen(
                "pgbouncer_host_port = 6432",
                &format!("pgbouncer_host_port = 6432\n{line}"),
                1,
            )
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains("stack.toml:"),
            "{stderr}"
        );
        assert!(!dir.path().join("deploy").exists());
    }
    // A known app's image is used.
    let (dir, out) = dep::render(FIXTURE, |t| {
        t.replacen(
            "pgbouncer_host_port = 6432",
            "pgbouncer_host_port = 6432\napp_images = { api = \"mt5/api:2.1\" }",
            1,
        )
    });
    assert!(out.status.success());
    assert!(read(dir.path(), "deploy/compose.yaml").contains("image: \"mt5/api:2.1\""));
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 24, ..Default::default() })]

    /// Whatever text a setting holds (quotes, `: `, `#`, tabs, unicode, leading spaces, several
    /// lines, control characters), the YAML writer's output reads back as exactly that text.
    #[test]
    fn yaml_writer_round_trips_any_text(texts in proptest::collection::vec("(?s).{0,40}", 1..40)) {
        use poolstack::outputs::deploy::yaml::{Yaml, map, s};
        let doc = Yaml::Seq(
            texts
                .iter()
                .map(|t| map([("key", s(t.clone())), (t.as_str(), Yaml::Int(1))]))
                .collect(),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("doc.yaml");
        std::fs::write(&path, doc.to_document()).unwrap();
        let Some(read) = dep::one_doc(&path) else {
            return Ok(());
        };
        for (i, t) in texts.iter().enumerate() {
            proptest::prop_assert_eq!(read[i]["key"].as_str(), Some(t.as_str()), "{}", doc.to_document());
            proptest::prop_assert_eq!(&read[i][t.as_str()], &serde_json::json!(1));
        }
    }
}

#[test]
fn a_dollar_in_a_name_is_literal_for_compose() {
    let (dir, out) = dep::render(FIXTURE, |t| t.replace("\"trader\"", "\"tr$der\""));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let compose = read(dir.path(), "deploy/compose.yaml");
    assert!(compose.contains("POSTGRES_USER: \"tr$$der\""), "{compose}");
    assert!(compose.contains("-U 'tr$$der'"), "{compose}");
    // Every `$` is doubled: none would be interpolated.
    let body: String = compose
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!body.replace("$$", "").contains('$'), "{body}");
}

#[test]
fn a_hand_edited_deploy_file_is_drift_and_render_refuses_to_overwrite_it() {
    let dir = rendered();
    let path = dir.path().join("deploy/kubernetes/deployment.yaml");
    let edited =
        read(dir.path(), "deploy/kubernetes/deployment.yaml").replace("replicas: 1", "replicas: 3");
    std::fs::write(&path, &edited).unwrap();
    let check = assert_cmd::Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["check", "stack.toml", "--select", "FIL001,FIL002"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("FIL001") && text.contains("FIL002") && text.contains("deployment.yaml"),
        "{text}"
    );
    let out = dep::render_in(dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("deployment.yaml was edited by hand"));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        edited,
        "nothing was written"
    );
}

#[test]
fn the_userlist_is_mounted_where_auth_file_says_without_covering_a_system_directory() {
    for (auth_file, expect_target) in [
        ("/etc/pgbouncer-auth/userlist.txt", "/etc/pgbouncer-auth"),
        ("/etc/userlist.txt", "/etc/userlist.txt"),
    ] {
        let (dir, out) = dep::render(FIXTURE, |t| {
            t.replacen(
                "auth_file = \"/etc/pgbouncer/userlist.txt\"",
                &format!("auth_file = \"{auth_file}\""),
                1,
            )
        });
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let Some(compose) = dep::one_doc(&dir.path().join("deploy/compose.yaml")) else {
            return;
        };
        let targets: Vec<&str> = compose["services"]["pgbouncer"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["target"].as_str())
            .collect();
        assert!(targets.contains(&expect_target), "{auth_file}: {targets:?}");
        assert!(!targets.contains(&"/etc"), "{targets:?}");
    }
}

#[test]
fn render_says_how_each_changed_target_takes_effect() {
    let dir = rendered();
    let again = dep::render_in(dir.path());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("Deploy targets changed"));
    let manifest = dir.path().join("stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("default_pool_size = 25", "default_pool_size = 30", 1),
    )
    .unwrap();
    let out = dep::render_in(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for step in [
        "$ docker compose -f deploy/compose.yaml up -d",
        "$ kubectl apply -f deploy/kubernetes/",
        "$ kubectl apply -f deploy/cnpg/pooler.yaml",
    ] {
        assert!(stdout.contains(step), "{step}: {stdout}");
    }
}

#[test]
fn readme_shows_the_mt5_loss_report_as_check_prints_it() {
    let dir = rendered();
    let check = assert_cmd::Command::cargo_bin("poolstack")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .args(["check", "stack.toml", "--select", "DEP001,DEP002"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    let readme = std::fs::read_to_string(dep::root().join("README.md")).unwrap();
    let heads: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning[DEP") || l.starts_with("error[DEP"))
        .collect();
    assert_eq!(heads.len(), 4, "{text}");
    for head in heads {
        assert!(readme.contains(head), "README lacks {head:?}:\n{text}");
    }
    assert!(text.contains("0 errors, 4 warnings"), "{text}");
}
